#!/usr/bin/env bash
# The torch-free core under AddressSanitizer + UBSan (the asan preset, build-asan/): builds
# bucketlab_analysis and the test suites that link only it (CTest label torch_free, built by
# the torch_free_tests target, so no LibTorch unit is compiled) and runs them. CI does not run
# it (README "Sanitizers" says why); the whole suite under ASan is `cmake --preset asan && cmake --build --preset asan &&
# ctest --preset asan` (see README "Sanitizers"). Extra arguments go to ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if command -v ccache >/dev/null; then
    export CMAKE_CXX_COMPILER_LAUNCHER=ccache
fi
cmake --preset asan >/dev/null
cmake --build --preset asan --target torch_free_tests
ctest --preset asan -L torch_free "$@"
