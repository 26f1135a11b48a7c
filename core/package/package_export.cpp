#include "core/package/package_export.h"

#include "core/archive/archive.h"
#include "core/package/neuron_recipe.h"
#include "core/package/package.h"
#include "core/package/package_assembly_p.h"
#include "core/runtime/torch_io_p.h"
#include "core/spec/memory_budget.h"
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
            throw Error(subject(Field::States) + ": " + r.package +
                        " has no shared states, and export keeps the bucket models as they are "
                        "(build a new package with states instead)");
        std::vector<StateSpec> out;
        for (const auto& src : source.states) {
            auto it = std::find_if(r.states.begin(), r.states.end(),
                                   [&](const auto& s) { return s.name == src.name; });
            if (it == r.states.end())
                throw Error(subject(Field::States) + ": no shapes given for state '" + src.name +
                            "' of " + r.package + "; give shapes for every state (" +
                            std::to_string(source.states.size()) + ")");
            if (it->dtype != src.dtype)
                throw Error(subject(Field::States) + " '" + src.name + "': dtype " +
                            dtypeName(it->dtype) + " differs from the package's " +
                            dtypeName(src.dtype));
            out.push_back(*it);
        }
        for (const auto& given : r.states)
            if (std::none_of(source.states.begin(), source.states.end(),
                             [&](const auto& s) { return s.name == given.name; }))
                throw Error(subject(Field::States) + ": " + r.package + " has no state '" +
                            given.name + "'");
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
                        source.boundaries.str() + " only; give its shapes for the new buckets in " +
                        subject(Field::States) + " as " + src.name + ":" + dtypeName(src.dtype) +
                        ":SHAPE/SHAPE/... (one per bucket: " + r.boundaries.str() + ")");
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
               " (neuron_build.py, load_model()), or choose boundaries among " +
               joinLengths(source.boundaries);
    return msg + "re-trace with the recipe (ask for " + subject(Field::NeuronRecipe) +
           "), or choose boundaries "
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
    return [options](const std::string& package, const Job& job) mutable {
        const auto meta = readPackageMeta(package);
        if (options.maxLength <= 0)
            options.maxLength = meta ? meta->maxLength() + 1 : 0;
        std::vector<std::string> defects;
        const auto collect = [&](const KernelCheckResult& r, const std::string& prefix) {
            for (const auto& d : r.defects)
                defects.push_back(prefix + defectKindName(d.kind) + ": " + d.message);
        };
        const bool states = meta && !meta->states.empty();
        const auto kernel =
            checkKernelFile(package, "bucket_kernel", options, states ? job.sub(0, 0.8) : job);
        collect(kernel, "");
        if (kernel.workerAbandoned)
            return defects; // the kernel is still busy on a worker thread
        if (states) {
            KernelCheckOptions stateOptions = options;
            stateOptions.stateBoundaries = meta->boundaries;
            collect(checkKernelFile(package, "state_preprocessor", stateOptions, job.sub(0.8, 1)),
                    "state preprocessor ");
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

std::vector<int64_t> exportSampleLengths(const Boundaries& boundaries,
                                         const Boundaries& sourceBoundaries, int randomPerBucket,
                                         uint64_t seed)
{
    const int64_t max = boundaries.largest();
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

namespace {

// What an export will write, decided and checked before anything is loaded or written.
struct ExportPlan {
    PackageMeta source;
    PackageMeta meta; // the new package's, models and states still to fill in
    int64_t kernelCheckLength = 0;
};

// What the verification and the kernel check will allocate, against the memory budget,
// before anything is loaded (the verification alone takes seconds to minutes).
void checkExportMemory(const ExportRequest& r, const PackageMeta& source, int64_t checkLength)
{
    const int64_t batch = *std::max_element(r.batches.begin(), r.batches.end());
    checkMemoryBudget(
        packageCallBytes(source.inputs, source.states, batch, r.boundaries.largest() + 1),
        "verifying at length " + std::to_string(r.boundaries.largest() + 1) + " and batch size " +
            std::to_string(batch),
        "lower " + subject(Field::Boundaries) + " or " + subject(Field::BatchSizes));
    KernelCheckOptions check;
    check.maxLength = checkLength;
    check.batchSizes = r.batches;
    check.inputs = source.inputs;
    check.declaredBoundaries = r.boundaries;
    check.stateBoundaries = r.boundaries;
    checkKernelCheckMemory(check, KernelRole::BucketKernel);
    if (!source.states.empty())
        checkKernelCheckMemory(check, KernelRole::StatePreprocessor);
}

ExportPlan planExport(const ExportRequest& r)
{
    if (r.boundaries.empty())
        throw Error(subject(Field::Boundaries) + " are missing: give the lengths to export");
    if (r.batches.empty() || std::any_of(r.batches.begin(), r.batches.end(),
                                         [](int64_t b) { return b < 1 || b > kMaxBatch; }))
        throw Error(subject(Field::BatchSizes) + ": give at least one batch size, each 1.." +
                    std::to_string(kMaxBatch));
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
    ExportPlan plan;
    plan.source = *sourceMeta;
    plan.kernelCheckLength =
        r.kernelCheckLength > 0 ? r.kernelCheckLength : r.boundaries.largest() + 1;
    if (plan.kernelCheckLength <= r.boundaries.largest())
        throw Error(subject(Field::CheckLength) + " " + std::to_string(plan.kernelCheckLength) +
                    " must exceed the largest bucket " + std::to_string(r.boundaries.largest()) +
                    ", so the check sees the kernel reject longer inputs");
    checkExportMemory(r, *sourceMeta, plan.kernelCheckLength);

    PackageMeta& meta = plan.meta;
    meta.kind = sourceMeta->kind;
    meta.boundaries = r.boundaries;
    meta.bucketDim = sourceMeta->bucketDim;
    meta.batchDim = sourceMeta->batchDim;
    meta.inputs = sourceMeta->inputs;
    meta.paddingSide = sourceMeta->paddingSide;
    meta.createdBy = creatorString();
    meta.createdAt = utcNowIso8601();
    meta.userKernel = false; // a fresh kernel for the new boundaries
    return plan;
}

// The bucket models of the new package, taken from the loaded source; fills meta.models.
std::vector<torch::jit::Module> takeBucketModels(const torch::jit::Module& source,
                                                 const PackageMeta& sourceMeta, PackageMeta& meta)
{
    std::vector<torch::jit::Module> buckets;
    if (meta.kind == PackageKind::Shared) {
        // Take the module object out of the source and register it under every name: it is
        // the same object K times, so its weights are stored once.
        const auto model = source.attr("bucket_0").toModule();
        buckets.assign(meta.boundaries.size(), model);
        meta.models = sourceMeta.models;
        return buckets;
    }
    for (int64_t b : meta.boundaries) {
        const size_t k =
            size_t(std::lower_bound(sourceMeta.boundaries.begin(), sourceMeta.boundaries.end(), b) -
                   sourceMeta.boundaries.begin());
        buckets.push_back(source.attr("bucket_" + std::to_string(k)).toModule());
        for (const auto& ref : sourceMeta.models)
            if (ref.bucket == b)
                meta.models.push_back(ref);
    }
    return buckets;
}

// Compares the staged package with the source at the sampled lengths; sets result.failure.
void verifyAgainstSource(const ExportRequest& r, const std::string& staged, ExportResult& result,
                         const Job& job)
{
    EquivalenceOptions check;
    check.lengths = result.lengths;
    check.batches = r.batches;
    const auto start = std::chrono::steady_clock::now();
    result.verification = comparePackages(r.package, staged, check, job);
    result.verifySeconds = secondsSince(start);
    for (const auto& row : result.verification) {
        if (!row.expectRejection)
            result.maxAbsDiff = std::max(result.maxAbsDiff, row.maxAbsDiff);
        if (result.failure.empty() && !row.passed(r.tolerance))
            result.failure = "the exported package differs from " + r.package + " at " +
                             rowFailure(row, r.tolerance);
    }
}

// Validates the staged package's kernel; sets result.failure on a defect.
void validateKernelOf(const ExportRequest& r, const std::string& staged, ExportResult& result,
                      const Job& job)
{
    KernelValidator validate = r.validateKernel;
    if (!validate) {
        KernelCheckOptions options;
        options.maxLength = result.kernelCheckLength;
        options.batchSizes = r.batches;
        validate = packageKernelValidator(options);
    }
    const auto start = std::chrono::steady_clock::now();
    result.kernelDefects = validate(staged, job);
    result.validateSeconds = secondsSince(start);
    result.kernelValidated = true;
    result.kernelCallAbandoned = kernelValidatorAbandonedCall(result.kernelDefects);
    if (!result.kernelDefects.empty())
        result.failure = "the exported package's kernel has " +
                         std::to_string(result.kernelDefects.size()) + " defect" +
                         (result.kernelDefects.size() == 1 ? "" : "s") + ": " +
                         result.kernelDefects.front();
}

} // namespace

ExportResult exportPackage(const ExportRequest& r, const Job& job)
{
    job.checkCancelled();
    job.report(0, "Loading the source");
    ExportPlan plan = planExport(r);
    PackageMeta& meta = plan.meta;

    const auto missing = missingModels(r.boundaries, plan.source);
    if (!missing.empty()) {
        // The recipe is how the user gets the missing models, so it is written even though
        // the package cannot be.
        if (!r.neuronRecipeDir.empty()) {
            meta.states = resolveStates(r, plan.source);
            for (const auto& ref : plan.source.models)
                if (r.boundaries.contains(ref.bucket))
                    meta.models.push_back(ref);
            job.report(0, "Writing the Neuron recipe");
            writeNeuronRecipe(generateNeuronRecipe(recipeSource(r, meta, missing)),
                              r.neuronRecipeDir, r.force);
        }
        throw Error(missingModelsMessage(missing, plan.source, r.neuronRecipeDir));
    }
    meta.states = resolveStates(r, plan.source);
    checkStateSpecs(meta.states, meta.boundaries, meta.inputs);

    const auto source = loadScriptModule(r.package);
    const auto buckets = takeBucketModels(source, plan.source, meta);
    job.checkCancelled();
    job.report(0.1, "Assembling the package");
    const std::string bytes =
        serializePackage(assemblePackage(PackageAssembly{meta, buckets, {}, {}}), meta);

    ExportResult result;
    result.meta = meta;
    result.out = r.out;
    result.packageBytes = int64_t(bytes.size());
    result.lengths =
        exportSampleLengths(r.boundaries, plan.source.boundaries, r.randomLengthsPerBucket, r.seed);
    result.kernelCheckLength = plan.kernelCheckLength;

    // Verify the bytes as written, read back from the file system, before the file gets
    // its name: a kill or a failed check leaves nothing.
    StagedOutput staged(r.out, bytes);
    // Shares of the time, roughly: verification dominates.
    verifyAgainstSource(r, staged.readPath(), result, job.sub(0.2, 0.85));
    if (result.failure.empty())
        validateKernelOf(r, staged.readPath(), result, job.sub(0.85, 0.97));
    if (!result.failure.empty())
        return result;
    staged.commit(r.force);
    result.written = true;

    if (!r.neuronRecipeDir.empty()) {
        job.report(0.97, "Writing the Neuron recipe");
        result.recipeFiles = writeNeuronRecipe(generateNeuronRecipe(recipeSource(r, meta, {})),
                                               r.neuronRecipeDir, r.force);
    }
    job.report(1, "Exported");
    return result;
}

} // namespace bucketlab
