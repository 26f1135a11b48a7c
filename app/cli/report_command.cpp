#include "app/cli/command.h"
#include "app/cli/terminal_progress.h"
#include "app/cli/torch_steps.h"
#include "core/project/project.h"
#include "core/report/html_report.h"
#include "core/report/report_builder.h"
#include "core/spec/boundaries.h"
#include "core/spec/package_meta.h"
#include "core/util/error.h"
#include "core/util/output_file.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

namespace bucketlab::cli {

namespace {

struct ReportOptions {
    std::string distribution;
    std::string column;
    std::string latency;
    std::string current;
    std::string tuned;
    int tune = 0;
    int64_t maxLength = 0;
    std::string cover;
    std::string package;
    std::string inputs;
    std::string batchSizes = "1,2,5";
    int threads = 0;
    bool noKernelCheck = false;
    std::string compare; // a project file: run B
    std::string compareDistribution, compareColumn, compareLatency;
    std::string html;
    bool force = false;
    bool json = false;
};

// A word as a POSIX shell reads it back: as is when it is plain, else single-quoted.
std::string shellWord(const std::string& w)
{
    const bool plain =
        !w.empty() && w.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLM"
                                          "NOPQRSTUVWXYZ0123456789_./:=,@%+-") == std::string::npos;
    if (plain)
        return w;
    std::string q = "'";
    for (char c : w)
        q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

// How to make the same report again, for its environment section.
std::string commandLine(const ReportOptions& o)
{
    std::string s = "bucketlab-cli report";
    const auto add = [&](const char* flag, const std::string& value) {
        if (!value.empty())
            s += std::string(" ") + flag + " " + shellWord(value);
    };
    add("--distribution", o.distribution);
    add("--column", o.column);
    add("--latency", o.latency);
    add("--current", o.current);
    add("--tuned", o.tuned);
    if (o.tune > 0)
        add("--buckets", std::to_string(o.tune));
    if (o.maxLength > 0)
        add("--max-length", std::to_string(o.maxLength));
    add("--cover", o.cover);
    add("--package", o.package);
    add("--inputs", o.inputs);
    if (o.batchSizes != "1,2,5")
        add("--batch-sizes", o.batchSizes);
    if (o.threads > 0)
        add("--threads", std::to_string(o.threads));
    if (o.noKernelCheck)
        s += " --no-kernel-check";
    add("--compare", o.compare);
    add("--compare-distribution", o.compareDistribution);
    add("--compare-column", o.compareColumn);
    add("--compare-latency", o.compareLatency);
    add("--html", o.html);
    return s;
}

std::vector<std::string> existingFiles(std::initializer_list<const std::string*> paths)
{
    std::vector<std::string> files;
    for (const auto* p : paths) {
        std::error_code ec;
        if (!p->empty() && std::filesystem::exists(*p, ec))
            files.push_back(*p);
    }
    return files;
}

// Run B from --compare (a project: its first traffic and latency, as the desktop opens it,
// and its boundary sets) or from --compare-distribution / --compare-latency.
std::optional<ReportRunRequest> secondRun(const ReportOptions& o)
{
    if (o.compare.empty() && o.compareDistribution.empty() && o.compareLatency.empty())
        return std::nullopt;
    ReportRunRequest run;
    if (o.compare.empty()) {
        run.distribution = o.compareDistribution;
        run.distributionOptions.column = o.compareColumn.empty() ? o.column : o.compareColumn;
        run.latency = o.compareLatency;
        return run;
    }
    Project project;
    try {
        project = readProject(o.compare);
    } catch (const Error& e) {
        // Most likely a traffic or profile file given where a project goes.
        const std::string suffix = ".bucketlab.json";
        const bool projectName =
            o.compare.size() >= suffix.size() &&
            o.compare.compare(o.compare.size() - suffix.size(), suffix.size(), suffix) == 0;
        if (projectName)
            throw;
        throw Error(std::string(e.what()) +
                    "; --compare takes a *.bucketlab.json project: give a traffic file with "
                    "--compare-distribution or a profile with --compare-latency");
    }
    run.project = o.compare;
    if (!project.distributions.empty()) {
        run.distribution = project.distributions.front().source;
        run.distributionOptions = distributionOptionsOf(project.distributions.front());
    }
    if (!project.latencies.empty())
        run.latency = project.latencies.front().source;
    for (const auto& set : project.boundarySets)
        run.boundarySets.push_back({set.name, set.boundaries});
    return run;
}

} // namespace

Command addReportCommand(CLI::App& app)
{
    auto o = std::make_shared<ReportOptions>();
    auto* sub = app.add_subcommand("report", commandSummary("report"));
    sub->add_option("--distribution", o->distribution,
                    "Traffic: CSV/TSV/JSONL/text file or a synthetic spec")
        ->required();
    sub->add_option("--column", o->column, "CSV/TSV column of lengths");
    sub->add_option("--latency", o->latency,
                    "Latency per bucket length: a profile (JSON or CSV length,latency_ms) or "
                    "linear:a,b / poly:c0,c1,c2 (ms)")
        ->required();
    sub->add_option("--current", o->current, "Your current boundaries, e.g. 128,512")->required();
    auto* tuned =
        sub->add_option("--tuned", o->tuned, "Tuned boundaries to compare (default: tune here)");
    sub->add_option("--buckets,--tune", o->tune,
                    "Without --tuned: tune this many buckets with the exact tuner (default: as "
                    "many as --current)")
        ->excludes(tuned);
    sub->add_option("--max-length", o->maxLength,
                    "Longest length the model accepts: longer traffic is rejected");
    sub->add_option("--cover", o->cover,
                    "Serve up to: the tuned set's largest bucket. current (default: the largest "
                    "of --current, so nothing served today is refused), traffic (the longest "
                    "request seen) or a length N. A tuned set that refuses requests the current "
                    "one serves is the report's headline");
    sub->add_option("--package", o->package,
                    "Package whose inputs the generated kernel takes; its own kernel is "
                    "validated too");
    sub->add_option("--inputs", o->inputs,
                    "Inputs of the generated kernel, name:dtype[:pad] (default: the package's, "
                    "else the guide's three int64 BERT inputs)");
    sub->add_option("--batch-sizes", o->batchSizes, "Batch sizes the kernel checks run")
        ->capture_default_str();
    sub->add_option("--threads", o->threads,
                    "LibTorch threads and validator workers (default: LibTorch's own)");
    sub->add_flag("--no-kernel-check", o->noKernelCheck,
                  "Skip kernel validation (the report says that none was run)");
    auto* compare = sub->add_option(
        "--compare", o->compare,
        "A second run to compare with, side by side: a BucketLab project (*.bucketlab.json); "
        "its first traffic and latency source, and its boundary sets");
    sub->add_option("--compare-distribution", o->compareDistribution,
                    "A second run's traffic (file or synthetic spec), on --latency's curve unless "
                    "--compare-latency gives another")
        ->excludes(compare);
    sub->add_option("--compare-column", o->compareColumn,
                    "CSV/TSV column of lengths in --compare-distribution (default: --column)")
        ->excludes(compare);
    sub->add_option("--compare-latency", o->compareLatency,
                    "A second run's latency (profile or spec), on --distribution's traffic unless "
                    "--compare-distribution gives another")
        ->excludes(compare);
    sub->add_option("--html", o->html, "HTML file to write")->required();
    sub->add_flag("--force", o->force, "Replace --html if it exists");
    sub->add_flag("--json", o->json, "Print the summary figures as JSON");
    sub->footer("Exit codes: 0 report written; 1 report written, and a kernel it validated has "
                "defects; 2 bad input (nothing written).\nExample:\n  bucketlab-cli report "
                "--distribution traffic.csv --latency profile.json --current 128,512 --html "
                "buckets.html\n  bucketlab-cli report --distribution traffic.csv --latency "
                "profile.json --current 128,512 --compare-distribution new_traffic.csv --html "
                "buckets.html");

    return {sub,
            [o] {
                const auto inputs =
                    existingFiles({&o->distribution, &o->latency, &o->package, &o->compare,
                                   &o->compareDistribution, &o->compareLatency});
                checkOutputPath(o->html, OutputCheck{o->force, inputs});
                BoundaryReportRequest r;
                r.distribution = o->distribution;
                r.column = o->column;
                r.latency = o->latency;
                r.current = Boundaries::parse(o->current, Field::CurrentBoundaries);
                if (!o->tuned.empty())
                    r.tuned = Boundaries::parse(o->tuned, Field::TunedBoundaries);
                r.tuneBuckets = o->tune;
                r.serveUpTo = ServeUpTo::parse(o->cover);
                r.maxLength = o->maxLength;
                r.package = o->package;
                if (!o->inputs.empty())
                    r.inputs = parseInputSpecs(o->inputs);
                r.batchSizes = parsePositiveList(o->batchSizes, Field::BatchSizes, kMaxBatch);
                r.checkKernels = !o->noKernelCheck;
                r.threads = o->threads;
                r.commandLine = commandLine(*o);
                r.compareWith = secondRun(*o);
                const BoundaryReportRun run =
                    makeBoundaryReport(r, torchSteps().report, terminalJob());
                const BoundaryReport& report = run.report;

                const std::string html = renderHtmlReport(report);
                writeFileAtomically(o->html, html, o->force);

                if (o->json) {
                    printJson(boundaryReportJson(report, o->html));
                } else {
                    const auto summary = summarizeComparison(report.comparison);
                    std::cout << "wrote " << o->html << " (" << (html.size() + 1023) / 1024
                              << " KiB)\n  " << summary.sentence << "\n";
                    if (!summary.caveat.empty())
                        std::cout << "  note: " << summary.caveat << "\n";
                    if (report.runs)
                        std::cout << "  run B: " << describeRunComparison(*report.runs) << "\n";
                    if (report.kernelChecks.empty())
                        std::cout << "  kernel: no validation run (--no-kernel-check)\n";
                    for (const auto& k : report.kernelChecks)
                        std::cout << "  kernel: " << k.title << ": "
                                  << (k.ok ? "validates clean"
                                           : std::to_string(k.defects.size()) +
                                                 " defect(s): " + k.defects.front().kind + ": " +
                                                 k.defects.front().message)
                                  << "\n";
                }
                const int code = run.kernelDefects ? 1 : 0;
                if (run.workerAbandoned) {
                    // A kernel call never returned and still runs on its thread; static
                    // destructors must not run under it.
                    std::cout.flush();
                    std::fflush(nullptr);
                    std::quick_exit(code);
                }
                return code;
            },
            {{Field::Output, "--html"}},
            [o] {
                return !o->noKernelCheck;
            }};
}

} // namespace bucketlab::cli
