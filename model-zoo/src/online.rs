//! Online (one row at a time) stochastic gradient descent, without std: how a microcontroller
//! trains a gradient-fitted model. burn-optim 0.22.1 needs std, so the update step is this
//! crate's own.

use alloc::vec::Vec;

use burn::module::{ModuleMapper, Param};
use burn::tensor::{Device, Gradients, Int, Tensor, TensorData};

use crate::data::{Batch, DataShape, Targets, Task, read_f32};
use crate::error::FitError;
use crate::estimator::{Estimator, OnDevice, fresh, seeded};

/// `p ← p − lr·∂loss/∂p` for every parameter that has a gradient.
pub struct SgdStep<'a> {
    /// The gradients of the step's loss.
    pub grads: &'a Gradients,
    /// The learning rate.
    pub lr: f64,
}

impl core::fmt::Debug for SgdStep<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SgdStep")
            .field("lr", &self.lr)
            .finish_non_exhaustive()
    }
}

impl ModuleMapper for SgdStep<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, tensor, mapper) = param.consume();
        let tensor = match tensor.grad(self.grads) {
            Some(grad) => (tensor.inner() - grad.mul_scalar(self.lr))
                .autodiff()
                .require_grad(),
            None => tensor,
        };
        Param::from_mapped_value(id, tensor, mapper)
    }
}

/// Rows for online training: scaled features (row-major) and a target per row (a value, or a
/// class index stored as `f32`).
#[derive(Clone, Debug)]
pub struct Rows<'a> {
    /// `len × n_features` scaled features, row-major.
    pub x: &'a [f32],
    /// One target per row.
    pub y: &'a [f32],
    /// Features per row.
    pub n_features: usize,
    /// Whether `y` holds values or class indices.
    pub task: Task,
}

impl Rows<'_> {
    /// The number of rows.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// All rows as one batch, on `device`.
    fn all(&self, device: &Device) -> Batch {
        let (n, d) = (self.len(), self.n_features);
        let x = Tensor::from_data(TensorData::new(self.x.to_vec(), [n, d]), device);
        let targets = match self.task {
            Task::Regression => Targets::Values(Tensor::from_data(
                TensorData::new(self.y.to_vec(), [n, 1]),
                device,
            )),
            Task::Classification { .. } => {
                let classes: Vec<i64> = self.y.iter().map(|&c| c as i64).collect();
                Targets::Classes(Tensor::<1, Int>::from_data(
                    TensorData::new(classes, [n]),
                    device,
                ))
            }
        };
        Batch { x, targets }
    }

    /// Row `i` as a batch of one, on `device`.
    fn batch(&self, i: usize, device: &Device) -> Batch {
        let d = self.n_features;
        Rows {
            x: &self.x[i * d..(i + 1) * d],
            y: &self.y[i..i + 1],
            ..*self
        }
        .all(device)
    }
}

/// The model's objective averaged over `rows`, computed one row at a time (on a
/// microcontroller a batched matmul would allocate a large scratch buffer). Runs on the model's
/// copy without autodiff: forward passes on an autodiff device that are never backwarded keep
/// their graph memory.
pub fn mean_loss<M: Estimator>(
    model: &M,
    rows: &Rows<'_>,
    device: &Device,
) -> Result<f64, FitError> {
    let (model, device) = (model.valid(), device.clone().inner());
    let mut total = 0.0;
    for i in 0..rows.len() {
        total += read_f32(model.loss(&rows.batch(i, &device), rows.len())?)?[0] as f64;
    }
    Ok(total / rows.len().max(1) as f64)
}

/// Passes over the rows when training on the device.
pub const EPOCHS: usize = crate::estimator::ON_DEVICE_EPOCHS;
/// Online SGD learning rate when training on the device.
pub const LEARNING_RATE: f64 = crate::estimator::ON_DEVICE_LEARNING_RATE;

/// A model trained on the device, with its mean loss before and after.
#[derive(Debug)]
pub struct Trained<M> {
    /// The trained model, without autodiff.
    pub model: M,
    /// The objective of the fresh model.
    pub before: f64,
    /// The objective of the trained model.
    pub after: f64,
}

/// Trains a fresh model of `config` on `rows` the way a microcontroller does, as the model's
/// [`Estimator::on_device`] says: gradient-fitted models by [`EPOCHS`] of online SGD (one row
/// at a time, so no batched matmul allocates a large scratch buffer) at [`LEARNING_RATE`] from
/// a start drawn from the device seeded with [`ONLINE_SEED`]; iterative models by their own
/// steps to convergence on all rows (k-means online, a mixture by EM from one k-means start, a
/// kernel SVM by SMO, a Gaussian process by L-BFGS), reporting [`Estimator::objective`] of the
/// fresh and the fitted model. The host runs the same function to check the device.
pub fn train<M: Estimator>(
    config: &M::Config,
    shape: &DataShape,
    rows: &Rows<'_>,
    device: &Device,
) -> Result<Trained<M>, FitError> {
    if let OnDevice::Steps(config) = M::on_device(config, &M::check(config, shape)?) {
        let mut model: M = fresh(&M::check(&config, shape)?, device);
        let mut batch = rows.all(device);
        let before = model.objective(&batch, rows.len())?;
        while !model.fit_step(&mut batch)?.converged {}
        let after = model.objective(&batch, rows.len())?;
        return Ok(Trained {
            before,
            after,
            model,
        });
    }
    let autodiff = device.clone().autodiff();
    // A random start (an MLP's) is drawn from a seeded device RNG, so the host can check the
    // device's training step for step.
    let params = M::check(config, shape)?;
    let fresh: M = seeded(&autodiff, ONLINE_SEED, || fresh(&params, &autodiff));
    let before = mean_loss(&fresh, rows, &autodiff)?;
    let (model, losses) = fit_online(fresh, rows, EPOCHS, LEARNING_RATE, &autodiff)?;
    let after = losses.last().copied().unwrap_or(before);
    Ok(Trained {
        model: model.valid(),
        before,
        after,
    })
}

/// The device RNG's seed for [`train`]'s fresh model.
pub const ONLINE_SEED: u64 = 0;

/// `epochs` passes of one SGD step per row, in row order. `model` must live on an autodiff
/// device (`device`). Returns the trained model and the mean loss after each epoch.
pub fn fit_online<M: Estimator>(
    mut model: M,
    rows: &Rows<'_>,
    epochs: usize,
    lr: f64,
    device: &Device,
) -> Result<(M, Vec<f64>), FitError> {
    let mut losses = Vec::with_capacity(epochs);
    for _ in 0..epochs {
        for i in 0..rows.len() {
            let loss = model.loss(&rows.batch(i, device), rows.len())?;
            let grads = loss.backward();
            model = model.map(&mut SgdStep { grads: &grads, lr });
        }
        losses.push(mean_loss(&model, rows, device)?);
    }
    Ok((model, losses))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::for_each_device;

    #[test]
    #[cfg(feature = "linear-regression")]
    fn online_sgd_recovers_a_line() {
        use crate::linear_regression::{LinearRegression, LinearRegressionConfig, LinearSolver};
        // y = 2 x0 − x1 + 1, 16 rows.
        let x: Vec<f32> = (0..32).map(|i| ((i * 7 % 11) as f32 - 5.0) / 3.0).collect();
        let y: Vec<f32> = x.chunks(2).map(|r| 2.0 * r[0] - r[1] + 1.0).collect();
        let rows = Rows {
            x: &x,
            y: &y,
            n_features: 2,
            task: Task::Regression,
        };
        for_each_device(|device| {
            let ad = device.clone().autodiff();
            let shape = DataShape {
                n_features: 2,
                task: Task::Regression,
            };
            let config = LinearRegressionConfig {
                solver: LinearSolver::Sgd,
                ..Default::default()
            };
            let model: LinearRegression = fresh(&config.check(&shape).unwrap(), &ad);
            let before = mean_loss(&model, &rows, &ad).unwrap();
            let (model, losses) = fit_online(model, &rows, 30, 0.05, &ad).unwrap();
            assert!(
                *losses.last().unwrap() < 1e-6 && before > 1.0,
                "{before} → {losses:?}"
            );
            let (w, b) = model.coefficients().unwrap();
            assert!(
                (w[0] - 2.0).abs() < 1e-3 && (w[1] + 1.0).abs() < 1e-3 && (b - 1.0).abs() < 1e-3,
                "{w:?} {b}"
            );
        });
    }
}
