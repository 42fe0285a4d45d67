//! The `kiln` command-line tool.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use kiln_trainer::commands::{self, TrainOptions};
use kiln_trainer::{Error, Result};

/// burn puts every tensor in its own heap block. glibc's malloc gives large freed blocks back to
/// the OS and maps them fresh on the next step (a page fault per page); mimalloc keeps them. An
/// MLP epoch on 2 cores: 0.83 s instead of 1.06 s (median of 20 interleaved epochs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// kiln trains classical and neural models on any burn backend (CPU, GPU, microcontroller),
/// from a TOML config file.
#[derive(Debug, Parser)]
#[command(name = "kiln", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
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
        /// Backend to train on, overriding the config's `backend` (see `kiln backends`).
        #[arg(long, value_name = "NAME")]
        backend: Option<String>,
        /// Override a config key, e.g. `train.epochs=20` (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Run directory to write (default: runs/<config name>, numbered if taken).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
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
        after_help = "Example:\n  kiln predict --model runs/iris-logistic --data examples/data/iris.csv --out predictions.csv"
    )]
    Predict {
        /// The run directory `kiln train` wrote.
        #[arg(long, value_name = "RUN_DIR")]
        model: PathBuf,
        /// CSV with the feature columns the model was trained on (others are ignored).
        #[arg(long, value_name = "CSV")]
        data: PathBuf,
        /// Output CSV (default: standard output).
        #[arg(long, value_name = "CSV")]
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
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        // Stopped by Ctrl-C: the shell's convention for SIGINT, and not an error.
        Err(e @ Error::Interrupted { .. }) => {
            eprintln!("{e}");
            ExitCode::from(130)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Train {
            config,
            resume,
            backend,
            set,
            out,
        } => {
            let resume = resume.map(|run| match run {
                None => commands::Resume::Latest,
                Some(run) => commands::Resume::Run(run),
            });
            if resume == Some(commands::Resume::Latest) && config.is_none() {
                return Err(Error::Usage {
                    message: "`--resume` without a run needs the config file".into(),
                    fix: "use `kiln train CONFIG --resume` or `kiln train --resume RUN_DIR`".into(),
                });
            }
            let report = commands::train(&TrainOptions {
                config: config.unwrap_or_default(),
                backend,
                set,
                out,
                resume,
            })?;
            let s = &report.summary;
            let metrics: Vec<String> = s.valid.iter().map(|(k, v)| format!("{k} {v:.4}")).collect();
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
                    metrics.join(", ")
                }
            );
            if let Some(fitted) = &s.fitted {
                println!("fitted: {fitted}");
            }
            println!("run directory: {}", report.run_dir.display());
            Ok(())
        }
        Command::Eval {
            model,
            data,
            json,
            backend,
        } => {
            let metrics = commands::eval(&model, &data, backend.as_deref())?;
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
                    let mut file =
                        std::fs::File::create(path).map_err(|e| Error::io("write", path, e))?;
                    commands::predict(&model, &data, backend.as_deref(), &mut file)?
                }
                None => commands::predict(
                    &model,
                    &data,
                    backend.as_deref(),
                    &mut std::io::stdout().lock(),
                )?,
            };
            if let Some(path) = out {
                eprintln!("wrote {rows} predictions to {}", path.display());
            }
            std::io::stdout().flush().ok();
            Ok(())
        }
        Command::Export { model, out } => {
            let bytes = commands::export(&model, &out)?;
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
    }
}
