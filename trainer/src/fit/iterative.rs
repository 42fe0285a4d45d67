//! The loop of iteratively-fitted models: one [`Estimator::fit_step`] per trainer step (a
//! closed-form solve, a Lloyd or EM iteration, an L-BFGS iteration, SMO iterations), until the
//! model converges, or its own step cap ([`Estimator::max_steps`]) or else `[train] epochs`
//! steps have run.

use std::time::Instant;

use burn::tensor::Device;
use kiln_model_zoo::Estimator;
use kiln_model_zoo::estimator::{fresh, seeded};

use super::{FitOptions, FitOutcome, model_bytes, model_from_bytes, sync};
use crate::checkpoint::{Checkpoint, LoopState};
use crate::error::{Error, Result};
use crate::evaluate::evaluate;
use crate::records::{EpochRecord, Metrics};
use crate::rows::{Split, StepRows, TrainRows};

/// Runs the model's steps; see [`super::fit`].
pub fn fit<M: Estimator>(
    params: &M::Params,
    rows: &mut TrainRows,
    valid: Option<&Split>,
    device: &Device,
    start: Instant,
    mut options: FitOptions,
) -> Result<FitOutcome<M>> {
    let (mut model, mut state) = match options.resume.take() {
        Some(checkpoint) => {
            let mut model: M = model_from_bytes(params, &checkpoint.model, device)?;
            if let Some(fit_state) = checkpoint.state.fit_state.clone() {
                model.restore_fit_state(fit_state)?;
            }
            (model, checkpoint.state)
        }
        None => (
            seeded(device, options.seed, || fresh::<M>(params, device)),
            options.fresh_state(),
        ),
    };
    let elapsed_before = state.elapsed_seconds;
    let elapsed = || elapsed_before + start.elapsed().as_secs_f64();
    let checkpoint_path = options.checkpoint;
    let checkpoint = |state: &mut LoopState, model: &M| -> Result<()> {
        let Some(path) = checkpoint_path else {
            return Ok(());
        };
        state.fit_state = model.fit_state()?;
        state.elapsed_seconds = elapsed();
        Checkpoint::write(path, state, &model_bytes(model)?, &[], None)
    };
    let config = options.train;
    let n_train = rows.n_rows();
    let mut converged = state.history.last().is_some_and(|r| r.converged);
    let max_steps = M::max_steps(params).unwrap_or(config.epochs);
    while state.epoch < max_steps && !converged {
        let epoch = state.epoch + 1;
        let mut step_rows = StepRows::new(rows, options.seed, epoch, config.shuffle, device);
        let record = model
            .fit_step(&mut step_rows)
            .map_err(|e| step_rows.take_failure().unwrap_or(Error::Fit(e)))?;
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
                Some(model.objective(&v.batch, n_train)?),
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
        let last = converged || epoch == max_steps;
        let due = last || (config.checkpoint_every > 0 && epoch % config.checkpoint_every == 0);
        if due {
            checkpoint(&mut state, &model)?;
        }
        let record = state.history.last().expect("just pushed").clone();
        options.report(&record, due && checkpoint_path.is_some())?;
        if !last && options.interrupted() && checkpoint_path.is_some() {
            checkpoint(&mut state, &model)?;
            return Ok(FitOutcome {
                model,
                history: state.history,
                fit_seconds: elapsed(),
                stopped_early: false,
                interrupted: Some((epoch, epoch)),
            });
        }
    }
    sync(device)?;
    Ok(FitOutcome {
        model,
        history: state.history,
        fit_seconds: elapsed(),
        stopped_early: false,
        interrupted: None,
    })
}
