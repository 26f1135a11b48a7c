#include "core/llm/llm_evaluator.h"

#include "core/llm/nxd_bucket_rule.h"
#include "core/util/error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <optional>

namespace bucketlab {

namespace {

// Nearest-rank percentiles of (latency, count) pairs.
double percentile(std::vector<std::pair<double, int64_t>>& values, int64_t total, int percent)
{
    if (total == 0)
        return 0;
    const int64_t rank = std::max<int64_t>(1, int64_t((__int128(total) * percent + 99) / 100));
    int64_t seen = 0;
    for (const auto& [v, c] : values)
        if ((seen += c) >= rank)
            return v;
    return values.back().first;
}

nlohmann::json statsJson(const std::vector<PhaseBucketStats>& stats, bool batched)
{
    nlohmann::json out = nlohmann::json::array();
    for (const auto& s : stats) {
        nlohmann::json j{{"bucket", s.bucket},    {"calls", s.calls},
                         {"call_pct", s.callPct}, {"latency_ms", s.latencyMs},
                         {"time_pct", s.timePct}, {"extrapolated", s.extrapolated}};
        if (batched)
            j["batch"] = s.batch;
        out.push_back(j);
    }
    return out;
}

void finishCallShares(std::vector<PhaseBucketStats>& stats)
{
    int64_t calls = 0;
    for (const auto& s : stats)
        calls += s.calls;
    for (auto& s : stats)
        s.callPct = calls > 0 ? 100.0 * double(s.calls) / double(calls) : 0.0;
}

} // namespace

void checkCurvePhases(const LatencyCurve& cte, const LatencyCurve& tkg)
{
    const bool cteIsDecode = cte.phase() == kPhaseDecode;
    const bool tkgIsPrefill = tkg.phase() == kPhasePrefill;
    const std::string cteName = subject(Field::CteLatency);
    const std::string tkgName = subject(Field::TkgLatency);
    if (cteIsDecode && tkgIsPrefill)
        throw Error(cteName + " and " + tkgName + " are swapped: " + cte.source() +
                    " measured decode steps and " + tkg.source() + " measured prefill; give " +
                    tkg.source() + " as " + cteName + " and " + cte.source() + " as " + tkgName);
    if (cteIsDecode)
        throw Error(cte.source() + " measured decode steps (phase decode), not prefill: it is " +
                    tkgName + ", not " + cteName + "; give a prefill profile as " + cteName);
    if (tkgIsPrefill)
        throw Error(tkg.source() + " measured prefill (phase prefill), not decode steps: it is " +
                    cteName + ", not " + tkgName + "; give a decode profile as " + tkgName);
}

namespace {

using GridKey = std::pair<int64_t, int64_t>; // (batch bucket, sequence bucket)

// What the requests add up to, request by request (the one-dimensional decode included).
struct RequestTally {
    std::vector<int64_t> cteCalls, tkgCalls;      // per bucket
    std::vector<std::pair<double, int64_t>> ttft; // (TTFT ms, requests)
    double ttftSum = 0, decodeSum = 0;            // ms, over served requests
};

// Counts rejected, failed, served and truncated requests into `e`, and tallies their CTE
// calls and, unless decoding is batched (its calls are tallied apart), their TKG steps.
RequestTally tallyRequests(const RequestTraffic& traffic, const ServingLimits& limits,
                           const LlmBucketLists& lists, const std::vector<double>& cteMs,
                           const std::vector<double>& tkgMs, bool batched, LlmEvaluation& e)
{
    const auto& cte = lists.cte;
    const auto& tkg = lists.tkg;
    const auto ranges = nxdSequenceRanges(tkg);
    RequestTally t;
    t.cteCalls.assign(cte.size(), 0);
    t.tkgCalls.assign(tkg.size(), 0);
    for (const auto& pair : traffic.pairs()) {
        const RequestCalls c = callsOf(pair, limits);
        if (!c.served) {
            e.rejected += pair.count;
            continue;
        }
        const int ci = nxdSequenceBucket(cte, pair.prompt);
        // Without batched decoding a request fails at its longest step; with it, every call
        // is checked apart (a call's required length is the batch's widest).
        const bool tkgFails =
            !batched && c.tkgSteps > 0 && nxdSequenceBucket(tkg, c.lastRequired) < 0;
        if (ci < 0 || tkgFails) {
            e.failed += pair.count;
            continue;
        }
        e.served += pair.count;
        if (c.truncated)
            e.truncated += pair.count;
        t.cteCalls[size_t(ci)] += pair.count;
        t.ttft.emplace_back(cteMs[size_t(ci)], pair.count);
        t.ttftSum += cteMs[size_t(ci)] * double(pair.count);
        if (batched || c.tkgSteps == 0)
            continue;
        for (int k = nxdSequenceBucket(tkg, c.firstRequired); k < int(tkg.size()); ++k) {
            const int64_t lo = std::max(ranges[size_t(k)].first, c.firstRequired);
            const int64_t hi = std::min(ranges[size_t(k)].last, c.lastRequired);
            if (hi < lo)
                break;
            t.tkgCalls[size_t(k)] += (hi - lo + 1) * pair.count;
            t.decodeSum += double(hi - lo + 1) * double(pair.count) * tkgMs[size_t(k)];
        }
    }
    return t;
}

// Batched decoding: each call's (batch, sequence) bucket, by the grid rule, or padded to the
// one compiled batch without batch buckets.
struct GridTally {
    std::map<GridKey, int64_t> calls;
    std::map<GridKey, double> timeMs; // each call counts once per sequence in it
    double decodeSum = 0;             // ms, over every sequence of every call
};

GridTally tallyDecodeCalls(const DecodeCalls& calls, const LlmBucketLists& lists,
                           const LlmCosts& costs, LlmEvaluation& e)
{
    const auto& tkg = lists.tkg;
    const int64_t maxBatch = calls.maxBatch();
    GridTally g;
    for (const auto& call : calls.calls()) {
        const bool grid = !lists.batches.empty();
        const int b = grid ? nxdGridBatchBucket(lists.batches, call.batch) : 0;
        const int s = grid ? nxdGridSequenceBucket(tkg, call.required)
                           : nxdSequenceBucket(tkg, call.required);
        if (b < 0 || s < 0) {
            e.failedCalls += call.count;
            continue;
        }
        const GridKey key{grid ? lists.batches[size_t(b)] : maxBatch, tkg[size_t(s)]};
        g.calls[key] += call.count;
        const double ms =
            double(call.batch) * double(call.count) * costs.tkgBatch.at(key.first, key.second);
        g.decodeSum += ms;
        g.timeMs[key] += ms;
    }
    return g;
}

// One phase's per-bucket figures, request by request, with their time shares of `totalMs`;
// adds the calls to `callTotal`.
std::vector<PhaseBucketStats> phaseStats(const Boundaries& buckets,
                                         const std::vector<int64_t>& calls,
                                         const std::vector<double>& ms, double totalMs,
                                         const LatencyCurve& curve, int64_t& callTotal)
{
    std::vector<PhaseBucketStats> out;
    for (size_t i = 0; i < buckets.size(); ++i) {
        PhaseBucketStats s;
        s.bucket = buckets[i];
        s.calls = calls[i];
        s.latencyMs = ms[i];
        s.timePct = totalMs > 0 ? 100.0 * double(s.calls) * s.latencyMs / totalMs : 0.0;
        s.extrapolated = curve.isExtrapolated(buckets[i]);
        callTotal += s.calls;
        out.push_back(s);
    }
    return out;
}

// The batched TKG figures per (batch, sequence) bucket.
std::vector<PhaseBucketStats> gridStats(const GridTally& g, const LlmCosts& costs,
                                        int64_t& callTotal)
{
    std::vector<PhaseBucketStats> out;
    for (const auto& [key, n] : g.calls) {
        PhaseBucketStats s;
        s.batch = key.first;
        s.bucket = key.second;
        s.calls = n;
        s.latencyMs = costs.tkgBatch.at(key.first, key.second);
        s.timePct = g.decodeSum > 0 ? 100.0 * g.timeMs.at(key) / g.decodeSum : 0.0;
        callTotal += n;
        out.push_back(s);
    }
    return out;
}

std::vector<double> bucketMs(const LatencyCurve& curve, const Boundaries& buckets)
{
    std::vector<double> ms(buckets.size());
    for (size_t i = 0; i < buckets.size(); ++i)
        ms[i] = curve.at(buckets[i]);
    return ms;
}

} // namespace

LlmEvaluation evaluateLlmBuckets(const RequestTraffic& traffic, const ServingLimits& limits,
                                 const LlmCosts& costs, const LlmBucketLists& lists,
                                 const DecodeCalls* calls)
{
    checkServingLimits(limits);
    if (lists.cte.empty() || lists.tkg.empty())
        throw Error("NxD serves a request only with at least one CTE and one TKG bucket");
    if (calls && !costs.tkgBatch.valid())
        throw Error("batched decoding needs " + subject(Field::TkgBatchLatency));

    LlmEvaluation e;
    e.lists = lists;
    e.requests = traffic.requests();
    const std::vector<double> cteMs = bucketMs(costs.cte, lists.cte);
    const std::vector<double> tkgMs = bucketMs(costs.tkg, lists.tkg);
    RequestTally t = tallyRequests(traffic, limits, lists, cteMs, tkgMs, calls != nullptr, e);
    std::optional<GridTally> grid;
    if (calls) {
        grid = tallyDecodeCalls(*calls, lists, costs, e);
        t.decodeSum += grid->decodeSum;
    }

    std::sort(t.ttft.begin(), t.ttft.end());
    if (e.served > 0) {
        e.meanTtftMs = t.ttftSum / double(e.served);
        e.meanDecodeMs = t.decodeSum / double(e.served);
        e.meanRequestMs = e.meanTtftMs + e.meanDecodeMs;
        e.p50TtftMs = percentile(t.ttft, e.served, 50);
        e.p90TtftMs = percentile(t.ttft, e.served, 90);
        e.p99TtftMs = percentile(t.ttft, e.served, 99);
    }
    e.cte = phaseStats(lists.cte, t.cteCalls, cteMs, t.ttftSum, costs.cte, e.cteCalls);
    e.tkg = grid ? gridStats(*grid, costs, e.tkgCalls)
                 : phaseStats(lists.tkg, t.tkgCalls, tkgMs, t.decodeSum, costs.tkg, e.tkgCalls);
    finishCallShares(e.cte);
    finishCallShares(e.tkg);

    e.models = lists.models();
    const double copies = double(std::max<size_t>(1, lists.batches.size()));
    e.compileS = costs.cteCompile.totalSeconds(lists.cte) +
                 copies * costs.tkgCompile.totalSeconds(lists.tkg);
    e.memoryMiB = costs.cteCompile.totalMemoryMiB(lists.cte) +
                  copies * costs.tkgCompile.totalMemoryMiB(lists.tkg);
    return e;
}

nlohmann::json LlmEvaluation::toJson() const
{
    const bool batched = !lists.batches.empty() || (!tkg.empty() && tkg.front().batch > 0);
    nlohmann::json j{{"cte_buckets", lists.cte.values()},
                     {"tkg_buckets", lists.tkg.values()},
                     {"mean_request_ms", meanRequestMs},
                     {"mean_ttft_ms", meanTtftMs},
                     {"p50_ttft_ms", p50TtftMs},
                     {"p90_ttft_ms", p90TtftMs},
                     {"p99_ttft_ms", p99TtftMs},
                     {"mean_decode_ms", meanDecodeMs},
                     {"requests", requests},
                     {"served", served},
                     {"rejected", rejected},
                     {"failed", failed},
                     {"truncated", truncated},
                     {"cte_calls", cteCalls},
                     {"tkg_calls", tkgCalls},
                     {"models", models},
                     {"compile_s", compileS},
                     {"memory_mib", memoryMiB},
                     {"cte", statsJson(cte, false)},
                     {"tkg", statsJson(tkg, batched)}};
    if (batched) {
        j["tkg_batches"] = lists.batches.values();
        j["failed_calls"] = failedCalls;
    }
    return j.dump();
}

} // namespace bucketlab
