//! The GPU check: times kiln's models on each backend given (a GPU's `vulkan` and `wgpu`, and
//! `flex` on the same machine's CPU) on data generated here, seeded, and writes one JSON and a
//! markdown table of times, throughputs, GPU/flex ratios and each model's quality, so a wrong
//! result on the GPU is caught as surely as a slow one.
//!
//! ```sh
//! scripts/gpu-check.sh --small            # here, on Mesa's software Vulkan, at small sizes
//! cargo run --release --features wgpu --example gpu_check -- --backends flex,wgpu --scale 0.01 --out gpu-check
//! ```
//!
//! At `--scale 1`: an MLP 784-256-10 on 60,000 rows (2 epochs, samples/s), k-means on
//! 1,000,000 × 32 (k = 16, 20 Lloyd iterations), logistic regression by L-BFGS on
//! 1,000,000 × 100 (20 iterations), a Gaussian mixture on 200,000 × 16 (k = 8, 20 EM
//! iterations), an RBF kernel SVM on 20,000 × 20 (SMO to convergence) and a Gaussian process on
//! 4,000 × 8 (10 L-BFGS iterations). Each row count scales with `--scale`.

use std::path::PathBuf;
use std::time::Instant;

use kiln_backends::BackendKind;
use kiln_model_zoo::synthetic::{SyntheticTarget, blob_rows, linear_rows};
use kiln_model_zoo::{Estimator, Model};
use kiln_trainer::options::{AdamConfig, OptimizerConfig};
use kiln_trainer::{Dataset, TrainConfig, Trainer};
use serde_json::{Value, json};

/// One model of the check: its name, what its throughput counts, its data and config.
struct Case {
    name: &'static str,
    /// What one unit of work is (for the throughput column).
    unit: &'static str,
    rows: usize,
    features: usize,
    /// The `[model]` table.
    model: Value,
    train: TrainConfig,
    /// The metric that shows the fit is right, and whether larger is better.
    metric: &'static str,
    data: fn(usize, usize) -> Dataset,
    /// Units of work per fit: rows × epochs for gradient fits, steps for iterative ones.
    work: fn(&Case, usize) -> f64,
}

fn names(features: usize) -> Vec<String> {
    (0..features).map(|j| format!("x{j}")).collect()
}

fn classes(rows: usize, features: usize, n_classes: usize) -> Dataset {
    let (mut x, mut labels) = (
        Vec::with_capacity(rows * features),
        Vec::with_capacity(rows),
    );
    for (row, target) in linear_rows(features, n_classes, 1).take(rows) {
        x.extend(row.into_iter().map(|v| v as f32));
        labels.push(match target {
            SyntheticTarget::Class(c) => format!("c{c}"),
            SyntheticTarget::Value(_) => unreachable!("a classification"),
        });
    }
    Dataset::classification(names(features), x, &labels).expect("generated rows are valid")
}

fn values(rows: usize, features: usize) -> Dataset {
    let (mut x, mut y) = (
        Vec::with_capacity(rows * features),
        Vec::with_capacity(rows),
    );
    for (row, target) in linear_rows(features, 0, 2).take(rows) {
        x.extend(row.into_iter().map(|v| (v as f32).sin()));
        y.push(match target {
            SyntheticTarget::Value(v) => v as f32,
            SyntheticTarget::Class(_) => unreachable!("a regression"),
        });
    }
    Dataset::regression(names(features), x, y).expect("generated rows are valid")
}

fn blobs(rows: usize, features: usize, k: usize) -> Dataset {
    let (mut x, mut labels) = (
        Vec::with_capacity(rows * features),
        Vec::with_capacity(rows),
    );
    for (row, blob) in blob_rows(features, k, 1.5, 3).take(rows) {
        x.extend(row.into_iter().map(|v| v as f32));
        labels.push(format!("b{blob}"));
    }
    Dataset::classification(names(features), x, &labels).expect("generated rows are valid")
}

fn cases(scale: f64) -> Vec<Case> {
    let rows = |n: f64| ((n * scale) as usize).max(64);
    let epochs = |epochs: usize| TrainConfig {
        epochs,
        batch_size: 256,
        optimizer: OptimizerConfig::Adam(AdamConfig {
            learning_rate: 1e-3,
            ..Default::default()
        }),
        checkpoint_every: 0,
        ..Default::default()
    };
    let iterations = |n: usize| TrainConfig {
        epochs: n,
        checkpoint_every: 0,
        ..Default::default()
    };
    vec![
        Case {
            name: "mlp_784_256_10",
            unit: "samples/s",
            rows: rows(60_000.0),
            features: 784,
            model: json!({"kind": "mlp", "hidden": [256]}),
            train: epochs(2),
            metric: "accuracy",
            data: |rows, features| classes(rows, features, 10),
            work: |case, _| (case.rows * case.train.epochs) as f64,
        },
        Case {
            name: "kmeans_k16",
            unit: "iterations/s",
            rows: rows(1_000_000.0),
            features: 32,
            model: json!({"kind": "kmeans", "k": 16, "n_init": 1, "max_iter": 20, "tol": 0.0}),
            train: iterations(20),
            metric: "inertia",
            data: |rows, features| blobs(rows, features, 16),
            work: |_, steps| steps as f64,
        },
        Case {
            name: "logistic_lbfgs",
            unit: "iterations/s",
            rows: rows(1_000_000.0),
            features: 100,
            model: json!({"kind": "logistic_regression", "solver": "lbfgs", "max_iter": 20, "tol": 0.0}),
            train: iterations(20),
            metric: "log_loss",
            data: |rows, features| classes(rows, features, 2),
            work: |_, steps| steps as f64,
        },
        Case {
            name: "gmm_k8",
            unit: "iterations/s",
            rows: rows(200_000.0),
            features: 16,
            model: json!({"kind": "gmm", "k": 8, "n_init": 1, "max_iter": 20, "tol": 0.0}),
            train: iterations(21),
            metric: "log_likelihood",
            data: |rows, features| blobs(rows, features, 8),
            work: |_, steps| steps as f64,
        },
        Case {
            name: "rbf_svm",
            unit: "fits/s",
            rows: rows(20_000.0),
            features: 20,
            model: json!({"kind": "kernel_svm"}),
            train: iterations(10_000),
            metric: "accuracy",
            data: |rows, features| classes(rows, features, 2),
            work: |_, _| 1.0,
        },
        Case {
            name: "gp_ard",
            unit: "iterations/s",
            rows: rows(4_000.0),
            features: 8,
            model: json!({"kind": "gaussian_process", "kernel": "1.0 * RBF([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]) + WhiteKernel(0.1)", "max_iter": 10}),
            train: iterations(11),
            metric: "r2",
            data: values,
            work: |_, steps| steps as f64,
        },
    ]
}

/// Command-line options.
struct Options {
    backends: Vec<BackendKind>,
    scale: f64,
    out: PathBuf,
    only: Option<Vec<String>>,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        backends: vec![BackendKind::Flex],
        scale: 1.0,
        out: PathBuf::from("gpu-check"),
        only: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--backends" => {
                options.backends = value()?
                    .split(',')
                    .map(|b| b.parse().map_err(|e| format!("{e}")))
                    .collect::<Result<_, _>>()?;
            }
            "--scale" => options.scale = value()?.parse().map_err(|e| format!("--scale: {e}"))?,
            "--out" => options.out = PathBuf::from(value()?),
            "--only" => options.only = Some(value()?.split(',').map(str::to_owned).collect()),
            other => {
                return Err(format!(
                    "unknown argument `{other}`; see the file's doc comment"
                ));
            }
        }
    }
    Ok(options)
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let options = options()?;
    std::fs::create_dir_all(&options.out).map_err(|e| format!("{}: {e}", options.out.display()))?;
    let mut results = Vec::new();
    let mut devices = serde_json::Map::new();
    for case in cases(options.scale) {
        if options
            .only
            .as_ref()
            .is_some_and(|only| !only.iter().any(|o| o == case.name))
        {
            continue;
        }
        let started = Instant::now();
        let data = (case.data)(case.rows, case.features);
        eprintln!(
            "{}: {} × {} generated in {:.1} s",
            case.name,
            case.rows,
            case.features,
            started.elapsed().as_secs_f64()
        );
        let config = Model::read_config(case.model.clone()).map_err(|e| e.to_string())?;
        for &backend in &options.backends {
            let opened = match kiln_backends::open(backend) {
                Ok(opened) => opened,
                Err(e) => {
                    results.push(json!({"model": case.name, "backend": backend.name(), "error": e.to_string()}));
                    continue;
                }
            };
            devices.insert(backend.name().into(), opened.description.clone().into());
            let fitted =
                Trainer::new(case.train.clone()).fit::<Model>(&config, &data, None, &opened.device);
            let result = match fitted {
                Ok(fitted) => {
                    let metrics = fitted.evaluate(&data).map_err(|e| e.to_string())?;
                    let steps = fitted.history.len();
                    // The first epoch or step carries the backend's warm-up (kernel
                    // compilation on a GPU): timed apart.
                    let first = fitted.history.first().map_or(0.0, |r| r.elapsed_seconds);
                    let work = (case.work)(&case, steps);
                    let per_unit = work / fitted.fit_seconds;
                    let warm = if steps > 1 {
                        work / steps as f64 * (steps - 1) as f64
                            / (fitted.fit_seconds - first).max(1e-9)
                    } else {
                        per_unit
                    };
                    json!({
                        "model": case.name,
                        "backend": backend.name(),
                        "rows": case.rows,
                        "features": case.features,
                        "steps": steps,
                        "seconds": fitted.fit_seconds,
                        "first_step_seconds": first,
                        "throughput": per_unit,
                        "warm_throughput": warm,
                        "unit": case.unit,
                        "metric": case.metric,
                        "value": metrics.get(case.metric).copied(),
                    })
                }
                Err(e) => {
                    json!({"model": case.name, "backend": backend.name(), "error": e.to_string()})
                }
            };
            eprintln!("  {}: {result}", backend.name());
            results.push(result);
        }
    }
    let table = markdown(&results);
    let report = json!({"devices": devices, "scale": options.scale, "results": results});
    let json_path = options.out.join("gpu-check.json");
    let md_path = options.out.join("gpu-check.md");
    std::fs::write(&json_path, serde_json::to_string_pretty(&report).unwrap())
        .map_err(|e| format!("{}: {e}", json_path.display()))?;
    std::fs::write(&md_path, &table).map_err(|e| format!("{}: {e}", md_path.display()))?;
    println!("{table}");
    Ok(())
}

/// One row per model and backend: time, throughput, the ratio to flex, and the quality metric
/// with its relative difference from flex's.
fn markdown(results: &[Value]) -> String {
    let mut out = String::from(
        "| model | backend | rows × features | steps | seconds | throughput | vs flex | metric | value | Δ vs flex |\n\
         |---|---|---|---:|---:|---:|---:|---|---:|---:|\n",
    );
    for result in results {
        let model = result["model"].as_str().unwrap_or_default();
        let backend = result["backend"].as_str().unwrap_or_default();
        if let Some(error) = result["error"].as_str() {
            out.push_str(&format!(
                "| {model} | {backend} | | | | | | | error: {error} | |\n"
            ));
            continue;
        }
        let flex = results
            .iter()
            .find(|r| r["model"] == result["model"] && r["backend"] == "flex");
        let ratio = flex
            .and_then(|f| {
                Some(result["warm_throughput"].as_f64()? / f["warm_throughput"].as_f64()?)
            })
            .map_or("–".to_owned(), |r| format!("{r:.2}×"));
        let value = result["value"].as_f64();
        let delta = flex
            .and_then(|f| {
                let (a, b) = (value?, f["value"].as_f64()?);
                Some((a - b).abs() / b.abs().max(1e-12))
            })
            .map_or("–".to_owned(), |d| format!("{d:.1e}"));
        out.push_str(&format!(
            "| {model} | {backend} | {} × {} | {} | {:.3} | {:.1} {} | {ratio} | {} | {} | {delta} |\n",
            result["rows"],
            result["features"],
            result["steps"],
            result["seconds"].as_f64().unwrap_or(f64::NAN),
            result["warm_throughput"].as_f64().unwrap_or(f64::NAN),
            result["unit"].as_str().unwrap_or_default(),
            result["metric"].as_str().unwrap_or_default(),
            value.map_or("–".to_owned(), |v| format!("{v:.5}")),
        ));
    }
    out
}
