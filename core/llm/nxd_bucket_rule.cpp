#include "core/llm/nxd_bucket_rule.h"

#include "core/util/error.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace bucketlab {

std::vector<int64_t> nxdGenerateBuckets(int64_t minLength, int64_t maxLength)
{
    if (minLength < 1 || maxLength < 1)
        throw Error("NxD's generate_buckets needs positive lengths, got " +
                    std::to_string(minLength) + " and " + std::to_string(maxLength));
    if (minLength == maxLength)
        return {maxLength};
    // int(log2(min)) truncates, and log2 of a positive integer is >= 0, so it floors.
    const int lo = int(std::floor(std::log2(double(minLength))));
    // Python's round() is half-to-even, as nearbyint is in the default rounding mode; an
    // integer's log2 is never within a rounding error of k + 0.5, so ties do not occur.
    const int hi = int(std::nearbyint(std::log2(double(maxLength))));
    std::vector<int64_t> out;
    for (int i = lo; i < hi; ++i)
        out.push_back(int64_t(1) << i);
    out.push_back(maxLength);
    return out;
}

int nxdSequenceBucket(const std::vector<int64_t>& buckets, int64_t requiredLength)
{
    for (size_t i = 0; i < buckets.size(); ++i)
        if (requiredLength < buckets[i])
            return int(i);
    if (!buckets.empty() && requiredLength == buckets.back())
        return int(buckets.size() - 1);
    return -1;
}

int nxdGridBatchBucket(const std::vector<int64_t>& batches, int64_t batch)
{
    for (size_t i = 0; i < batches.size(); ++i)
        if (batch <= batches[i])
            return int(i);
    return -1;
}

int nxdGridSequenceBucket(const std::vector<int64_t>& buckets, int64_t requiredLength)
{
    for (size_t i = 0; i < buckets.size(); ++i)
        if (requiredLength <= buckets[i])
            return int(i);
    return -1;
}

std::vector<BucketRange> nxdSequenceRanges(const std::vector<int64_t>& buckets)
{
    std::vector<BucketRange> out;
    int64_t first = 0;
    for (size_t i = 0; i < buckets.size(); ++i) {
        const int64_t last = i + 1 == buckets.size() ? buckets[i] : buckets[i] - 1;
        out.push_back({first, last});
        first = std::max(first, last + 1);
    }
    return out;
}

} // namespace bucketlab
