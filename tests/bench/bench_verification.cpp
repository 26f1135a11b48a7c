// Predicted against measured on the real demo model, the comparison the gating tests make
// on a simulated device (tst_bucket_verification): a piecewise-linear curve through a
// profiled grid (log-spaced lengths plus the current buckets) predicts the expected latency
// of a boundary set on the MRPC traffic; the boundary lengths are then measured, (a) in the
// grid's own run, interleaved with it, and (b) as `tune --verify` does, in a separate run
// scaled back to the grid's conditions through three re-measured grid points. Counters:
// the prediction error in % for each set (positive: predicted above measured).
#include "core/demo/demo.h"
#include "core/latency/latency_curve.h"
#include "core/latency/profile_grid.h"
#include "core/latency/profiler.h"
#include "core/traffic/distribution.h"
#include "core/tuning/bucket_evaluator.h"
#include "core/tuning/bucket_verification.h"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

namespace {

using namespace bucketlab;

const std::vector<std::vector<int64_t>> kBoundarySets = {
    {48, 64, 88, 111}, {40, 56, 72, 96, 128}, {128, 512}};

const DemoFiles& demo()
{
    static const DemoFiles files = prepareDemo(
        (std::filesystem::temp_directory_path() / "bucketlab_bench_verification_demo").string());
    return files;
}

ProfileRequest demoRequest(std::vector<int64_t> lengths, double budget)
{
    ProfileRequest r;
    r.model = demo().model;
    r.inputs = demoInputs();
    r.lengths = std::move(lengths);
    r.budgetS = budget;
    return r;
}

// The curve a tuner is given: the grid's medians, straight lines between them.
LatencyCurve curveOf(const Profile& p, const std::vector<int64_t>& grid)
{
    std::vector<LatencyPoint> points;
    for (const auto& pt : p.points)
        if (std::find(grid.begin(), grid.end(), pt.length) != grid.end())
            points.push_back({pt.length, pt.p50Ms});
    return LatencyCurve::fromPoints(points, "grid");
}

std::string counterName(const std::vector<int64_t>& set, const char* how)
{
    std::string name = std::string(how) + "_err_pct_";
    for (size_t k = 0; k < set.size(); ++k)
        name += (k ? "_" : "") + std::to_string(set[k]);
    return name;
}

void BM_PredictedAgainstMeasured(benchmark::State& state)
{
    const auto traffic = readDistributionFile(demo().distribution, {});
    const auto grid = gridLengths(12, 16, 512, demoCurrentBoundaries());
    for (auto _ : state) {
        // (a) one run: the grid and every set's lengths, interleaved.
        auto r = demoRequest(grid, 20);
        for (const auto& set : kBoundarySets)
            r.lengths.insert(r.lengths.end(), set.begin(), set.end());
        std::sort(r.lengths.begin(), r.lengths.end());
        r.lengths.erase(std::unique(r.lengths.begin(), r.lengths.end()), r.lengths.end());
        const Profile together = runProfile(r);
        const LatencyCurve curve = curveOf(together, grid);
        for (const auto& set : kBoundarySets) {
            const auto boundaries = Boundaries::from(set, Field::Boundaries);
            const Evaluation predicted = BucketEvaluator(traffic, curve).evaluate(boundaries);
            double measured = 0, total = 0;
            for (const auto& b : predicted.buckets)
                for (const auto& pt : together.points)
                    if (pt.length == b.boundary) {
                        measured += double(b.requests) * pt.p50Ms;
                        total += double(b.requests);
                    }
            measured /= total;
            state.counters[counterName(set, "same_run")] =
                predictionErrorPct(predicted.stats.meanLatencyMs, measured);
        }
        // (b) separate runs, as `tune --verify`.
        for (const auto& set : kBoundarySets) {
            const auto boundaries = Boundaries::from(set, Field::Boundaries);
            const Evaluation predicted = BucketEvaluator(traffic, curve).evaluate(boundaries);
            auto v = verificationRequestFor(predicted, curve);
            v.model = demo().model;
            v.inputs = demoInputs();
            v.budgetS = 6;
            const auto check = checkPrediction(predicted.stats.meanLatencyMs, measureBuckets(v), 5);
            state.counters[counterName(set, "separate")] = check.errorPct;
        }
    }
}

BENCHMARK(BM_PredictedAgainstMeasured)->Iterations(1)->Unit(benchmark::kSecond);

} // namespace

BENCHMARK_MAIN();
