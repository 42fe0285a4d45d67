//! `kiln train` end to end (CSV → fitted model → run directory) on the backends compiled in:
//! OLS by closed form and by Adam, multinomial logistic regression by Adam and by L-BFGS, a
//! one-vs-rest linear SVM and a Poisson GLM by Adam, 80,000 rows × 20 features;
//! k-means and a Gaussian mixture on 100,000 × 10 blobs; an RBF kernel SVM on 5,000 × 20; and
//! the MLP training loop on 50,000 × 784 against PyTorch
//! (`benches/peers/mlp_torch.py` times the same shapes); and loading a raw 1,000,000-row table
//! from CSV, Parquet and Arrow IPC.
//!
//! `cargo bench -p kiln-benches --bench train` (add `--features wgpu` for the GPU backend).

use std::path::Path;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use kiln_trainer::cli::Registry;
use kiln_trainer::commands::{Summary, TrainOptions};

/// The allocator of the `kiln` binary, so the benches time what the command does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ROWS: usize = 80_000;
const FEATURES: usize = 20;

fn write_config(dir: &Path, name: &str, body: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    path
}

/// One whole `kiln train` into `out`, removed afterwards so every iteration writes a new run.
fn train_once(config: &Path, backend: kiln_backends::BackendKind, out: &Path) -> Summary {
    let report = Registry::zoo()
        .train(&TrainOptions {
            config: config.to_owned(),
            backend: Some(backend.name().into()),
            set: Vec::new(),
            out: Some(out.to_owned()),
            resume: None,
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
    kiln_benches::write_poisson_csv(&dir.path().join("counts.csv"), ROWS, FEATURES, 3).unwrap();
    let adam_5_epochs = "[train]\nepochs = 5\nbatch_size = 256\noptimizer = { kind = \"adam\", learning_rate = 0.01 }\n";
    let sgd_regression = write_config(
        dir.path(),
        "sgd.toml",
        &format!(
            "[data]\ntrain = \"regression.csv\"\ntarget = \"y\"\n[model]\n\
             kind = \"linear_regression\"\nsolver = \"sgd\"\n{adam_5_epochs}"
        ),
    );
    let linear_svm = write_config(
        dir.path(),
        "linear-svm.toml",
        &format!(
            "[data]\ntrain = \"classes.csv\"\ntarget = \"y\"\n[model]\nkind = \"linear_svm\"\n\
             {adam_5_epochs}"
        ),
    );
    let poisson = write_config(
        dir.path(),
        "poisson.toml",
        &format!(
            "[data]\ntrain = \"counts.csv\"\ntarget = \"y\"\n[model]\nkind = \"glm\"\n\
             family = \"poisson\"\n{adam_5_epochs}"
        ),
    );
    let logistic_lbfgs = write_config(
        dir.path(),
        "logistic-lbfgs.toml",
        "[data]\ntrain = \"classes.csv\"\ntarget = \"y\"\n[model]\nkind = \"logistic_regression\"\n\
         solver = \"lbfgs\"\n[train]\nepochs = 1000\n",
    );

    let mut group = c.benchmark_group("train_80k_x_20");
    group.sample_size(10);
    group.throughput(Throughput::Elements(ROWS as u64));
    bench_runs(&mut group, "ols_closed_form", &ols, dir.path(), |_| {});
    bench_runs(
        &mut group,
        "logistic_adam_5_epochs",
        &logistic,
        dir.path(),
        |_| {},
    );
    bench_runs(
        &mut group,
        "logistic_lbfgs",
        &logistic_lbfgs,
        dir.path(),
        |_| {},
    );
    bench_runs(
        &mut group,
        "linear_regression_sgd_adam_5_epochs",
        &sgd_regression,
        dir.path(),
        |_| {},
    );
    bench_runs(
        &mut group,
        "linear_svm_ovr_adam_5_epochs",
        &linear_svm,
        dir.path(),
        |_| {},
    );
    bench_runs(
        &mut group,
        "glm_poisson_adam_5_epochs",
        &poisson,
        dir.path(),
        |_| {},
    );
    group.finish();
}

/// The compiled backends but Mesa's software Vulkan (llvmpipe), which is a correctness stand-in:
/// the large benches would take hours there. Says which it skips, under `group`'s name.
fn hardware_backends(group: &str) -> Vec<kiln_backends::BackendKind> {
    kiln_backends::compiled()
        .into_iter()
        .filter(|&backend| {
            let description = kiln_backends::open(backend).unwrap().description;
            let software = description.contains("llvmpipe");
            if software {
                println!("{group}/{backend}: skipped on {description}");
            }
            !software
        })
        .collect()
}

/// Times whole `kiln train` runs of `config` as `function/<backend>` in `group`, on every
/// compiled backend, each run written under `runs`; `check` asserts on each run's summary.
fn bench_runs(
    group: &mut BenchmarkGroup<'_, WallTime>,
    function: &str,
    config: &Path,
    runs: &Path,
    check: impl Fn(&Summary),
) {
    bench_runs_on(
        group,
        function,
        config,
        runs,
        check,
        &kiln_backends::compiled(),
    );
}

/// [`bench_runs`] on `backends`.
fn bench_runs_on(
    group: &mut BenchmarkGroup<'_, WallTime>,
    function: &str,
    config: &Path,
    runs: &Path,
    check: impl Fn(&Summary),
    backends: &[kiln_backends::BackendKind],
) {
    for &backend in backends {
        let mut run = 0;
        group.bench_function(format!("{function}/{backend}"), |b| {
            b.iter(|| {
                run += 1;
                let out = runs.join(format!("run-{function}-{backend}-{run}"));
                let summary = train_once(config, backend, &out);
                check(&summary);
                summary.fit_seconds
            })
        });
    }
}

/// k-means (k = 8, k-means++ seeding, one restart, Lloyd) on 100,000 × 10 blobs (std 1.0), from
/// CSV: the size issue 6 sets against scikit-learn.
fn bench_kmeans(c: &mut Criterion) {
    bench_blobs(
        c,
        "kmeans_100k_x_10",
        "lloyd_k8",
        "kind = \"kmeans\"\nk = 8",
    );
}

/// A Gaussian mixture (k = 8, full covariances, k-means initialisation, EM) on the same blobs.
fn bench_gmm(c: &mut Criterion) {
    bench_blobs(c, "gmm_100k_x_10", "em_full_k8", "kind = \"gmm\"\nk = 8");
}

/// A clustering (`model`: the `[model]` table) of 100,000 × 10 blobs (std 1.0) on every
/// backend; every run must find the blobs (adjusted Rand index 1).
fn bench_blobs(c: &mut Criterion, group: &str, function: &str, model: &str) {
    const ROWS: usize = 100_000;
    let dir = tempfile::tempdir().unwrap();
    kiln_benches::write_blobs_csv(&dir.path().join("blobs.csv"), ROWS, 10, 8, 1.0, 3).unwrap();
    let config = write_config(
        dir.path(),
        "blobs.toml",
        &format!(
            "[data]\ntrain = \"blobs.csv\"\ntarget = \"y\"\nvalid_fraction = 0\n\
             standardize = false\n[model]\n{model}\n[train]\nepochs = 300\n"
        ),
    );
    let mut group = c.benchmark_group(group);
    group.sample_size(10);
    group.throughput(Throughput::Elements(ROWS as u64));
    bench_runs(&mut group, function, &config, dir.path(), |summary| {
        assert_eq!(summary.train["adjusted_rand_index"], 1.0)
    });
    group.finish();
}

/// The shipped RBF kernel SVM (C = 1, gamma = "scale") on examples/data/clusters-train.csv,
/// 5,000 × 20, scored on clusters-test.csv: against scikit-learn's `SVC()`
/// (`benches/peers/kernel_svm_reference.py`, `compare.py`).
fn bench_rbf_svm(c: &mut Criterion) {
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs/clusters-rbf-svm.toml");
    let dir = tempfile::tempdir().unwrap();
    let mut group = c.benchmark_group("rbf_svm_5k_x_20");
    group.sample_size(10);
    group.throughput(Throughput::Elements(5_000));
    bench_runs(&mut group, "smo", &config, dir.path(), |summary| {
        assert!(summary.valid["accuracy"] >= 0.922, "{:?}", summary.valid)
    });
    group.finish();
}

/// The shipped 5-D Gaussian process (`configs/waves-gp.toml`: C·RBF with five length scales +
/// white noise, 1,000 rows, L-BFGS on the log marginal likelihood): against scikit-learn's
/// `GaussianProcessRegressor` (`benches/peers/gp_reference.py`, `compare.py`). Each run must
/// reach scikit-learn's log marginal likelihood, -119.034, within 1e-2 relative. Skipped on
/// Mesa's software Vulkan (about 200 s a fit there).
fn bench_gp(c: &mut Criterion) {
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs/waves-gp.toml");
    let dir = tempfile::tempdir().unwrap();
    let mut group = c.benchmark_group("gp_1k_x_5");
    group.sample_size(10);
    group.throughput(Throughput::Elements(1_000));
    let backends = hardware_backends("gp_1k_x_5");
    let check = |summary: &Summary| {
        let lml = summary.train["log_marginal_likelihood"];
        assert!((lml + 119.034).abs() <= 1.19, "{lml}")
    };
    bench_runs_on(
        &mut group,
        "lbfgs_ard_rbf",
        &config,
        dir.path(),
        check,
        &backends,
    );
    group.finish();
}

/// MLP 784-256-10 (ReLU), Adam lr 1e-3, batch 256, on 50,000 rows × 784 features, 10 classes
/// (`make_classification`-like: 50 informative features, 2 clusters per class, class_sep 2):
/// the time of one epoch of training alone (data already on the device), the figure
/// `benches/peers/mlp_torch.py` measures for PyTorch. Afterwards a 5-epoch fit must reach 0.87
/// accuracy on 10,000 held-out rows, and the accuracy is printed.
fn bench_mlp(c: &mut Criterion) {
    use kiln_model_zoo::burn::tensor::{Int, Tensor, TensorData};
    use kiln_model_zoo::mlp::{Activation, Mlp, MlpConfig, MlpTask};
    use kiln_model_zoo::{Batch, DataShape, HostTargets, Targets, Task};
    use kiln_trainer::fit::{FitOptions, fit};
    use kiln_trainer::options::{AdamConfig, OptimizerConfig, TrainConfig};
    use kiln_trainer::rows::{Split, TrainRows};

    const ROWS: usize = 50_000;
    const TEST: usize = 10_000;
    const FEATURES: usize = 784;
    let (mut x, y) = kiln_benches::make_classification(ROWS + TEST, FEATURES, 50, 10, 2, 2.0, 11);
    let mut test_x = x.split_off(ROWS * FEATURES);
    let test_y = y[ROWS..].to_vec();
    let y = y[..ROWS].to_vec();
    kiln_benches::standardize(&mut x, &mut test_x, FEATURES);
    let params = MlpConfig {
        task: MlpTask::Classification,
        hidden: vec![256],
        activation: Activation::Relu,
        dropout: 0.0,
    }
    .check(&DataShape {
        n_features: FEATURES,
        task: Task::Classification { n_classes: 10 },
    })
    .unwrap();
    let config = |epochs| TrainConfig {
        epochs,
        batch_size: 256,
        optimizer: OptimizerConfig::Adam(AdamConfig {
            learning_rate: 1e-3,
            ..Default::default()
        }),
        checkpoint_every: 0,
        ..Default::default()
    };

    let mut group = c.benchmark_group("mlp_50k_x_784");
    group.sample_size(10);
    group.throughput(Throughput::Elements(ROWS as u64));
    for backend in hardware_backends("mlp_50k_x_784") {
        let device = kiln_backends::open(backend).unwrap().device;
        let split = |x: &[f32], y: &[usize]| Split {
            batch: Batch {
                x: Tensor::from_data(TensorData::new(x.to_vec(), [y.len(), FEATURES]), &device),
                targets: Targets::Classes(Tensor::<1, Int>::from_data(
                    TensorData::new(y.iter().map(|&c| c as i64).collect(), [y.len()]),
                    &device,
                )),
            },
            targets: HostTargets::Classes {
                labels: y.to_vec(),
                n_classes: 10,
            },
        };
        let (mut train_rows, test_split) = (
            TrainRows::Resident(Box::new(split(&x, &y))),
            split(&test_x, &test_y),
        );
        let mut fit = |epochs| {
            let config = config(epochs);
            fit::<Mlp>(
                &params,
                &mut train_rows,
                None,
                &device,
                FitOptions::new(&config, 0),
            )
            .unwrap()
        };
        let mut checked = false;
        group.bench_function(format!("adam_1_epoch/{backend}"), |b| {
            // Once, and only when this bench is selected: the accuracy bar.
            if !checked {
                checked = true;
                let fitted = fit(5);
                let accuracy = kiln_trainer::evaluate::evaluate(&fitted.model, &test_split)
                    .unwrap()["accuracy"];
                println!(
                    "mlp_50k_x_784/{backend}: 5 epochs in {:.2} s, test accuracy {accuracy:.4}",
                    fitted.fit_seconds
                );
                assert!(accuracy >= 0.87, "{backend}: test accuracy {accuracy}");
            }
            b.iter(|| fit(1))
        });
    }
    group.finish();
}

/// Loading a raw table as `kiln train` does (the encoding fitted on a profile pass and a
/// statistics pass, then every row read and encoded), from CSV, Parquet and Arrow IPC holding
/// the same 1,000,000 rows: six numeric columns (one with missing cells), two text ones.
fn bench_tables(c: &mut Criterion) {
    use kiln_trainer::data::{Columns, CsvFormat, TargetKind};
    use kiln_trainer::source::read_table;
    use kiln_trainer::table::{Holdout, TableSpec, fit_table};

    const TABLE_ROWS: usize = 1_000_000;
    let dir = tempfile::tempdir().unwrap();
    let paths = kiln_benches::write_mixed_table(dir.path(), TABLE_ROWS, 5).unwrap();
    let target = Some(("label", TargetKind::Labels));
    let mut group = c.benchmark_group("table_1m_x_8");
    group.sample_size(10);
    group.throughput(Throughput::Elements(TABLE_ROWS as u64));
    for (name, path) in ["csv", "parquet", "arrow"].into_iter().zip(&paths) {
        group.bench_function(format!("fit_and_read/{name}"), |b| {
            b.iter(|| {
                let spec = TableSpec::default();
                let fitted =
                    fit_table(path, target, &spec, CsvFormat::default(), Holdout::None).unwrap();
                let columns = Columns {
                    target,
                    encoding: Some(&fitted.encoding),
                    drop_incomplete: true,
                    ..Default::default()
                };
                let data = read_table(path, columns).unwrap();
                // 5 colours and 40 cities one-hot, beside the six numbers.
                assert_eq!((data.n_rows(), data.n_features()), (TABLE_ROWS, 51));
                data
            })
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    bench_tables,
    bench_train,
    bench_kmeans,
    bench_gmm,
    bench_rbf_svm,
    bench_gp,
    bench_mlp
);
criterion_main!(benches);
