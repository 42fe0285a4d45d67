//! k-fold cross-validation: the rows dealt into `k` seeded folds (stratified by class for a
//! classifier, as scikit-learn's `StratifiedKFold(shuffle=True)`; shuffled for the rest, as
//! `KFold(shuffle=True)`), a model fitted on every fold but one and scored on that one, and the
//! metrics' mean and standard deviation over the folds.
//!
//! ```
//! use kiln_model_zoo::{Estimator, Model};
//! use kiln_trainer::cross_validation::{CrossValidation, FoldData, fold_rows};
//! use kiln_trainer::{Dataset, Trainer};
//!
//! // Two classes, apart on the first feature.
//! let mut x = Vec::new();
//! let mut labels = Vec::new();
//! for i in 0..40 {
//!     let class = i % 2;
//!     x.extend([class as f32 * 4.0 + (i % 7) as f32 * 0.1, (i % 5) as f32]);
//!     labels.push(if class == 0 { "no" } else { "yes" });
//! }
//! let data = Dataset::classification(vec!["a".into(), "b".into()], x, &labels).unwrap();
//! let config = Model::read_config(serde_json::json!({"kind": "logistic_regression"})).unwrap();
//! let folds = fold_rows(data.class_of_rows().as_deref(), data.n_rows(), 4, 42).unwrap();
//! let device = burn::tensor::Device::flex();
//! let cv = CrossValidation::run::<Model>(&config, &folds, &device, |test| {
//!     Ok(FoldData {
//!         train: data.select(&folds.train_rows(test)),
//!         test: data.select(test),
//!         valid: None,
//!         trainer: Trainer::default(),
//!     })
//! })
//! .unwrap();
//! assert_eq!(cv.folds.len(), 4);
//! assert_eq!(cv.mean["accuracy"], 1.0);
//! ```

use std::collections::BTreeMap;

use burn::tensor::Device;
use kiln_model_zoo::Estimator;
use serde::Serialize;

use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::records::Metrics;
use crate::trainer::Trainer;

/// The test rows of each fold; every row is in exactly one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Folds {
    /// Each fold's test rows, ascending.
    pub test: Vec<Vec<usize>>,
    n_rows: usize,
}

impl Folds {
    /// The rows a fold trains on: all but `test`, ascending.
    pub fn train_rows(&self, test: &[usize]) -> Vec<usize> {
        let mut held_out = vec![false; self.n_rows];
        for &i in test {
            held_out[i] = true;
        }
        (0..self.n_rows).filter(|&i| !held_out[i]).collect()
    }
}

/// Deals `n_rows` rows into `k` folds, seeded: each class's rows (`classes`, one class index
/// per row) shuffled and dealt in turn, so each fold holds each class in proportion; without
/// classes, all rows shuffled and cut into `k` near-equal folds.
///
/// `Err` names the rule broken: fewer than 2 folds, more folds than rows, or a class with
/// fewer rows than folds (a fold would train without it).
pub fn fold_rows(
    classes: Option<&[usize]>,
    n_rows: usize,
    k: usize,
    seed: u64,
) -> std::result::Result<Folds, String> {
    if k < 2 {
        return Err(format!(
            "{k} folds leave no rows to train on; use at least 2"
        ));
    }
    if n_rows < k {
        return Err(format!(
            "{k} folds need at least {k} rows, and the data has {n_rows}; use at most {n_rows} folds"
        ));
    }
    let mut rng = kiln_model_zoo::rng::Rng::new(seed);
    let mut shuffled = |mut rows: Vec<usize>| {
        // Fisher–Yates, from the high bits of the generator.
        for i in (1..rows.len()).rev() {
            let j = (rng.uniform() * (i + 1) as f64) as usize;
            rows.swap(i, j.min(i));
        }
        rows
    };
    let mut test = vec![Vec::new(); k];
    match classes {
        Some(classes) => {
            let mut by_class: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
            for (row, &class) in classes.iter().enumerate() {
                by_class.entry(class).or_default().push(row);
            }
            if let Some((class, rows)) = by_class.iter().find(|(_, rows)| rows.len() < k) {
                return Err(format!(
                    "class {class} has {} rows, fewer than the {k} folds, so a fold would train \
                     without it; use at most {} folds",
                    rows.len(),
                    rows.len().max(2)
                ));
            }
            // Dealt on from where the last class stopped, so the folds' sizes stay within one.
            let mut next = 0;
            for rows in by_class.into_values() {
                for row in shuffled(rows) {
                    test[next % k].push(row);
                    next += 1;
                }
            }
        }
        None => {
            let rows = shuffled((0..n_rows).collect());
            let (size, extra) = (n_rows / k, n_rows % k);
            let mut start = 0;
            for (fold, test) in test.iter_mut().enumerate() {
                let len = size + usize::from(fold < extra);
                test.extend_from_slice(&rows[start..start + len]);
                start += len;
            }
        }
    }
    for rows in &mut test {
        rows.sort_unstable();
    }
    Ok(Folds { test, n_rows })
}

/// What one fold trains on, what it scores, and the [`Trainer`] that fits it.
#[derive(Debug)]
pub struct FoldData {
    /// The fold's training rows.
    pub train: Dataset,
    /// The fold's test rows.
    pub test: Dataset,
    /// Rows the fold's fit is validated on (early stopping watches them), drawn from its
    /// training rows; none if it needs none.
    pub valid: Option<Dataset>,
    /// The trainer that fits the fold's model.
    pub trainer: Trainer<'static>,
}

/// One fold's result.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FoldResult {
    /// Rows trained on.
    pub n_train: usize,
    /// Rows scored.
    pub n_test: usize,
    /// The metrics on the fold's test rows.
    pub metrics: Metrics,
}

/// How many folds fit at once on `device`: one per core on a CPU backend (a small fit uses
/// one core, and its large products already share the others), one on a GPU, whose queue
/// the folds would only share.
pub fn fold_workers(device: &Device) -> usize {
    if kiln_backends::is_host(device) {
        std::thread::available_parallelism().map_or(1, usize::from)
    } else {
        1
    }
}

/// The folds' results, and each metric's mean and (population) standard deviation over them.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CrossValidation {
    /// Each fold's result, in fold order.
    pub folds: Vec<FoldResult>,
    /// The mean of each metric over the folds.
    pub mean: Metrics,
    /// The standard deviation of each metric over the folds (numpy's `std`, ddof 0).
    pub std: Metrics,
}

impl CrossValidation {
    /// Fits a model of `config` for each fold of `folds` and scores it: `prepare(test_rows)`
    /// gives the fold's [`FoldData`] (so the caller decides what is fitted on the training
    /// rows alone, such as a table's encoding).
    pub fn run<M: Estimator>(
        config: &M::Config,
        folds: &Folds,
        device: &Device,
        mut prepare: impl FnMut(&[usize]) -> Result<FoldData>,
    ) -> Result<Self> {
        Self::run_with_progress::<M>(config, folds, device, &mut prepare, &mut |_, _| {})
    }

    /// [`CrossValidation::run`], calling `on_fold(index, result)` as each fold ends (in fold
    /// order), with the folds fitted [`fold_workers`] at a time.
    pub fn run_with_progress<M: Estimator>(
        config: &M::Config,
        folds: &Folds,
        device: &Device,
        prepare: &mut dyn FnMut(&[usize]) -> Result<FoldData>,
        on_fold: &mut dyn FnMut(usize, &FoldResult),
    ) -> Result<Self> {
        let workers = fold_workers(device);
        Self::run_on::<M>(config, folds, device, workers, prepare, on_fold)
    }

    /// [`CrossValidation::run_with_progress`] with `workers` folds fitted at once, each on a
    /// thread of its own. Each fold's fit is the same whatever runs beside it (the device
    /// generator is seeded and drawn under one lock), so the results do not depend on
    /// `workers`. Folds are prepared a batch of `workers` at a time, so at most that many
    /// folds' rows are held at once.
    pub fn run_on<M: Estimator>(
        config: &M::Config,
        folds: &Folds,
        device: &Device,
        workers: usize,
        prepare: &mut dyn FnMut(&[usize]) -> Result<FoldData>,
        on_fold: &mut dyn FnMut(usize, &FoldResult),
    ) -> Result<Self> {
        let fit = |data: FoldData| -> Result<FoldResult> {
            let FoldData {
                train,
                test,
                valid,
                mut trainer,
            } = data;
            let fitted = trainer.fit::<M>(config, &train, valid.as_ref(), device)?;
            Ok(FoldResult {
                n_train: train.n_rows(),
                n_test: test.n_rows(),
                metrics: fitted.evaluate(&test)?,
            })
        };
        let mut results = Vec::with_capacity(folds.test.len());
        for batch in folds.test.chunks(workers.max(1)) {
            let data = batch
                .iter()
                .map(|test_rows| prepare(test_rows))
                .collect::<Result<Vec<_>>>()?;
            let batch_results: Vec<Result<FoldResult>> = if data.len() == 1 {
                data.into_iter().map(fit).collect()
            } else {
                std::thread::scope(|scope| {
                    let running: Vec<_> = data
                        .into_iter()
                        .map(|fold| scope.spawn(|| fit(fold)))
                        .collect();
                    running
                        .into_iter()
                        .map(|thread| {
                            thread.join().unwrap_or_else(|_| {
                                Err(Error::Fit(kiln_model_zoo::FitError::Device(
                                    "a fold's fit panicked".into(),
                                )))
                            })
                        })
                        .collect()
                })
            };
            for result in batch_results {
                let result = result?;
                on_fold(results.len(), &result);
                results.push(result);
            }
        }
        Self::from_folds(results)
    }

    /// The mean and standard deviation of the metrics every fold reports.
    pub fn from_folds(folds: Vec<FoldResult>) -> Result<Self> {
        let Some(first) = folds.first() else {
            return Err(Error::Usage {
                message: "no folds to cross-validate".into(),
                fix: "use at least 2 folds".into(),
            });
        };
        let (mut mean, mut std) = (Metrics::new(), Metrics::new());
        for name in first.metrics.keys() {
            let values: Vec<f64> = folds
                .iter()
                .filter_map(|f| f.metrics.get(name).copied())
                .collect();
            let n = values.len() as f64;
            let m = values.iter().sum::<f64>() / n;
            let var = values.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / n;
            mean.insert(name.clone(), m);
            std.insert(name.clone(), var.sqrt());
        }
        Ok(Self { folds, mean, std })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A library fit whose early stopping watches a validation metric, given no validation
    /// rows, is one error, not a fit that keeps its first epoch.
    #[test]
    fn early_stopping_on_a_validation_metric_needs_validation_rows() {
        use kiln_model_zoo::Model;
        let x: Vec<f32> = (0..40)
            .map(|i| (i % 2) as f32 + (i % 3) as f32 * 0.1)
            .collect();
        let labels: Vec<&str> = (0..20).map(|i| ["a", "b"][i % 2]).collect();
        let data = Dataset::classification(vec!["p".into(), "q".into()], x, &labels).unwrap();
        let config = Model::read_config(serde_json::json!({"kind": "mlp"})).unwrap();
        let train = crate::config::TrainConfig {
            early_stopping: Some(crate::options::EarlyStopping {
                patience: 3,
                min_delta: 0.0,
                metric: "accuracy".into(),
            }),
            ..Default::default()
        };
        let error = Trainer::new(train)
            .fit::<Model>(&config, &data, None, &Device::flex())
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("early stopping cannot watch `accuracy`"),
            "{error}"
        );
    }

    /// Folds fitted four at a time on threads give, to the bit, what one at a time gives, with
    /// an MLP whose start and dropout masks come from the shared device generator.
    #[test]
    fn parallel_folds_give_what_sequential_folds_give() {
        use kiln_model_zoo::Model;
        let (mut x, mut labels) = (Vec::new(), Vec::new());
        for i in 0..120 {
            let class = i % 3;
            x.extend([class as f32 + (i % 7) as f32 * 0.3, (i % 5) as f32 * 0.2]);
            labels.push(["a", "b", "c"][class]);
        }
        let data = Dataset::classification(vec!["p".into(), "q".into()], x, &labels).unwrap();
        let config = Model::read_config(serde_json::json!({
            "kind": "mlp", "task": "classification", "hidden": [16], "dropout": 0.2
        }))
        .unwrap();
        let folds = fold_rows(data.class_of_rows().as_deref(), data.n_rows(), 4, 7).unwrap();
        let device = Device::flex();
        let run = |workers: usize| {
            let mut prepare = |test: &[usize]| {
                let train = crate::config::TrainConfig {
                    epochs: 5,
                    ..Default::default()
                };
                Ok(FoldData {
                    train: data.select(&folds.train_rows(test)),
                    test: data.select(test),
                    valid: None,
                    trainer: Trainer::new(train),
                })
            };
            CrossValidation::run_on::<Model>(
                &config,
                &folds,
                &device,
                workers,
                &mut prepare,
                &mut |_, _| {},
            )
            .unwrap()
        };
        let one = run(1);
        assert_eq!(run(4), one);
        assert!(one.mean["log_loss"].is_finite());
    }

    #[test]
    fn folds_cover_every_row_once_and_keep_class_shares() {
        // 3 classes of 20, 10 and 5 rows.
        let classes: Vec<usize> = (0..35)
            .map(|i| match i {
                0..20 => 0,
                20..30 => 1,
                _ => 2,
            })
            .collect();
        let folds = fold_rows(Some(&classes), 35, 5, 7).unwrap();
        let mut seen: Vec<usize> = folds.test.concat();
        seen.sort_unstable();
        assert_eq!(seen, (0..35).collect::<Vec<_>>());
        for test in &folds.test {
            assert_eq!(test.len(), 7);
            let count = |c| test.iter().filter(|&&r| classes[r] == c).count();
            assert_eq!((count(0), count(1), count(2)), (4, 2, 1), "{test:?}");
            let train = folds.train_rows(test);
            assert_eq!(train.len() + test.len(), 35);
            assert!(train.iter().all(|r| !test.contains(r)));
        }
        // Seeded: the same seed deals the same folds, another seed others.
        assert_eq!(folds, fold_rows(Some(&classes), 35, 5, 7).unwrap());
        assert_ne!(folds, fold_rows(Some(&classes), 35, 5, 8).unwrap());
    }

    #[test]
    fn unlabelled_folds_differ_in_size_by_at_most_one() {
        let folds = fold_rows(None, 11, 3, 1).unwrap();
        let sizes: Vec<usize> = folds.test.iter().map(Vec::len).collect();
        assert_eq!(sizes, [4, 4, 3]);
        let mut seen: Vec<usize> = folds.test.concat();
        seen.sort_unstable();
        assert_eq!(seen, (0..11).collect::<Vec<_>>());
    }

    #[test]
    fn impossible_folds_are_refused_with_the_fix() {
        assert!(
            fold_rows(None, 10, 1, 0)
                .unwrap_err()
                .contains("at least 2")
        );
        assert!(
            fold_rows(None, 3, 5, 0)
                .unwrap_err()
                .contains("at most 3 folds")
        );
        let classes = [0, 0, 0, 0, 1, 1];
        let error = fold_rows(Some(&classes), 6, 3, 0).unwrap_err();
        assert!(error.contains("class 1 has 2 rows") && error.contains("at most 2 folds"));
    }

    #[test]
    fn mean_and_std_are_numpys() {
        let fold = |accuracy: f64| FoldResult {
            n_train: 8,
            n_test: 2,
            metrics: [("accuracy".to_owned(), accuracy)].into_iter().collect(),
        };
        let cv = CrossValidation::from_folds(vec![fold(1.0), fold(0.5), fold(0.75)]).unwrap();
        assert_eq!(cv.mean["accuracy"], 0.75);
        // np.std([1.0, 0.5, 0.75]) = 0.2041241452319315
        assert!((cv.std["accuracy"] - 0.204_124_145_231_931_5).abs() < 1e-15);
    }
}
