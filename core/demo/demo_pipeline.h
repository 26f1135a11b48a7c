// The whole BucketLab pipeline on the embedded demo, as `bucketlab-cli demo` runs it:
// build the model and package it with the guide's buckets, read the MRPC traffic, evaluate
// the current buckets, tune K buckets against the baselines, prove the package's kernel over
// every length, export the tuned package (verified against the source) with the Neuron
// recipe, measure the tuned package against the latency the tuner predicted for it, and
// check the package against its bucket models.
#pragma once

#include "core/demo/demo.h"
#include "core/kernel/kernel_check.h"
#include "core/package/package_check.h"
#include "core/package/package_export.h"
#include "core/tuning/bucket_verification.h"
#include "core/tuning/tuning_report.h"

#include <functional>
#include <string>

namespace bucketlab {

struct DemoRunOptions {
    std::string dir;
    int buckets = 4;
    // Seconds to measure the tuned package's buckets for the predicted-vs-measured check;
    // 0 skips it.
    double verifyBudgetS = 15;
};

struct DemoRun {
    DemoFiles files;
    LengthHistogram traffic;
    std::string latencyDescription;
    TuningReport tuning;             // evaluation of the tuned set; baselines include "current"
    Evaluation current;              // the guide's 128,512 on this traffic
    KernelCheckResult kernel;        // the current package's generated kernel
    ExportResult exported;           // the tuned package
    bool verified = false;           // the verification ran (verifyBudgetS > 0)
    BucketVerification verification; // the tuned package's buckets, measured
    PredictionCheck prediction;      // the tuner's mean latency against that measurement
    std::vector<EquivalenceRow> equivalence; // current package vs its bucket models
};

DemoRun runDemo(const DemoRunOptions& options, const Job& job = {});

} // namespace bucketlab
