#include "app/cli/command.h"
#include "app/cli/constant_args_option.h"
#include "core/kernel/kernel.h"
#include "core/kernel/kernel_check.h"
#include "core/package/package.h"
#include "core/spec/boundaries.h"
#include "core/util/error.h"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <iostream>
#include <memory>

namespace bucketlab::cli {

namespace {
struct BuildOptions {
    std::string model;
    std::string perBucket;
    std::string inputs;
    std::string boundaries;
    std::string kernel;
    std::string function;
    std::string constantArgs;
    std::string contract = "pad";
    std::vector<std::string> states;
    std::string out;
    int64_t bucketDim = 1;
    int64_t batchDim = 0;
    std::string paddingSide = "right";
    bool force = false;
    bool json = false;
};
} // namespace

Command addBuildCommand(CLI::App& app)
{
    auto o = std::make_shared<BuildOptions>();
    auto* sub = app.add_subcommand("build", commandSummary("build"));
    sub->add_option("model", o->model, "Shape-generic TorchScript model serving every bucket");
    sub->add_option(
        "--per-bucket", o->perBucket,
        "One model per bucket instead: LENGTH=FILE,... (models traced at fixed lengths)");
    sub->add_option(
           "--inputs", o->inputs,
           "Inputs as name:dtype[:pad[:fill]],... e.g. input_ids:int64:0,attention_mask:int64:0; "
           "a pad of - marks an input without a length, passed through unpadded as [batch] "
           "(seq_ids:int64:-)")
        ->required();
    auto* boundaries =
        sub->add_option("--boundaries", o->boundaries, "Bucket lengths, ascending: e.g. 128,512");
    sub->add_option(
        "--kernel", o->kernel,
        "Use your own bucket kernel (TorchScript source or .py) instead of generating one");
    sub->add_option("--function", o->function, "Kernel function in --kernel (default: detected)");
    sub->add_option("--constant-args", o->constantArgs,
                    "Arguments --kernel takes after its inputs, as TorchScript expressions "
                    "(NxD's bucket_kernel_constant_args), e.g. \"torch.tensor([128, 512]), "
                    "'left', 0\"; stored in the package and passed by its forward()");
    sub->add_option("--contract", o->contract,
                    "How inputs reach --kernel: pad (at their length, padded up to their bucket). "
                    "slice (NxD's context encoding) is refused: forward() has no inputs padded "
                    "to the largest bucket to give it")
        ->check(CLI::IsMember({"pad", "slice"}))
        ->capture_default_str();
    sub->add_option("--state", o->states,
                    "Shared state buffer NAME:DTYPE:SHAPE/SHAPE/..., one shape per bucket (dims "
                    "joined by x), e.g. kv:float32:1x4x16/1x4x64; repeatable. Bucket models take "
                    "the inputs, then one tensor per state")
        ->allow_extra_args(false);
    sub->add_option("--bucket-dim", o->bucketDim, "Dimension padded to the bucket length")
        ->capture_default_str();
    sub->add_option("--batch-dim", o->batchDim, "Batch dimension")->capture_default_str();
    sub->add_option("--padding-side", o->paddingSide,
                    "Pad after the real tokens (right) or before them (left, as decoder prompts "
                    "are padded)")
        ->check(CLI::IsMember({"right", "left"}))
        ->capture_default_str();
    sub->add_option("--out", o->out, "Package file to write")->required();
    sub->add_flag("--force", o->force, "Replace --out if it exists");
    sub->add_flag("--json", o->json, "Print the result as JSON");
    sub->footer("Example:\n  bucketlab-cli build model.pt --inputs "
                "input_ids:int64:0,attention_mask:int64:0 "
                "--boundaries 64,128,512 --out model.bucketed.pt");

    return {sub, [o, boundaries] {
                if (o->model.empty() == o->perBucket.empty())
                    throw Error("give either a MODEL for all buckets or --per-bucket "
                                "LENGTH=FILE,...");
                if (o->contract == "slice")
                    throw Error("--contract slice: a package's forward() receives the inputs at "
                                "their real length, not padded to the largest bucket, so it "
                                "cannot feed a slicing kernel; build with a kernel that pads "
                                "(--contract pad) and validate the slicing one on its own");
                const ConstantArgs constantArgs = parseConstantArgsOption(o->constantArgs);
                if (!constantArgs.empty() && o->kernel.empty())
                    throw Error("--constant-args: the generated kernel takes none; they are for "
                                "a kernel given with --kernel");
                if (!o->kernel.empty()) {
                    const Kernel kernel = loadKernel(o->kernel, {o->function});
                    if (kernel.role() == KernelRole::BucketKernel)
                        checkConstantArgsOption(kernel, constantArgs);
                }
                PackageBuildRequest r;
                r.model = o->model;
                r.constantArgs = o->constantArgs;
                if (!o->perBucket.empty())
                    r.perBucket = parsePerBucketSpec(o->perBucket);
                if (boundaries->count() > 0)
                    r.boundaries = Boundaries::parse(o->boundaries, Field::Boundaries);
                r.inputs = parseInputSpecs(o->inputs);
                for (const auto& st : o->states)
                    r.states.push_back(parseStateSpec(st));
                r.kernelFile = o->kernel;
                r.kernelFunction = o->function;
                r.bucketDim = o->bucketDim;
                r.batchDim = o->batchDim;
                r.paddingSide = parsePaddingSide(o->paddingSide);
                r.out = o->out;
                r.force = o->force;
                // A user's kernel is validated as export validates the kernel it writes (every
                // length up to the largest bucket + 1, batch sizes 1 and 2, the package's inputs
                // and boundaries) before anything is built: one with defects is not written.
                if (!r.kernelFile.empty()) {
                    std::vector<int64_t> lengths;
                    for (const auto& b : r.perBucket)
                        lengths.push_back(b.length);
                    KernelCheckOptions check;
                    check.declaredBoundaries = r.perBucket.empty()
                                                   ? r.boundaries
                                                   : Boundaries::from(lengths, Field::PerBucket);
                    check.maxLength = check.declaredBoundaries.largest() + 1;
                    check.batchSizes = {1, 2};
                    check.inputs = r.inputs;
                    check.bucketDim = r.bucketDim;
                    check.batchDim = r.batchDim;
                    check.paddingSide = r.paddingSide;
                    check.constantArgs = r.constantArgs; // called as the package calls it
                    const auto checked = checkKernelFile(r.kernelFile, r.kernelFunction, check);
                    if (!checked.ok) {
                        const auto& d = checked.defects.front();
                        const std::string failure =
                            "the kernel " + r.kernelFile + " has " +
                            std::to_string(checked.defects.size()) + " defect" +
                            (checked.defects.size() == 1 ? "" : "s") + ", the first " +
                            defectKindName(d.kind) + ": " + d.message;
                        if (o->json)
                            printJson({{"written", false}, {"failure", failure}, {"out", r.out}});
                        else
                            std::cerr << "bucketlab-cli build: package not written: " << failure
                                      << "\n";
                        if (checked.workerAbandoned) {
                            std::cout.flush();
                            std::quick_exit(1); // a kernel call still runs on a worker thread
                        }
                        return 1;
                    }
                }
                const auto result = buildPackage(r);
                if (o->json) {
                    nlohmann::json j;
                    j["written"] = result.written;
                    if (!result.written)
                        j["failure"] = result.failure;
                    j["proven_calls"] = result.provenCalls;
                    j["out"] = result.out;
                    j["package_bytes"] = result.packageBytes;
                    j["model_bytes"] = result.modelBytes;
                    j["meta"] = metaJson(result.meta);
                    printJson(j);
                } else if (!result.written) {
                    std::cerr << "bucketlab-cli build: package not written: " << result.failure
                              << "\n";
                } else {
                    std::cout << "wrote " << result.out << ": " << packageKindName(result.meta.kind)
                              << " package, buckets " << result.meta.boundaries.str() << ", inputs "
                              << formatInputSpecs(result.meta.inputs)
                              << (result.meta.constantArgs.empty()
                                      ? std::string()
                                      : ", kernel constant args " + result.meta.constantArgs)
                              << ", " << result.packageBytes
                              << " bytes (models: " << result.modelBytes << " bytes); ran at "
                              << result.provenCalls << " lengths first\n";
                }
                if (result.callAbandoned) {
                    std::cout.flush();
                    std::quick_exit(1); // a package call still runs on a worker thread
                }
                return result.written ? 0 : 1;
            }};
}

} // namespace bucketlab::cli
