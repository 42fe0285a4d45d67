//! Data generators shared by kiln's criterion benches: seeded synthetic data sets written as
//! CSV, so a bench measures the whole `kiln train` path (CSV parsing included).

use kiln_model_zoo::rng::Rng;
pub use kiln_model_zoo::synthetic::{write_blobs_csv, write_synthetic_csv};

/// A classification set generated like scikit-learn's `make_classification` (hypercube
/// clusters, no redundant or repeated features, 1% of labels flipped): each class owns
/// `clusters_per_class` Gaussian clusters in the first `informative` features, centred on
/// distinct hypercube vertices at ±`class_sep` and sheared by a random matrix; the other
/// features are standard-normal noise. Returns `rows × features` row-major and the labels.
pub fn make_classification(
    rows: usize,
    features: usize,
    informative: usize,
    classes: usize,
    clusters_per_class: usize,
    class_sep: f64,
    seed: u64,
) -> (Vec<f32>, Vec<usize>) {
    assert!(informative <= features && informative < 64);
    let mut rng = Rng::new(seed);
    let clusters = classes * clusters_per_class;
    // Distinct vertices of the informative hypercube.
    let mut vertices: Vec<u64> = Vec::with_capacity(clusters);
    while vertices.len() < clusters {
        let v = rng.next_u64() & ((1u64 << informative) - 1);
        if !vertices.contains(&v) {
            vertices.push(v);
        }
    }
    let shears: Vec<Vec<f64>> = (0..clusters)
        .map(|_| {
            (0..informative * informative)
                .map(|_| 2.0 * rng.uniform() - 1.0)
                .collect()
        })
        .collect();
    let mut x = vec![0f32; rows * features];
    let mut y = vec![0usize; rows];
    let mut z = vec![0f64; informative];
    for (i, (row, label)) in x.chunks_exact_mut(features).zip(&mut y).enumerate() {
        // Rows go to clusters in turn, as scikit-learn splits them evenly.
        let cluster = i % clusters;
        *label = cluster % classes;
        for v in z.iter_mut() {
            *v = rng.normal();
        }
        let shear = &shears[cluster];
        for (j, out) in row[..informative].iter_mut().enumerate() {
            let sheared: f64 = (0..informative)
                .map(|k| z[k] * shear[k * informative + j])
                .sum();
            let corner = if vertices[cluster] >> j & 1 == 1 {
                1.0
            } else {
                -1.0
            };
            *out = (sheared + corner * class_sep) as f32;
        }
        for out in row[informative..].iter_mut() {
            *out = rng.normal() as f32;
        }
        if rng.uniform() < 0.01 {
            *label = (rng.next_u64() % classes as u64) as usize;
        }
    }
    (x, y)
}

/// Scales each column of `train` and `test` (row-major, `features` wide) by the mean and
/// standard deviation of `train`'s column.
pub fn standardize(train: &mut [f32], test: &mut [f32], features: usize) {
    let n = (train.len() / features) as f64;
    for j in 0..features {
        let column = || train.chunks_exact(features).map(|r| f64::from(r[j]));
        let mean = column().sum::<f64>() / n;
        let sd = (column().map(|v| (v - mean).powi(2)).sum::<f64>() / n)
            .sqrt()
            .max(1e-12);
        for row in train
            .chunks_exact_mut(features)
            .chain(test.chunks_exact_mut(features))
        {
            row[j] = ((f64::from(row[j]) - mean) / sd) as f32;
        }
    }
}

/// Writes `rows × features` standard-normal features and a count target `y` drawn from a
/// Poisson distribution with mean `exp(0.5 + 0.3·x·w)`, `w` a random unit vector (a log-link
/// GLM's data; means mostly between 0.7 and 3).
pub fn write_poisson_csv(
    path: &std::path::Path,
    rows: usize,
    features: usize,
    seed: u64,
) -> std::io::Result<()> {
    use std::io::Write;
    let mut rng = Rng::new(seed);
    let w: Vec<f64> = (0..features).map(|_| rng.normal()).collect();
    let norm = w.iter().map(|v| v * v).sum::<f64>().sqrt();
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    let header: Vec<String> = (0..features).map(|j| format!("x{j}")).collect();
    writeln!(out, "{},y", header.join(","))?;
    for _ in 0..rows {
        let mut score = 0.0;
        for wj in &w {
            let v = rng.normal();
            score += v * wj / norm;
            write!(out, "{v:.6},")?;
        }
        // Knuth's method: count uniforms until their product drops below e^−λ.
        let limit = (-(0.5 + 0.3 * score).exp()).exp();
        let (mut count, mut product) = (0u32, rng.uniform());
        while product > limit {
            count += 1;
            product *= rng.uniform();
        }
        writeln!(out, "{count}")?;
    }
    out.flush()
}
