// The profiler's harness overhead per sample (issue target: <= 2 us): what a profiler
// sample costs beyond the forward call itself, measured against a trivial TorchScript
// model (`return x`) so that the forward is as cheap as a call can be. Each iteration
// times a bare loop (copy the inputs, read the clock, forward, read the clock, store) and
// a profiler run's sampling phase on the same model, back to back, so machine drift hits
// both; the overhead is the median of the per-iteration differences.
#include "core/latency/profiler.h"
#include "core/runtime/torch_io_p.h"
#include "core/spec/input_spec.h"

#include <benchmark/benchmark.h>
#include <torch/script.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct TrivialModel {
    std::string path;
    TrivialModel()
    {
        path = (std::filesystem::temp_directory_path() / "bucketlab_bench_identity.pt").string();
        torch::jit::Module m("__torch__.Identity");
        m.define("def forward(self, x: Tensor) -> Tensor:\n    return x\n");
        m.save(path);
    }
    static const TrivialModel& get()
    {
        static TrivialModel t;
        return t;
    }
};

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
}

// Microseconds per sample of the plainest timing loop.
double bareLoopUs(torch::jit::Method& forward, const std::vector<c10::IValue>& inputs,
                  double seconds)
{
    std::vector<double> samples;
    samples.reserve(1 << 20);
    const auto start = Clock::now();
    const auto end =
        start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    while (Clock::now() < end) {
        std::vector<c10::IValue> args = inputs;
        const auto t0 = Clock::now();
        c10::IValue out = forward(std::move(args));
        const auto t1 = Clock::now();
        samples.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    return std::chrono::duration<double, std::micro>(Clock::now() - start).count() /
           double(samples.size());
}

// Microseconds per sample of the profiler's sampling phase (budget and cancel checks,
// convergence checkpoints, progress) on the same model.
double profilerUs(const bucketlab::ProfileObserver& observer, double seconds)
{
    bucketlab::ProfileRequest r;
    r.model = TrivialModel::get().path;
    r.inputs = {bucketlab::InputSpec{"x", bucketlab::DType::Float32, 0, 1}};
    r.lengths = {16};
    r.targetCiPct = 0; // sample until the budget ends
    r.maxSamplesPerPoint = 10'000'000;
    r.budgetS = seconds;
    const auto p = bucketlab::runProfile(r, {}, observer);
    return std::stod(p.settings.at("sampling_s")) * 1e6 / double(p.points[0].samples);
}

void harnessOverhead(benchmark::State& state, bool withProgress)
{
    bucketlab::setComputeThreads(1);
    torch::NoGradGuard noGrad;
    auto module = torch::jit::load(TrivialModel::get().path);
    auto forward = module.get_method("forward");
    const std::vector<c10::IValue> inputs = {torch::ones({1, 16})};
    for (int i = 0; i < 3; ++i)
        forward(inputs);
    bucketlab::ProfileObserver control;
    int64_t reports = 0;
    if (withProgress)
        control.progress = [&](const bucketlab::ProfilerProgress&) {
            ++reports;
        };
    std::vector<double> bare, profiler, overhead;
    for (auto _ : state) {
        const double b = bareLoopUs(forward, inputs, 0.3);
        const double p = profilerUs(control, 0.6);
        bare.push_back(b);
        profiler.push_back(p);
        overhead.push_back(p - b);
        state.SetIterationTime(p / 1e6);
    }
    state.counters["bare_us"] = median(bare);
    state.counters["profiler_us"] = median(profiler);
    state.counters["overhead_us"] = median(overhead);
    if (withProgress)
        state.counters["progress_reports"] = double(reports);
}

void BM_HarnessOverhead(benchmark::State& state)
{
    harnessOverhead(state, false);
}
// As the GUI runs it: a progress callback (live statistics every 0.1 s).
void BM_HarnessOverheadWithProgress(benchmark::State& state)
{
    harnessOverhead(state, true);
}

BENCHMARK(BM_HarnessOverhead)->UseManualTime()->Iterations(5)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_HarnessOverheadWithProgress)
    ->UseManualTime()
    ->Iterations(5)
    ->Unit(benchmark::kMicrosecond);

} // namespace

BENCHMARK_MAIN();
