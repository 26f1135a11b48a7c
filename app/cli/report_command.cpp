#include "app/cli/command.h"
#include "app/cli/common_options.h"
#include "app/cli/llm_options.h"
#include "app/cli/terminal_progress.h"
#include "app/cli/torch_steps.h"
#include "core/project/project.h"
#include "core/report/html_report.h"
#include "core/report/llm_report_section.h"
#include "core/report/report_builder.h"
#include "core/spec/boundaries.h"
#include "core/spec/package_meta.h"
#include "core/util/error.h"
#include "core/util/format.h"
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
    TrafficOptions traffic;
    std::string latency;
    std::string current;
    std::string tuned;
    int tune = 0;
    int64_t maxLength = 0;
    std::string cover;
    std::string package;
    ModelInputOptions in;
    std::string batchSizes = "1,2,5";
    int threads = 0;
    bool noKernelCheck = false;
    std::string compare; // a project file: run B
    std::string compareDistribution, compareColumn, compareLatency;
    LlmTrafficOptions llm; // the LLM serving section, when --llm-traffic is given
    int llmBuckets = 0;
    OutputOptions html;
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
    add("--distribution", o.traffic.source);
    add("--column", o.traffic.read.column);
    add("--field", o.traffic.read.field);
    add("--vocab", o.traffic.read.vocab);
    std::string textColumns;
    for (const auto& c : o.traffic.read.textColumns)
        textColumns += (textColumns.empty() ? "" : ",") + c;
    add("--text-columns", textColumns);
    if (o.traffic.read.lowercase)
        s += " --lowercase";
    add("--latency", o.latency);
    add("--current", o.current);
    add("--tuned", o.tuned);
    if (o.tune > 0)
        add("--buckets", std::to_string(o.tune));
    if (o.maxLength > 0)
        add("--max-length", std::to_string(o.maxLength));
    add("--cover", o.cover);
    add("--package", o.package);
    add("--inputs", o.in.inputs);
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
    if (o.llm.given()) {
        add("--llm-traffic", o.llm.traffic);
        add("--prompt-field", o.llm.promptField);
        add("--output-field", o.llm.outputField);
        add("--count-field", o.llm.countField);
        add("--cte-latency", o.llm.cteLatency);
        add("--tkg-latency", o.llm.tkgLatency);
        if (o.llm.latencyStat != "median")
            add("--latency-stat", o.llm.latencyStat);
        add("--max-context-length", std::to_string(o.llm.maxContextLength));
        add("--seq-len", std::to_string(o.llm.seqLen));
        if (o.llm.speculationLength > 0)
            add("--speculation-length", std::to_string(o.llm.speculationLength));
        add("--cte-compile", o.llm.cteCompile);
        add("--tkg-compile", o.llm.tkgCompile);
        add("--llm-buckets", std::to_string(o.llmBuckets));
    }
    add("--html", o.html.path);
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
        // Read as run A's traffic is, unless another column is given.
        run.distributionOptions = o.traffic.read;
        if (!o.compareColumn.empty())
            run.distributionOptions.column = o.compareColumn;
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

void addReportOptions(CLI::App* sub, ReportOptions& o)
{
    addTrafficOptions(sub, o.traffic, {}); // read as tune reads it
    sub->add_option("--latency", o.latency,
                    "Latency per bucket length: a profile (JSON or CSV length,latency_ms) or "
                    "linear:a,b / poly:c0,c1,c2 (ms)")
        ->required();
    sub->add_option("--current", o.current, "Your current boundaries, e.g. 128,512")->required();
    auto* tuned =
        sub->add_option("--tuned", o.tuned, "Tuned boundaries to compare (default: tune here)");
    sub->add_option("--buckets", o.tune,
                    "Without --tuned: tune this many buckets with the exact tuner (default: as "
                    "many as --current)")
        ->excludes(tuned);
    addHiddenAlias(sub, "--tune", o.tune)->excludes(tuned);
    sub->add_option("--max-length", o.maxLength,
                    "Longest length the model accepts: longer traffic is rejected");
    sub->add_option("--cover", o.cover,
                    "Serve up to: the tuned set's largest bucket. current (default: the largest "
                    "of --current, so nothing served today is refused), traffic (the longest "
                    "request seen) or a length N. A tuned set that refuses requests the current "
                    "one serves is the report's headline");
    sub->add_option("--package", o.package,
                    "Package whose inputs the generated kernel takes; its own kernel is "
                    "validated too");
    addModelInputOptions(sub, o.in,
                         {"",
                          "of the generated kernel; default: the package's, else the guide's "
                          "three int64 BERT inputs",
                          false, "", false});
    addBatchSizesOption(sub, o.batchSizes, "Batch sizes the kernel checks run");
    sub->add_option("--threads", o.threads,
                    "LibTorch threads and validator workers (default: LibTorch's own)");
    sub->add_flag("--no-kernel-check", o.noKernelCheck,
                  "Skip kernel validation (the report says that none was run)");
    auto* compare = sub->add_option(
        "--compare", o.compare,
        "A second run to compare with, side by side: a BucketLab project (*.bucketlab.json); "
        "its first traffic and latency source, and its boundary sets");
    sub->add_option("--compare-distribution", o.compareDistribution,
                    "A second run's traffic (file or synthetic spec), on --latency's curve unless "
                    "--compare-latency gives another")
        ->excludes(compare);
    sub->add_option("--compare-column", o.compareColumn,
                    "CSV/TSV column of lengths in --compare-distribution (default: --column; "
                    "the other read options are --distribution's)")
        ->excludes(compare);
    sub->add_option("--compare-latency", o.compareLatency,
                    "A second run's latency (profile or spec), on --distribution's traffic unless "
                    "--compare-distribution gives another")
        ->excludes(compare);
    addLlmTrafficOptions(sub, o.llm, "--llm-traffic", false);
    sub->add_option("--llm-buckets", o.llmBuckets,
                    "With --llm-traffic: compiled models allowed in total (CTE + TKG buckets) "
                    "for the LLM section (default 12)");
    addOutputOptions(
        sub, o.html,
        {"--html", "HTML file to write", true, "", "Print the summary figures as JSON"});
    sub->footer("Exit codes: 0 report written; 1 report written, and a kernel it validated has "
                "defects; 2 bad input (nothing written).\nExample:\n  bucketlab-cli report "
                "--distribution traffic.csv --latency profile.json --current 128,512 --html "
                "buckets.html\n  bucketlab-cli report --distribution traffic.csv --latency "
                "profile.json --current 128,512 --compare-distribution new_traffic.csv --html "
                "buckets.html\n  bucketlab-cli report ... --llm-traffic "
                "resources/llm/azure_code_pairs.csv --cte-latency poly:8,0.025,0.0000025 "
                "--tkg-latency linear:9,0.0004 --max-context-length 8192 --seq-len 10240 "
                "--llm-buckets 14 --html buckets.html (adds the LLM serving section)");
}

// Input and output checks before any work: nothing is read yet.
void checkReportFiles(const ReportOptions& o)
{
    auto inputs = existingFiles({&o.traffic.source, &o.traffic.read.vocab, &o.latency, &o.package,
                                 &o.compare, &o.compareDistribution, &o.compareLatency});
    for (const auto& in : o.llm.inputFiles())
        inputs.push_back(in);
    checkOutputPath(o.html.path, OutputCheck{o.html.force, inputs});
    requireLlmTrafficOptions(o.llm, "--llm-traffic");
    if (!o.llm.given() && o.llmBuckets != 0)
        throw Error("--llm-buckets needs --llm-traffic");
}

// The LLM serving section, when --llm-traffic is given.
std::optional<LlmReportSection> llmSection(const ReportOptions& o)
{
    if (!o.llm.given())
        return std::nullopt;
    LlmTuneSettings settings;
    settings.limits = o.llm.limits();
    checkServingLimits(settings.limits);
    settings.totalBuckets = o.llmBuckets == 0 ? 12 : o.llmBuckets;
    if (settings.totalBuckets < 2)
        throw Error("--llm-buckets must be at least 2 (one CTE and one TKG "
                    "bucket), got " +
                    std::to_string(settings.totalBuckets));
    parseLatencyStatistic(o.llm.latencyStat);
    const RequestTraffic traffic = loadLlmTraffic(o.llm);
    const LlmCosts costs = loadLlmCosts(o.llm);
    return makeLlmReportSection(o.llm.traffic, traffic, costs, settings);
}

BoundaryReportRequest reportRequest(const ReportOptions& o)
{
    BoundaryReportRequest r;
    r.distribution = o.traffic.source;
    r.distributionOptions = o.traffic.read;
    r.latency = o.latency;
    r.current = Boundaries::parse(o.current, Field::CurrentBoundaries);
    if (!o.tuned.empty())
        r.tuned = Boundaries::parse(o.tuned, Field::TunedBoundaries);
    r.tuneBuckets = o.tune;
    r.serveUpTo = ServeUpTo::parse(o.cover);
    r.maxLength = o.maxLength;
    r.package = o.package;
    if (!o.in.inputs.empty())
        r.inputs = parseInputSpecs(o.in.inputs);
    r.batchSizes = batchSizes(o.batchSizes);
    r.checkKernels = !o.noKernelCheck;
    r.threads = o.threads;
    r.commandLine = commandLine(o);
    r.compareWith = secondRun(o);
    return r;
}

// The summary on stdout: JSON with --json, else a few lines.
void printReportSummary(const BoundaryReport& report, const ReportOptions& o, size_t htmlBytes)
{
    if (o.html.json) {
        printJson(boundaryReportJson(report, o.html.path));
    } else {
        const auto summary = summarizeComparison(report.comparison);
        std::cout << "wrote " << o.html.path << " (" << (htmlBytes + 1023) / 1024 << " KiB)\n  "
                  << summary.sentence << "\n";
        if (!summary.caveat.empty())
            std::cout << "  note: " << summary.caveat << "\n";
        if (report.runs)
            std::cout << "  run B: " << describeRunComparison(*report.runs) << "\n";
        if (report.llm && report.llm->result.feasible) {
            const LlmEvaluation& best = report.llm->result.best;
            std::cout << "  llm: CTE " << formatLengths(best.lists.cte) << " | TKG "
                      << formatLengths(best.lists.tkg) << ", mean request "
                      << formatMs(best.meanRequestMs) << "\n";
        } else if (report.llm)
            std::cout << "  llm: " << report.llm->result.infeasibleReason << "\n";
        if (report.kernelChecks.empty())
            std::cout << "  kernel: no validation run (--no-kernel-check)\n";
        for (const auto& k : report.kernelChecks)
            std::cout << "  kernel: " << k.title << ": "
                      << (k.ok ? "validates clean"
                               : std::to_string(k.defects.size()) + " defect(s): " +
                                     k.defects.front().kind + ": " + k.defects.front().message)
                      << "\n";
    }
}

int runReport(const ReportOptions& o)
{
    checkReportFiles(o);
    // The LLM section first: its input errors come before any kernel check runs.
    std::optional<LlmReportSection> llm = llmSection(o);
    const BoundaryReportRequest r = reportRequest(o);
    BoundaryReportRun run = makeBoundaryReport(r, torchSteps().report, terminalJob());
    if (llm) {
        for (const auto& [role, source] :
             {std::pair{"llm traffic", o.llm.traffic}, std::pair{"cte latency", o.llm.cteLatency},
              std::pair{"tkg latency", o.llm.tkgLatency}})
            run.report.environment.inputs.push_back(describeReportInput(role, source));
        run.report.llm = std::move(llm);
    }
    const BoundaryReport& report = run.report;
    const std::string html = renderHtmlReport(report);
    writeFileAtomically(o.html.path, html, o.html.force);
    printReportSummary(report, o, html.size());
    const int code = run.kernelDefects ? 1 : 0;
    if (run.workerAbandoned) {
        // A kernel call never returned and still runs on its thread; static
        // destructors must not run under it.
        std::cout.flush();
        std::fflush(nullptr);
        std::quick_exit(code);
    }
    return code;
}

} // namespace

Command addReportCommand(CLI::App& app)
{
    auto o = std::make_shared<ReportOptions>();
    auto* sub = app.add_subcommand("report", commandSummary("report"));
    addReportOptions(sub, *o);
    return {sub,
            [o] { return runReport(*o); },
            {{Field::Output, "--html"}, {Field::Traffic, "--llm-traffic"}},
            [o] {
                return !o->noKernelCheck;
            }};
}

} // namespace bucketlab::cli
