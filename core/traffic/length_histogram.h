// Input-length traffic as a histogram: how many requests had each length. Every reader and
// generator produces one, so 10^8 requests cost the memory of their distinct lengths, and
// the evaluator and tuner work on the distinct lengths, not on the requests.
#pragma once

#include "core/spec/boundaries.h"

#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace bucketlab {

class LengthHistogram {
public:
    LengthHistogram() = default;
    // From (length, count) pairs in any order: repeated lengths add up, zero counts are
    // dropped. Throws Error for a length outside [1, kMaxLength], a negative count,
    // or totals that overflow 64 bits.
    static LengthHistogram fromCounts(std::vector<std::pair<int64_t, int64_t>> counts);

    const std::vector<int64_t>& lengths() const { return lengths_; } // distinct, ascending
    const std::vector<int64_t>& counts() const { return counts_; }   // per distinct length
    size_t distinct() const { return lengths_.size(); }
    int64_t total() const { return total_; }
    // Sum of length x count: the real (unpadded) tokens of all requests.
    int64_t totalTokens() const { return tokens_; }
    bool empty() const { return total_ == 0; }
    int64_t minLength() const { return lengths_.empty() ? 0 : lengths_.front(); }
    int64_t maxLength() const { return lengths_.empty() ? 0 : lengths_.back(); }
    double mean() const;
    // Nearest-rank quantile: the smallest length L such that at least ceil(q * total)
    // requests are <= L (q in [0, 1]; q = 0 gives the minimum). 0 when empty.
    int64_t quantile(double q) const;
    // Requests with length <= `length`.
    int64_t countAtMost(int64_t length) const;
    // The part of the histogram with lengths <= maxLength.
    LengthHistogram truncated(int64_t maxLength) const;
    // Adds another histogram's counts (e.g. several files into one distribution).
    void merge(const LengthHistogram& other);
    // `length,count` CSV, ascending, the histogram form every distribution reader accepts.
    std::string toCsv() const;

    bool operator==(const LengthHistogram& o) const
    {
        return lengths_ == o.lengths_ && counts_ == o.counts_;
    }

private:
    std::vector<int64_t> lengths_;
    std::vector<int64_t> counts_;
    int64_t total_ = 0;
    int64_t tokens_ = 0;
};

// Accumulates lengths one at a time, fast: lengths below kDenseLimit are counted in a flat
// array (one increment per sample, no hashing), the rare longer ones in a hash map.
class LengthHistogramBuilder {
public:
    static constexpr int64_t kDenseLimit = int64_t(1) << 20;

    // `length` must be in [1, kMaxLength] (readers check and report file:line);
    // throws Error otherwise.
    void add(int64_t length)
    {
        if (length > 0 && length < int64_t(dense_.size()))
            ++dense_[size_t(length)];
        else
            addSlow(length, 1);
    }
    void add(int64_t length, int64_t count);
    int64_t total() const;
    LengthHistogram build() const;

private:
    void addSlow(int64_t length, int64_t count);

    std::vector<int64_t> dense_;
    std::unordered_map<int64_t, int64_t> sparse_;
};

} // namespace bucketlab
