// What a compiled bucket costs before it serves a request: compile time in seconds and,
// when known, device memory in MiB, each a non-decreasing function of the bucket length
// (a longer bucket is a bigger graph and a bigger KV cache). Given analytically with the
// forms latency curves use (`linear:a,b` is a + b*L seconds, `poly:c0,c1,...`), or measured:
// a CSV `length,compile_s[,memory_mib]`, joined piecewise-linearly like a latency profile
// (flat below the first point, the last slope above the last).
#pragma once

#include "core/latency/latency_curve.h"

#include <cstdint>
#include <string>
#include <vector>

namespace bucketlab {

class CompileCost {
public:
    CompileCost() = default; // unknown: every bucket costs 0, no budget can be checked
    // A CSV file if it exists, else an analytic spec (seconds). Errors name file:line.
    static CompileCost load(const std::string& fileOrSpec);
    static CompileCost fromCsv(const std::string& text, const std::string& name);

    bool known() const { return known_; }
    bool hasMemory() const { return hasMemory_; }
    double seconds(int64_t length) const { return known_ ? time_.at(length) : 0.0; }
    double memoryMiB(int64_t length) const { return hasMemory_ ? memory_.at(length) : 0.0; }
    double totalSeconds(const std::vector<int64_t>& buckets) const;
    double totalMemoryMiB(const std::vector<int64_t>& buckets) const;
    // True when every bucket costs the same (or nothing): then a compile budget is a bucket
    // count, and the joint tuner's optimum under it is exact.
    bool constantPerBucket() const;
    const std::string& source() const { return source_; }
    std::string describe() const;

private:
    bool known_ = false;
    bool hasMemory_ = false;
    LatencyCurve time_;
    LatencyCurve memory_;
    std::string source_;
};

} // namespace bucketlab
