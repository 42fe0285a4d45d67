//! The two ways a model is fitted, and what each step reports.

use burn::tensor::Tensor;

/// How the trainer drives a model's fit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FitMethod {
    /// The model gives a loss per batch; the trainer owns the optimizer, batches and epochs.
    Gradient,
    /// The model owns its update step over the whole data set and reports convergence.
    Iterative,
}

/// What a model's own step reports (the trainer numbers the steps).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepRecord {
    /// The training objective after the step (mean loss over the training data).
    pub loss: f64,
    /// Whether the fit has converged and needs no more steps.
    pub converged: bool,
    /// Jitter added to a diagonal to make a solve succeed (0 when none was needed).
    pub jitter: f64,
}

/// A model's prediction for a batch of rows.
#[derive(Clone, Debug)]
pub enum Prediction {
    /// Regression: predicted values, `[n, 1]`.
    Values(Tensor<2>),
    /// Classification: class probabilities, `[n, n_classes]`, rows summing to 1.
    Probabilities(Tensor<2>),
    /// Classification by decision scores (no probabilities): `[n, 1]` for two classes, class 1
    /// where the score is > 0; `[n, n_classes]` otherwise, the largest score winning.
    Scores(Tensor<2>),
    /// Clustering: squared distance of each row to each cluster centre, `[n, k]`.
    Clusters(Tensor<2>),
    /// Regression with uncertainty: the predictive mean and standard deviation, `[n, 2]`.
    Gaussian(Tensor<2>),
    /// Soft clustering: the probability of each component for each row, `[n, k]`, rows summing
    /// to 1; the cluster is the most probable component.
    Memberships(Tensor<2>),
}
