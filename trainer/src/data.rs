//! CSV data: reading and checking it, the train/valid split, standardization, and upload to a
//! device.

use std::path::{Path, PathBuf};

use burn::tensor::{Device, Int, Tensor, TensorData};
use kiln_model_zoo::{Batch, Targets, Task};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::config::suggestion;
use crate::error::{Error, Location, Result};

/// What the model needs from the target column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetKind {
    /// A number per row.
    Values,
    /// A class label per row (any string; integers sort numerically).
    Labels,
}

/// The target column as read.
#[derive(Clone, Debug, PartialEq)]
pub enum RawTarget {
    /// No target read (prediction).
    None,
    Values(Vec<f32>),
    Labels(Vec<String>),
}

/// Rows of a CSV file: features row-major, and the target.
#[derive(Clone, Debug)]
pub struct Table {
    pub path: PathBuf,
    pub feature_names: Vec<String>,
    /// `n_rows × feature_names.len()`, row-major.
    pub x: Vec<f32>,
    pub target: RawTarget,
    /// The file line of each row, for error messages.
    pub lines: Vec<u64>,
}

impl Table {
    pub fn n_rows(&self) -> usize {
        self.lines.len()
    }

    pub fn n_features(&self) -> usize {
        self.feature_names.len()
    }

    /// The rows at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Table {
        let d = self.n_features();
        let mut x = Vec::with_capacity(indices.len() * d);
        for &i in indices {
            x.extend_from_slice(&self.x[i * d..(i + 1) * d]);
        }
        let target = match &self.target {
            RawTarget::None => RawTarget::None,
            RawTarget::Values(v) => RawTarget::Values(indices.iter().map(|&i| v[i]).collect()),
            RawTarget::Labels(v) => {
                RawTarget::Labels(indices.iter().map(|&i| v[i].clone()).collect())
            }
        };
        Table {
            path: self.path.clone(),
            feature_names: self.feature_names.clone(),
            x,
            target,
            lines: indices.iter().map(|&i| self.lines[i]).collect(),
        }
    }
}

/// Which columns to read.
#[derive(Clone, Copy, Debug)]
pub struct Columns<'a> {
    /// The target column and what it holds; `None` to read no target.
    pub target: Option<(&'a str, TargetKind)>,
    /// The feature columns by name, in this order; `None` for every non-target column.
    pub features: Option<&'a [String]>,
}

/// Reads a CSV file with a header row. Every error names the file and line and the fix.
pub fn read_csv(path: &Path, columns: Columns<'_>) -> Result<Table> {
    let bytes = std::fs::read(path).map_err(|e| Error::io("read data file", path, e))?;
    // The csv crate's own line numbers skip blank lines; byte offsets give the true line.
    let newlines: Vec<usize> = bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .map(|(i, _)| i)
        .collect();
    let line_of = |position: Option<&csv::Position>| -> u64 {
        let Some(p) = position else { return 1 };
        // A record's offset can point at the blank lines skipped before it.
        let mut byte = p.byte() as usize;
        while byte < bytes.len() && matches!(bytes[byte], b'\n' | b'\r') {
            byte += 1;
        }
        newlines.partition_point(|&nl| nl < byte) as u64 + 1
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(bytes.as_slice());
    let data_error = |line: u64, message: String, fix: &str| Error::Data {
        message,
        location: Location::line(path, line as usize),
        fix: fix.to_owned(),
    };
    let csv_error = |e: csv::Error| {
        let line = line_of(e.position());
        match e.kind() {
            csv::ErrorKind::UnequalLengths {
                expected_len, len, ..
            } => data_error(
                line,
                format!("row has {len} fields but the header has {expected_len}"),
                "give every row one value per header column",
            ),
            csv::ErrorKind::Utf8 { .. } => data_error(
                line,
                "row is not valid UTF-8".into(),
                "save the file as UTF-8",
            ),
            csv::ErrorKind::Io(io) => Error::io(
                "read data file",
                path,
                std::io::Error::new(io.kind(), io.to_string()),
            ),
            _ => data_error(
                line,
                format!("cannot parse CSV: {e}"),
                "check the CSV syntax",
            ),
        }
    };
    let header: Vec<String> = reader
        .headers()
        .map_err(csv_error)?
        .iter()
        .map(str::to_owned)
        .collect();
    if header.iter().all(String::is_empty) {
        return Err(data_error(
            1,
            "the file is empty or has no header row".into(),
            "put the column names on the first line",
        ));
    }
    for (i, name) in header.iter().enumerate() {
        if header[..i].contains(name) {
            return Err(data_error(
                1,
                format!("column `{name}` appears twice in the header"),
                "give every column a distinct name",
            ));
        }
    }
    let find = |name: &str, role: &str| -> Result<usize> {
        header.iter().position(|h| h == name).ok_or_else(|| {
            let known: Vec<&str> = header.iter().map(String::as_str).collect();
            data_error(
                1,
                format!("no {role} column `{name}` in the header"),
                &suggestion(name, &known),
            )
        })
    };
    let target = match columns.target {
        Some((name, kind)) => Some((find(name, "target")?, kind)),
        None => None,
    };
    let feature_idx: Vec<usize> = match columns.features {
        Some(names) => names
            .iter()
            .map(|n| find(n, "feature"))
            .collect::<Result<_>>()?,
        None => (0..header.len())
            .filter(|i| Some(*i) != target.map(|t| t.0))
            .collect(),
    };
    if feature_idx.is_empty() {
        return Err(data_error(
            1,
            "there are no feature columns".into(),
            "add at least one numeric column besides the target",
        ));
    }

    let mut x = Vec::new();
    let mut values = Vec::new();
    let mut labels = Vec::new();
    let mut lines = Vec::new();
    let mut record = csv::StringRecord::new();
    while reader.read_record(&mut record).map_err(csv_error)? {
        let line = line_of(record.position());
        if record.len() == 1 && record[0].is_empty() {
            continue; // a blank line
        }
        for &i in &feature_idx {
            x.push(parse_number(&record[i]).ok_or_else(|| {
                data_error(
                    line,
                    format!("column `{}` holds `{}`, which is not a finite number", header[i], &record[i]),
                    "features must be numbers: encode categories as numbers and fill or drop missing values",
                )
            })?);
        }
        if let Some((i, kind)) = target {
            let cell = &record[i];
            match kind {
                TargetKind::Values => values.push(parse_number(cell).ok_or_else(|| {
                    data_error(
                        line,
                        format!(
                            "target column `{}` holds `{cell}`, which is not a finite number",
                            header[i]
                        ),
                        "a regression target must be numeric; use a classifier for labels",
                    )
                })?),
                TargetKind::Labels if cell.is_empty() => {
                    return Err(data_error(
                        line,
                        format!("target column `{}` is empty", header[i]),
                        "give every row a label",
                    ));
                }
                TargetKind::Labels => labels.push(cell.to_owned()),
            }
        }
        lines.push(line);
    }
    if lines.is_empty() {
        return Err(data_error(
            1,
            "the file has a header but no rows".into(),
            "add data rows below the header",
        ));
    }
    let target = match target {
        None => RawTarget::None,
        Some((_, TargetKind::Values)) => RawTarget::Values(values),
        Some((_, TargetKind::Labels)) => RawTarget::Labels(labels),
    };
    Ok(Table {
        path: path.to_owned(),
        feature_names: feature_idx.iter().map(|&i| header[i].clone()).collect(),
        x,
        target,
        lines,
    })
}

fn parse_number(cell: &str) -> Option<f32> {
    cell.parse::<f32>().ok().filter(|v| v.is_finite())
}

/// Splits row indices `0..n` into (train, valid) with a seeded shuffle; `valid_fraction` of the
/// rows (rounded, at least one when the fraction is positive) go to validation.
pub fn split_indices(n: usize, valid_fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut indices: Vec<usize> = (0..n).collect();
    if valid_fraction <= 0.0 {
        return (indices, Vec::new());
    }
    indices.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(seed));
    let n_valid = ((n as f64 * valid_fraction).round() as usize).clamp(1, n.saturating_sub(1));
    let valid = indices.split_off(n - n_valid);
    (indices, valid)
}

/// What `predict` needs besides the weights: columns, scaling and label names. Saved with the
/// model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Preprocessing {
    pub feature_names: Vec<String>,
    /// The target column (absent for unsupervised models).
    pub target: Option<String>,
    /// Class names, in the order of the model's outputs (classifiers only).
    pub class_names: Option<Vec<String>>,
    /// Per-feature mean subtracted before prediction (0 when not standardizing).
    pub mean: Vec<f32>,
    /// Per-feature scale divided by after the mean (1 when not standardizing).
    pub scale: Vec<f32>,
}

impl Preprocessing {
    /// Learns the scaling (population standard deviation, as scikit-learn's `StandardScaler`;
    /// a constant column keeps scale 1) and the class names from the training split.
    pub fn fit(train: &Table, target: Option<&str>, standardize: bool) -> Self {
        let d = train.n_features();
        let n = train.n_rows();
        let (mut mean, mut scale) = (vec![0.0f32; d], vec![1.0f32; d]);
        if standardize {
            for j in 0..d {
                let column = train.x.iter().skip(j).step_by(d).map(|v| *v as f64);
                let m = column.clone().sum::<f64>() / n as f64;
                let var = column.map(|v| (v - m).powi(2)).sum::<f64>() / n as f64;
                mean[j] = m as f32;
                let sd = var.sqrt();
                scale[j] = if sd > 1e-12 * m.abs().max(1.0) {
                    sd as f32
                } else {
                    1.0
                };
            }
        }
        let class_names = match &train.target {
            RawTarget::Labels(labels) => Some(sorted_classes(labels)),
            _ => None,
        };
        Self {
            feature_names: train.feature_names.clone(),
            target: target.map(str::to_owned),
            class_names,
            mean,
            scale,
        }
    }

    /// The task the data poses.
    pub fn task(&self) -> Task {
        match &self.class_names {
            Some(names) => Task::Classification {
                n_classes: names.len(),
            },
            None => Task::Regression,
        }
    }

    /// Scales the features in place.
    pub fn transform(&self, x: &mut [f32]) {
        let d = self.mean.len();
        for row in x.chunks_exact_mut(d) {
            for ((v, m), s) in row.iter_mut().zip(&self.mean).zip(&self.scale) {
                *v = (*v - m) / s;
            }
        }
    }

    /// The class index of every label, or an error naming the row of an unseen label.
    pub fn encode_labels(&self, table: &Table) -> Result<Vec<usize>> {
        let (Some(names), RawTarget::Labels(labels)) = (&self.class_names, &table.target) else {
            return Ok(Vec::new());
        };
        labels
            .iter()
            .zip(&table.lines)
            .map(|(label, line)| {
                names
                    .iter()
                    .position(|n| n == label)
                    .ok_or_else(|| Error::Data {
                        message: format!(
                            "label `{label}` was not among the training labels ({})",
                            names.join(", ")
                        ),
                        location: Location::line(&table.path, *line as usize),
                        fix: "remove the row, or train on data that has this label".into(),
                    })
            })
            .collect()
    }

    /// Scales `table`'s features and uploads them, with its targets, to `device`.
    pub fn batch(&self, table: &Table, device: &Device) -> Result<Batch> {
        let mut x = table.x.clone();
        self.transform(&mut x);
        let n = table.n_rows();
        let x = Tensor::from_data(TensorData::new(x, [n, self.feature_names.len()]), device);
        let targets = match &table.target {
            RawTarget::Values(v) => Targets::Values(Tensor::from_data(
                TensorData::new(v.clone(), [n, 1]),
                device,
            )),
            RawTarget::Labels(_) => {
                let classes: Vec<i64> = self
                    .encode_labels(table)?
                    .into_iter()
                    .map(|c| c as i64)
                    .collect();
                Targets::Classes(Tensor::<1, Int>::from_data(
                    TensorData::new(classes, [n]),
                    device,
                ))
            }
            RawTarget::None => Targets::Values(Tensor::zeros([n, 1], device)),
        };
        Ok(Batch { x, targets })
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

    fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.csv");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    fn labels(target: &str) -> Columns<'_> {
        Columns {
            target: Some((target, TargetKind::Labels)),
            features: None,
        }
    }

    fn err(text: &str, columns: Columns<'_>) -> String {
        let (_dir, path) = write(text);
        read_csv(&path, columns).unwrap_err().to_string()
    }

    #[test]
    fn reads_features_and_labels_and_standardizes() {
        let (_dir, path) = write("a,b,label\n1,10,x\n3,10,y\n\n5,10,x\n");
        let table = read_csv(&path, labels("label")).unwrap();
        assert_eq!(table.feature_names, ["a", "b"]);
        assert_eq!(table.x, [1.0, 10.0, 3.0, 10.0, 5.0, 10.0]);
        assert_eq!(table.lines, [2, 3, 5]);
        let prep = Preprocessing::fit(&table, Some("label"), true);
        assert_eq!(
            prep.class_names.as_deref(),
            Some(&["x".to_owned(), "y".to_owned()][..])
        );
        assert_eq!(prep.task(), Task::Classification { n_classes: 2 });
        assert!(
            (prep.mean[0] - 3.0).abs() < 1e-6
                && (prep.scale[0] - (8.0f32 / 3.0).sqrt()).abs() < 1e-6
        );
        assert_eq!(
            (prep.mean[1], prep.scale[1]),
            (10.0, 1.0),
            "a constant column keeps scale 1"
        );
        assert_eq!(prep.encode_labels(&table).unwrap(), [0, 1, 0]);
    }

    #[test]
    fn numeric_labels_sort_numerically() {
        assert_eq!(
            sorted_classes(&["10".into(), "9".into(), "10".into()]),
            ["9", "10"]
        );
    }

    #[test]
    fn bad_files_name_the_line_and_the_fix() {
        let msg = err("a,b,label\n1,2,x\n1,2\n", labels("label"));
        assert!(
            msg.starts_with("row has 2 fields but the header has 3, in ")
                && msg.contains("d.csv:3;"),
            "{msg}"
        );
        let msg = err("a,b,label\n1,2,x\n1,abc,y\n", labels("label"));
        assert!(
            msg.contains("column `b` holds `abc`, which is not a finite number")
                && msg.contains("d.csv:3;"),
            "{msg}"
        );
        let msg = err("a,b,label\n1,NaN,x\n", labels("label"));
        assert!(
            msg.contains("holds `NaN`") && msg.contains("d.csv:2;"),
            "{msg}"
        );
        let msg = err("a,b,label\n1,inf,x\n", labels("label"));
        assert!(msg.contains("holds `inf`"), "{msg}");
        let msg = err("a,b,label\n1,2,x\n", labels("lable"));
        assert!(
            msg.contains("no target column `lable`") && msg.contains("did you mean `label`?"),
            "{msg}"
        );
        let msg = err(
            "a,b,y\n1,2,x\n",
            Columns {
                target: Some(("y", TargetKind::Values)),
                features: None,
            },
        );
        assert!(msg.contains("target column `y` holds `x`"), "{msg}");
        let msg = err("", labels("label"));
        assert!(msg.contains("empty or has no header"), "{msg}");
        let msg = err("a,b,label\n", labels("label"));
        assert!(msg.contains("has a header but no rows"), "{msg}");
    }

    #[test]
    fn split_is_seeded_and_complete() {
        let (train, valid) = split_indices(10, 0.2, 1);
        assert_eq!((train.len(), valid.len()), (8, 2));
        assert_eq!(split_indices(10, 0.2, 1), (train.clone(), valid.clone()));
        let mut all: Vec<usize> = train.into_iter().chain(valid).collect();
        all.sort();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
        assert_eq!(split_indices(5, 0.0, 1).1.len(), 0);
    }
}
