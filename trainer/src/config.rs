//! The TOML config file: its schema, `--set` overrides, and errors that point at the line.

use std::path::{Path, PathBuf};

use kiln_backends::BackendKind;
use kiln_model_zoo::{ConfigReadError, Estimator, Supervision};
use serde::{Deserialize, Serialize};

use std::collections::BTreeMap;

use crate::data::CsvFormat;
use crate::error::{Error, Location, Result};
pub use crate::options::{
    AdamConfig, EarlyStopping, OptimizerConfig, RmsPropConfig, Schedule, SgdConfig, TrainConfig,
};
use crate::table::{CategoryEncoding, ColumnSpec, Impute, MissingRule, TableSpec};

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
    /// `[data]`.
    pub data: DataConfig,
    /// `[model]`: `kind` and the model's own keys, read by the model the kind names (see
    /// [`LoadedConfig::model_config`]).
    pub model: toml::Table,
    /// `[train]`.
    #[serde(default)]
    pub train: TrainConfig,
    /// `[search]`: what `kiln search` tries (ignored by the other commands).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<crate::search::SearchConfig>,
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
    /// Fraction of the training rows held out for validation (default 0.2 for a supervised
    /// model, 0 for clustering; 0 for none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_fraction: Option<f64>,
    /// Scale each feature to zero mean and unit variance (statistics of the training split).
    #[serde(default = "yes")]
    pub standardize: bool,
    /// The field delimiter (a character such as `";"` or `"\t"`); by default taken from the
    /// header line: a comma, or `;`, a tab or `|` when the header has no comma.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<char>,
    /// The longest line read, in bytes (default 16 MiB): a longer one is an error naming it,
    /// so no file (a file of NUL bytes, `/dev/zero`) can grow the reader's memory without
    /// bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_line_bytes: Option<usize>,
    /// The longest cell read, in bytes (default 1 MiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_field_bytes: Option<usize>,
    /// Stream `train` from disk this many rows at a time instead of loading it whole, for files
    /// larger than memory: memory holds one chunk, each epoch visits the chunks in a seeded
    /// order and shuffles the rows within each. Gradient-fitted models and mini-batch k-means
    /// only; validation then comes from `valid` alone (default: load the whole file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunk_rows: Option<usize>,
    /// Only these columns are features ([`TableSpec::features`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<Vec<String>>,
    /// Every column but these is a feature ([`TableSpec::drop`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drop: Vec<String>,
    /// Columns read as categories ([`TableSpec::categorical`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categorical: Vec<String>,
    /// Columns that must hold numbers ([`TableSpec::numeric`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub numeric: Vec<String>,
    /// `one_hot` (default) or `ordinal` ([`TableSpec::encoding`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<CategoryEncoding>,
    /// The most one-hot features per column ([`TableSpec::max_categories`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_categories: Option<usize>,
    /// Rarer categories fold into `(other)` ([`TableSpec::min_frequency`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_frequency: Option<f64>,
    /// Whether rare categories share an `(other)` feature ([`TableSpec::other`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other: Option<bool>,
    /// Cell texts that mean missing ([`TableSpec::missing_values`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing_values: Option<Vec<String>>,
    /// `impute` (default), `drop_row` or `error` ([`TableSpec::missing`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing: Option<MissingRule>,
    /// A numeric column's missing cell: `mean` (default), `median`, `most_frequent` or
    /// `{ constant = x }` ([`TableSpec::impute`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impute: Option<Impute>,
    /// Mark imputed cells with a 0/1 feature ([`TableSpec::missing_indicator`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing_indicator: Option<bool>,
    /// Per-column settings, `[data.columns.NAME]` ([`TableSpec::columns`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub columns: BTreeMap<String, ColumnSpec>,
}

impl DataConfig {
    /// The fraction of `train` held out for validation: `valid_fraction`, else 0.2 for a
    /// model that learns a target and 0 for clustering, which scikit-learn fits on all rows.
    pub fn holdout_fraction(&self, supervision: Supervision) -> f64 {
        self.valid_fraction.unwrap_or(match supervision {
            Supervision::None => 0.0,
            Supervision::Values | Supervision::Labels => 0.2,
        })
    }

    /// The column keys, as the library takes them.
    pub fn table_spec(&self) -> TableSpec {
        let defaults = TableSpec::default();
        TableSpec {
            features: self.features.clone(),
            drop: self.drop.clone(),
            categorical: self.categorical.clone(),
            numeric: self.numeric.clone(),
            encoding: self.encoding.unwrap_or(defaults.encoding),
            max_categories: self.max_categories,
            min_frequency: self.min_frequency,
            other: self.other.unwrap_or(defaults.other),
            missing_values: self.missing_values.clone(),
            missing: self.missing.unwrap_or(defaults.missing),
            impute: self.impute.clone(),
            missing_indicator: self.missing_indicator.unwrap_or(defaults.missing_indicator),
            columns: self.columns.clone(),
        }
    }
}

fn yes() -> bool {
    true
}

/// A parsed config with what is needed to point errors at its source.
#[derive(Clone, Debug)]
pub struct LoadedConfig {
    /// The parsed config.
    pub config: Config,
    /// The config file.
    pub path: PathBuf,
    /// The TOML text after `--set` overrides; line numbers refer to it.
    source: String,
    /// The backend, checked.
    pub backend: BackendKind,
    /// Each `--set KEY=VALUE`: the key's path and the whole assignment.
    overrides: Vec<(Vec<String>, String)>,
    /// Whether this is a run's resolved config, whose `[model]` lacks only keys that did not
    /// exist when it was written (see [`Estimator::EARLIER_DEFAULTS`]).
    of_run: bool,
}

impl LoadedConfig {
    /// [`LoadedConfig::load`] of a run's resolved config (`RUN/config.toml`): a `[model]` key
    /// it lacks did not exist when the run was written, and takes the default it had then.
    pub fn load_run(path: &Path, overrides: &[String]) -> Result<Self> {
        Ok(Self {
            of_run: true,
            ..Self::load(path, overrides)?
        })
    }

    /// Reads `path`, applies `overrides` (`KEY=VALUE`, dotted keys such as
    /// `train.optimizer.learning_rate=0.001`), parses and validates it.
    pub fn load(path: &Path, overrides: &[String]) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("read config", path, e))?;
        let source = apply_overrides(path, &text, overrides)?;
        let config: Config = match toml::from_str(&source) {
            Ok(config) => config,
            Err(e) => return Err(override_error(path, &text, overrides, &e)),
        };
        let mut loaded = Self {
            config,
            path: path.to_owned(),
            source,
            backend: BackendKind::Flex,
            overrides: overrides
                .iter()
                .filter_map(|o| {
                    let (key, _) = o.split_once('=')?;
                    Some((
                        key.split('.').map(|k| k.trim().to_owned()).collect(),
                        o.clone(),
                    ))
                })
                .collect(),
            of_run: false,
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

    /// The config with its data files' paths absolute, as a run directory keeps them.
    pub fn with_absolute_data_paths(&self) -> Config {
        let mut config = self.config.clone();
        config.data.train = self.resolve_absolute(&config.data.train);
        config.data.valid = config
            .data
            .valid
            .as_deref()
            .map(|p| self.resolve_absolute(p));
        config
    }

    /// Where the key at `keys` (e.g. `["model", "l2"]`) is in the config file; the file alone
    /// when the key is absent (a default was used).
    pub fn locate(&self, keys: &[&str]) -> Location {
        // A value that came from `--set` is named by its override, not by a line the file
        // does not have.
        if let Some((_, assignment)) = self.overrides.iter().rev().find(|(path, _)| {
            let shared = path.len().min(keys.len());
            shared > 0 && path[..shared].iter().zip(keys).all(|(a, b)| a == b)
        }) {
            // `kiln train --backend NAME` arrives as the override `backend=NAME`.
            return Location::file(match assignment.strip_prefix("backend=") {
                Some(name) => format!("--backend {name}"),
                None => format!("--set {assignment}"),
            });
        }
        let mut location = Location::file(&self.path);
        if let Some(offset) = key_offset(&self.source, keys) {
            let (line, column) = line_column(&self.source, offset);
            location.line = Some(line);
            location.column = Some(column);
        }
        location
    }

    /// How `[data]` says its CSV files are read.
    pub fn csv_format(&self) -> Result<CsvFormat> {
        let data = &self.config.data;
        let defaults = CsvFormat::default();
        let delimiter = match data.delimiter {
            None => None,
            Some(d) if d.is_ascii() && !d.is_ascii_alphanumeric() && d != '"' && d != '\n' => {
                Some(d as u8)
            }
            Some(d) => {
                return Err(self.error(
                    &["data", "delimiter"],
                    format!("`delimiter` must be one ASCII punctuation character, got {d:?}"),
                    "use e.g. `delimiter = \";\"` or `delimiter = \"\\t\"`".into(),
                ));
            }
        };
        Ok(CsvFormat {
            delimiter,
            max_line_bytes: data.max_line_bytes.unwrap_or(defaults.max_line_bytes),
            max_field_bytes: data.max_field_bytes.unwrap_or(defaults.max_field_bytes),
        })
    }

    /// The `kind` of the `[model]` table.
    pub fn kind(&self, known: &[&str]) -> Result<&str> {
        match self.config.model.get("kind") {
            Some(toml::Value::String(kind)) => Ok(kind),
            Some(_) => Err(self.error(
                &["model", "kind"],
                "`kind` must be a string".into(),
                format!(
                    "write e.g. `kind = \"{}\"`",
                    known.first().unwrap_or(&"mlp")
                ),
            )),
            None => Err(self.error(
                &["model"],
                "`[model]` has no `kind`".into(),
                format!("add `kind = ...`; the kinds are: {}", known.join(", ")),
            )),
        }
    }

    /// The `[model]` table read as `M`'s config, every error located at its key.
    pub fn model_config<M: Estimator>(&self) -> Result<M::Config> {
        let mut table = serde_json::to_value(&self.config.model).map_err(|e| {
            self.error(
                &["model"],
                format!("`[model]` cannot be read: {e}"),
                "fix the values of `[model]`".into(),
            )
        })?;
        if self.of_run {
            M::fill_earlier_defaults(&mut table);
        }
        M::read_config(table).map_err(|e| match e {
            ConfigReadError::Invalid(message) => {
                let described = describe_serde_error(&message);
                let keys: Vec<&str> = match &described.key {
                    Some(key) => vec!["model", key],
                    None => vec!["model"],
                };
                self.error(&keys, described.message, described.fix)
            }
            ConfigReadError::WrongKind { found, expected } => self.error(
                &["model", "kind"],
                format!("unknown value `{found}`"),
                suggestion(&found, &expected.split(", ").collect::<Vec<_>>()),
            ),
            ConfigReadError::MissingKind => self.error(
                &["model"],
                "`[model]` has no `kind`".into(),
                format!("add `kind = ...`; the kinds are: {}", M::KINDS.join(", ")),
            ),
        })
    }

    /// The config as it was used to fit `model`, as TOML: defaults filled in (the model's
    /// whole table, the validation fraction its supervision gave), overrides applied, data
    /// paths absolute.
    pub fn resolved<M: Estimator>(&self, model: &M::Config) -> Result<String> {
        let mut config = self.with_absolute_data_paths();
        if config.data.valid.is_none() && config.data.chunk_rows.is_none() {
            config.data.valid_fraction = Some(config.data.holdout_fraction(M::supervision(model)));
        }
        let model = M::write_config(model);
        // A run's config trains one model: the search that picked it is not part of it.
        config.search = None;
        config.backend = self.backend.name().into();
        let bug = |e: String| Error::Run {
            message: format!("cannot write the resolved config: {e}"),
            path: self.path.clone(),
            fix: "report this as a kiln bug".into(),
        };
        // `[model]` goes in with `kind` first, then the model's keys (nested tables included).
        let model_text = toml::Value::try_from(without_nulls(model))
            .and_then(|value| toml::to_string(&value))
            .map_err(|e| bug(e.to_string()))?;
        let model: toml_edit::DocumentMut = model_text.parse().map_err(|e| bug(format!("{e}")))?;
        let mut table = toml_edit::Table::new();
        if let Some(kind) = model.get("kind") {
            table.insert("kind", kind.clone());
        }
        for (key, item) in model.iter().filter(|(key, _)| *key != "kind") {
            table.insert(key, item.clone());
        }
        config.model = toml::Table::new();
        let mut doc: toml_edit::DocumentMut = toml::to_string(&config)
            .map_err(|e| bug(e.to_string()))?
            .parse()
            .map_err(|e| bug(format!("{e}")))?;
        doc.insert("model", toml_edit::Item::Table(table));
        Ok(doc.to_string())
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
        for (key, limit) in [
            ("max_line_bytes", c.data.max_line_bytes),
            ("max_field_bytes", c.data.max_field_bytes),
        ] {
            if limit == Some(0) {
                return Err(self.error(
                    &["data", key],
                    format!("`{key}` must be at least 1"),
                    "leave it out for the default, or set a generous limit".into(),
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

/// The error of a config that does not parse after `overrides`: the first override that breaks
/// it, named as the user wrote it, or else the file's own error at its line.
fn override_error(path: &Path, text: &str, overrides: &[String], err: &toml::de::Error) -> Error {
    if let Err(e) = toml::from_str::<Config>(text) {
        return toml_error(path, text, &e);
    }
    for i in 0..overrides.len() {
        let source = apply_overrides(path, text, &overrides[..=i]).unwrap_or_default();
        if let Err(e) = toml::from_str::<Config>(&source) {
            let described = describe_serde_error(e.message());
            return Error::Config {
                message: described.message,
                location: Location::file(format!("--set {}", overrides[i])),
                fix: "fix the value of that `--set`".into(),
            };
        }
    }
    toml_error(path, text, err)
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
    let described = describe_serde_error(err.message());
    Error::Config {
        message: described.message,
        location,
        fix: described.fix,
    }
}

/// A serde error message (unknown field, unknown variant, missing field, ...) as kiln says it.
struct Described {
    message: String,
    fix: String,
    /// The key the error is about, when it names one.
    key: Option<String>,
}

fn describe_serde_error(message: &str) -> Described {
    let message = message.trim().replace('\n', " ");
    let ticked = backticked(&message);
    let first = ticked.first().cloned().unwrap_or_default();
    let known: Vec<&str> = ticked.iter().skip(1).map(String::as_str).collect();
    if message.starts_with("unknown field ") {
        Described {
            message: format!("unknown key `{first}`"),
            fix: suggestion(&first, &known),
            key: Some(first),
        }
    } else if message.starts_with("unknown variant ") {
        Described {
            message: format!("unknown value `{first}`"),
            fix: suggestion(&first, &known),
            key: None,
        }
    } else if message.starts_with("missing field ") {
        Described {
            message: format!("missing key `{first}`"),
            fix: format!("add `{first} = ...` to this table"),
            key: None,
        }
    } else {
        Described {
            message,
            fix: "fix the TOML at that place (configs/ has working examples)".to_owned(),
            key: None,
        }
    }
}

/// `value` without its `null`s, which TOML cannot hold (an absent key means the same).
fn without_nulls(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => serde_json::Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, without_nulls(v)))
                .collect(),
        ),
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.into_iter().map(without_nulls).collect())
        }
        other => other,
    }
}

/// "did you mean `x`?" for the known name nearest to `unknown`, or the list of known names.
pub fn suggestion(unknown: &str, known: &[&str]) -> String {
    // A word of several names (`svm` of `kernel_svm` and `linear_svm`) names them all.
    let by_word: Vec<&str> = known
        .iter()
        .copied()
        .filter(|k| *k != unknown && k.split('_').any(|word| word == unknown))
        .collect();
    if !by_word.is_empty() {
        let names: Vec<String> = by_word.iter().map(|k| format!("`{k}`")).collect();
        return format!("did you mean {}?", names.join(" or "));
    }
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

    #[test]
    fn a_word_of_several_names_suggests_them_all() {
        let kinds = ["glm", "kernel_svm", "linear_svm", "kmeans"];
        assert_eq!(
            suggestion("svm", &kinds),
            "did you mean `kernel_svm` or `linear_svm`?"
        );
        assert_eq!(suggestion("kmean", &kinds), "did you mean `kmeans`?");
    }

    /// scikit-learn's names of the same parameters are read too, and written back as kiln's.
    #[test]
    fn scikit_learn_names_are_read_as_kilns() {
        use kiln_model_zoo::{Estimator, Model};
        let cases = [
            (
                serde_json::json!({"kind": "kmeans", "n_clusters": 3}),
                "k",
                3.0,
            ),
            (
                serde_json::json!({"kind": "gmm", "n_components": 2}),
                "k",
                2.0,
            ),
            (
                serde_json::json!({"kind": "linear_svm", "C": 0.5}),
                "c",
                0.5,
            ),
            (
                serde_json::json!({"kind": "kernel_svm", "C": 10.0}),
                "c",
                10.0,
            ),
            (
                serde_json::json!({"kind": "linear_regression", "alpha": 2.0}),
                "l2",
                2.0,
            ),
            (
                serde_json::json!({"kind": "logistic_regression", "C": 4.0}),
                "l2",
                0.25,
            ),
            (
                serde_json::json!({"kind": "logistic_regression"}),
                "l2",
                1.0,
            ),
        ];
        for (table, key, value) in cases {
            let config = Model::read_config(table.clone()).unwrap();
            let written = Model::write_config(&config);
            assert_eq!(written[key].as_f64(), Some(value), "{table} -> {written}");
        }
        // Both names at once is a clash, refused.
        let both = serde_json::json!({"kind": "kmeans", "k": 3, "n_clusters": 4});
        assert!(Model::read_config(both).is_err());
        let both = serde_json::json!({"kind": "logistic_regression", "C": 2.0, "l2": 0.5});
        let error = Model::read_config(both).unwrap_err().to_string();
        assert!(error.contains("`C` and `l2` are both set"), "{error}");
        let zero = serde_json::json!({"kind": "logistic_regression", "C": 0.0});
        assert!(Model::read_config(zero).is_err());
        let unknown = serde_json::json!({"kind": "logistic_regression", "l3": 1.0});
        let error = Model::read_config(unknown).unwrap_err().to_string();
        assert!(error.contains("unknown field `l3`"), "{error}");
    }

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

    /// The error of loading `text` and reading its `[model]` as a zoo model.
    fn message(text: &str, overrides: &[&str]) -> String {
        load(text, overrides)
            .and_then(|loaded| {
                loaded
                    .model_config::<kiln_model_zoo::Model>()
                    .map(|_| loaded)
            })
            .unwrap_err()
            .to_string()
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
        let model = loaded.model_config::<kiln_model_zoo::Model>().unwrap();
        assert_eq!(
            kiln_model_zoo::Model::write_config(&model)["l2"],
            serde_json::json!(2.0)
        );
        // A key set by `--set` is located at its override; the others at their line.
        assert_eq!(
            loaded.locate(&["model", "l2"]).to_string(),
            "--set model.l2=2"
        );
        assert_eq!(
            loaded
                .locate(&["model", "kind"])
                .to_string()
                .rsplit_once("c.toml")
                .unwrap()
                .1,
            ":9:1"
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
        assert!(msg.contains("c.toml:10:1;"), "{msg}");

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
        let msg = message(&BASE.replace("\"flex\"", "\"flx\""), &[]);
        assert!(
            msg.starts_with("unknown backend `flx`, in ")
                && msg.contains("c.toml:1:1; did you mean `flex`?"),
            "{msg}"
        );
        let msg = message(BASE, &["backend=flx"]);
        assert!(
            msg.contains("in --backend flx; did you mean `flex`?"),
            "{msg}"
        );
    }

    #[test]
    fn malformed_toml_and_bad_values_point_at_the_line() {
        let msg = message(&BASE.replace("seed = 7", "seed = = 7"), &[]);
        assert!(msg.contains("c.toml:2:"), "{msg}");
        let msg = message(BASE, &["data.valid_fraction=1.5"]);
        assert!(
            msg.contains("`valid_fraction` must be in [0, 1)")
                && msg.contains("in --set data.valid_fraction=1.5;"),
            "{msg}"
        );
        let msg = message(&BASE.replace("0.1 }", "-1 }"), &[]);
        assert!(
            msg.contains("`learning_rate` must be a positive number") && msg.contains("c.toml:14:"),
            "{msg}"
        );
        let msg = message(BASE, &["train.optimizer.learning_rate=-1"]);
        assert!(
            msg.contains("in --set train.optimizer.learning_rate=-1;"),
            "{msg}"
        );
        let msg = message(BASE, &["train.epochs"]);
        assert!(msg.contains("is not KEY=VALUE"), "{msg}");
    }
}
