//! The training loop: one driver for gradient-fitted and iteratively-fitted models, reporting
//! the same per-epoch record for both.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use burn::module::Module;
use burn::optim::grad_clipping::GradientClipping;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{
    GradientsParams, ModuleOptimizer, MultiGradientsParams, decay::WeightDecayConfig,
};
use burn::tensor::{Bytes, Device, Int, Tensor, TensorData};
use kiln_model_zoo::data::read_f32;
use kiln_model_zoo::metrics;
use kiln_model_zoo::{Batch, FitMethod, Model, ModelSpec, Prediction, StepRecord, Task};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::checkpoint::{Checkpoint, LoopState, PlateauState};
use crate::config::{OptimizerConfig, Schedule, TrainConfig};
use crate::data::{Moments, Preprocessing, RawTarget, Table};
use crate::error::{Error, Result};
use crate::stream::{ChunkedCsv, ReadAhead};

/// Metric name → value.
pub type Metrics = BTreeMap<String, f64>;

/// What one epoch (gradient fit) or one step (iterative fit) reports: a line of
/// `metrics.jsonl`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch or step.
    pub epoch: usize,
    /// Gradient steps taken so far (iterative fits: steps so far).
    pub step: usize,
    /// Mean training objective over the epoch.
    pub train_loss: f64,
    /// The objective on the validation rows, when there are any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_loss: Option<f64>,
    /// Validation metrics (`accuracy`, `log_loss`, `mse`, `mae`, `r2`, ... as apply).
    pub valid: Metrics,
    pub converged: bool,
    /// Diagonal jitter a solver needed (0 when none).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub jitter: f64,
    /// Seconds since the fit started.
    pub elapsed_seconds: f64,
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

/// Labels or values of a data split, on the host, for metrics.
#[derive(Clone, Debug)]
pub enum HostTargets {
    Values(Vec<f32>),
    Classes {
        labels: Vec<usize>,
        n_classes: usize,
    },
}

/// A data split on the device and its targets on the host.
#[derive(Clone, Debug)]
pub struct Split {
    pub batch: Batch,
    pub targets: HostTargets,
}

impl Split {
    /// A table's rows scaled by `prep` and uploaded to `device`, and its targets on the host.
    pub fn from_table(prep: &Preprocessing, table: &Table, device: &Device) -> Result<Self> {
        let batch = prep.batch(table, device)?;
        let targets = match (&table.target, prep.task()) {
            (RawTarget::Labels { .. }, Task::Classification { n_classes }) => {
                HostTargets::Classes {
                    labels: prep.encode_labels(table)?,
                    n_classes,
                }
            }
            (RawTarget::Values(v), _) => HostTargets::Values(v.clone()),
            _ => HostTargets::Values(Vec::new()),
        };
        Ok(Self { batch, targets })
    }
}

/// The training rows: all on the device, or read from a file a chunk at a time.
#[derive(Debug)]
pub enum TrainRows {
    Resident(Box<Split>),
    Streamed {
        csv: Box<ChunkedCsv>,
        prep: Preprocessing,
        /// The epoch's chunks, being read ahead.
        ahead: Option<ReadAhead>,
    },
}

impl TrainRows {
    /// Rows read from `csv` a chunk at a time, scaled by `prep`.
    pub fn streamed(csv: Box<ChunkedCsv>, prep: Preprocessing) -> Self {
        Self::Streamed {
            csv,
            prep,
            ahead: None,
        }
    }

    pub fn n_rows(&self) -> usize {
        match self {
            Self::Resident(split) => split.batch.len(),
            Self::Streamed { csv, .. } => csv.n_rows(),
        }
    }

    /// The rows of each part an epoch goes through whole before the next: the resident split
    /// is one part, a streamed file one part per chunk.
    fn part_lens(&self) -> Vec<usize> {
        match self {
            Self::Resident(split) => vec![split.batch.len()],
            Self::Streamed { csv, .. } => csv.chunk_lens(),
        }
    }

    /// The parts in the order epoch `epoch` visits them: chunks in a seeded order when
    /// shuffling. Starts reading a streamed file's chunks ahead in that order.
    fn epoch_parts(&mut self, seed: u64, epoch: usize, shuffle: bool) -> Vec<usize> {
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
    fn sample(&mut self, device: &Device) -> Result<Batch> {
        Ok(match self {
            Self::Resident(split) => split.batch.clone(),
            Self::Streamed { csv, prep, .. } => csv.split(0, prep, device)?.batch,
        })
    }

    /// Part `part` on `device`, and its row order for epoch `epoch` when shuffling.
    fn part(
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
                let table = match ahead {
                    Some(ahead) => ahead.take(part)?,
                    None => csv.read(part)?,
                };
                let batch = Split::from_table(prep, &table, device)?.batch;
                let n = batch.len();
                (batch, shuffle.then(|| shuffled(seed, stream, n)))
            }
        })
    }
}

/// The result of a fit.
#[derive(Debug)]
pub struct Fitted {
    /// The model, without autodiff.
    pub model: Model,
    pub history: Vec<EpochRecord>,
    /// Wall time of the fit alone, device work synced (over every session of a resumed run).
    pub fit_seconds: f64,
    pub stopped_early: bool,
    /// `Some((epoch, step))` when an interrupt stopped the fit there (a checkpoint was
    /// written first).
    pub interrupted: Option<(usize, usize)>,
}

/// What steers a fit from outside it.
pub struct FitControl<'a> {
    /// Where checkpoints are written; `None` writes none.
    pub checkpoint: Option<&'a Path>,
    /// A checkpoint to continue from.
    pub resume: Option<Checkpoint>,
    /// Set (by Ctrl-C) to stop after the current step.
    pub interrupt: &'a AtomicBool,
    /// Sees each record as it is made, and whether a checkpoint was just written.
    pub on_epoch: &'a mut (dyn FnMut(&EpochRecord, bool) -> Result<()> + Send),
}

impl std::fmt::Debug for FitControl<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FitControl")
            .field("checkpoint", &self.checkpoint)
            .field("resume", &self.resume.as_ref().map(|c| c.state.epoch))
            .finish_non_exhaustive()
    }
}

/// Fits a model built from `spec` on `device`.
pub fn fit(
    spec: &ModelSpec,
    train: &mut TrainRows,
    valid: Option<&Split>,
    config: &TrainConfig,
    seed: u64,
    device: &Device,
    control: FitControl,
) -> Result<Fitted> {
    let start = Instant::now();
    // The fit runs on a worker of rayon's pool, where burn-flex's matmuls run too: a matmul then
    // splits between this worker and the others, instead of this thread handing each one to the
    // pool and sleeping until it is done (an MLP epoch on 2 cores: ~20% faster).
    rayon::scope(|_| {
        let fitted = match spec.fit_method() {
            FitMethod::Iterative => {
                fit_iterative(spec, train, valid, config, seed, device, start, control)?
            }
            FitMethod::Gradient => {
                fit_gradient(spec, train, valid, config, seed, device, start, control)?
            }
        };
        sync(device)?;
        Ok(fitted)
    })
}

#[allow(clippy::too_many_arguments)]
fn fit_iterative(
    spec: &ModelSpec,
    train: &mut TrainRows,
    valid: Option<&Split>,
    config: &TrainConfig,
    seed: u64,
    device: &Device,
    start: Instant,
    control: FitControl,
) -> Result<Fitted> {
    let (mut model, mut state) = match control.resume {
        Some(checkpoint) => {
            let mut model = model_from_bytes(spec, &checkpoint.model, device)?;
            if let Some(fit_state) = checkpoint.state.fit_state.clone() {
                model.restore_fit_state(fit_state)?;
            }
            (model, checkpoint.state)
        }
        None => (spec.init(device), LoopState::default()),
    };
    let elapsed_before = state.elapsed_seconds;
    let elapsed = || elapsed_before + start.elapsed().as_secs_f64();
    let checkpoint = |state: &mut LoopState, model: &Model| -> Result<()> {
        let Some(path) = control.checkpoint else {
            return Ok(());
        };
        state.fit_state = model.fit_state()?;
        state.elapsed_seconds = elapsed();
        Checkpoint::write(path, state, &model_bytes(model)?, &[], None)
    };
    let mut converged = state.history.last().is_some_and(|r| r.converged);
    while state.epoch < config.epochs && !converged {
        let epoch = state.epoch + 1;
        let record = match &*train {
            TrainRows::Resident(split) => model.fit_step(&split.batch)?,
            TrainRows::Streamed { .. } => {
                streamed_step(&mut model, train, seed, epoch, config.shuffle, device)?
            }
        };
        if !record.loss.is_finite() {
            return Err(Error::Diverged {
                epoch,
                step: epoch,
                value: record.loss as f32,
                kept: None,
            });
        }
        let (valid_loss, valid_metrics) = match valid {
            Some(v) => (
                Some(model.objective(&v.batch, train.n_rows())?),
                evaluate(&model, v)?,
            ),
            None => (None, Metrics::new()),
        };
        converged = record.converged;
        state.history.push(EpochRecord {
            epoch,
            step: epoch,
            train_loss: record.loss,
            valid_loss,
            valid: valid_metrics,
            converged,
            jitter: record.jitter,
            elapsed_seconds: elapsed(),
        });
        state.epoch = epoch;
        state.step = epoch;
        let last = converged || epoch == config.epochs;
        let due = last || (config.checkpoint_every > 0 && epoch % config.checkpoint_every == 0);
        if due {
            checkpoint(&mut state, &model)?;
        }
        (control.on_epoch)(
            state.history.last().expect("just pushed"),
            due && control.checkpoint.is_some(),
        )?;
        if !last && control.interrupt.load(Ordering::Relaxed) && control.checkpoint.is_some() {
            checkpoint(&mut state, &model)?;
            return Ok(Fitted {
                model,
                history: state.history,
                fit_seconds: elapsed(),
                stopped_early: false,
                interrupted: Some((epoch, epoch)),
            });
        }
    }
    sync(device)?;
    Ok(Fitted {
        model,
        history: state.history,
        fit_seconds: elapsed(),
        stopped_early: false,
        interrupted: None,
    })
}

/// One step of an iterative fit over a streamed file: a pass of mini-batch k-means over the
/// chunks in the epoch's order (the only iterative fit that streams; the config check refuses
/// the others). The k-means++ seeding, the convergence scale and the comparison of restarts use
/// the file's first chunk.
fn streamed_step(
    model: &mut Model,
    train: &mut TrainRows,
    seed: u64,
    epoch: usize,
    shuffle: bool,
    device: &Device,
) -> Result<StepRecord> {
    let Model::KMeans(kmeans) = model else {
        return Err(Error::Fit(kiln_model_zoo::FitError::Device(
            "only mini-batch k-means fits iteratively from chunks".into(),
        )));
    };
    let sample = train.sample(device)?;
    let mut pass = kmeans.begin_pass(&sample.x)?;
    for part in train.epoch_parts(seed, epoch, shuffle) {
        let (rows, order) = train.part(part, seed, epoch, shuffle, device)?;
        let x = match order {
            Some(order) => {
                let len = order.len();
                rows.x.select(
                    0,
                    Tensor::<1, Int>::from_data(TensorData::new(order, [len]), device),
                )
            }
            None => rows.x,
        };
        kmeans.pass_rows(&mut pass, x);
    }
    Ok(kmeans.end_pass(pass, &sample.x)?)
}

/// The rows of epoch `epoch` (1-based) in training order: a shuffle seeded by the run's seed
/// and the epoch alone, so a resumed run sees exactly the order an uninterrupted one does.
fn epoch_order(seed: u64, epoch: usize, n: usize) -> Vec<i64> {
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

/// The device RNG's seed for step `step`: models that draw random numbers while training
/// (dropout) reseed before every step, so a resumed run draws what an uninterrupted one does.
fn step_seed(seed: u64, step: usize) -> u64 {
    seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ step as u64
}

/// The learning rate of the step `batch` (0-based) of epoch `epoch` (1-based).
fn learning_rate(
    config: &TrainConfig,
    plateau: &PlateauState,
    epoch: usize,
    batch: usize,
    steps_per_epoch: usize,
) -> f64 {
    let base = config.optimizer.learning_rate();
    let done = (epoch - 1) as i32;
    let scheduled = match &config.schedule {
        Schedule::Constant => base,
        Schedule::Step { every, gamma } => base * gamma.powi(done / *every as i32),
        Schedule::Exponential { gamma } => base * gamma.powi(done),
        Schedule::Cosine { min_lr } => {
            let progress =
                (done as f64 + batch as f64 / steps_per_epoch as f64) / config.epochs as f64;
            min_lr + (base - min_lr) * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos())
        }
        Schedule::Plateau { min_lr, .. } => (base * plateau.scale).max(*min_lr),
    };
    let warmup_steps = config.warmup_epochs * steps_per_epoch;
    let step = (epoch - 1) * steps_per_epoch + batch;
    if step < warmup_steps {
        scheduled * (step + 1) as f64 / warmup_steps as f64
    } else {
        scheduled
    }
}

/// Reduce-on-plateau's end-of-epoch update, on the validation loss (or the training loss).
fn update_plateau(schedule: &Schedule, state: &mut PlateauState, value: f64) {
    let Schedule::Plateau {
        factor,
        patience,
        threshold,
        ..
    } = schedule
    else {
        return;
    };
    match state.best {
        Some(best) if value >= best - threshold * best.abs() => {
            state.bad_epochs += 1;
            if state.bad_epochs > *patience {
                state.scale *= factor;
                state.bad_epochs = 0;
            }
        }
        _ => {
            state.best = Some(value);
            state.bad_epochs = 0;
        }
    }
}

/// The value of `metric` (see [`crate::config::EarlyStopping::metric`]) in a record.
pub fn watched(record: &EpochRecord, metric: &str) -> Option<f64> {
    match metric {
        "valid_loss" => Some(record.valid_loss.unwrap_or(record.train_loss)),
        "train_loss" => Some(record.train_loss),
        other => record.valid.get(other).copied(),
    }
}

/// Whether larger values of `metric` are better.
pub fn is_maximised(metric: &str) -> bool {
    matches!(
        metric,
        "accuracy"
            | "r2"
            | "adjusted_rand_index"
            | "silhouette"
            | "log_likelihood"
            | "log_predictive_density"
            | "log_marginal_likelihood"
    )
}

/// The metrics a fit of `spec` reports each epoch, for early stopping to watch.
pub fn watchable_metrics(spec: &ModelSpec, has_valid: bool) -> Vec<&'static str> {
    let mut names = vec!["valid_loss", "train_loss"];
    if has_valid {
        names.extend(match spec {
            ModelSpec::LogisticRegression(_) => &["accuracy", "log_loss"][..],
            ModelSpec::Mlp(p) if p.n_classes.is_some() => &["accuracy", "log_loss"][..],
            ModelSpec::LinearSvm(_) | ModelSpec::KernelSvm(_) => &["accuracy"][..],
            ModelSpec::Glm(_) => &["mse", "mae", "r2", "deviance"][..],
            ModelSpec::LinearRegression(_) | ModelSpec::Mlp(_) => &["mse", "mae", "r2"][..],
            ModelSpec::KMeans(_) => &["inertia"][..],
            ModelSpec::Gmm(_) => &["log_likelihood", "bic", "aic"][..],
            ModelSpec::GaussianProcess(_) => &["mse", "mae", "r2", "log_predictive_density"][..],
        });
    }
    names
}

/// A model's weights as burnpack bytes.
fn model_bytes(model: &Model) -> Result<Vec<u8>> {
    model
        .clone()
        .into_record()
        .into_bytes()
        .map(|b| b.to_vec())
        .map_err(|e| Error::Fit(kiln_model_zoo::FitError::Device(format!("{e}"))))
}

/// `bytes` (from [`model_bytes`]) loaded into a fresh model of `spec` on `device`.
fn model_from_bytes(spec: &ModelSpec, bytes: &[u8], device: &Device) -> Result<Model> {
    let damaged = |e: String| Error::Run {
        message: format!("the checkpoint's model does not load: {e}"),
        path: PathBuf::from(crate::checkpoint::FILE),
        fix: "start the run again without --resume".into(),
    };
    spec.load(bytes, device).map_err(|e| damaged(e.to_string()))
}

#[allow(clippy::too_many_arguments)]
fn fit_gradient(
    spec: &ModelSpec,
    train: &mut TrainRows,
    valid: Option<&Split>,
    config: &TrainConfig,
    seed: u64,
    device: &Device,
    start: Instant,
    control: FitControl,
) -> Result<Fitted> {
    let autodiff = device.clone().autodiff();
    let mut optimizer = optimizer(&config.optimizer, config.grad_clip_norm);
    let (mut model, mut state, mut best) = match control.resume {
        Some(checkpoint) => {
            let model = model_from_bytes(spec, &checkpoint.model, &autodiff)?;
            optimizer = optimizer
                .from_bytes(Bytes::from_bytes_vec(checkpoint.optimizer))
                .map_err(|e| Error::Run {
                    message: format!("the checkpoint's optimizer state does not load: {e}"),
                    path: PathBuf::from(crate::checkpoint::FILE),
                    fix: "start the run again without --resume".into(),
                })?;
            let best = checkpoint
                .best
                .map(|b| model_from_bytes(spec, &b, device))
                .transpose()?;
            (model, checkpoint.state, best)
        }
        None => (spec.init(&autodiff), LoopState::default(), None),
    };
    let elapsed_before = state.elapsed_seconds;
    let elapsed = || elapsed_before + start.elapsed().as_secs_f64();
    let checkpoint = |state: &LoopState,
                      model: &Model,
                      best: Option<&Model>,
                      optimizer: &ModuleOptimizer|
     -> Result<()> {
        let Some(path) = control.checkpoint else {
            return Ok(());
        };
        let optimizer = optimizer
            .into_bytes()
            .map_err(|e| Error::Fit(kiln_model_zoo::FitError::Device(format!("{e}"))))?;
        let best = best.map(model_bytes).transpose()?;
        Checkpoint::write(
            path,
            state,
            &model_bytes(model)?,
            &optimizer,
            best.as_deref(),
        )
    };

    // Resident data went to the device once; each epoch gathers it in its order there (no
    // second copy of the whole training set). A streamed file goes a chunk at a time.
    let n = train.n_rows();
    let part_lens = train.part_lens();
    let batch_size = config
        .batch_size
        .min(part_lens.iter().copied().max().unwrap_or(1));
    let steps_per_epoch: usize = part_lens.iter().map(|l| l.div_ceil(batch_size)).sum();
    let stochastic = spec.is_stochastic();
    let split_steps = splits_steps(spec, &model, batch_size, device);
    let mut stopped_early = false;
    let on_epoch = control.on_epoch;

    while state.epoch < config.epochs {
        let epoch = state.epoch + 1;
        // Losses stay on the device and are read once per epoch, not once per step.
        let mut loss_sum =
            Tensor::<1>::from_data(TensorData::new(vec![state.epoch_loss_sum], [1]), device);
        let mut step_losses = Vec::with_capacity(steps_per_epoch);
        let mut first_step_of_part = 0;
        for part in train.epoch_parts(seed, epoch, config.shuffle) {
            let part_steps = part_lens[part].div_ceil(batch_size);
            if state.batch >= first_step_of_part + part_steps {
                // Trained before the run was stopped and resumed.
                first_step_of_part += part_steps;
                continue;
            }
            let (rows, order) = train.part(part, seed, epoch, config.shuffle, device)?;
            let len_of_part = rows.len();
            let rows = rows.autodiff();
            let order = order.map(|order| {
                Tensor::<1, Int>::from_data(TensorData::new(order, [len_of_part]), &autodiff)
            });
            while state.batch < first_step_of_part + part_steps {
                let begin = (state.batch - first_step_of_part) * batch_size;
                let len = batch_size.min(len_of_part - begin);
                // Rows `start..start + count` of this step's batch.
                let take = |start: usize, count: usize| match &order {
                    Some(order) => rows.select(order.clone().narrow(0, begin + start, count)),
                    None => rows.narrow(begin + start, count),
                };
                if stochastic {
                    autodiff.seed(step_seed(seed, state.step));
                }
                let lr = learning_rate(config, &state.plateau, epoch, state.batch, steps_per_epoch);
                let halves = split_steps && len >= 2;
                let loss;
                (model, loss) =
                    gradient_step(model, &mut optimizer, lr, len, &take, n, halves, device)?;
                step_losses.push(loss.clone());
                loss_sum = loss_sum + loss.mul_scalar(len as f64);
                state.batch += 1;
                state.step += 1;
                if control.interrupt.load(Ordering::Relaxed) && state.batch < steps_per_epoch {
                    state.epoch_loss_sum = read_f32(loss_sum.clone())?[0];
                    if state.epoch_loss_sum.is_finite() {
                        state.elapsed_seconds = elapsed();
                        checkpoint(&state, &model, best.as_ref(), &optimizer)?;
                        sync(device)?;
                        return Ok(Fitted {
                            model: model.valid(),
                            history: state.history,
                            fit_seconds: elapsed(),
                            stopped_early: false,
                            interrupted: Some((epoch, state.step)),
                        });
                    }
                }
            }
            first_step_of_part += part_steps;
        }
        let train_loss = read_f32(loss_sum)?[0] as f64 / n as f64;
        if !train_loss.is_finite() {
            // The first step whose loss was not finite (one read, only on this path).
            let losses = read_f32(Tensor::cat(step_losses, 0))?;
            let bad = losses.iter().position(|l| !l.is_finite()).unwrap_or(0);
            let first_step_of_epoch = state.step - losses.len();
            return Err(Error::Diverged {
                epoch,
                step: first_step_of_epoch + bad + 1,
                value: losses.get(bad).copied().unwrap_or(train_loss as f32),
                kept: None,
            });
        }
        state.epoch = epoch;
        state.batch = 0;
        state.epoch_loss_sum = 0.0;
        let current = model.valid();
        let (valid_loss, valid_metrics) = match valid {
            Some(v) => (
                Some(current.objective(&v.batch, n)?),
                evaluate(&current, v)?,
            ),
            None => (None, Metrics::new()),
        };
        let record = EpochRecord {
            epoch,
            step: state.step,
            train_loss,
            valid_loss,
            valid: valid_metrics,
            converged: false,
            jitter: 0.0,
            elapsed_seconds: elapsed(),
        };
        update_plateau(
            &config.schedule,
            &mut state.plateau,
            valid_loss.unwrap_or(train_loss),
        );
        if let Some(stop) = &config.early_stopping {
            let value = watched(&record, &stop.metric).unwrap_or(f64::NAN);
            let sign = if is_maximised(&stop.metric) {
                -1.0
            } else {
                1.0
            };
            match state.early.best {
                // Not better by more than `min_delta` (a NaN never is).
                Some((best_value, _))
                    if value.is_nan() || sign * value >= sign * best_value - stop.min_delta =>
                {
                    state.early.since_best += 1;
                }
                _ => {
                    state.early.best = Some((value, epoch));
                    state.early.since_best = 0;
                    best = Some(current);
                }
            }
            stopped_early = state.early.since_best >= stop.patience;
        }
        state.history.push(record);
        let last = stopped_early || epoch == config.epochs;
        let due = last || (config.checkpoint_every > 0 && epoch % config.checkpoint_every == 0);
        if due {
            state.elapsed_seconds = elapsed();
            checkpoint(&state, &model, best.as_ref(), &optimizer)?;
        }
        on_epoch(
            state.history.last().expect("just pushed"),
            due && control.checkpoint.is_some(),
        )?;
        if stopped_early {
            break;
        }
    }
    sync(device)?;
    // With early stopping the best epoch's weights are kept, not the last epoch's.
    let model = best.unwrap_or_else(|| model.valid());
    Ok(Fitted {
        model,
        history: state.history,
        fit_seconds: elapsed(),
        stopped_early,
        interrupted: None,
    })
}

/// Work (batch rows × parameters) from which a gradient step on a CPU backend runs as two
/// halves on two threads; burn-flex starts splitting a matmul between threads at 192³.
const SPLIT_STEP_WORK: usize = 192 * 192 * 192;

/// Whether gradient steps of `spec` on `device` run as two halves (see [`gradient_step`]): on a
/// CPU backend, for a deterministic model whose loss splits by rows, once a step has enough
/// work to share.
fn splits_steps(spec: &ModelSpec, model: &Model, batch_size: usize, device: &Device) -> bool {
    !spec.is_stochastic()
        && spec.loss_splits_by_rows()
        && kiln_backends::is_host(device)
        && batch_size.saturating_mul(model.num_params()) >= SPLIT_STEP_WORK
}

/// One optimiser step on the `len` rows that `take(start, count)` returns in parts; gives the
/// updated model and the batch's loss (on `device`, outside the graph).
///
/// With `halves`, the two halves of the batch go forward and backward on two threads and their
/// gradients are summed. A CPU backend runs every elementwise op on the calling thread and
/// splits only large matmuls, so a single graph leaves the other core idle for much of a
/// step. Each half's loss is weighted by its share of the rows, which makes the summed
/// gradients those of the batch's loss (see `ModelSpec::loss_splits_by_rows`). The split is
/// fixed and two gradients add the same either way round, so a resumed run stays
/// bit-identical; a stochastic model is never split, as its halves would draw their dropout
/// masks from one generator in whichever order the threads reach it.
#[allow(clippy::too_many_arguments)]
fn gradient_step(
    model: Model,
    optimizer: &mut ModuleOptimizer,
    lr: f64,
    len: usize,
    take: &(dyn Fn(usize, usize) -> Batch + Sync),
    n: usize,
    halves: bool,
    device: &Device,
) -> Result<(Model, Tensor<1>)> {
    if !halves {
        let loss = model.loss(&take(0, len), n)?;
        let value = loss.clone().inner();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        return Ok((optimizer.step(lr, model, grads), value));
    }
    let plain = model.valid();
    let half = |start: usize, count: usize| -> Result<(Tensor<1>, GradientsParams)> {
        // A graph of its own: fresh autodiff leaves with the model's parameter ids.
        let copy = plain.clone().train();
        let loss = copy
            .loss(&take(start, count), n)?
            .mul_scalar(count as f64 / len as f64);
        let value = loss.clone().inner();
        Ok((value, GradientsParams::from_grads(loss.backward(), &copy)))
    };
    let first = len / 2;
    let (a, b) = rayon::join(|| half(0, first), || half(first, len - first));
    let ((loss_a, grads_a), (loss_b, grads_b)) = (a?, b?);
    let grads = MultiGradientsParams {
        grads: vec![(grads_a, device.clone()), (grads_b, device.clone())],
    };
    Ok((optimizer.step_multi(lr, model, grads), loss_a + loss_b))
}

fn optimizer(config: &OptimizerConfig, clip_norm: Option<f64>) -> ModuleOptimizer {
    let optimizer: ModuleOptimizer = match config {
        OptimizerConfig::Sgd(c) => burn::optim::SgdConfig::new()
            .with_momentum((c.momentum > 0.0).then(|| {
                // PyTorch's convention (no dampening), which users' learning rates assume.
                MomentumConfig::new()
                    .with_momentum(c.momentum)
                    .with_dampening(0.0)
                    .with_nesterov(c.nesterov)
            }))
            .with_weight_decay(
                (c.weight_decay > 0.0).then(|| WeightDecayConfig::new(c.weight_decay as f32)),
            )
            .init(),
        OptimizerConfig::Adam(c) => burn::optim::AdamConfig::new()
            .with_beta_1(c.beta1)
            .with_beta_2(c.beta2)
            .with_epsilon(c.epsilon)
            .with_weight_decay(
                (c.weight_decay > 0.0).then(|| WeightDecayConfig::new(c.weight_decay)),
            )
            .init(),
        OptimizerConfig::Adamw(c) => burn::optim::AdamWConfig::new()
            .with_beta_1(c.beta1)
            .with_beta_2(c.beta2)
            .with_epsilon(c.epsilon)
            .with_weight_decay(c.weight_decay)
            .init(),
        OptimizerConfig::Rmsprop(c) => burn::optim::RmsPropConfig::new()
            .with_alpha(c.alpha)
            .with_momentum(c.momentum)
            .with_epsilon(c.epsilon)
            .with_centered(c.centered)
            .with_weight_decay(
                (c.weight_decay > 0.0).then(|| WeightDecayConfig::new(c.weight_decay)),
            )
            .init(),
    };
    match clip_norm {
        Some(norm) => optimizer.with_grad_clipping(GradientClipping::Norm(norm as f32)),
        None => optimizer,
    }
}

/// Metrics of `model` on a split: `mse`, `mae`, `r2` for regression (and `deviance` for a
/// GLM); `accuracy`, `log_loss` for classification (`accuracy` alone for an SVM); `inertia`
/// (and `adjusted_rand_index` given labels) for clustering.
pub fn evaluate(model: &Model, split: &Split) -> Result<Metrics> {
    let prediction = predict_host(model, split.batch.x.clone())?;
    metrics_of_model(model, &prediction, split)
}

/// [`metrics_of`] plus what needs the model itself: a GLM's `deviance`, a mixture's mean
/// `log_likelihood`, `bic` and `aic`.
fn metrics_of_model(model: &Model, prediction: &HostPrediction, split: &Split) -> Result<Metrics> {
    let mut metrics = metrics_of(prediction, &split.targets);
    if let (Model::Glm(glm), HostPrediction::Values(mu), HostTargets::Values(y)) =
        (model, prediction, &split.targets)
    {
        metrics.insert("deviance".into(), glm.params.mean_deviance(mu, y));
    }
    if let Model::Gmm(gmm) = model {
        let log_likelihood = gmm.score(split.batch.x.clone())?;
        let n = split.batch.len();
        metrics.insert("log_likelihood".into(), log_likelihood);
        // scikit-learn's `bic` and `aic`, from the same likelihood.
        metrics.insert("bic".into(), gmm.params.bic(log_likelihood, n));
        metrics.insert("aic".into(), gmm.params.aic(log_likelihood, n));
    }
    Ok(metrics)
}

/// [`evaluate`] plus the metrics too costly for every epoch: the `silhouette` of a clustering
/// (from the same prediction, not a second one), a Gaussian process's log marginal likelihood
/// of the split.
pub fn evaluate_final(model: &Model, split: &Split) -> Result<Metrics> {
    let prediction = predict_host(model, split.batch.x.clone())?;
    let mut metrics = metrics_of_model(model, &prediction, split)?;
    if let Model::GaussianProcess(gp) = model {
        metrics.insert(
            "log_marginal_likelihood".into(),
            gp.log_marginal_likelihood(&split.batch)?,
        );
    }
    if let Some(clusters) = prediction.clusters() {
        metrics.insert(
            "silhouette".into(),
            sampled_silhouette(&split.batch.x, clusters)?,
        );
    }
    Ok(metrics)
}

/// [`evaluate_final`] of the training rows, a chunk at a time when streamed.
pub fn evaluate_train(model: &Model, train: &mut TrainRows, device: &Device) -> Result<Metrics> {
    match train {
        TrainRows::Resident(split) => evaluate_final(model, split),
        TrainRows::Streamed { csv, prep, .. } => evaluate_streamed(model, csv, prep, device),
    }
}

/// Metrics that are means over rows, so a streamed evaluation averages them by rows.
const MEAN_METRICS: [&str; 6] = [
    "accuracy",
    "log_loss",
    "mse",
    "mae",
    "deviance",
    "log_predictive_density",
];

/// [`evaluate`] over a streamed file, a chunk at a time: metrics that are means over rows
/// (accuracy, log loss, mse, mae, deviance) are averaged by rows, inertia is summed, and r2
/// comes from the mean squared error and the target's variance. Metrics that need every row at
/// once (silhouette, adjusted Rand index) are left out.
pub fn evaluate_streamed(
    model: &Model,
    csv: &ChunkedCsv,
    prep: &Preprocessing,
    device: &Device,
) -> Result<Metrics> {
    let mut totals = Metrics::new();
    let mut rows = 0usize;
    let mut target = Moments::default();
    let chunks = csv.n_chunks();
    let mut ahead = csv.read_ahead((0..chunks).collect());
    for chunk in 0..chunks {
        let split = Split::from_table(prep, &ahead.take(chunk)?, device)?;
        let n = split.batch.len();
        let prediction = predict_host(model, split.batch.x.clone())?;
        for (name, value) in metrics_of_model(model, &prediction, &split)? {
            if name == "inertia" {
                *totals.entry(name).or_default() += value;
            } else if MEAN_METRICS.contains(&name.as_str()) {
                *totals.entry(name).or_default() += value * n as f64;
            }
        }
        if let HostTargets::Values(y) = &split.targets {
            target.add(y, 1);
        }
        rows += n;
    }
    for (name, value) in totals.iter_mut() {
        if name != "inertia" {
            *value /= rows.max(1) as f64;
        }
    }
    if let Some(mse) = totals.get("mse").copied() {
        // As `metrics::r2`: 1 − squared error / squared deviation from the mean.
        let target_squares = target.squares.first().copied().unwrap_or(0.0);
        let r2 = if target_squares == 0.0 {
            if mse == 0.0 { 1.0 } else { 0.0 }
        } else {
            1.0 - mse * rows as f64 / target_squares
        };
        totals.insert("r2".into(), r2);
    }
    Ok(totals)
}

/// Rows the silhouette is computed on at most: it costs O(n²), so larger data is sampled
/// (seeded, as scikit-learn's `silhouette_score(sample_size=...)`).
const SILHOUETTE_SAMPLE: usize = 2_000;

/// The silhouette of a clustering, on a seeded sample of the rows.
fn sampled_silhouette(x: &Tensor<2>, clusters: Vec<usize>) -> Result<f64> {
    let [n, width] = x.dims();
    let (rows, labels) = if n <= SILHOUETTE_SAMPLE {
        (x.clone(), clusters)
    } else {
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(0));
        order.truncate(SILHOUETTE_SAMPLE);
        let index: Vec<i64> = order.iter().map(|&i| i as i64).collect();
        let index =
            Tensor::<1, Int>::from_data(TensorData::new(index, [SILHOUETTE_SAMPLE]), &x.device());
        let labels = order.iter().map(|&i| clusters[i]).collect();
        (x.clone().select(0, index), labels)
    };
    Ok(metrics::silhouette(&read_f32(rows)?, width, &labels))
}

/// A prediction read back to the host.
#[derive(Clone, Debug)]
pub enum HostPrediction {
    Values(Vec<f32>),
    Probabilities {
        proba: Vec<f32>,
        n_classes: usize,
    },
    /// Decision scores, row-major: one column (binary) or one per class.
    Scores {
        scores: Vec<f32>,
        width: usize,
    },
    /// Squared distances to the `k` cluster centres, row-major.
    Clusters {
        distances: Vec<f32>,
        k: usize,
    },
    /// Probabilities of the `k` mixture components, row-major.
    Memberships {
        proba: Vec<f32>,
        k: usize,
    },
    /// Predictive means and standard deviations.
    Gaussian {
        mean: Vec<f32>,
        std: Vec<f32>,
    },
}

impl HostPrediction {
    /// The cluster of each row, for a clustering: the nearest centre or the most probable
    /// component.
    pub fn clusters(&self) -> Option<Vec<usize>> {
        match self {
            Self::Clusters { distances, k } => Some(metrics::argmin_rows(distances, *k)),
            Self::Memberships { proba, k } => Some(metrics::argmax_rows(proba, *k)),
            _ => None,
        }
    }
}

pub fn predict_host(model: &Model, x: Tensor<2>) -> Result<HostPrediction> {
    Ok(match model.predict(x) {
        Prediction::Values(v) => HostPrediction::Values(read_f32(v)?),
        Prediction::Gaussian(distribution) => {
            let values = read_f32(distribution)?;
            HostPrediction::Gaussian {
                mean: values.iter().step_by(2).copied().collect(),
                std: values.iter().skip(1).step_by(2).copied().collect(),
            }
        }
        Prediction::Probabilities(p) => {
            let n_classes = p.dims()[1];
            HostPrediction::Probabilities {
                proba: read_f32(p)?,
                n_classes,
            }
        }
        Prediction::Scores(s) => {
            let width = s.dims()[1];
            HostPrediction::Scores {
                scores: read_f32(s)?,
                width,
            }
        }
        Prediction::Clusters(d) => {
            let k = d.dims()[1];
            HostPrediction::Clusters {
                distances: read_f32(d)?,
                k,
            }
        }
        Prediction::Memberships(p) => {
            let k = p.dims()[1];
            HostPrediction::Memberships {
                proba: read_f32(p)?,
                k,
            }
        }
    })
}

pub fn metrics_of(prediction: &HostPrediction, targets: &HostTargets) -> Metrics {
    let mut out = Metrics::new();
    match (prediction, targets) {
        (HostPrediction::Values(pred), HostTargets::Values(y)) => {
            out.insert("mse".into(), metrics::mse(pred, y));
            out.insert("mae".into(), metrics::mae(pred, y));
            out.insert("r2".into(), metrics::r2(pred, y));
        }
        (HostPrediction::Gaussian { mean, std }, HostTargets::Values(y)) => {
            out.insert("mse".into(), metrics::mse(mean, y));
            out.insert("mae".into(), metrics::mae(mean, y));
            out.insert("r2".into(), metrics::r2(mean, y));
            out.insert(
                "log_predictive_density".into(),
                metrics::log_predictive_density(mean, std, y),
            );
        }
        (
            HostPrediction::Probabilities { proba, n_classes },
            HostTargets::Classes { labels, .. },
        ) => {
            let pred = metrics::argmax_rows(proba, *n_classes);
            out.insert("accuracy".into(), metrics::accuracy(&pred, labels));
            out.insert(
                "log_loss".into(),
                metrics::log_loss(proba, labels, *n_classes),
            );
        }
        (HostPrediction::Scores { scores, width }, HostTargets::Classes { labels, .. }) => {
            let pred = metrics::classes_from_scores(scores, *width);
            out.insert("accuracy".into(), metrics::accuracy(&pred, labels));
        }
        (HostPrediction::Clusters { distances, k }, _) => {
            let nearest = distances
                .chunks_exact(*k)
                .map(|row| row.iter().fold(f32::INFINITY, |m, v| m.min(*v)).max(0.0));
            out.insert("inertia".into(), nearest.map(f64::from).sum());
        }
        _ => {}
    }
    // A clustering given a label column: how well the clusters recover the labels.
    if let (Some(clusters), HostTargets::Classes { labels, .. }) = (prediction.clusters(), targets)
    {
        out.insert(
            "adjusted_rand_index".into(),
            kiln_model_zoo::kmeans::adjusted_rand_index(&clusters, labels),
        );
    }
    out
}

/// Waits for the device, turning its failure into kiln's error.
pub(crate) fn sync(device: &Device) -> Result<()> {
    device
        .sync()
        .map_err(|e| Error::Fit(kiln_model_zoo::FitError::Device(format!("{e:?}"))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_model_zoo::gaussian_process::GaussianProcessConfig;
    use kiln_model_zoo::gmm::GmmConfig;
    use kiln_model_zoo::kernel_svm::KernelSvmConfig;
    use kiln_model_zoo::kmeans::KMeansConfig;
    use kiln_model_zoo::logistic_regression::{LogisticRegressionConfig, LogisticSolver};
    use kiln_model_zoo::mlp::{Activation, MlpConfig, MlpTask};
    use kiln_model_zoo::{DataShape, ModelConfig, Targets, Task};

    use crate::config::SgdConfig;

    /// 300 rows around three centres in 2-D, well mixed.
    fn blobs(device: &Device) -> Split {
        let mut rng = kiln_model_zoo::rng::Rng::new(5);
        let centres = [(-4.0, 0.0), (4.0, 1.0), (0.0, 5.0)];
        let x: Vec<f32> = (0..300)
            .flat_map(|i| {
                let (cx, cy) = centres[i % 3];
                [
                    (cx + 1.5 * rng.normal()) as f32,
                    (cy + 1.5 * rng.normal()) as f32,
                ]
            })
            .collect();
        // The blob of each row: labels for the classifier, ignored by the clusterings.
        let labels: Vec<usize> = (0..300).map(|i| i % 3).collect();
        let classes: Vec<i64> = labels.iter().map(|&l| l as i64).collect();
        Split {
            batch: Batch {
                x: Tensor::from_data(TensorData::new(x, [300, 2]), device),
                targets: Targets::Classes(Tensor::from_data(
                    TensorData::new(classes, [300]),
                    device,
                )),
            },
            targets: HostTargets::Classes {
                labels,
                n_classes: 3,
            },
        }
    }

    /// Builds a test split on a device.
    type MakeSplit = fn(&Device) -> Split;

    /// 100 rows of a noisy sine, for the Gaussian process.
    fn sine(device: &Device) -> Split {
        let mut rng = kiln_model_zoo::rng::Rng::new(6);
        let x: Vec<f32> = (0..100).map(|i| i as f32 / 10.0).collect();
        let y: Vec<f32> = x
            .iter()
            .map(|v| (v.sin() as f64 + 0.2 * rng.normal()) as f32)
            .collect();
        Split {
            batch: Batch {
                x: Tensor::from_data(TensorData::new(x, [100, 1]), device),
                targets: Targets::Values(Tensor::from_data(
                    TensorData::new(y.clone(), [100, 1]),
                    device,
                )),
            },
            targets: HostTargets::Values(y),
        }
    }

    /// An iterative fit (k-means and a mixture with restarts, a one-vs-rest kernel SVM, a
    /// Gaussian process's and a logistic regression's L-BFGS) stopped halfway and resumed from its checkpoint ends with the
    /// parameters, byte for byte, and the history of a fit never stopped.
    #[test]
    fn interrupted_iterative_fits_resume_to_the_same_result() {
        let labelled = DataShape {
            n_features: 2,
            task: Task::Classification { n_classes: 3 },
        };
        let regression = DataShape {
            n_features: 1,
            task: Task::Regression,
        };
        let specs: [(ModelConfig, DataShape, MakeSplit); 5] = [
            (
                ModelConfig::Kmeans(KMeansConfig {
                    k: 3,
                    n_init: 4,
                    ..Default::default()
                }),
                labelled,
                blobs,
            ),
            (
                ModelConfig::Gmm(GmmConfig {
                    k: 3,
                    n_init: 4,
                    tol: 1e-6,
                    ..Default::default()
                }),
                labelled,
                blobs,
            ),
            // One step per class at least: 1,000 SMO iterations solve each problem here.
            (
                ModelConfig::KernelSvm(KernelSvmConfig::default()),
                labelled,
                blobs,
            ),
            (
                ModelConfig::GaussianProcess(GaussianProcessConfig::default()),
                regression,
                sine,
            ),
            (
                ModelConfig::LogisticRegression(LogisticRegressionConfig {
                    solver: LogisticSolver::Lbfgs,
                    tol: 1e-6,
                    ..Default::default()
                }),
                labelled,
                blobs,
            ),
        ];
        for (kind, (spec, shape, data)) in kiln_backends::compiled()
            .into_iter()
            .flat_map(|kind| specs.iter().map(move |spec| (kind, spec)))
        {
            let device = kiln_backends::open(kind).unwrap().device;
            let spec = spec.check(shape).unwrap();
            let label = format!("{kind} {spec:?}");
            let config = TrainConfig::default();
            let (epochs, stopped) =
                assert_resumes_bit_identical(&label, &spec, &data(&device), &config);
            // One step per epoch: the fit stops right after the epoch that raised the flag.
            assert_eq!(stopped, Some((epochs / 2, epochs / 2)), "{label}");
        }
    }

    /// Fits `spec` three times: through; stopped by the interrupt flag raised at the end of
    /// the middle epoch, with a checkpoint; resumed from that checkpoint. The resumed fit must
    /// end with the parameters, byte for byte, and the losses of the fit never stopped.
    /// Returns the number of epochs and where the stopped fit stopped (epoch, step).
    fn assert_resumes_bit_identical(
        label: &str,
        spec: &ModelSpec,
        split: &Split,
        config: &TrainConfig,
    ) -> (usize, Option<(usize, usize)>) {
        let device = split.batch.x.device();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(crate::checkpoint::FILE);
        let run = |control: FitControl| {
            // As `kiln train` does: the initial weights come from the seeded device.
            device.seed(0);
            let mut rows = TrainRows::Resident(Box::new(split.clone()));
            fit(spec, &mut rows, None, config, 0, &device, control)
        };

        let never = AtomicBool::new(false);
        let whole = run(FitControl {
            checkpoint: None,
            resume: None,
            interrupt: &never,
            on_epoch: &mut |_, _| Ok(()),
        })
        .unwrap();
        let epochs = whole.history.len();
        assert!(epochs >= 3, "{label}: {epochs} epochs");
        let stop_after = epochs / 2;

        let stop = AtomicBool::new(false);
        let stopped = run(FitControl {
            checkpoint: Some(&path),
            resume: None,
            interrupt: &stop,
            on_epoch: &mut |record, _| {
                stop.store(record.epoch == stop_after, Ordering::Relaxed);
                Ok(())
            },
        })
        .unwrap();

        let resumed = run(FitControl {
            checkpoint: Some(&path),
            resume: Some(Checkpoint::read(&path).unwrap()),
            interrupt: &never,
            on_epoch: &mut |_, _| Ok(()),
        })
        .unwrap();
        assert_eq!(resumed.interrupted, None);
        assert_eq!(
            model_bytes(&resumed.model).unwrap(),
            model_bytes(&whole.model).unwrap(),
            "{label}: parameters differ"
        );
        let losses = |h: &[EpochRecord]| h.iter().map(|r| r.train_loss).collect::<Vec<_>>();
        assert_eq!(losses(&resumed.history), losses(&whole.history), "{label}");
        (epochs, stopped.interrupted)
    }

    /// 1,024 rows of 64 features around four centres: with a 256-unit MLP and batches of 512,
    /// enough work per step for a CPU backend to split it (512 × 17,668 parameters ≥ 192³).
    fn wide(device: &Device) -> Split {
        let mut rng = kiln_model_zoo::rng::Rng::new(7);
        let (rows, features) = (1024, 64);
        let labels: Vec<usize> = (0..rows).map(|i| i % 4).collect();
        let x: Vec<f32> = labels
            .iter()
            .flat_map(|&c| (0..features).map(move |j| (c, j)))
            .map(|(c, j)| ((j % 4 == c) as u8 as f64 + rng.normal()) as f32)
            .collect();
        Split {
            batch: Batch {
                x: Tensor::from_data(TensorData::new(x, [rows, features]), device),
                targets: Targets::Classes(Tensor::from_data(
                    TensorData::new(labels.iter().map(|&c| c as i64).collect(), [rows]),
                    device,
                )),
            },
            targets: HostTargets::Classes {
                labels,
                n_classes: 4,
            },
        }
    }

    /// A gradient step split into halves on two threads moves the weights as the whole batch's
    /// step does, to float rounding, on every compiled backend; on a CPU backend a fit takes
    /// split steps, and stopped mid-epoch and resumed it ends byte for byte where a fit never
    /// stopped does.
    #[test]
    fn halved_steps_match_whole_steps_and_resume_bit_identical() {
        let spec = ModelConfig::Mlp(MlpConfig {
            task: MlpTask::Classification,
            hidden: vec![256],
            activation: Activation::Relu,
            dropout: 0.0,
        })
        .check(&DataShape {
            n_features: 64,
            task: Task::Classification { n_classes: 4 },
        })
        .unwrap();
        let config = TrainConfig {
            epochs: 4,
            batch_size: 512,
            optimizer: OptimizerConfig::Sgd(SgdConfig {
                learning_rate: 0.5,
                ..Default::default()
            }),
            checkpoint_every: 0,
            ..Default::default()
        };
        for kind in kiln_backends::compiled() {
            let device = kiln_backends::open(kind).unwrap().device;
            let split = wide(&device);
            let autodiff = device.clone().autodiff();
            let model = spec.init(&autodiff);
            let splits = splits_steps(&spec, &model, config.batch_size, &device);
            assert_eq!(splits, !kind.is_gpu(), "{kind}");

            let rows = split.batch.clone().autodiff();
            let take = |start: usize, count: usize| rows.narrow(start, count);
            let step = |halves: bool| {
                let mut optimizer = optimizer(&config.optimizer, None);
                let (model, loss) = gradient_step(
                    model.clone(),
                    &mut optimizer,
                    0.5,
                    512,
                    &take,
                    1024,
                    halves,
                    &device,
                )
                .unwrap();
                let Prediction::Probabilities(p) = model.valid().predict(split.batch.x.clone())
                else {
                    unreachable!("a classifier")
                };
                (read_f32(loss).unwrap()[0], read_f32(p).unwrap())
            };
            let (whole_loss, whole_p) = step(false);
            let (halves_loss, halves_p) = step(true);
            assert!(
                (whole_loss - halves_loss).abs() < 1e-6,
                "{kind}: {whole_loss} {halves_loss}"
            );
            let moved = whole_p.iter().map(|p| (p - 0.25).abs()).fold(0.0, f32::max);
            assert!(
                moved > 0.05,
                "{kind}: the step moved the predictions by {moved}"
            );
            let worst = whole_p
                .iter()
                .zip(&halves_p)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max);
            assert!(worst < 1e-5, "{kind}: probabilities differ by {worst}");

            let (epochs, stopped) =
                assert_resumes_bit_identical(&format!("{kind} mlp"), &spec, &split, &config);
            assert_eq!(epochs, 4);
            // Two steps per epoch: the flag raised after epoch 2 stops the fit after step 5.
            assert_eq!(stopped, Some((3, 5)), "{kind}");
        }
    }
}
