#!/usr/bin/env bash
# Installs BucketLab's build and test dependencies from Debian's archive when missing.
# Idempotent and quiet when everything is present. Usage: scripts/setup.sh [extra-package...]
set -euo pipefail

packages=(
    g++ cmake ninja-build pkg-config
    qt6-base-dev qt6-svg-dev libqcustomplot-dev
    libtorch-dev nlohmann-json3-dev libcli11-dev libgraphviz-dev libbenchmark-dev
    # core/archive reads deflated zip records (inspect runs without LibTorch).
    zlib1g-dev
    python3-torch
    # LibTorch on Debian calls the reference BLAS unless OpenBLAS provides libblas.so.3
    # (40x slower matrix products); this package makes OpenBLAS the system libblas.
    libopenblas0-pthread
    # tests/cli/tst_report renders the HTML report headless and checks the screenshot.
    chromium
    # The formatter the sources are kept with (.clang-format); scripts/check-format.sh.
    clang-format-14
    # tests/ui/tst_realwindow starts the desktop on a virtual X display (xvfb-run needs xauth).
    xvfb xauth
    "$@"
)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "BucketLab set-up: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "error: need root or sudo to install ${missing[*]}" >&2; exit 2; }
    sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
