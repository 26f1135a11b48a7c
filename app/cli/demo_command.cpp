#include "app/cli/command.h"
#include "core/demo.h"
#include "core/package_check.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

namespace bucketlab::cli {

Command addDemoCommand(CLI::App& app)
{
    struct Options {
        std::string out = "bucketlab-demo";
        bool json = false;
    };
    auto o = std::make_shared<Options>();
    auto* sub = app.add_subcommand(
        "demo",
        "Build the embedded demo (BERT-shaped encoder, MRPC traffic), package it and report");
    sub->add_option("--out", o->out, "Directory for the demo files")->capture_default_str();
    sub->add_flag("--json", o->json, "Print the report as JSON");
    return {sub, [o] {
                const DemoFiles files = prepareDemo(o->out);
                const auto& meta = files.build.meta;
                EquivalenceOptions check;
                for (int64_t b : meta.boundaries)
                    for (int64_t l : {b - 1, b})
                        check.lengths.push_back(l);
                check.lengths.insert(check.lengths.begin(), 1);
                check.lengths.push_back(meta.maxLength() + 1);
                const auto rows = checkPackageAgainstBuckets(files.package, check);
                double worst = 0;
                bool rejectedOverLength = false;
                for (const auto& r : rows) {
                    if (r.length > meta.maxLength())
                        rejectedOverLength = !r.error.empty();
                    else
                        worst = std::max(worst, r.maxAbsDiff);
                }
                if (o->json) {
                    nlohmann::json j;
                    j["dir"] = files.dir;
                    j["model"] = files.model;
                    j["distribution"] = files.distribution;
                    j["package"] = files.package;
                    j["boundaries"] = meta.boundaries;
                    j["package_bytes"] = files.build.packageBytes;
                    j["model_bytes"] = files.build.modelBytes;
                    j["max_abs_diff"] = worst;
                    j["rejects_over_length"] = rejectedOverLength;
                    printJson(j.dump(2));
                    return 0;
                }
                std::ostringstream s;
                s << std::fixed << std::setprecision(2);
                s << "BucketLab demo in " << files.dir << "\n";
                s << "  model         " << files.model << " (BERT-shaped encoder, "
                  << files.build.modelBytes / 1024 << " KiB)\n";
                s << "  traffic       " << files.distribution
                  << " (MRPC sentence pairs, bert-base-cased WordPiece)\n";
                s << "  package       " << files.package << ": buckets "
                  << formatBoundaries(meta.boundaries) << ", shared weights, "
                  << files.build.packageBytes / 1024 << " KiB ("
                  << double(files.build.packageBytes) / double(files.build.modelBytes)
                  << "x the model)\n";
                s << "  check         package == bucket model on padded inputs at lengths";
                for (const auto& r : rows)
                    if (r.length <= meta.maxLength())
                        s << " " << r.length;
                s << ": max |diff| " << std::scientific << worst << std::fixed << "\n";
                s << "  over-length   length " << meta.maxLength() + 1 << " "
                  << (rejectedOverLength ? "rejected with a clear error" : "NOT rejected") << "\n";
                std::cout << s.str();
                return 0;
            }};
}

} // namespace bucketlab::cli
