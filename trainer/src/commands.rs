//! What each `kiln` command does, as library functions the CLI and the tests call.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::tensor::{Device, Tensor, TensorData};
use kiln_backends::BackendKind;
use kiln_model_zoo::{Supervision, Task};
use serde::Serialize;

use crate::config::LoadedConfig;
use crate::data::{Columns, Preprocessing, RawTarget, Table, TargetKind, read_csv, split_indices};
use crate::error::{Error, Location, Result};
use crate::progress::Progress;
use crate::run::{self, ModelMeta, RunWriter};
use crate::train::{self, EpochRecord, HostPrediction, HostTargets, Metrics, Split};

/// Options of `kiln train`.
#[derive(Clone, Debug, Default)]
pub struct TrainOptions {
    pub config: PathBuf,
    pub backend: Option<String>,
    pub set: Vec<String>,
    pub out: Option<PathBuf>,
}

/// `summary.json`.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub model: String,
    pub backend: String,
    pub device: String,
    pub n_train: usize,
    pub n_valid: usize,
    pub n_features: usize,
    /// Epochs (gradient fit) or steps (iterative fit) run.
    pub epochs: usize,
    pub stopped_early: bool,
    pub train: Metrics,
    pub valid: Metrics,
    pub train_loss: f64,
    /// Reading and preparing the data, and uploading it to the device.
    pub load_seconds: f64,
    /// The fit alone, device work synced.
    pub fit_seconds: f64,
}

/// A finished training run.
#[derive(Debug)]
pub struct TrainReport {
    pub run_dir: PathBuf,
    pub summary: Summary,
}

/// `kiln train`: fits the model a config describes and writes a run directory.
pub fn train(options: &TrainOptions) -> Result<TrainReport> {
    let load_start = Instant::now();
    let mut overrides = options.set.clone();
    if let Some(backend) = &options.backend {
        overrides.push(format!("backend={backend}"));
    }
    let loaded = LoadedConfig::load(&options.config, &overrides)?;
    let config = &loaded.config;
    let backend = loaded.backend;
    let opened = kiln_backends::open(backend).map_err(|source| Error::Backend {
        source,
        location: loaded.locate(&["backend"]),
    })?;
    let device = opened.device;
    device.seed(config.seed);

    let target_kind = match config.model.supervision() {
        Supervision::Values => TargetKind::Values,
        // For clustering a label column only feeds metrics (adjusted Rand index).
        Supervision::Labels | Supervision::None => TargetKind::Labels,
    };
    let target = config.data.target.as_deref();
    if target.is_none() && config.model.supervision() != Supervision::None {
        return Err(loaded.error(
            &["data"],
            format!(
                "model `{}` needs a target column, and `[data] target` is not set",
                config.model.kind()
            ),
            "add `target = \"COLUMN\"` to `[data]`".into(),
        ));
    }
    let train_path = loaded.resolve(&config.data.train);
    let columns = Columns {
        target: target.map(|t| (t, target_kind)),
        features: None,
    };
    let full = read_csv(&train_path, columns)?;
    let (train_table, valid_table) = match &config.data.valid {
        Some(valid) => {
            let features = full.feature_names.clone();
            let valid = read_csv(
                &loaded.resolve(valid),
                Columns {
                    features: Some(&features),
                    ..columns
                },
            )?;
            (full, Some(valid))
        }
        None => {
            let fraction = config.data.valid_fraction.unwrap_or(0.2);
            let (train_idx, valid_idx) = split_indices(full.n_rows(), fraction, config.seed);
            if train_idx.is_empty() || (fraction > 0.0 && valid_idx.is_empty()) {
                return Err(Error::Data {
                    message: format!(
                        "{} rows are too few to hold out `valid_fraction = {fraction}`",
                        full.n_rows()
                    ),
                    location: Location::file(&train_path),
                    fix: "add rows, or set `valid_fraction = 0`".into(),
                });
            }
            let valid = (!valid_idx.is_empty()).then(|| full.select(&valid_idx));
            (full.select(&train_idx), valid)
        }
    };
    let prep = Preprocessing::fit(&train_table, target, config.data.standardize);
    let shape = kiln_model_zoo::DataShape {
        n_features: prep.feature_names.len(),
        task: prep.task(),
    };
    let spec = config.model.check(&shape).map_err(|source| {
        let location = match source.key() {
            Some(key) => loaded.locate(&["model", key]),
            None => Location::file(&train_path),
        };
        Error::Model { source, location }
    })?;
    let train_split = split(&prep, &train_table, &device)?;
    let valid_split = valid_table
        .as_ref()
        .map(|t| split(&prep, t, &device))
        .transpose()?;
    if let kiln_model_zoo::ModelSpec::Glm(glm) = &spec {
        for table in std::iter::once(&train_table).chain(valid_table.as_ref()) {
            if let RawTarget::Values(y) = &table.target
                && let Err((row, needs)) = glm.check_targets(y)
            {
                return Err(Error::Data {
                    message: format!(
                        "target `{}` is {}, but this GLM family needs {needs}",
                        target.unwrap_or_default(),
                        y[row],
                    ),
                    location: Location::line(&table.path, table.lines[row] as usize),
                    fix: "fix the row, or pick a family that fits the target (`normal` takes \
                          any sign)"
                        .into(),
                });
            }
        }
    }
    train::sync(&device)?;
    let load_seconds = load_start.elapsed().as_secs_f64();

    let stem = options
        .config
        .file_stem()
        .map_or("run".into(), |s| s.to_string_lossy().into_owned());
    let target_dir = options
        .out
        .clone()
        .unwrap_or_else(|| run::default_run_dir(Path::new("runs"), &stem));
    let writer = RunWriter::create(&target_dir)?;
    writer.write(run::CONFIG_FILE, resolved_config(&loaded)?)?;
    let metrics_path = writer.path(run::METRICS_FILE);
    let mut metrics_log = std::io::BufWriter::new(
        std::fs::File::create(&metrics_path).map_err(|e| Error::io("write", &metrics_path, e))?,
    );
    let main_metric = match (config.model.supervision(), shape.task) {
        (Supervision::None, Task::Classification { .. }) => "adjusted_rand_index",
        (Supervision::None, Task::Regression) => "inertia",
        (_, Task::Classification { .. }) => "accuracy",
        (_, Task::Regression) => "r2",
    };
    let progress = Progress::new(
        config.train.epochs,
        main_metric,
        &format!("{} on {backend}", config.model.kind()),
    );
    let mut on_epoch = |record: &EpochRecord| -> Result<()> {
        progress.epoch(record);
        if record.jitter > 0.0 {
            eprintln!(
                "note: the solve needed jitter {:e} on the diagonal (collinear or constant \
                 features?); the result is slightly regularised",
                record.jitter
            );
        }
        let line = serde_json::to_string(record).expect("records serialize to JSON");
        writeln!(metrics_log, "{line}").map_err(|e| Error::io("write", &metrics_path, e))
    };
    let fitted = train::fit(
        &spec,
        &train_split,
        valid_split.as_ref(),
        &config.train,
        config.seed,
        &device,
        &mut on_epoch,
    );
    progress.finish();
    let fitted = fitted?;
    metrics_log
        .flush()
        .map_err(|e| Error::io("write", writer.path(run::METRICS_FILE), e))?;
    drop(metrics_log);

    let meta = ModelMeta {
        kiln_version: env!("CARGO_PKG_VERSION").into(),
        backend: backend.name().into(),
        model: config.model.clone(),
        shape,
        preprocessing: prep,
    };
    writer.save_model(&fitted.model, &meta)?;
    let last = fitted.history.last();
    let summary = Summary {
        model: config.model.kind().into(),
        backend: backend.name().into(),
        device: opened.description,
        n_train: train_table.n_rows(),
        n_valid: valid_table.as_ref().map_or(0, Table::n_rows),
        n_features: shape.n_features,
        epochs: fitted.history.len(),
        stopped_early: fitted.stopped_early,
        train: train::evaluate(&fitted.model, &train_split)?,
        valid: match &valid_split {
            Some(v) => train::evaluate(&fitted.model, v)?,
            None => Metrics::new(),
        },
        train_loss: last.map_or(f64::NAN, |r| r.train_loss),
        load_seconds,
        fit_seconds: fitted.fit_seconds,
    };
    writer.write_json(run::SUMMARY_FILE, &summary)?;
    let run_dir = writer.commit()?;
    Ok(TrainReport { run_dir, summary })
}

/// A table's rows on the device, and its targets on the host.
fn split(prep: &Preprocessing, table: &Table, device: &Device) -> Result<Split> {
    let batch = prep.batch(table, device)?;
    Ok(Split {
        batch,
        targets: host_targets(prep, table)?,
    })
}

fn host_targets(prep: &Preprocessing, table: &Table) -> Result<HostTargets> {
    Ok(match (&table.target, prep.task()) {
        (RawTarget::Labels(_), Task::Classification { n_classes }) => HostTargets::Classes {
            labels: prep.encode_labels(table)?,
            n_classes,
        },
        (RawTarget::Values(v), _) => HostTargets::Values(v.clone()),
        _ => HostTargets::Values(Vec::new()),
    })
}

/// The config as it was used: defaults filled in, overrides applied, data paths absolute.
fn resolved_config(loaded: &LoadedConfig) -> Result<String> {
    let mut config = loaded.config.clone();
    config.backend = loaded.backend.name().into();
    config.data.train = loaded.resolve_absolute(&config.data.train);
    config.data.valid = config
        .data
        .valid
        .as_deref()
        .map(|p| loaded.resolve_absolute(p));
    toml::to_string(&config).map_err(|e| Error::Run {
        message: format!("cannot write the resolved config: {e}"),
        path: loaded.path.clone(),
        fix: "report this as a kiln bug".into(),
    })
}

/// Loads a run's model onto `--backend`, else onto the backend it was trained on.
fn load(run: &Path, backend: Option<&str>) -> Result<(run::SavedModel, Device)> {
    let meta = run::read_meta(run)?;
    let device = device_for(&meta.backend, backend, run)?;
    Ok((run::load_model(run, meta, &device)?, device))
}

fn device_for(meta_backend: &str, backend: Option<&str>, run: &Path) -> Result<Device> {
    let name = backend.unwrap_or(meta_backend);
    let kind: BackendKind =
        name.parse()
            .map_err(|e: kiln_backends::BackendError| Error::Usage {
                message: e.to_string(),
                fix: "pass `--backend flex`".into(),
            })?;
    kiln_backends::open(kind)
        .map(|b| b.device)
        .map_err(|source| Error::Backend {
            source,
            location: Location::file(run.join(run::META_FILE)),
        })
}

/// `kiln eval`: metrics of a trained model on a labelled CSV.
pub fn eval(run: &Path, data: &Path, backend: Option<&str>) -> Result<Metrics> {
    let (saved, device) = load(run, backend)?;
    let prep = &saved.meta.preprocessing;
    let kind = match prep.task() {
        Task::Classification { .. } => TargetKind::Labels,
        Task::Regression => TargetKind::Values,
    };
    // A clustering model trained without labels is evaluated on its inertia alone.
    let target = match (prep.target.as_deref(), saved.meta.model.supervision()) {
        (Some(target), _) => Some((target, kind)),
        (None, Supervision::None) => None,
        (None, _) => {
            return Err(Error::Run {
                message:
                    "this model was trained without a target, so it has nothing to evaluate against"
                        .into(),
                path: run.to_owned(),
                fix: "use `kiln predict`".into(),
            });
        }
    };
    let table = read_csv(
        data,
        Columns {
            target,
            features: Some(&prep.feature_names),
        },
    )?;
    let split = split(prep, &table, &device)?;
    let mut metrics = train::evaluate(&saved.model, &split)?;
    metrics.insert("rows".into(), table.n_rows() as f64);
    Ok(metrics)
}

/// `kiln predict`: one prediction per row of a CSV, written as CSV to `out`.
pub fn predict(
    run: &Path,
    data: &Path,
    backend: Option<&str>,
    out: &mut dyn Write,
) -> Result<usize> {
    let (saved, device) = load(run, backend)?;
    let prep = &saved.meta.preprocessing;
    let table = read_csv(
        data,
        Columns {
            target: None,
            features: Some(&prep.feature_names),
        },
    )?;
    let mut x = table.x.clone();
    prep.transform(&mut x);
    let x = Tensor::from_data(
        TensorData::new(x, [table.n_rows(), prep.feature_names.len()]),
        &device,
    );
    let prediction = train::predict_host(&saved.model, x)?;
    let write_error = |e: std::io::Error| Error::Usage {
        message: format!("cannot write the predictions: {e}"),
        fix: "check the output path and the disk".into(),
    };
    let mut csv = csv::Writer::from_writer(out);
    match &prediction {
        HostPrediction::Values(values) => {
            csv.write_record(["prediction"])
                .map_err(|e| write_error(e.into()))?;
            for v in values {
                csv.write_record([v.to_string()])
                    .map_err(|e| write_error(e.into()))?;
            }
        }
        HostPrediction::Clusters { distances, k } => {
            csv.write_record(["cluster"])
                .map_err(|e| write_error(e.into()))?;
            for cluster in kiln_model_zoo::metrics::argmin_rows(distances, *k) {
                csv.write_record([cluster.to_string()])
                    .map_err(|e| write_error(e.into()))?;
            }
        }
        HostPrediction::Scores { scores, width } => {
            let names = prep.class_names.clone().unwrap_or_default();
            let header: Vec<String> = if *width == 1 {
                vec!["prediction".into(), "decision".into()]
            } else {
                std::iter::once("prediction".to_owned())
                    .chain(names.iter().map(|n| format!("decision_{n}")))
                    .collect()
            };
            csv.write_record(header)
                .map_err(|e| write_error(e.into()))?;
            let labels = kiln_model_zoo::metrics::classes_from_scores(scores, *width);
            for (row, label) in scores.chunks_exact(*width).zip(labels) {
                let record =
                    std::iter::once(names[label].clone()).chain(row.iter().map(|s| s.to_string()));
                csv.write_record(record)
                    .map_err(|e| write_error(e.into()))?;
            }
        }
        HostPrediction::Probabilities { proba, n_classes } => {
            let names = prep.class_names.clone().unwrap_or_default();
            let header = std::iter::once("prediction".to_owned())
                .chain(names.iter().map(|n| format!("proba_{n}")));
            csv.write_record(header)
                .map_err(|e| write_error(e.into()))?;
            let labels = kiln_model_zoo::metrics::argmax_rows(proba, *n_classes);
            for (row, label) in proba.chunks_exact(*n_classes).zip(labels) {
                let record =
                    std::iter::once(names[label].clone()).chain(row.iter().map(|p| p.to_string()));
                csv.write_record(record)
                    .map_err(|e| write_error(e.into()))?;
            }
        }
    }
    csv.flush().map_err(write_error)?;
    Ok(table.n_rows())
}

/// One line of `kiln backends`.
#[derive(Clone, Debug, Serialize)]
pub struct BackendStatus {
    pub name: &'static str,
    pub compiled: bool,
    pub works: bool,
    /// What it runs on, or why it does not work.
    pub detail: String,
}

/// `kiln backends`: every backend, whether it is compiled in and whether it works here.
pub fn backends() -> Vec<BackendStatus> {
    BackendKind::ALL
        .into_iter()
        .map(|kind| {
            if !kind.is_compiled() {
                return BackendStatus {
                    name: kind.name(),
                    compiled: false,
                    works: false,
                    detail: format!(
                        "not compiled in; rebuild with `--features {}`",
                        kind.feature()
                    ),
                };
            }
            match kiln_backends::probe(kind) {
                Ok(report) => BackendStatus {
                    name: kind.name(),
                    compiled: true,
                    works: true,
                    detail: report.description,
                },
                Err(e) => BackendStatus {
                    name: kind.name(),
                    compiled: true,
                    works: false,
                    detail: e.to_string(),
                },
            }
        })
        .collect()
}

/// `kiln export`: the deployment file firmware loads (weights, scaling, labels); returns its
/// size in bytes. The file is decoded again before it is written, so a file that would not
/// load on the device is never written.
pub fn export(run: &Path, out: &Path) -> Result<usize> {
    let meta = run::read_meta(run)?;
    let deployment = kiln_model_zoo::deploy::Deployment {
        model: meta.model.clone(),
        shape: meta.shape,
        mean: meta.preprocessing.mean.clone(),
        scale: meta.preprocessing.scale.clone(),
        class_names: meta.preprocessing.class_names.clone(),
    };
    let weights_path = run.join(run::MODEL_FILE);
    let weights = std::fs::read(&weights_path).map_err(|e| Error::io("read", &weights_path, e))?;
    let invalid = |e: kiln_model_zoo::deploy::DeployError| Error::Run {
        message: format!("cannot export this model: {e}"),
        path: run.to_owned(),
        fix: "retrain the model with this kiln version".into(),
    };
    let bytes = deployment.encode_weights(&weights).map_err(invalid)?;
    let check_device =
        kiln_backends::open(kiln_backends::compiled()[0]).map_err(|source| Error::Backend {
            source,
            location: Location::file(run.join(run::META_FILE)),
        })?;
    kiln_model_zoo::deploy::Deployment::decode(&bytes, &check_device.device).map_err(invalid)?;
    std::fs::write(out, &bytes).map_err(|e| Error::io("write", out, e))?;
    Ok(bytes.len())
}
