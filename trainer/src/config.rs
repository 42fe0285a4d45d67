//! The TOML config file: its schema, `--set` overrides, and errors that point at the line.

use std::path::{Path, PathBuf};

use kiln_backends::BackendKind;
use kiln_model_zoo::ModelConfig;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Location, Result};

/// A whole config file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `flex` (default), `ndarray`, `wgpu` or `vulkan`; must be compiled in.
    #[serde(default = "default_backend")]
    pub backend: String,
    /// Seeds the train/valid split, the batch order and the device's RNG.
    #[serde(default = "default_seed")]
    pub seed: u64,
    pub data: DataConfig,
    pub model: ModelConfig,
    #[serde(default)]
    pub train: TrainConfig,
}

fn default_backend() -> String {
    BackendKind::Flex.name().to_owned()
}

fn default_seed() -> u64 {
    42
}

/// `[data]`: where the data is and how to prepare it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    /// Training CSV (header row), relative to the config file.
    pub train: PathBuf,
    /// The label or regression column. Every other column is a feature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// A separate validation CSV; otherwise `valid_fraction` of `train` is held out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid: Option<PathBuf>,
    /// Fraction of the training rows held out for validation (default 0.2; 0 for none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_fraction: Option<f64>,
    /// Scale each feature to zero mean and unit variance (statistics of the training split).
    #[serde(default = "yes")]
    pub standardize: bool,
    /// Stream `train` from disk this many rows at a time instead of loading it whole, for files
    /// larger than memory: memory holds one chunk, each epoch visits the chunks in a seeded
    /// order and shuffles the rows within each. Gradient-fitted models and mini-batch k-means
    /// only; validation then comes from `valid` alone (default: load the whole file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunk_rows: Option<usize>,
}

fn yes() -> bool {
    true
}

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
    Step { every: usize, gamma: f64 },
    /// Multiplied by `gamma` every epoch.
    Exponential { gamma: f64 },
    /// Half a cosine from the full rate down to `min_lr` at the last epoch (per step).
    Cosine {
        #[serde(default)]
        min_lr: f64,
    },
    /// Multiplied by `factor` once the validation loss (the training loss without
    /// validation data) has not improved by a relative `threshold` for `patience` epochs,
    /// never below `min_lr` (PyTorch's `ReduceLROnPlateau`).
    Plateau {
        #[serde(default = "plateau_factor")]
        factor: f64,
        #[serde(default = "plateau_patience")]
        patience: usize,
        #[serde(default = "plateau_threshold")]
        threshold: f64,
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
    pub fn learning_rate(&self) -> f64 {
        match self {
            Self::Sgd(c) => c.learning_rate,
            Self::Adam(c) | Self::Adamw(c) => c.learning_rate,
            Self::Rmsprop(c) => c.learning_rate,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SgdConfig {
    pub learning_rate: f64,
    /// Momentum factor (0 = plain SGD).
    pub momentum: f64,
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

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdamConfig {
    pub learning_rate: f64,
    pub beta1: f32,
    pub beta2: f32,
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

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RmsPropConfig {
    pub learning_rate: f64,
    /// Smoothing constant of the squared-gradient average.
    pub alpha: f32,
    pub momentum: f32,
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

/// A parsed config with what is needed to point errors at its source.
#[derive(Clone, Debug)]
pub struct LoadedConfig {
    pub config: Config,
    /// The config file.
    pub path: PathBuf,
    /// The TOML text after `--set` overrides; line numbers refer to it.
    source: String,
    /// The backend, checked.
    pub backend: BackendKind,
}

impl LoadedConfig {
    /// Reads `path`, applies `overrides` (`KEY=VALUE`, dotted keys such as
    /// `train.optimizer.learning_rate=0.001`), parses and validates it.
    pub fn load(path: &Path, overrides: &[String]) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("read config", path, e))?;
        let source = apply_overrides(path, &text, overrides)?;
        let config: Config = toml::from_str(&source).map_err(|e| toml_error(path, &source, &e))?;
        let mut loaded = Self {
            config,
            path: path.to_owned(),
            source,
            backend: BackendKind::Flex,
        };
        loaded.backend = loaded.config.backend.parse().map_err(|_| {
            loaded.error(
                &["backend"],
                format!("unknown backend `{}`", loaded.config.backend),
                {
                    let names: Vec<&str> = BackendKind::ALL.iter().map(|k| k.name()).collect();
                    suggestion(&loaded.config.backend, &names)
                },
            )
        })?;
        loaded.validate()?;
        Ok(loaded)
    }

    /// The directory relative paths in the config are resolved against.
    pub fn dir(&self) -> PathBuf {
        self.path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    }

    /// `path` from the config, resolved against the config file's directory.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_owned()
        } else {
            self.dir().join(path)
        }
    }

    /// [`Self::resolve`], made absolute (for the resolved config a run directory keeps).
    pub fn resolve_absolute(&self, path: &Path) -> PathBuf {
        let resolved = self.resolve(path);
        std::path::absolute(&resolved).unwrap_or(resolved)
    }

    /// Where the key at `keys` (e.g. `["model", "l2"]`) is in the config file; the file alone
    /// when the key is absent (a default was used).
    pub fn locate(&self, keys: &[&str]) -> Location {
        let mut location = Location::file(&self.path);
        if let Some(offset) = key_offset(&self.source, keys) {
            let (line, column) = line_column(&self.source, offset);
            location.line = Some(line);
            location.column = Some(column);
        }
        location
    }

    /// A config error located at `keys`.
    pub fn error(&self, keys: &[&str], message: String, fix: String) -> Error {
        Error::Config {
            message,
            location: self.locate(keys),
            fix,
        }
    }

    fn validate(&self) -> Result<()> {
        let c = &self.config;
        if let Some(fraction) = c.data.valid_fraction {
            if !(0.0..1.0).contains(&fraction) {
                return Err(self.error(
                    &["data", "valid_fraction"],
                    format!("`valid_fraction` must be in [0, 1), got {fraction}"),
                    "use e.g. 0.2 to hold out 20% of the rows, or 0 for no validation".into(),
                ));
            }
            if c.data.valid.is_some() {
                return Err(self.error(
                    &["data", "valid_fraction"],
                    "both `valid` and `valid_fraction` are set".into(),
                    "keep one: `valid` names a validation file, `valid_fraction` splits `train`"
                        .into(),
                ));
            }
        }
        if let Some(chunk_rows) = c.data.chunk_rows {
            if chunk_rows == 0 {
                return Err(self.error(
                    &["data", "chunk_rows"],
                    "`chunk_rows` must be at least 1".into(),
                    "set e.g. `chunk_rows = 100000` (rows held in memory at once)".into(),
                ));
            }
            if c.data.valid_fraction.is_some_and(|f| f > 0.0) {
                return Err(self.error(
                    &["data", "valid_fraction"],
                    "a file streamed in chunks (`chunk_rows`) cannot hold out a fraction of \
                     its rows"
                        .into(),
                    "name a validation file with `valid = \"...\"`, or set \
                     `valid_fraction = 0`"
                        .into(),
                ));
            }
        }
        if c.train.epochs == 0 {
            return Err(self.error(
                &["train", "epochs"],
                "`epochs` must be at least 1".into(),
                "set e.g. `epochs = 100`".into(),
            ));
        }
        if c.train.batch_size == 0 {
            return Err(self.error(
                &["train", "batch_size"],
                "`batch_size` must be at least 1".into(),
                "set e.g. `batch_size = 64`".into(),
            ));
        }
        let lr = c.train.optimizer.learning_rate();
        if !(lr.is_finite() && lr > 0.0) {
            return Err(self.error(
                &["train", "optimizer", "learning_rate"],
                format!("`learning_rate` must be a positive number, got {lr}"),
                "set e.g. `learning_rate = 0.01`".into(),
            ));
        }
        if let Some(stop) = &c.train.early_stopping
            && (stop.patience == 0 || !(stop.min_delta.is_finite() && stop.min_delta >= 0.0))
        {
            return Err(self.error(
                &["train", "early_stopping"],
                "`early_stopping` needs `patience` >= 1 and a finite `min_delta` >= 0".into(),
                "set e.g. `early_stopping = { patience = 5, min_delta = 1e-4 }`".into(),
            ));
        }
        if let Some(norm) = c.train.grad_clip_norm
            && !(norm.is_finite() && norm > 0.0)
        {
            return Err(self.error(
                &["train", "grad_clip_norm"],
                format!("`grad_clip_norm` must be a positive number, got {norm}"),
                "set e.g. `grad_clip_norm = 1.0`, or remove it".into(),
            ));
        }
        let fraction = |v: f64| v.is_finite() && v > 0.0 && v <= 1.0;
        let min_lr_ok = |v: f64| v.is_finite() && v >= 0.0 && v < lr;
        let bad_schedule = match &c.train.schedule {
            Schedule::Constant => None,
            Schedule::Step { every, gamma } => (*every == 0 || !fraction(*gamma))
                .then_some("`step` needs `every` >= 1 and 0 < `gamma` <= 1"),
            Schedule::Exponential { gamma } => {
                (!fraction(*gamma)).then_some("`exponential` needs 0 < `gamma` <= 1")
            }
            Schedule::Cosine { min_lr } => {
                (!min_lr_ok(*min_lr)).then_some("`cosine` needs 0 <= `min_lr` < the learning rate")
            }
            Schedule::Plateau {
                factor,
                patience,
                threshold,
                min_lr,
            } => (!(fraction(*factor)
                && *factor < 1.0
                && *patience > 0
                && threshold.is_finite()
                && *threshold >= 0.0
                && min_lr_ok(*min_lr)))
            .then_some(
                "`plateau` needs 0 < `factor` < 1, `patience` >= 1, `threshold` >= 0 and \
                 0 <= `min_lr` < the learning rate",
            ),
        };
        if let Some(message) = bad_schedule {
            return Err(self.error(
                &["train", "schedule"],
                message.into(),
                "e.g. `schedule = { kind = \"step\", every = 30, gamma = 0.1 }`".into(),
            ));
        }
        Ok(())
    }
}

/// Applies `KEY=VALUE` overrides to the TOML text, keeping its layout (and so its line numbers
/// for every untouched key). A value that is not valid TOML is taken as a string, so
/// `--set backend=wgpu` works without quotes.
fn apply_overrides(path: &Path, text: &str, overrides: &[String]) -> Result<String> {
    if overrides.is_empty() {
        return Ok(text.to_owned());
    }
    let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
        let (line, column) = e
            .span()
            .map(|s| line_column(text, s.start))
            .unwrap_or((1, 1));
        Error::Config {
            message: format!("invalid TOML: {}", e.message()),
            location: Location {
                path: path.to_owned(),
                line: Some(line),
                column: Some(column),
            },
            fix: "fix the syntax at that place".into(),
        }
    })?;
    for assignment in overrides {
        let usage = || Error::Usage {
            message: format!("`--set {assignment}` is not KEY=VALUE"),
            fix: "write e.g. `--set train.epochs=20` or `--set backend=wgpu`".into(),
        };
        let (key, raw) = assignment.split_once('=').ok_or_else(usage)?;
        let keys: Vec<&str> = key.trim().split('.').map(str::trim).collect();
        if keys.iter().any(|k| k.is_empty()) {
            return Err(usage());
        }
        let value: toml_edit::Value = raw
            .trim()
            .parse()
            .unwrap_or_else(|_| toml_edit::Value::from(raw.trim()));
        let (last, parents) = keys.split_last().ok_or_else(usage)?;
        let mut table: &mut dyn toml_edit::TableLike = doc.as_table_mut();
        for part in parents {
            let item = table
                .entry(part)
                .or_insert_with(|| toml_edit::Item::Table(toml_edit::Table::new()));
            table = item.as_table_like_mut().ok_or_else(|| Error::Usage {
                message: format!("`--set {assignment}`: `{part}` is a value, not a table"),
                fix: "set the value itself, e.g. `--set {part}=...`".into(),
            })?;
        }
        table.insert(last, toml_edit::Item::Value(value));
    }
    Ok(doc.to_string())
}

/// Turns a TOML parse or schema error into one line pointing at the place, with the nearest
/// valid key or value when the error is an unknown one.
fn toml_error(path: &Path, source: &str, err: &toml::de::Error) -> Error {
    let (line, column) = err
        .span()
        .map(|s| line_column(source, s.start))
        .unwrap_or((1, 1));
    let location = Location {
        path: path.to_owned(),
        line: Some(line),
        column: Some(column),
    };
    let message = err.message().trim().replace('\n', " ");
    let ticked = backticked(&message);
    let (message, fix) = if let Some(rest) = message.strip_prefix("unknown field ") {
        let unknown = ticked.first().cloned().unwrap_or_default();
        let known: Vec<&str> = ticked.iter().skip(1).map(String::as_str).collect();
        let _ = rest;
        (
            format!("unknown key `{unknown}`"),
            suggestion(&unknown, &known),
        )
    } else if message.starts_with("unknown variant ") {
        let unknown = ticked.first().cloned().unwrap_or_default();
        let known: Vec<&str> = ticked.iter().skip(1).map(String::as_str).collect();
        (
            format!("unknown value `{unknown}`"),
            suggestion(&unknown, &known),
        )
    } else if message.starts_with("missing field ") {
        let missing = ticked.first().cloned().unwrap_or_default();
        (
            format!("missing key `{missing}`"),
            format!("add `{missing} = ...` to this table"),
        )
    } else if message.starts_with("missing tag") || message.contains("missing field `kind`") {
        (
            message.clone(),
            format!(
                "add `kind = ...`; the kinds are: {}",
                ModelConfig::KINDS.join(", ")
            ),
        )
    } else {
        (
            message,
            "fix the TOML at that place (configs/ has working examples)".to_owned(),
        )
    };
    Error::Config {
        message,
        location,
        fix,
    }
}

/// "did you mean `x`?" for the known name nearest to `unknown`, or the list of known names.
pub fn suggestion(unknown: &str, known: &[&str]) -> String {
    let nearest = known
        .iter()
        .map(|k| (strsim::damerau_levenshtein(unknown, k), *k))
        .min_by_key(|(distance, _)| *distance);
    match nearest {
        Some((distance, name)) if distance <= (unknown.len().max(name.len()) / 2).max(2) => {
            format!("did you mean `{name}`?")
        }
        _ if !known.is_empty() => format!("valid names are: {}", known.join(", ")),
        _ => "remove it".to_owned(),
    }
}

fn backticked(message: &str) -> Vec<String> {
    message
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// 1-based line and column of byte `offset` in `text`.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Byte offset of the key at `keys` (the deepest one present) in a TOML document.
fn key_offset(source: &str, keys: &[&str]) -> Option<usize> {
    let doc = toml_edit::Document::parse(source).ok()?;
    let mut table = doc.as_item().as_table_like()?;
    let mut found = None;
    for key in keys {
        let Some((k, item)) = table.get_key_value(key) else {
            break;
        };
        found = k.span().or_else(|| item.span()).map(|s| s.start).or(found);
        match item.as_table_like() {
            Some(inner) => table = inner,
            None => break,
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"backend = "flex"
seed = 7

[data]
train = "train.csv"
target = "y"

[model]
kind = "linear_regression"
l2 = 0.5

[train]
epochs = 3
optimizer = { kind = "sgd", learning_rate = 0.1 }
"#;

    fn load(text: &str, overrides: &[&str]) -> Result<LoadedConfig> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, text).unwrap();
        let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
        LoadedConfig::load(&path, &overrides)
    }

    fn message(text: &str, overrides: &[&str]) -> String {
        load(text, overrides).unwrap_err().to_string()
    }

    #[test]
    fn parses_a_full_config_and_applies_overrides() {
        let loaded = load(
            BASE,
            &[
                "train.epochs=9",
                "train.optimizer.learning_rate=0.5",
                "model.l2=2",
            ],
        )
        .unwrap();
        let c = &loaded.config;
        assert_eq!(c.seed, 7);
        assert_eq!(c.train.epochs, 9);
        assert_eq!(c.train.optimizer.learning_rate(), 0.5);
        assert_eq!(c.train.batch_size, 64);
        assert!(c.data.standardize);
        match &c.model {
            ModelConfig::LinearRegression(m) => assert_eq!(m.l2, 2.0),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            loaded
                .locate(&["model", "l2"])
                .to_string()
                .rsplit_once("c.toml")
                .unwrap()
                .1,
            ":10:1"
        );
    }

    #[test]
    fn unknown_keys_name_the_line_and_the_nearest_key() {
        let text = BASE.replace("epochs = 3", "epochz = 3");
        let msg = message(&text, &[]);
        assert!(msg.starts_with("unknown key `epochz`, in "), "{msg}");
        assert!(
            msg.ends_with("c.toml:13:1; did you mean `epochs`?"),
            "{msg}"
        );

        let text = BASE.replace("l2 = 0.5", "l3 = 0.5");
        let msg = message(&text, &[]);
        assert!(
            msg.contains("unknown key `l3`") && msg.contains("did you mean `l2`?"),
            "{msg}"
        );
        assert!(msg.contains("c.toml:"), "{msg}");

        let text = BASE.replace("[data]", "[dta]");
        assert!(message(&text, &[]).contains("did you mean `data`?"));
    }

    #[test]
    fn unknown_values_and_kinds_suggest_the_valid_ones() {
        let msg = message(&BASE.replace("linear_regression", "linear_regresion"), &[]);
        assert!(
            msg.contains("unknown value `linear_regresion`")
                && msg.contains("did you mean `linear_regression`?"),
            "{msg}"
        );
        let msg = message(BASE, &["backend=flx"]);
        assert!(
            msg.starts_with("unknown backend `flx`, in ")
                && msg.contains("c.toml:1:1; did you mean `flex`?"),
            "{msg}"
        );
    }

    #[test]
    fn malformed_toml_and_bad_values_point_at_the_line() {
        let msg = message(&BASE.replace("seed = 7", "seed = = 7"), &[]);
        assert!(msg.contains("c.toml:2:"), "{msg}");
        let msg = message(BASE, &["data.valid_fraction=1.5"]);
        assert!(msg.contains("`valid_fraction` must be in [0, 1)"), "{msg}");
        let msg = message(BASE, &["train.optimizer.learning_rate=-1"]);
        assert!(
            msg.contains("`learning_rate` must be a positive number") && msg.contains("c.toml:14:"),
            "{msg}"
        );
        let msg = message(BASE, &["train.epochs"]);
        assert!(msg.contains("is not KEY=VALUE"), "{msg}");
    }
}
