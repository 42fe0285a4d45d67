//! Helpers every test module uses: paths in the repository, training a config in process, and
//! running the `kiln` binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kiln_backends::BackendKind;
use kiln_trainer::cli::Registry;
use kiln_trainer::commands::{TrainOptions, TrainReport};

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

pub fn config(name: &str) -> PathBuf {
    repo().join("configs").join(name)
}

pub fn train(config: &Path, backend: BackendKind, out: &Path, set: &[&str]) -> TrainReport {
    Registry::zoo()
        .train(&TrainOptions {
            config: config.to_owned(),
            backend: Some(backend.name().into()),
            set: set.iter().map(|s| s.to_string()).collect(),
            out: Some(out.to_owned()),
            resume: None,
        })
        .unwrap_or_else(|e| panic!("{} on {backend}: {e}", config.display()))
}

pub fn kiln(args: &[&str], dir: &Path) -> Output {
    Command::new(kiln_binary())
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

/// Runs `kiln` expecting success; the failure message is its stderr.
pub fn kiln_ok(args: &[&str], dir: &Path) -> Output {
    program_ok(kiln_binary(), args, dir)
}

/// Runs `program` expecting success; the failure message is its stderr.
pub fn program_ok(program: &Path, args: &[&str], dir: &Path) -> Output {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{} {args:?} failed: {}",
        program.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `kiln eval --model RUN --data DATA --json`, parsed.
pub fn eval_json(run: &Path, data: &Path, dir: &Path) -> serde_json::Value {
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
pub fn kiln_error(args: &[&str], dir: &Path) -> String {
    let out = kiln(args, dir);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(1),
        "expected exit 1 from {args:?}, got {:?}: {stderr}",
        out.status
    );
    // Progress lines (`epoch N/M ...`, stderr not being a terminal) and the report of a raw
    // table's columns may precede the error.
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| {
            !l.trim().is_empty()
                && !l.contains("XDG_RUNTIME_DIR")
                && !l.starts_with("epoch ")
                && !l.starts_with("columns of ")
                && !l.starts_with("  ")
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

/// Every line of a run's metrics.jsonl without its wall-clock field.
pub fn metrics_without_times(run: &Path) -> Vec<serde_json::Value> {
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

pub fn as_str(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// Starts `program train ...` (`kiln` or a program built on its library) and waits until its partial run has logged `epochs` epochs.
pub fn start_and_wait_for_epochs(
    program: &Path,
    args: &[&str],
    dir: &Path,
    run: &Path,
    epochs: usize,
) -> std::process::Child {
    let mut child = Command::new(program)
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

/// The `kiln` binary.
pub fn kiln_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_kiln"))
}

/// An example program of this crate (`cargo test` builds the examples beside the binaries).
pub fn example_binary(name: &str) -> PathBuf {
    kiln_binary().parent().unwrap().join("examples").join(name)
}

/// Writes `files` into a fresh directory and returns it.
pub fn workspace(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

pub const GOOD_CONFIG: &str = "[data]\ntrain = \"d.csv\"\ntarget = \"label\"\nvalid_fraction = 0.25\n\n[model]\nkind = \"logistic_regression\"\n\n[train]\nepochs = 2\n";
pub const GOOD_DATA: &str = "a,b,label\n1,2,x\n2,1,y\n3,3,x\n4,1,y\n5,2,x\n6,0,y\n7,1,x\n8,2,y\n";

/// scikit-learn 1.9.1's `KMeans(3, n_init=10)` on standardized iris reaches inertia 139.8205
/// (ARI 0.620) for random states 0-2. kiln's seeds land in that optimum or the neighbouring one
/// at 140.03 (ARI 0.592): inertia within 0.2% of scikit-learn's best.
pub fn check_iris_kmeans(inertia: f64, adjusted_rand_index: f64) {
    assert!(inertia <= 139.8205 * 1.002, "inertia {inertia}");
    assert!(
        adjusted_rand_index >= 0.55,
        "adjusted Rand index {adjusted_rand_index}"
    );
}
