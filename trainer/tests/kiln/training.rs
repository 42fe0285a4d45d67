//! The options of the fit loop: optimizers, schedules, clipping, early stopping, divergence.

use std::path::Path;

use kiln_backends::BackendKind;

use crate::common::*;

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
        line.contains("`step` needs `every` >= 1") && line.contains("in --set train.schedule="),
        "{line}"
    );
}

/// The L-BFGS solvers of the GLM and the linear SVM, through the trainer on every compiled
/// backend, reach scikit-learn's objective: `PoissonRegressor(alpha=1e-3)` on claims.csv
/// (0.4583795341) and `LinearSVC(C=1, fit_intercept=False)` on margin-train.csv
/// (0.3007676352 per row); the scripts and numbers are above the tests of `glm.rs` and
/// `linear_svm.rs` in the model zoo.
#[test]
fn lbfgs_solvers_reach_scikit_learns_objective_on_every_backend() {
    let dir = tempfile::tempdir().unwrap();
    let lbfgs = [
        "model.solver=\"lbfgs\"",
        "model.tol=1e-6",
        "train.epochs=1000",
    ];
    let cases: [(&str, f64, &str); 2] = [
        (
            "claims-poisson.toml",
            0.458_379_534_1,
            "data.valid_fraction=0",
        ),
        (
            "margin-svm.toml",
            0.300_767_635_2,
            "model.fit_intercept=false",
        ),
    ];
    for backend in kiln_backends::compiled() {
        for (name, objective, setting) in cases {
            let out = dir.path().join(format!("{name}-{}", backend.name()));
            let mut set = lbfgs.to_vec();
            set.push(setting);
            let report = train(&config(name), backend, &out, &set);
            let got = report.summary.train_loss;
            assert!(
                (got - objective).abs() < 1e-5 * objective,
                "{name} on {backend:?}: objective {got} vs scikit-learn's {objective}"
            );
        }
    }
}

/// An L-BFGS fit runs to its own `tol` or `max_iter`, as scikit-learn's, whatever `[train]
/// epochs` says; cut by `max_iter` it says so (a warning, `converged: false` in summary.json).
/// A fit with no step cap of its own (a Gaussian process's) is cut by `[train] epochs`, and
/// says so too. One that meets its own rule records `converged: true`; a gradient fit none.
#[test]
fn a_fit_cut_short_by_a_step_cap_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let lbfgs = config("breast-cancer-logistic.toml");
    let gradient = config("iris-logistic.toml");
    let gp = config("sine-gp.toml");
    let lbfgs = lbfgs.to_str().unwrap();
    let summary = |run: &str| -> serde_json::Value {
        let text = std::fs::read_to_string(dir.path().join(run).join("summary.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    };
    let out = kiln_ok(
        &["train", lbfgs, "--out", "epochs", "--set", "train.epochs=2"],
        dir.path(),
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains("warning"));
    assert_eq!(summary("epochs")["converged"], true);
    assert!(summary("epochs")["epochs"].as_u64().unwrap() > 2);

    let out = kiln_ok(
        &[
            "train",
            lbfgs,
            "--out",
            "short",
            "--set",
            "model.max_iter=2",
        ],
        dir.path(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning: logistic_regression stopped at its `max_iter`"),
        "{stderr}"
    );
    assert_eq!(summary("short")["converged"], false);

    let out = kiln_ok(
        &[
            "train",
            gp.to_str().unwrap(),
            "--out",
            "gp",
            "--set",
            "train.epochs=1",
        ],
        dir.path(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning: gaussian_process stopped at `[train] epochs = 1`"),
        "{stderr}"
    );
    assert_eq!(summary("gp")["converged"], false);

    kiln_ok(
        &["train", gradient.to_str().unwrap(), "--out", "sgd"],
        dir.path(),
    );
    assert!(summary("sgd").get("converged").is_none());
}

/// k-means and the GMM run `max_iter` steps per restart, not `[train] epochs` in all, and
/// hold no rows out unless asked (scikit-learn fits clustering on every row): digits with
/// k = 10 and 10 restarts needs some 200 Lloyd steps, and reaches scikit-learn's inertia.
#[test]
fn clustering_runs_its_own_iterations_on_every_row() {
    let dir = tempfile::tempdir().unwrap();
    let digits = repo().join("examples/data/digits.csv");
    let cfg = dir.path().join("digits-kmeans.toml");
    std::fs::write(
        &cfg,
        format!(
            "[data]\ntrain = {digits:?}\ntarget = \"digit\"\n\
             [model]\nkind = \"kmeans\"\nn_clusters = 10\nn_init = 10\n\
             [train]\nepochs = 20\n"
        ),
    )
    .unwrap();
    let out = kiln_ok(&["train", cfg.to_str().unwrap(), "--out", "km"], dir.path());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("warning"));
    let text = std::fs::read_to_string(dir.path().join("km/summary.json")).unwrap();
    let summary: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(summary["n_valid"], 0);
    assert_eq!(summary["n_train"], 1797);
    assert_eq!(summary["converged"], true);
    assert!(summary["epochs"].as_u64().unwrap() > 20, "{summary}");
    // scikit-learn 1.9.1, on the standardized table:
    //   KMeans(10, n_init=10, random_state=s).fit(StandardScaler().fit_transform(X)).inertia_
    //   → 69405.5, 69408.6, 69416.8 for s = 0, 1, 2
    let inertia = summary["train"]["inertia"].as_f64().unwrap();
    assert!(inertia < 69_405.5 * 1.002, "inertia {inertia}");
    let resolved = std::fs::read_to_string(dir.path().join("km/config.toml")).unwrap();
    assert!(resolved.contains("valid_fraction = 0.0"), "{resolved}");
}
