#include "app/cli/command.h"
#include "app/cli/common_options.h"
#include "app/cli/terminal_progress.h"
#include "core/package/package_export.h"
#include "core/spec/boundaries.h"
#include "core/util/error.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

namespace bucketlab::cli {

namespace {

struct ExportOptions {
    std::string package;
    std::string boundaries;
    std::vector<std::string> states;
    std::string recipe;
    std::string batches = "1,2";
    int randomLengths = 4;
    int64_t kernelCheckLength = 0;
    double tolerance = 1e-5;
    OutputOptions output;
};

nlohmann::json resultJson(const ExportRequest& r, const ExportResult& result)
{
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& row : result.verification)
        rows.push_back({{"length", row.length},
                        {"batch", row.batch},
                        {"bucket", row.bucket},
                        {"reference_bucket", row.referenceBucket},
                        {"reference", row.referenceIsBucketModel ? "bucket model" : "package"},
                        {"expect_rejection", row.expectRejection},
                        {"max_abs_diff", row.maxAbsDiff},
                        {"error", row.error},
                        {"passed", row.passed(r.tolerance)}});
    nlohmann::json j;
    j["ok"] = result.written;
    j["written"] = result.written;
    j["out"] = result.out;
    j["source"] = r.package;
    j["boundaries"] = result.meta.boundaries;
    j["kind"] = packageKindName(result.meta.kind);
    j["package_bytes"] = result.packageBytes;
    j["verification"] = {{"lengths", result.lengths},       {"batches", r.batches},
                         {"tolerance", r.tolerance},        {"max_abs_diff", result.maxAbsDiff},
                         {"seconds", result.verifySeconds}, {"rows", rows}};
    // Not run when the verification already failed: there is nothing to validate then.
    j["kernel_check"] = {{"run", result.kernelValidated},
                         {"ok", result.kernelValidated
                                    ? nlohmann::json(result.kernelDefects.empty())
                                    : nlohmann::json()},
                         {"defects", result.kernelDefects},
                         {"max_length", result.kernelCheckLength},
                         {"batches", r.batches},
                         {"seconds", result.validateSeconds}};
    j["recipe_files"] = result.recipeFiles;
    j["failure"] = result.failure.empty() ? nlohmann::json() : nlohmann::json(result.failure);
    j["meta"] = metaJson(result.meta);
    return j;
}

void printText(const ExportRequest& r, const ExportResult& result)
{
    std::ostringstream s;
    s << "wrote " << result.out << ": " << packageKindName(result.meta.kind) << " package, buckets "
      << result.meta.boundaries.str() << ", " << result.packageBytes << " bytes\n";
    size_t rejected = 0;
    for (const auto& row : result.verification)
        rejected += row.expectRejection ? 1 : 0;
    s << "  verified  same outputs as " << r.package << " at " << result.lengths.size()
      << " lengths x batch sizes";
    for (auto b : r.batches)
        s << " " << b;
    s << ": max |diff| " << std::scientific << std::setprecision(1) << result.maxAbsDiff
      << " (tolerance " << r.tolerance << ")";
    if (rejected)
        s << "; length " << result.meta.maxLength() + 1 << " rejected";
    s << std::defaultfloat << std::setprecision(3) << "; " << result.verifySeconds << " s\n";
    s << "  kernel    validates clean at lengths 1.." << result.kernelCheckLength
      << " (rejecting those past " << result.meta.maxLength() << ") x batch sizes";
    for (auto b : r.batches)
        s << " " << b;
    s << " in " << result.validateSeconds << " s\n";
    if (!result.recipeFiles.empty()) {
        s << "  recipe   ";
        for (const auto& f : result.recipeFiles)
            s << " " << f;
        s << "\n";
    }
    std::cout << s.str();
}

} // namespace

Command addExportCommand(CLI::App& app)
{
    auto o = std::make_shared<ExportOptions>();
    auto* sub = app.add_subcommand("export", commandSummary("export"));
    sub->add_option("package", o->package, "BucketLab package to re-export")->required();
    sub->add_option("--boundaries", o->boundaries, "New bucket lengths, ascending: e.g. 64,128,512")
        ->required();
    addOutputOptions(sub, o->output,
                     {"--out", "Package file to write", true, "--out and the recipe files"});
    sub->add_option("--neuron-recipe", o->recipe,
                    "Also write the Neuron build recipe (bucket_config.json, bucket_kernel.py, "
                    "neuron_build.py, README.md) into this directory");
    addStateOption(sub, o->states,
                   "The states' shapes for the new buckets: needed when the package has states "
                   "and a boundary is new");
    addBatchSizesOption(sub, o->batches, "Batch sizes the verification runs");
    sub->add_option("--random-lengths", o->randomLengths,
                    "Random lengths verified in every bucket, besides 1, each boundary, each "
                    "boundary + 1 and the maximum")
        ->capture_default_str();
    sub->add_option("--tolerance", o->tolerance, "Largest max |diff| accepted")
        ->capture_default_str();
    sub->add_option("--kernel-check-length", o->kernelCheckLength,
                    "The new kernel is validated at every length 1..N and the batch sizes "
                    "(default: the largest bucket + 1, the first length it must reject)");
    sub->footer("Exit codes: 0 written, verified and its kernel validated; 1 the new package's "
                "outputs differ from the source's or its kernel has defects (nothing written); 2 "
                "bad input.\nExample:\n  bucketlab-cli export "
                "model.bucketed.pt --boundaries 64,128,256,512 --out model.tuned.pt "
                "--neuron-recipe neuron/");

    return {sub, [o] {
                ExportRequest r;
                r.package = o->package;
                r.boundaries = Boundaries::parse(o->boundaries, Field::Boundaries);
                for (const auto& st : o->states)
                    r.states.push_back(parseStateSpec(st, r.boundaries));
                r.out = o->output.path;
                r.force = o->output.force;
                r.neuronRecipeDir = o->recipe;
                r.batches = batchSizes(o->batches);
                if (o->randomLengths < 0)
                    throw Error("--random-lengths " + std::to_string(o->randomLengths) +
                                " is negative");
                r.randomLengthsPerBucket = o->randomLengths;
                if (!(o->tolerance >= 0))
                    throw Error("--tolerance must be a non-negative number");
                r.tolerance = o->tolerance;
                if (o->kernelCheckLength < 0)
                    throw Error("--kernel-check-length must be positive");
                r.kernelCheckLength = o->kernelCheckLength;
                const auto result = exportPackage(r, terminalJob());
                if (o->output.json)
                    printJson(resultJson(r, result));
                else if (result.written)
                    printText(r, result);
                if (!result.written)
                    std::cerr << "bucketlab-cli export: error: " << result.failure
                              << "; nothing written\n";
                if (result.kernelCallAbandoned) {
                    // A kernel call never returned and still runs on its thread; static
                    // destructors must not run under it.
                    std::cout.flush();
                    std::fflush(nullptr);
                    std::quick_exit(1);
                }
                return result.written ? 0 : 1;
            }};
}

} // namespace bucketlab::cli
