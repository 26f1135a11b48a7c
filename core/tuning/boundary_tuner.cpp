#include "core/tuning/boundary_tuner.h"

#include "core/util/error.h"
#include "core/util/format.h"

#include <nlohmann/json.hpp>

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

// The DP's inner loop: the leftmost i in [lo, end) minimising prev[i] - hj * C[i] (the
// cost of a last part (i, j] up to terms that do not depend on i), folded into
// (best, bestI), whose index precedes lo. Four independent lanes of conditional moves: one
// running minimum would chain every iteration on the previous compare, and a branch
// mispredicts wherever the winner changes.
inline void scanStarts(const double* __restrict prev, const double* __restrict C, double hj,
                       size_t lo, size_t end, double& best, size_t& bestI)
{
    double b[4] = {kInf, kInf, kInf, kInf};
    size_t bi[4] = {lo, lo, lo, lo};
    size_t i = lo;
    for (; i + 4 <= end; i += 4)
        for (size_t l = 0; l < 4; ++l) {
            const double v = prev[i + l] - hj * C[i + l];
            const bool better = v < b[l];
            b[l] = better ? v : b[l];
            bi[l] = better ? i + l : bi[l];
        }
    for (; i < end; ++i) {
        const double v = prev[i] - hj * C[i];
        const bool better = v < b[0];
        b[0] = better ? v : b[0];
        bi[0] = better ? i : bi[0];
    }
    for (size_t l = 0; l < 4; ++l)
        if (b[l] < best || (b[l] == best && b[l] < kInf && bi[l] < bestI))
            best = b[l], bestI = bi[l];
}

} // namespace

nlohmann::json TuneSolution::toJson() const
{
    nlohmann::json j;
    j["feasible"] = feasible;
    j["infeasible_reason"] = feasible ? nlohmann::json(nullptr) : nlohmann::json(infeasibleReason);
    j["boundaries"] = boundaries;
    j["objective_value"] = feasible ? nlohmann::json(objective) : nlohmann::json(nullptr);
    j["solve_ms"] = solveMs;
    return j;
}

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
    int64_t cover = 0;                       // coverLength: the last boundary, when set
    std::vector<size_t> coverStart;          // coverStart[k]: where the covering part starts

    bool feasible(int k) const
    {
        return infeasibleReason.empty() && finalCost[size_t(k)] < penalty;
    }
    std::vector<int64_t> boundaries(int k, const std::vector<int64_t>& lengths) const
    {
        std::vector<int64_t> out;
        size_t j = n;
        int top = k;
        if (cover > 0) {
            out.push_back(cover);
            j = coverStart[size_t(k)];
            top = k - 1;
        }
        for (int layer = top; layer >= 1; --layer) {
            out.push_back(lengths[j - 1]);
            j = size_t(split[size_t(layer)][j]);
        }
        std::reverse(out.begin(), out.end());
        return out;
    }
};

BoundaryTuner::Layers BoundaryTuner::run(const TuneSettings& settings, int kMax,
                                         const Job& job) const
{
    Layers L;
    L.n = evaluator_.servedDistinct();
    const size_t n = L.n;
    const auto& lengths = evaluator_.histogram().lengths();
    if (n == 0)
        throw Error("no traffic at or below " + subject(Field::MaxLength) + " " +
                    std::to_string(evaluator_.maxLength()) + ": nothing to tune");
    if (kMax < 1)
        throw Error(subject(Field::BucketCount) + " must be at least 1, got " +
                    std::to_string(kMax));
    L.cover = settings.coverLength;
    if (L.cover > 0 && L.cover < lengths[n - 1])
        throw Error(subject(Field::ServeUpTo) + " " + std::to_string(L.cover) +
                    " is below the longest served request (" + std::to_string(lengths[n - 1]) +
                    "); raise it, or reject longer traffic with " + subject(Field::MaxLength) +
                    " " + std::to_string(L.cover));
    // A covering bucket beyond every request is one more useful boundary.
    const size_t usable = n + (L.cover > lengths[n - 1] ? 1 : 0);
    if (size_t(kMax) > usable)
        throw Error(subject(Field::BucketCount) + " is " + std::to_string(kMax) +
                    " but the traffic has only " + std::to_string(n) + " distinct lengths" +
                    (usable > n ? " (plus the covering bucket)" : "") +
                    "; more buckets than lengths cannot help");
    if (int64_t(kMax) * int64_t(n + 1) > kMaxSplitEntries)
        throw Error(subject(Field::BucketCount) + " " + std::to_string(kMax) + " with " +
                    std::to_string(n) +
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
    const double hCover = L.cover <= 0 ? 0.0
                          : settings.objective == TuneObjective::PaddedTokens
                              ? double(L.cover)
                              : evaluator_.curve().at(L.cover);

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
        L.penalty = 4.0 * C[n] * std::max(h[n], hCover) + 1.0;
    }
    const double penalty = constrained ? L.penalty : 0.0;
    const size_t penaltyBelow = constrained ? q : 0; // parts starting before x_q ...
    const size_t penaltyAbove = u;                   // ... and ending after x_u are forbidden

    L.finalCost.assign(size_t(kMax) + 1, kInf);
    L.split.assign(size_t(kMax) + 1, {});
    std::vector<double> prev(n + 1, kInf), cur(n + 1, kInf);
    prev[0] = 0;

    // Best start for a part ending at j, over starts [lo, hi]; leftmost on ties. Starts
    // before x_q carry the penalty when j is beyond x_u: scanned apart, then compared whole.
    auto bestStart = [&](size_t j, size_t lo, size_t hi, double& bestOut) {
        const double hj = h[j], cj = C[j];
        const size_t split = std::min(hi + 1, std::max(lo, penaltyBelow));
        double bestPenalised = kInf, best = kInf;
        size_t iPenalised = lo, i = split;
        scanStarts(prev.data(), C.data(), hj, lo, split, bestPenalised, iPenalised);
        scanStarts(prev.data(), C.data(), hj, split, hi + 1, best, i);
        if (j > penaltyAbove)
            bestPenalised += penalty;
        if (bestPenalised <= best)
            best = bestPenalised, i = iPenalised;
        // The value itself from the full expression, so DP totals carry no cancellation.
        bestOut =
            prev[i] + hj * (cj - C[i]) + (i < penaltyBelow && j > penaltyAbove ? penalty : 0.0);
        return i;
    };

    // The covering last part (i, n] at h(C), over starts [k-1, iMax] of layer k-1's costs.
    const size_t coverMax = L.cover > 0 && L.cover == lengths[n - 1] ? n - 1 : n;
    if (L.cover > 0) {
        L.coverStart.assign(size_t(kMax) + 1, 0);
        L.finalCost.assign(size_t(kMax) + 1, kInf);
    }
    auto coverLayer = [&](int k, const std::vector<double>& before) {
        double best = kInf;
        size_t bestI = 0;
        for (size_t i = size_t(k - 1); i <= coverMax; ++i) {
            if (before[i] == kInf)
                continue;
            // The p99 request falls in the covering part when it starts before x_q.
            const bool forbidden = constrained && i < q && hCover > settings.p99BudgetMs;
            const double v = before[i] + hCover * (C[n] - C[i]) + (forbidden ? penalty : 0.0);
            if (v < best)
                best = v, bestI = i;
        }
        L.finalCost[size_t(k)] = best;
        L.coverStart[size_t(k)] = bestI;
    };
    if (L.cover > 0)
        coverLayer(1, prev);

    struct Range {
        size_t lo, hi, optLo, optHi;
    };
    std::vector<Range> level, nextLevel;
    for (int k = 1; k <= kMax; ++k) {
        job.checkCancelled();
        auto& split = L.split[size_t(k)];
        const auto& previousSplit = L.split[size_t(k - 1)];
        split.assign(n + 1, 0);
        std::fill(cur.begin(), cur.end(), kInf);
        const size_t first = size_t(k); // a part needs at least one length
        const size_t optHi = k == 1 ? 0 : n - 1;
        if (first > n) {
            // More parts than lengths: only possible as the layer before a covering bucket
            // that serves nothing; no prefix can be split this finely.
        } else if (settings.algorithm == TuneAlgorithm::Naive) {
            for (size_t j = first; j <= n; ++j) {
                if ((j & 255) == 0)
                    job.checkCancelled();
                double best;
                split[j] = int32_t(bestStart(j, size_t(k - 1), std::min(j - 1, optHi), best));
                cur[j] = best;
            }
        } else {
            // Divide and conquer: the optimal start is monotone in j (quadrangle inequality).
            // Solved level by level, left to right, so every array is walked forwards:
            // depth-first order jumps across megabytes and waits on memory instead.
            level.assign(1, Range{first, n, size_t(k - 1), optHi});
            while (!level.empty()) {
                nextLevel.clear();
                for (const Range& r : level) {
                    const size_t mid = r.lo + (r.hi - r.lo) / 2;
                    const size_t hiI = std::min(mid - 1, r.optHi);
                    // With one part more, the last part starts no earlier (opt_{k-1}(j) <=
                    // opt_k(j) for Monge costs, as in Knuth-Yao): prunes the wide top levels.
                    const size_t loI =
                        k > 1 ? std::min(hiI, std::max(r.optLo, size_t(previousSplit[mid])))
                              : r.optLo;
                    double best;
                    const size_t bestI = bestStart(mid, loI, hiI, best);
                    cur[mid] = best;
                    split[mid] = int32_t(bestI);
                    if (mid > r.lo)
                        nextLevel.push_back({r.lo, mid - 1, r.optLo, bestI});
                    if (mid < r.hi)
                        nextLevel.push_back({mid + 1, r.hi, bestI, r.optHi});
                }
                std::swap(level, nextLevel);
            }
        }
        if (L.cover > 0) {
            if (k < kMax)
                coverLayer(k + 1, cur);
        } else {
            L.finalCost[size_t(k)] = cur[n];
        }
        std::swap(prev, cur);
        job.report(double(k) / double(kMax), "tuning: " + std::to_string(k) + " of " +
                                                 std::to_string(kMax) + " bucket counts");
    }
    return L;
}

TuneSolution BoundaryTuner::solve(const TuneSettings& settings, const Job& job) const
{
    return solveAndSweep(settings, 0, job).first;
}

std::vector<TuneSolution> BoundaryTuner::sweep(const TuneSettings& settings, int kMax,
                                               const Job& job) const
{
    return frontOf(run(settings, kMax, job), kMax);
}

std::pair<TuneSolution, std::vector<TuneSolution>>
BoundaryTuner::solveAndSweep(const TuneSettings& settings, int kMax, const Job& job) const
{
    const auto t0 = std::chrono::steady_clock::now();
    if (!std::isfinite(settings.bucketCost) || settings.bucketCost < 0)
        throw Error(subject(Field::BucketCost) + " must be a finite number >= 0");
    // A bucket count below 1 goes to run() as it is, which refuses it.
    const Layers L = run(
        settings, settings.buckets < 1 ? settings.buckets : std::max(settings.buckets, kMax), job);
    TuneSolution solution = solutionOf(L, settings);
    solution.solveMs = millisecondsSince(t0);
    return {std::move(solution), frontOf(L, kMax)};
}

TuneSolution BoundaryTuner::solutionOf(const Layers& L, const TuneSettings& settings) const
{
    TuneSolution s;
    if (!L.infeasibleReason.empty()) {
        s.feasible = false;
        s.infeasibleReason = L.infeasibleReason;
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
            ": the largest bucket must be " +
            std::to_string(L.cover > 0 ? L.cover : lengths[L.n - 1]) + " (" +
            formatMs(L.cover > 0 ? evaluator_.curve().at(L.cover)
                                 : evaluator_.latencyAtLength()[L.n - 1]) +
            ") and there are too few buckets left to serve the 99th percentile faster";
        return s;
    }
    s.boundaries = Boundaries::from(L.boundaries(bestK, evaluator_.histogram().lengths()),
                                    "the tuner's solution");
    s.objective = L.finalCost[size_t(bestK)] / L.served + settings.bucketCost * bestK;
    return s;
}

std::vector<TuneSolution> BoundaryTuner::frontOf(const Layers& L, int kMax) const
{
    std::vector<TuneSolution> out;
    for (int k = 1; k <= kMax; ++k) {
        TuneSolution s;
        s.feasible = L.feasible(k);
        if (s.feasible) {
            s.boundaries = Boundaries::from(L.boundaries(k, evaluator_.histogram().lengths()),
                                            "the tuner's solution");
            s.objective = L.finalCost[size_t(k)] / L.served;
        } else
            s.infeasibleReason = L.infeasibleReason.empty() ? "no " + std::to_string(k) +
                                                                  "-bucket set meets the p99 budget"
                                                            : L.infeasibleReason;
        out.push_back(std::move(s));
    }
    return out;
}

double BoundaryTuner::objectiveOf(const Boundaries& boundaries, const TuneSettings& settings) const
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
