// The steps of launcher commands that need LibTorch: tune's measured verification and
// refinement, and the report's kernel checks. The torch module fills them in before it runs a
// command; in the launcher they stay empty, and a command whose options ask for one is handed to
// the module whole (Command::needsTorch) before it starts.
#pragma once

#include "core/report/report_builder.h"
#include "core/tuning/bucket_verification.h"

#include <functional>

namespace bucketlab::cli {

struct TorchSteps {
    std::function<BucketVerification(const BucketVerificationRequest&, const Job&)> measureBuckets;
    std::function<LengthMeasurer(const BucketVerificationRequest&)> profilerMeasurer;
    ReportRuntime report;
};

TorchSteps& torchSteps();

// torchSteps().measureBuckets, or an internal error where it is missing.
BucketVerification measureWithTorch(const BucketVerificationRequest& request, const Job& job);
// torchSteps().profilerMeasurer, or an internal error where it is missing.
LengthMeasurer measurerWithTorch(const BucketVerificationRequest& settings);

} // namespace bucketlab::cli
