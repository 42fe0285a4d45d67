//! Linear regression: ordinary least squares, ridge, and SGD.
//!
//! Objective (scikit-learn's `Ridge`): `‖y − Xw − b‖² + l2·‖w‖²`, the intercept `b` unpenalised;
//! `l2 = 0` is OLS. The closed-form solver centres the data, forms the Gram matrix `XcᵀXc` and
//! `Xcᵀyc` on the device and solves the small `d × d` system by Cholesky on the host
//! ([`crate::linalg`]). The `sgd` solver hands the same objective, divided by the number of
//! training rows, to the trainer's gradient loop.

use alloc::vec::Vec;

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::data::{Batch, DataShape, Targets, Task, read_f32};
use crate::error::{ConfigError, FitError, check_non_negative};
use crate::estimator::{Estimator, OnDevice, Output, Supervision};
use crate::fit::{FitMethod, Prediction, Rows, StepRecord, statistics};
use crate::linalg::SumAll;
use crate::linalg::solve_spd;

const NAME: &str = "linear_regression";

/// How the weights are found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinearSolver {
    /// Normal equations solved by Cholesky: exact, one pass over the data.
    #[default]
    ClosedForm,
    /// Stochastic gradient descent through the trainer's loop and optimizer.
    Sgd,
}

/// `[model]` keys of `kind = "linear_regression"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LinearRegressionConfig {
    /// `"closed_form"` (default) or `"sgd"`.
    pub solver: LinearSolver,
    /// Ridge penalty on the weights (not the intercept); 0 (default) is ordinary least squares.
    /// Also read as scikit-learn's `Ridge(alpha)`, which means the same.
    #[serde(alias = "alpha")]
    pub l2: f64,
    /// Fit an intercept (default `true`); otherwise the line goes through the origin.
    pub fit_intercept: bool,
}

impl Default for LinearRegressionConfig {
    fn default() -> Self {
        Self {
            solver: LinearSolver::ClosedForm,
            l2: 0.0,
            fit_intercept: true,
        }
    }
}

/// Checked parameters of a linear regression for a given data shape.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinearRegressionParams {
    /// How the weights are found.
    pub solver: LinearSolver,
    /// Ridge penalty on the weights (scikit-learn's `alpha`); 0 is ordinary least squares.
    pub l2: f64,
    /// Whether the model has an intercept.
    pub fit_intercept: bool,
    /// Number of feature columns.
    pub n_features: usize,
}

impl LinearRegressionConfig {
    /// Validates the config against the data it will be fitted on.
    pub fn check(&self, shape: &DataShape) -> Result<LinearRegressionParams, ConfigError> {
        if shape.task != Task::Regression {
            return Err(ConfigError::NeedsNumericTarget { model: NAME });
        }
        Ok(LinearRegressionParams {
            solver: self.solver,
            l2: check_non_negative("l2", self.l2)?,
            fit_intercept: self.fit_intercept,
            n_features: shape.n_features,
        })
    }
}

/// `ŷ = x·w + b`, with `w` stored as a `[n_features, 1]` [`Linear`] weight.
#[derive(Module, Debug)]
pub struct LinearRegression {
    /// Weights `w`, `[n_features, 1]`, and intercept `b` (none without `fit_intercept`).
    pub linear: Linear,
    /// The checked parameters it was built with.
    #[module(skip)]
    pub params: LinearRegressionParams,
}

impl LinearRegression {
    /// A zero-initialised model on `device` (deterministic on every backend).
    pub fn new(params: LinearRegressionParams, device: &Device) -> Self {
        let linear = crate::linalg::zero_linear(params.n_features, 1, params.fit_intercept, device);
        Self { linear, params }
    }

    /// Predicted values, `[n, 1]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.linear.forward(x)
    }

    /// Mean squared error of the batch, `[1]`.
    pub fn mse(&self, batch: &Batch) -> Result<Tensor<1>, FitError> {
        let y = values(batch)?;
        Ok(crate::linalg::mean_all(
            (self.forward(batch.x.clone()) - y.clone()).square(),
        ))
    }

    /// Solves the normal equations in one step, from statistics over the rows: their means,
    /// then the centred Gram matrix `XcᵀXc` and `Xcᵀyc` (sums over rows, so the rows may come
    /// in parts), solved on the host.
    pub fn fit_closed_form(&mut self, rows: &mut dyn Rows) -> Result<StepRecord, FitError> {
        let n = rows.n_rows();
        if n == 0 {
            return Err(FitError::Empty);
        }
        let d = self.params.n_features;
        // Centring keeps the f32 Gram matrix well conditioned and leaves the intercept out of
        // the penalised system. Each part's sums are divided by every row's count, so one part
        // gives exactly the means of its rows.
        let (x_mean, y_mean) = if self.params.fit_intercept {
            let means = rows.sum(&mut |part| {
                let y = values(part)?;
                statistics(Tensor::cat(
                    alloc::vec![
                        crate::linalg::sum_rows(part.x.clone()).div_scalar(n as f64),
                        crate::linalg::sum_rows(y.clone()).div_scalar(n as f64),
                    ],
                    1,
                ))
            })?;
            let means: Vec<f32> = means.iter().map(|v| *v as f32).collect();
            (means[..d].to_vec(), means[d])
        } else {
            (alloc::vec![0.0; d], 0.0)
        };
        let centre = |part: &Batch| -> Result<(Tensor<2>, Tensor<2>), FitError> {
            let y = values(part)?;
            if !self.params.fit_intercept {
                return Ok((part.x.clone(), y.clone()));
            }
            let device = part.x.device();
            let x_mean = Tensor::<2>::from_data(TensorData::new(x_mean.clone(), [1, d]), &device);
            Ok((part.x.clone() - x_mean, y.clone().sub_scalar(y_mean as f64)))
        };
        let sums = rows.sum(&mut |part| {
            let (xc, yc) = centre(part)?;
            let xt = xc.clone().transpose();
            let gram = xt.clone().matmul(xc).reshape([d * d]);
            let xty = xt.matmul(yc).reshape([d]);
            statistics(Tensor::cat(alloc::vec![gram, xty], 0))
        })?;
        let (gram, xty) = sums.split_at(d * d);

        let mut a = gram.to_vec();
        for i in 0..d {
            a[i * d + i] += self.params.l2;
        }
        let (w, jitter) = solve_spd(&a, d, xty)?;

        let device = self.linear.weight.device();
        let weight: Vec<f32> = w.iter().map(|v| *v as f32).collect();
        // The parameters keep their ids: they are saved with the weights, and fixed ids make
        // the same fit write the same bytes.
        self.linear.weight = Param::initialized(
            self.linear.weight.id,
            Tensor::from_data(TensorData::new(weight, [d, 1]), &device),
        );
        if let Some(bias) = &self.linear.bias {
            let intercept = y_mean as f64
                - w.iter()
                    .zip(&x_mean)
                    .map(|(w, m)| w * *m as f64)
                    .sum::<f64>();
            self.linear.bias = Some(Param::initialized(
                bias.id,
                Tensor::from_data(TensorData::new(alloc::vec![intercept as f32], [1]), &device),
            ));
        }
        let loss = rows.sum(&mut |part| {
            let y = values(part)?;
            let squares = (self.forward(part.x.clone()) - y.clone()).square();
            statistics(squares.sum_all().div_scalar(n as f64))
        })?[0];
        Ok(StepRecord {
            loss,
            converged: true,
            jitter,
        })
    }

    /// The weights and intercept, on the host.
    pub fn coefficients(&self) -> Result<(Vec<f32>, f32), FitError> {
        let weights = read_f32(self.linear.weight.val())?;
        let intercept = match &self.linear.bias {
            Some(bias) => read_f32(bias.val())?[0],
            None => 0.0,
        };
        Ok((weights, intercept))
    }
}

/// The numeric targets of a batch.
fn values(batch: &Batch) -> Result<&Tensor<2>, FitError> {
    match &batch.targets {
        Targets::Values(y) => Ok(y),
        Targets::Classes(_) => Err(FitError::WrongTargets {
            model: NAME,
            needs: "numeric targets",
        }),
    }
}

impl Estimator for LinearRegression {
    type Config = LinearRegressionConfig;
    type Params = LinearRegressionParams;
    const KINDS: &'static [&'static str] = &[NAME];

    fn supervision(_: &LinearRegressionConfig) -> Supervision {
        Supervision::Values
    }

    fn check(
        config: &LinearRegressionConfig,
        shape: &DataShape,
    ) -> Result<LinearRegressionParams, ConfigError> {
        config.check(shape)
    }

    fn fit_method(params: &LinearRegressionParams) -> FitMethod {
        match params.solver {
            LinearSolver::ClosedForm => FitMethod::Iterative,
            LinearSolver::Sgd => FitMethod::Gradient,
        }
    }

    /// Both solvers read the rows only through sums, so both stream.
    fn streams(_: &LinearRegressionParams) -> bool {
        true
    }

    fn output(_: &LinearRegressionParams) -> Output {
        Output::Values
    }

    fn loss_splits_by_rows(_: &LinearRegressionParams) -> bool {
        true
    }

    fn init(params: &LinearRegressionParams, device: &Device) -> Self {
        Self::new(*params, device)
    }

    fn predict(&self, x: Tensor<2>) -> Prediction {
        Prediction::Values(self.forward(x))
    }

    /// Mean squared error of the batch plus `l2/n_train·‖w‖²`: the closed-form objective
    /// divided by the number of training rows, so SGD converges to the same weights.
    fn loss(&self, batch: &Batch, n_train: usize) -> Result<Tensor<1>, FitError> {
        let mse = self.mse(batch)?;
        Ok(if self.params.l2 > 0.0 {
            let penalty = self.linear.weight.val().square().sum_all();
            mse + penalty.mul_scalar(self.params.l2 / n_train.max(1) as f64)
        } else {
            mse
        })
    }

    fn fit_step(&mut self, rows: &mut dyn Rows) -> Result<StepRecord, FitError> {
        match self.params.solver {
            LinearSolver::ClosedForm => self.fit_closed_form(rows),
            LinearSolver::Sgd => Err(FitError::WrongMethod {
                model: NAME,
                method: "iterative steps",
            }),
        }
    }

    /// On a microcontroller, online SGD on the same objective, whichever solver the host uses.
    fn on_device(
        _: &LinearRegressionConfig,
        _: &LinearRegressionParams,
    ) -> OnDevice<LinearRegressionConfig> {
        OnDevice::OnlineSgd
    }

    /// The closed-form fit reports the mean squared error; the SGD fit its loss.
    fn objective(&self, batch: &Batch, n_train: usize) -> Result<f64, FitError> {
        let value = match self.params.solver {
            LinearSolver::ClosedForm => self.mse(batch)?,
            LinearSolver::Sgd => self.loss(batch, n_train)?,
        };
        Ok(read_f32(value)?[0] as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;
    use crate::testing::{for_each_device, regression_batch};

    fn params(solver: LinearSolver, l2: f64, n_features: usize) -> LinearRegressionParams {
        let shape = DataShape {
            n_features,
            task: Task::Regression,
        };
        LinearRegressionConfig {
            solver,
            l2,
            fit_intercept: true,
        }
        .check(&shape)
        .unwrap()
    }

    #[test]
    fn ols_recovers_known_weights() {
        // y = 2 x0 − 3 x1 + 0.5 x2 + 1 + noise(σ = 0.01), 2000 rows: the OLS estimate is within
        // ~1e-4 of the truth, far inside the 1e-3 asked for.
        let mut rng = Rng::new(7);
        let n = 2000;
        let x: Vec<f32> = (0..n * 3)
            .map(|_| rng.normal() as f32 * 2.0 + 0.5)
            .collect();
        let y: Vec<f32> = x
            .chunks(3)
            .map(|r| 2.0 * r[0] - 3.0 * r[1] + 0.5 * r[2] + 1.0 + 0.01 * rng.normal() as f32)
            .collect();
        for_each_device(|device| {
            let batch = regression_batch(&x, &y, 3, device);
            let mut model = LinearRegression::new(params(LinearSolver::ClosedForm, 0.0, 3), device);
            let record = model.fit_closed_form(&mut batch.clone()).unwrap();
            assert!(record.converged && record.jitter == 0.0);
            let (w, b) = model.coefficients().unwrap();
            for (got, want) in w.iter().zip([2.0, -3.0, 0.5]) {
                assert!((got - want).abs() < 1e-3, "{device:?}: w = {w:?}");
            }
            assert!((b - 1.0).abs() < 1e-3, "{device:?}: b = {b}");
            assert!(
                record.loss < 2e-4,
                "{device:?}: training MSE {}",
                record.loss
            );
        });
    }

    // Reference: scikit-learn 1.9.1, computed once with
    //   import numpy as np; from sklearn.linear_model import Ridge
    //   X = np.array(RIDGE_X).reshape(8, 2); y = np.array(RIDGE_Y)
    //   m = Ridge(alpha=2.5).fit(X, y); print(m.coef_, m.intercept_)
    //   → [1.00460835 1.14134509] 0.0985567929834108
    const RIDGE_X: [f32; 16] = [
        1.0, 2.0, 2.0, 0.5, 3.0, 4.0, 4.0, 3.5, 5.0, 1.0, 6.0, 7.0, 7.0, 2.5, 8.0, 6.0,
    ];
    const RIDGE_Y: [f32; 8] = [3.1, 2.4, 7.9, 8.2, 6.1, 14.2, 10.0, 15.3];
    const RIDGE_COEF: [f64; 2] = [1.004_608_35, 1.141_345_09];
    const RIDGE_INTERCEPT: f64 = 0.098_556_79;

    #[test]
    fn ridge_matches_scikit_learn() {
        for_each_device(|device| {
            let batch = regression_batch(&RIDGE_X, &RIDGE_Y, 2, device);
            let mut model = LinearRegression::new(params(LinearSolver::ClosedForm, 2.5, 2), device);
            model.fit_closed_form(&mut batch.clone()).unwrap();
            let (w, b) = model.coefficients().unwrap();
            for (got, want) in w.iter().zip(RIDGE_COEF) {
                assert!((*got as f64 - want).abs() < 1e-4, "{device:?}: w = {w:?}");
            }
            assert!(
                (b as f64 - RIDGE_INTERCEPT).abs() < 1e-4,
                "{device:?}: b = {b}"
            );
        });
    }

    #[test]
    fn sgd_loss_has_the_ridge_penalty_scaled_by_the_training_rows() {
        for_each_device(|device| {
            let batch = regression_batch(&RIDGE_X, &RIDGE_Y, 2, device);
            let mut model = LinearRegression::new(params(LinearSolver::Sgd, 2.5, 2), device);
            assert_eq!(
                LinearRegression::fit_method(&model.params),
                FitMethod::Gradient
            );
            model.linear.weight = Param::from_tensor(Tensor::from_data(
                TensorData::new(alloc::vec![1.0f32, 1.0], [2, 1]),
                device,
            ));
            let loss: f32 = model.loss(&batch, 8).unwrap().into_scalar();
            let mse = crate::metrics::mse(
                &RIDGE_X.chunks(2).map(|r| r[0] + r[1]).collect::<Vec<_>>(),
                &RIDGE_Y,
            );
            let want = mse + 2.5 / 8.0 * 2.0;
            assert!((loss as f64 - want).abs() < 1e-4, "{loss} vs {want}");
        });
    }

    #[test]
    fn config_rules() {
        let shape = DataShape {
            n_features: 2,
            task: Task::Regression,
        };
        let bad = LinearRegressionConfig {
            l2: -1.0,
            ..Default::default()
        };
        assert_eq!(
            bad.check(&shape).unwrap_err(),
            ConfigError::Negative {
                key: "l2",
                value: -1.0
            }
        );
        let classes = DataShape {
            n_features: 2,
            task: Task::Classification { n_classes: 3 },
        };
        assert!(matches!(
            LinearRegressionConfig::default().check(&classes),
            Err(ConfigError::NeedsNumericTarget { .. })
        ));
    }
}
