//! Raw tables: which columns are features, whether each is numeric or categorical, and what
//! a missing cell becomes, fitted on the training rows into the model zoo's
//! [`TableEncoding`], which every later reader (evaluation, prediction, the deployment file,
//! firmware) applies as it is.
//!
//! Fitting reads the file twice before the rows are encoded: a first pass learns what each
//! column holds (numbers, text, missing cells) and which rows are complete; a second gathers
//! the statistics (means, medians, category counts) of the training rows alone.
//!
//! ```
//! use kiln_trainer::data::TargetKind;
//! use kiln_trainer::table::{Holdout, TableSpec, fit_table};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("pets.csv");
//! std::fs::write(&path, "kind,weight,colour\ncat,4.1,black\ndog,NA,brown\ncat,3.9,\ndog,30,black\n").unwrap();
//! let target = Some(("kind", TargetKind::Labels));
//! let fitted =
//!     fit_table(&path, target, &TableSpec::default(), Default::default(), Holdout::None).unwrap();
//! assert_eq!(fitted.encoding.feature_names(), ["weight", "colour=black", "colour=brown", "colour=(missing)"]);
//! // The missing weight takes the training mean.
//! assert_eq!(fitted.report.columns[0].fill.as_deref(), Some("12.666667"));
//! ```

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use kiln_model_zoo::table::{
    Cell, ColumnEncoding, ColumnKind, DEFAULT_MISSING_VALUES, Missing, TableEncoding,
};
use serde::{Deserialize, Serialize};

use crate::config::suggestion;
use crate::data::{Columns, CsvFormat, TargetKind, split_indices};
use crate::error::{Error, Location, Result};
use crate::source::TableReader;

/// How a table's columns are chosen and encoded: `[data]`'s column keys, as the library takes
/// them. Every field's default is scikit-learn's usual pipeline: every non-target column a
/// feature, a column of text categorical and one-hot encoded, a missing number the training
/// mean, a missing category a category of its own.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableSpec {
    /// Only these columns are features (default: every column but the target).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<Vec<String>>,
    /// Every column but these (and the target) is a feature.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drop: Vec<String>,
    /// Columns read as categories even when they hold numbers (a zip code).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categorical: Vec<String>,
    /// Columns that must hold numbers (text in one is an error, not a category).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub numeric: Vec<String>,
    /// How categorical columns are encoded (default `one_hot`).
    #[serde(default)]
    pub encoding: CategoryEncoding,
    /// One-hot columns keep at most this many features: the rarest categories fold into one
    /// `(other)` feature, which counts among them (scikit-learn's `max_categories`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_categories: Option<usize>,
    /// One-hot categories seen fewer times than this (a count, or below 1 a fraction of the
    /// training rows) fold into `(other)` (scikit-learn's `min_frequency`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_frequency: Option<f64>,
    /// Whether rare categories share an `(other)` feature (default true); without it, more
    /// categories than `max_categories` is an error and rarer ones than `min_frequency`
    /// encode as unseen ones do, all zeros.
    #[serde(default = "yes")]
    pub other: bool,
    /// Cell texts that mean missing, compared ignoring ASCII case (default: empty, `NA`,
    /// `N/A`, `NaN`, `null` and `?`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing_values: Option<Vec<String>>,
    /// What a missing cell does: `impute` (default), `drop_row` or `error`.
    #[serde(default)]
    pub missing: MissingRule,
    /// What a numeric column's missing cell becomes (default `mean`). Categorical columns
    /// keep missing as a category of their own unless a column says otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impute: Option<Impute>,
    /// Add a 0/1 feature marking the imputed cells of each column that has missing cells in
    /// the training rows (scikit-learn's `add_indicator`).
    #[serde(default)]
    pub missing_indicator: bool,
    /// Per-column settings, overriding the ones above: `[data.columns.NAME]`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub columns: BTreeMap<String, ColumnSpec>,
}

fn yes() -> bool {
    true
}

impl Default for TableSpec {
    fn default() -> Self {
        Self {
            features: None,
            drop: Vec::new(),
            categorical: Vec::new(),
            numeric: Vec::new(),
            encoding: CategoryEncoding::default(),
            max_categories: None,
            min_frequency: None,
            other: true,
            missing_values: None,
            missing: MissingRule::default(),
            impute: None,
            missing_indicator: false,
            columns: BTreeMap::new(),
        }
    }
}

/// One column's own settings (`[data.columns.NAME]`); each one unset takes `[data]`'s.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnSpec {
    /// `one_hot` or `ordinal`, for a categorical column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<CategoryEncoding>,
    /// As [`TableSpec::max_categories`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_categories: Option<usize>,
    /// As [`TableSpec::min_frequency`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_frequency: Option<f64>,
    /// As [`TableSpec::other`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other: Option<bool>,
    /// As [`TableSpec::missing`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing: Option<MissingRule>,
    /// What this column's missing cell becomes: `mean` or `median` (numbers),
    /// `most_frequent`, or `{ constant = VALUE }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impute: Option<Impute>,
    /// Whether a 0/1 feature marks this column's imputed cells.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing_indicator: Option<bool>,
}

/// How a categorical column becomes features.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CategoryEncoding {
    /// One 0/1 feature per category.
    #[default]
    OneHot,
    /// One feature, the category's index in sorted order.
    Ordinal,
}

/// What a missing cell does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingRule {
    /// It takes the column's `impute` value.
    #[default]
    Impute,
    /// Its row is left out of training and evaluation (and counted).
    DropRow,
    /// It is an error naming the cell.
    Error,
}

/// What a missing cell becomes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Impute {
    /// The column's training mean (numbers).
    Mean,
    /// The column's training median (numbers).
    Median,
    /// The column's most frequent training value (the smallest of ties).
    MostFrequent,
    /// A constant: `{ constant = 0 }` or `{ constant = "unknown" }`.
    Constant(Constant),
}

/// A constant to impute.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Constant {
    /// A number.
    Number(f64),
    /// A category.
    Text(String),
}

/// Why a table cannot be fitted: one variant per rule. Each says what is wrong and the fix.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum TableError {
    /// A setting names a column the header lacks.
    #[error("`{key}` names column `{column}`, which is not in the header; {suggestion}")]
    UnknownColumn {
        /// The setting.
        key: String,
        /// The name given.
        column: String,
        /// The nearest header name, or the list of them.
        suggestion: String,
    },
    /// Both `features` and `drop`.
    #[error(
        "`features` and `drop` are both set; set one: `features` lists the columns to use, `drop` the ones to leave out"
    )]
    FeaturesAndDrop,
    /// A column declared numeric and categorical.
    #[error("column `{0}` is listed in both `numeric` and `categorical`; list it in one")]
    DeclaredTwice(String),
    /// The target listed as a feature.
    #[error(
        "`{key}` lists the target column `{column}`; a model cannot take its own target as a feature, so remove it"
    )]
    TargetAsFeature {
        /// The setting.
        key: String,
        /// The target column.
        column: String,
    },
    /// No feature column left.
    #[error("no feature columns are left; keep at least one column besides the target")]
    NoFeatures,
    /// A numeric column holds text.
    #[error(
        "column `{column}` is declared numeric but holds `{text}` on line {line}; remove it from `numeric` to read it as categories, or fix the cell"
    )]
    NumericOverText {
        /// The column.
        column: String,
        /// The cell.
        text: String,
        /// Its line.
        line: u64,
    },
    /// A missing cell where the rule is `error`.
    #[error(
        "column `{column}` has a missing cell on line {line}, and its rule is `missing = \"error\"`; fill it, or set `missing = \"impute\"` or `\"drop_row\"`"
    )]
    MissingCell {
        /// The column.
        column: String,
        /// The line.
        line: u64,
    },
    /// Every training cell of a column is missing.
    #[error(
        "column `{column}` has no values: all {cells} of its cells in the training rows are missing; leave it out with `drop = [\"{column}\"]`"
    )]
    AllMissing {
        /// The column.
        column: String,
        /// Its cells in the training rows.
        cells: u64,
    },
    /// A categorical column with one category.
    #[error(
        "categorical column `{column}` holds one category (`{category}`) in the training rows, which tells the rows apart in nothing; leave it out with `drop = [\"{column}\"]`"
    )]
    OneCategory {
        /// The column.
        column: String,
        /// Its category.
        category: String,
    },
    /// More categories than `max_categories` and no `(other)` feature.
    #[error(
        "column `{column}` has {count} categories, more than `max_categories = {max}`, and `other = false` leaves no feature for the rest; raise `max_categories`, or set `other = true` to fold the rarest into one"
    )]
    TooManyCategories {
        /// The column.
        column: String,
        /// Its categories.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// `min_frequency` with `other = false` that keeps no category.
    #[error(
        "`min_frequency` leaves column `{0}` no category of its own, and `other = false` no feature for the rare ones; lower `min_frequency`, or set `other = true`"
    )]
    NoCategoryLeft(String),
    /// Too many distinct values to be categories.
    #[error(
        "column `{column}` has more than {limit} distinct values, too many to be categories (an id or free text?); leave it out with `drop = [\"{column}\"]`"
    )]
    TooManyDistinct {
        /// The column.
        column: String,
        /// The limit.
        limit: usize,
    },
    /// `mean` or `median` for a categorical column.
    #[error(
        "column `{column}` is categorical, and `impute = \"{rule}\"` needs numbers; use `\"most_frequent\"` or `{{ constant = \"...\" }}`"
    )]
    ImputeNeedsNumbers {
        /// The column.
        column: String,
        /// `mean` or `median`.
        rule: &'static str,
    },
    /// A text constant for a numeric column.
    #[error(
        "column `{column}` is numeric, and the constant `{text}` is not a number; give a number"
    )]
    ConstantNotANumber {
        /// The column.
        column: String,
        /// The constant.
        text: String,
    },
    /// A `max_categories` or `min_frequency` out of range.
    #[error("`{key}` must be {rule}")]
    BadSetting {
        /// The setting.
        key: &'static str,
        /// Its rule.
        rule: &'static str,
    },
    /// Every row dropped.
    #[error(
        "no rows are left once the rows with a missing target or `drop_row` cell are left out ({dropped} of them); fill the cells, or impute them"
    )]
    NoRows {
        /// Rows left out.
        dropped: u64,
    },
}

impl TableError {
    /// The line of the data file the error is on, if it is on one.
    pub fn line(&self) -> Option<u64> {
        match self {
            Self::NumericOverText { line, .. } | Self::MissingCell { line, .. } => Some(*line),
            _ => None,
        }
    }

    /// The `[data]` key the error is about, when the config (not the data) is to change.
    pub fn key(&self) -> Option<&str> {
        match self {
            Self::UnknownColumn { key, .. } | Self::TargetAsFeature { key, .. } => {
                Some(key.split('.').next().unwrap_or(key))
            }
            Self::FeaturesAndDrop => Some("drop"),
            Self::DeclaredTwice(_) => Some("categorical"),
            Self::BadSetting { key, .. } => Some(key),
            _ => None,
        }
    }
}

/// A fitted table: its encoding, and what it found in each column.
#[derive(Clone, Debug, PartialEq)]
pub struct FittedTable {
    /// How each column's cells become features.
    pub encoding: TableEncoding,
    /// What the columns hold, for the start-of-run report and `summary.json`.
    pub report: TableReport,
    /// Complete rows in the file (those not left out).
    pub rows: usize,
    /// The complete rows that train, by index among them.
    pub train_rows: Vec<usize>,
    /// The complete rows held out for validation.
    pub valid_rows: Vec<usize>,
}

/// What a table's columns hold, as the run reports it.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TableReport {
    /// One entry per feature column.
    pub columns: Vec<ColumnReport>,
    /// Rows left out for a missing target.
    pub dropped_missing_target: u64,
    /// Rows left out for a missing cell of a `drop_row` column.
    pub dropped_missing_feature: u64,
}

/// What one column holds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ColumnReport {
    /// The column.
    pub name: String,
    /// `numeric` or `categorical`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// How it is encoded: `number`, `one_hot` or `ordinal`.
    pub encoding: &'static str,
    /// Missing cells in the file's complete rows.
    pub missing: u64,
    /// What a missing cell becomes: the imputed value, `(missing)`, `drop_row` or `error`.
    pub fill: Option<String>,
    /// Categories with a feature (or index) of their own.
    pub categories: Vec<String>,
    /// Rare categories folded into `(other)`.
    pub folded: usize,
}

/// The most distinct values a categorical column may have: past it, the column is more
/// likely an id than a category, and counting it would hold the whole column in memory.
pub const MAX_DISTINCT: usize = 100_000;

/// Which of a file's complete rows are for training.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Holdout {
    /// All of them.
    #[default]
    None,
    /// All but a seeded `fraction` of them, as [`split_indices`] picks them.
    Fraction {
        /// The fraction held out for validation.
        fraction: f64,
        /// The split's seed.
        seed: u64,
    },
    /// All but these (indices among the complete rows, ascending): a cross-validation fold.
    Rows(Vec<usize>),
}

/// Fits the table at `path`: picks the feature columns, infers or checks their types, and
/// fits each one's encoding on the complete rows that train (all, or all but a `holdout`).
pub fn fit_table(
    path: &Path,
    target: Option<(&str, TargetKind)>,
    spec: &TableSpec,
    format: CsvFormat,
    holdout: Holdout,
) -> Result<FittedTable> {
    let features = select_features(path, target, spec, format)?;
    let table_error = |e: TableError| table_error(path, e);
    let settings: Vec<Settings> = features
        .iter()
        .map(|name| Settings::of(name, spec))
        .collect::<std::result::Result<_, _>>()
        .map_err(table_error)?;
    let missing_values: Vec<String> = match &spec.missing_values {
        Some(values) => values.iter().map(|v| v.trim().to_owned()).collect(),
        None => DEFAULT_MISSING_VALUES
            .iter()
            .map(|v| v.to_string())
            .collect(),
    };
    let is_missing = |cell: &Cell<'_>| match *cell {
        Cell::Missing => true,
        Cell::Number(value) => value.is_nan(),
        Cell::Text(text) => missing_values.iter().any(|m| m.eq_ignore_ascii_case(text)),
    };
    let open = || {
        TableReader::open(
            path,
            Columns {
                target,
                features: Some(&features),
                format,
                ..Default::default()
            },
        )
        .map(TableReader::single_threaded)
    };

    // Pass 1: what each column holds, and which rows are complete.
    let mut profiles = vec![Profile::default(); features.len()];
    let mut report = TableReport::default();
    let mut complete = 0usize;
    open()?.visit_rows(|line, cells, target_cell| {
        if target_cell.as_ref().is_some_and(is_missing) {
            report.dropped_missing_target += 1;
            return Ok(());
        }
        for (cell, setting) in cells.iter().zip(&settings) {
            if is_missing(cell) {
                match setting.missing {
                    MissingRule::DropRow => {
                        report.dropped_missing_feature += 1;
                        return Ok(());
                    }
                    MissingRule::Error => {
                        return Err(table_error(TableError::MissingCell {
                            column: setting.name.clone(),
                            line,
                        }));
                    }
                    MissingRule::Impute => {}
                }
            }
        }
        for (cell, profile) in cells.iter().zip(&mut profiles) {
            profile.add(cell, line, is_missing(cell));
        }
        complete += 1;
        Ok(())
    })?;
    if complete == 0 {
        return Err(table_error(TableError::NoRows {
            dropped: report.dropped_missing_target + report.dropped_missing_feature,
        }));
    }
    let (train_rows, valid_rows) = match holdout {
        Holdout::None => ((0..complete).collect(), Vec::new()),
        Holdout::Fraction { fraction, seed } => split_indices(complete, fraction, seed),
        Holdout::Rows(held_out) => {
            let mut is_held_out = vec![false; complete];
            for &i in held_out.iter().filter(|&&i| i < complete) {
                is_held_out[i] = true;
            }
            (0..complete).partition(|&i| !is_held_out[i])
        }
    };
    let mut is_train = vec![false; complete];
    for &i in &train_rows {
        is_train[i] = true;
    }
    let kinds: Vec<bool> = settings
        .iter()
        .zip(&profiles)
        .map(|(setting, profile)| setting.categorical(profile))
        .collect::<std::result::Result<_, _>>()
        .map_err(table_error)?;

    // Pass 2: the training rows' statistics.
    let mut stats: Vec<Stats> = kinds
        .iter()
        .zip(&settings)
        .map(|(&categorical, setting)| Stats::new(categorical, &setting.numeric_impute()))
        .collect();
    let mut index = 0usize;
    open()?.visit_rows(|_, cells, target_cell| {
        if target_cell.as_ref().is_some_and(is_missing)
            || cells
                .iter()
                .zip(&settings)
                .any(|(cell, s)| s.missing == MissingRule::DropRow && is_missing(cell))
        {
            return Ok(());
        }
        let train = is_train.get(index).copied().unwrap_or(false);
        index += 1;
        if train {
            for ((cell, stat), setting) in cells.iter().zip(&mut stats).zip(&settings) {
                if !stat.add(cell, is_missing(cell)) {
                    return Err(table_error(TableError::TooManyDistinct {
                        column: setting.name.clone(),
                        limit: MAX_DISTINCT,
                    }));
                }
            }
        }
        Ok(())
    })?;

    let mut columns = Vec::with_capacity(features.len());
    for ((setting, stat), profile) in settings.iter().zip(stats).zip(&profiles) {
        let (column, mut column_report) = setting.fit(stat).map_err(table_error)?;
        column_report.missing = profile.missing;
        columns.push(column);
        report.columns.push(column_report);
    }
    Ok(FittedTable {
        encoding: TableEncoding {
            columns,
            missing_values,
        },
        report,
        rows: complete,
        train_rows,
        valid_rows,
    })
}

/// The error for a table rule broken in the data file at `path`.
fn table_error(path: &Path, error: TableError) -> Error {
    Error::Table {
        location: match error.line() {
            Some(line) => Location::line(path, line as usize),
            None => Location::file(path),
        },
        source: Box::new(error),
    }
}

/// The feature columns `spec` picks from the header of `path`.
fn select_features(
    path: &Path,
    target: Option<(&str, TargetKind)>,
    spec: &TableSpec,
    format: CsvFormat,
) -> Result<Vec<String>> {
    let header = TableReader::open(
        path,
        Columns {
            target,
            format,
            ..Default::default()
        },
    )?
    .column_names();
    let target_name = target.map(|(name, _)| name);
    pick_columns(&header, target_name, spec).map_err(|e| table_error(path, e))
}

/// The feature columns of a table whose non-target columns are `header`.
fn pick_columns(
    header: &[String],
    target: Option<&str>,
    spec: &TableSpec,
) -> std::result::Result<Vec<String>, TableError> {
    let known: Vec<&str> = header.iter().map(String::as_str).chain(target).collect();
    let check = |key: &str, names: &[String]| {
        for name in names {
            if !known.contains(&name.as_str()) {
                return Err(TableError::UnknownColumn {
                    key: key.to_owned(),
                    column: name.clone(),
                    suggestion: suggestion(name, &known),
                });
            }
            if Some(name.as_str()) == target && key != "drop" {
                return Err(TableError::TargetAsFeature {
                    key: key.to_owned(),
                    column: name.clone(),
                });
            }
        }
        Ok(())
    };
    if spec.features.is_some() && !spec.drop.is_empty() {
        return Err(TableError::FeaturesAndDrop);
    }
    check("features", spec.features.as_deref().unwrap_or_default())?;
    check("drop", &spec.drop)?;
    check("categorical", &spec.categorical)?;
    check("numeric", &spec.numeric)?;
    for name in spec.columns.keys() {
        check(&format!("columns.{name}"), std::slice::from_ref(name))?;
    }
    if let Some(both) = spec.numeric.iter().find(|n| spec.categorical.contains(n)) {
        return Err(TableError::DeclaredTwice(both.clone()));
    }
    let features: Vec<String> = match &spec.features {
        Some(features) => features.clone(),
        None => header
            .iter()
            .filter(|name| !spec.drop.contains(name))
            .cloned()
            .collect(),
    };
    if features.is_empty() {
        return Err(TableError::NoFeatures);
    }
    Ok(features)
}

/// One column's settings, `[data]`'s with its own over them.
#[derive(Clone, Debug)]
struct Settings {
    name: String,
    /// Declared categorical (true) or numeric (false).
    declared: Option<bool>,
    encoding: CategoryEncoding,
    max_categories: Option<usize>,
    min_frequency: Option<f64>,
    other: bool,
    missing: MissingRule,
    /// The column's own `impute`.
    impute: Option<Impute>,
    /// `[data] impute`, which applies to the column if it is numeric.
    numeric_impute: Option<Impute>,
    /// The column's own `missing_indicator`.
    indicator: Option<bool>,
    /// `[data] missing_indicator`, for a column with missing training cells.
    indicator_if_missing: bool,
}

impl Settings {
    fn of(name: &str, spec: &TableSpec) -> std::result::Result<Self, TableError> {
        let own = spec.columns.get(name).cloned().unwrap_or_default();
        let declared = if spec.categorical.iter().any(|c| c == name) {
            Some(true)
        } else if spec.numeric.iter().any(|c| c == name) {
            Some(false)
        } else {
            None
        };
        let settings = Self {
            name: name.to_owned(),
            declared,
            encoding: own.encoding.unwrap_or(spec.encoding),
            max_categories: own.max_categories.or(spec.max_categories),
            min_frequency: own.min_frequency.or(spec.min_frequency),
            other: own.other.unwrap_or(spec.other),
            missing: own.missing.unwrap_or(spec.missing),
            impute: own.impute,
            numeric_impute: spec.impute.clone(),
            indicator: own.missing_indicator,
            indicator_if_missing: spec.missing_indicator,
        };
        if settings.max_categories == Some(0) {
            return Err(TableError::BadSetting {
                key: "max_categories",
                rule: "at least 1",
            });
        }
        if settings
            .min_frequency
            .is_some_and(|f| !(f.is_finite() && f > 0.0))
        {
            return Err(TableError::BadSetting {
                key: "min_frequency",
                rule: "a positive count, or a fraction of the rows between 0 and 1",
            });
        }
        Ok(settings)
    }

    /// How the column's missing cells are filled if it is numeric.
    fn numeric_impute(&self) -> Impute {
        self.impute
            .clone()
            .or_else(|| self.numeric_impute.clone())
            .unwrap_or(Impute::Mean)
    }

    /// Whether the column is categorical, from its declaration or from what it holds.
    fn categorical(&self, profile: &Profile) -> std::result::Result<bool, TableError> {
        match (self.declared, &profile.first_text) {
            (Some(false), Some((text, line))) => Err(TableError::NumericOverText {
                column: self.name.clone(),
                text: text.clone(),
                line: *line,
            }),
            (Some(declared), _) => Ok(declared),
            (None, first_text) => Ok(first_text.is_some()),
        }
    }

    /// The column's encoding from its training statistics, and its report.
    fn fit(&self, stats: Stats) -> std::result::Result<(ColumnEncoding, ColumnReport), TableError> {
        let name = self.name.clone();
        let indicator = self.missing == MissingRule::Impute
            && self
                .indicator
                .unwrap_or(self.indicator_if_missing && stats.missing() > 0);
        match stats {
            Stats::Numbers {
                sum,
                count,
                center,
                missing,
            } => {
                if count == 0 {
                    return Err(TableError::AllMissing {
                        column: name,
                        cells: missing,
                    });
                }
                let rule = self.numeric_impute();
                let value = match &rule {
                    Impute::Mean | Impute::Median | Impute::MostFrequent => {
                        center.value(sum, count)
                    }
                    Impute::Constant(Constant::Number(v)) => *v as f32,
                    Impute::Constant(Constant::Text(text)) => match text.parse::<f32>() {
                        Ok(v) if v.is_finite() => v,
                        _ => {
                            return Err(TableError::ConstantNotANumber {
                                column: name,
                                text: text.clone(),
                            });
                        }
                    },
                };
                let missing = match self.missing {
                    MissingRule::Impute => Missing::Value(value),
                    MissingRule::DropRow => Missing::DropRow,
                    MissingRule::Error => Missing::Error,
                };
                let fill = fill_text(&missing);
                Ok((
                    ColumnEncoding {
                        name: name.clone(),
                        kind: ColumnKind::Numeric,
                        missing,
                        indicator,
                    },
                    ColumnReport {
                        name,
                        kind: "numeric",
                        encoding: "number",
                        missing: 0,
                        fill,
                        categories: Vec::new(),
                        folded: 0,
                    },
                ))
            }
            Stats::Categories {
                mut counts,
                missing: missing_count,
            } => {
                if counts.is_empty() {
                    return Err(TableError::AllMissing {
                        column: name,
                        cells: missing_count,
                    });
                }
                if counts.len() == 1 {
                    return Err(TableError::OneCategory {
                        column: name,
                        category: counts.into_keys().next().unwrap_or_default(),
                    });
                }
                let missing = match (self.missing, &self.impute) {
                    (MissingRule::DropRow, _) => Missing::DropRow,
                    (MissingRule::Error, _) => Missing::Error,
                    // A category of its own if training saw it; else (as scikit-learn's
                    // constant fill, then one-hot) one never seen, encoded as all zeros.
                    (MissingRule::Impute, None) if missing_count > 0 => Missing::OwnCategory,
                    (MissingRule::Impute, None) => {
                        Missing::Category(kiln_model_zoo::table::MISSING_FEATURE.to_owned())
                    }
                    (MissingRule::Impute, Some(Impute::Mean)) => {
                        return Err(TableError::ImputeNeedsNumbers {
                            column: name,
                            rule: "mean",
                        });
                    }
                    (MissingRule::Impute, Some(Impute::Median)) => {
                        return Err(TableError::ImputeNeedsNumbers {
                            column: name,
                            rule: "median",
                        });
                    }
                    (MissingRule::Impute, Some(Impute::MostFrequent)) => {
                        Missing::Category(most_frequent(&counts))
                    }
                    (MissingRule::Impute, Some(Impute::Constant(constant))) => {
                        Missing::Category(match constant {
                            Constant::Number(v) => format!("{v}"),
                            Constant::Text(text) => text.clone(),
                        })
                    }
                };
                // Imputation comes before encoding (as in a scikit-learn pipeline): the
                // filled cells count as their category.
                if let Missing::Category(category) = &missing
                    && missing_count > 0
                {
                    *counts.entry(category.clone()).or_default() += missing_count;
                }
                let rows: u64 = counts.values().sum::<u64>()
                    + if missing == Missing::OwnCategory {
                        missing_count
                    } else {
                        0
                    };
                let (kept, folded) = match self.encoding {
                    CategoryEncoding::Ordinal => (counts.keys().cloned().collect(), Vec::new()),
                    CategoryEncoding::OneHot => self.fold(&counts, rows)?,
                };
                let other_count = folded.len();
                let (kind, encoding) = match self.encoding {
                    CategoryEncoding::OneHot => (
                        ColumnKind::OneHot {
                            categories: kept.clone(),
                            other: if self.other { folded } else { Vec::new() },
                        },
                        "one_hot",
                    ),
                    CategoryEncoding::Ordinal => (
                        ColumnKind::Ordinal {
                            categories: kept.clone(),
                        },
                        "ordinal",
                    ),
                };
                let fill = fill_text(&missing);
                Ok((
                    ColumnEncoding {
                        name: name.clone(),
                        kind,
                        missing,
                        indicator,
                    },
                    ColumnReport {
                        name,
                        kind: "categorical",
                        encoding,
                        missing: 0,
                        fill,
                        categories: kept,
                        folded: other_count,
                    },
                ))
            }
        }
    }

    /// The categories kept and the ones folded into `(other)` (both sorted), as
    /// scikit-learn's `OneHotEncoder` picks them: first those seen fewer than `min_frequency`
    /// times fold, then, past `max_categories` (which counts `(other)`), the rarest (the
    /// smaller name first among ties).
    fn fold(
        &self,
        counts: &BTreeMap<String, u64>,
        rows: u64,
    ) -> std::result::Result<(Vec<String>, Vec<String>), TableError> {
        let threshold = match self.min_frequency {
            Some(f) if f >= 1.0 => f,
            Some(f) => f * rows as f64,
            None => 0.0,
        };
        let mut rare: Vec<bool> = counts.values().map(|&c| (c as f64) < threshold).collect();
        if let Some(max) = self.max_categories {
            let kept = rare.iter().filter(|r| !**r).count();
            let features = kept + usize::from(rare.iter().any(|r| *r));
            if max < features {
                if !self.other {
                    return Err(TableError::TooManyCategories {
                        column: self.name.clone(),
                        count: counts.len(),
                        max,
                    });
                }
                // Stable sort by count: among ties the category sorted first folds first.
                let mut order: Vec<usize> = (0..counts.len()).collect();
                let by_index: Vec<u64> = counts.values().copied().collect();
                order.sort_by_key(|&i| by_index[i]);
                let keep = max - 1;
                for &i in &order[..order.len().saturating_sub(keep)] {
                    rare[i] = true;
                }
            }
        }
        let (mut kept, mut folded) = (Vec::new(), Vec::new());
        for (category, is_rare) in counts.keys().zip(rare) {
            if is_rare {
                folded.push(category.clone());
            } else {
                kept.push(category.clone());
            }
        }
        if kept.is_empty() && !self.other {
            return Err(TableError::NoCategoryLeft(self.name.clone()));
        }
        Ok((kept, folded))
    }
}

/// What a missing cell becomes, as the report says it.
fn fill_text(missing: &Missing) -> Option<String> {
    Some(match missing {
        Missing::Value(v) => format!("{v}"),
        Missing::Category(c) => c.clone(),
        Missing::OwnCategory => kiln_model_zoo::table::MISSING_FEATURE.to_owned(),
        Missing::DropRow => "drop_row".to_owned(),
        Missing::Error => "error".to_owned(),
    })
}

/// What a column holds in the complete rows (first pass).
#[derive(Clone, Debug, Default)]
struct Profile {
    missing: u64,
    /// The first cell that is not a number, and its line.
    first_text: Option<(String, u64)>,
}

impl Profile {
    fn add(&mut self, cell: &Cell<'_>, line: u64, missing: bool) {
        if missing {
            self.missing += 1;
        } else if let Cell::Text(text) = cell
            && self.first_text.is_none()
            // `inf` is a number, if an unusable one: the column stays numeric, and the encoder
            // refuses the cell with its line.
            && text.parse::<f32>().is_err()
        {
            self.first_text = Some((text.to_string(), line));
        }
    }
}

/// A column's training statistics (second pass).
#[derive(Clone, Debug)]
enum Stats {
    Numbers {
        sum: f64,
        count: u64,
        /// What the column's imputation needs besides the sum.
        center: Center,
        missing: u64,
    },
    Categories {
        counts: BTreeMap<String, u64>,
        missing: u64,
    },
}

/// The value a numeric column's missing cells take, as it is gathered: only a median or a mode
/// keeps more than a sum, so a mean-imputed column fits in constant memory however long the table.
#[derive(Clone, Debug)]
enum Center {
    Mean,
    /// Every value.
    Median(Vec<f32>),
    /// Each value's count (by its bits).
    MostFrequent(HashMap<u32, u64>),
}

impl Center {
    fn of(rule: &Impute) -> Self {
        match rule {
            Impute::Median => Center::Median(Vec::new()),
            Impute::MostFrequent => Center::MostFrequent(HashMap::new()),
            Impute::Mean | Impute::Constant(_) => Center::Mean,
        }
    }

    fn add(&mut self, value: f32) {
        match self {
            Center::Mean => {}
            Center::Median(values) => values.push(value),
            Center::MostFrequent(counts) => *counts.entry(value.to_bits()).or_default() += 1,
        }
    }

    fn value(self, sum: f64, count: u64) -> f32 {
        match self {
            Center::Mean => (sum / count as f64) as f32,
            Center::Median(values) => median(values),
            Center::MostFrequent(counts) => most_frequent_number(&counts),
        }
    }
}

impl Stats {
    fn new(categorical: bool, impute: &Impute) -> Self {
        if categorical {
            Stats::Categories {
                counts: BTreeMap::new(),
                missing: 0,
            }
        } else {
            Stats::Numbers {
                sum: 0.0,
                count: 0,
                center: Center::of(impute),
                missing: 0,
            }
        }
    }

    fn missing(&self) -> u64 {
        match self {
            Stats::Numbers { missing, .. } | Stats::Categories { missing, .. } => *missing,
        }
    }

    /// Adds a cell; false when a categorical column passes [`MAX_DISTINCT`] categories.
    fn add(&mut self, cell: &Cell<'_>, missing: bool) -> bool {
        match self {
            Stats::Numbers { missing: m, .. } | Stats::Categories { missing: m, .. } if missing => {
                *m += 1;
            }
            Stats::Numbers {
                sum, count, center, ..
            } => {
                // The first pass checked every cell of a numeric column is a number.
                let value: f32 = match cell {
                    Cell::Number(value) => *value as f32,
                    Cell::Text(text) => text.parse().unwrap_or(0.0),
                    Cell::Missing => 0.0,
                };
                *sum += value as f64;
                *count += 1;
                center.add(value);
            }
            Stats::Categories { counts, .. } => {
                // A typed table's number is the category its decimal form names (as the
                // encoder reads it).
                let number;
                let text = match cell {
                    Cell::Text(text) => *text,
                    Cell::Number(value) => {
                        number = format!("{value}");
                        &number
                    }
                    Cell::Missing => "",
                };
                if let Some(count) = counts.get_mut(text) {
                    *count += 1;
                } else if counts.len() >= MAX_DISTINCT {
                    return false;
                } else {
                    counts.insert(text.to_owned(), 1);
                }
            }
        }
        true
    }
}

/// The median (the mean of the middle two of an even count), as numpy's.
fn median(mut values: Vec<f32>) -> f32 {
    values.sort_by(f32::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        ((values[n / 2 - 1] as f64 + values[n / 2] as f64) / 2.0) as f32
    }
}

/// The most frequent value, the smallest of ties (scikit-learn's `SimpleImputer`).
fn most_frequent_number(counts: &HashMap<u32, u64>) -> f32 {
    counts
        .iter()
        .map(|(&bits, &count)| (f32::from_bits(bits), count))
        .max_by(|(a, ca), (b, cb)| ca.cmp(cb).then(b.total_cmp(a)))
        .map_or(0.0, |(v, _)| v)
}

/// The most frequent category, the smallest of ties.
fn most_frequent(counts: &BTreeMap<String, u64>) -> String {
    counts
        .iter()
        .max_by(|(a, ca), (b, cb)| ca.cmp(cb).then(b.cmp(a)))
        .map(|(c, _)| c.clone())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(max_categories: Option<usize>, min_frequency: Option<f64>) -> Settings {
        let spec = TableSpec {
            max_categories,
            min_frequency,
            ..Default::default()
        };
        Settings::of("x", &spec).unwrap()
    }

    /// scikit-learn 1.9.1's `OneHotEncoder` on a column holding a×5, b×3, c×3, d, e:
    ///
    /// ```python
    /// x = np.array(['a']*5 + ['b']*3 + ['c']*3 + ['d', 'e']).reshape(-1, 1)
    /// OneHotEncoder(max_categories=3).fit(x).infrequent_categories_   # b, d, e
    /// OneHotEncoder(min_frequency=2).fit(x).infrequent_categories_    # d, e
    /// OneHotEncoder(min_frequency=0.2).fit(x).infrequent_categories_  # d, e
    /// OneHotEncoder(max_categories=2, min_frequency=2).fit(x).infrequent_categories_  # b-e
    /// ```
    #[test]
    fn rare_categories_fold_as_scikit_learn_folds_them() {
        let counts: BTreeMap<String, u64> = [("a", 5), ("b", 3), ("c", 3), ("d", 1), ("e", 1)]
            .into_iter()
            .map(|(c, n)| (c.to_owned(), n))
            .collect();
        let fold = |max, min| settings(max, min).fold(&counts, 13).unwrap();
        let strings = |s: &[&str]| s.iter().map(|c| c.to_string()).collect::<Vec<_>>();
        assert_eq!(
            fold(Some(3), None),
            (strings(&["a", "c"]), strings(&["b", "d", "e"]))
        );
        assert_eq!(
            fold(None, Some(2.0)),
            (strings(&["a", "b", "c"]), strings(&["d", "e"]))
        );
        assert_eq!(
            fold(None, Some(0.2)),
            (strings(&["a", "b", "c"]), strings(&["d", "e"]))
        );
        assert_eq!(
            fold(Some(2), Some(2.0)),
            (strings(&["a"]), strings(&["b", "c", "d", "e"]))
        );
        assert_eq!(
            fold(None, None),
            (strings(&["a", "b", "c", "d", "e"]), Vec::new())
        );
        let no_other = Settings {
            other: false,
            ..settings(Some(3), None)
        };
        assert_eq!(
            no_other.fold(&counts, 13).unwrap_err(),
            TableError::TooManyCategories {
                column: "x".into(),
                count: 5,
                max: 3
            }
        );
    }

    #[test]
    fn medians_and_modes_are_numpys_and_scikit_learns() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        let counts: HashMap<u32, u64> = [(2.0f32, 2), (1.0, 2), (5.0, 1)]
            .into_iter()
            .map(|(v, n)| (v.to_bits(), n))
            .collect();
        assert_eq!(most_frequent_number(&counts), 1.0);
        let counts: BTreeMap<String, u64> = [("m", 2), ("f", 2), ("x", 1)]
            .into_iter()
            .map(|(c, n)| (c.to_owned(), n))
            .collect();
        assert_eq!(most_frequent(&counts), "f");
    }

    #[test]
    fn features_and_drop_pick_columns_and_name_the_nearest_header() {
        let header: Vec<String> = ["island", "mass", "year"].map(String::from).to_vec();
        let pick = |spec: TableSpec| pick_columns(&header, Some("species"), &spec);
        assert_eq!(pick(TableSpec::default()).unwrap(), header);
        let drop = TableSpec {
            drop: vec!["year".into()],
            ..Default::default()
        };
        assert_eq!(pick(drop).unwrap(), ["island", "mass"]);
        let only = TableSpec {
            features: Some(vec!["mass".into()]),
            ..Default::default()
        };
        assert_eq!(pick(only).unwrap(), ["mass"]);
        let typo = TableSpec {
            features: Some(vec!["islnd".into()]),
            ..Default::default()
        };
        let error = pick(typo).unwrap_err();
        assert_eq!(error.key(), Some("features"));
        assert!(
            error.to_string().contains("did you mean `island`?"),
            "{error}"
        );
        let target = TableSpec {
            features: Some(vec!["species".into()]),
            ..Default::default()
        };
        assert!(matches!(
            pick(target).unwrap_err(),
            TableError::TargetAsFeature { .. }
        ));
        let both = TableSpec {
            categorical: vec!["year".into()],
            numeric: vec!["year".into()],
            ..Default::default()
        };
        assert_eq!(
            pick(both).unwrap_err(),
            TableError::DeclaredTwice("year".into())
        );
        let all_dropped = TableSpec {
            drop: header.clone(),
            ..Default::default()
        };
        assert_eq!(pick(all_dropped).unwrap_err(), TableError::NoFeatures);
    }
}
