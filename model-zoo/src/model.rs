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
use crate::gaussian_process::{GaussianProcess, GaussianProcessConfig, GaussianProcessParams};
use crate::glm::{Glm, GlmConfig, GlmParams};
use crate::gmm::{Gmm, GmmConfig, GmmParams};
use crate::kernel_svm::{KernelSvm, KernelSvmConfig, KernelSvmParams};
use crate::kmeans::{KMeans, KMeansConfig, KMeansParams};
use crate::linear_regression::{
    LinearRegression, LinearRegressionConfig, LinearRegressionParams, LinearSolver,
};
use crate::linear_svm::{LinearSvm, LinearSvmConfig, LinearSvmParams};
use crate::logistic_regression::{
    LogisticRegression, LogisticRegressionConfig, LogisticRegressionParams, LogisticSolver,
};
use crate::mlp::{Mlp, MlpConfig, MlpParams, MlpTask};

/// The `[model]` table of a config file: `kind` picks the model, the other keys are its own.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ModelConfig {
    LinearRegression(LinearRegressionConfig),
    LogisticRegression(LogisticRegressionConfig),
    Kmeans(KMeansConfig),
    Mlp(MlpConfig),
    LinearSvm(LinearSvmConfig),
    Glm(GlmConfig),
    Gmm(GmmConfig),
    KernelSvm(KernelSvmConfig),
    GaussianProcess(GaussianProcessConfig),
}

impl ModelConfig {
    /// Every `kind` a config may name.
    pub const KINDS: &'static [&'static str] = &[
        "linear_regression",
        "logistic_regression",
        "kmeans",
        "mlp",
        "linear_svm",
        "glm",
        "gmm",
        "kernel_svm",
        "gaussian_process",
    ];

    /// This config's `kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::LinearRegression(_) => "linear_regression",
            Self::LogisticRegression(_) => "logistic_regression",
            Self::Kmeans(_) => "kmeans",
            Self::Mlp(_) => "mlp",
            Self::LinearSvm(_) => "linear_svm",
            Self::Glm(_) => "glm",
            Self::Gmm(_) => "gmm",
            Self::KernelSvm(_) => "kernel_svm",
            Self::GaussianProcess(_) => "gaussian_process",
        }
    }

    /// What the model needs from the `[data] target` column.
    pub fn supervision(&self) -> Supervision {
        match self {
            Self::LinearRegression(_) | Self::Glm(_) | Self::GaussianProcess(_) => {
                Supervision::Values
            }
            Self::LogisticRegression(_) | Self::LinearSvm(_) | Self::KernelSvm(_) => {
                Supervision::Labels
            }
            Self::Kmeans(_) | Self::Gmm(_) => Supervision::None,
            Self::Mlp(c) => match c.task {
                MlpTask::Classification => Supervision::Labels,
                MlpTask::Regression => Supervision::Values,
            },
        }
    }

    /// Validates the config against the data it will be fitted on.
    pub fn check(&self, shape: &DataShape) -> Result<ModelSpec, ConfigError> {
        Ok(match self {
            Self::LinearRegression(c) => ModelSpec::LinearRegression(c.check(shape)?),
            Self::LogisticRegression(c) => ModelSpec::LogisticRegression(c.check(shape)?),
            Self::Kmeans(c) => ModelSpec::KMeans(c.check(shape)?),
            Self::Mlp(c) => ModelSpec::Mlp(c.check(shape)?),
            Self::LinearSvm(c) => ModelSpec::LinearSvm(c.check(shape)?),
            Self::Glm(c) => ModelSpec::Glm(c.check(shape)?),
            Self::Gmm(c) => ModelSpec::Gmm(c.check(shape)?),
            Self::KernelSvm(c) => ModelSpec::KernelSvm(c.check(shape)?),
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
    LinearRegression(LinearRegressionParams),
    LogisticRegression(LogisticRegressionParams),
    KMeans(KMeansParams),
    Mlp(MlpParams),
    LinearSvm(LinearSvmParams),
    Glm(GlmParams),
    Gmm(GmmParams),
    KernelSvm(KernelSvmParams),
    GaussianProcess(GaussianProcessParams),
}

impl ModelSpec {
    /// A freshly initialised model on `device`, its parameters numbered 1, 2, ... in module
    /// order (see [`NumberParams`]).
    pub fn init(&self, device: &Device) -> Model {
        let model = match self {
            Self::LinearRegression(p) => Model::LinearRegression(LinearRegression::new(*p, device)),
            Self::LogisticRegression(p) => {
                Model::LogisticRegression(LogisticRegression::new(*p, device))
            }
            Self::KMeans(p) => Model::KMeans(KMeans::new(*p, device)),
            Self::Mlp(p) => Model::Mlp(Mlp::new(p.clone(), device)),
            Self::LinearSvm(p) => Model::LinearSvm(LinearSvm::new(*p, device)),
            Self::Glm(p) => Model::Glm(Glm::new(*p, device)),
            Self::Gmm(p) => Model::Gmm(Gmm::new(*p, device)),
            Self::KernelSvm(p) => Model::KernelSvm(KernelSvm::new(*p, device)),
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
        let rows_of = |name: &str| -> Result<usize, RecordError> {
            let tensors = burn_pack::Reader::from_bytes(bytes())?.into_tensors()?;
            tensors
                .iter()
                .find(|t| t.name.ends_with(name))
                .map(|t| t.shape.as_slice()[0])
                .ok_or_else(|| RecordError::Io(alloc::format!("the weights hold no `{name}`")))
        };
        let model = match self {
            Self::KernelSvm(p) => {
                let n_support = rows_of("support_vectors")?;
                Model::KernelSvm(KernelSvm::with_support(*p, n_support, device))
            }
            Self::GaussianProcess(p) => {
                let n_train = rows_of("x_train")?;
                Model::GaussianProcess(GaussianProcess::with_rows(p.clone(), n_train, device))
            }
            _ => {
                return self
                    .init(device)
                    .try_load_record(ModuleRecord::from_bytes(bytes())?);
            }
        };
        model
            .map(&mut NumberParams(0))
            .try_load_record(ModuleRecord::from_bytes(bytes())?)
    }

    /// How the model is fitted.
    pub fn fit_method(&self) -> FitMethod {
        match self {
            Self::LinearRegression(p) => match p.solver {
                LinearSolver::ClosedForm => FitMethod::Iterative,
                LinearSolver::Sgd => FitMethod::Gradient,
            },
            Self::LogisticRegression(p) => match p.solver {
                LogisticSolver::Sgd => FitMethod::Gradient,
                LogisticSolver::Lbfgs => FitMethod::Iterative,
            },
            Self::Mlp(_) | Self::LinearSvm(_) | Self::Glm(_) => FitMethod::Gradient,
            Self::KMeans(_) | Self::Gmm(_) | Self::KernelSvm(_) | Self::GaussianProcess(_) => {
                FitMethod::Iterative
            }
        }
    }

    /// Whether training draws random numbers on the device (dropout), so each step must
    /// reseed it for a run to be reproducible and resumable.
    pub fn is_stochastic(&self) -> bool {
        matches!(self, Self::Mlp(p) if p.dropout > 0.0)
    }
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
    LinearRegression(LinearRegression),
    LogisticRegression(LogisticRegression),
    KMeans(KMeans),
    Mlp(Mlp),
    LinearSvm(LinearSvm),
    Glm(Glm),
    Gmm(Gmm),
    KernelSvm(KernelSvm),
    GaussianProcess(GaussianProcess),
}

impl Model {
    /// The model's `kind` name.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::LinearRegression(_) => "linear_regression",
            Self::LogisticRegression(_) => "logistic_regression",
            Self::KMeans(_) => "kmeans",
            Self::Mlp(_) => "mlp",
            Self::LinearSvm(_) => "linear_svm",
            Self::Glm(_) => "glm",
            Self::Gmm(_) => "gmm",
            Self::KernelSvm(_) => "kernel_svm",
            Self::GaussianProcess(_) => "gaussian_process",
        }
    }

    /// How the model is fitted.
    pub fn fit_method(&self) -> FitMethod {
        match self {
            Self::LinearRegression(m) => m.fit_method(),
            Self::LogisticRegression(m) => m.fit_method(),
            Self::Mlp(_) | Self::LinearSvm(_) | Self::Glm(_) => FitMethod::Gradient,
            Self::KMeans(_) | Self::Gmm(_) | Self::KernelSvm(_) | Self::GaussianProcess(_) => {
                FitMethod::Iterative
            }
        }
    }

    /// Predictions for the rows of `x` (`[n, n_features]`).
    pub fn predict(&self, x: Tensor<2>) -> Prediction {
        match self {
            Self::LinearRegression(m) => m.predict(x),
            Self::LogisticRegression(m) => m.predict(x),
            Self::KMeans(m) => m.predict(x),
            Self::Mlp(m) => m.predict(x),
            Self::LinearSvm(m) => m.predict(x),
            Self::Glm(m) => m.predict(x),
            Self::Gmm(m) => m.predict(x),
            Self::KernelSvm(m) => m.predict(x),
            Self::GaussianProcess(m) => m.predict(x),
        }
    }

    /// The training objective of `batch`, its penalty scaled for `n_train` training rows: what
    /// the gradient fit minimises, or what a kernel SVM's solver reports (and what on-device
    /// training uses for every gradient-fitted model, whichever way the host fitted it).
    pub fn loss(&self, batch: &Batch, n_train: usize) -> Result<Tensor<1>, FitError> {
        Ok(match self {
            Self::LinearRegression(m) => m.loss(batch, n_train),
            Self::LogisticRegression(m) => m.loss(batch, n_train),
            Self::Mlp(m) => m.loss(batch),
            Self::LinearSvm(m) => m.loss(batch, n_train),
            Self::Glm(m) => m.loss(batch),
            Self::KernelSvm(m) => m.loss(batch, n_train),
            Self::KMeans(_) | Self::Gmm(_) | Self::GaussianProcess(_) => {
                return Err(FitError::WrongMethod {
                    model: self.kind(),
                    method: "gradient descent",
                });
            }
        })
    }

    /// The model's objective on `batch`, on the host, as its fit reports it: the training loss
    /// (penalty scaled for `n_train` rows) of gradient fits and of a kernel SVM; the mean
    /// squared error of a closed-form regression; the mean squared distance to the nearest
    /// centre for k-means; the negative mean log-likelihood for a mixture; the negative mean
    /// log predictive density for a Gaussian process.
    pub fn objective(&self, batch: &Batch, n_train: usize) -> Result<f64, FitError> {
        let value = match self {
            Self::KMeans(m) => return Ok(m.inertia(batch.x.clone())? / batch.len().max(1) as f64),
            Self::Gmm(m) => return Ok(-m.score(batch.x.clone())?),
            Self::GaussianProcess(m) => return Ok(-m.log_predictive_density(batch)?),
            Self::LinearRegression(m) if m.fit_method() == FitMethod::Iterative => m.mse(batch),
            _ => self.loss(batch, n_train)?,
        };
        Ok(read_f32(value)?[0] as f64)
    }

    /// What a fit found that the metrics do not show, in a line: a Gaussian process's fitted
    /// kernel (in the notation a config takes), a kernel SVM's number of support vectors.
    pub fn describe(&self) -> Result<Option<alloc::string::String>, FitError> {
        Ok(match self {
            Self::GaussianProcess(m) => Some(alloc::format!("kernel {}", m.fitted_kernel()?)),
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
            Self::KMeans(m) => to_json(serde_json::to_value(m.state()?)),
            Self::Gmm(m) => to_json(serde_json::to_value(m.state()?)),
            Self::KernelSvm(m) => to_json(serde_json::to_value(m.state())),
            Self::GaussianProcess(m) => to_json(serde_json::to_value(m.state())),
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
            Self::KMeans(m) => m.restore(serde_json::from_value(state).map_err(damaged)?),
            Self::Gmm(m) => m.restore(serde_json::from_value(state).map_err(damaged)?),
            Self::KernelSvm(m) => m.restore(serde_json::from_value(state).map_err(damaged)?),
            Self::GaussianProcess(m) => m.restore(serde_json::from_value(state).map_err(damaged)?),
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
            Self::LinearRegression(m) if m.fit_method() == FitMethod::Iterative => {
                m.fit_closed_form(data)
            }
            Self::LogisticRegression(m) if m.fit_method() == FitMethod::Iterative => {
                m.fit_step(data)
            }
            Self::KMeans(m) => m.fit_step(data),
            Self::Gmm(m) => m.fit_step(data),
            Self::KernelSvm(m) => m.fit_step(data),
            Self::GaussianProcess(m) => m.fit_step(data),
            _ => Err(FitError::WrongMethod {
                model: kind,
                method: "iterative steps",
            }),
        }
    }
}
