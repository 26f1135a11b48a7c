#include "core/llm/partition_dp.h"

#include "core/util/error.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <string>

namespace bucketlab {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Sizes agree, lengths ascend and fit under the cover, weights >= 0, costs never decrease.
void validate(const PartitionProblem& p)
{
    const size_t n = p.lengths.size();
    const size_t m = p.weight.size();
    if (m == 0 || p.cost.size() != m || p.coverCost.size() != m)
        throw Error("partition problem: weights, costs and cover costs need one entry per class");
    for (size_t i = 1; i < n; ++i)
        if (p.lengths[i] <= p.lengths[i - 1])
            throw Error("partition problem: lengths must be strictly ascending");
    if (n > 0 && p.lengths.back() > p.cover)
        throw Error("partition problem: the covering bucket " + std::to_string(p.cover) +
                    " is below the longest length " + std::to_string(p.lengths.back()));
    for (size_t c = 0; c < m; ++c) {
        if (p.weight[c].size() != n || p.cost[c].size() != n)
            throw Error("partition problem: class " + std::to_string(c) +
                        " has the wrong number of weights or costs");
        for (size_t i = 0; i < n; ++i) {
            if (!(p.weight[c][i] >= 0) || !std::isfinite(p.weight[c][i]))
                throw Error("partition problem: weights must be finite and >= 0");
            // Interpolated latencies may dip by a rounding error; more is a modelling error.
            if (!std::isfinite(p.cost[c][i]) ||
                (i > 0 && p.cost[c][i] < p.cost[c][i - 1] - 1e-9 * std::abs(p.cost[c][i - 1])))
                throw Error("partition problem: a cost decreases with length; exactness needs "
                            "non-decreasing costs");
        }
        if (!std::isfinite(p.coverCost[c]))
            throw Error("partition problem: cover costs must be finite");
    }
}

} // namespace

double partitionCost(const PartitionProblem& p, const std::vector<int64_t>& boundaries)
{
    double total = 0;
    size_t b = 0;
    size_t at = 0;                    // index of boundaries[b] among the lengths ...
    size_t atFor = boundaries.size(); // ... computed for this b
    for (size_t i = 0; i < p.lengths.size(); ++i) {
        while (b < boundaries.size() && boundaries[b] < p.lengths[i])
            ++b;
        const bool last = b + 1 >= boundaries.size();
        if (!last && atFor != b) {
            // A bucket below the cover ends at one of the lengths.
            at = size_t(std::lower_bound(p.lengths.begin(), p.lengths.end(), boundaries[b]) -
                        p.lengths.begin());
            atFor = b;
        }
        for (size_t c = 0; c < p.weight.size(); ++c)
            total += p.weight[c][i] * (last ? p.coverCost[c] : p.cost[c][at]);
    }
    return total;
}

namespace {

// Prefix weights, row-major (index i, class c), and costs per length: the cost of a part
// (i, j] ending at lengths[j - 1] is f(i) - sum_c P_c[i] h_c(x_j), up to terms free of i.
struct PrefixCosts {
    size_t n = 0, m = 0;
    std::vector<double> P, H;
    const std::vector<double>* coverCost = nullptr;

    explicit PrefixCosts(const PartitionProblem& p)
        : n(p.lengths.size()), m(p.weight.size()), P((n + 1) * m, 0.0), H(n * m, 0.0),
          coverCost(&p.coverCost)
    {
        for (size_t i = 0; i < n; ++i)
            for (size_t c = 0; c < m; ++c) {
                P[(i + 1) * m + c] = P[i * m + c] + p.weight[c][i];
                H[i * m + c] = p.cost[c][i];
            }
    }
    double dot(size_t i, size_t j) const
    {
        double s = 0;
        for (size_t c = 0; c < m; ++c)
            s += P[i * m + c] * H[(j - 1) * m + c];
        return s;
    }
    // The covering part (i, n] at the cover's costs.
    double coverTail(size_t i) const
    {
        double s = 0;
        for (size_t c = 0; c < m; ++c)
            s += (P[n * m + c] - P[i * m + c]) * (*coverCost)[c];
        return s;
    }
};

struct PartRange {
    size_t lo, hi, optLo, optHi;
};

// k buckets: the best k - 1 parts over a prefix (costs `prev`), then the covering part.
// Infeasible when no prefix can be split so.
PartitionSolution bestWithCover(const PartitionProblem& p, const PrefixCosts& costs, int k,
                                const std::vector<double>& prev,
                                const std::vector<std::vector<int32_t>>& split, size_t open)
{
    double best = kInf;
    size_t bestI = 0;
    for (size_t i = size_t(k - 1); i <= open; ++i) {
        if (prev[i] == kInf)
            continue;
        const double v = prev[i] + costs.coverTail(i);
        if (v < best)
            best = v, bestI = i;
    }
    PartitionSolution s;
    if (best < kInf) {
        s.feasible = true;
        std::vector<int64_t> b{p.cover};
        size_t j = bestI;
        for (int layer = k - 1; layer >= 1; --layer) {
            b.push_back(p.lengths[j - 1]);
            j = size_t(split[size_t(layer - 1)][j]);
        }
        std::reverse(b.begin(), b.end());
        s.boundaries = std::move(b);
        s.cost = partitionCost(p, s.boundaries);
    }
    return s;
}

// Layer k: the best k parts ending exactly at x_j, j in [k, open], by divide and conquer
// (the optimal start is monotone in j); `level` and `next` are scratch.
void solvePartLayer(const PrefixCosts& costs, int k, size_t open, const std::vector<double>& prev,
                    std::vector<double>& cur, std::vector<int32_t>& sp,
                    std::vector<PartRange>& level, std::vector<PartRange>& next)
{
    level.assign(1, PartRange{size_t(k), open, size_t(k - 1), open - 1});
    while (!level.empty()) {
        next.clear();
        for (const PartRange& r : level) {
            const size_t mid = r.lo + (r.hi - r.lo) / 2;
            const size_t hiI = std::min(mid - 1, r.optHi);
            double bestV = kInf;
            size_t bestJ = r.optLo;
            for (size_t i = r.optLo; i <= hiI; ++i) {
                if (prev[i] == kInf)
                    continue;
                const double v = prev[i] - costs.dot(i, mid);
                if (v < bestV)
                    bestV = v, bestJ = i;
            }
            if (bestV < kInf)
                cur[mid] = bestV + costs.dot(mid, mid);
            sp[mid] = int32_t(bestJ);
            if (mid > r.lo)
                next.push_back({r.lo, mid - 1, r.optLo, bestJ});
            if (mid < r.hi)
                next.push_back({mid + 1, r.hi, bestJ, r.optHi});
        }
        std::swap(level, next);
    }
}

} // namespace

std::vector<PartitionSolution> solvePartitions(const PartitionProblem& p, int kMax, const Job& job)
{
    validate(p);
    if (kMax < 1)
        throw Error("the number of buckets must be at least 1, got " + std::to_string(kMax));
    const size_t n = p.lengths.size();
    // Boundaries below the cover may be any length but one equal to it.
    const size_t open = n > 0 && p.lengths.back() == p.cover ? n - 1 : n;
    const PrefixCosts costs(p);

    std::vector<PartitionSolution> out(static_cast<size_t>(kMax));
    std::vector<double> prev(open + 1, kInf), cur(open + 1, kInf);
    prev[0] = 0;
    std::vector<std::vector<int32_t>> split(static_cast<size_t>(kMax));
    std::vector<PartRange> level, next;
    for (int k = 1; k <= kMax; ++k) {
        job.checkCancelled();
        out[size_t(k - 1)] = bestWithCover(p, costs, k, prev, split, open);
        if (k == kMax)
            break;
        auto& sp = split[size_t(k - 1)];
        sp.assign(open + 1, 0);
        std::fill(cur.begin(), cur.end(), kInf);
        if (size_t(k) <= open)
            solvePartLayer(costs, k, open, prev, cur, sp, level, next);
        std::swap(prev, cur);
        job.report(double(k) / double(kMax), "tuning batch x sequence buckets");
    }
    return out;
}

std::vector<PartitionSolution> bruteForcePartitions(const PartitionProblem& p, int kMax)
{
    validate(p);
    const size_t n = p.lengths.size();
    const size_t open = n > 0 && p.lengths.back() == p.cover ? n - 1 : n;
    std::vector<PartitionSolution> out(static_cast<size_t>(kMax));
    for (int k = 1; k <= kMax; ++k) {
        PartitionSolution& best = out[size_t(k - 1)];
        const size_t choose = size_t(k - 1);
        if (choose > open)
            continue;
        std::vector<size_t> idx(choose);
        std::function<void(size_t, size_t)> rec = [&](size_t depth, size_t from) {
            if (depth == choose) {
                std::vector<int64_t> b;
                for (size_t i : idx)
                    b.push_back(p.lengths[i]);
                b.push_back(p.cover);
                const double c = partitionCost(p, b);
                if (!best.feasible || c < best.cost)
                    best = {true, b, c};
                return;
            }
            for (size_t i = from; i < open; ++i) {
                idx[depth] = i;
                rec(depth + 1, i + 1);
            }
        };
        rec(0, 0);
    }
    return out;
}

} // namespace bucketlab
