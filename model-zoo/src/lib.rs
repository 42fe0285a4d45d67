//! kiln's models, written once for every burn backend.
//!
//! Nothing here names a backend: every function takes a [`burn::tensor::Device`] (or tensors
//! already on one), so the same code trains on flex, ndarray, wgpu or a microcontroller.
//! Builds `no_std` + `alloc` with `--no-default-features`.
//!
//! Each model module holds its config (serde, validated into checked parameters), its
//! `#[derive(Module)]` struct, `predict`, its fitting code and its tests. Models are fitted one
//! of two ways, both reporting the same [`fit::StepRecord`]:
//! - **gradient fit** ([`fit::FitMethod::Gradient`]): the model gives a loss for a batch and the
//!   trainer owns the optimizer, schedule, batches and epochs;
//! - **iterative fit** ([`fit::FitMethod::Iterative`]): the model owns an update step over the
//!   whole data set (closed form, Lloyd, EM, ...).
#![cfg_attr(not(feature = "std"), no_std)]
// With only some models compiled in (a firmware's build), helpers and match arms that only the
// others use go unused; the default build, with every model, keeps these lints.
#![cfg_attr(
    not(feature = "all-models"),
    allow(dead_code, unused_imports, unused_variables, unreachable_patterns)
)]

extern crate alloc;

pub mod data;
pub mod deploy;
pub mod error;
pub mod fit;
#[cfg(feature = "gaussian-process")]
pub mod gaussian_process;
#[cfg(feature = "glm")]
pub mod glm;
#[cfg(feature = "gmm")]
pub mod gmm;
#[cfg(feature = "gaussian-process")]
pub mod gp_kernel;
#[cfg(feature = "kernel-svm")]
pub mod kernel_svm;
#[cfg(feature = "kmeans")]
pub mod kmeans;
pub mod lbfgs;
pub mod linalg;
#[cfg(feature = "linear-regression")]
pub mod linear_regression;
#[cfg(feature = "linear-svm")]
pub mod linear_svm;
#[cfg(feature = "logistic-regression")]
pub mod logistic_regression;
pub mod metrics;
#[cfg(feature = "mlp")]
pub mod mlp;
pub mod model;
#[cfg(feature = "autodiff")]
pub mod online;
pub mod rng;
#[cfg(feature = "std")]
pub mod synthetic;

#[cfg(test)]
pub(crate) mod testing;

#[cfg(not(any(
    feature = "linear-regression",
    feature = "logistic-regression",
    feature = "kmeans",
    feature = "mlp",
    feature = "linear-svm",
    feature = "glm",
    feature = "gmm",
    feature = "kernel-svm",
    feature = "gaussian-process",
)))]
compile_error!(
    "kiln-model-zoo needs at least one model feature, e.g. `all-models` or `logistic-regression`"
);

/// burn, as the model zoo uses it (firmware needs no separate dependency).
pub use burn;
pub use data::{Batch, DataShape, Targets, Task};
pub use error::{ConfigError, FitError};
pub use fit::{FitMethod, Prediction, StepRecord};
pub use model::{Model, ModelConfig, ModelSpec, Supervision};
