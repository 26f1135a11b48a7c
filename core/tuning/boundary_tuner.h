// Provably optimal bucket boundaries for given traffic and latency.
//
// Padding each length to the smallest boundary >= it makes choosing K boundaries a
// contiguous K-partition of the sorted distinct lengths x_1 < ... < x_N (served: at or below
// maxLength), and the best boundary of a part is its largest length. With prefix counts C,
// the cost of a part holding x_{i+1}..x_j is
//     w(i, j) = h(x_j) * (C_j - C_i)
// with h = the latency curve (mean latency) or h(x) = x (padded tokens). h never decreases,
// so w satisfies the quadrangle inequality (w(a,c) + w(b,d) <= w(a,d) + w(b,c) for
// a <= b <= c <= d: the difference is (h(x_d) - h(x_c)) (C_b - C_a) >= 0), the leftmost
// optimal split point is monotone in j, and divide-and-conquer DP is exact in O(K N log N).
// Each layer also starts no earlier than the previous layer's split (opt_{k-1}(j) <=
// opt_k(j), Knuth-Yao), which prunes the widest ranges. The naive O(K N^2) DP over the same
// recurrence is kept as a reference; tests hold both to brute force.
//
// p99 budget. p99 latency is the latency of the request at nearest rank ceil(0.99 * served)
// when served requests are ordered by latency (each request's latency is its bucket's).
// Because latency never decreases with length, that request is the one at that rank in
// length order, x_q, and p99 <= B exactly when the part holding x_q ends at some x_j with
// j <= u, u the last length with h(x_u) <= B. Parts (i, j] with i < q and j > u are
// forbidden by a penalty larger than any feasible total; an indicator of that form
// satisfies the quadrangle inequality itself, so the DP stays exact under the constraint.
//
// Cover length. With coverLength C the last part ends at C instead of at its longest
// request: its cost is h(C) (C_n - C_i), and the DP over the first K-1 parts is unchanged,
// so the optimum takes one extra O(N) pass per bucket count. The last part may be empty
// (every observed request fits the other buckets).
//
// Bucket cost. bucketCost is added once per bucket to the per-request objective, in the
// objective's unit: ms for the latency objectives (e.g. compile time or a memory weight
// amortised per request), padded tokens per request for the token objective. With a
// bucket cost, `buckets` is the most buckets allowed and the tuner picks the best count.
#pragma once

#include "core/tuning/bucket_evaluator.h"
#include "core/util/job.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace bucketlab {

enum class TuneObjective { MeanLatency, PaddedTokens, MeanLatencyP99Budget };
enum class TuneAlgorithm { Exact, Naive };

struct TuneSettings {
    TuneObjective objective = TuneObjective::MeanLatency;
    int buckets = 4;        // K
    double p99BudgetMs = 0; // MeanLatencyP99Budget only
    double bucketCost = 0;  // per bucket, in the objective's unit (see above)
    TuneAlgorithm algorithm = TuneAlgorithm::Exact;
    // > 0: the largest bucket is exactly this length, so every length up to it stays served
    // (e.g. the model's maximum, or today's largest bucket) even when the traffic seen so far
    // is shorter. It counts as one of the K buckets and may serve no observed request.
    int64_t coverLength = 0;
    // > 1: every boundary is a multiple of this (hardware tiles, e.g. 128 on Neuron), except
    // the cover length and the model's maximum length, which may end the last bucket. Applied
    // by tuneAndCompare, exactly: it tunes on the traffic with each length rounded up to the
    // next allowed boundary, which prices every allowed set as the real traffic does.
    int64_t align = 1;
};

struct TuneSolution {
    bool feasible = true;
    std::string infeasibleReason; // when not feasible: why, in a sentence
    Boundaries boundaries;
    // Per served request: mean latency (ms) or mean padded tokens, plus bucketCost per bucket.
    double objective = 0;
    double solveMs = 0; // wall time of the solver alone

    // {"feasible", "infeasible_reason", "boundaries", "objective_value", "solve_ms"}
    nlohmann::json toJson() const;
};

// "mean", "tokens" or "p99".
std::string objectiveName(TuneObjective objective);

class BoundaryTuner {
public:
    // The evaluator must outlive the tuner.
    explicit BoundaryTuner(const BucketEvaluator& evaluator) : evaluator_(evaluator) {}

    // Throws Error when K < 1 or K exceeds the distinct served lengths, when no traffic is
    // servable, or for a non-positive p99 budget; an unmeetable budget is an infeasible
    // solution, not an error. Throws Cancelled when job.cancel is set.
    TuneSolution solve(const TuneSettings& settings, const Job& job = {}) const;
    // The optimum for every bucket count 1..kMax (exactly k buckets, no bucket cost): the
    // Pareto front of objective against bucket count. One DP pass.
    std::vector<TuneSolution> sweep(const TuneSettings& settings, int kMax,
                                    const Job& job = {}) const;
    // solve(settings) and sweep(settings, kMax) (kMax >= 0; the sweep ignores the bucket
    // cost) from one DP pass over max(K, kMax) bucket counts: half the work of the two calls.
    std::pair<TuneSolution, std::vector<TuneSolution>>
    solveAndSweep(const TuneSettings& settings, int kMax, const Job& job = {}) const;
    // The objective of any boundary set under `settings` (per served request, with the
    // bucket cost), as the DP counts it: for checks against the solver.
    double objectiveOf(const Boundaries& boundaries, const TuneSettings& settings) const;

private:
    struct Layers;
    Layers run(const TuneSettings& settings, int kMax, const Job& job) const;
    TuneSolution solutionOf(const Layers& layers, const TuneSettings& settings) const;
    std::vector<TuneSolution> frontOf(const Layers& layers, int kMax) const;

    const BucketEvaluator& evaluator_;
};

} // namespace bucketlab
