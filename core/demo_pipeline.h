// The whole BucketLab pipeline on the embedded demo, as `bucketlab-cli demo` runs it:
// build the model and package it with the guide's buckets, read the MRPC traffic, evaluate
// the current buckets, tune K buckets against the baselines, prove the package's kernel over
// every length, export the tuned package (verified against the source) with the Neuron
// recipe, and check the package against its bucket models.
#pragma once

#include "core/demo.h"
#include "core/kernel_check.h"
#include "core/package_check.h"
#include "core/package_export.h"
#include "core/tuning_report.h"

#include <functional>
#include <string>

namespace bucketlab {

struct DemoRunOptions {
    std::string dir;
    int buckets = 4;
    // Called before each stage ("package", "traffic", "tune", "validate", "export", "check").
    std::function<void(const std::string& stage)> stage;
};

struct DemoRun {
    DemoFiles files;
    LengthHistogram traffic;
    std::string latencyDescription;
    TuningReport tuning;      // evaluation of the tuned set; baselines include "current"
    Evaluation current;       // the guide's 128,512 on this traffic
    KernelCheckResult kernel; // the current package's generated kernel
    ExportResult exported;    // the tuned package
    std::vector<EquivalenceRow> equivalence; // current package vs its bucket models
};

DemoRun runDemo(const DemoRunOptions& options);

} // namespace bucketlab
