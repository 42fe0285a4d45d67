//! Small dense linear algebra on the host, in f64.
//!
//! burn 0.22.1 has no Cholesky or triangular solve. The models do the data-sized work (Gram
//! matrices, `Xᵀy`) on the device in f32 and bring back only `d × d` systems, which are solved
//! here in f64 so that f32-only devices (WebGPU) lose no accuracy in the solve itself.

use alloc::vec;
use alloc::vec::Vec;

use burn::module::Param;
use burn::tensor::{Int, Tensor};

use crate::error::FitError;

/// Largest `m·k·n` that [`matmul`] computes by broadcast-and-sum instead of gemm.
const SMALL_MATMUL: usize = 16 * 1024;

/// Largest `[rows, k, n]` intermediate of a broadcast-and-sum product, in elements (16 KiB):
/// a microcontroller's heap holds it beside the operands.
const BROADCAST_CHUNK: usize = 4 * 1024;

/// `a·b` (`[m, k] · [k, n]`). Small products are computed by broadcasting and summing: burn-flex
/// hands every batched f32 matmul to gemm, which without std allocates a 512 KiB scratch buffer
/// on each call (seen under QEMU: `memory allocation of 524288 bytes failed` in on-device
/// k-means). They go a few rows of `a` at a time, so the `[rows, k, n]` intermediate stays
/// small (a 24 × 24 square in one piece needed 55 KB, more than the firmware's heap). Large
/// products keep gemm's speed. Each output element sums over `k` in the same order either way.
pub fn matmul(a: Tensor<2>, b: Tensor<2>) -> Tensor<2> {
    let ([m, k], [_, n]) = (a.dims(), b.dims());
    if m * k * n > SMALL_MATMUL {
        return a.matmul(b);
    }
    let rows = (BROADCAST_CHUNK / (k * n).max(1)).clamp(1, m.max(1));
    let b = b.unsqueeze_dim::<3>(0); // [1, k, n]
    let product = |a: Tensor<2>| {
        let rows = a.dims()[0];
        // [rows, k, 1] * [1, k, n] → [rows, k, n], summed over k.
        (a.unsqueeze_dim::<3>(2) * b.clone())
            .sum_dim(1)
            .reshape([rows, n])
    };
    if rows >= m {
        return product(a);
    }
    let pieces: Vec<Tensor<2>> = (0..m)
        .step_by(rows)
        .map(|begin| product(a.clone().narrow(0, begin, rows.min(m - begin))))
        .collect();
    Tensor::cat(pieces, 0)
}

/// Squared Euclidean distance of every row of `x` to every row of `centers`, `[n, k]`, by
/// `‖x‖² − 2x·cᵀ + ‖c‖²` (a matmul; may dip slightly below 0 in f32, callers clamp).
pub fn squared_distances(x: Tensor<2>, centers: Tensor<2>) -> Tensor<2> {
    let x_norms = row_norms(x.clone());
    squared_distances_from(x, x_norms, centers)
}

/// `‖x_i‖²` of every row, `[n, 1]`.
pub fn row_norms(x: Tensor<2>) -> Tensor<2> {
    x.square().sum_dim(1)
}

/// [`squared_distances`] given the [`row_norms`] of `x`, for callers that measure the same
/// rows against many sets of centres.
pub fn squared_distances_from(x: Tensor<2>, x_norms: Tensor<2>, centers: Tensor<2>) -> Tensor<2> {
    let c_norms = row_norms(centers.clone()).transpose(); // [1, k]
    x_norms + c_norms - matmul(x, centers.transpose()).mul_scalar(2.0)
}

/// Rows one reduction along the first dimension covers. burn-wgpu 0.22.1 sums at most 65,532
/// rows when reducing `[n, d]` along dim 0 (measured on Mesa's lavapipe: `sum_dim(0)` of
/// 100,000 rows of ones gives 65,532, `mean_dim(0)` 0.655), so longer columns are summed in
/// chunks; a whole-tensor `sum()` is not affected.
const ROW_CHUNK: usize = 32 * 1024;

/// Column sums of `x`, `[n, d]` → `[1, d]`, right for any `n` on every backend.
pub fn sum_rows(x: Tensor<2>) -> Tensor<2> {
    let [n, _] = x.dims();
    if n <= ROW_CHUNK {
        return x.sum_dim(0);
    }
    (0..n)
        .step_by(ROW_CHUNK)
        .map(|begin| {
            x.clone()
                .narrow(0, begin, ROW_CHUNK.min(n - begin))
                .sum_dim(0)
        })
        .reduce(|a, b| a + b)
        .expect("n > ROW_CHUNK rows make at least one chunk")
}

/// Column means of `x`, `[n, d]` → `[1, d]` (see [`sum_rows`]).
pub fn mean_rows(x: Tensor<2>) -> Tensor<2> {
    let [n, _] = x.dims();
    sum_rows(x).div_scalar(n.max(1) as f64)
}

/// Elements one row of a [`SumAll`] sum covers.
const SUM_ROW: usize = 1024;

/// Whole-tensor sums with the same bits at every call on every backend. burn-wgpu 0.22.1's
/// `sum()` adds its workgroups' partial sums with float atomics, in whichever order they
/// finish (measured on lavapipe: 2 distinct results in 30 sums of the same 100,000 numbers),
/// so a loss, an objective or an inertia read through it could send a resumed or repeated
/// fit down another path. Row sums give each output to one workgroup, in a fixed order: the
/// elements are summed in rows of 1,024, then the row sums, which also keeps f32 rounding
/// near that of a pairwise sum. Every model takes whole sums through this (clippy.toml
/// refuses `sum()`).
pub trait SumAll {
    /// The sum of all elements, as `[1]`.
    fn sum_all(self) -> Tensor<1>;
}

impl<const D: usize> SumAll for Tensor<D> {
    fn sum_all(self) -> Tensor<1> {
        let count = self.shape().num_elements();
        let device = self.device();
        let flat = self.reshape([count]);
        let (rows, rest) = (count / SUM_ROW, count % SUM_ROW);
        let rest = (rest > 0).then(|| {
            let tail = flat.clone().narrow(0, rows * SUM_ROW, rest);
            tail.reshape([1, rest]).sum_dim(1).reshape([1])
        });
        let whole = (rows > 0).then(|| {
            let rows = flat.narrow(0, 0, rows * SUM_ROW).reshape([rows, SUM_ROW]);
            sum_rows(rows.sum_dim(1)).reshape([1])
        });
        (whole.into_iter().chain(rest))
            .reduce(|a, b| a + b)
            .unwrap_or_else(|| Tensor::zeros([1], &device))
    }
}

/// The mean of all elements of `x`, as `[1]`, through [`SumAll`]. burn-wgpu 0.22.1's `mean()`
/// of a long tensor is wrong (measured on lavapipe: 0.655 for 100,000 × 1 ones, 0.262 for
/// 1,000,000 ones), so every model takes means through this.
pub fn mean_all<const D: usize>(x: Tensor<D>) -> Tensor<1> {
    let count = x.shape().num_elements().max(1);
    x.sum_all().div_scalar(count as f64)
}

/// `[n, k]` rows of zeros with a one in column `indices[i]` (`[n]`, each below `k`), as
/// floats. burn's `one_hot` refuses `k = 1` (a k-means of one cluster) and reads its indices
/// back to the host to check them, a device sync at every call; this compares the indices
/// with `0..k` on the device instead, and gives the same values.
pub fn one_hot(indices: Tensor<1, Int>, k: usize) -> Tensor<2> {
    let n = indices.dims()[0];
    let device = indices.device();
    let columns = Tensor::<1, Int>::arange(0..k as i64, &device).reshape([1, k]);
    indices
        .reshape([n, 1])
        .expand([n, k])
        .equal(columns.expand([n, k]))
        .float()
}

/// Number of times [`solve_spd`] grows the jitter before giving up.
const JITTER_TRIES: usize = 8;

/// In-place Cholesky factorisation of the row-major `n × n` matrix `a` into its lower factor
/// `L` (`a = L Lᵀ`; the upper triangle is left untouched). `false` when `a` is not positive
/// definite.
pub fn cholesky_in_place(a: &mut [f64], n: usize) -> bool {
    debug_assert_eq!(a.len(), n * n);
    for j in 0..n {
        let mut diag = a[j * n + j];
        for k in 0..j {
            diag -= a[j * n + k] * a[j * n + k];
        }
        if !(diag > 0.0 && diag.is_finite()) {
            return false;
        }
        // num_traits: `f64::sqrt` is not in `core`.
        let diag = num_traits::Float::sqrt(diag);
        a[j * n + j] = diag;
        for i in (j + 1)..n {
            let mut v = a[i * n + j];
            for k in 0..j {
                v -= a[i * n + k] * a[j * n + k];
            }
            a[i * n + j] = v / diag;
        }
    }
    true
}

/// Solves `L Lᵀ x = b` given the lower Cholesky factor in `l` (row-major, `n × n`).
pub fn cholesky_solve(l: &[f64], n: usize, b: &[f64]) -> Vec<f64> {
    // Forward substitution: L z = b.
    let mut z = vec![0.0; n];
    for i in 0..n {
        let mut v = b[i];
        for k in 0..i {
            v -= l[i * n + k] * z[k];
        }
        z[i] = v / l[i * n + i];
    }
    // Back substitution: Lᵀ x = z.
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        let mut v = z[i];
        for k in (i + 1)..n {
            v -= l[k * n + i] * x[k];
        }
        x[i] = v / l[i * n + i];
    }
    x
}

/// The inverse of the lower-triangular `n × n` matrix `l` (row-major), itself lower
/// triangular: column by column, forward substitution against the identity. Only the lower
/// triangle and diagonal of `l` are read, so a factor from [`cholesky_in_place`] can be passed
/// as it is.
pub fn invert_lower(l: &[f64], n: usize) -> Vec<f64> {
    let mut inverse = vec![0.0; n * n];
    for column in 0..n {
        for i in column..n {
            let mut v = if i == column { 1.0 } else { 0.0 };
            for k in column..i {
                v -= l[i * n + k] * inverse[k * n + column];
            }
            inverse[i * n + column] = v / l[i * n + i];
        }
    }
    inverse
}

/// Solves `a x = b` for a symmetric positive semi-definite `a` (row-major `n × n`).
///
/// When the factorisation fails (a singular or, in f32-rounded data, slightly indefinite
/// matrix), retries with a growing jitter on the diagonal, starting at `1e-10` times the mean
/// diagonal and growing ×100 per try. Returns the solution and the jitter used (0 if none).
pub fn solve_spd(a: &[f64], n: usize, b: &[f64]) -> Result<(Vec<f64>, f64), FitError> {
    let mean_diag = (0..n).map(|i| a[i * n + i].abs()).sum::<f64>() / n.max(1) as f64;
    let scale = if mean_diag > 0.0 { mean_diag } else { 1.0 };
    let mut jitter = 0.0;
    for attempt in 0..=JITTER_TRIES {
        let mut factor = a.to_vec();
        for i in 0..n {
            factor[i * n + i] += jitter;
        }
        if cholesky_in_place(&mut factor, n) {
            return Ok((cholesky_solve(&factor, n, b), jitter));
        }
        jitter = scale * 1e-10 * num_traits::Float::powi(100f64, attempt as i32);
    }
    Err(FitError::Singular { jitter })
}

/// Rows and columns of the diagonal blocks [`cholesky_inverse`] factors on the host.
const CHOLESKY_BLOCK: usize = 256;

/// Smallest squared pivot, relative to the matrix's own diagonal entry, that
/// [`cholesky_inverse`] accepts: below it the f32 entries cannot tell the matrix from a
/// singular one (duplicate rows without noise leave a pivot of rounding size, which would
/// factor "successfully" into garbage).
const PIVOT_RESOLUTION: f64 = 8.0 * f32::EPSILON as f64;

/// What [`cholesky_inverse`] gives for a symmetric positive definite `A = L Lᵀ`.
#[derive(Clone, Debug)]
pub struct CholeskyInverse {
    /// `L⁻¹`, lower triangular, `[n, n]`: `A⁻¹ = L⁻ᵀ L⁻¹`, and `‖L⁻¹ b‖² = bᵀ A⁻¹ b`.
    pub inverse: Tensor<2>,
    /// `log det A = 2 Σ log L_ii`, summed in f64.
    pub log_det: f64,
}

/// The inverse of the lower Cholesky factor of the symmetric positive definite `a` (`[n, n]`),
/// by blocks, so the `O(n³)` work runs on the device: right-looking, each `b × b` diagonal
/// block (b = 256) is factored and inverted on the host in f64, the panel below it is
/// `A₂₁ L₁₁⁻ᵀ` and the trailing matrix is updated by `A₂₂ − L₂₁ L₂₁ᵀ`, both matmuls; then
/// `L⁻¹` is built block row by block row, `[L⁻¹]ᵢⱼ = −L_ii⁻¹ (Σₖ L_ik [L⁻¹]ₖⱼ)`. `None` when
/// `a` is not positive definite at f32 precision (a squared pivot below
/// 8 f32 epsilons times its diagonal entry).
pub fn cholesky_inverse(a: Tensor<2>) -> Result<Option<CholeskyInverse>, FitError> {
    let [n, _] = a.dims();
    let device = a.device();
    let upload = |values: Vec<f64>, m: usize| {
        let values: Vec<f32> = values.into_iter().map(|v| v as f32).collect();
        Tensor::<2>::from_data(burn::tensor::TensorData::new(values, [m, m]), &device)
    };
    let diagonal = crate::data::read_f32((a.clone() * Tensor::eye(n, &device)).sum_dim(1))?;
    let mut work = a;
    let mut lower = Tensor::<2>::zeros([n, n], &device);
    let mut diagonal_inverses = Vec::new();
    let mut log_det = 0.0;
    for start in (0..n).step_by(CHOLESKY_BLOCK) {
        let end = (start + CHOLESKY_BLOCK).min(n);
        let m = end - start;
        let block = crate::data::read_f32(work.clone().slice([start..end, start..end]))?;
        let mut factor: Vec<f64> = block.iter().map(|v| *v as f64).collect();
        if !cholesky_in_place(&mut factor, m) {
            return Ok(None);
        }
        let resolved = |i: usize| {
            factor[i * m + i] * factor[i * m + i] >= PIVOT_RESOLUTION * diagonal[start + i] as f64
        };
        if !(0..m).all(resolved) {
            return Ok(None);
        }
        for i in 0..m {
            log_det += 2.0 * num_traits::Float::ln(factor[i * m + i]);
            for j in (i + 1)..m {
                factor[i * m + j] = 0.0;
            }
        }
        let inverse = upload(invert_lower(&factor, m), m);
        lower = lower.slice_assign([start..end, start..end], upload(factor, m));
        if end < n {
            let panel = matmul(
                work.clone().slice([end..n, start..end]),
                inverse.clone().transpose(),
            );
            let trailing = work.clone().slice([end..n, end..n])
                - matmul(panel.clone(), panel.clone().transpose());
            work = work.slice_assign([end..n, end..n], trailing);
            lower = lower.slice_assign([end..n, start..end], panel);
        }
        diagonal_inverses.push(inverse);
    }
    let mut inverse = Tensor::<2>::zeros([n, n], &device);
    for (block, diagonal) in diagonal_inverses.into_iter().enumerate() {
        let start = block * CHOLESKY_BLOCK;
        let end = (start + CHOLESKY_BLOCK).min(n);
        if start > 0 {
            let left = lower.clone().slice([start..end, 0..start]);
            let known = inverse.clone().slice([0..start, 0..start]);
            let row = matmul(diagonal.clone(), matmul(left, known)).neg();
            inverse = inverse.slice_assign([start..end, 0..start], row);
        }
        inverse = inverse.slice_assign([start..end, start..end], diagonal);
    }
    Ok(Some(CholeskyInverse { inverse, log_det }))
}

/// A linear layer with zero weights and bias, the start of every convex linear model. Built
/// directly: `LinearConfig::init` picks its initializer at run time, which links every
/// initializer into a firmware (the orthogonal one's QR, the normal sampler: about 20 KB).
pub fn zero_linear(
    n_inputs: usize,
    n_outputs: usize,
    bias: bool,
    device: &burn::tensor::Device,
) -> burn::nn::Linear {
    burn::nn::Linear {
        weight: Param::from_tensor(Tensor::zeros([n_inputs, n_outputs], device)),
        bias: bias.then(|| Param::from_tensor(Tensor::zeros([n_outputs], device))),
    }
}

#[cfg(test)]
mod tests {

    /// 30 whole sums of the same 100,000 numbers give one result on every backend (burn-wgpu's
    /// own `sum()` gave two on lavapipe), within f32 rounding of the f64 sum; an empty tensor
    /// sums to 0.
    #[test]
    fn sum_all_gives_the_same_bits_every_time() {
        crate::testing::for_each_device(|device| {
            let n = 100_000;
            let mut rng = crate::rng::Rng::new(3);
            let values: Vec<f32> = (0..n).map(|_| rng.normal() as f32).collect();
            let exact: f64 = values.iter().map(|&v| f64::from(v)).sum();
            let x = Tensor::<1>::from_data(burn::tensor::TensorData::new(values, [n]), device);
            let sums: alloc::collections::BTreeSet<u32> = (0..30)
                .map(|_| read_f32(x.clone().sum_all()).unwrap()[0].to_bits())
                .collect();
            assert_eq!(sums.len(), 1, "{device:?}: {sums:?}");
            let sum = f64::from(f32::from_bits(sums.into_iter().next().unwrap()));
            assert!((sum - exact).abs() < 1e-2, "{device:?}: {sum} vs {exact}");
            let empty = Tensor::<2>::zeros([0, 3], device);
            assert_eq!(read_f32(empty.sum_all()).unwrap(), vec![0.0]);
        });
    }

    #[test]
    fn one_hot_matches_burns_and_takes_one_class() {
        crate::testing::for_each_device(|device| {
            let indices = Tensor::<1, Int>::from_data(
                burn::tensor::TensorData::new(vec![2i64, 0, 1, 2], [4]),
                device,
            );
            let ours = crate::data::read_f32(one_hot(indices.clone(), 3)).unwrap();
            let burns = crate::data::read_f32(indices.one_hot::<2>(3).float()).unwrap();
            assert_eq!(ours, burns);
            let zeros = Tensor::<1, Int>::zeros([3], device);
            assert_eq!(crate::data::read_f32(one_hot(zeros, 1)).unwrap(), [1.0; 3]);
        });
    }

    use super::*;
    use crate::data::read_f32;
    use crate::testing::{features, for_each_device};

    /// Column sums of 100,000 rows: 65,532 on burn-wgpu with a plain `sum_dim(0)`.
    #[test]
    fn column_sums_of_long_columns_are_right_on_every_backend() {
        crate::testing::for_each_device(|device| {
            let ones = Tensor::<2>::ones([100_000, 3], device);
            let sums = crate::data::read_f32(sum_rows(ones.clone())).unwrap();
            assert_eq!(sums, [100_000.0; 3], "{device:?}");
            let means = crate::data::read_f32(mean_rows(ones)).unwrap();
            assert_eq!(means, [1.0; 3], "{device:?}");
        });
    }

    /// Whole-tensor means of long tensors: wrong on burn-wgpu with a plain `mean()`.
    #[test]
    fn means_of_long_tensors_are_right_on_every_backend() {
        crate::testing::for_each_device(|device| {
            for shape in [[100_000, 1], [100_000, 10], [300_000, 1]] {
                let ones = Tensor::<2>::ones(shape, device).mul_scalar(0.5);
                let mean = crate::data::read_f32(mean_all(ones)).unwrap();
                assert_eq!(mean, [0.5], "{device:?} {shape:?}");
            }
        });
    }

    #[test]
    fn small_matmul_equals_gemm() {
        for_each_device(|device| {
            let a = features(&[0.5, -1.0, 2.0, 1.0, 0.0, -0.5], 3, device);
            let b = features(&[1.0, 2.0, -1.0, 0.5, 3.0, 1.5], 2, device);
            let small = read_f32(matmul(a.clone(), b.clone())).unwrap();
            let gemm = read_f32(a.matmul(b)).unwrap();
            for (x, y) in small.iter().zip(&gemm) {
                assert!((x - y).abs() < 1e-6, "{small:?} vs {gemm:?}");
            }
        });
    }

    #[test]
    fn solves_a_known_system() {
        // A = [[4, 2, 0.4], [2, 5, 1], [0.4, 1, 3]], x = [1, -2, 0.5] → b = A x.
        let a = [4.0, 2.0, 0.4, 2.0, 5.0, 1.0, 0.4, 1.0, 3.0];
        let b = [0.2, -7.5, -0.1];
        let (x, jitter) = solve_spd(&a, 3, &b).unwrap();
        assert_eq!(jitter, 0.0);
        for (got, want) in x.iter().zip([1.0, -2.0, 0.5]) {
            assert!((got - want).abs() < 1e-12, "{x:?}");
        }
    }

    #[test]
    fn lower_triangular_inverse() {
        let mut a = [4.0, 2.0, 0.4, 2.0, 5.0, 1.0, 0.4, 1.0, 3.0];
        assert!(cholesky_in_place(&mut a, 3));
        let l = [a[0], 0.0, 0.0, a[3], a[4], 0.0, a[6], a[7], a[8]];
        let inverse = invert_lower(&l, 3);
        for i in 0..3 {
            for j in 0..3 {
                let product: f64 = (0..3).map(|k| l[i * 3 + k] * inverse[k * 3 + j]).sum();
                let want = if i == j { 1.0 } else { 0.0 };
                assert!((product - want).abs() < 1e-12, "{inverse:?}");
            }
        }
    }

    #[test]
    fn singular_systems_get_jitter_and_zero_matrices_fail() {
        // Rank 1: two identical columns.
        let a = [1.0, 1.0, 1.0, 1.0];
        let (x, jitter) = solve_spd(&a, 2, &[2.0, 2.0]).unwrap();
        assert!(jitter > 0.0);
        // The minimum-norm-like solution splits the weight between the twin columns.
        assert!(
            (x[0] - x[1]).abs() < 1e-6 && (x[0] + x[1] - 2.0).abs() < 1e-3,
            "{x:?}"
        );
        assert!(matches!(
            solve_spd(&[f64::NAN], 1, &[1.0]),
            Err(FitError::Singular { .. })
        ));
    }

    /// A 600 × 600 kernel-like matrix (three blocks): `L⁻¹ A L⁻ᵀ = I` and the log-determinant
    /// equals the host factorisation's, on every backend.
    #[test]
    fn blocked_cholesky_inverse_on_every_backend() {
        let n = 600;
        let points: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin() * 3.0).collect();
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                a[i * n + j] = (-0.5 * (points[i] - points[j]).powi(2)).exp();
            }
            a[i * n + i] += 0.1;
        }
        let mut host = a.clone();
        assert!(cholesky_in_place(&mut host, n));
        let want_log_det: f64 = (0..n).map(|i| 2.0 * host[i * n + i].ln()).sum();
        for_each_device(|device| {
            let values: Vec<f32> = a.iter().map(|v| *v as f32).collect();
            let matrix = features(&values, n, device);
            let factor = cholesky_inverse(matrix.clone()).unwrap().unwrap();
            assert!(
                (factor.log_det - want_log_det).abs() < 1e-3 * want_log_det.abs(),
                "{device:?}: {} vs {want_log_det}",
                factor.log_det
            );
            let product = factor
                .inverse
                .clone()
                .matmul(matrix)
                .matmul(factor.inverse.transpose());
            let product = read_f32(product).unwrap();
            for i in 0..n {
                for j in 0..n {
                    let want = if i == j { 1.0 } else { 0.0 };
                    assert!(
                        (product[i * n + j] - want).abs() < 1e-3,
                        "{device:?}: [{i}, {j}] = {}",
                        product[i * n + j]
                    );
                }
            }
        });
        // Not positive definite: a negative eigenvalue in the second block.
        let mut indefinite = a;
        indefinite[300 * n + 300] = -5.0;
        let values: Vec<f32> = indefinite.iter().map(|v| *v as f32).collect();
        for_each_device(|device| {
            assert!(
                cholesky_inverse(features(&values, n, device))
                    .unwrap()
                    .is_none()
            );
        });
    }
}
