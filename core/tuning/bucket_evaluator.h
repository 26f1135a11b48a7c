// What a set of bucket boundaries costs on given traffic and a latency curve: per bucket
// and overall. Built once per (histogram, curve); each evaluate() is O(K) (plus a binary
// search among the few measured latency points per bucket), because the GUI
// calls it on every mouse move while a boundary is dragged.
//
// Semantics. A request of length L is padded to the smallest boundary >= L. It is rejected
// (not served) when L is above the largest boundary or above maxLength. Shares are of all
// traffic (so bucket shares + rejected = 100 %); latencies and waste are over served
// requests. Each request's latency is its bucket's latency, curve.at(boundary).
// Percentile latencies use the nearest rank: order the served requests by latency; the
// p-th percentile is the latency of the request at rank ceil(p/100 * served). The curve
// never decreases with length, so that is the bucket holding that request.
#pragma once

#include "core/latency/latency_curve.h"
#include "core/spec/boundaries.h"
#include "core/traffic/length_histogram.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace bucketlab {

struct BucketStats {
    int64_t boundary = 0;
    int64_t firstLength = 0; // previous boundary + 1
    int64_t lastLength = 0;  // the boundary itself (or maxLength, if lower)
    int64_t requests = 0;
    double trafficPct = 0;      // of all requests
    int64_t realTokens = 0;     // sum of the lengths served here
    int64_t paddedTokens = 0;   // requests x boundary: what the device computes
    double wastePct = 0;        // (padded - real) / padded
    double latencyMs = 0;       // curve.at(boundary)
    double latencySharePct = 0; // of the summed latency of all served requests
    bool extrapolated = false;  // boundary outside the measured latency points
};

struct EvaluationStats {
    int64_t requests = 0; // all traffic
    int64_t served = 0;
    int64_t rejected = 0; // above the largest boundary or above maxLength
    double rejectedPct = 0;
    double meanLatencyMs = 0;
    double p50LatencyMs = 0, p90LatencyMs = 0, p99LatencyMs = 0;
    double requestsPerSecond = 0; // one stream, back to back: 1000 / mean latency
    int64_t realTokens = 0, paddedTokens = 0;
    double wastePct = 0;
    double meanPaddedTokens = 0; // per served request
};

struct Evaluation {
    Boundaries boundaries;
    std::vector<BucketStats> buckets;
    EvaluationStats stats;
    // {"boundaries": [...], "buckets": [...], "stats": {...}} with snake_case fields.
    nlohmann::json toJson() const;
};

class BucketEvaluator {
public:
    // maxLength 0: no limit beyond the boundaries. Throws Error for an empty histogram.
    BucketEvaluator(LengthHistogram histogram, LatencyCurve curve, int64_t maxLength = 0);

    // Boundaries must be positive and strictly ascending (Error otherwise).
    Evaluation evaluate(const Boundaries& boundaries) const;
    // Only the mean latency and padded tokens per served request, and the served count;
    // no allocation (for baselines and brute-force checks).
    struct Totals {
        int64_t served = 0;
        double latencySumMs = 0; // sum over served requests
        double p99LatencyMs = 0;
        int64_t paddedTokens = 0;
    };
    Totals totals(const Boundaries& boundaries) const;

    const LengthHistogram& histogram() const { return histogram_; }
    const LatencyCurve& curve() const { return curve_; }
    int64_t maxLength() const { return maxLength_; }
    // Distinct lengths at or below maxLength: the tuner's candidates, and their counts.
    size_t servedDistinct() const { return servedDistinct_; }
    int64_t servableRequests() const { return prefixCount_[servedDistinct_]; }
    // prefixCount()[i] = requests among the i shortest distinct lengths (size distinct+1).
    const std::vector<int64_t>& prefixCount() const { return prefixCount_; }
    const std::vector<int64_t>& prefixTokens() const { return prefixTokens_; }
    // curve.at(lengths()[i]), precomputed.
    const std::vector<double>& latencyAtLength() const { return latencyAt_; }
    // Number of distinct lengths <= length: O(1) through a dense table up to the longest
    // length when that is below 2^22, O(log N) beyond.
    size_t countDistinctAtMost(int64_t length) const;

private:
    LengthHistogram histogram_;
    LatencyCurve curve_;
    int64_t maxLength_ = 0;
    size_t servedDistinct_ = 0;
    std::vector<int64_t> prefixCount_, prefixTokens_;
    std::vector<double> latencyAt_;
    std::vector<uint32_t> rankTable_; // rankTable_[L] = distinct lengths <= L
};

} // namespace bucketlab
