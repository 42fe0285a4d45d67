//! Metrics on host slices, accumulated in f64.

use alloc::vec;
use alloc::vec::Vec;

/// Mean squared error.
pub fn mse(pred: &[f32], target: &[f32]) -> f64 {
    mean(
        pred.iter()
            .zip(target)
            .map(|(p, t)| square(*p as f64 - *t as f64)),
    )
}

/// Mean absolute error.
pub fn mae(pred: &[f32], target: &[f32]) -> f64 {
    mean(
        pred.iter()
            .zip(target)
            .map(|(p, t)| (*p as f64 - *t as f64).abs()),
    )
}

/// Coefficient of determination, as scikit-learn defines it (1 for a perfect fit; when the
/// target is constant: 1 if the prediction is exact, else 0).
pub fn r2(pred: &[f32], target: &[f32]) -> f64 {
    let mean_target = mean(target.iter().map(|t| *t as f64));
    let ss_res: f64 = pred
        .iter()
        .zip(target)
        .map(|(p, t)| square(*t as f64 - *p as f64))
        .sum();
    let ss_tot: f64 = target.iter().map(|t| square(*t as f64 - mean_target)).sum();
    if ss_tot == 0.0 {
        if ss_res == 0.0 { 1.0 } else { 0.0 }
    } else {
        1.0 - ss_res / ss_tot
    }
}

/// Fraction of labels predicted correctly.
pub fn accuracy(pred: &[usize], labels: &[usize]) -> f64 {
    mean(
        pred.iter()
            .zip(labels)
            .map(|(p, l)| f64::from(u8::from(p == l))),
    )
}

/// Mean negative log-likelihood of the true labels under row-major class probabilities
/// (`n × n_classes`). Probabilities are clipped to `[ε, 1 − ε]` with ε the f32 machine epsilon,
/// as scikit-learn does for f32 input, so a confident mistake costs a large finite amount.
pub fn log_loss(proba: &[f32], labels: &[usize], n_classes: usize) -> f64 {
    let eps = f32::EPSILON as f64;
    mean(labels.iter().enumerate().map(|(row, &label)| {
        let p = proba[row * n_classes + label] as f64;
        -libm_ln(p.clamp(eps, 1.0 - eps))
    }))
}

/// Mean log density of the targets under independent Gaussian predictions,
/// `mean log N(y | μ, σ²)`. A standard deviation is floored at 1e-9 of the target's scale
/// (an exact interpolant predicts σ = 0), so the density stays finite.
pub fn log_predictive_density(mean_pred: &[f32], std: &[f32], target: &[f32]) -> f64 {
    let log_2pi = libm_ln(2.0 * core::f64::consts::PI);
    mean(mean_pred.iter().zip(std).zip(target).map(|((m, s), y)| {
        let s = (*s as f64).max(1e-9 * (1.0 + (*y as f64).abs()));
        let z = (*y as f64 - *m as f64) / s;
        -0.5 * (log_2pi + z * z) - libm_ln(s)
    }))
}

/// The predicted class of each row of row-major probabilities (`n × n_classes`); ties go to
/// the lower class index.
pub fn argmax_rows(proba: &[f32], n_classes: usize) -> Vec<usize> {
    pick_rows(proba, n_classes, |candidate, best| candidate > best)
}

/// The predicted class of each row of decision scores (`n × width`, row-major): for one
/// column, class 1 where the score is > 0; otherwise the largest score.
pub fn classes_from_scores(scores: &[f32], width: usize) -> Vec<usize> {
    if width == 1 {
        scores.iter().map(|s| usize::from(*s > 0.0)).collect()
    } else {
        argmax_rows(scores, width)
    }
}

/// The index of the smallest value of each row (`n × k`, row-major); ties go to the lower index.
pub fn argmin_rows(values: &[f32], k: usize) -> Vec<usize> {
    pick_rows(values, k, |candidate, best| candidate < best)
}

/// Per row, the first index whose value `beats` every earlier one.
fn pick_rows(values: &[f32], width: usize, beats: fn(f32, f32) -> bool) -> Vec<usize> {
    values
        .chunks_exact(width)
        .map(|row| {
            (0..row.len()).fold(0, |best, i| if beats(row[i], row[best]) { i } else { best })
        })
        .collect()
}

/// `matrix[true][predicted]` counts.
pub fn confusion_matrix(pred: &[usize], labels: &[usize], n_classes: usize) -> Vec<Vec<usize>> {
    let mut matrix = vec![vec![0; n_classes]; n_classes];
    for (p, l) in pred.iter().zip(labels) {
        matrix[*l][*p] += 1;
    }
    matrix
}

/// Mean silhouette coefficient of a clustering of `x` (row-major, `width` columns), as
/// scikit-learn's `silhouette_score` (Euclidean): per row `(b − a)/max(a, b)` with `a` the
/// mean distance to the rest of its cluster and `b` the smallest mean distance to another
/// cluster; 0 for a row alone in its cluster. O(n²): pass a sample for large data.
pub fn silhouette(x: &[f32], width: usize, labels: &[usize]) -> f64 {
    let n = labels.len();
    let k = labels.iter().max().map_or(0, |m| m + 1);
    let mut sizes = vec![0usize; k];
    for &l in labels {
        sizes[l] += 1;
    }
    if sizes.iter().filter(|&&s| s > 0).count() < 2 {
        return 0.0;
    }
    let rows: Vec<&[f32]> = x.chunks_exact(width).collect();
    let mut sums = vec![0.0f64; k];
    let total: f64 = (0..n)
        .map(|i| {
            sums.iter_mut().for_each(|s| *s = 0.0);
            for j in 0..n {
                let d2: f64 = rows[i]
                    .iter()
                    .zip(rows[j])
                    .map(|(a, b)| square(f64::from(*a) - f64::from(*b)))
                    .sum();
                sums[labels[j]] += num_traits::Float::sqrt(d2);
            }
            let own = labels[i];
            if sizes[own] < 2 {
                return 0.0;
            }
            let a = sums[own] / (sizes[own] - 1) as f64;
            let b = (0..k)
                .filter(|&c| c != own && sizes[c] > 0)
                .map(|c| sums[c] / sizes[c] as f64)
                .fold(f64::INFINITY, f64::min);
            (b - a) / a.max(b)
        })
        .sum();
    total / n as f64
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, count) = values.fold((0.0, 0usize), |(s, c), v| (s + v, c + 1));
    if count == 0 { 0.0 } else { sum / count as f64 }
}

fn square(x: f64) -> f64 {
    x * x
}

/// Natural log (through num_traits: `f64::ln` is not in `core`).
fn libm_ln(x: f64) -> f64 {
    num_traits::Float::ln(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference values from scikit-learn 1.9.1 (`sklearn.metrics`), computed once:
    //   y, p = [3, -0.5, 2, 7], [2.5, 0.0, 2, 8]
    //   mean_squared_error(y, p) = 0.375; mean_absolute_error(y, p) = 0.5; r2_score(y, p) = 0.9486081370449679
    //   log_loss([0, 1, 1], [[0.9, 0.1], [0.2, 0.8], [0.3, 0.7]]) = 0.22839300363692283
    // Reference: scikit-learn 1.9.1, computed once with
    //   X = [[0,0],[0,1],[1,0],[5,5],[5,6],[6,5],[6,6],[2.5,2.5]]
    //   silhouette_score(X, [0,0,0,1,1,1,1,0]) = 0.729697018685173
    //   silhouette_score(X, [0,1,2,0,1,2,0,1]) = -0.28452986619121634
    #[test]
    fn silhouette_matches_scikit_learn() {
        let x = [
            0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 5.0, 5.0, 5.0, 6.0, 6.0, 5.0, 6.0, 6.0, 2.5, 2.5,
        ];
        let good = silhouette(&x, 2, &[0, 0, 0, 1, 1, 1, 1, 0]);
        assert!((good - 0.729_697_018_685_173).abs() < 1e-6, "{good}");
        let bad = silhouette(&x, 2, &[0, 1, 2, 0, 1, 2, 0, 1]);
        assert!((bad + 0.284_529_866_191_216_34).abs() < 1e-6, "{bad}");
        assert_eq!(silhouette(&x, 2, &[0; 8]), 0.0);
    }

    #[test]
    fn regression_metrics_match_scikit_learn() {
        let y = [3.0, -0.5, 2.0, 7.0];
        let p = [2.5, 0.0, 2.0, 8.0];
        assert!((mse(&p, &y) - 0.375).abs() < 1e-9);
        assert!((mae(&p, &y) - 0.5).abs() < 1e-9);
        assert!((r2(&p, &y) - 0.948_608_137_044_967_9).abs() < 1e-7);
        assert_eq!(r2(&[1.0, 1.0], &[1.0, 1.0]), 1.0);
        assert_eq!(r2(&[1.0, 2.0], &[1.0, 1.0]), 0.0);
    }

    #[test]
    fn classification_metrics_match_scikit_learn() {
        let proba = [0.9, 0.1, 0.2, 0.8, 0.3, 0.7];
        let labels = [0, 1, 1];
        assert!((log_loss(&proba, &labels, 2) - 0.228_393_003_636_922_83).abs() < 1e-6);
        let pred = argmax_rows(&proba, 2);
        assert_eq!(pred, [0, 1, 1]);
        assert_eq!(accuracy(&pred, &[0, 0, 1]), 2.0 / 3.0);
        assert_eq!(confusion_matrix(&pred, &[0, 0, 1], 2), [[1, 1], [0, 1]]);
    }
}
