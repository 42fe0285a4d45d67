//! Gaussian mixture model fitted by expectation-maximisation (scikit-learn's `GaussianMixture`):
//! full or diagonal covariances, k-means initialisation, `reg_covar` on the diagonal, `n_init`
//! restarts keeping the highest likelihood.
//!
//! One iterative-fit step is one EM iteration on the device: the log-density of every row under
//! every component (one matmul against all components' precision factors), responsibilities by
//! log-sum-exp (so f32 on a GPU does not underflow far from a component), then means and
//! covariances weighted by them. Only the `k × d × d` covariances come back to the host, where
//! their Cholesky factors and inverses are taken in f64.

use alloc::boxed::Box;
use alloc::vec::Vec;

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::data::{Batch, DataShape, read_f32};
use crate::error::{ConfigError, FitError, check_at_least_one, check_non_negative};
use crate::estimator::{
    Estimator, ON_DEVICE_EPOCHS, OnDevice, Output, Supervision, state_from_json, state_to_json,
};
use crate::fit::{FitMethod, Prediction, Rows, StepRecord};
use crate::kmeans::{KMeans, KMeansParams};
use crate::metrics::{HostPrediction, HostTargets, Metrics};
use crate::rng::Rng;

/// The shape of each component's covariance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CovarianceType {
    /// A full `d × d` covariance per component.
    Full,
    /// A diagonal covariance (independent features) per component.
    Diag,
}

/// `[model]` keys of `kind = "gmm"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GmmConfig {
    /// Number of mixture components (default 8); also read as scikit-learn's `n_components`.
    #[serde(alias = "n_components")]
    pub k: usize,
    /// `"full"` (default) or `"diag"`.
    pub covariance_type: CovarianceType,
    /// Added to the covariances' diagonals so they stay positive definite (default 1e-6).
    pub reg_covar: f64,
    /// EM iterations per restart at most (default 100).
    pub max_iter: usize,
    /// Convergence: change of the mean log-likelihood below `tol` (default 1e-3).
    pub tol: f64,
    /// Restarts from new k-means initialisations; the highest likelihood wins (default 1).
    pub n_init: usize,
    /// Seed of the k-means initialisations (default 0).
    pub seed: u64,
}

impl Default for GmmConfig {
    fn default() -> Self {
        Self {
            k: 8,
            covariance_type: CovarianceType::Full,
            reg_covar: 1e-6,
            max_iter: 100,
            tol: 1e-3,
            n_init: 1,
            seed: 0,
        }
    }
}

/// Checked parameters of a Gaussian mixture.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GmmParams {
    /// Number of mixture components.
    pub k: usize,
    /// The shape of each component's covariance.
    pub covariance_type: CovarianceType,
    /// Added to the covariances' diagonals.
    pub reg_covar: f64,
    /// EM iterations per restart at most.
    pub max_iter: usize,
    /// Convergence threshold on the change of the mean log-likelihood.
    pub tol: f64,
    /// Number of restarts.
    pub n_init: usize,
    /// Seed of the k-means initialisations.
    pub seed: u64,
    /// Number of feature columns, `d`.
    pub n_features: usize,
}

impl GmmConfig {
    /// Validates the config. A label column, if the data has one, is only used for metrics.
    pub fn check(&self, shape: &DataShape) -> Result<GmmParams, ConfigError> {
        Ok(GmmParams {
            k: check_at_least_one("k", self.k)?,
            covariance_type: self.covariance_type,
            reg_covar: check_non_negative("reg_covar", self.reg_covar)?,
            max_iter: check_at_least_one("max_iter", self.max_iter)?,
            tol: check_non_negative("tol", self.tol)?,
            n_init: check_at_least_one("n_init", self.n_init)?,
            seed: self.seed,
            n_features: shape.n_features,
        })
    }
}

impl GmmParams {
    /// Free parameters of the mixture, for BIC and AIC.
    pub fn n_parameters(&self) -> usize {
        let (k, d) = (self.k, self.n_features);
        let covariance = match self.covariance_type {
            CovarianceType::Full => k * d * (d + 1) / 2,
            CovarianceType::Diag => k * d,
        };
        covariance + k * d + k - 1
    }

    /// Bayesian information criterion of a fit with mean log-likelihood `log_likelihood` on
    /// `n` rows (lower is better).
    pub fn bic(&self, log_likelihood: f64, n: usize) -> f64 {
        let n = n as f64;
        -2.0 * log_likelihood * n + self.n_parameters() as f64 * num_traits::Float::ln(n)
    }

    /// Akaike information criterion of a fit with mean log-likelihood `log_likelihood` on `n`
    /// rows (lower is better).
    pub fn aic(&self, log_likelihood: f64, n: usize) -> f64 {
        -2.0 * log_likelihood * n as f64 + 2.0 * self.n_parameters() as f64
    }

    /// The shape of [`Gmm::precision_cholesky`].
    fn precision_shape(&self) -> [usize; 3] {
        let d = self.n_features;
        match self.covariance_type {
            CovarianceType::Full => [self.k, d, d],
            CovarianceType::Diag => [self.k, 1, d],
        }
    }
}

/// A restart's fitted parameters: weights, means, precision factors.
type Components = (Tensor<2>, Tensor<2>, Tensor<3>);

/// Where the fit is: the restart under way and the best restart so far.
#[derive(Clone, Debug)]
struct GmmProgress {
    restart: usize,
    iteration: usize,
    rng: Rng,
    /// The mean log-likelihood at the previous E-step of this restart.
    lower_bound: Option<f64>,
    best: Option<(f64, Components)>,
}

/// The fit's progress (restart, iteration, RNG, best restart so far) on the host, for a
/// checkpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GmmState {
    restart: usize,
    iteration: usize,
    rng: Rng,
    lower_bound: Option<f64>,
    best: Option<BestRestart>,
}

/// The best restart so far, on the host: its lower bound, weights, means and precision factors.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct BestRestart {
    lower_bound: f64,
    weights: Vec<f32>,
    means: Vec<f32>,
    precision_cholesky: Vec<f32>,
}

/// A fitted mixture: component weights `[1, k]`, means `[k, d]` and the upper-triangular
/// Cholesky factors of the precisions, `[k, d, d]` (full) or their diagonals `[k, 1, d]`
/// (diag), so that `‖(x − μ)·P‖²` is the squared Mahalanobis distance.
#[derive(Module, Debug)]
pub struct Gmm {
    /// Mixing weights of the components, summing to 1, `[1, k]`.
    pub weights: Param<Tensor<2>>,
    /// Component means, `[k, d]`.
    pub means: Param<Tensor<2>>,
    /// Upper-triangular Cholesky factors of the precisions, `[k, d, d]` (full) or their
    /// diagonals, `[k, 1, d]` (diag); scikit-learn's `precisions_cholesky_`.
    pub precision_cholesky: Param<Tensor<3>>,
    /// The checked parameters it was built with.
    #[module(skip)]
    pub params: GmmParams,
    #[module(skip)]
    progress: Box<GmmProgress>,
}

impl Gmm {
    /// An unfitted mixture: equal weights, means at zero, unit covariances.
    pub fn new(params: GmmParams, device: &Device) -> Self {
        let (k, d) = (params.k, params.n_features);
        let precision = match params.covariance_type {
            CovarianceType::Full => Tensor::<2>::eye(d, device)
                .unsqueeze_dim::<3>(0)
                .repeat_dim(0, k),
            CovarianceType::Diag => Tensor::ones([k, 1, d], device),
        };
        Self {
            weights: Param::from_tensor(Tensor::ones([1, k], device).div_scalar(k as f64)),
            means: Param::from_tensor(Tensor::zeros([k, d], device)),
            precision_cholesky: Param::from_tensor(precision),
            params,
            progress: Box::new(GmmProgress {
                restart: 0,
                iteration: 0,
                rng: Rng::new(params.seed),
                lower_bound: None,
                best: None,
            }),
        }
    }

    /// `log w_c + log N(x | μ_c, Σ_c)` for every row and component, `[n, k]`.
    pub fn weighted_log_prob(&self, x: Tensor<2>) -> Tensor<2> {
        let [n, d] = x.dims();
        let k = self.params.k;
        let precision = self.precision_cholesky.val();
        let means = self.means.val();
        // (x − μ_c)·P_c for every component at once: [n, k, d].
        let projected = match self.params.covariance_type {
            CovarianceType::Full => {
                // x·[P_1 … P_k] as one [n, d]·[d, k·d] product.
                let stacked = precision.clone().permute([1, 0, 2]).reshape([d, k * d]);
                // μ_c·P_c by broadcasting, not a batched matmul: on a microcontroller burn-flex
                // hands those to gemm, which allocates a 512 KiB scratch buffer.
                let shift = (means.unsqueeze_dim::<3>(2) * precision.clone()).sum_dim(1); // [k, 1, d]
                (crate::linalg::matmul(x, stacked) - shift.reshape([1, k * d])).reshape([n, k, d])
            }
            CovarianceType::Diag => {
                let scales = precision.clone().reshape([1, k, d]);
                x.unsqueeze_dim::<3>(1) * scales.clone() - means.unsqueeze_dim::<3>(0) * scales
            }
        };
        let mahalanobis = projected.square().sum_dim(2).reshape([n, k]);
        // log det P_c: the sum of the logs of the factor's diagonal.
        let diagonal = match self.params.covariance_type {
            CovarianceType::Full => {
                let eye = Tensor::<2>::eye(d, &precision.device()).unsqueeze_dim::<3>(0);
                (precision * eye).sum_dim(2) // [k, d, 1]
            }
            CovarianceType::Diag => precision,
        };
        let log_det = diagonal.log().reshape([k, d]).sum_dim(1).reshape([1, k]);
        let log_2pi = d as f64 * num_traits::Float::ln(2.0 * core::f64::consts::PI);
        (mahalanobis.add_scalar(log_2pi)).mul_scalar(-0.5) + log_det + self.weights.val().log()
    }

    /// Per-row log-likelihood `[n, 1]` and log-responsibilities `[n, k]`, by log-sum-exp.
    fn e_step(&self, x: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let weighted = self.weighted_log_prob(x);
        let max = weighted.clone().max_dim(1).detach(); // [n, 1]
        let log_norm = (weighted.clone() - max.clone()).exp().sum_dim(1).log() + max;
        (log_norm.clone(), weighted - log_norm)
    }

    /// Posterior probability of each component for each row, `[n, k]`.
    pub fn predict_proba(&self, x: Tensor<2>) -> Tensor<2> {
        self.e_step(x).1.exp()
    }

    /// Log-likelihood of each row, `[n, 1]`.
    pub fn score_samples(&self, x: Tensor<2>) -> Tensor<2> {
        self.e_step(x).0
    }

    /// Mean log-likelihood of the rows (scikit-learn's `score`).
    pub fn score(&self, x: Tensor<2>) -> Result<f64, FitError> {
        Ok(read_f32(crate::linalg::mean_all(self.score_samples(x)))?[0] as f64)
    }

    /// Bayesian information criterion on `x` (lower is better).
    pub fn bic(&self, x: Tensor<2>) -> Result<f64, FitError> {
        let n = x.dims()[0];
        Ok(self.params.bic(self.score(x)?, n))
    }

    /// Akaike information criterion on `x` (lower is better).
    pub fn aic(&self, x: Tensor<2>) -> Result<f64, FitError> {
        let n = x.dims()[0];
        Ok(self.params.aic(self.score(x)?, n))
    }

    /// The fit's progress, read back to the host (the current parameters are the module).
    pub fn state(&self) -> Result<GmmState, FitError> {
        let p = &self.progress;
        Ok(GmmState {
            restart: p.restart,
            iteration: p.iteration,
            rng: p.rng.clone(),
            lower_bound: p.lower_bound,
            best: match &p.best {
                Some((bound, (w, m, c))) => Some(BestRestart {
                    lower_bound: *bound,
                    weights: read_f32(w.clone())?,
                    means: read_f32(m.clone())?,
                    precision_cholesky: read_f32(c.clone())?,
                }),
                None => None,
            },
        })
    }

    /// Puts back a progress [`Gmm::state`] read, on this model's device.
    pub fn restore(&mut self, state: GmmState) {
        let device = self.means.val().device();
        let (k, d) = (self.params.k, self.params.n_features);
        let precision_shape = self.params.precision_shape();
        *self.progress = GmmProgress {
            restart: state.restart,
            iteration: state.iteration,
            rng: state.rng,
            lower_bound: state.lower_bound,
            best: state.best.map(|best| {
                (
                    best.lower_bound,
                    (
                        Tensor::from_data(TensorData::new(best.weights, [1, k]), &device),
                        Tensor::from_data(TensorData::new(best.means, [k, d]), &device),
                        Tensor::from_data(
                            TensorData::new(best.precision_cholesky, precision_shape),
                            &device,
                        ),
                    ),
                )
            }),
        };
    }

    /// Replaces the parameters, keeping their ids (saved with the weights, so a resumed fit
    /// writes the same bytes as one never stopped).
    fn set_components(&mut self, (weights, means, precision): Components) {
        self.weights = Param::initialized(self.weights.id, weights);
        self.means = Param::initialized(self.means.id, means);
        self.precision_cholesky = Param::initialized(self.precision_cholesky.id, precision);
    }

    fn components(&self) -> Components {
        (
            self.weights.val(),
            self.means.val(),
            self.precision_cholesky.val(),
        )
    }

    /// One EM iteration on every row (initialising from k-means first when a restart
    /// begins).
    pub fn em_step(&mut self, data: &Batch) -> Result<StepRecord, FitError> {
        let x = &data.x;
        let n = x.dims()[0];
        if n < self.params.k {
            return Err(FitError::TooFewRows {
                rows: n,
                needed: self.params.k,
                key: "k",
            });
        }
        if self.progress.iteration == 0 {
            let resp = self.kmeans_responsibilities(data)?;
            self.m_step(x.clone(), resp)?;
        }
        let (log_norm, log_resp) = self.e_step(x.clone());
        let lower_bound = read_f32(crate::linalg::mean_all(log_norm))?[0] as f64;
        self.m_step(x.clone(), log_resp.exp())?;
        self.progress.iteration += 1;

        let change = self
            .progress
            .lower_bound
            .map_or(f64::INFINITY, |previous| lower_bound - previous);
        self.progress.lower_bound = Some(lower_bound);
        let restart_done =
            change.abs() < self.params.tol || self.progress.iteration >= self.params.max_iter;
        if restart_done {
            let better = self
                .progress
                .best
                .as_ref()
                .is_none_or(|(best, _)| lower_bound > *best);
            if better {
                self.progress.best = Some((lower_bound, self.components()));
            }
            self.progress.restart += 1;
            self.progress.iteration = 0;
            self.progress.lower_bound = None;
        }
        let converged = restart_done && self.progress.restart >= self.params.n_init;
        if converged && let Some((_, best)) = self.progress.best.clone() {
            self.set_components(best);
        }
        Ok(StepRecord {
            loss: -lower_bound,
            converged,
            jitter: 0.0,
        })
    }

    /// One-hot responsibilities `[n, k]` of a seeded k-means fit (scikit-learn's
    /// `init_params="kmeans"`: one k-means++ start per restart).
    fn kmeans_responsibilities(&mut self, data: &Batch) -> Result<Tensor<2>, FitError> {
        let params = KMeansParams {
            k: self.params.k,
            n_init: 1,
            max_iter: 300,
            tol: 1e-4,
            seed: self.progress.rng.next_u64(),
            batch_size: None,
            n_features: self.params.n_features,
        };
        let mut kmeans = KMeans::new(params, &data.x.device());
        let mut rows = data.clone();
        while !kmeans.step(&mut rows)?.converged {}
        let nearest = kmeans
            .distances(data.x.clone())
            .argmin(1)
            .squeeze_dim::<1>(1);
        Ok(crate::linalg::one_hot(nearest, self.params.k))
    }

    /// Weights, means and precision factors from responsibilities `resp` (`[n, k]`).
    fn m_step(&mut self, x: Tensor<2>, resp: Tensor<2>) -> Result<(), FitError> {
        let n = x.dims()[0];
        let k = self.params.k;
        // scikit-learn's 10·eps keeps an empty component's division finite.
        let counts = crate::linalg::sum_rows(resp.clone()).add_scalar(10.0 * f32::EPSILON as f64); // [1, k]
        let means =
            crate::linalg::matmul(resp.clone().transpose(), x.clone()) / counts.clone().transpose(); // [k, d]
        // Each component's covariance from rows centred on its own mean, so f32 loses nothing
        // to cancellation when the data sits far from the origin.
        let covariances: Vec<Tensor<2>> = (0..k)
            .map(|c| {
                let centred = x.clone() - means.clone().narrow(0, c, 1);
                let weighted = centred.clone() * resp.clone().narrow(1, c, 1);
                match self.params.covariance_type {
                    CovarianceType::Full => crate::linalg::matmul(weighted.transpose(), centred),
                    CovarianceType::Diag => crate::linalg::sum_rows(weighted * centred),
                }
            })
            .collect();
        let counts_host = read_f32(counts.clone())?;
        let covariances = read_f32(Tensor::cat(covariances, 0))?;
        let precision = self.precision_factors(&covariances, &counts_host)?;
        let device = x.device();
        let precision = Tensor::from_data(
            TensorData::new(precision, self.params.precision_shape()),
            &device,
        );
        self.set_components((counts.div_scalar(n as f64), means, precision));
        Ok(())
    }

    /// The precision factors from the weighted scatter matrices (`Σ resp·(x − μ)(x − μ)ᵀ` per
    /// component, or their diagonals) and the component counts, in f64 on the host.
    fn precision_factors(&self, scatter: &[f32], counts: &[f32]) -> Result<Vec<f32>, FitError> {
        let d = self.params.n_features;
        let reg = self.params.reg_covar;
        let mut out = Vec::with_capacity(scatter.len());
        match self.params.covariance_type {
            CovarianceType::Diag => {
                for (c, row) in scatter.chunks_exact(d).enumerate() {
                    for s in row {
                        let variance = *s as f64 / counts[c] as f64 + reg;
                        if !(variance > 0.0 && variance.is_finite()) {
                            return Err(FitError::IllDefinedCovariance { component: c });
                        }
                        out.push((1.0 / num_traits::Float::sqrt(variance)) as f32);
                    }
                }
            }
            CovarianceType::Full => {
                for (c, block) in scatter.chunks_exact(d * d).enumerate() {
                    let mut covariance: Vec<f64> =
                        block.iter().map(|s| *s as f64 / counts[c] as f64).collect();
                    for i in 0..d {
                        covariance[i * d + i] += reg;
                    }
                    if !crate::linalg::cholesky_in_place(&mut covariance, d) {
                        return Err(FitError::IllDefinedCovariance { component: c });
                    }
                    // The upper triangle still holds the covariance; `invert_lower` reads
                    // only the lower factor. P = (L⁻¹)ᵀ, upper triangular: Σ⁻¹ = P Pᵀ.
                    let inverse = crate::linalg::invert_lower(&covariance, d);
                    for i in 0..d {
                        for j in 0..d {
                            out.push(inverse[j * d + i] as f32);
                        }
                    }
                }
            }
        }
        Ok(out)
    }
}

impl Estimator for Gmm {
    type Config = GmmConfig;
    type Params = GmmParams;
    const KINDS: &'static [&'static str] = &["gmm"];

    /// Unsupervised: a label column, if given, only feeds the adjusted Rand index.
    fn supervision(_: &GmmConfig) -> Supervision {
        Supervision::None
    }

    fn check(config: &GmmConfig, shape: &DataShape) -> Result<GmmParams, ConfigError> {
        config.check(shape)
    }

    fn fit_method(_: &GmmParams) -> FitMethod {
        FitMethod::Iterative
    }

    /// `max_iter` EM steps per restart at most, as scikit-learn's.
    fn max_steps(params: &GmmParams) -> Option<usize> {
        Some(params.n_init.saturating_mul(params.max_iter))
    }

    fn output(_: &GmmParams) -> Output {
        Output::Memberships
    }

    fn extra_metric_names(_: &GmmParams) -> &'static [&'static str] {
        &["log_likelihood", "bic", "aic"]
    }

    fn init(params: &GmmParams, device: &Device) -> Self {
        Self::new(*params, device)
    }

    fn predict(&self, x: Tensor<2>) -> Prediction {
        Prediction::Memberships(self.predict_proba(x))
    }

    /// An EM iteration takes every row at once.
    fn fit_step(&mut self, rows: &mut dyn Rows) -> Result<StepRecord, FitError> {
        let data = rows.all()?;
        self.em_step(&data)
    }

    /// The negative mean log-likelihood.
    fn objective(&self, batch: &Batch, _n_train: usize) -> Result<f64, FitError> {
        Ok(-self.score(batch.x.clone())?)
    }

    /// The mean `log_likelihood` of the rows, and scikit-learn's `bic` and `aic` from it.
    fn add_metrics(
        &self,
        x: &Tensor<2>,
        _prediction: &HostPrediction,
        _targets: &HostTargets,
        metrics: &mut Metrics,
    ) -> Result<(), FitError> {
        let log_likelihood = self.score(x.clone())?;
        let n = x.dims()[0];
        metrics.insert("log_likelihood".into(), log_likelihood);
        metrics.insert("bic".into(), self.params.bic(log_likelihood, n));
        metrics.insert("aic".into(), self.params.aic(log_likelihood, n));
        Ok(())
    }

    fn fit_state(&self) -> Result<Option<serde_json::Value>, FitError> {
        state_to_json(&self.state()?)
    }

    fn restore_fit_state(&mut self, state: serde_json::Value) -> Result<(), FitError> {
        self.restore(state_from_json(state)?);
        Ok(())
    }

    /// EM from one k-means start, at most [`ON_DEVICE_EPOCHS`] iterations.
    fn on_device(config: &GmmConfig, _: &GmmParams) -> OnDevice<GmmConfig> {
        OnDevice::Steps(GmmConfig {
            n_init: 1,
            max_iter: ON_DEVICE_EPOCHS,
            ..config.clone()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Targets, Task};
    use crate::testing::{features, for_each_device};

    fn fit(x: &[f32], d: usize, config: GmmConfig, device: &Device) -> Gmm {
        let shape = DataShape {
            n_features: d,
            task: Task::Regression,
        };
        let mut model = Gmm::new(config.check(&shape).unwrap(), device);
        let n = x.len() / d;
        let batch = Batch {
            x: features(x, d, device),
            targets: Targets::Values(Tensor::zeros([n, 1], device)),
        };
        for _ in 0..10_000 {
            if model.em_step(&batch).unwrap().converged {
                return model;
            }
        }
        panic!("EM did not converge");
    }

    /// 300 rows in two dimensions: three correlated, unequal blobs (`small_data()` in
    /// benches/peers/gmm_reference.py builds the same rows).
    fn data() -> Vec<f32> {
        let mut rng = Rng::new(7);
        let mut x = Vec::new();
        // (centre, A) with rows centre + A·z, z standard normal.
        let blobs = [
            ((0.0, 0.0), [1.0, 0.0, 0.6, 0.4]),
            ((6.0, 2.0), [0.5, 0.3, 0.0, 1.5]),
            ((-4.0, 5.0), [2.0, -1.0, 0.0, 0.7]),
        ];
        for i in 0..300 {
            let ((cx, cy), a) = blobs[i % 3];
            let (z0, z1) = (rng.normal(), rng.normal());
            x.push((cx + a[0] * z0 + a[1] * z1) as f32);
            x.push((cy + a[2] * z0 + a[3] * z1) as f32);
        }
        x
    }

    // Reference: scikit-learn 1.9.1's `GaussianMixture(3, covariance_type=..., n_init=5,
    // tol=1e-6, random_state=0)` on the same rows (`python3 benches/peers/gmm_reference.py`,
    // lines "small ..."): mean log-likelihood, BIC, AIC.
    const SKLEARN: [(CovarianceType, f64, f64, f64); 2] = [
        (
            CovarianceType::Full,
            -3.585_432_816_739_744,
            2_248.223_992_113_002,
            2_185.259_690_043_846_6,
        ),
        (
            CovarianceType::Diag,
            -3.835_381_708_430_149,
            2_381.081_979_703_276_4,
            2_329.229_025_058_089_5,
        ),
    ];

    #[test]
    fn likelihood_bic_and_aic_match_scikit_learn_on_every_backend() {
        let x = data();
        for (covariance_type, score, bic, aic) in SKLEARN {
            for_each_device(|device| {
                let config = GmmConfig {
                    k: 3,
                    covariance_type,
                    n_init: 5,
                    tol: 1e-6,
                    ..Default::default()
                };
                let model = fit(&x, 2, config, device);
                let rows = features(&x, 2, device);
                let got = model.score(rows.clone()).unwrap();
                assert!(
                    (got - score).abs() <= 1e-4 * score.abs(),
                    "{device:?} {covariance_type:?}: {got} vs {score}"
                );
                let (got_bic, got_aic) = (
                    model.bic(rows.clone()).unwrap(),
                    model.aic(rows.clone()).unwrap(),
                );
                assert!(
                    (got_bic - bic).abs() <= 1e-4 * bic.abs(),
                    "{got_bic} vs {bic}"
                );
                assert!(
                    (got_aic - aic).abs() <= 1e-4 * aic.abs(),
                    "{got_aic} vs {aic}"
                );
                let proba = read_f32(model.predict_proba(rows)).unwrap();
                for row in proba.chunks(3) {
                    assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5, "{row:?}");
                }
            });
        }
    }

    /// Far from every component, f32 densities underflow to 0; the log-sum-exp keeps the
    /// log-likelihood finite and the responsibilities a distribution.
    #[test]
    fn far_rows_do_not_underflow() {
        let x = data();
        for_each_device(|device| {
            let model = fit(
                &x,
                2,
                GmmConfig {
                    k: 3,
                    ..Default::default()
                },
                device,
            );
            let far = features(&[200.0, -150.0], 2, device);
            let log_likelihood = read_f32(model.score_samples(far.clone())).unwrap()[0];
            assert!(
                log_likelihood.is_finite() && log_likelihood < -1000.0,
                "{log_likelihood}"
            );
            let proba = read_f32(model.predict_proba(far)).unwrap();
            assert!((proba.iter().sum::<f32>() - 1.0).abs() < 1e-5, "{proba:?}");
        });
    }

    #[test]
    fn config_rules_and_parameter_counts() {
        let shape = DataShape {
            n_features: 4,
            task: Task::Regression,
        };
        let bad = GmmConfig {
            reg_covar: -1.0,
            ..Default::default()
        };
        assert!(matches!(
            bad.check(&shape),
            Err(ConfigError::Negative {
                key: "reg_covar",
                ..
            })
        ));
        let full = GmmConfig {
            k: 3,
            ..Default::default()
        }
        .check(&shape)
        .unwrap();
        // scikit-learn's _n_parameters: 3·10 + 3·4 + 2 (full), 3·4 + 3·4 + 2 (diag).
        assert_eq!(full.n_parameters(), 44);
        let diag = GmmParams {
            covariance_type: CovarianceType::Diag,
            ..full
        };
        assert_eq!(diag.n_parameters(), 26);
    }
}
