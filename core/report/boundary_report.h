// What a bucket report says (`bucketlab-cli report`, the artefact attached to a pull request):
// a user's current boundaries against tuned ones on the same traffic and latency curve — per
// bucket, overall, against the baselines and the Pareto front —, the kernel checks that were
// run for them, and the environment it was made in. Plain data and arithmetic; the HTML is
// core/report/html_report.h, the LibTorch parts (kernel checks) core/report/report_checks.h.
#pragma once

#include "core/report/llm_report_section.h"
#include "core/report/run_comparison.h"
#include "core/tuning/tuning_report.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bucketlab {

struct BoundaryComparisonRequest {
    Boundaries current;
    Boundaries tuned;    // empty: tune them here (exact optimum of mean latency)
    int buckets = 0;     // K when tuning; 0: as many as the current boundaries
    ServeUpTo serveUpTo; // tuning keeps its largest bucket here (default: the current's)
    std::string distributionSource;
};

struct BoundaryComparison {
    Evaluation current;
    Evaluation tuned;
    bool tunedHere = false;  // tuned by the report (exact optimum), not given by the user
    ServedRangeChange range; // what the tuned set refuses that the current one serves
    // Both sets over the requests both serve (the same as current and tuned when they serve
    // the same requests): what "better by" compares.
    Evaluation currentCommon, tunedCommon;
    // Optimum of mean latency for as many buckets as the tuned boundaries have, the
    // baselines (current first) and the Pareto front: the context for both sets.
    TuningReport tuning;
    LatencyCurve curve;
};

// Throws Error for invalid boundaries, a K the traffic cannot fill (more buckets than
// distinct lengths) or boundaries beyond the longest supported length.
BoundaryComparison compareBoundaries(const BucketEvaluator& evaluator,
                                     const BoundaryComparisonRequest& request, const Job& job = {});

// The headline figures: tuned relative to current. Gains are positive when tuned is better
// (lower); waste is in % of computed tokens.
struct ComparisonSummary {
    double meanCurrentMs = 0, meanTunedMs = 0, meanGainMs = 0, meanGainPct = 0;
    double p50GainMs = 0, p90GainMs = 0, p99GainMs = 0, p99GainPct = 0;
    double wasteCurrentPct = 0, wasteTunedPct = 0;
    double throughputGainPct = 0; // requests per second, one stream
    // "Tuned boundaries 47, 70, 97, 160 cut mean latency by 38.2 % (10.31 ms → 6.37 ms) and
    // padding waste from 62.1 % to 18.0 %." When the tuned set refuses requests the current
    // one serves, the sentence says so first and the gains are over the requests both serve.
    std::string sentence;
    bool refuses = false; // the tuned set refuses requests (or lengths) the current one serves
    // Set when the two sets do not serve the same traffic, so their means are not over the
    // same requests: says which rejects what.
    std::string caveat;
};

ComparisonSummary summarizeComparison(const BoundaryComparison& comparison);

// An input the report was made from: a file (with its SHA-256) or a spec given inline.
struct ReportInput {
    std::string role; // "traffic", "latency", "package"
    std::string path; // the file as given, or the spec
    bool isFile = true;
    std::string sha256;
    int64_t bytes = 0;
};

// Describes `fileOrSpec`: a file with its size and SHA-256 when it exists, else a spec.
ReportInput describeReportInput(const std::string& role, const std::string& fileOrSpec);

// One kernel validation that was run, in the report's terms.
struct ReportKernelCheck {
    std::string title;   // "Generated kernel for the tuned boundaries"
    std::string subject; // what exactly was checked: kernel, boundaries, inputs
    bool ok = true;
    std::vector<int64_t> inferredBoundaries;
    struct Defect {
        std::string kind; // fall_through, wrong_padding, ...
        std::string message;
    };
    std::vector<Defect> defects;
    std::vector<std::string> notes;
    int64_t maxLength = 0;
    std::vector<int64_t> batchSizes;
    int64_t calls = 0;
    double seconds = 0;
};

struct ReportEnvironment {
    std::string bucketlabVersion; // creatorString()
    std::string createdAt;        // ISO 8601, UTC
    std::string hostname;
    std::string cpuModel;
    int cpuCount = 0;
    int computeThreads = 0; // LibTorch intra-op threads the kernel checks ran with
    std::string os;
    std::string libtorchVersion; // empty: not linked
    std::string commandLine;     // how to make the report again
    std::vector<ReportInput> inputs;
};

struct BoundaryReport {
    BoundaryComparison comparison;
    std::vector<ReportKernelCheck> kernelChecks;
    std::string kernelChecksNotRun; // when kernelChecks is empty: why none was run
    ReportEnvironment environment;
    // Set when a second run was given: the report's sets priced on both runs.
    std::optional<RunComparison> runs;
    // Set when LLM request traffic was given: the LLM serving section.
    std::optional<LlmReportSection> llm;
};

// "Powers of two (NxD default)" for "powers_of_two", and so on; other names as they are.
std::string baselineDisplayName(const std::string& name);

// The figures `report --json` prints: {"summary", "caveat", "current", "tuned", "gain",
// "optimum", "knee_buckets", "kernel_checks", "kernel_checks_run", "environment", "inputs",
// "compare", "llm"}; "compare" is run_comparison.h's document, or null without a second run;
// "llm" is llm_report_section.h's, or null without LLM traffic.
nlohmann::json boundaryReportJson(const BoundaryReport& report, const std::string& htmlPath);

} // namespace bucketlab
