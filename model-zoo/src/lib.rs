//! kiln's models, written once for every burn backend.
//!
//! Nothing here names a backend: every function takes a [`burn::tensor::Device`] (or tensors
//! already on one), so the same code trains on flex, ndarray, wgpu or a microcontroller.
//! Builds `no_std` + `alloc` with `--no-default-features`.
//!
//! Every model implements one trait, [`Estimator`], in its own module: its config (serde,
//! validated into checked parameters), its `#[derive(Module)]` struct, `predict`, its loss or
//! its fit step, its metrics, what it needs of the data, its checkpoint state, and how it trains
//! on a microcontroller. Models are fitted one of two ways, both reporting the same
//! [`StepRecord`]:
//! - **gradient fit** ([`FitMethod::Gradient`]): the model gives a loss for a batch and the
//!   trainer owns the optimizer, schedule, batches and epochs;
//! - **iterative fit** ([`FitMethod::Iterative`]): the model owns an update step over the
//!   training rows ([`Rows`]), preferably as statistics over the rows (sums that merge by
//!   addition) then an update from them: closed form (`XᵀX`), Lloyd (cluster sums and
//!   counts), L-BFGS (the loss and its gradient), ...
//!
//! The one list of models is in [`model`]: it generates [`ModelConfig`], [`ModelSpec`] and
//! [`Model`], the enums the trainer, the run directory and the firmware use for "any model of
//! the zoo". A user's own model implements [`Estimator`] the same way and gets the whole
//! trainer.
//!
//! # Adding a model to the zoo
//! 1. Write `src/<model>.rs`: its config (`#[serde(deny_unknown_fields, default)]`, the names
//!    and defaults scikit-learn uses for the same estimator), its checked parameters, its
//!    `#[derive(Module)]` struct, `impl Estimator`, and its tests (a scikit-learn reference
//!    pasted above the test with the script that made it, and every backend through
//!    `testing::for_each_device`).
//! 2. Add one line to the `models!` list in [`model`], and its `mod` line here.
//! 3. Add its cargo feature to `Cargo.toml` (and to `all-models`).
//! 4. Add a config under `configs/`; the trainer's tests train every shipped config on every
//!    backend and pin its metrics.
#![cfg_attr(not(feature = "std"), no_std)]
#![warn(missing_docs)]
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
pub mod estimator;
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
pub mod linear_lbfgs;
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
pub mod preprocess;
pub mod rng;
#[cfg(feature = "std")]
pub mod synthetic;
#[cfg(feature = "tables")]
pub mod table;

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
pub use estimator::{BadTarget, ConfigReadError, Estimator, OnDevice, Output, Supervision};
pub use fit::{FitMethod, Prediction, Rows, StepRecord};
pub use metrics::{HostPrediction, HostTargets, Metrics};
pub use model::{Model, ModelConfig, ModelSpec};
pub use preprocess::Preprocessing;
