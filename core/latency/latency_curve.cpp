#include "core/latency/latency_curve.h"

#include "core/util/error.h"
#include "core/util/text.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <sstream>

namespace bucketlab {

LatencyStatistic parseLatencyStatistic(std::string_view text)
{
    if (text == "median")
        return LatencyStatistic::Median;
    if (text == "mean")
        return LatencyStatistic::Mean;
    throw Error(subject(Field::LatencyStatistic) + " must be median or mean, got " + quote(text));
}

LatencyCurve LatencyCurve::fromPoints(std::vector<LatencyPoint> points, std::string source)
{
    if (points.empty())
        throw Error(source + ": no latency points");
    for (const auto& p : points) {
        if (p.length <= 0)
            throw Error(source + ": length " + std::to_string(p.length) + " is not positive");
        if (!std::isfinite(p.ms) || p.ms <= 0)
            throw Error(source + ": latency at length " + std::to_string(p.length) +
                        " is not a positive finite number of ms");
    }
    std::sort(points.begin(), points.end(),
              [](const LatencyPoint& a, const LatencyPoint& b) { return a.length < b.length; });
    for (size_t i = 1; i < points.size(); ++i)
        if (points[i].length == points[i - 1].length)
            throw Error(source + ": length " + std::to_string(points[i].length) +
                        " is measured twice");
    LatencyCurve c;
    c.source_ = std::move(source);
    c.points_ = std::move(points);
    const size_t m = c.points_.size();
    c.suffixMin_.resize(m);
    size_t cheapest = m - 1;
    c.suffixMin_[m - 1] = c.points_[m - 1].ms;
    for (size_t i = m - 1; i-- > 0;) {
        if (c.points_[i + 1].ms <= c.points_[cheapest].ms)
            cheapest = i + 1;
        c.suffixMin_[i] = std::min(c.points_[i].ms, c.suffixMin_[i + 1]);
        if (c.points_[i].ms > c.suffixMin_[i + 1])
            c.adjustments_.insert(c.adjustments_.begin(),
                                  {c.points_[i].length, c.points_[i].ms, c.suffixMin_[i + 1],
                                   c.points_[cheapest].length});
    }
    if (m == 1)
        c.tailSlope_ = c.points_[0].ms / double(c.points_[0].length);
    else
        c.tailSlope_ = std::max(0.0, (c.points_[m - 1].ms - c.points_[m - 2].ms) /
                                         double(c.points_[m - 1].length - c.points_[m - 2].length));
    return c;
}

LatencyCurve LatencyCurve::fromProfile(const Profile& profile, const std::string& source,
                                       LatencyStatistic statistic)
{
    int64_t batch = 0;
    for (const auto& p : profile.points)
        if (p.ok() && (batch == 0 || p.batch < batch))
            batch = p.batch;
    std::vector<LatencyPoint> points;
    for (const auto& p : profile.points)
        if (p.ok() && p.batch == batch)
            points.push_back({p.length, statistic == LatencyStatistic::Mean ? p.meanMs : p.p50Ms});
    if (points.empty())
        throw Error(source + ": the profile has no successfully measured points");
    LatencyCurve curve = fromPoints(std::move(points), source);
    curve.phase_ = profilePhase(profile);
    return curve;
}

bool LatencyCurve::looksLikeSpec(const std::string& text)
{
    return text.rfind("linear:", 0) == 0 || text.rfind("poly:", 0) == 0;
}

LatencyCurve LatencyCurve::fromSpec(const std::string& spec)
{
    const auto colon = spec.find(':');
    const std::string kind = spec.substr(0, colon);
    if (colon == std::string::npos || (kind != "linear" && kind != "poly"))
        throw Error("latency spec " + quote(spec) + ": expected linear:a,b or poly:c0,c1,c2,...");
    std::vector<double> coeffs;
    std::stringstream in(spec.substr(colon + 1));
    std::string item;
    while (std::getline(in, item, ',')) {
        char* end = nullptr;
        const double v = std::strtod(item.c_str(), &end);
        if (item.empty() || end != item.c_str() + item.size() || !std::isfinite(v))
            throw Error("latency spec " + quote(spec) + ": coefficient " + quote(item) +
                        " is not a finite number");
        if (v < 0)
            throw Error("latency spec " + quote(spec) + ": coefficient " + item +
                        " is negative; the curve must not decrease with length");
        coeffs.push_back(v);
    }
    if (kind == "linear" && coeffs.size() != 2)
        throw Error("latency spec " + quote(spec) +
                    ": linear takes two coefficients a,b (a + b*L ms)");
    if (coeffs.empty())
        throw Error("latency spec " + quote(spec) + ": no coefficients");
    LatencyCurve c;
    c.source_ = spec;
    c.coefficients_ = coeffs;
    if (!(c.at(1) > 0))
        throw Error("latency spec " + quote(spec) + ": latency at length 1 must be positive");
    return c;
}

LatencyCurve LatencyCurve::load(const std::string& fileOrSpec, LatencyStatistic statistic)
{
    std::error_code ec;
    if (!std::filesystem::exists(fileOrSpec, ec) && looksLikeSpec(fileOrSpec))
        return fromSpec(fileOrSpec);
    return fromProfile(readProfile(fileOrSpec), fileOrSpec, statistic);
}

double LatencyCurve::at(int64_t length) const
{
    if (!coefficients_.empty()) {
        double v = 0;
        for (size_t i = coefficients_.size(); i-- > 0;)
            v = v * double(length) + coefficients_[i];
        return v;
    }
    const size_t m = points_.size();
    if (m == 0)
        return 0;
    if (length <= points_[0].length)
        return suffixMin_[0];
    if (length >= points_[m - 1].length)
        return points_[m - 1].ms + tailSlope_ * double(length - points_[m - 1].length);
    // First point with length >= `length`.
    const auto it = std::lower_bound(points_.begin(), points_.end(), length,
                                     [](const LatencyPoint& p, int64_t l) { return p.length < l; });
    const size_t hi = size_t(it - points_.begin());
    if (points_[hi].length == length)
        return suffixMin_[hi];
    const LatencyPoint& a = points_[hi - 1];
    const LatencyPoint& b = points_[hi];
    const double t = double(length - a.length) / double(b.length - a.length);
    return std::min(a.ms + t * (b.ms - a.ms), suffixMin_[hi]);
}

bool LatencyCurve::isExtrapolated(int64_t length) const
{
    return coefficients_.empty() && !points_.empty() &&
           (length > points_.back().length || length < points_.front().length);
}

std::string LatencyCurve::describe() const
{
    std::ostringstream s;
    if (!coefficients_.empty()) {
        s << "analytic " << source_;
        return s.str();
    }
    s << source_ << ", " << points_.size() << " measured point" << (points_.size() == 1 ? "" : "s")
      << " " << points_.front().length << ".." << points_.back().length;
    return s.str();
}

nlohmann::json LatencyCurve::toJson() const
{
    nlohmann::json j;
    j["source"] = source_;
    j["kind"] = coefficients_.empty() ? "measured" : "analytic";
    if (!phase_.empty())
        j["phase"] = phase_;
    if (!coefficients_.empty())
        j["coefficients"] = coefficients_;
    j["points"] = nlohmann::json::array();
    for (const auto& p : points_)
        j["points"].push_back({{"length", p.length}, {"ms", p.ms}});
    j["adjustments"] = nlohmann::json::array();
    for (const auto& a : adjustments_)
        j["adjustments"].push_back({{"length", a.length},
                                    {"measured_ms", a.measuredMs},
                                    {"used_ms", a.usedMs},
                                    {"cheaper_length", a.cheaperLength}});
    if (coefficients_.empty())
        j["extrapolation"] = "flat below the first point; above the last, the last segment's "
                             "slope (never negative)";
    return j;
}

} // namespace bucketlab
