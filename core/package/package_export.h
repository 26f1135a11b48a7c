// Re-exporting a package with new (tuned) boundaries: a new package with a freshly
// generated kernel around the source's bucket models, verified against the source before
// it gets its name, plus optionally the Neuron build recipe for the new boundaries.
// A shared package's model serves any boundaries; a per-bucket package (models traced at
// fixed lengths) serves only the lengths it has models for, and the recipe is how the user
// re-traces the others.
#pragma once

#include "core/kernel/kernel_check.h"
#include "core/package/package_check.h"
#include "core/spec/package_meta.h"
#include "core/util/job.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace bucketlab {

// Checks a written package's bucket kernel (the validator of `bucketlab-cli validate`):
// returns one line per defect, none when it validates clean. Given the staged package path.
using KernelValidator =
    std::function<std::vector<std::string>(const std::string& package, const Job& job)>;

struct ExportRequest {
    std::string package; // the source package
    Boundaries boundaries;
    // New state shapes, one per new bucket. Needed when the source has states and a new
    // boundary is not one of its own (whose shapes carry over).
    std::vector<StateSpec> states;
    std::string out;
    bool force = false;
    std::string neuronRecipeDir; // empty: no recipe

    // Verification: lengths 1, every boundary (new and old) and boundary + 1, the maximum,
    // and `randomLengthsPerBucket` random lengths in every new bucket (fixed seed), at each
    // batch size.
    std::vector<int64_t> batches{1, 2};
    int randomLengthsPerBucket = 4;
    uint64_t seed = 20241126;
    double tolerance = 1e-5;
    // The new package's kernel is validated (every length 1..kernelCheckLength at each batch
    // size) before the package gets its name. 0: the largest new bucket + 1, the first
    // length the kernel must reject; more costs time linearly and finds nothing more in a
    // generated kernel.
    int64_t kernelCheckLength = 0;
    // The validator run on the staged package; unset: packageKernelValidator over
    // kernelCheckLength and `batches` (tests put a stand-in here).
    KernelValidator validateKernel;
};

struct ExportResult {
    PackageMeta meta;
    std::string out;
    bool written = false; // false: verification failed, nothing was written
    int64_t packageBytes = 0;
    std::vector<int64_t> lengths; // the sampled lengths
    std::vector<ComparisonRow> verification;
    double maxAbsDiff = 0.0;
    double verifySeconds = 0.0;
    bool kernelValidated = false; // false only when verification failed first
    std::vector<std::string> kernelDefects;
    int64_t kernelCheckLength = 0; // lengths 1..this were validated
    double validateSeconds = 0.0;
    // A kernel call never returned and still runs on a worker thread: a process that ends
    // now must leave with std::quick_exit.
    bool kernelCallAbandoned = false;
    std::vector<std::string> recipeFiles; // written recipe files
    std::string failure;                  // why it was not written
};

// Throws Error on bad requests (before writing anything): a source that is not a package,
// invalid boundaries, boundaries a per-bucket package has no models for (after writing the
// recipe, when one was asked for), missing or invalid state shapes, a kernelCheckLength not
// past the largest bucket, an output that exists without force, is the source, or cannot be
// written. Throws Cancelled when the job is cancelled; reports each stage (loading, assembling,
// verifying, validating, the recipe) with its share of the time. A verification failure or a
// kernel defect is a result (written == false), not an exception.
ExportResult exportPackage(const ExportRequest& request, const Job& job = {});

// The validator exports run: the package's bucket kernel at every length 1..options.maxLength
// (0: the largest bucket + 1) and every batch size in options.batchSizes, with the package's
// inputs and declared boundaries; and its state preprocessor when it has states. One line per
// defect class: "kind: message" ("state preprocessor kind: message").
KernelValidator packageKernelValidator(KernelCheckOptions options);

// True when a defect line from packageKernelValidator says a kernel call never returned:
// its thread still runs TorchScript, and the process must leave with std::quick_exit.
bool kernelValidatorAbandonedCall(const std::vector<std::string>& defects);

// The lengths an export verifies (sorted, unique); see ExportRequest.
std::vector<int64_t> exportSampleLengths(const Boundaries& boundaries,
                                         const Boundaries& sourceBoundaries, int randomPerBucket,
                                         uint64_t seed);

} // namespace bucketlab
