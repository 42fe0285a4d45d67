#!/usr/bin/env bash
# kiln's whole test suite, as CI runs it: installs what is missing, checks formatting, then runs
# every test on every backend CI can run (flex, ndarray, and wgpu on Mesa's software Vulkan).
# Everything builds in the release profile only, so burn is compiled once.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh

cargo fmt --all -- --check
# The model zoo and the flex backend must keep building without std, for microcontrollers.
cargo build --release -p kiln-model-zoo -p kiln-backends --no-default-features \
    --features kiln-backends/flex --target thumbv7em-none-eabihf
cargo test --release --workspace --features kiln-trainer/ndarray,kiln-trainer/wgpu "$@"
