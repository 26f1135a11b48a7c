// The profiler as the verification's and the refinement's way of measuring lengths: the one
// place where a boundary set or a refinement round is timed on a real model.
#include "core/tuning/bucket_verification.h"

#include "core/latency/profiler.h"
#include "core/package/package.h"

namespace bucketlab {

LengthMeasurer profilerMeasurer(const BucketVerificationRequest& settings,
                                const ProfileObserver& observer)
{
    // A package's own forward() pads to its own buckets, so it times exactly those; any other
    // lengths are timed on its shared bucket model (what a re-exported package would run).
    return [settings, observer](const std::vector<int64_t>& lengths, const Job& job) {
        ProfileRequest p;
        p.model = settings.model;
        p.inputs = settings.inputs;
        p.bucketDim = settings.bucketDim;
        p.batchDim = settings.batchDim;
        p.lengths = lengths;
        p.batches = {settings.batch};
        p.device = settings.device;
        p.threads = settings.threads;
        p.clock = settings.clock;
        p.budgetS = settings.budgetS;
        p.targetCiPct = settings.targetCiPct;
        p.simulatedCallMs = settings.simulatedCallMs;
        if (const auto meta = readPackageMeta(settings.model))
            p.bucketModel = settings.boundaries.empty() || meta->boundaries != settings.boundaries;
        return runProfile(p, job, observer);
    };
}

BucketVerification measureBuckets(const BucketVerificationRequest& request, const Job& job,
                                  const ProfileObserver& observer)
{
    return measureBucketsWith(request, profilerMeasurer(request, observer), job);
}

} // namespace bucketlab
