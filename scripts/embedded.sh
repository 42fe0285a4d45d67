#!/usr/bin/env bash
# The whole embedded check in one command: trains and exports linear and logistic regression on
# the host, builds the Cortex-M4F firmware (examples/embedded) with them embedded, runs it under
# qemu-system-arm, and compares every prediction and the on-device training with the host's.
# Then prints the firmware's sizes. scripts/test.sh runs the same test as part of the suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh
cargo test --release --workspace --features kiln-trainer/ndarray,kiln-trainer/wgpu --test embedded -- --nocapture
arm-none-eabi-size "$CARGO_TARGET_DIR-firmware/thumbv7em-none-eabihf/release/kiln-firmware"
