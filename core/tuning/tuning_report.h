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
// Each gets tuned_gain_pct = (baseline objective - tuned objective) / baseline objective,
// both over the same requests: when one set serves lengths the other refuses, over the
// requests both serve (and the baseline's note says how many each refuses).
//
// Served range. The recommendation's largest bucket is "serve up to" (ServeUpTo): by
// default the current set's largest, so that nothing served today is refused tomorrow.
// Shrinking it is an explicit choice, and the report then says which requests and lengths
// the current set serves that the tuned one refuses (ServedRangeChange).
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
    double objective = 0;         // the tuned objective's metric for these boundaries
    double tunedGainPct = 0;      // how much lower the tuned objective is, in % of this one, over
                                  // the requests both serve (NaN: they serve none in common)
    int64_t comparedRequests = 0; // the requests the gain is over
    int64_t refusedByTuned = 0;   // requests this set serves and the tuned one refuses
    int64_t refusedByThis = 0;    // requests the tuned set serves and this one refuses
    bool meetsP99Budget = true;
    std::string note;
};

struct ParetoPoint {
    int buckets = 0;
    TuneSolution solution; // objective without bucket cost
    Evaluation evaluation; // when feasible
    bool knee = false;
};

// "Serve up to": the length the recommended set's largest bucket keeps (its cover length).
struct ServeUpTo {
    enum class Mode {
        KeepCurrent, // the current set's largest boundary (without one: the traffic's longest)
        Traffic,     // the traffic's longest length, even below today's largest: a choice to
                     // shrink the served range
        Length       // exactly `length`
    };
    Mode mode = Mode::KeepCurrent;
    int64_t length = 0;

    static ServeUpTo upTo(int64_t n) { return {Mode::Length, n}; }
    // "current" or "", "traffic", or a length; Error about Field::ServeUpTo otherwise.
    static ServeUpTo parse(const std::string& text);
    // The cover length (TuneSettings::coverLength) with these current boundaries; 0: none,
    // the last bucket ends at the traffic's longest length.
    int64_t coverFor(const Boundaries& current) const;
    std::string str() const; // "current", "traffic" or the length
};

// Requests the current set serves that a proposed set refuses (lengths above its largest
// bucket), so that a shrinking served range is never silent.
struct ServedRangeChange {
    int64_t currentUpTo = 0;     // the current set's largest boundary (0: no current set)
    int64_t proposedUpTo = 0;    // the proposed set's largest boundary
    int64_t refusedRequests = 0; // served by the current set, refused by the proposed one
    double refusedPct = 0;       // of all requests in the traffic
    int64_t firstRefused = 0, lastRefused = 0; // shortest and longest such observed lengths
    bool refuses() const { return refusedRequests > 0; }
    bool shrinks() const { return currentUpTo > 0 && proposedUpTo < currentUpTo; }
    // One sentence: what the proposed set serves against the current one, and what it refuses.
    std::string describe() const;
    nlohmann::json toJson() const;
};
// maxLength > 0: lengths above it are refused by every set and not counted.
ServedRangeChange servedRangeChange(const LengthHistogram& traffic, const Boundaries& current,
                                    const Boundaries& proposed, int64_t maxLength = 0);

struct TuningRequest {
    TuneSettings settings; // its coverLength is set from serveUpTo
    ServeUpTo serveUpTo;
    Boundaries current; // the user's boundaries; empty: no `current` baseline
    int paretoMax = 0;  // 0: max(K, 8), at most the distinct lengths; -1: no sweep
    std::string distributionSource;
};

struct TuningReport {
    TuneSettings settings;
    int64_t maxLength = 0;
    ServeUpTo serveUpTo;
    TuneSolution solution;
    Evaluation evaluation;   // of solution.boundaries, when feasible
    ServedRangeChange range; // the tuned set against the current one (when both exist)
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
