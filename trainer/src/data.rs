//! CSV data: reading and checking it, the train/valid split, standardization, and upload to a
//! device.

use std::path::{Path, PathBuf};

use burn::tensor::{Device, Int, Tensor, TensorData};
use kiln_model_zoo::{Batch, Targets, Task};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

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
pub enum RawTarget {
    /// No target read (prediction).
    None,
    Values(Vec<f32>),
    /// Class labels: each distinct label once, in order of first appearance, and each row's
    /// index into them (a small integer per row, not a string).
    Labels {
        names: Vec<String>,
        rows: Vec<u32>,
    },
}

impl RawTarget {
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
        RawTarget::Labels { names: used, rows }
    }
}

/// Rows of a CSV file: features row-major, and the target.
#[derive(Clone, Debug)]
pub struct Table {
    pub path: PathBuf,
    pub feature_names: Vec<String>,
    /// `n_rows × feature_names.len()`, row-major.
    pub x: Vec<f32>,
    pub target: RawTarget,
    /// The file line of each row, for error messages.
    pub lines: Vec<u64>,
}

impl Table {
    pub fn n_rows(&self) -> usize {
        self.lines.len()
    }

    pub fn n_features(&self) -> usize {
        self.feature_names.len()
    }

    /// The rows at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Table {
        let d = self.n_features();
        let mut x = Vec::with_capacity(indices.len() * d);
        for &i in indices {
            x.extend_from_slice(&self.x[i * d..(i + 1) * d]);
        }
        let target = match &self.target {
            RawTarget::None => RawTarget::None,
            RawTarget::Values(v) => RawTarget::Values(indices.iter().map(|&i| v[i]).collect()),
            RawTarget::Labels { names, rows } => {
                RawTarget::labels(names, indices.iter().map(|&i| rows[i]))
            }
        };
        Table {
            path: self.path.clone(),
            feature_names: self.feature_names.clone(),
            x,
            target,
            lines: indices.iter().map(|&i| self.lines[i]).collect(),
        }
    }
}

/// Which columns to read.
#[derive(Clone, Copy, Debug)]
pub struct Columns<'a> {
    /// The target column and what it holds; `None` to read no target.
    pub target: Option<(&'a str, TargetKind)>,
    /// The feature columns by name, in this order; `None` for every non-target column.
    pub features: Option<&'a [String]>,
}

/// Reads a CSV file with a header row. Every error names the file and line and the fix.
pub fn read_csv(path: &Path, columns: Columns<'_>) -> Result<Table> {
    let mut reader = CsvReader::open(path, columns)?;
    let table = reader.read_rows(usize::MAX)?;
    if table.n_rows() == 0 {
        return Err(reader.data_error(
            1,
            "the file has a header but no rows".into(),
            "add data rows below the header",
        ));
    }
    Ok(table)
}

/// Where a run of rows starts in a CSV file, to read it again with [`CsvReader::seek`].
#[derive(Clone, Debug)]
pub struct RowsStart {
    position: csv::Position,
    /// Line breaks before `position`.
    newlines: u64,
}

impl RowsStart {
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
        let reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .trim(csv::Trim::Headers)
            .buffer_capacity(1 << 16)
            .from_reader(LineBreaks::new(file));
        let mut this = Self {
            path: path.to_owned(),
            reader,
            header: Vec::new(),
            feature_idx: Vec::new(),
            target: None,
            block: Vec::new(),
            parallel: true,
        };
        let header = match this.reader.headers() {
            Ok(header) => header.iter().map(str::to_owned).collect::<Vec<_>>(),
            Err(e) => return Err(this.csv_error(e)),
        };
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
        let feature_idx: Vec<usize> = match columns.features {
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
        this.header = header;
        this.feature_idx = feature_idx;
        this.target = target;
        Ok(this)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The feature columns read, in order.
    pub fn feature_names(&self) -> Vec<String> {
        self.feature_idx
            .iter()
            .map(|&i| self.header[i].clone())
            .collect()
    }

    /// Where the next row starts.
    pub fn position(&mut self) -> RowsStart {
        let position = self.reader.position().clone();
        let newlines = self.reader.get_mut().newlines_before(position.byte());
        RowsStart { position, newlines }
    }

    /// Goes back (or on) to a place [`CsvReader::position`] gave.
    pub fn seek(&mut self, start: &RowsStart) -> Result<()> {
        let position = start.position.clone();
        // `seek_raw` always seeks, so the line count restarts from a known place.
        self.reader
            .seek_raw(std::io::SeekFrom::Start(position.byte()), position)
            .map_err(|e| Error::io("read data file", &self.path, std::io::Error::other(e)))?;
        self.reader.get_mut().newlines = start.newlines;
        Ok(())
    }

    /// Reads up to `max_rows` more rows (none at the end of the file).
    pub fn read_rows(&mut self, max_rows: usize) -> Result<Table> {
        let reserve = max_rows.min(1 << 16);
        let mut x = Vec::with_capacity(reserve * self.feature_idx.len());
        let mut values = Vec::new();
        let mut label_names: Vec<String> = Vec::new();
        let mut label_index: std::collections::HashMap<String, u32> = Default::default();
        let mut labels = Vec::new();
        let mut lines = Vec::with_capacity(reserve);
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
            match self.reader.read_byte_record(&mut block[filled]) {
                Ok(true) => {}
                Ok(false) => break Ok(()),
                Err(e) => break Err(self.csv_error(e)),
            }
            let record = &block[filled];
            let byte = record.position().map_or(0, csv::Position::byte);
            let line = self.reader.get_mut().line_of(byte);
            if record.len() == 1 && record[0].trim_ascii().is_empty() {
                continue; // a blank line
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
                match kind {
                    TargetKind::Values => match parse_number(text) {
                        Some(value) => values.push(value),
                        None => {
                            break Err(self.data_error(
                                line,
                                format!(
                                    "target column `{}` holds `{text}`, which is not a finite number",
                                    self.header[i]
                                ),
                                "a regression target must be numeric; use a classifier for labels",
                            ));
                        }
                    },
                    TargetKind::Labels if text.is_empty() => {
                        break Err(self.data_error(
                            line,
                            format!("target column `{}` is empty", self.header[i]),
                            "give every row a label",
                        ));
                    }
                    TargetKind::Labels => labels.push(match label_index.get(text) {
                        Some(&index) => index,
                        None => {
                            let index = label_names.len() as u32;
                            label_names.push(text.to_owned());
                            label_index.insert(text.to_owned(), index);
                            index
                        }
                    }),
                }
            }
            if filled == PARSE_BLOCK_ROWS {
                self.parse_features(&block[..filled], &lines[lines.len() - filled..], &mut x)?;
                filled = 0;
            }
        };
        self.parse_features(&block[..filled], &lines[lines.len() - filled..], &mut x)?;
        outcome?;
        self.block = block;
        let target = match self.target {
            None => RawTarget::None,
            Some((_, TargetKind::Values)) => RawTarget::Values(values),
            Some((_, TargetKind::Labels)) => RawTarget::Labels {
                names: label_names,
                rows: labels,
            },
        };
        Ok(Table {
            path: self.path.clone(),
            feature_names: self.feature_names(),
            x,
            target,
            lines,
        })
    }

    /// Parses the feature cells of `records` (read from `lines`) onto the end of `x`, on every
    /// core unless [`CsvReader::single_threaded`]. An error names the first bad cell in file
    /// order, wherever the threads found one.
    fn parse_features(
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
        Error::Data {
            message,
            location: Location::line(&self.path, line as usize),
            fix: fix.to_owned(),
        }
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
            csv::ErrorKind::Io(io) => Error::io(
                "read data file",
                &self.path,
                std::io::Error::new(io.kind(), io.to_string()),
            ),
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
}

impl<R> LineBreaks<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            offset: 0,
            newlines: 0,
            pending: Default::default(),
        }
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
        for i in memchr::memchr2_iter(b'\n', b'\r', &buf[..n]) {
            self.pending
                .push_back((self.offset + i as u64, buf[i] == b'\n'));
        }
        self.offset += n as u64;
        Ok(n)
    }
}

impl<R: std::io::Seek> std::io::Seek for LineBreaks<R> {
    fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
        self.offset = self.inner.seek(to)?;
        // The caller sets `newlines` for the new place.
        self.pending.clear();
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
    let n_valid = ((n as f64 * valid_fraction).round() as usize).clamp(1, n.saturating_sub(1));
    let valid = indices.split_off(n - n_valid);
    (indices, valid)
}

/// What `predict` needs besides the weights: columns, scaling and label names. Saved with the
/// model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Preprocessing {
    pub feature_names: Vec<String>,
    /// The target column (absent for unsupervised models).
    pub target: Option<String>,
    /// Class names, in the order of the model's outputs (classifiers only).
    pub class_names: Option<Vec<String>>,
    /// Per-feature mean subtracted before prediction (0 when not standardizing).
    pub mean: Vec<f32>,
    /// Per-feature scale divided by after the mean (1 when not standardizing).
    pub scale: Vec<f32>,
}

impl Preprocessing {
    /// Learns the scaling (population standard deviation, as scikit-learn's `StandardScaler`;
    /// a constant column keeps scale 1) and the class names from the training split.
    pub fn fit(train: &Table, target: Option<&str>, standardize: bool) -> Self {
        let mut summary = ColumnSummary::default();
        summary.add(train);
        summary.preprocessing(train.feature_names.clone(), target, standardize)
    }

    /// The task the data poses.
    pub fn task(&self) -> Task {
        match &self.class_names {
            Some(names) => Task::Classification {
                n_classes: names.len(),
            },
            None => Task::Regression,
        }
    }

    /// Scales the features in place.
    pub fn transform(&self, x: &mut [f32]) {
        let d = self.mean.len();
        for row in x.chunks_exact_mut(d) {
            for ((v, m), s) in row.iter_mut().zip(&self.mean).zip(&self.scale) {
                *v = (*v - m) / s;
            }
        }
    }

    /// The class index of every label, or an error naming the row of an unseen label.
    pub fn encode_labels(&self, table: &Table) -> Result<Vec<usize>> {
        let (Some(classes), RawTarget::Labels { names, rows }) = (&self.class_names, &table.target)
        else {
            return Ok(Vec::new());
        };
        // The class of each distinct label, once.
        let class_of: Vec<Option<usize>> = names
            .iter()
            .map(|name| classes.iter().position(|c| c == name))
            .collect();
        rows.iter()
            .zip(&table.lines)
            .map(|(&label, line)| {
                class_of[label as usize].ok_or_else(|| Error::Data {
                    message: format!(
                        "label `{}` was not among the training labels ({})",
                        names[label as usize],
                        classes.join(", ")
                    ),
                    location: Location::line(&table.path, *line as usize),
                    fix: "remove the row, or train on data that has this label".into(),
                })
            })
            .collect()
    }

    /// Scales `table`'s features and uploads them, with its targets, to `device`.
    pub fn batch(&self, table: &Table, device: &Device) -> Result<Batch> {
        let mut x = table.x.clone();
        self.transform(&mut x);
        let n = table.n_rows();
        let x = Tensor::from_data(TensorData::new(x, [n, self.feature_names.len()]), device);
        let targets = match &table.target {
            RawTarget::Values(v) => Targets::Values(Tensor::from_data(
                TensorData::new(v.clone(), [n, 1]),
                device,
            )),
            RawTarget::Labels { .. } => {
                let classes: Vec<i64> = self
                    .encode_labels(table)?
                    .into_iter()
                    .map(|c| c as i64)
                    .collect();
                Targets::Classes(Tensor::<1, Int>::from_data(
                    TensorData::new(classes, [n]),
                    device,
                ))
            }
            RawTarget::None => Targets::Values(Tensor::zeros([n, 1], device)),
        };
        Ok(Batch { x, targets })
    }
}

/// Per-column means and sums of squared deviations (f64) of row-major values added in
/// parts: parts are merged by Chan et al.'s pairwise update, so one part gives exactly the
/// two-pass statistics.
#[derive(Clone, Debug, Default)]
pub struct Moments {
    pub rows: usize,
    pub mean: Vec<f64>,
    /// Sums of squared deviations from the mean.
    pub squares: Vec<f64>,
}

impl Moments {
    /// Adds the rows of `x`, `width` values each.
    pub fn add(&mut self, x: &[f32], width: usize) {
        let n = x.len() / width.max(1);
        if n == 0 {
            return;
        }
        // Two passes row by row (memory order), each column summed in row order.
        let mut mean = vec![0.0f64; width];
        for row in x.chunks_exact(width) {
            for (m, v) in mean.iter_mut().zip(row) {
                *m += *v as f64;
            }
        }
        mean.iter_mut().for_each(|m| *m /= n as f64);
        let mut squares = vec![0.0f64; width];
        for row in x.chunks_exact(width) {
            for ((s, m), v) in squares.iter_mut().zip(&mean).zip(row) {
                *s += (*v as f64 - m).powi(2);
            }
        }
        if self.rows == 0 {
            (self.mean, self.squares) = (mean, squares);
        } else {
            let (a, b) = (self.rows as f64, n as f64);
            let total = a + b;
            for j in 0..width {
                let delta = mean[j] - self.mean[j];
                self.mean[j] += delta * b / total;
                self.squares[j] += squares[j] + delta * delta * a * b / total;
            }
        }
        self.rows += n;
    }
}

/// The feature [`Moments`] and the distinct labels of a table, or of a file read in chunks.
#[derive(Clone, Debug, Default)]
pub struct ColumnSummary {
    features: Moments,
    labels: std::collections::BTreeSet<String>,
}

impl ColumnSummary {
    /// Adds a table's rows.
    pub fn add(&mut self, table: &Table) {
        self.features.add(&table.x, table.n_features());
        if let RawTarget::Labels { names, .. } = &table.target {
            for label in names {
                if !self.labels.contains(label) {
                    self.labels.insert(label.clone());
                }
            }
        }
    }

    pub fn rows(&self) -> usize {
        self.features.rows
    }

    /// The scaling (when `standardize`) and class names these rows give.
    pub fn preprocessing(
        &self,
        feature_names: Vec<String>,
        target: Option<&str>,
        standardize: bool,
    ) -> Preprocessing {
        let d = feature_names.len();
        let (mut mean, mut scale) = (vec![0.0f32; d], vec![1.0f32; d]);
        let moments = &self.features;
        if standardize && moments.rows > 0 {
            for j in 0..d {
                let m = moments.mean[j];
                let sd = (moments.squares[j] / moments.rows as f64).sqrt();
                mean[j] = m as f32;
                scale[j] = if sd > 1e-12 * m.abs().max(1.0) {
                    sd as f32
                } else {
                    1.0
                };
            }
        }
        let class_names = (!self.labels.is_empty()).then(|| {
            let labels: Vec<String> = self.labels.iter().cloned().collect();
            sorted_classes(&labels)
        });
        Preprocessing {
            feature_names,
            target: target.map(str::to_owned),
            class_names,
            mean,
            scale,
        }
    }
}

/// Distinct labels, sorted numerically when they are all numbers, else as strings.
fn sorted_classes(labels: &[String]) -> Vec<String> {
    let mut names: Vec<String> = labels.to_vec();
    names.sort();
    names.dedup();
    if names.iter().all(|n| n.parse::<f64>().is_ok()) {
        names.sort_by(|a, b| {
            a.parse::<f64>()
                .unwrap_or(0.0)
                .total_cmp(&b.parse::<f64>().unwrap_or(0.0))
        });
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let prep = Preprocessing::fit(&table, Some("label"), true);
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
        assert_eq!(prep.encode_labels(&table).unwrap(), [0, 1, 0]);
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
        let direct = Preprocessing::fit(&whole, Some("label"), true);
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
    fn numeric_labels_sort_numerically() {
        assert_eq!(
            sorted_classes(&["10".into(), "9".into(), "10".into()]),
            ["9", "10"]
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
