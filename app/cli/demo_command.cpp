#include "app/cli/command.h"
#include "app/cli/common_options.h"
#include "app/cli/terminal_progress.h"
#include "core/demo/demo_decoder.h"
#include "core/demo/demo_pipeline.h"
#include "core/util/format.h"
#include "core/util/output_file.h"
#include "core/util/sha256.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

namespace bucketlab::cli {

namespace {

std::string pct(double v, int precision = 1)
{
    std::ostringstream s;
    s << std::fixed << std::setprecision(precision) << v << " %";
    return s.str();
}

std::string ms(double v)
{
    std::ostringstream s;
    s << std::fixed << std::setprecision(2) << v << " ms";
    return s.str();
}

std::string statsLine(const EvaluationStats& s)
{
    return "mean " + ms(s.meanLatencyMs) + ", p99 " + ms(s.p99LatencyMs) + ", waste " +
           pct(s.wastePct);
}

void printReport(const DemoRun& r)
{
    const auto& meta = r.files.build.meta;
    const auto& h = r.traffic;
    const auto& tuned = r.tuning.evaluation.stats;
    const double gain = (r.current.stats.meanLatencyMs - tuned.meanLatencyMs) /
                        r.current.stats.meanLatencyMs * 100.0;
    double worst = 0;
    bool rejected = false;
    for (const auto& row : r.equivalence) {
        if (row.length > meta.maxLength())
            rejected = !row.error.empty();
        else
            worst = std::max(worst, row.maxAbsDiff);
    }
    std::ostringstream s;
    s << "BucketLab demo in " << r.files.dir << "\n";
    s << "  model      " << r.files.model << " (BERT-shaped encoder, "
      << r.files.build.modelBytes / 1024 << " KiB)\n";
    s << "  traffic    " << h.total() << " MRPC sentence pairs, bert-base-cased WordPiece: lengths "
      << h.minLength() << "-" << h.maxLength() << ", mean " << std::fixed << std::setprecision(1)
      << h.mean() << "\n";
    s << "  latency    " << r.latencyDescription << "\n";
    s << "  current    buckets " << meta.boundaries.str()
      << " (the guide's): " << statsLine(r.current.stats) << "\n";
    s << "  tuned      buckets " << r.tuning.solution.boundaries.str() << ": " << statsLine(tuned)
      << " -> " << pct(gain) << " lower mean latency\n";
    for (const auto& b : r.tuning.baselines)
        if (b.name != "current")
            s << "  baseline   " << std::left << std::setw(14) << b.name
              << b.evaluation.boundaries.str() << ": " << statsLine(b.evaluation.stats) << "\n";
    s << "  kernel     " << r.kernel.kernel
      << " of demo_package.pt: " << (r.kernel.ok ? "validates clean" : "DEFECTS") << " over "
      << r.kernel.calls << " calls (lengths 1-" << 2 * meta.maxLength()
      << ", batch 1 and 2), buckets inferred " << formatLengths(r.kernel.boundaries) << "\n";
    for (const auto& d : r.kernel.defects)
        s << "             " << defectKindName(d.kind) << ": " << d.message << "\n";
    s << "  package    " << r.files.package << " == its bucket models on padded inputs: max |diff| "
      << std::scientific << std::setprecision(1) << worst << std::fixed << "; length "
      << meta.maxLength() + 1 << (rejected ? " rejected with a clear error" : " NOT rejected")
      << "\n";
    if (r.exported.written)
        s << "  export     " << r.exported.out << ": verified against the source at "
          << r.exported.lengths.size() << " lengths, max |diff| " << std::scientific
          << std::setprecision(1) << r.exported.maxAbsDiff << std::fixed
          << "; its kernel validates clean at lengths 1-" << r.exported.kernelCheckLength << "\n";
    else
        s << "  export     NOT written: " << r.exported.failure << "\n";
    if (!r.exported.recipeFiles.empty())
        s << "  recipe     " << r.exported.recipeFiles.size() << " files for torch_neuronx in "
          << r.files.dir << "/neuron_recipe\n";
    if (r.verified) {
        const PredictionCheck& c = r.prediction;
        s << "  measured   demo_tuned.pt, each bucket timed and weighted by its traffic: predicted "
          << std::setprecision(2) << c.predictedMs << " ms, measured " << c.measuredMs << " ms";
        if (c.scaledToReference)
            s << " (scaled to the profile's conditions: this machine runs " << c.conditionsRatio
              << "x its time now)";
        s << ": error " << std::showpos << c.errorPct << std::noshowpos << " %, "
          << (c.beyondTolerance ? "BEYOND" : "within") << " the " << std::setprecision(0)
          << c.tolerancePct << " % tolerance\n";
    }
    std::cout << s.str();
}

struct DemoOptions {
    std::string out = "bucketlab-demo";
    int buckets = 4;
    double verifyBudget = 15;
    bool json = false;
};

struct DecoderOptions {
    std::string out;
    bool force = false;
    bool json = false;
};

// `demo decoder --out decoder.pt`: the demo decoder alone, to profile its two phases.
int runDemoDecoder(const DecoderOptions& d)
{
    checkOutputPath(d.out, OutputCheck{d.force, {}});
    const DemoDecoderConfig config;
    writeDemoDecoder(d.out, config, d.force);
    nlohmann::json j{{"out", d.out},
                     {"sha256", sha256File(d.out)},
                     {"methods", {"prefill", "decode", "empty_cache"}},
                     {"vocab", config.vocab},
                     {"hidden", config.hidden},
                     {"layers", config.layers},
                     {"heads", config.heads},
                     {"max_positions", config.maxPositions}};
    if (d.json)
        printJson(j);
    else
        std::cout << "wrote " << d.out << ": demo decoder, " << config.layers << " layers, hidden "
                  << config.hidden << ", vocab " << config.vocab << ", up to "
                  << config.maxPositions << " positions (prefill, decode, empty_cache)\n";
    return 0;
}

nlohmann::json demoJson(const DemoRun& r)
{
    double worst = 0;
    bool rejected = false;
    for (const auto& row : r.equivalence) {
        if (row.length > r.files.build.meta.maxLength())
            rejected = !row.error.empty();
        else
            worst = std::max(worst, row.maxAbsDiff);
    }
    nlohmann::json j;
    j["dir"] = r.files.dir;
    j["model"] = r.files.model;
    j["distribution"] = r.files.distribution;
    j["package"] = r.files.package;
    j["latency"] = r.latencyDescription;
    j["boundaries"] = r.files.build.meta.boundaries;
    j["package_bytes"] = r.files.build.packageBytes;
    j["model_bytes"] = r.files.build.modelBytes;
    j["max_abs_diff"] = worst;
    j["rejects_over_length"] = rejected;
    j["current"] = r.current.toJson();
    j["tune"] = r.tuning.toJson();
    j["kernel_check"] = kernelCheckJson(r.kernel);
    j["export"] = {{"written", r.exported.written},
                   {"out", r.exported.out},
                   {"boundaries", r.exported.meta.boundaries},
                   {"max_abs_diff", r.exported.maxAbsDiff},
                   {"recipe_files", r.exported.recipeFiles},
                   {"failure", r.exported.failure}};
    j["profile"] = r.files.profile;
    if (r.verified)
        j["verification"] = verificationJson(r.verification, r.prediction);
    return j;
}

int runDemoPipeline(const DemoOptions& o)
{
    DemoRunOptions options;
    options.dir = o.out;
    options.buckets = o.buckets;
    options.verifyBudgetS = o.verifyBudget;
    const DemoRun r = runDemo(options, terminalJob());
    if (o.json)
        printJson(demoJson(r));
    else
        printReport(r);
    return r.kernel.ok && r.exported.written ? 0 : 1;
}

} // namespace

Command addDemoCommand(CLI::App& app)
{
    auto o = std::make_shared<DemoOptions>();
    auto* sub = app.add_subcommand("demo", commandSummary("demo"));
    sub->add_option("--out", o->out, "Directory for the demo files")->capture_default_str();
    sub->add_option("--buckets", o->buckets, "Buckets to tune")
        ->capture_default_str()
        ->check(CLI::Range(1, 64));
    sub->add_option("--verify-budget", o->verifyBudget,
                    "Seconds to measure the tuned package against the predicted latency (0: skip; "
                    "a prediction off by more than 5 % is reported, not an error)")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    addJsonFlag(sub, o->json, "Print the report as JSON");

    auto d = std::make_shared<DecoderOptions>();
    auto* decoder = sub->add_subcommand(
        "decoder", "Write the demo decoder (a small causal LM with a KV cache) to profile its "
                   "prefill and decode phases");
    decoder->add_option("--out", d->out, "The TorchScript file to write")->required();
    addForceFlag(decoder, d->force);
    addJsonFlag(decoder, d->json, "Print what was written as JSON");
    decoder->footer("Example:\n  bucketlab-cli demo decoder --out decoder.pt\n"
                    "  bucketlab-cli profile decoder.pt --phase prefill --lengths 128,512 --out "
                    "cte.json");

    return {sub, [o, sub, d] {
                return sub->got_subcommand("decoder") ? runDemoDecoder(*d) : runDemoPipeline(*o);
            }};
}

} // namespace bucketlab::cli
