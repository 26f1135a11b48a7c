// Runs packages on inputs BucketLab makes and compares their outputs: a package against its
// own bucket models (forward(unpadded) == bucket_k.forward(padded to bucket k)), and one
// package against another (an export against its source). Used by the demo report, by
// exports before they report success, and by the tests.
#pragma once

#include "core/util/job.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace bucketlab {

struct EquivalenceRow {
    int64_t length = 0;
    int64_t batch = 1;
    int64_t bucket = -1;     // index chosen; -1 when the package rejected the length
    double maxAbsDiff = 0.0; // over every output tensor
    std::string error;       // the package's exception, if it raised
};

enum class InputValues {
    Fill,  // every element is the input's fill value
    Varied // values vary with position and row (see makeVariedInputs in core/runtime/torch_io_p.h)
};

struct EquivalenceOptions {
    std::vector<int64_t> lengths;
    std::vector<int64_t> batches{1};
    // Inputs are made [batch, length] (in the package's batch/bucket dimension order).
    InputValues values = InputValues::Varied;
};

// Throws Error when `package` is not a loadable package.
std::vector<EquivalenceRow> checkPackageAgainstBuckets(const std::string& package,
                                                       const EquivalenceOptions& options,
                                                       const Job& job = {});

struct ComparisonRow {
    int64_t length = 0;
    int64_t batch = 1;
    int64_t bucket = -1;          // candidate's bucket index; -1 when it rejected the length
    int64_t referenceBucket = -1; // reference's bucket index; -1 beyond its largest bucket
    // Beyond the candidate's largest bucket the candidate must raise; such a row passes
    // when it did (`error` then holds its message).
    bool expectRejection = false;
    // Beyond the reference's largest bucket the reference package cannot answer; its last
    // bucket model, on the input padded to the candidate's bucket, stands in for it.
    bool referenceIsBucketModel = false;
    double maxAbsDiff = 0.0;
    std::string error; // what went wrong (empty when the row passed)

    bool passed(double tolerance) const;
};

// Runs `candidate` and `reference` on the same inputs at every length and batch size and
// compares their outputs (max abs diff). Before each call both packages' shared state
// buffers are zeroed, so every row starts from a fresh state. The candidate's bucket kernel
// must route each length to the smallest bucket that holds it. Outputs whose shapes differ
// only along dimensions that follow the bucket length (e.g. a [batch, bucket, hidden] hidden
// state) are compared over the real positions, the first `length` entries. Throws Error when
// either file is not a loadable package.
std::vector<ComparisonRow> comparePackages(const std::string& reference,
                                           const std::string& candidate,
                                           const EquivalenceOptions& options, const Job& job = {});

// One call of a package's forward() made to prove it runs (see runPackageAtEveryBucket).
struct PackageRunRow {
    int64_t length = 0;
    int64_t batch = 1;
    int64_t bucket = -1;          // the boundary whose bucket holds `length`; -1 past the largest
    bool expectRejection = false; // past the largest bucket the package must raise
    std::string error;            // the package's exception (empty when it returned)
    std::string input;            // the input the error names, when it names one
    bool inputBucketed = true;    // whether that input is declared bucketed
    // The call never returned (60 s): its thread still runs TorchScript, and a process that
    // ends now must leave with std::quick_exit. Rows after it did not run.
    bool abandoned = false;

    // Returned where it must, raised where it must.
    bool passed() const { return expectRejection ? !error.empty() : error.empty(); }
};

// Calls the package's forward() at every bucket: at the boundary itself and at the first
// length the bucket holds (the previous boundary + 1), at each batch size, on inputs made from
// its metadata (bucketed inputs [batch, length] with varied valid values, the others
// [batch]); with `overLength`, also at the largest bucket + 1, where it must raise. States
// start from zero before every call. `build` and `export` run this on a package before it
// gets its name; `validate PACKAGE` runs it with overLength. Throws Error when `package` is
// not a loadable package.
std::vector<PackageRunRow> runPackageAtEveryBucket(const std::string& package,
                                                   const std::vector<int64_t>& batches,
                                                   bool overLength, const Job& job = {});

// The first row that did not pass, as one line ("at length 512 (bucket 512, batch 1) ...:
// <error>"), with a hint when the error suggests an input without a length; empty when every
// row passed.
std::string firstRunFailure(const std::vector<PackageRunRow>& rows);

} // namespace bucketlab
