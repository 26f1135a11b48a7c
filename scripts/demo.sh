#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine if needed, builds BucketLab and runs the demo:
# the desktop when a display is available, otherwise the headless report.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake --preset default >/dev/null
cmake --build --preset default
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
    exec build/bin/bucketlab --demo
else
    exec build/bin/bucketlab-cli demo --out build/demo
fi
