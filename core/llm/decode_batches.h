// Batched decoding, for batch x sequence TKG buckets (NxD's token_generation_batches): the
// TKG calls as (batch size, required length) pairs, and the step latency of each (batch
// bucket, sequence bucket).
//
// The calls come from a log of a real server (CSV `batch,position[,count]`: the sequences
// in the call and the widest attention mask among them, NxD's required length), or from a
// simple serving model over the request traffic: continuous batching with a maximum batch B,
// step-synchronous. Requests enter in a seeded random order (the same on every platform);
// each round every active sequence decodes one token in one call whose batch is the number
// of active sequences and whose required length is the largest position among them (the
// attention mask is padded to the longest sequence); a finished sequence frees its slot and
// the next request takes it for the following round (its prefill is a separate CTE call).
// Each sequence runs the TKG steps core/llm/decode_workload.h derives for it. Speculation is
// not modelled here: NxD refuses batch bucketing with speculation.
//
// A request's decode time is the sum of the latencies of the calls it is in, so the mean
// request latency counts each call's latency once per sequence in it: the tuner weights a
// call by its batch size.
//
// Step latency per (batch, length): from a profile with several batch sizes (JSON or CSV
// `length,latency_ms,batch`), one latency curve per measured batch, linear in batch between
// measured batches, flat below the smallest, proportional to the batch above the largest (a
// batch never costs more than running its sequences one after another), then the cheapest
// measured batch at or above (so it never decreases in batch or length); or `scale:ALPHA`,
// the one-dimensional TKG curve times 1 + ALPHA (batch - 1).
#pragma once

#include "core/latency/latency_curve.h"
#include "core/llm/decode_workload.h"
#include "core/llm/request_traffic.h"
#include "core/util/job.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace bucketlab {

struct DecodeCall {
    int64_t batch = 0;    // sequences decoded together
    int64_t required = 0; // NxD's required length: the widest attention mask in the call
    int64_t count = 0;    // calls with this (batch, required)
};

class DecodeCalls {
public:
    DecodeCalls() = default;
    // Repeated (batch, required) add up; zero counts are dropped. Throws Error for a batch
    // or required length below 1 or a negative count.
    static DecodeCalls fromCalls(std::vector<DecodeCall> calls, std::string source);

    // Ascending by (batch, required).
    const std::vector<DecodeCall>& calls() const { return calls_; }
    bool empty() const { return calls_.empty(); }
    int64_t totalCalls() const { return totalCalls_; }
    int64_t sequenceSteps() const { return sequenceSteps_; } // sum of batch x count
    int64_t maxBatch() const { return maxBatch_; }
    int64_t maxRequired() const { return maxRequired_; }
    double meanBatch() const;
    const std::string& source() const { return source_; }
    nlohmann::json toJson() const; // counts and the batch-size distribution

private:
    std::vector<DecodeCall> calls_;
    int64_t totalCalls_ = 0, sequenceSteps_ = 0, maxBatch_ = 0, maxRequired_ = 0;
    std::string source_;
};

// CSV with a header naming batch and position (or required) columns, and optionally count.
DecodeCalls readDecodeLog(const std::string& path);
DecodeCalls parseDecodeLog(const std::string& text, const std::string& name);

// The serving model above. Throws Error for maxBatch < 1 or invalid limits.
DecodeCalls simulateContinuousBatching(const RequestTraffic& traffic, const ServingLimits& limits,
                                       int64_t maxBatch, uint64_t seed = 1, const Job& job = {});

class BatchLatency {
public:
    BatchLatency() = default;
    // A profile file, or `scale:ALPHA` applied to `tkg` (the one-dimensional TKG curve).
    static BatchLatency load(const std::string& fileOrSpec, const LatencyCurve& tkg);
    static BatchLatency fromCurves(std::vector<std::pair<int64_t, LatencyCurve>> byBatch,
                                   std::string source);
    static BatchLatency scaled(const LatencyCurve& tkg, double alpha);

    bool valid() const { return !curves_.empty(); }
    // Never decreases in batch or length.
    double at(int64_t batch, int64_t length) const;
    std::string describe() const;

private:
    std::vector<std::pair<int64_t, LatencyCurve>> curves_; // ascending batch
    double alpha_ = -1;                                    // >= 0: scaled form
    std::string source_;
};

} // namespace bucketlab
