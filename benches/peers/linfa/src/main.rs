//! linfa's side of `benches/peers/compare.py`: `linfa-peer TASK CSV [--repeat N]`.
//!
//! Reads the CSV (header row, last column the target), standardises the features where
//! compare.py's scikit-learn path does (every task but the clusterings and the kernel SVM:
//! mean and population standard deviation over all rows, a constant column left unscaled, as
//! `StandardScaler`), fits with linfa in f64 and prints one JSON line:
//! `{"fit": s, "whole": s, "quality": q}` for the repeat with the fastest fit, where `fit` is
//! the `fit` call alone, `whole` is CSV load + scaling + fit, and `quality` is on the training
//! rows: R² (ols), accuracy (logistic, rbf_svm), inertia as scikit-learn's `inertia_` (sum of
//! squared distances to the nearest final centroid; kmeans) or the mean log-likelihood per row
//! (gmm, scikit-learn's `score`).

use std::process::ExitCode;
use std::time::Instant;

use linfa::prelude::*;
use linfa_clustering::{GaussianMixtureModel, KMeans};
use linfa_linear::LinearRegression;
use linfa_logistic::MultiLogisticRegression;
use linfa_svm::Svm;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};
use rand_xoshiro::Xoshiro256Plus;
use rand_xoshiro::rand_core::SeedableRng;

/// compare.py's tasks that linfa has.
const TASKS: [&str; 5] = ["ols", "logistic", "kmeans", "gmm", "rbf_svm"];
/// The tasks compare.py's scikit-learn path leaves unscaled (its `RAW`, less GP).
const RAW: [&str; 3] = ["kmeans", "gmm", "rbf_svm"];
/// Seed of every random start (k-means++ for k-means and for the mixture's k-means init).
const SEED: u64 = 0;

type Result<T> = std::result::Result<T, String>;

fn main() -> ExitCode {
    match run() {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("linfa-peer: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<String> {
    let usage = || format!("usage: linfa-peer {{{}}} CSV [--repeat N]", TASKS.join("|"));
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (task, csv, repeat) = match args.as_slice() {
        [task, csv] => (task, csv, 1),
        [task, csv, flag, n] if flag == "--repeat" => (
            task,
            csv,
            n.parse::<usize>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(usage)?,
        ),
        _ => return Err(usage()),
    };
    if !TASKS.contains(&task.as_str()) {
        return Err(format!("linfa has no model for task {task:?}; {}", usage()));
    }

    let mut best: Option<(f64, f64, f64)> = None;
    for _ in 0..repeat {
        let start = Instant::now();
        let (mut x, y) = load_csv(csv)?;
        if !RAW.contains(&task.as_str()) {
            standardize(&mut x);
        }
        let (fit, quality) = fit(task, x, y)?;
        let whole = start.elapsed().as_secs_f64() - quality.1;
        let result = (fit, whole, quality.0);
        if best.is_none_or(|b| result.0 < b.0) {
            best = Some(result);
        }
    }
    let (fit, whole, quality) = best.expect("repeat > 0");
    Ok(format!(
        "{{\"fit\": {fit:.6}, \"whole\": {whole:.6}, \"quality\": {quality:.10}}}"
    ))
}

/// Features and the last column, from a CSV with one header row.
fn load_csv(path: &str) -> Result<(Array2<f64>, Array1<f64>)> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let mut lines = text.lines().filter(|line| !line.trim().is_empty());
    let columns = lines
        .next()
        .ok_or_else(|| format!("{path}: empty file"))?
        .split(',')
        .count();
    if columns < 2 {
        return Err(format!("{path}: needs at least one feature and a target"));
    }
    let mut values = Vec::new();
    let mut rows = 0;
    for (i, line) in lines.enumerate() {
        let before = values.len();
        for field in line.split(',') {
            let value = field
                .trim()
                .parse::<f64>()
                .map_err(|e| format!("{path}: row {}: {field:?}: {e}", i + 2))?;
            values.push(value);
        }
        if values.len() - before != columns {
            return Err(format!("{path}: row {} has not {columns} fields", i + 2));
        }
        rows += 1;
    }
    let table = Array2::from_shape_vec((rows, columns), values).map_err(|e| e.to_string())?;
    let y = table.column(columns - 1).to_owned();
    let x = table.slice(ndarray::s![.., ..columns - 1]).to_owned();
    Ok((x, y))
}

/// scikit-learn's `StandardScaler`: per column, minus the mean, over the population standard
/// deviation (ddof 0); a zero-variance column is only centred.
fn standardize(x: &mut Array2<f64>) {
    for mut column in x.axis_iter_mut(Axis(1)) {
        let mean = column.mean().unwrap_or(0.0);
        let std = column
            .mapv(|v| (v - mean) * (v - mean))
            .mean()
            .unwrap_or(0.0)
            .sqrt();
        let scale = if std > 0.0 { std } else { 1.0 };
        column.mapv_inplace(|v| (v - mean) / scale);
    }
}

/// Fits `task`; returns the seconds of the fit call and (quality, seconds spent on it).
fn fit(task: &str, x: Array2<f64>, y: Array1<f64>) -> Result<(f64, (f64, f64))> {
    match task {
        "ols" => {
            let data = Dataset::new(x, y);
            let start = Instant::now();
            let model = LinearRegression::new()
                .fit(&data)
                .map_err(|e| e.to_string())?;
            let fit = start.elapsed().as_secs_f64();
            timed(fit, || {
                let predicted = model.predict(data.records());
                Ok(r2(data.targets().view(), predicted.view()))
            })
        }
        "logistic" => {
            let labels = y.mapv(|v| v.round() as usize);
            let data = Dataset::new(x, labels);
            let start = Instant::now();
            // alpha 1 is scikit-learn's C = 1: Σ cross-entropy + ½‖W‖², intercepts unpenalised.
            let model = MultiLogisticRegression::default()
                .alpha(1.0)
                .max_iterations(100)
                .fit(&data)
                .map_err(|e| e.to_string())?;
            let fit = start.elapsed().as_secs_f64();
            timed(fit, || {
                let predicted = model.predict(data.records());
                Ok(accuracy(data.targets().view(), predicted.view()))
            })
        }
        "kmeans" => {
            let data = DatasetBase::from(x);
            let start = Instant::now();
            let model = KMeans::params_with_rng(8, Xoshiro256Plus::seed_from_u64(SEED))
                .n_runs(1)
                .max_n_iterations(300)
                .tolerance(1e-4)
                .fit(&data)
                .map_err(|e| e.to_string())?;
            let fit = start.elapsed().as_secs_f64();
            timed(fit, || {
                Ok(inertia(data.records().view(), model.centroids().view()))
            })
        }
        "gmm" => {
            let data = DatasetBase::from(x);
            let start = Instant::now();
            let model =
                GaussianMixtureModel::params_with_rng(8, Xoshiro256Plus::seed_from_u64(SEED))
                    .n_runs(1)
                    .max_n_iterations(100)
                    .tolerance(1e-3)
                    .reg_covariance(1e-6)
                    .fit(&data)
                    .map_err(|e| e.to_string())?;
            let fit = start.elapsed().as_secs_f64();
            timed(fit, || mean_log_likelihood(data.records().view(), &model))
        }
        "rbf_svm" => {
            let labels = y.mapv(|v| v > 0.5);
            // scikit-learn's gamma = "scale": 1 / (n_features · Var(X)) over every entry;
            // linfa's Gaussian kernel is exp(-‖x - x'‖² / eps), so eps = 1 / gamma.
            let eps = x.ncols() as f64 * x.var(0.0);
            let data = Dataset::new(x, labels);
            let start = Instant::now();
            let model = Svm::<f64, bool>::params()
                .pos_neg_weights(1.0, 1.0)
                .gaussian_kernel(eps)
                .eps(1e-3)
                .shrinking(false)
                .fit(&data)
                .map_err(|e| e.to_string())?;
            let fit = start.elapsed().as_secs_f64();
            timed(fit, || {
                let predicted = model.predict(data.records());
                Ok(accuracy(data.targets().view(), predicted.view()))
            })
        }
        _ => Err(format!("linfa has no model for task {task:?}")),
    }
}

fn timed(fit: f64, quality: impl FnOnce() -> Result<f64>) -> Result<(f64, (f64, f64))> {
    let start = Instant::now();
    let value = quality()?;
    Ok((fit, (value, start.elapsed().as_secs_f64())))
}

fn r2(y: ArrayView1<f64>, predicted: ArrayView1<f64>) -> f64 {
    let mean = y.mean().unwrap_or(0.0);
    let residual: f64 = y
        .iter()
        .zip(predicted)
        .map(|(a, b)| (a - b) * (a - b))
        .sum();
    let total: f64 = y.iter().map(|a| (a - mean) * (a - mean)).sum();
    1.0 - residual / total
}

fn accuracy<T: PartialEq>(y: ArrayView1<T>, predicted: ArrayView1<T>) -> f64 {
    let hits = y.iter().zip(predicted).filter(|(a, b)| a == b).count();
    hits as f64 / y.len() as f64
}

/// Sum over rows of the squared distance to the nearest centroid.
fn inertia(x: ArrayView2<f64>, centroids: ArrayView2<f64>) -> f64 {
    x.rows()
        .into_iter()
        .map(|row| {
            centroids
                .rows()
                .into_iter()
                .map(|c| {
                    row.iter()
                        .zip(c)
                        .map(|(a, b)| (a - b) * (a - b))
                        .sum::<f64>()
                })
                .fold(f64::INFINITY, f64::min)
        })
        .sum()
}

/// Mean over rows of log Σ_k w_k N(x | μ_k, Σ_k), from the model's weights, means and
/// precision matrices (linfa keeps the log-likelihood of its last EM step private).
fn mean_log_likelihood(x: ArrayView2<f64>, model: &GaussianMixtureModel<f64>) -> Result<f64> {
    let d = x.ncols();
    let log_2pi = (2.0 * std::f64::consts::PI).ln();
    // Per component: log w_k - ½ (d log 2π - log det P_k), and the precision's Cholesky factor.
    let mut components = Vec::new();
    for ((&w, mean), precision) in model
        .weights()
        .iter()
        .zip(model.means().rows())
        .zip(model.precisions().outer_iter())
    {
        let factor = cholesky(precision)?;
        let log_det: f64 = (0..d).map(|i| factor[[i, i]].ln()).sum::<f64>() * 2.0;
        components.push((w.ln() - 0.5 * (d as f64 * log_2pi - log_det), mean, factor));
    }
    let mut total = 0.0;
    let mut diff = vec![0.0; d];
    let mut terms = vec![0.0; components.len()];
    for row in x.rows() {
        for (term, (constant, mean, factor)) in terms.iter_mut().zip(&components) {
            for (slot, (a, m)) in diff.iter_mut().zip(row.iter().zip(mean)) {
                *slot = a - m;
            }
            // (x-μ)ᵀ P (x-μ) = ‖Lᵀ (x-μ)‖² with P = L Lᵀ.
            let mut quad = 0.0;
            for j in 0..d {
                let v: f64 = (j..d).map(|i| factor[[i, j]] * diff[i]).sum();
                quad += v * v;
            }
            *term = constant - 0.5 * quad;
        }
        let top = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        total += top + terms.iter().map(|t| (t - top).exp()).sum::<f64>().ln();
    }
    Ok(total / x.nrows() as f64)
}

/// Lower-triangular L with L Lᵀ = a.
fn cholesky(a: ArrayView2<f64>) -> Result<Array2<f64>> {
    let n = a.nrows();
    let mut l = Array2::<f64>::zeros((n, n));
    for i in 0..n {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[[i, k]] * l[[j, k]]).sum();
            if i == j {
                let pivot = a[[i, i]] - s;
                if pivot <= 0.0 {
                    return Err("a mixture component's precision is not positive definite".into());
                }
                l[[i, j]] = pivot.sqrt();
            } else {
                l[[i, j]] = (a[[i, j]] - s) / l[[j, j]];
            }
        }
    }
    Ok(l)
}
