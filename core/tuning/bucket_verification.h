// Measuring a boundary set, so a tuner's prediction can be checked (`tune --verify`):
// profile exactly the bucket shapes and weight each bucket's latency by the share of the
// traffic it serves. A request served by bucket k costs what bucket k costs, whatever
// its own length, so the expected latency per request is sum_k share_k * latency_k.
#pragma once

#include "core/latency/profile_format.h"
#include "core/latency/profiler.h"
#include "core/runtime/device.h"
#include "core/spec/input_spec.h"
#include "core/tuning/bucket_evaluator.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace bucketlab {

// A measured point of the latency curve a prediction came from: re-measured beside the
// buckets, it tells how much faster or slower the machine is now than when the curve was
// measured (a shared machine's load can change latency by a factor of two or more).
struct ReferencePoint {
    int64_t length = 0;
    double ms = 0; // the curve's figure (a median, like expectedMs)
};

struct BucketVerificationRequest {
    std::string model;             // the base model, or a package (see measureBuckets)
    std::vector<InputSpec> inputs; // plain models (packages carry theirs)
    int64_t bucketDim = 1;
    int64_t batchDim = 0;
    Boundaries boundaries;
    // Traffic served by each bucket, same order as boundaries: fractions or request
    // counts (normalised here); >= 0, not all 0.
    std::vector<double> shares;
    int64_t batch = 1;
    DeviceKind device = DeviceKind::Auto;
    int threads = 1;
    // Wall (what a caller sees) or the profiling thread's CPU time (leaves out other
    // processes' time on a busy shared machine; one thread only), as ProfileRequest.
    ProfileClock clock = ProfileClock::Wall;
    double budgetS = 20;
    double targetCiPct = 2;
    // Optional: points of the curve the prediction came from. Up to maxReferences of them,
    // spread over the boundaries' range, are measured in the same run (interleaved with
    // the buckets, so they see the same conditions).
    std::vector<ReferencePoint> references;
    size_t maxReferences = 3;
    // Tests: a simulated device clock for the measuring run (see ProfileRequest).
    std::function<double(int64_t length, int64_t batch, int64_t call)> simulatedCallMs;
};

struct ReferenceCheck {
    int64_t length = 0;
    double thenMs = 0; // the curve's figure
    double nowMs = 0;  // measured in this run
};

struct BucketMeasurement {
    int64_t boundary = 0;
    double share = 0; // normalised
    ProfilePoint point;
};

struct BucketVerification {
    std::vector<BucketMeasurement> buckets;
    // sum_k share_k * median_k: the figure to compare with the prediction. The median,
    // because the latency curve the tuner predicts from is built from per-length medians
    // by default (like for like), and because on a shared machine the mean also carries
    // other processes' interference, which is no property of the buckets.
    double expectedMs = 0;
    // sum_k share_k * CI bound_k: a conservative interval for expectedMs (it assumes the
    // buckets' errors all lean the same way, so it is never narrower than the truth).
    double expectedLowMs = 0;
    double expectedHighMs = 0;
    // sum_k share_k * mean_k: the expected latency per request including every slow
    // sample; compare with a prediction from a mean-based curve.
    double expectedMeanMs = 0;
    // With references: the median of now / then over them (1 without), and expectedMs
    // scaled back to the conditions the curve was measured in, expectedMs / ratio. Compare
    // a prediction with this figure when the machine may have changed since.
    std::vector<ReferenceCheck> references;
    double conditionsRatio = 1;
    double expectedAtReferenceMs = 0;
    Profile profile; // the measurement itself (buckets, then references)
};

// Measures latency at the given lengths, in one run with the shapes interleaved, and returns
// that run's profile (a point per length, at the request's batch size). The profiler is one
// (profilerMeasurer); tests use a simulated device.
using LengthMeasurer = std::function<Profile(const std::vector<int64_t>& lengths, const Job& job)>;

// The profiler as a LengthMeasurer with the model, inputs, dimensions, batch, device, threads,
// budget, CI target and simulated clock of `settings`. A package is timed through its
// forward() when settings.boundaries are its own, else (and when they are empty) through its
// shared bucket model; a per-bucket package cannot serve other lengths and is refused.
LengthMeasurer profilerMeasurer(const BucketVerificationRequest& settings,
                                const ProfileObserver& observer = {});

// Measures the boundary shapes and the chosen references with `measure` (one run, references
// timed the same way as the buckets) and combines them. Throws Error for bad input and when
// any bucket or reference could not be measured (a verification with a missing bucket would
// be meaningless); Cancelled on cancel.
BucketVerification measureBucketsWith(const BucketVerificationRequest& request,
                                      const LengthMeasurer& measure, const Job& job = {});

// measureBucketsWith the profiler.
// A plain model is timed at each boundary length; a package as profilerMeasurer says.
BucketVerification measureBuckets(const BucketVerificationRequest& request, const Job& job = {},
                                  const ProfileObserver& observer = {});

// (predicted - measured) / measured, in percent.
double predictionErrorPct(double predictedMs, double measuredMs);

// The request that verifies an evaluated boundary set: its buckets with the share of the
// served traffic each holds, and the measured points of the curve it was predicted from as
// references (none for an analytic curve, which describes no particular machine).
// The caller fills in the model, its inputs, device, threads and budget.
BucketVerificationRequest verificationRequestFor(const Evaluation& evaluation,
                                                 const LatencyCurve& curve);

// A prediction set against its measurement. With references the measured figure is the one
// scaled back to the conditions the curve was measured in (expectedAtReferenceMs), so a
// machine that is busier now than then does not count as a wrong prediction.
struct PredictionCheck {
    double predictedMs = 0;
    double measuredMs = 0;
    double measuredLowMs = 0, measuredHighMs = 0; // 95 % interval, scaled like measuredMs
    double errorPct = 0;                          // (predicted - measured) / measured
    bool scaledToReference = false;
    double conditionsRatio = 1;
    double tolerancePct = 5;
    // The prediction's error against the measured figure (the point, not its interval,
    // which is reported beside it) is larger than the tolerance.
    bool beyondTolerance = false;
};
PredictionCheck checkPrediction(double predictedMs, const BucketVerification& measured,
                                double tolerancePct = 5);
// {"predicted_ms", "measured_ms", "measured_ci95_ms", "error_pct", "tolerance_pct",
//  "within_tolerance", "conditions_ratio", "scaled_to_reference", "device", "threads", "clock",
//  "buckets": [{"boundary", "share", "p50_ms", "ci95_ms", "samples", "flags"}],
//  "references": [{"length", "curve_ms", "now_ms"}]}
nlohmann::json verificationJson(const BucketVerification& measured, const PredictionCheck& check);

} // namespace bucketlab
