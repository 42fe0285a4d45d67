//! The `kiln` command-line tool, as a library: argument parsing, the registry of model kinds,
//! and printing each command's result or its error as one line.
//!
//! The `kiln` binary is `Cli::new().main()`. A program of your own adds its model kinds to the
//! same commands (train, eval, predict, export, resume) with one call per model type:
//!
//! ```no_run
//! # use kiln_trainer::cli::Cli;
//! # type MyModel = kiln_model_zoo::Model;
//! fn main() -> std::process::ExitCode {
//!     Cli::new().with::<MyModel>().main()
//! }
//! ```
//!
//! Then `my-kiln train config.toml` trains a config whose `[model] kind` is one of
//! `MyModel::KINDS` (see `trainer/examples/custom_model.rs`).

use std::io::Write;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use kiln_model_zoo::{Estimator, Model};

use crate::atomic::{self, Durability};
use crate::commands::{self, CvOptions, CvReport, Resume, TrainJob, TrainOptions, TrainReport};
use crate::config::{LoadedConfig, suggestion};
use crate::cross_validation::CrossValidation;
use crate::error::{Error, Location, Result};
use crate::predictions::Output;
use crate::records::{Metrics, metrics_line};
use crate::search::{SearchOptions, SearchReport};
use crate::source::Format;

/// The commands one model type answers, behind one object so a registry can hold many types.
trait Commands: Send + Sync {
    fn kinds(&self) -> &'static [&'static str];
    fn train(&self, job: TrainJob) -> Result<TrainReport>;
    fn cross_validate(&self, loaded: &LoadedConfig, options: &CvOptions) -> Result<CvReport>;
    fn cross_validation(&self, loaded: &LoadedConfig, folds: usize) -> Result<CrossValidation>;
    fn eval(&self, run: &Path, data: &Path, backend: Option<&str>) -> Result<Metrics>;
    fn predict(
        &self,
        run: &Path,
        data: &Path,
        backend: Option<&str>,
        out: Output<'_>,
    ) -> Result<usize>;
    fn export(&self, run: &Path, out: &Path) -> Result<usize>;
}

/// [`Commands`] of model type `M`.
struct Entry<M>(PhantomData<fn() -> M>);

impl<M: Estimator> Commands for Entry<M> {
    fn kinds(&self) -> &'static [&'static str] {
        M::KINDS
    }

    fn train(&self, job: TrainJob) -> Result<TrainReport> {
        commands::train::<M>(job)
    }

    fn cross_validate(&self, loaded: &LoadedConfig, options: &CvOptions) -> Result<CvReport> {
        commands::cross_validate::<M>(loaded, options)
    }

    fn cross_validation(&self, loaded: &LoadedConfig, folds: usize) -> Result<CrossValidation> {
        commands::cross_validation_of::<M>(loaded, folds, false)
    }

    fn eval(&self, run: &Path, data: &Path, backend: Option<&str>) -> Result<Metrics> {
        commands::eval::<M>(run, data, backend)
    }

    fn predict(
        &self,
        run: &Path,
        data: &Path,
        backend: Option<&str>,
        out: Output<'_>,
    ) -> Result<usize> {
        commands::predict::<M>(run, data, backend, out)
    }

    fn export(&self, run: &Path, out: &Path) -> Result<usize> {
        commands::export::<M>(run, out)
    }
}

/// The model kinds a `kiln` program knows: the zoo's, and those its binary adds.
pub struct Registry {
    entries: Vec<Box<dyn Commands>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("kinds", &self.kinds())
            .finish()
    }
}

impl Default for Registry {
    fn default() -> Self {
        Self::zoo()
    }
}

impl Registry {
    /// The zoo's model kinds.
    pub fn zoo() -> Self {
        Self::empty().with::<Model>()
    }

    /// No model kinds at all.
    pub fn empty() -> Self {
        Self {
            entries: Vec::new(),
        }
    }

    /// Adds the kinds of model type `M` ([`Estimator::KINDS`]). A kind registered again
    /// names the later type.
    pub fn with<M: Estimator>(mut self) -> Self {
        self.entries.push(Box::new(Entry::<M>(PhantomData)));
        self
    }

    /// Every kind known, in registration order.
    pub fn kinds(&self) -> Vec<&'static str> {
        self.entries
            .iter()
            .flat_map(|e| e.kinds().iter().copied())
            .collect()
    }

    /// The commands of `kind`, named at `location`.
    fn entry(&self, kind: &str, location: Location) -> Result<&dyn Commands> {
        self.entries
            .iter()
            .rev()
            .find(|e| e.kinds().contains(&kind))
            .map(|e| &**e)
            .ok_or_else(|| Error::UnknownKind {
                kind: kind.to_owned(),
                location,
                fix: format!(
                    "{} (a model kind of your own is added by a program built with \
                     `kiln_trainer::cli::Cli::new().with::<YourModel>()`)",
                    suggestion(kind, &self.kinds())
                ),
            })
    }

    /// `kiln train` of whichever kind the config names.
    pub fn train(&self, options: &TrainOptions) -> Result<TrainReport> {
        let job = commands::load_train_job(options)?;
        let kinds = self.kinds();
        let kind = job.loaded.kind(&kinds)?.to_owned();
        let location = job.loaded.locate(&["model", "kind"]);
        self.entry(&kind, location)?.train(job)
    }

    /// `kiln cv` of whichever kind the config names.
    pub fn cross_validate(&self, options: &CvOptions) -> Result<CvReport> {
        let mut overrides = options.set.clone();
        if let Some(backend) = &options.backend {
            overrides.push(format!("backend={backend}"));
        }
        let loaded = LoadedConfig::load(&options.config, &overrides)?;
        let kinds = self.kinds();
        let kind = loaded.kind(&kinds)?.to_owned();
        let location = loaded.locate(&["model", "kind"]);
        self.entry(&kind, location)?
            .cross_validate(&loaded, options)
    }

    /// The cross-validated metrics of the model `loaded` describes (whichever kind it names).
    pub fn cross_validation(&self, loaded: &LoadedConfig, folds: usize) -> Result<CrossValidation> {
        let kinds = self.kinds();
        let kind = loaded.kind(&kinds)?.to_owned();
        let location = loaded.locate(&["model", "kind"]);
        self.entry(&kind, location)?.cross_validation(loaded, folds)
    }

    /// `kiln search`: the trials of the config's `[search]` table, the best refitted.
    pub fn search(&self, options: &SearchOptions) -> Result<SearchReport> {
        crate::search::run(self, options)
    }

    /// The commands of a completed run's kind.
    fn for_run(&self, run: &Path) -> Result<&dyn Commands> {
        let kind = commands::run_kind(run)?;
        self.entry(&kind, Location::file(run.join(crate::run::META_FILE)))
    }

    /// `kiln eval` of a run of any registered kind.
    pub fn eval(&self, run: &Path, data: &Path, backend: Option<&str>) -> Result<Metrics> {
        self.for_run(run)?.eval(run, data, backend)
    }

    /// `kiln predict` of a run of any registered kind.
    pub fn predict(
        &self,
        run: &Path,
        data: &Path,
        backend: Option<&str>,
        out: Output<'_>,
    ) -> Result<usize> {
        self.for_run(run)?.predict(run, data, backend, out)
    }

    /// `kiln export` of a run of any registered kind.
    pub fn export(&self, run: &Path, out: &Path) -> Result<usize> {
        self.for_run(run)?.export(run, out)
    }
}

/// A clap error as one line: what is wrong, then where to look.
fn usage_line(e: &clap::Error) -> String {
    let text = e.to_string();
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let mut what = lines
        .next()
        .unwrap_or_default()
        .trim_start_matches("error: ")
        .to_owned();
    // "the following required arguments were not provided:" names them on the next line.
    if what.ends_with(':')
        && let Some(next) = lines.next()
    {
        what = format!("{what} {next}");
    }
    let usage = text
        .lines()
        .find_map(|l| l.strip_prefix("Usage: "))
        .map(|u| format!("; usage: {}", u.trim()))
        .unwrap_or_default();
    format!("{what}{usage}; see `kiln --help` (exit code 2)")
}

/// Refuses an `--out` that is a directory or one of the command's inputs (which writing it
/// would destroy).
fn check_output(out: &Path, inputs: &[&Path]) -> Result<()> {
    if out.is_dir() {
        return Err(Error::Usage {
            message: format!("`--out {}` is a directory", out.display()),
            fix: "name a file to write, e.g. `--out predictions.csv`".into(),
        });
    }
    for input in inputs {
        if atomic::same_file(out, input) {
            return Err(Error::Usage {
                message: format!(
                    "`--out {}` is the input {}: writing it would destroy it",
                    out.display(),
                    input.display()
                ),
                fix: "write the output to another file".into(),
            });
        }
    }
    Ok(())
}

/// kiln trains classical and neural models on any burn backend (CPU, GPU, microcontroller),
/// from a TOML config file.
#[derive(Debug, Parser)]
#[command(
    name = "kiln",
    version,
    propagate_version = true,
    after_help = "Exit codes: 0 done; 1 an error, told in one line that names the file, the line and \
                  the fix; 2 unusable arguments; 130 stopped by Ctrl-C after saving a checkpoint."
)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

/// What the commands that train take besides the config: the backend, and `--set`s.
#[derive(Debug, clap::Args)]
struct ConfigArgs {
    /// Backend to train on, overriding the config's `backend` (see `kiln backends`).
    #[arg(long, value_name = "NAME")]
    backend: Option<String>,
    /// Override a config key, e.g. `train.epochs=20` or `model.l2=0.1` (repeatable; under
    /// every trial of a search).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Train the model a config file describes and write a run directory.
    #[command(
        after_help = "Examples:\n  kiln train configs/iris-logistic.toml --set train.epochs=50 --out runs/iris\n  \
                      kiln train configs/digits-mlp.toml --resume          # the latest stopped run of it\n  \
                      kiln train --resume runs/digits-mlp                  # that stopped run\n\n\
                      Ctrl-C stops after the current step and writes a checkpoint to resume from."
    )]
    Train {
        /// The TOML config file (with `--resume RUN`, the run's own config is used).
        #[arg(required_unless_present = "resume")]
        config: Option<PathBuf>,
        /// Continue a stopped run from its checkpoint: RUN (or RUN.partial), or without a
        /// value the latest stopped run of CONFIG under the --out directory's parent
        /// (default runs/).
        #[arg(long, value_name = "RUN", num_args = 0..=1)]
        #[allow(clippy::option_option)]
        resume: Option<Option<PathBuf>>,
        #[command(flatten)]
        config_args: ConfigArgs,
        /// Run directory to write (default: runs/<config name>, numbered if taken).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Cross-validate the model a config describes: k folds of its training table, each
    /// fitted on the other folds and scored on itself; prints each fold and the mean ± std.
    #[command(
        after_help = "Example:\n  kiln cv configs/breast-cancer-logistic.toml --folds 5\n\n\
        Folds are seeded by the config's `seed` and stratified by class for a classifier. Each\n\
        fold fits the table's encoding, the scaling and the model on its training rows alone.\n\
        The validation rows (`valid_fraction`, or a `valid` file) stay out of the folds.\n\
        Writes cv.json and the config to --out."
    )]
    Cv {
        /// The TOML config file.
        config: PathBuf,
        /// Folds (at least 2).
        #[arg(long, default_value_t = 5, value_name = "K")]
        folds: usize,
        #[command(flatten)]
        config_args: ConfigArgs,
        /// Directory to write (default: runs/<config name>-cv, numbered if taken).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Search hyper-parameters: try the values the config's `[search]` table lists (a grid) or
    /// draws (`trials = N`), score each trial by cross-validation, refit the best.
    #[command(
        after_help = "Example:\n  kiln search configs/breast-cancer-search.toml\n\n\
        [search] keys: `trials = N` (random draws; absent: every combination of the lists),\n\
        `folds = 5`, `metric = \"accuracy\"`, and config keys with the values to try:\n  \
        \"model.l2\" = [0.1, 1, 10]\n  \
        \"model.l2\" = { log_uniform = [1e-3, 1e3] }   # also uniform, int_uniform\n\n\
        Writes trials.jsonl (one line per trial, kept when stopped), search.json, best.toml\n\
        (a config `kiln train` takes) and best/ (the best config trained on every row).\n\
        Ctrl-C stops after the current trial; `--resume` runs the rest."
    )]
    Search {
        /// The TOML config file, with a `[search]` table.
        config: PathBuf,
        #[command(flatten)]
        config_args: ConfigArgs,
        /// Directory to write (default: runs/<config name>-search, numbered if taken).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Continue the stopped search in --out (default: the latest of this config under runs/).
        #[arg(long)]
        resume: bool,
    },
    /// Print the metrics of a trained model on a labelled CSV file.
    #[command(
        after_help = "Example:\n  kiln eval --model runs/iris-logistic --data examples/data/iris.csv --json"
    )]
    Eval {
        /// The run directory `kiln train` wrote.
        #[arg(long, value_name = "RUN_DIR")]
        model: PathBuf,
        /// CSV with the training columns, target included.
        #[arg(long, value_name = "CSV")]
        data: PathBuf,
        /// Print one JSON object instead of a table.
        #[arg(long)]
        json: bool,
        /// Backend to evaluate on (default: the one the model was trained on).
        #[arg(long, value_name = "NAME")]
        backend: Option<String>,
    },
    /// Write one prediction per row of a CSV file.
    #[command(
        after_help = "Examples:\n  kiln predict --model runs/iris-logistic --data examples/data/iris.csv --out predictions.csv\n  \
        kiln predict --model runs/penguins-logistic --data examples/data/penguins-test.parquet --out predictions.parquet"
    )]
    Predict {
        /// The run directory `kiln train` wrote.
        #[arg(long, value_name = "RUN_DIR")]
        model: PathBuf,
        /// The table to predict (CSV, Parquet or Arrow IPC) with the feature columns the model
        /// was trained on (others are ignored).
        #[arg(long, value_name = "TABLE")]
        data: PathBuf,
        /// Output file: CSV, or Parquet (`.parquet`) or Arrow IPC (`.arrow`, `.feather`) by its
        /// extension (default: CSV to standard output).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Backend to predict on (default: the one the model was trained on).
        #[arg(long, value_name = "NAME")]
        backend: Option<String>,
    },
    /// Write a trained model, with its scaling and labels, as one file for a microcontroller.
    #[command(
        after_help = "Example:\n  kiln export --model runs/iris-logistic --out iris.kiln\n\n\
        Firmware loads the file with `include_bytes!` and\n\
        `kiln_model_zoo::deploy::Deployment::decode` (see examples/embedded/)."
    )]
    Export {
        /// The run directory `kiln train` wrote.
        #[arg(long, value_name = "RUN_DIR")]
        model: PathBuf,
        /// The file to write.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// List the backends compiled into this build and check that each works here.
    #[command(after_help = "Example:\n  kiln backends")]
    Backends,
    /// List the model kinds this program trains.
    #[command(after_help = "Example:\n  kiln kinds")]
    Kinds,
}

/// The `kiln` command-line tool over a [`Registry`] of model kinds.
#[derive(Debug, Default)]
pub struct Cli {
    registry: Registry,
}

impl Cli {
    /// The `kiln` tool with the zoo's model kinds.
    pub fn new() -> Self {
        Self {
            registry: Registry::zoo(),
        }
    }

    /// Adds the kinds of model type `M`, so a config naming one trains it, and `eval`,
    /// `predict`, `export` and `--resume` take its runs.
    pub fn with<M: Estimator>(mut self) -> Self {
        self.registry = self.registry.with::<M>();
        self
    }

    /// The registry of model kinds.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Runs the command in the process's arguments; prints an error as one line. Exit codes:
    /// 0 on success (and when the reader of the output went away, as with `| head`), 1 on an
    /// error, 2 for unusable arguments, 130 when Ctrl-C stopped a run (after a checkpoint).
    pub fn main(self) -> ExitCode {
        let args = match Args::try_parse() {
            Ok(args) => args,
            Err(e) if !e.use_stderr() => {
                // --help and --version.
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            Err(e) => {
                eprintln!("error: {}", usage_line(&e));
                return ExitCode::from(2);
            }
        };
        match self.run_args(args) {
            Ok(()) | Err(Error::OutputClosed) => ExitCode::SUCCESS,
            // Stopped by Ctrl-C: the shell's convention for SIGINT, and not an error.
            Err(e @ (Error::Interrupted { .. } | Error::SearchStopped { .. })) => {
                eprintln!("{e}");
                ExitCode::from(130)
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        }
    }

    /// Runs the command `args` names (`args[0]` is the program's name), printing its result
    /// to standard output as `main` does; unusable arguments are an [`Error::Usage`].
    pub fn run<I, T>(&self, args: I) -> Result<()>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let args = Args::try_parse_from(args).map_err(|e| Error::Usage {
            message: usage_line(&e),
            fix: "see `kiln --help`".into(),
        })?;
        self.run_args(args)
    }

    fn run_args(&self, args: Args) -> Result<()> {
        match args.command {
            Command::Train {
                config,
                resume,
                config_args: ConfigArgs { backend, set },
                out,
            } => {
                let resume = resume.map(|run| match run {
                    None => Resume::Latest,
                    Some(run) => Resume::Run(run),
                });
                if resume == Some(Resume::Latest) && config.is_none() {
                    return Err(Error::Usage {
                        message: "`--resume` without a run needs the config file".into(),
                        fix: "use `kiln train CONFIG --resume` or `kiln train --resume RUN_DIR`"
                            .into(),
                    });
                }
                let report = self.registry.train(&TrainOptions {
                    config: config.unwrap_or_default(),
                    backend,
                    set,
                    out,
                    resume,
                })?;
                let s = &report.summary;
                let metrics = metrics_line(&s.valid);
                println!(
                    "trained {} on {} ({} rows, {} epochs) in {:.2} s (data {:.2} s); validation: {}",
                    s.model,
                    s.backend,
                    s.n_train,
                    s.epochs,
                    s.fit_seconds,
                    s.load_seconds,
                    if metrics.is_empty() {
                        "none".into()
                    } else {
                        metrics
                    }
                );
                if let Some(fitted) = &s.fitted {
                    println!("fitted: {fitted}");
                }
                println!("run directory: {}", report.run_dir.display());
                Ok(())
            }
            Command::Cv {
                config,
                folds,
                config_args: ConfigArgs { backend, set },
                out,
            } => {
                let report = self.registry.cross_validate(&CvOptions {
                    config,
                    folds,
                    backend,
                    set,
                    out,
                })?;
                let cv = &report.result;
                println!(
                    "{} folds of {}: mean ± std over the folds",
                    cv.folds.len(),
                    report.model
                );
                for (name, mean) in &cv.mean {
                    println!("{name:<24} {mean:.6} ± {:.6}", cv.std[name]);
                }
                println!("cross-validation directory: {}", report.dir.display());
                Ok(())
            }
            Command::Search {
                config,
                config_args: ConfigArgs { backend, set },
                out,
                resume,
            } => {
                let report = self.registry.search(&SearchOptions {
                    config,
                    backend,
                    set,
                    out,
                    resume,
                })?;
                let best = &report.best;
                println!(
                    "best of {} trials by {}: trial {}, {:.6} ± {:.6}",
                    report.results.len(),
                    report.metric,
                    best.trial,
                    best.mean.get(&report.metric).copied().unwrap_or(f64::NAN),
                    best.std.get(&report.metric).copied().unwrap_or(f64::NAN)
                );
                if !report.refit_valid.is_empty() {
                    println!(
                        "refitted on every training row; validation: {}",
                        metrics_line(&report.refit_valid)
                    );
                }
                println!(
                    "search directory: {} (best.toml trains the best config)",
                    report.dir.display()
                );
                Ok(())
            }
            Command::Eval {
                model,
                data,
                json,
                backend,
            } => {
                let metrics = self.registry.eval(&model, &data, backend.as_deref())?;
                if json {
                    println!(
                        "{}",
                        serde_json::to_string(&metrics).expect("metrics serialize")
                    );
                } else {
                    for (name, value) in &metrics {
                        println!("{name:<10} {value:.6}");
                    }
                }
                Ok(())
            }
            Command::Predict {
                model,
                data,
                out,
                backend,
            } => {
                let rows = match &out {
                    Some(path) => {
                        check_output(path, &[&data, &model])?;
                        let mut rows = 0;
                        // Written to a temporary file, renamed over `--out` only once every row
                        // is predicted: a failure leaves an existing file as it was.
                        atomic::write_with(path, "write", Durability::Synced, |file| {
                            let out = Output::file(Format::of(path), file);
                            rows = self
                                .registry
                                .predict(&model, &data, backend.as_deref(), out)?;
                            Ok(())
                        })?;
                        rows
                    }
                    None => self.registry.predict(
                        &model,
                        &data,
                        backend.as_deref(),
                        Output::Csv(&mut std::io::stdout().lock()),
                    )?,
                };
                if let Some(path) = out {
                    eprintln!("wrote {rows} predictions to {}", path.display());
                }
                std::io::stdout().flush().ok();
                Ok(())
            }
            Command::Export { model, out } => {
                check_output(&out, &[&model])?;
                let bytes = self.registry.export(&model, &out)?;
                println!("wrote {} ({bytes} bytes)", out.display());
                Ok(())
            }
            Command::Backends => {
                for status in commands::backends() {
                    let state = match (status.compiled, status.works) {
                        (true, true) => "works",
                        (true, false) => "fails",
                        (false, _) => "absent",
                    };
                    println!("{:<8} {:<7} {}", status.name, state, status.detail);
                }
                Ok(())
            }
            Command::Kinds => {
                for kind in self.registry.kinds() {
                    println!("{kind}");
                }
                Ok(())
            }
        }
    }
}
