//! Seeded synthetic data sets written as CSV (header `x0,x1,...,y`): the same bytes on every
//! platform, for benches and size tests, and reproducible in Python by
//! `benches/peers/kmeans_reference.py` for scikit-learn reference numbers.

use std::io::Write;
use std::path::Path;

use crate::rng::Rng;

/// A synthetic row's target.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SyntheticTarget {
    /// A regression target.
    Value(f64),
    /// A class index.
    Class(usize),
}

/// Rows of standard-normal features and a target: a noisy linear function (`classes = 0`) or
/// a class `0..classes` drawn from a softmax of linear scores. Endless; take what you need.
pub fn linear_rows(
    features: usize,
    classes: usize,
    seed: u64,
) -> impl Iterator<Item = (Vec<f64>, SyntheticTarget)> {
    let mut rng = Rng::new(seed);
    let outputs = classes.max(1);
    let weights: Vec<f64> = (0..features * outputs).map(|_| rng.normal()).collect();
    std::iter::repeat_with(move || {
        let x: Vec<f64> = (0..features).map(|_| rng.normal()).collect();
        let scores: Vec<f64> = (0..outputs)
            .map(|k| {
                x.iter()
                    .enumerate()
                    .map(|(j, v)| v * weights[j * outputs + k])
                    .sum()
            })
            .collect();
        let target = if classes == 0 {
            SyntheticTarget::Value(scores[0] + 3.0 + 0.5 * rng.normal())
        } else {
            let max = scores.iter().cloned().fold(f64::MIN, f64::max);
            let exp: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
            let mut u = rng.uniform() * exp.iter().sum::<f64>();
            let mut class = classes - 1;
            for (k, e) in exp.iter().enumerate() {
                if u < *e {
                    class = k;
                    break;
                }
                u -= e;
            }
            SyntheticTarget::Class(class)
        };
        (x, target)
    })
}

/// Writes `rows` of [`linear_rows`] as CSV: features `x0..`, and `y` (a value, or `c<class>`).
pub fn write_synthetic_csv(
    path: &Path,
    rows: usize,
    features: usize,
    classes: usize,
    seed: u64,
) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    write_header(&mut out, features)?;
    for (x, target) in linear_rows(features, classes, seed).take(rows) {
        for v in x {
            write!(out, "{v:.6},")?;
        }
        match target {
            SyntheticTarget::Value(y) => writeln!(out, "{y:.6}")?,
            SyntheticTarget::Class(class) => writeln!(out, "c{class}")?,
        }
    }
    out.flush()
}

/// Rows around `k` centres drawn uniformly in [-10, 10]^features, with standard deviation
/// `spread` (like scikit-learn's `make_blobs`), the rows going to the blobs in turn; each with
/// its blob. Endless; take what you need.
pub fn blob_rows(
    features: usize,
    k: usize,
    spread: f64,
    seed: u64,
) -> impl Iterator<Item = (Vec<f64>, usize)> {
    let mut rng = Rng::new(seed);
    let centres: Vec<f64> = (0..k * features)
        .map(|_| rng.uniform() * 20.0 - 10.0)
        .collect();
    (0..).map(move |i| {
        let blob = i % k;
        let x = (0..features)
            .map(|j| centres[blob * features + j] + spread * rng.normal())
            .collect();
        (x, blob)
    })
}

/// Writes `rows` of [`blob_rows`] as CSV, the blob index as column `y` (`b<blob>`).
pub fn write_blobs_csv(
    path: &Path,
    rows: usize,
    features: usize,
    k: usize,
    spread: f64,
    seed: u64,
) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    write_header(&mut out, features)?;
    for (x, blob) in blob_rows(features, k, spread, seed).take(rows) {
        for v in x {
            write!(out, "{v:.6},")?;
        }
        writeln!(out, "b{blob}")?;
    }
    out.flush()
}

/// `x0,x1,...,y`.
fn write_header(out: &mut impl Write, features: usize) -> std::io::Result<()> {
    let header: Vec<String> = (0..features)
        .map(|j| format!("x{j}"))
        .chain(["y".to_owned()])
        .collect();
    writeln!(out, "{}", header.join(","))
}
