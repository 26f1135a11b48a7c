#!/usr/bin/env bash
# Builds the libFuzzer targets (the fuzz preset: clang-14, ASan + UBSan, build-fuzz/) and runs
# them, one after the other. Two modes:
#   scripts/fuzz.sh [SECONDS] [TARGET...]  explore: each target for SECONDS (default 60); the
#       corpora grow in build-fuzz/corpus/<target> and carry over between runs.
#   scripts/fuzz.sh --ci [TARGET...]       the CI pass: reproducible, so a commit's result does
#       not depend on luck or machine speed. Each target starts from the seed corpus and the
#       committed regressions only, with a fixed seed, a fixed number of runs (the table
#       below), no corpus reloading and address-space randomisation off (libFuzzer's compare
#       tracing records pointer values, which would steer its mutations differently each run):
#       the same commit runs the same inputs every time.
# Either mode fails when a target finds a crash, a leak, a sanitizer report, a time-out (25 s
# for one input: the archive fixtures at the readers' limits take 2 s under ASan alone, 10+ s
# on a loaded machine; FUZZ_INPUT_TIMEOUT=SECONDS sets another, for a long campaign beside other
# work, where a slow input's wall time stretches with the load), runaway memory (2 GB) or a
# broken promise (fuzz_check.h); the input
# that did it is kept as build-fuzz/artifacts/<target>-crash-... (replay it with
# build-fuzz/fuzz/<target> FILE). Every input once found is committed under
# tests/fuzz/regressions/<target>/: both modes run those first, and the default build replays
# them as CTest tests (tst_fuzz_regressions_<target>). Seeds come from tests/fuzz/make_corpus.py.
set -euo pipefail
cd "$(dirname "$0")/.."
ci=0
seconds=60
if [ "${1:-}" = "--ci" ]; then
    ci=1
    shift
elif [ $# -gt 0 ]; then
    seconds=$1
    shift
fi
targets=("$@")
# Runs per target in the CI pass: 10-30 s each on the 2-core VM at load 8-11 (about 390 s in
# all there; well under half that on an idle machine). fuzz_archive_records runs slowest: mutants of
# its seeds that nest shared modules many levels deep take up to ~10 s each under ASan there.
declare -A ci_runs=(
    [fuzz_pickle]=15000 [fuzz_archive]=10000 [fuzz_archive_records]=2000 [fuzz_traffic]=3000
    [fuzz_request_traffic]=5000 [fuzz_profile]=80000 [fuzz_project]=50000
    [fuzz_package_meta]=100000 [fuzz_kernel_source]=8000 [fuzz_options]=150000
)
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
fixed=()
if [ $ci = 1 ]; then
    if setarch "$(uname -m)" -R true 2>/dev/null; then
        fixed=(setarch "$(uname -m)" -R)
    else
        echo "fuzz: cannot turn off address-space randomisation here (setarch -R refused):" \
            "the runs are bounded but not exactly reproducible" >&2
    fi
fi
failed=()
for t in "${targets[@]}"; do
    mkdir -p "$corpus/$t" "$corpus/seed/$t"
    seeds=("$corpus/seed/$t")
    [ ! -d "tests/fuzz/regressions/$t" ] || seeds=("tests/fuzz/regressions/$t" "${seeds[@]}")
    log="build-fuzz/$t.log"
    if [ $ci = 1 ]; then
        runs=${ci_runs[$t]:-10000}
        rm -rf "build-fuzz/ci-corpus/$t"
        mkdir -p "build-fuzz/ci-corpus/$t" # new inputs go here, never into the seeds
        echo "fuzz: $t, $runs runs from seed 1 (log $log)" >&2
        mode=(build-fuzz/ci-corpus/"$t" "${seeds[@]}" -seed=1 -runs="$runs" -reload=0)
    else
        echo "fuzz: $t for ${seconds} s (log $log)" >&2
        mode=("$corpus/$t" "${seeds[@]}" -max_total_time="$seconds")
    fi
    if "${fixed[@]}" build-fuzz/fuzz/"$t" "${mode[@]}" -timeout="${FUZZ_INPUT_TIMEOUT:-25}" -rss_limit_mb=2048 -max_len=131072 \
        -print_final_stats=1 -artifact_prefix="$artifacts/$t-" >"$log" 2>&1; then
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
