#include "core/llm/llm_evaluator.h"

#include "core/llm/nxd_bucket_rule.h"
#include "core/util/error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>

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
    const auto& cte = lists.cte;
    const auto& tkg = lists.tkg;
    std::vector<double> cteMs(cte.size()), tkgMs(tkg.size());
    for (size_t i = 0; i < cte.size(); ++i)
        cteMs[i] = costs.cte.at(cte[i]);
    for (size_t i = 0; i < tkg.size(); ++i)
        tkgMs[i] = costs.tkg.at(tkg[i]);
    const auto ranges = nxdSequenceRanges(tkg);
    std::vector<int64_t> cteCalls(cte.size(), 0), tkgCalls(tkg.size(), 0);
    std::vector<std::pair<double, int64_t>> ttft;
    double ttftSum = 0, decodeSum = 0;

    for (const auto& pair : traffic.pairs()) {
        const RequestCalls c = callsOf(pair, limits);
        if (!c.served) {
            e.rejected += pair.count;
            continue;
        }
        const int ci = nxdSequenceBucket(cte, pair.prompt);
        // Without batched decoding a request fails at its longest step; with it, every call
        // is checked below (a call's required length is the batch's widest).
        const bool tkgFails =
            !calls && c.tkgSteps > 0 && nxdSequenceBucket(tkg, c.lastRequired) < 0;
        if (ci < 0 || tkgFails) {
            e.failed += pair.count;
            continue;
        }
        e.served += pair.count;
        if (c.truncated)
            e.truncated += pair.count;
        cteCalls[size_t(ci)] += pair.count;
        ttft.emplace_back(cteMs[size_t(ci)], pair.count);
        ttftSum += cteMs[size_t(ci)] * double(pair.count);
        if (calls || c.tkgSteps == 0)
            continue;
        for (int k = nxdSequenceBucket(tkg, c.firstRequired); k < int(tkg.size()); ++k) {
            const int64_t lo = std::max(ranges[size_t(k)].first, c.firstRequired);
            const int64_t hi = std::min(ranges[size_t(k)].last, c.lastRequired);
            if (hi < lo)
                break;
            tkgCalls[size_t(k)] += (hi - lo + 1) * pair.count;
            decodeSum += double(hi - lo + 1) * double(pair.count) * tkgMs[size_t(k)];
        }
    }

    std::map<std::pair<int64_t, int64_t>, int64_t> gridCalls; // (batch bucket, seq bucket)
    if (calls) {
        const int64_t maxBatch = calls->maxBatch();
        for (const auto& call : calls->calls()) {
            int64_t batchBucket = 0, seqBucket = 0;
            if (lists.batches.empty()) {
                // No batch buckets: NxD pads to its one compiled batch, the one-D rule.
                const int s = nxdSequenceBucket(tkg, call.required);
                if (s < 0) {
                    e.failedCalls += call.count;
                    continue;
                }
                batchBucket = maxBatch;
                seqBucket = tkg[size_t(s)];
            } else {
                const int b = nxdGridBatchBucket(lists.batches, call.batch);
                const int s = nxdGridSequenceBucket(tkg, call.required);
                if (b < 0 || s < 0) {
                    e.failedCalls += call.count;
                    continue;
                }
                batchBucket = lists.batches[size_t(b)];
                seqBucket = tkg[size_t(s)];
            }
            gridCalls[{batchBucket, seqBucket}] += call.count;
            decodeSum +=
                double(call.batch) * double(call.count) * costs.tkgBatch.at(batchBucket, seqBucket);
        }
    }

    std::sort(ttft.begin(), ttft.end());
    if (e.served > 0) {
        e.meanTtftMs = ttftSum / double(e.served);
        e.meanDecodeMs = decodeSum / double(e.served);
        e.meanRequestMs = e.meanTtftMs + e.meanDecodeMs;
        e.p50TtftMs = percentile(ttft, e.served, 50);
        e.p90TtftMs = percentile(ttft, e.served, 90);
        e.p99TtftMs = percentile(ttft, e.served, 99);
    }
    for (size_t i = 0; i < cte.size(); ++i) {
        PhaseBucketStats s;
        s.bucket = cte[i];
        s.calls = cteCalls[i];
        s.latencyMs = cteMs[i];
        s.timePct = ttftSum > 0 ? 100.0 * double(s.calls) * s.latencyMs / ttftSum : 0.0;
        s.extrapolated = costs.cte.isExtrapolated(cte[i]);
        e.cteCalls += s.calls;
        e.cte.push_back(s);
    }
    if (calls) {
        for (const auto& [key, n] : gridCalls) {
            PhaseBucketStats s;
            s.batch = key.first;
            s.bucket = key.second;
            s.calls = n;
            s.latencyMs = costs.tkgBatch.at(key.first, key.second);
            e.tkgCalls += n;
            e.tkg.push_back(s);
        }
        // Time shares: each call counts once per sequence in it.
        std::map<std::pair<int64_t, int64_t>, double> time;
        for (const auto& call : calls->calls()) {
            const int b = lists.batches.empty() ? 0 : nxdGridBatchBucket(lists.batches, call.batch);
            const int s = lists.batches.empty() ? nxdSequenceBucket(tkg, call.required)
                                                : nxdGridSequenceBucket(tkg, call.required);
            if (b < 0 || s < 0)
                continue;
            const int64_t bb = lists.batches.empty() ? calls->maxBatch() : lists.batches[size_t(b)];
            time[{bb, tkg[size_t(s)]}] +=
                double(call.batch) * double(call.count) * costs.tkgBatch.at(bb, tkg[size_t(s)]);
        }
        for (auto& s : e.tkg)
            s.timePct = decodeSum > 0 ? 100.0 * time[{s.batch, s.bucket}] / decodeSum : 0.0;
    } else {
        for (size_t i = 0; i < tkg.size(); ++i) {
            PhaseBucketStats s;
            s.bucket = tkg[i];
            s.calls = tkgCalls[i];
            s.latencyMs = tkgMs[i];
            s.timePct = decodeSum > 0 ? 100.0 * double(s.calls) * s.latencyMs / decodeSum : 0.0;
            s.extrapolated = costs.tkg.isExtrapolated(tkg[i]);
            e.tkgCalls += s.calls;
            e.tkg.push_back(s);
        }
    }
    finishCallShares(e.cte);
    finishCallShares(e.tkg);

    e.models = lists.models();
    const double copies = double(std::max<size_t>(1, lists.batches.size()));
    e.compileS = costs.cteCompile.totalSeconds(cte) + copies * costs.tkgCompile.totalSeconds(tkg);
    e.memoryMiB =
        costs.cteCompile.totalMemoryMiB(cte) + copies * costs.tkgCompile.totalMemoryMiB(tkg);
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
