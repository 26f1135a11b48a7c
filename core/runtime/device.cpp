#include "core/runtime/device.h"

#include "core/archive/archive.h"
#include "core/runtime/torch_io_p.h"
#include "core/util/error.h"
#include "core/util/host_info.h"
#include "core/util/text.h"

#include <caffe2/serialize/inline_container.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include <cstdlib>
#include <dlfcn.h>
#include <filesystem>
#include <fstream>
#include <glob.h>
#include <mutex>
#include <sstream>
#include <sys/utsname.h>
#include <thread>
#include <unistd.h>

namespace fs = std::filesystem;

namespace bucketlab {

namespace {

constexpr const char* kNeuronLibrary = "libtorchneuron.so";

std::string envOr(const char* name, const std::string& fallback = {})
{
    const char* v = std::getenv(name);
    return v && *v ? std::string(v) : fallback;
}

// A directory means the library inside it.
std::string libraryIn(const std::string& fileOrDir)
{
    std::error_code ec;
    if (fs::is_directory(fileOrDir, ec))
        return (fs::path(fileOrDir) / kNeuronLibrary).string();
    return fileOrDir;
}

std::vector<std::string> globPaths(const std::string& pattern)
{
    std::vector<std::string> out;
    glob_t g{};
    if (::glob(pattern.c_str(), 0, nullptr, &g) == 0)
        for (size_t i = 0; i < g.gl_pathc; ++i)
            out.emplace_back(g.gl_pathv[i]);
    ::globfree(&g);
    return out;
}

std::string dlopenHint(const std::string& reason)
{
    if (reason.find("undefined symbol") != std::string::npos)
        return "; it was built for another LibTorch or C++ ABI (this BucketLab uses LibTorch " +
               std::string(TORCH_VERSION) +
               " with _GLIBCXX_USE_CXX11_ABI=" + std::to_string(_GLIBCXX_USE_CXX11_ABI) + ")";
    if (reason.find("libnrt") != std::string::npos)
        return "; add the Neuron runtime's lib directory (usually /opt/aws/neuron/lib) to "
               "LD_LIBRARY_PATH";
    return {};
}

std::mutex& neuronMutex()
{
    static std::mutex m;
    return m;
}

} // namespace

bool cudaAvailable()
{
    try {
        return torch::cuda::is_available();
    } catch (const std::exception&) {
        return false;
    }
}

void requireCuda()
{
    if (!cudaAvailable())
        throw Error("CUDA is not available to this LibTorch (" + std::string(TORCH_VERSION) +
                    ", built without CUDA or no GPU visible); profile on the CPU (" +
                    subject(Field::Device) +
                    " cpu), or run BucketLab built against a CUDA LibTorch on a GPU machine");
}

std::string neuronMissingMessage()
{
    return "this model needs the AWS Neuron runtime (libtorchneuron.so), which is not installed "
           "here; profile it on a Neuron host with resources/neuron/profile_buckets.py and "
           "import the JSON";
}

bool archiveNeedsNeuron(const std::string& path)
{
    if (auto problem = archiveProblem(path); !problem.empty())
        throw Error(problem);
    try {
        caffe2::serialize::PyTorchStreamReader reader(path);
        for (const auto& name : reader.getAllRecords()) {
            // Only the generated Python source: debug pickles repeat it, tensor data is
            // binary and large.
            if (name.rfind("code/", 0) != 0 || name.size() < 3 ||
                name.compare(name.size() - 3, 3, ".py") != 0)
                continue;
            auto [data, size] = reader.getRecord(name);
            const std::string code(static_cast<const char*>(data.get()), size);
            if (code.find("torch.classes.neuron") != std::string::npos ||
                code.find("ops.neuron.") != std::string::npos)
                return true;
        }
    } catch (const std::exception& e) {
        throw Error(path + ": cannot read archive (" + torchMessage(e) + ")");
    }
    return false;
}

std::vector<std::string> neuronLibraryCandidates()
{
    if (const std::string explicitLib = envOr("BUCKETLAB_NEURON_LIB"); !explicitLib.empty())
        return {libraryIn(explicitLib)};
    std::vector<std::string> out;
    std::stringstream dirs(envOr("NEURON_LIBRARY_PATH"));
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
        // Entries are directories, like LD_LIBRARY_PATH's, unless they name a library.
        const bool names = dir.find(".so") != std::string::npos;
        if (!dir.empty())
            out.push_back(names ? dir : (fs::path(dir) / kNeuronLibrary).string());
    }
    std::vector<std::string> prefixes = {"/opt/aws_neuronx_venv_pytorch*",
                                         "/opt/aws_neuron_venv_pytorch*"};
    if (const std::string venv = envOr("VIRTUAL_ENV"); !venv.empty())
        prefixes.push_back(venv);
    if (const std::string home = envOr("HOME"); !home.empty())
        prefixes.push_back(home + "/.local");
    prefixes.push_back("/usr/local");
    prefixes.push_back("/usr");
    for (const auto& prefix : prefixes)
        for (const char* packages : {"site-packages", "dist-packages"})
            for (const char* package : {"torch_neuronx", "torch_neuron"})
                for (const auto& found : globPaths(prefix + "/lib/python3*/" + packages + "/" +
                                                   package + "/lib/" + kNeuronLibrary))
                    out.push_back(found);
    out.push_back(std::string("/opt/aws/neuron/lib/") + kNeuronLibrary);
    out.push_back(kNeuronLibrary); // the dynamic loader's path (LD_LIBRARY_PATH, ld.so.cache)
    return out;
}

NeuronRuntimeStatus loadNeuronRuntime()
{
    std::lock_guard<std::mutex> lock(neuronMutex());
    static NeuronRuntimeStatus loaded; // success is final: a loaded library stays loaded
    if (loaded.loaded)
        return loaded;
    NeuronRuntimeStatus status;
    const bool explicitLib = !envOr("BUCKETLAB_NEURON_LIB").empty();
    for (const auto& candidate : neuronLibraryCandidates()) {
        status.searched.push_back(candidate);
        const bool bareName = candidate.find('/') == std::string::npos;
        std::error_code ec;
        if (!bareName && !fs::exists(candidate, ec)) {
            if (explicitLib) {
                status.library = candidate;
                status.problem =
                    "BUCKETLAB_NEURON_LIB names " + candidate + ", which does not exist";
            }
            continue;
        }
        ::dlerror();
        if (::dlopen(candidate.c_str(), RTLD_NOW | RTLD_GLOBAL)) {
            status.loaded = true;
            status.library = candidate;
            status.problem.clear();
            loaded = status;
            return status;
        }
        const char* err = ::dlerror();
        const std::string reason = err ? err : "unknown dlopen error";
        // A bare name the loader cannot find simply means "not installed".
        if (bareName && reason.find("cannot open shared object file") != std::string::npos &&
            status.problem.empty())
            continue;
        status.library = candidate;
        status.problem = "cannot load the Neuron runtime library " + candidate + " (" +
                         firstLine(reason) + ")" + dlopenHint(reason);
    }
    if (status.problem.empty())
        status.problem = neuronMissingMessage();
    return status;
}

void requireNeuronRuntime(const std::string& modelPath)
{
    const auto status = loadNeuronRuntime();
    if (!status.loaded)
        throw Error(modelPath + ": " + status.problem);
}

std::map<std::string, std::string> describeEnvironment()
{
    std::map<std::string, std::string> env;
    const HostInfo host = currentHostInfo();
    env["cpu_model"] = host.cpuModel;
    env["cpu_count"] = std::to_string(host.cpuCount);
    env["libtorch"] = TORCH_VERSION;
    env["cxx11_abi"] = std::to_string(_GLIBCXX_USE_CXX11_ABI);
    using GetConfig = char* (*)();
    if (auto f = reinterpret_cast<GetConfig>(::dlsym(RTLD_DEFAULT, "openblas_get_config")))
        env["blas"] = std::string("OpenBLAS ") + f();
    if (!host.hostname.empty())
        env["host"] = host.hostname;
    if (!host.os.empty())
        env["os"] = host.os;
    std::ifstream load("/proc/loadavg");
    std::string oneMinute;
    if (load >> oneMinute)
        env["load_average"] = oneMinute;
    return env;
}

} // namespace bucketlab
