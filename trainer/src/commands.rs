//! What each `kiln` command does, as library functions the CLI and the tests call. Each is
//! generic over the model type ([`Estimator`]); the CLI picks the type from the config's or
//! the run's `kind` (see [`crate::cli::Registry`]).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use burn::tensor::{Device, Tensor, TensorData};
use kiln_backends::BackendKind;
use kiln_model_zoo::deploy::{DeployError, Deployment};
use kiln_model_zoo::{Estimator, FitError, Supervision, Task};
use serde::Serialize;

use crate::atomic::{self, Durability};
use crate::checkpoint::{self, Checkpoint};
use crate::config::LoadedConfig;
use crate::cross_validation::{CrossValidation, FoldData, FoldResult, fold_rows};
use crate::data::{Columns, Dataset, Target, TargetKind};
use crate::early_stopping::watchable_metrics;
use crate::error::{Error, Location, Result};
use crate::evaluate::{evaluate_final, evaluate_train, predict_host};
use crate::fit::{FitOptions, fit, sync};
use crate::plot;
use crate::predictions::{Output, PredictionColumns, PredictionWriter};
use crate::progress::Progress;
use crate::records::{EpochRecord, Metrics, metrics_line};
use crate::rows::{Split, TrainRows};
use crate::run::{self, ModelMeta, Resumable, RunWriter};
use crate::source::{TableReader, read_table};
use crate::stream::{ChunkedTable, RowCheck};
use crate::table::{FittedTable, Holdout, TableReport, fit_table};
use crate::trainer::Trainer;

/// Options of `kiln train`.
#[derive(Clone, Debug, Default)]
pub struct TrainOptions {
    /// The config file.
    pub config: PathBuf,
    /// The backend to train on, overriding the config's.
    pub backend: Option<String>,
    /// `KEY=VALUE` overrides of config keys.
    pub set: Vec<String>,
    /// The run directory to write.
    pub out: Option<PathBuf>,
    /// Continue a stopped run instead of starting one.
    pub resume: Option<Resume>,
}

/// Which stopped run `--resume` continues.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resume {
    /// The most recent stopped run of the config under `runs/`.
    Latest,
    /// This run directory (`RUN` or `RUN.partial`).
    Run(PathBuf),
}

/// `summary.json`.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// The model's kind.
    pub model: String,
    /// The backend it trained on.
    pub backend: String,
    /// The device, in words.
    pub device: String,
    /// Training rows.
    pub n_train: usize,
    /// Validation rows.
    pub n_valid: usize,
    /// Feature columns.
    pub n_features: usize,
    /// Epochs (gradient fit) or steps (iterative fit) run.
    pub epochs: usize,
    /// Whether early stopping ended the fit.
    pub stopped_early: bool,
    /// Whether an iterative fit met its tolerance rather than a cap on its steps (its own
    /// `max_iter` where it has one, else `[train] epochs`); absent for gradient fits, which
    /// run their epochs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub converged: Option<bool>,
    /// Final metrics on the training rows.
    pub train: Metrics,
    /// Final metrics on the validation rows.
    pub valid: Metrics,
    /// The last epoch's training loss.
    pub train_loss: f64,
    /// What the fit found beyond the metrics (a Gaussian process's kernel, a kernel SVM's
    /// support vectors).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fitted: Option<String>,
    /// Reading and preparing the data, and uploading it to the device.
    pub load_seconds: f64,
    /// The fit alone, device work synced.
    pub fit_seconds: f64,
    /// The process's peak resident memory so far, in bytes (Linux only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peak_rss_bytes: Option<u64>,
    /// What each feature column holds (type, missing cells, categories kept), and the rows
    /// left out.
    #[serde(flatten)]
    pub table: TableReport,
}

/// A finished training run.
#[derive(Debug)]
pub struct TrainReport {
    /// Where the run directory is.
    pub run_dir: PathBuf,
    /// What `summary.json` holds.
    pub summary: Summary,
}

/// A `kiln train` about to run: its config loaded (the stopped run's own config when
/// resuming), before the model type is known.
#[derive(Debug)]
pub struct TrainJob {
    /// The config, `--set` and `--backend` applied.
    pub loaded: LoadedConfig,
    /// The config file's name, which names the run directory.
    stem: String,
    /// The stopped run to continue.
    resumable: Option<Resumable>,
    /// The config file given with `--resume`, to compare its model with the run's.
    edited: Option<LoadedConfig>,

    /// The run directory asked for.
    out: Option<PathBuf>,
    /// When loading started, for `load_seconds`.
    started: Instant,
}

/// Loads the config `kiln train` runs (the stopped run's own, plus `--set`, with `--resume`).
pub fn load_train_job(options: &TrainOptions) -> Result<TrainJob> {
    let started = Instant::now();
    let mut overrides = options.set.clone();
    if let Some(backend) = &options.backend {
        overrides.push(format!("backend={backend}"));
    }
    let stem = config_name(&options.config);
    let runs_base = options
        .out
        .as_deref()
        .and_then(Path::parent)
        .unwrap_or(Path::new("runs"));
    let resumable = match &options.resume {
        None => None,
        Some(Resume::Latest) => Some(run::find_resumable(None, runs_base, &stem)?),
        Some(Resume::Run(dir)) => Some(run::find_resumable(Some(dir), runs_base, &stem)?),
    };
    // A resumed run goes on with the config it was started with (plus any `--set`).
    let config_path = match &resumable {
        Some(r) => r.partial.join(run::CONFIG_FILE),
        None => options.config.clone(),
    };
    let edited = match &resumable {
        Some(_) => check_resume(options, &config_path)?,
        None => None,
    };
    let loaded = match &resumable {
        Some(_) => LoadedConfig::load_run(&config_path, &overrides)?,
        None => LoadedConfig::load(&config_path, &overrides)?,
    };
    Ok(TrainJob {
        loaded,
        stem,
        resumable,
        edited,
        out: options.out.clone(),
        started,
    })
}

/// Refuses a resume that would change what the stopped run trains: a `--set` of a model,
/// data or seed key, or a config file whose data or seed differ from the run's (its model is
/// compared once its kind is known, in [`train`]). A `[train]` change (more epochs, another
/// checkpoint frequency) goes on, and is recorded in the run's config. Returns the config
/// file given with `--resume`, loaded.
fn check_resume(options: &TrainOptions, run_config: &Path) -> Result<Option<LoadedConfig>> {
    const KEPT: [&str; 3] = ["model", "data", "seed"];
    if let Some(set) = options
        .set
        .iter()
        .find(|set| KEPT.iter().any(|kept| set.trim_start().starts_with(kept)))
    {
        return Err(Error::Usage {
            message: format!(
                "a resumed run keeps its model, data and seed; `--set {set}` would change them"
            ),
            fix: "start a new run with that setting (without --resume)".into(),
        });
    }
    if !options.config.is_file() {
        return Ok(None);
    }
    let started = LoadedConfig::load(run_config, &[])?;
    let now = LoadedConfig::load(&options.config, &[])?;
    let as_toml = |loaded: &LoadedConfig| -> toml::Value {
        toml::Value::try_from(loaded.with_absolute_data_paths())
            .unwrap_or(toml::Value::Boolean(false))
    };
    let (was, is) = (as_toml(&started), as_toml(&now));
    for key in ["data", "seed"] {
        let (old, new) = (was.get(key), is.get(key));
        if old != new {
            let key = match (
                old.and_then(toml::Value::as_table),
                new.and_then(toml::Value::as_table),
            ) {
                (Some(a), Some(b)) => a
                    .iter()
                    .chain(b.iter())
                    .find(|(k, _)| a.get(k.as_str()) != b.get(k.as_str()))
                    .map_or(key.to_owned(), |(k, _)| format!("{key}.{k}")),
                _ => key.to_owned(),
            };
            return Err(changed_config(options, &key));
        }
    }
    Ok(Some(now))
}

/// The error of a config file changed since the run it would resume started.
fn changed_config(options: &TrainOptions, key: &str) -> Error {
    Error::Config {
        message: format!(
            "`{key}` changed since the stopped run started; resuming would mix two different \
             runs"
        ),
        location: Location::file(&options.config),
        fix: "restore it to resume, or start a new run with the new config (without --resume)"
            .into(),
    }
}

/// `kiln train`: fits the model a config describes and writes a run directory.
pub fn train<M: Estimator>(job: TrainJob) -> Result<TrainReport> {
    let loaded = &job.loaded;
    let config = &loaded.config;
    let model_config = loaded.model_config::<M>()?;
    let kind = M::kind(&model_config);
    if let Some(edited) = &job.edited
        && M::write_config(&edited.model_config::<M>()?) != M::write_config(&model_config)
    {
        return Err(Error::Config {
            message: "`[model]` changed since the stopped run started; resuming would mix two \
                      different models"
                .into(),
            location: edited.locate(&["model"]),
            fix: "restore it to resume, or start a new run with the new config (without \
                  --resume)"
                .into(),
        });
    }
    let backend = loaded.backend;
    let opened = open_backend(loaded)?;
    let device = opened.device;
    let supervision = M::supervision(&model_config);
    let target_column = target_column(loaded, kind, supervision)?;
    let target = target_column.map(|(name, _)| name);
    let train_path = loaded.resolve(&config.data.train);
    let format = loaded.csv_format()?;
    let fraction = config.data.holdout_fraction(supervision);
    let holdout = match (&config.data.valid, config.data.chunk_rows) {
        (None, None) if fraction > 0.0 => Holdout::Fraction {
            fraction,
            seed: config.seed,
        },
        _ => Holdout::None,
    };
    let table = fit_table(
        &train_path,
        target_column,
        &config.data.table_spec(),
        format,
        holdout,
    )
    .map_err(|e| locate_table_error(loaded, e))?;
    report_columns(&train_path, &table);
    let columns = Columns {
        target: target_column,
        format,
        encoding: Some(&table.encoding),
        drop_incomplete: true,
        ..Default::default()
    };
    let read_valid = || -> Result<Option<Dataset>> {
        let Some(valid) = &config.data.valid else {
            return Ok(None);
        };
        let path = loaded.resolve(valid);
        let mut reader = TableReader::open(&path, columns)?;
        let data = reader.read_all()?;
        warn_read(&path, &reader);
        Ok(Some(data))
    };
    let (mut train_data, valid_data) = match config.data.chunk_rows {
        Some(chunk_rows) => {
            let csv = ChunkedTable::scan(&train_path, columns, chunk_rows)?;
            (TrainData::Streamed(Box::new(csv)), read_valid()?)
        }
        None => {
            let full = read_table(&train_path, columns)?;
            match &config.data.valid {
                Some(_) => (TrainData::Resident(full), read_valid()?),
                None => {
                    let (train_idx, valid_idx) = (&table.train_rows, &table.valid_rows);
                    if train_idx.len() < 2 && fraction > 0.0 && full.n_rows() >= 2 {
                        return Err(loaded.error(
                            &["data", "valid_fraction"],
                            format!(
                                "`valid_fraction = {fraction}` leaves {} of the {} rows to train on",
                                train_idx.len(),
                                full.n_rows()
                            ),
                            "lower it, e.g. `valid_fraction = 0.2`".into(),
                        ));
                    }
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
                    let valid = (!valid_idx.is_empty()).then(|| full.select(valid_idx));
                    (TrainData::Resident(full.select(train_idx)), valid)
                }
            }
        }
    };
    let mut prep = match &train_data {
        TrainData::Resident(data) => crate::preprocess::fit(data, target, config.data.standardize),
        TrainData::Streamed(csv) => csv.preprocessing(target, config.data.standardize),
    };
    if supervision == Supervision::None
        && let (Some(classes), Some(valid)) = (&mut prep.class_names, &valid_data)
    {
        // A clustering's labels only score it: validation labels the training rows lack are
        // classes of their own, not unknown ones.
        crate::preprocess::add_classes(classes, valid);
    }
    let shape = kiln_model_zoo::DataShape {
        n_features: prep.n_features(),
        task: prep.task(),
    };
    let params = M::check(&model_config, &shape).map_err(|source| {
        let location = match source.key() {
            Some(key) => loaded.locate(&["model", key]),
            None => Location::file(&train_path),
        };
        Error::Model {
            source,
            location: Some(location),
        }
    })?;
    if let TrainData::Streamed(csv) = &mut train_data {
        if !M::streams(&params) {
            return Err(loaded.error(
                &["data", "chunk_rows"],
                format!(
                    "model `{kind}` needs all its rows at once, so it cannot train from chunks"
                ),
                "remove `chunk_rows` to load the file whole, or pick a solver that fits on \
                 batches or sums (see the model's keys)"
                    .into(),
            ));
        }
        csv.set_check(target_check::<M>(&params, target));
        let chunk_rows = csv.chunk_lens().into_iter().max().unwrap_or(0);
        let batch_size = config.train.batch_size;
        if M::fit_method(&params) == kiln_model_zoo::FitMethod::Gradient
            && chunk_rows < batch_size
            && csv.n_rows() > chunk_rows
        {
            return Err(loaded.error(
                &["data", "chunk_rows"],
                format!(
                    "`chunk_rows = {chunk_rows}` is smaller than `batch_size = {batch_size}`: \
                     every batch would be cut to a chunk"
                ),
                format!("raise `chunk_rows` to at least {batch_size}, or lower `batch_size`"),
            ));
        }
    }
    if let Some(note) = M::cost_note(&params, train_rows_count(&train_data)) {
        eprintln!("note: {note}");
    }
    let check = target_check::<M>(&params, target);
    for data in valid_data.iter().chain(match &train_data {
        TrainData::Resident(data) => Some(data),
        TrainData::Streamed(_) => None,
    }) {
        check(data)?;
    }
    // The host copy of resident rows is dropped once they are on the device.
    let mut train_rows = match train_data {
        TrainData::Resident(data) => {
            TrainRows::Resident(Box::new(Split::new(&prep, &data, &device)?))
        }
        TrainData::Streamed(csv) => TrainRows::streamed(csv, prep.clone()),
    };
    let valid_split = valid_data
        .as_ref()
        .map(|t| Split::new(&prep, t, &device))
        .transpose()?;
    if let Some(stop) = &config.train.early_stopping {
        let known = watchable_metrics::<M>(&params, valid_split.is_some());
        if !known.contains(&stop.metric.as_str()) {
            return Err(loaded.error(
                &["train", "early_stopping"],
                format!(
                    "early stopping cannot watch `{}`: this run reports {}",
                    stop.metric,
                    known.join(", ")
                ),
                "set `metric` to one of those".into(),
            ));
        }
    }
    sync(&device)?;
    let load_seconds = job.started.elapsed().as_secs_f64();
    let fingerprint = run::fingerprint(&train_path);

    let (writer, resume) = match &job.resumable {
        Some(stopped) => {
            let writer = RunWriter::reopen(stopped)?;
            let checkpoint = Checkpoint::read(&stopped.partial.join(checkpoint::FILE))?;
            if let Some(started) = &checkpoint.state.data_fingerprint
                && fingerprint.as_ref() != Some(started)
            {
                eprintln!(
                    "warning: {} changed since the run started (it was {started}); the run \
                     goes on with the file as it is now",
                    train_path.display()
                );
            }
            // What the resume applies (`--set` of `[train]` keys) is recorded in the run.
            writer.write(run::CONFIG_FILE, loaded.resolved::<M>(&model_config)?)?;
            (writer, Some(checkpoint))
        }
        None => {
            let target_dir = job
                .out
                .clone()
                .unwrap_or_else(|| run::default_run_dir(Path::new("runs"), &job.stem));
            let writer = RunWriter::create(&target_dir)?;
            writer.write(run::CONFIG_FILE, loaded.resolved::<M>(&model_config)?)?;
            (writer, None)
        }
    };
    // Resumed: metrics.jsonl starts again from the checkpoint's history, dropping epochs the
    // stopped run logged after its last checkpoint (they are trained again).
    let mut history: Vec<EpochRecord> = resume
        .as_ref()
        .map(|c| c.state.history.clone())
        .unwrap_or_default();
    let metrics_path = writer.path(run::METRICS_FILE);
    let mut metrics_log = std::io::BufWriter::new(
        std::fs::File::create(&metrics_path).map_err(|e| Error::io("write", &metrics_path, e))?,
    );
    for record in &history {
        let line = serde_json::to_string(record).expect("records serialize to JSON");
        writeln!(metrics_log, "{line}").map_err(|e| Error::io("write", &metrics_path, e))?;
    }
    let main_metric = main_metric(supervision, shape.task);
    let title = format!("{kind} on {backend}");
    // An iterative fit with a step cap of its own runs to it, not to `[train] epochs`.
    let steps = M::max_steps(&params).unwrap_or(config.train.epochs);
    let progress = Progress::new(steps, main_metric, &title);
    let plot_path = writer.path(run::PLOT_FILE);
    let mut last_plot: Option<Instant> = None;
    let mut on_epoch = |record: &EpochRecord, checkpointed: bool| -> Result<()> {
        progress.epoch(record);
        if record.jitter > 0.0 {
            eprintln!(
                "note: step {}: the matrix was not positive definite, so jitter {:e} was added \
                 to its diagonal (collinear or duplicate rows, or no noise term?); the result \
                 is slightly regularised",
                record.step, record.jitter
            );
        }
        let line = serde_json::to_string(record).expect("records serialize to JSON");
        writeln!(metrics_log, "{line}").map_err(|e| Error::io("write", &metrics_path, e))?;
        history.push(record.clone());
        if checkpointed {
            // What a checkpoint keeps is on disk too: the log, and the plot so far (redrawn at
            // most every few seconds: iterative fits checkpoint every fast step).
            metrics_log
                .flush()
                .map_err(|e| Error::io("write", &metrics_path, e))?;
            if last_plot.is_none_or(|t: Instant| t.elapsed().as_secs_f64() > 2.0) {
                plot::write(&plot_path, &history, main_metric, &title)?;
                last_plot = Some(Instant::now());
            }
        }
        Ok(())
    };
    let checkpoint_path = writer.path(checkpoint::FILE);
    let fitted = fit::<M>(
        &params,
        &mut train_rows,
        valid_split.as_ref(),
        &device,
        FitOptions {
            checkpoint: Some(&checkpoint_path),
            resume,
            interrupt: Some(interrupt_flag()),
            on_epoch: Some(&mut on_epoch),
            data_fingerprint: fingerprint,
            ..FitOptions::new(&config.train, config.seed)
        },
    );
    progress.finish();
    let resume_hint = || {
        format!(
            "continue with `kiln train --resume {}`",
            writer.dir().display()
        )
    };
    let fitted = fitted.map_err(|e| match e {
        Error::Diverged {
            epoch, step, value, ..
        } if checkpoint_path.exists() => Error::Diverged {
            epoch,
            step,
            value,
            kept: Some(format!(
                "the last good checkpoint (epoch {}) is kept: {} and a lower learning rate \
                 (--set)",
                Checkpoint::read(&checkpoint_path).map_or(0, |c| c.state.epoch),
                resume_hint()
            )),
        },
        Error::Fit(FitError::TooFewRows { rows, needed, key }) => loaded.error(
            &["model", key],
            format!("the training data has {rows} rows, fewer than `{key} = {needed}` asks for"),
            format!("lower `{key}` to at most {rows}, or train on more rows"),
        ),
        e => e,
    })?;
    metrics_log
        .flush()
        .map_err(|e| Error::io("write", writer.path(run::METRICS_FILE), e))?;
    drop(metrics_log);
    if let Some((epoch, step)) = fitted.interrupted {
        return Err(Error::Interrupted {
            epoch,
            step,
            resume: format!("a checkpoint is saved; {}", resume_hint()),
        });
    }
    plot::write(
        &writer.path(run::PLOT_FILE),
        &fitted.history,
        main_metric,
        &title,
    )?;

    let meta = ModelMeta::new::<M>(&model_config, backend.name(), shape, prep);
    writer.save_model(&fitted.model, &meta)?;
    let last = fitted.history.last();
    // A fit that used all the steps of its own cap stopped at `max_iter`, as scikit-learn
    // reads `n_iter_ == max_iter`, not by its tolerance.
    let max_steps = M::max_steps(&params);
    let steps = fitted.history.len();
    let converged = (M::fit_method(&params) == kiln_model_zoo::FitMethod::Iterative)
        .then(|| last.is_some_and(|r| r.converged) && max_steps.is_none_or(|cap| steps < cap));
    if converged == Some(false) && !fitted.stopped_early {
        match max_steps {
            Some(_) => eprintln!(
                "warning: {kind} stopped at its `max_iter` before its `tol` was met; \
                 raise `max_iter` to let it converge"
            ),
            None => eprintln!(
                "warning: {kind} stopped at `[train] epochs = {steps}` before its own stopping \
                 rule; raise `epochs` to let it converge"
            ),
        }
    }
    let summary = Summary {
        model: kind.into(),
        backend: backend.name().into(),
        device: opened.description,
        n_train: train_rows.n_rows(),
        n_valid: valid_data.as_ref().map_or(0, Dataset::n_rows),
        n_features: shape.n_features,
        epochs: fitted.history.len(),
        stopped_early: fitted.stopped_early,
        converged,
        train: evaluate_train(&fitted.model, &mut train_rows, &device)?,
        valid: match &valid_split {
            Some(v) => evaluate_final(&fitted.model, v)?,
            None => Metrics::new(),
        },
        train_loss: last.map_or(f64::NAN, |r| r.train_loss),
        fitted: fitted.model.describe()?,
        load_seconds,
        fit_seconds: fitted.fit_seconds,
        peak_rss_bytes: peak_rss_bytes(),
        table: table.report,
    };
    writer.write_json(run::SUMMARY_FILE, &summary)?;
    let run_dir = writer.commit()?;
    Ok(TrainReport { run_dir, summary })
}

/// What `kiln cv` is asked to do.
#[derive(Clone, Debug, Default)]
pub struct CvOptions {
    /// The config file.
    pub config: PathBuf,
    /// Folds (at least 2).
    pub folds: usize,
    /// The backend to train on, overriding the config's.
    pub backend: Option<String>,
    /// `KEY=VALUE` overrides of config keys.
    pub set: Vec<String>,
    /// The directory to write (default `runs/<config name>-cv`).
    pub out: Option<PathBuf>,
}

/// A finished cross-validation.
#[derive(Debug)]
pub struct CvReport {
    /// The model's kind.
    pub model: String,
    /// The folds' metrics, their means and standard deviations.
    pub result: CrossValidation,
    /// Where `cv.json` and the config were written.
    pub dir: PathBuf,
}

/// The file of a `kiln cv` directory holding each fold's metrics, their means and deviations.
pub const CV_FILE: &str = "cv.json";

/// The k-fold cross-validation of the model `loaded` describes, on the rows of its `train`
/// table that train (not its `valid_fraction` split, nor a `valid` file): each fold fits the
/// table's encoding, the scaling and the model on its training rows alone, and scores its
/// test rows. With `verbose`, the table's columns and each fold's metrics are printed as they
/// come.
pub fn cross_validation_of<M: Estimator>(
    loaded: &LoadedConfig,
    folds_wanted: usize,
    verbose: bool,
) -> Result<CrossValidation> {
    let config = &loaded.config;
    let model_config = loaded.model_config::<M>()?;
    let kind = M::kind(&model_config);
    let device = open_backend(loaded)?.device;
    let supervision = M::supervision(&model_config);
    let target_column = target_column(loaded, kind, supervision)?;
    let path = loaded.resolve(&config.data.train);
    let format = loaded.csv_format()?;
    let spec = config.data.table_spec();
    let encode = |holdout: Holdout| -> Result<(Dataset, FittedTable)> {
        let table = fit_table(&path, target_column, &spec, format, holdout)
            .map_err(|e| locate_table_error(loaded, e))?;
        let columns = Columns {
            target: target_column,
            format,
            encoding: Some(&table.encoding),
            drop_incomplete: true,
            ..Default::default()
        };
        Ok((read_table(&path, columns)?, table))
    };
    // The rows that train: the whole table, less the config's validation split (which stays
    // out of model selection, to score the refitted model on later).
    let holdout = match (
        &config.data.valid,
        config.data.holdout_fraction(M::supervision(&model_config)),
    ) {
        (None, fraction) if fraction > 0.0 => Holdout::Fraction {
            fraction,
            seed: config.seed,
        },
        _ => Holdout::None,
    };
    let (all, table) = encode(holdout)?;
    if verbose {
        report_columns(&path, &table);
    }
    let pool = table.train_rows;
    let classes = match supervision {
        Supervision::Labels => all
            .class_of_rows()
            .map(|classes| pool.iter().map(|&i| classes[i]).collect::<Vec<_>>()),
        Supervision::Values | Supervision::None => None,
    };
    let n_complete = all.n_rows();
    drop(all);
    let folds = fold_rows(classes.as_deref(), pool.len(), folds_wanted, config.seed).map_err(
        |message| Error::Usage {
            message: format!("cannot cross-validate {}: {message}", path.display()),
            fix: "pass another `--folds`".into(),
        },
    )?;
    let k = folds.test.len();
    let mut prepare = |test: &[usize]| -> Result<FoldData> {
        let test_rows: Vec<usize> = test.iter().map(|&i| pool[i]).collect();
        let train_rows: Vec<usize> = folds.train_rows(test).iter().map(|&i| pool[i]).collect();
        // The encoding's categories and fill values come from the fold's training rows alone.
        let mut trains = vec![false; n_complete];
        for &i in &train_rows {
            trains[i] = true;
        }
        let held_out = (0..n_complete).filter(|&i| !trains[i]).collect();
        let (data, _) = encode(Holdout::Rows(held_out))?;
        let trainer = Trainer::new(config.train.clone())
            .seed(config.seed)
            .standardize(config.data.standardize);
        // Early stopping watches validation rows, as in `kiln train`: the config's fraction
        // of the fold's training rows (0.2 if it holds none out).
        let (train, valid) = match &config.train.early_stopping {
            Some(_) => {
                let fraction = match config.data.holdout_fraction(supervision) {
                    f if f > 0.0 => f,
                    _ => 0.2,
                };
                let (train, valid) = data
                    .select(&train_rows)
                    .split(fraction, config.seed)
                    .map_err(|e| Error::Usage {
                        message: format!(
                            "a fold of {} cannot hold out validation rows: {e}",
                            path.display()
                        ),
                        fix: "pass fewer `--folds`, or drop `early_stopping`".into(),
                    })?;
                (train, Some(valid))
            }
            None => (data.select(&train_rows), None),
        };
        Ok(FoldData {
            train,
            test: data.select(&test_rows),
            valid,
            trainer,
        })
    };
    let mut on_fold = |index: usize, fold: &FoldResult| {
        if !verbose {
            return;
        }
        eprintln!(
            "fold {}/{k}: {} (trained on {} rows, scored on {})",
            index + 1,
            metrics_line(&fold.metrics),
            fold.n_train,
            fold.n_test
        );
    };
    CrossValidation::run_with_progress::<M>(
        &model_config,
        &folds,
        &device,
        &mut prepare,
        &mut on_fold,
    )
}

/// `kiln cv`: [`cross_validation_of`] the model a config describes, written with the config
/// to a directory.
pub fn cross_validate<M: Estimator>(
    loaded: &LoadedConfig,
    options: &CvOptions,
) -> Result<CvReport> {
    let model_config = loaded.model_config::<M>()?;
    let kind = M::kind(&model_config);
    let result = cross_validation_of::<M>(loaded, options.folds, true)?;
    let stem = config_name(&options.config);
    let target_dir = options
        .out
        .clone()
        .unwrap_or_else(|| run::default_run_dir(Path::new("runs"), &format!("{stem}-cv")));
    let writer = RunWriter::create(&target_dir)?;
    writer.write(run::CONFIG_FILE, loaded.resolved::<M>(&model_config)?)?;
    writer.write_json(CV_FILE, &result)?;
    Ok(CvReport {
        model: kind.into(),
        result,
        dir: writer.commit()?,
    })
}

/// The backend the config names, opened; an error locates its `backend` key.
fn open_backend(loaded: &LoadedConfig) -> Result<kiln_backends::OpenBackend> {
    kiln_backends::open(loaded.backend).map_err(|source| Error::Backend {
        source,
        location: loaded.locate(&["backend"]),
    })
}

/// A config file's name without its extension, which names the directories a run writes.
pub(crate) fn config_name(config: &Path) -> String {
    config
        .file_stem()
        .map_or("run".into(), |s| s.to_string_lossy().into_owned())
}

/// The target column `[data] target` names and what it holds for a model of `supervision`;
/// an error when the model needs one and none is named.
fn target_column<'a>(
    loaded: &'a LoadedConfig,
    kind: &str,
    supervision: Supervision,
) -> Result<Option<(&'a str, TargetKind)>> {
    let target_kind = match supervision {
        Supervision::Values => TargetKind::Values,
        // For clustering a label column only feeds metrics (adjusted Rand index).
        Supervision::Labels | Supervision::None => TargetKind::Labels,
    };
    match loaded.config.data.target.as_deref() {
        None if supervision != Supervision::None => Err(loaded.error(
            &["data"],
            format!("model `{kind}` needs a target column, and `[data] target` is not set"),
            "add `target = \"COLUMN\"` to `[data]`".into(),
        )),
        target => Ok(target.map(|t| (t, target_kind))),
    }
}

/// The validation metric the progress line and the plot show beside the loss.
pub fn main_metric(supervision: Supervision, task: Task) -> &'static str {
    match (supervision, task) {
        (Supervision::None, Task::Classification { .. }) => "adjusted_rand_index",
        (Supervision::None, Task::Regression) => "inertia",
        (_, Task::Classification { .. }) => "accuracy",
        (_, Task::Regression) => "r2",
    }
}

/// Set by Ctrl-C: the fit stops after its current step and writes a checkpoint. A second
/// Ctrl-C quits at once.
pub(crate) fn interrupt_flag() -> &'static AtomicBool {
    static FLAG: AtomicBool = AtomicBool::new(false);
    static HANDLER: std::sync::Once = std::sync::Once::new();
    HANDLER.call_once(|| {
        // Without a handler (another one is installed) Ctrl-C just ends the process, and the
        // last checkpoint is still there to resume from.
        let _ = ctrlc::set_handler(|| {
            if FLAG.swap(true, Ordering::SeqCst) {
                std::process::exit(130);
            }
            eprintln!("\nstopping after this step to save a checkpoint (Ctrl-C again to quit now)");
        });
    });
    &FLAG
}

/// The peak resident memory of this process (`VmHWM`), where the OS reports it.
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The number of training rows.
fn train_rows_count(data: &TrainData) -> usize {
    match data {
        TrainData::Resident(data) => data.n_rows(),
        TrainData::Streamed(csv) => csv.n_rows(),
    }
}

/// The training rows as loaded: a whole data set, or a file to read a chunk at a time.
enum TrainData {
    Resident(Dataset),
    Streamed(Box<ChunkedTable>),
}

/// A table error about a `[data]` key located at that key in the config; one about the data
/// stays at its file and line.
fn locate_table_error(loaded: &LoadedConfig, error: Error) -> Error {
    match error {
        Error::Table { source, .. } if source.key().is_some() => {
            let key = source.key().unwrap_or_default().to_owned();
            Error::Table {
                location: loaded.locate(&["data", &key]),
                source,
            }
        }
        e => e,
    }
}

/// Prints what the table's columns hold, and the rows left out, before training.
fn report_columns(path: &Path, table: &FittedTable) {
    let TableReport {
        columns,
        dropped_missing_target,
        dropped_missing_feature,
    } = &table.report;
    let plain = columns
        .iter()
        .all(|c| c.kind == "numeric" && c.missing == 0);
    if !plain {
        eprintln!("columns of {} ({} rows):", path.display(), table.rows);
        let width = columns.iter().map(|c| c.name.len()).max().unwrap_or(0);
        for column in columns {
            let mut line = format!("  {:width$}  {:11}", column.name, column.kind);
            if column.kind == "categorical" {
                line.push_str(&format!(
                    "  {} categories ({})",
                    column.categories.len(),
                    column.encoding
                ));
                if column.folded > 0 {
                    line.push_str(&format!(", {} rare folded into (other)", column.folded));
                }
            }
            if column.missing > 0 {
                line.push_str(&format!(
                    "  {} missing -> {}",
                    column.missing,
                    column.fill.as_deref().unwrap_or("?")
                ));
            }
            eprintln!("{}", line.trim_end());
        }
    }
    if *dropped_missing_target > 0 {
        eprintln!(
            "warning: left out {dropped_missing_target} rows of {} whose target is missing",
            path.display()
        );
    }
    if *dropped_missing_feature > 0 {
        eprintln!(
            "warning: left out {dropped_missing_feature} rows of {} missing a cell of a \
             `missing = \"drop_row\"` column",
            path.display()
        );
    }
}

/// Warns of the rows a reader left out and the categories it had never seen.
fn warn_read(path: &Path, reader: &TableReader) {
    let dropped = reader.dropped();
    if dropped.missing_target > 0 {
        eprintln!(
            "warning: left out {} rows of {} whose target is missing",
            dropped.missing_target,
            path.display()
        );
    }
    if dropped.missing_feature > 0 {
        eprintln!(
            "warning: left out {} rows of {} missing a cell of a `missing = \"drop_row\"` column",
            dropped.missing_feature,
            path.display()
        );
    }
    let unseen = reader.unseen_categories();
    if unseen > 0 {
        eprintln!(
            "warning: {unseen} cells of {} hold categories training never saw; they encode as \
             all zeros (one-hot) or -1 (ordinal)",
            path.display()
        );
    }
}

/// The check a model's targets must pass beyond being numbers (a GLM family's range), naming
/// the row that fails.
fn target_check<M: Estimator>(params: &M::Params, target: Option<&str>) -> RowCheck {
    let (params, target) = (params.clone(), target.unwrap_or_default().to_owned());
    std::sync::Arc::new(move |data: &Dataset| {
        if let Target::Values(y) = &data.target
            && let Err(bad) = M::check_targets(&params, y)
        {
            return Err(Error::Data {
                message: format!("target `{target}` is {}, but {}", y[bad.row], bad.rule),
                location: Location::line(&data.path, data.lines[bad.row] as usize),
                fix: bad.fix.into(),
            });
        }
        Ok(())
    })
}

/// The `kind` of a completed run, from its `model.json`.
pub fn run_kind(run: &Path) -> Result<String> {
    Ok(run::read_meta(run)?.kind().to_owned())
}

/// Loads a run's model onto `--backend`, else onto the backend it was trained on.
fn load<M: Estimator>(run: &Path, backend: Option<&str>) -> Result<(run::SavedModel<M>, Device)> {
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
pub fn eval<M: Estimator>(run: &Path, data_path: &Path, backend: Option<&str>) -> Result<Metrics> {
    let (saved, device) = load::<M>(run, backend)?;
    let prep = &saved.meta.preprocessing;
    let kind = match prep.task() {
        Task::Classification { .. } => TargetKind::Labels,
        Task::Regression => TargetKind::Values,
    };
    // A clustering model trained without labels is evaluated on its inertia alone.
    let target = match (prep.target.as_deref(), M::supervision(&saved.config)) {
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
    let encoding = prep.encoding();
    let mut reader = TableReader::open(
        data_path,
        Columns {
            target,
            encoding: Some(&encoding),
            drop_incomplete: true,
            ..Default::default()
        },
    )?;
    let data = reader.read_all()?;
    warn_read(data_path, &reader);
    let split = Split::new(prep, &data, &device)?;
    let mut metrics = evaluate_final(&saved.model, &split)?;
    if let Some((name, _)) = metrics.iter().find(|(_, v)| !v.is_finite()) {
        return Err(not_finite(run, data_path, &format!("the metric `{name}`")));
    }
    metrics.insert("rows".into(), data.n_rows() as f64);
    Ok(metrics)
}

/// A prediction or metric that came out NaN or infinite: an error, not a result.
fn not_finite(run: &Path, data: &Path, what: &str) -> Error {
    Error::Run {
        message: format!(
            "{what} of {} came out NaN or infinite: the model's weights do not work on these rows",
            data.display()
        ),
        path: run.to_owned(),
        fix: "check the rows for extreme values; if the run directory was altered, restore or \
              retrain it"
            .into(),
    }
}

/// `kiln predict`: one prediction per row of a CSV, written as CSV to `out`.
pub fn predict<M: Estimator>(
    run: &Path,
    data: &Path,
    backend: Option<&str>,
    out: Output<'_>,
) -> Result<usize> {
    let (saved, device) = load::<M>(run, backend)?;
    let prep = &saved.meta.preprocessing;
    let encoding = prep.encoding();
    let mut reader = TableReader::open(
        data,
        Columns {
            target: None,
            encoding: Some(&encoding),
            ..Default::default()
        },
    )?;
    let write_error = |e: std::io::Error| match e.kind() {
        // `kiln predict ... | head`: the reader has all it wanted.
        std::io::ErrorKind::BrokenPipe => Error::OutputClosed,
        _ => Error::Usage {
            message: format!("cannot write the predictions: {e}"),
            fix: "check the output path and the disk".into(),
        },
    };
    let mut writer = PredictionWriter::new(out);
    let mut rows = 0;
    // A chunk at a time, so a file larger than memory can be predicted.
    loop {
        let chunk = reader.read_rows(PREDICT_CHUNK_ROWS)?;
        if chunk.n_rows() == 0 {
            break;
        }
        let mut x = chunk.x;
        prep.transform(&mut x);
        let n = chunk.lines.len();
        let x = Tensor::from_data(TensorData::new(x, [n, prep.n_features()]), &device);
        let prediction = predict_host(&saved.model, x)?;
        if let Some(row) = prediction.first_non_finite_row() {
            return Err(not_finite(
                run,
                data,
                &format!("a prediction for line {}", chunk.lines[row]),
            ));
        }
        writer
            .write(&PredictionColumns::of(&prediction, prep))
            .map_err(write_error)?;
        rows += n;
    }
    if rows == 0 {
        return Err(reader.no_rows_error());
    }
    writer.finish().map_err(write_error)?;
    warn_read(data, &reader);
    Ok(rows)
}

/// Rows `kiln predict` reads, predicts and writes at a time.
const PREDICT_CHUNK_ROWS: usize = 65_536;

/// One line of `kiln backends`.
#[derive(Clone, Debug, Serialize)]
pub struct BackendStatus {
    /// The backend's name.
    pub name: &'static str,
    /// Whether this build has it.
    pub compiled: bool,
    /// Whether it runs here.
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
pub fn export<M: Estimator>(run: &Path, out: &Path) -> Result<usize> {
    let meta = run::read_meta(run)?;
    let invalid = |e: DeployError| Error::Run {
        message: format!("cannot export this model: {e}"),
        path: run.to_owned(),
        fix: "retrain the model with this kiln version".into(),
    };
    let config = M::read_config(meta.model.clone())
        .map_err(|e| invalid(DeployError::Model(e.to_string())))?;
    let deployment = Deployment {
        model: config,
        shape: meta.shape,
        preprocessing: meta.preprocessing.clone(),
    };
    let weights_path = run.join(run::MODEL_FILE);
    let weights = std::fs::read(&weights_path).map_err(|e| Error::io("read", &weights_path, e))?;
    run::check_weights(run, &meta, &weights)?;
    let bytes = deployment.encode_weights(&weights).map_err(invalid)?;
    let check_device =
        kiln_backends::open(kiln_backends::compiled()[0]).map_err(|source| Error::Backend {
            source,
            location: Location::file(run.join(run::META_FILE)),
        })?;
    Deployment::decode::<M>(&bytes, &check_device.device).map_err(invalid)?;
    atomic::write_bytes(out, "write", Durability::Synced, &bytes)?;
    Ok(bytes.len())
}
