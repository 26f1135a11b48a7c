// Runs a package and checks it against its own bucket models: for each length and batch
// size, forward(unpadded inputs) must equal bucket_k.forward(inputs padded to bucket k).
// Used by the demo report, by exports before they report success, and by the tests.
#pragma once

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

struct EquivalenceOptions {
    std::vector<int64_t> lengths;
    std::vector<int64_t> batches{1};
    // Inputs are made [batch, length] (in the package's batch/bucket dimension order) and
    // filled with each input's fill value.
    std::function<bool()> cancelled;
};

// Throws Error when `package` is not a loadable package.
std::vector<EquivalenceRow> checkPackageAgainstBuckets(const std::string& package,
                                                       const EquivalenceOptions& options);

} // namespace bucketlab
