// The profiler's harness overhead per sample (issue target: <= 2 us): what a profiler
// sample costs beyond the forward call itself, measured against a trivial TorchScript
// model (`return x`) so that the forward is as cheap as a call can be. Each iteration
// times a bare loop (copy the inputs, read the clock, forward, read the clock, store) and
// a profiler run's sampling phase on the same model, back to back, so machine drift hits
// both; the overhead is the median of the per-iteration differences.
//
// The real-time behaviour the gating tests check on a simulated clock, as this machine
// shows it: how close a run ends to its budget, how long cancelling takes beside one
// sample, and what the demo package's padded forward costs against its bare bucket model.
#include "core/demo/demo.h"
#include "core/latency/profiler.h"
#include "core/runtime/torch_io_p.h"
#include "core/spec/input_spec.h"

#include <benchmark/benchmark.h>
#include <torch/script.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
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

const bucketlab::DemoFiles& demo()
{
    static const bucketlab::DemoFiles files = bucketlab::prepareDemo(
        (std::filesystem::temp_directory_path() / "bucketlab_bench_profiler_demo").string());
    return files;
}

bucketlab::ProfileRequest demoRequest(std::vector<int64_t> lengths, double budget)
{
    bucketlab::ProfileRequest r;
    r.model = demo().model;
    r.inputs = bucketlab::demoInputs();
    r.lengths = std::move(lengths);
    r.budgetS = budget;
    return r;
}

// A 2 s budget that no confidence target ends early: the wall time the run took.
void BM_BudgetKept(benchmark::State& state)
{
    auto r = demoRequest({64, 256}, 2);
    r.targetCiPct = 0;
    std::vector<double> overrun;
    for (auto _ : state) {
        const auto t0 = Clock::now();
        bucketlab::runProfile(r);
        const double s = std::chrono::duration<double>(Clock::now() - t0).count();
        state.SetIterationTime(s);
        overrun.push_back((s - r.budgetS) / r.budgetS * 100);
    }
    state.counters["overrun_pct"] = median(overrun);
}

// Cancelled 300 ms into sampling length 512: from the cancel to the run's return, against
// the longest sample seen (a call under way finishes; none starts after).
void BM_CancelLatency(benchmark::State& state)
{
    std::vector<double> latency, sample;
    for (auto _ : state) {
        auto r = demoRequest({512}, 60);
        r.targetCiPct = 0;
        std::atomic<bool> cancel{false}, sampling{false};
        std::atomic<double> longest{0};
        bucketlab::ProfileObserver observer;
        observer.intervalS = 0.02;
        observer.progress = [&](const bucketlab::ProfilerProgress& p) {
            if (p.stage == bucketlab::ProfileStage::Sampling)
                sampling = true;
            if (p.point)
                for (double ms : p.point->samplesMs)
                    longest = std::max(longest.load(), ms);
        };
        Clock::time_point stopped;
        std::thread worker([&] {
            try {
                bucketlab::runProfile(r, bucketlab::Job::cancellable(&cancel), observer);
            } catch (const std::exception&) {
            }
            stopped = Clock::now();
        });
        while (!sampling)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        const auto cancelledAt = Clock::now();
        cancel = true;
        worker.join();
        const double ms = std::chrono::duration<double, std::milli>(stopped - cancelledAt).count();
        state.SetIterationTime(ms / 1000);
        latency.push_back(ms);
        sample.push_back(longest);
    }
    state.counters["cancel_ms"] = median(latency);
    state.counters["one_sample_ms"] = median(sample);
}

// Length 200 in the demo package (buckets 128,512): the model at 200, the package's forward
// (padded to 512) and its bucket model at 200, measured in alternation on the thread's CPU
// clock; medians of the per-round medians.
void BM_PaddedAgainstBare(benchmark::State& state)
{
    std::vector<double> model, padded, bare;
    for (auto _ : state) {
        auto r = demoRequest({200}, 1);
        r.clock = bucketlab::ProfileClock::ThreadCpu;
        model.push_back(bucketlab::runProfile(r).points[0].p50Ms);
        r.model = demo().package;
        r.inputs.clear();
        padded.push_back(bucketlab::runProfile(r).points[0].p50Ms);
        r.bucketModel = true;
        bare.push_back(bucketlab::runProfile(r).points[0].p50Ms);
        state.SetIterationTime(padded.back() / 1000);
    }
    state.counters["model_200_ms"] = median(model);
    state.counters["package_200_ms"] = median(padded);
    state.counters["bucket_model_200_ms"] = median(bare);
}

BENCHMARK(BM_BudgetKept)->UseManualTime()->Iterations(3)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CancelLatency)->UseManualTime()->Iterations(3)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PaddedAgainstBare)->UseManualTime()->Iterations(3)->Unit(benchmark::kMillisecond);

} // namespace

BENCHMARK_MAIN();
