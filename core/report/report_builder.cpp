#include "core/report/report_builder.h"

#include "core/archive/archive.h"
#include "core/latency/latency_curve.h"
#include "core/traffic/distribution.h"
#include "core/util/error.h"
#include "core/util/host_info.h"

#include <algorithm>

namespace bucketlab {

namespace {

ReportRunInfo runInfo(const std::string& traffic, const BucketEvaluator& e)
{
    ReportRunInfo info;
    info.traffic = traffic;
    info.latency = e.curve().describe();
    const LengthHistogram& h = e.histogram();
    info.requests = h.total();
    info.shortest = h.minLength();
    info.longest = h.maxLength();
    info.meanLength = h.mean();
    return info;
}

// How run A's traffic is read: its options, with the column given on its own over theirs.
DistributionOptions readingOf(const BoundaryReportRequest& r)
{
    DistributionOptions d = r.distributionOptions;
    d.job = {};
    if (!r.column.empty())
        d.column = r.column;
    return d;
}

bool sameReading(const DistributionOptions& a, const DistributionOptions& b)
{
    return a.column == b.column && a.field == b.field && a.vocab == b.vocab &&
           a.textColumns == b.textColumns && a.lowercase == b.lowercase;
}

RunComparison compareWithRun(const BoundaryReportRequest& r, const ReportRunRequest& b,
                             const BucketEvaluator& runA, const BoundaryComparison& primary,
                             const Job& job)
{
    if (b.distribution.empty() && b.latency.empty())
        throw Error((b.project.empty() ? std::string("the second run") : b.project) +
                    ": gives neither a traffic distribution nor a latency source, so there is "
                    "nothing to compare; give a traffic, a latency profile or both");
    const bool sameTraffic =
        b.distribution.empty() ||
        (b.distribution == r.distribution && sameReading(b.distributionOptions, readingOf(r)));
    const bool sameLatency = b.latency.empty() || b.latency == r.latency;
    LengthHistogram traffic;
    if (sameTraffic) {
        traffic = runA.histogram();
    } else {
        DistributionOptions d = b.distributionOptions;
        d.job = job;
        traffic = loadDistribution(b.distribution, d);
    }
    job.checkCancelled();
    LatencyCurve curve = sameLatency ? runA.curve() : LatencyCurve::load(b.latency);
    const BucketEvaluator runB(std::move(traffic), std::move(curve), r.maxLength);

    RunComparisonRequest c;
    c.primary = &primary;
    c.runA = &runA;
    c.runB = &runB;
    c.a = runInfo(r.distribution, runA);
    c.b = runInfo(sameTraffic ? r.distribution : b.distribution, runB);
    c.b.project = b.project;
    c.sameTraffic = sameTraffic;
    c.sameLatency = sameLatency;
    c.setsOfB = b.boundarySets;
    return compareRuns(c, job);
}

} // namespace

namespace {

// Arguments first: a typo in a list should not cost reading a large traffic file.
void checkReportRequest(const BoundaryReportRequest& r, const ReportRuntime& runtime)
{
    if (r.current.empty())
        throw Error(subject(Field::CurrentBoundaries) +
                    " are missing: a report compares them with the tuned ones");
    if (r.tuneBuckets < 0)
        throw Error(subject(Field::BucketCount) + " must be at least 1, got " +
                    std::to_string(r.tuneBuckets));
    if (r.maxLength < 0)
        throw Error(subject(Field::MaxLength) + " must be positive, got " +
                    std::to_string(r.maxLength));
    if (r.threads < 0)
        throw Error(subject(Field::Threads) + " must be at least 1, got " +
                    std::to_string(r.threads));
    if (r.batchSizes.empty() ||
        std::any_of(r.batchSizes.begin(), r.batchSizes.end(), [](int64_t b) { return b < 1; }))
        throw Error(subject(Field::BatchSizes) + ": give at least one batch size, each at least 1");
    if (!r.package.empty() && !readArchive(r.package).meta)
        throw Error(r.package + ": not a BucketLab package (no bucketlab_meta); validate a "
                                "kernel file with bucketlab-cli validate");
    if (r.checkKernels && !runtime.runKernelChecks)
        throw Error("kernel checks need LibTorch, which this program does not load; switch "
                    "kernel validation off for this report, or make it where LibTorch is loaded");
}

// The kernel checks of the tuned boundaries (and the package's kernel), or why none ran.
void addKernelChecks(const BoundaryReportRequest& r, const ReportRuntime& runtime,
                     BoundaryReportRun& run, const Job& job)
{
    if (!r.checkKernels) {
        run.report.kernelChecksNotRun =
            "Kernel validation was switched off for this report: neither the kernel generated for "
            "the tuned boundaries nor any package kernel was run. Validate it (bucketlab-cli "
            "validate, or the desktop's Validation view) before shipping.";
        return;
    }
    ReportCheckRequest checks;
    checks.tuned = run.report.comparison.tuned.boundaries;
    checks.package = r.package;
    checks.inputs = r.inputs;
    checks.options.batchSizes = r.batchSizes;
    checks.options.threads = r.threads;
    auto result = runtime.runKernelChecks(checks, job);
    run.report.kernelChecks = std::move(result.checks);
    run.workerAbandoned = result.workerAbandoned;
    for (const auto& k : run.report.kernelChecks)
        run.kernelDefects |= !k.ok;
}

// Where and from what the report was made: host, versions, command line, input files.
ReportEnvironment reportEnvironment(const BoundaryReportRequest& r, const ReportRuntime& runtime,
                                    int threads)
{
    const HostInfo host = currentHostInfo();
    ReportEnvironment env;
    env.bucketlabVersion = creatorString();
    env.createdAt = utcNowIso8601();
    env.hostname = host.hostname;
    env.cpuModel = host.cpuModel;
    env.cpuCount = host.cpuCount;
    env.computeThreads = threads;
    env.os = host.os;
    env.libtorchVersion = runtime.libtorchVersion;
    env.commandLine = r.commandLine;
    env.inputs.push_back(describeReportInput("traffic", r.distribution));
    if (!r.distributionOptions.vocab.empty())
        env.inputs.push_back(describeReportInput("vocabulary", r.distributionOptions.vocab));
    env.inputs.push_back(describeReportInput("latency", r.latency));
    if (!r.package.empty())
        env.inputs.push_back(describeReportInput("package", r.package));
    if (const auto& b = r.compareWith) {
        if (!b->project.empty())
            env.inputs.push_back(describeReportInput("run B project", b->project));
        if (!b->distribution.empty())
            env.inputs.push_back(describeReportInput("run B traffic", b->distribution));
        if (!b->latency.empty())
            env.inputs.push_back(describeReportInput("run B latency", b->latency));
    }
    return env;
}

} // namespace

BoundaryReportRun makeBoundaryReport(const BoundaryReportRequest& r, const ReportRuntime& runtime,
                                     const Job& job)
{
    checkReportRequest(r, runtime);
    const int threads = runtime.computeThreads ? runtime.computeThreads(r.threads) : 0;

    job.report(0.0, "reading traffic");
    DistributionOptions reading = readingOf(r);
    reading.job = job.sub(0.0, 0.1);
    LengthHistogram traffic = loadDistribution(r.distribution, reading);
    job.checkCancelled();
    job.report(0.1, "reading latency");
    const BucketEvaluator evaluator(std::move(traffic), LatencyCurve::load(r.latency), r.maxLength);

    BoundaryReportRun run;
    BoundaryComparisonRequest compare;
    compare.current = r.current;
    compare.tuned = r.tuned;
    compare.buckets = r.tuneBuckets;
    compare.serveUpTo = r.serveUpTo;
    compare.distributionSource = r.distribution;
    run.report.comparison = compareBoundaries(evaluator, compare, job.sub(0.1, 0.35));
    job.checkCancelled();
    if (r.compareWith) {
        job.report(0.35, "reading the second run");
        run.report.runs = compareWithRun(r, *r.compareWith, evaluator, run.report.comparison, job);
    }
    if (r.checkKernels)
        job.report(0.4, "validating kernels");
    addKernelChecks(r, runtime, run, job.sub(0.4, 1));
    run.report.environment = reportEnvironment(r, runtime, threads);
    job.report(1.0, "done");
    return run;
}

} // namespace bucketlab
