#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine if needed, builds BucketLab and runs every test via CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake --preset default >/dev/null
cmake --build --preset default
ctest --preset default "$@"
