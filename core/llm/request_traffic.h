// LLM serving traffic: how many requests had each (prompt tokens, output tokens) pair. Stored
// as that pair histogram, never one row per request, so an hour of production traffic costs
// the memory of its distinct pairs. Read from CSV/TSV (the public Azure LLM inference trace
// `TIMESTAMP,ContextTokens,GeneratedTokens`, or any two columns named by options, with an
// optional count column), JSONL (one object per request or per pair), or a synthetic spec:
//   prompt=lognormal:mu=7,sigma=1,max=14000;output=geometric:mean=200,max=2000;n=20000;seed=1
// where prompt= takes any core/traffic synthetic family, output= those or geometric:mean=M
// (with optional min= and max=), and the two are drawn independently (n requests, paired by
// a seeded shuffle that is the same on every platform). Every bad value is an Error naming
// file:line.
#pragma once

#include "core/traffic/length_histogram.h"
#include "core/util/job.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bucketlab {

struct RequestPair {
    int64_t prompt = 0; // tokens in the prompt, >= 1
    int64_t output = 0; // tokens generated, >= 0
    int64_t count = 0;  // requests with exactly this pair
    bool operator==(const RequestPair& o) const
    {
        return prompt == o.prompt && output == o.output && count == o.count;
    }
};

// Nearest-rank summary of one marginal (prompt or output lengths).
struct MarginalSummary {
    int64_t requests = 0;
    int64_t distinct = 0;
    int64_t min = 0, p50 = 0, p90 = 0, p99 = 0, max = 0;
    double mean = 0;
};

class RequestTraffic {
public:
    RequestTraffic() = default;
    // Repeated pairs add up, zero counts are dropped. Throws Error for a prompt outside
    // [1, kMaxLength], an output outside [0, kMaxLength], a negative count
    // or totals beyond 2^62.
    static RequestTraffic fromPairs(std::vector<RequestPair> pairs);

    // Distinct pairs, ascending by (prompt, output).
    const std::vector<RequestPair>& pairs() const { return pairs_; }
    int64_t requests() const { return requests_; }
    bool empty() const { return requests_ == 0; }
    int64_t maxPrompt() const { return maxPrompt_; }
    int64_t maxOutput() const { return maxOutput_; }
    // The longest prompt + output of any request: the sequence length it reaches.
    int64_t maxTotal() const { return maxTotal_; }

    // The prompt lengths as a histogram (what the CTE phase serves).
    LengthHistogram prompts() const;
    MarginalSummary promptSummary() const;
    MarginalSummary outputSummary() const;
    // `prompt,output,count` CSV, the histogram form the reader accepts.
    std::string toCsv() const;

private:
    std::vector<RequestPair> pairs_;
    int64_t requests_ = 0;
    int64_t maxPrompt_ = 0, maxOutput_ = 0, maxTotal_ = 0;
};

struct TrafficReadOptions {
    std::string promptField; // column or JSON field; default: a prompt-like name (below)
    std::string outputField; // default: an output-like name
    std::string countField;  // default: `count` when present, else one request per row
    Job job;
};

// The names tried, in order, when no field is given (matched case-insensitively).
const std::vector<std::string>& defaultPromptFieldNames();
const std::vector<std::string>& defaultOutputFieldNames();
const std::vector<std::string>& defaultCountFieldNames();

// CSV/TSV (by extension or header) or JSONL (.jsonl, .ndjson).
RequestTraffic readRequestTraffic(const std::string& path, const TrafficReadOptions& options);
// A file, or a synthetic spec when no such file exists and the text looks like one.
RequestTraffic loadRequestTraffic(const std::string& fileOrSpec, const TrafficReadOptions& options);
// The readers on text in memory (tests, benchmarks); `name` stands for the file in errors.
RequestTraffic parseRequestTrafficCsv(std::string_view text, const std::string& name,
                                      const TrafficReadOptions& options);
RequestTraffic parseRequestTrafficJsonl(std::string_view text, const std::string& name,
                                        const TrafficReadOptions& options);

bool looksLikeTrafficSpec(const std::string& text);
// Throws Error naming the spec and the offending part.
RequestTraffic syntheticRequestTraffic(const std::string& spec);

} // namespace bucketlab
