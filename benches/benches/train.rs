//! `kiln train` end to end (CSV → fitted model → run directory) on the backends compiled in:
//! OLS by closed form and multinomial logistic regression by Adam, 80,000 rows × 20 features.
//!
//! `cargo bench -p kiln-benches --bench train` (add `--features wgpu` for the GPU backend).

use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kiln_trainer::commands::{Summary, TrainOptions, train};

const ROWS: usize = 80_000;
const FEATURES: usize = 20;

fn write_config(dir: &Path, name: &str, body: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    path
}

/// One whole `kiln train` into `out`, removed afterwards so every iteration writes a new run.
fn train_once(config: &Path, backend: kiln_backends::BackendKind, out: &Path) -> Summary {
    let report = train(&TrainOptions {
        config: config.to_owned(),
        backend: Some(backend.name().into()),
        set: Vec::new(),
        out: Some(out.to_owned()),
    })
    .unwrap();
    std::fs::remove_dir_all(out).unwrap();
    report.summary
}

fn bench_train(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    kiln_benches::write_synthetic_csv(&dir.path().join("regression.csv"), ROWS, FEATURES, 0, 1)
        .unwrap();
    kiln_benches::write_synthetic_csv(&dir.path().join("classes.csv"), ROWS, FEATURES, 3, 2)
        .unwrap();
    let ols = write_config(
        dir.path(),
        "ols.toml",
        "[data]\ntrain = \"regression.csv\"\ntarget = \"y\"\n[model]\nkind = \"linear_regression\"\n",
    );
    let logistic = write_config(
        dir.path(),
        "logistic.toml",
        "[data]\ntrain = \"classes.csv\"\ntarget = \"y\"\n[model]\nkind = \"logistic_regression\"\n\
         [train]\nepochs = 5\nbatch_size = 256\noptimizer = { kind = \"adam\", learning_rate = 0.01 }\n",
    );

    let mut group = c.benchmark_group("train_80k_x_20");
    group.sample_size(10);
    group.throughput(Throughput::Elements(ROWS as u64));
    for backend in kiln_backends::compiled() {
        for (name, config) in [
            ("ols_closed_form", &ols),
            ("logistic_adam_5_epochs", &logistic),
        ] {
            let mut run = 0;
            group.bench_function(format!("{name}/{backend}"), |b| {
                b.iter(|| {
                    run += 1;
                    train_once(
                        config,
                        backend,
                        &dir.path().join(format!("run-{name}-{backend}-{run}")),
                    )
                    .fit_seconds
                })
            });
        }
    }
    group.finish();
}

/// k-means (k = 8, k-means++ seeding, one restart, Lloyd) on 100,000 × 10 blobs (std 1.0), from
/// CSV: the size issue 6 sets against scikit-learn.
fn bench_kmeans(c: &mut Criterion) {
    const ROWS: usize = 100_000;
    let dir = tempfile::tempdir().unwrap();
    kiln_benches::write_blobs_csv(&dir.path().join("blobs.csv"), ROWS, 10, 8, 1.0, 3).unwrap();
    let config = write_config(
        dir.path(),
        "kmeans.toml",
        "[data]\ntrain = \"blobs.csv\"\ntarget = \"y\"\nvalid_fraction = 0\nstandardize = false\n\
         [model]\nkind = \"kmeans\"\nk = 8\n[train]\nepochs = 300\n",
    );
    let mut group = c.benchmark_group("kmeans_100k_x_10");
    group.sample_size(10);
    group.throughput(Throughput::Elements(ROWS as u64));
    for backend in kiln_backends::compiled() {
        let mut run = 0;
        group.bench_function(format!("lloyd_k8/{backend}"), |b| {
            b.iter(|| {
                run += 1;
                let summary = train_once(
                    &config,
                    backend,
                    &dir.path().join(format!("run-{backend}-{run}")),
                );
                assert_eq!(summary.train["adjusted_rand_index"], 1.0);
                summary.fit_seconds
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_train, bench_kmeans);
criterion_main!(benches);
