//! Kernel support-vector machine (scikit-learn's `SVC`): RBF, polynomial or linear kernel,
//! binary or one-vs-rest for more classes, solved in the dual by libsvm's SMO.
//!
//! As in libsvm, the `n × n` kernel matrix is never held whole: rows are computed on the device
//! as the solver asks for them and the most recently used are kept on the host, in a cache
//! bounded in bytes (`cache_size`, see `KernelRows`). The solver works on the host in
//! f64: SMO with second-order working-set selection (Fan, Chen and Lin, 2005) and libsvm's
//! shrinking (variables stuck at a bound leave the active set; the gradient is rebuilt before
//! the end), stopping when the maximal KKT violation is below `tol`. One iterative-fit step is
//! `n` SMO iterations (at least 1,000), so progress, checkpoints and resume work as for every
//! model; the trainer's loss is the primal objective divided by `C·n` (the mean hinge loss plus
//! `‖w‖²/(2·C·n)`, as the linear SVM reports). The fitted model keeps only the support vectors,
//! their dual coefficients and the intercepts.

use alloc::borrow::Cow;
use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::data::{Batch, DataShape, Targets, read_f32};
use crate::error::{ConfigError, FitError, check_non_negative};
use crate::estimator::{Estimator, Output, Supervision, state_from_json, state_to_json};
use crate::fit::{FitMethod, Prediction, Rows, StepRecord};
use crate::linalg::SumAll;

const NAME: &str = "kernel_svm";

/// The kernel `k(a, b)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kernel {
    /// `exp(−γ‖a − b‖²)` (default).
    #[default]
    Rbf,
    /// `(γ·a·b + coef0)^degree`.
    Poly,
    /// `a·b`.
    Linear,
}

/// How `gamma` is chosen: a number, or scikit-learn's rules by name.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Gamma {
    /// A rule computed from the training data, `"scale"` or `"auto"`.
    Named(GammaRule),
    /// A fixed value, > 0.
    Value(f64),
}

/// scikit-learn's named `gamma` rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GammaRule {
    /// `1 / (n_features · Var(X))`, the variance over all feature values.
    Scale,
    /// `1 / n_features`.
    Auto,
}

/// `[model]` keys of `kind = "kernel_svm"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KernelSvmConfig {
    /// `"rbf"` (default), `"poly"` or `"linear"`.
    pub kernel: Kernel,
    /// Inverse regularisation strength, the box bound on the dual coefficients (default 1.0;
    /// scikit-learn's `C`, read too).
    #[serde(alias = "C")]
    pub c: f64,
    /// Kernel coefficient for `rbf` and `poly`: `"scale"` (default), `"auto"` or a number.
    pub gamma: Gamma,
    /// Degree of the `poly` kernel (default 3).
    pub degree: u32,
    /// Constant term of the `poly` kernel (default 0.0).
    pub coef0: f64,
    /// Stop when the maximal violation of the optimality conditions is below `tol` (1e-3).
    pub tol: f64,
    /// SMO iterations per binary problem at most (default: until `tol` is met).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_iter: Option<usize>,
    /// Memory for cached kernel rows in MiB (scikit-learn's `cache_size`, default 200). A
    /// smaller cache recomputes more rows but never changes the result; at least 34 rows are
    /// kept whatever the size.
    pub cache_size: f64,
}

impl Default for KernelSvmConfig {
    fn default() -> Self {
        Self {
            kernel: Kernel::Rbf,
            c: 1.0,
            gamma: Gamma::Named(GammaRule::Scale),
            degree: 3,
            coef0: 0.0,
            tol: 1e-3,
            max_iter: None,
            cache_size: 200.0,
        }
    }
}

/// Checked parameters of a kernel SVM for a given data shape.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KernelSvmParams {
    /// The kernel `k(a, b)`.
    pub kernel: Kernel,
    /// Inverse regularisation strength, > 0.
    pub c: f64,
    /// `gamma` as configured; the value used is resolved at fit time into
    /// [`KernelSvm::gamma`].
    pub gamma: Gamma,
    /// Degree of the `poly` kernel, at least 1.
    pub degree: u32,
    /// Constant term of the `poly` kernel.
    pub coef0: f64,
    /// Stopping tolerance on the maximal KKT violation, > 0.
    pub tol: f64,
    /// SMO iterations per binary problem at most (`usize::MAX`: no limit).
    pub max_iter: usize,
    /// `cache_size` in bytes.
    pub cache_bytes: usize,
    /// Number of feature columns, `d`.
    pub n_features: usize,
    /// Number of classes, at least 2.
    pub n_classes: usize,
}

impl KernelSvmParams {
    /// Decision functions: one for two classes, one per class (one-vs-rest) otherwise.
    pub fn outputs(&self) -> usize {
        if self.n_classes == 2 {
            1
        } else {
            self.n_classes
        }
    }
}

impl KernelSvmConfig {
    /// Validates the config against the data it will be fitted on.
    pub fn check(&self, shape: &DataShape) -> Result<KernelSvmParams, ConfigError> {
        let n_classes = crate::error::check_classes(NAME, shape)?;
        let positive = |key: &'static str, value: f64, example: &str| {
            if check_non_negative(key, value)? == 0.0 {
                return Err(ConfigError::Invalid {
                    key,
                    message: alloc::format!("`{key}` must be > 0; try {example}"),
                });
            }
            Ok(value)
        };
        let c = positive("c", self.c, "1.0")?;
        if let Gamma::Value(gamma) = self.gamma {
            positive("gamma", gamma, "\"scale\"")?;
        }
        if !self.coef0.is_finite() {
            return Err(ConfigError::NotFinite {
                key: "coef0",
                value: self.coef0,
            });
        }
        if self.degree == 0 {
            return Err(ConfigError::Invalid {
                key: "degree",
                message: "`degree` must be at least 1".into(),
            });
        }
        let tol = positive("tol", self.tol, "1e-3")?;
        let max_iter = match self.max_iter {
            Some(0) => {
                return Err(ConfigError::Invalid {
                    key: "max_iter",
                    message: "`max_iter` must be at least 1 (leave it out for no limit)".into(),
                });
            }
            Some(m) => m,
            None => usize::MAX,
        };
        let cache_size = positive("cache_size", self.cache_size, "200")?;
        Ok(KernelSvmParams {
            kernel: self.kernel,
            c,
            gamma: self.gamma,
            degree: self.degree,
            coef0: self.coef0,
            tol,
            max_iter,
            // Saturates for absurd sizes: the cache never holds more than the n × n matrix.
            cache_bytes: (cache_size * MIB) as usize,
            n_features: shape.n_features,
            n_classes,
        })
    }
}

/// Bytes in the MiB of `cache_size` (libsvm's unit).
const MIB: f64 = (1u64 << 20) as f64;

/// Kernel values (rows × support vectors) the prediction computes at once at most: 64 MiB.
const PREDICT_BLOCK_VALUES: usize = 1 << 24;

/// Support vectors `[m, d]`, their dual coefficients `α·y` per decision function
/// `[m, outputs]`, the intercepts `[1, outputs]` and the resolved `gamma` `[1]`. An unfitted
/// model has one zero support vector with coefficient 0; a fitted one as many as the solver
/// kept, which is why loading a saved model reads its shapes first
/// ([`Estimator::shaped_for`]).
#[derive(Module, Debug)]
pub struct KernelSvm {
    /// The support vectors, `[m, d]` (scikit-learn's `support_vectors_`).
    pub support_vectors: Param<Tensor<2>>,
    /// `α·y` of each support vector per decision function, `[m, outputs]`.
    pub dual_coef: Param<Tensor<2>>,
    /// The intercept of each decision function, `[1, outputs]`.
    pub intercept: Param<Tensor<2>>,
    /// The resolved kernel coefficient `γ`, `[1]`.
    pub gamma: Param<Tensor<1>>,
    /// The checked parameters it was built with.
    #[module(skip)]
    pub params: KernelSvmParams,
    #[module(skip)]
    progress: Box<Progress>,
}

/// The solver's state across steps: the kernel rows (rebuilt from the data on resume) and one
/// SMO problem per decision function.
#[derive(Debug, Default)]
struct Progress {
    kernel: Option<KernelRows>,
    problems: Vec<Smo>,
}

/// A clone leaves the kernel rows behind, to be set up again at its next step: they are a cache
/// of values computed from the data (see [`KernelRows`]), up to `cache_size` of them, and the
/// trainer clones the model to save it after every step.
impl Clone for Progress {
    fn clone(&self) -> Self {
        Self {
            kernel: None,
            problems: self.problems.clone(),
        }
    }
}

/// The fit's state for a checkpoint: each problem's solver state (the kernel rows are
/// recomputed from the data; they are the same values whenever computed).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KernelSvmState {
    problems: Vec<Smo>,
}

/// Kernel rows computed before one read-back, where the solver knows it needs them all
/// (rebuilding the gradient). Each is still its own product (see [`KernelRows`]).
const ROWS_PER_READ: usize = 32;

/// Rows of the training kernel matrix, computed on the device on demand and cached on the
/// host.
///
/// Each row is computed as its own `[1, d'] · [d', n]` product, whatever else is computed with
/// it: a row's values must not depend on how it was computed, because a resumed fit starts
/// with an empty cache and must continue exactly as the fit it resumes. (Products of other
/// shapes round differently on the CPU backends: one row of an eight-row product is not the
/// same row computed alone.) Rows are not computed ahead of need: on the CPU backends, where
/// kiln is compared with libsvm, a row costs about as much alone as with others, so guesses
/// that miss are waste (batches of 32 rows, the needed one and the solver's next violators,
/// computed 2.6 times the rows needed on the 5,000-row benchmark), and with every row its own
/// product, two guesses per read-back saved no time on wgpu over Mesa's software Vulkan either.
#[derive(Clone, Debug)]
struct KernelRows {
    kernel: Kernel,
    degree: u32,
    /// `[n, d']` and `[d', n]` factors: row `t` of `left · right_t` is the kernel's argument
    /// for row `t` against every row (see [`KernelSvm::kernel_rows`]).
    left: Tensor<2>,
    right_t: Tensor<2>,
    /// `K_tt`, read in every working-set selection.
    diagonal: Vec<f64>,
    cache: RowCache,
}

impl KernelRows {
    fn is_cached(&self, row: usize) -> bool {
        self.cache.slot_of_row[row].is_some()
    }

    /// Row `row` of the kernel matrix; it must have been fetched since it was last evicted.
    fn row(&self, row: usize) -> &[f32] {
        self.cache.row(row)
    }

    /// Makes sure row `row` is cached and marks it as just used.
    fn fetch(&mut self, row: usize) -> Result<(), FitError> {
        if !self.cache.touch(row) {
            self.compute(&[row])?;
        }
        Ok(())
    }

    /// Computes and caches `rows` (none cached, at most [`ROWS_PER_READ`]) with one read-back.
    fn compute(&mut self, rows: &[usize]) -> Result<(), FitError> {
        let products = rows
            .iter()
            .map(|&t| {
                let row = self.left.clone().narrow(0, t, 1);
                self.of_products(crate::linalg::matmul(row, self.right_t.clone()))
            })
            .collect();
        let values = read_f32(Tensor::cat(products, 0))?;
        for (&t, values) in rows.iter().zip(values.chunks_exact(self.diagonal.len())) {
            self.cache.insert(t, values);
        }
        Ok(())
    }

    /// The kernel values from the products `left · right_t`.
    fn of_products(&self, products: Tensor<2>) -> Tensor<2> {
        match self.kernel {
            // Rounding can make −γ‖a − b‖² slightly positive for (near) equal rows.
            Kernel::Rbf => products.clamp_max(0.0).exp(),
            Kernel::Poly => products.powi_scalar(self.degree as i32),
            Kernel::Linear => products,
        }
    }
}

/// Kernel rows in at most `capacity` slots; the least recently used row is evicted first.
#[derive(Clone)]
struct RowCache {
    capacity: usize,
    /// Per training row: the slot holding it.
    slot_of_row: Vec<Option<usize>>,
    slots: Vec<CachedRow>,
    /// Counts uses, to order them.
    clock: u64,
}

#[derive(Clone)]
struct CachedRow {
    row: usize,
    last_used: u64,
    values: Box<[f32]>,
}

impl core::fmt::Debug for RowCache {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RowCache")
            .field("capacity", &self.capacity)
            .field("cached", &self.slots.len())
            .finish_non_exhaustive()
    }
}

impl RowCache {
    /// A cache for rows of `n` values in at most `bytes`, but never fewer than `min_rows` rows
    /// (nor more than `n`: the whole matrix).
    fn new(n: usize, bytes: usize, min_rows: usize) -> Self {
        let row_bytes = n.max(1) * core::mem::size_of::<f32>();
        Self {
            capacity: (bytes / row_bytes).max(min_rows).min(n),
            slot_of_row: vec![None; n],
            slots: Vec::new(),
            clock: 0,
        }
    }

    fn row(&self, row: usize) -> &[f32] {
        let slot = self.slot_of_row[row].expect("kernel row fetched before it is read");
        &self.slots[slot].values
    }

    /// Marks `row` as just used; `false` when it is not cached.
    fn touch(&mut self, row: usize) -> bool {
        let Some(slot) = self.slot_of_row[row] else {
            return false;
        };
        self.clock += 1;
        self.slots[slot].last_used = self.clock;
        true
    }

    /// Stores `values` as row `row` (not cached yet), evicting the least recently used row when
    /// the cache is full.
    fn insert(&mut self, row: usize, values: &[f32]) {
        self.clock += 1;
        let slot = if self.slots.len() < self.capacity {
            self.slots.push(CachedRow {
                row,
                last_used: self.clock,
                values: values.into(),
            });
            self.slots.len() - 1
        } else {
            // A linear scan: at most `n` slots, as many values as computing one row writes.
            let (slot, evicted) = self
                .slots
                .iter_mut()
                .enumerate()
                .min_by_key(|(_, cached)| cached.last_used)
                .expect("a full cache has a slot");
            self.slot_of_row[evicted.row] = None;
            evicted.row = row;
            evicted.last_used = self.clock;
            evicted.values.copy_from_slice(values);
            slot
        };
        self.slot_of_row[row] = Some(slot);
    }
}

/// libsvm's floor on a non-positive curvature.
const TAU: f64 = 1e-12;

/// libsvm shrinks the active set every `min(n, SHRINK_INTERVAL)` iterations.
const SHRINK_INTERVAL: usize = 1000;

/// One binary dual problem: `min ½αᵀQα − Σα`, `0 ≤ α ≤ C`, `yᵀα = 0`, `Q_ij = y_i y_j K_ij`.
/// Everything that decides the next iteration is here (and so in a checkpoint): a resumed fit
/// continues exactly as the uninterrupted one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Smo {
    /// +1 or −1 per training row.
    y: Vec<f64>,
    #[serde(with = "exact_f64s")]
    alpha: Vec<f64>,
    /// `Qα − 1`: current for the active variables; a shrunk variable's is as it was when it
    /// left the active set, until [`Smo::unshrink`] rebuilds it.
    #[serde(with = "exact_f64s")]
    grad: Vec<f64>,
    /// `C·Σ_{j: α_j = C} Q_tj`, the gradient's part from the multipliers at the upper bound
    /// (libsvm's `G_bar`): with it, rebuilding a gradient needs the kernel rows of the free
    /// multipliers only.
    #[serde(with = "exact_f64s")]
    grad_at_upper: Vec<f64>,
    /// The variables the iterations work on, ascending; the others are at a bound and are
    /// expected to stay there (libsvm's shrinking).
    active: Vec<usize>,
    /// Iterations until the next shrinking (libsvm's `counter`).
    until_shrink: usize,
    /// Whether the active set has been reset once near the optimum (libsvm's `unshrink`).
    unshrunk: bool,
    iterations: usize,
    done: bool,
}

/// `f64`s serialized by their bits: serde_json without its `float_roundtrip` feature (kiln
/// builds it without) may read a printed `f64` back one unit in the last place off, and a
/// resumed solve must continue from exactly the numbers it stopped at.
mod exact_f64s {
    use alloc::vec::Vec;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(values: &[f64], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(values.iter().map(|v| v.to_bits()))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<f64>, D::Error> {
        Ok(Vec::<u64>::deserialize(deserializer)?
            .into_iter()
            .map(f64::from_bits)
            .collect())
    }
}

impl Smo {
    fn new(y: Vec<f64>) -> Self {
        let n = y.len();
        Self {
            y,
            alpha: vec![0.0; n],
            grad: vec![-1.0; n],
            grad_at_upper: vec![0.0; n],
            active: (0..n).collect(),
            // libsvm shrinks first after min(n, 1000) + 1 iterations, then every min(n, 1000).
            until_shrink: n.min(SHRINK_INTERVAL) + 1,
            unshrunk: false,
            iterations: 0,
            done: false,
        }
    }

    fn is_upper(&self, t: usize, c: f64) -> bool {
        self.alpha[t] >= c
    }

    fn is_lower(&self, t: usize) -> bool {
        self.alpha[t] <= 0.0
    }

    fn is_free(&self, t: usize, c: f64) -> bool {
        !self.is_upper(t, c) && !self.is_lower(t)
    }

    /// Whether `y_t·α_t` can grow (libsvm's `I_up`): where the violation `−y_t·G_t` counts.
    fn can_rise(&self, t: usize, c: f64) -> bool {
        if self.y[t] > 0.0 {
            !self.is_upper(t, c)
        } else {
            !self.is_lower(t)
        }
    }

    /// Whether `y_t·α_t` can fall (libsvm's `I_low`): where `y_t·G_t` counts.
    fn can_fall(&self, t: usize, c: f64) -> bool {
        if self.y[t] > 0.0 {
            !self.is_lower(t)
        } else {
            !self.is_upper(t, c)
        }
    }

    /// libsvm's second-order working-set selection over the active variables; `None` once
    /// their maximal violation is below `tol`.
    fn select(
        &self,
        kernel: &mut KernelRows,
        c: f64,
        tol: f64,
    ) -> Result<Option<(usize, usize)>, FitError> {
        let (mut g_max, mut i) = (f64::NEG_INFINITY, None);
        for &t in &self.active {
            if self.can_rise(t, c) {
                let violation = -self.y[t] * self.grad[t];
                if violation >= g_max {
                    (g_max, i) = (violation, Some(t));
                }
            }
        }
        let Some(i) = i else {
            return Ok(None);
        };
        kernel.fetch(i)?;
        let row_i = kernel.row(i);
        let k_ii = kernel.diagonal[i];
        let (mut g_max2, mut j, mut best) = (f64::NEG_INFINITY, None, f64::INFINITY);
        for &t in &self.active {
            if !self.can_fall(t, c) {
                continue;
            }
            let signed_grad = self.y[t] * self.grad[t];
            g_max2 = g_max2.max(signed_grad);
            let grad_diff = g_max + signed_grad;
            if grad_diff > 0.0 {
                // K_ii + K_tt − 2·K_it = ‖φ(x_i) − φ(x_t)‖²: the curvature along the pair's
                // direction, whatever their labels.
                let quad = k_ii + kernel.diagonal[t] - 2.0 * row_i[t] as f64;
                let gain = -(grad_diff * grad_diff) / if quad > 0.0 { quad } else { TAU };
                if gain <= best {
                    (best, j) = (gain, Some(t));
                }
            }
        }
        if g_max + g_max2 < tol {
            return Ok(None);
        }
        Ok(j.map(|j| (i, j)))
    }

    /// Optimises the pair `(i, j)` analytically and updates the gradient (libsvm's update);
    /// row `i` is cached (the selection fetched it).
    fn update(
        &mut self,
        kernel: &mut KernelRows,
        c: f64,
        i: usize,
        j: usize,
    ) -> Result<(), FitError> {
        kernel.fetch(j)?;
        let (row_i, row_j) = (kernel.row(i), kernel.row(j));
        let (k_ii, k_jj, k_ij) = (kernel.diagonal[i], kernel.diagonal[j], row_i[j] as f64);
        let (yi, yj) = (self.y[i], self.y[j]);
        let (old_i, old_j) = (self.alpha[i], self.alpha[j]);
        let (mut ai, mut aj) = (old_i, old_j);
        // ‖φ(x_i) − φ(x_j)‖², floored where the kernel is not positive definite.
        let quad = k_ii + k_jj - 2.0 * k_ij;
        let quad = if quad > 0.0 { quad } else { TAU };
        if yi != yj {
            let delta = (-self.grad[i] - self.grad[j]) / quad;
            let diff = ai - aj;
            ai += delta;
            aj += delta;
            if diff > 0.0 {
                if aj < 0.0 {
                    (aj, ai) = (0.0, diff);
                }
            } else if ai < 0.0 {
                (ai, aj) = (0.0, -diff);
            }
            if diff > 0.0 {
                if ai > c {
                    (ai, aj) = (c, c - diff);
                }
            } else if aj > c {
                (aj, ai) = (c, c + diff);
            }
        } else {
            let delta = (self.grad[i] - self.grad[j]) / quad;
            let sum = ai + aj;
            ai -= delta;
            aj += delta;
            if sum > c {
                if ai > c {
                    (ai, aj) = (c, sum - c);
                }
            } else if aj < 0.0 {
                (aj, ai) = (0.0, sum);
            }
            if sum > c {
                if aj > c {
                    (aj, ai) = (c, sum - c);
                }
            } else if ai < 0.0 {
                (ai, aj) = (0.0, sum);
            }
        }
        self.alpha[i] = ai;
        self.alpha[j] = aj;
        // G_t += Q_ti·Δα_i + Q_tj·Δα_j, with Q_ti = y_t·y_i·K_ti, for the active variables.
        let (di, dj) = ((ai - old_i) * yi, (aj - old_j) * yj);
        for &t in &self.active {
            self.grad[t] += self.y[t] * (row_i[t] as f64 * di + row_j[t] as f64 * dj);
        }
        // A multiplier reaching or leaving C moves its column into or out of `grad_at_upper`,
        // for every variable (the shrunk ones need it to be rebuilt).
        for (t, row, old, y) in [(i, row_i, old_i, yi), (j, row_j, old_j, yj)] {
            let was_upper = old >= c;
            if was_upper != self.is_upper(t, c) {
                let step = if was_upper { -c * y } else { c * y };
                for ((bar, &yk), &k) in self.grad_at_upper.iter_mut().zip(&self.y).zip(row) {
                    *bar += step * yk * k as f64;
                }
            }
        }
        Ok(())
    }

    /// libsvm's shrinking: leaves out the variables at a bound whose gradient says they will
    /// stay there; the first time the violation is within `10·tol`, first brings every
    /// variable back with its gradient rebuilt, so that the end game starts from the truth.
    fn shrink(&mut self, kernel: &mut KernelRows, c: f64, tol: f64) -> Result<(), FitError> {
        // The largest violations over I_up (−y·G) and I_low (y·G).
        let (mut up_max, mut low_max) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
        for &t in &self.active {
            let signed_grad = self.y[t] * self.grad[t];
            if self.can_rise(t, c) {
                up_max = up_max.max(-signed_grad);
            }
            if self.can_fall(t, c) {
                low_max = low_max.max(signed_grad);
            }
        }
        if !self.unshrunk && up_max + low_max <= 10.0 * tol {
            self.unshrunk = true;
            self.unshrink(kernel, c)?;
        }
        let mut active = core::mem::take(&mut self.active);
        active.retain(|&t| !self.can_be_shrunk(t, c, up_max, low_max));
        self.active = active;
        Ok(())
    }

    /// libsvm's `be_shrunk`: a variable at a bound that could only move the way its gradient
    /// forbids by more than the largest violation on that side.
    fn can_be_shrunk(&self, t: usize, c: f64, up_max: f64, low_max: f64) -> bool {
        let (y, g) = (self.y[t], self.grad[t]);
        if self.is_upper(t, c) {
            if y > 0.0 { -g > up_max } else { -g > low_max }
        } else if self.is_lower(t) {
            if y > 0.0 { g > low_max } else { g > up_max }
        } else {
            false
        }
    }

    /// Makes every variable active again, their gradients rebuilt.
    fn unshrink(&mut self, kernel: &mut KernelRows, c: f64) -> Result<(), FitError> {
        if self.active.len() < self.y.len() {
            self.grad = self.full_gradient(kernel, c)?.into_owned();
            self.active = (0..self.y.len()).collect();
        }
        Ok(())
    }

    /// The gradient of every variable (libsvm's `reconstruct_gradient`, on a copy): a shrunk
    /// variable's is `grad_at_upper − 1` plus the free multipliers' part. Shrunk variables are
    /// at a bound, so every free multiplier is active and its kernel row is likely cached.
    fn full_gradient(&self, kernel: &mut KernelRows, c: f64) -> Result<Cow<'_, [f64]>, FitError> {
        let n = self.y.len();
        if self.active.len() == n {
            return Ok(Cow::Borrowed(&self.grad));
        }
        let mut is_active = vec![false; n];
        for &t in &self.active {
            is_active[t] = true;
        }
        let shrunk: Vec<usize> = (0..n).filter(|&t| !is_active[t]).collect();
        let mut grad = self.grad.clone();
        for &t in &shrunk {
            grad[t] = self.grad_at_upper[t] - 1.0;
        }
        let free: Vec<usize> = self
            .active
            .iter()
            .copied()
            .filter(|&t| self.is_free(t, c))
            .collect();
        for (k, &i) in free.iter().enumerate() {
            if !kernel.cache.touch(i) {
                // Missing rows are computed with the next missing ones, for one read-back.
                let missing: Vec<usize> = free[k..]
                    .iter()
                    .copied()
                    .filter(|&t| !kernel.is_cached(t))
                    .take(ROWS_PER_READ)
                    .collect();
                kernel.compute(&missing)?;
            }
            let row = kernel.row(i);
            let coef = self.alpha[i] * self.y[i];
            for &t in &shrunk {
                grad[t] += coef * self.y[t] * row[t] as f64;
            }
        }
        Ok(Cow::Owned(grad))
    }

    /// Runs at most `iterations` SMO iterations (and the problem's `max_iter` in all); libsvm's
    /// `Solve` loop.
    fn run(
        &mut self,
        kernel: &mut KernelRows,
        params: &KernelSvmParams,
        iterations: usize,
    ) -> Result<(), FitError> {
        let (c, tol) = (params.c, params.tol);
        for _ in 0..iterations {
            if self.iterations >= params.max_iter {
                self.unshrink(kernel, c)?;
                self.done = true;
                return Ok(());
            }
            self.until_shrink -= 1;
            if self.until_shrink == 0 {
                self.until_shrink = self.y.len().min(SHRINK_INTERVAL);
                self.shrink(kernel, c, tol)?;
            }
            let (i, j) = match self.select(kernel, c, tol)? {
                Some(pair) => pair,
                None => {
                    // Optimal on the active set: check it on every variable.
                    self.unshrink(kernel, c)?;
                    match self.select(kernel, c, tol)? {
                        Some(pair) => {
                            // Not optimal after all: shrink again at the next iteration.
                            self.until_shrink = 1;
                            pair
                        }
                        None => {
                            self.done = true;
                            return Ok(());
                        }
                    }
                }
            };
            self.update(kernel, c, i, j)?;
            self.iterations += 1;
        }
        Ok(())
    }

    /// libsvm's `rho` (the decision function is `Σ α_i y_i K(x_i, x) − rho`) from the full
    /// gradient `grad`: the mean of `y·G` over the free multipliers, or the middle of its
    /// feasible range when none is free.
    fn rho(&self, grad: &[f64], c: f64) -> f64 {
        let (mut upper, mut lower) = (f64::INFINITY, f64::NEG_INFINITY);
        let (mut free_sum, mut free) = (0.0, 0usize);
        for (t, g) in grad.iter().enumerate() {
            let yg = self.y[t] * g;
            let at_upper = self.is_upper(t, c);
            if at_upper || self.is_lower(t) {
                // Bounded multipliers bracket rho from one side or the other.
                if at_upper == (self.y[t] < 0.0) {
                    upper = upper.min(yg);
                } else {
                    lower = lower.max(yg);
                }
            } else {
                free += 1;
                free_sum += yg;
            }
        }
        if free > 0 {
            free_sum / free as f64
        } else {
            (upper + lower) / 2.0
        }
    }

    /// The primal objective `½‖w‖² + C·Σ hinge`, from the full gradient `grad` alone: the
    /// decision value of row `t` is `y_t(G_t + 1) − rho` and `‖w‖² = Σ α_t(G_t + 1)`.
    fn primal(&self, grad: &[f64], c: f64, rho: f64) -> f64 {
        let mut norm = 0.0;
        let mut hinge = 0.0;
        for (t, g) in grad.iter().enumerate() {
            let kernel_sum = g + 1.0;
            norm += self.alpha[t] * kernel_sum;
            let decision = self.y[t] * kernel_sum - rho;
            hinge += (1.0 - self.y[t] * decision).max(0.0);
        }
        0.5 * norm + c * hinge
    }
}

impl KernelSvm {
    /// An unfitted model: one zero support vector with a zero coefficient.
    pub fn new(params: KernelSvmParams, device: &Device) -> Self {
        Self::with_support(params, 1, device)
    }

    /// An unfitted model with room for `n_support` support vectors, to load saved weights into.
    pub fn with_support(params: KernelSvmParams, n_support: usize, device: &Device) -> Self {
        let outputs = params.outputs();
        Self {
            support_vectors: Param::from_tensor(Tensor::zeros(
                [n_support, params.n_features],
                device,
            )),
            dual_coef: Param::from_tensor(Tensor::zeros([n_support, outputs], device)),
            intercept: Param::from_tensor(Tensor::zeros([1, outputs], device)),
            gamma: Param::from_tensor(Tensor::ones([1], device)),
            params,
            progress: Box::default(),
        }
    }

    /// `k(a_i, b_j)` for every pair of rows, `[n, m]`, with this model's `gamma`.
    fn kernel(&self, a: Tensor<2>, b: Tensor<2>) -> Tensor<2> {
        let gamma = self.gamma.val().unsqueeze_dim::<2>(0); // [1, 1]
        match self.params.kernel {
            Kernel::Linear => crate::linalg::matmul(a, b.transpose()),
            Kernel::Rbf => {
                // −γ‖a − b‖² = 2γ·a·bᵀ − γ‖a‖² − γ‖b‖², with the scalings applied to the
                // small factors: four passes over the [n, m] result instead of seven.
                let a_norms = a.clone().square().sum_dim(1) * gamma.clone().neg(); // [n, 1]
                let b_norms = (b.clone().square().sum_dim(1) * gamma.clone().neg()).transpose();
                let cross = crate::linalg::matmul(a * gamma.mul_scalar(2.0), b.transpose());
                (cross + a_norms + b_norms).clamp_max(0.0).exp()
            }
            Kernel::Poly => (crate::linalg::matmul(a, b.transpose()) * gamma)
                .add_scalar(self.params.coef0)
                .powi_scalar(self.params.degree as i32),
        }
    }

    /// The decision function, `[n, 1]` (binary: class 1 where > 0) or `[n, n_classes]`.
    pub fn decision_function(&self, x: Tensor<2>) -> Tensor<2> {
        self.weighted_kernel_sums(x, PREDICT_BLOCK_VALUES) + self.intercept.val()
    }

    /// `Σ_s β_s·k(x_t, sv_s)` per row `t` and decision function, `[n, outputs]`, for the dual
    /// coefficients β. Computed in blocks of rows, so that the `[rows, support vectors]`
    /// kernel block stays within `max_values` however many rows there are.
    fn weighted_kernel_sums(&self, x: Tensor<2>, max_values: usize) -> Tensor<2> {
        let n = x.dims()[0];
        let rows = (max_values / self.n_support().max(1)).max(1);
        let block = |x: Tensor<2>| {
            crate::linalg::matmul(
                self.kernel(x, self.support_vectors.val()),
                self.dual_coef.val(),
            )
        };
        if n <= rows {
            return block(x);
        }
        Tensor::cat(
            (0..n)
                .step_by(rows)
                .map(|begin| block(x.clone().narrow(0, begin, rows.min(n - begin))))
                .collect(),
            0,
        )
    }

    /// The training objective on `batch`, as the fit reports it: per decision function, the
    /// mean hinge loss plus `‖w‖²/(2·C·n_train)` (`‖w‖² = βᵀK_SV β` for the coefficients β),
    /// averaged over the decision functions.
    pub fn primal_loss(&self, batch: &Batch, n_train: usize) -> Result<Tensor<1>, FitError> {
        let classes = classes(batch)?;
        let outputs = self.params.outputs();
        // ±1 per row and decision function: class 1 (binary) or the function's own class.
        let signs = if outputs == 1 {
            classes.clone().float().unsqueeze_dim::<2>(1)
        } else {
            crate::linalg::one_hot(classes.clone(), outputs)
        }
        .mul_scalar(2.0)
        .sub_scalar(1.0);
        let margins = self.decision_function(batch.x.clone()) * signs;
        let hinge = margins.neg().add_scalar(1.0).clamp_min(0.0);
        let coef = self.dual_coef.val();
        let support = self.support_vectors.val();
        let norms = (self.weighted_kernel_sums(support, PREDICT_BLOCK_VALUES) * coef).sum_all();
        let rows = batch.len().max(1) as f64;
        Ok((hinge.sum_all().div_scalar(rows)
            + norms.div_scalar(2.0 * self.params.c * n_train.max(1) as f64))
        .div_scalar(outputs as f64))
    }

    /// Number of support vectors kept.
    pub fn n_support(&self) -> usize {
        self.support_vectors.val().dims()[0]
    }

    /// The solver's state for a checkpoint.
    pub fn state(&self) -> KernelSvmState {
        KernelSvmState {
            problems: self.progress.problems.clone(),
        }
    }

    /// Puts back what [`KernelSvm::state`] gave; the kernel rows are set up again at the next
    /// step.
    pub fn restore(&mut self, state: KernelSvmState) {
        *self.progress = Progress {
            kernel: None,
            problems: state.problems,
        };
    }

    /// Resolves `gamma` for the training data `x`.
    fn resolve_gamma(&self, x: &Tensor<2>) -> Result<f64, FitError> {
        let d = self.params.n_features as f64;
        Ok(match self.params.gamma {
            Gamma::Value(g) => g,
            Gamma::Named(GammaRule::Auto) => 1.0 / d,
            Gamma::Named(GammaRule::Scale) => {
                let mean = crate::linalg::mean_all(x.clone());
                let centred = x.clone() - mean.unsqueeze_dim::<2>(0);
                let variance = read_f32(crate::linalg::mean_all(centred.square()))?[0] as f64;
                if variance > 0.0 {
                    1.0 / (d * variance)
                } else {
                    1.0
                }
            }
        })
    }

    /// The training rows' kernel matrix, row by row on demand (nothing is computed yet but
    /// the diagonal).
    fn kernel_rows(&self, x: &Tensor<2>) -> Result<KernelRows, FitError> {
        let n = x.dims()[0];
        let device = x.device();
        let gamma = self.gamma.val().unsqueeze_dim::<2>(0); // [1, 1]
        let norms = x.clone().square().sum_dim(1); // [n, 1]
        let ones = Tensor::ones([n, 1], &device);
        // The kernel's argument as one product `left · rightᵀ`, so each row takes one matmul
        // and at most two passes; `right` is stored transposed by `cat`, a fresh contiguous
        // tensor (gemm is 2.5 times slower on a transposed view).
        let (left, right, diagonal) = match self.params.kernel {
            Kernel::Rbf => {
                // −γ‖a − b‖² = [2γ·a, −γ‖a‖², 1] · [b, 1, −γ‖b‖²].
                let neg_norms = norms * gamma.clone().neg();
                let left = vec![
                    x.clone() * gamma.mul_scalar(2.0),
                    neg_norms.clone(),
                    ones.clone(),
                ];
                (left, vec![x.clone(), ones, neg_norms], vec![1.0; n])
            }
            Kernel::Poly => {
                // γ·a·b + coef0 = [γ·a, coef0] · [b, 1].
                let coef0 = ones.clone().mul_scalar(self.params.coef0);
                let diagonal = (norms * gamma.clone())
                    .add_scalar(self.params.coef0)
                    .powi_scalar(self.params.degree as i32);
                let left = vec![x.clone() * gamma, coef0];
                (left, vec![x.clone(), ones], read_f64(diagonal)?)
            }
            Kernel::Linear => {
                // a·b = [a, 0] · [b, 0] exactly; the zero column only makes `cat` build `right`.
                let zeros = Tensor::zeros([n, 1], &device);
                let left = vec![x.clone(), zeros.clone()];
                (left, vec![x.clone(), zeros], read_f64(norms)?)
            }
        };
        let right_t = right.into_iter().map(|part| part.transpose()).collect();
        Ok(KernelRows {
            kernel: self.params.kernel,
            degree: self.params.degree,
            left: Tensor::cat(left, 1),
            right_t: Tensor::cat(right_t, 0),
            diagonal,
            // Room for a read-back's rows beside the two rows of the pair being updated.
            cache: RowCache::new(n, self.params.cache_bytes, ROWS_PER_READ + 2),
        })
    }

    /// Sets up what the solver needs and is not yet there: `gamma` and the kernel rows (at the
    /// first step and after a resume), the problems (at the first step).
    fn prepare(&mut self, data: &Batch) -> Result<(), FitError> {
        let classes = classes(data)?;
        if self.progress.kernel.is_none() {
            let gamma = self.resolve_gamma(&data.x)?;
            let device = data.x.device();
            self.gamma = Param::initialized(
                self.gamma.id,
                Tensor::from_data(TensorData::new(vec![gamma as f32], [1]), &device),
            );
            self.progress.kernel = Some(self.kernel_rows(&data.x)?);
        }
        if self.progress.problems.is_empty() {
            let labels = read_labels(classes.clone())?;
            let outputs = self.params.outputs();
            self.progress.problems = (0..outputs)
                .map(|p| {
                    // Binary: class 1 is +1. One-vs-rest: class p against the others.
                    let positive = if outputs == 1 { 1 } else { p };
                    Smo::new(
                        labels
                            .iter()
                            .map(|&l| if l == positive { 1.0 } else { -1.0 })
                            .collect(),
                    )
                })
                .collect();
        }
        Ok(())
    }

    /// `n` SMO iterations (at least 1,000) on the first unsolved problem.
    pub fn smo_step(&mut self, data: &Batch) -> Result<StepRecord, FitError> {
        self.prepare(data)?;
        let n = data.len();
        let Progress { kernel, problems } = &mut *self.progress;
        let kernel = kernel.as_mut().expect("prepared");
        if let Some(problem) = problems.iter_mut().find(|p| !p.done) {
            problem.run(kernel, &self.params, n.max(1000))?;
        }
        let c = self.params.c;
        let (mut rhos, mut primal) = (Vec::with_capacity(problems.len()), 0.0);
        for problem in problems.iter() {
            // Mid-fit, shrunk variables' gradients are rebuilt on a copy: the report must not
            // change what the next step does.
            let grad = problem.full_gradient(kernel, c)?;
            let rho = problem.rho(&grad, c);
            primal += problem.primal(&grad, c, rho);
            rhos.push(rho);
        }
        let converged = problems.iter().all(|p| p.done);
        self.keep_support_vectors(&data.x, &rhos);
        Ok(StepRecord {
            loss: primal / (c * n.max(1) as f64 * self.progress.problems.len() as f64),
            converged,
            jitter: 0.0,
        })
    }

    /// Sets the module to the current solution: the rows with a non-zero multiplier in any
    /// problem, their coefficients `α·y` and the intercepts `−rho` (one `rho` per problem).
    fn keep_support_vectors(&mut self, x: &Tensor<2>, rhos: &[f64]) {
        let problems = &self.progress.problems;
        let n = x.dims()[0];
        let support: Vec<usize> = (0..n)
            .filter(|&t| problems.iter().any(|p| p.alpha[t] > 0.0))
            .collect();
        let device = x.device();
        let outputs = problems.len();
        // Keep one zero row rather than none: burn has no empty tensors to save.
        let (rows, coef) = if support.is_empty() {
            (
                Tensor::zeros([1, self.params.n_features], &device),
                vec![0.0f32; outputs],
            )
        } else {
            let index: Vec<i64> = support.iter().map(|&t| t as i64).collect();
            let index = Tensor::<1, burn::tensor::Int>::from_data(
                TensorData::new(index, [support.len()]),
                &device,
            );
            let coef = support
                .iter()
                .flat_map(|&t| problems.iter().map(move |p| (p.alpha[t] * p.y[t]) as f32))
                .collect();
            (x.clone().select(0, index), coef)
        };
        let m = rows.dims()[0];
        let intercept: Vec<f32> = rhos.iter().map(|rho| -rho as f32).collect();
        self.support_vectors = Param::initialized(self.support_vectors.id, rows);
        self.dual_coef = Param::initialized(
            self.dual_coef.id,
            Tensor::from_data(TensorData::new(coef, [m, outputs]), &device),
        );
        self.intercept = Param::initialized(
            self.intercept.id,
            Tensor::from_data(TensorData::new(intercept, [1, outputs]), &device),
        );
    }
}

/// A tensor's values on the host, widened to f64.
fn read_f64(tensor: Tensor<2>) -> Result<Vec<f64>, FitError> {
    Ok(read_f32(tensor)?.into_iter().map(f64::from).collect())
}

/// Class indices back on the host.
fn read_labels(classes: Tensor<1, burn::tensor::Int>) -> Result<Vec<usize>, FitError> {
    Ok(classes
        .try_into_data()
        .map_err(|e| FitError::Device(alloc::format!("{e:?}")))?
        .try_into_vec_as::<i64>()
        .map_err(|e| FitError::Device(alloc::format!("{e:?}")))?
        .into_iter()
        .map(|l| l as usize)
        .collect())
}

/// The class labels of a batch.
fn classes(batch: &Batch) -> Result<&Tensor<1, burn::tensor::Int>, FitError> {
    match &batch.targets {
        Targets::Classes(classes) => Ok(classes),
        Targets::Values(_) => Err(FitError::WrongTargets {
            model: NAME,
            needs: "class labels",
        }),
    }
}

impl Estimator for KernelSvm {
    type Config = KernelSvmConfig;
    type Params = KernelSvmParams;
    const KINDS: &'static [&'static str] = &[NAME];

    fn supervision(_: &KernelSvmConfig) -> Supervision {
        Supervision::Labels
    }

    fn check(config: &KernelSvmConfig, shape: &DataShape) -> Result<KernelSvmParams, ConfigError> {
        config.check(shape)
    }

    fn fit_method(_: &KernelSvmParams) -> FitMethod {
        FitMethod::Iterative
    }

    fn output(_: &KernelSvmParams) -> Output {
        Output::Scores
    }

    fn init(params: &KernelSvmParams, device: &Device) -> Self {
        Self::new(*params, device)
    }

    /// A model with room for the support vectors the weights hold.
    fn shaped_for(
        params: &KernelSvmParams,
        weights: &[u8],
        device: &Device,
    ) -> Result<Self, burn::store::RecordError> {
        let n_support = crate::estimator::stored_rows(weights, "support_vectors")?;
        Ok(Self::with_support(*params, n_support, device))
    }

    fn predict(&self, x: Tensor<2>) -> Prediction {
        Prediction::Scores(self.decision_function(x))
    }

    /// The primal objective divided by `C·n` (see [`KernelSvm::primal_loss`]): what the solver
    /// reports and what on-device training checks.
    fn loss(&self, batch: &Batch, n_train: usize) -> Result<Tensor<1>, FitError> {
        self.primal_loss(batch, n_train)
    }

    /// SMO takes every row at once.
    fn fit_step(&mut self, rows: &mut dyn Rows) -> Result<StepRecord, FitError> {
        let data = rows.all()?;
        self.smo_step(&data)
    }

    /// The number of support vectors.
    fn describe(&self) -> Result<Option<alloc::string::String>, FitError> {
        Ok(Some(alloc::format!("{} support vectors", self.n_support())))
    }

    fn fit_state(&self) -> Result<Option<serde_json::Value>, FitError> {
        state_to_json(&self.state())
    }

    fn restore_fit_state(&mut self, state: serde_json::Value) -> Result<(), FitError> {
        self.restore(state_from_json(state)?);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Task;
    use crate::testing::{classification_batch, features, for_each_device};

    fn shape(n_classes: usize) -> DataShape {
        DataShape {
            n_features: 2,
            task: Task::Classification { n_classes },
        }
    }

    fn fit(config: KernelSvmConfig, batch: &Batch, n_classes: usize, device: &Device) -> KernelSvm {
        let mut model = KernelSvm::new(config.check(&shape(n_classes)).unwrap(), device);
        for _ in 0..1000 {
            if model.smo_step(batch).unwrap().converged {
                return model;
            }
        }
        panic!(
            "SMO did not converge: {:?}",
            model
                .progress
                .problems
                .iter()
                .map(|p| (p.iterations, p.done))
                .collect::<Vec<_>>()
        );
    }

    /// Points inside a circle against points around it: no line separates them, an RBF kernel
    /// does.
    fn rings() -> (Vec<f32>, Vec<usize>) {
        noisy_rings(120, 0.3)
    }

    /// `n` points on two rings, radii 1 and 3, with normal noise of `spread` on the radius.
    fn noisy_rings(n: usize, spread: f64) -> (Vec<f32>, Vec<usize>) {
        let mut rng = crate::rng::Rng::new(5);
        let (mut x, mut y) = (Vec::new(), Vec::new());
        for i in 0..n {
            let class = i % 2;
            let radius = if class == 0 { 1.0 } else { 3.0 } + spread * rng.normal();
            let angle = rng.uniform() * core::f64::consts::TAU;
            x.push((radius * num_traits::Float::cos(angle)) as f32);
            x.push((radius * num_traits::Float::sin(angle)) as f32);
            y.push(class);
        }
        (x, y)
    }

    /// The centre (inner ring) and a point on the outer ring.
    const PROBES: [f32; 4] = [0.0, 0.0, 0.0, -3.0];

    /// A line cannot do better than about half; the RBF kernel separates the rings. (The
    /// comparison with scikit-learn's SVC is the 5,000-row test in trainer/tests/cli.rs.)
    #[test]
    fn rbf_separates_rings() {
        let (x, y) = rings();
        for_each_device(|device| {
            let batch = classification_batch(&x, &y, 2, device);
            let model = fit(KernelSvmConfig::default(), &batch, 2, device);
            let scores = read_f32(model.decision_function(features(&x, 2, device))).unwrap();
            let correct = scores
                .iter()
                .zip(&y)
                .filter(|(s, c)| (**s > 0.0) == (**c == 1))
                .count();
            assert!(correct >= 115, "{device:?}: {correct} of 120");
            let probes = read_f32(model.decision_function(features(&PROBES, 2, device))).unwrap();
            assert!(probes[0] < 0.0 && probes[1] > 0.0, "{probes:?}");
        });
    }

    #[test]
    fn one_vs_rest_with_every_kernel() {
        // Three blobs on a line: every kernel separates them.
        let mut rng = crate::rng::Rng::new(2);
        let (mut x, mut y) = (Vec::new(), Vec::new());
        for i in 0..90 {
            let class = i % 3;
            x.push(class as f32 * 4.0 + 0.5 * rng.normal() as f32);
            x.push(0.5 * rng.normal() as f32);
            y.push(class);
        }
        for kernel in [Kernel::Rbf, Kernel::Poly, Kernel::Linear] {
            for_each_device(|device| {
                let batch = classification_batch(&x, &y, 2, device);
                let config = KernelSvmConfig {
                    kernel,
                    coef0: 1.0,
                    ..Default::default()
                };
                let model = fit(config, &batch, 3, device);
                let scores = read_f32(model.decision_function(features(&x, 2, device))).unwrap();
                let predicted = crate::metrics::classes_from_scores(&scores, 3);
                // One-vs-rest with a linear kernel cannot cut the middle blob from both outer
                // ones, but the largest score still picks the right blob for most rows.
                let correct = predicted.iter().zip(&y).filter(|(p, t)| p == t).count();
                let needed = if kernel == Kernel::Linear { 80 } else { 90 };
                assert!(
                    correct >= needed,
                    "{kernel:?} on {device:?}: {correct} of 90"
                );
                assert!(model.n_support() < 90, "{kernel:?}: {}", model.n_support());
            });
        }
    }

    /// The `rows` of rings, with a model prepared to solve them on `device`.
    fn prepared_rings(
        config: KernelSvmConfig,
        (x, y): (Vec<f32>, Vec<usize>),
        device: &Device,
    ) -> (KernelSvm, Batch) {
        let batch = classification_batch(&x, &y, 2, device);
        let mut model = KernelSvm::new(config.check(&shape(2)).unwrap(), device);
        model.prepare(&batch).unwrap();
        (model, batch)
    }

    /// What resume relies on: a kernel row has the same values however it is computed, alone
    /// or with others in one read-back (the cache may hold either). They are the prediction's
    /// kernel values up to rounding.
    #[test]
    fn a_kernel_row_is_the_same_however_it_is_computed() {
        for kernel in [Kernel::Rbf, Kernel::Poly, Kernel::Linear] {
            for_each_device(|device| {
                let config = KernelSvmConfig {
                    kernel,
                    coef0: 1.0,
                    ..Default::default()
                };
                let (model, batch) = prepared_rings(config, rings(), device);
                let rows = [0, 7, 119];
                let mut together = model.kernel_rows(&batch.x).unwrap();
                together.compute(&rows).unwrap();
                let mut alone = model.kernel_rows(&batch.x).unwrap();
                let n = batch.len();
                let full = read_f32(model.kernel(batch.x.clone(), batch.x.clone())).unwrap();
                for t in rows {
                    alone.fetch(t).unwrap();
                    let bits = |row: &[f32]| row.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                    assert_eq!(bits(alone.row(t)), bits(together.row(t)), "{kernel:?}");
                    let expected = &full[t * n..(t + 1) * n];
                    for (got, want) in alone.row(t).iter().zip(expected) {
                        assert!(
                            (got - want).abs() <= 1e-4 * want.abs().max(1.0),
                            "{kernel:?} on {device:?}: row {t}: {got} vs {want}"
                        );
                    }
                    let diagonal = alone.diagonal[t] as f32;
                    assert!((diagonal - expected[t]).abs() <= 1e-4 * diagonal.abs().max(1.0));
                }
            });
        }
    }

    /// Past the row counts where burn-wgpu 0.22.1 reduces wrongly (65,535): kernel rows of
    /// 70,000 training rows are right on every backend.
    #[test]
    fn kernel_rows_of_70_000_training_rows() {
        const N: usize = 70_000;
        let mut rng = crate::rng::Rng::new(3);
        let x: Vec<f32> = (0..2 * N).map(|_| rng.normal() as f32).collect();
        let labels: Vec<usize> = (0..N).map(|t| t % 2).collect();
        let gamma = 0.5;
        for_each_device(|device| {
            let batch = classification_batch(&x, &labels, 2, device);
            let config = KernelSvmConfig {
                gamma: Gamma::Value(gamma),
                ..Default::default()
            };
            let mut model = KernelSvm::new(config.check(&shape(2)).unwrap(), device);
            model.prepare(&batch).unwrap();
            let kernel = model.progress.kernel.as_mut().unwrap();
            for t in [0, N - 1] {
                kernel.fetch(t).unwrap();
                for (s, &got) in kernel.row(t).iter().enumerate() {
                    let (dx, dy) = (x[2 * t] - x[2 * s], x[2 * t + 1] - x[2 * s + 1]);
                    let want = (-gamma * f64::from(dx * dx + dy * dy)).exp() as f32;
                    assert!(
                        (got - want).abs() <= 1e-5,
                        "{device:?}: K[{t}, {s}] = {got}, not {want}"
                    );
                }
            }
        });
    }

    /// A fit stopped every 37 iterations, its state through JSON and its kernel rows set up
    /// again in a cache of 34 rows (of 150), ends bit for bit where one uninterrupted run with
    /// the whole matrix cached does, shrinking and rebuilding gradients on the way.
    #[test]
    fn interrupted_solves_with_a_small_cache_end_where_one_solve_does() {
        // Overlapping rings with every fifth label flipped, and a large C: several shrinkings
        // (every 150 iterations) before the optimum.
        let (x, mut y) = noisy_rings(150, 0.8);
        for label in y.iter_mut().step_by(5) {
            *label = 1 - *label;
        }
        let data = (x, y);
        for_each_device(|device| {
            let config = KernelSvmConfig {
                c: 10.0,
                ..Default::default()
            };
            let (mut model, batch) = prepared_rings(config, data.clone(), device);
            let start = model.progress.problems[0].clone();
            let n = batch.len();

            model.params.cache_bytes = usize::MAX;
            let mut whole_matrix = model.kernel_rows(&batch.x).unwrap();
            let mut straight = start.clone();
            straight
                .run(&mut whole_matrix, &model.params, usize::MAX)
                .unwrap();
            assert!(straight.done);

            model.params.cache_bytes = 0;
            let mut resumed = start;
            let mut fewest_active = n;
            while !resumed.done {
                let mut rows = model.kernel_rows(&batch.x).unwrap();
                assert_eq!(rows.cache.capacity, ROWS_PER_READ + 2);
                resumed.run(&mut rows, &model.params, 37).unwrap();
                fewest_active = fewest_active.min(resumed.active.len());
                let json = serde_json::to_string(&resumed).unwrap();
                let back: Smo = serde_json::from_str(&json).unwrap();
                assert_eq!(back, resumed, "{device:?}: the state changed through JSON");
                resumed = back;
            }
            assert!(fewest_active < n, "{device:?}: nothing was shrunk");
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&resumed.alpha), bits(&straight.alpha), "{device:?}");
            assert_eq!(bits(&resumed.grad), bits(&straight.grad), "{device:?}");
            assert_eq!(resumed, straight, "{device:?}");
        });
    }

    /// Prediction in blocks of rows (bounding the kernel block) gives what one block does.
    #[test]
    fn prediction_in_blocks_of_rows() {
        let (x, y) = rings();
        for_each_device(|device| {
            let batch = classification_batch(&x, &y, 2, device);
            let model = fit(KernelSvmConfig::default(), &batch, 2, device);
            let whole = read_f32(model.weighted_kernel_sums(batch.x.clone(), usize::MAX)).unwrap();
            // About 7 rows per block.
            let values = 7 * model.n_support();
            let blocks = read_f32(model.weighted_kernel_sums(batch.x.clone(), values)).unwrap();
            assert_eq!(whole.len(), blocks.len());
            for (a, b) in whole.iter().zip(&blocks) {
                assert!((a - b).abs() <= 1e-5 * a.abs().max(1.0), "{a} vs {b}");
            }
        });
    }

    #[test]
    fn config_rules() {
        let no_cache = KernelSvmConfig {
            cache_size: 0.0,
            ..Default::default()
        };
        assert!(matches!(
            no_cache.check(&shape(2)),
            Err(ConfigError::Invalid {
                key: "cache_size",
                ..
            })
        ));
        let bad = KernelSvmConfig {
            gamma: Gamma::Value(0.0),
            ..Default::default()
        };
        assert!(matches!(
            bad.check(&shape(2)),
            Err(ConfigError::Invalid { key: "gamma", .. })
        ));
        let parsed: KernelSvmConfig = serde_json::from_str(r#"{"gamma": "auto"}"#).unwrap();
        assert_eq!(parsed.gamma, Gamma::Named(GammaRule::Auto));
        let parsed: KernelSvmConfig = serde_json::from_str(r#"{"gamma": 0.5}"#).unwrap();
        assert_eq!(parsed.gamma, Gamma::Value(0.5));
        let regression = DataShape {
            n_features: 2,
            task: Task::Regression,
        };
        assert!(matches!(
            KernelSvmConfig::default().check(&regression),
            Err(ConfigError::NeedsClassTarget { .. })
        ));
    }
}
