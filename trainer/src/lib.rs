//! kiln's trainer: fit any model of the zoo, or a model of your own, on any burn backend, with
//! one training loop, from Rust or from a TOML config.
//!
//! # From Rust
//! A model is a type that implements [`Estimator`] (every model of [`kiln_model_zoo`] does,
//! and so can your own burn `Module`). [`Trainer`] fits it on a [`Dataset`] (rows in memory or
//! a CSV file) with the options of a config file's `[train]` table ([`TrainConfig`]: the
//! optimizer, the learning-rate schedule, early stopping, checkpoints), and returns a
//! [`Fitted`] model that predicts, evaluates and saves a run directory the `kiln` tool reads:
//!
//! ```
//! use kiln_model_zoo::logistic_regression::{LogisticRegression, LogisticRegressionConfig};
//! use kiln_trainer::{Dataset, Trainer};
//!
//! // Two classes on either side of the line a = b.
//! let (mut x, mut labels) = (Vec::new(), Vec::new());
//! for i in 0..40 {
//!     let (a, b) = ((i % 8) as f32, (i / 8) as f32 * 1.7);
//!     x.extend([a, b]);
//!     labels.push(if a > b { "above" } else { "below" });
//! }
//! let data = Dataset::classification(vec!["a".into(), "b".into()], x, &labels).unwrap();
//!
//! let device = burn::tensor::Device::flex();
//! let config = LogisticRegressionConfig { l2: 0.01, ..Default::default() };
//! let fitted = Trainer::default()
//!     .fit::<LogisticRegression>(&config, &data, None, &device)
//!     .unwrap();
//! assert!(fitted.evaluate(&data).unwrap()["accuracy"] >= 0.95);
//! assert_eq!(fitted.predict_labels(&data).unwrap().unwrap()[0], "below");
//! ```
//!
//! `cargo run --release --example fit_predict` fits a classifier, a regressor and a clusterer
//! this way; `cargo run --release --example custom_model` brings a model of its own.
//!
//! # Layers
//! - [`data`]: data sets (CSV and in memory) and the train/valid split; [`stream`]: a CSV
//!   file read a chunk at a time; [`preprocess`]: the feature scaling and label encoding
//!   fitted on training rows; [`rows`]: the rows a fit trains on, on the device.
//! - [`fit`]: the two fit loops ([`fit::gradient`], [`fit::iterative`]) with [`options`],
//!   [`schedule`], [`early_stopping`], [`checkpoint`] and [`records`]; [`evaluate`]: metrics.
//! - [`trainer`]: the front door above; [`run`]: run directories.
//! - [`config`]: the TOML config file; [`commands`]: what each `kiln` command does;
//!   [`cli`]: the command-line tool itself, which a program of your own can extend with its
//!   model kinds.
#![warn(missing_docs)]

pub mod atomic;
pub mod checkpoint;
pub mod cli;
pub mod columnar;
pub mod commands;
pub mod config;
pub mod cross_validation;
pub mod data;
pub mod early_stopping;
pub mod error;
pub mod evaluate;
pub mod fit;
pub mod options;
pub mod plot;
pub mod predictions;
pub mod preprocess;
pub mod progress;
pub mod records;
pub mod rows;
pub mod run;
pub mod schedule;
pub mod search;
pub mod source;
pub mod stream;
pub mod table;
pub mod trainer;

pub use data::Dataset;
pub use error::{Error, Result};
pub use kiln_model_zoo::{Estimator, Metrics};
pub use options::TrainConfig;
pub use records::EpochRecord;
pub use trainer::{Fitted, Trainer};
