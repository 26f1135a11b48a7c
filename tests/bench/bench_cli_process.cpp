// bucketlab-cli as whole processes, against a trivial C program in the same run (issue 11's
// torch-free fast path: `inspect` of a 400 MB package <= 60 ms, `tune` on 65,536 distinct
// lengths with K = 16 <= 150 ms). Each process is started with posix_spawn and waited for,
// output to /dev/null:
//   BM_Process/true             /bin/true: what starting any process costs here
//   BM_Process/cli_version      bucketlab-cli --version
//   BM_Process/cli_inspect      bucketlab-cli inspect PACKAGE --json
//   BM_Process/cli_tune         bucketlab-cli tune over 65,536 distinct lengths, K = 16, --json
//   BM_Process/cli_module_help  bucketlab-cli build --help: a command of the torch module,
//                               what opening LibTorch costs
// and in this process: the zip index alone, and readArchive.
// The package (100 M float32 parameters) is written once to $TMPDIR/bucketlab_bench_inspect,
// or taken from $BUCKETLAB_BENCH_PACKAGE; the traffic file beside it.
#include "core/archive/archive.h"
#include "core/archive/model_info.h"
#include "core/archive/zip_reader.h"
#include "core/package/package.h"

#include <benchmark/benchmark.h>
#include <torch/script.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace {

namespace fs = std::filesystem;

const std::string& package()
{
    static const std::string path = [] {
        if (const char* given = std::getenv("BUCKETLAB_BENCH_PACKAGE"))
            return std::string(given);
        const fs::path dir = fs::temp_directory_path() / "bucketlab_bench_inspect";
        fs::create_directories(dir);
        const std::string model = (dir / "large_model.pt").string();
        const std::string out = (dir / "large_package.pt").string();
        if (!fs::exists(out) || fs::file_size(out) < 400'000'000) {
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
            r.out = out;
            r.force = true;
            bucketlab::buildPackage(r);
            fs::remove(model);
        }
        return out;
    }();
    return path;
}

// Every length 1..65,536 present, with lognormal-shaped counts (the tuner benchmark's traffic),
// as a length,count histogram.
const std::string& traffic()
{
    static const std::string path = [] {
        const fs::path dir = fs::temp_directory_path() / "bucketlab_bench_inspect";
        fs::create_directories(dir);
        const std::string out = (dir / "lengths_65536.csv").string();
        std::ofstream csv(out, std::ios::trunc);
        csv << "length,count\n";
        for (int64_t l = 1; l <= 65536; ++l) {
            const double x = std::log(double(l) / 16.0);
            csv << l << "," << 1 + int64_t(1000.0 * std::exp(-(x - 5) * (x - 5) / 2)) << "\n";
        }
        return out;
    }();
    return path;
}

// Wall seconds from spawn to exit; -1 when the program fails.
double runProcess(const std::vector<std::string>& argv)
{
    std::vector<char*> args;
    for (const auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    const auto t0 = std::chrono::steady_clock::now();
    pid_t pid = 0;
    int status = 0;
    const bool ok = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ) == 0 &&
                    waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
                    WEXITSTATUS(status) == 0;
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    posix_spawn_file_actions_destroy(&actions);
    return ok ? s : -1;
}

void BM_Process(benchmark::State& state, std::vector<std::string> argv)
{
    for (auto& a : argv) {
        if (a == "PACKAGE")
            a = package();
        else if (a == "TRAFFIC")
            a = traffic();
    }
    runProcess(argv); // warm the page cache and the dynamic loader's caches
    for (auto _ : state) {
        const double s = runProcess(argv);
        if (s < 0) {
            state.SkipWithError((argv[0] + " failed").c_str());
            break;
        }
        state.SetIterationTime(s);
    }
    state.counters["file_MB"] = double(fs::file_size(package())) / 1e6;
}
BENCHMARK_CAPTURE(BM_Process, true, std::vector<std::string>{"/bin/true"})
    ->UseManualTime()
    ->Iterations(20)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Process, cli_version, std::vector<std::string>{BUCKETLAB_CLI, "--version"})
    ->UseManualTime()
    ->Iterations(20)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Process, cli_inspect,
                  std::vector<std::string>{BUCKETLAB_CLI, "inspect", "PACKAGE", "--json"})
    ->UseManualTime()
    ->Iterations(20)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Process, cli_tune,
                  std::vector<std::string>{BUCKETLAB_CLI, "tune", "--distribution", "TRAFFIC",
                                           "--latency", "poly:1,0.004,1e-7", "--buckets", "16",
                                           "--json"})
    ->UseManualTime()
    ->Iterations(10)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Process, cli_module_help,
                  std::vector<std::string>{BUCKETLAB_CLI, "build", "--help"})
    ->UseManualTime()
    ->Iterations(5)
    ->Unit(benchmark::kMillisecond);

void BM_ZipIndex(benchmark::State& state)
{
    size_t records = 0;
    for (auto _ : state)
        records = bucketlab::ZipReader(package()).entries().size();
    state.counters["records"] = double(records);
}
BENCHMARK(BM_ZipIndex)->Unit(benchmark::kMicrosecond);

void BM_ReadArchive(benchmark::State& state)
{
    int64_t parameters = 0;
    for (auto _ : state)
        parameters = bucketlab::readArchive(package()).parameterCount;
    state.counters["parameters"] = double(parameters);
}
BENCHMARK(BM_ReadArchive)->Unit(benchmark::kMillisecond);

} // namespace

BENCHMARK_MAIN();
