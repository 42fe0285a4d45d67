use std::sync::atomic::{AtomicBool, Ordering};

use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};
use kiln_model_zoo::data::read_f32;
use kiln_model_zoo::estimator::fresh;
use kiln_model_zoo::{
    Batch, DataShape, Estimator, HostTargets, Model, ModelSpec, Prediction, Targets, Task,
};
use serde_json::json;

use super::gradient::{Step, gradient_step, splits_steps};
use super::*;
use crate::checkpoint::Checkpoint;
use crate::options::{OptimizerConfig, SgdConfig};
use crate::schedule::optimizer;

/// The zoo model a `[model]` table (as JSON) describes, checked against `shape`.
fn spec(table: serde_json::Value, shape: &DataShape) -> ModelSpec {
    Model::check(&Model::read_config(table).unwrap(), shape).unwrap()
}

/// 300 rows around three centres in 2-D, well mixed.
fn blobs(device: &Device) -> Split {
    let mut rng = kiln_model_zoo::rng::Rng::new(5);
    let centres = [(-4.0, 0.0), (4.0, 1.0), (0.0, 5.0)];
    let x: Vec<f32> = (0..300)
        .flat_map(|i| {
            let (cx, cy) = centres[i % 3];
            [
                (cx + 1.5 * rng.normal()) as f32,
                (cy + 1.5 * rng.normal()) as f32,
            ]
        })
        .collect();
    // The blob of each row: labels for the classifier, ignored by the clusterings.
    let labels: Vec<usize> = (0..300).map(|i| i % 3).collect();
    let classes: Vec<i64> = labels.iter().map(|&l| l as i64).collect();
    Split {
        batch: Batch {
            x: Tensor::from_data(TensorData::new(x, [300, 2]), device),
            targets: Targets::Classes(Tensor::from_data(TensorData::new(classes, [300]), device)),
        },
        targets: HostTargets::Classes {
            labels,
            n_classes: 3,
        },
    }
}

/// Builds a test split on a device.
type MakeSplit = fn(&Device) -> Split;

/// 100 rows of a noisy sine, for the Gaussian process.
fn sine(device: &Device) -> Split {
    let mut rng = kiln_model_zoo::rng::Rng::new(6);
    let x: Vec<f32> = (0..100).map(|i| i as f32 / 10.0).collect();
    let y: Vec<f32> = x
        .iter()
        .map(|v| (v.sin() as f64 + 0.2 * rng.normal()) as f32)
        .collect();
    Split {
        batch: Batch {
            x: Tensor::from_data(TensorData::new(x, [100, 1]), device),
            targets: Targets::Values(Tensor::from_data(
                TensorData::new(y.clone(), [100, 1]),
                device,
            )),
        },
        targets: HostTargets::Values(y),
    }
}

/// An iterative fit (k-means and a mixture with restarts, a one-vs-rest kernel SVM, a
/// Gaussian process's and a logistic regression's L-BFGS) stopped halfway and resumed from its
/// checkpoint ends with the parameters, byte for byte, and the history of a fit never stopped.
#[test]
fn interrupted_iterative_fits_resume_to_the_same_result() {
    let labelled = DataShape {
        n_features: 2,
        task: Task::Classification { n_classes: 3 },
    };
    let regression = DataShape {
        n_features: 1,
        task: Task::Regression,
    };
    let specs: [(serde_json::Value, DataShape, MakeSplit); 5] = [
        (
            json!({"kind": "kmeans", "k": 3, "n_init": 4}),
            labelled,
            blobs,
        ),
        (
            json!({"kind": "gmm", "k": 3, "n_init": 4, "tol": 1e-6}),
            labelled,
            blobs,
        ),
        // One step per class at least: 1,000 SMO iterations solve each problem here.
        (json!({"kind": "kernel_svm"}), labelled, blobs),
        (json!({"kind": "gaussian_process"}), regression, sine),
        (
            json!({"kind": "logistic_regression", "solver": "lbfgs", "tol": 1e-6}),
            labelled,
            blobs,
        ),
    ];
    for (kind, (table, shape, data)) in kiln_backends::compiled()
        .into_iter()
        .flat_map(|kind| specs.iter().map(move |spec| (kind, spec)))
    {
        let device = kiln_backends::open(kind).unwrap().device;
        let spec = spec(table.clone(), shape);
        let label = format!("{kind} {spec:?}");
        let config = TrainConfig::default();
        let (epochs, stopped) =
            assert_resumes_bit_identical::<Model>(&label, &spec, &data(&device), &config);
        // One step per epoch: the fit stops right after the epoch that raised the flag.
        assert_eq!(stopped, Some((epochs / 2, epochs / 2)), "{label}");
    }
}

/// Fits `params` three times: through; stopped by the interrupt flag raised at the end of
/// the middle epoch, with a checkpoint; resumed from that checkpoint. The resumed fit must
/// end with the parameters, byte for byte, and the losses of the fit never stopped.
/// Returns the number of epochs and where the stopped fit stopped (epoch, step).
pub(crate) fn assert_resumes_bit_identical<M: Estimator>(
    label: &str,
    params: &M::Params,
    split: &Split,
    config: &TrainConfig,
) -> (usize, Option<(usize, usize)>) {
    let device = split.batch.x.device();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(crate::checkpoint::FILE);
    let run = |options: FitOptions| {
        let mut rows = TrainRows::Resident(Box::new(split.clone()));
        fit::<M>(params, &mut rows, None, &device, options)
    };

    let whole = run(FitOptions::new(config, 0)).unwrap();
    let epochs = whole.history.len();
    assert!(epochs >= 3, "{label}: {epochs} epochs");
    let stop_after = epochs / 2;

    let stop = AtomicBool::new(false);
    let mut on_epoch = |record: &EpochRecord, _| {
        stop.store(record.epoch == stop_after, Ordering::Relaxed);
        Ok(())
    };
    let stopped = run(FitOptions {
        checkpoint: Some(&path),
        interrupt: Some(&stop),
        on_epoch: Some(&mut on_epoch),
        ..FitOptions::new(config, 0)
    })
    .unwrap();

    let resumed = run(FitOptions {
        checkpoint: Some(&path),
        resume: Some(Checkpoint::read(&path).unwrap()),
        ..FitOptions::new(config, 0)
    })
    .unwrap();
    assert_eq!(resumed.interrupted, None);
    assert_eq!(
        model_bytes(&resumed.model).unwrap(),
        model_bytes(&whole.model).unwrap(),
        "{label}: parameters differ"
    );
    let losses = |h: &[EpochRecord]| h.iter().map(|r| r.train_loss).collect::<Vec<_>>();
    assert_eq!(losses(&resumed.history), losses(&whole.history), "{label}");
    (epochs, stopped.interrupted)
}

/// 1,024 rows of 64 features around four centres: with a 256-unit MLP and batches of 512,
/// enough work per step for a CPU backend to split it (512 × 17,668 parameters ≥ 192³).
fn wide(device: &Device) -> Split {
    let mut rng = kiln_model_zoo::rng::Rng::new(7);
    let (rows, features) = (1024, 64);
    let labels: Vec<usize> = (0..rows).map(|i| i % 4).collect();
    let x: Vec<f32> = labels
        .iter()
        .flat_map(|&c| (0..features).map(move |j| (c, j)))
        .map(|(c, j)| ((j % 4 == c) as u8 as f64 + rng.normal()) as f32)
        .collect();
    Split {
        batch: Batch {
            x: Tensor::from_data(TensorData::new(x, [rows, features]), device),
            targets: Targets::Classes(Tensor::from_data(
                TensorData::new(labels.iter().map(|&c| c as i64).collect(), [rows]),
                device,
            )),
        },
        targets: HostTargets::Classes {
            labels,
            n_classes: 4,
        },
    }
}

/// A gradient step split into halves on two threads moves the weights as the whole batch's
/// step does, to float rounding, on every compiled backend; on a CPU backend a fit takes
/// split steps, and stopped mid-epoch and resumed it ends byte for byte where a fit never
/// stopped does.
#[test]
fn halved_steps_match_whole_steps_and_resume_bit_identical() {
    let spec = spec(
        json!({"kind": "mlp", "hidden": [256], "activation": "relu", "dropout": 0.0}),
        &DataShape {
            n_features: 64,
            task: Task::Classification { n_classes: 4 },
        },
    );
    let config = TrainConfig {
        epochs: 4,
        batch_size: 512,
        optimizer: OptimizerConfig::Sgd(SgdConfig {
            learning_rate: 0.5,
            ..Default::default()
        }),
        checkpoint_every: 0,
        ..Default::default()
    };
    for kind in kiln_backends::compiled() {
        let device = kiln_backends::open(kind).unwrap().device;
        let split = wide(&device);
        let autodiff = device.clone().autodiff();
        let model: Model = fresh(&spec, &autodiff);
        let splits = splits_steps::<Model>(&spec, &model, config.batch_size, &device);
        assert_eq!(splits, !kind.is_gpu(), "{kind}");

        let rows = split.batch.clone().autodiff();
        let take = |start: usize, count: usize| rows.narrow(start, count);
        let step = |halves: bool| {
            let mut optimizer = optimizer(&config.optimizer, None);
            let step = Step {
                lr: 0.5,
                len: 512,
                n_train: 1024,
                halves,
                seed: None,
            };
            let (model, loss) =
                gradient_step(model.clone(), &mut optimizer, step, &take, &device).unwrap();
            let Prediction::Probabilities(p) = model.valid().predict(split.batch.x.clone()) else {
                unreachable!("a classifier")
            };
            (read_f32(loss).unwrap()[0], read_f32(p).unwrap())
        };
        let (whole_loss, whole_p) = step(false);
        let (halves_loss, halves_p) = step(true);
        assert!(
            (whole_loss - halves_loss).abs() < 1e-6,
            "{kind}: {whole_loss} {halves_loss}"
        );
        let moved = whole_p.iter().map(|p| (p - 0.25).abs()).fold(0.0, f32::max);
        assert!(
            moved > 0.05,
            "{kind}: the step moved the predictions by {moved}"
        );
        let worst = whole_p
            .iter()
            .zip(&halves_p)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(worst < 1e-5, "{kind}: probabilities differ by {worst}");

        let (epochs, stopped) =
            assert_resumes_bit_identical::<Model>(&format!("{kind} mlp"), &spec, &split, &config);
        assert_eq!(epochs, 4);
        // Two steps per epoch: the flag raised after epoch 2 stops the fit after step 5.
        assert_eq!(stopped, Some((3, 5)), "{kind}");
    }
}
