//! The options of the fit loop (`[train]` in a config file): epochs, batches, the optimizer,
//! the learning-rate schedule, gradient clipping, early stopping and checkpoints. Library
//! callers build [`TrainConfig`] directly; its `Default` is the config file's default.

use serde::{Deserialize, Serialize};

/// `[train]`: the training schedule of gradient-fitted models (iterative models use `epochs`
/// as their maximum number of steps).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    /// Passes over the training data (default 100).
    pub epochs: usize,
    /// Rows per gradient step (default 64).
    pub batch_size: usize,
    /// Shuffle the rows every epoch (default true).
    pub shuffle: bool,
    /// The optimizer and its learning rate (default Adam, learning rate 0.01).
    pub optimizer: OptimizerConfig,
    /// The learning rate over the epochs (default constant).
    pub schedule: Schedule,
    /// Epochs over which the learning rate ramps linearly up from near 0 (default 0).
    pub warmup_epochs: usize,
    /// Scale each parameter's gradient down to at most this L2 norm (burn's per-parameter
    /// clipping; default none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grad_clip_norm: Option<f64>,
    /// Stop when a watched metric has not improved for `patience` epochs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub early_stopping: Option<EarlyStopping>,
    /// Write a checkpoint every this many epochs, or steps of an iterative fit (always also at
    /// the end; 0: only at the end).
    pub checkpoint_every: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            epochs: 100,
            batch_size: 64,
            shuffle: true,
            optimizer: OptimizerConfig::default(),
            schedule: Schedule::Constant,
            warmup_epochs: 0,
            grad_clip_norm: None,
            early_stopping: None,
            checkpoint_every: 1,
        }
    }
}

/// `early_stopping = { patience = 5, min_delta = 1e-4, metric = "accuracy" }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EarlyStopping {
    /// Epochs without improvement before stopping.
    pub patience: usize,
    /// Smallest change of the metric that counts as an improvement.
    #[serde(default)]
    pub min_delta: f64,
    /// `valid_loss` (default; the training loss when there is no validation data),
    /// `train_loss`, or a validation metric: `accuracy`, `log_loss`, `mse`, `mae`, `r2`,
    /// `deviance`. Accuracy and R² are maximised, the others minimised.
    #[serde(default = "valid_loss")]
    pub metric: String,
}

fn valid_loss() -> String {
    "valid_loss".into()
}

/// `schedule = { kind = "cosine" }`: the learning rate per epoch, as a factor of
/// `optimizer.learning_rate`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Schedule {
    /// The same rate throughout.
    #[default]
    Constant,
    /// Multiplied by `gamma` every `every` epochs.
    Step {
        /// Epochs between reductions.
        every: usize,
        /// The factor applied at each reduction.
        gamma: f64,
    },
    /// Multiplied by `gamma` every epoch.
    Exponential {
        /// The factor applied per epoch.
        gamma: f64,
    },
    /// Half a cosine from the full rate down to `min_lr` at the last epoch (per step).
    Cosine {
        /// The learning rate at the end (default 0).
        #[serde(default)]
        min_lr: f64,
    },
    /// Multiplied by `factor` once the validation loss (the training loss without
    /// validation data) has not improved by a relative `threshold` for `patience` epochs,
    /// never below `min_lr` (PyTorch's `ReduceLROnPlateau`).
    Plateau {
        /// The factor applied at each reduction (default 0.1).
        #[serde(default = "plateau_factor")]
        factor: f64,
        /// Epochs without improvement tolerated before a reduction (default 10).
        #[serde(default = "plateau_patience")]
        patience: usize,
        /// Smallest relative improvement that counts (default 1e-4).
        #[serde(default = "plateau_threshold")]
        threshold: f64,
        /// The learning rate's floor (default 0).
        #[serde(default)]
        min_lr: f64,
    },
}

fn plateau_factor() -> f64 {
    0.1
}

fn plateau_patience() -> usize {
    10
}

fn plateau_threshold() -> f64 {
    1e-4
}

/// `optimizer = { kind = "adam", learning_rate = 0.01 }`: burn's optimizers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum OptimizerConfig {
    /// Stochastic gradient descent, optionally with (Nesterov) momentum.
    Sgd(SgdConfig),
    /// Adam.
    Adam(AdamConfig),
    /// Adam with decoupled weight decay.
    Adamw(AdamConfig),
    /// RMSprop.
    Rmsprop(RmsPropConfig),
}

impl Default for OptimizerConfig {
    fn default() -> Self {
        Self::Adam(AdamConfig::default())
    }
}

impl OptimizerConfig {
    /// The base learning rate, before the schedule and warm-up.
    pub fn learning_rate(&self) -> f64 {
        match self {
            Self::Sgd(c) => c.learning_rate,
            Self::Adam(c) | Self::Adamw(c) => c.learning_rate,
            Self::Rmsprop(c) => c.learning_rate,
        }
    }
}

/// `optimizer = { kind = "sgd", ... }`: stochastic gradient descent (PyTorch's `SGD`, no
/// dampening).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SgdConfig {
    /// Base learning rate (default 0.01).
    pub learning_rate: f64,
    /// Momentum factor (0 = plain SGD).
    pub momentum: f64,
    /// Use Nesterov momentum (default false; only with `momentum` > 0).
    pub nesterov: bool,
    /// L2 weight decay added to the gradient.
    pub weight_decay: f64,
}

impl Default for SgdConfig {
    fn default() -> Self {
        Self {
            learning_rate: 0.01,
            momentum: 0.0,
            nesterov: false,
            weight_decay: 0.0,
        }
    }
}

/// `optimizer = { kind = "adam" }` or `{ kind = "adamw" }`: Adam's options.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdamConfig {
    /// Base learning rate (default 0.01).
    pub learning_rate: f64,
    /// Decay rate of the gradient's running mean (default 0.9).
    pub beta1: f32,
    /// Decay rate of the squared gradient's running mean (default 0.999).
    pub beta2: f32,
    /// Added to the denominator for numerical stability (default 1e-8).
    pub epsilon: f32,
    /// Weight decay: added to the gradient for `adam`, decoupled for `adamw`.
    pub weight_decay: f32,
}

impl Default for AdamConfig {
    fn default() -> Self {
        Self {
            learning_rate: 0.01,
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-8,
            weight_decay: 0.0,
        }
    }
}

/// `optimizer = { kind = "rmsprop" }`: RMSprop's options (PyTorch's defaults).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RmsPropConfig {
    /// Base learning rate (default 0.01).
    pub learning_rate: f64,
    /// Smoothing constant of the squared-gradient average.
    pub alpha: f32,
    /// Momentum factor (default 0).
    pub momentum: f32,
    /// Added to the denominator for numerical stability (default 1e-8).
    pub epsilon: f32,
    /// Normalise by the gradient's variance rather than its second moment.
    pub centered: bool,
    /// L2 weight decay added to the gradient.
    pub weight_decay: f32,
}

impl Default for RmsPropConfig {
    fn default() -> Self {
        // PyTorch's defaults.
        Self {
            learning_rate: 0.01,
            alpha: 0.99,
            momentum: 0.0,
            epsilon: 1e-8,
            centered: false,
            weight_decay: 0.0,
        }
    }
}
