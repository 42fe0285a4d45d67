//! The embedded check: models trained and exported on the host run unchanged on a Cortex-M4F
//! (QEMU `mps2-an386`) and predict what the host predicts; a fresh copy trained on the device
//! (online SGD; online k-means; EM; SMO) lowers its loss and ends where the same training on
//! the host ends. A Gaussian process is predict-only on the device. The firmware is built three
//! ways: with every model; with only the three models the issue trains on a device (linear and
//! logistic regression, k-means), which must fit 1 MiB of flash and 96 KiB of RAM; and for
//! inference only with logistic regression and k-means, in 512 KiB and 64 KiB.
//!
//! Needs `qemu-system-arm` and the rustup target `thumbv7em-none-eabihf` (scripts/setup.sh).
//! The firmware (examples/embedded) builds in its own target directory,
//! `$CARGO_TARGET_DIR-firmware`, because cargo holds the outer build directory's lock while
//! tests run.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use kiln_backends::BackendKind;
use kiln_model_zoo::deploy::Deployment;
use kiln_model_zoo::online::Rows;
use kiln_model_zoo::rng::Rng;
use kiln_model_zoo::table::Cell;
use kiln_model_zoo::{Model, ModelConfig, Task};
use kiln_trainer::cli::Registry;
use kiln_trainer::commands::TrainOptions;
use kiln_trainer::data::{Columns, read_csv};

use crate::common::repo;

/// Relative tolerance between the device's and the host's outputs. Both run the same f32 code;
/// they differ only in the order and fusing of floating-point operations.
const PREDICT_TOLERANCE: f32 = 1e-4;
/// After 20 epochs of online SGD, rounding differences have compounded a little more.
const TRAIN_TOLERANCE: f32 = 1e-3;
/// The embedded model that only predicts on the device.
const PREDICT_ONLY: &str = "gp";
/// The RAM budget for a training firmware (heap + stack).
const TRAIN_RAM_BUDGET: usize = 96 * 1024;

fn write_f32(path: &Path, values: &[f32]) {
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(path, bytes).unwrap();
}

/// Synthetic scaled training rows for on-device training: a noisy line (`positive`: the exp
/// of a small one, for a log-link GLM), or classes given by the largest of a few linear scores.
fn training_rows(
    n: usize,
    d: usize,
    task: Task,
    positive: bool,
    seed: u64,
) -> (Vec<f32>, Vec<f32>) {
    let mut rng = Rng::new(seed);
    let classes = match task {
        Task::Regression => 1,
        Task::Classification { n_classes } => n_classes,
    };
    let weights: Vec<f32> = (0..d * classes).map(|_| rng.normal() as f32).collect();
    let x: Vec<f32> = (0..n * d).map(|_| rng.normal() as f32).collect();
    let y = x
        .chunks(d)
        .map(|row| {
            let scores: Vec<f32> = (0..classes)
                .map(|k| {
                    row.iter()
                        .enumerate()
                        .map(|(j, v)| v * weights[j * classes + k])
                        .sum()
                })
                .collect();
            match task {
                Task::Regression if positive => (0.3 * scores[0]).exp(),
                Task::Regression => scores[0] + 1.0 + 0.1 * rng.normal() as f32,
                Task::Classification { .. } => {
                    kiln_model_zoo::metrics::argmax_rows(&scores, classes)[0] as f32
                }
            }
        })
        .collect();
    (x, y)
}

fn close(a: f32, b: f32, tolerance: f32) -> bool {
    (a - b).abs() <= tolerance * b.abs().max(1.0)
}

/// `lines[name][row]` for the output lines starting with `kind`.
fn outputs(stdout: &str, kind: &str) -> BTreeMap<String, Vec<Vec<f32>>> {
    let mut map: BTreeMap<String, Vec<Vec<f32>>> = BTreeMap::new();
    for line in stdout.lines() {
        let mut words = line.split_whitespace();
        if words.next() != Some(kind) {
            continue;
        }
        let name = words.next().unwrap().to_owned();
        let row: usize = words.next().unwrap().parse().unwrap();
        let values = words.map(|w| w.parse().unwrap()).collect();
        let rows = map.entry(name).or_default();
        assert_eq!(rows.len(), row, "rows out of order: {line}");
        rows.push(values);
    }
    map
}

/// Picks one index per row of a row-major `rows × k` slice (argmax or argmin).
type PickRows = fn(&[f32], usize) -> Vec<usize>;

/// Same class (classifiers), nearest cluster (k-means) or most probable component (mixture), and
/// every value within `tolerance`.
fn assert_same_outputs(
    what: &str,
    device: &[f32],
    host: &[f32],
    deployment: &Deployment,
    tolerance: f32,
) {
    assert_eq!(device.len(), host.len(), "{what}");
    let k = host.len();
    let pick: Option<PickRows> = match (&deployment.model, deployment.shape.task) {
        (ModelConfig::KMeans(_), _) => Some(kiln_model_zoo::metrics::argmin_rows),
        (ModelConfig::Gmm(_), _) => Some(kiln_model_zoo::metrics::argmax_rows),
        (_, Task::Classification { .. }) => Some(kiln_model_zoo::metrics::argmax_rows),
        _ => None,
    };
    if let Some(pick) = pick {
        assert_eq!(
            pick(device, k),
            pick(host, k),
            "{what}: device {device:?}, host {host:?}"
        );
    }
    for (d, h) in device.iter().zip(host) {
        assert!(
            close(*d, *h, tolerance),
            "{what}: device {device:?}, host {host:?}"
        );
    }
}

/// The heap of the inference-only firmware: decoding and one-row predictions of the small
/// models need a few KiB (3.1 KB at the peak, measured).
const INFERENCE_HEAP: usize = 8 * 1024;
/// The heap of the small training firmware (online SGD and k-means on 24 rows): 15.8 KB at the
/// peak, measured, and half as much again for fragmentation.
const TRAINING_HEAP: usize = 24 * 1024;

/// The model zoo's cargo feature for each embedded case.
fn model_feature(case: &str) -> &'static str {
    match case {
        "kmeans" => "kiln-model-zoo/kmeans",
        "linear" => "kiln-model-zoo/linear-regression",
        "logistic" => "kiln-model-zoo/logistic-regression",
        other => panic!("no feature listed for {other}"),
    }
}

/// Everything trained on the host for one embedded case: the deployment and model, the raw
/// rows to predict (numbers, or a raw table's cells), and the scaled rows and targets to train
/// on.
type HostCase = (
    Deployment,
    kiln_model_zoo::Model,
    Vec<f32>,
    Vec<f32>,
    Vec<f32>,
    Vec<Vec<String>>,
);

/// What a firmware printed, and its size as `arm-none-eabi-size` reports it.
#[derive(Debug)]
struct FirmwareRun {
    name: String,
    stdout: String,
    /// Flash: code and read-only data, plus the initial values of `.data`.
    flash: usize,
    /// Static RAM: `.data` and `.bss` (which holds the heap).
    static_ram: usize,
    stack_peak: usize,
}

impl FirmwareRun {
    fn ram(&self) -> usize {
        self.static_ram + self.stack_peak
    }
}

/// Builds the firmware with `features` (no default features) and the cases `names` of `dir/embed`
/// embedded, runs it under QEMU, and requires it to pass.
fn run_firmware(
    dir: &Path,
    name: &str,
    names: &[&str],
    features: &[&str],
    heap: Option<usize>,
) -> FirmwareRun {
    let embed = dir.join(format!("embed-{name}"));
    std::fs::create_dir(&embed).unwrap();
    for file in std::fs::read_dir(dir.join("embed")).unwrap() {
        let file = file.unwrap().file_name().into_string().unwrap();
        // Training rows only where the firmware trains: they take flash.
        let wanted = names.contains(&file.split('.').next().unwrap())
            && (features.contains(&"train") || !file.contains(".train-"));
        if wanted {
            std::fs::copy(dir.join("embed").join(&file), embed.join(&file)).unwrap();
        }
    }
    // One target directory for every variant: they share the burn build where their features
    // agree. Built and run one after another, so no variant overwrites another's ELF.
    let target_dir = format!(
        "{}-firmware",
        std::env::var("CARGO_TARGET_DIR")
            .unwrap_or_else(|_| repo().join("target").display().to_string())
    );
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = Command::new(cargo);
    build
        .args(["build", "--release", "--no-default-features"])
        .args(["--features", &features.join(",")])
        .current_dir(repo().join("examples/embedded"))
        .env("KILN_EMBED_DIR", &embed)
        .env("CARGO_TARGET_DIR", &target_dir);
    match heap {
        Some(bytes) => build.env("FW_HEAP", bytes.to_string()),
        None => build.env_remove("FW_HEAP"),
    };
    let build = build.output().unwrap();
    assert!(
        build.status.success(),
        "firmware `{name}` build failed:\n{}",
        String::from_utf8_lossy(&build.stderr)
    );
    let elf = Path::new(&target_dir).join("thumbv7em-none-eabihf/release/kiln-firmware");
    let run = Command::new("timeout")
        .args([
            "300",
            "qemu-system-arm",
            "-machine",
            "mps2-an386",
            "-nographic",
        ])
        .args(["-semihosting-config", "enable=on,target=native", "-kernel"])
        .arg(&elf)
        .output()
        .expect("qemu-system-arm runs (scripts/setup.sh installs it)");
    let stdout = String::from_utf8_lossy(&run.stdout).into_owned();
    println!("firmware `{name}`:\n{stdout}");
    assert!(
        run.status.success() && stdout.contains("RESULT PASS"),
        "firmware `{name}` failed: {stdout}"
    );

    // `text data bss dec hex filename`, Berkeley format.
    let size = Command::new("arm-none-eabi-size")
        .arg(&elf)
        .output()
        .expect("arm-none-eabi-size runs (scripts/setup.sh installs it)");
    let size = String::from_utf8_lossy(&size.stdout).into_owned();
    let numbers: Vec<usize> = size
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .take(3)
        .map(|n| n.parse().unwrap())
        .collect();
    let memory = stdout.lines().find(|l| l.starts_with("memory ")).unwrap();
    let words: Vec<&str> = memory.split_whitespace().collect();
    let firmware = FirmwareRun {
        name: name.to_owned(),
        flash: numbers[0] + numbers[1],
        static_ram: numbers[1] + numbers[2],
        stack_peak: words[4].parse().unwrap(),
        stdout,
    };
    println!(
        "firmware `{name}`: flash {} B, static RAM {} B, stack peak {} B",
        firmware.flash, firmware.static_ram, firmware.stack_peak
    );
    firmware
}

/// Every prediction of the cases `names` equals the host's; with `trained`, on-device training
/// lowered each loss and agrees with the same training on the host.
fn check_outputs(
    firmware: &FirmwareRun,
    deployments: &BTreeMap<String, HostCase>,
    names: &[&str],
    host: &kiln_backends::Device,
    trained: bool,
) {
    let stdout = &firmware.stdout;
    let predictions = outputs(stdout, "predict");
    let trained_rows = outputs(stdout, "trained");
    for name in names {
        let (deployment, model, inputs, x, y, raw_rows) = &deployments[*name];
        let what = format!("firmware `{}`, {name}", firmware.name);
        let d = deployment.shape.n_features;
        let task = deployment.shape.task;
        let device_rows = &predictions[*name];
        assert_eq!(
            device_rows.len(),
            inputs.len() / d + raw_rows.len(),
            "{what}"
        );
        // Raw table rows: the device encodes the cells as the host does.
        for (row, (cells, device_out)) in raw_rows.iter().zip(device_rows).enumerate() {
            let cells: Vec<Cell> = cells.iter().map(|c| Cell::Text(c)).collect();
            let host_out = deployment.predict_cells(model, &cells, host).unwrap();
            assert_same_outputs(
                &format!("{what} raw row {row} {cells:?}"),
                device_out,
                &host_out,
                deployment,
                PREDICT_TOLERANCE,
            );
        }
        for (row, (input, device_out)) in inputs.chunks(d).zip(device_rows).enumerate() {
            let host_out = deployment.predict_row(model, input, host).unwrap();
            assert_same_outputs(
                &format!("{what} row {row}"),
                device_out,
                &host_out,
                deployment,
                PREDICT_TOLERANCE,
            );
        }

        if !trained || *name == PREDICT_ONLY {
            assert!(!stdout.contains(&format!("train {name} ")), "{what}");
            continue;
        }
        let line = stdout
            .lines()
            .find(|l| l.starts_with(&format!("train {name} ")))
            .unwrap();
        let words: Vec<&str> = line.split_whitespace().collect();
        let value = |key: &str| words[words.iter().position(|w| *w == key).unwrap() + 1];
        let (before, after): (f64, f64) = (
            value("before").parse().unwrap(),
            value("after").parse().unwrap(),
        );
        assert!(after < before, "{what}: {line}");
        let rows = Rows {
            x,
            y,
            n_features: d,
            task,
        };
        let on_host = kiln_model_zoo::online::train::<Model>(
            &deployment.model,
            &deployment.shape,
            &rows,
            host,
        )
        .unwrap();
        assert!(
            close(before as f32, on_host.before as f32, PREDICT_TOLERANCE),
            "{what}: {line} vs host {}",
            on_host.before
        );
        assert!(
            close(after as f32, on_host.after as f32, TRAIN_TOLERANCE),
            "{what}: {line} vs host {}",
            on_host.after
        );
        let identity = Deployment {
            preprocessing: kiln_model_zoo::Preprocessing::identity(
                deployment.preprocessing.feature_names.clone(),
                deployment.preprocessing.class_names.clone(),
            ),
            ..deployment.clone()
        };
        for (row, (input, device_out)) in x.chunks(d).zip(&trained_rows[*name]).enumerate() {
            let host_out = identity.predict_row(&on_host.model, input, host).unwrap();
            assert_same_outputs(
                &format!("{what} trained row {row}"),
                device_out,
                &host_out,
                deployment,
                TRAIN_TOLERANCE,
            );
        }
    }
}

/// The first 10 rows of a raw table, in the deployment's column order, then a row with a
/// category training never saw and one of missing cells.
fn raw_rows(path: &Path, deployment: &Deployment) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let columns = deployment.preprocessing.encoding().column_names();
    let index: Vec<usize> = columns
        .iter()
        .map(|c| header.iter().position(|h| h == c).unwrap())
        .collect();
    let mut rows: Vec<Vec<String>> = lines
        .take(10)
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            index.iter().map(|&i| cells[i].to_owned()).collect()
        })
        .collect();
    let mut unseen = rows[0].clone();
    unseen[0] = "Atlantis".into();
    rows.push(unseen);
    rows.push(vec!["NA".to_owned(); columns.len()]);
    rows
}

#[test]
fn exported_models_predict_and_train_on_a_cortex_m4_under_qemu() {
    let dir = tempfile::tempdir().unwrap();
    let embed = dir.path().join("embed");
    std::fs::create_dir(&embed).unwrap();
    let host = kiln_backends::open(BackendKind::Flex).unwrap().device;

    // A Gaussian process keeps its training rows and an n × n factor: 40 rows of the sine
    // (6.4 KB of factor) fit the firmware's heap.
    let sine = std::fs::read_to_string(repo().join("examples/data/sine-train.csv")).unwrap();
    let small_sine = dir.path().join("sine-40.csv");
    let rows: Vec<&str> = sine.lines().take(41).collect();
    std::fs::write(&small_sine, rows.join("\n")).unwrap();
    let gp_train = format!("data.train={:?}", small_sine.display().to_string());

    // Train and export on the host; embed raw input rows and synthetic training rows.
    let cases: [(&str, &str, &str, &[&str]); 10] = [
        ("kmeans", "iris-kmeans.toml", "iris.csv", &[]),
        ("gmm", "iris-gmm.toml", "iris.csv", &[]),
        ("linear", "diabetes-ols.toml", "diabetes.csv", &[]),
        ("logistic", "iris-logistic.toml", "iris.csv", &[]),
        ("glm", "claims-poisson.toml", "claims.csv", &[]),
        ("svm", "margin-svm.toml", "margin-test.csv", &[]),
        ("rbf-svm", "iris-rbf-svm.toml", "iris.csv", &[]),
        // A narrow network without dropout: small enough for the heap, and trained on the
        // device from the same seeded start as on the host.
        (
            "mlp",
            "digits-mlp.toml",
            "digits.csv",
            &["model.hidden=[16]", "model.dropout=0.0"],
        ),
        // Predict-only on the host's fit (mean and std); the device fits a fresh one too.
        ("gp", "sine-gp.toml", "sine-test.csv", &[gp_train.as_str()]),
        // A raw table: the device reads text categories and missing cells.
        (
            "penguins",
            "penguins-logistic.toml",
            "penguins-test.csv",
            &[],
        ),
    ];
    let mut deployments = BTreeMap::new();
    for (i, (name, config, data, set)) in cases.iter().enumerate() {
        let run = dir.path().join(name);
        Registry::zoo()
            .train(&TrainOptions {
                config: repo().join("configs").join(config),
                backend: Some("flex".into()),
                set: ["train.epochs=60"]
                    .iter()
                    .chain(set.iter())
                    .map(|s| s.to_string())
                    .collect(),
                out: Some(run.clone()),
                resume: None,
            })
            .unwrap();
        let file = embed.join(format!("{name}.kiln"));
        Registry::zoo().export(&run, &file).unwrap();
        let (deployment, model) =
            Deployment::decode::<Model>(&std::fs::read(&file).unwrap(), &host).unwrap();
        let d = deployment.shape.n_features;
        let positive = matches!(deployment.model, ModelConfig::Glm(_));
        let (x, y) = training_rows(24, d, deployment.shape.task, positive, 7 + i as u64);
        if *name == "penguins" {
            let cells = raw_rows(&repo().join("examples/data").join(data), &deployment);
            let text: Vec<String> = cells.iter().map(|row| row.join("\t")).collect();
            std::fs::write(embed.join(format!("{name}.cells.txt")), text.join("\n")).unwrap();
            write_f32(&embed.join(format!("{name}.train-x.f32")), &x);
            write_f32(&embed.join(format!("{name}.train-y.f32")), &y);
            deployments.insert(name.to_string(), (deployment, model, vec![], x, y, cells));
            continue;
        }
        let table = read_csv(
            &repo().join("examples/data").join(data),
            Columns {
                target: None,
                features: Some(
                    &kiln_trainer::run::read_meta(&run)
                        .unwrap()
                        .preprocessing
                        .feature_names,
                ),
                ..Default::default()
            },
        )
        .unwrap();
        write_f32(
            &embed.join(format!("{name}.inputs.f32")),
            &table.x[..12 * d],
        );
        // The Gaussian process is predict-only on the device: its fit (kernel matrices and
        // the autodiff graph of their gradient) ran out of the firmware's 48 KiB heap (then) even on
        // 12 rows. No training rows, no `train` line.
        if *name != PREDICT_ONLY {
            write_f32(&embed.join(format!("{name}.train-x.f32")), &x);
            write_f32(&embed.join(format!("{name}.train-y.f32")), &y);
        }
        deployments.insert(
            name.to_string(),
            (deployment, model, table.x[..12 * d].to_vec(), x, y, vec![]),
        );
    }

    // The whole check: every model, trained on the device too.
    let all: Vec<&str> = cases.iter().map(|case| case.0).collect();
    let full = run_firmware(
        dir.path(),
        "all",
        &all,
        &["train", "all-models", "tables"],
        None,
    );
    check_outputs(&full, &deployments, &all, &host, true);
    assert!(
        full.ram() <= TRAIN_RAM_BUDGET,
        "{full:?}: RAM over the {TRAIN_RAM_BUDGET}-byte budget"
    );

    // The size targets, for firmware built with only the models it ships: on-device
    // training of linear and logistic regression and k-means in 1 MiB of flash and 96 KiB of
    // RAM; inference of logistic regression and k-means in 512 KiB and 64 KiB.
    let trains = ["kmeans", "linear", "logistic"];
    let training = run_firmware(
        dir.path(),
        "train",
        &trains,
        &[
            "train",
            model_feature("kmeans"),
            model_feature("linear"),
            model_feature("logistic"),
        ],
        Some(TRAINING_HEAP),
    );
    check_outputs(&training, &deployments, &trains, &host, true);
    assert!(
        training.flash <= 1024 * 1024 && training.ram() <= TRAIN_RAM_BUDGET,
        "{training:?}: over 1 MiB of flash or {TRAIN_RAM_BUDGET} bytes of RAM"
    );
    let predicts = ["kmeans", "logistic"];
    let inference = run_firmware(
        dir.path(),
        "infer",
        &predicts,
        &[model_feature("kmeans"), model_feature("logistic")],
        Some(INFERENCE_HEAP),
    );
    check_outputs(&inference, &deployments, &predicts, &host, false);
    assert!(
        inference.flash <= 512 * 1024 && inference.ram() <= 64 * 1024,
        "{inference:?}: over 512 KiB of flash or 64 KiB of RAM"
    );
}
