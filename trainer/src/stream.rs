//! Training rows read from a table file (CSV, Parquet, Arrow) a chunk at a time (`[data] chunk_rows`), for files larger
//! than memory.
//!
//! A first pass over the file notes where each chunk starts and gathers the scaling and the
//! labels. Each epoch then visits the chunks in a seeded order, shuffles the rows within each
//! chunk (seeded by the run's seed, the epoch and the chunk) and uploads one chunk at a time, so
//! memory holds one chunk on the host and one on the device whatever the file's size, and a
//! resumed run reads exactly the rows an uninterrupted one does.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, sync_channel};

use indicatif::{ProgressBar, ProgressStyle};

use kiln_model_zoo::Preprocessing;
use kiln_model_zoo::table::TableEncoding;

use crate::data::{Columns, CsvFormat, Dataset, TargetKind};
use crate::error::{Error, Location, Result};
use crate::preprocess::ColumnSummary;
use crate::source::{RowsStart, TableReader};

/// A check every chunk's rows must pass before training on them (a GLM's target range).
pub type RowCheck = Arc<Check>;
/// What a [`RowCheck`] calls.
pub type Check = dyn Fn(&Dataset) -> Result<()> + Send + Sync;

/// One chunk of the file: where it starts and its number of rows.
#[derive(Clone, Debug)]
struct Chunk {
    start: RowsStart,
    rows: usize,
}

/// What opens the file again with the same columns (for the read-ahead thread).
#[derive(Clone, Debug)]
struct Source {
    path: PathBuf,
    target: Option<(String, TargetKind)>,
    features: Vec<String>,
    format: CsvFormat,
    encoding: Option<TableEncoding>,
    drop_incomplete: bool,
}

impl Source {
    fn open(&self) -> Result<TableReader> {
        TableReader::open(
            &self.path,
            Columns {
                target: self
                    .target
                    .as_ref()
                    .map(|(name, kind)| (name.as_str(), *kind)),
                features: Some(&self.features),
                format: self.format,
                encoding: self.encoding.as_ref(),
                drop_incomplete: self.drop_incomplete,
            },
        )
    }
}

/// The training file, read a chunk at a time.
pub struct ChunkedTable {
    reader: TableReader,
    source: Source,
    chunks: Vec<Chunk>,
    summary: ColumnSummary,
    check: Option<RowCheck>,
}

impl std::fmt::Debug for ChunkedTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkedTable")
            .field("reader", &self.reader)
            .field("chunks", &self.chunks.len())
            .field("rows", &self.summary.rows())
            .finish_non_exhaustive()
    }
}

impl ChunkedTable {
    /// Reads the whole file once, `chunk_rows` rows at a time: checks every row, notes where
    /// each chunk starts, and gathers the column statistics and labels.
    pub fn scan(path: &Path, columns: Columns<'_>, chunk_rows: usize) -> Result<Self> {
        let mut reader = TableReader::open(path, columns)?;
        let (total, template) = match &reader {
            TableReader::Csv(_) => (
                reader.progress_total(),
                "{prefix} [{bar:30}] {bytes}/{total_bytes} ({elapsed}, eta {eta})",
            ),
            TableReader::Columnar(_) => (
                reader.progress_total(),
                "{prefix} [{bar:30}] {pos}/{len} rows ({elapsed}, eta {eta})",
            ),
        };
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template(template)
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
                bar.set_position(reader.progress());
            }
        }
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        if chunks.is_empty() {
            return Err(reader.no_rows_error());
        }
        let source = Source {
            path: path.to_owned(),
            target: columns.target.map(|(name, kind)| (name.to_owned(), kind)),
            features: reader.column_names(),
            format: columns.format,
            encoding: columns.encoding.cloned(),
            drop_incomplete: columns.drop_incomplete,
        };
        Ok(Self {
            reader,
            source,
            chunks,
            summary,
            check: None,
        })
    }

    /// Adds a check every chunk read for training must pass.
    pub fn set_check(&mut self, check: RowCheck) {
        self.check = Some(check);
    }

    /// The file being read.
    pub fn path(&self) -> &Path {
        self.reader.path()
    }

    /// The scaling and class names of the whole file.
    pub fn preprocessing(&self, target: Option<&str>, standardize: bool) -> Preprocessing {
        let mut prep = self
            .summary
            .preprocessing(self.reader.feature_names(), target, standardize);
        prep.table = self.source.encoding.clone();
        prep
    }

    /// Rows in the file.
    pub fn n_rows(&self) -> usize {
        self.summary.rows()
    }

    /// Chunks in the file.
    pub fn n_chunks(&self) -> usize {
        self.chunks.len()
    }

    /// Rows of each chunk, in file order.
    pub fn chunk_lens(&self) -> Vec<usize> {
        self.chunks.iter().map(|c| c.rows).collect()
    }

    /// The rows of chunk `index` (file order), checked.
    pub fn read(&mut self, index: usize) -> Result<Dataset> {
        read_chunk(&mut self.reader, &self.chunks, index, self.check.as_deref())
    }

    /// Starts reading the chunks `order` names on a background thread, one ahead of the one
    /// taken, so parsing overlaps training; at most two chunks are in memory.
    pub fn read_ahead(&self, order: Vec<usize>) -> ReadAhead {
        // Rendezvous: the thread parses the next chunk, then waits until it is taken.
        let (sender, receiver) = sync_channel(0);
        let (source, chunks, check) =
            (self.source.clone(), self.chunks.clone(), self.check.clone());
        std::thread::spawn(move || {
            let mut reader = match source.open().map(TableReader::single_threaded) {
                Ok(reader) => reader,
                Err(e) => {
                    let _ = sender.send((None, Err(e)));
                    return;
                }
            };
            for index in order {
                let table = read_chunk(&mut reader, &chunks, index, check.as_deref());
                // The receiver is gone when the epoch ended early (interrupt, error).
                if sender.send((Some(index), table)).is_err() {
                    return;
                }
            }
        });
        ReadAhead { receiver }
    }
}

/// Chunk `index` read from `reader`, checked.
fn read_chunk(
    reader: &mut TableReader,
    chunks: &[Chunk],
    index: usize,
    check: Option<&Check>,
) -> Result<Dataset> {
    let chunk = &chunks[index];
    reader.seek(&chunk.start)?;
    let table = reader.read_rows(chunk.rows)?;
    if table.n_rows() != chunk.rows {
        return Err(Error::Data {
            message: format!(
                "the file changed while training: chunk {} had {} rows and now has {}",
                index + 1,
                chunk.rows,
                table.n_rows()
            ),
            location: Location::file(reader.path()),
            fix: "do not modify the training file while a run reads it".into(),
        });
    }
    if let Some(check) = check {
        check(&table)?;
    }
    Ok(table)
}

/// Chunks being read on a background thread, in the order given to
/// [`ChunkedTable::read_ahead`].
#[derive(Debug)]
pub struct ReadAhead {
    receiver: Receiver<(Option<usize>, Result<Dataset>)>,
}

impl ReadAhead {
    /// Chunk `index`, skipping the chunks read before it in the order (trained before a
    /// resume).
    pub fn take(&mut self, index: usize) -> Result<Dataset> {
        loop {
            match self.receiver.recv() {
                Ok((Some(i), table)) if i == index => return table,
                Ok((_, Err(e))) => return Err(e),
                Ok(_) => {}
                Err(_) => {
                    return Err(Error::Fit(kiln_model_zoo::FitError::Device(format!(
                        "chunk {} was not in the read-ahead order",
                        index + 1
                    ))));
                }
            }
        }
    }
}
