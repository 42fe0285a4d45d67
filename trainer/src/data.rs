//! Data sets: rows read from CSV (checked, every error naming the file, line and fix) or given
//! in memory, and the seeded train/valid split.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use kiln_model_zoo::table::{Cell, RowError, TableEncoding};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rayon::prelude::*;

use crate::config::suggestion;
use crate::error::{Error, Location, Result};

/// What the model needs from the target column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetKind {
    /// A number per row.
    Values,
    /// A class label per row (any string; integers sort numerically).
    Labels,
}

/// The target column as read.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    /// No target read (prediction, or clustering without labels).
    None,
    /// A number per row.
    Values(Vec<f32>),
    /// Class labels: each distinct label once, in order of first appearance, and each row's
    /// index into them (a small integer per row, not a string).
    Labels {
        /// The distinct labels.
        names: Vec<String>,
        /// Each row's index into `names`.
        rows: Vec<u32>,
    },
}

impl Target {
    /// Labels `rows` index into `names`, re-indexed so `names` holds only the labels used, in
    /// order of first appearance.
    fn labels(names: &[String], rows: impl Iterator<Item = u32>) -> Self {
        let mut renumbered: Vec<Option<u32>> = vec![None; names.len()];
        let mut used = Vec::new();
        let rows = rows
            .map(|old| {
                *renumbered[old as usize].get_or_insert_with(|| {
                    used.push(names[old as usize].clone());
                    used.len() as u32 - 1
                })
            })
            .collect();
        Target::Labels { names: used, rows }
    }
}

/// Rows of a data set: features row-major, and the target. Read from a CSV file
/// ([`read_csv`], [`Dataset::read_csv`]) or built from rows in memory ([`Dataset::regression`],
/// [`Dataset::classification`], [`Dataset::unlabelled`]).
///
/// ```
/// use kiln_trainer::data::Dataset;
///
/// let names = vec!["height".to_string(), "weight".to_string()];
/// let data = Dataset::classification(
///     names.clone(),
///     vec![1.6, 55.0, 1.8, 80.0, 1.7, 65.0, 1.9, 90.0],
///     &["small", "large", "small", "large"],
/// )
/// .unwrap();
/// assert_eq!((data.n_rows(), data.n_features()), (4, 2));
/// let (train, valid) = data.split(0.25, 7).unwrap();
/// assert_eq!((train.n_rows(), valid.n_rows()), (3, 1));
///
/// // Wrong input is an error that names the rule, never a panic.
/// let ragged = Dataset::regression(names, vec![1.0, 2.0, 3.0], vec![0.5]);
/// assert!(ragged.unwrap_err().to_string().contains("not a whole number of rows"));
/// ```
#[derive(Clone, Debug)]
pub struct Dataset {
    /// Where the rows come from: the CSV file, or `<rows>` for rows built in memory.
    pub path: PathBuf,
    /// The feature columns, in order.
    pub feature_names: Vec<String>,
    /// `n_rows × feature_names.len()`, row-major.
    pub x: Vec<f32>,
    /// The target column's name (`target` for rows built in memory), when there are targets.
    pub target_column: Option<String>,
    /// The target of each row.
    pub target: Target,
    /// The file line of each row (its 1-based number for rows built in memory), for error
    /// messages.
    pub lines: Vec<u64>,
    /// The table encoding the features were read through, if any: a model fitted on these
    /// rows keeps it, to read raw rows the same way ([`Preprocessing::table`]).
    ///
    /// [`Preprocessing::table`]: kiln_model_zoo::Preprocessing::table
    pub encoding: Option<Arc<TableEncoding>>,
}

/// Why rows given in memory cannot make a [`Dataset`]: one variant per rule.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum DatasetError {
    /// No feature names were given.
    #[error("a data set needs at least one feature column")]
    NoFeatures,
    /// A feature name appears twice.
    #[error("feature name `{0}` appears twice; give every feature a distinct name")]
    DuplicateFeature(String),
    /// The values do not fill whole rows.
    #[error(
        "{values} feature values are not a whole number of rows of {features} features; \
         give one value per feature per row, row after row"
    )]
    RaggedRows {
        /// Values given.
        values: usize,
        /// Features per row.
        features: usize,
    },
    /// Not one target per row.
    #[error("the data has {rows} rows but {targets} targets; give one target per row")]
    TargetCount {
        /// Rows of features.
        rows: usize,
        /// Targets given.
        targets: usize,
    },
    /// A feature value is NaN or infinite.
    #[error("feature `{column}` of row {row} is {value}, not a finite number; fill or drop it")]
    NotFinite {
        /// The row (1-based).
        row: usize,
        /// The feature's name.
        column: String,
        /// The value.
        value: f32,
    },
    /// A regression target is NaN or infinite.
    #[error("the target of row {row} is {value}, not a finite number; fill or drop the row")]
    TargetNotFinite {
        /// The row (1-based).
        row: usize,
        /// The value.
        value: f32,
    },
    /// A class label is empty.
    #[error("the label of row {row} is empty; give every row a label")]
    EmptyLabel {
        /// The row (1-based).
        row: usize,
    },
    /// A validation fraction outside `[0, 1)`.
    #[error("the validation fraction must be in [0, 1), got {0}")]
    BadFraction(f64),
    /// Too few rows to hold some out and keep some.
    #[error("{rows} rows are too few to hold out {fraction} of them for validation")]
    TooFewToSplit {
        /// Rows in the data set.
        rows: usize,
        /// The fraction asked for.
        fraction: f64,
    },
}

/// The path a [`Dataset`] built in memory names in messages.
pub const IN_MEMORY: &str = "<rows>";

impl Dataset {
    /// Rows held in memory: `x` row-major, one value per feature name per row, and the target.
    pub fn new(
        feature_names: Vec<String>,
        x: Vec<f32>,
        target: Target,
    ) -> Result<Self, DatasetError> {
        let d = feature_names.len();
        if d == 0 {
            return Err(DatasetError::NoFeatures);
        }
        for (i, name) in feature_names.iter().enumerate() {
            if feature_names[..i].contains(name) {
                return Err(DatasetError::DuplicateFeature(name.clone()));
            }
        }
        if !x.len().is_multiple_of(d) {
            return Err(DatasetError::RaggedRows {
                values: x.len(),
                features: d,
            });
        }
        let n = x.len() / d;
        if let Some(i) = x.iter().position(|v| !v.is_finite()) {
            return Err(DatasetError::NotFinite {
                row: i / d + 1,
                column: feature_names[i % d].clone(),
                value: x[i],
            });
        }
        let targets = match &target {
            Target::None => n,
            Target::Values(y) => {
                if let Some(i) = y.iter().position(|v| !v.is_finite()) {
                    return Err(DatasetError::TargetNotFinite {
                        row: i + 1,
                        value: y[i],
                    });
                }
                y.len()
            }
            Target::Labels { names, rows } => {
                if let Some(i) = rows.iter().position(|&r| {
                    names
                        .get(r as usize)
                        .is_none_or(|name| name.trim().is_empty())
                }) {
                    return Err(DatasetError::EmptyLabel { row: i + 1 });
                }
                rows.len()
            }
        };
        if targets != n {
            return Err(DatasetError::TargetCount { rows: n, targets });
        }
        Ok(Self {
            path: PathBuf::from(IN_MEMORY),
            feature_names,
            x,
            target_column: (target != Target::None).then(|| "target".to_owned()),
            target,
            lines: (1..=n as u64).collect(),
            encoding: None,
        })
    }

    /// Rows with a numeric target (regression).
    pub fn regression(
        feature_names: Vec<String>,
        x: Vec<f32>,
        y: Vec<f32>,
    ) -> Result<Self, DatasetError> {
        Self::new(feature_names, x, Target::Values(y))
    }

    /// Rows with a class label each (classification).
    pub fn classification<S: AsRef<str>>(
        feature_names: Vec<String>,
        x: Vec<f32>,
        labels: &[S],
    ) -> Result<Self, DatasetError> {
        let mut names: Vec<String> = Vec::new();
        let rows = labels
            .iter()
            .map(|label| {
                let label = label.as_ref();
                match names.iter().position(|n| n == label) {
                    Some(i) => i as u32,
                    None => {
                        names.push(label.to_owned());
                        names.len() as u32 - 1
                    }
                }
            })
            .collect();
        Self::new(feature_names, x, Target::Labels { names, rows })
    }

    /// Rows without a target (clustering, or rows to predict).
    pub fn unlabelled(feature_names: Vec<String>, x: Vec<f32>) -> Result<Self, DatasetError> {
        Self::new(feature_names, x, Target::None)
    }

    /// Reads a CSV file with a header row: `target` names the target column and what it
    /// holds (`None` for no target); every other column is a feature.
    pub fn read_csv(path: impl AsRef<Path>, target: Option<(&str, TargetKind)>) -> Result<Self> {
        read_csv(
            path.as_ref(),
            Columns {
                target,
                features: None,
                ..Default::default()
            },
        )
    }

    /// The number of rows.
    pub fn n_rows(&self) -> usize {
        self.lines.len()
    }

    /// The number of feature columns.
    pub fn n_features(&self) -> usize {
        self.feature_names.len()
    }

    /// Each row's class (its index into the label names) when the target is class labels.
    pub fn class_of_rows(&self) -> Option<Vec<usize>> {
        match &self.target {
            Target::Labels { rows, .. } => Some(rows.iter().map(|&r| r as usize).collect()),
            Target::None | Target::Values(_) => None,
        }
    }

    /// The rows at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Dataset {
        let d = self.n_features();
        let mut x = Vec::with_capacity(indices.len() * d);
        for &i in indices {
            x.extend_from_slice(&self.x[i * d..(i + 1) * d]);
        }
        let target = match &self.target {
            Target::None => Target::None,
            Target::Values(v) => Target::Values(indices.iter().map(|&i| v[i]).collect()),
            Target::Labels { names, rows } => {
                Target::labels(names, indices.iter().map(|&i| rows[i]))
            }
        };
        Dataset {
            path: self.path.clone(),
            feature_names: self.feature_names.clone(),
            x,
            target_column: self.target_column.clone(),
            target,
            lines: indices.iter().map(|&i| self.lines[i]).collect(),
            encoding: self.encoding.clone(),
        }
    }

    /// Splits the rows into (train, valid) by a seeded shuffle, `valid_fraction` of them (at
    /// least one when positive) held out, as [`split_indices`].
    pub fn split(
        &self,
        valid_fraction: f64,
        seed: u64,
    ) -> Result<(Dataset, Dataset), DatasetError> {
        if !(0.0..1.0).contains(&valid_fraction) {
            return Err(DatasetError::BadFraction(valid_fraction));
        }
        let (train, valid) = split_indices(self.n_rows(), valid_fraction, seed);
        if train.is_empty() || (valid_fraction > 0.0 && valid.is_empty()) {
            return Err(DatasetError::TooFewToSplit {
                rows: self.n_rows(),
                fraction: valid_fraction,
            });
        }
        Ok((self.select(&train), self.select(&valid)))
    }
}

/// Which columns to read, and how.
#[derive(Clone, Copy, Debug, Default)]
pub struct Columns<'a> {
    /// The target column and what it holds; `None` to read no target.
    pub target: Option<(&'a str, TargetKind)>,
    /// The feature columns by name, in this order; `None` for every non-target column.
    pub features: Option<&'a [String]>,
    /// The delimiter and the limits on lines and fields.
    pub format: CsvFormat,
    /// How the feature cells become numbers: a fitted table encoding, whose columns are then
    /// the ones read (`features` is ignored). `None` reads every feature cell as a number.
    pub encoding: Option<&'a TableEncoding>,
    /// Leave out, and count ([`CsvReader::dropped`]), the rows whose target is missing or
    /// that miss a cell whose column's rule is `drop_row` (training and evaluation), rather
    /// than refuse them. Needs an `encoding`, which says what is missing.
    pub drop_incomplete: bool,
}

/// Rows a reader left out, by reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Dropped {
    /// Rows whose target cell is missing.
    pub missing_target: u64,
    /// Rows missing a cell of a `missing = "drop_row"` column.
    pub missing_feature: u64,
}

/// How a CSV file is read: its delimiter, and the limits that keep memory bounded whatever
/// the file holds (a file of NUL bytes, `/dev/zero`, a megabyte-long cell).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CsvFormat {
    /// The field delimiter; `None` picks it from the header line (`,`, `;`, a tab or `|`).
    pub delimiter: Option<u8>,
    /// The longest line read, in bytes (default 16 MiB).
    pub max_line_bytes: usize,
    /// The longest cell read, in bytes (default 1 MiB).
    pub max_field_bytes: usize,
}

impl Default for CsvFormat {
    fn default() -> Self {
        Self {
            delimiter: None,
            max_line_bytes: 16 << 20,
            max_field_bytes: 1 << 20,
        }
    }
}

/// A line longer than the reader's limit (see [`CsvFormat::max_line_bytes`]).
#[derive(Debug)]
struct LineTooLong {
    line: u64,
    limit: usize,
}

impl std::fmt::Display for LineTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {} is longer than {} bytes", self.line, self.limit)
    }
}

impl std::error::Error for LineTooLong {}

/// The delimiter of a CSV file whose first line is `header`: a comma, unless the line has none
/// and has `;`, a tab or `|` (the first of them it holds).
fn detect_delimiter(header: &[u8]) -> u8 {
    if header.contains(&b',') {
        return b',';
    }
    [b';', b'\t', b'|']
        .into_iter()
        .find(|d| header.contains(d))
        .unwrap_or(b',')
}

/// The first line of `path`, at most `max` bytes of it.
fn first_line(path: &Path, max: usize) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut head = Vec::new();
    std::fs::File::open(path)?
        .take(max.min(1 << 20) as u64)
        .read_to_end(&mut head)?;
    let end = memchr::memchr2(b'\n', b'\r', &head).unwrap_or(head.len());
    head.truncate(end);
    Ok(head)
}

/// Reads a CSV file with a header row. Every error names the file and line and the fix.
pub fn read_csv(path: &Path, columns: Columns<'_>) -> Result<Dataset> {
    CsvReader::open(path, columns)?.read_all()
}

/// Where a run of rows starts in a CSV file, to read it again with [`CsvReader::seek`].
#[derive(Clone, Debug)]
pub struct CsvStart {
    position: csv::Position,
    /// Line breaks before `position`.
    newlines: u64,
}

impl CsvStart {
    /// The byte offset in the file.
    pub fn byte(&self) -> u64 {
        self.position.byte()
    }
}

/// A CSV file read some rows at a time, so memory is bounded by the rows asked for, not the
/// file. Opening checks the header and the columns; every error names the file and line and
/// the fix.
pub struct CsvReader {
    path: PathBuf,
    reader: csv::Reader<LineBreaks<std::fs::File>>,
    header: Vec<String>,
    feature_idx: Vec<usize>,
    target: Option<(usize, TargetKind)>,
    /// Records read and not parsed yet, kept between calls. Bytes, not `StringRecord`s: only
    /// the cells read need UTF-8 checks, and cells are trimmed in place rather than copied.
    block: Vec<csv::ByteRecord>,
    /// Whether feature cells are parsed on every core.
    parallel: bool,
    /// The longest cell accepted.
    max_field_bytes: usize,
    /// The fitted encoding of the feature cells, if any (else they are numbers).
    encoding: Option<Arc<TableEncoding>>,
    /// Features per row.
    width: usize,
    /// See [`Columns::drop_incomplete`].
    drop_incomplete: bool,
    /// Rows left out so far.
    dropped: Dropped,
    /// Cells so far of categories the encoding never saw (encoded as unknown).
    unseen: u64,
}

/// What parsing a block of rows' features found besides the values.
#[derive(Debug, Default)]
struct Parsed {
    /// The block's rows to leave out.
    dropped: Vec<usize>,
    /// Cells of categories the encoding never saw.
    unseen: u64,
}

/// The error for a row a table encoding refused, on `line` of `path`.
pub fn row_error(path: &Path, line: u64, error: RowError) -> Error {
    match error {
        RowError::Missing { column, drop_row } => data_error(
            path,
            line,
            format!("column `{column}` is missing, and the model has no value to put in its place"),
            if drop_row {
                "the model was trained with `missing = \"drop_row\"` for this column: fill \
                     the cell, or retrain with an `impute` rule for it"
            } else {
                "fill the cell, or retrain with an `impute` rule for the column \
                     (`[data] missing = \"impute\"`)"
            },
        ),
        RowError::NotANumber { column, text } => data_error(
            path,
            line,
            format!("column `{column}` holds `{text}`, which is not a finite number"),
            "the model reads this column as numbers: fix the cell, or declare the column \
                 categorical (`[data] categorical = [...]`) and retrain",
        ),
        other @ RowError::Cells { .. } => {
            data_error(path, line, other.to_string(), "retrain the model")
        }
    }
}

/// The error for a target cell that cannot be used.
pub(crate) fn target_error(
    path: &Path,
    line: u64,
    column: &str,
    text: &str,
    problem: TargetProblem,
) -> Error {
    match problem {
        TargetProblem::NotANumber => data_error(
            path,
            line,
            format!("target column `{column}` holds `{text}`, which is not a finite number"),
            "a regression target must be numeric; use a classifier for labels",
        ),
        TargetProblem::Empty => data_error(
            path,
            line,
            format!("target column `{column}` is empty"),
            "give every row a label",
        ),
    }
}

/// An error on `line` of the data file `path`.
fn data_error(path: &Path, line: u64, message: String, fix: &str) -> Error {
    Error::Data {
        message,
        location: Location::line(path, line as usize),
        fix: fix.to_owned(),
    }
}

/// The targets of the rows read so far.
#[derive(Debug, Default)]
pub(crate) struct TargetRows {
    /// Numeric targets.
    pub(crate) values: Vec<f32>,
    /// Each distinct label once, in order of first appearance.
    pub(crate) label_names: Vec<String>,
    /// The index of each label in `label_names`.
    label_index: std::collections::HashMap<String, u32>,
    /// Each row's index into `label_names`.
    pub(crate) labels: Vec<u32>,
}

/// Why a target cell cannot be used.
pub(crate) enum TargetProblem {
    /// A regression target that is not a finite number.
    NotANumber,
    /// An empty label.
    Empty,
}

impl TargetRows {
    /// The targets as a [`Target`]: labels re-indexed to those used when `renumber` (rows
    /// were left out after their labels were noted).
    pub(crate) fn into_target(self, kind: Option<TargetKind>, renumber: bool) -> Target {
        match kind {
            None => Target::None,
            Some(TargetKind::Values) => Target::Values(self.values),
            Some(TargetKind::Labels) if renumber => {
                Target::labels(&self.label_names, self.labels.into_iter())
            }
            Some(TargetKind::Labels) => Target::Labels {
                names: self.label_names,
                rows: self.labels,
            },
        }
    }

    /// Adds one row's target cell.
    pub(crate) fn push(&mut self, kind: TargetKind, text: &str) -> Result<(), TargetProblem> {
        match kind {
            TargetKind::Values => {
                self.values
                    .push(parse_number(text).ok_or(TargetProblem::NotANumber)?);
            }
            TargetKind::Labels if text.is_empty() => return Err(TargetProblem::Empty),
            TargetKind::Labels => {
                let index = match self.label_index.get(text) {
                    Some(&index) => index,
                    None => {
                        let index = self.label_names.len() as u32;
                        self.label_names.push(text.to_owned());
                        self.label_index.insert(text.to_owned(), index);
                        index
                    }
                };
                self.labels.push(index);
            }
        }
        Ok(())
    }
}

/// Removes the rows `dropped` (sorted, counted from element `start`, `width` values each)
/// from `v`.
pub(crate) fn remove_rows<T: Copy>(v: &mut Vec<T>, start: usize, dropped: &[usize], width: usize) {
    if dropped.is_empty() || v.len() < start {
        return;
    }
    let rows = (v.len() - start) / width;
    let (mut keep, mut next) = (start, 0);
    for row in 0..rows {
        if dropped.get(next) == Some(&row) {
            next += 1;
            continue;
        }
        let from = start + row * width;
        v.copy_within(from..from + width, keep);
        keep += width;
    }
    v.truncate(keep);
}

/// Rows read before their feature cells are parsed together.
const PARSE_BLOCK_ROWS: usize = 1024;

impl std::fmt::Debug for CsvReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvReader")
            .field("path", &self.path)
            .field("position", self.reader.position())
            .finish_non_exhaustive()
    }
}

impl CsvReader {
    /// Opens `path` and reads its header.
    pub fn open(path: &Path, columns: Columns<'_>) -> Result<Self> {
        let file = std::fs::File::open(path).map_err(|e| Error::io("read data file", path, e))?;
        let format = columns.format;
        let delimiter = match format.delimiter {
            Some(delimiter) => delimiter,
            None => detect_delimiter(
                &first_line(path, format.max_line_bytes)
                    .map_err(|e| Error::io("read data file", path, e))?,
            ),
        };
        let reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .delimiter(delimiter)
            .trim(csv::Trim::Headers)
            .buffer_capacity(1 << 16)
            .from_reader(LineBreaks::new(file, format.max_line_bytes));
        let mut this = Self {
            path: path.to_owned(),
            reader,
            header: Vec::new(),
            feature_idx: Vec::new(),
            target: None,
            block: Vec::new(),
            parallel: true,
            max_field_bytes: format.max_field_bytes,
            encoding: columns.encoding.map(|e| Arc::new(e.clone())),
            width: 0,
            drop_incomplete: columns.drop_incomplete && columns.encoding.is_some(),
            dropped: Dropped::default(),
            unseen: 0,
        };
        let header = match this.reader.headers() {
            Ok(header) => header.iter().map(str::to_owned).collect::<Vec<_>>(),
            Err(e) => return Err(this.csv_error(e)),
        };
        if let Some(name) = header.iter().find(|name| name.len() > this.max_field_bytes) {
            return Err(this.data_error(
                1,
                format!(
                    "a column name is longer than {} bytes (`{}...`)",
                    this.max_field_bytes,
                    name.chars().take(20).collect::<String>()
                ),
                "check that the first line is a header of column names",
            ));
        }
        if header.iter().all(String::is_empty) {
            return Err(this.data_error(
                1,
                "the file is empty or has no header row".into(),
                "put the column names on the first line",
            ));
        }
        for (i, name) in header.iter().enumerate() {
            if header[..i].contains(name) {
                return Err(this.data_error(
                    1,
                    format!("column `{name}` appears twice in the header"),
                    "give every column a distinct name",
                ));
            }
        }
        let find = |name: &str, role: &str| -> Result<usize> {
            header.iter().position(|h| h == name).ok_or_else(|| {
                let known: Vec<&str> = header.iter().map(String::as_str).collect();
                this.data_error(
                    1,
                    format!("no {role} column `{name}` in the header"),
                    &suggestion(name, &known),
                )
            })
        };
        let target = match columns.target {
            Some((name, kind)) => Some((find(name, "target")?, kind)),
            None => None,
        };
        let encoded_names = columns.encoding.map(TableEncoding::column_names);
        let feature_idx: Vec<usize> = match encoded_names.as_deref().or(columns.features) {
            Some(names) => names
                .iter()
                .map(|n| find(n, "feature"))
                .collect::<Result<_>>()?,
            None => (0..header.len())
                .filter(|i| Some(*i) != target.map(|t| t.0))
                .collect(),
        };
        if feature_idx.is_empty() {
            return Err(this.data_error(
                1,
                "there are no feature columns".into(),
                "add at least one numeric column besides the target",
            ));
        }
        this.width = match &this.encoding {
            Some(encoding) => encoding.width(),
            None => feature_idx.len(),
        };
        if this.width == 0 {
            return Err(this.data_error(
                1,
                "the model's table encoding gives no features".into(),
                "retrain the model",
            ));
        }
        this.header = header;
        this.feature_idx = feature_idx;
        this.target = target;
        Ok(this)
    }

    /// The file being read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The features read, in order: the columns' names, or the encoding's feature names.
    pub fn feature_names(&self) -> Vec<String> {
        match &self.encoding {
            Some(encoding) => encoding.feature_names(),
            None => self.column_names(),
        }
    }

    /// The feature columns read, in order.
    pub fn column_names(&self) -> Vec<String> {
        self.feature_idx
            .iter()
            .map(|&i| self.header[i].clone())
            .collect()
    }

    /// The rows left out so far (see [`Columns::drop_incomplete`]).
    pub fn dropped(&self) -> Dropped {
        self.dropped
    }

    /// The cells read so far whose category the encoding never saw.
    pub fn unseen_categories(&self) -> u64 {
        self.unseen
    }

    /// Where the next row starts.
    pub fn position(&mut self) -> CsvStart {
        let position = self.reader.position().clone();
        let newlines = self.reader.get_mut().newlines_before(position.byte());
        CsvStart { position, newlines }
    }

    /// Goes back (or on) to a place [`CsvReader::position`] gave.
    pub fn seek(&mut self, start: &CsvStart) -> Result<()> {
        let position = start.position.clone();
        // `seek_raw` always seeks, so the line count restarts from a known place.
        self.reader
            .seek_raw(std::io::SeekFrom::Start(position.byte()), position)
            .map_err(|e| Error::io("read data file", &self.path, std::io::Error::other(e)))?;
        self.reader.get_mut().newlines = start.newlines;
        Ok(())
    }

    /// Reads the next record into `record`, skipping blank lines: its line, or `None` at the
    /// end of the file.
    fn next_record(&mut self, record: &mut csv::ByteRecord) -> Result<Option<u64>> {
        loop {
            match self.reader.read_byte_record(record) {
                Ok(true) => {}
                Ok(false) => return Ok(None),
                Err(e) => return Err(self.csv_error(e)),
            }
            let byte = record.position().map_or(0, csv::Position::byte);
            let line = self.reader.get_mut().line_of(byte);
            if let Some(column) = record
                .iter()
                .position(|cell| cell.len() > self.max_field_bytes)
            {
                return Err(self.data_error(
                    line,
                    format!(
                        "the cell of column {} is longer than {} bytes",
                        self.header.get(column).map_or("?", String::as_str),
                        self.max_field_bytes
                    ),
                    "check the file (a missing closing quote runs one cell to the end of it); \
                     a table with cells this long needs `[data] max_field_bytes` raised",
                ));
            }
            if record.len() == 1 && record[0].trim_ascii().is_empty() {
                continue; // a blank line
            }
            return Ok(Some(line));
        }
    }

    /// Reads every remaining row and calls `visit` with its line, its feature cells (the
    /// columns read, in order, trimmed) and its target cell, parsing none of them: for a pass
    /// that gathers what the cells hold before an encoding exists.
    pub fn visit_rows(
        &mut self,
        mut visit: impl FnMut(u64, &[Cell<'_>], Option<Cell<'_>>) -> Result<()>,
    ) -> Result<()> {
        let mut record = csv::ByteRecord::new();
        while let Some(line) = self.next_record(&mut record)? {
            let cells = self
                .feature_idx
                .iter()
                .map(|&i| self.cell(&record, i, line).map(Cell::Text))
                .collect::<Result<Vec<_>>>()?;
            let target = match self.target {
                Some((i, _)) => Some(Cell::Text(self.cell(&record, i, line)?)),
                None => None,
            };
            visit(line, &cells, target)?;
        }
        Ok(())
    }

    /// Whether `record`'s target cell is missing and the row is to be left out for it.
    fn drops_target(&self, record: &csv::ByteRecord) -> bool {
        let (Some((i, _)), Some(encoding), true) =
            (self.target, &self.encoding, self.drop_incomplete)
        else {
            return false;
        };
        std::str::from_utf8(record[i].trim_ascii()).is_ok_and(|text| encoding.is_missing(text))
    }

    /// Reads every remaining row; an error if there is none.
    pub fn read_all(&mut self) -> Result<Dataset> {
        let table = self.read_rows(usize::MAX)?;
        if table.n_rows() == 0 {
            return Err(self.no_rows_error());
        }
        Ok(table)
    }

    /// The error for a file with no rows (or none left once incomplete ones are left out).
    pub fn no_rows_error(&self) -> Error {
        let Dropped {
            missing_target,
            missing_feature,
        } = self.dropped;
        if missing_target + missing_feature > 0 {
            return self.data_error(
                1,
                format!(
                    "no rows are left once the incomplete ones are left out ({missing_target} \
                     with a missing target, {missing_feature} with a missing `drop_row` cell)"
                ),
                "fill the cells, or impute them",
            );
        }
        self.data_error(
            1,
            "the file has a header but no rows".into(),
            "add data rows below the header",
        )
    }

    /// Reads up to `max_rows` more rows (none at the end of the file).
    pub fn read_rows(&mut self, max_rows: usize) -> Result<Dataset> {
        let reserve = max_rows.min(1 << 16);
        let mut x = Vec::with_capacity(reserve * self.width);
        let mut targets = TargetRows::default();
        let mut lines = Vec::with_capacity(reserve);
        let dropped_before = self.dropped;
        // Rows read whose features are not parsed yet: `block[..filled]`, the last `filled`
        // of `lines`. Records are reused from call to call.
        let mut block = std::mem::take(&mut self.block);
        let mut filled = 0;
        let outcome = loop {
            if lines.len() >= max_rows {
                break Ok(());
            }
            if filled == block.len() {
                block.push(csv::ByteRecord::new());
            }
            let line = match self.next_record(&mut block[filled]) {
                Ok(Some(line)) => line,
                Ok(None) => break Ok(()),
                Err(e) => break Err(e),
            };
            let record = &block[filled];
            if self.drops_target(record) {
                self.dropped.missing_target += 1;
                continue;
            }
            // The row's features are parsed with its block, before any error of its target is
            // reported: a bad cell earlier in the file comes first.
            lines.push(line);
            filled += 1;
            if let Some((i, kind)) = self.target {
                let text = match self.cell(record, i, line) {
                    Ok(text) => text,
                    Err(e) => break Err(e),
                };
                if let Err(problem) = targets.push(kind, text) {
                    break Err(target_error(
                        &self.path,
                        line,
                        &self.header[i],
                        text,
                        problem,
                    ));
                }
            }
            if filled == PARSE_BLOCK_ROWS {
                self.finish_block(&block[..filled], &mut lines, &mut x, &mut targets)?;
                filled = 0;
            }
        };
        self.finish_block(&block[..filled], &mut lines, &mut x, &mut targets)?;
        outcome?;
        self.block = block;
        // Rows left out may have taken the only use of a label with them.
        let target = targets.into_target(
            self.target.map(|(_, kind)| kind),
            self.dropped != dropped_before,
        );
        Ok(Dataset {
            path: self.path.clone(),
            feature_names: self.feature_names(),
            target_column: self.target.map(|(i, _)| self.header[i].clone()),
            x,
            target,
            lines,
            encoding: self.encoding.clone(),
        })
    }

    /// Parses the features of `records`, the last of `lines`, onto `x`, and leaves out the
    /// rows the encoding drops (from `lines` and `targets` too).
    fn finish_block(
        &mut self,
        records: &[csv::ByteRecord],
        lines: &mut Vec<u64>,
        x: &mut Vec<f32>,
        targets: &mut TargetRows,
    ) -> Result<()> {
        let start = lines.len() - records.len();
        let parsed = self.parse_features(records, &lines[start..], x)?;
        self.unseen += parsed.unseen;
        if !parsed.dropped.is_empty() {
            self.dropped.missing_feature += parsed.dropped.len() as u64;
            remove_rows(lines, start, &parsed.dropped, 1);
            remove_rows(&mut targets.values, start, &parsed.dropped, 1);
            remove_rows(&mut targets.labels, start, &parsed.dropped, 1);
        }
        Ok(())
    }

    /// Parses the feature cells of `records` (read from `lines`) onto the end of `x`, on every
    /// core unless [`CsvReader::single_threaded`]. An error names the first bad cell in file
    /// order, wherever the threads found one.
    fn parse_features(
        &self,
        records: &[csv::ByteRecord],
        lines: &[u64],
        x: &mut Vec<f32>,
    ) -> Result<Parsed> {
        let Some(encoding) = &self.encoding else {
            self.parse_numbers(records, lines, x)?;
            return Ok(Parsed::default());
        };
        let width = self.width;
        let start = x.len();
        x.resize(start + records.len() * width, 0.0);
        // `None` for a cell that is not UTF-8.
        let encode = |(row, record): (&mut [f32], &csv::ByteRecord)| {
            let cells = self
                .feature_idx
                .iter()
                .map(|&i| std::str::from_utf8(record[i].trim_ascii()).map(Cell::Text))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| None)?;
            encoding.encode(&cells, row).map_err(Some)
        };
        let outcomes: Vec<_> = if self.parallel {
            x[start..]
                .par_chunks_mut(width)
                .zip(records)
                .map(encode)
                .collect()
        } else {
            x[start..]
                .chunks_mut(width)
                .zip(records)
                .map(encode)
                .collect()
        };
        let mut parsed = Parsed::default();
        for (row, outcome) in outcomes.into_iter().enumerate() {
            match outcome {
                Ok(unseen) => parsed.unseen += unseen as u64,
                Err(Some(RowError::Missing { drop_row: true, .. })) if self.drop_incomplete => {
                    parsed.dropped.push(row);
                }
                Err(e) => {
                    x.truncate(start);
                    return Err(self.row_error(lines[row], e));
                }
            }
        }
        remove_rows(x, start, &parsed.dropped, width);
        Ok(parsed)
    }

    /// The error for a row the encoding refused (`None`: a cell that is not UTF-8).
    fn row_error(&self, line: u64, error: Option<RowError>) -> Error {
        match error {
            None => self.data_error(
                line,
                "row is not valid UTF-8".into(),
                "save the file as UTF-8",
            ),
            Some(error) => row_error(&self.path, line, error),
        }
    }

    /// Parses every feature cell of `records` as a number onto the end of `x`.
    fn parse_numbers(
        &self,
        records: &[csv::ByteRecord],
        lines: &[u64],
        x: &mut Vec<f32>,
    ) -> Result<()> {
        let width = self.feature_idx.len();
        let start = x.len();
        x.resize(start + records.len() * width, 0.0);
        let parse = |(row, record): (&mut [f32], &csv::ByteRecord)| {
            row.iter_mut().zip(&self.feature_idx).all(|(value, &i)| {
                let parsed = std::str::from_utf8(record[i].trim_ascii())
                    .ok()
                    .and_then(parse_number);
                parsed.map(|v| *value = v).is_some()
            })
        };
        let parsed = if self.parallel {
            x[start..].par_chunks_mut(width).zip(records).all(parse)
        } else {
            x[start..].chunks_mut(width).zip(records).all(parse)
        };
        if parsed {
            return Ok(());
        }
        x.truncate(start);
        for (record, &line) in records.iter().zip(lines) {
            for &i in &self.feature_idx {
                let text = self.cell(record, i, line)?;
                if parse_number(text).is_none() {
                    return Err(self.data_error(
                        line,
                        format!("column `{}` holds `{text}`, which is not a finite number", self.header[i]),
                        "features must be numbers: encode categories as numbers and fill or drop missing values",
                    ));
                }
            }
        }
        unreachable!("a cell that failed to parse parses")
    }

    /// Cell `i` of `record` (on `line`), trimmed.
    fn cell<'r>(&self, record: &'r csv::ByteRecord, i: usize, line: u64) -> Result<&'r str> {
        std::str::from_utf8(record[i].trim_ascii()).map_err(|_| {
            self.data_error(
                line,
                "row is not valid UTF-8".into(),
                "save the file as UTF-8",
            )
        })
    }

    /// Parses on the calling thread only: for a reader working beside training, whose
    /// threads it would otherwise hold up.
    pub fn single_threaded(mut self) -> Self {
        self.parallel = false;
        self
    }

    fn data_error(&self, line: u64, message: String, fix: &str) -> Error {
        data_error(&self.path, line, message, fix)
    }

    fn csv_error(&mut self, e: csv::Error) -> Error {
        let line = match e.position() {
            Some(p) => self.reader.get_mut().line_of(p.byte()),
            None => 1,
        };
        match e.kind() {
            csv::ErrorKind::UnequalLengths {
                expected_len, len, ..
            } => self.data_error(
                line,
                format!("row has {len} fields but the header has {expected_len}"),
                "give every row one value per header column",
            ),
            csv::ErrorKind::Utf8 { .. } => self.data_error(
                line,
                "row is not valid UTF-8".into(),
                "save the file as UTF-8",
            ),
            csv::ErrorKind::Io(io) => match io
                .get_ref()
                .and_then(|e| e.downcast_ref::<LineTooLong>())
            {
                Some(too_long) => self.data_error(
                    too_long.line,
                    format!(
                        "a line longer than {} bytes (no line break that far): this is not a \
                         CSV file of rows",
                        too_long.limit
                    ),
                    "check the file; a table with lines this long needs `[data] max_line_bytes` \
                     raised",
                ),
                None => Error::io(
                    "read data file",
                    &self.path,
                    std::io::Error::new(io.kind(), io.to_string()),
                ),
            },
            _ => self.data_error(
                line,
                format!("cannot parse CSV: {e}"),
                "check the CSV syntax",
            ),
        }
    }
}

/// A reader that notes the line breaks in what it gives, so a record's line can be found from
/// its byte offset (the csv crate's own line numbers skip blank lines). It keeps only the
/// breaks the parser has not passed yet: memory is bounded by the parser's buffer.
struct LineBreaks<R> {
    inner: R,
    /// Offset of the next byte `inner` gives.
    offset: u64,
    /// `\n`s before the first pending break.
    newlines: u64,
    /// Offsets of the `\n` and `\r` bytes read and not yet passed, and whether each is `\n`.
    pending: std::collections::VecDeque<(u64, bool)>,
    /// Bytes read since the last line break.
    since_break: u64,
    /// The longest line allowed: past it, reading fails ([`LineTooLong`]) rather than the
    /// parser's buffer growing without bound.
    max_line: u64,
}

impl<R> LineBreaks<R> {
    fn new(inner: R, max_line: usize) -> Self {
        Self {
            inner,
            offset: 0,
            newlines: 0,
            pending: Default::default(),
            since_break: 0,
            max_line: max_line as u64,
        }
    }

    /// The error of a line over the limit, naming it.
    fn too_long(&self) -> std::io::Error {
        let breaks = self.pending.iter().filter(|(_, newline)| *newline).count() as u64;
        std::io::Error::other(LineTooLong {
            line: self.newlines + breaks + 1,
            limit: self.max_line as usize,
        })
    }

    /// Line breaks before byte `byte` (which never goes back between calls, bar a seek).
    fn newlines_before(&mut self, byte: u64) -> u64 {
        while let Some(&(at, newline)) = self.pending.front()
            && at < byte
        {
            self.pending.pop_front();
            self.newlines += u64::from(newline);
        }
        self.newlines
    }

    /// The 1-based line of a record starting at `byte`. A record's offset can point at the
    /// blank lines skipped before it.
    fn line_of(&mut self, mut byte: u64) -> u64 {
        self.newlines_before(byte);
        while let Some(&(at, newline)) = self.pending.front()
            && at == byte
        {
            self.pending.pop_front();
            self.newlines += u64::from(newline);
            byte += 1;
        }
        self.newlines + 1
    }
}

impl<R: std::io::Read> std::io::Read for LineBreaks<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut line_start = 0;
        for i in memchr::memchr2_iter(b'\n', b'\r', &buf[..n]) {
            if self.since_break + (i - line_start) as u64 > self.max_line {
                return Err(self.too_long());
            }
            self.since_break = 0;
            line_start = i + 1;
            self.pending
                .push_back((self.offset + i as u64, buf[i] == b'\n'));
        }
        self.since_break += (n - line_start) as u64;
        if self.since_break > self.max_line {
            return Err(self.too_long());
        }
        self.offset += n as u64;
        Ok(n)
    }
}

impl<R: std::io::Seek> std::io::Seek for LineBreaks<R> {
    fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
        self.offset = self.inner.seek(to)?;
        // The caller sets `newlines` for the new place, always the start of a line.
        self.pending.clear();
        self.since_break = 0;
        Ok(self.offset)
    }
}

fn parse_number(cell: &str) -> Option<f32> {
    cell.parse::<f32>().ok().filter(|v| v.is_finite())
}

/// Splits row indices `0..n` into (train, valid) with a seeded shuffle; `valid_fraction` of the
/// rows (rounded, at least one when the fraction is positive) go to validation.
pub fn split_indices(n: usize, valid_fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut indices: Vec<usize> = (0..n).collect();
    if valid_fraction <= 0.0 {
        return (indices, Vec::new());
    }
    indices.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(seed));
    // At least one validation row and one training row, where there are two rows to share;
    // with fewer, no validation row (the caller says the rows are too few).
    let n_valid = ((n as f64 * valid_fraction).round() as usize)
        .max(1)
        .min(n.saturating_sub(1));
    let valid = indices.split_off(n - n_valid);
    (indices, valid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preprocess::{ColumnSummary, encode_labels, fit};
    use kiln_model_zoo::Task;

    fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.csv");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    fn labels(target: &str) -> Columns<'_> {
        Columns {
            target: Some((target, TargetKind::Labels)),
            features: None,
            ..Default::default()
        }
    }

    fn err(text: &str, columns: Columns<'_>) -> String {
        let (_dir, path) = write(text);
        read_csv(&path, columns).unwrap_err().to_string()
    }

    #[test]
    fn reads_features_and_labels_and_standardizes() {
        let (_dir, path) = write("a,b,label\n1,10,x\n3,10,y\n\n5,10,x\n");
        let table = read_csv(&path, labels("label")).unwrap();
        assert_eq!(table.feature_names, ["a", "b"]);
        assert_eq!(table.x, [1.0, 10.0, 3.0, 10.0, 5.0, 10.0]);
        assert_eq!(table.lines, [2, 3, 5]);
        let prep = fit(&table, Some("label"), true);
        assert_eq!(
            prep.class_names.as_deref(),
            Some(&["x".to_owned(), "y".to_owned()][..])
        );
        assert_eq!(prep.task(), Task::Classification { n_classes: 2 });
        assert!(
            (prep.mean[0] - 3.0).abs() < 1e-6
                && (prep.scale[0] - (8.0f32 / 3.0).sqrt()).abs() < 1e-6
        );
        assert_eq!(
            (prep.mean[1], prep.scale[1]),
            (10.0, 1.0),
            "a constant column keeps scale 1"
        );
        assert_eq!(encode_labels(&prep, &table).unwrap(), [0, 1, 0]);
    }

    /// Chunks read in any order after a seek give the rows, labels and true line numbers of
    /// the whole file (blank lines, CRLF line ends), and merged chunk statistics give its
    /// scaling.
    #[test]
    fn chunks_read_back_after_seeks_match_the_whole_file() {
        let (_dir, path) = write("a,b,label\r\n1,10,x\r\n3,11,y\r\n\r\n5,10,x\n\n7,13,z\n9,9,y\n");
        let whole = read_csv(&path, labels("label")).unwrap();
        assert_eq!(whole.lines, [2, 3, 5, 7, 8]);
        let mut reader = CsvReader::open(&path, labels("label")).unwrap();
        let mut starts = Vec::new();
        let mut summary = ColumnSummary::default();
        loop {
            starts.push(reader.position());
            let chunk = reader.read_rows(2).unwrap();
            if chunk.n_rows() == 0 {
                break;
            }
            summary.add(&chunk);
        }
        assert_eq!(starts.len(), 4, "3 chunks and the end");
        let mut rows = vec![Vec::new(); 3];
        for index in [2, 0, 1] {
            reader.seek(&starts[index]).unwrap();
            rows[index] = vec![reader.read_rows(2).unwrap()];
        }
        let x: Vec<f32> = rows.iter().flatten().flat_map(|t| t.x.clone()).collect();
        let lines: Vec<u64> = rows
            .iter()
            .flatten()
            .flat_map(|t| t.lines.clone())
            .collect();
        assert_eq!((x, lines), (whole.x.clone(), whole.lines.clone()));
        let merged = summary.preprocessing(whole.feature_names.clone(), Some("label"), true);
        let direct = fit(&whole, Some("label"), true);
        assert_eq!(merged.class_names, direct.class_names);
        for j in 0..2 {
            assert!(
                (merged.mean[j] - direct.mean[j]).abs() < 1e-6,
                "{merged:?} {direct:?}"
            );
            assert!(
                (merged.scale[j] - direct.scale[j]).abs() < 1e-6,
                "{merged:?} {direct:?}"
            );
        }
        // An error in a later chunk names its true line.
        let (_dir, path) = write("a,b\n1,2\n\n3,4\n5,x\n");
        let mut reader = CsvReader::open(
            &path,
            Columns {
                target: None,
                features: None,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(reader.read_rows(2).unwrap().lines, [2, 4]);
        let msg = reader.read_rows(2).unwrap_err().to_string();
        assert!(
            msg.contains("holds `x`") && msg.contains("d.csv:5;"),
            "{msg}"
        );
    }

    #[test]
    fn bad_files_name_the_line_and_the_fix() {
        let msg = err("a,b,label\n1,2,x\n1,2\n", labels("label"));
        assert!(
            msg.starts_with("row has 2 fields but the header has 3, in ")
                && msg.contains("d.csv:3;"),
            "{msg}"
        );
        let msg = err("a,b,label\n1,2,x\n1,abc,y\n", labels("label"));
        assert!(
            msg.contains("column `b` holds `abc`, which is not a finite number")
                && msg.contains("d.csv:3;"),
            "{msg}"
        );
        let msg = err("a,b,label\n1,NaN,x\n", labels("label"));
        assert!(
            msg.contains("holds `NaN`") && msg.contains("d.csv:2;"),
            "{msg}"
        );
        let msg = err("a,b,label\n1,inf,x\n", labels("label"));
        assert!(msg.contains("holds `inf`"), "{msg}");
        let msg = err("a,b,label\n1,2,x\n", labels("lable"));
        assert!(
            msg.contains("no target column `lable`") && msg.contains("did you mean `label`?"),
            "{msg}"
        );
        let msg = err(
            "a,b,y\n1,2,x\n",
            Columns {
                target: Some(("y", TargetKind::Values)),
                features: None,
                ..Default::default()
            },
        );
        assert!(msg.contains("target column `y` holds `x`"), "{msg}");
        let msg = err("", labels("label"));
        assert!(msg.contains("empty or has no header"), "{msg}");
        let msg = err("a,b,label\n", labels("label"));
        assert!(msg.contains("has a header but no rows"), "{msg}");
    }

    /// Feature cells are parsed a block of rows at a time, on every core; errors still name
    /// the first bad row of the file, whether a feature or the target is bad and whichever
    /// block or thread meets it.
    #[test]
    fn the_first_bad_row_is_reported_across_parse_blocks() {
        let rows = 3 * PARSE_BLOCK_ROWS;
        let file = |bad: &[(usize, &str)]| {
            let mut text = String::from("a,b,label\n");
            for row in 0..rows {
                // Line `row + 2` of the file.
                let line = bad
                    .iter()
                    .find(|(at, _)| *at == row + 2)
                    .map_or_else(|| format!("{row},0.5,x"), |(_, line)| line.to_string());
                text.push_str(&line);
                text.push('\n');
            }
            text
        };
        let late = 2 * PARSE_BLOCK_ROWS + 100;
        let cases = [
            // A bad feature before a bad target and another bad feature, in later blocks.
            (
                vec![
                    (late, "1,abc,x"),
                    (late + 50, "1,2,"),
                    (late + 90, "zz,2,x"),
                ],
                late,
                "column `b` holds `abc`",
            ),
            // A bad target before a bad feature in the same block: the target's line.
            (
                vec![(late, "1,2,"), (late + 1, "1,abc,x")],
                late,
                "target column `label` is empty",
            ),
            // A row's bad feature comes before its own bad target.
            (vec![(late, "1,abc,")], late, "column `b` holds `abc`"),
            // The last row of a block, then a bad row of the next block.
            (
                vec![
                    (PARSE_BLOCK_ROWS + 1, "1,zz,x"),
                    (PARSE_BLOCK_ROWS + 2, "1,2"),
                ],
                PARSE_BLOCK_ROWS + 1,
                "column `b` holds `zz`",
            ),
            // A malformed row after a bad feature in the block being read.
            (
                vec![(late, "1,abc,x"), (late + 1, "1,2")],
                late,
                "column `b` holds `abc`",
            ),
        ];
        for (bad, line, message) in cases {
            let msg = err(&file(&bad), labels("label"));
            assert!(
                msg.contains(message) && msg.contains(&format!("d.csv:{line};")),
                "{bad:?}: {msg}"
            );
        }
        let (_dir, path) = write(&file(&[]));
        let table = read_csv(&path, labels("label")).unwrap();
        assert_eq!(table.n_rows(), rows);
        let first_column: Vec<f32> = table.x.chunks(2).map(|row| row[0]).collect();
        assert_eq!(
            first_column,
            (0..rows).map(|r| r as f32).collect::<Vec<_>>()
        );
    }

    #[test]
    fn split_is_seeded_and_complete() {
        let (train, valid) = split_indices(10, 0.2, 1);
        assert_eq!((train.len(), valid.len()), (8, 2));
        assert_eq!(split_indices(10, 0.2, 1), (train.clone(), valid.clone()));
        let mut all: Vec<usize> = train.into_iter().chain(valid).collect();
        all.sort();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
        assert_eq!(split_indices(5, 0.0, 1).1.len(), 0);
    }
}
