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

extern crate alloc;

pub mod data;
pub mod deploy;
pub mod error;
pub mod fit;
pub mod gaussian_process;
pub mod glm;
pub mod gmm;
pub mod gp_kernel;
pub mod kernel_svm;
pub mod kmeans;
pub mod lbfgs;
pub mod linalg;
pub mod linear_regression;
pub mod linear_svm;
pub mod logistic_regression;
pub mod metrics;
pub mod mlp;
pub mod model;
#[cfg(feature = "autodiff")]
pub mod online;
pub mod rng;
#[cfg(feature = "std")]
pub mod synthetic;

#[cfg(test)]
pub(crate) mod testing;

/// burn, as the model zoo uses it (firmware needs no separate dependency).
pub use burn;
pub use data::{Batch, DataShape, Targets, Task};
pub use error::{ConfigError, FitError};
pub use fit::{FitMethod, Prediction, StepRecord};
pub use model::{Model, ModelConfig, ModelSpec, Supervision};
