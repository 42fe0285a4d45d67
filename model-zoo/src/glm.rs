//! Generalised linear models: Poisson, Gamma and Tweedie (power `p`) with a log link, Normal
//! with the identity link; an L2 penalty; the deviance as loss and metric.
//!
//! Objective (scikit-learn's `PoissonRegressor`, `GammaRegressor`, `TweedieRegressor`):
//! `1/(2n)·Σ d(y, μ) + alpha/2·‖w‖²`, the intercept unpenalised, where `d` is the family's
//! unit deviance and `μ = exp(x·w + b)` (identity for Normal).
//!
//! Two solvers minimise it:
//! - `solver = "sgd"`: the trainer's gradient loop, `[train]`'s optimizer, batches and
//!   epochs; it streams and trains on a microcontroller (the default before L-BFGS was; a
//!   run's config without `solver` resumes with it).
//! - `solver = "lbfgs"` (default): scikit-learn's default solver, full-batch L-BFGS ([`crate::lbfgs`]),
//!   one iteration per step until the largest gradient entry is below `tol` or `max_iter`
//!   iterations; each objective evaluation is one sum over the rows, so it streams too.
//! - `solver = "irls"`: statsmodels' iteratively reweighted least squares, a Newton (Fisher
//!   scoring) step per trainer step: the gradient and `XᵀWX` as one sum over the rows, a
//!   Cholesky solve on the host, a step halved until the objective falls; same stopping rule.
//!   A few steps where L-BFGS takes tens; `(d+1)²` statistics a step, for moderate `d`.

use alloc::vec::Vec;

use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::{Device, Tensor};
use num_traits::Float;
use serde::{Deserialize, Serialize};

use crate::data::{Batch, DataShape, Targets, Task};
use crate::error::{ConfigError, FitError, check_at_least_one, check_non_negative};
use crate::estimator::{BadTarget, Estimator, OnDevice, Output, Supervision, state_from_json};
use crate::fit::{FitMethod, Prediction, Rows, StepRecord, statistics};
use crate::lbfgs::{Lbfgs, Stopping};
use crate::linalg;
use crate::linalg::SumAll;
use crate::linear_lbfgs::{LinearObjective, Solver};
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
    /// `"lbfgs"` (default): scikit-learn's solver; `"irls"`: Newton steps (statsmodels');
    /// `"sgd"`: `[train]`'s optimizer and epochs.
    pub solver: Solver,
    /// L-BFGS stops once no gradient entry exceeds this (scikit-learn's `tol`, default 1e-4).
    pub tol: f64,
    /// L-BFGS iterations at most (scikit-learn's `max_iter`, default 100).
    pub max_iter: usize,
}

impl Default for GlmConfig {
    fn default() -> Self {
        Self {
            family: Family::Poisson,
            power: 1.5,
            alpha: 1.0,
            fit_intercept: true,
            solver: Solver::Lbfgs,
            tol: 1e-4,
            max_iter: 100,
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
    /// The solver.
    pub solver: Solver,
    /// When L-BFGS stops.
    pub stopping: Stopping,
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
            solver: self.solver,
            stopping: Stopping {
                gtol: check_non_negative("tol", self.tol)?,
                // scikit-learn's `64·eps`: in effect the gradient rule decides.
                ftol: 64.0 * f64::EPSILON,
                max_iter: check_at_least_one("max_iter", self.max_iter)?,
            },
            n_features: shape.n_features,
        })
    }
}

impl GlmParams {
    /// Whether the link is the identity (Normal) rather than the log.
    pub fn identity_link(&self) -> bool {
        self.power == 0.0
    }

    /// The unit deviance `d(y, μ)` of each row from its linear predictor `η`, `[n, 1]`.
    fn unit_deviance(&self, y: Tensor<2>, eta: Tensor<2>) -> Tensor<2> {
        let p = self.power;
        // y·log(y), 0 where y = 0.
        let y_log_y = || y.clone() * y.clone().clamp_min(f32::MIN_POSITIVE).log();
        if p == 0.0 {
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
        }
    }

    /// The derivative of half the unit deviance in `η`, `[n, 1]`: `μ^(1−p)·(μ − y)` under the
    /// log link (`μ − y` Poisson, `1 − y/μ` Gamma), `η − y` under the identity.
    fn residual(&self, y: Tensor<2>, eta: Tensor<2>) -> Tensor<2> {
        let p = self.power;
        if p == 0.0 {
            eta - y
        } else if p == 1.0 {
            eta.exp() - y
        } else if p == 2.0 {
            (y * eta.neg().exp()).neg().add_scalar(1.0)
        } else {
            eta.clone().mul_scalar(2.0 - p).exp() - y * eta.mul_scalar(1.0 - p).exp()
        }
    }

    /// The expected second derivative of half the unit deviance in `η` (Fisher scoring's
    /// weight), `[n, 1]`: `(dμ/dη)²/V(μ) = μ^(2−p)` under the log link, 1 under the identity.
    fn fisher_weight(&self, eta: Tensor<2>) -> Tensor<2> {
        if self.identity_link() {
            eta.ones_like()
        } else {
            eta.mul_scalar(2.0 - self.power).exp()
        }
    }

    /// Half the unit deviance summed over a part's rows, and its derivative in each row's `η`:
    /// the loss L-BFGS and IRLS evaluate.
    fn part_loss(
        self,
    ) -> impl FnMut(&Batch, Tensor<2>) -> Result<(Tensor<1>, Tensor<2>), FitError> {
        move |part, eta| {
            let y = values(part)?;
            let deviance = self.unit_deviance(y.clone(), eta.clone());
            Ok((deviance.sum_all().mul_scalar(0.5), self.residual(y, eta)))
        }
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

/// Step halvings an IRLS step tries before it settles where it is.
const MAX_HALVINGS: usize = 30;

/// A part's numeric targets.
fn values(part: &Batch) -> Result<Tensor<2>, FitError> {
    match &part.targets {
        Targets::Values(y) => Ok(y.clone()),
        _ => Err(FitError::WrongTargets {
            model: NAME,
            needs: "numeric targets",
        }),
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
    /// L-BFGS's state between steps (none before the first, and for `sgd`).
    #[module(skip)]
    optimizer: Option<Lbfgs>,
}

impl Glm {
    /// A zero-initialised model (the objective is convex): `μ = 1` everywhere at the start
    /// (`μ = 0` for Normal).
    pub fn new(params: GlmParams, device: &Device) -> Self {
        let linear = crate::linalg::zero_linear(params.n_features, 1, params.fit_intercept, device);
        Self {
            linear,
            params,
            optimizer: None,
        }
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
        let eta = self.linear_predictor(batch.x.clone());
        let data_loss = linalg::mean_all(self.params.unit_deviance(y.clone(), eta)).mul_scalar(0.5);
        Ok(if self.params.alpha > 0.0 {
            let penalty = self.linear.weight.val().square().sum_all();
            data_loss + penalty.mul_scalar(self.params.alpha / 2.0)
        } else {
            data_loss
        })
    }

    /// One L-BFGS iteration over the training rows (the first step starts from the current,
    /// zero, weights). Each evaluation of the objective is one sum over the rows: half the mean
    /// unit deviance and its gradient `Xᵀr/n`, `r` that deviance's derivative in `η`.
    pub fn lbfgs_step(&mut self, rows: &mut dyn Rows) -> Result<StepRecord, FitError> {
        let objective = self.lbfgs_objective();
        objective.step(
            &mut self.linear,
            &mut self.optimizer,
            self.params.stopping,
            rows,
            &mut self.params.part_loss(),
        )
    }

    /// One IRLS (Fisher scoring) step over the training rows. At the current weights, one sum
    /// over the rows gives the objective, its gradient `Xᵀr/n` and its expected Hessian
    /// `XᵀWX/n` (`X` with a column of ones for the intercept); the penalty is added on the
    /// host, the Newton direction comes from a Cholesky solve, and the step is the longest of
    /// 1, ½, ¼, ... that lowers the objective enough (Armijo). It has converged once no
    /// gradient entry exceeds `tol`, or once the decrease Newton predicts is below what f32
    /// can show. It keeps no state: a resumed fit needs only the weights.
    pub fn irls_step(&mut self, rows: &mut dyn Rows) -> Result<StepRecord, FitError> {
        let objective = self.lbfgs_objective();
        let params = self.params;
        let theta = objective.weights(&self.linear)?;
        let (p, d) = (theta.len(), params.n_features);
        let n = rows.n_rows().max(1) as f64;
        let read = rows.sum(&mut |part| {
            let y = values(part)?;
            let eta = self.linear_predictor(part.x.clone());
            let x = if params.fit_intercept {
                let ones = Tensor::ones([part.len(), 1], &part.x.device());
                Tensor::cat(alloc::vec![part.x.clone(), ones], 1)
            } else {
                part.x.clone()
            };
            let weighted = x.clone() * params.fisher_weight(eta.clone());
            let hessian = linalg::matmul(x.clone().transpose(), weighted).div_scalar(n);
            let residual = params.residual(y.clone(), eta.clone());
            let gradient = linalg::matmul(x.transpose(), residual).div_scalar(n);
            let value = params.unit_deviance(y, eta).sum_all().mul_scalar(0.5 / n);
            statistics(Tensor::cat(
                alloc::vec![hessian.reshape([p * p]), gradient.reshape([p]), value],
                0,
            ))
        })?;
        let (hessian, rest) = read.split_at(p * p);
        let (mut hessian, mut gradient, mut value) =
            (hessian.to_vec(), rest[..p].to_vec(), rest[p]);
        for j in 0..d {
            value += 0.5 * params.alpha * theta[j] * theta[j];
            gradient[j] += params.alpha * theta[j];
            hessian[j * p + j] += params.alpha;
        }
        let largest = |g: &[f64]| g.iter().fold(0.0f64, |m, g| m.max(g.abs()));
        let stopping = params.stopping;
        if largest(&gradient) <= stopping.gtol {
            return Ok(StepRecord {
                loss: value,
                converged: true,
                jitter: 0.0,
            });
        }
        let downhill: Vec<f64> = gradient.iter().map(|g| -g).collect();
        let (direction, jitter) = linalg::solve_spd(&hessian, p, &downhill)?;
        let slope: f64 = gradient.iter().zip(&direction).map(|(g, s)| g * s).sum();
        // Newton's predicted decrease below the f32 resolution of the objective: no step can
        // show a gain any more (f32 sums leave the gradient a little above a tight `tol`).
        if -0.5 * slope <= f64::from(f32::EPSILON) * value.abs() {
            return Ok(StepRecord {
                loss: value,
                converged: true,
                jitter,
            });
        }
        let device = self.linear.weight.device();
        let mut t = 1.0;
        for _ in 0..MAX_HALVINGS {
            let trial: Vec<f64> = theta
                .iter()
                .zip(&direction)
                .map(|(w, s)| w + t * s)
                .collect();
            let (trial_value, trial_gradient) =
                objective.value_and_gradient(&trial, rows, &mut params.part_loss())?;
            if trial_value.is_finite() && trial_value <= value + 1e-4 * t * slope {
                objective.set_weights(&mut self.linear, &trial, &device);
                let stalled = value - trial_value <= stopping.ftol * value.abs().max(1.0);
                return Ok(StepRecord {
                    loss: trial_value,
                    converged: stalled || largest(&trial_gradient) <= stopping.gtol,
                    jitter,
                });
            }
            t *= 0.5;
        }
        // No decrease at the objective's precision: the weights are as good as f32 gets.
        Ok(StepRecord {
            loss: value,
            converged: true,
            jitter,
        })
    }

    /// The layout L-BFGS sees: `w` then the intercept, and the penalty `alpha/2·‖w‖²`.
    fn lbfgs_objective(&self) -> LinearObjective {
        LinearObjective {
            n_features: self.params.n_features,
            outputs: 1,
            fit_intercept: self.params.fit_intercept,
            penalty: self.params.alpha,
        }
    }
}

impl Estimator for Glm {
    type Config = GlmConfig;
    type Params = GlmParams;
    const KINDS: &'static [&'static str] = &[NAME];
    const EARLIER_DEFAULTS: &'static [(&'static str, &'static str)] = &[("solver", "sgd")];

    fn supervision(_: &GlmConfig) -> Supervision {
        Supervision::Values
    }

    fn check(config: &GlmConfig, shape: &DataShape) -> Result<GlmParams, ConfigError> {
        config.check(shape)
    }

    /// By the trainer's gradient loop, or by its own L-BFGS steps.
    fn fit_method(params: &GlmParams) -> FitMethod {
        params.solver.fit_method()
    }

    fn max_steps(params: &GlmParams) -> Option<usize> {
        params.solver.max_steps(params.stopping)
    }

    /// Both solvers read the rows only through sums, so both stream.
    fn streams(_: &GlmParams) -> bool {
        true
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

    fn fit_step(&mut self, rows: &mut dyn Rows) -> Result<StepRecord, FitError> {
        match self.params.solver {
            Solver::Irls => self.irls_step(rows),
            solver => solver.iterate(NAME, || self.lbfgs_step(rows)),
        }
    }

    /// On a microcontroller, online SGD on the same objective, whichever solver the host uses.
    fn on_device(_: &GlmConfig, _: &GlmParams) -> OnDevice<GlmConfig> {
        OnDevice::OnlineSgd
    }

    /// The L-BFGS state (none before the first step, and for `sgd`).
    fn fit_state(&self) -> Result<Option<serde_json::Value>, FitError> {
        self.params.solver.fit_state(&self.optimizer)
    }

    fn restore_fit_state(&mut self, state: serde_json::Value) -> Result<(), FitError> {
        self.optimizer = state_from_json(state)?;
        Ok(())
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
    use crate::testing::{for_each_device, minimize_lbfgs, regression_batch, standardized_csv};

    fn fit(family: Family, power: f64, csv: &str, device: &Device) -> (Glm, f32) {
        let (x, y, d) = standardized_csv(csv);
        let params = GlmConfig {
            family,
            power,
            alpha: 1e-3,
            ..Default::default()
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

    /// Both full-batch solvers, stepped until scikit-learn's stopping rule holds, reach the same
    /// optima (the same references): L-BFGS in tens of steps, IRLS in a few Newton steps. A
    /// copy given the weights mid-fit, and L-BFGS's state where it has one (IRLS keeps none),
    /// ends with the same weights.
    #[test]
    fn lbfgs_and_irls_match_scikit_learn_and_resume() {
        let cases = [
            (Family::Poisson, CLAIMS, POISSON),
            (Family::Gamma, COSTS, GAMMA),
            (Family::Tweedie, COSTS, TWEEDIE_1_5),
            (Family::Normal, COSTS, NORMAL),
        ];
        for_each_device(|device| {
            for (solver, most_steps) in [(Solver::Lbfgs, 100), (Solver::Irls, 20)] {
                for (family, csv, (intercept, coef, objective)) in cases {
                    let (x, y, d) = standardized_csv(csv);
                    let params = GlmConfig {
                        family,
                        alpha: 1e-3,
                        solver,
                        tol: 1e-6,
                        ..Default::default()
                    }
                    .check(&DataShape {
                        n_features: d,
                        task: Task::Regression,
                    })
                    .unwrap();
                    assert_eq!(Glm::fit_method(&params), FitMethod::Iterative);
                    assert_eq!(Glm::max_steps(&params), Some(100));
                    let label = format!("{device:?} {solver:?} {family:?}");
                    let mut batch = regression_batch(&x, &y, d, device);
                    let mut model = Glm::new(params, device);
                    let (mut steps, mut resumed) = (0, None);
                    let loss = loop {
                        let record = model.fit_step(&mut batch).unwrap();
                        steps += 1;
                        if record.converged {
                            break record.loss;
                        }
                        assert!(steps < most_steps, "{label}: no convergence");
                        if steps == 2 {
                            let mut copy = Glm::new(params, device);
                            let objective = model.lbfgs_objective();
                            let weights = objective.weights(&model.linear).unwrap();
                            objective.set_weights(&mut copy.linear, &weights, device);
                            let state = model.fit_state().unwrap();
                            assert_eq!(state.is_some(), solver == Solver::Lbfgs, "{label}");
                            if let Some(state) = state {
                                copy.restore_fit_state(state).unwrap();
                            }
                            resumed = Some(copy);
                        }
                    };
                    assert_matches(&model, intercept, &coef, device);
                    assert!(
                        (loss - objective).abs() < 1e-5 * objective,
                        "{label}: objective {loss} vs {objective}"
                    );
                    // L-BFGS takes more than two steps everywhere; a Newton step can finish
                    // the Normal family's least squares at once.
                    assert!(resumed.is_some() || solver == Solver::Irls, "{label}");
                    if let Some(mut copy) = resumed {
                        while !copy.fit_step(&mut batch).unwrap().converged {}
                        assert_eq!(
                            read_f32(copy.linear.weight.val()).unwrap(),
                            read_f32(model.linear.weight.val()).unwrap(),
                            "{label}"
                        );
                    }
                }
            }
        });
        let irls_logistic = crate::logistic_regression::LogisticRegressionConfig {
            solver: Solver::Irls,
            ..Default::default()
        };
        let shape = DataShape {
            n_features: 2,
            task: Task::Classification { n_classes: 2 },
        };
        assert_eq!(
            irls_logistic.check(&shape).unwrap_err().key(),
            Some("solver")
        );
    }

    #[test]
    fn deviances_are_zero_at_the_target_and_positive_elsewhere() {
        for p in [0.0, 1.0, 1.5, 2.0, 3.0] {
            assert!(unit_deviance(p, 2.0, 2.0).abs() < 1e-12, "p = {p}");
            assert!(unit_deviance(p, 2.0, 3.0) > 0.0, "p = {p}");
        }
        assert!((unit_deviance(1.0, 0.0, 0.5) - 1.0).abs() < 1e-12);
        let glm = |power| {
            GlmConfig {
                family: Family::Tweedie,
                power,
                alpha: 0.0,
                ..Default::default()
            }
            .check(&DataShape {
                n_features: 1,
                task: Task::Regression,
            })
            .unwrap()
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
