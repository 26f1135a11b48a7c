#include "core/bucket_verification.h"

#include "core/error.h"
#include "core/package.h"
#include "core/package_meta.h"

#include <cmath>

namespace bucketlab {

BucketVerification measureBuckets(const BucketVerificationRequest& r,
                                  const ProfilerControl& control)
{
    checkBoundaries(r.boundaries, "boundaries to verify");
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

    ProfileRequest p;
    p.model = r.model;
    p.inputs = r.inputs;
    p.bucketDim = r.bucketDim;
    p.batchDim = r.batchDim;
    p.lengths = r.boundaries;
    p.batches = {r.batch};
    p.device = r.device;
    p.threads = r.threads;
    p.budgetS = r.budgetS;
    p.targetCiPct = r.targetCiPct;
    if (const auto meta = readPackageMeta(r.model))
        p.bucketModel = meta->boundaries != r.boundaries;

    BucketVerification v;
    v.profile = runProfile(p, control);
    for (size_t k = 0; k < r.boundaries.size(); ++k) {
        const ProfilePoint& point = v.profile.points.at(k);
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
    return v;
}

double predictionErrorPct(double predictedMs, double measuredMs)
{
    if (!(measuredMs > 0))
        throw Error("prediction error: the measured latency must be positive");
    return (predictedMs - measuredMs) / measuredMs * 100.0;
}

} // namespace bucketlab
