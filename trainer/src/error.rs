//! The trainer's typed errors. The CLI prints each as one line (`error: ...`) and exits 1.
//!
//! Messages follow one shape: what went wrong, where (`in FILE:LINE[:COLUMN]`), and the fix.

use std::path::PathBuf;

use kiln_backends::BackendError;
use kiln_model_zoo::{ConfigError, FitError};

/// A place in a file, printed as `FILE:LINE` or `FILE:LINE:COLUMN`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub path: PathBuf,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl Location {
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            line: None,
            column: None,
        }
    }

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
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
        fix: &'static str,
    },
    /// The config file is not valid.
    #[error("{message}, in {location}; {fix}")]
    Config {
        message: String,
        location: Location,
        fix: String,
    },
    /// A data file is not valid.
    #[error("{message}, in {location}; {fix}")]
    Data {
        message: String,
        location: Location,
        fix: String,
    },
    /// The backend cannot be used.
    #[error("{source}, in {location}")]
    Backend {
        source: BackendError,
        location: Location,
    },
    /// The model config does not fit the data.
    #[error("{source}, in {location}")]
    Model {
        source: ConfigError,
        location: Location,
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
        epoch: usize,
        step: usize,
        value: f32,
        /// Where the last good checkpoint is, and how to resume from it.
        kept: Option<String>,
    },
    /// Ctrl-C stopped the run after a step; a checkpoint was written.
    #[error("interrupted at epoch {epoch}, step {step}; {resume}")]
    Interrupted {
        epoch: usize,
        step: usize,
        resume: String,
    },
    /// A run directory is missing or incomplete.
    #[error("{message}, in {}; {fix}", path.display())]
    Run {
        message: String,
        path: PathBuf,
        fix: String,
    },
    /// A command-line value is not valid.
    #[error("{message}; {fix}")]
    Usage { message: String, fix: String },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

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
