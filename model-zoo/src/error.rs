//! Typed errors of the model zoo.

use alloc::string::String;

/// A model config that cannot be used with the data it is given. Each variant is one rule;
/// [`ConfigError::key`] names the config key at fault so the trainer can point at its line.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// A penalty or rate that must be zero or positive is negative.
    #[error("`{key}` must be >= 0, got {value}")]
    Negative {
        /// The `[model]` key at fault.
        key: &'static str,
        /// The value given.
        value: f64,
    },
    /// A number that must be finite is NaN or infinite.
    #[error("`{key}` must be a finite number, got {value}")]
    NotFinite {
        /// The `[model]` key at fault.
        key: &'static str,
        /// The value given.
        value: f64,
    },
    /// The model predicts a number but the target column holds class labels.
    #[error(
        "model `{model}` needs a numeric target, but the target column holds class labels; \
         pick a numeric column as `[data] target` or a classifier such as `logistic_regression`"
    )]
    NeedsNumericTarget {
        /// The model's kind, as named in `[model] kind`.
        model: &'static str,
    },
    /// The model predicts classes but the target column is numeric (or absent).
    #[error(
        "model `{model}` needs a class-label target; set `[data] target` to a column of labels"
    )]
    NeedsClassTarget {
        /// The model's kind, as named in `[model] kind`.
        model: &'static str,
    },
    /// A classifier was given fewer than two classes.
    #[error("model `{model}` needs at least 2 classes in the target column, found {found}")]
    TooFewClasses {
        /// The model's kind, as named in `[model] kind`.
        model: &'static str,
        /// The number of classes in the target column.
        found: usize,
    },
    /// An option that does not fit the data.
    #[error("{message}")]
    Invalid {
        /// The `[model]` key at fault.
        key: &'static str,
        /// What is wrong, shown to the user as is.
        message: String,
    },
}

impl ConfigError {
    /// The `[model]` key this error is about, if it is about one.
    pub fn key(&self) -> Option<&'static str> {
        match self {
            Self::Negative { key, .. }
            | Self::NotFinite { key, .. }
            | Self::Invalid { key, .. } => Some(key),
            Self::NeedsNumericTarget { .. }
            | Self::NeedsClassTarget { .. }
            | Self::TooFewClasses { .. } => None,
        }
    }
}

/// Checks that `value` is finite and not negative.
pub(crate) fn check_non_negative(key: &'static str, value: f64) -> Result<f64, ConfigError> {
    if !value.is_finite() {
        Err(ConfigError::NotFinite { key, value })
    } else if value < 0.0 {
        Err(ConfigError::Negative { key, value })
    } else {
        Ok(value)
    }
}

/// Checks that a count (`k`, `n_init`, `max_iter`, ...) is at least 1.
pub(crate) fn check_at_least_one(key: &'static str, value: usize) -> Result<usize, ConfigError> {
    if value == 0 {
        Err(ConfigError::Invalid {
            key,
            message: alloc::format!("`{key}` must be at least 1"),
        })
    } else {
        Ok(value)
    }
}

/// The number of classes of a classifier's data: a class-label target with at least two.
pub(crate) fn check_classes(
    model: &'static str,
    shape: &crate::data::DataShape,
) -> Result<usize, ConfigError> {
    let crate::data::Task::Classification { n_classes } = shape.task else {
        return Err(ConfigError::NeedsClassTarget { model });
    };
    if n_classes < 2 {
        return Err(ConfigError::TooFewClasses {
            model,
            found: n_classes,
        });
    }
    Ok(n_classes)
}

/// Why fitting failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FitError {
    /// A linear system stayed singular even with the largest jitter tried.
    #[error(
        "the normal equations are singular even with jitter {jitter:e} on the diagonal \
         (constant or duplicated feature columns?); drop those columns or set `l2` > 0"
    )]
    Singular {
        /// The largest jitter added to the diagonal.
        jitter: f64,
    },
    /// A model was asked for the other kind of fit than the one it has.
    #[error("model `{model}` is not fitted by {method}")]
    WrongMethod {
        /// The model's kind.
        model: &'static str,
        /// The fit asked for, e.g. `"gradient descent"`.
        method: &'static str,
    },
    /// Fewer rows than the model needs (e.g. fewer rows than clusters).
    #[error("the training data has {rows} rows, fewer than `{key} = {needed}` asks for")]
    TooFewRows {
        /// Rows in the training data.
        rows: usize,
        /// Rows the model needs at least.
        needed: usize,
        /// The config key that sets the need (`k`).
        key: &'static str,
    },
    /// More rows than the model can hold (its matrices grow with the square of the rows).
    #[error(
        "model `{model}` holds n × n matrices and takes at most {max} training rows, the data \
         has {rows}; train on a sample of the rows"
    )]
    TooManyRows {
        /// The model's kind.
        model: &'static str,
        /// Rows in the training data.
        rows: usize,
        /// The most rows the model takes.
        max: usize,
    },
    /// The data has no rows.
    #[error("the training data has no rows")]
    Empty,
    /// A model that needs every row at once was given rows read in parts.
    #[error(
        "this model needs all its training rows at once, and they are read a chunk at a time; \
         load the file whole (no `chunk_rows`)"
    )]
    NeedsAllRows,
    /// A batch's targets are not the kind the model takes (class labels for a regression,
    /// numbers for a classifier).
    #[error("model `{model}` needs {needs}, but the batch has the other kind of target")]
    WrongTargets {
        /// The model's kind.
        model: &'static str,
        /// What it needs, e.g. `"numeric targets"`.
        needs: &'static str,
    },
    /// The model's config does not fit the data it is trained on.
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// A mixture component's covariance is not positive definite (it collapsed onto too few
    /// or duplicate rows).
    #[error(
        "the covariance of mixture component {component} is not positive definite (it has \
         collapsed onto too few or duplicate rows); raise `reg_covar` or lower `k`"
    )]
    IllDefinedCovariance {
        /// Index of the component, `0..k`.
        component: usize,
    },
    /// A Gaussian process's kernel matrix is not positive definite, even with the largest
    /// jitter tried on its diagonal.
    #[error(
        "the kernel matrix is not positive definite even with jitter on its diagonal \
         (duplicate rows and no noise term?); add a `WhiteKernel` to the kernel or raise `alpha`"
    )]
    NotPositiveDefinite,
    /// Reading a result back from the device failed.
    #[error("reading from the device failed: {0}")]
    Device(String),
}
