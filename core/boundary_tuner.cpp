#include "core/boundary_tuner.h"

#include "core/error.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

namespace bucketlab {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// The split-point tables take K x N int32s; beyond 1 GiB ask for fewer buckets instead.
constexpr int64_t kMaxSplitEntries = int64_t(1) << 28;

int64_t nearestRank99(int64_t n)
{
    return std::max<int64_t>(1, int64_t((__int128(n) * 99 + 99) / 100));
}

double millisecondsSince(std::chrono::steady_clock::time_point t0)
{
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

std::string formatMs(double ms)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g ms", ms);
    return buf;
}

} // namespace

std::string objectiveName(TuneObjective objective)
{
    switch (objective) {
    case TuneObjective::MeanLatency:
        return "mean";
    case TuneObjective::PaddedTokens:
        return "tokens";
    case TuneObjective::MeanLatencyP99Budget:
        return "p99";
    }
    return "mean";
}

struct BoundaryTuner::Layers {
    size_t n = 0;                            // candidate lengths x_1..x_n
    double served = 0;                       // requests at or below maxLength
    std::vector<double> finalCost;           // finalCost[k] = best summed cost with k parts
    std::vector<std::vector<int32_t>> split; // split[k][j]: where the k-th part ending at j starts
    double penalty = kInf;                   // cost added to a forbidden part (p99 budget)
    std::string infeasibleReason;            // set when the budget cannot be met at all

    bool feasible(int k) const
    {
        return infeasibleReason.empty() && finalCost[size_t(k)] < penalty;
    }
    std::vector<int64_t> boundaries(int k, const std::vector<int64_t>& lengths) const
    {
        std::vector<int64_t> out;
        size_t j = n;
        for (int layer = k; layer >= 1; --layer) {
            out.push_back(lengths[j - 1]);
            j = size_t(split[size_t(layer)][j]);
        }
        std::reverse(out.begin(), out.end());
        return out;
    }
};

BoundaryTuner::Layers BoundaryTuner::run(const TuneSettings& settings, int kMax,
                                         const JobProgress& job) const
{
    Layers L;
    L.n = evaluator_.servedDistinct();
    const size_t n = L.n;
    const auto& lengths = evaluator_.histogram().lengths();
    if (n == 0)
        throw Error("no traffic at or below --max-length " +
                    std::to_string(evaluator_.maxLength()) + ": nothing to tune");
    if (kMax < 1)
        throw Error("--buckets must be at least 1, got " + std::to_string(kMax));
    if (size_t(kMax) > n)
        throw Error("--buckets " + std::to_string(kMax) + " exceeds the " + std::to_string(n) +
                    " distinct lengths in the traffic; more buckets than lengths cannot help");
    if (int64_t(kMax) * int64_t(n + 1) > kMaxSplitEntries)
        throw Error("--buckets " + std::to_string(kMax) + " with " + std::to_string(n) +
                    " distinct lengths needs more than 1 GiB of tables; use fewer buckets");
    const bool constrained = settings.objective == TuneObjective::MeanLatencyP99Budget;
    const auto& prefix = evaluator_.prefixCount();
    const auto& latency = evaluator_.latencyAtLength();
    std::vector<double> h(n + 1, 0.0), C(n + 1, 0.0);
    for (size_t j = 1; j <= n; ++j) {
        h[j] = settings.objective == TuneObjective::PaddedTokens ? double(lengths[j - 1])
                                                                 : latency[j - 1];
        C[j] = double(prefix[j]);
    }
    L.served = C[n];

    // p99 window: the part holding x_q must end at or before x_u (1-based indices).
    size_t q = 0, u = n;
    if (constrained) {
        const double budget = settings.p99BudgetMs;
        if (!std::isfinite(budget) || budget <= 0)
            throw Error("the p99 budget must be a positive number of ms");
        const int64_t rank = nearestRank99(prefix[n]);
        q = size_t(std::lower_bound(prefix.begin(), prefix.begin() + std::ptrdiff_t(n + 1), rank) -
                   prefix.begin());
        u = 0;
        while (u < n && latency[u] <= budget)
            ++u;
        if (u < q) {
            L.infeasibleReason =
                "no boundaries meet p99 <= " + formatMs(budget) +
                ": the 99th-percentile request has length " + std::to_string(lengths[q - 1]) +
                ", and even a bucket of exactly that length takes " + formatMs(latency[q - 1]);
            L.finalCost.assign(size_t(kMax) + 1, kInf);
            return L;
        }
        // Larger than any feasible total, so one forbidden part loses to every feasible set.
        L.penalty = 4.0 * C[n] * h[n] + 1.0;
    }
    const double penalty = constrained ? L.penalty : 0.0;
    const size_t penaltyBelow = constrained ? q : 0; // parts starting before x_q ...
    const size_t penaltyAbove = u;                   // ... and ending after x_u are forbidden

    L.finalCost.assign(size_t(kMax) + 1, kInf);
    L.split.assign(size_t(kMax) + 1, {});
    std::vector<double> prev(n + 1, kInf), cur(n + 1, kInf);
    prev[0] = 0;

    // Best start for a part ending at j, over starts [lo, hi]; leftmost on ties.
    auto bestStart = [&](size_t j, size_t lo, size_t hi, double& best) {
        const double hj = h[j], cj = C[j];
        const double pen = j > penaltyAbove ? penalty : 0.0;
        best = kInf;
        size_t bestI = lo;
        size_t i = lo;
        for (const size_t stop = std::min(hi + 1, std::max(lo, penaltyBelow)); i < stop; ++i) {
            const double v = prev[i] + hj * (cj - C[i]) + pen;
            if (v < best)
                best = v, bestI = i;
        }
        for (; i <= hi; ++i) {
            const double v = prev[i] + hj * (cj - C[i]);
            if (v < best)
                best = v, bestI = i;
        }
        return bestI;
    };

    for (int k = 1; k <= kMax; ++k) {
        job.checkCancelled();
        auto& split = L.split[size_t(k)];
        split.assign(n + 1, 0);
        std::fill(cur.begin(), cur.end(), kInf);
        const size_t first = size_t(k); // a part needs at least one length
        const size_t optHi = k == 1 ? 0 : n - 1;
        if (settings.algorithm == TuneAlgorithm::Naive) {
            for (size_t j = first; j <= n; ++j) {
                if ((j & 255) == 0)
                    job.checkCancelled();
                double best;
                split[j] = int32_t(bestStart(j, size_t(k - 1), std::min(j - 1, optHi), best));
                cur[j] = best;
            }
        } else {
            // Divide and conquer: the optimal start is monotone in j (quadrangle inequality).
            struct Range {
                size_t lo, hi, optLo, optHi;
            };
            std::vector<Range> stack{{first, n, size_t(k - 1), optHi}};
            while (!stack.empty()) {
                const Range r = stack.back();
                stack.pop_back();
                if (r.lo > r.hi)
                    continue;
                const size_t mid = r.lo + (r.hi - r.lo) / 2;
                double best;
                const size_t bestI = bestStart(mid, r.optLo, std::min(mid - 1, r.optHi), best);
                cur[mid] = best;
                split[mid] = int32_t(bestI);
                if (mid > r.lo)
                    stack.push_back({r.lo, mid - 1, r.optLo, bestI});
                stack.push_back({mid + 1, r.hi, bestI, r.optHi});
            }
        }
        L.finalCost[size_t(k)] = cur[n];
        std::swap(prev, cur);
        job.report(double(k) / double(kMax), "tuning: " + std::to_string(k) + " of " +
                                                 std::to_string(kMax) + " bucket counts");
    }
    return L;
}

TuneSolution BoundaryTuner::solve(const TuneSettings& settings, const JobProgress& job) const
{
    const auto t0 = std::chrono::steady_clock::now();
    if (!std::isfinite(settings.bucketCost) || settings.bucketCost < 0)
        throw Error("--bucket-cost must be a finite number >= 0");
    const Layers L = run(settings, settings.buckets, job);
    TuneSolution s;
    if (!L.infeasibleReason.empty()) {
        s.feasible = false;
        s.infeasibleReason = L.infeasibleReason;
        s.solveMs = millisecondsSince(t0);
        return s;
    }
    int bestK = settings.buckets;
    if (settings.bucketCost > 0) {
        double best = kInf;
        for (int k = 1; k <= settings.buckets; ++k) {
            if (!L.feasible(k))
                continue;
            const double v = L.finalCost[size_t(k)] / L.served + settings.bucketCost * k;
            if (v < best)
                best = v, bestK = k;
        }
    }
    if (!L.feasible(bestK)) {
        s.feasible = false;
        const auto& lengths = evaluator_.histogram().lengths();
        s.infeasibleReason =
            "no " + std::to_string(settings.buckets) +
            "-bucket boundaries meet p99 <= " + formatMs(settings.p99BudgetMs) +
            ": the largest bucket must be " + std::to_string(lengths[L.n - 1]) + " (" +
            formatMs(evaluator_.latencyAtLength()[L.n - 1]) +
            ") and there are too few buckets left to serve the 99th percentile faster";
        s.solveMs = millisecondsSince(t0);
        return s;
    }
    s.boundaries = L.boundaries(bestK, evaluator_.histogram().lengths());
    s.objective = L.finalCost[size_t(bestK)] / L.served + settings.bucketCost * bestK;
    s.solveMs = millisecondsSince(t0);
    return s;
}

std::vector<TuneSolution> BoundaryTuner::sweep(const TuneSettings& settings, int kMax,
                                               const JobProgress& job) const
{
    const Layers L = run(settings, kMax, job);
    std::vector<TuneSolution> out;
    for (int k = 1; k <= kMax; ++k) {
        TuneSolution s;
        s.feasible = L.feasible(k);
        if (s.feasible) {
            s.boundaries = L.boundaries(k, evaluator_.histogram().lengths());
            s.objective = L.finalCost[size_t(k)] / L.served;
        } else
            s.infeasibleReason = L.infeasibleReason.empty() ? "no " + std::to_string(k) +
                                                                  "-bucket set meets the p99 budget"
                                                            : L.infeasibleReason;
        out.push_back(std::move(s));
    }
    return out;
}

double BoundaryTuner::objectiveOf(const std::vector<int64_t>& boundaries,
                                  const TuneSettings& settings) const
{
    const auto t = evaluator_.totals(boundaries);
    if (t.served == 0)
        return kInf;
    if (settings.objective == TuneObjective::MeanLatencyP99Budget &&
        t.p99LatencyMs > settings.p99BudgetMs)
        return kInf;
    const double perRequest = settings.objective == TuneObjective::PaddedTokens
                                  ? double(t.paddedTokens) / double(t.served)
                                  : t.latencySumMs / double(t.served);
    return perRequest + settings.bucketCost * double(boundaries.size());
}

} // namespace bucketlab
