//! Linear support-vector machine: hinge or squared-hinge loss with an L2 penalty, binary or
//! one-vs-rest for more classes.
//!
//! Objective (scikit-learn's `LinearSVC`, whose intercept is not penalised here):
//! `½‖W‖² + C·Σ loss(y·f(x))`. The trainer's gradient loop minimises it divided by `C` times
//! the number of training rows: the mean loss plus `‖W‖²/(2·C·n_train)`.

use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::activation::relu;
use burn::tensor::{Device, Int, Tensor};
use serde::{Deserialize, Serialize};

use crate::data::{Batch, DataShape, Targets};
use crate::error::{ConfigError, FitError, check_non_negative};
use crate::estimator::{Estimator, Output, Supervision};
use crate::fit::Prediction;

const NAME: &str = "linear_svm";

/// The margin loss.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SvmLoss {
    /// `max(0, 1 − y·f)`.
    Hinge,
    /// `max(0, 1 − y·f)²` (scikit-learn's default: smooth, so gradient methods settle).
    #[default]
    SquaredHinge,
}

/// `[model]` keys of `kind = "linear_svm"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LinearSvmConfig {
    /// `"squared_hinge"` (default) or `"hinge"`.
    pub loss: SvmLoss,
    /// Inverse regularisation strength, scikit-learn's `C` (default 1.0).
    pub c: f64,
    /// Fit intercepts (default `true`).
    pub fit_intercept: bool,
}

impl Default for LinearSvmConfig {
    fn default() -> Self {
        Self {
            loss: SvmLoss::SquaredHinge,
            c: 1.0,
            fit_intercept: true,
        }
    }
}

/// Checked parameters of a linear SVM for a given data shape.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinearSvmParams {
    /// The margin loss.
    pub loss: SvmLoss,
    /// Inverse regularisation strength, > 0.
    pub c: f64,
    /// Whether each decision function has an intercept.
    pub fit_intercept: bool,
    /// Number of feature columns.
    pub n_features: usize,
    /// Number of classes, at least 2.
    pub n_classes: usize,
}

impl LinearSvmParams {
    /// Decision functions: one for two classes, one per class (one-vs-rest) otherwise.
    pub fn outputs(&self) -> usize {
        if self.n_classes == 2 {
            1
        } else {
            self.n_classes
        }
    }
}

impl LinearSvmConfig {
    /// Validates the config against the data it will be fitted on.
    pub fn check(&self, shape: &DataShape) -> Result<LinearSvmParams, ConfigError> {
        let n_classes = crate::error::check_classes(NAME, shape)?;
        let c = check_non_negative("c", self.c)?;
        if c == 0.0 {
            return Err(ConfigError::Invalid {
                key: "c",
                message: "`c` must be > 0 (it divides the penalty); try 1.0".into(),
            });
        }
        Ok(LinearSvmParams {
            loss: self.loss,
            c,
            fit_intercept: self.fit_intercept,
            n_features: shape.n_features,
            n_classes,
        })
    }
}

/// Linear decision functions `x·W + b`.
#[derive(Module, Debug)]
pub struct LinearSvm {
    /// Weights `W`, `[n_features, outputs]`, and intercepts `b` (none without
    /// `fit_intercept`).
    pub linear: Linear,
    /// The checked parameters it was built with.
    #[module(skip)]
    pub params: LinearSvmParams,
}

impl LinearSvm {
    /// A zero-initialised model (the objective is convex).
    pub fn new(params: LinearSvmParams, device: &Device) -> Self {
        let linear = crate::linalg::zero_linear(
            params.n_features,
            params.outputs(),
            params.fit_intercept,
            device,
        );
        Self { linear, params }
    }

    /// The decision function, `[n, 1]` (binary: class 1 where > 0) or `[n, n_classes]`.
    pub fn decision_function(&self, x: Tensor<2>) -> Tensor<2> {
        self.linear.forward(x)
    }

    /// Mean margin loss of the batch plus `‖W‖²/(2·C·n_train)`.
    pub fn margin_loss(&self, batch: &Batch, n_train: usize) -> Result<Tensor<1>, FitError> {
        let Targets::Classes(classes) = &batch.targets else {
            return Err(FitError::WrongTargets {
                model: NAME,
                needs: "class labels",
            });
        };
        let signs = plus_minus_one(classes.clone(), self.params.n_classes);
        let slack = relu(
            (self.decision_function(batch.x.clone()) * signs)
                .neg()
                .add_scalar(1.0),
        );
        let per_row = match self.params.loss {
            SvmLoss::Hinge => slack,
            SvmLoss::SquaredHinge => slack.square(),
        };
        let data_loss = per_row.sum().div_scalar(batch.len().max(1) as f64);
        let penalty = self.linear.weight.val().square().sum();
        Ok(data_loss + penalty.mul_scalar(1.0 / (2.0 * self.params.c * n_train.max(1) as f64)))
    }
}

impl Estimator for LinearSvm {
    type Config = LinearSvmConfig;
    type Params = LinearSvmParams;
    const KINDS: &'static [&'static str] = &[NAME];

    fn supervision(_: &LinearSvmConfig) -> Supervision {
        Supervision::Labels
    }

    fn check(config: &LinearSvmConfig, shape: &DataShape) -> Result<LinearSvmParams, ConfigError> {
        config.check(shape)
    }

    fn output(_: &LinearSvmParams) -> Output {
        Output::Scores
    }

    fn loss_splits_by_rows(_: &LinearSvmParams) -> bool {
        true
    }

    fn init(params: &LinearSvmParams, device: &Device) -> Self {
        Self::new(*params, device)
    }

    fn predict(&self, x: Tensor<2>) -> Prediction {
        Prediction::Scores(self.decision_function(x))
    }

    fn loss(&self, batch: &Batch, n_train: usize) -> Result<Tensor<1>, FitError> {
        self.margin_loss(batch, n_train)
    }
}

/// Targets as ±1: `[n, 1]` (class 1 is +1) for two classes, `[n, n_classes]` one-vs-rest.
fn plus_minus_one(classes: Tensor<1, Int>, n_classes: usize) -> Tensor<2> {
    let positive = if n_classes == 2 {
        classes.float().unsqueeze_dim::<2>(1)
    } else {
        crate::linalg::one_hot(classes, n_classes)
    };
    positive.mul_scalar(2.0).sub_scalar(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Task;
    use crate::data::read_f32;
    use crate::testing::{
        classification_batch, features, for_each_device, minimize, minimize_lbfgs,
    };

    fn params(loss: SvmLoss, c: f64, n_classes: usize) -> LinearSvmParams {
        LinearSvmConfig {
            loss,
            c,
            fit_intercept: true,
        }
        .check(&DataShape {
            n_features: 2,
            task: Task::Classification { n_classes },
        })
        .unwrap()
    }

    // Two points per class, mirrored through the origin. The inner points (±1, 0) are the
    // support vectors: with C = 10 and n = 4 the squared-hinge optimum is b = 0, w = (w0, 0)
    // with w0 = C·n/(C·n + 1) = 40/41 (set the derivative of (1 − w0)²/2 + w0²/(2·C·n) to 0).
    const LINE_X: [f32; 8] = [-1.0, 0.0, -2.0, 0.5, 1.0, 0.0, 2.0, -0.5];
    const LINE_Y: [usize; 4] = [0, 0, 1, 1];

    #[test]
    fn squared_hinge_reaches_the_known_optimum() {
        for_each_device(|device| {
            let ad = device.clone().autodiff();
            let batch = classification_batch(&LINE_X, &LINE_Y, 2, &ad);
            let model = LinearSvm::new(params(SvmLoss::SquaredHinge, 10.0, 2), &ad);
            let model = minimize_lbfgs(model, |m| m.loss(&batch, 4).unwrap());
            let w = read_f32(model.linear.weight.val()).unwrap();
            let b = read_f32(model.linear.bias.as_ref().unwrap().val()).unwrap();
            assert!((w[0] - 40.0 / 41.0).abs() < 1e-3, "{device:?}: w = {w:?}");
            assert!(
                w[1].abs() < 1e-3 && b[0].abs() < 1e-3,
                "{device:?}: {w:?} {b:?}"
            );
            let Prediction::Scores(f) = model.valid().predict(features(&LINE_X, 2, device)) else {
                panic!("an SVM predicts decision scores")
            };
            let f = read_f32(f).unwrap();
            let classes = crate::metrics::classes_from_scores(&f, 1);
            assert_eq!(classes, LINE_Y, "{device:?}: {f:?}");
        });
    }

    #[test]
    fn one_vs_rest_hinge_separates_three_classes() {
        // Three well-separated groups around (0, 3), (-3, -2), (3, -2).
        let x = [
            0.0, 3.0, 0.5, 3.5, -0.5, 2.5, -3.0, -2.0, -3.5, -1.5, -2.5, -2.5, 3.0, -2.0, 3.5,
            -1.5, 2.5, -2.5,
        ];
        let y = [0, 0, 0, 1, 1, 1, 2, 2, 2];
        for_each_device(|device| {
            let ad = device.clone().autodiff();
            let batch = classification_batch(&x, &y, 2, &ad);
            let model = LinearSvm::new(params(SvmLoss::Hinge, 1.0, 3), &ad);
            let model = minimize(model, 200, 0.1, |m| m.loss(&batch, 9).unwrap());
            let Prediction::Scores(f) = model.valid().predict(features(&x, 2, device)) else {
                panic!("an SVM predicts decision scores")
            };
            let pred = crate::metrics::argmax_rows(&read_f32(f).unwrap(), 3);
            assert_eq!(pred, y, "{device:?}");
        });
    }

    #[test]
    fn config_rules() {
        let regression = DataShape {
            n_features: 2,
            task: Task::Regression,
        };
        assert!(matches!(
            LinearSvmConfig::default().check(&regression),
            Err(ConfigError::NeedsClassTarget { .. })
        ));
        let shape = DataShape {
            n_features: 2,
            task: Task::Classification { n_classes: 2 },
        };
        let zero_c = LinearSvmConfig {
            c: 0.0,
            ..Default::default()
        };
        assert_eq!(zero_c.check(&shape).unwrap_err().key(), Some("c"));
    }
}
