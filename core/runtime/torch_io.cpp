#include "core/runtime/torch_io_p.h"

#include "core/archive/archive.h"

#include "core/util/error.h"

#include <torch/csrc/jit/frontend/resolver.h>
#include <torch/csrc/jit/frontend/sugared_value.h>
#include <torch/csrc/jit/serialization/export.h>

#include <ATen/Parallel.h>
#include <cmath>
#include <dlfcn.h>
#include <filesystem>
#include <set>
#include <sstream>
#include <unistd.h>

namespace fs = std::filesystem;

namespace bucketlab {

// dtype.cpp's table speaks LibTorch's ScalarType numbers; hold them to LibTorch's own.
static_assert(int(torch::kUInt8) == 0 && int(torch::kInt8) == 1 && int(torch::kInt16) == 2 &&
              int(torch::kInt32) == 3 && int(torch::kInt64) == 4 && int(torch::kFloat16) == 5 &&
              int(torch::kFloat32) == 6 && int(torch::kFloat64) == 7 && int(torch::kBool) == 11 &&
              int(torch::kBFloat16) == 15);

torch::ScalarType toScalarType(DType dtype)
{
    return static_cast<torch::ScalarType>(scalarTypeCode(dtype));
}

DType fromScalarType(torch::ScalarType type, const std::string& where)
{
    if (auto dtype = dtypeOfScalarType(int64_t(type)))
        return *dtype;
    throw Error(where + ": dtype " + std::string(c10::toString(type)) + " is not supported (" +
                dtypeNameList() + ")");
}

std::vector<torch::Tensor> makeInputs(const std::vector<InputSpec>& specs, int64_t batch,
                                      int64_t length, int64_t batchDim, int64_t bucketDim)
{
    std::vector<int64_t> shape(size_t(std::max(batchDim, bucketDim) + 1), 1);
    shape[size_t(batchDim)] = batch;
    shape[size_t(bucketDim)] = length;
    std::vector<torch::Tensor> out;
    for (const auto& s : specs)
        out.push_back(torch::full(s.bucketed ? shape : std::vector<int64_t>{batch}, s.fillValue,
                                  torch::dtype(toScalarType(s.dtype))));
    return out;
}

std::vector<torch::Tensor> makeVariedInputs(const std::vector<InputSpec>& specs, int64_t batch,
                                            int64_t length, int64_t batchDim, int64_t bucketDim)
{
    auto out = makeInputs(specs, batch, length, batchDim, bucketDim);
    // [batch, length] patterns built in float64 (exact for these integers), then moved into
    // the input's dimension order and dtype.
    const auto row = torch::arange(batch, torch::kFloat64).unsqueeze(1);
    const auto pos = torch::arange(length, torch::kFloat64).unsqueeze(0);
    for (size_t i = 0; i < specs.size(); ++i) {
        const auto& spec = specs[i];
        const auto code =
            torch::fmod(pos * 7919.0 + row * 104729.0 + double(31 * i), 65536.0); // [batch, length]
        torch::Tensor values;
        if (spec.dtype == DType::Bool || !spec.bucketed) {
            continue; // an input without a length (ids of sequences, sampling parameters)
                      // keeps its fill value: any other value may be out of its range
        } else if (isFloatingPoint(spec.dtype)) {
            values = spec.fillValue * (0.5 + 0.5 * code / 65536.0);
        } else {
            const double fill = std::floor(spec.fillValue);
            if (fill < 2)
                continue; // [1, fill] holds one value at most: the fill itself
            values = 1.0 + torch::fmod(code, fill);
        }
        if (batchDim > bucketDim)
            values = values.t();
        auto shape = out[i].sizes().vec();
        out[i] = values.contiguous().view(shape).to(toScalarType(spec.dtype));
    }
    return out;
}

torch::Tensor padTo(const torch::Tensor& t, int64_t dim, int64_t length, double value,
                    PaddingSide side)
{
    const int64_t have = t.size(dim);
    if (have >= length)
        return t;
    auto shape = t.sizes().vec();
    shape[size_t(dim)] = length - have;
    const auto pad = torch::full(shape, value, t.options());
    return side == PaddingSide::Left ? torch::cat({pad, t}, dim) : torch::cat({t, pad}, dim);
}

std::vector<torch::Tensor> flattenTensors(const c10::IValue& value)
{
    std::vector<torch::Tensor> out;
    if (value.isTensor())
        out.push_back(value.toTensor());
    else if (value.isTuple())
        for (const auto& v : value.toTupleRef().elements())
            for (auto& t : flattenTensors(v))
                out.push_back(t);
    else if (value.isList())
        for (const auto& v : value.toListRef())
            for (auto& t : flattenTensors(v))
                out.push_back(t);
    else if (value.isGenericDict())
        for (const auto& kv : value.toGenericDict())
            for (auto& t : flattenTensors(kv.value()))
                out.push_back(t);
    return out;
}

int setComputeThreads(int threads)
{
    if (threads < 1)
        throw Error("thread count " + std::to_string(threads) + " must be at least 1");
    at::set_num_threads(threads);
    using SetThreads = void (*)(int);
    if (auto f = reinterpret_cast<SetThreads>(::dlsym(RTLD_DEFAULT, "openblas_set_num_threads")))
        f(threads);
    return at::get_num_threads();
}

std::string torchMessage(const std::exception& e)
{
    if (auto c10e = dynamic_cast<const c10::Error*>(&e))
        return firstLine(c10e->what_without_backtrace());
    // An exception raised inside TorchScript starts with a fixed banner and a traceback;
    // what was raised ("RuntimeError: Exception: ...") is the last line.
    const std::string what = e.what();
    if (what.rfind("The following operation failed in the TorchScript interpreter", 0) == 0) {
        const auto end = what.find_last_not_of(" \t\r\n");
        const auto start = what.rfind('\n', end);
        if (end != std::string::npos && start != std::string::npos)
            return what.substr(start + 1, end - start);
    }
    return firstLine(what);
}

torch::jit::Module loadScriptModule(const std::string& path)
{
    if (auto problem = archiveProblem(path); !problem.empty())
        throw Error(problem);
    checkArchivePickles(path); // LibTorch's unpickler has no depth or size limits
    try {
        return torch::jit::load(path, torch::kCPU);
    } catch (const std::exception& e) {
        const std::string msg = torchMessage(e);
        if (msg.find("torch.classes") != std::string::npos ||
            msg.find("Unknown builtin op") != std::string::npos ||
            msg.find("Unknown type name") != std::string::npos)
            throw Error(path +
                        ": cannot load here, the model uses classes or operators this "
                        "LibTorch lacks (" +
                        msg + "); inspect it instead, or run it where its runtime is installed");
        throw Error(path + ": cannot load TorchScript model (" + msg + ")");
    }
}

namespace {

// `torch.ops.<namespace>.<op>` as users write it (the guide's state preprocessor calls
// torch.ops.aten.Int and torch.ops.aten.slice); serialized code writes `ops.<ns>.<op>`.
struct OpsNamespaceValue : torch::jit::SugaredValue {
    std::string kind() const override { return "torch.ops"; }
    std::shared_ptr<torch::jit::SugaredValue> attr(const torch::jit::SourceRange&,
                                                   torch::jit::GraphFunction&,
                                                   const std::string& field) override
    {
        return std::make_shared<torch::jit::BuiltinModule>(field);
    }
};

// `torch` with its dtype names (torch.int64, ...) as constants, which the native
// resolver lacks; everything else stays an aten builtin.
struct TorchModuleValue : torch::jit::BuiltinModule {
    TorchModuleValue() : BuiltinModule("aten") {}
    std::shared_ptr<torch::jit::SugaredValue> attr(const torch::jit::SourceRange& loc,
                                                   torch::jit::GraphFunction& m,
                                                   const std::string& field) override
    {
        if (field == "ops")
            return std::make_shared<OpsNamespaceValue>();
        if (auto code = scalarTypeOfName(field))
            return std::make_shared<torch::jit::SimpleValue>(m.graph()->insertConstant(*code, loc));
        return BuiltinModule::attr(loc, m, field);
    }
};

struct ScriptResolver : torch::jit::Resolver {
    std::shared_ptr<torch::jit::SugaredValue>
    resolveValue(const std::string& name, torch::jit::GraphFunction& m,
                 const torch::jit::SourceRange& loc) override
    {
        static const std::set<std::string> exceptions = {"Exception", "ValueError", "RuntimeError",
                                                         "AssertionError", "IndexError"};
        if (exceptions.count(name))
            return std::make_shared<torch::jit::ExceptionValue>(name);
        if (name == "torch")
            return std::make_shared<TorchModuleValue>();
        return torch::jit::nativeResolver()->resolveValue(name, m, loc);
    }
    torch::jit::TypePtr resolveType(const std::string& name,
                                    const torch::jit::SourceRange& loc) override
    {
        return torch::jit::nativeResolver()->resolveType(name, loc);
    }
};

} // namespace

std::shared_ptr<torch::jit::Resolver> scriptResolver()
{
    return std::make_shared<ScriptResolver>();
}

std::shared_ptr<torch::jit::SugaredValue> opsNamespace()
{
    return std::make_shared<OpsNamespaceValue>();
}

std::string saveModuleToBytes(const torch::jit::Module& module,
                              const std::map<std::string, std::string>& extraFiles)
{
    std::ostringstream out;
    torch::jit::ExtraFilesMap extra(extraFiles.begin(), extraFiles.end());
    module.save(out, extra);
    return out.str();
}

} // namespace bucketlab
