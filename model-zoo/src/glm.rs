//! Generalised linear models: Poisson, Gamma and Tweedie (power `p`) with a log link, Normal
//! with the identity link; an L2 penalty; the deviance as loss and metric.
//!
//! Objective (scikit-learn's `PoissonRegressor`, `GammaRegressor`, `TweedieRegressor`):
//! `1/(2n)·Σ d(y, μ) + alpha/2·‖w‖²`, the intercept unpenalised, where `d` is the family's
//! unit deviance and `μ = exp(x·w + b)` (identity for Normal).

use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::{Device, Tensor};
use num_traits::Float;
use serde::{Deserialize, Serialize};

use crate::data::{Batch, DataShape, Targets, Task};
use crate::error::{ConfigError, FitError, check_non_negative};
use crate::estimator::{BadTarget, Estimator, Output, Supervision};
use crate::fit::Prediction;
use crate::metrics::{HostPrediction, HostTargets, Metrics};

const NAME: &str = "glm";

/// The distribution of the target given the features.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    /// Counts, `y >= 0`; log link.
    #[default]
    Poisson,
    /// Positive amounts, `y > 0`; log link.
    Gamma,
    /// Tweedie with `power` (1 < p < 2: compound Poisson–Gamma, `y >= 0`; p >= 2: `y > 0`);
    /// log link.
    Tweedie,
    /// Gaussian, any `y`; identity link (least squares).
    Normal,
}

/// `[model]` keys of `kind = "glm"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GlmConfig {
    /// `"poisson"` (default), `"gamma"`, `"tweedie"` or `"normal"`.
    pub family: Family,
    /// Tweedie power `p`: 0 (Normal), 1 (Poisson), between 1 and 2, or >= 2 (2 is Gamma).
    /// Only read for `family = "tweedie"` (default 1.5).
    pub power: f64,
    /// L2 penalty on the coefficients, scikit-learn's `alpha` (default 1.0).
    pub alpha: f64,
    /// Fit an intercept (default `true`).
    pub fit_intercept: bool,
}

impl Default for GlmConfig {
    fn default() -> Self {
        Self {
            family: Family::Poisson,
            power: 1.5,
            alpha: 1.0,
            fit_intercept: true,
        }
    }
}

/// Checked parameters of a GLM for a given data shape.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GlmParams {
    /// The Tweedie power of the family: 0 Normal, 1 Poisson, 2 Gamma, otherwise Tweedie.
    pub power: f64,
    /// L2 penalty on the coefficients (scikit-learn's `alpha`).
    pub alpha: f64,
    /// Whether the model has an intercept.
    pub fit_intercept: bool,
    /// Number of feature columns.
    pub n_features: usize,
}

impl GlmConfig {
    /// Validates the config against the data it will be fitted on.
    pub fn check(&self, shape: &DataShape) -> Result<GlmParams, ConfigError> {
        if shape.task != Task::Regression {
            return Err(ConfigError::NeedsNumericTarget { model: NAME });
        }
        let power = match self.family {
            Family::Poisson => 1.0,
            Family::Gamma => 2.0,
            Family::Normal => 0.0,
            Family::Tweedie => {
                let p = check_non_negative("power", self.power)?;
                if p > 0.0 && p < 1.0 {
                    return Err(ConfigError::Invalid {
                        key: "power",
                        message: alloc::format!(
                            "no Tweedie distribution has power between 0 and 1 (got {p}); \
                             use 0, 1, a value between 1 and 2 (e.g. 1.5), or >= 2"
                        ),
                    });
                }
                p
            }
        };
        Ok(GlmParams {
            power,
            alpha: check_non_negative("alpha", self.alpha)?,
            fit_intercept: self.fit_intercept,
            n_features: shape.n_features,
        })
    }
}

impl GlmParams {
    /// Whether the link is the identity (Normal) rather than the log.
    pub fn identity_link(&self) -> bool {
        self.power == 0.0
    }

    /// Checks that every target is in the family's domain; `Err` names the first row that is
    /// not (0-based) and what the family needs.
    pub fn check_targets(&self, y: &[f32]) -> Result<(), (usize, &'static str)> {
        let (ok, needs): (fn(f32) -> bool, _) = if self.power == 0.0 {
            (|_| true, "")
        } else if self.power < 2.0 {
            (|v| v >= 0.0, "targets >= 0")
        } else {
            (|v| v > 0.0, "targets > 0")
        };
        match y.iter().position(|v| !ok(*v)) {
            Some(row) => Err((row, needs)),
            None => Ok(()),
        }
    }

    /// The mean unit deviance of predictions `mu` for targets `y`, on the host (a metric).
    pub fn mean_deviance(&self, mu: &[f32], y: &[f32]) -> f64 {
        let total: f64 = mu
            .iter()
            .zip(y)
            .map(|(&m, &y)| unit_deviance(self.power, f64::from(y), f64::from(m)))
            .sum();
        total / y.len().max(1) as f64
    }
}

/// The unit deviance `d(y, μ)` of the Tweedie family with power `p`.
fn unit_deviance(p: f64, y: f64, mu: f64) -> f64 {
    // `y·log(y)` is 0 at y = 0.
    let xlogy = |y: f64, v: f64| if y == 0.0 { 0.0 } else { y * Float::ln(v) };
    if p == 0.0 {
        (y - mu) * (y - mu)
    } else if p == 1.0 {
        2.0 * (xlogy(y, y) - xlogy(y, mu) - y + mu)
    } else if p == 2.0 {
        2.0 * (Float::ln(mu / y) + y / mu - 1.0)
    } else {
        let a = if y > 0.0 {
            Float::powf(y, 2.0 - p) / ((1.0 - p) * (2.0 - p))
        } else {
            0.0
        };
        2.0 * (a - y * Float::powf(mu, 1.0 - p) / (1.0 - p) + Float::powf(mu, 2.0 - p) / (2.0 - p))
    }
}

/// A linear predictor `η = x·w + b` and the mean `μ = exp(η)` (or `η` for Normal).
#[derive(Module, Debug)]
pub struct Glm {
    /// Coefficients `w`, `[n_features, 1]`, and intercept `b` (none without `fit_intercept`).
    pub linear: Linear,
    /// The checked parameters it was built with.
    #[module(skip)]
    pub params: GlmParams,
}

impl Glm {
    /// A zero-initialised model (the objective is convex): `μ = 1` everywhere at the start
    /// (`μ = 0` for Normal).
    pub fn new(params: GlmParams, device: &Device) -> Self {
        let linear = crate::linalg::zero_linear(params.n_features, 1, params.fit_intercept, device);
        Self { linear, params }
    }

    /// The linear predictor `η`, `[n, 1]`.
    pub fn linear_predictor(&self, x: Tensor<2>) -> Tensor<2> {
        self.linear.forward(x)
    }

    /// The predicted mean `μ`, `[n, 1]`.
    pub fn predict_mean(&self, x: Tensor<2>) -> Tensor<2> {
        let eta = self.linear_predictor(x);
        if self.params.identity_link() {
            eta
        } else {
            eta.exp()
        }
    }

    /// Half the mean unit deviance of the batch plus `alpha/2·‖w‖²`.
    ///
    /// Written in `η` rather than `μ` (e.g. Poisson `μ − y·η` instead of `μ − y·log μ`) so that
    /// no log of a tiny `μ` is taken in f32; the terms in `y` alone are kept so the value is
    /// the deviance itself, not a shifted one.
    pub fn deviance_loss(&self, batch: &Batch) -> Result<Tensor<1>, FitError> {
        let Targets::Values(y) = &batch.targets else {
            return Err(FitError::WrongTargets {
                model: NAME,
                needs: "numeric targets",
            });
        };
        let y = y.clone();
        let eta = self.linear_predictor(batch.x.clone());
        let p = self.params.power;
        // y·log(y), 0 where y = 0.
        let y_log_y = || y.clone() * y.clone().clamp_min(f32::MIN_POSITIVE).log();
        let deviance = if p == 0.0 {
            (y.clone() - eta).square()
        } else if p == 1.0 {
            (y_log_y() - y.clone() * eta.clone() - y.clone() + eta.exp()).mul_scalar(2.0)
        } else if p == 2.0 {
            // log(μ/y) + y/μ − 1
            (eta.clone() - y.clone().log() + y.clone() * eta.neg().exp() - 1.0).mul_scalar(2.0)
        } else {
            let y_term = y
                .clone()
                .clamp_min(f32::MIN_POSITIVE)
                .log()
                .mul_scalar(2.0 - p)
                .exp()
                .mul_scalar(1.0 / ((1.0 - p) * (2.0 - p)));
            let cross = (y * eta.clone().mul_scalar(1.0 - p).exp()).mul_scalar(1.0 / (1.0 - p));
            let mean = eta.mul_scalar(2.0 - p).exp().mul_scalar(1.0 / (2.0 - p));
            (y_term - cross + mean).mul_scalar(2.0)
        };
        let data_loss = crate::linalg::mean_all(deviance).mul_scalar(0.5);
        Ok(if self.params.alpha > 0.0 {
            let penalty = self.linear.weight.val().square().sum();
            data_loss + penalty.mul_scalar(self.params.alpha / 2.0)
        } else {
            data_loss
        })
    }
}

impl Estimator for Glm {
    type Config = GlmConfig;
    type Params = GlmParams;
    const KINDS: &'static [&'static str] = &[NAME];

    fn supervision(_: &GlmConfig) -> Supervision {
        Supervision::Values
    }

    fn check(config: &GlmConfig, shape: &DataShape) -> Result<GlmParams, ConfigError> {
        config.check(shape)
    }

    fn output(_: &GlmParams) -> Output {
        Output::Values
    }

    fn extra_metric_names(_: &GlmParams) -> &'static [&'static str] {
        &["deviance"]
    }

    /// The family's range: counts `>= 0`, amounts `> 0`.
    fn check_targets(params: &GlmParams, y: &[f32]) -> Result<(), BadTarget> {
        params.check_targets(y).map_err(|(row, needs)| BadTarget {
            row,
            rule: match needs {
                "targets > 0" => "this GLM family needs targets > 0",
                _ => "this GLM family needs targets >= 0",
            },
            fix: "fix the row, or pick a family that fits the target (`normal` takes any sign)",
        })
    }

    fn loss_splits_by_rows(_: &GlmParams) -> bool {
        true
    }

    fn init(params: &GlmParams, device: &Device) -> Self {
        Self::new(*params, device)
    }

    fn predict(&self, x: Tensor<2>) -> Prediction {
        Prediction::Values(self.predict_mean(x))
    }

    fn loss(&self, batch: &Batch, _n_train: usize) -> Result<Tensor<1>, FitError> {
        self.deviance_loss(batch)
    }

    /// The mean unit `deviance` of the predicted means.
    fn add_metrics(
        &self,
        _x: &Tensor<2>,
        prediction: &HostPrediction,
        targets: &HostTargets,
        metrics: &mut Metrics,
    ) -> Result<(), FitError> {
        if let (HostPrediction::Values(mu), HostTargets::Values(y)) = (prediction, targets) {
            metrics.insert("deviance".into(), self.params.mean_deviance(mu, y));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::read_f32;
    use crate::testing::{for_each_device, minimize_lbfgs, regression_batch};

    /// Reads a shipped CSV of numbers (header row, target column last) and standardises the
    /// features with the population standard deviation, as scikit-learn's `StandardScaler`.
    fn standardized_csv(text: &str) -> (alloc::vec::Vec<f32>, alloc::vec::Vec<f32>, usize) {
        let mut lines = text.lines();
        let d = lines.next().unwrap().split(',').count() - 1;
        let rows: alloc::vec::Vec<alloc::vec::Vec<f64>> = lines
            .filter(|l| !l.is_empty())
            .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
            .collect();
        let n = rows.len() as f64;
        let mut x = alloc::vec::Vec::new();
        let stats: alloc::vec::Vec<(f64, f64)> = (0..d)
            .map(|j| {
                let mean = rows.iter().map(|r| r[j]).sum::<f64>() / n;
                let var = rows.iter().map(|r| (r[j] - mean).powi(2)).sum::<f64>() / n;
                (mean, var.sqrt())
            })
            .collect();
        for r in &rows {
            x.extend((0..d).map(|j| ((r[j] - stats[j].0) / stats[j].1) as f32));
        }
        let y = rows.iter().map(|r| r[d] as f32).collect();
        (x, y, d)
    }

    fn fit(family: Family, power: f64, csv: &str, device: &Device) -> (Glm, f32) {
        let (x, y, d) = standardized_csv(csv);
        let params = GlmConfig {
            family,
            power,
            alpha: 1e-3,
            fit_intercept: true,
        }
        .check(&DataShape {
            n_features: d,
            task: Task::Regression,
        })
        .unwrap();
        let ad = device.clone().autodiff();
        let batch = regression_batch(&x, &y, d, &ad);
        let model = minimize_lbfgs(Glm::new(params, &ad), |m| m.deviance_loss(&batch).unwrap());
        let objective = read_f32(model.deviance_loss(&batch).unwrap()).unwrap()[0];
        (model.valid(), objective)
    }

    fn assert_matches(model: &Glm, intercept: f64, coef: &[f64], device: &Device) {
        let w = read_f32(model.linear.weight.val()).unwrap();
        let b = read_f32(model.linear.bias.as_ref().unwrap().val()).unwrap();
        assert!(
            (f64::from(b[0]) - intercept).abs() < 1e-3,
            "{device:?}: b = {b:?}"
        );
        for (got, want) in w.iter().zip(coef) {
            assert!(
                (f64::from(*got) - want).abs() < 1e-3,
                "{device:?}: w = {w:?}"
            );
        }
    }

    // Reference: scikit-learn 1.9.1, from `python3 benches/peers/glm_reference.py` (features
    // standardised over all rows, alpha = 1e-3, newton-cholesky solver to a gradient < 1e-12):
    //   PoissonRegressor(alpha=1e-3) on claims.csv, GammaRegressor(alpha=1e-3),
    //   TweedieRegressor(power=1.5, link="log", alpha=1e-3) and
    //   TweedieRegressor(power=0, link="identity", alpha=1e-3) on claim-costs.csv.
    const CLAIMS: &str = include_str!("../../examples/data/claims.csv");
    const COSTS: &str = include_str!("../../examples/data/claim-costs.csv");
    const POISSON: (f64, [f64; 4], f64) = (
        -0.970_271_6,
        [-0.333_056_74, 0.134_418_08, 0.177_161_14, 0.461_061_13],
        0.458_379_534_1,
    );
    const GAMMA: (f64, [f64; 4], f64) = (
        0.495_723_11,
        [0.089_432_232, -0.230_960_15, 0.379_564_33, 0.183_350_59],
        0.267_291_432,
    );
    const TWEEDIE_1_5: (f64, [f64; 4], f64) = (
        0.496_164_47,
        [0.090_537_331, -0.232_752_57, 0.377_073_83, 0.179_010_69],
        0.312_413_276,
    );
    const NORMAL: (f64, [f64; 4], f64) = (
        1.851_584_1,
        [0.171_173_19, -0.421_115_76, 0.669_216_84, 0.421_086_42],
        1.049_810_026,
    );

    #[test]
    fn every_family_matches_scikit_learn_on_every_backend() {
        let cases = [
            (Family::Poisson, 1.5, CLAIMS, POISSON),
            (Family::Gamma, 1.5, COSTS, GAMMA),
            (Family::Tweedie, 1.5, COSTS, TWEEDIE_1_5),
            (Family::Normal, 1.5, COSTS, NORMAL),
        ];
        for_each_device(|device| {
            for (family, power, csv, (intercept, coef, objective)) in cases {
                let (model, loss) = fit(family, power, csv, device);
                assert_matches(&model, intercept, &coef, device);
                // The loss is the objective itself (deviance terms in y alone included).
                assert!(
                    (f64::from(loss) - objective).abs() < 1e-4 * objective,
                    "{device:?} {family:?}: objective {loss} vs {objective}"
                );
            }
        });
    }

    #[test]
    fn deviances_are_zero_at_the_target_and_positive_elsewhere() {
        for p in [0.0, 1.0, 1.5, 2.0, 3.0] {
            assert!(unit_deviance(p, 2.0, 2.0).abs() < 1e-12, "p = {p}");
            assert!(unit_deviance(p, 2.0, 3.0) > 0.0, "p = {p}");
        }
        assert!((unit_deviance(1.0, 0.0, 0.5) - 1.0).abs() < 1e-12);
        let glm = |power| GlmParams {
            power,
            alpha: 0.0,
            fit_intercept: true,
            n_features: 1,
        };
        assert_eq!(
            glm(1.0).check_targets(&[0.0, 2.0, -1.0]),
            Err((2, "targets >= 0"))
        );
        assert_eq!(glm(2.0).check_targets(&[1.0, 0.0]), Err((1, "targets > 0")));
        assert_eq!(glm(0.0).check_targets(&[-5.0]), Ok(()));
    }

    #[test]
    fn config_rules() {
        let shape = DataShape {
            n_features: 2,
            task: Task::Regression,
        };
        let tweedie = |power| GlmConfig {
            family: Family::Tweedie,
            power,
            ..Default::default()
        };
        assert_eq!(tweedie(0.5).check(&shape).unwrap_err().key(), Some("power"));
        assert_eq!(tweedie(1.5).check(&shape).unwrap().power, 1.5);
        let classes = DataShape {
            n_features: 2,
            task: Task::Classification { n_classes: 2 },
        };
        assert!(matches!(
            GlmConfig::default().check(&classes),
            Err(ConfigError::NeedsNumericTarget { .. })
        ));
    }
}
