//! A model of a user's own (the `custom_model` example's two-tower network) gets the whole
//! trainer from the library, on every compiled backend: its metrics, early stopping keeping
//! the best epoch, checkpoints and a bit-identical resume; and a program built on the library
//! adds its kind to the `kiln` command line: train, a resume after a kill, eval, predict and
//! export of its runs, with the zoo's kinds still there.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use burn::module::Module;
use kiln_trainer::data::TargetKind;
use kiln_trainer::options::{AdamConfig, EarlyStopping, OptimizerConfig};
use kiln_trainer::{Dataset, TrainConfig, Trainer};

use crate::common::*;

#[path = "../../examples/custom_model/two_tower.rs"]
mod two_tower;

use two_tower::{TwoTower, TwoTowerConfig};

fn iris() -> (Dataset, Dataset) {
    Dataset::read_csv(
        repo().join("examples/data/iris.csv"),
        Some(("species", TargetKind::Labels)),
    )
    .unwrap()
    .split(0.2, 42)
    .unwrap()
}

fn weights(model: &TwoTower) -> Vec<u8> {
    model.clone().into_record().into_bytes().unwrap().to_vec()
}

#[test]
fn a_users_model_trains_checkpoints_and_resumes_on_every_backend() {
    let (train, valid) = iris();
    let config = TwoTowerConfig {
        split: Some(2),
        hidden: 8,
    };
    let options = TrainConfig {
        epochs: 40,
        batch_size: 16,
        optimizer: OptimizerConfig::Adam(AdamConfig {
            learning_rate: 0.02,
            ..Default::default()
        }),
        early_stopping: Some(EarlyStopping {
            patience: 8,
            min_delta: 0.0,
            metric: "accuracy".into(),
        }),
        ..Default::default()
    };
    for backend in kiln_backends::compiled() {
        let device = kiln_backends::open(backend).unwrap().device;
        let mut seen = Vec::new();
        let whole = Trainer::new(options.clone())
            .on_epoch(|record| seen.push(record.epoch))
            .fit::<TwoTower>(&config, &train, Some(&valid), &device)
            .unwrap();
        let epochs = whole.history.len();
        assert_eq!(seen, (1..=epochs).collect::<Vec<_>>(), "{backend}");
        let accuracy = whole.evaluate(&valid).unwrap()["accuracy"];
        assert!(accuracy >= 0.9, "{backend}: held-out accuracy {accuracy}");
        // Early stopping keeps the best epoch's weights: their accuracy is the best logged.
        let best = whole
            .history
            .iter()
            .map(|r| r.valid["accuracy"])
            .fold(0.0, f64::max);
        assert_eq!(accuracy, best, "{backend}");
        let labels = whole.predict_labels(&valid).unwrap().unwrap();
        assert_eq!(labels.len(), valid.n_rows());

        // Stopped by the interrupt flag after epoch 5, then resumed from its checkpoint: the
        // same weights, bit for bit, and the same losses.
        let dir = tempfile::tempdir().unwrap();
        let checkpoint = dir.path().join("checkpoint.kiln");
        let stop = AtomicBool::new(false);
        let stopped = Trainer::new(options.clone())
            .checkpoint(&checkpoint)
            .interrupt(&stop)
            .on_epoch(|record| stop.store(record.epoch == 5, Ordering::Relaxed))
            .fit::<TwoTower>(&config, &train, Some(&valid), &device)
            .unwrap();
        assert_eq!(
            stopped.interrupted.map(|(epoch, _)| epoch),
            Some(6),
            "{backend}"
        );
        let resumed = Trainer::new(options.clone())
            .checkpoint(&checkpoint)
            .fit::<TwoTower>(&config, &train, Some(&valid), &device)
            .unwrap();
        assert_eq!(weights(&resumed.model), weights(&whole.model), "{backend}");
        let losses = |f: &kiln_trainer::Fitted<TwoTower>| {
            f.history.iter().map(|r| r.train_loss).collect::<Vec<_>>()
        };
        assert_eq!(losses(&resumed), losses(&whole), "{backend}");
    }
}

/// What the library says of a user model's bad config or data: typed errors, no panic.
#[test]
fn a_users_model_refuses_bad_configs_and_data() {
    let (train, _) = iris();
    let device = kiln_backends::open(kiln_backends::compiled()[0])
        .unwrap()
        .device;
    let bad_split = TwoTowerConfig {
        split: Some(4),
        hidden: 8,
    };
    let error = Trainer::default()
        .fit::<TwoTower>(&bad_split, &train, None, &device)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("`split` must leave features to both towers"),
        "{error}"
    );
    let numbers = Dataset::regression(vec!["a".into()], vec![1.0, 2.0], vec![0.5, 1.5]).unwrap();
    let error = Trainer::default()
        .fit::<TwoTower>(&TwoTowerConfig::default(), &numbers, None, &device)
        .unwrap_err()
        .to_string();
    assert!(error.contains("needs a class-label target"), "{error}");
}

/// The example program is the `kiln` tool plus `kind = "two_tower"`: it trains a config
/// naming that kind (resuming one killed mid-run to the same bytes), evaluates, predicts and
/// exports its runs, and still trains the zoo's kinds; the plain `kiln` names the fix.
#[test]
fn a_program_adds_its_model_kind_to_the_command_line() {
    let program = example_binary("custom_model");
    let dir = tempfile::tempdir().unwrap();
    let cfg = repo().join("trainer/examples/custom_model/two-tower.toml");
    let cfg = cfg.to_str().unwrap();
    let run = |name: &str| dir.path().join(name);
    let train_args = |out: &Path| {
        [
            "train",
            cfg,
            "--out",
            out.to_str().unwrap(),
            "--set",
            "train.epochs=30",
            "--set",
            "train.early_stopping.patience=30",
        ]
        .map(String::from)
        .to_vec()
    };

    let kinds = program_ok(&program, &["kinds"], dir.path());
    let kinds = String::from_utf8_lossy(&kinds.stdout).into_owned();
    assert!(
        kinds.contains("two_tower") && kinds.contains("kmeans"),
        "{kinds}"
    );

    let whole = run("whole");
    program_ok(&program, &as_str(&train_args(&whole)), dir.path());
    for file in [
        "config.toml",
        "model.bpk",
        "model.json",
        "metrics.jsonl",
        "summary.json",
        "training.png",
    ] {
        assert!(whole.join(file).is_file(), "no {file}");
    }
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(whole.join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["model"], "two_tower");
    assert!(
        summary["valid"]["accuracy"].as_f64().unwrap() >= 0.9,
        "{summary}"
    );
    assert_eq!(metrics_without_times(&whole).len(), 30);

    // Killed after 5 epochs, resumed: the same weights and metrics as the run never stopped.
    let killed = run("killed");
    let mut child = start_and_wait_for_epochs(
        &program,
        &as_str(&train_args(&killed)),
        dir.path(),
        &killed,
        5,
    );
    child.kill().unwrap();
    child.wait().unwrap();
    program_ok(
        &program,
        &["train", "--resume", killed.to_str().unwrap()],
        dir.path(),
    );
    assert_eq!(
        std::fs::read(killed.join("model.bpk")).unwrap(),
        std::fs::read(whole.join("model.bpk")).unwrap()
    );
    assert_eq!(
        metrics_without_times(&killed),
        metrics_without_times(&whole)
    );

    let iris = repo().join("examples/data/iris.csv");
    let iris = iris.to_str().unwrap();
    let run_dir = whole.to_str().unwrap();
    let eval = program_ok(
        &program,
        &["eval", "--model", run_dir, "--data", iris, "--json"],
        dir.path(),
    );
    let metrics: serde_json::Value = serde_json::from_slice(&eval.stdout).unwrap();
    assert!(metrics["accuracy"].as_f64().unwrap() >= 0.9, "{metrics}");
    let predictions = program_ok(
        &program,
        &["predict", "--model", run_dir, "--data", iris],
        dir.path(),
    );
    let predictions = String::from_utf8_lossy(&predictions.stdout).into_owned();
    assert!(predictions.starts_with("prediction,proba_setosa,proba_versicolor,proba_virginica\n"));
    assert_eq!(predictions.lines().count(), 151);
    let export = dir.path().join("two-tower.kiln");
    program_ok(
        &program,
        &[
            "export",
            "--model",
            run_dir,
            "--out",
            export.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(std::fs::read(&export).unwrap().starts_with(b"KILNDEP2"));

    // The zoo's kinds still train through the same program.
    let zoo = run("zoo");
    let iris_cfg = config("iris-logistic.toml");
    program_ok(
        &program,
        &[
            "train",
            iris_cfg.to_str().unwrap(),
            "--out",
            zoo.to_str().unwrap(),
            "--set",
            "train.epochs=5",
        ],
        dir.path(),
    );

    // The plain `kiln` does not know the kind, and says how to add it.
    let line = kiln_error(
        &["train", cfg, "--out", run("plain").to_str().unwrap()],
        dir.path(),
    );
    assert!(
        line.contains("unknown model kind `two_tower`")
            && line.contains("two-tower.toml:")
            && line.contains("Cli::new().with::<YourModel>()"),
        "{line}"
    );
    let line = kiln_error(&["eval", "--model", run_dir, "--data", iris], dir.path());
    assert!(line.contains("unknown model kind `two_tower`"), "{line}");
}
