//! The two ways a model is fitted, the rows an iterative step reads, and what each step
//! reports.

use alloc::vec::Vec;

use burn::tensor::Tensor;

use crate::data::Batch;
use crate::error::FitError;

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

/// Statistics over rows: sums that merge by elementwise addition.
pub type Statistics = Vec<f64>;

/// The training rows as an iterative fit step reads them.
///
/// The rows may all be on the device ([`Batch`] implements this), be read from a file a part
/// at a time, or be spread over processes. A step that reads them only through
/// [`Rows::sum`] (statistics over rows, then an update from the statistics), [`Rows::pass`]
/// and [`Rows::sample`] works on all of these alike; [`Rows::all`] is for models that need
/// every row at once (a kernel matrix) and fails where the rows are not held together.
pub trait Rows {
    /// The number of training rows.
    fn n_rows(&self) -> usize;

    /// The sum over the parts of the rows of `statistics(part)`, elementwise. Each call of
    /// `statistics` returns sums over its part's rows (divided, if it likes, by
    /// [`Rows::n_rows`] rather than by its part's size, so that they stay sums), always of
    /// the same length.
    fn sum(
        &mut self,
        statistics: &mut dyn FnMut(&Batch) -> Result<Statistics, FitError>,
    ) -> Result<Statistics, FitError>;

    /// Visits the parts of the rows in turn, in the order (and with the in-part row order)
    /// the trainer gives this step: for updates made while passing over the rows (mini-batch
    /// k-means).
    fn pass(
        &mut self,
        visit: &mut dyn FnMut(Batch) -> Result<(), FitError>,
    ) -> Result<(), FitError>;

    /// Rows to seed a fit from: every row when they are held together, the first part of a
    /// file read in parts.
    fn sample(&mut self) -> Result<Batch, FitError>;

    /// Every row at once, for models that need them together.
    fn all(&mut self) -> Result<Batch, FitError>;
}

impl Rows for Batch {
    fn n_rows(&self) -> usize {
        self.len()
    }

    fn sum(
        &mut self,
        statistics: &mut dyn FnMut(&Batch) -> Result<Statistics, FitError>,
    ) -> Result<Statistics, FitError> {
        statistics(self)
    }

    fn pass(
        &mut self,
        visit: &mut dyn FnMut(Batch) -> Result<(), FitError>,
    ) -> Result<(), FitError> {
        visit(self.clone())
    }

    fn sample(&mut self) -> Result<Batch, FitError> {
        Ok(self.clone())
    }

    fn all(&mut self) -> Result<Batch, FitError> {
        Ok(self.clone())
    }
}

/// Adds `part` to `total` elementwise (an empty `total` takes `part`): how [`Rows::sum`]
/// merges the statistics of parts.
pub fn merge(total: &mut Statistics, part: Statistics) -> Result<(), FitError> {
    if total.is_empty() {
        *total = part;
        return Ok(());
    }
    if total.len() != part.len() {
        return Err(FitError::Device(alloc::format!(
            "statistics of {} and {} values cannot be merged",
            total.len(),
            part.len()
        )));
    }
    for (t, p) in total.iter_mut().zip(part) {
        *t += p;
    }
    Ok(())
}

/// A tensor's values read back as statistics (f64).
pub fn statistics<const D: usize>(tensor: Tensor<D>) -> Result<Statistics, FitError> {
    Ok(crate::data::read_f32(tensor)?
        .into_iter()
        .map(f64::from)
        .collect())
}
