//! Linear support-vector machine: hinge or squared-hinge loss with an L2 penalty, binary or
//! one-vs-rest for more classes.
//!
//! Objective (scikit-learn's `LinearSVC`, whose intercept is not penalised here):
//! `½‖W‖² + C·Σ loss(y·f(x))`. The trainer's gradient loop minimises it divided by `C` times
//! the number of training rows: the mean loss plus `‖W‖²/(2·C·n_train)`.
//!
//! Two solvers minimise it:
//! - `solver = "sgd"` (the default for the hinge): the trainer's gradient loop, `[train]`'s
//!   optimizer, batches and epochs; either loss; it trains on a microcontroller. It was the
//!   default for both losses before L-BFGS; a run's config without `solver` resumes with it.
//! - `solver = "lbfgs"` (squared hinge only, and its default): full-batch L-BFGS on the primal, one iteration
//!   per step until the largest gradient entry is below `tol` or `max_iter` iterations. The
//!   squared hinge has a continuous gradient, so a quasi-Newton method converges on it as
//!   liblinear's primal Newton solver does, with the L-BFGS the zoo already has and one sum
//!   over the rows per evaluation (so it streams); the hinge is not differentiable at the
//!   margin and stays with the gradient loop.

use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::activation::relu;
use burn::tensor::{Device, Int, Tensor};
use serde::{Deserialize, Serialize};

use crate::data::{Batch, DataShape, Targets};
use crate::error::{ConfigError, FitError, check_at_least_one, check_non_negative};
use crate::estimator::{Estimator, OnDevice, Output, Supervision, state_from_json};
use crate::fit::{FitMethod, Prediction, Rows, StepRecord};
use crate::lbfgs::{Lbfgs, Stopping};
use crate::linalg::SumAll;
use crate::linear_lbfgs::{LinearObjective, Solver};

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
    /// Inverse regularisation strength, scikit-learn's `C` (default 1.0; `C` is read too).
    #[serde(alias = "C")]
    pub c: f64,
    /// Fit intercepts (default `true`).
    pub fit_intercept: bool,
    /// `"lbfgs"`: full-batch L-BFGS, as liblinear's primal solver (the default for the
    /// squared hinge); `"sgd"`: `[train]`'s optimizer and epochs (the default for the hinge).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub solver: Option<Solver>,
    /// L-BFGS stops once no gradient entry exceeds this (scikit-learn's `tol`, default 1e-4).
    pub tol: f64,
    /// L-BFGS iterations at most (scikit-learn's `max_iter`, default 1000).
    pub max_iter: usize,
}

impl Default for LinearSvmConfig {
    fn default() -> Self {
        Self {
            loss: SvmLoss::SquaredHinge,
            c: 1.0,
            fit_intercept: true,
            solver: None,
            tol: 1e-4,
            max_iter: 1000,
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
    /// The solver.
    pub solver: Solver,
    /// When L-BFGS stops.
    pub stopping: Stopping,
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
    /// The solver: as given, else L-BFGS for the squared hinge and SGD for the hinge, which
    /// L-BFGS cannot minimise.
    pub fn solver(&self) -> Solver {
        self.solver.unwrap_or(match self.loss {
            SvmLoss::SquaredHinge => Solver::Lbfgs,
            SvmLoss::Hinge => Solver::Sgd,
        })
    }

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
        let solver = self.solver().check_not_irls()?;
        if solver == Solver::Lbfgs && self.loss == SvmLoss::Hinge {
            return Err(ConfigError::Invalid {
                key: "solver",
                message:
                    "`solver = \"lbfgs\"` needs a smooth loss, and the hinge has a kink at the \
                          margin; use `loss = \"squared_hinge\"`, or `solver = \"sgd\"`"
                        .into(),
            });
        }
        Ok(LinearSvmParams {
            loss: self.loss,
            c,
            fit_intercept: self.fit_intercept,
            solver,
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

/// Linear decision functions `x·W + b`.
#[derive(Module, Debug)]
pub struct LinearSvm {
    /// Weights `W`, `[n_features, outputs]`, and intercepts `b` (none without
    /// `fit_intercept`).
    pub linear: Linear,
    /// The checked parameters it was built with.
    #[module(skip)]
    pub params: LinearSvmParams,
    /// L-BFGS's state between steps (none before the first, and for `sgd`).
    #[module(skip)]
    optimizer: Option<Lbfgs>,
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
        Self {
            linear,
            params,
            optimizer: None,
        }
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
        let data_loss = per_row.sum_all().div_scalar(batch.len().max(1) as f64);
        let penalty = self.linear.weight.val().square().sum_all();
        Ok(data_loss + penalty.mul_scalar(1.0 / (2.0 * self.params.c * n_train.max(1) as f64)))
    }
}

impl LinearSvm {
    /// One L-BFGS iteration over the training rows (the first step starts from the current,
    /// zero, weights). Each evaluation of the objective is one sum over the rows: the mean
    /// squared hinge and its gradient `−2·Xᵀ(s·ξ)/n` (`s` the ±1 targets, `ξ` the slacks).
    pub fn lbfgs_step(&mut self, rows: &mut dyn Rows) -> Result<StepRecord, FitError> {
        let objective = self.lbfgs_objective(rows.n_rows());
        let n_classes = self.params.n_classes;
        objective.step(
            &mut self.linear,
            &mut self.optimizer,
            self.params.stopping,
            rows,
            &mut |part, z| {
                let Targets::Classes(classes) = &part.targets else {
                    return Err(FitError::WrongTargets {
                        model: NAME,
                        needs: "class labels",
                    });
                };
                let signs = plus_minus_one(classes.clone(), n_classes);
                let slack = relu((z * signs.clone()).neg().add_scalar(1.0));
                let residual = (signs * slack.clone()).mul_scalar(-2.0);
                Ok((slack.square().sum_all(), residual))
            },
        )
    }

    /// The layout L-BFGS sees: `W` then the intercepts, and the penalty `1/(C·n)·½‖W‖²` of
    /// the objective divided by `C` and the `n` training rows.
    fn lbfgs_objective(&self, n_rows: usize) -> LinearObjective {
        LinearObjective {
            n_features: self.params.n_features,
            outputs: self.params.outputs(),
            fit_intercept: self.params.fit_intercept,
            penalty: 1.0 / (self.params.c * n_rows.max(1) as f64),
        }
    }
}

impl Estimator for LinearSvm {
    type Config = LinearSvmConfig;
    type Params = LinearSvmParams;
    const KINDS: &'static [&'static str] = &[NAME];
    const EARLIER_DEFAULTS: &'static [(&'static str, &'static str)] = &[("solver", "sgd")];

    /// Every key, the solver the loss chose included.
    fn write_config(config: &LinearSvmConfig) -> serde_json::Value {
        let mut table = serde_json::Map::new();
        table.insert("kind".into(), NAME.into());
        let resolved = LinearSvmConfig {
            solver: Some(config.solver()),
            ..config.clone()
        };
        if let Ok(serde_json::Value::Object(keys)) = serde_json::to_value(resolved) {
            table.extend(keys);
        }
        serde_json::Value::Object(table)
    }

    fn supervision(_: &LinearSvmConfig) -> Supervision {
        Supervision::Labels
    }

    fn check(config: &LinearSvmConfig, shape: &DataShape) -> Result<LinearSvmParams, ConfigError> {
        config.check(shape)
    }

    /// By the trainer's gradient loop, or by its own L-BFGS steps.
    fn fit_method(params: &LinearSvmParams) -> FitMethod {
        params.solver.fit_method()
    }

    fn max_steps(params: &LinearSvmParams) -> Option<usize> {
        params.solver.max_steps(params.stopping)
    }

    /// Both solvers read the rows only through sums, so both stream.
    fn streams(_: &LinearSvmParams) -> bool {
        true
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

    fn fit_step(&mut self, rows: &mut dyn Rows) -> Result<StepRecord, FitError> {
        let solver = self.params.solver;
        solver.iterate(NAME, || self.lbfgs_step(rows))
    }

    /// On a microcontroller, online SGD on the same objective, whichever solver the host uses.
    fn on_device(_: &LinearSvmConfig, _: &LinearSvmParams) -> OnDevice<LinearSvmConfig> {
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
        standardized_csv, sums_in_fixed_order,
    };

    fn params(loss: SvmLoss, c: f64, n_classes: usize) -> LinearSvmParams {
        LinearSvmConfig {
            loss,
            c,
            ..Default::default()
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

    /// The L-BFGS solver until its stopping rule holds, from zero weights and from a copy
    /// restored mid-fit.
    fn fit_lbfgs(
        params: LinearSvmParams,
        batch: &mut Batch,
        device: &Device,
    ) -> (LinearSvm, f64, LinearSvm) {
        assert_eq!(LinearSvm::fit_method(&params), FitMethod::Iterative);
        let mut model = LinearSvm::new(params, device);
        let (mut steps, mut resumed) = (0, None);
        let objective = loop {
            let record = model.fit_step(batch).unwrap();
            if record.converged {
                break record.loss;
            }
            steps += 1;
            assert!(steps < 1000, "{device:?}: no convergence");
            if steps == 3 {
                let mut copy = LinearSvm::new(params, device);
                let state = model.fit_state().unwrap().unwrap();
                let x: alloc::vec::Vec<f64> = serde_json::from_value(state["x"].clone()).unwrap();
                copy.lbfgs_objective(batch.len())
                    .set_weights(&mut copy.linear, &x, device);
                copy.restore_fit_state(state).unwrap();
                resumed = Some(copy);
            }
        };
        let mut copy = resumed.expect("more than 3 iterations");
        while !copy.fit_step(batch).unwrap().converged {}
        (model, objective, copy)
    }

    // Reference: scikit-learn 1.9.1's LinearSVC(C=1, loss="squared_hinge", fit_intercept=False,
    // dual=False, tol=1e-10) on margin-train.csv standardised (ddof 0): with no intercept its
    // objective `½‖w‖² + C·Σ max(0, 1 − s·w·x)²` is kiln's times C·n, 1203.070541 (0.3007676352
    // per row). From:
    //   z = StandardScaler().fit_transform(x); m = LinearSVC(C=1.0, fit_intercept=False,
    //   tol=1e-10, max_iter=1000000, dual=False).fit(z, y)
    const MARGIN: &str = include_str!("../../examples/data/margin-train.csv");
    const MARGIN_COEF: [f64; 10] = [
        0.016_218_464,
        0.110_960_8,
        -0.070_225_477,
        -0.354_775_73,
        -0.040_021_086,
        0.387_669_94,
        0.117_485_92,
        0.806_040_73,
        -1.348_732,
        0.032_622_423,
    ];

    #[test]
    fn lbfgs_matches_liblinear_and_the_known_optimum_and_resumes() {
        let (x, y, d) = standardized_csv(MARGIN);
        let labels: alloc::vec::Vec<usize> = y.iter().map(|&v| v as usize).collect();
        for_each_device(|device| {
            let params = LinearSvmConfig {
                c: 1.0,
                fit_intercept: false,
                solver: Some(Solver::Lbfgs),
                tol: 1e-7,
                ..Default::default()
            }
            .check(&DataShape {
                n_features: d,
                task: Task::Classification { n_classes: 2 },
            })
            .unwrap();
            let mut batch = classification_batch(&x, &labels, d, device);
            let (model, objective, resumed) = fit_lbfgs(params, &mut batch, device);
            assert!(
                (objective - 0.300_767_635_2).abs() < 1e-5 * 0.300_767_635_2,
                "{device:?}: objective {objective}"
            );
            let w = read_f32(model.linear.weight.val()).unwrap();
            for (got, want) in w.iter().zip(MARGIN_COEF) {
                assert!(
                    (f64::from(*got) - want).abs() < 1e-3,
                    "{device:?}: w = {w:?}"
                );
            }
            // A resumed fit takes the same steps: the same bits where sums have a fixed order,
            // and within the optimum's tolerance on a GPU (its sums' order varies run to run).
            let resumed = read_f32(resumed.linear.weight.val()).unwrap();
            if sums_in_fixed_order(device) {
                assert_eq!(resumed, w, "{device:?}");
            } else {
                for (a, b) in resumed.iter().zip(&w) {
                    assert!((a - b).abs() < 1e-4, "{device:?}: {resumed:?} vs {w:?}");
                }
            }

            // With an intercept, on the line: the optimum known in closed form.
            let mut line = classification_batch(&LINE_X, &LINE_Y, 2, device);
            let params = LinearSvmParams {
                solver: Solver::Lbfgs,
                stopping: Stopping {
                    gtol: 1e-7,
                    ..params.stopping
                },
                ..super::tests::params(SvmLoss::SquaredHinge, 10.0, 2)
            };
            let (model, _, _) = fit_lbfgs(params, &mut line, device);
            let w = read_f32(model.linear.weight.val()).unwrap();
            assert!((w[0] - 40.0 / 41.0).abs() < 1e-4, "{device:?}: w = {w:?}");
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
        let hinge_lbfgs = LinearSvmConfig {
            loss: SvmLoss::Hinge,
            solver: Some(Solver::Lbfgs),
            ..Default::default()
        };
        assert_eq!(hinge_lbfgs.check(&shape).unwrap_err().key(), Some("solver"));
        // With no solver named, the loss picks one, and the resolved config records it.
        let hinge = LinearSvmConfig {
            loss: SvmLoss::Hinge,
            ..Default::default()
        };
        assert_eq!(hinge.check(&shape).unwrap().solver, Solver::Sgd);
        assert_eq!(
            LinearSvmConfig::default().check(&shape).unwrap().solver,
            Solver::Lbfgs
        );
        let written = LinearSvm::write_config(&hinge);
        assert_eq!(written["solver"], "sgd");
        // A run's config from before `solver` existed resumes with the SGD it was trained by.
        let mut old = serde_json::json!({"kind": "linear_svm", "c": 1.0});
        crate::Model::fill_earlier_defaults(&mut old);
        let old = LinearSvm::read_config(old).unwrap();
        assert_eq!(old.check(&shape).unwrap().solver, Solver::Sgd);
    }
}
