#!/usr/bin/env bash
# Installs what kiln's tests need beyond Rust itself, only where it is missing (so it is fast
# when everything is there):
#   - Mesa's software Vulkan driver (lavapipe), so the wgpu backend runs without a GPU;
#   - QEMU's Arm system emulator, to run the Cortex-M4F firmware in the embedded test, and
#     arm-none-eabi-size to report the firmware's flash and RAM;
#   - the rustup target thumbv7em-none-eabihf (Cortex-M4F), for the firmware and no_std builds.
# Needs root or sudo for apt-get on Debian/Ubuntu.
set -euo pipefail

missing=()
for pkg in mesa-vulkan-drivers libvulkan1 qemu-system-arm binutils-arm-none-eabi; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done

if ((${#missing[@]})); then
    if ! command -v apt-get >/dev/null; then
        echo "setup: please install ${missing[*]} (a Vulkan driver and loader) with your package manager" >&2
        exit 1
    fi
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "setup: installing ${missing[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! rustup target list --installed | grep -qx thumbv7em-none-eabihf; then
    echo "setup: adding the rustup target thumbv7em-none-eabihf" >&2
    rustup target add thumbv7em-none-eabihf
fi
