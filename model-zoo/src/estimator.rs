//! The model trait: what kiln needs of a model to train, evaluate, save and deploy it.
//!
//! Every model of the zoo implements [`Estimator`] in its own module, and so can a user's own
//! burn [`Module`]: kiln's trainer, the `kiln` command-line tool and on-device training are
//! written against this trait alone. The zoo's [`crate::Model`] enum implements it too, by
//! delegating to the model a config names (see [`crate::model`]).
//!
//! A model is described at three stages:
//! 1. its **config** ([`Estimator::Config`]): the `[model]` keys of a config file, serde types,
//!    with defaults;
//! 2. its **checked parameters** ([`Estimator::Params`]): the config validated against the
//!    shape of the data ([`Estimator::check`]), everything needed to build the model;
//! 3. the **model** itself (`Self`): a burn [`Module`] built from the parameters
//!    ([`Estimator::init`]) and fitted by the trainer.
//!
//! A model is fitted one of two ways ([`FitMethod`]):
//! - **gradient**: the model gives the loss of a batch ([`Estimator::loss`]) and the trainer
//!   owns the optimizer, the schedule, the batches and the epochs;
//! - **iterative**: the model owns its update step ([`Estimator::fit_step`]). A step reads the
//!   rows through [`Rows`], preferably as *statistics over rows* ([`Rows::sum`]: sums that
//!   merge by addition, such as `XᵀX`, cluster sums and counts, or a loss and its gradient)
//!   followed by an update from those statistics, so the same step runs on rows held in
//!   memory, read from a file a chunk at a time, or spread over processes.

use alloc::string::String;
use alloc::vec::Vec;

use burn::module::Module;
use burn::store::RecordError;
use burn::tensor::{Device, Tensor};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::data::{Batch, DataShape, read_f32};
use crate::error::{ConfigError, FitError};
use crate::fit::{FitMethod, Prediction, Rows, StepRecord};
use crate::metrics::{HostPrediction, HostTargets, Metrics};

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

/// The kind of [`Prediction`] a model makes, which decides the metrics reported for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// [`Prediction::Values`].
    Values,
    /// [`Prediction::Probabilities`].
    Probabilities,
    /// [`Prediction::Scores`].
    Scores,
    /// [`Prediction::Clusters`].
    Clusters,
    /// [`Prediction::Gaussian`].
    Gaussian,
    /// [`Prediction::Memberships`].
    Memberships,
}

impl Output {
    /// The validation metrics every model with this output reports each epoch (see
    /// [`crate::metrics::metrics_of`]); [`Estimator::extra_metric_names`] adds a model's own.
    pub fn metric_names(self) -> &'static [&'static str] {
        match self {
            Self::Values => &["mse", "mae", "r2"],
            Self::Gaussian => &["mse", "mae", "r2", "log_predictive_density"],
            Self::Probabilities => &["accuracy", "log_loss"],
            Self::Scores => &["accuracy"],
            Self::Clusters => &["inertia"],
            Self::Memberships => &[],
        }
    }
}

/// Passes over the rows when a model trains on a microcontroller.
pub const ON_DEVICE_EPOCHS: usize = 20;
/// The online SGD learning rate when a model trains on a microcontroller.
pub const ON_DEVICE_LEARNING_RATE: f64 = 0.05;

/// How a model trains on a microcontroller (`online::train`, with the `autodiff` feature).
#[derive(Clone, Debug, PartialEq)]
pub enum OnDevice<C> {
    /// Online SGD, one row at a time, on [`Estimator::loss`].
    OnlineSgd,
    /// Iterative steps to convergence with this config (e.g. a k-means of batches of one
    /// row), on all the rows at once.
    Steps(C),
}

/// A target value outside what a model accepts (a Poisson GLM's negative count).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadTarget {
    /// The row (0-based) of the first target that is out of range.
    pub row: usize,
    /// The rule it breaks, e.g. `"this GLM family needs targets >= 0"`.
    pub rule: &'static str,
    /// How to mend it.
    pub fix: &'static str,
}

/// Why a `[model]` table cannot be read into a model's config.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigReadError {
    /// The table names a `kind` this model type does not answer to.
    #[error("`kind = \"{found}\"` is not a kind of this model (its kinds: {expected})")]
    WrongKind {
        /// The kind the table names.
        found: String,
        /// The kinds this model answers to, comma-separated.
        expected: String,
    },
    /// The table has no `kind` key.
    #[error("missing key `kind`")]
    MissingKind,
    /// A key or value does not fit the config (serde's message: unknown field, wrong type).
    #[error("{0}")]
    Invalid(String),
}

/// A model kiln can train, evaluate, save and deploy: a burn [`Module`] with its config,
/// its checks, and what its fit needs.
///
/// Only a few items are required; the rest have defaults that fit a plain gradient-trained
/// model (a network with a loss). A minimal implementation for a user's own module:
///
/// ```
/// use burn::module::Module;
/// use burn::nn::{Linear, LinearConfig};
/// use burn::tensor::{Device, Tensor};
/// use kiln_model_zoo::linalg::mean_all;
/// use kiln_model_zoo::{
///     Batch, ConfigError, DataShape, Estimator, FitError, Output, Prediction, Supervision,
///     Targets, Task,
/// };
///
/// /// `y = x·w + b`, trained by the trainer's gradient loop.
/// #[derive(Module, Debug)]
/// struct Line {
///     linear: Linear,
/// }
///
/// #[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
/// #[serde(deny_unknown_fields)]
/// struct LineConfig {}
///
/// impl Estimator for Line {
///     type Config = LineConfig;
///     type Params = usize; // the number of features
///     const KINDS: &'static [&'static str] = &["line"];
///
///     fn supervision(_: &LineConfig) -> Supervision {
///         Supervision::Values
///     }
///     fn check(_: &LineConfig, shape: &DataShape) -> Result<usize, ConfigError> {
///         match shape.task {
///             Task::Regression => Ok(shape.n_features),
///             _ => Err(ConfigError::NeedsNumericTarget { model: "line" }),
///         }
///     }
///     fn output(_: &usize) -> Output {
///         Output::Values
///     }
///     fn init(n_features: &usize, device: &Device) -> Self {
///         Line { linear: LinearConfig::new(*n_features, 1).init(device) }
///     }
///     fn predict(&self, x: Tensor<2>) -> Prediction {
///         Prediction::Values(self.linear.forward(x))
///     }
///     fn loss(&self, batch: &Batch, _n_train: usize) -> Result<Tensor<1>, FitError> {
///         let Targets::Values(y) = &batch.targets else {
///             return Err(FitError::WrongTargets { model: "line", needs: "numeric targets" });
///         };
///         Ok(mean_all((self.linear.forward(batch.x.clone()) - y.clone()).square()))
///     }
/// }
///
/// let config = LineConfig::default();
/// let shape = DataShape { n_features: 3, task: Task::Regression };
/// let params = Line::check(&config, &shape).unwrap();
/// let line: Line = kiln_model_zoo::estimator::fresh(&params, &burn::tensor::Device::flex());
/// assert_eq!(line.num_params(), 4);
/// assert_eq!(Line::kind(&config), "line");
/// ```
pub trait Estimator: Module + Sync + Sized + 'static {
    /// The `[model]` keys of a config file, without `kind` (serde, with defaults).
    type Config: Clone
        + core::fmt::Debug
        + PartialEq
        + Serialize
        + DeserializeOwned
        + Send
        + Sync
        + 'static;
    /// The config checked against the data's shape: everything needed to build the model.
    type Params: Clone + core::fmt::Debug + PartialEq + Send + Sync + 'static;

    /// The names a config's `kind` gives this model (one for a single model).
    const KINDS: &'static [&'static str];

    /// The `kind` of `config`.
    fn kind(config: &Self::Config) -> &'static str {
        let _ = config;
        Self::KINDS[0]
    }

    /// Reads a `[model]` table (its `kind` and its keys) as JSON.
    fn read_config(table: serde_json::Value) -> Result<Self::Config, ConfigReadError> {
        let serde_json::Value::Object(mut keys) = table else {
            return Err(ConfigReadError::Invalid(
                "`[model]` must be a table of keys".into(),
            ));
        };
        match keys.remove("kind") {
            Some(serde_json::Value::String(kind)) if Self::KINDS.contains(&kind.as_str()) => {}
            Some(serde_json::Value::String(found)) => {
                return Err(ConfigReadError::WrongKind {
                    found,
                    expected: Self::KINDS.join(", "),
                });
            }
            Some(_) => return Err(ConfigReadError::Invalid("`kind` must be a string".into())),
            None => return Err(ConfigReadError::MissingKind),
        }
        serde_json::from_value(serde_json::Value::Object(keys))
            .map_err(|e| ConfigReadError::Invalid(alloc::format!("{e}")))
    }

    /// `[model]` keys whose default has changed, each with the default it had before (as TOML
    /// text of a string). A run's resolved config lists every key its model had when it was
    /// written; one written before a key existed lacks it, and must resume as it was trained.
    const EARLIER_DEFAULTS: &'static [(&'static str, &'static str)] = &[];

    /// Fills a run's resolved `[model]` table with the [`Estimator::EARLIER_DEFAULTS`] of the
    /// keys it lacks.
    fn fill_earlier_defaults(table: &mut serde_json::Value) {
        if let serde_json::Value::Object(keys) = table {
            for (key, value) in Self::EARLIER_DEFAULTS {
                keys.entry(*key)
                    .or_insert_with(|| serde_json::Value::String((*value).into()));
            }
        }
    }

    /// Writes `config` as a `[model]` table: `kind` first, then every key, defaults included.
    fn write_config(config: &Self::Config) -> serde_json::Value {
        let mut table = serde_json::Map::new();
        table.insert("kind".into(), Self::kind(config).into());
        if let Ok(serde_json::Value::Object(keys)) = serde_json::to_value(config) {
            table.extend(keys);
        }
        serde_json::Value::Object(table)
    }

    /// What the model needs from the target column.
    fn supervision(config: &Self::Config) -> Supervision;

    /// Validates `config` against the data it will be fitted on.
    fn check(config: &Self::Config, shape: &DataShape) -> Result<Self::Params, ConfigError>;

    /// How the model is fitted (default: by the trainer's gradient loop).
    fn fit_method(params: &Self::Params) -> FitMethod {
        let _ = params;
        FitMethod::Gradient
    }

    /// The most steps an iterative fit takes by its own rules (its `max_iter`, over all its
    /// restarts), where it has them: the trainer then runs it to its own stopping rule, as
    /// scikit-learn does, and `[train] epochs` does not cut it. `None` (the default): `[train]
    /// epochs` caps the steps.
    fn max_steps(params: &Self::Params) -> Option<usize> {
        let _ = params;
        None
    }

    /// What the model's predictions are.
    fn output(params: &Self::Params) -> Output;

    /// Metrics the model reports beyond those of its [`Output`], in the order it adds them in
    /// [`Estimator::add_metrics`] (a GLM's `deviance`).
    fn extra_metric_names(params: &Self::Params) -> &'static [&'static str] {
        let _ = params;
        &[]
    }

    /// Whether the model can train from rows read a chunk at a time (default: gradient fits
    /// can; an iterative fit can when its steps use only [`Rows::sum`], [`Rows::pass`] and
    /// [`Rows::sample`]).
    fn streams(params: &Self::Params) -> bool {
        Self::fit_method(params) == FitMethod::Gradient
    }

    /// What a fit on `n_rows` rows will cost, when it is enough to warn about before it starts
    /// (a Gaussian process's `n × n` matrices); `None` otherwise.
    fn cost_note(params: &Self::Params, n_rows: usize) -> Option<String> {
        let _ = (params, n_rows);
        None
    }

    /// Checks the targets beyond their being numbers (a GLM family's range).
    fn check_targets(params: &Self::Params, y: &[f32]) -> Result<(), BadTarget> {
        let _ = (params, y);
        Ok(())
    }

    /// Whether a gradient step may split its batch into parts and sum their gradients, each
    /// part's loss weighted by its share of the rows: true where the loss is a mean over rows
    /// plus a penalty that costs little next to the rows (default false, which is always
    /// safe).
    fn loss_splits_by_rows(params: &Self::Params) -> bool {
        let _ = params;
        false
    }

    /// Whether training draws random numbers on the device (dropout), so each step must
    /// reseed it for a run to be reproducible and resumable (default false).
    fn is_stochastic(params: &Self::Params) -> bool {
        let _ = params;
        false
    }

    /// A fresh model on `device`. Random weights must come from the device's seeded RNG, so
    /// that a seeded run is reproducible. Callers use [`fresh`], which also numbers the
    /// parameters.
    fn init(params: &Self::Params, device: &Device) -> Self;

    /// A fresh model shaped to take `weights` (burnpack bytes): the rows a kernel model
    /// keeps are only known once fitted (default: [`Estimator::init`]).
    fn shaped_for(
        params: &Self::Params,
        weights: &[u8],
        device: &Device,
    ) -> Result<Self, RecordError> {
        let _ = weights;
        Ok(with_device_rng(|| Self::init(params, device)))
    }

    /// A model with the weights `weights` (burnpack bytes, as `into_record().into_bytes()`
    /// writes them), on `device`.
    fn load_weights(
        params: &Self::Params,
        weights: &[u8],
        device: &Device,
    ) -> Result<Self, RecordError> {
        load_into(Self::shaped_for(params, weights, device)?, weights)
    }

    /// The name of this model's kind, for messages.
    fn name(&self) -> &'static str {
        Self::KINDS[0]
    }

    /// Predictions for the rows of `x` (`[n, n_features]`).
    fn predict(&self, x: Tensor<2>) -> Prediction;

    /// The training objective of `batch`, its penalty scaled for `n_train` training rows: what
    /// a gradient fit minimises, and what on-device training uses. Take whole sums and means
    /// through [`SumAll`](crate::linalg::SumAll) and [`mean_all`](crate::linalg::mean_all): a
    /// GPU backend's own add up in a varying order, and a resumed fit must end where an
    /// uninterrupted one does.
    fn loss(&self, batch: &Batch, n_train: usize) -> Result<Tensor<1>, FitError> {
        let _ = (batch, n_train);
        Err(FitError::WrongMethod {
            model: self.name(),
            method: "gradient descent",
        })
    }

    /// One update step of an iterative fit over the training rows.
    fn fit_step(&mut self, rows: &mut dyn Rows) -> Result<StepRecord, FitError> {
        let _ = rows;
        Err(FitError::WrongMethod {
            model: self.name(),
            method: "iterative steps",
        })
    }

    /// The model's objective on `batch`, on the host, as its fit reports it (default: the
    /// loss).
    fn objective(&self, batch: &Batch, n_train: usize) -> Result<f64, FitError> {
        Ok(read_f32(self.loss(batch, n_train)?)?[0] as f64)
    }

    /// Adds the model's own metrics ([`Estimator::extra_metric_names`]) of the rows `x`, given
    /// its prediction for them and their targets.
    fn add_metrics(
        &self,
        x: &Tensor<2>,
        prediction: &HostPrediction,
        targets: &HostTargets,
        metrics: &mut Metrics,
    ) -> Result<(), FitError> {
        let _ = (x, prediction, targets, metrics);
        Ok(())
    }

    /// Adds the metrics too costly for every epoch, reported once a fit ends (a Gaussian
    /// process's log marginal likelihood).
    fn add_final_metrics(&self, batch: &Batch, metrics: &mut Metrics) -> Result<(), FitError> {
        let _ = (batch, metrics);
        Ok(())
    }

    /// What a fit found that the metrics do not show, in a line (a kernel SVM's number of
    /// support vectors).
    fn describe(&self) -> Result<Option<String>, FitError> {
        Ok(None)
    }

    /// An iterative fit's progress beyond the module's weights (k-means: restart, RNG, best
    /// restart so far), as JSON for a checkpoint; `None` for models with none.
    fn fit_state(&self) -> Result<Option<serde_json::Value>, FitError> {
        Ok(None)
    }

    /// Puts back what [`Estimator::fit_state`] gave.
    fn restore_fit_state(&mut self, state: serde_json::Value) -> Result<(), FitError> {
        let _ = state;
        Ok(())
    }

    /// How the model trains on a microcontroller (default: a gradient-fitted model by online
    /// SGD on its loss, an iterative one by its own steps to convergence with `config`).
    fn on_device(config: &Self::Config, params: &Self::Params) -> OnDevice<Self::Config> {
        match Self::fit_method(params) {
            FitMethod::Gradient => OnDevice::OnlineSgd,
            FitMethod::Iterative => OnDevice::Steps(config.clone()),
        }
    }
}

/// burn's random generator is one per backend, shared by every thread in the process.
#[cfg(feature = "std")]
static DEVICE_RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[cfg(feature = "std")]
std::thread_local! {
    /// Whether this thread holds [`DEVICE_RNG`], so a nested call runs straight on.
    static HOLDS_DEVICE_RNG: core::cell::Cell<bool> = const { core::cell::Cell::new(false) };
}

/// `draw()` with the device generators to itself: no draw of another thread through this,
/// [`seeded`] or [`fresh`] runs in between. Even a model built only to be overwritten (by
/// loaded weights) draws its random start, and a draw between another fit's seeding and its
/// start would change that start. Calls nest. Without `std` (a firmware: one thread) it only
/// runs `draw`.
pub fn with_device_rng<T>(draw: impl FnOnce() -> T) -> T {
    #[cfg(feature = "std")]
    {
        if HOLDS_DEVICE_RNG.get() {
            return draw();
        }
        let _guard = DEVICE_RNG
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        /// Clears the flag however `draw` ends, unwinding included.
        struct Release;
        impl Drop for Release {
            fn drop(&mut self) {
                HOLDS_DEVICE_RNG.set(false);
            }
        }
        HOLDS_DEVICE_RNG.set(true);
        let _release = Release;
        draw()
    }
    #[cfg(not(feature = "std"))]
    draw()
}

/// `draw()` run right after seeding `device`'s generator with `seed`, with no other thread
/// seeding or drawing in between (see [`with_device_rng`]): a seeded start (an MLP's weights)
/// or a seeded step (dropout masks) is then the same whatever else runs beside it.
pub fn seeded<T>(device: &Device, seed: u64, draw: impl FnOnce() -> T) -> T {
    with_device_rng(|| {
        device.seed(seed);
        draw()
    })
}

/// A fresh model of `params` on `device`, its parameters numbered 1, 2, ... in module order:
/// burn draws parameter ids at random and saves them with the weights; fixed ids make two runs
/// with the same seed write byte-identical files, and keep a resumed optimizer's state matched
/// to its parameters. Draws its random start under [`with_device_rng`], all of it: burn
/// draws a parameter's start when the parameter is first read, by then perhaps from another
/// thread's seed.
pub fn fresh<M: Estimator>(params: &M::Params, device: &Device) -> M {
    let model = with_device_rng(|| {
        let model = M::init(params, device);
        model.visit(&mut DrawStarts);
        model
    });
    number_params(model)
}

/// Reads every parameter of a module, so that a lazily initialized one draws its start now.
struct DrawStarts;

impl burn::module::ModuleVisitor for DrawStarts {
    fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<Tensor<D>>) {
        let _ = param.val();
    }

    fn visit_int<const D: usize>(
        &mut self,
        param: &burn::module::Param<Tensor<D, burn::tensor::Int>>,
    ) {
        let _ = param.val();
    }

    fn visit_bool<const D: usize>(
        &mut self,
        param: &burn::module::Param<Tensor<D, burn::tensor::Bool>>,
    ) {
        let _ = param.val();
    }
}

/// `model` with its parameters numbered 1, 2, ... in module order (see [`fresh`]).
pub fn number_params<M: Module>(model: M) -> M {
    model.map(&mut NumberParams(0))
}

/// `shaped` (numbered as [`fresh`] numbers) with the weights `weights` (burnpack bytes) loaded
/// into it.
pub fn load_into<M: Module>(shaped: M, weights: &[u8]) -> Result<M, RecordError> {
    number_params(shaped).try_load_record(burn::store::ModuleRecord::from_bytes(
        burn::tensor::Bytes::from_bytes_vec(weights.to_vec()),
    )?)
}

/// Reads a fit state that [`Estimator::fit_state`] wrote.
pub fn state_from_json<T: DeserializeOwned>(state: serde_json::Value) -> Result<T, FitError> {
    serde_json::from_value(state)
        .map_err(|e| FitError::Device(alloc::format!("the checkpoint's fit state is damaged: {e}")))
}

/// A fit state as JSON, for [`Estimator::fit_state`].
pub fn state_to_json<T: Serialize>(state: &T) -> Result<Option<serde_json::Value>, FitError> {
    serde_json::to_value(state)
        .map(Some)
        .map_err(|e| FitError::Device(alloc::format!("the fit state does not serialize: {e}")))
}

/// The metric names a fit of `params` reports each epoch on validation rows.
pub fn metric_names<M: Estimator>(params: &M::Params) -> Vec<&'static str> {
    let mut names = M::output(params).metric_names().to_vec();
    names.extend(M::extra_metric_names(params));
    names
}

/// The number of rows of the stored tensor whose name ends with `name` (a kernel model's
/// support vectors or training rows), for [`Estimator::shaped_for`]. A count the weights are
/// too small to hold is refused: the model built for it would allocate without bound.
pub fn stored_rows(weights: &[u8], name: &str) -> Result<usize, RecordError> {
    let bytes = burn::tensor::Bytes::from_bytes_vec(weights.to_vec());
    let tensors = burn_pack::Reader::from_bytes(bytes)?.into_tensors()?;
    let rows = tensors
        .iter()
        .find(|t| t.name.ends_with(name))
        .and_then(|t| t.shape.as_slice().first().copied())
        .ok_or_else(|| RecordError::Io(alloc::format!("the weights hold no `{name}`")))?;
    if rows > weights.len() / 4 {
        return Err(RecordError::Io(alloc::format!(
            "the weights claim {rows} rows of `{name}` in {} bytes",
            weights.len()
        )));
    }
    Ok(rows)
}

/// Refuses a data shape too large for `weights` to hold, before a model is built for it:
/// every model keeps at least one f32 per feature, and a classifier one per class and a few
/// per feature and class together. A larger shape comes from a damaged or hostile file, and
/// building the model for it would allocate without bound.
pub fn check_shape_fits<M: Estimator>(
    params: &M::Params,
    shape: &DataShape,
    weights: &[u8],
) -> Result<(), RecordError> {
    let floats = weights.len() / 4 + 1;
    let d = shape.n_features;
    let classifier = matches!(M::output(params), Output::Probabilities | Output::Scores);
    let classes = match shape.task {
        crate::data::Task::Classification { n_classes } if classifier => n_classes,
        _ => 1,
    };
    if d > floats || classes > floats || d.saturating_mul(classes) > floats.saturating_mul(4) {
        return Err(RecordError::Io(alloc::format!(
            "a model of {d} features and {classes} classes cannot be held in {} bytes of \
             weights",
            weights.len()
        )));
    }
    Ok(())
}

/// Numbers parameters 1, 2, ... in module order (see [`fresh`]).
struct NumberParams(u64);

impl NumberParams {
    fn next(&mut self) -> burn::module::ParamId {
        self.0 += 1;
        burn::module::ParamId::from(self.0)
    }
}

impl burn::module::ModuleMapper for NumberParams {
    fn map_float<const D: usize>(
        &mut self,
        mut param: burn::module::Param<Tensor<D>>,
    ) -> burn::module::Param<Tensor<D>> {
        param.id = self.next();
        param
    }

    fn map_int<const D: usize>(
        &mut self,
        mut param: burn::module::Param<Tensor<D, burn::tensor::Int>>,
    ) -> burn::module::Param<Tensor<D, burn::tensor::Int>> {
        param.id = self.next();
        param
    }

    fn map_bool<const D: usize>(
        &mut self,
        mut param: burn::module::Param<Tensor<D, burn::tensor::Bool>>,
    ) -> burn::module::Param<Tensor<D, burn::tensor::Bool>> {
        param.id = self.next();
        param
    }

    fn map_flag(
        &mut self,
        mut flag: burn::module::Param<burn::module::Flag>,
    ) -> burn::module::Param<burn::module::Flag> {
        flag.id = self.next();
        flag
    }
}
