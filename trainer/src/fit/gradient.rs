//! The loop of gradient-fitted models: epochs of shuffled batches, one optimizer step per
//! batch on the model's [`Estimator::loss`], the learning-rate schedule, early stopping on a
//! watched metric, and checkpoints mid-epoch.

use std::time::Instant;

use burn::optim::{GradientsParams, ModuleOptimizer, MultiGradientsParams};
use burn::tensor::{Bytes, Device, Int, Tensor, TensorData};
use kiln_model_zoo::data::read_f32;
use kiln_model_zoo::estimator::{fresh, seeded};
use kiln_model_zoo::{Batch, Estimator};

use super::{FitOptions, FitOutcome, model_bytes, model_from_bytes, sync};
use crate::checkpoint::{Checkpoint, LoopState};
use crate::early_stopping::{is_maximised, watched};
use crate::error::{Error, Result};
use crate::evaluate::evaluate;
use crate::records::{EpochRecord, Metrics};
use crate::rows::{Split, TrainRows};
use crate::schedule::{learning_rate, optimizer, update_plateau};

/// Runs the epochs; see [`super::fit`].
pub fn fit<M: Estimator>(
    params: &M::Params,
    train: &mut TrainRows,
    valid: Option<&Split>,
    device: &Device,
    start: Instant,
    mut options: FitOptions,
) -> Result<FitOutcome<M>> {
    let config = options.train;
    let seed = options.seed;
    let autodiff = device.clone().autodiff();
    let mut optimizer = optimizer(&config.optimizer, config.grad_clip_norm);
    let (mut model, mut state, mut best): (M, LoopState, Option<M>) = match options.resume.take() {
        Some(checkpoint) => {
            let model = model_from_bytes(params, &checkpoint.model, &autodiff)?;
            optimizer = optimizer
                .from_bytes(Bytes::from_bytes_vec(checkpoint.optimizer))
                .map_err(|e| Error::Run {
                    message: format!("the checkpoint's optimizer state does not load: {e}"),
                    path: std::path::PathBuf::from(crate::checkpoint::FILE),
                    fix: "start the run again without --resume".into(),
                })?;
            let best = checkpoint
                .best
                .map(|b| model_from_bytes(params, &b, device))
                .transpose()?;
            (model, checkpoint.state, best)
        }
        None => (
            // Seeded on the plain device, as the run's device was before autodiff wrapped it.
            seeded(device, seed, || fresh(params, &autodiff)),
            options.fresh_state(),
            None,
        ),
    };
    let elapsed_before = state.elapsed_seconds;
    let elapsed = || elapsed_before + start.elapsed().as_secs_f64();
    let checkpoint_path = options.checkpoint;
    let checkpoint = |state: &LoopState,
                      model: &M,
                      best: Option<&M>,
                      optimizer: &ModuleOptimizer|
     -> Result<()> {
        let Some(path) = checkpoint_path else {
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
    let stochastic = M::is_stochastic(params);
    let split_steps = splits_steps::<M>(params, &model, batch_size, device);
    // A checkpoint written when early stopping ended the fit resumes to that end.
    let mut stopped_early = config
        .early_stopping
        .as_ref()
        .is_some_and(|stop| state.epoch > 0 && state.early.since_best >= stop.patience);

    while state.epoch < config.epochs && !stopped_early {
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
                let lr = learning_rate(config, &state.plateau, epoch, state.batch, steps_per_epoch);
                let halves = split_steps && len >= 2;
                let loss;
                (model, loss) = gradient_step(
                    model,
                    &mut optimizer,
                    Step {
                        lr,
                        len,
                        n_train: n,
                        halves,
                        seed: stochastic.then(|| step_seed(seed, state.step)),
                    },
                    &take,
                    device,
                )?;
                step_losses.push(loss.clone());
                loss_sum = loss_sum + loss.mul_scalar(len as f64);
                state.batch += 1;
                state.step += 1;
                if options.interrupted() && state.batch < steps_per_epoch {
                    state.epoch_loss_sum = read_f32(loss_sum.clone())?[0];
                    if state.epoch_loss_sum.is_finite() {
                        state.elapsed_seconds = elapsed();
                        checkpoint(&state, &model, best.as_ref(), &optimizer)?;
                        sync(device)?;
                        return Ok(FitOutcome {
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
        let limit = explosion_limit(&state.history);
        if !(train_loss.is_finite() && train_loss <= limit) {
            // The first step whose loss was not finite, or exploded (one read, only on this
            // path); the epoch is not checkpointed, so the last checkpoint is a good one.
            let losses = read_f32(Tensor::cat(step_losses, 0))?;
            let bad = losses
                .iter()
                .position(|l| !(l.is_finite() && (*l as f64) <= limit))
                .unwrap_or(0);
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
            let maximise = is_maximised(&stop.metric);
            if state.early.observe(value, epoch, maximise, stop.min_delta) {
                best = Some(current);
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
        let record = state.history.last().expect("just pushed").clone();
        options.report(&record, due && checkpoint_path.is_some())?;
        if stopped_early {
            break;
        }
    }
    sync(device)?;
    // With early stopping the best epoch's weights are kept, not the last epoch's.
    let model = best.unwrap_or_else(|| model.valid());
    Ok(FitOutcome {
        model,
        history: state.history,
        fit_seconds: elapsed(),
        stopped_early,
        interrupted: None,
    })
}

/// How many times its first epoch's loss (or 1, if more) a loss may grow before the fit
/// counts as diverged: a training loss never grows a millionfold while it learns, and a loss
/// of 1e35 is as lost as an infinite one, only slower to show it.
const EXPLOSION_FACTOR: f64 = 1e6;

/// The largest loss an epoch may report before the fit counts as diverged.
fn explosion_limit(history: &[crate::records::EpochRecord]) -> f64 {
    history.first().map_or(f64::INFINITY, |first| {
        EXPLOSION_FACTOR * first.train_loss.abs().max(1.0)
    })
}

/// The device RNG's seed for step `step`: models that draw random numbers while training
/// (dropout) reseed before every step, so a resumed run draws what an uninterrupted one does.
fn step_seed(seed: u64, step: usize) -> u64 {
    seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ step as u64
}

/// Work (batch rows × parameters) from which a gradient step on a CPU backend runs as two
/// halves on two threads; burn-flex starts splitting a matmul between threads at 192³.
const SPLIT_STEP_WORK: usize = 192 * 192 * 192;

/// Whether gradient steps of `params` on `device` run as two halves (see [`gradient_step`]):
/// on a CPU backend, for a deterministic model whose loss splits by rows, once a step has
/// enough work to share.
pub(crate) fn splits_steps<M: Estimator>(
    params: &M::Params,
    model: &M,
    batch_size: usize,
    device: &Device,
) -> bool {
    !M::is_stochastic(params)
        && M::loss_splits_by_rows(params)
        && kiln_backends::is_host(device)
        && batch_size.saturating_mul(model.num_params()) >= SPLIT_STEP_WORK
}

/// One optimizer step's settings.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Step {
    /// The learning rate.
    pub lr: f64,
    /// Rows in the batch.
    pub len: usize,
    /// Training rows in all (scales a model's penalty).
    pub n_train: usize,
    /// Whether the batch goes forward and backward as two halves on two threads.
    pub halves: bool,
    /// The device generator's seed for this step, for a model that draws random numbers
    /// while training (never split in halves).
    pub seed: Option<u64>,
}

/// One optimizer step on the `step.len` rows that `take(start, count)` returns in parts;
/// gives the updated model and the batch's loss (on `device`, outside the graph).
///
/// With `halves`, the two halves of the batch go forward and backward on two threads and their
/// gradients are summed. A CPU backend runs every elementwise op on the calling thread and
/// splits only large matmuls, so a single graph leaves the other core idle for much of a
/// step. Each half's loss is weighted by its share of the rows, which makes the summed
/// gradients those of the batch's loss (see `Estimator::loss_splits_by_rows`). The split is
/// fixed and two gradients add the same either way round, so a resumed run stays
/// bit-identical; a stochastic model is never split, as its halves would draw their dropout
/// masks from one generator in whichever order the threads reach it.
pub(crate) fn gradient_step<M: Estimator>(
    model: M,
    optimizer: &mut ModuleOptimizer,
    step: Step,
    take: &(dyn Fn(usize, usize) -> Batch + Sync),
    device: &Device,
) -> Result<(M, Tensor<1>)> {
    let Step {
        lr,
        len,
        n_train,
        halves,
        seed,
    } = step;
    if !halves {
        let loss = match seed {
            // The masks are drawn in the forward pass.
            Some(seed) => {
                let autodiff = device.clone().autodiff();
                seeded(&autodiff, seed, || model.loss(&take(0, len), n_train))?
            }
            None => model.loss(&take(0, len), n_train)?,
        };
        let value = loss.clone().inner();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        return Ok((optimizer.step(lr, model, grads), value));
    }
    let plain = model.valid();
    let half = |start: usize, count: usize| -> Result<(Tensor<1>, GradientsParams)> {
        // A graph of its own: fresh autodiff leaves with the model's parameter ids.
        let copy = plain.clone().train();
        let loss = copy
            .loss(&take(start, count), n_train)?
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
