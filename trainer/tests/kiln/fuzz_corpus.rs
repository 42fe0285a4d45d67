//! The fuzz targets' corpora (`fuzz/corpus/<target>/`, grown by `cargo fuzz run`, with every
//! crash found kept as a regression input) replayed through the same harness on stable: each
//! input gives a result or an error, never a panic.

#[path = "../../../fuzz/harness.rs"]
mod harness;

use std::path::{Path, PathBuf};

fn inputs(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "no corpus in {}", dir.display());
    inputs
}

fn replay(target: &str, run: impl Fn(&[u8], &Path)) {
    let dir = tempfile::tempdir().unwrap();
    for input in inputs(target) {
        let data = std::fs::read(&input).unwrap();
        let outcome =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&data, dir.path())));
        assert!(outcome.is_ok(), "{target}: {} panics", input.display());
    }
}

#[test]
fn the_csv_reader_corpus_replays() {
    replay("csv_reader", harness::csv_reader);
}

#[test]
fn the_config_corpus_replays() {
    replay("config", harness::config);
}

#[test]
fn the_run_directory_corpus_replays() {
    replay("run_dir", harness::run_dir);
}

#[test]
fn the_deployment_corpus_replays() {
    replay("deployment", |data, _| harness::deployment(data));
}

#[test]
fn the_columnar_corpus_replays() {
    replay("columnar", harness::columnar);
}
