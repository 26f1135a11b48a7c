// The LibTorch side of a bucket report: validating the kernels the report speaks for — the
// kernel BucketLab generates for the tuned boundaries and, given a package, the package's
// own kernel — and naming the LibTorch the checks ran on.
#pragma once

#include "core/kernel/kernel_check.h"
#include "core/report/boundary_report.h"
#include "core/spec/input_spec.h"

#include <string>
#include <vector>

namespace bucketlab {

struct ReportCheckRequest {
    Boundaries tuned;
    std::string package; // empty: none
    // Inputs of the generated kernel. Empty: the package's, else the autobucketing guide's
    // three int64 BERT inputs padded with 0.
    std::vector<InputSpec> inputs;
    // Batch sizes, threads, timeout; maxLength 0 checks each kernel at every length
    // up to defaultCheckLength() of its boundaries.
    KernelCheckOptions options;
};

struct ReportChecks {
    std::vector<ReportKernelCheck> checks;
    // A kernel call never returned and still runs on a worker thread: the process must
    // leave with std::quick_exit.
    bool workerAbandoned = false;
};

// Throws Error for a package that cannot be read or whose kernel cannot be loaded.
ReportChecks runReportKernelChecks(const ReportCheckRequest& request, const Job& job = {});

// The LibTorch this build links ("1.13.0"), for a report's environment.
std::string libtorchVersion();

struct ReportRuntime;
// The LibTorch side of makeBoundaryReport (report_builder.h): the checks above, the compute
// threads and the version.
ReportRuntime torchReportRuntime();

} // namespace bucketlab
