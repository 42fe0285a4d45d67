//! Kernel support-vector machine (scikit-learn's `SVC`): RBF, polynomial or linear kernel,
//! binary or one-vs-rest for more classes, solved in the dual by libsvm's SMO.
//!
//! The `n × n` kernel matrix is computed on the device (one matmul per block of rows) and read
//! back once; the solver then works on the host in f64: SMO with second-order working-set
//! selection (Fan, Chen and Lin, 2005, as libsvm), stopping when the maximal KKT violation is
//! below `tol`. One iterative-fit step is `n` SMO iterations (at least 1,000), so progress,
//! checkpoints and resume work as for every model; the trainer's loss is the primal objective
//! divided by `C·n` (the mean hinge loss plus `‖w‖²/(2·C·n)`, as the linear SVM reports). The
//! fitted model keeps only the support vectors, their dual coefficients and the intercepts.

use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::data::{Batch, DataShape, Targets, read_f32};
use crate::error::{ConfigError, FitError, check_non_negative};
use crate::fit::{Prediction, StepRecord};

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
    Named(GammaRule),
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
    /// Inverse regularisation strength, the box bound on the dual coefficients (default 1.0).
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
        }
    }
}

/// Checked parameters of a kernel SVM for a given data shape.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KernelSvmParams {
    pub kernel: Kernel,
    pub c: f64,
    pub gamma: Gamma,
    pub degree: u32,
    pub coef0: f64,
    pub tol: f64,
    pub max_iter: usize,
    pub n_features: usize,
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
        Ok(KernelSvmParams {
            kernel: self.kernel,
            c,
            gamma: self.gamma,
            degree: self.degree,
            coef0: self.coef0,
            tol,
            max_iter,
            n_features: shape.n_features,
            n_classes,
        })
    }
}

/// Training rows the kernel matrix is held for at most: `n²` f32 values (1 GiB at this size).
pub const MAX_TRAINING_ROWS: usize = 16_384;

/// Support vectors `[m, d]`, their dual coefficients `α·y` per decision function
/// `[m, outputs]`, the intercepts `[1, outputs]` and the resolved `gamma` `[1]`. An unfitted
/// model has one zero support vector with coefficient 0; a fitted one as many as the solver
/// kept, which is why loading a saved model reads its shapes first
/// ([`crate::model::load_model`]).
#[derive(Module, Debug)]
pub struct KernelSvm {
    pub support_vectors: Param<Tensor<2>>,
    pub dual_coef: Param<Tensor<2>>,
    pub intercept: Param<Tensor<2>>,
    pub gamma: Param<Tensor<1>>,
    #[module(skip)]
    pub params: KernelSvmParams,
    #[module(skip)]
    progress: Box<Progress>,
}

/// The solver's state across steps: the kernel matrix (rebuilt from the data on resume) and
/// one SMO problem per decision function.
#[derive(Clone, Debug, Default)]
struct Progress {
    kernel: KernelMatrix,
    problems: Vec<Smo>,
}

/// One binary dual problem: `min ½αᵀQα − Σα`, `0 ≤ α ≤ C`, `yᵀα = 0`, `Q_ij = y_i y_j K_ij`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Smo {
    /// +1 or −1 per training row.
    y: Vec<f64>,
    alpha: Vec<f64>,
    /// `Qα − 1`.
    grad: Vec<f64>,
    iterations: usize,
    done: bool,
}

/// The fit's state for a checkpoint: each problem's multipliers and gradient (the kernel
/// matrix is recomputed from the data).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KernelSvmState {
    problems: Vec<Smo>,
}

/// Rows of the kernel matrix computed (and stored) together.
const KERNEL_BLOCK: usize = 1024;

/// The `n × n` kernel matrix on the host, in blocks of [`KERNEL_BLOCK`] rows.
#[derive(Clone, Debug, Default)]
struct KernelMatrix {
    n: usize,
    blocks: Vec<Vec<f32>>,
    /// `K_ii`, read in every working-set selection.
    diagonal: Vec<f64>,
}

impl KernelMatrix {
    fn row(&self, i: usize) -> &[f32] {
        let offset = (i % KERNEL_BLOCK) * self.n;
        &self.blocks[i / KERNEL_BLOCK][offset..offset + self.n]
    }
}

/// libsvm's floor on a non-positive curvature.
const TAU: f64 = 1e-12;

impl Smo {
    fn new(y: Vec<f64>) -> Self {
        let n = y.len();
        Self {
            y,
            alpha: vec![0.0; n],
            grad: vec![-1.0; n],
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

    /// libsvm's second-order working-set selection; `None` once the maximal violation is below
    /// `tol`.
    fn select(&self, kernel: &KernelMatrix, c: f64, tol: f64) -> Option<(usize, usize)> {
        let n = self.y.len();
        let (mut g_max, mut i) = (f64::NEG_INFINITY, None);
        for t in 0..n {
            let violation = if self.y[t] > 0.0 {
                (!self.is_upper(t, c)).then(|| -self.grad[t])
            } else {
                (!self.is_lower(t)).then_some(self.grad[t])
            };
            if let Some(v) = violation
                && v >= g_max
            {
                (g_max, i) = (v, Some(t));
            }
        }
        let i = i?;
        let row_i = kernel.row(i);
        let k_ii = kernel.diagonal[i];
        let (mut g_max2, mut j, mut best) = (f64::NEG_INFINITY, None, f64::INFINITY);
        for (t, &k_it) in row_i.iter().enumerate() {
            let (eligible, grad_diff, signed_grad) = if self.y[t] > 0.0 {
                (!self.is_lower(t), g_max + self.grad[t], self.grad[t])
            } else {
                (!self.is_upper(t, c), g_max - self.grad[t], -self.grad[t])
            };
            if !eligible {
                continue;
            }
            g_max2 = g_max2.max(signed_grad);
            if grad_diff > 0.0 {
                // K_ii + K_tt − 2·K_it = ‖φ(x_i) − φ(x_t)‖²: the curvature along the pair's
                // direction, whatever their labels.
                let quad = k_ii + kernel.diagonal[t] - 2.0 * k_it as f64;
                let gain = -(grad_diff * grad_diff) / if quad > 0.0 { quad } else { TAU };
                if gain <= best {
                    (best, j) = (gain, Some(t));
                }
            }
        }
        if g_max + g_max2 < tol {
            return None;
        }
        j.map(|j| (i, j))
    }

    /// Optimises the pair `(i, j)` analytically and updates the gradient (libsvm's update).
    fn update(&mut self, kernel: &KernelMatrix, c: f64, i: usize, j: usize) {
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
        // G_t += Q_ti·Δα_i + Q_tj·Δα_j, with Q_ti = y_t·y_i·K_ti.
        let (di, dj) = ((ai - old_i) * yi, (aj - old_j) * yj);
        for (t, grad) in self.grad.iter_mut().enumerate() {
            *grad += self.y[t] * (row_i[t] as f64 * di + row_j[t] as f64 * dj);
        }
    }

    /// Runs at most `iterations` SMO iterations (and the problem's `max_iter` in all).
    fn run(&mut self, kernel: &KernelMatrix, params: &KernelSvmParams, iterations: usize) {
        for _ in 0..iterations {
            if self.iterations >= params.max_iter {
                self.done = true;
                return;
            }
            match self.select(kernel, params.c, params.tol) {
                Some((i, j)) => self.update(kernel, params.c, i, j),
                None => {
                    self.done = true;
                    return;
                }
            }
            self.iterations += 1;
        }
    }

    /// libsvm's `rho` (the decision function is `Σ α_i y_i K(x_i, x) − rho`): the mean of
    /// `y·G` over the free multipliers, or the middle of its feasible range when none is free.
    fn rho(&self, c: f64) -> f64 {
        let (mut upper, mut lower) = (f64::INFINITY, f64::NEG_INFINITY);
        let (mut free_sum, mut free) = (0.0, 0usize);
        for t in 0..self.y.len() {
            let yg = self.y[t] * self.grad[t];
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

    /// The primal objective `½‖w‖² + C·Σ hinge`, from the gradient alone: the decision value
    /// of row `t` is `y_t(G_t + 1) − rho` and `‖w‖² = Σ α_t(G_t + 1)`.
    fn primal(&self, c: f64, rho: f64) -> f64 {
        let mut norm = 0.0;
        let mut hinge = 0.0;
        for t in 0..self.y.len() {
            let kernel_sum = self.grad[t] + 1.0;
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
        crate::linalg::matmul(
            self.kernel(x, self.support_vectors.val()),
            self.dual_coef.val(),
        ) + self.intercept.val()
    }

    pub fn predict(&self, x: Tensor<2>) -> Prediction {
        Prediction::Scores(self.decision_function(x))
    }

    /// The training objective on `batch`, as the fit reports it: per decision function, the
    /// mean hinge loss plus `‖w‖²/(2·C·n_train)` (`‖w‖² = βᵀK_SV β` for the coefficients β),
    /// averaged over the decision functions.
    pub fn loss(&self, batch: &Batch, n_train: usize) -> Tensor<1> {
        let Targets::Classes(classes) = &batch.targets else {
            unreachable!("checked at config time: a kernel SVM has class labels")
        };
        let outputs = self.params.outputs();
        // ±1 per row and decision function: class 1 (binary) or the function's own class.
        let signs = if outputs == 1 {
            classes.clone().float().unsqueeze_dim::<2>(1)
        } else {
            classes.clone().one_hot::<2>(outputs).float()
        }
        .mul_scalar(2.0)
        .sub_scalar(1.0);
        let margins = self.decision_function(batch.x.clone()) * signs;
        let hinge = margins.neg().add_scalar(1.0).clamp_min(0.0);
        let coef = self.dual_coef.val();
        let support = self.support_vectors.val();
        let norms = (crate::linalg::matmul(self.kernel(support.clone(), support), coef.clone())
            * coef)
            .sum();
        let rows = batch.len().max(1) as f64;
        (hinge.sum().div_scalar(rows)
            + norms.div_scalar(2.0 * self.params.c * n_train.max(1) as f64))
        .div_scalar(outputs as f64)
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

    /// Puts back what [`KernelSvm::state`] gave; the kernel matrix is rebuilt at the next step.
    pub fn restore(&mut self, state: KernelSvmState) {
        *self.progress = Progress {
            kernel: KernelMatrix::default(),
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

    /// The kernel matrix of the training rows, computed on the device in blocks of rows and
    /// read back to the host (each block kept as read: no second copy of `n²` values).
    fn kernel_matrix(&self, x: &Tensor<2>) -> Result<KernelMatrix, FitError> {
        let n = x.dims()[0];
        let blocks = (0..n)
            .step_by(KERNEL_BLOCK)
            .map(|begin| {
                let rows = x.clone().narrow(0, begin, KERNEL_BLOCK.min(n - begin));
                read_f32(self.kernel(rows, x.clone()))
            })
            .collect::<Result<_, _>>()?;
        let mut matrix = KernelMatrix {
            n,
            blocks,
            diagonal: Vec::new(),
        };
        matrix.diagonal = (0..n).map(|i| matrix.row(i)[i] as f64).collect();
        Ok(matrix)
    }

    /// `n` SMO iterations (at least 1,000) on the first unsolved problem, building the kernel
    /// matrix and the problems at the first step.
    pub fn fit_step(&mut self, data: &Batch) -> Result<StepRecord, FitError> {
        let Targets::Classes(classes) = &data.targets else {
            unreachable!("checked at config time: a kernel SVM has class labels")
        };
        let n = data.len();
        if n > MAX_TRAINING_ROWS {
            return Err(FitError::TooManyRows {
                model: NAME,
                rows: n,
                max: MAX_TRAINING_ROWS,
            });
        }
        if self.progress.kernel.blocks.is_empty() {
            let gamma = self.resolve_gamma(&data.x)?;
            let device = data.x.device();
            self.gamma = Param::initialized(
                self.gamma.id,
                Tensor::from_data(TensorData::new(vec![gamma as f32], [1]), &device),
            );
            self.progress.kernel = self.kernel_matrix(&data.x)?;
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
        let kernel = &self.progress.kernel;
        if let Some(problem) = self.progress.problems.iter_mut().find(|p| !p.done) {
            problem.run(kernel, &self.params, n.max(1000));
        }
        let c = self.params.c;
        let problems = &self.progress.problems;
        let rhos: Vec<f64> = problems.iter().map(|p| p.rho(c)).collect();
        let primal: f64 = problems
            .iter()
            .zip(&rhos)
            .map(|(p, rho)| p.primal(c, *rho))
            .sum();
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
            if model.fit_step(batch).unwrap().converged {
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
        let mut rng = crate::rng::Rng::new(5);
        let (mut x, mut y) = (Vec::new(), Vec::new());
        for i in 0..120 {
            let class = i % 2;
            let radius = if class == 0 { 1.0 } else { 3.0 } + 0.3 * rng.normal();
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

    #[test]
    fn config_rules() {
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
