#include "core/package/package.h"

#include "core/archive/archive.h"
#include "core/kernel/constant_args.h"
#include "core/kernel/kernel.h"
#include "core/kernel/kernel_compiler_p.h"
#include "core/package/package_assembly_p.h"
#include "core/package/package_check_p.h"
#include "core/runtime/torch_io_p.h"
#include "core/spec/memory_budget.h"
#include "core/util/error.h"
#include "core/util/output_file.h"
#include "core/util/sha256.h"
#include "core/util/text.h"

#include <caffe2/serialize/inline_container.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>

namespace fs = std::filesystem;

namespace bucketlab {
namespace {

// How many tensor arguments forward() takes: [required, total].
std::pair<size_t, size_t> forwardArity(const torch::jit::Module& model, const std::string& path)
{
    auto method = model.find_method("forward");
    if (!method)
        throw Error(path + ": the model has no forward() method");
    const auto& args = method->function().getSchema().arguments();
    size_t required = 0, total = 0;
    for (size_t i = 1; i < args.size(); ++i) { // 0 is self
        ++total;
        if (!args[i].default_value())
            ++required;
    }
    return {required, total};
}

void checkArity(const torch::jit::Module& model, const std::string& path,
                const std::vector<InputSpec>& inputs, const std::vector<StateSpec>& states)
{
    const auto [required, total] = forwardArity(model, path);
    const size_t given = inputs.size() + states.size();
    if (given < required || given > total) {
        std::ostringstream s;
        s << path << ": forward() takes ";
        if (required == total)
            s << total;
        else
            s << required << " to " << total;
        s << " input" << (total == 1 ? "" : "s") << " but " << subject(Field::Inputs) << " list "
          << inputs.size() << " (" << formatInputSpecs(inputs) << ")";
        if (!states.empty())
            s << " and " << subject(Field::States) << " " << states.size()
              << " (a stateful bucket model takes the inputs, then one tensor per state)";
        throw Error(s.str());
    }
}

std::vector<int64_t> lengthsOf(const std::vector<BucketModelFile>& perBucket)
{
    std::vector<int64_t> lengths;
    for (const auto& b : perBucket)
        lengths.push_back(b.length);
    return lengths;
}

// Checks the request before anything is loaded; returns the package's boundaries (the
// per-bucket models' lengths, or the ones given).
Boundaries checkRequest(const PackageBuildRequest& r)
{
    if (r.model.empty() == r.perBucket.empty())
        throw Error("give either one model for all buckets or " + subject(Field::PerBucket) +
                    " (LENGTH=FILE,...), not " + std::string(r.model.empty() ? "neither" : "both"));
    checkInputSpecs(r.inputs);
    checkInputDims(r.inputs, r.bucketDim, r.batchDim);
    std::vector<std::string> inputs;
    Boundaries boundaries = r.boundaries;
    if (!r.model.empty()) {
        if (boundaries.empty())
            throw Error(subject(Field::Boundaries) +
                        " are missing: a shared model needs the lengths to serve");
        inputs.push_back(r.model);
    } else {
        for (const auto& b : r.perBucket)
            inputs.push_back(b.path);
        boundaries = Boundaries::from(lengthsOf(r.perBucket), Field::PerBucket);
        if (!r.boundaries.empty() && r.boundaries != boundaries)
            throw Error(subject(Field::Boundaries) + " " + r.boundaries.str() +
                        " differ from the lengths of " + subject(Field::PerBucket) + " " +
                        boundaries.str() +
                        "; a per-bucket package serves exactly the lengths its models were "
                        "traced at");
    }
    checkStateSpecs(r.states, boundaries, r.inputs);
    if (!r.kernelFile.empty())
        inputs.push_back(r.kernelFile);
    else if (!parseConstantArgs(r.constantArgs).empty())
        throw Error("constant arguments '" + r.constantArgs +
                    "' are for a user kernel, and none is given: the generated kernel takes "
                    "only the inputs");
    for (const auto& in : inputs)
        if (auto problem = in == r.kernelFile ? std::string() : archiveProblem(in);
            !problem.empty())
            throw Error(problem);
    checkOutputPath(r.out, OutputCheck{r.force, inputs});
    // The proof's largest call within the budget.
    checkMemoryBudget(packageCallBytes(r.inputs, r.states, 1, boundaries.largest()),
                      "running the package at length " + std::to_string(boundaries.largest()),
                      "lower " + subject(Field::Boundaries));
    return boundaries;
}

ModelFileRef fileRef(const std::string& path, int64_t bucket)
{
    return ModelFileRef{fs::path(path).filename().string(), sha256File(path), bucket};
}

} // namespace

std::vector<BucketModelFile> parsePerBucketSpec(const std::string& text)
{
    std::vector<BucketModelFile> out;
    if (!text.empty() && text.back() == ',')
        throw Error(subject(Field::PerBucket) + " ends with a comma: give LENGTH=FILE after it or "
                                                "drop it");
    std::stringstream items(text);
    std::string item;
    while (std::getline(items, item, ',')) {
        const auto eq = item.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == item.size())
            throw Error(subject(Field::PerBucket) + ": " + quote(item) + " is not LENGTH=FILE");
        BucketModelFile b;
        b.length = parseLength(item.substr(0, eq), Field::PerBucket);
        b.path = item.substr(eq + 1);
        out.push_back(b);
    }
    if (out.empty())
        throw Error(subject(Field::PerBucket) + " is empty: give LENGTH=FILE for each bucket");
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a.length < b.length; });
    return out;
}

PackageBuildResult buildPackage(const PackageBuildRequest& request)
{
    const Boundaries boundaries = checkRequest(request);
    if (!request.kernelFile.empty()) {
        // Before any model loads: a kernel that takes other constants than those given (or
        // some when none are given) is named with what it takes.
        const auto constants = parseConstantArgs(request.constantArgs);
        const Kernel kernel = loadKernel(request.kernelFile, {request.kernelFunction});
        if (kernel.role() == KernelRole::BucketKernel)
            checkConstantArgsFit(kernel, constants);
    }

    PackageMeta meta;
    meta.bucketDim = request.bucketDim;
    meta.batchDim = request.batchDim;
    meta.paddingSide = request.paddingSide;
    meta.inputs = request.inputs;
    meta.states = request.states;
    meta.createdBy = creatorString();
    meta.createdAt = utcNowIso8601();

    std::vector<torch::jit::Module> buckets;
    PackageBuildResult result;
    if (!request.model.empty()) {
        meta.kind = PackageKind::Shared;
        meta.boundaries = boundaries;
        auto model = loadScriptModule(request.model);
        checkArity(model, request.model, request.inputs, request.states);
        meta.models.push_back(fileRef(request.model, 0));
        result.modelBytes = int64_t(fs::file_size(request.model));
        // The same module object under every name: TorchScript's pickler memoizes objects
        // and storages, so the weights are written once and stay shared after loading.
        buckets.assign(meta.boundaries.size(), model);
    } else {
        meta.kind = PackageKind::PerBucket;
        meta.boundaries = boundaries;
        for (size_t k = 0; k < request.perBucket.size(); ++k) {
            const auto& b = request.perBucket[k];
            auto model = loadScriptModule(b.path);
            checkArity(model, b.path, request.inputs, request.states);
            meta.models.push_back(fileRef(b.path, b.length));
            result.modelBytes += int64_t(fs::file_size(b.path));
            buckets.push_back(model);
        }
    }

    meta.userKernel = !request.kernelFile.empty();
    if (const auto constants = parseConstantArgs(request.constantArgs);
        meta.userKernel && !constants.empty())
        meta.constantArgs = constants.text;
    const auto package =
        assemblePackage(PackageAssembly{meta, buckets, request.kernelFile, request.kernelFunction});

    const std::string bytes = serializePackage(package, meta);
    result.meta = meta;
    result.out = request.out;
    result.packageBytes = int64_t(bytes.size());
    // Proven on the bytes about to be written, loaded back: the file is what is checked, and
    // calls that update a state buffer leave the written buffers untouched.
    auto loaded = loadPackageBytes(bytes);
    const auto rows = runLoadedPackage(loaded, meta, {1}, false);
    result.provenCalls = int64_t(rows.size());
    result.failure = firstRunFailure(rows);
    result.callAbandoned = !rows.empty() && rows.back().abandoned;
    if (!result.failure.empty())
        return result;
    writeFileAtomically(request.out, bytes, request.force);
    result.written = true;
    return result;
}

std::optional<PackageMeta> readPackageMeta(const std::string& path)
{
    if (auto problem = archiveProblem(path); !problem.empty())
        throw Error(problem);
    try {
        caffe2::serialize::PyTorchStreamReader reader(path);
        const std::string record = std::string("extra/") + kMetaExtraFile;
        if (!reader.hasRecord(record))
            return std::nullopt;
        auto [data, size] = reader.getRecord(record);
        return metaFromJson(std::string(static_cast<const char*>(data.get()), size), path);
    } catch (const Error&) {
        throw;
    } catch (const std::exception& e) {
        throw Error(path + ": cannot read archive (" + torchMessage(e) + ")");
    }
}

} // namespace bucketlab
