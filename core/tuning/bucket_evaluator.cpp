#include "core/tuning/bucket_evaluator.h"

#include "core/spec/package_meta.h"
#include "core/util/error.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace bucketlab {

namespace {

constexpr int64_t kDenseRankLimit = int64_t(1) << 22;

// Nearest rank ceil(percent/100 * n), at least 1, in exact integer arithmetic.
int64_t nearestRank(int64_t n, int percent)
{
    const __int128 r = (__int128(n) * percent + 99) / 100;
    return std::max<int64_t>(1, int64_t(r));
}

} // namespace

BucketEvaluator::BucketEvaluator(LengthHistogram histogram, LatencyCurve curve, int64_t maxLength)
    : histogram_(std::move(histogram)), curve_(std::move(curve)), maxLength_(maxLength)
{
    if (histogram_.empty())
        throw Error("the distribution is empty: nothing to evaluate");
    if (maxLength_ < 0)
        throw Error(subject(Field::MaxLength) + " must be positive");
    const auto& lengths = histogram_.lengths();
    const auto& counts = histogram_.counts();
    const size_t n = lengths.size();
    // Padded tokens are at most total x 2^31; refuse what would not fit in 64 bits rather
    // than report wrapped numbers.
    if (__int128(histogram_.total()) * kMaxLength > __int128(INT64_MAX))
        throw Error("the distribution has " + std::to_string(histogram_.total()) +
                    " requests; padded token totals could overflow 64 bits (limit 2^32)");
    prefixCount_.assign(n + 1, 0);
    prefixTokens_.assign(n + 1, 0);
    latencyAt_.resize(n);
    for (size_t i = 0; i < n; ++i) {
        prefixCount_[i + 1] = prefixCount_[i] + counts[i];
        prefixTokens_[i + 1] = prefixTokens_[i] + counts[i] * lengths[i];
        latencyAt_[i] = curve_.at(lengths[i]);
    }
    if (lengths.back() < kDenseRankLimit) {
        rankTable_.assign(size_t(lengths.back()) + 1, 0);
        size_t i = 0;
        for (int64_t l = 0; l <= lengths.back(); ++l) {
            while (i < n && lengths[i] <= l)
                ++i;
            rankTable_[size_t(l)] = uint32_t(i);
        }
    }
    servedDistinct_ = maxLength_ > 0 ? countDistinctAtMost(maxLength_) : n;
}

size_t BucketEvaluator::countDistinctAtMost(int64_t length) const
{
    const auto& lengths = histogram_.lengths();
    if (length <= 0)
        return 0;
    if (length >= lengths.back())
        return lengths.size();
    if (!rankTable_.empty())
        return rankTable_[size_t(length)];
    return size_t(std::upper_bound(lengths.begin(), lengths.end(), length) - lengths.begin());
}

BucketEvaluator::Totals BucketEvaluator::totals(const Boundaries& boundaries) const
{
    Totals t;
    size_t prev = 0;
    const int64_t cap = maxLength_ > 0 ? maxLength_ : kMaxLength;
    std::vector<std::pair<int64_t, double>> perBucket; // (requests, latency)
    perBucket.reserve(boundaries.size());
    for (int64_t b : boundaries) {
        const size_t idx = std::max(prev, countDistinctAtMost(std::min(b, cap)));
        const int64_t count = prefixCount_[idx] - prefixCount_[prev];
        const double latency = curve_.at(b);
        t.latencySumMs += double(count) * latency;
        t.paddedTokens += count * b;
        perBucket.emplace_back(count, latency);
        prev = idx;
    }
    t.served = prefixCount_[prev];
    if (t.served > 0) {
        const int64_t rank = nearestRank(t.served, 99);
        int64_t seen = 0;
        for (const auto& [count, latency] : perBucket)
            if ((seen += count) >= rank) {
                t.p99LatencyMs = latency;
                break;
            }
    }
    return t;
}

Evaluation BucketEvaluator::evaluate(const Boundaries& boundaries) const
{
    Evaluation e;
    e.boundaries = boundaries;
    e.buckets.resize(boundaries.size());
    const int64_t total = histogram_.total();
    const int64_t cap = maxLength_ > 0 ? maxLength_ : kMaxLength;
    size_t prev = 0;
    int64_t prevBoundary = 0;
    double latencySum = 0;
    for (size_t k = 0; k < boundaries.size(); ++k) {
        const int64_t b = boundaries[k];
        const size_t idx = std::max(prev, countDistinctAtMost(std::min(b, cap)));
        BucketStats& s = e.buckets[k];
        s.boundary = b;
        s.firstLength = prevBoundary + 1;
        s.lastLength = std::min(b, cap);
        s.requests = prefixCount_[idx] - prefixCount_[prev];
        s.realTokens = prefixTokens_[idx] - prefixTokens_[prev];
        s.paddedTokens = s.requests * b;
        s.trafficPct = 100.0 * double(s.requests) / double(total);
        s.wastePct = s.paddedTokens > 0
                         ? 100.0 * double(s.paddedTokens - s.realTokens) / double(s.paddedTokens)
                         : 0.0;
        s.latencyMs = curve_.at(b);
        s.extrapolated = curve_.isExtrapolated(b);
        latencySum += double(s.requests) * s.latencyMs;
        e.stats.realTokens += s.realTokens;
        e.stats.paddedTokens += s.paddedTokens;
        prev = idx;
        prevBoundary = b;
    }
    EvaluationStats& st = e.stats;
    st.requests = total;
    st.served = prefixCount_[prev];
    st.rejected = total - st.served;
    st.rejectedPct = 100.0 * double(st.rejected) / double(total);
    if (st.served > 0) {
        st.meanLatencyMs = latencySum / double(st.served);
        st.requestsPerSecond = 1000.0 / st.meanLatencyMs;
        st.meanPaddedTokens = double(st.paddedTokens) / double(st.served);
        st.wastePct = 100.0 * double(st.paddedTokens - st.realTokens) / double(st.paddedTokens);
        double* targets[] = {&st.p50LatencyMs, &st.p90LatencyMs, &st.p99LatencyMs};
        const int percents[] = {50, 90, 99};
        for (int p = 0; p < 3; ++p) {
            const int64_t rank = nearestRank(st.served, percents[p]);
            int64_t seen = 0;
            for (const auto& s : e.buckets)
                if ((seen += s.requests) >= rank) {
                    *targets[p] = s.latencyMs;
                    break;
                }
        }
        for (auto& s : e.buckets)
            s.latencySharePct =
                latencySum > 0 ? 100.0 * double(s.requests) * s.latencyMs / latencySum : 0.0;
    }
    return e;
}

nlohmann::json Evaluation::toJson() const
{
    nlohmann::json j;
    j["boundaries"] = boundaries;
    j["buckets"] = nlohmann::json::array();
    for (const auto& s : buckets)
        j["buckets"].push_back({{"boundary", s.boundary},
                                {"first_length", s.firstLength},
                                {"last_length", s.lastLength},
                                {"requests", s.requests},
                                {"traffic_pct", s.trafficPct},
                                {"real_tokens", s.realTokens},
                                {"padded_tokens", s.paddedTokens},
                                {"waste_pct", s.wastePct},
                                {"latency_ms", s.latencyMs},
                                {"latency_share_pct", s.latencySharePct},
                                {"extrapolated", s.extrapolated}});
    j["stats"] = {{"requests", stats.requests},
                  {"served", stats.served},
                  {"rejected", stats.rejected},
                  {"rejected_pct", stats.rejectedPct},
                  {"mean_latency_ms", stats.meanLatencyMs},
                  {"p50_latency_ms", stats.p50LatencyMs},
                  {"p90_latency_ms", stats.p90LatencyMs},
                  {"p99_latency_ms", stats.p99LatencyMs},
                  {"requests_per_s", stats.requestsPerSecond},
                  {"real_tokens", stats.realTokens},
                  {"padded_tokens", stats.paddedTokens},
                  {"waste_pct", stats.wastePct},
                  {"mean_padded_tokens", stats.meanPaddedTokens}};
    return j;
}

} // namespace bucketlab
