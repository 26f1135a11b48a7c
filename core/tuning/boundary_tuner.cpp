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

// The DP's inputs, 1-based over the candidate lengths x_1..x_n: the cost rate h (latency or
// length) and the prefix count C, the covering bucket's rate, and the p99 window.
struct PartCosts {
    size_t n = 0;
    std::vector<double> h, C;
    double hCover = 0;
    bool constrained = false; // a p99 budget applies
    double budget = 0;        // the p99 budget, ms
    size_t q = 0;             // the 99th-percentile request is x_q ...
    size_t u = 0;             // ... and x_u the last length within the budget
    double penalty = 0;       // added to a forbidden part (0 without a budget)
    size_t penaltyBelow = 0;  // parts starting before x_q ...
    size_t penaltyAbove = 0;  // ... and ending after x_u are forbidden
};

// Throws when the request cannot be tuned at all (see BoundaryTuner::solve).
void checkTuneRequest(const BucketEvaluator& evaluator, const TuneSettings& settings, int kMax)
{
    const size_t n = evaluator.servedDistinct();
    const auto& lengths = evaluator.histogram().lengths();
    if (n == 0)
        throw Error("no traffic at or below " + subject(Field::MaxLength) + " " +
                    std::to_string(evaluator.maxLength()) + ": nothing to tune");
    if (kMax < 1)
        throw Error(subject(Field::BucketCount) + " must be at least 1, got " +
                    std::to_string(kMax));
    const int64_t cover = settings.coverLength;
    if (cover > 0 && cover < lengths[n - 1])
        throw Error(subject(Field::ServeUpTo) + " " + std::to_string(cover) +
                    " is below the longest served request (" + std::to_string(lengths[n - 1]) +
                    "); raise it, or reject longer traffic with " + subject(Field::MaxLength) +
                    " " + std::to_string(cover));
    // A covering bucket beyond every request is one more useful boundary.
    const size_t usable = n + (cover > lengths[n - 1] ? 1 : 0);
    if (size_t(kMax) > usable)
        throw Error(subject(Field::BucketCount) + " is " + std::to_string(kMax) +
                    " but the traffic has only " + std::to_string(n) + " distinct lengths" +
                    (usable > n ? " (plus the covering bucket)" : "") +
                    "; more buckets than lengths cannot help");
    if (int64_t(kMax) * int64_t(n + 1) > kMaxSplitEntries)
        throw Error(subject(Field::BucketCount) + " " + std::to_string(kMax) + " with " +
                    std::to_string(n) +
                    " distinct lengths needs more than 1 GiB of tables; use fewer buckets");
}

// h and C for the objective, without a p99 window (every part allowed).
PartCosts partCosts(const BucketEvaluator& evaluator, const TuneSettings& settings)
{
    PartCosts c;
    const size_t n = evaluator.servedDistinct();
    const auto& lengths = evaluator.histogram().lengths();
    const auto& prefix = evaluator.prefixCount();
    const auto& latency = evaluator.latencyAtLength();
    const bool tokens = settings.objective == TuneObjective::PaddedTokens;
    c.n = n;
    c.h.assign(n + 1, 0.0);
    c.C.assign(n + 1, 0.0);
    for (size_t j = 1; j <= n; ++j) {
        c.h[j] = tokens ? double(lengths[j - 1]) : latency[j - 1];
        c.C[j] = double(prefix[j]);
    }
    const int64_t cover = settings.coverLength;
    c.hCover = cover <= 0 ? 0.0 : tokens ? double(cover) : evaluator.curve().at(cover);
    c.u = n;
    c.penaltyAbove = n;
    return c;
}

// Sets the p99 window and its penalty: the part holding x_q must end at or before x_u.
// Returns why no boundaries can meet the budget, or "" when some can.
std::string limitToP99Budget(PartCosts& c, const BucketEvaluator& evaluator, double budget)
{
    if (!std::isfinite(budget) || budget <= 0)
        throw Error("the p99 budget must be a positive number of ms");
    const size_t n = c.n;
    const auto& lengths = evaluator.histogram().lengths();
    const auto& prefix = evaluator.prefixCount();
    const auto& latency = evaluator.latencyAtLength();
    c.constrained = true;
    c.budget = budget;
    const int64_t rank = nearestRank99(prefix[n]);
    c.q = size_t(std::lower_bound(prefix.begin(), prefix.begin() + std::ptrdiff_t(n + 1), rank) -
                 prefix.begin());
    c.u = 0;
    while (c.u < n && latency[c.u] <= budget)
        ++c.u;
    if (c.u < c.q)
        return "no boundaries meet p99 <= " + formatMs(budget) +
               ": the 99th-percentile request has length " + std::to_string(lengths[c.q - 1]) +
               ", and even a bucket of exactly that length takes " + formatMs(latency[c.q - 1]);
    // Larger than any feasible total, so one forbidden part loses to every feasible set.
    c.penalty = 4.0 * c.C[n] * std::max(c.h[n], c.hCover) + 1.0;
    c.penaltyBelow = c.q;
    c.penaltyAbove = c.u;
    return "";
}

// Best start for a part ending at j, over starts [lo, hi] of the previous layer's costs
// `prev`; leftmost on ties. Starts before x_q carry the penalty when j is beyond x_u:
// scanned apart, then compared whole.
inline size_t bestStart(const PartCosts& c, const std::vector<double>& prev, size_t j, size_t lo,
                        size_t hi, double& bestOut)
{
    const double hj = c.h[j], cj = c.C[j];
    const size_t split = std::min(hi + 1, std::max(lo, c.penaltyBelow));
    double bestPenalised = kInf, best = kInf;
    size_t iPenalised = lo, i = split;
    scanStarts(prev.data(), c.C.data(), hj, lo, split, bestPenalised, iPenalised);
    scanStarts(prev.data(), c.C.data(), hj, split, hi + 1, best, i);
    if (j > c.penaltyAbove)
        bestPenalised += c.penalty;
    if (bestPenalised <= best)
        best = bestPenalised, i = iPenalised;
    // The value itself from the full expression, so DP totals carry no cancellation.
    bestOut =
        prev[i] + hj * (cj - c.C[i]) + (i < c.penaltyBelow && j > c.penaltyAbove ? c.penalty : 0.0);
    return i;
}

// The covering last part (i, n] at h(cover), over starts [k-1, coverMax] of layer k-1's
// costs `before`: {best total, its start}.
std::pair<double, size_t> bestCoverStart(const PartCosts& c, int k,
                                         const std::vector<double>& before, size_t coverMax)
{
    double best = kInf;
    size_t bestI = 0;
    for (size_t i = size_t(k - 1); i <= coverMax; ++i) {
        if (before[i] == kInf)
            continue;
        // The p99 request falls in the covering part when it starts before x_q.
        const bool forbidden = c.constrained && i < c.q && c.hCover > c.budget;
        const double v = before[i] + c.hCover * (c.C[c.n] - c.C[i]) + (forbidden ? c.penalty : 0.0);
        if (v < best)
            best = v, bestI = i;
    }
    return {best, bestI};
}

// Layer k (k parts, k <= n) by the naive O(N^2) scan: cur[j] and split[j] for j in k..n.
void solveLayerNaive(const PartCosts& c, int k, const std::vector<double>& prev,
                     std::vector<double>& cur, std::vector<int32_t>& split, const Job& job)
{
    const size_t optHi = k == 1 ? 0 : c.n - 1;
    for (size_t j = size_t(k); j <= c.n; ++j) {
        if ((j & 255) == 0)
            job.checkCancelled();
        double best;
        split[j] = int32_t(bestStart(c, prev, j, size_t(k - 1), std::min(j - 1, optHi), best));
        cur[j] = best;
    }
}

struct Range {
    size_t lo, hi, optLo, optHi;
};

// Layer k (k parts, k <= n) by divide and conquer: the optimal start is monotone in j
// (quadrangle inequality). Solved level by level, left to right, so every array is walked
// forwards: depth-first order jumps across megabytes and waits on memory instead. `level`
// and `nextLevel` are scratch, kept by the caller across layers.
void solveLayer(const PartCosts& c, int k, const std::vector<double>& prev,
                const std::vector<int32_t>& previousSplit, std::vector<double>& cur,
                std::vector<int32_t>& split, std::vector<Range>& level,
                std::vector<Range>& nextLevel)
{
    const size_t optHi = k == 1 ? 0 : c.n - 1;
    level.assign(1, Range{size_t(k), c.n, size_t(k - 1), optHi});
    while (!level.empty()) {
        nextLevel.clear();
        for (const Range& r : level) {
            const size_t mid = r.lo + (r.hi - r.lo) / 2;
            const size_t hiI = std::min(mid - 1, r.optHi);
            // With one part more, the last part starts no earlier (opt_{k-1}(j) <=
            // opt_k(j) for Monge costs, as in Knuth-Yao): prunes the wide top levels.
            const size_t loI =
                k > 1 ? std::min(hiI, std::max(r.optLo, size_t(previousSplit[mid]))) : r.optLo;
            double best;
            const size_t bestI = bestStart(c, prev, mid, loI, hiI, best);
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
    case TuneObjective::MeanLatency: return "mean";
    case TuneObjective::PaddedTokens: return "tokens";
    case TuneObjective::MeanLatencyP99Budget: return "p99";
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
    checkTuneRequest(evaluator_, settings, kMax);
    Layers L;
    L.n = evaluator_.servedDistinct();
    L.cover = settings.coverLength;
    const size_t n = L.n;
    PartCosts c = partCosts(evaluator_, settings);
    L.served = c.C[n];
    L.finalCost.assign(size_t(kMax) + 1, kInf);
    if (settings.objective == TuneObjective::MeanLatencyP99Budget) {
        L.infeasibleReason = limitToP99Budget(c, evaluator_, settings.p99BudgetMs);
        if (!L.infeasibleReason.empty())
            return L;
        L.penalty = c.penalty;
    }
    L.split.assign(size_t(kMax) + 1, {});
    std::vector<double> prev(n + 1, kInf), cur(n + 1, kInf);
    prev[0] = 0;

    const size_t coverMax =
        L.cover > 0 && L.cover == evaluator_.histogram().lengths()[n - 1] ? n - 1 : n;
    auto coverLayer = [&](int k, const std::vector<double>& before) {
        const auto [best, start] = bestCoverStart(c, k, before, coverMax);
        L.finalCost[size_t(k)] = best;
        L.coverStart[size_t(k)] = start;
    };
    if (L.cover > 0) {
        L.coverStart.assign(size_t(kMax) + 1, 0);
        coverLayer(1, prev);
    }

    std::vector<Range> level, nextLevel;
    for (int k = 1; k <= kMax; ++k) {
        job.checkCancelled();
        auto& split = L.split[size_t(k)];
        split.assign(n + 1, 0);
        std::fill(cur.begin(), cur.end(), kInf);
        // With more parts than lengths (only possible as the layer before a covering bucket
        // that serves nothing) no prefix can be split this finely.
        if (size_t(k) <= n) {
            if (settings.algorithm == TuneAlgorithm::Naive)
                solveLayerNaive(c, k, prev, cur, split, job);
            else
                solveLayer(c, k, prev, L.split[size_t(k - 1)], cur, split, level, nextLevel);
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
