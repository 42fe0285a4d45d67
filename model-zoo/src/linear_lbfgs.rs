//! Full-batch L-BFGS for linear models, scores `z = x·W + b`, whose objective is a mean over the
//! rows of a loss of each row's scores, plus `penalty/2·‖W‖²` (the intercepts unpenalised).
//!
//! Each evaluation of the objective is one [`Rows::sum`] of the loss and of its gradient
//! `Xᵀ·∂loss/∂z` (statistics over rows), so the fit streams and can be reduced across
//! threads or processes; the penalty is added on the host in f64. Logistic regression, the
//! GLMs and the linear SVM differ only in the loss and its derivative in `z`.

use alloc::vec::Vec;

use burn::module::Param;
use burn::nn::Linear;
use burn::tensor::{Device, Tensor, TensorData};

use serde::{Deserialize, Serialize};

use crate::data::{Batch, read_f32};
use crate::error::FitError;
use crate::estimator::state_to_json;
use crate::fit::{FitMethod, Rows, StepRecord, statistics};
use crate::lbfgs::{Lbfgs, Stopping};
use crate::linalg;

/// How a linear model with both solvers is fitted (`[model] solver`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Solver {
    /// The trainer's gradient loop: `[train]`'s optimizer, batch size and epochs.
    #[default]
    Sgd,
    /// Full-batch L-BFGS, one iteration per step (scikit-learn's default solver).
    Lbfgs,
    /// Iteratively reweighted least squares: a Newton (Fisher scoring) step per trainer step,
    /// solved by Cholesky (statsmodels' GLM fit). GLMs only.
    Irls,
}

impl Solver {
    /// The trainer's gradient loop for `sgd`, the model's own steps for `lbfgs`.
    pub fn fit_method(self) -> FitMethod {
        match self {
            Solver::Sgd => FitMethod::Gradient,
            Solver::Lbfgs | Solver::Irls => FitMethod::Iterative,
        }
    }

    /// The most steps a fit by this solver takes by its own rule: `max_iter` L-BFGS or Newton
    /// iterations, one a step; none for `sgd`, which `[train] epochs` caps.
    pub fn max_steps(self, stopping: crate::lbfgs::Stopping) -> Option<usize> {
        match self {
            Solver::Sgd => None,
            Solver::Lbfgs | Solver::Irls => Some(stopping.max_iter),
        }
    }

    /// One L-BFGS iteration by `step`; `sgd` takes no iterative steps, and a model that has
    /// no IRLS refuses it at its check (the error names `model`).
    pub fn iterate(
        self,
        model: &'static str,
        step: impl FnOnce() -> Result<StepRecord, FitError>,
    ) -> Result<StepRecord, FitError> {
        match self {
            Solver::Lbfgs => step(),
            Solver::Sgd | Solver::Irls => Err(FitError::WrongMethod {
                model,
                method: "iterative steps",
            }),
        }
    }

    /// The L-BFGS state for a checkpoint (none before the first step, and for `sgd` and
    /// IRLS, whose steps start from the weights alone).
    pub fn fit_state(self, state: &Option<Lbfgs>) -> Result<Option<serde_json::Value>, FitError> {
        match self {
            Solver::Lbfgs => state_to_json(state),
            Solver::Sgd | Solver::Irls => Ok(None),
        }
    }

    /// Refuses IRLS for a model that has no Newton step (logistic regression, the linear SVM).
    pub fn check_not_irls(self) -> Result<Self, crate::error::ConfigError> {
        match self {
            Solver::Irls => Err(crate::error::ConfigError::Invalid {
                key: "solver",
                message: "`solver = \"irls\"` fits GLMs only; use \"lbfgs\" or \"sgd\"".into(),
            }),
            other => Ok(other),
        }
    }
}

/// The loss of one part of the rows from its scores `z` (`[n, outputs]`): the sum of the
/// part's row losses (`[1]`) and the derivative of each row's loss in its scores (`[n, outputs]`).
pub type PartLoss<'a> =
    dyn FnMut(&Batch, Tensor<2>) -> Result<(Tensor<1>, Tensor<2>), FitError> + 'a;

/// A linear model's layout and penalty, as the optimiser sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinearObjective {
    /// Feature columns.
    pub n_features: usize,
    /// Scores per row (columns of `W`).
    pub outputs: usize,
    /// Whether `b` is fitted (and so part of the parameters).
    pub fit_intercept: bool,
    /// The coefficient of `½‖W‖²` in the objective.
    pub penalty: f64,
}

impl LinearObjective {
    /// One L-BFGS iteration, from `optimizer`'s state or, before the first, from `linear`'s
    /// weights; the new weights are written into `linear` and the state back into `optimizer`.
    pub fn step(
        &self,
        linear: &mut Linear,
        optimizer: &mut Option<Lbfgs>,
        stopping: Stopping,
        rows: &mut dyn Rows,
        loss: &mut PartLoss<'_>,
    ) -> Result<StepRecord, FitError> {
        let mut state = match optimizer.take() {
            Some(state) => state,
            None => {
                let start = self.weights(linear)?;
                let (value, gradient) = self.value_and_gradient(&start, rows, loss)?;
                let p = start.len();
                // Unbounded; the largest finite bounds, since a checkpoint's JSON has no ∞.
                let (lower, upper) = (alloc::vec![f64::MIN; p], alloc::vec![f64::MAX; p]);
                Lbfgs::new(start, value, gradient, lower, upper)
            }
        };
        state.step(stopping, |theta| {
            self.value_and_gradient(theta, rows, loss)
                .map(|(value, gradient)| Some((value, gradient, ())))
        })?;
        self.set_weights(linear, &state.x, &linear.weight.device());
        let record = StepRecord {
            loss: state.value,
            converged: state.converged,
            jitter: 0.0,
        };
        *optimizer = Some(state);
        Ok(record)
    }

    /// `linear`'s weights as [`LinearObjective::set_weights`] takes them, in f64.
    pub fn weights(&self, linear: &Linear) -> Result<Vec<f64>, FitError> {
        let mut theta = read_f32(linear.weight.val())?;
        if let Some(bias) = &linear.bias {
            theta.extend(read_f32(bias.val())?);
        }
        Ok(theta.into_iter().map(f64::from).collect())
    }

    /// The weights `theta` (`W` row-major `[features, outputs]`, then the intercepts) as
    /// `linear`'s, keeping the parameters' ids (saved with the weights, so a resumed fit writes
    /// the same bytes as one never stopped).
    pub fn set_weights(&self, linear: &mut Linear, theta: &[f64], device: &Device) {
        let (d, k) = (self.n_features, self.outputs);
        let values = |range: core::ops::Range<usize>| -> Vec<f32> {
            theta[range].iter().map(|v| *v as f32).collect()
        };
        let weight = Tensor::<2>::from_data(TensorData::new(values(0..d * k), [d, k]), device);
        linear.weight = Param::initialized(linear.weight.id, weight);
        if let Some(bias) = &linear.bias {
            let b = Tensor::<1>::from_data(TensorData::new(values(d * k..d * k + k), [k]), device);
            linear.bias = Some(Param::initialized(bias.id, b));
        }
    }

    /// The objective at `theta` (laid out as [`LinearObjective::set_weights`] takes it) and its
    /// gradient, in f64: the mean row loss and `Xᵀ·∂loss/∂z / n`, each part's read from the
    /// device in one vector, then the penalty.
    pub fn value_and_gradient(
        &self,
        theta: &[f64],
        rows: &mut dyn Rows,
        loss: &mut PartLoss<'_>,
    ) -> Result<(f64, Vec<f64>), FitError> {
        let n = rows.n_rows();
        let (d, k) = (self.n_features, self.outputs);
        let scale = 1.0 / n.max(1) as f64;
        let read = rows.sum(&mut |part| {
            let device = part.x.device();
            let weights: Vec<f32> = theta[..d * k].iter().map(|v| *v as f32).collect();
            let w = Tensor::<2>::from_data(TensorData::new(weights, [d, k]), &device);
            let mut z = linalg::matmul(part.x.clone(), w);
            if self.fit_intercept {
                let b: Vec<f32> = theta[d * k..].iter().map(|v| *v as f32).collect();
                z = z + Tensor::<1>::from_data(TensorData::new(b, [k]), &device).unsqueeze::<2>();
            }
            let (row_loss, residual) = loss(part, z)?;
            // Sums over the part's rows divided by every row's count: one part gives the mean.
            let grad_w =
                linalg::matmul(part.x.clone().transpose(), residual.clone()).mul_scalar(scale);
            let mut parts = alloc::vec![grad_w.reshape([d * k])];
            if self.fit_intercept {
                parts.push(linalg::sum_rows(residual).mul_scalar(scale).reshape([k]));
            }
            parts.push(row_loss.div_scalar(n.max(1) as f64));
            statistics(Tensor::cat(parts, 0))
        })?;
        let (gradient, loss) = read.split_at(read.len() - 1);
        let mut gradient = gradient.to_vec();
        let mut value = loss[0];
        for (g, w) in gradient.iter_mut().zip(&theta[..d * k]) {
            value += 0.5 * self.penalty * w * w;
            *g += self.penalty * w;
        }
        Ok((value, gradient))
    }
}
