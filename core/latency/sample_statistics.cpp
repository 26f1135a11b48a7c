#include "core/latency/sample_statistics.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace bucketlab {

namespace {

// Beta(a, b) by two gamma draws; std::gamma_distribution is exact for any shape.
double betaDraw(std::mt19937_64& rng, double a, double b)
{
    std::gamma_distribution<double> ga(a, 1.0), gb(b, 1.0);
    const double x = ga(rng), y = gb(rng);
    return x / (x + y);
}

size_t indexOf(double u, size_t n)
{
    return std::min(size_t(u * double(n)), n - 1);
}

double quantileOf(std::vector<double>& values, double q)
{
    const size_t i = std::min(values.size() - 1, size_t(q * double(values.size())));
    std::nth_element(values.begin(), values.begin() + std::ptrdiff_t(i), values.end());
    return values[i];
}

} // namespace

MedianInterval bootstrapMedianCi(const std::vector<double>& sorted, double confidence,
                                 int resamples, uint64_t seed)
{
    const size_t n = sorted.size();
    if (n == 0)
        return {};
    if (n == 1)
        return {sorted[0], sorted[0]};
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    // The median of n values is the k-th order statistic (odd n) or the mean of the k-th and
    // (k+1)-th (even n), k = ceil(n / 2).
    const size_t k = (n + 1) / 2;
    const bool even = n % 2 == 0;
    std::vector<double> medians;
    medians.reserve(size_t(std::max(resamples, 1)));
    for (int r = 0; r < std::max(resamples, 1); ++r) {
        const double uk = betaDraw(rng, double(k), double(n - k + 1));
        double m = sorted[indexOf(uk, n)];
        if (even) {
            // Given U_(k), the next order statistic is U_(k) + (1 - U_(k)) * V with V the
            // smallest of the n - k remaining uniforms: V = 1 - W^(1/(n-k)).
            const double v = 1.0 - std::pow(unit(rng), 1.0 / double(n - k));
            m = 0.5 * (m + sorted[indexOf(uk + (1.0 - uk) * v, n)]);
        }
        medians.push_back(m);
    }
    const double tail = (1.0 - confidence) / 2.0;
    MedianInterval ci;
    ci.low = quantileOf(medians, tail);
    ci.high = quantileOf(medians, 1.0 - tail);
    return ci;
}

MedianInterval summarizePointWithCi(ProfilePoint& point, int resamples, uint64_t seed)
{
    summarizeSamples(point);
    std::vector<double> sorted = point.samplesMs;
    std::sort(sorted.begin(), sorted.end());
    const MedianInterval ci = bootstrapMedianCi(sorted, 0.95, resamples, seed);
    point.ci95LowMs = ci.low;
    point.ci95HighMs = ci.high;
    return ci;
}

double relativeHalfWidthPct(double median, const MedianInterval& ci)
{
    if (!(median > 0))
        return INFINITY;
    return std::max(median - ci.low, ci.high - median) / median * 100.0;
}

bool hasFlag(const ProfilePoint& point, const std::string& flag)
{
    return std::find(point.flags.begin(), point.flags.end(), flag) != point.flags.end();
}

void addFlag(ProfilePoint& point, const std::string& flag)
{
    if (!hasFlag(point, flag))
        point.flags.push_back(flag);
}

void addNoiseFlags(ProfilePoint& p, const NoiseThresholds& t)
{
    const size_t n = p.samplesMs.size();
    if (int64_t(n) < t.minSamples)
        addFlag(p, kFlagFewSamples);
    if (n >= 2 && p.meanMs > 0 && p.stdevMs / p.meanMs > t.maxCv)
        addFlag(p, kFlagNoisy);
    const size_t quarter = n / 4;
    if (quarter >= 3 && p.p50Ms > 0) {
        std::vector<double> first(p.samplesMs.begin(),
                                  p.samplesMs.begin() + std::ptrdiff_t(quarter));
        std::vector<double> last(p.samplesMs.end() - std::ptrdiff_t(quarter), p.samplesMs.end());
        std::sort(first.begin(), first.end());
        std::sort(last.begin(), last.end());
        const auto a = bootstrapMedianCi(first, 0.95, 1000, 11);
        const auto b = bootstrapMedianCi(last, 0.95, 1000, 13);
        const auto median = [](const std::vector<double>& s) {
            return s.size() % 2 ? s[s.size() / 2] : 0.5 * (s[s.size() / 2 - 1] + s[s.size() / 2]);
        };
        const bool separate = a.high < b.low || b.high < a.low;
        if (separate && std::abs(median(last) - median(first)) > t.driftFraction * p.p50Ms)
            addFlag(p, kFlagDrift);
    }
}

} // namespace bucketlab
