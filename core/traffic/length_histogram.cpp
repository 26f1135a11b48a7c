#include "core/traffic/length_histogram.h"

#include "core/util/error.h"

#include <algorithm>
#include <cmath>

namespace bucketlab {

namespace {

void checkLength(int64_t length)
{
    if (length < 1 || length > kMaxLength)
        throw Error("length " + std::to_string(length) + " is outside 1.." +
                    std::to_string(kMaxLength));
}

int64_t addChecked(int64_t a, int64_t b, const char* what)
{
    int64_t out = 0;
    if (__builtin_add_overflow(a, b, &out))
        throw Error(std::string("the histogram's ") + what +
                    " overflows 64 bits; split the traffic into smaller files");
    return out;
}

} // namespace

LengthHistogram LengthHistogram::fromCounts(std::vector<std::pair<int64_t, int64_t>> counts)
{
    for (const auto& [length, count] : counts) {
        checkLength(length);
        if (count < 0)
            throw Error("count " + std::to_string(count) + " for length " + std::to_string(length) +
                        " is negative");
    }
    std::sort(counts.begin(), counts.end());
    LengthHistogram h;
    for (const auto& [length, count] : counts) {
        if (count == 0)
            continue;
        if (!h.lengths_.empty() && h.lengths_.back() == length)
            h.counts_.back() = addChecked(h.counts_.back(), count, "count");
        else {
            h.lengths_.push_back(length);
            h.counts_.push_back(count);
        }
        h.total_ = addChecked(h.total_, count, "total count");
        int64_t tokens = 0;
        if (__builtin_mul_overflow(length, count, &tokens))
            throw Error("the histogram's token total overflows 64 bits");
        h.tokens_ = addChecked(h.tokens_, tokens, "token total");
    }
    return h;
}

double LengthHistogram::mean() const
{
    return total_ == 0 ? 0.0 : double(tokens_) / double(total_);
}

int64_t LengthHistogram::quantile(double q) const
{
    if (total_ == 0)
        return 0;
    q = std::clamp(q, 0.0, 1.0);
    // long double keeps ceil(q * total) exact for totals far beyond 2^53.
    const long double rank = std::ceil(static_cast<long double>(q) * total_);
    const int64_t r = std::max<int64_t>(1, int64_t(rank));
    int64_t seen = 0;
    for (size_t i = 0; i < lengths_.size(); ++i) {
        seen += counts_[i];
        if (seen >= r)
            return lengths_[i];
    }
    return lengths_.back();
}

int64_t LengthHistogram::countAtMost(int64_t length) const
{
    int64_t n = 0;
    for (size_t i = 0; i < lengths_.size() && lengths_[i] <= length; ++i)
        n += counts_[i];
    return n;
}

LengthHistogram LengthHistogram::truncated(int64_t maxLength) const
{
    LengthHistogram h;
    for (size_t i = 0; i < lengths_.size() && lengths_[i] <= maxLength; ++i) {
        h.lengths_.push_back(lengths_[i]);
        h.counts_.push_back(counts_[i]);
        h.total_ += counts_[i];
        h.tokens_ += lengths_[i] * counts_[i];
    }
    return h;
}

void LengthHistogram::merge(const LengthHistogram& other)
{
    std::vector<std::pair<int64_t, int64_t>> all;
    all.reserve(distinct() + other.distinct());
    for (size_t i = 0; i < distinct(); ++i)
        all.emplace_back(lengths_[i], counts_[i]);
    for (size_t i = 0; i < other.distinct(); ++i)
        all.emplace_back(other.lengths_[i], other.counts_[i]);
    *this = fromCounts(std::move(all));
}

std::string LengthHistogram::toCsv() const
{
    std::string out = "length,count\n";
    for (size_t i = 0; i < lengths_.size(); ++i)
        out += std::to_string(lengths_[i]) + "," + std::to_string(counts_[i]) + "\n";
    return out;
}

void LengthHistogramBuilder::add(int64_t length, int64_t count)
{
    if (count < 0)
        throw Error("count " + std::to_string(count) + " is negative");
    if (count == 0)
        return;
    if (length > 0 && length < int64_t(dense_.size()))
        dense_[size_t(length)] = addChecked(dense_[size_t(length)], count, "count");
    else
        addSlow(length, count);
}

void LengthHistogramBuilder::addSlow(int64_t length, int64_t count)
{
    checkLength(length);
    if (length < kDenseLimit) {
        // Grow geometrically so short traffic keeps a small array.
        size_t size = std::max<size_t>(dense_.size(), 1024);
        while (int64_t(size) <= length)
            size *= 2;
        dense_.resize(std::min<size_t>(size, size_t(kDenseLimit)), 0);
        dense_[size_t(length)] = addChecked(dense_[size_t(length)], count, "count");
        return;
    }
    auto& c = sparse_[length];
    c = addChecked(c, count, "count");
}

int64_t LengthHistogramBuilder::total() const
{
    int64_t t = 0;
    for (int64_t c : dense_)
        t = addChecked(t, c, "total count");
    for (const auto& [length, c] : sparse_)
        t = addChecked(t, c, "total count");
    return t;
}

LengthHistogram LengthHistogramBuilder::build() const
{
    std::vector<std::pair<int64_t, int64_t>> counts;
    for (size_t i = 1; i < dense_.size(); ++i)
        if (dense_[i])
            counts.emplace_back(int64_t(i), dense_[i]);
    for (const auto& [length, c] : sparse_)
        counts.emplace_back(length, c);
    return LengthHistogram::fromCounts(std::move(counts));
}

} // namespace bucketlab
