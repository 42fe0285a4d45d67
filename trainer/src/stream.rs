//! Training rows read from a CSV file a chunk at a time (`[data] chunk_rows`), for files larger
//! than memory.
//!
//! A first pass over the file notes where each chunk starts and gathers the scaling and the
//! labels. Each epoch then visits the chunks in a seeded order, shuffles the rows within each
//! chunk (seeded by the run's seed, the epoch and the chunk) and uploads one chunk at a time, so
//! memory holds one chunk on the host and one on the device whatever the file's size, and a
//! resumed run reads exactly the rows an uninterrupted one does.

use std::io::IsTerminal;
use std::path::Path;

use burn::tensor::Device;
use indicatif::{ProgressBar, ProgressStyle};

use crate::data::{ColumnSummary, Columns, CsvReader, Preprocessing, RowsStart, Table};
use crate::error::{Error, Location, Result};
use crate::train::Split;

/// A check every chunk's rows must pass before training on them (a GLM's target range).
pub type RowCheck = Box<dyn Fn(&Table) -> Result<()>>;

/// One chunk of the file: where it starts and its number of rows.
#[derive(Clone, Debug)]
struct Chunk {
    start: RowsStart,
    rows: usize,
}

/// The training file, read a chunk at a time.
pub struct ChunkedCsv {
    reader: CsvReader,
    chunks: Vec<Chunk>,
    summary: ColumnSummary,
    check: Option<RowCheck>,
}

impl std::fmt::Debug for ChunkedCsv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkedCsv")
            .field("reader", &self.reader)
            .field("chunks", &self.chunks.len())
            .field("rows", &self.summary.rows())
            .finish_non_exhaustive()
    }
}

impl ChunkedCsv {
    /// Reads the whole file once, `chunk_rows` rows at a time: checks every row, notes where
    /// each chunk starts, and gathers the column statistics and labels.
    pub fn scan(path: &Path, columns: Columns<'_>, chunk_rows: usize) -> Result<Self> {
        let mut reader = CsvReader::open(path, columns)?;
        let bytes = std::fs::metadata(path).map_or(0, |m| m.len());
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(bytes);
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix} [{bar:30}] {bytes}/{total_bytes} ({elapsed}, eta {eta})",
                )
                .expect("the template is valid")
                .progress_chars("=> "),
            );
            bar.set_prefix(format!("scanning {}", path.display()));
            bar
        });
        let mut chunks = Vec::new();
        let mut summary = ColumnSummary::default();
        loop {
            let start = reader.position();
            let table = reader.read_rows(chunk_rows)?;
            if table.n_rows() == 0 {
                break;
            }
            summary.add(&table);
            chunks.push(Chunk {
                rows: table.n_rows(),
                start,
            });
            if let Some(bar) = &bar {
                bar.set_position(reader.position().byte());
            }
        }
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        if chunks.is_empty() {
            return Err(Error::Data {
                message: "the file has a header but no rows".into(),
                location: Location::line(path, 1),
                fix: "add data rows below the header".into(),
            });
        }
        Ok(Self {
            reader,
            chunks,
            summary,
            check: None,
        })
    }

    /// Adds a check every chunk read for training must pass.
    pub fn set_check(&mut self, check: RowCheck) {
        self.check = Some(check);
    }

    pub fn path(&self) -> &Path {
        self.reader.path()
    }

    /// The scaling and class names of the whole file.
    pub fn preprocessing(&self, target: Option<&str>, standardize: bool) -> Preprocessing {
        self.summary
            .preprocessing(self.reader.feature_names(), target, standardize)
    }

    /// Rows in the file.
    pub fn n_rows(&self) -> usize {
        self.summary.rows()
    }

    /// Rows of each chunk, in file order.
    pub fn chunk_lens(&self) -> Vec<usize> {
        self.chunks.iter().map(|c| c.rows).collect()
    }

    /// The rows of chunk `index` (file order), checked.
    pub fn read(&mut self, index: usize) -> Result<Table> {
        let chunk = &self.chunks[index];
        let rows = chunk.rows;
        self.reader.seek(&chunk.start)?;
        let table = self.reader.read_rows(rows)?;
        if table.n_rows() != rows {
            return Err(Error::Data {
                message: format!(
                    "the file changed while training: chunk {} had {rows} rows and now has {}",
                    index + 1,
                    table.n_rows()
                ),
                location: Location::file(self.path()),
                fix: "do not modify the training file while a run reads it".into(),
            });
        }
        if let Some(check) = &self.check {
            check(&table)?;
        }
        Ok(table)
    }

    /// Chunk `index` scaled by `prep` and uploaded to `device`.
    pub fn split(&mut self, index: usize, prep: &Preprocessing, device: &Device) -> Result<Split> {
        let table = self.read(index)?;
        Split::from_table(prep, &table, device)
    }
}
