// Tuning with measurements in the loop (`tune --refine`). A latency curve interpolates between
// measured lengths, while real kernels have fine structure (multiples of 8, 64 or a 128-wide
// tile run faster), and the tuner's boundaries sit exactly where interpolation is least true.
// So: solve, measure latency exactly at the chosen boundaries and at the lengths next to them
// whose price the curve only interpolates (the nearest candidates the tuner could pick
// instead, and the next multiples of 16, 64 and 128 above each boundary), add those points to
// the profile, solve again; stop when every boundary serving traffic is a length measured here
// and the set stops changing, or at the round cap. The result is then measured once more, in a
// run of its own, against its prediction. A bucket that serves none
// of the traffic (the cover length, when the traffic stops short of it) adds nothing to the
// mean and is not measured: on a real model the longest bucket is also the slowest to time.
//
// Measurements of a round are scaled to the conditions of the starting profile through up to
// five of its lengths re-measured in the same run (the median of now / then), as `tune
// --verify` does, so that a machine busier now than when the profile was made neither biases
// the solver against the new points nor counts as a wrong prediction.
//
// A measured bucket can be dearer than a longer one (fine structure); the curve then prices
// it at the longer bucket's latency (its non-decreasing envelope), and the bucket to deploy is
// that longer one. Each round's boundaries are therefore moved to the measured lengths that
// price them (never past the served range, the maximum length or off the alignment), which
// keeps the optimum's cost and makes every price a measured one.
//
// The prediction is priced from fresh samples, not from the loop's. The loop keeps the
// boundaries whose measured price came out cheapest; among several lengths of nearly the same
// cost, the cheapest-looking is the one whose noise leant low, so the loop's own estimate of
// the set it chose is biased low (the winner's curse), by more the noisier the measurements
// and the more near-equal candidates there are. The final run therefore measures the chosen
// boundaries (and the references) afresh and splits every length's samples by the profiler's
// sampling rounds, which visit every length once each: the odd rounds price the prediction,
// the even rounds are the measurement it is checked against. Both halves are independent of
// the selection and of each other, and interleaved in time, so a machine that speeds up or
// slows down during the run moves both alike; both are scaled to the starting profile's
// conditions by the same ratio (the whole run's references). The loop's estimate is kept
// beside it (loopPredictedMs), so the size of the selection bias stays visible. A measurer
// that returns fewer than two samples for some length cannot be split: the measurement is
// then a run of its own after the pricing run.
#pragma once

#include "core/latency/latency_curve.h"
#include "core/latency/profile_format.h"
#include "core/traffic/length_histogram.h"
#include "core/tuning/bucket_verification.h"
#include "core/tuning/tuning_report.h"
#include "core/util/job.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace bucketlab {

struct RefineRequest {
    TuningRequest tuning;
    LatencyStatistic statistic = LatencyStatistic::Median;
    int maxRounds = 8;       // solves at most; the last one measures nothing
    double tolerancePct = 5; // of the final check (point error)
    // Lengths of the starting profile re-measured in each run to scale it to the profile's
    // conditions: five, so that one noisy reference moves the median ratio little.
    size_t maxReferences = 5;
    int64_t batch = 1; // the batch size the measurer measures at (its points carry it)
};

struct RefineRound {
    int round = 0;                    // 1-based
    Boundaries boundaries;            // this round's solution, at the lengths pricing it
    std::vector<int64_t> unmeasured;  // its boundaries not measured before this round
    std::vector<int64_t> idle;        // its boundaries serving no request: not measured
    std::vector<int64_t> measuredNow; // lengths measured after this solve (none: final)
    double predictedMs = 0;           // its mean latency on this round's curve
    double conditionsRatio = 1;       // of this round's measurement (now / the profile's)
};

struct RefineResult {
    std::vector<RefineRound> rounds;
    // Every boundary of the last round that serves traffic is a length measured here, and the
    // set is the previous round's.
    bool converged = false;
    int maxRounds = 0;
    TuningReport report; // the final tuning, on the refined curve, boundaries as deployed
    // The starting profile with every refinement point (its conditions); its settings record
    // the lengths refinements measured (refinedLengths: this one's and any earlier one's).
    Profile profile;
    std::vector<int64_t> measuredLengths; // ascending: every length measured by the rounds
    // The prediction: the final boundaries priced from fresh samples (the pricing half of the
    // final run), with its 95 % interval; scaled to the starting profile's conditions.
    double predictedMs = 0, predictedLowMs = 0, predictedHighMs = 0;
    BucketVerification pricing;
    // The loop's own estimate of the final set (its last round's curve, made of the samples
    // that chose the boundaries: biased low by the selection), its interval from the measured
    // points' intervals, and its error against the same measurement.
    double loopPredictedMs = 0, loopPredictedLowMs = 0, loopPredictedHighMs = 0;
    double loopErrorPct = 0;
    // The final check: the other half of the final run (or a run of its own, see above).
    BucketVerification measurement;
    PredictionCheck check;
    bool splitRun = false; // pricing and measurement are the two halves of one run

    // {"converged", "max_rounds", "rounds": [{"round", "boundaries", "unmeasured",
    //  "idle", "measured", "predicted_ms", "conditions_ratio"}], "boundaries", "measured_lengths",
    //  "predicted_ms", "predicted_ci95_ms", "prediction": {"method", "buckets":
    //  [{"boundary", "share", "p50_ms", "ci95_ms", "samples"}]}, "loop_predicted_ms",
    //  "loop_predicted_ci95_ms", "loop_error_pct", "measured_ms", "measured_ci95_ms",
    //  "error_pct", "tolerance_pct", "within_tolerance", "verification"}
    nlohmann::json toJson() const;
};

// Called after each round's solve (and its measurement, when there was one).
using RefineObserver = std::function<void(const RefineRound&)>;

// `start`: a measured profile (its points at the smallest batch make the first curve),
// named `source` in messages. Throws Error for a profile without usable points, bad settings
// (as tuneAndCompare) or a failed measurement; Cancelled when the job is cancelled (checked
// before every solve and inside every measurement). An infeasible tuning ends the refinement
// without a final check (result.report.solution says why).
RefineResult refineTuning(const LengthHistogram& traffic, int64_t maxLength, const Profile& start,
                          const std::string& source, const RefineRequest& request,
                          const LengthMeasurer& measure, const Job& job = {},
                          const RefineObserver& observer = {});

// `boundaries` moved to the measured lengths that price them on `curve` (see above): a bucket
// the curve prices at a longer measured bucket's latency becomes that bucket unless it is the
// cover length, or the longer one lies above `limit` (> 0) or is not a multiple of align.
// Buckets that meet merge. Exposed for tests.
Boundaries movedToPricingLengths(const Boundaries& boundaries, const LatencyCurve& curve,
                                 int64_t coverLength, int64_t limit, int64_t align);

// The lengths a refinement measured into `profile` (RefineResult::profile, and the file
// `tune --refined-profile` writes record them in the profile's settings), ascending; empty for
// a profile no refinement made, or whose record does not read as lengths.
std::vector<int64_t> refinedLengths(const Profile& profile);

// A measuring run's profile split into two by sampling round: sample 0, 2, 4, ... of every
// point into `odd` (rounds 1, 3, 5, ...), 1, 3, 5, ... into `even`, each half's statistics
// and median interval recomputed. False (and the halves untouched) when a successfully
// measured point has fewer than two samples. Exposed for tests.
bool splitBySamplingRound(const Profile& run, Profile& odd, Profile& even);

} // namespace bucketlab
