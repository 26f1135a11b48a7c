#include "app/cli/command.h"
#include "app/cli/common_options.h"
#include "app/cli/constant_args_option.h"
#include "app/cli/terminal_progress.h"
#include "core/archive/archive.h"
#include "core/kernel/constant_args.h"
#include "core/kernel/kernel.h"
#include "core/kernel/kernel_check.h"
#include "core/package/package_check.h"
#include "core/spec/boundaries.h"
#include "core/spec/input_spec.h"
#include "core/spec/package_meta.h"
#include "core/util/error.h"
#include "core/util/format.h"

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>

namespace bucketlab::cli {

namespace {

struct ValidateOptions {
    std::string file;
    std::string function;
    int64_t maxLength = 0;
    std::string batchSizes = "1,2,5";
    ModelInputOptions in;
    std::string boundaries;
    std::string paddingSide = "right";
    std::string contract = "pad";
    std::string constantArgs;
    double timeout = 5.0;
    int threads = 0;
    bool json = false;
};

// What validate found: the kernel's check and, for a package checked whole, its state
// preprocessor's and its forward() at every bucket.
struct ValidateRun {
    std::optional<PackageMeta> package;
    KernelCheckResult result;
    std::optional<KernelCheckResult> stateResult;
    std::vector<PackageRunRow> runs;
    std::string runFailure;

    bool ok() const { return result.ok && (!stateResult || stateResult->ok) && runFailure.empty(); }
    bool abandoned() const
    {
        return result.workerAbandoned || (stateResult && stateResult->workerAbandoned) ||
               (!runs.empty() && runs.back().abandoned);
    }
};

void addValidateOptions(CLI::App* sub, ValidateOptions* o)
{
    sub->add_option("file", o->file,
                    "Kernel (.py, TorchScript source, .pt) or package (checked whole unless "
                    "--function names one of its kernels)")
        ->required();
    sub->add_option("--function", o->function, "Kernel function or method (default: detected)");
    sub->add_option("--max-length", o->maxLength,
                    "Check lengths 1..N (default: twice the package's largest bucket, else 2048)");
    addBatchSizesOption(sub, o->batchSizes, "Batch sizes the kernel is called with");
    sub->add_option("--boundaries", o->boundaries,
                    "Buckets to build shapes_collection from when checking a state preprocessor "
                    "(default 128,512)");
    addModelInputOptions(
        sub, o->in,
        {"",
         "default: a package's; else three int64 inputs as in the guide, any constant padding "
         "accepted",
         false,
         "For a state preprocessor, one shape per --boundaries bucket: checked at exactly these "
         "shapes instead of two test layouts (a package's own states are used for it)",
         true});
    sub->add_option("--padding-side", o->paddingSide,
                    "Where the kernel must pad: after the real tokens (right) or before them "
                    "(left); a package's own side unless --inputs is given")
        ->check(CLI::IsMember({"right", "left"}))
        ->capture_default_str();
    sub->add_option("--contract", o->contract,
                    "How inputs reach the kernel: pad (the guide's: at their length, padded up "
                    "to the nearest bucket) or slice (NxD's context encoding: padded to the "
                    "largest bucket with L real tokens, sliced to the smallest bucket >= L)")
        ->check(CLI::IsMember({"pad", "slice"}))
        ->capture_default_str();
    sub->add_option("--constant-args", o->constantArgs,
                    "Arguments the kernel takes after its inputs, as TorchScript expressions "
                    "(NxD's bucket_kernel_constant_args), e.g. \"torch.tensor([128, 512]), "
                    "'right', 0\"; a bucket tensor among them gives the buckets");
    sub->add_option("--timeout", o->timeout, "Seconds one kernel call may take")
        ->capture_default_str();
    sub->add_option("--threads", o->threads, "Threads calling the kernel (default 1)")
        ->check(CLI::Range(1, kMaxCheckThreads));
    addJsonFlag(sub, o->json);
    sub->footer("Examples:\n  bucketlab-cli validate seed_bucket_kernel.py --max-length 1024\n"
                "  bucketlab-cli validate nxd_kernel.py --contract slice --constant-args "
                "\"torch.tensor([128, 512]), 'right', 0\" --inputs "
                "input_ids:int64:0,attention_mask:int64:0,seq_ids:int64:-");
}

// The check's options from the command line, each checked.
KernelCheckOptions kernelCheckOptions(const ValidateOptions& o, bool maxLengthGiven,
                                      ConstantArgs& constantArgs)
{
    KernelCheckOptions options;
    options.maxLength = o.maxLength;
    if (maxLengthGiven && o.maxLength < 1)
        throw Error("--max-length " + std::to_string(o.maxLength) + " must be positive");
    options.threads = o.threads;
    options.batchSizes = batchSizes(o.batchSizes);
    if (!o.in.inputs.empty())
        options.inputs = parseInputSpecs(o.in.inputs);
    if (!o.boundaries.empty())
        options.stateBoundaries = Boundaries::parse(o.boundaries, Field::Boundaries);
    const Boundaries stateBuckets =
        options.stateBoundaries.empty() ? Boundaries{128, 512} : options.stateBoundaries;
    for (const auto& st : o.in.states)
        options.states.push_back(parseStateSpec(st, stateBuckets));
    if (!options.states.empty())
        checkStateSpecs(options.states, stateBuckets);
    options.bucketDim = o.in.bucketDim;
    options.batchDim = o.in.batchDim;
    options.paddingSide = parsePaddingSide(o.paddingSide);
    options.contract = o.contract == "slice" ? KernelContract::Slice : KernelContract::Pad;
    constantArgs = parseConstantArgsOption(o.constantArgs);
    options.constantArgs = o.constantArgs;
    if (!(o.timeout > 0))
        throw Error("--timeout must be a positive number of seconds");
    options.callTimeoutSeconds = o.timeout;
    return options;
}

ValidateRun runValidation(const ValidateOptions& o, const KernelCheckOptions& options,
                          const ConstantArgs& constantArgs)
{
    ValidateRun c;
    // A package without --function is checked whole: its bucket kernel, its state
    // preprocessor and its forward() at every bucket.
    if (o.function.empty() && isArchiveFile(o.file))
        c.package = readArchive(o.file).meta;
    if (c.package && !options.states.empty())
        throw Error("--state: " + o.file +
                    " is a package and declares its own states; --state is for a state "
                    "preprocessor given on its own");
    if (!c.package) {
        // The core says what the kernel takes; here is how to give it.
        const Kernel kernel = loadKernel(o.file, {o.function});
        if (kernel.role() == KernelRole::BucketKernel)
            checkConstantArgsOption(kernel, constantArgs);
    }
    const Job job = terminalJob();
    const bool states = c.package && !c.package->states.empty();
    c.result = checkKernelFile(o.file, o.function, options,
                               c.package ? job.sub(0, states ? 0.6 : 0.8) : job);
    if (c.package && !c.result.workerAbandoned) {
        if (states) {
            KernelCheckOptions stateOptions = options;
            stateOptions.stateBoundaries = c.package->boundaries;
            stateOptions.states = c.package->states; // at the package's own shapes
            c.stateResult =
                checkKernelFile(o.file, "state_preprocessor", stateOptions, job.sub(0.6, 0.8));
        }
        if (!c.stateResult || !c.stateResult->workerAbandoned) {
            c.runs = runPackageAtEveryBucket(o.file, options.batchSizes, true, job.sub(0.8, 1));
            c.runFailure = firstRunFailure(c.runs);
        }
    }
    return c;
}

nlohmann::json validateJson(const ValidateRun& c)
{
    auto j = kernelCheckJson(c.result);
    if (c.package) {
        if (c.stateResult)
            j["state_preprocessor"] = kernelCheckJson(*c.stateResult);
        nlohmann::json calls = nlohmann::json::array();
        for (const auto& r : c.runs)
            calls.push_back({{"length", r.length},
                             {"batch", r.batch},
                             {"bucket", r.bucket},
                             {"must_raise", r.expectRejection},
                             {"passed", r.passed()},
                             {"error", r.error}});
        j["package_calls"] = {{"calls", calls},
                              {"ok", c.runFailure.empty() && !c.runs.empty()},
                              {"failure", c.runFailure}};
        j["ok"] = c.ok();
    }
    return j;
}

void printValidation(const ValidateRun& c, const ValidateOptions& o)
{
    const KernelCheckResult& result = c.result;
    std::cout << o.file << ": "
              << (result.role == KernelRole::BucketKernel ? "bucket kernel "
                                                          : "state preprocessor ")
              << result.kernel << ", " << result.calls << " calls in " << result.seconds << " s\n";
    std::cout << "  boundaries  " << formatLengths(result.boundaries) << "\n";
    for (const auto& d : result.defects)
        std::cout << "  DEFECT " << defectKindName(d.kind) << ": " << d.message << "\n";
    for (const auto& n : result.notes)
        std::cout << "  note: " << n << "\n";
    size_t defects = result.defects.size();
    if (c.stateResult) {
        std::cout << "  state preprocessor: " << c.stateResult->calls << " calls\n";
        for (const auto& d : c.stateResult->defects)
            std::cout << "  DEFECT state preprocessor " << defectKindName(d.kind) << ": "
                      << d.message << "\n";
        defects += c.stateResult->defects.size();
    }
    if (c.package && !c.runs.empty()) {
        std::cout << "  forward()   " << c.runs.size()
                  << " calls: every bucket at its boundary and its first length, "
                     "batch "
                  << o.batchSizes << ", and past the largest bucket\n";
        if (!c.runFailure.empty()) {
            std::cout << "  DEFECT package-call: " << c.runFailure << "\n";
            ++defects;
        }
    }
    std::cout << (c.ok() ? "  ok: no defects\n"
                         : "  " + std::to_string(defects) + " defect class(es)\n");
}

int runValidate(const ValidateOptions& o, bool maxLengthGiven)
{
    ConstantArgs constantArgs;
    const KernelCheckOptions options = kernelCheckOptions(o, maxLengthGiven, constantArgs);
    const ValidateRun c = runValidation(o, options, constantArgs);
    if (o.json)
        printJson(validateJson(c));
    else
        printValidation(c, o);
    const int code = c.ok() ? 0 : 1;
    if (c.abandoned()) {
        // A kernel call never returned and still runs on its thread; static
        // destructors must not run under it.
        std::cout.flush();
        std::fflush(nullptr);
        std::quick_exit(code);
    }
    return code;
}

} // namespace

Command addValidateCommand(CLI::App& app)
{
    auto o = std::make_shared<ValidateOptions>();
    auto* sub = app.add_subcommand("validate", commandSummary("validate"));
    addValidateOptions(sub, o.get());
    return {sub,
            [o, sub] { return runValidate(*o, sub->get_option("--max-length")->count() > 0); },
            {{Field::CheckLength, "--max-length"}}};
}

} // namespace bucketlab::cli
