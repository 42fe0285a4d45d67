//! kiln's trainer: the TOML config, CSV data, the training loop for every model of the zoo, run
//! directories, and the commands of the `kiln` binary.

pub mod checkpoint;
pub mod commands;
pub mod config;
pub mod data;
pub mod error;
pub mod plot;
pub mod progress;
pub mod run;
pub mod stream;
pub mod train;

pub use error::{Error, Result};
