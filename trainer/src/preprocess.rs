//! Fitting the preprocessing saved with a model ([`Preprocessing`]: the feature scaling and
//! the class names) on training rows, and applying it: labels to class indices, rows to a
//! batch on a device.

use std::collections::BTreeSet;

use burn::tensor::{Device, Int, Tensor, TensorData};
use kiln_model_zoo::{Batch, Preprocessing, Targets};

use crate::data::{Dataset, Target};
use crate::error::{Error, Location, Result};

/// The scaling (when `standardize`; the population standard deviation, as scikit-learn's
/// `StandardScaler`, and a constant column keeps scale 1) and the class names of `train`.
pub fn fit(train: &Dataset, target: Option<&str>, standardize: bool) -> Preprocessing {
    let mut summary = ColumnSummary::default();
    summary.add(train);
    let mut prep = summary.preprocessing(train.feature_names.clone(), target, standardize);
    prep.table = train.encoding.as_deref().cloned();
    prep
}

/// The class index of every row's label, or an error naming the row of a label that is not
/// one of `prep`'s classes. Empty when `data` has no labels or `prep` no classes.
pub fn encode_labels(prep: &Preprocessing, data: &Dataset) -> Result<Vec<usize>> {
    let (Some(classes), Target::Labels { names, rows }) = (&prep.class_names, &data.target) else {
        return Ok(Vec::new());
    };
    // The class of each distinct label, once.
    let class_of: Vec<Option<usize>> = names.iter().map(|name| prep.class_index(name)).collect();
    rows.iter()
        .zip(&data.lines)
        .map(|(&label, line)| {
            class_of[label as usize].ok_or_else(|| Error::Data {
                message: format!(
                    "label `{}` was not among the training labels ({})",
                    names[label as usize],
                    crate::error::some_of(classes, 10)
                ),
                location: Location::line(&data.path, *line as usize),
                fix: "remove the row, or train on data that has this label".into(),
            })
        })
        .collect()
}

/// `data`'s features scaled by `prep` and uploaded, with its targets, to `device`.
pub fn to_batch(prep: &Preprocessing, data: &Dataset, device: &Device) -> Result<Batch> {
    let mut x = data.x.clone();
    prep.transform(&mut x);
    let n = data.n_rows();
    let x = Tensor::from_data(TensorData::new(x, [n, prep.n_features()]), device);
    let targets = match &data.target {
        Target::Values(v) => Targets::Values(Tensor::from_data(
            TensorData::new(v.clone(), [n, 1]),
            device,
        )),
        Target::Labels { .. } => {
            let classes: Vec<i64> = encode_labels(prep, data)?
                .into_iter()
                .map(|c| c as i64)
                .collect();
            Targets::Classes(Tensor::<1, Int>::from_data(
                TensorData::new(classes, [n]),
                device,
            ))
        }
        Target::None => Targets::Values(Tensor::zeros([n, 1], device)),
    };
    Ok(Batch { x, targets })
}

/// Per-column means and sums of squared deviations (f64) of row-major values added in
/// parts: parts are merged by Chan et al.'s pairwise update, so one part gives exactly the
/// two-pass statistics.
#[derive(Clone, Debug, Default)]
pub struct Moments {
    /// Rows added.
    pub rows: usize,
    /// Per-column means.
    pub mean: Vec<f64>,
    /// Sums of squared deviations from the mean.
    pub squares: Vec<f64>,
}

impl Moments {
    /// Adds the rows of `x`, `width` values each.
    pub fn add(&mut self, x: &[f32], width: usize) {
        let n = x.len() / width.max(1);
        if n == 0 {
            return;
        }
        // Two passes row by row (memory order), each column summed in row order.
        let mut mean = vec![0.0f64; width];
        for row in x.chunks_exact(width) {
            for (m, v) in mean.iter_mut().zip(row) {
                *m += *v as f64;
            }
        }
        mean.iter_mut().for_each(|m| *m /= n as f64);
        let mut squares = vec![0.0f64; width];
        for row in x.chunks_exact(width) {
            for ((s, m), v) in squares.iter_mut().zip(&mean).zip(row) {
                *s += (*v as f64 - m).powi(2);
            }
        }
        if self.rows == 0 {
            (self.mean, self.squares) = (mean, squares);
        } else {
            let (a, b) = (self.rows as f64, n as f64);
            let total = a + b;
            for j in 0..width {
                let delta = mean[j] - self.mean[j];
                self.mean[j] += delta * b / total;
                self.squares[j] += squares[j] + delta * delta * a * b / total;
            }
        }
        self.rows += n;
    }
}

/// The feature [`Moments`] and the distinct labels of a data set, or of a file read in chunks.
#[derive(Clone, Debug, Default)]
pub struct ColumnSummary {
    features: Moments,
    labels: BTreeSet<String>,
}

impl ColumnSummary {
    /// Adds a data set's rows.
    pub fn add(&mut self, data: &Dataset) {
        self.features.add(&data.x, data.n_features());
        if let Target::Labels { names, .. } = &data.target {
            for label in names {
                if !self.labels.contains(label) {
                    self.labels.insert(label.clone());
                }
            }
        }
    }

    /// Rows added.
    pub fn rows(&self) -> usize {
        self.features.rows
    }

    /// The scaling (when `standardize`) and class names these rows give.
    pub fn preprocessing(
        &self,
        feature_names: Vec<String>,
        target: Option<&str>,
        standardize: bool,
    ) -> Preprocessing {
        let d = feature_names.len();
        let (mut mean, mut scale) = (vec![0.0f32; d], vec![1.0f32; d]);
        let moments = &self.features;
        if standardize && moments.rows > 0 {
            for j in 0..d {
                let m = moments.mean[j];
                let sd = (moments.squares[j] / moments.rows as f64).sqrt();
                mean[j] = m as f32;
                scale[j] = if sd > 1e-12 * m.abs().max(1.0) {
                    sd as f32
                } else {
                    1.0
                };
            }
        }
        let class_names = (!self.labels.is_empty()).then(|| {
            let labels: Vec<String> = self.labels.iter().cloned().collect();
            sorted_classes(&labels)
        });
        Preprocessing {
            feature_names,
            target: target.map(str::to_owned),
            class_names,
            mean,
            scale,
            table: None,
        }
    }
}

/// Adds `data`'s labels that `classes` lacks, keeping the order [`fit`] gives.
pub fn add_classes(classes: &mut Vec<String>, data: &Dataset) {
    if let Target::Labels { names, .. } = &data.target
        && names.iter().any(|name| !classes.contains(name))
    {
        let mut all = classes.clone();
        all.extend(names.iter().cloned());
        *classes = sorted_classes(&all);
    }
}

/// Distinct labels, sorted numerically when they are all numbers, else as strings.
fn sorted_classes(labels: &[String]) -> Vec<String> {
    let mut names: Vec<String> = labels.to_vec();
    names.sort();
    names.dedup();
    if names.iter().all(|n| n.parse::<f64>().is_ok()) {
        names.sort_by(|a, b| {
            a.parse::<f64>()
                .unwrap_or(0.0)
                .total_cmp(&b.parse::<f64>().unwrap_or(0.0))
        });
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_labels_sort_numerically() {
        assert_eq!(
            sorted_classes(&["10".into(), "9".into(), "10".into()]),
            ["9", "10"]
        );
    }
}
