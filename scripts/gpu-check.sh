#!/usr/bin/env bash
# The GPU check: times kiln's models on a GPU (vulkan and wgpu) against flex on the same
# machine's CPU, and checks that each model's quality matches (trainer/examples/gpu_check.rs).
#
#   scripts/gpu-check.sh --small    here, on Mesa's software Vulkan (wgpu) and flex, at small
#                                   sizes: a run of the check itself, so it cannot rot
#   scripts/gpu-check.sh --bundle   builds the check with wgpu + vulkan in release and puts it,
#                                   with the Vulkan loader's Debian packages, in .gpu-check/
#                                   (about 40 MB; git ignores it) for the GPU machine
#   scripts/gpu-check.sh --run [--scale F] [--out DIR]
#                                   on the GPU machine, from the bundle: installs the loader,
#                                   then runs vulkan, wgpu and flex at full size (--scale 1:
#                                   under 8 minutes on an H100) and writes DIR/gpu-check.json
#                                   and DIR/gpu-check.md
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:---small}"
shift || true
scale=1
out=gpu-check
while (($#)); do
    case "$1" in
        --scale) scale="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        *) echo "gpu-check: unknown argument $1" >&2; exit 2 ;;
    esac
done

case "$mode" in
    --small)
        scripts/setup.sh
        source scripts/env.sh
        # The features of the test build (scripts/test.sh), so nothing is compiled again.
        cargo build --release --quiet -p kiln-trainer --features ndarray,wgpu --example gpu_check
        "$CARGO_TARGET_DIR/release/examples/gpu_check" --backends flex,wgpu --scale 0.002 --out "$out"
        ;;
    --bundle)
        source scripts/env.sh
        start=$(date +%s)
        cargo build --release -p kiln-trainer --features wgpu,vulkan --example gpu_check
        echo "gpu-check: built in $(($(date +%s) - start)) s" >&2
        mkdir -p .gpu-check/gl /tmp/amd64/partial
        cp "$CARGO_TARGET_DIR/release/examples/gpu_check" .gpu-check/
        strip .gpu-check/gpu_check 2>/dev/null || true
        o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
        # shellcheck disable=SC2086
        apt-get $o update -qq
        # shellcheck disable=SC2086
        (cd .gpu-check/gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 >/dev/null)
        du -sh .gpu-check
        ;;
    --run)
        if ! ldconfig -p | grep -q libvulkan; then
            for f in .gpu-check/gl/*.deb; do dpkg -x "$f" /; done
            ldconfig
        fi
        if [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ] && [ -z "${VK_DRIVER_FILES:-}" ]; then
            export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
        fi
        nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null || true
        .gpu-check/gpu_check --backends vulkan,wgpu,flex --scale "$scale" --out "$out"
        ;;
    *)
        echo "gpu-check: use --small, --bundle or --run" >&2
        exit 2
        ;;
esac
