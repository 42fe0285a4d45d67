//! Test helpers: the devices of every compiled-in backend, deterministic data, a tiny optimiser
//! loop.

use alloc::vec::Vec;

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams, LBFGSConfig, LineSearchFn};
use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::data::{Batch, Targets};

/// Runs `check` once per backend compiled into this build (flex always; ndarray and wgpu when
/// the workspace is built with their features). A compiled-in backend that does not work here
/// fails the test rather than being skipped: CI must not pass on fewer backends than it built.
pub fn for_each_device(mut check: impl FnMut(&Device)) {
    for kind in kiln_backends::compiled() {
        let backend = kiln_backends::open(kind).unwrap_or_else(|e| {
            panic!("{e} (run scripts/setup.sh to install the software Vulkan driver)")
        });
        check(&backend.device);
    }
}

/// Reads a shipped CSV of numbers (header row, target column last) and standardises the
/// features with the population standard deviation, as scikit-learn's `StandardScaler`.
pub fn standardized_csv(text: &str) -> (alloc::vec::Vec<f32>, alloc::vec::Vec<f32>, usize) {
    let mut lines = text.lines();
    let d = lines.next().unwrap().split(',').count() - 1;
    let rows: alloc::vec::Vec<alloc::vec::Vec<f64>> = lines
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect();
    let n = rows.len() as f64;
    let mut x = alloc::vec::Vec::new();
    let stats: alloc::vec::Vec<(f64, f64)> = (0..d)
        .map(|j| {
            let mean = rows.iter().map(|r| r[j]).sum::<f64>() / n;
            let var = rows.iter().map(|r| (r[j] - mean).powi(2)).sum::<f64>() / n;
            (mean, var.sqrt())
        })
        .collect();
    for r in &rows {
        x.extend((0..d).map(|j| ((r[j] - stats[j].0) / stats[j].1) as f32));
    }
    let y = rows.iter().map(|r| r[d] as f32).collect();
    (x, y, d)
}

/// Whether `device` sums in a fixed order, so that the same steps give the same bits from run
/// to run: the CPU backends do; a GPU backend (wgpu) may reduce in whatever order its
/// workgroups finish.
pub fn sums_in_fixed_order(device: &Device) -> bool {
    !alloc::format!("{device:?}").contains("Cube")
}

pub fn features(x: &[f32], n_features: usize, device: &Device) -> Tensor<2> {
    Tensor::from_data(
        TensorData::new(x.to_vec(), [x.len() / n_features, n_features]),
        device,
    )
}

pub fn regression_batch(x: &[f32], y: &[f32], n_features: usize, device: &Device) -> Batch {
    Batch {
        x: features(x, n_features, device),
        targets: Targets::Values(Tensor::from_data(
            TensorData::new(y.to_vec(), [y.len(), 1]),
            device,
        )),
    }
}

pub fn classification_batch(
    x: &[f32],
    labels: &[usize],
    n_features: usize,
    device: &Device,
) -> Batch {
    let labels: Vec<i64> = labels.iter().map(|&l| l as i64).collect();
    let n = labels.len();
    Batch {
        x: features(x, n_features, device),
        targets: Targets::Classes(Tensor::<1, Int>::from_data(
            TensorData::new(labels, [n]),
            device,
        )),
    }
}

/// Full-batch Adam on `loss` for `steps` steps, the learning rate decaying linearly from `lr`
/// to 0 so the result settles on the optimum instead of hovering around it. The model must
/// live on an autodiff device.
pub fn minimize<M: Module>(
    mut model: M,
    steps: usize,
    lr: f64,
    loss: impl Fn(&M) -> Tensor<1>,
) -> M {
    let mut optim = AdamConfig::new().init();
    for step in 0..steps {
        let grads = GradientsParams::from_grads(loss(&model).backward(), &model);
        model = optim.step(lr * (1.0 - step as f64 / steps as f64), model, grads);
    }
    model
}

/// Full-batch L-BFGS with a strong-Wolfe line search on a smooth convex `loss`: reaches the
/// optimum to f32 precision in far fewer steps than [`minimize`] (each step syncs, which costs
/// little on any backend). The model must live on an autodiff device.
pub fn minimize_lbfgs<M: Module + Clone>(model: M, loss: impl Fn(&M) -> Tensor<1>) -> M {
    let mut optim = LBFGSConfig::new()
        .with_max_iter(200)
        .with_tolerance_grad(1e-7)
        .with_tolerance_change(1e-12)
        .with_line_search_fn(LineSearchFn::StrongWolfe)
        .init();
    let (model, _) = optim.step(1.0, model, |m: M| {
        let value = loss(&m);
        let scalar = crate::data::read_f32(value.clone()).expect("a loss reads back")[0];
        let grads = GradientsParams::from_grads(value.backward(), &m);
        (f64::from(scalar), grads)
    });
    model
}
