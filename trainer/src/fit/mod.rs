//! The fit loops: one for gradient-fitted models ([`gradient`]: batches, the optimizer, the
//! schedule, early stopping) and one for iteratively-fitted models ([`iterative`]: the model's
//! own steps), both checkpointing, resuming bit-identical, stopping on an interrupt, and
//! reporting one [`EpochRecord`] per epoch or step. [`fit`] picks the loop the model's
//! [`FitMethod`] names.

pub mod gradient;
pub mod iterative;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use burn::module::Module;
use burn::tensor::Device;
use kiln_model_zoo::{Estimator, FitMethod};

use crate::checkpoint::Checkpoint;
use crate::error::{Error, Result};
use crate::options::TrainConfig;
use crate::records::EpochRecord;
use crate::rows::{Split, TrainRows};

/// What a fit needs besides the model and its rows: the `[train]` options, the seed, and what
/// steers it from outside.
pub struct FitOptions<'a> {
    /// Epochs, batches, the optimizer, the schedule, early stopping, checkpoint frequency.
    pub train: &'a TrainConfig,
    /// Seeds the device's generator for the model's start, the batch order, and each step
    /// of a model that draws random numbers while training.
    pub seed: u64,
    /// Where checkpoints are written; `None` writes none.
    pub checkpoint: Option<&'a Path>,
    /// A checkpoint to continue from.
    pub resume: Option<Checkpoint>,
    /// Set (by Ctrl-C, say) to stop after the current step, writing a checkpoint first.
    pub interrupt: Option<&'a AtomicBool>,
    /// Sees each record as it is made, and whether a checkpoint was just written.
    pub on_epoch: Option<&'a mut OnEpoch<'a>>,
    /// A fingerprint of the training data, kept in the checkpoints of a fit that starts here.
    pub data_fingerprint: Option<String>,
}

/// What [`FitOptions::on_epoch`] calls with each record, and whether a checkpoint was just
/// written.
pub type OnEpoch<'a> = dyn FnMut(&EpochRecord, bool) -> Result<()> + Send + 'a;

impl<'a> FitOptions<'a> {
    /// A fit with these `[train]` options and seed, and no checkpoints, resume, interrupt or
    /// callback.
    pub fn new(train: &'a TrainConfig, seed: u64) -> Self {
        Self {
            train,
            seed,
            checkpoint: None,
            resume: None,
            interrupt: None,
            on_epoch: None,
            data_fingerprint: None,
        }
    }

    /// The loop state a fit starts from when it does not resume.
    fn fresh_state(&self) -> crate::checkpoint::LoopState {
        crate::checkpoint::LoopState {
            data_fingerprint: self.data_fingerprint.clone(),
            ..Default::default()
        }
    }

    /// Whether the interrupt flag is raised.
    fn interrupted(&self) -> bool {
        self.interrupt
            .is_some_and(|flag| flag.load(Ordering::Relaxed))
    }

    /// Hands `record` to the callback.
    fn report(&mut self, record: &EpochRecord, checkpointed: bool) -> Result<()> {
        match &mut self.on_epoch {
            Some(on_epoch) => on_epoch(record, checkpointed),
            None => Ok(()),
        }
    }
}

impl std::fmt::Debug for FitOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FitOptions")
            .field("train", &self.train)
            .field("seed", &self.seed)
            .field("checkpoint", &self.checkpoint)
            .field("resume", &self.resume.as_ref().map(|c| c.state.epoch))
            .finish_non_exhaustive()
    }
}

/// What a fit ends with.
#[derive(Debug)]
pub struct FitOutcome<M> {
    /// The model, without autodiff (with early stopping, the best epoch's).
    pub model: M,
    /// One record per epoch or step, a resumed run's earlier ones included.
    pub history: Vec<EpochRecord>,
    /// Wall time of the fit alone, device work synced (over every session of a resumed run).
    pub fit_seconds: f64,
    /// Whether early stopping ended the fit.
    pub stopped_early: bool,
    /// `Some((epoch, step))` when an interrupt stopped the fit there (a checkpoint was
    /// written first).
    pub interrupted: Option<(usize, usize)>,
}

/// Fits a model of `params` on `rows` (validating on `valid` each epoch), on `device`.
pub fn fit<M: Estimator>(
    params: &M::Params,
    rows: &mut TrainRows,
    valid: Option<&Split>,
    device: &Device,
    options: FitOptions,
) -> Result<FitOutcome<M>> {
    let start = Instant::now();
    // The fit runs on a worker of rayon's pool, where burn-flex's matmuls run too: a matmul then
    // splits between this worker and the others, instead of this thread handing each one to the
    // pool and sleeping until it is done (an MLP epoch on 2 cores: ~20% faster).
    rayon::scope(|_| {
        let outcome = match M::fit_method(params) {
            FitMethod::Iterative => {
                iterative::fit::<M>(params, rows, valid, device, start, options)?
            }
            FitMethod::Gradient => gradient::fit::<M>(params, rows, valid, device, start, options)?,
        };
        sync(device)?;
        Ok(outcome)
    })
}

/// Waits for the device, turning its failure into kiln's error.
pub(crate) fn sync(device: &Device) -> Result<()> {
    device
        .sync()
        .map_err(|e| Error::Fit(kiln_model_zoo::FitError::Device(format!("{e:?}"))))
}

/// A model's weights as burnpack bytes.
pub(crate) fn model_bytes<M: Module>(model: &M) -> Result<Vec<u8>> {
    model
        .clone()
        .into_record()
        .into_bytes()
        .map(|b| b.to_vec())
        .map_err(|e| Error::Fit(kiln_model_zoo::FitError::Device(format!("{e}"))))
}

/// `bytes` (from [`model_bytes`]) loaded into a model of `params` on `device`.
fn model_from_bytes<M: Estimator>(params: &M::Params, bytes: &[u8], device: &Device) -> Result<M> {
    M::load_weights(params, bytes, device).map_err(|e| Error::Run {
        message: format!("the checkpoint's model does not load: {e}"),
        path: PathBuf::from(crate::checkpoint::FILE),
        fix: "start the run again without --resume".into(),
    })
}

#[cfg(test)]
mod tests;
