// Speed targets of the kernel issue:
//  - validating a generated kernel over lengths 1..8192 at 3 batch sizes <= 2 s (the whole
//    validation: every length, the other input counts probed, mixed dtypes swept);
//  - `inspect` of a 400 MB package <= 0.5 s (it reads the archive index and pickles only).
#include "core/archive/model_info.h"
#include "core/kernel/kernel.h"
#include "core/kernel/kernel_check.h"
#include "core/kernel/kernel_source.h"
#include "core/package/package.h"
#include "core/runtime/torch_io_p.h"
#include "core/util/output_file.h"

#include <benchmark/benchmark.h>
#include <torch/script.h>

#include <ctime>
#include <filesystem>

namespace {

namespace fs = std::filesystem;

std::string benchDir()
{
    const auto dir = fs::temp_directory_path() / "bucketlab_bench_kernel";
    fs::create_directories(dir);
    return dir.string();
}

void BM_ValidateGeneratedKernel(benchmark::State& state)
{
    bucketlab::KernelLayout layout;
    layout.boundaries = {64, 128, 256, 512, 1024, 2048, 4096};
    layout.inputs = bucketlab::parseInputSpecs("input_ids:int64:0,attention_mask:int64:0");
    const std::string file = benchDir() + "/generated_kernel.py";
    bucketlab::writeFileAtomically(
        file,
        "import torch\nfrom typing import List, Tuple\n\n" +
            bucketlab::generateKernelSource(layout, bucketlab::KernelForm::Function),
        true);
    const auto kernel = bucketlab::loadKernel(file);
    bucketlab::KernelCheckOptions o;
    o.maxLength = 8192;
    o.batchSizes = {1, 2, 5};
    o.inputs = layout.inputs;
    int64_t calls = 0;
    double cpu = 0;
    for (auto _ : state) {
        // Process CPU time over all validator threads: on this shared 2-core VM the wall
        // time depends on the other sessions' load; CPU time / cores is what an idle
        // machine takes.
        const std::clock_t c0 = std::clock();
        const auto r = bucketlab::checkKernel(kernel, o);
        cpu += double(std::clock() - c0) / CLOCKS_PER_SEC;
        if (!r.ok)
            state.SkipWithError("the generated kernel has defects");
        calls = r.calls;
    }
    state.counters["calls"] = double(calls);
    state.counters["cpu_s"] = benchmark::Counter(cpu, benchmark::Counter::kAvgIterations);
}
BENCHMARK(BM_ValidateGeneratedKernel)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_InspectLargePackage(benchmark::State& state)
{
    // A BucketLab package around a model of 100 M float32 parameters (400 MB).
    const std::string dir = benchDir();
    const std::string model = dir + "/large_model.pt", package = dir + "/large_package.pt";
    if (!fs::exists(package) || fs::file_size(package) < 400'000'000) {
        torch::jit::Module m("__torch__.LargeModel");
        for (int i = 0; i < 10; ++i)
            m.register_parameter("w" + std::to_string(i), torch::zeros({10'000'000}), false);
        m.define("def forward(self, input_ids: Tensor, attention_mask: Tensor) -> Tensor:\n"
                 "    return input_ids * attention_mask + self.w0[0]\n");
        m.save(model);
        bucketlab::PackageBuildRequest r;
        r.model = model;
        r.boundaries = {128, 512};
        r.inputs = bucketlab::parseInputSpecs("input_ids:int64:0,attention_mask:int64:0");
        r.out = package;
        r.force = true;
        bucketlab::buildPackage(r);
        fs::remove(model);
    }
    int64_t params = 0;
    for (auto _ : state) {
        const auto info = bucketlab::inspectModel(package);
        params = info.parameterCount;
        if (!info.package)
            state.SkipWithError("not read as a package");
        benchmark::DoNotOptimize(params);
    }
    state.counters["parameters"] = double(params);
    state.counters["file_MB"] = double(fs::file_size(package)) / 1e6;
}
BENCHMARK(BM_InspectLargePackage)->Unit(benchmark::kMillisecond)->Iterations(5);

} // namespace

BENCHMARK_MAIN();
