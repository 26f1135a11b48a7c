#include "core/llm/llm_tuner.h"

#include "core/llm/nxd_bucket_rule.h"
#include "core/llm/partition_dp.h"
#include "core/tuning/boundary_tuner.h"
#include "core/tuning/bucket_evaluator.h"
#include "core/util/error.h"
#include "core/util/format.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <map>
#include <optional>

namespace bucketlab {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr int64_t kMaxGridCells = int64_t(1) << 24; // 128 MiB of doubles per table

// The summed latency of serving `required` (lengths with counts) with `buckets` under the
// strict rule: the tuner's objective recomputed call by call.
double strictRuleSum(const LengthHistogram& required, const LatencyCurve& curve,
                     const std::vector<int64_t>& buckets)
{
    double sum = 0;
    const auto& lengths = required.lengths();
    const auto& counts = required.counts();
    size_t k = 0;
    for (size_t i = 0; i < lengths.size(); ++i) {
        while (k + 1 < buckets.size() && !(lengths[i] < buckets[k]))
            ++k;
        sum += double(counts[i]) * curve.at(buckets[k]);
    }
    return sum;
}

// Powers of two from the first above the shortest required length, below `largest`, then
// `largest`: every power of two the traffic can use.
std::vector<int64_t> powersOfTwoCovering(int64_t shortest, int64_t largest)
{
    std::vector<int64_t> out;
    int64_t p = 1;
    while (p <= shortest)
        p *= 2;
    for (; p < largest; p *= 2)
        out.push_back(p);
    out.push_back(largest);
    return out;
}

// k buckets at the equal-mass quantiles of `required` under the strict rule (a bucket one
// above the quantile length serves it), the last one `largest`.
std::vector<int64_t> equalMassStrict(const LengthHistogram& required, int k, int64_t largest)
{
    std::vector<int64_t> out;
    if (!required.empty())
        for (int i = 1; i < k; ++i) {
            const int64_t b = required.quantile(double(i) / double(k)) + 1;
            if (b < largest && (out.empty() || b > out.back()))
                out.push_back(b);
        }
    out.push_back(largest);
    return out;
}

struct Combination {
    size_t cte = 0, tkg = 0;
    int models = 0;
    double meanMs = 0, compileS = 0, memoryMiB = 0;
};

// --- batched decoding: batch x sequence grids ---------------------------------------------

struct GridSearch {
    std::vector<LlmPhaseOption> options;
    bool exhaustive = true;
    int64_t batchSets = 0;
    std::vector<double> lowerBound; // [ks - 1]: no batch set does better with ks seq buckets
};

class GridSearcher {
public:
    GridSearcher(const DecodeCalls& calls, const BatchLatency& latency, int64_t seqLen,
                 int64_t maxBatch, const CompileCost& compile)
        : latency_(latency), seqLen_(seqLen), compile_(compile)
    {
        std::map<int64_t, size_t> xIndex, bIndex;
        for (const auto& c : calls.calls()) {
            if (c.required > seqLen)
                throw Error(calls.source() + ": a decode call at required length " +
                            std::to_string(c.required) + " is beyond the sequence length " +
                            std::to_string(seqLen));
            if (c.batch > maxBatch)
                throw Error(calls.source() + ": a decode call of batch " + std::to_string(c.batch) +
                            " is above the maximum batch " + std::to_string(maxBatch));
            xIndex[c.required] = 0;
            bIndex[c.batch] = 0;
        }
        bIndex[maxBatch] = 0;
        for (auto& [x, i] : xIndex)
            i = xs_.size(), xs_.push_back(x);
        for (auto& [b, i] : bIndex)
            i = bs_.size(), bs_.push_back(b);
        // The latency table and the DP's weights hold batch sizes x lengths doubles.
        if (double(bs_.size()) * double(xs_.size()) > double(kMaxGridCells))
            throw Error("the decode calls have " + std::to_string(bs_.size()) +
                        " batch sizes and " + std::to_string(xs_.size()) +
                        " distinct lengths; batch buckets support at most " +
                        std::to_string(kMaxGridCells) + " pairs (use a smaller maximum batch)");
        byBatch_.resize(bs_.size());
        for (const auto& c : calls.calls())
            byBatch_[bIndex[c.batch]].emplace_back(xIndex[c.required],
                                                   double(c.batch) * double(c.count));
        lat_.assign(bs_.size(), std::vector<double>(xs_.size()));
        coverLat_.resize(bs_.size());
        for (size_t b = 0; b < bs_.size(); ++b) {
            for (size_t x = 0; x < xs_.size(); ++x)
                lat_[b][x] = latency.at(bs_[b], xs_[x]);
            coverLat_[b] = latency.at(bs_[b], seqLen);
        }
    }

    size_t batchCandidates() const { return bs_.size(); }

    // Sequence buckets for a batch set (indices into bs_, ascending, ending with the max).
    std::vector<PartitionSolution> sequenceDp(const std::vector<size_t>& set, int ksMax,
                                              const Job& job) const
    {
        PartitionProblem p;
        p.lengths = xs_;
        p.cover = seqLen_;
        const size_t m = set.size();
        p.weight.assign(m, std::vector<double>(xs_.size(), 0.0));
        p.cost.resize(m);
        p.coverCost.resize(m);
        size_t c = 0;
        for (size_t b = 0; b < bs_.size(); ++b) {
            while (set[c] < b)
                ++c;
            for (const auto& [x, w] : byBatch_[b])
                p.weight[c][x] += w;
        }
        for (size_t k = 0; k < m; ++k) {
            p.cost[k] = lat_[set[k]];
            p.coverCost[k] = coverLat_[set[k]];
        }
        return solvePartitions(p, ksMax, job);
    }

    // Every batch size its own bucket: a lower bound for any batch set, per ks.
    std::vector<PartitionSolution> relaxedDp(int ksMax, const Job& job) const
    {
        std::vector<size_t> all(bs_.size());
        for (size_t i = 0; i < all.size(); ++i)
            all[i] = i;
        return sequenceDp(all, ksMax, job);
    }

    // Batch buckets (exactly kb, the last the max batch) for fixed sequence buckets.
    PartitionSolution batchDp(const std::vector<int64_t>& seq, int kb, const Job& job) const
    {
        PartitionProblem p;
        p.lengths = bs_;
        p.cover = bs_.back();
        const size_t m = seq.size();
        p.weight.assign(m, std::vector<double>(bs_.size(), 0.0));
        p.cost.assign(m, std::vector<double>(bs_.size(), 0.0));
        p.coverCost.resize(m);
        std::vector<size_t> seqOf(xs_.size());
        for (size_t x = 0; x < xs_.size(); ++x)
            seqOf[x] = size_t(std::lower_bound(seq.begin(), seq.end(), xs_[x]) - seq.begin());
        for (size_t b = 0; b < bs_.size(); ++b)
            for (const auto& [x, w] : byBatch_[b])
                p.weight[seqOf[x]][b] += w;
        for (size_t k = 0; k < m; ++k) {
            for (size_t b = 0; b < bs_.size(); ++b)
                p.cost[k][b] = latency_.at(bs_[b], seq[k]);
            p.coverCost[k] = latency_.at(bs_.back(), seq[k]);
        }
        auto sols = solvePartitions(p, kb, job);
        return sols[size_t(kb - 1)];
    }

    LlmPhaseOption option(const std::vector<int64_t>& batches, const std::vector<int64_t>& seq,
                          double sum) const
    {
        LlmPhaseOption o;
        o.batches = batches;
        o.buckets = seq;
        o.models = int(batches.size() * seq.size());
        o.sumMs = sum;
        o.compileS = double(batches.size()) * compile_.totalSeconds(seq);
        o.memoryMiB = double(batches.size()) * compile_.totalMemoryMiB(seq);
        return o;
    }

    size_t indexOf(int64_t batch) const
    {
        return size_t(std::lower_bound(bs_.begin(), bs_.end(), batch) - bs_.begin());
    }

    std::vector<int64_t> values(const std::vector<size_t>& set) const
    {
        std::vector<int64_t> v;
        for (size_t i : set)
            v.push_back(bs_[i]);
        return v;
    }

private:
    const BatchLatency& latency_;
    int64_t seqLen_;
    const CompileCost& compile_;
    std::vector<int64_t> xs_, bs_;
    std::vector<std::vector<std::pair<size_t, double>>> byBatch_;
    std::vector<std::vector<double>> lat_;
    std::vector<double> coverLat_;
};

// C(n, k), saturating at `cap`.
int64_t choose(int64_t n, int64_t k, int64_t cap)
{
    if (k < 0 || k > n)
        return 0;
    double r = 1;
    for (int64_t i = 1; i <= k; ++i) {
        r = r * double(n - k + i) / double(i);
        if (r > double(cap))
            return cap + 1;
    }
    return int64_t(std::llround(r));
}

GridSearch searchGrid(const GridSearcher& g, int kTkgMax, int maxBatchSets, const Job& job)
{
    GridSearch out;
    const int64_t m = int64_t(g.batchCandidates());
    const int kbMax = int(std::min<int64_t>(m, kTkgMax));
    int64_t sets = 0;
    for (int kb = 1; kb <= kbMax; ++kb)
        sets += choose(m - 1, kb - 1, int64_t(maxBatchSets));
    const auto relaxed = g.relaxedDp(kTkgMax, job);
    for (const auto& s : relaxed)
        out.lowerBound.push_back(s.feasible ? s.cost : kInf);
    if (sets <= maxBatchSets) {
        out.exhaustive = true;
        out.batchSets = sets;
        // Every batch set with the maximum batch: subsets of the others, by size.
        std::vector<size_t> chosen;
        std::function<void(size_t, int)> rec = [&](size_t from, int left) {
            if (left == 0) {
                std::vector<size_t> set = chosen;
                set.push_back(size_t(m - 1));
                const int ksMax = kTkgMax / int(set.size());
                const auto sols = g.sequenceDp(set, ksMax, job);
                for (const auto& s : sols)
                    if (s.feasible)
                        out.options.push_back(g.option(g.values(set), s.boundaries, s.cost));
                return;
            }
            for (size_t i = from; i + 1 < size_t(m); ++i) {
                chosen.push_back(i);
                rec(i + 1, left - 1);
                chosen.pop_back();
            }
        };
        for (int kb = 1; kb <= kbMax; ++kb)
            rec(0, kb - 1);
        return out;
    }
    // Too many batch sets: alternate exact batch and sequence DPs from the relaxed optimum.
    out.exhaustive = false;
    for (int kb = 1; kb <= kbMax; ++kb)
        for (int ks = 1; ks * kb <= kTkgMax; ++ks) {
            if (!relaxed[size_t(ks - 1)].feasible)
                continue;
            std::vector<int64_t> seq = relaxed[size_t(ks - 1)].boundaries;
            std::vector<int64_t> batches;
            double best = kInf;
            for (int round = 0; round < 10; ++round) {
                const PartitionSolution b = g.batchDp(seq, kb, job);
                if (!b.feasible)
                    break;
                std::vector<size_t> set;
                for (int64_t v : b.boundaries)
                    set.push_back(g.indexOf(v));
                const auto s = g.sequenceDp(set, ks, job)[size_t(ks - 1)];
                ++out.batchSets;
                if (!s.feasible || !(s.cost < best * (1 - 1e-12)))
                    break;
                best = s.cost;
                seq = s.boundaries;
                batches = b.boundaries;
            }
            if (best < kInf)
                out.options.push_back(g.option(batches, seq, best));
        }
    return out;
}

nlohmann::json paretoJson(const std::vector<LlmParetoPoint>& points, bool batched)
{
    nlohmann::json out = nlohmann::json::array();
    for (const auto& p : points) {
        nlohmann::json j{{"models", p.models},
                         {"cte_models", p.cteModels},
                         {"tkg_models", p.tkgModels},
                         {"mean_request_ms", p.meanRequestMs},
                         {"compile_s", p.compileS},
                         {"memory_mib", p.memoryMiB},
                         {"cte_buckets", p.lists.cte.values()},
                         {"tkg_buckets", p.lists.tkg.values()}};
        if (batched)
            j["tkg_batches"] = p.lists.batches.values();
        out.push_back(j);
    }
    return out;
}

} // namespace

std::vector<LlmPhaseOption> strictRuleFront(const LengthHistogram& required,
                                            const LatencyCurve& curve, int64_t largest, int kMax,
                                            double p99BudgetMs, const CompileCost& compile,
                                            const Job& job)
{
    auto makeOption = [&](std::vector<int64_t> buckets, double sum) {
        LlmPhaseOption o;
        o.models = int(buckets.size());
        o.sumMs = sum;
        o.compileS = compile.totalSeconds(buckets);
        o.memoryMiB = compile.totalMemoryMiB(buckets);
        o.buckets = std::move(buckets);
        return o;
    };
    if (required.empty()) // no call to serve: the largest bucket alone, at no latency
        return {makeOption({largest}, 0.0)};
    if (required.maxLength() > largest)
        throw Error("a required length " + std::to_string(required.maxLength()) +
                    " is above the largest bucket " + std::to_string(largest));
    // Shift by one: r < b (strict) is r + 1 <= b, the tuner's rule. The largest bucket B
    // also serves r = B, so it becomes B + 1 in the shifted space, at B's latency; every
    // other shifted length x keeps the latency of a bucket of length x.
    std::vector<std::pair<int64_t, int64_t>> shifted;
    std::vector<LatencyPoint> points;
    for (size_t i = 0; i < required.distinct(); ++i) {
        const int64_t x = required.lengths()[i] + 1;
        shifted.emplace_back(x, required.counts()[i]);
        if (x <= largest)
            points.push_back({x, curve.at(x)});
    }
    points.push_back({largest + 1, curve.at(largest)});
    const LengthHistogram h = LengthHistogram::fromCounts(std::move(shifted));
    const BucketEvaluator evaluator(h, LatencyCurve::fromPoints(std::move(points), curve.source()),
                                    largest + 1);
    const int usable = int(h.distinct() + (largest + 1 > h.maxLength() ? 1 : 0));
    kMax = std::min(kMax, usable);
    TuneSettings s;
    s.objective =
        p99BudgetMs > 0 ? TuneObjective::MeanLatencyP99Budget : TuneObjective::MeanLatency;
    s.p99BudgetMs = p99BudgetMs;
    s.coverLength = largest + 1;
    s.buckets = kMax;
    const BoundaryTuner tuner(evaluator);
    const auto front = tuner.sweep(s, kMax, job);
    std::vector<LlmPhaseOption> out;
    for (const auto& sol : front) {
        if (!sol.feasible)
            continue;
        std::vector<int64_t> b = sol.boundaries;
        b.back() = largest;
        // A bucket at `largest` below the cover serves r < largest and the cover r <=
        // largest at the same latency: one bucket does both.
        if (b.size() >= 2 && b[b.size() - 2] == largest)
            b.erase(b.end() - 2);
        const double sum = strictRuleSum(required, curve, b);
        out.push_back(makeOption(std::move(b), sum));
    }
    return out;
}

namespace {

// The settings' own checks, before any work.
void checkTuneSettings(const LlmTuneSettings& settings, const LlmCosts& costs)
{
    const int K = settings.totalBuckets;
    if (K < 2)
        throw Error(subject(Field::BucketCount) +
                    " must be at least 2 (one CTE and one TKG bucket), got " + std::to_string(K));
    const bool ttft = settings.objective == LlmObjective::MeanRequestTtftP99;
    if (ttft && !(settings.ttftP99BudgetMs > 0 && std::isfinite(settings.ttftP99BudgetMs)))
        throw Error("the TTFT p99 budget of " + subject(Field::Objective) +
                    " must be a positive number of ms");
    if (!(settings.compileBudgetS >= 0))
        throw Error(subject(Field::CompileBudget) + " must be >= 0");
    if (!(settings.memoryBudgetMiB >= 0))
        throw Error(subject(Field::MemoryBudget) + " must be >= 0");
    if (settings.compileBudgetS > 0 && !costs.cteCompile.known() && !costs.tkgCompile.known())
        throw Error(subject(Field::CompileBudget) + " needs the compile time per bucket: give " +
                    subject(Field::CteCompileCost) + " or " + subject(Field::TkgCompileCost));
    if (settings.memoryBudgetMiB > 0 &&
        !(costs.cteCompile.hasMemory() || costs.tkgCompile.hasMemory()))
        throw Error(subject(Field::MemoryBudget) +
                    " needs the memory per bucket: a memory_mib column in " +
                    subject(Field::CteCompileCost) + " or " + subject(Field::TkgCompileCost));
    if (settings.maxBatchSets < 1)
        throw Error(subject(Field::BatchSetsMax) + " must be at least 1");
}

// Every pair of a CTE and a TKG option within the bucket budget K.
std::vector<Combination> combinations(const LlmTuneResult& r, int K)
{
    const double N = double(r.workload.served);
    std::vector<Combination> combos;
    for (size_t i = 0; i < r.cteFront.size(); ++i)
        for (size_t j = 0; j < r.tkgOptions.size(); ++j) {
            const auto& a = r.cteFront[i];
            const auto& b = r.tkgOptions[j];
            if (a.models + b.models > K)
                continue;
            combos.push_back({i, j, a.models + b.models, (a.sumMs + b.sumMs) / N,
                              a.compileS + b.compileS, a.memoryMiB + b.memoryMiB});
        }
    return combos;
}

LlmBucketLists listsOf(const LlmTuneResult& r, const Combination& c)
{
    LlmBucketLists l;
    l.cte = Boundaries::from(r.cteFront[c.cte].buckets, "the CTE tuner");
    l.tkg = Boundaries::from(r.tkgOptions[c.tkg].buckets, "the TKG tuner");
    if (!r.tkgOptions[c.tkg].batches.empty()) // empty: one-dimensional TKG buckets
        l.batches = Boundaries::from(r.tkgOptions[c.tkg].batches, "the TKG batch tuner");
    return l;
}

// Lower mean latency first, then fewer models, then less compile time.
bool better(const Combination& a, const Combination& b)
{
    if (a.meanMs != b.meanMs)
        return a.meanMs < b.meanMs;
    if (a.models != b.models)
        return a.models < b.models;
    return a.compileS < b.compileS;
}

// Pareto fronts: by models (no compile budget), and compile time against latency.
void addParetoFronts(LlmTuneResult& r, const std::vector<Combination>& combos,
                     const LlmCosts& costs, int K)
{
    for (int t = 2; t <= K; ++t) {
        const Combination* b = nullptr;
        for (const auto& c : combos)
            if (c.models <= t && (!b || better(c, *b)))
                b = &c;
        if (b)
            r.paretoByModels.push_back({t, r.cteFront[b->cte].models, r.tkgOptions[b->tkg].models,
                                        b->meanMs, b->compileS, b->memoryMiB, listsOf(r, *b)});
    }
    if (costs.cteCompile.known() || costs.tkgCompile.known()) {
        std::vector<const Combination*> byCompile;
        for (const auto& c : combos)
            byCompile.push_back(&c);
        std::sort(byCompile.begin(), byCompile.end(), [&](const auto* a, const auto* b) {
            return a->compileS != b->compileS ? a->compileS < b->compileS : better(*a, *b);
        });
        double bestMs = kInf;
        for (const auto* c : byCompile)
            if (c->meanMs < bestMs) {
                bestMs = c->meanMs;
                r.paretoByCompile.push_back({c->models, r.cteFront[c->cte].models,
                                             r.tkgOptions[c->tkg].models, c->meanMs, c->compileS,
                                             c->memoryMiB, listsOf(r, *c)});
            }
    }
}

// Whether the optimum is proven, in words, and the lower bound of a grid search.
void describeExactness(LlmTuneResult& r, const LlmTuneSettings& settings, const LlmCosts& costs,
                       const GridSearch& grid)
{
    const int K = settings.totalBuckets;
    const double N = double(r.workload.served);
    const bool lengthPriced =
        (settings.compileBudgetS > 0 || settings.memoryBudgetMiB > 0) &&
        !(costs.cteCompile.constantPerBucket() && costs.tkgCompile.constantPerBucket());
    r.exact = !lengthPriced && (!r.batched || grid.exhaustive);
    if (r.batched && !grid.exhaustive)
        r.exactness = "not proven: " + std::to_string(grid.batchSets) +
                      " batch sets tried by alternating exact batch and sequence DPs (more "
                      "than the exhaustive limit exist); lower_bound_ms bounds every choice";
    else if (lengthPriced)
        r.exactness = "exact over the optimal lists for each bucket count; the compile cost "
                      "grows with length, so lists with cheaper lengths could fit the budget "
                      "with a lower latency";
    else if (r.batched)
        r.exactness = "exact: every batch set (" + std::to_string(grid.batchSets) +
                      ") with the exact sequence DP, combined with the exact CTE optimum for "
                      "every split of the budget";
    else
        r.exactness = "exact: the CTE and TKG optima for every bucket count (exact DP), "
                      "combined over every split of the budget";
    if (r.batched) {
        // No batch set does better than every batch size its own bucket.
        double lb = kInf;
        for (const auto& a : r.cteFront)
            for (size_t ks = 1; ks <= grid.lowerBound.size(); ++ks)
                if (a.models + int(ks) <= K)
                    lb = std::min(lb, (a.sumMs + grid.lowerBound[ks - 1]) / N);
        r.lowerBoundMs = lb < kInf ? lb : 0.0;
    }
}

// Why no lists were found.
std::string infeasibleReason(const LlmTuneResult& r, const LlmTuneSettings& settings,
                             const LlmCosts& costs, bool combosEmpty)
{
    const ServingLimits& limits = settings.limits;
    const int K = settings.totalBuckets;
    const bool ttft = settings.objective == LlmObjective::MeanRequestTtftP99;
    if (r.cteFront.empty() && ttft) {
        const int64_t q = r.workload.cte.quantile(0.99);
        const int64_t smallest = std::min(q + 1, limits.maxContextLength);
        return "no CTE buckets meet TTFT p99 <= " + formatMs(settings.ttftP99BudgetMs) +
               ": the 99th-percentile prompt has " + std::to_string(q) +
               " tokens, and the smallest bucket that serves it (" + std::to_string(smallest) +
               ") takes " + formatMs(costs.cte.at(smallest)) +
               (costs.cte.at(smallest) <= settings.ttftP99BudgetMs ? "; too few buckets to add it"
                                                                   : "");
    }
    if (combosEmpty)
        return "no CTE and TKG lists fit " + std::to_string(K) + " buckets";
    return "no lists within " + std::to_string(K) +
           " buckets fit the compile-time or memory budget";
}

// The lists the tuned ones are compared with: the current ones (if any), NxD's default,
// powers of two and, with a tuned result, equal mass at its bucket counts.
std::vector<std::pair<std::string, LlmBucketLists>>
baselineLists(const LlmTuneResult& r, const LlmTuneSettings& settings,
              const LlmBucketLists& current, const DecodeCalls* calls,
              const std::optional<LlmBucketLists>& tuned)
{
    const ServingLimits& limits = settings.limits;
    const auto nxdDefault = [](int64_t largest) {
        return Boundaries::from(nxdGenerateBuckets(kNxdDefaultMinBucket, largest),
                                "NxD's generate_buckets");
    };
    std::vector<std::pair<std::string, LlmBucketLists>> sets;
    if (!current.cte.empty() || !current.tkg.empty() || !current.batches.empty()) {
        LlmBucketLists c = current;
        if (c.cte.empty())
            c.cte = nxdDefault(limits.maxContextLength);
        if (c.tkg.empty())
            c.tkg = nxdDefault(limits.seqLen);
        sets.emplace_back("current", c);
    }
    {
        LlmBucketLists d;
        d.cte = nxdDefault(limits.maxContextLength);
        d.tkg = nxdDefault(limits.seqLen);
        sets.emplace_back("nxd_default", d);
        LlmBucketLists p;
        p.cte = Boundaries::from(
            powersOfTwoCovering(r.workload.cte.minLength(), limits.maxContextLength),
            "the powers-of-two baseline");
        p.tkg = Boundaries::from(powersOfTwoCovering(r.workload.tkg.empty()
                                                         ? limits.seqLen - 1
                                                         : r.workload.tkg.minLength(),
                                                     limits.seqLen),
                                 "the powers-of-two baseline");
        if (r.batched) {
            const int64_t maxBatch = settings.maxBatch > 0 ? settings.maxBatch : calls->maxBatch();
            p.batches =
                Boundaries::from(powersOfTwoCovering(0, maxBatch), "the powers-of-two baseline");
        }
        sets.emplace_back("powers_of_two", p);
        if (tuned) {
            LlmBucketLists e;
            e.cte = Boundaries::from(
                equalMassStrict(r.workload.cte, int(tuned->cte.size()), limits.maxContextLength),
                "the equal-mass baseline");
            e.tkg = Boundaries::from(
                equalMassStrict(r.workload.tkg, int(tuned->tkg.size()), limits.seqLen),
                "the equal-mass baseline");
            e.batches = tuned->batches;
            sets.emplace_back("equal_mass", e);
        }
    }
    return sets;
}

// Each baseline evaluated, beside the best tuned figure with at most its number of models.
void priceBaselines(LlmTuneResult& r, std::vector<std::pair<std::string, LlmBucketLists>>& sets,
                    const std::vector<Combination>& combos, const RequestTraffic& traffic,
                    const LlmCosts& costs, const LlmTuneSettings& settings,
                    const DecodeCalls* calls)
{
    const ServingLimits& limits = settings.limits;
    const int K = settings.totalBuckets;
    const bool ttft = settings.objective == LlmObjective::MeanRequestTtftP99;
    for (auto& [name, lists] : sets) {
        LlmBaseline b;
        b.name = name;
        b.evaluation = evaluateLlmBuckets(traffic, limits, costs, lists, calls);
        const int models = b.evaluation.models;
        for (const auto& c : combos)
            if (c.models <= models && (b.tunedSameModelsMs < 0 || c.meanMs < b.tunedSameModelsMs))
                b.tunedSameModelsMs = c.meanMs;
        if (ttft)
            b.meetsTtftBudget = b.evaluation.p99TtftMs <= settings.ttftP99BudgetMs;
        if (b.evaluation.failed > 0)
            b.note = std::to_string(b.evaluation.failed) +
                     " requests fail (a length above its largest bucket); its figures cover "
                     "the rest";
        if (models > K)
            b.note += std::string(b.note.empty() ? "" : "; ") + "compiles " +
                      std::to_string(models) + " models, more than the budget of " +
                      std::to_string(K) + ": the tuned figure beside it uses at most " +
                      std::to_string(K);
        r.baselines.push_back(std::move(b));
    }
}

// What the figures rest on: requests left out or cut, curve adjustments, unused and
// extrapolated buckets.
void addNotes(LlmTuneResult& r, const LlmCosts& costs, const ServingLimits& limits, bool tuned)
{
    if (r.workload.rejected > 0)
        r.notes.push_back(
            std::to_string(r.workload.rejected) + " of " + std::to_string(r.workload.requests) +
            " requests have a prompt above the maximum context length " +
            std::to_string(limits.maxContextLength) + "; NxD rejects them and they are left out");
    if (r.workload.truncated > 0)
        r.notes.push_back(std::to_string(r.workload.truncated) +
                          " requests would run past seq_len " + std::to_string(limits.seqLen) +
                          "; their generation is cut there, as NxD's max_length does");
    for (const auto* curve : {&costs.cte, &costs.tkg})
        for (const auto& a : curve->adjustments())
            r.notes.push_back(curve->source() + ": the measured " + std::to_string(a.length) +
                              " bucket (" + formatMs(a.measuredMs) + ") is slower than the " +
                              std::to_string(a.cheaperLength) + " bucket; the curve uses " +
                              formatMs(a.usedMs));
    if (tuned) {
        // A largest bucket nobody uses is the price of serving every allowed length.
        const std::pair<const char*, const std::vector<PhaseBucketStats>*> phases[] = {
            {"CTE", &r.best.cte}, {"TKG", &r.best.tkg}};
        for (const auto& [phase, stats] : phases)
            // (With batch buckets the TKG stats are per grid cell, so only the CTE is checked.)
            if (!stats->empty() && stats->back().calls == 0 && stats->size() > 1 &&
                !(r.batched && std::string(phase) == "TKG"))
                r.notes.push_back(
                    std::string("the largest ") + phase + " bucket (" +
                    std::to_string(stats->back().bucket) +
                    ") serves no observed call; it is there because NxD raises for lengths above "
                    "the largest bucket (a smaller " +
                    (std::string(phase) == "CTE" ? "maximum context length" : "seq_len") +
                    " would free it)");
        for (const auto& s : r.best.cte)
            if (s.extrapolated) {
                r.notes.push_back("CTE latency beyond the measured lengths is extrapolated (" +
                                  costs.cte.describe() + ")");
                break;
            }
        for (const auto& s : r.best.tkg)
            if (s.extrapolated) {
                r.notes.push_back("TKG latency beyond the measured lengths is extrapolated (" +
                                  costs.tkg.describe() + ")");
                break;
            }
    }
}

} // namespace

LlmTuneResult tuneLlmBuckets(const RequestTraffic& traffic, const LlmCosts& costs,
                             const LlmTuneSettings& settings, const LlmBucketLists& current,
                             const DecodeCalls* calls, const Job& job)
{
    const auto t0 = std::chrono::steady_clock::now();
    LlmTuneResult r;
    r.settings = settings;
    const ServingLimits& limits = settings.limits;
    const int K = settings.totalBuckets;
    checkTuneSettings(settings, costs);
    const bool ttft = settings.objective == LlmObjective::MeanRequestTtftP99;
    r.workload = deriveDecodeWorkload(traffic, limits);

    auto stage = [&job](double from, double to) {
        return job.sub(from, to);
    };

    // CTE: exact per count, the TTFT budget inside.
    r.cteFront =
        strictRuleFront(r.workload.cte, costs.cte, limits.maxContextLength, K - 1,
                        ttft ? settings.ttftP99BudgetMs : 0.0, costs.cteCompile, stage(0.0, 0.3));

    // TKG: exact per count (1-D), or batch x sequence grids.
    r.batched = calls != nullptr;
    GridSearch grid;
    if (r.batched) {
        if (!costs.tkgBatch.valid())
            throw Error("batched decoding needs " + subject(Field::TkgBatchLatency));
        r.calls = *calls;
        const int64_t maxBatch = settings.maxBatch > 0 ? settings.maxBatch : calls->maxBatch();
        const GridSearcher searcher(*calls, costs.tkgBatch, limits.seqLen, maxBatch,
                                    costs.tkgCompile);
        grid = searchGrid(searcher, K - 1, settings.maxBatchSets, stage(0.3, 0.9));
        r.tkgOptions = grid.options;
    } else {
        r.tkgOptions = strictRuleFront(r.workload.tkg, costs.tkg, limits.seqLen, K - 1, 0.0,
                                       costs.tkgCompile, stage(0.3, 0.9));
    }

    // Every combination within the bucket budget, and the best within the budgets.
    const std::vector<Combination> combos = combinations(r, K);
    auto withinBudgets = [&](const Combination& c) {
        return (settings.compileBudgetS <= 0 || c.compileS <= settings.compileBudgetS) &&
               (settings.memoryBudgetMiB <= 0 || c.memoryMiB <= settings.memoryBudgetMiB);
    };
    const Combination* best = nullptr;
    for (const auto& c : combos)
        if (withinBudgets(c) && (!best || better(c, *best)))
            best = &c;

    addParetoFronts(r, combos, costs, K);
    describeExactness(r, settings, costs, grid);
    std::optional<LlmBucketLists> tuned;
    if (!best) {
        r.feasible = false;
        r.infeasibleReason = infeasibleReason(r, settings, costs, combos.empty());
    } else {
        tuned = listsOf(r, *best);
        r.best = evaluateLlmBuckets(traffic, limits, costs, *tuned, calls);
        r.predictedMs = best->meanMs;
    }
    auto sets = baselineLists(r, settings, current, calls, tuned);
    priceBaselines(r, sets, combos, traffic, costs, settings, calls);
    addNotes(r, costs, limits, best != nullptr);
    r.solveMs =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    job.report(1.0, "tuned");
    return r;
}

nlohmann::json LlmTuneResult::toJson() const
{
    using nlohmann::json;
    json j;
    j["feasible"] = feasible;
    j["infeasible_reason"] = feasible ? json(nullptr) : json(infeasibleReason);
    j["cte_buckets"] = feasible ? json(best.lists.cte.values()) : json(nullptr);
    j["tkg_buckets"] = feasible ? json(best.lists.tkg.values()) : json(nullptr);
    if (batched)
        j["tkg_batches"] = feasible ? json(best.lists.batches.values()) : json(nullptr);
    j["mean_request_ms"] = feasible ? json(best.meanRequestMs) : json(nullptr);
    j["mean_ttft_ms"] = feasible ? json(best.meanTtftMs) : json(nullptr);
    j["p99_ttft_ms"] = feasible ? json(best.p99TtftMs) : json(nullptr);
    j["mean_decode_ms"] = feasible ? json(best.meanDecodeMs) : json(nullptr);
    j["models"] = feasible ? json(best.models) : json(nullptr);
    j["compile_s"] = feasible ? json(best.compileS) : json(nullptr);
    j["memory_mib"] = feasible ? json(best.memoryMiB) : json(nullptr);
    j["evaluation"] = feasible ? best.toJson() : json(nullptr);
    j["predicted_mean_request_ms"] = feasible ? json(predictedMs) : json(nullptr);
    j["exact"] = exact;
    j["exactness"] = exactness;
    j["lower_bound_ms"] = batched ? json(lowerBoundMs) : json(nullptr);
    j["rule"] = "NxD first fit: CTE bucket = the first b with prompt < b, or the largest when "
                "prompt equals it; TKG step at position q: the first b with q + speculation < "
                "b, or the largest when equal" +
                std::string(batched ? "; batch buckets: the smallest batch >= the call's, then "
                                      "the smallest sequence bucket >= its widest position"
                                    : "");
    j["settings"] = {
        {"max_context_length", settings.limits.maxContextLength},
        {"seq_len", settings.limits.seqLen},
        {"speculation_length", settings.limits.speculationLength},
        {"buckets", settings.totalBuckets},
        {"objective", settings.objective == LlmObjective::MeanRequestTtftP99 ? "ttft-p99" : "mean"},
        {"ttft_p99_budget_ms", settings.objective == LlmObjective::MeanRequestTtftP99
                                   ? json(settings.ttftP99BudgetMs)
                                   : json(nullptr)},
        {"compile_budget_s",
         settings.compileBudgetS > 0 ? json(settings.compileBudgetS) : json(nullptr)},
        {"memory_budget_mib",
         settings.memoryBudgetMiB > 0 ? json(settings.memoryBudgetMiB) : json(nullptr)}};
    j["workload"] = workload.toJson();
    if (batched)
        j["decode_calls"] = calls.toJson();
    json baselinesJson = json::array();
    for (const auto& b : baselines) {
        json e{{"name", b.name},
               {"cte_buckets", b.evaluation.lists.cte.values()},
               {"tkg_buckets", b.evaluation.lists.tkg.values()},
               {"mean_request_ms", b.evaluation.meanRequestMs},
               {"mean_ttft_ms", b.evaluation.meanTtftMs},
               {"p99_ttft_ms", b.evaluation.p99TtftMs},
               {"mean_decode_ms", b.evaluation.meanDecodeMs},
               {"models", b.evaluation.models},
               {"compile_s", b.evaluation.compileS},
               {"failed_requests", b.evaluation.failed},
               {"meets_ttft_budget", b.meetsTtftBudget},
               {"tuned_same_models_ms",
                b.tunedSameModelsMs >= 0 ? json(b.tunedSameModelsMs) : json(nullptr)},
               {"tuned_gain_pct",
                b.tunedSameModelsMs >= 0 && b.evaluation.meanRequestMs > 0
                    ? json(100.0 * (b.evaluation.meanRequestMs - b.tunedSameModelsMs) /
                           b.evaluation.meanRequestMs)
                    : json(nullptr)},
               {"note", b.note}};
        if (batched)
            e["tkg_batches"] = b.evaluation.lists.batches.values();
        baselinesJson.push_back(e);
    }
    j["baselines"] = baselinesJson;
    j["pareto"] = {{"by_models", paretoJson(paretoByModels, batched)},
                   {"by_compile", paretoJson(paretoByCompile, batched)}};
    j["notes"] = notes;
    j["solve_ms"] = solveMs;
    return j;
}

} // namespace bucketlab
