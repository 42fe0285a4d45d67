//! k-means clustering: seeded k-means++ initialisation, Lloyd iterations in tensor ops,
//! `n_init` restarts keeping the lowest inertia (scikit-learn's `KMeans` with `algorithm="lloyd"`).
//!
//! One iterative-fit step is one Lloyd iteration: squared distances by
//! `‖x‖² − 2x·cᵀ + ‖c‖²` (a matmul), the nearest centre per row, and per-cluster means through
//! a one-hot matmul, all on the device; only the `k × d` centre shift and scalar inertia come
//! back to the host. A restart ends when the centres move less than `tol` times the mean
//! feature variance (scikit-learn's rule); the fit ends after the last restart.

use alloc::vec::Vec;

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::data::{Batch, DataShape, read_f32};
use crate::error::{ConfigError, FitError, check_at_least_one, check_non_negative};
use crate::estimator::{
    Estimator, ON_DEVICE_EPOCHS, OnDevice, Output, Supervision, state_from_json, state_to_json,
};
use crate::fit::{FitMethod, Prediction, Rows, StepRecord, statistics};
use crate::linalg::SumAll;
use crate::linalg::squared_distances;
use crate::rng::Rng;

/// `[model]` keys of `kind = "kmeans"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KMeansConfig {
    /// Number of clusters (default 8); also read as scikit-learn's `n_clusters`.
    #[serde(alias = "n_clusters")]
    pub k: usize,
    /// Restarts from new k-means++ seeds; the lowest inertia wins (default 1).
    pub n_init: usize,
    /// Lloyd iterations per restart at most (default 300).
    pub max_iter: usize,
    /// Convergence: total squared centre shift below `tol` × mean feature variance (1e-4).
    pub tol: f64,
    /// Seed of the k-means++ initialisation (default 0).
    pub seed: u64,
    /// Mini-batch k-means: rows per centre update (default: none, full-batch Lloyd). Each step
    /// is one pass over the rows, in order, with per-cluster running counts, so memory per
    /// update is bounded by the batch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<usize>,
}

impl Default for KMeansConfig {
    fn default() -> Self {
        Self {
            k: 8,
            n_init: 1,
            max_iter: 300,
            tol: 1e-4,
            seed: 0,
            batch_size: None,
        }
    }
}

/// Checked parameters of a k-means model.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KMeansParams {
    /// Number of clusters.
    pub k: usize,
    /// Number of restarts.
    pub n_init: usize,
    /// Lloyd iterations per restart at most.
    pub max_iter: usize,
    /// Convergence threshold, relative to the mean feature variance.
    pub tol: f64,
    /// Seed of the k-means++ initialisation.
    pub seed: u64,
    /// Rows per centre update for mini-batch k-means; `None` for full-batch Lloyd.
    pub batch_size: Option<usize>,
    /// Number of feature columns.
    pub n_features: usize,
}

impl KMeansConfig {
    /// Validates the config. A label column, if the data has one, is only used for metrics.
    pub fn check(&self, shape: &DataShape) -> Result<KMeansParams, ConfigError> {
        Ok(KMeansParams {
            k: check_at_least_one("k", self.k)?,
            n_init: check_at_least_one("n_init", self.n_init)?,
            max_iter: check_at_least_one("max_iter", self.max_iter)?,
            tol: check_non_negative("tol", self.tol)?,
            seed: self.seed,
            batch_size: self
                .batch_size
                .map(|b| check_at_least_one("batch_size", b))
                .transpose()?,
            n_features: shape.n_features,
        })
    }
}

/// Where the fit is: the restart under way and the best result so far.
#[derive(Clone, Debug)]
pub struct KMeansProgress {
    restart: usize,
    iteration: usize,
    rng: Rng,
    tol_scaled: Option<f64>,
    best: Option<(f64, Tensor<2>)>,
    /// Mini-batch: rows assigned to each centre so far in this restart, `[k, 1]`.
    counts: Option<Tensor<2>>,
}

/// [`KMeansProgress`] on the host, for a checkpoint: with the centres, all a fit needs to go
/// on exactly where it stopped.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct KMeansState {
    restart: usize,
    iteration: usize,
    rng: Rng,
    tol_scaled: Option<f64>,
    /// The best restart so far: its inertia and centres (row-major).
    best: Option<(f64, alloc::vec::Vec<f32>)>,
    counts: Option<alloc::vec::Vec<f32>>,
}

/// One step's pass over the rows, under way.
#[derive(Debug)]
struct KMeansPass {
    /// The centres when the pass began.
    start: Tensor<2>,
    centers: Tensor<2>,
    counts: Tensor<2>,
    inertia: Tensor<1>,
    rows: usize,
}

/// Cluster centres, `[k, n_features]`.
#[derive(Module, Debug)]
pub struct KMeans {
    /// The cluster centres, `[k, n_features]` (scikit-learn's `cluster_centers_`).
    pub centers: Param<Tensor<2>>,
    /// The checked parameters it was built with.
    #[module(skip)]
    pub params: KMeansParams,
    /// Boxed: fit-time state only, and large next to the centres.
    #[module(skip)]
    progress: alloc::boxed::Box<KMeansProgress>,
}

impl KMeans {
    /// An unfitted model (centres at zero until the first step seeds them).
    pub fn new(params: KMeansParams, device: &Device) -> Self {
        Self {
            centers: Param::from_tensor(Tensor::zeros([params.k, params.n_features], device)),
            params,
            progress: alloc::boxed::Box::new(KMeansProgress {
                restart: 0,
                iteration: 0,
                rng: Rng::new(params.seed),
                tol_scaled: None,
                best: None,
                counts: None,
            }),
        }
    }

    /// The fit's progress, read back to the host (centres excluded: they are the module).
    pub fn state(&self) -> Result<KMeansState, FitError> {
        let p = &self.progress;
        Ok(KMeansState {
            restart: p.restart,
            iteration: p.iteration,
            rng: p.rng.clone(),
            tol_scaled: p.tol_scaled,
            best: match &p.best {
                Some((inertia, centers)) => Some((*inertia, read_f32(centers.clone())?)),
                None => None,
            },
            counts: p.counts.clone().map(read_f32).transpose()?,
        })
    }

    /// Puts back a progress [`KMeans::state`] read, on this model's device.
    pub fn restore(&mut self, state: KMeansState) {
        let device = self.centers.val().device();
        let (k, d) = (self.params.k, self.params.n_features);
        let tensor = |values: alloc::vec::Vec<f32>, shape: [usize; 2]| {
            Tensor::<2>::from_data(burn::tensor::TensorData::new(values, shape), &device)
        };
        *self.progress = KMeansProgress {
            restart: state.restart,
            iteration: state.iteration,
            rng: state.rng,
            tol_scaled: state.tol_scaled,
            best: state
                .best
                .map(|(inertia, centers)| (inertia, tensor(centers, [k, d]))),
            counts: state.counts.map(|c| tensor(c, [k, 1])),
        };
    }

    /// Replaces the centres, keeping their parameter id (saved with the weights, so a resumed
    /// fit writes the same bytes as one never stopped).
    fn set_centers(&mut self, centers: Tensor<2>) {
        self.centers = Param::initialized(self.centers.id, centers);
    }

    /// Squared distance of every row to every centre, `[n, k]`.
    pub fn distances(&self, x: Tensor<2>) -> Tensor<2> {
        squared_distances(x, self.centers.val())
    }

    /// One step: a Lloyd iteration (or a mini-batch pass), seeding the centres first when a
    /// restart begins.
    ///
    /// A Lloyd iteration is statistics over the rows (each cluster's sum of rows and count,
    /// and the inertia), then an update of the centres from them, so the rows may come in
    /// parts. A mini-batch pass moves the centres batch by batch as it goes over the rows.
    /// The k-means++ seeds and the convergence scale come from [`Rows::sample`].
    pub fn step(&mut self, rows: &mut dyn Rows) -> Result<StepRecord, FitError> {
        let sample = rows.sample()?;
        let mut pass = self.begin_pass(&sample.x)?;
        match self.params.batch_size {
            None => self.lloyd_update(&mut pass, rows)?,
            Some(_) => rows.pass(&mut |part| {
                self.pass_rows(&mut pass, part.x);
                Ok(())
            })?,
        }
        self.end_pass(pass, rows)
    }

    /// Starts one step's pass: seeds the centres (k-means++ on `sample`) when a restart
    /// begins, and scales `tol` by the sample's variance once.
    fn begin_pass(&mut self, sample: &Tensor<2>) -> Result<KMeansPass, FitError> {
        let [n, _] = sample.dims();
        if n < self.params.k {
            return Err(FitError::TooFewRows {
                rows: n,
                needed: self.params.k,
                key: "k",
            });
        }
        if self.progress.tol_scaled.is_none() {
            let mean = crate::linalg::mean_rows(sample.clone());
            let variance = crate::linalg::mean_all((sample.clone() - mean).square());
            self.progress.tol_scaled = Some(self.params.tol * read_f32(variance)?[0] as f64);
        }
        if self.progress.iteration == 0 {
            let centers = kmeans_plus_plus(sample, self.params.k, &mut self.progress.rng)?;
            self.set_centers(centers);
        }
        self.progress.iteration += 1;
        let start = self.centers.val();
        let device = sample.device();
        let counts = match (&self.progress.counts, self.params.batch_size) {
            (Some(c), Some(_)) => c.clone(),
            _ => Tensor::zeros([self.params.k, 1], &device),
        };
        Ok(KMeansPass {
            centers: start.clone(),
            start,
            counts,
            inertia: Tensor::zeros([1], &device),
            rows: 0,
        })
    }

    /// Lloyd's update: every row's nearest centre, summed per cluster over all the rows, then
    /// each centre moved to its rows' mean (an empty cluster keeps its centre).
    fn lloyd_update(&self, pass: &mut KMeansPass, rows: &mut dyn Rows) -> Result<(), FitError> {
        let (k, d) = (self.params.k, self.params.n_features);
        let sums = rows.sum(&mut |part| {
            let (nearest, assignment) =
                squared_distances(part.x.clone(), pass.start.clone()).min_dim_with_indices(1);
            let one_hot = crate::linalg::one_hot(assignment.squeeze_dim::<1>(1), k); // [n, k]
            let counts = crate::linalg::sum_rows(one_hot.clone()); // [1, k]
            let cluster_sums = crate::linalg::matmul(one_hot.transpose(), part.x.clone()); // [k, d]
            statistics(Tensor::cat(
                alloc::vec![
                    cluster_sums.reshape([k * d]),
                    counts.reshape([k]),
                    nearest.clamp_min(0.0).sum_all(),
                ],
                0,
            ))
        })?;
        let device = pass.start.device();
        let upload = |values: &[f64], shape: [usize; 2]| {
            let values: Vec<f32> = values.iter().map(|v| *v as f32).collect();
            Tensor::<2>::from_data(TensorData::new(values, shape), &device)
        };
        let cluster_sums = upload(&sums[..k * d], [k, d]);
        let counts = upload(&sums[k * d..k * d + k], [k, 1]);
        pass.inertia = upload(&sums[k * d + k..], [1, 1]).reshape([1]);
        // The running-count form of [`KMeans::pass_rows`] with a single batch: the mean.
        pass.centers = pass.start.clone()
            + (cluster_sums - pass.start.clone() * counts.clone()) / counts.clone().clamp_min(1.0);
        pass.counts = counts;
        pass.rows = rows.n_rows();
        Ok(())
    }

    /// Moves the centres of a pass over `x` batch by batch (mini-batch k-means). Each
    /// cluster's running count grows by its batch count and its centre moves by
    /// (batch sum − batch count·centre) / running count, so the counts accumulate over a
    /// restart. An empty cluster keeps its centre.
    fn pass_rows(&self, pass: &mut KMeansPass, x: Tensor<2>) {
        let [n, _] = x.dims();
        let batch = self.params.batch_size.unwrap_or(n).min(n).max(1);
        for begin in (0..n).step_by(batch) {
            let xb = x.clone().narrow(0, begin, batch.min(n - begin));
            let (nearest, assignment) =
                squared_distances(xb.clone(), pass.centers.clone()).min_dim_with_indices(1);
            // Summed on the device and read once per pass, not once per batch.
            pass.inertia = pass.inertia.clone() + nearest.clamp_min(0.0).sum_all();
            let one_hot = crate::linalg::one_hot(assignment.squeeze_dim::<1>(1), self.params.k); // [b, k]
            let batch_counts = crate::linalg::sum_rows(one_hot.clone()).transpose(); // [k, 1]
            let batch_sums = crate::linalg::matmul(one_hot.transpose(), xb); // [k, d]
            pass.counts = pass.counts.clone() + batch_counts.clone();
            pass.centers = pass.centers.clone()
                + (batch_sums - pass.centers.clone() * batch_counts)
                    / pass.counts.clone().clamp_min(1.0);
        }
        pass.rows += n;
    }

    /// Ends a pass: keeps the new centres, ends the restart when they moved less than `tol`
    /// (or after `max_iter` passes), keeping the restart with the lowest inertia over all the
    /// rows, and ends the fit after the last restart.
    fn end_pass(&mut self, pass: KMeansPass, rows: &mut dyn Rows) -> Result<StepRecord, FitError> {
        let tol_scaled = self.progress.tol_scaled.unwrap_or(0.0);
        if self.params.batch_size.is_some() {
            self.progress.counts = Some(pass.counts);
        }
        let inertia = read_f32(pass.inertia)?[0] as f64;
        let shift = read_f32((pass.centers.clone() - pass.start).square().sum_all())?[0] as f64;
        self.set_centers(pass.centers);

        let restart_done = shift <= tol_scaled || self.progress.iteration >= self.params.max_iter;
        if restart_done {
            let final_inertia = rows.sum(&mut |part| {
                statistics(
                    self.distances(part.x.clone())
                        .min_dim(1)
                        .clamp_min(0.0)
                        .sum_all(),
                )
            })?[0];
            let better = self
                .progress
                .best
                .as_ref()
                .is_none_or(|(best, _)| final_inertia < *best);
            if better {
                self.progress.best = Some((final_inertia, self.centers.val()));
            }
            self.progress.restart += 1;
            self.progress.iteration = 0;
            self.progress.counts = None;
        }
        let converged = restart_done && self.progress.restart >= self.params.n_init;
        if converged && let Some((_, best)) = &self.progress.best {
            self.set_centers(best.clone());
        }
        Ok(StepRecord {
            loss: inertia / pass.rows.max(1) as f64,
            converged,
            jitter: 0.0,
        })
    }

    /// Sum of squared distances of the rows to their nearest centre.
    pub fn inertia(&self, x: Tensor<2>) -> Result<f64, FitError> {
        Ok(read_f32(self.distances(x).min_dim(1).clamp_min(0.0).sum_all())?[0] as f64)
    }
}

impl Estimator for KMeans {
    type Config = KMeansConfig;
    type Params = KMeansParams;
    const KINDS: &'static [&'static str] = &["kmeans"];

    /// Unsupervised: a label column, if given, only feeds the adjusted Rand index.
    fn supervision(_: &KMeansConfig) -> Supervision {
        Supervision::None
    }

    fn check(config: &KMeansConfig, shape: &DataShape) -> Result<KMeansParams, ConfigError> {
        config.check(shape)
    }

    fn fit_method(_: &KMeansParams) -> FitMethod {
        FitMethod::Iterative
    }

    /// `max_iter` steps per restart at most, as scikit-learn's.
    fn max_steps(params: &KMeansParams) -> Option<usize> {
        Some(params.n_init.saturating_mul(params.max_iter))
    }

    /// Lloyd's steps are sums over the rows and mini-batch steps a pass over them, so both
    /// stream.
    fn streams(_: &KMeansParams) -> bool {
        true
    }

    fn output(_: &KMeansParams) -> Output {
        Output::Clusters
    }

    fn init(params: &KMeansParams, device: &Device) -> Self {
        Self::new(*params, device)
    }

    fn predict(&self, x: Tensor<2>) -> Prediction {
        Prediction::Clusters(self.distances(x))
    }

    fn fit_step(&mut self, rows: &mut dyn Rows) -> Result<StepRecord, FitError> {
        self.step(rows)
    }

    /// The mean squared distance to the nearest centre.
    fn objective(&self, batch: &Batch, _n_train: usize) -> Result<f64, FitError> {
        Ok(self.inertia(batch.x.clone())? / batch.len().max(1) as f64)
    }

    fn fit_state(&self) -> Result<Option<serde_json::Value>, FitError> {
        state_to_json(&self.state()?)
    }

    fn restore_fit_state(&mut self, state: serde_json::Value) -> Result<(), FitError> {
        self.restore(state_from_json(state)?);
        Ok(())
    }

    /// Online k-means (batches of one row) from one k-means++ start, at most
    /// [`ON_DEVICE_EPOCHS`] passes.
    fn on_device(config: &KMeansConfig, _: &KMeansParams) -> OnDevice<KMeansConfig> {
        OnDevice::Steps(KMeansConfig {
            batch_size: Some(1),
            n_init: 1,
            max_iter: ON_DEVICE_EPOCHS,
            ..config.clone()
        })
    }
}

/// Greedy k-means++ seeding (scikit-learn's): the first centre uniformly; for each next one,
/// `2 + ⌊ln k⌋` candidates drawn with probability proportional to the squared distance to the
/// nearest centre so far, keeping the candidate that lowers the total of those distances most.
/// The greedy trials make a poor seeding, and so a poor local optimum, much rarer than one
/// draw. Distances are computed on the device; the `n` weights come to the host once per
/// centre for the draw.
fn kmeans_plus_plus(x: &Tensor<2>, k: usize, rng: &mut Rng) -> Result<Tensor<2>, FitError> {
    let [n, _] = x.dims();
    let trials = 2 + num_traits::Float::ln(k as f64) as usize;
    let row = |i: usize| x.clone().narrow(0, i, 1);
    let first = (rng.uniform() * n as f64) as usize % n;
    let mut chosen = alloc::vec![row(first)];
    // Every round measures the same rows: their norms once.
    let norms = crate::linalg::row_norms(x.clone());
    let distances = |centers: Tensor<2>| {
        crate::linalg::squared_distances_from(x.clone(), norms.clone(), centers).clamp_min(0.0)
    };
    let mut nearest = distances(row(first)); // [n, 1]
    while chosen.len() < k {
        let weights = read_f32(nearest.clone())?;
        let total: f64 = weights.iter().map(|w| *w as f64).sum();
        let candidates: Vec<usize> = (0..trials)
            .map(|_| {
                if total <= 0.0 {
                    // Every row coincides with a centre: any row will do.
                    return (rng.uniform() * n as f64) as usize % n;
                }
                let mut target = rng.uniform() * total;
                for (i, w) in weights.iter().enumerate() {
                    if target < *w as f64 {
                        return i;
                    }
                    target -= *w as f64;
                }
                n - 1
            })
            .collect();
        let rows: Vec<Tensor<2>> = candidates.iter().map(|&i| row(i)).collect();
        // [n, trials]: each row's nearest distance if that candidate were added.
        let with_candidate =
            distances(Tensor::cat(rows, 0)).min_pair(nearest.clone().expand([n, trials]));
        let potentials = read_f32(crate::linalg::sum_rows(with_candidate.clone()))?;
        let best = crate::metrics::argmin_rows(&potentials, trials)[0];
        chosen.push(row(candidates[best]));
        nearest = with_candidate.narrow(1, best, 1);
    }
    Ok(Tensor::cat(chosen, 0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Targets, Task};
    use crate::metrics::adjusted_rand_index;
    use crate::testing::{features, for_each_device};

    fn fit(x: &[f32], d: usize, config: KMeansConfig, device: &Device) -> (KMeans, usize) {
        let shape = DataShape {
            n_features: d,
            task: Task::Regression,
        };
        let mut model = KMeans::new(config.check(&shape).unwrap(), device);
        let n = x.len() / d;
        let mut batch = Batch {
            x: features(x, d, device),
            targets: Targets::Values(Tensor::zeros([n, 1], device)),
        };
        for step in 1..=10_000 {
            if model.fit_step(&mut batch).unwrap().converged {
                return (model, step);
            }
        }
        panic!("k-means did not converge");
    }

    fn labels(model: &KMeans, x: &[f32], d: usize, device: &Device) -> Vec<usize> {
        let Prediction::Clusters(dist) = model.predict(features(x, d, device)) else {
            unreachable!()
        };
        crate::metrics::argmin_rows(&read_f32(dist).unwrap(), model.params.k)
    }

    /// Three tight, far-apart blobs of 50 rows: k-means finds them exactly.
    fn blobs() -> (Vec<f32>, Vec<usize>) {
        let mut rng = Rng::new(1);
        let centres = [(0.0, 0.0), (10.0, 10.0), (-10.0, 10.0)];
        let mut x = Vec::new();
        let mut truth = Vec::new();
        for (c, (cx, cy)) in centres.iter().enumerate() {
            for _ in 0..50 {
                x.push(cx + 0.5 * rng.normal() as f32);
                x.push(cy + 0.5 * rng.normal() as f32);
                truth.push(c);
            }
        }
        (x, truth)
    }

    #[test]
    fn separated_blobs_are_found_exactly_on_every_backend() {
        let (x, truth) = blobs();
        for_each_device(|device| {
            let (model, _) = fit(
                &x,
                2,
                KMeansConfig {
                    k: 3,
                    n_init: 3,
                    ..Default::default()
                },
                device,
            );
            let found = labels(&model, &x, 2, device);
            assert_eq!(adjusted_rand_index(&found, &truth), 1.0, "{device:?}");
        });
    }

    #[test]
    fn mini_batches_find_the_blobs_and_nearly_lloyds_inertia() {
        let (x, truth) = blobs();
        for_each_device(|device| {
            let lloyd = fit(
                &x,
                2,
                KMeansConfig {
                    k: 3,
                    n_init: 3,
                    ..Default::default()
                },
                device,
            )
            .0;
            let config = KMeansConfig {
                k: 3,
                n_init: 3,
                batch_size: Some(16),
                ..Default::default()
            };
            let (mini, _) = fit(&x, 2, config, device);
            assert_eq!(
                adjusted_rand_index(&labels(&mini, &x, 2, device), &truth),
                1.0,
                "{device:?}"
            );
            let (a, b) = (
                lloyd.inertia(features(&x, 2, device)).unwrap(),
                mini.inertia(features(&x, 2, device)).unwrap(),
            );
            assert!(
                b <= a * 1.01,
                "{device:?}: mini-batch inertia {b} vs Lloyd {a}"
            );
            // A batch of one row is online (MacQueen) k-means: what a microcontroller runs.
            let config = KMeansConfig {
                k: 3,
                batch_size: Some(1),
                ..Default::default()
            };
            let (online, _) = fit(&x, 2, config, device);
            assert_eq!(
                adjusted_rand_index(&labels(&online, &x, 2, device), &truth),
                1.0,
                "{device:?}"
            );
        });
    }

    // Reference: scikit-learn 1.9.1, computed once with
    //   import numpy as np; from sklearn.cluster import KMeans
    //   X = np.array(KM_X).reshape(-1, 2)
    //   print(KMeans(3, n_init=20, random_state=0, tol=1e-10).fit(X).inertia_)  # 11.170833333333333
    const KM_X: [f32; 24] = [
        1.0, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 7.0, 3.5, 5.0, 4.5, 5.0, 3.5, 4.5, 9.0, 9.0, 8.5, 9.5,
        9.0, 8.0, 0.5, 1.5, 2.0, 1.0,
    ];
    const KM_INERTIA: f64 = 11.170_833_333_333_333;

    #[test]
    fn inertia_matches_scikit_learn() {
        for_each_device(|device| {
            let config = KMeansConfig {
                k: 3,
                n_init: 10,
                tol: 1e-10,
                ..Default::default()
            };
            let (model, _) = fit(&KM_X, 2, config, device);
            let inertia = model.inertia(features(&KM_X, 2, device)).unwrap();
            assert!(
                (inertia - KM_INERTIA).abs() <= 1e-4 * KM_INERTIA,
                "{device:?}: {inertia}"
            );
        });
    }

    #[test]
    fn config_rules() {
        let shape = DataShape {
            n_features: 2,
            task: Task::Regression,
        };
        let bad = KMeansConfig {
            k: 0,
            ..Default::default()
        };
        assert!(matches!(
            bad.check(&shape),
            Err(ConfigError::Invalid { key: "k", .. })
        ));
    }
}
