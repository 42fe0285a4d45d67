//! The learning rate over a fit: the schedules, warm-up and reduce-on-plateau, and burn's
//! optimizers built from their options.

use burn::optim::grad_clipping::GradientClipping;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{ModuleOptimizer, decay::WeightDecayConfig};
use serde::{Deserialize, Serialize};

use crate::options::{OptimizerConfig, Schedule, TrainConfig};

/// Reduce-on-plateau's memory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlateauState {
    /// The factor applied to the learning rate so far.
    pub scale: f64,
    /// The best value seen.
    pub best: Option<f64>,
    /// Epochs since the best value.
    pub bad_epochs: usize,
}

impl Default for PlateauState {
    fn default() -> Self {
        Self {
            scale: 1.0,
            best: None,
            bad_epochs: 0,
        }
    }
}

/// The learning rate of the step `batch` (0-based) of epoch `epoch` (1-based).
pub fn learning_rate(
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
pub fn update_plateau(schedule: &Schedule, state: &mut PlateauState, value: f64) {
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

/// burn's optimizer for `config`, clipping each parameter's gradient to `clip_norm`.
pub fn optimizer(config: &OptimizerConfig, clip_norm: Option<f64>) -> ModuleOptimizer {
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
