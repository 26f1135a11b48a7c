#include "app/cli/command.h"
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
    std::string column;
    std::string field;
    std::string vocab;
    std::vector<std::string> textColumns;
    bool lowercase = false;
    std::string histogramOut;
    bool force = false;
    bool json = false;
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
    sub->add_option("--column", o->column,
                    "CSV/TSV column of lengths (default: length, len, seq_len, tokens, ...)");
    sub->add_option("--field", o->field, "JSONL field holding the length, token ids or text");
    sub->add_option("--vocab", o->vocab,
                    "WordPiece vocab.txt: count BERT tokens of texts instead of reading lengths");
    sub->add_option("--text-columns", o->textColumns,
                    "With --vocab: tab-separated columns (1-based numbers or header names) "
                    "holding one text or a sentence pair, e.g. 4,5")
        ->delimiter(',');
    sub->add_flag("--lowercase", o->lowercase,
                  "With --vocab: lower-case and strip accents first (uncased models)");
    sub->add_option("--histogram-out", o->histogramOut, "Write the length,count histogram here");
    sub->add_flag("--force", o->force, "Replace --histogram-out if it exists");
    sub->add_flag("--json", o->json, "Print the summary as JSON");
    sub->footer("Example (the MRPC sentence-pair lengths of resources/demo):\n"
                "  bucketlab-cli distribution train.tsv dev.tsv test.tsv --vocab "
                "bert-base-cased-vocab.txt --text-columns 4,5 --histogram-out lengths.csv");

    return {sub,
            [o] {
                if (!o->histogramOut.empty()) {
                    OutputCheck check;
                    check.force = o->force;
                    check.inputs = o->files;
                    check.inputs.push_back(o->vocab);
                    checkOutputPath(o->histogramOut, check);
                }
                DistributionOptions d;
                d.column = o->column;
                d.field = o->field;
                d.vocab = o->vocab;
                d.textColumns = o->textColumns;
                d.lowercase = o->lowercase;
                LengthHistogram h;
                for (const auto& f : o->files)
                    h.merge(loadDistribution(f, d));
                if (!o->histogramOut.empty())
                    writeFileAtomically(o->histogramOut, h.toCsv(), o->force);
                if (o->json) {
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
                    j["histogram_out"] = o->histogramOut.empty() ? nlohmann::json(nullptr)
                                                                 : nlohmann::json(o->histogramOut);
                    printJson(j);
                } else {
                    std::cout << h.total() << " requests, " << h.distinct() << " distinct lengths";
                    if (o->files.size() > 1)
                        std::cout << ", from " << o->files.size() << " sources";
                    std::cout << "\n  min " << h.minLength() << "  mean " << std::fixed
                              << std::setprecision(1) << h.mean() << "  p50 " << h.quantile(0.5)
                              << "  p90 " << h.quantile(0.9) << "  p99 " << h.quantile(0.99)
                              << "  max " << h.maxLength() << "\n";
                    if (!o->histogramOut.empty())
                        std::cout << "wrote " << o->histogramOut << "\n";
                }
                return 0;
            },
            {{Field::Output, "--histogram-out"}}};
}

} // namespace bucketlab::cli
