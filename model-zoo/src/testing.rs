//! Test helpers: the devices of every compiled-in backend, deterministic data, a tiny optimiser
//! loop.

use alloc::vec::Vec;

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
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

/// Deterministic pseudo-random numbers (64-bit LCG, Box–Muller normals).
pub struct Lcg(u64);

impl Lcg {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1))
    }

    /// Uniform in (0, 1).
    pub fn uniform(&mut self) -> f32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 40) as f32 + 0.5) / (1u64 << 24) as f32
    }

    pub fn normal(&mut self) -> f32 {
        let (u, v) = (self.uniform(), self.uniform());
        num_traits::Float::sqrt(-2.0 * num_traits::Float::ln(u))
            * num_traits::Float::cos(2.0 * core::f32::consts::PI * v)
    }
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
