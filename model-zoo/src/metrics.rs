//! Metrics on host slices, accumulated in f64.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use crate::data::read_f32;
use crate::error::FitError;
use crate::fit::Prediction;

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

/// Adjusted Rand index of two labelings (1 for identical partitions up to renaming, about 0 for
/// independent ones), as scikit-learn's `adjusted_rand_score`.
pub fn adjusted_rand_index(a: &[usize], b: &[usize]) -> f64 {
    let (ka, kb) = (
        a.iter().max().map_or(0, |m| m + 1),
        b.iter().max().map_or(0, |m| m + 1),
    );
    let mut table = alloc::vec![0u64; ka * kb];
    for (x, y) in a.iter().zip(b) {
        table[x * kb + y] += 1;
    }
    let pairs = |c: u64| (c * c.saturating_sub(1)) as f64 / 2.0;
    let sum_cells: f64 = table.iter().map(|c| pairs(*c)).sum();
    let rows: f64 = (0..ka)
        .map(|i| pairs(table[i * kb..(i + 1) * kb].iter().sum()))
        .sum();
    let cols: f64 = (0..kb)
        .map(|j| pairs((0..ka).map(|i| table[i * kb + j]).sum()))
        .sum();
    let expected = rows * cols / pairs(a.len() as u64).max(1.0);
    let max = (rows + cols) / 2.0;
    if max == expected {
        1.0
    } else {
        (sum_cells - expected) / (max - expected)
    }
}

/// Metric name → value.
pub type Metrics = BTreeMap<String, f64>;

/// Labels or values of a set of rows, on the host, for metrics.
#[derive(Clone, Debug, PartialEq)]
pub enum HostTargets {
    /// Regression targets.
    Values(Vec<f32>),
    /// Class indices.
    Classes {
        /// The class of each row.
        labels: Vec<usize>,
        /// The number of classes.
        n_classes: usize,
    },
}

/// A [`Prediction`] read back to the host.
#[derive(Clone, Debug, PartialEq)]
pub enum HostPrediction {
    /// Predicted values.
    Values(Vec<f32>),
    /// Class probabilities, row-major.
    Probabilities {
        /// `n × n_classes` probabilities.
        proba: Vec<f32>,
        /// Columns per row.
        n_classes: usize,
    },
    /// Decision scores, row-major: one column (binary) or one per class.
    Scores {
        /// `n × width` scores.
        scores: Vec<f32>,
        /// Columns per row.
        width: usize,
    },
    /// Squared distances to the `k` cluster centres, row-major.
    Clusters {
        /// `n × k` squared distances.
        distances: Vec<f32>,
        /// Clusters.
        k: usize,
    },
    /// Probabilities of the `k` mixture components, row-major.
    Memberships {
        /// `n × k` probabilities.
        proba: Vec<f32>,
        /// Components.
        k: usize,
    },
    /// Predictive means and standard deviations.
    Gaussian {
        /// The mean of each row.
        mean: Vec<f32>,
        /// The standard deviation of each row.
        std: Vec<f32>,
    },
}

impl HostPrediction {
    /// `prediction` read back from its device.
    pub fn read(prediction: Prediction) -> Result<Self, FitError> {
        Ok(match prediction {
            Prediction::Values(v) => Self::Values(read_f32(v)?),
            Prediction::Gaussian(distribution) => {
                let values = read_f32(distribution)?;
                Self::Gaussian {
                    mean: values.iter().step_by(2).copied().collect(),
                    std: values.iter().skip(1).step_by(2).copied().collect(),
                }
            }
            Prediction::Probabilities(p) => {
                let n_classes = p.dims()[1];
                Self::Probabilities {
                    proba: read_f32(p)?,
                    n_classes,
                }
            }
            Prediction::Scores(s) => {
                let width = s.dims()[1];
                Self::Scores {
                    scores: read_f32(s)?,
                    width,
                }
            }
            Prediction::Clusters(d) => {
                let k = d.dims()[1];
                Self::Clusters {
                    distances: read_f32(d)?,
                    k,
                }
            }
            Prediction::Memberships(p) => {
                let k = p.dims()[1];
                Self::Memberships {
                    proba: read_f32(p)?,
                    k,
                }
            }
        })
    }

    /// The number of rows predicted.
    pub fn len(&self) -> usize {
        match self {
            Self::Values(v) => v.len(),
            Self::Gaussian { mean, .. } => mean.len(),
            Self::Probabilities { proba, n_classes } => proba.len() / (*n_classes).max(1),
            Self::Scores { scores, width } => scores.len() / (*width).max(1),
            Self::Clusters { distances, k } => distances.len() / (*k).max(1),
            Self::Memberships { proba, k } => proba.len() / (*k).max(1),
        }
    }

    /// Whether no row was predicted.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The first row (0-based) with a NaN or infinite value, if one has.
    pub fn first_non_finite_row(&self) -> Option<usize> {
        let bad = |values: &[f32], width: usize| {
            values
                .iter()
                .position(|v| !v.is_finite())
                .map(|i| i / width.max(1))
        };
        match self {
            Self::Values(v) => bad(v, 1),
            Self::Gaussian { mean, std } => bad(mean, 1).into_iter().chain(bad(std, 1)).min(),
            Self::Probabilities { proba, n_classes } => bad(proba, *n_classes),
            Self::Scores { scores, width } => bad(scores, *width),
            Self::Clusters { distances, k } => bad(distances, *k),
            Self::Memberships { proba, k } => bad(proba, *k),
        }
    }

    /// The class of each row, for a classifier: the most probable class, or the winning score.
    pub fn classes(&self) -> Option<Vec<usize>> {
        match self {
            Self::Probabilities { proba, n_classes } => Some(argmax_rows(proba, *n_classes)),
            Self::Scores { scores, width } => Some(classes_from_scores(scores, *width)),
            _ => None,
        }
    }

    /// The cluster of each row, for a clustering: the nearest centre or the most probable
    /// component.
    pub fn clusters(&self) -> Option<Vec<usize>> {
        match self {
            Self::Clusters { distances, k } => Some(argmin_rows(distances, *k)),
            Self::Memberships { proba, k } => Some(argmax_rows(proba, *k)),
            _ => None,
        }
    }
}

/// The metrics of a prediction against its targets: `mse`, `mae`, `r2` for values (and
/// `log_predictive_density` with a standard deviation); `accuracy` and `log_loss` for
/// probabilities, `accuracy` for scores; `inertia` for cluster distances; and the
/// `adjusted_rand_index` of a clustering given labels.
pub fn metrics_of(prediction: &HostPrediction, targets: &HostTargets) -> Metrics {
    let mut out = Metrics::new();
    match (prediction, targets) {
        (HostPrediction::Values(pred), HostTargets::Values(y)) => {
            out.insert("mse".into(), mse(pred, y));
            out.insert("mae".into(), mae(pred, y));
            out.insert("r2".into(), r2(pred, y));
        }
        (HostPrediction::Gaussian { mean, std }, HostTargets::Values(y)) => {
            out.insert("mse".into(), mse(mean, y));
            out.insert("mae".into(), mae(mean, y));
            out.insert("r2".into(), r2(mean, y));
            out.insert(
                "log_predictive_density".into(),
                log_predictive_density(mean, std, y),
            );
        }
        (
            HostPrediction::Probabilities { proba, n_classes },
            HostTargets::Classes { labels, .. },
        ) => {
            let pred = argmax_rows(proba, *n_classes);
            out.insert("accuracy".into(), accuracy(&pred, labels));
            out.insert("log_loss".into(), log_loss(proba, labels, *n_classes));
        }
        (HostPrediction::Scores { scores, width }, HostTargets::Classes { labels, .. }) => {
            let pred = classes_from_scores(scores, *width);
            out.insert("accuracy".into(), accuracy(&pred, labels));
        }
        (HostPrediction::Clusters { distances, k }, _) => {
            let nearest = distances
                .chunks_exact(*k)
                .map(|row| row.iter().fold(f32::INFINITY, |m, v| m.min(*v)).max(0.0));
            out.insert("inertia".into(), nearest.map(f64::from).sum());
        }
        _ => {}
    }
    // A clustering given a label column: how well the clusters recover the labels.
    if let (Some(clusters), HostTargets::Classes { labels, .. }) = (prediction.clusters(), targets)
    {
        out.insert(
            "adjusted_rand_index".into(),
            adjusted_rand_index(&clusters, labels),
        );
    }
    out
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

    #[test]
    fn adjusted_rand_index_matches_scikit_learn() {
        // adjusted_rand_score([0, 0, 1, 1, 2, 2], [0, 0, 1, 2, 2, 2]) = 0.4444444444444444
        let ari = adjusted_rand_index(&[0, 0, 1, 1, 2, 2], &[0, 0, 1, 2, 2, 2]);
        assert!((ari - 0.444_444_444_444_444_4).abs() < 1e-12, "{ari}");
        assert_eq!(adjusted_rand_index(&[0, 0, 1, 1], &[1, 1, 0, 0]), 1.0);
    }
}
