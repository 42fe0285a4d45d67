//! Seeded synthetic data sets written as CSV (header `x0,x1,...,y`): the same bytes on every
//! platform, for benches and size tests, and reproducible in Python by
//! `benches/peers/kmeans_reference.py` for scikit-learn reference numbers.

use std::io::Write;
use std::path::Path;

use crate::rng::Rng;

/// Writes `rows × features` standard-normal features, and a target column `y`: a noisy linear
/// function (`classes = 0`) or a class `0..classes` drawn from a softmax of linear scores.
pub fn write_synthetic_csv(
    path: &Path,
    rows: usize,
    features: usize,
    classes: usize,
    seed: u64,
) -> std::io::Result<()> {
    let mut rng = Rng::new(seed);
    let outputs = classes.max(1);
    let weights: Vec<f64> = (0..features * outputs).map(|_| rng.normal()).collect();
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    write_header(&mut out, features)?;
    let mut x = vec![0.0; features];
    for _ in 0..rows {
        for v in x.iter_mut() {
            *v = rng.normal();
            write!(out, "{v:.6},")?;
        }
        let scores: Vec<f64> = (0..outputs)
            .map(|k| {
                x.iter()
                    .enumerate()
                    .map(|(j, v)| v * weights[j * outputs + k])
                    .sum()
            })
            .collect();
        if classes == 0 {
            writeln!(out, "{:.6}", scores[0] + 3.0 + 0.5 * rng.normal())?;
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
            writeln!(out, "c{class}")?;
        }
    }
    out.flush()
}

/// Writes `rows × features` points around `k` centres drawn uniformly in [-10, 10]^features,
/// with standard deviation `spread` (like scikit-learn's `make_blobs`), and the blob index as
/// column `y`.
pub fn write_blobs_csv(
    path: &Path,
    rows: usize,
    features: usize,
    k: usize,
    spread: f64,
    seed: u64,
) -> std::io::Result<()> {
    let mut rng = Rng::new(seed);
    let centres: Vec<f64> = (0..k * features)
        .map(|_| rng.uniform() * 20.0 - 10.0)
        .collect();
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    write_header(&mut out, features)?;
    for i in 0..rows {
        let blob = i % k;
        for j in 0..features {
            write!(
                out,
                "{:.6},",
                centres[blob * features + j] + spread * rng.normal()
            )?;
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
