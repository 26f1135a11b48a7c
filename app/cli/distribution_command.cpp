#include "app/cli/command.h"
#include "app/cli/common_options.h"
#include "core/traffic/distribution.h"
#include "core/util/error.h"
#include "core/util/output_file.h"

#include <nlohmann/json.hpp>

#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

namespace bucketlab::cli {

namespace {

struct DistributionCliOptions {
    std::vector<std::string> files;
    DistributionOptions read;
    OutputOptions histogram;
};

} // namespace

Command addDistributionCommand(CLI::App& app)
{
    auto o = std::make_shared<DistributionCliOptions>();
    auto* sub = app.add_subcommand("distribution", commandSummary("distribution"));
    sub->add_option("files", o->files,
                    "CSV/TSV, JSONL or text files (combined), or a synthetic spec such as "
                    "lognormal:mu=5,sigma=0.7,max=2048")
        ->required();
    addDistributionReadOptions(sub, o->read);
    addOutputOptions(sub, o->histogram,
                     {"--histogram-out", "Write the length,count histogram here", false, "",
                      "Print the summary as JSON"});
    sub->footer("Example (the MRPC sentence-pair lengths of resources/demo):\n"
                "  bucketlab-cli distribution train.tsv dev.tsv test.tsv --vocab "
                "bert-base-cased-vocab.txt --text-columns 4,5 --histogram-out lengths.csv");

    return {sub,
            [o] {
                const OutputOptions& out = o->histogram;
                if (!out.path.empty()) {
                    OutputCheck check;
                    check.force = out.force;
                    check.inputs = o->files;
                    check.inputs.push_back(o->read.vocab);
                    checkOutputPath(out.path, check);
                }
                LengthHistogram h;
                for (const auto& f : o->files)
                    h.merge(loadDistribution(f, o->read));
                if (!out.path.empty())
                    writeFileAtomically(out.path, h.toCsv(), out.force);
                if (out.json) {
                    nlohmann::json j;
                    j["sources"] = o->files;
                    j["requests"] = h.total();
                    j["distinct_lengths"] = h.distinct();
                    j["min"] = h.minLength();
                    j["mean"] = h.mean();
                    j["p50"] = h.quantile(0.50);
                    j["p90"] = h.quantile(0.90);
                    j["p99"] = h.quantile(0.99);
                    j["max"] = h.maxLength();
                    j["histogram_out"] =
                        out.path.empty() ? nlohmann::json(nullptr) : nlohmann::json(out.path);
                    printJson(j);
                } else {
                    std::cout << h.total() << " requests, " << h.distinct() << " distinct lengths";
                    if (o->files.size() > 1)
                        std::cout << ", from " << o->files.size() << " sources";
                    std::cout << "\n  min " << h.minLength() << "  mean " << std::fixed
                              << std::setprecision(1) << h.mean() << "  p50 " << h.quantile(0.5)
                              << "  p90 " << h.quantile(0.9) << "  p99 " << h.quantile(0.99)
                              << "  max " << h.maxLength() << "\n";
                    if (!out.path.empty())
                        std::cout << "wrote " << out.path << "\n";
                }
                return 0;
            },
            {{Field::Output, "--histogram-out"}}};
}

} // namespace bucketlab::cli
