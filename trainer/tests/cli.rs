//! End-to-end tests of the trainer: every shipped config on every compiled-in backend, backends
//! agreeing with each other, the `kiln` binary's commands, and every bad input ending in one
//! clear error line.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kiln_backends::BackendKind;
use kiln_trainer::commands::{self, TrainOptions, TrainReport};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

fn config(name: &str) -> PathBuf {
    repo().join("configs").join(name)
}

fn train(config: &Path, backend: BackendKind, out: &Path, set: &[&str]) -> TrainReport {
    commands::train(&TrainOptions {
        config: config.to_owned(),
        backend: Some(backend.name().into()),
        set: set.iter().map(|s| s.to_string()).collect(),
        out: Some(out.to_owned()),
        resume: None,
    })
    .unwrap_or_else(|e| panic!("{} on {backend}: {e}", config.display()))
}

fn kiln(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

/// Runs `kiln` expecting success; the failure message is its stderr.
fn kiln_ok(args: &[&str], dir: &Path) -> Output {
    let out = kiln(args, dir);
    assert!(
        out.status.success(),
        "kiln {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `kiln eval --model RUN --data DATA --json`, parsed.
fn eval_json(run: &Path, data: &Path, dir: &Path) -> serde_json::Value {
    let out = kiln_ok(
        &[
            "eval",
            "--model",
            run.to_str().unwrap(),
            "--data",
            data.to_str().unwrap(),
            "--json",
        ],
        dir,
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Runs `kiln` expecting failure; returns its single stderr line.
fn kiln_error(args: &[&str], dir: &Path) -> String {
    let out = kiln(args, dir);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(1),
        "expected exit 1 from {args:?}, got {:?}: {stderr}",
        out.status
    );
    // Progress lines (`epoch N/M ...`, stderr not being a terminal) may precede the error.
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| {
            !l.trim().is_empty() && !l.contains("XDG_RUNTIME_DIR") && !l.starts_with("epoch ")
        })
        .collect();
    assert_eq!(
        lines.len(),
        1,
        "expected one line from {args:?}, got: {stderr}"
    );
    assert!(lines[0].starts_with("error: "), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    lines[0].to_owned()
}

/// The lowest bar each shipped config must clear on held-out data, on every backend.
fn check_quality(name: &str, report: &TrainReport) {
    let valid = &report.summary.valid;
    match name {
        // The issue's bar: ≥ 0.93 held-out accuracy on iris.
        "iris-logistic.toml" | "iris-rbf-svm.toml" => {
            assert!(valid["accuracy"] >= 0.93, "{valid:?}")
        }
        "breast-cancer-logistic.toml" => assert!(valid["accuracy"] >= 0.95, "{valid:?}"),
        // scikit-learn's LinearRegression reaches R² ≈ 0.45–0.5 on a 20% diabetes split.
        "diabetes-ols.toml" | "diabetes-ridge.toml" | "diabetes-sgd.toml" => {
            assert!(valid["r2"] > 0.35, "{valid:?}")
        }
        // scikit-learn's KMeans(3, n_init=10) on standardized iris: ARI 0.620, inertia 139.82.
        "iris-kmeans.toml" => {
            let train = &report.summary.train;
            check_iris_kmeans(train["inertia"], train["adjusted_rand_index"]);
        }
        // The issue's bar: ≥ 0.96 held-out accuracy on the digits.
        "digits-mlp.toml" => assert!(valid["accuracy"] >= 0.96, "{valid:?}"),
        // scikit-learn's LinearSVC (squared hinge, C = 1) scores 0.9010 on margin-test.csv
        // (`python3 benches/peers/svm_reference.py`); the issue allows 0.5 points less.
        "margin-svm.toml" => assert!(valid["accuracy"] >= 0.9010 - 0.005, "{valid:?}"),
        // scikit-learn's PoissonRegressor / GammaRegressor (alpha = 1e-3) fitted on all rows
        // reach a mean deviance of 0.916386 / 0.534344 on them
        // (`python3 benches/peers/glm_reference.py`); kiln, fitted on 80% of the rows, must be
        // within 1% of that on all rows.
        "claims-poisson.toml" => check_glm_deviance(report, "claims.csv", 0.916_386),
        "claim-costs-gamma.toml" => check_glm_deviance(report, "claim-costs.csv", 0.534_344),
        // scikit-learn 1.9.1's `GaussianMixture(3, n_init=5)` on standardized iris: mean
        // log-likelihood -1.936926, adjusted Rand index 0.9039, for random states 0-2.
        "iris-gmm.toml" => {
            let train = &report.summary.train;
            let log_likelihood = train["log_likelihood"];
            assert!(
                (log_likelihood - -1.936_926).abs() <= 1e-3 * 1.936_926,
                "mean log-likelihood {log_likelihood}"
            );
            assert!(
                train["adjusted_rand_index"] >= 0.90,
                "adjusted Rand index {}",
                train["adjusted_rand_index"]
            );
        }
        "clusters-rbf-svm.toml" => check_rbf_svm(report),
        // scikit-learn 1.9.1's GaussianProcessRegressor with the same kernels
        // (`python3 benches/peers/gp_reference.py`): log marginal likelihood -54.574320 and
        // -119.034241 (5-D, normalised target), test RMSE 0.313935 and 0.216585. kiln must be
        // within 1e-2 relative on the likelihood and no worse on the RMSE (1e-3 relative for
        // f32 rounding).
        "sine-gp.toml" => check_gaussian_process(report, -54.574_320, 0.313_935),
        "waves-gp.toml" => check_gaussian_process(report, -119.034_241, 0.216_585),
        other => panic!("no quality bar for shipped config {other}; add one here"),
    }
}

/// scikit-learn 1.9.1's `SVC(C=1, gamma="scale")` reaches test accuracy 0.9250 on
/// clusters-test.csv; its predictions are in tests/data/svc-clusters-test.txt (both from
/// `python3 benches/peers/kernel_svm_reference.py --write-predictions`). kiln must be within
/// 0.3 points and agree on at least 99% of the rows.
fn check_rbf_svm(report: &TrainReport) {
    const SKLEARN_ACCURACY: f64 = 0.9250;
    let accuracy = report.summary.valid["accuracy"];
    assert!(
        (accuracy - SKLEARN_ACCURACY).abs() <= 0.003,
        "accuracy {accuracy} vs scikit-learn's {SKLEARN_ACCURACY}"
    );
    let reference =
        std::fs::read_to_string(repo().join("trainer/tests/data/svc-clusters-test.txt")).unwrap();
    let mut out = Vec::new();
    let data = repo().join("examples/data/clusters-test.csv");
    commands::predict(&report.run_dir, &data, None, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let ours: Vec<&str> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    let theirs: Vec<String> = reference.trim().chars().map(String::from).collect();
    assert_eq!(ours.len(), theirs.len());
    let agree = ours
        .iter()
        .zip(&theirs)
        .filter(|(a, b)| **a == b.as_str())
        .count();
    assert!(
        agree * 100 >= theirs.len() * 99,
        "predictions agree with scikit-learn's on {agree} of {} rows",
        theirs.len()
    );
}

fn check_gaussian_process(report: &TrainReport, log_marginal_likelihood: f64, rmse: f64) {
    let fitted = report.summary.fitted.as_deref().unwrap_or_default();
    assert!(
        fitted.starts_with("kernel ") && fitted.contains("RBF("),
        "{fitted}"
    );
    let got = report.summary.train["log_marginal_likelihood"];
    assert!(
        (got - log_marginal_likelihood).abs() <= 1e-2 * log_marginal_likelihood.abs(),
        "log marginal likelihood {got} vs {log_marginal_likelihood}"
    );
    let got = report.summary.valid["mse"].sqrt();
    assert!(got <= rmse * 1.001, "test RMSE {got} vs {rmse}");
}

fn check_glm_deviance(report: &TrainReport, data: &str, reference: f64) {
    let data = repo().join("examples/data").join(data);
    let metrics = commands::eval(&report.run_dir, &data, None).unwrap();
    let deviance = metrics["deviance"];
    assert!(
        deviance <= reference * 1.01,
        "deviance {deviance} vs {reference}"
    );
}

/// scikit-learn 1.9.1's `KMeans(3, n_init=10)` on standardized iris reaches inertia 139.8205
/// (ARI 0.620) for random states 0-2. kiln's seeds land in that optimum or the neighbouring one
/// at 140.03 (ARI 0.592): inertia within 0.2% of scikit-learn's best.
fn check_iris_kmeans(inertia: f64, adjusted_rand_index: f64) {
    assert!(inertia <= 139.8205 * 1.002, "inertia {inertia}");
    assert!(
        adjusted_rand_index >= 0.55,
        "adjusted Rand index {adjusted_rand_index}"
    );
}

#[test]
fn every_shipped_config_trains_on_every_compiled_backend() {
    let dir = tempfile::tempdir().unwrap();
    let mut configs: Vec<PathBuf> = std::fs::read_dir(repo().join("configs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    configs.sort();
    assert!(configs.len() >= 5, "{configs:?}");
    for path in &configs {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        for backend in kiln_backends::compiled() {
            let out = dir.path().join(format!("{name}-{backend}"));
            let report = train(path, backend, &out, &[]);
            check_quality(&name, &report);
            for file in [
                "config.toml",
                "model.bpk",
                "model.json",
                "metrics.jsonl",
                "summary.json",
                "training.png",
            ] {
                assert!(out.join(file).is_file(), "{name} on {backend}: no {file}");
            }
            let png = std::fs::read(out.join("training.png")).unwrap();
            assert!(
                png.starts_with(b"\x89PNG") && png.len() > 10_000,
                "{name}: plot"
            );
            let lines = std::fs::read_to_string(out.join("metrics.jsonl")).unwrap();
            assert_eq!(
                lines.lines().count(),
                report.summary.epochs,
                "{name} on {backend}"
            );
            for line in lines.lines() {
                let record: serde_json::Value = serde_json::from_str(line).unwrap();
                assert!(record["train_loss"].as_f64().unwrap().is_finite(), "{line}");
            }
            assert!(report.summary.fit_seconds > 0.0 && report.summary.load_seconds > 0.0);
        }
    }
}

/// Every compiled backend trains the same model from the same seed to the same result, within
/// 1e-3 on each metric (f32 sums in a different order are the only difference).
#[test]
fn backends_agree_on_the_same_seed() {
    const TOLERANCE: f64 = 1e-3;
    let dir = tempfile::tempdir().unwrap();
    let runs: [(&str, &[&str]); 6] = [
        ("iris-logistic.toml", &["train.epochs=30"]),
        ("diabetes-ridge.toml", &[]),
        ("iris-kmeans.toml", &[]),
        ("iris-gmm.toml", &[]),
        ("iris-rbf-svm.toml", &[]),
        ("sine-gp.toml", &[]),
    ];
    for (name, set) in runs {
        let mut reference: Option<(BackendKind, kiln_trainer::train::Metrics)> = None;
        for backend in kiln_backends::compiled() {
            let out = dir.path().join(format!("{name}-{backend}"));
            let report = train(&config(name), backend, &out, set);
            // The clusterings hold out no rows; their metrics are on the training rows.
            let metrics = match report.summary.valid.is_empty() {
                true => report.summary.train.clone(),
                false => report.summary.valid.clone(),
            };
            match &reference {
                None => reference = Some((backend, metrics)),
                Some((first, want)) => {
                    for (key, value) in want {
                        let got = metrics[key];
                        let scale = value.abs().max(1.0);
                        assert!(
                            (got - value).abs() <= TOLERANCE * scale,
                            "{name}: {key} is {got} on {backend} but {value} on {first}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn train_eval_predict_through_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let cfg = config("iris-logistic.toml");
    let out = kiln_ok(
        &[
            "train",
            cfg.to_str().unwrap(),
            "--out",
            run.to_str().unwrap(),
            "--set",
            "train.epochs=60",
        ],
        dir.path(),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("trained logistic_regression on flex") && stdout.contains("accuracy"),
        "{stdout}"
    );

    let resolved = std::fs::read_to_string(run.join("config.toml")).unwrap();
    assert!(resolved.contains("epochs = 60"), "{resolved}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("summary.json")).unwrap()).unwrap();
    for key in ["load_seconds", "fit_seconds"] {
        assert!(summary[key].as_f64().unwrap() > 0.0, "{summary}");
    }

    let iris = repo().join("examples/data/iris.csv");
    let metrics = eval_json(&run, &iris, dir.path());
    assert!(metrics["accuracy"].as_f64().unwrap() >= 0.93, "{metrics}");
    assert!(metrics["log_loss"].as_f64().unwrap() < 0.5, "{metrics}");
    assert_eq!(metrics["rows"].as_f64().unwrap(), 150.0);

    let pred = dir.path().join("pred.csv");
    kiln_ok(
        &[
            "predict",
            "--model",
            run.to_str().unwrap(),
            "--data",
            iris.to_str().unwrap(),
            "--out",
            pred.to_str().unwrap(),
        ],
        dir.path(),
    );
    let text = std::fs::read_to_string(&pred).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "prediction,proba_setosa,proba_versicolor,proba_virginica"
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 150);
    let truth: Vec<String> = std::fs::read_to_string(&iris)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap().to_owned())
        .collect();
    let correct = rows
        .iter()
        .zip(&truth)
        .filter(|(row, label)| row.split(',').next().unwrap() == label.as_str())
        .count();
    assert!(correct as f64 / 150.0 >= 0.93, "{correct}/150 correct");
    for row in &rows {
        let p: f64 = row
            .split(',')
            .skip(1)
            .map(|v| v.parse::<f64>().unwrap())
            .sum();
        assert!((p - 1.0).abs() < 1e-4, "{row}");
    }

    let out = kiln_ok(&["backends"], dir.path());
    let listing = String::from_utf8_lossy(&out.stdout);
    for backend in kiln_backends::compiled() {
        assert!(
            listing
                .lines()
                .any(|l| l.starts_with(backend.name()) && l.contains("works")),
            "{listing}"
        );
    }
    assert!(
        listing.contains("vulkan   absent  not compiled in; rebuild with `--features vulkan`"),
        "{listing}"
    );
}

#[test]
fn regression_eval_reports_mse_mae_r2() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("ols");
    train(&config("diabetes-ols.toml"), BackendKind::Flex, &run, &[]);
    let data = repo().join("examples/data/diabetes.csv");
    let metrics = commands::eval(&run, &data, None).unwrap();
    // OLS on the full diabetes data: scikit-learn's LinearRegression fitted on all rows reaches
    // R² = 0.518; kiln fitted on 80% of them is a little below on all rows.
    assert!(metrics["r2"] > 0.49 && metrics["r2"] < 0.52, "{metrics:?}");
    assert!(metrics["mse"] > 0.0 && metrics["mae"] > 0.0);
}

/// Writes `files` into a fresh directory and returns it.
fn workspace(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

const GOOD_CONFIG: &str = "[data]\ntrain = \"d.csv\"\ntarget = \"label\"\nvalid_fraction = 0.25\n\n[model]\nkind = \"logistic_regression\"\n\n[train]\nepochs = 2\n";
const GOOD_DATA: &str = "a,b,label\n1,2,x\n2,1,y\n3,3,x\n4,1,y\n5,2,x\n6,0,y\n7,1,x\n8,2,y\n";

/// A bad-input case: its name, the files written, the extra arguments to `kiln train`, and what
/// the one error line must contain.
type BadInput<'a> = (&'a str, Vec<(&'a str, &'a str)>, Vec<&'a str>, Vec<&'a str>);

/// Each bad input ends in one error line naming the place and the fix, and leaves no run.
#[test]
fn bad_input_gives_one_clear_line_and_exit_code_1() {
    let unknown_key = GOOD_CONFIG.replace("epochs = 2", "epochz = 2");
    let bad_toml = GOOD_CONFIG.replace("[model]", "[model");
    let one_class = "a,b,label\n1,2,x\n2,1,x\n3,3,x\n4,1,x\n5,2,x\n";
    let misspelt_target = GOOD_CONFIG.replace("\"label\"", "\"lable\"");
    let negative_l2 = GOOD_CONFIG.replace(
        "kind = \"logistic_regression\"",
        "kind = \"logistic_regression\"\nl2 = -1",
    );
    let linear_on_labels = GOOD_CONFIG.replace("logistic_regression", "linear_regression");
    let misspelt_kernel = "[data]\ntrain = \"d.csv\"\ntarget = \"b\"\n\n[model]\nkind = \"gaussian_process\"\nkernel = \"1.0 * RBG(1.0)\"\n";
    let cases: Vec<BadInput> = vec![
        (
            "missing config",
            vec![],
            vec![],
            vec!["cannot read config", "c.toml", "check the path"],
        ),
        (
            "missing data",
            vec![("c.toml", GOOD_CONFIG)],
            vec![],
            vec!["cannot read data file", "d.csv"],
        ),
        (
            "malformed TOML",
            vec![("c.toml", &bad_toml), ("d.csv", GOOD_DATA)],
            vec![],
            vec!["unclosed table", "c.toml:6:7"],
        ),
        (
            "unknown key",
            vec![("c.toml", &unknown_key), ("d.csv", GOOD_DATA)],
            vec![],
            vec![
                "unknown key `epochz`",
                "c.toml:10:1",
                "did you mean `epochs`?",
            ],
        ),
        (
            "short row",
            vec![
                ("c.toml", GOOD_CONFIG),
                ("d.csv", "a,b,label\n1,2,x\n2,y\n"),
            ],
            vec![],
            vec!["row has 2 fields but the header has 3", "d.csv:3;"],
        ),
        (
            "non-numeric cell",
            vec![
                ("c.toml", GOOD_CONFIG),
                ("d.csv", "a,b,label\n1,2,x\n2,two,y\n"),
            ],
            vec![],
            vec!["column `b` holds `two`", "d.csv:3;"],
        ),
        (
            "NaN cell",
            vec![
                ("c.toml", GOOD_CONFIG),
                ("d.csv", "a,b,label\n1,2,x\nNaN,1,y\n"),
            ],
            vec![],
            vec!["column `a` holds `NaN`", "d.csv:3;"],
        ),
        (
            "infinite cell",
            vec![
                ("c.toml", GOOD_CONFIG),
                ("d.csv", "a,b,label\n1,-inf,x\n2,1,y\n"),
            ],
            vec![],
            vec!["holds `-inf`", "d.csv:2;"],
        ),
        (
            "unknown target column",
            vec![("c.toml", &misspelt_target), ("d.csv", GOOD_DATA)],
            vec![],
            vec![
                "no target column `lable`",
                "d.csv:1;",
                "did you mean `label`?",
            ],
        ),
        (
            "one class",
            vec![("c.toml", GOOD_CONFIG), ("d.csv", one_class)],
            vec![],
            vec![
                "needs at least 2 classes in the target column, found 1",
                "d.csv",
            ],
        ),
        (
            "backend not compiled in",
            vec![("c.toml", GOOD_CONFIG), ("d.csv", GOOD_DATA)],
            vec!["--backend", "vulkan"],
            vec![
                "backend `vulkan` is not compiled into this build; rebuild with `--features vulkan`",
            ],
        ),
        (
            "unknown backend",
            vec![("c.toml", GOOD_CONFIG), ("d.csv", GOOD_DATA)],
            vec!["--backend", "cuda"],
            vec!["unknown backend `cuda`", "c.toml"],
        ),
        (
            "negative penalty",
            vec![("c.toml", &negative_l2), ("d.csv", GOOD_DATA)],
            vec![],
            vec!["`l2` must be >= 0, got -1", "c.toml:8:1"],
        ),
        (
            "unknown kernel",
            vec![
                ("c.toml", misspelt_kernel),
                ("d.csv", "a,b\n1,2\n2,1\n3,3\n4,1\n5,2\n"),
            ],
            vec![],
            vec![
                "unknown kernel `RBG`; kernels are RBF, Matern, DotProduct",
                "at column 7",
                "c.toml:7:1",
            ],
        ),
        (
            "regression on labels",
            vec![("c.toml", &linear_on_labels), ("d.csv", GOOD_DATA)],
            vec![],
            vec![
                "target column `label` holds `x`, which is not a finite number",
                "d.csv:2;",
            ],
        ),
        (
            "diverging loss",
            vec![
                ("c.toml", GOOD_CONFIG),
                ("d.csv", "a,b,label\n1,2,x\n2,1,y\n3,3,x\n4,1,y\n"),
            ],
            vec![
                // No checkpoint before the end: nothing is worth keeping.
                "--set",
                "train.checkpoint_every=0",
                "--set",
                "train.optimizer={ kind = \"adam\", learning_rate = 1e38 }",
                "--set",
                "data.standardize=false",
                "--set",
                "model.l2=1e30",
            ],
            vec![
                "the training loss became",
                "at epoch 2",
                "lower `train.optimizer.learning_rate`",
            ],
        ),
    ];
    for (what, files, extra, expected) in cases {
        let dir = workspace(&files);
        let mut args = vec!["train", "c.toml", "--out", "run"];
        args.extend(extra);
        let line = kiln_error(&args, dir.path());
        for needle in expected {
            assert!(line.contains(needle), "{what}: `{needle}` not in: {line}");
        }
        assert!(
            !dir.path().join("run").exists(),
            "{what}: a run directory was left behind"
        );
        assert!(
            !dir.path().join("run.partial").exists(),
            "{what}: a partial run was left behind"
        );
    }
}

#[test]
fn eval_and_predict_reject_bad_runs_and_data() {
    let dir = workspace(&[
        ("c.toml", GOOD_CONFIG),
        ("d.csv", GOOD_DATA),
        ("other.csv", "a,c,label\n1,2,x\n"),
    ]);
    let line = kiln_error(
        &["eval", "--model", "nowhere", "--data", "d.csv"],
        dir.path(),
    );
    assert!(
        line.contains("not a completed kiln run (no summary.json)") && line.contains("nowhere"),
        "{line}"
    );
    kiln_ok(&["train", "c.toml", "--out", "run"], dir.path());
    let line = kiln_error(
        &["predict", "--model", "run", "--data", "other.csv"],
        dir.path(),
    );
    assert!(
        line.contains("no feature column `b`") && line.contains("other.csv:1"),
        "{line}"
    );
    let line = kiln_error(&["train", "c.toml", "--out", "run"], dir.path());
    assert!(line.contains("already exists and is not empty"), "{line}");
}

/// Trains `iris-logistic.toml` on flex into `dir/name` with `set`; the held-out accuracy.
fn iris_accuracy(dir: &Path, name: &str, set: &[&str]) -> f64 {
    let report = train(
        &config("iris-logistic.toml"),
        BackendKind::Flex,
        &dir.join(name),
        set,
    );
    report.summary.valid["accuracy"]
}

/// Each of burn's optimizers kiln exposes trains multinomial logistic regression on iris.
#[test]
fn every_optimizer_trains_iris() {
    let dir = tempfile::tempdir().unwrap();
    let optimizers = [
        r#"{ kind = "sgd", learning_rate = 0.1 }"#,
        r#"{ kind = "sgd", learning_rate = 0.05, momentum = 0.9, nesterov = true, weight_decay = 1e-4 }"#,
        r#"{ kind = "adam", learning_rate = 0.05, weight_decay = 1e-4 }"#,
        r#"{ kind = "adamw", learning_rate = 0.05, weight_decay = 1e-2 }"#,
    ];
    for (i, optimizer) in optimizers.iter().enumerate() {
        let set = format!("train.optimizer={optimizer}");
        let accuracy = iris_accuracy(dir.path(), &format!("run{i}"), &[&set, "train.epochs=100"]);
        assert!(accuracy >= 0.9, "{optimizer}: accuracy {accuracy}");
        let resolved =
            std::fs::read_to_string(dir.path().join(format!("run{i}/config.toml"))).unwrap();
        let kind = optimizer.split('"').nth(1).unwrap();
        assert!(
            resolved.contains(&format!("kind = \"{kind}\"")),
            "{resolved}"
        );
    }
}

/// k-means through the binary: `eval` reports inertia and the adjusted Rand index against the
/// label column, `predict` writes one cluster index per row.
#[test]
fn kmeans_eval_and_predict_through_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("km");
    let cfg = config("iris-kmeans.toml");
    kiln_ok(
        &[
            "train",
            cfg.to_str().unwrap(),
            "--out",
            run.to_str().unwrap(),
        ],
        dir.path(),
    );
    let iris = repo().join("examples/data/iris.csv");
    let metrics = eval_json(&run, &iris, dir.path());
    check_iris_kmeans(
        metrics["inertia"].as_f64().unwrap(),
        metrics["adjusted_rand_index"].as_f64().unwrap(),
    );
    // scikit-learn 1.9.1 `silhouette_score` of `KMeans(3, n_init=1, random_state=rs)` on
    // standardized iris: 0.45995 at inertia 139.8205 (rs 0, 3) and 0.46304 at 140.0328 (rs 6),
    // the two optima kiln lands in.
    let silhouette = metrics["silhouette"].as_f64().unwrap();
    assert!(
        (0.4595..=0.4635).contains(&silhouette),
        "silhouette {silhouette}"
    );

    let out = kiln_ok(
        &[
            "predict",
            "--model",
            run.to_str().unwrap(),
            "--data",
            iris.to_str().unwrap(),
        ],
        dir.path(),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("cluster"));
    let clusters: Vec<usize> = lines.map(|l| l.parse().unwrap()).collect();
    assert_eq!(clusters.len(), 150);
    let mut seen = clusters.clone();
    seen.sort();
    seen.dedup();
    assert_eq!(seen, [0, 1, 2]);
}

/// Every line of a run's metrics.jsonl without its wall-clock field.
fn metrics_without_times(run: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(run.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|line| {
            let mut record: serde_json::Value = serde_json::from_str(line).unwrap();
            record.as_object_mut().unwrap().remove("elapsed_seconds");
            record
        })
        .collect()
}

fn as_str(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// Starts `kiln train` and waits until its partial run has logged `epochs` epochs.
fn start_and_wait_for_epochs(
    args: &[&str],
    dir: &Path,
    run: &Path,
    epochs: usize,
) -> std::process::Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(args)
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let log = PathBuf::from(format!("{}.partial/metrics.jsonl", run.display()));
    loop {
        let logged = std::fs::read_to_string(&log).map_or(0, |t| t.lines().count());
        if logged >= epochs {
            return child;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("kiln ended ({status}) before epoch {epochs}: raise train.epochs");
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// A run killed with SIGKILL in the middle of training, or stopped by Ctrl-C (SIGINT) in the
/// middle of an epoch, and then resumed, ends with the same weights, byte for byte, and the
/// same metrics as a run never stopped (same seed, same backend). The MLP config has dropout,
/// a cosine schedule with warm-up and early-stopping state: all of it must survive.
#[test]
fn killed_or_interrupted_runs_resume_bit_identical() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config("digits-mlp.toml");
    let cfg = cfg.to_str().unwrap();
    let run = |name: &str| dir.path().join(name);
    let args = |out: &Path| -> Vec<String> {
        ["train", cfg, "--out", out.to_str().unwrap()]
            .into_iter()
            .map(String::from)
            .chain(
                [
                    "--set",
                    "train.epochs=30",
                    "--set",
                    "train.checkpoint_every=1",
                ]
                .map(String::from),
            )
            .collect()
    };

    let whole = run("whole");
    kiln_ok(&as_str(&args(&whole)), dir.path());
    let want_model = std::fs::read(whole.join("model.bpk")).unwrap();
    let want_metrics = metrics_without_times(&whole);
    assert_eq!(want_metrics.len(), 30);

    // SIGKILL: the process dies at once, wherever it is.
    let killed = run("killed");
    let mut child = start_and_wait_for_epochs(&as_str(&args(&killed)), dir.path(), &killed, 3);
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!killed.exists());
    assert!(run("killed.partial").join("checkpoint.kiln").is_file());
    kiln_ok(&["train", "--resume", killed.to_str().unwrap()], dir.path());

    // SIGINT: kiln stops after the current step (mid-epoch), writes a checkpoint, exits 130.
    // Named as `kiln train` names runs by default (runs/<config name>), for `--resume` alone.
    let stopped = run("runs/digits-mlp");
    let child = start_and_wait_for_epochs(&as_str(&args(&stopped)), dir.path(), &stopped, 2);
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("interrupted at epoch") && stderr.contains("kiln train --resume"),
        "{stderr}"
    );
    // `--resume` alone finds the latest stopped run of the config under runs/.
    kiln_ok(&["train", cfg, "--resume"], dir.path());

    for resumed in [killed, stopped] {
        assert_eq!(
            std::fs::read(resumed.join("model.bpk")).unwrap(),
            want_model,
            "{}: weights differ from the uninterrupted run",
            resumed.display()
        );
        assert_eq!(metrics_without_times(&resumed), want_metrics);
        assert!(!PathBuf::from(format!("{}.partial", resumed.display())).exists());
        assert!(resumed.join("training.png").is_file());
    }
    let line = kiln_error(&["train", "--resume", whole.to_str().unwrap()], dir.path());
    assert!(line.contains("this run is complete"), "{line}");
}

/// A loss that diverges after some epochs stops the run with the epoch and step and keeps the
/// last good checkpoint; resuming from it replays the same steps to the same failure.
#[test]
fn divergence_keeps_the_last_good_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config("diabetes-sgd.toml");
    let run = dir.path().join("run");
    // The warm-up ramps the learning rate up to 5, far past what SGD with momentum survives.
    let args = [
        "--set",
        "train.optimizer.learning_rate=5.0",
        "--set",
        "train.warmup_epochs=100",
        "--set",
        "train.early_stopping.patience=1000",
    ];
    let mut first = vec![
        "train",
        cfg.to_str().unwrap(),
        "--out",
        run.to_str().unwrap(),
    ];
    first.extend(args);
    let line = kiln_error(&first, dir.path());
    assert!(
        line.contains("the training loss became")
            && line.contains(", step ")
            && line.contains("lower `train.optimizer.learning_rate`")
            && line.contains("kiln train --resume"),
        "{line}"
    );
    let epoch: usize = line
        .split("at epoch ")
        .nth(1)
        .and_then(|r| r.split(',').next())
        .and_then(|e| e.parse().ok())
        .unwrap_or_else(|| panic!("no epoch in: {line}"));
    assert!(epoch >= 2, "{line}");
    assert!(
        line.contains(&format!(
            "the last good checkpoint (epoch {}) is kept",
            epoch - 1
        )),
        "{line}"
    );
    let partial = dir.path().join("run.partial");
    assert!(partial.join("checkpoint.kiln").is_file());
    let logged = metrics_without_times(&partial);
    assert_eq!(logged.len(), epoch - 1);
    assert!(
        logged
            .iter()
            .all(|r| r["train_loss"].as_f64().unwrap().is_finite())
    );
    let again = kiln_error(&["train", "--resume", run.to_str().unwrap()], dir.path());
    let cut = |l: &str| l.split("; ").next().unwrap().to_owned();
    assert_eq!(cut(&again), cut(&line));
}

/// Schedules, warm-up, gradient clipping and RMSprop each train; reduce-on-plateau lowers the
/// rate once the loss stalls; early stopping on a maximised metric keeps its best epoch.
#[test]
fn schedules_clipping_and_early_stopping_on_a_metric() {
    let dir = tempfile::tempdir().unwrap();
    let schedules = [
        r#"{ kind = "step", every = 20, gamma = 0.5 }"#,
        r#"{ kind = "exponential", gamma = 0.98 }"#,
        r#"{ kind = "cosine", min_lr = 0.001 }"#,
        r#"{ kind = "plateau", factor = 0.5, patience = 2 }"#,
    ];
    for (i, schedule) in schedules.iter().enumerate() {
        let set = format!("train.schedule={schedule}");
        let accuracy = iris_accuracy(
            dir.path(),
            &format!("s{i}"),
            &[
                &set,
                "train.epochs=60",
                "train.warmup_epochs=3",
                "train.grad_clip_norm=1.0",
                "train.optimizer={ kind = \"rmsprop\", learning_rate = 0.02 }",
            ],
        );
        assert!(accuracy >= 0.9, "{schedule}: accuracy {accuracy}");
    }

    let report = train(
        &config("iris-logistic.toml"),
        BackendKind::Flex,
        &dir.path().join("early"),
        &[
            "train.early_stopping={ metric = \"accuracy\", patience = 5 }",
            "train.epochs=500",
        ],
    );
    assert!(report.summary.stopped_early && report.summary.epochs < 500);
    let history = metrics_without_times(&report.run_dir);
    let best = history
        .iter()
        .map(|r| r["valid"]["accuracy"].as_f64().unwrap())
        .fold(0.0, f64::max);
    // The kept model is the best epoch's: its accuracy is the best the history saw.
    assert!((report.summary.valid["accuracy"] - best).abs() < 1e-9);

    let bad = workspace(&[
        (
            "c.toml",
            &GOOD_CONFIG.replace(
                "epochs = 2",
                "epochs = 2\nearly_stopping = { patience = 2, metric = \"r2\" }",
            ),
        ),
        ("d.csv", GOOD_DATA),
    ]);
    let line = kiln_error(&["train", "c.toml", "--out", "run"], bad.path());
    assert!(
        line.contains("early stopping cannot watch `r2`")
            && line.contains("accuracy, log_loss")
            && line.contains("c.toml:11"),
        "{line}"
    );
    let line = kiln_error(
        &[
            "train",
            "c.toml",
            "--out",
            "run",
            "--set",
            "train.early_stopping.metric=\"accuracy\"",
            "--set",
            "train.schedule={ kind = \"step\", every = 0, gamma = 0.5 }",
        ],
        bad.path(),
    );
    assert!(
        line.contains("`step` needs `every` >= 1") && line.contains("c.toml:"),
        "{line}"
    );
}

/// k-means and the Gaussian mixture at the size issue 6 sets, on every backend: k = 8 on
/// 100,000 × 10 blobs. k-means, well separated (std 1.0): every blob found (adjusted Rand
/// index 1); overlapping (std 4.0): inertia within 0.1% of scikit-learn's best of `n_init = 10`.
/// GMM, both spreads and both covariance types: mean log-likelihood within 1e-3 (relative) of
/// scikit-learn's `GaussianMixture`.
#[test]
fn clusterings_at_100k_rows_match_scikit_learn() {
    // References: `python3 benches/peers/kmeans_reference.py` writes the same CSV byte for byte
    // and fits scikit-learn 1.9.1's `KMeans(8, n_init=10)` with random states 0-4: inertia
    // 15,936,394 to 15,936,428; the best is the bar. `python3 benches/peers/gmm_reference.py`
    // fits `GaussianMixture(8, covariance_type=...)` (n_init 1 on std 1.0, 5 on std 4.0; random
    // states 0-2 all agree): the mean log-likelihoods below.
    const SKLEARN_BEST_INERTIA: f64 = 15_936_394.0;
    const SKLEARN_GMM: [(f64, &str, f64); 4] = [
        (1.0, "full", -16.275_932),
        (1.0, "diag", -16.277_731),
        (4.0, "full", -30.089_470),
        (4.0, "diag", -30.091_181),
    ];
    let dir = tempfile::tempdir().unwrap();
    let write_config = |name: &str, model: &str| {
        let config = dir.path().join(format!("{name}.toml"));
        std::fs::write(
            &config,
            format!(
                "[data]\ntrain = \"{name}.csv\"\ntarget = \"y\"\nvalid_fraction = 0\n\
                 standardize = false\n[model]\n{model}\n\
                 [train]\nepochs = 3000\ncheckpoint_every = 0\n"
            ),
        )
        .unwrap();
        config
    };
    // One k-means++ start finds separated blobs; overlapping ones get scikit-learn's 10.
    for (name, spread, n_init) in [("separated", 1.0, 1), ("overlapping", 4.0, 10)] {
        kiln_model_zoo::synthetic::write_blobs_csv(
            &dir.path().join(format!("{name}.csv")),
            100_000,
            10,
            8,
            spread,
            3,
        )
        .unwrap();
        let kmeans = write_config(
            name,
            &format!("kind = \"kmeans\"\nk = 8\nn_init = {n_init}"),
        );
        for backend in kiln_backends::compiled() {
            let out = dir.path().join(format!("{name}-{backend}"));
            let train = &train(&kmeans, backend, &out, &[]).summary.train;
            if spread == 1.0 {
                assert_eq!(train["adjusted_rand_index"], 1.0, "{backend}: {train:?}");
            } else {
                let inertia = train["inertia"];
                assert!(
                    inertia <= SKLEARN_BEST_INERTIA * 1.001,
                    "{backend}: inertia {inertia} vs scikit-learn's {SKLEARN_BEST_INERTIA}"
                );
            }
        }
        for (_, covariance, want) in SKLEARN_GMM.iter().filter(|(s, ..)| *s == spread) {
            let gmm = write_config(
                name,
                &format!("kind = \"gmm\"\nk = 8\ncovariance_type = \"{covariance}\""),
            );
            for backend in kiln_backends::compiled() {
                let out = dir
                    .path()
                    .join(format!("{name}-gmm-{covariance}-{backend}"));
                let train = &train(&gmm, backend, &out, &[]).summary.train;
                let got = train["log_likelihood"];
                assert!(
                    (got - want).abs() <= 1e-3 * want.abs(),
                    "{name} {covariance} on {backend}: mean log-likelihood {got} vs \
                     scikit-learn's {want}"
                );
            }
        }
    }
}

/// A binary SVM's `predict` writes the label and its decision score, the label being class 1
/// exactly where the score is positive.
#[test]
fn svm_predict_writes_labels_and_decision_scores() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("svm");
    train(
        &config("margin-svm.toml"),
        BackendKind::Flex,
        &run,
        &["train.epochs=5"],
    );
    let mut out = Vec::new();
    let data = repo().join("examples/data/margin-test.csv");
    let rows = commands::predict(&run, &data, None, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("prediction,decision"));
    let body: Vec<&str> = lines.collect();
    assert_eq!((rows, body.len()), (1000, 1000));
    for line in body {
        let (label, score) = line.split_once(',').unwrap();
        let score: f64 = score.parse().unwrap();
        assert_eq!(label, if score > 0.0 { "1" } else { "0" }, "{line}");
    }
}

/// A mixture's `predict` writes the most probable component and every component's probability,
/// each row a distribution.
#[test]
fn gmm_predict_writes_clusters_and_probabilities() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("gmm");
    train(&config("iris-gmm.toml"), BackendKind::Flex, &run, &[]);
    let mut out = Vec::new();
    let data = repo().join("examples/data/iris.csv");
    let rows = commands::predict(&run, &data, None, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("cluster,proba_0,proba_1,proba_2"));
    let body: Vec<&str> = lines.collect();
    assert_eq!((rows, body.len()), (150, 150));
    for line in body {
        let cells: Vec<&str> = line.split(',').collect();
        let proba: Vec<f64> = cells[1..].iter().map(|c| c.parse().unwrap()).collect();
        assert!((proba.iter().sum::<f64>() - 1.0).abs() < 1e-5, "{line}");
        let most_probable = (0..3)
            .max_by(|&a, &b| proba[a].total_cmp(&proba[b]))
            .unwrap();
        assert_eq!(cells[0], most_probable.to_string(), "{line}");
    }
}

/// A Gaussian process's `predict` writes the predictive mean and standard deviation; the std
/// is small at the training rows and grows far from them.
#[test]
fn gaussian_process_predict_writes_mean_and_std() {
    let dir = workspace(&[("far.csv", "x,y\n5.0,0\n40.0,0\n")]);
    let run = dir.path().join("gp");
    train(&config("sine-gp.toml"), BackendKind::Flex, &run, &[]);
    let mut out = Vec::new();
    let rows = commands::predict(&run, &dir.path().join("far.csv"), None, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("prediction,std"));
    let rows_read: Vec<(f64, f64)> = lines
        .map(|l| {
            let (m, s) = l.split_once(',').unwrap();
            (m.parse().unwrap(), s.parse().unwrap())
        })
        .collect();
    assert_eq!((rows, rows_read.len()), (2, 2));
    // Inside the data: close to sin(5) = -0.959, the std near the noise level √0.0828 = 0.288.
    let (mean, std) = rows_read[0];
    assert!((mean - 5.0f64.sin()).abs() < 0.2, "{text}");
    assert!(std > 0.25 && std < 0.35, "{text}");
    // Far away: back to the prior, mean 0 and std √(0.4749 + 0.0828) = 0.747.
    let (mean, std) = rows_read[1];
    assert!(mean.abs() < 1e-3 && (std - 0.747).abs() < 0.01, "{text}");
}

/// Writes the first `rows` data rows of a CSV to `train`, the rest to `valid`, each with the
/// header.
fn split_csv(source: &Path, rows: usize, train: &Path, valid: &Path) {
    let text = std::fs::read_to_string(source).unwrap();
    let (header, body) = text.split_once('\n').unwrap();
    let lines: Vec<&str> = body.lines().collect();
    let (first, rest) = lines.split_at(rows);
    for (path, part) in [(train, first), (valid, rest)] {
        std::fs::write(path, format!("{header}\n{}\n", part.join("\n"))).unwrap();
    }
}

fn summary(run: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(run.join("summary.json")).unwrap()).unwrap()
}

/// `[data] chunk_rows`: training from a file read a chunk at a time. Streamed logistic
/// regression learns as well as from the file loaded whole; a file that fits one chunk trains to
/// the same bytes as when loaded whole; a run interrupted mid-epoch resumes to the same bytes as
/// one never stopped; peak memory does not grow with the file; `kiln predict` streams large
/// files; mini-batch k-means streams too;
/// models that need every row at once are refused with the fix.
#[test]
fn streamed_training_from_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name);
    kiln_model_zoo::synthetic::write_synthetic_csv(&path("all.csv"), 26_000, 32, 3, 21).unwrap();
    split_csv(
        &path("all.csv"),
        24_000,
        &path("train.csv"),
        &path("valid.csv"),
    );
    let write_config = |name: &str, train: &str, chunk_rows: Option<usize>| {
        let chunk = chunk_rows.map_or(String::new(), |c| format!("chunk_rows = {c}\n"));
        std::fs::write(
            path(name),
            format!(
                "[data]\ntrain = \"{train}\"\nvalid = \"valid.csv\"\ntarget = \"y\"\n{chunk}\
                 [model]\nkind = \"logistic_regression\"\n\
                 [train]\nepochs = 4\nbatch_size = 128\n\
                 optimizer = {{ kind = \"adam\", learning_rate = 0.01 }}\n"
            ),
        )
        .unwrap();
        path(name)
    };
    let train_run = |config: &Path, run: &str| {
        let out = path(run);
        kiln_ok(
            &[
                "train",
                config.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ],
            dir.path(),
        );
        out
    };
    let accuracy = |run: &Path| summary(run)["valid"]["accuracy"].as_f64().unwrap();

    // Eight chunks of 3,000 rows against the whole file.
    let resident = train_run(
        &write_config("resident.toml", "train.csv", None),
        "resident",
    );
    let streamed = train_run(
        &write_config("streamed.toml", "train.csv", Some(3_000)),
        "streamed",
    );
    let (a_resident, a_streamed) = (accuracy(&resident), accuracy(&streamed));
    assert!(a_resident > 0.8, "resident accuracy {a_resident}");
    assert!(
        (a_streamed - a_resident).abs() <= 0.01,
        "streamed {a_streamed} vs resident {a_resident}"
    );
    let train_metrics = &summary(&streamed)["train"];
    assert_eq!(summary(&streamed)["n_train"], 24_000);
    assert!(
        train_metrics["accuracy"].as_f64().unwrap() > 0.8
            && train_metrics["log_loss"].as_f64().unwrap() > 0.0,
        "{train_metrics}"
    );

    // One chunk holding the whole file: the same bytes as loading it whole.
    let one_chunk = train_run(
        &write_config("one-chunk.toml", "train.csv", Some(1_000_000)),
        "one-chunk",
    );
    assert_eq!(
        std::fs::read(one_chunk.join("model.bpk")).unwrap(),
        std::fs::read(resident.join("model.bpk")).unwrap()
    );
    assert_eq!(summary(&one_chunk)["train"], summary(&resident)["train"]);

    // Ctrl-C mid-epoch, then --resume: the chunks trained before the stop are skipped, and the
    // run ends with the uninterrupted run's bytes.
    let stopped = path("stopped");
    let streamed_config = path("streamed.toml");
    let args = [
        "train",
        streamed_config.to_str().unwrap(),
        "--out",
        stopped.to_str().unwrap(),
    ];
    let child = start_and_wait_for_epochs(&args, dir.path(), &stopped, 1);
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    kiln_ok(
        &["train", "--resume", stopped.to_str().unwrap()],
        dir.path(),
    );
    assert_eq!(
        std::fs::read(stopped.join("model.bpk")).unwrap(),
        std::fs::read(streamed.join("model.bpk")).unwrap()
    );
    assert_eq!(
        metrics_without_times(&stopped),
        metrics_without_times(&streamed)
    );

    // Eight times the rows (a 60 MB file, 25 MB as f32): peak memory stays where it was.
    kiln_model_zoo::synthetic::write_synthetic_csv(&path("big.csv"), 192_000, 32, 3, 21).unwrap();
    let big = train_run(&write_config("big.toml", "big.csv", Some(3_000)), "big");
    let rss = |run: &Path| summary(run)["peak_rss_bytes"].as_f64().unwrap() / 1e6;
    let (small_rss, big_rss) = (rss(&streamed), rss(&big));
    assert!(
        big_rss < small_rss + 8.0,
        "peak RSS {big_rss:.1} MB on 192,000 rows vs {small_rss:.1} MB on 24,000"
    );
    assert_eq!(summary(&big)["n_train"], 192_000);
    // `kiln predict` goes through a file a chunk of 65,536 rows at a time too: one header,
    // one line per row, and the rows of a later chunk predicted as a file of their own is.
    let predictions = |data: &Path, out: &str| {
        kiln_ok(
            &[
                "predict",
                "--model",
                big.to_str().unwrap(),
                "--data",
                data.to_str().unwrap(),
                "--out",
                path(out).to_str().unwrap(),
            ],
            dir.path(),
        );
        std::fs::read_to_string(path(out)).unwrap()
    };
    let all = predictions(&path("big.csv"), "big-predictions.csv");
    let lines: Vec<&str> = all.lines().collect();
    assert_eq!(lines.len(), 192_001);
    assert!(lines[0].starts_with("prediction,proba_"), "{}", lines[0]);
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("prediction")).count(),
        1
    );
    let text = std::fs::read_to_string(path("big.csv")).unwrap();
    let rows: Vec<&str> = text.lines().collect();
    std::fs::write(
        path("tail.csv"),
        format!("{}\n{}\n", rows[0], rows[150_001..].join("\n")),
    )
    .unwrap();
    let tail = predictions(&path("tail.csv"), "tail-predictions.csv");
    assert_eq!(tail.lines().skip(1).collect::<Vec<_>>(), lines[150_001..]);

    // Mini-batch k-means from chunks of 5,000 rows finds all eight blobs.
    kiln_model_zoo::synthetic::write_blobs_csv(&path("blobs.csv"), 40_000, 10, 8, 1.0, 3).unwrap();
    let kmeans = |name: &str, model: &str| {
        std::fs::write(
            path(name),
            format!(
                "[data]\ntrain = \"blobs.csv\"\ntarget = \"y\"\nstandardize = false\n\
                 chunk_rows = 5000\n[model]\n{model}\n[train]\nepochs = 50\n"
            ),
        )
        .unwrap();
        path(name)
    };
    let clusters = train_run(
        &kmeans(
            "kmeans.toml",
            "kind = \"kmeans\"\nk = 8\nn_init = 3\nbatch_size = 1024",
        ),
        "kmeans",
    );
    assert!(summary(&clusters)["train"]["inertia"].as_f64().unwrap() > 0.0);
    let metrics = eval_json(&clusters, &path("blobs.csv"), dir.path());
    assert_eq!(metrics["adjusted_rand_index"], 1.0, "{metrics}");

    // Metrics over a streamed file, merged chunk by chunk, equal those of the file read whole
    // (`kiln eval`), r2 included.
    kiln_model_zoo::synthetic::write_synthetic_csv(&path("values.csv"), 20_000, 8, 0, 4).unwrap();
    std::fs::write(
        path("sgd.toml"),
        "[data]\ntrain = \"values.csv\"\ntarget = \"y\"\nchunk_rows = 3000\n\
         [model]\nkind = \"linear_regression\"\nsolver = \"sgd\"\n[train]\nepochs = 2\n",
    )
    .unwrap();
    let sgd = train_run(&path("sgd.toml"), "sgd");
    let whole = eval_json(&sgd, &path("values.csv"), dir.path());
    let streamed = &summary(&sgd)["train"];
    for metric in ["mse", "mae", "r2"] {
        let (a, b) = (
            streamed[metric].as_f64().unwrap(),
            whole[metric].as_f64().unwrap(),
        );
        assert!(
            (a - b).abs() <= 1e-9 * b.abs().max(1.0),
            "{metric}: {a} vs {b}"
        );
    }
    assert!(whole["r2"].as_f64().unwrap() > 0.9, "{whole}");

    // A GLM's target check runs on every chunk: a negative count in the third chunk is named
    // by its file line.
    let mut counts = String::from("x,y\n");
    for i in 0..3_000 {
        let y = if i == 2_500 { -1 } else { i % 4 };
        counts.push_str(&format!("{},{y}\n", i as f32 / 3_000.0));
    }
    std::fs::write(path("counts.csv"), counts).unwrap();
    std::fs::write(
        path("poisson.toml"),
        "[data]\ntrain = \"counts.csv\"\ntarget = \"y\"\nchunk_rows = 1000\n\
         [model]\nkind = \"glm\"\nfamily = \"poisson\"\n[train]\nepochs = 2\n",
    )
    .unwrap();
    let line = kiln_error(
        &["train", path("poisson.toml").to_str().unwrap()],
        dir.path(),
    );
    assert!(
        line.contains("target `y` is -1, but this GLM family needs targets >= 0")
            && line.contains("counts.csv:2502;"),
        "{line}"
    );

    // What cannot stream says why and what to do.
    for (name, model, said) in [
        (
            "lloyd",
            "kind = \"kmeans\"\nk = 8",
            "for k-means set `[model] batch_size`",
        ),
        ("gmm", "kind = \"gmm\"\nk = 8", "remove `chunk_rows`"),
    ] {
        let config = kmeans(&format!("{name}.toml"), model);
        let line = kiln_error(&["train", config.to_str().unwrap()], dir.path());
        assert!(
            line.contains("needs all its rows at once")
                && line.contains(&format!("{name}.toml:5"))
                && line.contains(said),
            "{line}"
        );
    }
    let line = kiln_error(
        &[
            "train",
            path("kmeans.toml").to_str().unwrap(),
            "--set",
            "data.valid_fraction=0.2",
        ],
        dir.path(),
    );
    assert!(
        line.contains("cannot hold out a fraction") && line.contains("valid = "),
        "{line}"
    );
}
