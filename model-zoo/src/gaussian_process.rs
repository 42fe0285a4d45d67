//! Gaussian-process regression (scikit-learn's `GaussianProcessRegressor`): exact inference
//! with a kernel built from RBF, Matern, dot-product, white-noise and constant kernels
//! ([`crate::gp_kernel`]), hyperparameters fitted by maximising the log marginal likelihood.
//!
//! Everything of size `n²` or `n³` runs on the device: the kernel matrix, its blocked Cholesky
//! factorisation and the inverse of the factor ([`crate::linalg::cholesky_inverse`]), and the
//! gradient of the log marginal likelihood, `½ tr((ααᵀ − K⁻¹) ∂K/∂θ)`, whose `∂K/∂θ` part is
//! taken by autodiff through the kernel (the bracket is a constant of the backward pass). The
//! optimiser is a bounded L-BFGS over the log hyperparameters on the host
//! ([`crate::lbfgs`]); one iterative-fit step is one of its iterations, so progress,
//! checkpoints and resume work as for every model. A kernel matrix that is not positive
//! definite is retried with a growing jitter on its diagonal, and the step reports it.
//!
//! The fitted model keeps the training rows, `α = K⁻¹y` and `L⁻¹`, so a prediction is two
//! matmuls: the mean `k*·α` and the variance `k(x, x) − ‖L⁻¹k*‖²`.
//!
//! Precision: the device works in f32, so the kernel matrix's condition number bounds what
//! the fit can resolve. Up to about 1e5 (signal variance over noise level, times n) the
//! hyperparameters match scikit-learn's f64 fit within 1e-2 (the 5-D test set: 6e4). Far
//! beyond, the log marginal likelihood carries f32 noise: on Friedman #1 with five length
//! scales (condition 1.7e7 at scikit-learn's optimum, the noise 5e-5 of the diagonal) the fit
//! on flex stopped at signal variance 323 against scikit-learn's 709, reporting a log marginal
//! likelihood of 114.77 against the true optimum's 114.37 (measured while this model was
//! written). A larger `alpha` or a `WhiteKernel` held further from 0 keeps K resolvable.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::data::{Batch, DataShape, Targets, read_f32};
use crate::error::{ConfigError, FitError, check_at_least_one, check_non_negative};
use crate::estimator::{Estimator, Output, Supervision, state_from_json, state_to_json};
use crate::fit::{FitMethod, Prediction, Rows, StepRecord};
use crate::gp_kernel::{BOUNDS, Kernel};
use crate::lbfgs::{Lbfgs, Stopping};
use crate::linalg::SumAll;
use crate::metrics::Metrics;

const NAME: &str = "gaussian_process";

/// Training rows at most: a fit holds several `n × n` matrices on the device at once.
pub const MAX_TRAINING_ROWS: usize = 16_384;

/// Rows predicted per batch, so the `[rows, n]` cross-kernel stays small.
const PREDICT_CHUNK: usize = 4_096;

/// Jitter tries after a failed factorisation: 1e-6, 1e-5, ... 1e-1 times the mean diagonal.
const JITTER_TRIES: i32 = 6;

/// `[model]` keys of `kind = "gaussian_process"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GaussianProcessConfig {
    /// The kernel in scikit-learn's notation, its values the starting hyperparameters
    /// (default `"1.0 * RBF(1.0) + WhiteKernel(0.1)"`).
    pub kernel: String,
    /// Added to the kernel matrix's diagonal (default 1e-10, scikit-learn's `alpha`).
    pub alpha: f64,
    /// Fit on the target standardised by its mean and std, predictions scaled back (default
    /// false).
    pub normalize_y: bool,
    /// Fit the hyperparameters by maximising the log marginal likelihood (default true);
    /// `false` keeps the kernel's values.
    pub optimize: bool,
    /// L-BFGS iterations at most (default 1000).
    pub max_iter: usize,
    /// Stop when no entry of the projected gradient exceeds `gtol` (default 1e-5).
    pub gtol: f64,
    /// Stop when an iteration lowers the negative log marginal likelihood by less than `ftol`
    /// relative (default 2.2e-9, L-BFGS-B's `factr = 1e7` times machine epsilon).
    pub ftol: f64,
}

impl Default for GaussianProcessConfig {
    fn default() -> Self {
        Self {
            kernel: "1.0 * RBF(1.0) + WhiteKernel(0.1)".into(),
            alpha: 1e-10,
            normalize_y: false,
            optimize: true,
            max_iter: 1000,
            gtol: 1e-5,
            ftol: 1e7 * f64::EPSILON,
        }
    }
}

/// Checked parameters of a Gaussian process.
#[derive(Clone, Debug, PartialEq)]
pub struct GaussianProcessParams {
    /// The parsed kernel, its hyperparameters the starting values (the fitted ones are in
    /// [`GaussianProcess::theta`]).
    pub kernel: Kernel,
    /// Added to the kernel matrix's diagonal (scikit-learn's `alpha`).
    pub alpha: f64,
    /// Whether the target is standardised before fitting.
    pub normalize_y: bool,
    /// Whether the hyperparameters are fitted.
    pub optimize: bool,
    /// When L-BFGS stops.
    pub stopping: Stopping,
    /// Number of feature columns.
    pub n_features: usize,
}

impl GaussianProcessConfig {
    /// Validates the config: a numeric target, a kernel that parses and fits the features.
    pub fn check(&self, shape: &DataShape) -> Result<GaussianProcessParams, ConfigError> {
        if let crate::data::Task::Classification { .. } = shape.task {
            return Err(ConfigError::NeedsNumericTarget { model: NAME });
        }
        let kernel = Kernel::parse(&self.kernel)
            .and_then(|k| k.check(shape.n_features).map(|()| k))
            .map_err(|message| ConfigError::Invalid {
                key: "kernel",
                message,
            })?;
        Ok(GaussianProcessParams {
            kernel,
            alpha: check_non_negative("alpha", self.alpha)?,
            normalize_y: self.normalize_y,
            optimize: self.optimize,
            stopping: Stopping {
                gtol: check_non_negative("gtol", self.gtol)?,
                ftol: check_non_negative("ftol", self.ftol)?,
                max_iter: check_at_least_one("max_iter", self.max_iter)?,
            },
            n_features: shape.n_features,
        })
    }
}

impl GaussianProcessParams {
    /// The log hyperparameters the fit starts from: the kernel's values.
    fn initial_theta(&self) -> Vec<f64> {
        self.kernel
            .hyperparameters()
            .iter()
            .map(|v| num_traits::Float::ln(*v))
            .collect()
    }
}

/// The fit's progress for a checkpoint: the optimiser's state (none before the first step).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GaussianProcessState {
    optimizer: Option<Lbfgs>,
}

/// What one evaluation of the objective leaves for predictions.
struct Posterior {
    /// `K⁻¹y`, `[n, 1]`.
    alpha: Tensor<2>,
    /// `L⁻¹`, `[n, n]`.
    cholesky_inverse: Tensor<2>,
    /// Jitter the factorisation needed (0 if none).
    jitter: f64,
}

/// A Gaussian process fitted to `n` training rows.
#[derive(Module, Debug)]
pub struct GaussianProcess {
    /// The training rows, `[n, d]`.
    pub x_train: Param<Tensor<2>>,
    /// `K⁻¹y` on the (normalised) target, `[n, 1]`.
    pub alpha: Param<Tensor<2>>,
    /// The inverse of the kernel matrix's lower Cholesky factor, `[n, n]`.
    pub cholesky_inverse: Param<Tensor<2>>,
    /// The log hyperparameters (scikit-learn's `kernel_.theta`), `[p]`.
    pub theta: Param<Tensor<1>>,
    /// The target's mean and std, `[2]` (0 and 1 unless `normalize_y`).
    pub target_scale: Param<Tensor<1>>,
    /// The checked parameters it was built with.
    #[module(skip)]
    pub params: GaussianProcessParams,
    #[module(skip)]
    progress: Box<GaussianProcessState>,
}

/// `[mean, std]` of the target when normalising, else `[0, 1]` (scikit-learn: a zero std
/// counts as 1).
fn target_scale(y: &Tensor<2>, normalize: bool) -> Result<[f64; 2], FitError> {
    if !normalize {
        return Ok([0.0, 1.0]);
    }
    let values = read_f32(y.clone())?;
    let n = values.len().max(1) as f64;
    let mean = values.iter().map(|v| *v as f64).sum::<f64>() / n;
    let variance = values
        .iter()
        .map(|v| (*v as f64 - mean) * (*v as f64 - mean))
        .sum::<f64>()
        / n;
    let std = num_traits::Float::sqrt(variance);
    Ok([mean, if std > 0.0 { std } else { 1.0 }])
}

fn host_tensor(values: &[f64], device: &Device) -> Tensor<1> {
    let values: Vec<f32> = values.iter().map(|v| *v as f32).collect();
    let n = values.len();
    Tensor::from_data(TensorData::new(values, [n]), device)
}

impl GaussianProcess {
    /// An unfitted process: one zero training row, the kernel's starting hyperparameters.
    pub fn new(params: GaussianProcessParams, device: &Device) -> Self {
        Self::with_rows(params, 1, device)
    }

    /// An unfitted process with room for `n` training rows, to load saved weights into.
    pub fn with_rows(params: GaussianProcessParams, n: usize, device: &Device) -> Self {
        let theta = params.initial_theta();
        Self {
            x_train: Param::from_tensor(Tensor::zeros([n, params.n_features], device)),
            alpha: Param::from_tensor(Tensor::zeros([n, 1], device)),
            cholesky_inverse: Param::from_tensor(Tensor::zeros([n, n], device)),
            theta: Param::from_tensor(host_tensor(&theta, device)),
            target_scale: Param::from_tensor(host_tensor(&[0.0, 1.0], device)),
            params,
            progress: Box::default(),
        }
    }

    /// Number of training rows the model holds.
    pub fn n_train(&self) -> usize {
        self.x_train.dims()[0]
    }

    /// The kernel with its fitted hyperparameters.
    pub fn fitted_kernel(&self) -> Result<Kernel, FitError> {
        let theta = read_f32(self.theta.val())?;
        let values: Vec<f64> = theta
            .iter()
            .map(|t| num_traits::Float::exp(*t as f64))
            .collect();
        Ok(self.params.kernel.with_hyperparameters(&values))
    }

    /// The predictive mean and standard deviation of each row of `x`, `[n, 1]` each, on the
    /// target's scale.
    pub fn predict_distribution(&self, x: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let values = self.theta.val().exp();
        let train = self.x_train.val();
        let centre = crate::linalg::mean_rows(train.clone());
        let scale = self.target_scale.val();
        let (y_mean, y_std) = (
            scale.clone().narrow(0, 0, 1).reshape([1, 1]),
            scale.narrow(0, 1, 1).reshape([1, 1]),
        );
        let [n, _] = x.dims();
        let (means, stds): (Vec<_>, Vec<_>) = (0..n.max(1))
            .step_by(PREDICT_CHUNK)
            .map(|begin| {
                let rows = x.clone().narrow(0, begin, PREDICT_CHUNK.min(n - begin));
                let kernel = &self.params.kernel;
                let cross = kernel.matrix(&values, &rows, Some(&train), &centre); // [m, n]
                let mean = crate::linalg::matmul(cross.clone(), self.alpha.val());
                let projected =
                    crate::linalg::matmul(cross, self.cholesky_inverse.val().transpose());
                let variance = (kernel.diagonal(&values, &rows) - projected.square().sum_dim(1))
                    .clamp_min(0.0);
                (
                    mean * y_std.clone() + y_mean.clone(),
                    variance.sqrt() * y_std.clone(),
                )
            })
            .unzip();
        (Tensor::cat(means, 0), Tensor::cat(stds, 0))
    }

    /// The mean log predictive density of `batch`'s targets, `mean log N(y | μ(x), σ²(x))`.
    pub fn log_predictive_density(&self, batch: &Batch) -> Result<f64, FitError> {
        let Targets::Values(y) = &batch.targets else {
            return Err(ConfigError::NeedsNumericTarget { model: NAME }.into());
        };
        let (mean, std) = self.predict_distribution(batch.x.clone());
        Ok(crate::metrics::log_predictive_density(
            &read_f32(mean)?,
            &read_f32(std)?,
            &read_f32(y.clone())?,
        ))
    }

    /// The log marginal likelihood of `batch` under the fitted hyperparameters (of the
    /// normalised target when `normalize_y`, as scikit-learn's).
    pub fn log_marginal_likelihood(&self, batch: &Batch) -> Result<f64, FitError> {
        let (x, y, _) = self.training_data(batch)?;
        let theta: Vec<f64> = read_f32(self.theta.val())?
            .iter()
            .map(|t| *t as f64)
            .collect();
        let (value, _, _) = self
            .evaluate(&theta, &x, &y, false)?
            .ok_or(FitError::NotPositiveDefinite)?;
        Ok(-value)
    }

    /// The fit's progress (the fitted parameters are the module).
    pub fn state(&self) -> GaussianProcessState {
        (*self.progress).clone()
    }

    /// Puts back what [`GaussianProcess::state`] gave.
    pub fn restore(&mut self, state: GaussianProcessState) {
        *self.progress = state;
    }

    /// The rows of `batch`, its normalised target and the target's `[mean, std]`.
    fn training_data(&self, batch: &Batch) -> Result<(Tensor<2>, Tensor<2>, [f64; 2]), FitError> {
        let Targets::Values(y) = &batch.targets else {
            return Err(ConfigError::NeedsNumericTarget { model: NAME }.into());
        };
        let scale = target_scale(y, self.params.normalize_y)?;
        let normalised = y.clone().sub_scalar(scale[0]).div_scalar(scale[1]);
        Ok((batch.x.clone(), normalised, scale))
    }

    /// One step: the first evaluates the starting hyperparameters, each later one is an
    /// L-BFGS iteration.
    pub fn optimize_step(&mut self, data: &Batch) -> Result<StepRecord, FitError> {
        let n = data.len();
        if n == 0 {
            return Err(FitError::Empty);
        }
        if n > MAX_TRAINING_ROWS {
            return Err(FitError::TooManyRows {
                model: NAME,
                rows: n,
                max: MAX_TRAINING_ROWS,
            });
        }
        let (x, y, scale) = self.training_data(data)?;
        let optimize = self.params.optimize;
        let (optimizer, jitter) = match self.progress.optimizer.take() {
            None => {
                let theta = self.params.initial_theta();
                let (value, gradient, posterior) = self
                    .evaluate(&theta, &x, &y, optimize)?
                    .ok_or(FitError::NotPositiveDefinite)?;
                let jitter = posterior.jitter;
                let p = theta.len();
                let (lower, upper) = (
                    alloc::vec![num_traits::Float::ln(BOUNDS.0); p],
                    alloc::vec![num_traits::Float::ln(BOUNDS.1); p],
                );
                let mut optimizer = Lbfgs::new(theta, value, gradient, lower, upper);
                optimizer.converged = !optimize;
                self.keep(&x, scale, &optimizer.x, posterior);
                (optimizer, jitter)
            }
            Some(mut optimizer) => {
                let accepted = optimizer.step(self.params.stopping, |theta| {
                    self.evaluate(theta, &x, &y, true)
                })?;
                let jitter = accepted.as_ref().map_or(0.0, |p| p.jitter);
                if let Some(posterior) = accepted {
                    self.keep(&x, scale, &optimizer.x, posterior);
                }
                (optimizer, jitter)
            }
        };
        let record = StepRecord {
            loss: optimizer.value / n as f64,
            converged: optimizer.converged,
            jitter,
        };
        self.progress.optimizer = Some(optimizer);
        Ok(record)
    }

    /// Makes the evaluation at `theta` the model's, keeping the parameters' ids (saved with
    /// the weights, so a resumed fit writes the same bytes as one never stopped).
    fn keep(&mut self, x: &Tensor<2>, scale: [f64; 2], theta: &[f64], posterior: Posterior) {
        let device = x.device();
        self.x_train = Param::initialized(self.x_train.id, x.clone());
        self.alpha = Param::initialized(self.alpha.id, posterior.alpha);
        self.cholesky_inverse =
            Param::initialized(self.cholesky_inverse.id, posterior.cholesky_inverse);
        self.theta = Param::initialized(self.theta.id, host_tensor(theta, &device));
        self.target_scale = Param::initialized(self.target_scale.id, host_tensor(&scale, &device));
    }

    /// The negative log marginal likelihood at the log hyperparameters `theta`, its gradient
    /// (zeros unless `with_gradient`) and the posterior; `None` when the kernel matrix is not
    /// positive definite even with jitter.
    fn evaluate(
        &self,
        theta: &[f64],
        x: &Tensor<2>,
        y: &Tensor<2>,
        with_gradient: bool,
    ) -> Result<Option<(f64, Vec<f64>, Posterior)>, FitError> {
        let device = x.device();
        let n = x.dims()[0];
        let values = host_tensor(theta, &device).exp();
        let centre = crate::linalg::mean_rows(x.clone());
        let kernel = self.params.kernel.matrix(&values, x, None, &centre)
            + Tensor::<2>::eye(n, &device).mul_scalar(self.params.alpha);
        let Some((factor, jitter)) = factorise(kernel)? else {
            return Ok(None);
        };
        let matmul = crate::linalg::matmul;
        let whitened = matmul(factor.inverse.clone(), y.clone()); // L⁻¹y
        let fit = read_f32(whitened.clone().square().sum_all())?[0] as f64; // yᵀK⁻¹y
        let log_2pi = num_traits::Float::ln(2.0 * core::f64::consts::PI);
        let value = 0.5 * fit + 0.5 * factor.log_det + 0.5 * n as f64 * log_2pi;
        let alpha = matmul(factor.inverse.clone().transpose(), whitened);
        let gradient = if with_gradient {
            self.gradient(theta, x, &centre, &alpha, &factor.inverse)?
        } else {
            alloc::vec![0.0; theta.len()]
        };
        Ok(Some((
            value,
            gradient,
            Posterior {
                alpha,
                cholesky_inverse: factor.inverse,
                jitter,
            },
        )))
    }

    /// `∂(−log p(y|θ))/∂θ = −½ tr((ααᵀ − K⁻¹) ∂K/∂θ)`: the bracket is computed once, and
    /// `∂K/∂θ` by autodiff through the kernel, as the gradient of `½ Σ (ααᵀ − K⁻¹) ⊙ K(θ)`.
    #[cfg(feature = "autodiff")]
    fn gradient(
        &self,
        theta: &[f64],
        x: &Tensor<2>,
        centre: &Tensor<2>,
        alpha: &Tensor<2>,
        cholesky_inverse: &Tensor<2>,
    ) -> Result<Vec<f64>, FitError> {
        let matmul = crate::linalg::matmul;
        let weights = matmul(alpha.clone(), alpha.clone().transpose())
            - matmul(
                cholesky_inverse.clone().transpose(),
                cholesky_inverse.clone(),
            );
        let theta = host_tensor(theta, &x.device().autodiff()).require_grad();
        let kernel = self.params.kernel.matrix(
            &theta.clone().exp(),
            &x.clone().autodiff(),
            None,
            &centre.clone().autodiff(),
        );
        let surrogate = (kernel * weights.autodiff()).sum_all().mul_scalar(0.5);
        let grads = surrogate.backward();
        let gradient = theta
            .grad(&grads)
            .ok_or_else(|| FitError::Device("the kernel has no gradient".into()))?;
        Ok(read_f32(gradient)?.iter().map(|g| -(*g as f64)).collect())
    }

    #[cfg(not(feature = "autodiff"))]
    fn gradient(
        &self,
        _: &[f64],
        _: &Tensor<2>,
        _: &Tensor<2>,
        _: &Tensor<2>,
        _: &Tensor<2>,
    ) -> Result<Vec<f64>, FitError> {
        Err(FitError::WrongMethod {
            model: NAME,
            method: "hyperparameter optimisation in a build without the `autodiff` feature",
        })
    }
}

/// [`crate::linalg::cholesky_inverse`] of `kernel`, retried with a growing jitter on the
/// diagonal when it is not positive definite. Returns the factor and the jitter used.
fn factorise(kernel: Tensor<2>) -> Result<Option<(crate::linalg::CholeskyInverse, f64)>, FitError> {
    if let Some(factor) = crate::linalg::cholesky_inverse(kernel.clone())? {
        return Ok(Some((factor, 0.0)));
    }
    let n = kernel.dims()[0];
    let eye = Tensor::<2>::eye(n, &kernel.device());
    let trace = read_f32((kernel.clone() * eye.clone()).sum_all())?[0] as f64;
    let mean_diagonal = (trace / n as f64).abs().max(f64::MIN_POSITIVE);
    for attempt in 0..JITTER_TRIES {
        let jitter = mean_diagonal * 1e-6 * num_traits::Float::powi(10.0, attempt);
        let jittered = kernel.clone() + eye.clone().mul_scalar(jitter);
        if let Some(factor) = crate::linalg::cholesky_inverse(jittered)? {
            return Ok(Some((factor, jitter)));
        }
    }
    Ok(None)
}

impl Estimator for GaussianProcess {
    type Config = GaussianProcessConfig;
    type Params = GaussianProcessParams;
    const KINDS: &'static [&'static str] = &[NAME];

    fn supervision(_: &GaussianProcessConfig) -> Supervision {
        Supervision::Values
    }

    fn check(
        config: &GaussianProcessConfig,
        shape: &DataShape,
    ) -> Result<GaussianProcessParams, ConfigError> {
        config.check(shape)
    }

    fn fit_method(_: &GaussianProcessParams) -> FitMethod {
        FitMethod::Iterative
    }

    fn output(_: &GaussianProcessParams) -> Output {
        Output::Gaussian
    }

    /// From 2,000 rows on: each step factorises and inverts an `n × n` kernel matrix.
    fn cost_note(_: &GaussianProcessParams, n_rows: usize) -> Option<String> {
        (n_rows >= 2_000).then(|| {
            let n = n_rows as f64;
            alloc::format!(
                "a Gaussian process on {n_rows} rows holds {:.1} GB of {n_rows} × {n_rows} \
                 matrices on the device and does ~{:.0} GFLOP per step (cubic in the rows); \
                 expect minutes, and fewer rows (a sample) to go faster",
                4.0 * 4.0 * n * n / 1e9,
                2.0 * n * n * n / 1e9
            )
        })
    }

    fn init(params: &GaussianProcessParams, device: &Device) -> Self {
        Self::new(params.clone(), device)
    }

    /// A process with room for the training rows the weights hold.
    fn shaped_for(
        params: &GaussianProcessParams,
        weights: &[u8],
        device: &Device,
    ) -> Result<Self, burn::store::RecordError> {
        let n_train = crate::estimator::stored_rows(weights, "x_train")?;
        Ok(Self::with_rows(params.clone(), n_train, device))
    }

    fn predict(&self, x: Tensor<2>) -> Prediction {
        let (mean, std) = self.predict_distribution(x);
        Prediction::Gaussian(Tensor::cat(alloc::vec![mean, std], 1))
    }

    /// The kernel matrix takes every row at once.
    fn fit_step(&mut self, rows: &mut dyn Rows) -> Result<StepRecord, FitError> {
        let data = rows.all()?;
        self.optimize_step(&data)
    }

    /// The negative mean log predictive density.
    fn objective(&self, batch: &Batch, _n_train: usize) -> Result<f64, FitError> {
        Ok(-self.log_predictive_density(batch)?)
    }

    /// The log marginal likelihood of the rows under the fitted hyperparameters.
    fn add_final_metrics(&self, batch: &Batch, metrics: &mut Metrics) -> Result<(), FitError> {
        metrics.insert(
            "log_marginal_likelihood".into(),
            self.log_marginal_likelihood(batch)?,
        );
        Ok(())
    }

    /// The fitted kernel, in the notation a config takes.
    fn describe(&self) -> Result<Option<String>, FitError> {
        Ok(Some(alloc::format!("kernel {}", self.fitted_kernel()?)))
    }

    fn fit_state(&self) -> Result<Option<serde_json::Value>, FitError> {
        state_to_json(&self.state())
    }

    fn restore_fit_state(&mut self, state: serde_json::Value) -> Result<(), FitError> {
        self.restore(state_from_json(state)?);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Task;
    use crate::testing::{for_each_device, regression_batch};

    /// Rows of a shipped CSV whose last column is the target.
    fn csv(text: &str) -> (Vec<f32>, Vec<f32>, usize) {
        let mut lines = text.lines();
        let width = lines.next().unwrap().split(',').count();
        let (mut x, mut y) = (Vec::new(), Vec::new());
        for line in lines {
            let values: Vec<f32> = line.split(',').map(|v| v.parse().unwrap()).collect();
            x.extend_from_slice(&values[..width - 1]);
            y.push(values[width - 1]);
        }
        (x, y, width - 1)
    }

    fn fit(
        config: GaussianProcessConfig,
        train: &str,
        device: &Device,
    ) -> (GaussianProcess, Batch) {
        let (x, y, d) = csv(train);
        let shape = DataShape {
            n_features: d,
            task: Task::Regression,
        };
        let batch = regression_batch(&x, &y, d, device);
        let mut model = GaussianProcess::new(config.check(&shape).unwrap(), device);
        for _ in 0..1000 {
            if model.optimize_step(&batch).unwrap().converged {
                return (model, batch);
            }
        }
        panic!("the fit did not converge");
    }

    fn rmse(model: &GaussianProcess, test: &str, device: &Device) -> f64 {
        let (x, y, d) = csv(test);
        let batch = regression_batch(&x, &y, d, device);
        let (mean, _) = model.predict_distribution(batch.x);
        let mean = read_f32(mean).unwrap();
        num_traits::Float::sqrt(crate::metrics::mse(&mean, &y))
    }

    /// A scikit-learn fit to compare with.
    struct Reference {
        train: &'static str,
        test: &'static str,
        kernel: &'static str,
        normalize_y: bool,
        hyperparameters: &'static [f64],
        log_marginal_likelihood: f64,
        rmse: f64,
    }

    // Reference: scikit-learn 1.9.1's `GaussianProcessRegressor(kernel, alpha=1e-10,
    // normalize_y)` fitted by L-BFGS-B from the kernel's values
    // (`python3 benches/peers/gp_reference.py`): hyperparameters (`exp(kernel_.theta)`), log
    // marginal likelihood, RMSE of the predictive mean on the test file.
    const SINE_RBF: Reference = Reference {
        train: include_str!("../../examples/data/sine-train.csv"),
        test: include_str!("../../examples/data/sine-test.csv"),
        kernel: "1.0 * RBF(1.0) + WhiteKernel(0.1)",
        normalize_y: false,
        hyperparameters: &[0.474_926_7, 1.177_283_24, 0.082_773_95],
        log_marginal_likelihood: -54.574_319_67,
        rmse: 0.313_935,
    };
    const SINE_MATERN: Reference = Reference {
        kernel: "1.0 * Matern(1.0, nu=2.5) + WhiteKernel(0.1)",
        hyperparameters: &[0.686_451_25, 1.882_380_64, 0.082_300_07],
        log_marginal_likelihood: -55.361_523_49,
        rmse: 0.314_973,
        ..SINE_RBF
    };
    const WAVES: Reference = Reference {
        train: include_str!("../../examples/data/waves-train.csv"),
        test: include_str!("../../examples/data/waves-test.csv"),
        kernel: "1.0 * RBF([1, 1, 1, 1, 1]) + WhiteKernel(0.1)",
        normalize_y: true,
        hyperparameters: &[
            3.355_700_23,
            1.511_677_82,
            2.029_731_05,
            1.586_792_87,
            1.595_637_55,
            1.206_787_07,
            0.007_991_34,
        ],
        log_marginal_likelihood: -119.034_241_46,
        rmse: 0.216_585,
    };

    /// The fitted hyperparameters and log marginal likelihood within 1e-2 relative of
    /// scikit-learn's, the test RMSE no worse (up to f32 rounding, 1e-3 relative).
    fn check(reference: &Reference, device: &Device) {
        let config = GaussianProcessConfig {
            kernel: reference.kernel.into(),
            normalize_y: reference.normalize_y,
            ..Default::default()
        };
        let (model, batch) = fit(config, reference.train, device);
        let kernel = model.fitted_kernel().unwrap();
        for (got, want) in kernel
            .hyperparameters()
            .iter()
            .zip(reference.hyperparameters)
        {
            assert!(
                (got - want).abs() <= 1e-2 * want,
                "{device:?}: fitted {kernel}, scikit-learn {:?}",
                reference.hyperparameters
            );
        }
        let lml = model.log_marginal_likelihood(&batch).unwrap();
        let want = reference.log_marginal_likelihood;
        assert!(
            (lml - want).abs() <= 1e-2 * want.abs(),
            "{device:?}: log marginal likelihood {lml} vs {want}"
        );
        let rmse = rmse(&model, reference.test, device);
        assert!(
            rmse <= reference.rmse * 1.001,
            "{device:?}: test RMSE {rmse} vs {}",
            reference.rmse
        );
    }

    #[test]
    fn sine_matches_scikit_learn_on_every_backend() {
        for_each_device(|device| {
            check(&SINE_RBF, device);
            check(&SINE_MATERN, device);
        });
    }

    #[test]
    fn five_dimensions_match_scikit_learn_on_every_backend() {
        for_each_device(|device| {
            check(&WAVES, device);
        });
    }

    /// Duplicate rows and no noise term make the kernel matrix singular: the fit retries with
    /// jitter on the diagonal, reports it, and still interpolates the data.
    #[test]
    fn singular_kernel_matrices_get_jitter_and_say_so() {
        let x = [0.0, 1.0, 1.0, 2.0, 3.0, 3.0, 4.0];
        let y: Vec<f32> = x.iter().map(|v: &f32| v.sin()).collect();
        for_each_device(|device| {
            let shape = DataShape {
                n_features: 1,
                task: Task::Regression,
            };
            let config = GaussianProcessConfig {
                kernel: "RBF(1.0)".into(),
                alpha: 0.0,
                optimize: false,
                ..Default::default()
            };
            let mut model = GaussianProcess::new(config.check(&shape).unwrap(), device);
            let batch = regression_batch(&x, &y, 1, device);
            let record = model.optimize_step(&batch).unwrap();
            assert!(
                record.converged && record.jitter > 0.0,
                "{device:?}: {record:?}"
            );
            let (mean, _) = model.predict_distribution(batch.x.clone());
            for (got, want) in read_f32(mean).unwrap().iter().zip(&y) {
                assert!((got - want).abs() < 1e-2, "{device:?}: {got} vs {want}");
            }
        });
    }

    #[test]
    fn config_rules() {
        let shape = DataShape {
            n_features: 2,
            task: Task::Regression,
        };
        let check = |config: GaussianProcessConfig| config.check(&shape).unwrap_err();
        let error = check(GaussianProcessConfig {
            kernel: "RBF([1, 2, 3])".into(),
            ..Default::default()
        });
        assert_eq!(error.key(), Some("kernel"));
        assert!(error.to_string().contains("3 length scales"), "{error}");
        let error = check(GaussianProcessConfig {
            alpha: -1.0,
            ..Default::default()
        });
        assert_eq!(error.key(), Some("alpha"));
        let labels = DataShape {
            n_features: 2,
            task: Task::Classification { n_classes: 2 },
        };
        assert!(matches!(
            GaussianProcessConfig::default().check(&labels),
            Err(ConfigError::NeedsNumericTarget { .. })
        ));
    }
}
