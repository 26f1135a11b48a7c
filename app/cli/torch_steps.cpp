#include "app/cli/torch_steps.h"

#include <stdexcept>

namespace bucketlab::cli {

TorchSteps& torchSteps()
{
    static TorchSteps steps;
    return steps;
}

BucketVerification measureWithTorch(const BucketVerificationRequest& request, const Job& job)
{
    if (!torchSteps().measureBuckets)
        throw std::logic_error("measuring buckets needs the torch module, which is not loaded");
    return torchSteps().measureBuckets(request, job);
}

LengthMeasurer measurerWithTorch(const BucketVerificationRequest& settings)
{
    if (!torchSteps().profilerMeasurer)
        throw std::logic_error("measuring lengths needs the torch module, which is not loaded");
    return torchSteps().profilerMeasurer(settings);
}

} // namespace bucketlab::cli
