//! kiln's end-to-end tests, one binary with a module per concern: every shipped config on every
//! compiled-in backend (metrics pinned), backends agreeing, the `kiln` binary's commands, bad
//! input, training options, resume after a kill, clustering at scale, streaming, models of a
//! user's own, and the firmware under QEMU.

mod clustering;
mod commands;
mod common;
mod configs;
mod custom_model;
mod degenerate;
mod embedded;
mod errors;
mod examples;
mod fuzz_corpus;
mod model_selection;
mod reliability;
mod resume;
mod runs;
mod streaming;
mod tables;
mod training;
