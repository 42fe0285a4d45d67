//! Every model of the zoo behind one config type and one [`Module`], so the trainer drives them
//! all alike.

use burn::module::{Flag, Module, ModuleMapper, Param, ParamId};
use burn::store::{ModuleRecord, RecordError};
use burn::tensor::Bytes;
use burn::tensor::{Bool, Device, Int, Tensor};
use serde::{Deserialize, Serialize};

use crate::data::{Batch, DataShape, read_f32};
use crate::error::{ConfigError, FitError};
use crate::fit::{FitMethod, Prediction, StepRecord};
#[cfg(feature = "gaussian-process")]
use crate::gaussian_process::{GaussianProcess, GaussianProcessConfig, GaussianProcessParams};
#[cfg(feature = "glm")]
use crate::glm::{Glm, GlmConfig, GlmParams};
#[cfg(feature = "gmm")]
use crate::gmm::{Gmm, GmmConfig, GmmParams};
#[cfg(feature = "kernel-svm")]
use crate::kernel_svm::{KernelSvm, KernelSvmConfig, KernelSvmParams};
#[cfg(feature = "kmeans")]
use crate::kmeans::{KMeans, KMeansConfig, KMeansParams};
#[cfg(feature = "linear-regression")]
use crate::linear_regression::{
    LinearRegression, LinearRegressionConfig, LinearRegressionParams, LinearSolver,
};
#[cfg(feature = "linear-svm")]
use crate::linear_svm::{LinearSvm, LinearSvmConfig, LinearSvmParams};
#[cfg(feature = "logistic-regression")]
use crate::logistic_regression::{
    LogisticRegression, LogisticRegressionConfig, LogisticRegressionParams, LogisticSolver,
};
#[cfg(feature = "mlp")]
use crate::mlp::{Mlp, MlpConfig, MlpParams, MlpTask};

/// The `[model]` table of a config file: `kind` picks the model, the other keys are its own.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ModelConfig {
    #[cfg(feature = "linear-regression")]
    LinearRegression(LinearRegressionConfig),
    #[cfg(feature = "logistic-regression")]
    LogisticRegression(LogisticRegressionConfig),
    #[cfg(feature = "kmeans")]
    Kmeans(KMeansConfig),
    #[cfg(feature = "mlp")]
    Mlp(MlpConfig),
    #[cfg(feature = "linear-svm")]
    LinearSvm(LinearSvmConfig),
    #[cfg(feature = "glm")]
    Glm(GlmConfig),
    #[cfg(feature = "gmm")]
    Gmm(GmmConfig),
    #[cfg(feature = "kernel-svm")]
    KernelSvm(KernelSvmConfig),
    #[cfg(feature = "gaussian-process")]
    GaussianProcess(GaussianProcessConfig),
}

impl ModelConfig {
    /// Every `kind` a config may name.
    pub const KINDS: &'static [&'static str] = &[
        #[cfg(feature = "linear-regression")]
        "linear_regression",
        #[cfg(feature = "logistic-regression")]
        "logistic_regression",
        #[cfg(feature = "kmeans")]
        "kmeans",
        #[cfg(feature = "mlp")]
        "mlp",
        #[cfg(feature = "linear-svm")]
        "linear_svm",
        #[cfg(feature = "glm")]
        "glm",
        #[cfg(feature = "gmm")]
        "gmm",
        #[cfg(feature = "kernel-svm")]
        "kernel_svm",
        #[cfg(feature = "gaussian-process")]
        "gaussian_process",
    ];

    /// This config's `kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            #[cfg(feature = "linear-regression")]
            Self::LinearRegression(_) => "linear_regression",
            #[cfg(feature = "logistic-regression")]
            Self::LogisticRegression(_) => "logistic_regression",
            #[cfg(feature = "kmeans")]
            Self::Kmeans(_) => "kmeans",
            #[cfg(feature = "mlp")]
            Self::Mlp(_) => "mlp",
            #[cfg(feature = "linear-svm")]
            Self::LinearSvm(_) => "linear_svm",
            #[cfg(feature = "glm")]
            Self::Glm(_) => "glm",
            #[cfg(feature = "gmm")]
            Self::Gmm(_) => "gmm",
            #[cfg(feature = "kernel-svm")]
            Self::KernelSvm(_) => "kernel_svm",
            #[cfg(feature = "gaussian-process")]
            Self::GaussianProcess(_) => "gaussian_process",
        }
    }

    /// What the model needs from the `[data] target` column.
    pub fn supervision(&self) -> Supervision {
        match self {
            #[cfg(feature = "linear-regression")]
            Self::LinearRegression(_) => Supervision::Values,
            #[cfg(feature = "glm")]
            Self::Glm(_) => Supervision::Values,
            #[cfg(feature = "gaussian-process")]
            Self::GaussianProcess(_) => Supervision::Values,
            #[cfg(feature = "logistic-regression")]
            Self::LogisticRegression(_) => Supervision::Labels,
            #[cfg(feature = "linear-svm")]
            Self::LinearSvm(_) => Supervision::Labels,
            #[cfg(feature = "kernel-svm")]
            Self::KernelSvm(_) => Supervision::Labels,
            #[cfg(feature = "kmeans")]
            Self::Kmeans(_) => Supervision::None,
            #[cfg(feature = "gmm")]
            Self::Gmm(_) => Supervision::None,
            #[cfg(feature = "mlp")]
            Self::Mlp(c) => match c.task {
                MlpTask::Classification => Supervision::Labels,
                MlpTask::Regression => Supervision::Values,
            },
        }
    }

    /// Validates the config against the data it will be fitted on.
    pub fn check(&self, shape: &DataShape) -> Result<ModelSpec, ConfigError> {
        Ok(match self {
            #[cfg(feature = "linear-regression")]
            Self::LinearRegression(c) => ModelSpec::LinearRegression(c.check(shape)?),
            #[cfg(feature = "logistic-regression")]
            Self::LogisticRegression(c) => ModelSpec::LogisticRegression(c.check(shape)?),
            #[cfg(feature = "kmeans")]
            Self::Kmeans(c) => ModelSpec::KMeans(c.check(shape)?),
            #[cfg(feature = "mlp")]
            Self::Mlp(c) => ModelSpec::Mlp(c.check(shape)?),
            #[cfg(feature = "linear-svm")]
            Self::LinearSvm(c) => ModelSpec::LinearSvm(c.check(shape)?),
            #[cfg(feature = "glm")]
            Self::Glm(c) => ModelSpec::Glm(c.check(shape)?),
            #[cfg(feature = "gmm")]
            Self::Gmm(c) => ModelSpec::Gmm(c.check(shape)?),
            #[cfg(feature = "kernel-svm")]
            Self::KernelSvm(c) => ModelSpec::KernelSvm(c.check(shape)?),
            #[cfg(feature = "gaussian-process")]
            Self::GaussianProcess(c) => ModelSpec::GaussianProcess(c.check(shape)?),
        })
    }
}

/// What a model needs from the target column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Supervision {
    /// A numeric target (regression).
    Values,
    /// Class labels (classification).
    Labels,
    /// None (clustering); a label column, if given, only feeds metrics such as the adjusted
    /// Rand index.
    None,
}

/// A checked model config: everything needed to build the model.
#[derive(Clone, Debug, PartialEq)]
pub enum ModelSpec {
    #[cfg(feature = "linear-regression")]
    LinearRegression(LinearRegressionParams),
    #[cfg(feature = "logistic-regression")]
    LogisticRegression(LogisticRegressionParams),
    #[cfg(feature = "kmeans")]
    KMeans(KMeansParams),
    #[cfg(feature = "mlp")]
    Mlp(MlpParams),
    #[cfg(feature = "linear-svm")]
    LinearSvm(LinearSvmParams),
    #[cfg(feature = "glm")]
    Glm(GlmParams),
    #[cfg(feature = "gmm")]
    Gmm(GmmParams),
    #[cfg(feature = "kernel-svm")]
    KernelSvm(KernelSvmParams),
    #[cfg(feature = "gaussian-process")]
    GaussianProcess(GaussianProcessParams),
}

impl ModelSpec {
    /// A freshly initialised model on `device`, its parameters numbered 1, 2, ... in module
    /// order (see [`NumberParams`]).
    pub fn init(&self, device: &Device) -> Model {
        let model = match self {
            #[cfg(feature = "linear-regression")]
            Self::LinearRegression(p) => Model::LinearRegression(LinearRegression::new(*p, device)),
            #[cfg(feature = "logistic-regression")]
            Self::LogisticRegression(p) => {
                Model::LogisticRegression(LogisticRegression::new(*p, device))
            }
            #[cfg(feature = "kmeans")]
            Self::KMeans(p) => Model::KMeans(KMeans::new(*p, device)),
            #[cfg(feature = "mlp")]
            Self::Mlp(p) => Model::Mlp(Mlp::new(p.clone(), device)),
            #[cfg(feature = "linear-svm")]
            Self::LinearSvm(p) => Model::LinearSvm(LinearSvm::new(*p, device)),
            #[cfg(feature = "glm")]
            Self::Glm(p) => Model::Glm(Glm::new(*p, device)),
            #[cfg(feature = "gmm")]
            Self::Gmm(p) => Model::Gmm(Gmm::new(*p, device)),
            #[cfg(feature = "kernel-svm")]
            Self::KernelSvm(p) => Model::KernelSvm(KernelSvm::new(*p, device)),
            #[cfg(feature = "gaussian-process")]
            Self::GaussianProcess(p) => {
                Model::GaussianProcess(GaussianProcess::new(p.clone(), device))
            }
        };
        model.map(&mut NumberParams(0))
    }

    /// A model of this spec on `device` with the weights `weights` (burnpack bytes, as
    /// `into_record().into_bytes()` writes them). The rows a kernel model keeps (a kernel SVM's
    /// support vectors, a Gaussian process's training rows) are counted in the weights first,
    /// since they are only known once fitted.
    pub fn load(&self, weights: &[u8], device: &Device) -> Result<Model, RecordError> {
        let bytes = || Bytes::from_bytes_vec(weights.to_vec());
        let sized = match self {
            #[cfg(feature = "kernel-svm")]
            Self::KernelSvm(p) => {
                let n_support = stored_rows(bytes(), "support_vectors")?;
                Model::KernelSvm(KernelSvm::with_support(*p, n_support, device))
                    .map(&mut NumberParams(0))
            }
            #[cfg(feature = "gaussian-process")]
            Self::GaussianProcess(p) => {
                let n_train = stored_rows(bytes(), "x_train")?;
                Model::GaussianProcess(GaussianProcess::with_rows(p.clone(), n_train, device))
                    .map(&mut NumberParams(0))
            }
            _ => self.init(device),
        };
        sized.try_load_record(ModuleRecord::from_bytes(bytes())?)
    }

    /// How the model is fitted.
    pub fn fit_method(&self) -> FitMethod {
        match self {
            #[cfg(feature = "linear-regression")]
            Self::LinearRegression(p) => match p.solver {
                LinearSolver::ClosedForm => FitMethod::Iterative,
                LinearSolver::Sgd => FitMethod::Gradient,
            },
            #[cfg(feature = "logistic-regression")]
            Self::LogisticRegression(p) => match p.solver {
                LogisticSolver::Sgd => FitMethod::Gradient,
                LogisticSolver::Lbfgs => FitMethod::Iterative,
            },
            #[cfg(feature = "mlp")]
            Self::Mlp(_) => FitMethod::Gradient,
            #[cfg(feature = "linear-svm")]
            Self::LinearSvm(_) => FitMethod::Gradient,
            #[cfg(feature = "glm")]
            Self::Glm(_) => FitMethod::Gradient,
            #[cfg(feature = "kmeans")]
            Self::KMeans(_) => FitMethod::Iterative,
            #[cfg(feature = "gmm")]
            Self::Gmm(_) => FitMethod::Iterative,
            #[cfg(feature = "kernel-svm")]
            Self::KernelSvm(_) => FitMethod::Iterative,
            #[cfg(feature = "gaussian-process")]
            Self::GaussianProcess(_) => FitMethod::Iterative,
        }
    }

    /// Whether a gradient step may split its batch into parts and sum their gradients, each
    /// part's loss weighted by its share of the rows: true where the loss is a mean over rows
    /// plus a penalty on the weights that costs little next to the rows. A kernel SVM's penalty
    /// sums its kernel over every pair of stored rows, which each part would compute again.
    pub fn loss_splits_by_rows(&self) -> bool {
        match self {
            #[cfg(feature = "kernel-svm")]
            Self::KernelSvm(_) => false,
            _ => true,
        }
    }

    /// Whether training draws random numbers on the device (dropout), so each step must
    /// reseed it for a run to be reproducible and resumable.
    pub fn is_stochastic(&self) -> bool {
        match self {
            #[cfg(feature = "mlp")]
            Self::Mlp(p) => p.dropout > 0.0,
            _ => false,
        }
    }
}

/// The number of rows of the stored tensor whose name ends with `name`.
#[cfg(any(feature = "kernel-svm", feature = "gaussian-process"))]
fn stored_rows(weights: Bytes, name: &str) -> Result<usize, RecordError> {
    let tensors = burn_pack::Reader::from_bytes(weights)?.into_tensors()?;
    tensors
        .iter()
        .find(|t| t.name.ends_with(name))
        .map(|t| t.shape.as_slice()[0])
        .ok_or_else(|| RecordError::Io(alloc::format!("the weights hold no `{name}`")))
}

/// Numbers parameters 1, 2, ... in module order. burn draws parameter ids at random and saves
/// them with the weights; fixed ids make two runs with the same seed write byte-identical
/// files, and keep a resumed optimizer's state matched to its parameters.
struct NumberParams(u64);

impl NumberParams {
    fn next(&mut self) -> ParamId {
        self.0 += 1;
        ParamId::from(self.0)
    }
}

impl ModuleMapper for NumberParams {
    fn map_float<const D: usize>(&mut self, mut param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        param.id = self.next();
        param
    }

    fn map_int<const D: usize>(
        &mut self,
        mut param: Param<Tensor<D, Int>>,
    ) -> Param<Tensor<D, Int>> {
        param.id = self.next();
        param
    }

    fn map_bool<const D: usize>(
        &mut self,
        mut param: Param<Tensor<D, Bool>>,
    ) -> Param<Tensor<D, Bool>> {
        param.id = self.next();
        param
    }

    fn map_flag(&mut self, mut flag: Param<Flag>) -> Param<Flag> {
        flag.id = self.next();
        flag
    }
}

/// Any model of the zoo.
#[derive(Module, Debug)]
pub enum Model {
    #[cfg(feature = "linear-regression")]
    LinearRegression(LinearRegression),
    #[cfg(feature = "logistic-regression")]
    LogisticRegression(LogisticRegression),
    #[cfg(feature = "kmeans")]
    KMeans(KMeans),
    #[cfg(feature = "mlp")]
    Mlp(Mlp),
    #[cfg(feature = "linear-svm")]
    LinearSvm(LinearSvm),
    #[cfg(feature = "glm")]
    Glm(Glm),
    #[cfg(feature = "gmm")]
    Gmm(Gmm),
    #[cfg(feature = "kernel-svm")]
    KernelSvm(KernelSvm),
    #[cfg(feature = "gaussian-process")]
    GaussianProcess(GaussianProcess),
}

impl Model {
    /// The model's `kind` name.
    pub fn kind(&self) -> &'static str {
        match self {
            #[cfg(feature = "linear-regression")]
            Self::LinearRegression(_) => "linear_regression",
            #[cfg(feature = "logistic-regression")]
            Self::LogisticRegression(_) => "logistic_regression",
            #[cfg(feature = "kmeans")]
            Self::KMeans(_) => "kmeans",
            #[cfg(feature = "mlp")]
            Self::Mlp(_) => "mlp",
            #[cfg(feature = "linear-svm")]
            Self::LinearSvm(_) => "linear_svm",
            #[cfg(feature = "glm")]
            Self::Glm(_) => "glm",
            #[cfg(feature = "gmm")]
            Self::Gmm(_) => "gmm",
            #[cfg(feature = "kernel-svm")]
            Self::KernelSvm(_) => "kernel_svm",
            #[cfg(feature = "gaussian-process")]
            Self::GaussianProcess(_) => "gaussian_process",
        }
    }

    /// Predictions for the rows of `x` (`[n, n_features]`).
    pub fn predict(&self, x: Tensor<2>) -> Prediction {
        match self {
            #[cfg(feature = "linear-regression")]
            Self::LinearRegression(m) => m.predict(x),
            #[cfg(feature = "logistic-regression")]
            Self::LogisticRegression(m) => m.predict(x),
            #[cfg(feature = "kmeans")]
            Self::KMeans(m) => m.predict(x),
            #[cfg(feature = "mlp")]
            Self::Mlp(m) => m.predict(x),
            #[cfg(feature = "linear-svm")]
            Self::LinearSvm(m) => m.predict(x),
            #[cfg(feature = "glm")]
            Self::Glm(m) => m.predict(x),
            #[cfg(feature = "gmm")]
            Self::Gmm(m) => m.predict(x),
            #[cfg(feature = "kernel-svm")]
            Self::KernelSvm(m) => m.predict(x),
            #[cfg(feature = "gaussian-process")]
            Self::GaussianProcess(m) => m.predict(x),
        }
    }

    /// The training objective of `batch`, its penalty scaled for `n_train` training rows: what
    /// the gradient fit minimises, or what a kernel SVM's solver reports (and what on-device
    /// training uses for every gradient-fitted model, whichever way the host fitted it).
    pub fn loss(&self, batch: &Batch, n_train: usize) -> Result<Tensor<1>, FitError> {
        match self {
            #[cfg(feature = "linear-regression")]
            Self::LinearRegression(m) => Ok(m.loss(batch, n_train)),
            #[cfg(feature = "logistic-regression")]
            Self::LogisticRegression(m) => Ok(m.loss(batch, n_train)),
            #[cfg(feature = "mlp")]
            Self::Mlp(m) => Ok(m.loss(batch)),
            #[cfg(feature = "linear-svm")]
            Self::LinearSvm(m) => Ok(m.loss(batch, n_train)),
            #[cfg(feature = "glm")]
            Self::Glm(m) => Ok(m.loss(batch)),
            #[cfg(feature = "kernel-svm")]
            Self::KernelSvm(m) => Ok(m.loss(batch, n_train)),
            _ => Err(FitError::WrongMethod {
                model: self.kind(),
                method: "gradient descent",
            }),
        }
    }

    /// The model's objective on `batch`, on the host, as its fit reports it: the training loss
    /// (penalty scaled for `n_train` rows) of gradient fits and of a kernel SVM; the mean
    /// squared error of a closed-form regression; the mean squared distance to the nearest
    /// centre for k-means; the negative mean log-likelihood for a mixture; the negative mean
    /// log predictive density for a Gaussian process.
    pub fn objective(&self, batch: &Batch, n_train: usize) -> Result<f64, FitError> {
        let value = match self {
            #[cfg(feature = "kmeans")]
            Self::KMeans(m) => return Ok(m.inertia(batch.x.clone())? / batch.len().max(1) as f64),
            #[cfg(feature = "gmm")]
            Self::Gmm(m) => return Ok(-m.score(batch.x.clone())?),
            #[cfg(feature = "gaussian-process")]
            Self::GaussianProcess(m) => return Ok(-m.log_predictive_density(batch)?),
            #[cfg(feature = "linear-regression")]
            Self::LinearRegression(m) if m.fit_method() == FitMethod::Iterative => m.mse(batch),
            _ => self.loss(batch, n_train)?,
        };
        Ok(read_f32(value)?[0] as f64)
    }

    /// What a fit found that the metrics do not show, in a line: a Gaussian process's fitted
    /// kernel (in the notation a config takes), a kernel SVM's number of support vectors.
    pub fn describe(&self) -> Result<Option<alloc::string::String>, FitError> {
        Ok(match self {
            #[cfg(feature = "gaussian-process")]
            Self::GaussianProcess(m) => Some(alloc::format!("kernel {}", m.fitted_kernel()?)),
            #[cfg(feature = "kernel-svm")]
            Self::KernelSvm(m) => Some(alloc::format!("{} support vectors", m.n_support())),
            _ => None,
        })
    }

    /// An iterative fit's progress beyond the module's weights (k-means: restart, RNG, best
    /// restart so far), as JSON for a checkpoint; `None` for models with none.
    pub fn fit_state(&self) -> Result<Option<serde_json::Value>, FitError> {
        let to_json = |state: Result<serde_json::Value, serde_json::Error>| {
            Some(state.expect("a fit state serializes to JSON"))
        };
        Ok(match self {
            #[cfg(feature = "kmeans")]
            Self::KMeans(m) => to_json(serde_json::to_value(m.state()?)),
            #[cfg(feature = "gmm")]
            Self::Gmm(m) => to_json(serde_json::to_value(m.state()?)),
            #[cfg(feature = "kernel-svm")]
            Self::KernelSvm(m) => to_json(serde_json::to_value(m.state())),
            #[cfg(feature = "gaussian-process")]
            Self::GaussianProcess(m) => to_json(serde_json::to_value(m.state())),
            #[cfg(feature = "logistic-regression")]
            Self::LogisticRegression(m) if m.fit_method() == FitMethod::Iterative => {
                to_json(serde_json::to_value(m.state()))
            }
            _ => None,
        })
    }

    /// Puts back what [`Model::fit_state`] gave.
    pub fn restore_fit_state(&mut self, state: serde_json::Value) -> Result<(), FitError> {
        let damaged = |e: serde_json::Error| {
            FitError::Device(alloc::format!("the checkpoint's fit state is damaged: {e}"))
        };
        match self {
            #[cfg(feature = "kmeans")]
            Self::KMeans(m) => m.restore(serde_json::from_value(state).map_err(damaged)?),
            #[cfg(feature = "gmm")]
            Self::Gmm(m) => m.restore(serde_json::from_value(state).map_err(damaged)?),
            #[cfg(feature = "kernel-svm")]
            Self::KernelSvm(m) => m.restore(serde_json::from_value(state).map_err(damaged)?),
            #[cfg(feature = "gaussian-process")]
            Self::GaussianProcess(m) => m.restore(serde_json::from_value(state).map_err(damaged)?),
            #[cfg(feature = "logistic-regression")]
            Self::LogisticRegression(m) => {
                m.restore(serde_json::from_value(state).map_err(damaged)?)
            }
            _ => {}
        }
        Ok(())
    }

    /// Iterative fit: one update step over the whole training set.
    pub fn fit_step(&mut self, data: &Batch) -> Result<StepRecord, FitError> {
        let kind = self.kind();
        match self {
            #[cfg(feature = "linear-regression")]
            Self::LinearRegression(m) if m.fit_method() == FitMethod::Iterative => {
                m.fit_closed_form(data)
            }
            #[cfg(feature = "logistic-regression")]
            Self::LogisticRegression(m) if m.fit_method() == FitMethod::Iterative => {
                m.fit_step(data)
            }
            #[cfg(feature = "kmeans")]
            Self::KMeans(m) => m.fit_step(data),
            #[cfg(feature = "gmm")]
            Self::Gmm(m) => m.fit_step(data),
            #[cfg(feature = "kernel-svm")]
            Self::KernelSvm(m) => m.fit_step(data),
            #[cfg(feature = "gaussian-process")]
            Self::GaussianProcess(m) => m.fit_step(data),
            _ => Err(FitError::WrongMethod {
                model: kind,
                method: "iterative steps",
            }),
        }
    }
}

#[cfg(all(test, feature = "all-models"))]
mod tests {
    use super::*;
    use crate::Task;
    use crate::glm::Family;
    use crate::linear_regression::LinearSolver;
    use crate::testing::{classification_batch, for_each_device, minimize, regression_batch};

    /// What [`ModelSpec::loss_splits_by_rows`] promises the trainer's split steps: for every
    /// gradient model it marks, a batch's loss is its two parts' losses weighted by their
    /// shares of the rows, penalty included. A few Adam steps first move the weights off their
    /// zero start, so that the penalty counts.
    #[test]
    fn split_losses_add_up_to_the_batch_loss() {
        let (n, d, first) = (30, 3, 13);
        let x: Vec<f32> = (0..n * d)
            .map(|i| (i * 37 % 23) as f32 / 7.0 - 1.5)
            .collect();
        let classes: Vec<usize> = (0..n).map(|i| i % 3).collect();
        let counts: Vec<f32> = (0..n).map(|i| (i % 5) as f32).collect();
        let labelled = Task::Classification { n_classes: 3 };
        let mlp = |task| {
            ModelConfig::Mlp(MlpConfig {
                task,
                hidden: vec![8],
                ..Default::default()
            })
        };
        let configs = [
            (
                ModelConfig::LinearRegression(LinearRegressionConfig {
                    solver: LinearSolver::Sgd,
                    l2: 0.5,
                    fit_intercept: true,
                }),
                Task::Regression,
            ),
            (
                ModelConfig::LogisticRegression(LogisticRegressionConfig::default()),
                labelled,
            ),
            (ModelConfig::LinearSvm(LinearSvmConfig::default()), labelled),
            (ModelConfig::Glm(GlmConfig::default()), Task::Regression),
            (
                ModelConfig::Glm(GlmConfig {
                    family: Family::Tweedie,
                    ..Default::default()
                }),
                Task::Regression,
            ),
            (mlp(MlpTask::Classification), labelled),
            (mlp(MlpTask::Regression), Task::Regression),
        ];
        for_each_device(|device| {
            let autodiff = device.clone().autodiff();
            for (config, task) in &configs {
                let spec = config
                    .check(&DataShape {
                        n_features: d,
                        task: *task,
                    })
                    .unwrap();
                assert!(spec.loss_splits_by_rows(), "{spec:?}");
                let batch = match task {
                    Task::Regression => regression_batch(&x, &counts, d, &autodiff),
                    Task::Classification { .. } => classification_batch(&x, &classes, d, &autodiff),
                };
                let model = minimize(spec.init(&autodiff), 5, 0.1, |m| {
                    m.loss(&batch, 4 * n).unwrap()
                });
                let loss = |rows: &Batch| {
                    let share = rows.len() as f64 / n as f64;
                    read_f32(model.loss(rows, 4 * n).unwrap()).unwrap()[0] as f64 * share
                };
                let whole = loss(&batch);
                let parts = loss(&batch.narrow(0, first)) + loss(&batch.narrow(first, n - first));
                assert!(
                    (whole - parts).abs() <= 1e-5 * whole.abs(),
                    "{device:?} {spec:?}: {whole} != {parts}"
                );
            }
        });
        let kernel_svm = ModelConfig::KernelSvm(KernelSvmConfig::default())
            .check(&DataShape {
                n_features: d,
                task: labelled,
            })
            .unwrap();
        assert!(!kernel_svm.loss_splits_by_rows());
    }
}
