//! The library's front door: [`Trainer`] fits any model ([`Estimator`]) on a [`Dataset`]
//! with the same loop, options, checkpoints and resume as `kiln train`, and gives back a
//! [`Fitted`] model that predicts, evaluates and saves a run directory the CLI reads.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use burn::tensor::{Device, Tensor, TensorData};
use kiln_model_zoo::{DataShape, Estimator, HostPrediction, Preprocessing, Task};

use crate::checkpoint::Checkpoint;
use crate::data::{Dataset, Target};
use crate::error::{Error, Result};
use crate::evaluate::{evaluate_final, predict_host};
use crate::fit::{FitOptions, fit, sync};
use crate::options::TrainConfig;
use crate::records::{EpochRecord, Metrics};
use crate::rows::{Split, TrainRows};
use crate::run::{self, ModelMeta};

/// Fits models on data sets: `[train]`'s options, the seed, the feature scaling, and what
/// steers a fit from outside (checkpoints and resume, an interrupt flag, a progress callback).
///
/// ```
/// use kiln_model_zoo::{Estimator, Model};
/// use kiln_trainer::{Dataset, Trainer};
///
/// // y = 2·a − b + 1 on a small grid.
/// let mut x = Vec::new();
/// let mut y = Vec::new();
/// for i in 0..20 {
///     let (a, b) = (i as f32 / 4.0, (i % 5) as f32);
///     x.extend([a, b]);
///     y.push(2.0 * a - b + 1.0);
/// }
/// let data = Dataset::regression(vec!["a".into(), "b".into()], x, y).unwrap();
/// let config = Model::read_config(serde_json::json!({"kind": "linear_regression"})).unwrap();
/// let device = burn::tensor::Device::flex();
/// let fitted = Trainer::default().fit::<Model>(&config, &data, None, &device).unwrap();
/// let metrics = fitted.evaluate(&data).unwrap();
/// assert!(metrics["r2"] > 0.999_99, "{metrics:?}");
/// ```
pub struct Trainer<'a> {
    train: TrainConfig,
    seed: u64,
    standardize: bool,
    checkpoint: Option<PathBuf>,
    interrupt: Option<&'a AtomicBool>,
    on_epoch: Option<Box<Progress<'a>>>,
}

/// A callback [`Trainer::on_epoch`] takes.
type Progress<'a> = dyn FnMut(&EpochRecord) + Send + 'a;

impl std::fmt::Debug for Trainer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trainer")
            .field("train", &self.train)
            .field("seed", &self.seed)
            .field("standardize", &self.standardize)
            .field("checkpoint", &self.checkpoint)
            .finish_non_exhaustive()
    }
}

impl Default for Trainer<'_> {
    /// `[train]`'s defaults, seed 42, standardized features: a config file's defaults.
    fn default() -> Self {
        Self::new(TrainConfig::default())
    }
}

impl<'a> Trainer<'a> {
    /// A trainer with these `[train]` options, seed 42 and standardized features.
    pub fn new(train: TrainConfig) -> Self {
        Self {
            train,
            seed: 42,
            standardize: true,
            checkpoint: None,
            interrupt: None,
            on_epoch: None,
        }
    }

    /// Seeds the device's RNG (random initial weights), the batch order and any split.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Whether to scale each feature to zero mean and unit variance (statistics of the
    /// training rows; default true).
    pub fn standardize(mut self, standardize: bool) -> Self {
        self.standardize = standardize;
        self
    }

    /// Writes a checkpoint to `path` every `checkpoint_every` epochs (and at the end, and on
    /// an interrupt). When `path` holds a checkpoint already, the fit continues from it and
    /// ends exactly as a fit never stopped.
    pub fn checkpoint(mut self, path: impl Into<PathBuf>) -> Self {
        self.checkpoint = Some(path.into());
        self
    }

    /// A flag that, once raised (by a Ctrl-C handler, say), stops the fit after its current
    /// step; with [`Trainer::checkpoint`] a checkpoint is written first.
    pub fn interrupt(mut self, flag: &'a AtomicBool) -> Self {
        self.interrupt = Some(flag);
        self
    }

    /// Calls `on_epoch` with each epoch's (or iterative step's) record as it is made.
    pub fn on_epoch(mut self, on_epoch: impl FnMut(&EpochRecord) + Send + 'a) -> Self {
        self.on_epoch = Some(Box::new(on_epoch));
        self
    }

    /// Fits a model of `config` on `train` (validating on `valid` each epoch), on `device`:
    /// fits the preprocessing on `train`, checks `config` against the data, and runs the
    /// model's fit loop. Wrong input (a config the data does not fit, a label `valid` does not
    /// know, a diverging loss) is an error, never a panic.
    pub fn fit<M: Estimator>(
        &mut self,
        config: &M::Config,
        train: &Dataset,
        valid: Option<&Dataset>,
        device: &Device,
    ) -> Result<Fitted<M>> {
        let prep = crate::preprocess::fit(train, train.target_column.as_deref(), self.standardize);
        let shape = DataShape {
            n_features: prep.n_features(),
            task: prep.task(),
        };
        let params = M::check(config, &shape).map_err(|source| Error::Model {
            source,
            location: None,
        })?;
        if let Target::Values(y) = &train.target
            && let Err(bad) = M::check_targets(&params, y)
        {
            return Err(Error::Data {
                message: format!(
                    "the target of row {} is {}, but {}",
                    bad.row + 1,
                    y[bad.row],
                    bad.rule
                ),
                location: crate::error::Location::line(&train.path, train.lines[bad.row] as usize),
                fix: bad.fix.into(),
            });
        }
        if let Some(stop) = &self.train.early_stopping {
            let known = crate::early_stopping::watchable_metrics::<M>(&params, valid.is_some());
            if !known.contains(&stop.metric.as_str()) {
                return Err(Error::Usage {
                    message: format!(
                        "early stopping cannot watch `{}`: this fit reports {}",
                        stop.metric,
                        known.join(", ")
                    ),
                    fix: "pass validation rows, or watch one of those".into(),
                });
            }
        }
        let mut rows = TrainRows::Resident(Box::new(Split::new(&prep, train, device)?));
        let valid = valid.map(|v| Split::new(&prep, v, device)).transpose()?;
        let resume = match &self.checkpoint {
            Some(path) if path.is_file() => Some(Checkpoint::read(path)?),
            _ => None,
        };
        let mut on_epoch = |record: &EpochRecord, _checkpointed: bool| {
            if let Some(on_epoch) = &mut self.on_epoch {
                on_epoch(record);
            }
            Ok(())
        };
        let outcome = fit::<M>(
            &params,
            &mut rows,
            valid.as_ref(),
            device,
            FitOptions {
                checkpoint: self.checkpoint.as_deref(),
                resume,
                interrupt: self.interrupt,
                on_epoch: Some(&mut on_epoch),
                ..FitOptions::new(&self.train, self.seed)
            },
        )?;
        sync(device)?;
        Ok(Fitted {
            model: outcome.model,
            config: config.clone(),
            params,
            preprocessing: prep,
            shape,
            device: device.clone(),
            history: outcome.history,
            fit_seconds: outcome.fit_seconds,
            stopped_early: outcome.stopped_early,
            interrupted: outcome.interrupted,
        })
    }
}

/// A fitted model with what it was fitted with: its config, the preprocessing it applies to
/// raw rows, and how the fit went.
#[derive(Debug)]
pub struct Fitted<M: Estimator> {
    /// The model, without autodiff (with early stopping, the best epoch's).
    pub model: M,
    /// Its config.
    pub config: M::Config,
    /// Its config checked against the data.
    pub params: M::Params,
    /// The feature scaling and class names fitted on the training rows.
    pub preprocessing: Preprocessing,
    /// The shape of the training data.
    pub shape: DataShape,
    /// The device the model is on.
    pub device: Device,
    /// One record per epoch or step.
    pub history: Vec<EpochRecord>,
    /// Seconds the fit took (over every session of a resumed fit).
    pub fit_seconds: f64,
    /// Whether early stopping ended the fit.
    pub stopped_early: bool,
    /// `Some((epoch, step))` when the interrupt flag stopped the fit there.
    pub interrupted: Option<(usize, usize)>,
}

impl<M: Estimator> Fitted<M> {
    /// The model's prediction for the raw (unscaled) rows of `data`, read back to the host.
    pub fn predict(&self, data: &Dataset) -> Result<HostPrediction> {
        let x = self.features(data)?;
        predict_host(&self.model, x)
    }

    /// The predicted class name of each row (a classifier), or `None` for a model that does
    /// not predict classes.
    pub fn predict_labels(&self, data: &Dataset) -> Result<Option<Vec<String>>> {
        let prediction = self.predict(data)?;
        Ok(prediction.classes().map(|classes| {
            classes
                .into_iter()
                .map(|c| {
                    self.preprocessing
                        .class_name(c)
                        .map_or_else(|| c.to_string(), str::to_owned)
                })
                .collect()
        }))
    }

    /// The metrics of the model on `data` (its targets included), as `kiln eval` reports
    /// them.
    pub fn evaluate(&self, data: &Dataset) -> Result<Metrics> {
        let data = self.columns(data)?;
        let split = Split::new(&self.preprocessing, &data, &self.device)?;
        evaluate_final(&self.model, &split)
    }

    /// Writes a run directory at `dir` that `kiln eval`, `kiln predict` and `kiln export`
    /// read: the weights, `model.json` and `summary.json` (the fit's last metrics). `dir`
    /// must not exist yet or be empty.
    pub fn save(&self, dir: impl AsRef<Path>, backend: &str) -> Result<()> {
        let writer = run::RunWriter::create(dir.as_ref())?;
        let meta = ModelMeta::new::<M>(
            &self.config,
            backend,
            self.shape,
            self.preprocessing.clone(),
        );
        writer.save_model(&self.model, &meta)?;
        let lines: Vec<String> = self
            .history
            .iter()
            .map(|r| serde_json::to_string(r).expect("records serialize to JSON"))
            .collect();
        writer.write(run::METRICS_FILE, lines.join("\n") + "\n")?;
        let last = self.history.last();
        writer.write_json(
            run::SUMMARY_FILE,
            &serde_json::json!({
                "model": M::kind(&self.config),
                "backend": backend,
                "epochs": self.history.len(),
                "stopped_early": self.stopped_early,
                "train_loss": last.map(|r| r.train_loss),
                "valid": last.map(|r| r.valid.clone()).unwrap_or_default(),
                "fit_seconds": self.fit_seconds,
            }),
        )?;
        writer.commit()?;
        Ok(())
    }

    /// The rows of `data` in the model's feature order, checked to have its columns.
    fn columns(&self, data: &Dataset) -> Result<Dataset> {
        if data.feature_names == self.preprocessing.feature_names {
            return Ok(data.clone());
        }
        let index: Vec<usize> = self
            .preprocessing
            .feature_names
            .iter()
            .map(|name| {
                data.feature_names
                    .iter()
                    .position(|n| n == name)
                    .ok_or_else(|| Error::Data {
                        message: format!("the rows have no feature `{name}`"),
                        location: crate::error::Location::file(&data.path),
                        fix: format!(
                            "give the features the model was fitted on: {}",
                            self.preprocessing.feature_names.join(", ")
                        ),
                    })
            })
            .collect::<Result<_>>()?;
        let width = data.n_features();
        let x = data
            .x
            .chunks_exact(width)
            .flat_map(|row| index.iter().map(|&i| row[i]))
            .collect();
        Ok(Dataset {
            feature_names: self.preprocessing.feature_names.clone(),
            x,
            ..data.clone()
        })
    }

    /// `data`'s features, in the model's order and scaled, on the model's device.
    fn features(&self, data: &Dataset) -> Result<Tensor<2>> {
        let data = self.columns(data)?;
        let mut x = data.x;
        self.preprocessing.transform(&mut x);
        let n = data.lines.len();
        Ok(Tensor::from_data(
            TensorData::new(x, [n, self.preprocessing.n_features()]),
            &self.device,
        ))
    }

    /// The task the model was fitted for.
    pub fn task(&self) -> Task {
        self.shape.task
    }
}
