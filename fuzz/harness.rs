// Each fuzz target uses one of these functions; the corpus replay test uses them all.
#![allow(dead_code)]

//! What each fuzz target does with its input, shared by the cargo-fuzz targets (`fuzz/`,
//! nightly) and the corpus replay in the test suite (`trainer/tests/kiln/fuzz_corpus.rs`,
//! stable): every input must give a result or an error, never a panic, a hang or unbounded
//! memory.

use std::path::Path;

use kiln_model_zoo::Model;
use kiln_model_zoo::deploy::Deployment;
use kiln_trainer::checkpoint::Checkpoint;
use kiln_trainer::config::LoadedConfig;
use kiln_trainer::data::{Columns, CsvFormat, TargetKind};
use kiln_trainer::source::TableReader;
use kiln_trainer::table::{Holdout, TableSpec, fit_table};

/// Splits `data` at the first `sep`: (before, after).
fn split<'a>(data: &'a [u8], sep: &[u8]) -> (&'a [u8], &'a [u8]) {
    match data.windows(sep.len()).position(|w| w == sep) {
        Some(i) => (&data[..i], &data[i + sep.len()..]),
        None => (data, &[]),
    }
}

/// A CSV file read whole and in chunks, with and without a label target, under small limits.
pub fn csv_reader(data: &[u8], dir: &Path) {
    let path = dir.join("data.csv");
    std::fs::write(&path, data).unwrap();
    read_every_way(&path);
}

/// The same bytes as a Parquet file and as an Arrow IPC file, read as [`csv_reader`] reads CSV.
pub fn columnar(data: &[u8], dir: &Path) {
    for name in ["data.parquet", "data.arrow"] {
        let path = dir.join(name);
        std::fs::write(&path, data).unwrap();
        read_every_way(&path);
    }
}

/// The table at `path` read in chunks of 3 rows with no target, a label target and a value
/// target; then the raw-table path: column types, missing cells and categories fitted, and the
/// file read through the encoding.
fn read_every_way(path: &Path) {
    let format = CsvFormat {
        delimiter: None,
        max_line_bytes: 4096,
        max_field_bytes: 512,
    };
    let read_in_chunks = |columns: Columns<'_>| {
        if let Ok(mut reader) = TableReader::open(path, columns) {
            while let Ok(rows) = reader.read_rows(3) {
                if rows.n_rows() == 0 {
                    break;
                }
            }
        }
    };
    for target in [
        None,
        Some(("y", TargetKind::Labels)),
        Some(("y", TargetKind::Values)),
    ] {
        let columns = Columns {
            target,
            format,
            ..Default::default()
        };
        read_in_chunks(columns);
        let holdout = Holdout::Fraction {
            fraction: 0.25,
            seed: 1,
        };
        if let Ok(table) = fit_table(path, target, &TableSpec::default(), format, holdout) {
            read_in_chunks(Columns {
                encoding: Some(&table.encoding),
                drop_incomplete: true,
                ..columns
            });
        }
    }
}

/// A config file (before a `\n---\n` line) with `--set` overrides (one per line after it),
/// loaded, its `[model]` read as a zoo model and written back resolved.
pub fn config(data: &[u8], dir: &Path) {
    let (text, sets) = split(data, b"\n---\n");
    let path = dir.join("c.toml");
    std::fs::write(&path, text).unwrap();
    let sets: Vec<String> = String::from_utf8_lossy(sets)
        .lines()
        .take(8)
        .map(str::to_owned)
        .collect();
    if let Ok(loaded) = LoadedConfig::load(&path, &sets) {
        let _ = loaded.csv_format();
        if let Ok(model) = loaded.model_config::<Model>() {
            let _ = loaded.resolved::<Model>(&model);
        }
    }
}

/// A run directory (`model.json`, `model.bpk`, `checkpoint.kiln`, split by `\n--\n` lines)
/// loaded, and its checkpoint read.
pub fn run_dir(data: &[u8], dir: &Path) {
    let (meta, rest) = split(data, b"\n--\n");
    let (weights, checkpoint) = split(rest, b"\n--\n");
    let run = dir.join("run");
    std::fs::create_dir_all(&run).unwrap();
    std::fs::write(run.join("model.json"), meta).unwrap();
    std::fs::write(run.join("model.bpk"), weights).unwrap();
    std::fs::write(run.join("checkpoint.kiln"), checkpoint).unwrap();
    std::fs::write(run.join("summary.json"), "{}").unwrap();
    if let Ok(meta) = kiln_trainer::run::read_meta(&run) {
        let _ = kiln_trainer::run::load_model::<Model>(&run, meta, &burn::tensor::Device::flex());
    }
    let _ = Checkpoint::read(&run.join("checkpoint.kiln"));
}

/// A deployment file decoded, and a row predicted with it.
pub fn deployment(data: &[u8]) {
    let device = burn::tensor::Device::flex();
    if let Ok((deployment, model)) = Deployment::decode::<Model>(data, &device) {
        let row = vec![0.5f32; deployment.shape.n_features.min(64)];
        let _ = deployment.predict_row(&model, &row, &device);
    }
}
