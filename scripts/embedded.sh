#!/usr/bin/env bash
# The whole embedded check in one command: trains and exports nine models on the host, builds
# the Cortex-M4F firmware (examples/embedded) three ways (every model with on-device training;
# linear + logistic regression + k-means with training; logistic regression + k-means for
# inference only), runs each under qemu-system-arm, compares every prediction and the
# on-device training with the host's, and checks the flash and RAM targets. Each firmware's
# sizes are printed (`firmware `NAME`: flash ... B`). scripts/test.sh runs the same test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh
cargo test --release --workspace --features kiln-trainer/ndarray,kiln-trainer/wgpu --test embedded -- --nocapture
