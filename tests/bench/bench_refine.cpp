// `tune --refine` on the real demo, the loop tst_refine checks on a simulated device: the
// demo package's bucket model, the MRPC traffic, four buckets serving up to 512 as 128,512
// does, starting from the demo's 25-length profile. Counters: the final point error between
// the predicted and the measured mean latency in % (issue 13 wants it within +-3 % on the
// development VM; printed, not asserted: it is a measurement), the rounds, whether the loop
// converged, both means, and the loop's own estimate of the set with its error (what the
// prediction was before it was priced from fresh samples: biased low by the selection).
// BUCKETLAB_REFINE_BUDGET_S sets each measuring run's budget (default 15 s).
#include "core/demo/demo.h"
#include "core/latency/profile_format.h"
#include "core/latency/profiler.h"
#include "core/traffic/distribution.h"
#include "core/tuning/refine.h"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace {

using namespace bucketlab;

const DemoFiles& demo()
{
    static const DemoFiles files = prepareDemo(
        (std::filesystem::temp_directory_path() / "bucketlab_bench_refine_demo").string());
    return files;
}

double budgetS()
{
    const char* v = std::getenv("BUCKETLAB_REFINE_BUDGET_S");
    return v && std::atof(v) > 0 ? std::atof(v) : 15.0;
}

// state.range(0): 0 the wall clock (the latency a caller sees), 1 the profiling thread's CPU
// time (what the boundaries cost in compute, without the time other processes hold the CPU:
// the figure that says something on a busy shared machine).
void BM_RefineDemo(benchmark::State& state)
{
    const LengthHistogram traffic = readDistributionFile(demo().distribution, {});
    const Profile start = readProfile(demo().profile);
    BucketVerificationRequest settings;
    settings.model = demo().package;
    settings.budgetS = budgetS();
    settings.clock = state.range(0) ? ProfileClock::ThreadCpu : ProfileClock::Wall;
    state.SetLabel(state.range(0) ? "cpu clock" : "wall clock");
    RefineRequest request;
    request.tuning.settings.buckets = 4;
    request.tuning.current = demoCurrentBoundaries();
    request.tuning.paretoMax = -1;
    for (auto _ : state) {
        const RefineResult r =
            refineTuning(traffic, 0, start, demo().profile, request, profilerMeasurer(settings), {},
                         [](const RefineRound& round) {
                             std::fprintf(stderr, "round %d: %s, predicted %.4f ms\n", round.round,
                                          round.boundaries.str().c_str(), round.predictedMs);
                         });
        std::fprintf(stderr,
                     "refined %s: predicted %.4f ms [%.4f, %.4f], measured %.4f ms [%.4f, "
                     "%.4f], error %+.2f %%; the rounds' own estimate %.4f ms, error %+.2f %%\n",
                     r.report.solution.boundaries.str().c_str(), r.predictedMs, r.predictedLowMs,
                     r.predictedHighMs, r.check.measuredMs, r.check.measuredLowMs,
                     r.check.measuredHighMs, r.check.errorPct, r.loopPredictedMs, r.loopErrorPct);
        state.counters["error_pct"] = r.check.errorPct;
        state.counters["rounds"] = double(r.rounds.size());
        state.counters["converged"] = r.converged ? 1 : 0;
        state.counters["predicted_ms"] = r.predictedMs;
        state.counters["measured_ms"] = r.check.measuredMs;
        state.counters["loop_error_pct"] = r.loopErrorPct;
    }
}

BENCHMARK(BM_RefineDemo)->Arg(0)->Arg(1)->Iterations(1)->Unit(benchmark::kSecond);

} // namespace

BENCHMARK_MAIN();
