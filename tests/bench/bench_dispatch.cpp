// Dispatch overhead of a package: package.forward(unpadded input) against calling the
// bucket model directly on the input already padded to the same bucket (issue target:
// overhead <= 5 %). Demo encoder, batch 1, one intra-op thread for stable figures.
#include "core/demo/demo.h"
#include "core/package/package.h"
#include "core/runtime/torch_io_p.h"

#include <benchmark/benchmark.h>
#include <torch/script.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <vector>

namespace {

struct Fixture {
    std::string dir;
    torch::jit::Module package;
    torch::jit::Module model;
    Fixture()
    {
        dir = (std::filesystem::temp_directory_path() / "bucketlab_bench_dispatch").string();
        const auto files = bucketlab::prepareDemo(dir);
        package = torch::jit::load(files.package);
        model = torch::jit::load(files.model);
        package.eval();
        model.eval();
        bucketlab::setComputeThreads(1);
    }
    static Fixture& get()
    {
        static Fixture f;
        return f;
    }
};

std::vector<c10::IValue> inputs(int64_t length, int64_t padTo)
{
    auto ids = torch::ones({1, length}, torch::kInt64);
    auto mask = torch::ones({1, length}, torch::kInt64);
    return {bucketlab::padTo(ids, 1, padTo, 0), bucketlab::padTo(mask, 1, padTo, 0)};
}

int64_t bucketFor(int64_t length)
{
    return length <= 128 ? 128 : 512;
}

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
}

// The machine's noise (±10 % between runs) is larger than the effect, so the two calls are
// interleaved in every iteration and the overhead is the median of per-iteration ratios.
void BM_DispatchOverhead(benchmark::State& state)
{
    auto& f = Fixture::get();
    torch::NoGradGuard noGrad;
    const int64_t length = state.range(0);
    const auto padded = inputs(length, bucketFor(length));
    const auto raw = inputs(length, length);
    for (int i = 0; i < 3; ++i) { // the profiling executor optimises after ~2 runs per shape
        f.model.forward(padded);
        f.package.forward(raw);
    }
    std::vector<double> direct, package, ratio;
    using clock = std::chrono::steady_clock;
    for (auto _ : state) {
        const auto t0 = clock::now();
        benchmark::DoNotOptimize(f.model.forward(padded));
        const auto t1 = clock::now();
        benchmark::DoNotOptimize(f.package.forward(raw));
        const auto t2 = clock::now();
        const double d = std::chrono::duration<double, std::milli>(t1 - t0).count();
        const double p = std::chrono::duration<double, std::milli>(t2 - t1).count();
        direct.push_back(d);
        package.push_back(p);
        ratio.push_back((p - d) / d * 100.0);
        state.SetIterationTime(p / 1000.0);
    }
    state.counters["direct_ms"] = median(direct);
    state.counters["package_ms"] = median(package);
    state.counters["overhead_pct"] = median(ratio);
}

// What the package adds, alone: the generated kernel (length check, padding, index).
void BM_GeneratedKernel(benchmark::State& state)
{
    auto& f = Fixture::get();
    torch::NoGradGuard noGrad;
    const auto raw = inputs(state.range(0), state.range(0));
    auto kernel = f.package.get_method("bucket_kernel");
    c10::List<at::Tensor> list;
    for (const auto& t : raw)
        list.push_back(t.toTensor());
    for (int i = 0; i < 3; ++i)
        kernel({list});
    for (auto _ : state)
        benchmark::DoNotOptimize(kernel({list}));
}

// Lengths: inside a bucket (padding needed) and exactly at a boundary (no padding).
BENCHMARK(BM_DispatchOverhead)
    ->Arg(100)
    ->Arg(128)
    ->Arg(400)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_GeneratedKernel)->Arg(100)->Arg(128)->Arg(400)->Unit(benchmark::kMicrosecond);

} // namespace

BENCHMARK_MAIN();
