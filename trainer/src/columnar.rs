//! Parquet and Arrow IPC tables (arrow-rs), read a record batch at a time: numeric columns as
//! numbers, every other column (strings, dictionaries, booleans, dates) as text, nulls and
//! NaNs as missing cells. A row's number in messages is its line in the same table written as
//! CSV: the first row is 2.
//!
//! Predictions are written as Parquet or Arrow by [`crate::predictions`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_array::{Array, ArrayRef, Float64Array, RecordBatch, StringArray};
use arrow_schema::{ArrowError, DataType};
use kiln_model_zoo::table::{Cell, RowError, TableEncoding};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::config::suggestion;
use crate::data::{
    Columns, Dataset, Dropped, TargetKind, TargetProblem, TargetRows, row_error, target_error,
};
use crate::error::{Error, Location, Result};
use crate::source::Format;

/// Rows per record batch read.
const BATCH_ROWS: usize = 8192;

type Batches = Box<dyn Iterator<Item = std::result::Result<RecordBatch, ArrowError>> + Send>;

/// A Parquet or Arrow IPC file read a record batch at a time.
pub struct ColumnarReader {
    path: PathBuf,
    format: Format,
    /// The columns read: the features, then the target.
    needed: Vec<String>,
    features: usize,
    target: Option<TargetKind>,
    /// How feature cells become numbers (every column numeric when none was given).
    encoding: Arc<TableEncoding>,
    encoded: bool,
    drop_incomplete: bool,
    batches: Batches,
    batch: Option<Vec<Values>>,
    /// Rows of `batch`, and the next one to read.
    batch_rows: usize,
    at: usize,
    /// Rows to skip at the start of the next batch (a seek into the middle of one).
    skip: usize,
    /// Rows passed since the file's first.
    row: u64,
    total_rows: u64,
    dropped: Dropped,
    unseen: u64,
}

impl std::fmt::Debug for ColumnarReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ColumnarReader")
            .field("path", &self.path)
            .field("row", &self.row)
            .finish_non_exhaustive()
    }
}

/// One column of a record batch, as kiln reads it.
enum Values {
    Numbers(Float64Array),
    Texts(StringArray),
}

impl Values {
    /// The column as numbers when its type is numeric, else as text.
    fn of(array: &ArrayRef) -> std::result::Result<Self, ArrowError> {
        Ok(if array.data_type().is_numeric() {
            let numbers = arrow_cast::cast(array, &DataType::Float64)?;
            Values::Numbers(numbers.as_primitive::<Float64Type>().clone())
        } else {
            let texts = arrow_cast::cast(array, &DataType::Utf8)?;
            Values::Texts(texts.as_string::<i32>().clone())
        })
    }

    fn cell(&self, row: usize) -> Cell<'_> {
        match self {
            Values::Numbers(a) if a.is_null(row) => Cell::Missing,
            Values::Texts(a) if a.is_null(row) => Cell::Missing,
            Values::Numbers(a) => Cell::Number(a.value(row)),
            Values::Texts(a) => Cell::Text(a.value(row).trim_ascii()),
        }
    }
}

impl ColumnarReader {
    /// Opens `path` (`format`: Parquet or Arrow IPC) and checks its columns.
    pub fn open(path: &Path, format: Format, columns: Columns<'_>) -> Result<Self> {
        let (header, total_rows) = schema_of(path, format)?;
        let known: Vec<&str> = header.iter().map(String::as_str).collect();
        let find = |name: &str, role: &str| -> Result<()> {
            if header.iter().any(|h| h == name) {
                return Ok(());
            }
            Err(Error::Data {
                message: format!("no {role} column `{name}` in the file's columns"),
                location: Location::file(path),
                fix: suggestion(name, &known),
            })
        };
        if let Some((name, _)) = columns.target {
            find(name, "target")?;
        }
        let target_name = columns.target.map(|(name, _)| name);
        let features: Vec<String> = match columns
            .encoding
            .map(TableEncoding::column_names)
            .or_else(|| columns.features.map(<[String]>::to_vec))
        {
            Some(names) => names,
            None => header
                .iter()
                .filter(|h| Some(h.as_str()) != target_name)
                .cloned()
                .collect(),
        };
        for name in &features {
            find(name, "feature")?;
        }
        if features.is_empty() {
            return Err(Error::Data {
                message: "there are no feature columns".into(),
                location: Location::file(path),
                fix: "add at least one column besides the target".into(),
            });
        }
        let encoding = match columns.encoding {
            Some(encoding) => Arc::new(encoding.clone()),
            None => Arc::new(TableEncoding::numeric(&features)),
        };
        let mut needed = features.clone();
        needed.extend(target_name.map(str::to_owned));
        let batches = open_batches(path, format, &header, &needed, 0)?;
        Ok(Self {
            path: path.to_owned(),
            format,
            features: features.len(),
            needed,
            target: columns.target.map(|(_, kind)| kind),
            encoding,
            encoded: columns.encoding.is_some(),
            drop_incomplete: columns.drop_incomplete && columns.encoding.is_some(),
            batches,
            batch: None,
            batch_rows: 0,
            at: 0,
            skip: 0,
            row: 0,
            total_rows,
            dropped: Dropped::default(),
            unseen: 0,
        })
    }

    /// The file being read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The features read: the encoding's feature names, or the columns'.
    pub fn feature_names(&self) -> Vec<String> {
        match self.encoded {
            true => self.encoding.feature_names(),
            false => self.column_names(),
        }
    }

    /// The feature columns read, in order.
    pub fn column_names(&self) -> Vec<String> {
        self.needed[..self.features].to_vec()
    }

    /// Rows left out so far.
    pub fn dropped(&self) -> Dropped {
        self.dropped
    }

    /// Cells read so far whose category the encoding never saw.
    pub fn unseen_categories(&self) -> u64 {
        self.unseen
    }

    /// Rows in the file.
    pub fn total_rows(&self) -> u64 {
        self.total_rows
    }

    /// The next row's index from the file's first.
    pub fn position(&self) -> u64 {
        self.row
    }

    /// Goes to row `row` (counted from the file's first).
    pub fn seek(&mut self, row: u64) -> Result<()> {
        let header = schema_of(&self.path, self.format)?.0;
        self.batches = open_batches(&self.path, self.format, &header, &self.needed, row)?;
        // Parquet starts the batches at the row; an Arrow file at its batch's first row.
        self.skip = match self.format {
            Format::Parquet => 0,
            _ => row as usize,
        };
        (self.batch, self.batch_rows, self.at, self.row) = (None, 0, 0, row);
        Ok(())
    }

    /// Makes sure a batch with rows left is loaded; false at the end of the file.
    fn fill(&mut self) -> Result<bool> {
        while self.at >= self.batch_rows {
            let (path, format) = (self.path.clone(), self.format);
            let batches = &mut self.batches;
            let Some(batch) = guarded(&path, format, || Ok(batches.next()))? else {
                self.batch = None;
                return Ok(false);
            };
            let batch = batch.map_err(|e| self.arrow_error(e))?;
            let rows = batch.num_rows();
            if self.skip >= rows {
                self.skip -= rows;
                continue;
            }
            let values = self
                .needed
                .iter()
                .map(|name| {
                    let array = batch.column_by_name(name).ok_or_else(|| {
                        self.arrow_error(ArrowError::SchemaError(format!("no column `{name}`")))
                    })?;
                    guarded(&self.path, self.format, || Ok(Values::of(array)))?.map_err(|e| Error::Data {
                        message: format!(
                            "column `{name}` is of type {}, which kiln cannot read as numbers or text ({e})",
                            array.data_type()
                        ),
                        location: Location::file(&self.path),
                        fix: "convert the column to numbers or strings, or leave it out with `drop`"
                            .into(),
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            (self.batch, self.batch_rows, self.at) = (Some(values), rows, self.skip);
            self.skip = 0;
        }
        Ok(true)
    }

    fn arrow_error(&self, e: impl std::fmt::Display) -> Error {
        arrow_error(&self.path, self.format, e)
    }

    /// Calls `visit` with each remaining row's line, feature cells and target cell.
    pub fn visit_rows(
        &mut self,
        mut visit: impl FnMut(u64, &[Cell<'_>], Option<Cell<'_>>) -> Result<()>,
    ) -> Result<()> {
        while self.fill()? {
            let Some(batch) = &self.batch else { break };
            let mut cells = Vec::with_capacity(self.features);
            for i in self.at..self.batch_rows {
                cells.clear();
                cells.extend(batch[..self.features].iter().map(|v| v.cell(i)));
                let target = batch.get(self.features).map(|v| v.cell(i));
                let line = self.row + 2 + (i - self.at) as u64;
                visit(line, &cells, target)?;
            }
            self.row += (self.batch_rows - self.at) as u64;
            self.at = self.batch_rows;
        }
        Ok(())
    }

    /// Reads up to `max_rows` more rows (none at the end of the file).
    pub fn read_rows(&mut self, max_rows: usize) -> Result<Dataset> {
        let width = self.encoding.width();
        let mut x = Vec::new();
        let mut lines = Vec::new();
        let mut targets = TargetRows::default();
        let dropped_before = self.dropped;
        while lines.len() < max_rows && self.fill()? {
            let Some(batch) = &self.batch else { break };
            let i = self.at;
            self.at += 1;
            let line = self.row + 2;
            self.row += 1;
            let target = batch.get(self.features).map(|v| v.cell(i));
            if let (Some(kind), Some(cell)) = (self.target, target) {
                if self.encoding.cell_is_missing(cell) && self.drop_incomplete {
                    self.dropped.missing_target += 1;
                    continue;
                }
                let column = &self.needed[self.features];
                push_target(&mut targets, kind, cell).map_err(|(text, problem)| {
                    target_error(&self.path, line, column, &text, problem)
                })?;
            }
            let cells: Vec<Cell> = batch[..self.features].iter().map(|v| v.cell(i)).collect();
            let start = x.len();
            x.resize(start + width, 0.0);
            match self.encoding.encode(&cells, &mut x[start..]) {
                Ok(unseen) => self.unseen += unseen as u64,
                Err(RowError::Missing { drop_row: true, .. }) if self.drop_incomplete => {
                    x.truncate(start);
                    targets.values.truncate(lines.len());
                    targets.labels.truncate(lines.len());
                    self.dropped.missing_feature += 1;
                    continue;
                }
                Err(e) => return Err(row_error(&self.path, line, e)),
            }
            lines.push(line);
        }
        let target = targets.into_target(self.target, self.dropped != dropped_before);
        Ok(Dataset {
            path: self.path.clone(),
            feature_names: self.feature_names(),
            x,
            target_column: self.target.map(|_| self.needed[self.features].clone()),
            target,
            lines,
            encoding: self.encoded.then(|| self.encoding.clone()),
        })
    }

    /// The error for a file with no rows (or none left once incomplete ones are left out).
    pub fn no_rows_error(&self) -> Error {
        let Dropped {
            missing_target,
            missing_feature,
        } = self.dropped;
        let (message, fix) = if missing_target + missing_feature > 0 {
            (
                format!(
                    "no rows are left once the incomplete ones are left out ({missing_target} \
                     with a missing target, {missing_feature} with a missing `drop_row` cell)"
                ),
                "fill the cells, or impute them",
            )
        } else {
            ("the file has no rows".to_owned(), "add rows to the table")
        };
        Error::Data {
            message,
            location: Location::file(&self.path),
            fix: fix.into(),
        }
    }
}

/// Adds a target cell; the cell's text and the problem when it cannot be used.
fn push_target(
    targets: &mut TargetRows,
    kind: TargetKind,
    cell: Cell<'_>,
) -> std::result::Result<(), (String, TargetProblem)> {
    match (kind, cell) {
        (TargetKind::Values, Cell::Number(value)) if value.is_finite() => {
            targets.values.push(value as f32);
            Ok(())
        }
        (_, Cell::Text(text)) => targets.push(kind, text).map_err(|p| (text.to_owned(), p)),
        (_, Cell::Number(value)) => {
            let text = format!("{value}");
            targets.push(kind, &text).map_err(|p| (text, p))
        }
        (_, Cell::Missing) => targets.push(kind, "").map_err(|p| (String::new(), p)),
    }
}

/// The error of a file the Parquet or Arrow reader refuses.
fn arrow_error(path: &Path, format: Format, e: impl std::fmt::Display) -> Error {
    let (what, a) = match format {
        Format::Parquet => ("Parquet", "a"),
        _ => ("Arrow IPC", "an"),
    };
    Error::Data {
        message: format!("cannot read the {what} file: {e}"),
        location: Location::file(path),
        fix: format!(
            "check that it is {a} {what} file (its extension says so), or rename a CSV file \
             to `.csv`"
        ),
    }
}

/// Runs `decode`, a call into the Parquet or Arrow reader. Their checks of a damaged file are
/// partly assertions, so a panic in there is the file's fault: it becomes the one-line error
/// that the file cannot be read, and the panic's own message is not printed.
fn guarded<T>(path: &Path, format: Format, decode: impl FnOnce() -> Result<T>) -> Result<T> {
    static QUIET_HOOK: std::sync::Once = std::sync::Once::new();
    QUIET_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !DECODING.with(std::cell::Cell::get) {
                previous(info);
            }
        }));
    });
    let was_decoding = DECODING.with(|d| d.replace(true));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(decode));
    DECODING.with(|d| d.set(was_decoding));
    outcome.unwrap_or_else(|panic| {
        let reason = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "the reader failed".into());
        Err(arrow_error(
            path,
            format,
            format!("the file is damaged ({reason})"),
        ))
    })
}

thread_local! {
    /// Whether this thread is inside [`guarded`], where a panic is an error to report.
    static DECODING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Checks that every block an Arrow IPC file's footer lists lies within the file: the reader
/// allocates a block's claimed length before reading it, so a damaged footer could otherwise
/// take gigabytes for a file of a few bytes.
fn check_ipc_blocks(path: &Path) -> Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let damaged = |why: String| {
        arrow_error(
            path,
            Format::ArrowIpc,
            format!("the file is damaged ({why})"),
        )
    };
    let io = |e: std::io::Error| Error::io("read data file", path, e);
    let mut file = std::fs::File::open(path).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    if size < 10 {
        return Err(damaged("too short for an Arrow IPC file".into()));
    }
    let mut tail = [0u8; 10];
    file.seek(SeekFrom::End(-10)).map_err(io)?;
    file.read_exact(&mut tail).map_err(io)?;
    let footer_len =
        arrow_ipc::reader::read_footer_length(tail).map_err(|e| damaged(e.to_string()))? as u64;
    if footer_len + 10 > size {
        return Err(damaged(format!("its footer claims {footer_len} bytes")));
    }
    let mut footer = vec![0u8; footer_len as usize];
    file.seek(SeekFrom::End(-10 - footer_len as i64))
        .map_err(io)?;
    file.read_exact(&mut footer).map_err(io)?;
    let footer = arrow_ipc::root_as_footer(&footer).map_err(|e| damaged(e.to_string()))?;
    let blocks = footer
        .recordBatches()
        .into_iter()
        .chain(footer.dictionaries())
        .flat_map(|blocks| blocks.iter());
    for block in blocks {
        let end = block
            .offset()
            .checked_add(i64::from(block.metaDataLength()))
            .and_then(|end| end.checked_add(block.bodyLength()));
        let inside = block.offset() >= 0
            && block.metaDataLength() >= 0
            && block.bodyLength() >= 0
            && end.is_some_and(|end| end as u64 <= size);
        if !inside {
            return Err(damaged(format!(
                "a block at byte {} claims {} bytes, past the end of the file's {size}",
                block.offset(),
                i64::from(block.metaDataLength()).saturating_add(block.bodyLength())
            )));
        }
    }
    Ok(())
}

/// The column names of a Parquet or Arrow file and its row count.
fn schema_of(path: &Path, format: Format) -> Result<(Vec<String>, u64)> {
    guarded(path, format, || read_schema(path, format))
}

fn read_schema(path: &Path, format: Format) -> Result<(Vec<String>, u64)> {
    if format == Format::ArrowIpc {
        check_ipc_blocks(path)?;
    }
    let file = std::fs::File::open(path).map_err(|e| Error::io("read data file", path, e))?;
    let names = |schema: &arrow_schema::Schema| -> Vec<String> {
        schema.fields().iter().map(|f| f.name().clone()).collect()
    };
    match format {
        Format::Parquet => {
            let builder = ParquetRecordBatchReaderBuilder::try_new(file)
                .map_err(|e| arrow_error(path, format, e))?;
            let rows = builder.metadata().file_metadata().num_rows().max(0) as u64;
            Ok((names(builder.schema()), rows))
        }
        _ => {
            let reader =
                arrow_ipc::reader::FileReader::try_new(std::io::BufReader::new(file), None)
                    .map_err(|e| arrow_error(path, format, e))?;
            let header = names(&reader.schema());
            let mut rows = 0u64;
            for batch in reader {
                rows += batch.map_err(|e| arrow_error(path, format, e))?.num_rows() as u64;
            }
            Ok((header, rows))
        }
    }
}

/// The record batches of the columns `needed`, from row `offset` (Parquet) or from the first
/// row (Arrow IPC, whose reader skips to the row itself).
fn open_batches(
    path: &Path,
    format: Format,
    header: &[String],
    needed: &[String],
    offset: u64,
) -> Result<Batches> {
    guarded(path, format, || {
        let file = std::fs::File::open(path).map_err(|e| Error::io("read data file", path, e))?;
        let indices: Vec<usize> = needed
            .iter()
            .filter_map(|name| header.iter().position(|h| h == name))
            .collect();
        Ok::<Batches, Error>(match format {
            Format::Parquet => {
                let builder = ParquetRecordBatchReaderBuilder::try_new(file)
                    .map_err(|e| arrow_error(path, format, e))?;
                let mask = ProjectionMask::roots(builder.parquet_schema(), indices);
                let reader = builder
                    .with_projection(mask)
                    .with_batch_size(BATCH_ROWS)
                    .with_offset(offset as usize)
                    .build()
                    .map_err(|e| arrow_error(path, format, e))?;
                Box::new(reader)
            }
            _ => Box::new(
                arrow_ipc::reader::FileReader::try_new(
                    std::io::BufReader::new(file),
                    Some(indices),
                )
                .map_err(|e| arrow_error(path, format, e))?,
            ),
        })
    })
}
