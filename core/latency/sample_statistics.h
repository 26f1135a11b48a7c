// The statistics behind honest latency figures: a bootstrap confidence interval of the
// median (what the profiler's stopping rule and the reported ci95_ms use) and the noise
// flags a profile point carries. Plain C++, no LibTorch, so the Neuron host script and the
// core can be checked against the same definitions.
#pragma once

#include "core/latency/profile_format.h"

#include <cstdint>
#include <string>
#include <vector>

namespace bucketlab {

// Flags a profile point may carry (bucketlab.profile/1 "flags"). Readers treat unknown
// flags as informational.
inline constexpr const char* kFlagFailed = "failed";           // the shape could not run
inline constexpr const char* kFlagNoisy = "noisy";             // coefficient of variation > 10 %
inline constexpr const char* kFlagDrift = "drift";             // first and last rounds differ
inline constexpr const char* kFlagFewSamples = "few-samples";  // too few samples to trust
inline constexpr const char* kFlagUnconverged = "unconverged"; // CI wider than the target
inline constexpr const char* kFlagWarmupUnstable = "warmup-unstable"; // still speeding up

struct MedianInterval {
    double low = 0;
    double high = 0;
};

// Percentile bootstrap CI of the median of `sorted` (ascending). The median of a resample
// is an order statistic of the resampled indices, whose distribution is known: the k-th
// smallest of n uniform indices is floor(n * U), U ~ Beta(k, n - k + 1). So each resample
// costs O(1) instead of O(n), and the interval is the same as the classic bootstrap's up to
// Monte Carlo error (even n: the two middle order statistics are drawn jointly and
// averaged, as the median is). Deterministic for a given seed.
MedianInterval bootstrapMedianCi(const std::vector<double>& sorted, double confidence = 0.95,
                                 int resamples = 4000, uint64_t seed = 1);

// A point's statistics from its samples, the one way the profiler, the profile merge and the
// refinement's split by sampling round all compute them: summarizeSamples (median,
// percentiles, mean, spread), then the bootstrap CI of the median (95 %, `resamples`
// draws, `seed`) into ci95LowMs/ci95HighMs. Returns that interval. A point without
// samples gets its count set to 0 and an empty interval.
MedianInterval summarizePointWithCi(ProfilePoint& point, int resamples, uint64_t seed);

// max(median - low, high - median) / median, in percent: "the CI is within ±x %".
double relativeHalfWidthPct(double median, const MedianInterval& ci);

struct NoiseThresholds {
    double maxCv = 0.10;         // stdev / mean above this: noisy
    double driftFraction = 0.05; // first vs last quarter medians differ by more: drift
    int64_t minSamples = 10;     // fewer: few-samples
};

// Adds kFlagNoisy, kFlagDrift and kFlagFewSamples to point.flags as they apply (samplesMs
// in measurement order, statistics already summarised). Drift needs both a difference
// above driftFraction of the median and non-overlapping bootstrap CIs of the first and
// last quarters' medians, so that a small or noisy point does not cry drift by chance.
void addNoiseFlags(ProfilePoint& point, const NoiseThresholds& thresholds = {});

bool hasFlag(const ProfilePoint& point, const std::string& flag);
void addFlag(ProfilePoint& point, const std::string& flag);

} // namespace bucketlab
