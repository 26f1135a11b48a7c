#include "app/cli/command.h"
#include "app/cli/common_options.h"
#include "app/cli/constant_args_option.h"
#include "core/kernel/kernel.h"
#include "core/kernel/kernel_check.h"
#include "core/package/neuron_recipe.h"
#include "core/package/package.h"
#include "core/spec/boundaries.h"
#include "core/util/error.h"
#include "core/util/output_file.h"
#include "core/util/sha256.h"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

namespace bucketlab::cli {

namespace fs = std::filesystem;

namespace {
struct BuildOptions {
    std::string model;
    std::string perBucket;
    ModelInputOptions in;
    std::string boundaries;
    std::string kernel;
    std::string function;
    std::string constantArgs;
    std::string contract = "pad";
    std::string paddingSide = "right";
    std::string recipe;
    OutputOptions output;
};

// The boundaries the package will serve: the given ones, or the per-bucket models' lengths.
Boundaries servedBoundaries(const PackageBuildRequest& r)
{
    if (r.perBucket.empty())
        return r.boundaries;
    std::vector<int64_t> lengths;
    for (const auto& b : r.perBucket)
        lengths.push_back(b.length);
    return Boundaries::from(lengths, Field::PerBucket);
}

PackageBuildRequest buildRequest(const BuildOptions& o, bool boundariesGiven)
{
    PackageBuildRequest r;
    r.model = o.model;
    r.constantArgs = o.constantArgs;
    if (!o.perBucket.empty())
        r.perBucket = parsePerBucketSpec(o.perBucket);
    if (boundariesGiven)
        r.boundaries = Boundaries::parse(o.boundaries, Field::Boundaries);
    r.inputs = parseInputSpecs(o.in.inputs);
    // A state shape written with L stands for each bucket's length.
    const Boundaries served = servedBoundaries(r);
    for (const auto& st : o.in.states)
        r.states.push_back(parseStateSpec(st, served));
    r.kernelFile = o.kernel;
    r.kernelFunction = o.function;
    r.bucketDim = o.in.bucketDim;
    r.batchDim = o.in.batchDim;
    r.paddingSide = parsePaddingSide(o.paddingSide);
    r.out = o.output.path;
    r.force = o.output.force;
    return r;
}

// Every length up to the largest bucket + 1, batch sizes 1 and 2, the package's inputs and
// boundaries, called with the constant arguments as the package calls it.
KernelCheckResult checkUserKernel(const PackageBuildRequest& r)
{
    KernelCheckOptions check;
    check.declaredBoundaries = servedBoundaries(r);
    check.maxLength = check.declaredBoundaries.largest() + 1;
    check.batchSizes = {1, 2};
    check.inputs = r.inputs;
    check.bucketDim = r.bucketDim;
    check.batchDim = r.batchDim;
    check.paddingSide = r.paddingSide;
    check.constantArgs = r.constantArgs;
    return checkKernelFile(r.kernelFile, r.kernelFunction, check);
}

int refuseKernel(const PackageBuildRequest& r, const KernelCheckResult& checked, bool json)
{
    const auto& d = checked.defects.front();
    const std::string failure = "the kernel " + r.kernelFile + " has " +
                                std::to_string(checked.defects.size()) + " defect" +
                                (checked.defects.size() == 1 ? "" : "s") + ", the first " +
                                defectKindName(d.kind) + ": " + d.message;
    if (json)
        printJson({{"written", false}, {"failure", failure}, {"out", r.out}});
    else
        std::cerr << "bucketlab-cli build: package not written: " << failure << "\n";
    if (checked.workerAbandoned) {
        std::cout.flush();
        std::quick_exit(1); // a kernel call still runs on a worker thread
    }
    return 1;
}

// The Neuron recipe of the package just written; a user's kernel goes in as its source.
std::vector<std::string> writeRecipe(const BuildOptions& o, const PackageBuildResult& result,
                                     const std::string& kernelFunction)
{
    NeuronRecipeSource src;
    src.meta = result.meta;
    src.sourcePackage = fs::path(result.out).filename().string();
    src.sourceSha256 = sha256File(result.out);
    if (!o.kernel.empty()) {
        src.userKernelSource = readFile(o.kernel, kMaxSourceBytes, "a kernel source");
        src.userKernelFile = fs::path(o.kernel).filename().string();
        src.userKernelFunction = kernelFunction;
    }
    return writeNeuronRecipe(generateNeuronRecipe(src), o.recipe, o.output.force);
}

void printBuildResult(const PackageBuildResult& result, const std::vector<std::string>& recipe,
                      bool json)
{
    if (json) {
        nlohmann::json j;
        j["written"] = result.written;
        if (!result.written)
            j["failure"] = result.failure;
        j["proven_calls"] = result.provenCalls;
        j["out"] = result.out;
        j["package_bytes"] = result.packageBytes;
        j["model_bytes"] = result.modelBytes;
        j["meta"] = metaJson(result.meta);
        j["recipe_files"] = recipe;
        printJson(j);
        return;
    }
    if (!result.written) {
        std::cerr << "bucketlab-cli build: package not written: " << result.failure << "\n";
        return;
    }
    std::cout << "wrote " << result.out << ": " << packageKindName(result.meta.kind)
              << " package, buckets " << result.meta.boundaries.str() << ", inputs "
              << formatInputSpecs(result.meta.inputs)
              << (result.meta.constantArgs.empty()
                      ? std::string()
                      : ", kernel constant args " + result.meta.constantArgs)
              << ", " << result.packageBytes << " bytes (models: " << result.modelBytes
              << " bytes); ran at " << result.provenCalls << " lengths first\n";
    for (const auto& f : recipe)
        std::cout << "wrote " << f << "\n";
}

// The kernel given with --kernel (checked against --constant-args), after the checks that
// need no file read.
std::optional<Kernel> checkedUserKernel(const BuildOptions& o)
{
    if (o.model.empty() == o.perBucket.empty())
        throw Error("give either a MODEL for all buckets or --per-bucket "
                    "LENGTH=FILE,...");
    if (o.contract == "slice")
        throw Error("--contract slice: a package's forward() receives the inputs at "
                    "their real length, not padded to the largest bucket, so it "
                    "cannot feed a slicing kernel; build with a kernel that pads "
                    "(--contract pad) and validate the slicing one on its own");
    const ConstantArgs constantArgs = parseConstantArgsOption(o.constantArgs);
    if (!constantArgs.empty() && o.kernel.empty())
        throw Error("--constant-args: the generated kernel takes none; they are for "
                    "a kernel given with --kernel");
    std::optional<Kernel> kernel;
    if (!o.kernel.empty()) {
        kernel = loadKernel(o.kernel, {o.function});
        if (kernel->role() == KernelRole::BucketKernel)
            checkConstantArgsOption(*kernel, constantArgs);
    }
    return kernel;
}

// Returns the --boundaries option (given or not decides the package's boundaries' source).
CLI::Option* addBuildOptions(CLI::App* sub, BuildOptions& o)
{
    sub->add_option("model", o.model, "Shape-generic TorchScript model serving every bucket");
    sub->add_option(
        "--per-bucket", o.perBucket,
        "One model per bucket instead: LENGTH=FILE,... (models traced at fixed lengths)");
    addModelInputOptions(
        sub, o.in,
        {"", "", true, "Bucket models take the inputs, then one tensor per state", true});
    auto* boundaries =
        sub->add_option("--boundaries", o.boundaries, "Bucket lengths, ascending: e.g. 128,512");
    sub->add_option(
        "--kernel", o.kernel,
        "Use your own bucket kernel (TorchScript source or .py) instead of generating one");
    sub->add_option("--function", o.function, "Kernel function in --kernel (default: detected)");
    sub->add_option("--constant-args", o.constantArgs,
                    "Arguments --kernel takes after its inputs, as TorchScript expressions "
                    "(NxD's bucket_kernel_constant_args), e.g. \"torch.tensor([128, 512]), "
                    "'left', 0\"; stored in the package and passed by its forward()");
    sub->add_option("--contract", o.contract,
                    "How inputs reach --kernel: pad (at their length, padded up to their bucket). "
                    "slice (NxD's context encoding) is refused: forward() has no inputs padded "
                    "to the largest bucket to give it")
        ->check(CLI::IsMember({"pad", "slice"}))
        ->capture_default_str();
    sub->add_option("--padding-side", o.paddingSide,
                    "Pad after the real tokens (right) or before them (left, as decoder prompts "
                    "are padded)")
        ->check(CLI::IsMember({"right", "left"}))
        ->capture_default_str();
    sub->add_option("--neuron-recipe", o.recipe,
                    "Also write the Neuron build recipe (bucket_config.json, bucket_kernel.py, "
                    "neuron_build.py, README.md) to this folder; with --kernel it carries your "
                    "kernel and its --constant-args");
    addOutputOptions(sub, o.output,
                     {"--out", "Package file to write", true, "--out and the recipe files"});
    sub->footer("Example:\n  bucketlab-cli build model.pt --inputs "
                "input_ids:int64:0,attention_mask:int64:0 "
                "--boundaries 64,128,512 --out model.bucketed.pt");

    return boundaries;
}

int runBuild(const BuildOptions& o, bool boundariesGiven)
{
    const std::optional<Kernel> kernel = checkedUserKernel(o);
    const PackageBuildRequest r = buildRequest(o, boundariesGiven);
    if (!o.recipe.empty()) {
        checkNeuronRecipeDir(o.recipe, o.output.force);
        if (kernel && isArchiveFile(o.kernel))
            throw Error("--neuron-recipe: the recipe carries the kernel's Python "
                        "source, and " +
                        o.kernel + " is a TorchScript archive; give --kernel as a .py file");
    }
    // A user's kernel is validated as export validates the kernel it writes before
    // anything is built: one with defects is not written.
    if (kernel) {
        const auto checked = checkUserKernel(r);
        if (!checked.ok)
            return refuseKernel(r, checked, o.output.json);
    }
    const auto result = buildPackage(r);
    std::vector<std::string> recipeFiles;
    if (result.written && !o.recipe.empty())
        recipeFiles = writeRecipe(o, result, kernel ? kernel->name() : "");
    printBuildResult(result, recipeFiles, o.output.json);
    if (result.callAbandoned) {
        std::cout.flush();
        std::quick_exit(1); // a package call still runs on a worker thread
    }
    return result.written ? 0 : 1;
}

} // namespace

Command addBuildCommand(CLI::App& app)
{
    auto o = std::make_shared<BuildOptions>();
    auto* sub = app.add_subcommand("build", commandSummary("build"));
    auto* boundaries = addBuildOptions(sub, *o);
    return {sub, [o, boundaries] {
                return runBuild(*o, boundaries->count() > 0);
            }};
}

} // namespace bucketlab::cli
