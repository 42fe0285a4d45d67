//! The training loop: one driver for gradient-fitted and iteratively-fitted models, reporting
//! the same per-epoch record for both.

use std::collections::BTreeMap;
use std::time::Instant;

use burn::module::Module;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{GradientsParams, ModuleOptimizer, decay::WeightDecayConfig};
use burn::tensor::{Device, Int, Tensor, TensorData};
use kiln_model_zoo::data::read_f32;
use kiln_model_zoo::metrics;
use kiln_model_zoo::{Batch, FitMethod, Model, ModelSpec, Prediction, Targets};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use serde::Serialize;

use crate::config::{OptimizerConfig, TrainConfig};
use crate::error::{Error, Result};

/// Metric name → value.
pub type Metrics = BTreeMap<String, f64>;

/// What one epoch (gradient fit) or one step (iterative fit) reports: a line of
/// `metrics.jsonl`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EpochRecord {
    /// 1-based epoch or step.
    pub epoch: usize,
    /// Gradient steps taken so far (iterative fits: steps so far).
    pub step: usize,
    /// Mean training objective over the epoch.
    pub train_loss: f64,
    /// The objective on the validation rows, when there are any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_loss: Option<f64>,
    /// Validation metrics (`accuracy`, `log_loss`, `mse`, `mae`, `r2`, ... as apply).
    pub valid: Metrics,
    pub converged: bool,
    /// Diagonal jitter a solver needed (0 when none).
    #[serde(skip_serializing_if = "is_zero")]
    pub jitter: f64,
    /// Seconds since the fit started.
    pub elapsed_seconds: f64,
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

/// Labels or values of a data split, on the host, for metrics.
#[derive(Clone, Debug)]
pub enum HostTargets {
    Values(Vec<f32>),
    Classes {
        labels: Vec<usize>,
        n_classes: usize,
    },
}

/// A data split on the device and its targets on the host.
#[derive(Clone, Debug)]
pub struct Split {
    pub batch: Batch,
    pub targets: HostTargets,
}

/// The result of a fit.
#[derive(Debug)]
pub struct Fitted {
    /// The model, without autodiff.
    pub model: Model,
    pub history: Vec<EpochRecord>,
    /// Wall time of the fit alone, device work synced.
    pub fit_seconds: f64,
    pub stopped_early: bool,
}

/// Fits a model built from `spec` on `device`; `on_epoch` sees each record as it is made.
pub fn fit(
    spec: &ModelSpec,
    train: &Split,
    valid: Option<&Split>,
    config: &TrainConfig,
    seed: u64,
    device: &Device,
    on_epoch: &mut dyn FnMut(&EpochRecord) -> Result<()>,
) -> Result<Fitted> {
    let start = Instant::now();
    let fitted = match spec.fit_method() {
        FitMethod::Iterative => fit_iterative(spec, train, valid, config, device, start, on_epoch)?,
        FitMethod::Gradient => {
            fit_gradient(spec, train, valid, config, seed, device, start, on_epoch)?
        }
    };
    sync(device)?;
    Ok(Fitted {
        fit_seconds: start.elapsed().as_secs_f64(),
        ..fitted
    })
}

fn fit_iterative(
    spec: &ModelSpec,
    train: &Split,
    valid: Option<&Split>,
    config: &TrainConfig,
    device: &Device,
    start: Instant,
    on_epoch: &mut dyn FnMut(&EpochRecord) -> Result<()>,
) -> Result<Fitted> {
    let mut model = spec.init(device);
    let mut history = Vec::new();
    for epoch in 1..=config.epochs {
        let record = model.fit_step(&train.batch)?;
        if !record.loss.is_finite() {
            return Err(Error::Diverged {
                epoch,
                step: epoch,
                value: record.loss as f32,
            });
        }
        let (valid_loss, valid_metrics) = match valid {
            Some(v) => (
                Some(loss_of(&model, &v.batch, train.batch.len())?),
                evaluate(&model, v)?,
            ),
            None => (None, Metrics::new()),
        };
        let record = EpochRecord {
            epoch,
            step: epoch,
            train_loss: record.loss,
            valid_loss,
            valid: valid_metrics,
            converged: record.converged,
            jitter: record.jitter,
            elapsed_seconds: start.elapsed().as_secs_f64(),
        };
        on_epoch(&record)?;
        let converged = record.converged;
        history.push(record);
        if converged {
            break;
        }
    }
    Ok(Fitted {
        model,
        history,
        fit_seconds: 0.0,
        stopped_early: false,
    })
}

#[allow(clippy::too_many_arguments)]
fn fit_gradient(
    spec: &ModelSpec,
    train: &Split,
    valid: Option<&Split>,
    config: &TrainConfig,
    seed: u64,
    device: &Device,
    start: Instant,
    on_epoch: &mut dyn FnMut(&EpochRecord) -> Result<()>,
) -> Result<Fitted> {
    let autodiff = device.clone().autodiff();
    let mut model = spec.init(&autodiff);
    let mut optimizer = optimizer(&config.optimizer);
    let lr = config.optimizer.learning_rate();
    // The training data goes to the device once; each epoch gathers it in a new order there.
    let x = train.batch.x.clone().autodiff();
    let targets = match &train.batch.targets {
        Targets::Values(y) => Targets::Values(y.clone().autodiff()),
        Targets::Classes(c) => Targets::Classes(c.clone().autodiff()),
    };
    let n = train.batch.len();
    let batch_size = config.batch_size.min(n);
    let mut order: Vec<i64> = (0..n as i64).collect();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);

    let mut history = Vec::new();
    let mut step = 0;
    let mut best: Option<(f64, Model)> = None;
    let mut since_best = 0;
    let mut stopped_early = false;
    for epoch in 1..=config.epochs {
        let (x_epoch, t_epoch) = if config.shuffle {
            order.shuffle(&mut rng);
            let perm = Tensor::<1, Int>::from_data(TensorData::new(order.clone(), [n]), &autodiff);
            let t = match &targets {
                Targets::Values(y) => Targets::Values(y.clone().select(0, perm.clone())),
                Targets::Classes(c) => Targets::Classes(c.clone().select(0, perm.clone())),
            };
            (x.clone().select(0, perm), t)
        } else {
            (x.clone(), targets.clone())
        };
        // Losses stay on the device and are read once per epoch, not once per step.
        let mut loss_sum = Tensor::<1>::zeros([1], device);
        for begin in (0..n).step_by(batch_size) {
            let len = batch_size.min(n - begin);
            let batch = Batch {
                x: x_epoch.clone().narrow(0, begin, len),
                targets: match &t_epoch {
                    Targets::Values(y) => Targets::Values(y.clone().narrow(0, begin, len)),
                    Targets::Classes(c) => Targets::Classes(c.clone().narrow(0, begin, len)),
                },
            };
            let loss = model.loss(&batch, n)?;
            loss_sum = loss_sum + loss.clone().inner().mul_scalar(len as f64);
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optimizer.step(lr, model, grads);
            step += 1;
        }
        let train_loss = read_f32(loss_sum)?[0] as f64 / n as f64;
        if !train_loss.is_finite() {
            return Err(Error::Diverged {
                epoch,
                step,
                value: train_loss as f32,
            });
        }
        let current = model.valid();
        let (valid_loss, valid_metrics) = match valid {
            Some(v) => (
                Some(loss_of(&current, &v.batch, n)?),
                evaluate(&current, v)?,
            ),
            None => (None, Metrics::new()),
        };
        let record = EpochRecord {
            epoch,
            step,
            train_loss,
            valid_loss,
            valid: valid_metrics,
            converged: false,
            jitter: 0.0,
            elapsed_seconds: start.elapsed().as_secs_f64(),
        };
        on_epoch(&record)?;
        history.push(record);

        if let Some(stop) = &config.early_stopping {
            let watched = valid_loss.unwrap_or(train_loss);
            match &best {
                Some((best_loss, _)) if watched > best_loss - stop.min_delta => since_best += 1,
                _ => {
                    best = Some((watched, current));
                    since_best = 0;
                }
            }
            if since_best >= stop.patience {
                stopped_early = true;
                break;
            }
        }
    }
    // With early stopping the best epoch's weights are kept, not the last epoch's.
    let model = match best {
        Some((_, best_model)) => best_model,
        None => model.valid(),
    };
    Ok(Fitted {
        model,
        history,
        fit_seconds: 0.0,
        stopped_early,
    })
}

fn optimizer(config: &OptimizerConfig) -> ModuleOptimizer {
    match config {
        OptimizerConfig::Sgd(c) => burn::optim::SgdConfig::new()
            .with_momentum((c.momentum > 0.0).then(|| {
                // PyTorch's convention (no dampening), which users' learning rates assume.
                MomentumConfig::new()
                    .with_momentum(c.momentum)
                    .with_dampening(0.0)
                    .with_nesterov(c.nesterov)
            }))
            .with_weight_decay(
                (c.weight_decay > 0.0).then(|| WeightDecayConfig::new(c.weight_decay as f32)),
            )
            .init(),
        OptimizerConfig::Adam(c) => burn::optim::AdamConfig::new()
            .with_beta_1(c.beta1)
            .with_beta_2(c.beta2)
            .with_epsilon(c.epsilon)
            .with_weight_decay(
                (c.weight_decay > 0.0).then(|| WeightDecayConfig::new(c.weight_decay)),
            )
            .init(),
        OptimizerConfig::Adamw(c) => burn::optim::AdamWConfig::new()
            .with_beta_1(c.beta1)
            .with_beta_2(c.beta2)
            .with_epsilon(c.epsilon)
            .with_weight_decay(c.weight_decay)
            .init(),
    }
}

/// The model's objective on `batch` (for iterative models: the mean squared error, or for
/// k-means the mean squared distance to the nearest centre).
fn loss_of(model: &Model, batch: &Batch, n_train: usize) -> Result<f64> {
    match model.fit_method() {
        FitMethod::Gradient => Ok(read_f32(model.loss(batch, n_train)?)?[0] as f64),
        FitMethod::Iterative => match (model.predict(batch.x.clone()), &batch.targets) {
            (Prediction::Values(pred), Targets::Values(y)) => {
                Ok(read_f32((pred - y.clone()).square().mean())?[0] as f64)
            }
            (Prediction::Clusters(d), _) => {
                Ok(read_f32(d.min_dim(1).clamp_min(0.0).mean())?[0] as f64)
            }
            _ => Ok(f64::NAN),
        },
    }
}

/// Metrics of `model` on a split: `mse`, `mae`, `r2` for regression (and `deviance` for a
/// GLM); `accuracy`, `log_loss` for classification (`accuracy` alone for an SVM); `inertia` (and `adjusted_rand_index` given labels) for clustering.
pub fn evaluate(model: &Model, split: &Split) -> Result<Metrics> {
    let prediction = predict_host(model, split.batch.x.clone())?;
    let mut metrics = metrics_of(&prediction, &split.targets);
    if let (Model::Glm(glm), HostPrediction::Values(mu), HostTargets::Values(y)) =
        (model, &prediction, &split.targets)
    {
        metrics.insert("deviance".into(), glm.params.mean_deviance(mu, y));
    }
    Ok(metrics)
}

/// A prediction read back to the host.
#[derive(Clone, Debug)]
pub enum HostPrediction {
    Values(Vec<f32>),
    Probabilities {
        proba: Vec<f32>,
        n_classes: usize,
    },
    /// Decision scores, row-major: one column (binary) or one per class.
    Scores {
        scores: Vec<f32>,
        width: usize,
    },
    /// Squared distances to the `k` cluster centres, row-major.
    Clusters {
        distances: Vec<f32>,
        k: usize,
    },
}

pub fn predict_host(model: &Model, x: Tensor<2>) -> Result<HostPrediction> {
    Ok(match model.predict(x) {
        Prediction::Values(v) => HostPrediction::Values(read_f32(v)?),
        Prediction::Probabilities(p) => {
            let n_classes = p.dims()[1];
            HostPrediction::Probabilities {
                proba: read_f32(p)?,
                n_classes,
            }
        }
        Prediction::Scores(s) => {
            let width = s.dims()[1];
            HostPrediction::Scores {
                scores: read_f32(s)?,
                width,
            }
        }
        Prediction::Clusters(d) => {
            let k = d.dims()[1];
            HostPrediction::Clusters {
                distances: read_f32(d)?,
                k,
            }
        }
    })
}

pub fn metrics_of(prediction: &HostPrediction, targets: &HostTargets) -> Metrics {
    let mut out = Metrics::new();
    match (prediction, targets) {
        (HostPrediction::Values(pred), HostTargets::Values(y)) => {
            out.insert("mse".into(), metrics::mse(pred, y));
            out.insert("mae".into(), metrics::mae(pred, y));
            out.insert("r2".into(), metrics::r2(pred, y));
        }
        (
            HostPrediction::Probabilities { proba, n_classes },
            HostTargets::Classes { labels, .. },
        ) => {
            let pred = metrics::argmax_rows(proba, *n_classes);
            out.insert("accuracy".into(), metrics::accuracy(&pred, labels));
            out.insert(
                "log_loss".into(),
                metrics::log_loss(proba, labels, *n_classes),
            );
        }
        (HostPrediction::Scores { scores, width }, HostTargets::Classes { labels, .. }) => {
            let pred = metrics::classes_from_scores(scores, *width);
            out.insert("accuracy".into(), metrics::accuracy(&pred, labels));
        }
        (HostPrediction::Clusters { distances, k }, targets) => {
            let nearest = distances
                .chunks_exact(*k)
                .map(|row| row.iter().fold(f32::INFINITY, |m, v| m.min(*v)).max(0.0));
            out.insert("inertia".into(), nearest.map(f64::from).sum());
            if let HostTargets::Classes { labels, .. } = targets {
                let clusters = metrics::argmin_rows(distances, *k);
                out.insert(
                    "adjusted_rand_index".into(),
                    kiln_model_zoo::kmeans::adjusted_rand_index(&clusters, labels),
                );
            }
        }
        _ => {}
    }
    out
}

/// Waits for the device, turning its failure into kiln's error.
pub(crate) fn sync(device: &Device) -> Result<()> {
    device
        .sync()
        .map_err(|e| Error::Fit(kiln_model_zoo::FitError::Device(format!("{e:?}"))))
}
