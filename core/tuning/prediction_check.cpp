// The torch-free half of bucket verification (bucket_verification.h): what to measure for an
// evaluated set, and how a measurement compares with the prediction. measureBuckets, which
// runs the model, is in bucket_verification.cpp.
#include "core/tuning/bucket_verification.h"

#include "core/util/error.h"

#include <cmath>
#include <nlohmann/json.hpp>

namespace bucketlab {

double predictionErrorPct(double predictedMs, double measuredMs)
{
    if (!(measuredMs > 0))
        throw Error("prediction error: the measured latency must be positive");
    return (predictedMs - measuredMs) / measuredMs * 100.0;
}

BucketVerificationRequest verificationRequestFor(const Evaluation& evaluation,
                                                 const LatencyCurve& curve)
{
    BucketVerificationRequest r;
    r.boundaries = evaluation.boundaries;
    for (const auto& b : evaluation.buckets)
        r.shares.push_back(static_cast<double>(b.requests));
    if (r.boundaries.empty())
        throw Error("verification: the boundary set has no buckets");
    for (const auto& p : curve.measured())
        r.references.push_back({p.length, p.ms});
    return r;
}

PredictionCheck checkPrediction(double predictedMs, const BucketVerification& measured,
                                double tolerancePct)
{
    if (!(predictedMs > 0))
        throw Error("verification: the predicted latency must be positive");
    if (!(tolerancePct >= 0))
        throw Error("verification: the tolerance must be >= 0 %");
    PredictionCheck c;
    c.predictedMs = predictedMs;
    c.tolerancePct = tolerancePct;
    c.scaledToReference = !measured.references.empty();
    c.conditionsRatio = measured.conditionsRatio;
    const double scale = c.scaledToReference ? 1.0 / measured.conditionsRatio : 1.0;
    c.measuredMs = measured.expectedMs * scale;
    c.measuredLowMs = measured.expectedLowMs * scale;
    c.measuredHighMs = measured.expectedHighMs * scale;
    c.errorPct = predictionErrorPct(predictedMs, c.measuredMs);
    c.beyondTolerance = std::abs(c.errorPct) > tolerancePct;
    return c;
}

nlohmann::json verificationJson(const BucketVerification& measured, const PredictionCheck& check)
{
    using nlohmann::json;
    json j;
    j["predicted_ms"] = check.predictedMs;
    j["measured_ms"] = check.measuredMs;
    j["measured_ci95_ms"] = {check.measuredLowMs, check.measuredHighMs};
    j["error_pct"] = check.errorPct;
    j["tolerance_pct"] = check.tolerancePct;
    j["within_tolerance"] = !check.beyondTolerance;
    j["scaled_to_reference"] = check.scaledToReference;
    j["conditions_ratio"] = check.conditionsRatio;
    j["device"] = measured.profile.deviceKind;
    j["device_name"] = measured.profile.deviceName;
    j["threads"] = measured.profile.threads;
    json buckets = json::array();
    for (const auto& b : measured.buckets) {
        json flags = json::array();
        for (const auto& f : b.point.flags)
            flags.push_back(f);
        buckets.push_back({{"boundary", b.boundary},
                           {"share", b.share},
                           {"p50_ms", b.point.p50Ms},
                           {"ci95_ms", {b.point.ci95LowMs, b.point.ci95HighMs}},
                           {"samples", b.point.samples},
                           {"flags", flags}});
    }
    j["buckets"] = buckets;
    json refs = json::array();
    for (const auto& r : measured.references)
        refs.push_back({{"length", r.length}, {"curve_ms", r.thenMs}, {"now_ms", r.nowMs}});
    j["references"] = refs;
    return j;
}

} // namespace bucketlab
