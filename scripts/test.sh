#!/usr/bin/env bash
# kiln's whole test suite, as CI runs it: installs what is missing, checks formatting, then runs
# every test on every backend CI can run (flex, ndarray, and wgpu on Mesa's software Vulkan),
# and the embedded check (firmware for a Cortex-M4F under QEMU).
# Everything builds in the release profile only, so burn is compiled once.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh

cargo fmt --all -- --check
cargo fmt --manifest-path examples/embedded/Cargo.toml -- --check
# tests/embedded.rs builds the no_std firmware (model zoo + flex for thumbv7em-none-eabihf)
# and runs it under QEMU, so a model zoo that stops building without std fails here.
cargo test --release --workspace --features kiln-trainer/ndarray,kiln-trainer/wgpu "$@"
