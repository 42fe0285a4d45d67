//! Early stopping: which metrics a fit can watch, whether each is maximised, and the memory
//! of the best epoch.

use kiln_model_zoo::Estimator;
use serde::{Deserialize, Serialize};

use crate::records::EpochRecord;

/// Early stopping's memory (the best model itself is a blob of the checkpoint).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EarlyState {
    /// The best value of the watched metric, and its epoch.
    pub best: Option<(f64, usize)>,
    /// Epochs since the best.
    pub since_best: usize,
}

impl EarlyState {
    /// Takes the epoch's `value` of the watched metric; returns whether it is the best so
    /// far (better by more than `min_delta`; a NaN never is).
    pub fn observe(&mut self, value: f64, epoch: usize, maximise: bool, min_delta: f64) -> bool {
        let sign = if maximise { -1.0 } else { 1.0 };
        match self.best {
            Some((best, _)) if value.is_nan() || sign * value >= sign * best - min_delta => {
                self.since_best += 1;
                false
            }
            _ => {
                self.best = Some((value, epoch));
                self.since_best = 0;
                true
            }
        }
    }
}

/// The value of `metric` (see [`crate::options::EarlyStopping::metric`]) in a record.
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

/// The metrics a fit of `params` reports each epoch, for early stopping to watch.
pub fn watchable_metrics<M: Estimator>(params: &M::Params, has_valid: bool) -> Vec<&'static str> {
    let mut names = vec!["valid_loss", "train_loss"];
    if has_valid {
        names.extend(kiln_model_zoo::estimator::metric_names::<M>(params));
    }
    names
}
