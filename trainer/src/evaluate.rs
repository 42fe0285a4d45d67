//! Metrics of a model on a set of rows: those of its kind of prediction
//! ([`kiln_model_zoo::metrics::metrics_of`]) and its own ([`Estimator::add_metrics`]), each
//! epoch; and at the end of a fit the costlier ones, on rows held together or a file read a
//! chunk at a time.

use burn::tensor::{Device, Int, Tensor, TensorData};
use kiln_model_zoo::data::read_f32;
use kiln_model_zoo::metrics::{self, metrics_of};
use kiln_model_zoo::{Estimator, HostPrediction, HostTargets, Metrics, Preprocessing};
use rand::SeedableRng;
use rand::seq::SliceRandom;

use crate::error::Result;
use crate::preprocess::Moments;
use crate::rows::{Split, TrainRows};
use crate::stream::ChunkedTable;

/// `model`'s prediction for the rows of `x`, read back to the host.
pub fn predict_host<M: Estimator>(model: &M, x: Tensor<2>) -> Result<HostPrediction> {
    Ok(HostPrediction::read(model.predict(x))?)
}

/// The metrics of `model` on `split` reported each epoch: `mse`, `mae`, `r2` for regression;
/// `accuracy` (and `log_loss` given probabilities) for classification; `inertia` (and
/// `adjusted_rand_index` given labels) for clustering; and the model's own (a GLM's
/// `deviance`, a mixture's `log_likelihood`, `bic` and `aic`).
pub fn evaluate<M: Estimator>(model: &M, split: &Split) -> Result<Metrics> {
    let prediction = predict_host(model, split.batch.x.clone())?;
    metrics_of_model(model, &prediction, split)
}

/// [`metrics_of`] plus the model's own metrics.
fn metrics_of_model<M: Estimator>(
    model: &M,
    prediction: &HostPrediction,
    split: &Split,
) -> Result<Metrics> {
    let mut metrics = metrics_of(prediction, &split.targets);
    model.add_metrics(&split.batch.x, prediction, &split.targets, &mut metrics)?;
    Ok(metrics)
}

/// [`evaluate`] plus the metrics too costly for every epoch: the model's final metrics (a
/// Gaussian process's log marginal likelihood) and the `silhouette` of a clustering (from the
/// same prediction, not a second one).
pub fn evaluate_final<M: Estimator>(model: &M, split: &Split) -> Result<Metrics> {
    let prediction = predict_host(model, split.batch.x.clone())?;
    let mut metrics = metrics_of_model(model, &prediction, split)?;
    model.add_final_metrics(&split.batch, &mut metrics)?;
    if let Some(clusters) = prediction.clusters() {
        metrics.insert(
            "silhouette".into(),
            sampled_silhouette(&split.batch.x, clusters)?,
        );
    }
    Ok(metrics)
}

/// [`evaluate_final`] of the training rows, a chunk at a time when streamed.
pub fn evaluate_train<M: Estimator>(
    model: &M,
    train: &mut TrainRows,
    device: &Device,
) -> Result<Metrics> {
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
pub fn evaluate_streamed<M: Estimator>(
    model: &M,
    csv: &ChunkedTable,
    prep: &Preprocessing,
    device: &Device,
) -> Result<Metrics> {
    let mut totals = Metrics::new();
    let mut rows = 0usize;
    let mut target = Moments::default();
    let chunks = csv.n_chunks();
    let mut ahead = csv.read_ahead((0..chunks).collect());
    for chunk in 0..chunks {
        let split = Split::new(prep, &ahead.take(chunk)?, device)?;
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
