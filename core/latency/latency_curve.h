// Latency of one bucket as a function of its length: measured points (a profile) joined
// piecewise-linearly, or an analytic spec. The tuner needs a curve that never decreases
// with length, and a measured curve can dip (a bigger bucket compiled or cached better), so
// the curve used is the lower envelope
//     latency(L) = min over L' >= L of measured(L')
// ("serve L with the cheapest measured bucket at or above it"); every measured point the
// envelope lowered is listed in adjustments(), because a bigger bucket being faster is
// worth knowing.
//
// Between measured points: linear interpolation (then the envelope). Outside them:
//   below the first point  flat at its latency (fixed per-call costs dominate short inputs,
//                          and assuming a smaller bucket is faster would be a guess);
//   above the last point   the slope of the last two points, never negative (one point:
//                          proportional to length). isExtrapolated() says when a length is
//                          beyond the measurements, and the tuner reports it.
// Analytic specs: `linear:a,b` is a + b*L ms, `poly:c0,c1,c2,...` is c0 + c1*L + c2*L^2 ...;
// coefficients must be finite and >= 0 (so the curve cannot decrease) with a positive value
// at L = 1.
#pragma once

#include "core/latency/profile_format.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bucketlab {

struct LatencyPoint {
    int64_t length = 0;
    double ms = 0;
};

// A measured point the non-decreasing envelope lowered.
struct LatencyAdjustment {
    int64_t length = 0;        // the measured bucket
    double measuredMs = 0;     // what it measured
    double usedMs = 0;         // what the curve uses
    int64_t cheaperLength = 0; // the bigger measured bucket that is this cheap
};

enum class LatencyStatistic { Median, Mean };
// "median" or "mean"; Error naming the latency statistic otherwise.
LatencyStatistic parseLatencyStatistic(std::string_view text);

class LatencyCurve {
public:
    LatencyCurve() = default;
    // Points in any order; lengths distinct and positive, latencies positive and finite.
    static LatencyCurve fromPoints(std::vector<LatencyPoint> points, std::string source);
    // Uses the profile's points that measured successfully, at the smallest batch size
    // present; `statistic` picks the per-point median (default, robust to the outliers a
    // shared machine adds) or mean.
    static LatencyCurve fromProfile(const Profile& profile, const std::string& source,
                                    LatencyStatistic statistic = LatencyStatistic::Median);
    static LatencyCurve fromSpec(const std::string& spec);
    static bool looksLikeSpec(const std::string& text);
    // A profile file (JSON or CSV) if it exists, else an analytic spec.
    static LatencyCurve load(const std::string& fileOrSpec,
                             LatencyStatistic statistic = LatencyStatistic::Median);

    // Non-decreasing in length, positive.
    double at(int64_t length) const;
    bool isExtrapolated(int64_t length) const;
    bool isAnalytic() const { return !coefficients_.empty(); }
    const std::vector<LatencyPoint>& measured() const { return points_; }
    const std::vector<LatencyAdjustment>& adjustments() const { return adjustments_; }
    const std::string& source() const { return source_; }
    // The decoder phase its profile measured (kPhasePrefill, kPhaseDecode), or empty: an
    // analytic curve, or a profile of a whole forward().
    const std::string& phase() const { return phase_; }
    // One line: where it came from and its shape ("profile p.json, 6 points 64..1024").
    std::string describe() const;
    nlohmann::json toJson() const; // source, kind, points, adjustments, extrapolation rule

private:
    std::string source_;
    std::string phase_;
    std::vector<LatencyPoint> points_; // measured, ascending by length
    std::vector<double> suffixMin_;    // suffixMin_[i] = min of points_[i..].ms
    double tailSlope_ = 0;             // ms per token above the last point
    std::vector<double> coefficients_; // analytic polynomial, lowest order first
    std::vector<LatencyAdjustment> adjustments_;
};

} // namespace bucketlab
