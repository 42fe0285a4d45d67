//! The rows a fit trains on: held on the device ([`Split`]), or read from a file a chunk at a
//! time; the seeded orders an epoch visits them in; and [`StepRows`], how an iterative model's
//! step reads them.

use burn::tensor::{Device, Int, Tensor, TensorData};
use kiln_model_zoo::fit::{Statistics, merge};
use kiln_model_zoo::{Batch, FitError, HostTargets, Preprocessing, Task};
use rand::SeedableRng;
use rand::seq::SliceRandom;

use crate::data::{Dataset, Target};
use crate::error::{Error, Result};
use crate::preprocess::{encode_labels, to_batch};
use crate::stream::{ChunkedTable, ReadAhead};

/// A data set on the device, and its targets on the host for metrics.
#[derive(Clone, Debug)]
pub struct Split {
    /// The scaled features and targets, on the device.
    pub batch: Batch,
    /// The targets, on the host.
    pub targets: HostTargets,
}

impl Split {
    /// `data`'s rows scaled by `prep` and uploaded to `device`, and its targets on the host.
    pub fn new(prep: &Preprocessing, data: &Dataset, device: &Device) -> Result<Self> {
        let batch = to_batch(prep, data, device)?;
        let targets = match (&data.target, prep.task()) {
            (Target::Labels { .. }, Task::Classification { n_classes }) => HostTargets::Classes {
                labels: encode_labels(prep, data)?,
                n_classes,
            },
            (Target::Values(v), _) => HostTargets::Values(v.clone()),
            _ => HostTargets::Values(Vec::new()),
        };
        Ok(Self { batch, targets })
    }
}

/// The training rows: all on the device, or read from a file a chunk at a time.
#[derive(Debug)]
pub enum TrainRows {
    /// Every row, on the device.
    Resident(Box<Split>),
    /// A file read a chunk at a time.
    Streamed {
        /// The file.
        csv: Box<ChunkedTable>,
        /// The scaling and classes applied to each chunk.
        prep: Preprocessing,
        /// The epoch's chunks, being read ahead.
        ahead: Option<ReadAhead>,
    },
}

impl TrainRows {
    /// Rows read from `csv` a chunk at a time, scaled by `prep`.
    pub fn streamed(csv: Box<ChunkedTable>, prep: Preprocessing) -> Self {
        Self::Streamed {
            csv,
            prep,
            ahead: None,
        }
    }

    /// The number of training rows.
    pub fn n_rows(&self) -> usize {
        match self {
            Self::Resident(split) => split.batch.len(),
            Self::Streamed { csv, .. } => csv.n_rows(),
        }
    }

    /// The rows of each part an epoch goes through whole before the next: the resident split
    /// is one part, a streamed file one part per chunk.
    pub fn part_lens(&self) -> Vec<usize> {
        match self {
            Self::Resident(split) => vec![split.batch.len()],
            Self::Streamed { csv, .. } => csv.chunk_lens(),
        }
    }

    /// The parts in the order epoch `epoch` visits them: chunks in a seeded order when
    /// shuffling. Starts reading a streamed file's chunks ahead in that order.
    pub fn epoch_parts(&mut self, seed: u64, epoch: usize, shuffle: bool) -> Vec<usize> {
        let n = self.part_lens().len();
        let order: Vec<usize> = if shuffle && n > 1 {
            let order = shuffled(seed, chunk_stream(epoch, None), n);
            order.into_iter().map(|i| i as usize).collect()
        } else {
            (0..n).collect()
        };
        if let Self::Streamed { csv, ahead, .. } = self {
            *ahead = Some(csv.read_ahead(order.clone()));
        }
        order
    }

    /// The first part in file order, unshuffled: the sample an iterative fit seeds from.
    pub fn sample(&mut self, device: &Device) -> Result<Batch> {
        Ok(match self {
            Self::Resident(split) => split.batch.clone(),
            Self::Streamed { csv, prep, .. } => Split::new(prep, &csv.read(0)?, device)?.batch,
        })
    }

    /// Part `part` on `device`, and its row order for epoch `epoch` when shuffling. A
    /// streamed part comes from the read-ahead [`TrainRows::epoch_parts`] started.
    pub fn part(
        &mut self,
        part: usize,
        seed: u64,
        epoch: usize,
        shuffle: bool,
        device: &Device,
    ) -> Result<(Batch, Option<Vec<i64>>)> {
        Ok(match self {
            Self::Resident(split) => {
                let n = split.batch.len();
                (
                    split.batch.clone(),
                    shuffle.then(|| epoch_order(seed, epoch, n)),
                )
            }
            Self::Streamed { csv, prep, ahead } => {
                // A file of one chunk trains exactly as when loaded whole.
                let stream = match csv.n_chunks() {
                    1 => epoch as u64,
                    _ => chunk_stream(epoch, Some(part)),
                };
                let data = match ahead {
                    Some(ahead) => ahead.take(part)?,
                    None => csv.read(part)?,
                };
                let batch = Split::new(prep, &data, device)?.batch;
                let n = batch.len();
                (batch, shuffle.then(|| shuffled(seed, stream, n)))
            }
        })
    }
}

/// The rows of epoch `epoch` (1-based) in training order: a shuffle seeded by the run's seed
/// and the epoch alone, so a resumed run sees exactly the order an uninterrupted one does.
pub fn epoch_order(seed: u64, epoch: usize, n: usize) -> Vec<i64> {
    shuffled(seed, epoch as u64, n)
}

/// `0..n` shuffled by the run's seed and a stream number.
fn shuffled(seed: u64, stream: u64, n: usize) -> Vec<i64> {
    let mut order: Vec<i64> = (0..n as i64).collect();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    order.shuffle(&mut rng);
    order
}

/// The shuffle stream of a streamed epoch's chunk order (`chunk` None) or of the rows of one
/// chunk: distinct for every epoch and chunk.
fn chunk_stream(epoch: usize, chunk: Option<usize>) -> u64 {
    ((epoch as u64) << 32) | chunk.map_or(0, |c| c as u64 + 1)
}

/// The training rows as step `epoch` of an iterative fit reads them (see
/// [`kiln_model_zoo::Rows`]): sums go over the parts in file order, a pass in the epoch's
/// shuffled order.
///
/// A failure to read a part (a file changed under the run) is kept here, and the fit returns
/// it rather than the model's error, so it keeps its file and line.
#[derive(Debug)]
pub struct StepRows<'a> {
    rows: &'a mut TrainRows,
    seed: u64,
    epoch: usize,
    shuffle: bool,
    device: &'a Device,
    failed: Option<Error>,
}

impl<'a> StepRows<'a> {
    /// The rows of step `epoch` (1-based).
    pub fn new(
        rows: &'a mut TrainRows,
        seed: u64,
        epoch: usize,
        shuffle: bool,
        device: &'a Device,
    ) -> Self {
        Self {
            rows,
            seed,
            epoch,
            shuffle,
            device,
            failed: None,
        }
    }

    /// The error that stopped reading the rows, if one did.
    pub fn take_failure(&mut self) -> Option<Error> {
        self.failed.take()
    }

    /// Keeps a read error, and gives the model a stand-in.
    fn fail(&mut self, error: Error) -> FitError {
        let stand_in = FitError::Device(error.to_string());
        self.failed = Some(error);
        stand_in
    }
}

impl kiln_model_zoo::Rows for StepRows<'_> {
    fn n_rows(&self) -> usize {
        self.rows.n_rows()
    }

    fn sum(
        &mut self,
        statistics: &mut dyn FnMut(&Batch) -> Result<Statistics, FitError>,
    ) -> Result<Statistics, FitError> {
        if let TrainRows::Resident(split) = &*self.rows {
            return statistics(&split.batch);
        }
        let n = self.rows.part_lens().len();
        let mut total = Statistics::new();
        self.rows.epoch_parts(self.seed, self.epoch, false);
        for part in 0..n {
            let batch = match self
                .rows
                .part(part, self.seed, self.epoch, false, self.device)
            {
                Ok((batch, _)) => batch,
                Err(e) => return Err(self.fail(e)),
            };
            merge(&mut total, statistics(&batch)?)?;
        }
        Ok(total)
    }

    fn pass(
        &mut self,
        visit: &mut dyn FnMut(Batch) -> Result<(), FitError>,
    ) -> Result<(), FitError> {
        if let TrainRows::Resident(split) = &*self.rows {
            return visit(split.batch.clone());
        }
        let (seed, epoch, shuffle) = (self.seed, self.epoch, self.shuffle);
        for part in self.rows.epoch_parts(seed, epoch, shuffle) {
            let (rows, order) = match self.rows.part(part, seed, epoch, shuffle, self.device) {
                Ok(part) => part,
                Err(e) => return Err(self.fail(e)),
            };
            visit(match order {
                Some(order) => {
                    let len = order.len();
                    let order =
                        Tensor::<1, Int>::from_data(TensorData::new(order, [len]), self.device);
                    rows.select(order)
                }
                None => rows,
            })?;
        }
        Ok(())
    }

    fn sample(&mut self) -> Result<Batch, FitError> {
        let device = self.device;
        self.rows.sample(device).map_err(|e| self.fail(e))
    }

    fn all(&mut self) -> Result<Batch, FitError> {
        match &*self.rows {
            TrainRows::Resident(split) => Ok(split.batch.clone()),
            TrainRows::Streamed { .. } => Err(FitError::NeedsAllRows),
        }
    }
}
