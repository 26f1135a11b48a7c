#!/usr/bin/env bash
# Builds the libFuzzer targets (the fuzz preset: clang-14, ASan + UBSan, build-fuzz/) and runs
# each for SECONDS (default 60), one after the other. Fails when any target finds a crash, a
# leak, a sanitizer report, a time-out (25 s for one input: the archive fixtures at the
# readers' limits take 2 s under ASan alone, 10+ s on a loaded machine) or runaway memory
# (2 GB); the
# input that did it is kept as build-fuzz/artifacts/<target>-crash-... (replay it with
# build-fuzz/fuzz/<target> FILE). Corpora grow in build-fuzz/corpus/<target>, seeded once by
# tests/fuzz/make_corpus.py (again when it changes). Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then # every target: tests/fuzz/fuzz_*.cpp
    for f in tests/fuzz/fuzz_*.cpp; do targets+=("$(basename "$f" .cpp)"); done
fi

# clang and libFuzzer only for this preset: the default build stays on g++.
scripts/setup.sh clang-14 libclang-rt-14-dev libfuzzer-14-dev
if command -v ccache >/dev/null; then
    export CMAKE_CXX_COMPILER_LAUNCHER=ccache
fi
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz --target "${targets[@]}"

corpus=build-fuzz/corpus
artifacts=build-fuzz/artifacts
if [ ! -d "$corpus/seed" ] || [ tests/fuzz/make_corpus.py -nt "$corpus/seed" ]; then
    rm -rf "$corpus/seed" "$corpus/seed.tmp"
    /usr/bin/python3 tests/fuzz/make_corpus.py "$corpus/seed.tmp" >/dev/null
    mv "$corpus/seed.tmp" "$corpus/seed"
fi
mkdir -p "$artifacts"
failed=()
for t in "${targets[@]}"; do
    mkdir -p "$corpus/$t" "$corpus/seed/$t"
    log="build-fuzz/$t.log"
    echo "fuzz: $t for ${seconds} s (log $log)" >&2
    if build-fuzz/fuzz/"$t" "$corpus/$t" "$corpus/seed/$t" -max_total_time="$seconds" \
        -timeout=25 -rss_limit_mb=2048 -max_len=131072 -print_final_stats=1 \
        -artifact_prefix="$artifacts/$t-" >"$log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        edges=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
        echo "fuzz: $t clean: ${runs:-?} runs, ${edges:-?} edges covered" >&2
    else
        echo "fuzz: $t FAILED, see $log:" >&2
        grep -E "ERROR|SUMMARY|broke its promise|Test unit written" "$log" | head -5 >&2 || true
        failed+=("$t")
    fi
done
[ ${#failed[@]} -eq 0 ] || { echo "fuzz: findings in ${failed[*]}" >&2; exit 1; }
