#include "core/package/package_export.h"

#include "core/archive/archive.h"
#include "core/package/neuron_recipe.h"
#include "core/package/package.h"
#include "core/package/package_assembly_p.h"
#include "core/runtime/torch_io_p.h"
#include "core/util/error.h"
#include "core/util/output_file.h"
#include "core/util/sha256.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <random>
#include <set>

namespace fs = std::filesystem;

namespace bucketlab {
namespace {

std::string joinLengths(const std::vector<int64_t>& lengths)
{
    std::string out;
    for (auto l : lengths)
        out += (out.empty() ? "" : ", ") + std::to_string(l);
    return out;
}

// The new states: the request's, or the source's shapes for boundaries it already has.
std::vector<StateSpec> resolveStates(const ExportRequest& r, const PackageMeta& source)
{
    if (!r.states.empty()) {
        if (source.states.empty())
            throw Error("--state: " + r.package +
                        " has no shared states, and export keeps the bucket models as they are "
                        "(build a new package with --state instead)");
        std::vector<StateSpec> out;
        for (const auto& src : source.states) {
            auto it = std::find_if(r.states.begin(), r.states.end(),
                                   [&](const auto& s) { return s.name == src.name; });
            if (it == r.states.end())
                throw Error("--state: no shapes given for state '" + src.name + "' of " +
                            r.package + "; give --state for every state (" +
                            std::to_string(source.states.size()) + ")");
            if (it->dtype != src.dtype)
                throw Error("--state '" + src.name + "': dtype " + dtypeName(it->dtype) +
                            " differs from the package's " + dtypeName(src.dtype));
            out.push_back(*it);
        }
        for (const auto& given : r.states)
            if (std::none_of(source.states.begin(), source.states.end(),
                             [&](const auto& s) { return s.name == given.name; }))
                throw Error("--state: " + r.package + " has no state '" + given.name + "'");
        return out;
    }
    std::vector<StateSpec> out;
    for (const auto& src : source.states) {
        StateSpec st{src.name, src.dtype, {}};
        std::vector<int64_t> unknown;
        for (int64_t b : r.boundaries) {
            const auto it = std::find(source.boundaries.begin(), source.boundaries.end(), b);
            if (it == source.boundaries.end())
                unknown.push_back(b);
            else
                st.shapes.push_back(src.shapes[size_t(it - source.boundaries.begin())]);
        }
        if (!unknown.empty())
            throw Error("state '" + src.name + "' has shapes for buckets " +
                        formatBoundaries(source.boundaries) +
                        " only; give its shapes for the new "
                        "buckets with --state " +
                        src.name + ":" + dtypeName(src.dtype) +
                        ":SHAPE/SHAPE/... (one per bucket: " + formatBoundaries(r.boundaries) +
                        ")");
        out.push_back(st);
    }
    return out;
}

// Per-bucket packages: boundaries with no model traced at that length.
std::vector<int64_t> missingModels(const std::vector<int64_t>& boundaries,
                                   const PackageMeta& source)
{
    std::vector<int64_t> missing;
    if (source.kind == PackageKind::Shared)
        return missing;
    for (int64_t b : boundaries)
        if (!std::binary_search(source.boundaries.begin(), source.boundaries.end(), b))
            missing.push_back(b);
    return missing;
}

std::string missingModelsMessage(const std::vector<int64_t>& missing, const PackageMeta& source,
                                 const std::string& recipeDir)
{
    std::string msg = std::string(missing.size() == 1 ? "boundary " : "boundaries ") +
                      joinLengths(missing) + (missing.size() == 1 ? " has" : " have") +
                      " no model: this package holds models traced at " +
                      joinLengths(source.boundaries) + "; ";
    if (!recipeDir.empty())
        return msg + "re-trace with the recipe written to " + recipeDir +
               " (neuron_build.py, get_model()), or choose boundaries among " +
               joinLengths(source.boundaries);
    return msg +
           "re-trace with the recipe (--neuron-recipe DIR writes it), or choose boundaries "
           "among " +
           joinLengths(source.boundaries);
}

NeuronRecipeSource recipeSource(const ExportRequest& r, const PackageMeta& meta,
                                const std::vector<int64_t>& missing)
{
    NeuronRecipeSource src;
    src.meta = meta;
    src.sourcePackage = fs::path(r.package).filename().string();
    src.sourceSha256 = sha256File(r.package);
    src.missingModels = missing;
    return src;
}

std::string rowFailure(const ComparisonRow& row, double tolerance)
{
    std::string where =
        "length " + std::to_string(row.length) + ", batch " + std::to_string(row.batch);
    if (row.expectRejection)
        return where + ": accepted a length above the largest bucket";
    if (!row.error.empty())
        return where + ": " + row.error;
    return where + ": max |diff| " + std::to_string(row.maxAbsDiff) + " exceeds " +
           std::to_string(tolerance) + " (is the model padding-invariant?)";
}

double secondsSince(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

} // namespace

KernelValidator packageKernelValidator(KernelCheckOptions options)
{
    return [options](const std::string& package) mutable {
        if (options.maxLength <= 0) {
            const auto meta = readPackageMeta(package);
            options.maxLength = meta ? meta->maxLength() + 1 : 0;
        }
        std::vector<std::string> defects;
        const auto collect = [&](const KernelCheckResult& r, const std::string& prefix) {
            for (const auto& d : r.defects)
                defects.push_back(prefix + defectKindName(d.kind) + ": " + d.message);
        };
        const auto kernel = checkKernelFile(package, "bucket_kernel", options);
        collect(kernel, "");
        if (kernel.workerAbandoned)
            return defects; // the kernel is still busy on a worker thread
        const auto meta = readPackageMeta(package);
        if (meta && !meta->states.empty()) {
            KernelCheckOptions states = options;
            states.stateBoundaries = meta->boundaries;
            collect(checkKernelFile(package, "state_preprocessor", states), "state preprocessor ");
        }
        return defects;
    };
}

bool kernelValidatorAbandonedCall(const std::vector<std::string>& defects)
{
    const std::string prefix = defectKindName(DefectKind::Timeout) + ": ";
    return std::any_of(defects.begin(), defects.end(), [&](const std::string& d) {
        return d.rfind(prefix, 0) == 0 || d.rfind("state preprocessor " + prefix, 0) == 0;
    });
}

std::vector<int64_t> exportSampleLengths(const std::vector<int64_t>& boundaries,
                                         const std::vector<int64_t>& sourceBoundaries,
                                         int randomPerBucket, uint64_t seed)
{
    checkBoundaries(boundaries, "--boundaries");
    const int64_t max = boundaries.back();
    std::set<int64_t> lengths{1, max, max + 1}; // max + 1 must be rejected
    for (auto list : {&boundaries, &sourceBoundaries})
        for (int64_t b : *list)
            for (int64_t l : {b, b + 1})
                if (l <= max)
                    lengths.insert(l);
    std::mt19937_64 rng(seed);
    int64_t low = 1;
    for (int64_t b : boundaries) {
        std::uniform_int_distribution<int64_t> pick(low, b);
        for (int i = 0; i < randomPerBucket; ++i)
            lengths.insert(pick(rng));
        low = b + 1;
    }
    return {lengths.begin(), lengths.end()};
}

ExportResult exportPackage(const ExportRequest& r, const ExportProgress& progress,
                           const std::function<bool()>& cancelled)
{
    const auto step = [&](const char* stage, size_t done, size_t total) {
        if (cancelled && cancelled())
            throw Cancelled();
        if (progress)
            progress(stage, done, total);
    };
    step("load", 0, 1);
    checkBoundaries(r.boundaries, "--boundaries");
    if (r.batches.empty() ||
        std::any_of(r.batches.begin(), r.batches.end(), [](int64_t b) { return b < 1; }))
        throw Error("--batch-sizes: give at least one batch size, each at least 1");
    if (auto problem = archiveProblem(r.package); !problem.empty())
        throw Error(problem);
    const auto sourceMeta = readPackageMeta(r.package);
    if (!sourceMeta)
        throw Error(r.package + ": a TorchScript model, not a BucketLab package; package it "
                                "first with bucketlab-cli build");
    checkOutputPath(r.out, OutputCheck{r.force, {r.package}});
    if (!r.neuronRecipeDir.empty())
        checkNeuronRecipeDir(r.neuronRecipeDir, r.force);
    checkStateSpecs(r.states, r.boundaries, sourceMeta->inputs);
    const int64_t kernelCheckLength =
        r.kernelCheckLength > 0 ? r.kernelCheckLength : r.boundaries.back() + 1;
    if (kernelCheckLength <= r.boundaries.back())
        throw Error("--kernel-check-length " + std::to_string(kernelCheckLength) +
                    " must exceed the largest bucket " + std::to_string(r.boundaries.back()) +
                    ", so the check sees the kernel reject longer inputs");

    PackageMeta meta;
    meta.kind = sourceMeta->kind;
    meta.boundaries = r.boundaries;
    meta.bucketDim = sourceMeta->bucketDim;
    meta.batchDim = sourceMeta->batchDim;
    meta.inputs = sourceMeta->inputs;
    meta.createdBy = creatorString();
    meta.createdAt = utcNowIso8601();
    meta.userKernel = false; // a fresh kernel for the new boundaries

    const auto missing = missingModels(r.boundaries, *sourceMeta);
    if (!missing.empty()) {
        // The recipe is how the user gets the missing models, so it is written even though
        // the package cannot be.
        if (!r.neuronRecipeDir.empty()) {
            meta.states = resolveStates(r, *sourceMeta);
            for (const auto& ref : sourceMeta->models)
                if (std::binary_search(r.boundaries.begin(), r.boundaries.end(), ref.bucket))
                    meta.models.push_back(ref);
            step("recipe", 0, 1);
            writeNeuronRecipe(generateNeuronRecipe(recipeSource(r, meta, missing)),
                              r.neuronRecipeDir, r.force);
        }
        throw Error(missingModelsMessage(missing, *sourceMeta, r.neuronRecipeDir));
    }
    meta.states = resolveStates(r, *sourceMeta);
    checkStateSpecs(meta.states, meta.boundaries, meta.inputs);

    auto source = loadScriptModule(r.package);
    std::vector<torch::jit::Module> buckets;
    if (meta.kind == PackageKind::Shared) {
        // Take the module object out of the source and register it under every name: it is
        // the same object K times, so its weights are stored once.
        const auto model = source.attr("bucket_0").toModule();
        buckets.assign(meta.boundaries.size(), model);
        meta.models = sourceMeta->models;
    } else {
        for (int64_t b : meta.boundaries) {
            const size_t k = size_t(
                std::lower_bound(sourceMeta->boundaries.begin(), sourceMeta->boundaries.end(), b) -
                sourceMeta->boundaries.begin());
            buckets.push_back(source.attr("bucket_" + std::to_string(k)).toModule());
            for (const auto& ref : sourceMeta->models)
                if (ref.bucket == b)
                    meta.models.push_back(ref);
        }
    }

    step("assemble", 0, 1);
    const auto package = assemblePackage(PackageAssembly{meta, buckets, {}, {}});
    const std::string bytes = serializePackage(package, meta);

    ExportResult result;
    result.meta = meta;
    result.out = r.out;
    result.packageBytes = int64_t(bytes.size());
    result.lengths =
        exportSampleLengths(r.boundaries, sourceMeta->boundaries, r.randomLengthsPerBucket, r.seed);

    // Verify the bytes as written, read back from the file system, before the file gets
    // its name: a kill or a failed check leaves nothing.
    StagedOutput staged(r.out, bytes);
    EquivalenceOptions check;
    check.lengths = result.lengths;
    check.batches = r.batches;
    check.cancelled = cancelled;
    check.progress = [&](size_t done, size_t total) {
        step("verify", done, total);
    };
    const auto verifyStart = std::chrono::steady_clock::now();
    result.verification = comparePackages(r.package, staged.readPath(), check);
    result.verifySeconds = secondsSince(verifyStart);
    for (const auto& row : result.verification) {
        if (!row.expectRejection)
            result.maxAbsDiff = std::max(result.maxAbsDiff, row.maxAbsDiff);
        if (result.failure.empty() && !row.passed(r.tolerance))
            result.failure = "the exported package differs from " + r.package + " at " +
                             rowFailure(row, r.tolerance);
    }
    result.kernelCheckLength = kernelCheckLength;
    if (result.failure.empty()) {
        step("validate", 0, 1);
        KernelValidator validate = r.validateKernel;
        if (!validate) {
            KernelCheckOptions options;
            options.maxLength = kernelCheckLength;
            options.batchSizes = r.batches;
            options.cancelled = cancelled;
            validate = packageKernelValidator(options);
        }
        const auto validateStart = std::chrono::steady_clock::now();
        result.kernelDefects = validate(staged.readPath());
        result.validateSeconds = secondsSince(validateStart);
        result.kernelValidated = true;
        result.kernelCallAbandoned = kernelValidatorAbandonedCall(result.kernelDefects);
        if (!result.kernelDefects.empty())
            result.failure = "the exported package's kernel has " +
                             std::to_string(result.kernelDefects.size()) + " defect" +
                             (result.kernelDefects.size() == 1 ? "" : "s") + ": " +
                             result.kernelDefects.front();
    }
    if (!result.failure.empty())
        return result;
    staged.commit(r.force);
    result.written = true;

    if (!r.neuronRecipeDir.empty()) {
        step("recipe", 0, 1);
        result.recipeFiles = writeNeuronRecipe(generateNeuronRecipe(recipeSource(r, meta, {})),
                                               r.neuronRecipeDir, r.force);
    }
    return result;
}

} // namespace bucketlab
