// Speed targets of the tuning issue: exact solve at N = 65,536 distinct lengths and K = 16
// (<= 100 ms); naive/exact solve-time ratio at N = 8,192 (>= 50x); one evaluation of 16
// boundaries (<= 5 us); histogram ingestion from memory (>= 50 M lengths/s); CSV parsing
// (>= 100 MB/s). Full runs: build/tests/bench/bench_tuner --benchmark_repetitions=5
#include "core/traffic/distribution.h"
#include "core/tuning/boundary_tuner.h"

#include <benchmark/benchmark.h>

#include <random>

using namespace bucketlab;

namespace {

// Every length 1..n present, with lognormal-shaped counts, and a measured-looking curve.
BucketEvaluator makeEvaluator(int64_t n)
{
    std::mt19937_64 rng(7);
    std::vector<std::pair<int64_t, int64_t>> counts;
    for (int64_t l = 1; l <= n; ++l) {
        const double x = std::log(double(l) * 4096.0 / double(n));
        counts.emplace_back(l, 1 + int64_t(1000.0 * std::exp(-(x - 5) * (x - 5) / 2)) +
                                   int64_t(rng() % 5));
    }
    std::vector<LatencyPoint> points;
    for (int64_t l = 16; l <= 2 * n; l *= 2)
        points.push_back({l, 1.0 + 0.004 * double(l) + 1e-7 * double(l) * double(l)});
    return BucketEvaluator(LengthHistogram::fromCounts(counts),
                           LatencyCurve::fromPoints(points, "bench"));
}

void solve(benchmark::State& state, TuneAlgorithm algorithm)
{
    const BucketEvaluator ev = makeEvaluator(state.range(0));
    const BoundaryTuner tuner(ev);
    TuneSettings s;
    s.buckets = int(state.range(1));
    s.algorithm = algorithm;
    for (auto _ : state)
        benchmark::DoNotOptimize(tuner.solve(s));
}

void BM_ExactSolve(benchmark::State& state)
{
    solve(state, TuneAlgorithm::Exact);
}
void BM_NaiveSolve(benchmark::State& state)
{
    solve(state, TuneAlgorithm::Naive);
}

void BM_ExactSolveP99(benchmark::State& state)
{
    const BucketEvaluator ev = makeEvaluator(state.range(0));
    const BoundaryTuner tuner(ev);
    TuneSettings s;
    s.buckets = int(state.range(1));
    s.objective = TuneObjective::MeanLatencyP99Budget;
    // A budget the 99.5th-percentile length meets: feasible, and binding.
    s.p99BudgetMs = ev.curve().at(ev.histogram().quantile(0.995));
    for (auto _ : state)
        benchmark::DoNotOptimize(tuner.solve(s));
}

void BM_Evaluate(benchmark::State& state)
{
    const BucketEvaluator ev = makeEvaluator(65536);
    std::vector<int64_t> b;
    for (int k = 1; k <= 16; ++k)
        b.push_back(int64_t(k) * 4096 - 100);
    b.back() = 65536;
    int64_t wiggle = 0;
    for (auto _ : state) {
        // A dragged boundary: one value changes every call.
        b[7] = 7 * 4096 + (wiggle++ & 1023);
        // As the desktop does on every mouse move: the edited values become boundaries.
        benchmark::DoNotOptimize(ev.evaluate(*bucketlab::Boundaries::tryFrom(b)));
    }
}

void BM_HistogramIngest(benchmark::State& state)
{
    std::mt19937_64 rng(3);
    std::vector<int64_t> lengths(size_t(1) << 24);
    for (auto& l : lengths)
        l = 1 + int64_t(std::exp(4.5 + 0.9 * std::normal_distribution<double>()(rng))) % 8192;
    for (auto _ : state) {
        LengthHistogramBuilder b;
        for (int64_t l : lengths)
            b.add(l);
        benchmark::DoNotOptimize(b.build());
    }
    state.SetItemsProcessed(int64_t(state.iterations()) * int64_t(lengths.size()));
}

void csvParse(benchmark::State& state, bool twoColumns)
{
    std::mt19937_64 rng(5);
    std::string text = twoColumns ? "request_id,length\n" : "length\n";
    for (int i = 0; i < 4'000'000; ++i) {
        if (twoColumns)
            text += std::to_string(1000000 + i) + ",";
        text += std::to_string(1 + rng() % 4096) + "\n";
    }
    for (auto _ : state)
        benchmark::DoNotOptimize(parseDistributionCsv(text, "bench.csv", {}));
    state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(text.size()));
}

void BM_CsvParseOneColumn(benchmark::State& state)
{
    csvParse(state, false);
}
void BM_CsvParseTwoColumns(benchmark::State& state)
{
    csvParse(state, true);
}

} // namespace

BENCHMARK(BM_ExactSolve)->Args({65536, 16})->Args({8192, 16})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_NaiveSolve)->Args({8192, 16})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ExactSolveP99)->Args({65536, 16})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Evaluate)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_HistogramIngest)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CsvParseOneColumn)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CsvParseTwoColumns)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
