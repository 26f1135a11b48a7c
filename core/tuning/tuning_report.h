// A complete tuning answer, as `bucketlab-cli tune` prints it and the GUI shows it: the
// optimal boundaries with their per-bucket costs, the same figures for the baselines people
// use today, and the Pareto front of the objective against the number of buckets.
//
// Baselines:
//   current        the user's boundaries (when given)
//   powers_of_two  NxD Inference's default: 128, 256, 512, ... With a maxLength, exactly
//                  NxD's generate_buckets(128, maxLength): 2^7 .. 2^(round(log2 max) - 1),
//                  then maxLength itself. Without one, up to the first power of two at or
//                  above the longest request. Never capped at K: NxD compiles every one.
//   equal_mass     K boundaries at the nearest-rank quantiles k/K of the served traffic
//   uniform        K boundaries ceil(k * longest / K)
// Each gets tuned_gain_pct = (baseline objective - tuned objective) / baseline objective.
// The knee of the Pareto front is the bucket count farthest above the straight line from
// k = 1 to k = kMax once both axes are scaled to [0, 1] (the "Kneedle" rule): past it,
// another bucket buys less than the average bucket did.
#pragma once

#include "core/tuning/boundary_tuner.h"

#include <string>
#include <vector>

namespace bucketlab {

struct BaselineResult {
    std::string name;
    Evaluation evaluation;
    double objective = 0;    // the tuned objective's metric for these boundaries
    double tunedGainPct = 0; // how much lower the tuned objective is, in % of this one
    bool meetsP99Budget = true;
    std::string note;
};

struct ParetoPoint {
    int buckets = 0;
    TuneSolution solution; // objective without bucket cost
    Evaluation evaluation; // when feasible
    bool knee = false;
};

struct TuningRequest {
    TuneSettings settings;
    Boundaries current; // the user's boundaries; empty: no `current` baseline
    int paretoMax = 0;  // 0: max(K, 8), at most the distinct lengths; -1: no sweep
    std::string distributionSource;
};

struct TuningReport {
    TuneSettings settings;
    int64_t maxLength = 0;
    TuneSolution solution;
    Evaluation evaluation; // of solution.boundaries, when feasible
    std::vector<BaselineResult> baselines;
    std::vector<ParetoPoint> pareto;
    int kneeBuckets = 0; // 0: no knee (fewer than 3 feasible points or a flat front)
    std::string distributionSource;
    LengthHistogram histogram;
    LatencyCurve curve;             // the curve the tuner priced buckets with
    std::vector<std::string> notes; // latency adjustments, extrapolation, rejected traffic

    // The `tune --json` document: boundaries, buckets, stats, baselines, pareto, solve_ms ...
    nlohmann::json toJson() const;
};

TuningReport tuneAndCompare(const BucketEvaluator& evaluator, const TuningRequest& request,
                            const Job& job = {});

Boundaries powersOfTwoBoundaries(int64_t longest, int64_t maxLength);
Boundaries equalMassBoundaries(const LengthHistogram& served, int k);
Boundaries uniformBoundaries(int64_t longest, int k);
// Index of the knee in objectives[0..] (bucket counts 1..), or -1.
int kneeIndex(const std::vector<double>& objectives);

} // namespace bucketlab
