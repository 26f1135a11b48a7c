// Makes a bucket report from what a user has on disk: reads the traffic and the latency
// curve, compares the current boundaries with tuned ones (given, or tuned here), runs the
// kernel checks the report speaks for and records the environment. `bucketlab-cli report`
// renders the result with core/report/html_report.h; the desktop can do the same.
#pragma once

#include "core/report/boundary_report.h"
#include "core/report/report_checks.h"
#include "core/spec/input_spec.h"
#include "core/traffic/distribution.h"
#include "core/util/job.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace bucketlab {

// A second run to compare the report's with (run B): whatever it leaves empty is run A's, so
// another traffic alone, another latency alone, or both (a project's) can be compared.
struct ReportRunRequest {
    std::string distribution; // file or synthetic spec; empty: run A's traffic
    DistributionOptions distributionOptions;
    std::string latency; // profile file or analytic spec; empty: run A's curve
    std::string project; // the project file these came from (named in messages), or empty
    std::vector<NamedBoundarySet> boundarySets; // run B's own sets, priced too
};

struct BoundaryReportRequest {
    std::string distribution; // file or synthetic spec
    // How the file is read (column, JSONL field, WordPiece vocab with text columns), as tune
    // reads it; its job is not used (the report's own job reports the reading).
    DistributionOptions distributionOptions;
    std::string column;  // not empty: the CSV/TSV column of lengths, over distributionOptions'
    std::string latency; // profile file or analytic spec
    Boundaries current;
    Boundaries tuned;              // empty: tune `tuneBuckets` buckets here
    int tuneBuckets = 0;           // 0: as many as `current`
    int64_t maxLength = 0;         // longest length the model accepts; 0: no limit
    ServeUpTo serveUpTo;           // tuning keeps its largest bucket here
    std::string package;           // empty: none; else its kernel is validated too
    std::vector<InputSpec> inputs; // of the generated kernel; empty: the package's or the guide's
    std::vector<int64_t> batchSizes{1, 2, 5};
    bool checkKernels = true;
    int threads = 0;         // LibTorch and validator threads; 0: leave the defaults
    std::string commandLine; // how to make the report again (for the environment section)
    std::optional<ReportRunRequest> compareWith;
};

struct BoundaryReportRun {
    BoundaryReport report;
    // A kernel call never returned and still runs on a worker thread: a process that ends
    // now must leave with std::quick_exit.
    bool workerAbandoned = false;
    bool kernelDefects = false; // a validated kernel has defects
};

// What a report needs from LibTorch: the kernel checks and the compute threads. Callers that
// link LibTorch pass torchReportRuntime() (report_checks.h); without one (the torch-free
// `bucketlab-cli report --no-kernel-check`), a report can be made only with checkKernels off,
// and its environment says LibTorch was not used.
struct ReportRuntime {
    std::function<ReportChecks(const ReportCheckRequest&, const Job&)> runKernelChecks;
    // Sets the intra-op threads when `requested` > 0; returns the threads in use.
    std::function<int(int requested)> computeThreads;
    std::string libtorchVersion;
};

// Throws Error for unreadable or invalid input (with file:line where the readers give it),
// invalid boundaries, a bucket count the traffic cannot fill, a package that is not one, or
// kernel checks asked of a runtime without them; Cancelled when job.cancel is set.
BoundaryReportRun makeBoundaryReport(const BoundaryReportRequest& request,
                                     const ReportRuntime& runtime, const Job& job = {});

} // namespace bucketlab
