// What given CTE and TKG bucket lists cost on given traffic, served the way NxD Inference
// serves it (core/llm/nxd_bucket_rule.h): per request, the time to first token (its CTE
// call) and its decode time (its TKG steps), request by request over the (prompt, output)
// histogram, independently of the tuner's own bookkeeping. A request fails where NxD would
// raise: its prompt above the largest CTE bucket, or a step above the largest TKG bucket.
//
// Batched decoding (decode calls given): each call costs the step latency of its (batch,
// sequence) bucket once per sequence in it (see core/llm/decode_batches.h); with batch
// buckets the 2-D rule applies, without them NxD pads every call to the maximum batch and
// uses the one-dimensional rule.
#pragma once

#include "core/latency/latency_curve.h"
#include "core/llm/compile_cost.h"
#include "core/llm/decode_batches.h"
#include "core/llm/decode_workload.h"
#include "core/llm/request_traffic.h"
#include "core/spec/boundaries.h"

#include <algorithm>
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace bucketlab {

struct LlmCosts {
    LatencyCurve cte;       // CTE (prefill) call latency by prompt bucket, ms
    LatencyCurve tkg;       // TKG step latency by sequence bucket, ms, one sequence
    CompileCost cteCompile; // per CTE bucket
    CompileCost tkgCompile; // per TKG sequence bucket, compiled again for each batch bucket
    BatchLatency tkgBatch;  // batched decoding: step latency by (batch, sequence) bucket
};

// Refuses curves measured in the other phase: a decode-step profile as the CTE latency, or
// a prefill profile as the TKG latency (curves without a recorded phase pass). The error
// names both latencies and both files.
void checkCurvePhases(const LatencyCurve& cte, const LatencyCurve& tkg);

struct LlmBucketLists {
    Boundaries cte;
    Boundaries tkg;
    Boundaries batches; // empty: no batch buckets (one-dimensional TKG)
    int models() const
    {
        return int(cte.size() + std::max<size_t>(1, batches.size()) * tkg.size());
    }
};

struct PhaseBucketStats {
    int64_t bucket = 0;
    int64_t batch = 0;    // batched decoding: the batch bucket; else 0
    int64_t calls = 0;    // calls served by this bucket
    double callPct = 0;   // of the phase's calls
    double latencyMs = 0; // of one call
    double timePct = 0;   // of the phase's summed request time
    bool extrapolated = false;
};

struct LlmEvaluation {
    LlmBucketLists lists;
    int64_t requests = 0;     // all traffic
    int64_t served = 0;       // completed under these lists
    int64_t rejected = 0;     // prompt above the maximum context length
    int64_t failed = 0;       // within the limits, but NxD would raise with these lists
    int64_t truncated = 0;    // output cut at seq_len
    int64_t failedCalls = 0;  // batched decoding: calls no (batch, sequence) bucket fits
    double meanRequestMs = 0; // mean over served requests of TTFT + decode time
    double meanTtftMs = 0, p50TtftMs = 0, p90TtftMs = 0, p99TtftMs = 0;
    double meanDecodeMs = 0;
    int64_t cteCalls = 0, tkgCalls = 0;
    int models = 0; // compiled models: CTE buckets + batch buckets x sequence buckets
    double compileS = 0;
    double memoryMiB = 0;
    std::vector<PhaseBucketStats> cte, tkg;

    // {"cte_buckets", "tkg_buckets", ["tkg_batches",] "mean_request_ms", ...}
    nlohmann::json toJson() const;
};

// The CTE and TKG lists must not be empty (Error otherwise). `calls` non-null: batched
// decoding, which needs costs.tkgBatch.
LlmEvaluation evaluateLlmBuckets(const RequestTraffic& traffic, const ServingLimits& limits,
                                 const LlmCosts& costs, const LlmBucketLists& lists,
                                 const DecodeCalls* calls = nullptr);

} // namespace bucketlab
