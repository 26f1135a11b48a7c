// Joint CTE and TKG bucket tuning for LLM serving with NxD Inference: choose the prompt
// (CTE) buckets and the sequence (TKG) buckets, and optionally the TKG batch buckets, that
// minimise the mean request latency (time to first token + decode time) — optionally with
// the TTFT p99 within a budget — under a total bucket budget (compiled models: CTE buckets
// plus batch x sequence TKG buckets) and, optionally, a compile-time or memory budget.
//
// Why it is exact. The mean request latency is (sum of CTE call latencies + sum of TKG step
// latencies) / requests: the two phases add up and share nothing but the budget. Each
// phase alone is the 1-D problem of core/tuning on a LengthHistogram of required lengths
// (prompts; TKG steps by position, core/llm/decode_workload.h), solved exactly for every
// bucket count by BoundaryTuner::sweep. NxD's strict fit (a bucket b serves r < b, the
// largest serves r <= b) becomes the tuner's r <= b by shifting every required length by
// one and the largest bucket B to B + 1 with B's latency — a relabelling that preserves
// every cost, so the per-count optima stay exact. The largest buckets are fixed at the
// maximum context length and seq_len (NxD raises for anything beyond them). Then the joint
// optimum under a budget of K buckets is the best of front_CTE(k1) + front_TKG(k2) over
// k1 + k2 <= K: exact. The TTFT p99 budget constrains the CTE phase only, which the tuner's
// p99 mode solves exactly.
//
// A compile-time (or memory) budget is a constraint on the chosen lengths, not on the
// count. When every bucket of a phase costs the same to compile, it is a count budget and
// the result stays exact; when the cost grows with length, the result is the best
// combination of the per-count optima that fits — a set trading latency for cheaper
// lengths could beat it, and the result says so (exact = false).
//
// Batched decoding (decode calls given): for each batch set containing the maximum batch,
// the sequence buckets come from the exact multi-class DP (core/llm/partition_dp.h); every
// batch set is tried when there are at most maxBatchSets of them (exact), otherwise
// alternating batch and sequence DPs give a solution and every batch size as its own bucket
// gives a lower bound (stated as lowerBoundMs).
#pragma once

#include "core/llm/decode_batches.h"
#include "core/llm/decode_workload.h"
#include "core/llm/llm_evaluator.h"
#include "core/llm/request_traffic.h"
#include "core/util/job.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace bucketlab {

enum class LlmObjective { MeanRequest, MeanRequestTtftP99 };

struct LlmTuneSettings {
    ServingLimits limits;
    int totalBuckets = 0; // compiled models: CTE buckets + TKG (batch x sequence) buckets
    LlmObjective objective = LlmObjective::MeanRequest;
    double ttftP99BudgetMs = 0; // MeanRequestTtftP99 only
    double compileBudgetS = 0;  // 0: none
    double memoryBudgetMiB = 0; // 0: none
    int64_t maxBatch = 0;       // batched decoding: NxD's tkg_batch_size; 0: the calls' largest
    int maxBatchSets = 256;     // batched decoding: exhaustive search up to this many sets
};

// One phase's option: its buckets and what they cost, summed over the traffic.
struct LlmPhaseOption {
    std::vector<int64_t> buckets;
    std::vector<int64_t> batches; // TKG with batched decoding
    int models = 0;
    double sumMs = 0; // summed over served requests (TTFT, or decode time)
    double compileS = 0;
    double memoryMiB = 0;
};

struct LlmParetoPoint {
    int models = 0;
    int cteModels = 0;
    int tkgModels = 0;
    double meanRequestMs = 0;
    double compileS = 0;
    double memoryMiB = 0;
    LlmBucketLists lists;
};

struct LlmBaseline {
    std::string name; // nxd_default, powers_of_two, equal_mass, current
    LlmEvaluation evaluation;
    // The tuner's optimum with at most as many compiled models (no compile budget), and at
    // most the bucket budget when the baseline compiles more (the note says so); negative
    // when none exists (e.g. the TTFT budget cannot be met).
    double tunedSameModelsMs = -1;
    bool meetsTtftBudget = true;
    std::string note;
};

struct LlmTuneResult {
    LlmTuneSettings settings;
    DecodeWorkload workload;
    bool batched = false;
    DecodeCalls calls; // batched decoding
    bool feasible = true;
    std::string infeasibleReason;
    LlmEvaluation best;      // the chosen lists, evaluated request by request
    double predictedMs = 0;  // the tuner's own total for them (equals best.meanRequestMs)
    bool exact = true;       // the optimum is proven (see exactness)
    std::string exactness;   // one sentence: why exact, or what is not
    double lowerBoundMs = 0; // when not exact: no lists within the budget do better
    std::vector<LlmPhaseOption> cteFront; // per CTE bucket count
    std::vector<LlmPhaseOption> tkgOptions;
    std::vector<LlmParetoPoint> paretoByModels;  // best with at most t models, t = 2..K
    std::vector<LlmParetoPoint> paretoByCompile; // compile time against latency
    std::vector<LlmBaseline> baselines;
    std::vector<std::string> notes;
    double solveMs = 0;

    nlohmann::json toJson() const;
};

// Throws Error for a budget below 2 buckets, invalid limits or lists, or no servable
// traffic; an unmeetable budget is an infeasible result, not an error. `current` lists
// (each may be empty) become the `current` baseline. `calls` non-null: batched decoding.
LlmTuneResult tuneLlmBuckets(const RequestTraffic& traffic, const LlmCosts& costs,
                             const LlmTuneSettings& settings, const LlmBucketLists& current = {},
                             const DecodeCalls* calls = nullptr, const Job& job = {});

// The one-phase front under NxD's strict rule, through core/tuning's BoundaryTuner: for
// k = 1..kMax, the best k buckets (at most k after merging, see the .cpp) whose largest is
// `largest`, serving the required-length histogram; with a p99 budget (> 0), only sets
// whose p99 call latency meets it. Exposed for tests.
std::vector<LlmPhaseOption> strictRuleFront(const LengthHistogram& required,
                                            const LatencyCurve& curve, int64_t largest, int kMax,
                                            double p99BudgetMs, const CompileCost& compile,
                                            const Job& job = {});

} // namespace bucketlab
