#include "core/tuning/bucket_verification.h"

#include "core/util/error.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

namespace bucketlab {

namespace {

// Up to `count` references spread over the boundaries' range: for the smallest, the
// largest and evenly spaced boundaries between, the reference of nearest length no longer
// than the largest boundary (each at most once).
std::vector<ReferencePoint> chooseReferences(const std::vector<ReferencePoint>& all,
                                             const std::vector<int64_t>& boundaries, size_t count)
{
    std::vector<ReferencePoint> chosen, inRange;
    for (const auto& ref : all)
        if (ref.length <= boundaries.back())
            inRange.push_back(ref);
    if (inRange.empty() || count == 0)
        return chosen;
    for (size_t j = 0; j < count; ++j) {
        const size_t k =
            count == 1 ? boundaries.size() - 1 : j * (boundaries.size() - 1) / (count - 1);
        const int64_t target = boundaries[k];
        const auto nearest =
            std::min_element(inRange.begin(), inRange.end(), [&](const auto& a, const auto& b) {
                return std::llabs(a.length - target) < std::llabs(b.length - target);
            });
        if (std::none_of(chosen.begin(), chosen.end(),
                         [&](const ReferencePoint& c) { return c.length == nearest->length; }))
            chosen.push_back(*nearest);
    }
    return chosen;
}

} // namespace

BucketVerification measureBucketsWith(const BucketVerificationRequest& r,
                                      const LengthMeasurer& measure, const Job& job)
{
    if (r.boundaries.empty())
        throw Error("verification: the boundary set has no buckets");
    if (r.shares.size() != r.boundaries.size())
        throw Error("verification: " + std::to_string(r.shares.size()) + " traffic shares for " +
                    std::to_string(r.boundaries.size()) + " buckets; give one share per bucket");
    double total = 0;
    for (size_t k = 0; k < r.shares.size(); ++k) {
        if (!std::isfinite(r.shares[k]) || r.shares[k] < 0)
            throw Error("verification: the share of bucket " + std::to_string(r.boundaries[k]) +
                        " is not a finite number >= 0");
        total += r.shares[k];
    }
    if (!(total > 0))
        throw Error("verification: every bucket has a zero traffic share");
    for (const auto& ref : r.references)
        if (ref.length <= 0 || !std::isfinite(ref.ms) || ref.ms <= 0)
            throw Error("verification: reference point at length " + std::to_string(ref.length) +
                        " needs a positive length and latency");
    const auto references = chooseReferences(r.references, r.boundaries, r.maxReferences);

    std::vector<int64_t> lengths = r.boundaries.values();
    for (const auto& ref : references)
        if (std::find(lengths.begin(), lengths.end(), ref.length) == lengths.end())
            lengths.push_back(ref.length);

    BucketVerification v;
    v.profile = measure(lengths, job);
    std::map<int64_t, const ProfilePoint*> byLength;
    for (const auto& point : v.profile.points)
        if (point.batch == r.batch)
            byLength[point.length] = &point;
    const auto pointAt = [&](int64_t length, const char* what) -> const ProfilePoint& {
        const auto it = byLength.find(length);
        if (it == byLength.end())
            throw Error("verification: the measurement has no point for " + std::string(what) +
                        " " + std::to_string(length) + " at batch " + std::to_string(r.batch));
        if (!it->second->ok())
            throw Error("verification: " + std::string(what) + " " + std::to_string(length) +
                        " could not be measured: " + it->second->error);
        return *it->second;
    };
    for (size_t k = 0; k < r.boundaries.size(); ++k) {
        const ProfilePoint& point = pointAt(r.boundaries[k], "bucket");
        BucketMeasurement m;
        m.boundary = r.boundaries[k];
        m.share = r.shares[k] / total;
        m.point = point;
        v.expectedMs += m.share * point.p50Ms;
        v.expectedLowMs += m.share * point.ci95LowMs;
        v.expectedHighMs += m.share * point.ci95HighMs;
        v.expectedMeanMs += m.share * point.meanMs;
        v.buckets.push_back(std::move(m));
    }
    std::vector<double> ratios;
    for (const auto& ref : references) {
        const ProfilePoint& point = pointAt(ref.length, "reference length");
        v.references.push_back({ref.length, ref.ms, point.p50Ms});
        ratios.push_back(point.p50Ms / ref.ms);
    }
    if (!ratios.empty()) {
        std::sort(ratios.begin(), ratios.end());
        const size_t n = ratios.size();
        v.conditionsRatio = n % 2 ? ratios[n / 2] : 0.5 * (ratios[n / 2 - 1] + ratios[n / 2]);
    }
    v.expectedAtReferenceMs = v.expectedMs / v.conditionsRatio;
    return v;
}

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
    const auto clock = measured.profile.settings.find("clock");
    j["clock"] = clock == measured.profile.settings.end() ? "" : clock->second;
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
