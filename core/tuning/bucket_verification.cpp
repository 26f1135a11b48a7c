#include "core/tuning/bucket_verification.h"

#include "core/package/package.h"
#include "core/spec/package_meta.h"
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

BucketVerification measureBuckets(const BucketVerificationRequest& r, const Job& job,
                                  const ProfileObserver& observer)
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

    ProfileRequest p;
    p.model = r.model;
    p.inputs = r.inputs;
    p.bucketDim = r.bucketDim;
    p.batchDim = r.batchDim;
    p.lengths = r.boundaries;
    for (const auto& ref : references)
        if (std::find(p.lengths.begin(), p.lengths.end(), ref.length) == p.lengths.end())
            p.lengths.push_back(ref.length);
    p.batches = {r.batch};
    p.device = r.device;
    p.threads = r.threads;
    p.budgetS = r.budgetS;
    p.targetCiPct = r.targetCiPct;
    p.simulatedCallMs = r.simulatedCallMs;
    if (const auto meta = readPackageMeta(r.model))
        p.bucketModel = meta->boundaries != r.boundaries;

    BucketVerification v;
    v.profile = runProfile(p, job, observer);
    std::map<int64_t, const ProfilePoint*> byLength;
    for (const auto& point : v.profile.points)
        byLength[point.length] = &point;
    for (size_t k = 0; k < r.boundaries.size(); ++k) {
        const ProfilePoint& point = *byLength.at(r.boundaries[k]);
        if (!point.ok())
            throw Error("verification: bucket " + std::to_string(r.boundaries[k]) +
                        " could not be measured: " + point.error);
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
        const ProfilePoint& point = *byLength.at(ref.length);
        if (!point.ok())
            throw Error("verification: reference length " + std::to_string(ref.length) +
                        " could not be measured: " + point.error);
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

} // namespace bucketlab
