#!/usr/bin/env bash
# Runs kiln's criterion benches with the same features (and so the same burn build) as the tests:
#   scripts/bench.sh                 # every bench
#   scripts/bench.sh ols             # only benches whose name contains "ols"
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh
cargo bench --workspace --features kiln-trainer/ndarray,kiln-trainer/wgpu --bench train -- "$@"
