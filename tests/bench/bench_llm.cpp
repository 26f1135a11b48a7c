// Joint CTE/TKG tuning on an Azure-trace-sized input (issue 16 target: <= 1 s as a whole
// process): 20,000 requests, prompts up to 14k tokens, outputs up to 2k, one CSV row per
// request in the trace's own format (TIMESTAMP,ContextTokens,GeneratedTokens), K_total = 16.
//   BM_LlmWholeProcess   `bucketlab-cli llm ... --json --nxd-config --vllm-config`, exec to exit
//   BM_CliStartFloor     `bucketlab-cli --version`: what starting that executable costs before
//                        any command runs (it does not load LibTorch), for reading the figure
//                        above
//   BM_LlmReadAndTune    the same work in process: read the file, derive the workload, tune,
//                        evaluate the baselines, serialise the JSON
//   BM_LlmTuneBatched    the 2-D search: a continuous-batching model with 8 sequences
#include "core/latency/latency_curve.h"
#include "core/llm/decode_batches.h"
#include "core/llm/llm_tuner.h"
#include "core/llm/request_traffic.h"

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/resource.h>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace bucketlab;

namespace {

constexpr const char* kSpec = "prompt=lognormal:mu=7.3,sigma=1.1,max=14000;"
                              "output=lognormal:mu=4.6,sigma=1.3,max=2000;n=20000;seed=16";
constexpr const char* kCte = "poly:8,0.025,0.0000025";
constexpr const char* kTkg = "linear:9,0.0004";
constexpr int64_t kMaxContext = 14336;
constexpr int64_t kSeqLen = 16384;
constexpr int kBuckets = 16;

fs::path scratch()
{
    static const fs::path dir = [] {
        fs::path d =
            fs::temp_directory_path() / ("bucketlab_bench_llm_" + std::to_string(::getpid()));
        fs::create_directories(d);
        return d;
    }();
    return dir;
}

// The synthetic traffic as the trace's CSV: one row per request, in a shuffled order.
const fs::path& trafficFile()
{
    static const fs::path file = [] {
        const RequestTraffic t = syntheticRequestTraffic(kSpec);
        fs::path f = scratch() / "trace.csv";
        std::ofstream out(f);
        out << "TIMESTAMP,ContextTokens,GeneratedTokens\n";
        int64_t row = 0;
        for (const auto& p : t.pairs())
            for (int64_t i = 0; i < p.count; ++i, ++row)
                out << "2023-11-16 18:" << (row / 600) % 60 << ":" << (row / 10) % 60 << "."
                    << row % 10 << "," << p.prompt << "," << p.output << "\n";
        return f;
    }();
    return file;
}

double childCpuSeconds()
{
    rusage u{};
    ::getrusage(RUSAGE_CHILDREN, &u);
    return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           1e-6 * double(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

// Wall seconds of one run; its CPU seconds (user + system, the shell included) add up in
// `cpu`, a figure a loaded machine disturbs less than the wall clock.
double run(benchmark::State& state, const std::string& args, double& cpu)
{
    const std::string command = "'" BUCKETLAB_CLI "' " + args + " >/dev/null 2>&1";
    const double cpu0 = childCpuSeconds();
    const auto t0 = std::chrono::steady_clock::now();
    const int rc = std::system(command.c_str());
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    cpu += childCpuSeconds() - cpu0;
    if (rc != 0)
        state.SkipWithError(("failed: " + command).c_str());
    return s;
}

void BM_LlmWholeProcess(benchmark::State& state)
{
    const std::string args = "llm --traffic '" + trafficFile().string() + "' --cte-latency " +
                             kCte + " --tkg-latency " + kTkg + " --max-context-length " +
                             std::to_string(kMaxContext) + " --seq-len " + std::to_string(kSeqLen) +
                             " --buckets " + std::to_string(kBuckets) +
                             " --json --force --nxd-config '" + (scratch() / "nxd.json").string() +
                             "' --vllm-config '" + (scratch() / "vllm.json").string() + "'";
    double cpu = 0;
    for (auto _ : state)
        state.SetIterationTime(run(state, args, cpu));
    state.counters["process_cpu_s"] = cpu / double(state.iterations());
}

void BM_CliStartFloor(benchmark::State& state)
{
    double cpu = 0;
    for (auto _ : state)
        state.SetIterationTime(run(state, "--version", cpu));
    state.counters["process_cpu_s"] = cpu / double(state.iterations());
}

void BM_LlmReadAndTune(benchmark::State& state)
{
    const std::string file = trafficFile().string();
    LlmCosts costs;
    costs.cte = LatencyCurve::fromSpec(kCte);
    costs.tkg = LatencyCurve::fromSpec(kTkg);
    LlmTuneSettings s;
    s.limits = {kMaxContext, kSeqLen, 0};
    s.totalBuckets = kBuckets;
    for (auto _ : state) {
        const RequestTraffic t = readRequestTraffic(file, {});
        const LlmTuneResult r = tuneLlmBuckets(t, costs, s);
        benchmark::DoNotOptimize(r.toJson().dump());
        state.counters["mean_request_ms"] = r.best.meanRequestMs;
        state.counters["tkg_steps"] = double(r.workload.tkgSteps);
    }
}

void BM_LlmTuneBatched(benchmark::State& state)
{
    const RequestTraffic t = syntheticRequestTraffic(kSpec);
    LlmCosts costs;
    costs.cte = LatencyCurve::fromSpec(kCte);
    costs.tkg = LatencyCurve::fromSpec(kTkg);
    costs.tkgBatch = BatchLatency::scaled(costs.tkg, 0.15);
    LlmTuneSettings s;
    s.limits = {kMaxContext, kSeqLen, 0};
    s.totalBuckets = kBuckets;
    for (auto _ : state) {
        const DecodeCalls calls = simulateContinuousBatching(t, s.limits, 8, 1);
        const LlmTuneResult r = tuneLlmBuckets(t, costs, s, {}, &calls);
        state.counters["exact"] = r.exact ? 1 : 0;
        state.counters["decode_calls"] = double(calls.totalCalls());
    }
}

} // namespace

BENCHMARK(BM_LlmWholeProcess)->UseManualTime()->Iterations(5)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CliStartFloor)->UseManualTime()->Iterations(5)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LlmReadAndTune)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LlmTuneBatched)->Iterations(2)->Unit(benchmark::kMillisecond);

int main(int argc, char** argv)
{
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    fs::remove_all(scratch());
    return 0;
}
