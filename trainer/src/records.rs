//! What a fit reports as it goes: one [`EpochRecord`] per epoch (gradient fit) or step
//! (iterative fit), each a line of a run's `metrics.jsonl`.

use serde::{Deserialize, Serialize};

pub use kiln_model_zoo::Metrics;

/// Metrics as one line, `name value` with 4 decimals, comma-separated.
pub fn metrics_line(metrics: &Metrics) -> String {
    metrics
        .iter()
        .map(|(name, value)| format!("{name} {value:.4}"))
        .collect::<Vec<_>>()
        .join(", ")
}

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
    /// Whether the fit has converged (iterative fits).
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
