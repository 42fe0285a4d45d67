//! Data generators shared by kiln's criterion benches: seeded synthetic data sets written as
//! CSV, so a bench measures the whole `kiln train` path (CSV parsing included).

use std::io::Write;
use std::path::Path;

/// A seeded 64-bit LCG with Box–Muller normals: reproducible data without extra dependencies.
#[derive(Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn uniform(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    pub fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

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
    let header: Vec<String> = (0..features)
        .map(|j| format!("x{j}"))
        .chain(["y".to_owned()])
        .collect();
    writeln!(out, "{}", header.join(","))?;
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
