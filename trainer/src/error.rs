//! The trainer's typed errors. The CLI prints each as one line (`error: ...`) and exits 1.
//!
//! Messages follow one shape: what went wrong, where (`in FILE:LINE[:COLUMN]`), and the fix.

use std::path::PathBuf;

use kiln_backends::BackendError;
use kiln_model_zoo::{ConfigError, FitError};

/// A place in a file, printed as `FILE:LINE` or `FILE:LINE:COLUMN`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file.
    pub path: PathBuf,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known (only printed with a line).
    pub column: Option<usize>,
}

impl Location {
    /// The whole file `path`, no line.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            line: None,
            column: None,
        }
    }

    /// Line `line` (1-based) of `path`.
    pub fn line(path: impl Into<PathBuf>, line: usize) -> Self {
        Self {
            path: path.into(),
            line: Some(line),
            column: None,
        }
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        Ok(())
    }
}

/// Everything that can stop a kiln command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error("cannot {action} {}: {source}; {fix}", path.display())]
    Io {
        /// What was being done, e.g. `"read the checkpoint"`.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
        /// How to fix it.
        fix: &'static str,
    },
    /// The config file is not valid.
    #[error("{message}, in {location}; {fix}")]
    Config {
        /// What is wrong.
        message: String,
        /// The config file, and the line when known.
        location: Location,
        /// How to fix it.
        fix: String,
    },
    /// A data file is not valid.
    #[error("{message}, in {location}; {fix}")]
    Data {
        /// What is wrong.
        message: String,
        /// The data file, and the line when known.
        location: Location,
        /// How to fix it.
        fix: String,
    },
    /// A table's columns break a rule (a column all missing, a numeric one holding text...).
    #[error("{}, in {location}; {}", what_then_fix(source).0, what_then_fix(source).1)]
    Table {
        /// The rule broken.
        source: Box<crate::table::TableError>,
        /// The data file, and the line when known; or the config key at fault.
        location: Location,
    },
    /// The backend cannot be used.
    #[error("{source}, in {location}")]
    Backend {
        /// Why the backend cannot be opened.
        source: BackendError,
        /// Where the backend is chosen (the config's `backend` key or the run's metadata).
        location: Location,
    },
    /// The model config does not fit the data.
    #[error("{source}{}", location.as_ref().map(|l| format!(", in {l}")).unwrap_or_default())]
    Model {
        /// The rule the config breaks.
        source: ConfigError,
        /// The config key at fault, when the config came from a file.
        location: Option<Location>,
    },
    /// Rows given in memory do not make a data set.
    #[error("{0}")]
    Dataset(#[from] crate::data::DatasetError),
    /// A config or run names a model kind this program does not know.
    #[error("unknown model kind `{kind}`, in {location}; {fix}")]
    UnknownKind {
        /// The kind named.
        kind: String,
        /// Where it is named.
        location: Location,
        /// The nearest known kind, or the list of them.
        fix: String,
    },
    /// Fitting failed.
    #[error("{0}")]
    Fit(#[from] FitError),
    /// The loss became NaN or infinite.
    #[error(
        "the training loss became {value} at epoch {epoch}, step {step}; lower \
         `train.optimizer.learning_rate` (e.g. --set train.optimizer.learning_rate=0.001) or \
         standardize the data (`[data] standardize = true`){}",
        kept.as_deref().map(|k| format!(
            "; {k}"
        )).unwrap_or_default()
    )]
    Diverged {
        /// The epoch (or iterative-fit step) it happened in, 1-based.
        epoch: usize,
        /// The step it happened at, 1-based.
        step: usize,
        /// The loss: NaN or infinite.
        value: f32,
        /// Where the last good checkpoint is, and how to resume from it.
        kept: Option<String>,
    },
    /// Ctrl-C stopped the run after a step; a checkpoint was written.
    #[error("interrupted at epoch {epoch}, step {step}; {resume}")]
    Interrupted {
        /// The epoch (or iterative-fit step) under way.
        epoch: usize,
        /// Steps taken.
        step: usize,
        /// How to resume from the checkpoint.
        resume: String,
    },
    /// Ctrl-C stopped a search between trials; the finished ones are kept.
    #[error("search stopped after {done} of {total} trials; {resume}")]
    SearchStopped {
        /// Trials finished.
        done: usize,
        /// Trials in the search.
        total: usize,
        /// How to continue it.
        resume: String,
    },
    /// A run directory is missing or incomplete.
    #[error("{message}, in {}; {fix}", path.display())]
    Run {
        /// What is wrong.
        message: String,
        /// The run directory or the file in it at fault.
        path: PathBuf,
        /// How to fix it.
        fix: String,
    },
    /// The reader of the output went away (`kiln predict | head`): not an error to report.
    #[error("the output was closed before everything was written")]
    OutputClosed,
    /// A command-line value is not valid.
    #[error("{message}; {fix}")]
    Usage {
        /// What is wrong.
        message: String,
        /// How to fix it.
        fix: String,
    },
}

/// A message `what; fix` as its two parts, so the location goes between them.
fn what_then_fix(error: &impl std::fmt::Display) -> (String, String) {
    let text = error.to_string();
    match text.split_once("; ") {
        Some((what, fix)) => (what.to_owned(), fix.to_owned()),
        None => (text, String::new()),
    }
}

/// The trainer's result type, [`Error`] by default.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The first `shown` of `names`, comma-separated, and how many more there are: so an error
/// about one of a thousand classes stays one readable line.
pub fn some_of(names: &[String], shown: usize) -> String {
    let mut text = names
        .iter()
        .take(shown)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > shown {
        text.push_str(&format!(", ... ({} more)", names.len() - shown));
    }
    text
}

impl Error {
    /// An I/O error on `path`, with the fix that fits its kind.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        let fix = match source.kind() {
            std::io::ErrorKind::NotFound => {
                "check the path (paths in a config file are relative to that file)"
            }
            std::io::ErrorKind::PermissionDenied => "check the file's permissions",
            _ => "check the file and the disk",
        };
        Self::Io {
            action,
            path: path.into(),
            source,
            fix,
        }
    }
}
