// Which shapes to profile: an explicit list of lengths, or a grid of log-spaced lengths
// (latency grows roughly linearly to quadratically with length, and short inputs are where
// traffic is dense, so equal ratios rather than equal steps) plus the current bucket
// boundaries, so the tuner's curve passes through the buckets in use today.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bucketlab {

// `count` lengths log-spaced from minLength to maxLength (both included, rounded to
// integers, duplicates merged, so a narrow range may yield fewer), plus every boundary
// <= maxLength. Ascending. Throws Error for count < 2, minLength < 1 or
// maxLength < minLength.
std::vector<int64_t> gridLengths(int count, int64_t minLength, int64_t maxLength,
                                 const std::vector<int64_t>& boundaries = {});

} // namespace bucketlab
