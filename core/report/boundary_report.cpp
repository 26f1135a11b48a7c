#include "core/report/boundary_report.h"
#include "core/util/format.h"

#include "core/report/svg_chart.h"
#include "core/spec/package_meta.h"
#include "core/util/error.h"
#include "core/util/sha256.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>

namespace bucketlab {

using nlohmann::json;

BoundaryComparison compareBoundaries(const BucketEvaluator& evaluator,
                                     const BoundaryComparisonRequest& request, const Job& job)
{
    if (request.current.empty())
        throw Error(subject(Field::CurrentBoundaries) +
                    " are missing: a report compares them with the tuned ones");
    if (request.buckets < 0)
        throw Error(subject(Field::BucketCount) + " must be at least 1, got " +
                    std::to_string(request.buckets));
    const int k = request.buckets > 0 ? request.buckets : int(request.current.size());
    // A cover length adds a bucket no traffic needs to fill.
    const size_t fillable =
        evaluator.servedDistinct() + (request.serveUpTo.coverFor(request.current) > 0 ? 1 : 0);
    if (request.tuned.empty() && size_t(k) > fillable)
        throw Error(subject(Field::BucketCount) + " is " + std::to_string(k) +
                    " but the traffic has only " + std::to_string(evaluator.servedDistinct()) +
                    " distinct lengths; more buckets than lengths cannot help");
    BoundaryComparison c;
    c.curve = evaluator.curve();
    c.current = evaluator.evaluate(request.current);
    TuningRequest t;
    t.settings.objective = TuneObjective::MeanLatency;
    t.serveUpTo = request.serveUpTo;
    t.current = request.current;
    t.distributionSource = request.distributionSource;
    if (request.tuned.empty()) {
        t.settings.buckets = k;
        c.tuning = tuneAndCompare(evaluator, t, job);
        c.tuned = c.tuning.evaluation;
        c.tunedHere = true;
    } else {
        c.tuned = evaluator.evaluate(request.tuned);
        // The optimum for as many buckets as were proposed (as many as the traffic can fill):
        // how far the proposal is from the best it could be.
        t.settings.buckets =
            int(std::min<size_t>(request.tuned.size(), std::max<size_t>(1, fillable)));
        c.tuning = tuneAndCompare(evaluator, t, job);
    }
    c.range = servedRangeChange(evaluator.histogram(), request.current, c.tuned.boundaries,
                                evaluator.maxLength());
    c.currentCommon = c.current;
    c.tunedCommon = c.tuned;
    if (c.current.stats.served != c.tuned.stats.served) {
        const int64_t common =
            std::min(c.current.boundaries.largest(), c.tuned.boundaries.largest());
        const LengthHistogram both = evaluator.histogram().truncated(common);
        if (!both.empty()) {
            const BucketEvaluator e(both, evaluator.curve(), evaluator.maxLength());
            c.currentCommon = e.evaluate(c.current.boundaries);
            c.tunedCommon = e.evaluate(c.tuned.boundaries);
        }
    }
    return c;
}

namespace {

std::string pct(double v)
{
    return formatNumber(v, 1) + " %";
}

std::string boundaryList(const std::vector<int64_t>& b)
{
    std::string out;
    for (auto v : b)
        out += (out.empty() ? "" : ", ") + std::to_string(v);
    return out;
}

json evaluationJson(const Evaluation& e)
{
    const auto& s = e.stats;
    return {{"boundaries", e.boundaries},      {"mean_ms", s.meanLatencyMs},
            {"p50_ms", s.p50LatencyMs},        {"p90_ms", s.p90LatencyMs},
            {"p99_ms", s.p99LatencyMs},        {"requests_per_second", s.requestsPerSecond},
            {"waste_pct", s.wastePct},         {"rejected_pct", s.rejectedPct},
            {"padded_tokens", s.paddedTokens}, {"real_tokens", s.realTokens}};
}

} // namespace

ComparisonSummary summarizeComparison(const BoundaryComparison& c)
{
    ComparisonSummary s;
    const auto& cur = c.currentCommon.stats;
    const auto& tun = c.tunedCommon.stats;
    s.meanCurrentMs = cur.meanLatencyMs;
    s.meanTunedMs = tun.meanLatencyMs;
    s.meanGainMs = cur.meanLatencyMs - tun.meanLatencyMs;
    s.meanGainPct = cur.meanLatencyMs > 0 ? 100.0 * s.meanGainMs / cur.meanLatencyMs : 0;
    s.p50GainMs = cur.p50LatencyMs - tun.p50LatencyMs;
    s.p90GainMs = cur.p90LatencyMs - tun.p90LatencyMs;
    s.p99GainMs = cur.p99LatencyMs - tun.p99LatencyMs;
    s.p99GainPct = cur.p99LatencyMs > 0 ? 100.0 * s.p99GainMs / cur.p99LatencyMs : 0;
    s.wasteCurrentPct = cur.wastePct;
    s.wasteTunedPct = tun.wastePct;
    s.throughputGainPct =
        cur.requestsPerSecond > 0
            ? 100.0 * (tun.requestsPerSecond - cur.requestsPerSecond) / cur.requestsPerSecond
            : 0;

    const std::string means =
        " (" + formatMs(s.meanCurrentMs) + " → " + formatMs(s.meanTunedMs) + ")";
    std::string latency;
    // Below 0.05 % the one-decimal figure would read "0.0 %": call it unchanged.
    if (std::fabs(s.meanGainPct) < 0.05)
        latency = "leave mean latency unchanged at " + formatMs(s.meanCurrentMs);
    else if (s.meanGainPct > 0)
        latency = "cut mean latency by " + pct(s.meanGainPct) + means;
    else
        latency = "raise mean latency by " + pct(-s.meanGainPct) + means;
    const std::string gains = latency + " and padding waste from " + pct(s.wasteCurrentPct) +
                              " to " + pct(s.wasteTunedPct) + ".";
    const ServedRangeChange& range = c.range;
    s.refuses = range.shrinks();
    if (range.refuses())
        s.sentence = "Tuned boundaries " + boundaryList(c.tuned.boundaries) + " REFUSE " +
                     pct(range.refusedPct) + " of the requests that the current ones serve (" +
                     formatCount(range.refusedRequests) + ", lengths " +
                     std::to_string(range.firstRefused) + "–" + std::to_string(range.lastRefused) +
                     ": they serve up to " + std::to_string(range.proposedUpTo) +
                     ", the current ones up to " + std::to_string(range.currentUpTo) +
                     "). Over the requests both serve, they " + gains;
    else if (range.shrinks())
        s.sentence =
            "Tuned boundaries " + boundaryList(c.tuned.boundaries) + " serve lengths up to " +
            std::to_string(range.proposedUpTo) + " only, where the current ones serve up to " +
            std::to_string(range.currentUpTo) + ": no request of this traffic is longer, but " +
            "longer ones would be refused. They " + gains;
    else
        s.sentence = "Tuned boundaries " + boundaryList(c.tuned.boundaries) + " " + gains;
    if (c.current.stats.served != c.tuned.stats.served && !range.refuses())
        s.caveat = "The current boundaries reject " + pct(c.current.stats.rejectedPct) +
                   " of the traffic and the tuned ones " + pct(c.tuned.stats.rejectedPct) +
                   " (requests longer than the largest bucket): the figures above compare both "
                   "over the requests both serve.";
    return s;
}

std::string baselineDisplayName(const std::string& name)
{
    if (name == "current")
        return "Current";
    if (name == "powers_of_two")
        return "Powers of two (NxD default)";
    if (name == "equal_mass")
        return "Equal traffic per bucket";
    if (name == "uniform")
        return "Uniform widths";
    return name;
}

ReportInput describeReportInput(const std::string& role, const std::string& fileOrSpec)
{
    ReportInput in;
    in.role = role;
    in.path = fileOrSpec;
    std::error_code ec;
    in.isFile = std::filesystem::is_regular_file(fileOrSpec, ec);
    if (in.isFile) {
        in.bytes = int64_t(std::filesystem::file_size(fileOrSpec, ec));
        in.sha256 = sha256File(fileOrSpec);
    }
    return in;
}

nlohmann::json boundaryReportJson(const BoundaryReport& report, const std::string& htmlPath)
{
    const auto& c = report.comparison;
    const auto s = summarizeComparison(c);
    json j;
    j["html"] = htmlPath;
    j["summary"] = s.sentence;
    j["served_range"] = c.range.toJson();
    j["caveat"] = s.caveat.empty() ? json(nullptr) : json(s.caveat);
    j["current"] = evaluationJson(c.current);
    j["tuned"] = evaluationJson(c.tuned);
    j["tuned"]["origin"] = c.tunedHere ? "tuned" : "given";
    j["gain"] = {{"mean_ms", s.meanGainMs},
                 {"mean_pct", s.meanGainPct},
                 {"p50_ms", s.p50GainMs},
                 {"p90_ms", s.p90GainMs},
                 {"p99_ms", s.p99GainMs},
                 {"p99_pct", s.p99GainPct},
                 {"waste_points", s.wasteCurrentPct - s.wasteTunedPct},
                 {"throughput_pct", s.throughputGainPct}};
    const auto& opt = c.tuning;
    j["optimum"] = {{"buckets", opt.settings.buckets},
                    {"boundaries", opt.solution.boundaries},
                    {"mean_ms", opt.solution.feasible ? json(opt.evaluation.stats.meanLatencyMs)
                                                      : json(nullptr)}};
    j["knee_buckets"] = opt.kneeBuckets > 0 ? json(opt.kneeBuckets) : json(nullptr);
    j["kernel_checks_run"] = !report.kernelChecks.empty();
    j["kernel_checks_not_run"] =
        report.kernelChecks.empty() ? json(report.kernelChecksNotRun) : json(nullptr);
    j["kernel_checks"] = json::array();
    for (const auto& k : report.kernelChecks) {
        json defects = json::array();
        for (const auto& d : k.defects)
            defects.push_back({{"kind", d.kind}, {"message", d.message}});
        j["kernel_checks"].push_back({{"title", k.title},
                                      {"subject", k.subject},
                                      {"ok", k.ok},
                                      {"boundaries", k.inferredBoundaries},
                                      {"defects", defects},
                                      {"max_length", k.maxLength},
                                      {"batch_sizes", k.batchSizes},
                                      {"calls", k.calls},
                                      {"seconds", k.seconds}});
    }
    const auto& env = report.environment;
    j["environment"] = {{"bucketlab", env.bucketlabVersion},
                        {"created_at", env.createdAt},
                        {"host", env.hostname},
                        {"cpu", env.cpuModel},
                        {"cpu_count", env.cpuCount},
                        {"threads", env.computeThreads},
                        {"os", env.os},
                        {"libtorch", env.libtorchVersion}};
    j["inputs"] = json::array();
    for (const auto& in : report.environment.inputs)
        j["inputs"].push_back({{"role", in.role},
                               {"path", in.path},
                               {"file", in.isFile},
                               {"sha256", in.isFile ? json(in.sha256) : json(nullptr)},
                               {"bytes", in.isFile ? json(in.bytes) : json(nullptr)}});
    j["compare"] = report.runs ? runComparisonJson(*report.runs) : json(nullptr);
    j["llm"] = report.llm ? llmReportSectionJson(*report.llm) : json(nullptr);
    return j;
}

} // namespace bucketlab
