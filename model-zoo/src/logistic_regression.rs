//! Logistic regression: binary, multinomial (softmax) and one-vs-rest, with an L2 penalty.
//!
//! Objective (scikit-learn's `LogisticRegression` with `C = 1/l2`):
//! `Σ log-loss + l2/2·‖W‖²`, the intercepts unpenalised. Both solvers minimise it divided by
//! the number of training rows, so the optimum is scikit-learn's:
//! - `solver = "sgd"`: the trainer's gradient loop, `[train]`'s optimizer, batches and
//!   epochs (the default before L-BFGS was; a run's config without `solver` resumes with it);
//! - `solver = "lbfgs"` (default): scikit-learn's default solver, full-batch L-BFGS ([`crate::lbfgs`],
//!   f64 on the host) with the loss and its analytic gradient `Xᵀ(P − Y)/n` computed on the
//!   device in one pass and read back as one vector per evaluation; one trainer step is one
//!   iteration, so it checkpoints and resumes like every iterative fit. It stops as
//!   scikit-learn's does: the largest gradient entry below `tol`, or `max_iter` iterations.

use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::activation::{log_softmax, sigmoid, softmax};
use burn::tensor::{Device, Int, Tensor};
use serde::{Deserialize, Serialize};

use crate::data::{Batch, DataShape, Targets};
use crate::error::{ConfigError, FitError, check_at_least_one, check_non_negative};
use crate::estimator::{Estimator, OnDevice, Output, Supervision, state_from_json};
use crate::fit::{FitMethod, Prediction, Rows, StepRecord};
use crate::lbfgs::{Lbfgs, Stopping};
use crate::linalg::SumAll;
use crate::linear_lbfgs::{LinearObjective, Solver};

const NAME: &str = "logistic_regression";

/// How more than two classes are handled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MultiClass {
    /// Binary for two classes, multinomial for more (scikit-learn's default).
    #[default]
    Auto,
    /// One softmax over all classes.
    Multinomial,
    /// One sigmoid per class, probabilities normalised over the classes.
    Ovr,
}

/// How logistic regression is fitted: [`Solver`] (the name it had before the GLM and the
/// linear SVM shared it).
pub type LogisticSolver = Solver;

/// `[model]` keys of `kind = "logistic_regression"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "LogisticRegressionKeys")]
pub struct LogisticRegressionConfig {
    /// L2 penalty on the weights, the inverse of scikit-learn's `C` (default 1.0). A config may
    /// give scikit-learn's `C` instead, read as `l2 = 1/C`.
    pub l2: f64,
    /// `"auto"` (default), `"multinomial"` or `"ovr"`.
    pub multi_class: MultiClass,
    /// Fit intercepts (default `true`).
    pub fit_intercept: bool,
    /// `"lbfgs"` (default, full batch, scikit-learn's) or `"sgd"` (the trainer's optimizer
    /// over batches).
    pub solver: LogisticSolver,
    /// L-BFGS: stop when no gradient entry of the mean objective exceeds this (default 1e-4,
    /// scikit-learn's `tol`).
    pub tol: f64,
    /// L-BFGS: iterations at most (default 100, scikit-learn's `max_iter`; `[train] epochs`
    /// does not cap them).
    pub max_iter: usize,
}

impl Default for LogisticRegressionConfig {
    fn default() -> Self {
        Self {
            l2: 1.0,
            multi_class: MultiClass::Auto,
            fit_intercept: true,
            solver: LogisticSolver::Lbfgs,
            tol: 1e-4,
            max_iter: 100,
        }
    }
}

/// The keys a config may give: [`LogisticRegressionConfig`]'s, or scikit-learn's `C` for `l2`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LogisticRegressionKeys {
    l2: Option<f64>,
    #[serde(rename = "C")]
    c: Option<f64>,
    multi_class: Option<MultiClass>,
    fit_intercept: Option<bool>,
    solver: Option<LogisticSolver>,
    tol: Option<f64>,
    max_iter: Option<usize>,
}

impl TryFrom<LogisticRegressionKeys> for LogisticRegressionConfig {
    type Error = alloc::string::String;

    fn try_from(keys: LogisticRegressionKeys) -> Result<Self, Self::Error> {
        let default = Self::default();
        let l2 = match (keys.l2, keys.c) {
            (Some(_), Some(_)) => {
                return Err("`C` and `l2` are both set, and `l2` is `1/C`: keep one".into());
            }
            (None, Some(c)) if !(c.is_finite() && c > 0.0) => {
                return Err(alloc::format!(
                    "`C` must be a number > 0 (it is 1/l2), not {c}"
                ));
            }
            (None, Some(c)) => 1.0 / c,
            (l2, None) => l2.unwrap_or(default.l2),
        };
        Ok(Self {
            l2,
            multi_class: keys.multi_class.unwrap_or(default.multi_class),
            fit_intercept: keys.fit_intercept.unwrap_or(default.fit_intercept),
            solver: keys.solver.unwrap_or(default.solver),
            tol: keys.tol.unwrap_or(default.tol),
            max_iter: keys.max_iter.unwrap_or(default.max_iter),
        })
    }
}

/// The link between the linear scores and the class probabilities.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogisticMode {
    /// One score; `P(class 1) = σ(z)`.
    Binary,
    /// One score per class; softmax.
    Multinomial,
    /// One score per class; independent sigmoids.
    OneVsRest,
}

/// Checked parameters of a logistic regression for a given data shape.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LogisticRegressionParams {
    /// L2 penalty on the weights, `1/C`.
    pub l2: f64,
    /// The link, resolved from `multi_class` and the number of classes.
    pub mode: LogisticMode,
    /// Whether each score has an intercept.
    pub fit_intercept: bool,
    /// How the weights are fitted.
    pub solver: LogisticSolver,
    /// L-BFGS's stopping rules.
    pub stopping: Stopping,
    /// Number of feature columns.
    pub n_features: usize,
    /// Number of classes, at least 2.
    pub n_classes: usize,
}

impl LogisticRegressionConfig {
    /// Validates the config against the data it will be fitted on.
    pub fn check(&self, shape: &DataShape) -> Result<LogisticRegressionParams, ConfigError> {
        let n_classes = crate::error::check_classes(NAME, shape)?;
        // With two classes one-vs-rest is the binary model, as in scikit-learn.
        let mode = match (self.multi_class, n_classes) {
            (MultiClass::Multinomial, _) => LogisticMode::Multinomial,
            (_, 2) => LogisticMode::Binary,
            (MultiClass::Auto, _) => LogisticMode::Multinomial,
            (MultiClass::Ovr, _) => LogisticMode::OneVsRest,
        };
        Ok(LogisticRegressionParams {
            l2: check_non_negative("l2", self.l2)?,
            mode,
            fit_intercept: self.fit_intercept,
            solver: self.solver.check_not_irls()?,
            stopping: Stopping {
                gtol: check_non_negative("tol", self.tol)?,
                // scikit-learn's `64·eps`: in effect the gradient rule decides.
                ftol: 64.0 * f64::EPSILON,
                max_iter: check_at_least_one("max_iter", self.max_iter)?,
            },
            n_features: shape.n_features,
            n_classes,
        })
    }
}

/// Linear scores `x·W + b` turned into class probabilities by a sigmoid or softmax.
#[derive(Module, Debug)]
pub struct LogisticRegression {
    /// Weights `W`, `[n_features, 1]` (binary) or `[n_features, n_classes]`, and intercepts
    /// `b` (none without `fit_intercept`).
    pub linear: Linear,
    /// The checked parameters it was built with.
    #[module(skip)]
    pub params: LogisticRegressionParams,
    /// L-BFGS's state between steps (none before the first, and for `sgd`).
    #[module(skip)]
    optimizer: Option<Lbfgs>,
}

impl LogisticRegression {
    /// A zero-initialised model (the objective is convex, so the start only affects speed, and
    /// zeros make every backend start from the same point).
    pub fn new(params: LogisticRegressionParams, device: &Device) -> Self {
        let outputs = match params.mode {
            LogisticMode::Binary => 1,
            LogisticMode::Multinomial | LogisticMode::OneVsRest => params.n_classes,
        };
        let linear =
            crate::linalg::zero_linear(params.n_features, outputs, params.fit_intercept, device);
        Self {
            linear,
            params,
            optimizer: None,
        }
    }

    /// Outputs of the linear layer: 1 (binary) or one per class.
    fn outputs(&self) -> usize {
        match self.params.mode {
            LogisticMode::Binary => 1,
            LogisticMode::Multinomial | LogisticMode::OneVsRest => self.params.n_classes,
        }
    }

    /// One L-BFGS iteration over the training rows (the first step starts from the current,
    /// zero, weights). Each evaluation of the objective is one sum over the rows: the mean
    /// log-loss and its gradient `Xᵀ(P − Y)/n`.
    pub fn lbfgs_step(&mut self, rows: &mut dyn Rows) -> Result<StepRecord, FitError> {
        let objective = self.lbfgs_objective(rows.n_rows());
        let (mode, k) = (self.params.mode, self.outputs());
        objective.step(
            &mut self.linear,
            &mut self.optimizer,
            self.params.stopping,
            rows,
            &mut |part, z| {
                let classes = classes(part)?;
                let (row_loss, residual) = match mode {
                    LogisticMode::Binary => {
                        let y = classes.clone().float().unsqueeze_dim::<2>(1);
                        (
                            binary_cross_entropy_with_logits(z.clone(), y.clone()).sum_all(),
                            sigmoid(z) - y,
                        )
                    }
                    LogisticMode::OneVsRest => {
                        let y = one_hot(classes.clone(), k);
                        (
                            binary_cross_entropy_with_logits(z.clone(), y.clone())
                                .sum_dim(1)
                                .sum_all(),
                            sigmoid(z) - y,
                        )
                    }
                    LogisticMode::Multinomial => {
                        let y = one_hot(classes.clone(), k);
                        let log_p = log_softmax(z, 1);
                        (
                            (log_p.clone() * y.clone()).sum_dim(1).neg().sum_all(),
                            log_p.exp() - y,
                        )
                    }
                };
                Ok((row_loss, residual))
            },
        )
    }

    /// The layout L-BFGS sees: `W` then the intercepts, and the penalty `l2/n·½‖W‖²` of the
    /// objective divided by the `n` training rows.
    fn lbfgs_objective(&self, n_rows: usize) -> LinearObjective {
        LinearObjective {
            n_features: self.params.n_features,
            outputs: self.outputs(),
            fit_intercept: self.params.fit_intercept,
            penalty: self.params.l2 * (1.0 / n_rows.max(1) as f64),
        }
    }

    /// The linear scores, `[n, 1]` (binary) or `[n, n_classes]`.
    pub fn logits(&self, x: Tensor<2>) -> Tensor<2> {
        self.linear.forward(x)
    }

    /// Class probabilities, `[n, n_classes]`.
    pub fn predict_proba(&self, x: Tensor<2>) -> Tensor<2> {
        let z = self.logits(x);
        match self.params.mode {
            LogisticMode::Binary => {
                let p = sigmoid(z);
                Tensor::cat(alloc::vec![p.clone().neg().add_scalar(1.0), p], 1)
            }
            LogisticMode::Multinomial => softmax(z, 1),
            LogisticMode::OneVsRest => {
                let s = sigmoid(z);
                s.clone() / s.sum_dim(1)
            }
        }
    }
}

/// The class labels of a batch.
fn classes(batch: &Batch) -> Result<&Tensor<1, Int>, FitError> {
    match &batch.targets {
        Targets::Classes(classes) => Ok(classes),
        Targets::Values(_) => Err(FitError::WrongTargets {
            model: NAME,
            needs: "class labels",
        }),
    }
}

impl Estimator for LogisticRegression {
    type Config = LogisticRegressionConfig;
    type Params = LogisticRegressionParams;
    const KINDS: &'static [&'static str] = &[NAME];
    const EARLIER_DEFAULTS: &'static [(&'static str, &'static str)] = &[("solver", "sgd")];

    fn supervision(_: &LogisticRegressionConfig) -> Supervision {
        Supervision::Labels
    }

    fn check(
        config: &LogisticRegressionConfig,
        shape: &DataShape,
    ) -> Result<LogisticRegressionParams, ConfigError> {
        config.check(shape)
    }

    /// By the trainer's gradient loop, or by its own L-BFGS steps.
    fn fit_method(params: &LogisticRegressionParams) -> FitMethod {
        params.solver.fit_method()
    }

    fn max_steps(params: &LogisticRegressionParams) -> Option<usize> {
        params.solver.max_steps(params.stopping)
    }

    /// Both solvers read the rows only through sums, so both stream.
    fn streams(_: &LogisticRegressionParams) -> bool {
        true
    }

    fn output(_: &LogisticRegressionParams) -> Output {
        Output::Probabilities
    }

    fn loss_splits_by_rows(_: &LogisticRegressionParams) -> bool {
        true
    }

    fn init(params: &LogisticRegressionParams, device: &Device) -> Self {
        Self::new(*params, device)
    }

    fn predict(&self, x: Tensor<2>) -> Prediction {
        Prediction::Probabilities(self.predict_proba(x))
    }

    /// Mean log-loss of the batch plus `l2/(2·n_train)·‖W‖²`.
    fn loss(&self, batch: &Batch, n_train: usize) -> Result<Tensor<1>, FitError> {
        let classes = classes(batch)?;
        let z = self.logits(batch.x.clone());
        let rows = batch.len().max(1) as f64;
        let data_loss = match self.params.mode {
            LogisticMode::Binary => {
                let y = classes.clone().float().unsqueeze_dim::<2>(1);
                binary_cross_entropy_with_logits(z, y)
                    .sum_all()
                    .div_scalar(rows)
            }
            LogisticMode::OneVsRest => {
                let y = one_hot(classes.clone(), self.params.n_classes);
                binary_cross_entropy_with_logits(z, y)
                    .sum_all()
                    .div_scalar(rows)
            }
            LogisticMode::Multinomial => {
                let y = one_hot(classes.clone(), self.params.n_classes);
                (log_softmax(z, 1) * y).sum_all().neg().div_scalar(rows)
            }
        };
        Ok(if self.params.l2 > 0.0 {
            let penalty = self.linear.weight.val().square().sum_all();
            data_loss + penalty.mul_scalar(self.params.l2 / (2.0 * n_train.max(1) as f64))
        } else {
            data_loss
        })
    }

    fn fit_step(&mut self, rows: &mut dyn Rows) -> Result<StepRecord, FitError> {
        let solver = self.params.solver;
        solver.iterate(NAME, || self.lbfgs_step(rows))
    }

    /// On a microcontroller, online SGD on the same objective, whichever solver the host uses.
    fn on_device(
        _: &LogisticRegressionConfig,
        _: &LogisticRegressionParams,
    ) -> OnDevice<LogisticRegressionConfig> {
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
}

/// `log(1 + e^z) − y·z` per element, written so that neither `e^z` nor `e^−z` overflows in f32.
fn binary_cross_entropy_with_logits(z: Tensor<2>, y: Tensor<2>) -> Tensor<2> {
    let softplus = z.clone().clamp_min(0.0) + z.clone().abs().neg().exp().log1p();
    softplus - y * z
}

fn one_hot(classes: Tensor<1, Int>, n_classes: usize) -> Tensor<2> {
    crate::linalg::one_hot(classes, n_classes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Task;
    use crate::data::read_f32;
    use crate::testing::{classification_batch, for_each_device, minimize};

    fn params(
        multi_class: MultiClass,
        l2: f64,
        n_features: usize,
        n_classes: usize,
    ) -> LogisticRegressionParams {
        let shape = DataShape {
            n_features,
            task: Task::Classification { n_classes },
        };
        LogisticRegressionConfig {
            l2,
            multi_class,
            ..Default::default()
        }
        .check(&shape)
        .unwrap()
    }

    // Reference: scikit-learn 1.9.1, computed once with
    //   import numpy as np; from sklearn.linear_model import LogisticRegression
    //   X = np.array(LOGIT_X).reshape(12, 2); y = np.array(LOGIT_Y)
    //   for y_, name in [(y, "multinomial"), (y == 2, "binary")]:
    //       m = LogisticRegression(C=0.5, tol=1e-10, max_iter=10000).fit(X, y_)
    //       print(name, m.coef_.ravel(), m.intercept_)
    // C = 0.5 is l2 = 2.
    const LOGIT_X: [f32; 24] = [
        0.0, 0.5, 1.0, 1.5, 0.5, -0.5, 1.5, 0.0, 2.0, 2.5, 3.0, 2.0, 2.5, 3.5, 1.5, 2.0, 4.0, 0.5,
        5.0, 1.0, 4.5, -0.5, 3.5, 0.0,
    ];
    const LOGIT_Y: [usize; 12] = [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2];
    const MULTINOMIAL_COEF: [f64; 6] = [
        -0.742_517_42,
        -0.389_308_59,
        -0.022_518_6,
        0.797_272_6,
        0.765_036_03,
        -0.407_964_01,
    ];
    const MULTINOMIAL_INTERCEPT: [f64; 3] = [2.190_131_23, -0.650_766_06, -1.539_365_17];
    const BINARY_COEF: [f64; 2] = [1.019_820_99, -0.538_957_5];
    const BINARY_INTERCEPT: f64 = -2.944_075_43;

    fn fitted(
        mode: MultiClass,
        labels: &[usize],
        n_classes: usize,
        device: &Device,
    ) -> LogisticRegression {
        let ad = device.clone().autodiff();
        let batch = classification_batch(&LOGIT_X, labels, 2, &ad);
        let model = LogisticRegression::new(params(mode, 2.0, 2, n_classes), &ad);
        minimize(model, 1000, 0.1, |m| m.loss(&batch, labels.len()).unwrap())
    }

    fn assert_multinomial_matches(model: &LogisticRegression, device: &Device) {
        assert_eq!(model.params.mode, LogisticMode::Multinomial);
        let w = read_f32(model.linear.weight.val()).unwrap();
        let b = read_f32(model.linear.bias.as_ref().unwrap().val()).unwrap();
        // Softmax intercepts are identified only up to a shared constant (the penalty does
        // not touch them), so both sides are compared centred.
        let centre = |v: &[f64]| -> alloc::vec::Vec<f64> {
            let mean = v.iter().sum::<f64>() / v.len() as f64;
            v.iter().map(|x| x - mean).collect()
        };
        let b: alloc::vec::Vec<f64> = b.iter().map(|v| *v as f64).collect();
        let (b, want_b) = (centre(&b), centre(&MULTINOMIAL_INTERCEPT));
        // burn stores W as [features, classes]; scikit-learn's coef_ is [classes, features].
        for class in 0..3 {
            for feature in 0..2 {
                let got = w[feature * 3 + class] as f64;
                let want = MULTINOMIAL_COEF[class * 2 + feature];
                assert!((got - want).abs() < 1e-3, "{device:?}: W = {w:?}");
            }
            assert!(
                (b[class] - want_b[class]).abs() < 1e-3,
                "{device:?}: b = {b:?}"
            );
        }
    }

    fn assert_binary_matches(model: &LogisticRegression, device: &Device) {
        assert_eq!(model.params.mode, LogisticMode::Binary);
        let w = read_f32(model.linear.weight.val()).unwrap();
        let b = read_f32(model.linear.bias.as_ref().unwrap().val()).unwrap();
        for (got, want) in w.iter().zip(BINARY_COEF) {
            assert!((*got as f64 - want).abs() < 1e-3, "{device:?}: w = {w:?}");
        }
        assert!(
            (b[0] as f64 - BINARY_INTERCEPT).abs() < 1e-3,
            "{device:?}: b = {b:?}"
        );
    }

    fn binary_labels() -> alloc::vec::Vec<usize> {
        LOGIT_Y.iter().map(|&c| usize::from(c == 2)).collect()
    }

    #[test]
    fn multinomial_matches_scikit_learn() {
        for_each_device(|device| {
            let model = fitted(MultiClass::Auto, &LOGIT_Y, 3, device);
            assert_multinomial_matches(&model, device);
        });
    }

    #[test]
    fn binary_matches_scikit_learn() {
        let labels = binary_labels();
        for_each_device(|device| {
            let model = fitted(MultiClass::Auto, &labels, 2, device);
            assert_binary_matches(&model, device);
            let proba =
                read_f32(model.predict_proba(crate::testing::features(&LOGIT_X, 2, device)))
                    .unwrap();
            for row in proba.chunks(2) {
                assert!((row[0] + row[1] - 1.0).abs() < 1e-6);
            }
        });
    }

    /// The L-BFGS solver, stepped until it converges, reaches the same scikit-learn optima,
    /// and a copy restored from its state mid-fit ends with the same weights.
    #[test]
    fn lbfgs_matches_scikit_learn_and_resumes() {
        for_each_device(|device| {
            for (labels, n_classes) in [(LOGIT_Y.to_vec(), 3), (binary_labels(), 2)] {
                let mut params = params(MultiClass::Auto, 2.0, 2, n_classes);
                params.solver = LogisticSolver::Lbfgs;
                params.stopping.gtol = 1e-6;
                let mut batch = classification_batch(&LOGIT_X, &labels, 2, device);
                let mut model = LogisticRegression::new(params, device);
                assert_eq!(
                    LogisticRegression::fit_method(&params),
                    FitMethod::Iterative
                );
                let mut steps = 0;
                let mut resumed = None;
                while !model.fit_step(&mut batch).unwrap().converged {
                    steps += 1;
                    assert!(steps < 100, "{device:?}: no convergence in 100 iterations");
                    if steps == 3 {
                        let mut copy = LogisticRegression::new(params, device);
                        let state = model.fit_state().unwrap().unwrap();
                        let x: alloc::vec::Vec<f64> =
                            serde_json::from_value(state["x"].clone()).unwrap();
                        copy.lbfgs_objective(batch.len())
                            .set_weights(&mut copy.linear, &x, device);
                        copy.restore_fit_state(state).unwrap();
                        resumed = Some(copy);
                    }
                }
                match n_classes {
                    3 => assert_multinomial_matches(&model, device),
                    _ => assert_binary_matches(&model, device),
                }
                let mut copy = resumed.expect("more than 3 iterations");
                while !copy.fit_step(&mut batch).unwrap().converged {}
                assert_eq!(
                    read_f32(copy.linear.weight.val()).unwrap(),
                    read_f32(model.linear.weight.val()).unwrap()
                );
            }
        });
    }

    #[test]
    fn one_vs_rest_separates_the_classes_and_normalises_probabilities() {
        for_each_device(|device| {
            let model = fitted(MultiClass::Ovr, &LOGIT_Y, 3, device);
            assert_eq!(model.params.mode, LogisticMode::OneVsRest);
            let proba =
                read_f32(model.predict_proba(crate::testing::features(&LOGIT_X, 2, device)))
                    .unwrap();
            let pred = crate::metrics::argmax_rows(&proba, 3);
            assert!(crate::metrics::accuracy(&pred, &LOGIT_Y) >= 0.9, "{pred:?}");
            for row in proba.chunks(3) {
                assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5);
            }
        });
    }

    #[test]
    fn config_rules() {
        let numeric = DataShape {
            n_features: 2,
            task: Task::Regression,
        };
        assert!(matches!(
            LogisticRegressionConfig::default().check(&numeric),
            Err(ConfigError::NeedsClassTarget { .. })
        ));
        let one_class = DataShape {
            n_features: 2,
            task: Task::Classification { n_classes: 1 },
        };
        assert_eq!(
            LogisticRegressionConfig::default()
                .check(&one_class)
                .unwrap_err(),
            ConfigError::TooFewClasses {
                model: NAME,
                found: 1
            }
        );
        let bad = LogisticRegressionConfig {
            l2: f64::NAN,
            ..Default::default()
        };
        let shape = DataShape {
            n_features: 2,
            task: Task::Classification { n_classes: 2 },
        };
        assert!(matches!(
            bad.check(&shape),
            Err(ConfigError::NotFinite { key: "l2", .. })
        ));
    }
}
