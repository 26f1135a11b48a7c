// The calls NxD Inference makes for given traffic, derived exactly from the (prompt, output)
// histogram under the rule in core/llm/nxd_bucket_rule.h: per request one CTE call at
// required length p, and TKG calls at required lengths p + s, ..., p + g - 2 + s (s the
// speculation length). Summed over requests, the CTE work is a histogram of prompt lengths
// and the TKG work a histogram of required lengths weighted by how many steps reach them —
// both plain LengthHistograms, so the 1-D tuner of core/tuning serves each phase.
//
// Limits, as NxD enforces them:
//   a prompt longer than max_context_length is rejected (the wrapper raises; counted, not
//   served);
//   generation stops when the sequence reaches seq_len (HF generate's max_length): a request
//   keeps min(g, seq_len - p) output tokens and is counted as truncated when that cuts it;
//   with a speculation length s, a TKG step needs position + s <= seq_len (the largest
//   bucket is seq_len), so the last steps of a request near seq_len are cut the same way.
// Each output token counts as one TKG step even with speculation (no acceptance model): an
// upper bound on the decode calls.
#pragma once

#include "core/llm/request_traffic.h"
#include "core/traffic/length_histogram.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>

namespace bucketlab {

struct ServingLimits {
    int64_t maxContextLength = 0; // NxD max_context_length: the longest prompt
    int64_t seqLen = 0;           // NxD seq_len (= max_length): the longest prompt + output
    int64_t speculationLength = 0;
};

// Throws Error unless 1 <= max_context_length <= seq_len <= kMaxLength (NxD asserts
// max_context_length <= max_length; the step histogram is a dense array of seq_len at most)
// and 0 <= speculation length < seq_len.
void checkServingLimits(const ServingLimits& limits);

// What one request costs in calls. served: its prompt fits max_context_length.
struct RequestCalls {
    bool served = false;
    bool truncated = false;
    int64_t tkgSteps = 0;
    int64_t firstRequired = 0; // of its first TKG step (when tkgSteps > 0)
    int64_t lastRequired = 0;  // of its last TKG step
};
RequestCalls callsOf(const RequestPair& pair, const ServingLimits& limits);

struct DecodeWorkload {
    ServingLimits limits;
    int64_t requests = 0;  // all traffic
    int64_t served = 0;    // prompt <= max_context_length
    int64_t rejected = 0;  // prompt > max_context_length
    int64_t truncated = 0; // served requests whose output was cut at seq_len
    int64_t tkgSteps = 0;  // TKG calls of all served requests
    LengthHistogram cte;   // required length (prompt) of each served request's CTE call
    LengthHistogram tkg;   // required length of each TKG call; empty when no request decodes

    nlohmann::json toJson() const; // counts and a summary of both histograms
};

// Throws Error for invalid limits (checkServingLimits) or when no request is served.
DecodeWorkload deriveDecodeWorkload(const RequestTraffic& traffic, const ServingLimits& limits);

} // namespace bucketlab
