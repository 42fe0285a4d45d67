//! A table file of any format kiln reads — CSV, Parquet or Arrow IPC, picked by the file's
//! extension — behind one reader, so fitting a table, training (whole or streamed),
//! evaluation and prediction read them all the same way.

use std::path::Path;

use kiln_model_zoo::table::Cell;

use crate::columnar::ColumnarReader;
use crate::data::{Columns, CsvReader, CsvStart, Dataset, Dropped};
use crate::error::Result;

/// A table file's format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Comma- (or `;`-, tab-, `|`-) separated text with a header row: any other extension.
    Csv,
    /// Apache Parquet: `.parquet`, `.pq`.
    Parquet,
    /// Arrow IPC file (Feather v2): `.arrow`, `.feather`, `.ipc`.
    ArrowIpc,
}

impl Format {
    /// The format a file's extension names.
    ///
    /// ```
    /// use kiln_trainer::source::Format;
    /// use std::path::Path;
    ///
    /// assert_eq!(Format::of(Path::new("penguins.parquet")), Format::Parquet);
    /// assert_eq!(Format::of(Path::new("penguins.feather")), Format::ArrowIpc);
    /// assert_eq!(Format::of(Path::new("penguins.tsv")), Format::Csv);
    /// ```
    pub fn of(path: &Path) -> Self {
        let extension = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        match extension.as_deref() {
            Some("parquet" | "pq") => Format::Parquet,
            Some("arrow" | "feather" | "ipc") => Format::ArrowIpc,
            _ => Format::Csv,
        }
    }
}

/// Where a run of rows starts in a table file, to read it again with [`TableReader::seek`].
#[derive(Clone, Debug)]
pub enum RowsStart {
    /// A place in a CSV file.
    Csv(CsvStart),
    /// A row of a Parquet or Arrow file, counted from its first.
    Row(u64),
}

/// A table file read some rows at a time: CSV, Parquet or Arrow IPC.
#[derive(Debug)]
pub enum TableReader {
    /// A CSV file.
    Csv(Box<CsvReader>),
    /// A Parquet or Arrow IPC file.
    Columnar(Box<ColumnarReader>),
}

impl TableReader {
    /// Opens `path`, in the format its extension names, and checks its columns.
    pub fn open(path: &Path, columns: Columns<'_>) -> Result<Self> {
        Ok(match Format::of(path) {
            Format::Csv => TableReader::Csv(Box::new(CsvReader::open(path, columns)?)),
            format => TableReader::Columnar(Box::new(ColumnarReader::open(path, format, columns)?)),
        })
    }

    /// The file being read.
    pub fn path(&self) -> &Path {
        match self {
            TableReader::Csv(r) => r.path(),
            TableReader::Columnar(r) => r.path(),
        }
    }

    /// The features read, in order (the encoding's feature names when there is one).
    pub fn feature_names(&self) -> Vec<String> {
        match self {
            TableReader::Csv(r) => r.feature_names(),
            TableReader::Columnar(r) => r.feature_names(),
        }
    }

    /// The feature columns read, in order.
    pub fn column_names(&self) -> Vec<String> {
        match self {
            TableReader::Csv(r) => r.column_names(),
            TableReader::Columnar(r) => r.column_names(),
        }
    }

    /// Rows left out so far (see [`Columns::drop_incomplete`]).
    pub fn dropped(&self) -> Dropped {
        match self {
            TableReader::Csv(r) => r.dropped(),
            TableReader::Columnar(r) => r.dropped(),
        }
    }

    /// Cells read so far whose category the encoding never saw.
    pub fn unseen_categories(&self) -> u64 {
        match self {
            TableReader::Csv(r) => r.unseen_categories(),
            TableReader::Columnar(r) => r.unseen_categories(),
        }
    }

    /// Calls `visit` with each remaining row's line, feature cells and target cell.
    pub fn visit_rows(
        &mut self,
        visit: impl FnMut(u64, &[Cell<'_>], Option<Cell<'_>>) -> Result<()>,
    ) -> Result<()> {
        match self {
            TableReader::Csv(r) => r.visit_rows(visit),
            TableReader::Columnar(r) => r.visit_rows(visit),
        }
    }

    /// Reads up to `max_rows` more rows (none at the end of the file).
    pub fn read_rows(&mut self, max_rows: usize) -> Result<Dataset> {
        match self {
            TableReader::Csv(r) => r.read_rows(max_rows),
            TableReader::Columnar(r) => r.read_rows(max_rows),
        }
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
    pub fn no_rows_error(&self) -> crate::error::Error {
        match self {
            TableReader::Csv(r) => r.no_rows_error(),
            TableReader::Columnar(r) => r.no_rows_error(),
        }
    }

    /// Where the next row starts.
    pub fn position(&mut self) -> RowsStart {
        match self {
            TableReader::Csv(r) => RowsStart::Csv(r.position()),
            TableReader::Columnar(r) => RowsStart::Row(r.position()),
        }
    }

    /// Goes back (or on) to a place [`TableReader::position`] gave.
    pub fn seek(&mut self, start: &RowsStart) -> Result<()> {
        match (self, start) {
            (TableReader::Csv(r), RowsStart::Csv(start)) => r.seek(start),
            (TableReader::Columnar(r), RowsStart::Row(row)) => r.seek(*row),
            (reader, _) => Err(crate::error::Error::Usage {
                message: format!(
                    "a place in another file's format was given for {}",
                    reader.path().display()
                ),
                fix: "report this as a bug".into(),
            }),
        }
    }

    /// How far the reader is, in the units of [`TableReader::progress_total`]: bytes of a
    /// CSV file, rows of a columnar one.
    pub fn progress(&mut self) -> u64 {
        match self.position() {
            RowsStart::Csv(start) => start.byte(),
            RowsStart::Row(row) => row,
        }
    }

    /// The file's size in bytes (CSV) or rows (Parquet, Arrow).
    pub fn progress_total(&self) -> u64 {
        match self {
            TableReader::Csv(r) => std::fs::metadata(r.path()).map_or(0, |m| m.len()),
            TableReader::Columnar(r) => r.total_rows(),
        }
    }

    /// Parses on the calling thread only (for a reader working beside training).
    pub fn single_threaded(self) -> Self {
        match self {
            TableReader::Csv(r) => TableReader::Csv(Box::new(r.single_threaded())),
            columnar => columnar,
        }
    }
}

/// Reads a whole table file (CSV, Parquet or Arrow IPC, by its extension).
pub fn read_table(path: &Path, columns: Columns<'_>) -> Result<Dataset> {
    TableReader::open(path, columns)?.read_all()
}
