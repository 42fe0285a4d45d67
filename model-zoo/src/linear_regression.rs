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
use crate::fit::{FitMethod, Prediction, StepRecord};
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
    pub solver: LinearSolver,
    pub l2: f64,
    pub fit_intercept: bool,
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
    pub linear: Linear,
    #[module(skip)]
    pub params: LinearRegressionParams,
}

impl LinearRegression {
    /// A zero-initialised model on `device` (deterministic on every backend).
    pub fn new(params: LinearRegressionParams, device: &Device) -> Self {
        let linear = crate::linalg::zero_linear(params.n_features, 1, params.fit_intercept, device);
        Self { linear, params }
    }

    /// How this model is fitted, as its solver says.
    pub fn fit_method(&self) -> FitMethod {
        match self.params.solver {
            LinearSolver::ClosedForm => FitMethod::Iterative,
            LinearSolver::Sgd => FitMethod::Gradient,
        }
    }

    /// Predicted values, `[n, 1]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.linear.forward(x)
    }

    pub fn predict(&self, x: Tensor<2>) -> Prediction {
        Prediction::Values(self.forward(x))
    }

    /// Mean squared error of the batch, `[1]`.
    pub fn mse(&self, batch: &Batch) -> Tensor<1> {
        let Targets::Values(y) = &batch.targets else {
            unreachable!("checked at config time: linear regression has a numeric target")
        };
        crate::linalg::mean_all((self.forward(batch.x.clone()) - y.clone()).square())
    }

    /// Mean squared error of the batch plus `l2/n_train·‖w‖²`: the closed-form objective divided
    /// by the number of training rows, so SGD converges to the same weights.
    pub fn loss(&self, batch: &Batch, n_train: usize) -> Tensor<1> {
        let mse = self.mse(batch);
        if self.params.l2 > 0.0 {
            let penalty = self.linear.weight.val().square().sum();
            mse + penalty.mul_scalar(self.params.l2 / n_train.max(1) as f64)
        } else {
            mse
        }
    }

    /// Solves the normal equations in one step.
    pub fn fit_closed_form(&mut self, batch: &Batch) -> Result<StepRecord, FitError> {
        let Targets::Values(y) = &batch.targets else {
            unreachable!("checked at config time: linear regression has a numeric target")
        };
        let [n, d] = batch.x.dims();
        if n == 0 {
            return Err(FitError::Empty);
        }
        let device = batch.x.device();
        // Centring keeps the f32 Gram matrix well conditioned and leaves the intercept out of
        // the penalised system.
        let (xc, yc, x_mean, y_mean) = if self.params.fit_intercept {
            let x_mean = crate::linalg::mean_rows(batch.x.clone());
            let y_mean = crate::linalg::mean_rows(y.clone());
            (
                batch.x.clone() - x_mean.clone(),
                y.clone() - y_mean.clone(),
                read_f32(x_mean)?,
                read_f32(y_mean)?[0],
            )
        } else {
            (batch.x.clone(), y.clone(), Vec::new(), 0.0)
        };
        let xt = xc.clone().transpose();
        let gram = read_f32(xt.clone().matmul(xc))?;
        let xty = read_f32(xt.matmul(yc))?;

        let mut a: Vec<f64> = gram.iter().map(|v| *v as f64).collect();
        for i in 0..d {
            a[i * d + i] += self.params.l2;
        }
        let b: Vec<f64> = xty.iter().map(|v| *v as f64).collect();
        let (w, jitter) = solve_spd(&a, d, &b)?;

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
        let loss = read_f32(self.mse(batch))?[0] as f64;
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
            let record = model.fit_closed_form(&batch).unwrap();
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
            model.fit_closed_form(&batch).unwrap();
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
            assert_eq!(model.fit_method(), FitMethod::Gradient);
            model.linear.weight = Param::from_tensor(Tensor::from_data(
                TensorData::new(alloc::vec![1.0f32, 1.0], [2, 1]),
                device,
            ));
            let loss: f32 = model.loss(&batch, 8).into_scalar();
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
