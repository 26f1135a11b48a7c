// The joint CTE/TKG tuner against brute force: on small synthetic traffic with known latency
// curves, every CTE list and every TKG list (any lengths, not only those in the traffic) is
// evaluated request by request by the evaluator, and the best pair within the budget must
// equal the tuner's optimum — for mean latency, with a TTFT p99 budget, with compile-time
// budgets, and with batch x sequence TKG buckets. The multi-class DP is held to enumeration
// and to core/tuning's tuner.
#include "core/llm/llm_tuner.h"
#include "core/llm/nxd_bucket_rule.h"
#include "core/llm/partition_dp.h"
#include "core/tuning/boundary_tuner.h"
#include "core/util/error.h"

#include <QTest>
#include <nlohmann/json.hpp>

#include <cmath>
#include <functional>
#include <limits>
#include <optional>
#include <random>

using namespace bucketlab;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

bool close(double a, double b)
{
    return std::abs(a - b) <= 1e-9 * std::max({1.0, std::abs(a), std::abs(b)});
}

RequestTraffic randomTraffic(std::mt19937_64& rng, int64_t maxPrompt, int64_t maxOutput, int n)
{
    std::vector<RequestPair> pairs;
    for (int i = 0; i < n; ++i)
        pairs.push_back({1 + int64_t(rng() % uint64_t(maxPrompt)),
                         int64_t(rng() % uint64_t(maxOutput + 1)), 1 + int64_t(rng() % 4)});
    return RequestTraffic::fromPairs(pairs);
}

// Every ascending list of at most `most` buckets ending at `largest`, from 1..largest-1.
std::vector<std::vector<int64_t>> allLists(int64_t largest, int most)
{
    std::vector<std::vector<int64_t>> out;
    std::vector<int64_t> cur;
    std::function<void(int64_t)> rec = [&](int64_t from) {
        std::vector<int64_t> l = cur;
        l.push_back(largest);
        out.push_back(l);
        if (int(cur.size()) + 1 >= most)
            return;
        for (int64_t v = from; v < largest; ++v) {
            cur.push_back(v);
            rec(v + 1);
            cur.pop_back();
        }
    };
    rec(1);
    return out;
}

// Lists a test enumerates, as the evaluator takes them.
LlmBucketLists listsOf(const std::vector<int64_t>& cte, const std::vector<int64_t>& tkg,
                       const std::vector<int64_t>& batches = {})
{
    return {Boundaries::from(cte, "test CTE list"), Boundaries::from(tkg, "test TKG list"),
            batches.empty() ? Boundaries() : Boundaries::from(batches, "test batch list")};
}

struct PhaseList {
    std::vector<int64_t> buckets;
    std::vector<int64_t> batches;
    double sum = 0; // summed over served requests
    double p99 = 0; // TTFT p99 (CTE lists)
    double compile = 0;
};

// Per-phase sums through the evaluator: the other phase fixed at its largest bucket alone.
std::vector<PhaseList> cteLists(const RequestTraffic& t, const ServingLimits& limits,
                                const LlmCosts& costs, int most)
{
    std::vector<PhaseList> out;
    for (const auto& l : allLists(limits.maxContextLength, most)) {
        const auto e = evaluateLlmBuckets(t, limits, costs, listsOf(l, {limits.seqLen}));
        out.push_back({l,
                       {},
                       e.meanTtftMs * double(e.served),
                       e.p99TtftMs,
                       costs.cteCompile.totalSeconds(l)});
    }
    return out;
}

std::vector<PhaseList> tkgLists(const RequestTraffic& t, const ServingLimits& limits,
                                const LlmCosts& costs, int most)
{
    std::vector<PhaseList> out;
    for (const auto& l : allLists(limits.seqLen, most)) {
        const auto e = evaluateLlmBuckets(t, limits, costs, listsOf({limits.maxContextLength}, l));
        out.push_back(
            {l, {}, e.meanDecodeMs * double(e.served), 0, costs.tkgCompile.totalSeconds(l)});
    }
    return out;
}

struct Brute {
    double bestMs = kInf;
    std::vector<int64_t> cte, tkg;
};

Brute bruteJoint(const std::vector<PhaseList>& cte, const std::vector<PhaseList>& tkg, int K,
                 double served, double ttftBudget = 0, double compileBudget = 0)
{
    Brute b;
    for (const auto& a : cte) {
        if (ttftBudget > 0 && a.p99 > ttftBudget)
            continue;
        for (const auto& c : tkg) {
            const int models =
                int(a.buckets.size() + std::max<size_t>(1, c.batches.size()) * c.buckets.size());
            if (models > K)
                continue;
            if (compileBudget > 0 && a.compile + c.compile > compileBudget)
                continue;
            const double v = (a.sum + c.sum) / served;
            if (v < b.bestMs)
                b = {v, a.buckets, c.buckets};
        }
    }
    return b;
}

} // namespace

class TestLlmTuner : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void jointOptimumEqualsBruteForce_data();
    void jointOptimumEqualsBruteForce();
    void ttftBudgetEqualsBruteForce();
    void compileBudget();
    void memoryBudget();
    void frontsAndParetoAreConsistent();
    void baselines();
    void partitionDpEqualsBruteForce();
    void partitionDpEqualsCoreTuner();
    void batchedEqualsBruteForce();
    void batchedHeuristicIsBounded();
    void errors();
};

void TestLlmTuner::jointOptimumEqualsBruteForce_data()
{
    QTest::addColumn<int>("seed");
    QTest::addColumn<int>("buckets");
    QTest::addColumn<QString>("cte");
    QTest::addColumn<QString>("tkg");
    QTest::addColumn<qint64>("speculation");
    QTest::addRow("linear, K=4") << 1 << 4 << "linear:2,0.5"
                                 << "linear:1,0.05" << qint64(0);
    QTest::addRow("quadratic prefill, K=5") << 2 << 5 << "poly:1,0.1,0.05"
                                            << "linear:0.5,0.2" << qint64(0);
    QTest::addRow("flat decode, K=3") << 3 << 3 << "linear:1,1"
                                      << "linear:3,0" << qint64(0);
    QTest::addRow("measured curves, K=5") << 4 << 5 << "points"
                                          << "points" << qint64(0);
    QTest::addRow("speculation 2, K=4") << 5 << 4 << "linear:2,0.3"
                                        << "poly:1,0.02,0.01" << qint64(2);
    QTest::addRow("K=2") << 6 << 2 << "linear:2,0.3"
                         << "linear:1,0.1" << qint64(0);
}

void TestLlmTuner::jointOptimumEqualsBruteForce()
{
    QFETCH(int, seed);
    QFETCH(int, buckets);
    QFETCH(QString, cte);
    QFETCH(QString, tkg);
    QFETCH(qint64, speculation);
    std::mt19937_64 rng{uint64_t(seed)};
    for (int round = 0; round < 4; ++round) {
        const auto traffic = randomTraffic(rng, 12, 9, 25);
        const ServingLimits limits{12, 19, speculation};
        LlmCosts costs;
        if (cte == "points") {
            // A measured curve with a dip (the envelope smooths it) and extrapolation.
            costs.cte = LatencyCurve::fromPoints({{2, 3.0}, {5, 4.0}, {7, 3.5}, {9, 8.0}}, "c");
            costs.tkg = LatencyCurve::fromPoints({{4, 1.0}, {10, 1.5}, {15, 4.0}}, "t");
        } else {
            costs.cte = LatencyCurve::fromSpec(cte.toStdString());
            costs.tkg = LatencyCurve::fromSpec(tkg.toStdString());
        }
        LlmTuneSettings s;
        s.limits = limits;
        s.totalBuckets = buckets;
        const auto r = tuneLlmBuckets(traffic, costs, s);
        QVERIFY(r.feasible);
        QVERIFY(r.exact);
        const auto brute = bruteJoint(cteLists(traffic, limits, costs, buckets - 1),
                                      tkgLists(traffic, limits, costs, buckets - 1), buckets,
                                      double(r.workload.served));
        QVERIFY2(close(r.best.meanRequestMs, brute.bestMs),
                 (std::to_string(r.best.meanRequestMs) + " vs brute force " +
                  std::to_string(brute.bestMs))
                     .c_str());
        QVERIFY(close(r.predictedMs, r.best.meanRequestMs));
        QVERIFY(r.best.models <= buckets);
        QCOMPARE(r.best.lists.cte.largest(), limits.maxContextLength);
        QCOMPARE(r.best.lists.tkg.largest(), limits.seqLen);
        QCOMPARE(r.best.failed, 0);
    }
}

void TestLlmTuner::ttftBudgetEqualsBruteForce()
{
    std::mt19937_64 rng{21};
    for (int round = 0; round < 6; ++round) {
        const auto traffic = randomTraffic(rng, 12, 8, 30);
        const ServingLimits limits{12, 18, 0};
        LlmCosts costs;
        costs.cte = LatencyCurve::fromSpec("linear:1,1");
        costs.tkg = LatencyCurve::fromSpec("linear:1,0.2");
        const int K = 5;
        const auto ctes = cteLists(traffic, limits, costs, K - 1);
        const auto tkgs = tkgLists(traffic, limits, costs, K - 1);
        // Budgets from generous to impossible: p99 TTFT in ms equals 1 + its bucket here.
        for (double budget : {13.5, 11.0, 9.0, 6.0, 2.0}) {
            LlmTuneSettings s;
            s.limits = limits;
            s.totalBuckets = K;
            s.objective = LlmObjective::MeanRequestTtftP99;
            s.ttftP99BudgetMs = budget;
            const auto r = tuneLlmBuckets(traffic, costs, s);
            const auto brute = bruteJoint(ctes, tkgs, K, double(r.workload.served), budget, 0);
            if (brute.bestMs == kInf) {
                QVERIFY(!r.feasible);
                QVERIFY(!r.infeasibleReason.empty());
                continue;
            }
            QVERIFY2(r.feasible, r.infeasibleReason.c_str());
            QVERIFY(r.best.p99TtftMs <= budget);
            QVERIFY2(close(r.best.meanRequestMs, brute.bestMs),
                     (std::to_string(budget) + ": " + std::to_string(r.best.meanRequestMs) +
                      " vs " + std::to_string(brute.bestMs))
                         .c_str());
        }
    }
}

void TestLlmTuner::compileBudget()
{
    std::mt19937_64 rng{31};
    for (int round = 0; round < 4; ++round) {
        const auto traffic = randomTraffic(rng, 12, 8, 30);
        const ServingLimits limits{12, 18, 0};
        LlmCosts costs;
        costs.cte = LatencyCurve::fromSpec("linear:1,0.8");
        costs.tkg = LatencyCurve::fromSpec("linear:1,0.1");
        const int K = 6;
        // Same compile time per bucket within a phase: a budget is a count, and exact.
        costs.cteCompile = CompileCost::load("linear:100,0");
        costs.tkgCompile = CompileCost::load("linear:30,0");
        for (double budget : {130.0, 200.0, 260.0, 290.0, 1000.0}) {
            LlmTuneSettings s;
            s.limits = limits;
            s.totalBuckets = K;
            s.compileBudgetS = budget;
            const auto r = tuneLlmBuckets(traffic, costs, s);
            const auto brute = bruteJoint(cteLists(traffic, limits, costs, K - 1),
                                          tkgLists(traffic, limits, costs, K - 1), K,
                                          double(r.workload.served), 0, budget);
            QVERIFY(r.exact);
            QVERIFY2(r.feasible, r.infeasibleReason.c_str());
            QVERIFY(r.best.compileS <= budget);
            QVERIFY(close(r.best.meanRequestMs, brute.bestMs));
        }
        // Below one bucket per phase: infeasible, not an error.
        LlmTuneSettings tight;
        tight.limits = limits;
        tight.totalBuckets = K;
        tight.compileBudgetS = 120;
        QVERIFY(!tuneLlmBuckets(traffic, costs, tight).feasible);
        // Compile time growing with length: feasible and within budget, never better than
        // brute force, and flagged as not proven.
        costs.cteCompile = CompileCost::load("linear:10,5");
        costs.tkgCompile = CompileCost::load("linear:5,2");
        const auto ctes = cteLists(traffic, limits, costs, K - 1);
        const auto tkgs = tkgLists(traffic, limits, costs, K - 1);
        for (double budget : {110.0, 150.0, 200.0}) {
            LlmTuneSettings s;
            s.limits = limits;
            s.totalBuckets = K;
            s.compileBudgetS = budget;
            const auto r = tuneLlmBuckets(traffic, costs, s);
            const auto brute = bruteJoint(ctes, tkgs, K, double(r.workload.served), 0, budget);
            QVERIFY(!r.exact);
            if (!r.feasible)
                continue;
            QVERIFY(r.best.compileS <= budget + 1e-9);
            QVERIFY(r.best.meanRequestMs >= brute.bestMs - 1e-9);
        }
    }
}

void TestLlmTuner::memoryBudget()
{
    // Memory the same for every bucket of a phase (a measured file with one point per
    // phase): the budget is a count, so brute force over counts decides.
    std::mt19937_64 rng{35};
    const auto traffic = randomTraffic(rng, 12, 8, 30);
    const ServingLimits limits{12, 18, 0};
    LlmCosts costs;
    costs.cte = LatencyCurve::fromSpec("linear:1,0.8");
    costs.tkg = LatencyCurve::fromSpec("linear:1,0.1");
    costs.cteCompile =
        CompileCost::fromCsv("length,compile_s,memory_mib\n1,60,500\n100,60,500\n", "cte.csv");
    costs.tkgCompile =
        CompileCost::fromCsv("length,compile_s,memory_mib\n1,30,200\n100,30,200\n", "tkg.csv");
    QVERIFY(costs.cteCompile.constantPerBucket());
    const int K = 8;
    LlmTuneSettings s;
    s.limits = limits;
    s.totalBuckets = K;
    const auto free = tuneLlmBuckets(traffic, costs, s);
    s.memoryBudgetMiB = 1500; // two CTE and two TKG, or one CTE and five TKG, ...
    const auto r = tuneLlmBuckets(traffic, costs, s);
    QVERIFY(r.feasible);
    QVERIFY(r.exact);
    QVERIFY(r.best.memoryMiB <= 1500);
    QVERIFY(r.best.meanRequestMs >= free.best.meanRequestMs);
    // The per-count optima (held to brute force above) combined by hand under the budget.
    double brute = kInf;
    for (const auto& a : r.cteFront)
        for (const auto& b : r.tkgOptions)
            if (a.models + b.models <= K && a.memoryMiB + b.memoryMiB <= 1500)
                brute = std::min(brute, (a.sumMs + b.sumMs) / double(r.workload.served));
    QVERIFY(close(r.best.meanRequestMs, brute));
    s.memoryBudgetMiB = 600; // below one bucket per phase
    QVERIFY(!tuneLlmBuckets(traffic, costs, s).feasible);
}

void TestLlmTuner::frontsAndParetoAreConsistent()
{
    std::mt19937_64 rng{41};
    const auto traffic = randomTraffic(rng, 300, 200, 400);
    LlmCosts costs;
    costs.cte = LatencyCurve::fromSpec("poly:5,0.05,0.0001");
    costs.tkg = LatencyCurve::fromSpec("linear:4,0.002");
    costs.cteCompile = CompileCost::load("linear:60,0.5");
    costs.tkgCompile = CompileCost::load("linear:40,0.1");
    LlmTuneSettings s;
    s.limits = {320, 600, 0};
    s.totalBuckets = 10;
    const auto r = tuneLlmBuckets(traffic, costs, s);
    QVERIFY(r.feasible);
    // More buckets never hurt; the last point is the answer.
    for (size_t i = 1; i < r.cteFront.size(); ++i)
        QVERIFY(r.cteFront[i].sumMs <= r.cteFront[i - 1].sumMs + 1e-9);
    for (size_t i = 1; i < r.paretoByModels.size(); ++i)
        QVERIFY(r.paretoByModels[i].meanRequestMs <= r.paretoByModels[i - 1].meanRequestMs);
    QCOMPARE(r.paretoByModels.back().meanRequestMs, r.predictedMs);
    for (const auto& p : r.paretoByModels) {
        QVERIFY(p.models <= 10);
        const auto e = evaluateLlmBuckets(traffic, s.limits, costs, p.lists);
        QVERIFY(close(e.meanRequestMs, p.meanRequestMs));
        QVERIFY(close(e.compileS, p.compileS));
    }
    // Compile front: compile time up, latency strictly down.
    QVERIFY(r.paretoByCompile.size() >= 2);
    for (size_t i = 1; i < r.paretoByCompile.size(); ++i) {
        QVERIFY(r.paretoByCompile[i].compileS >= r.paretoByCompile[i - 1].compileS);
        QVERIFY(r.paretoByCompile[i].meanRequestMs < r.paretoByCompile[i - 1].meanRequestMs);
    }
    // JSON carries the contract's fields.
    const std::string json = r.toJson().dump();
    for (const char* key : {"\"cte_buckets\"", "\"tkg_buckets\"", "\"mean_request_ms\"",
                            "\"baselines\"", "\"pareto\"", "\"nxd_default\""})
        QVERIFY2(json.find(key) != std::string::npos, key);
}

void TestLlmTuner::baselines()
{
    std::mt19937_64 rng{51};
    const auto traffic = randomTraffic(rng, 900, 300, 300);
    LlmCosts costs;
    costs.cte = LatencyCurve::fromSpec("poly:3,0.02,0.00005");
    costs.tkg = LatencyCurve::fromSpec("linear:6,0.001");
    LlmTuneSettings s;
    s.limits = {1000, 1400, 0};
    s.totalBuckets = 12;
    LlmBucketLists current;
    current.cte = {256, 512, 1000};
    const auto r = tuneLlmBuckets(traffic, costs, s, current);
    std::map<std::string, const LlmBaseline*> byName;
    for (const auto& b : r.baselines)
        byName[b.name] = &b;
    QVERIFY(byName.count("nxd_default") && byName.count("powers_of_two") &&
            byName.count("equal_mass") && byName.count("current"));
    const auto& nxd = byName["nxd_default"]->evaluation;
    QVERIFY(nxd.lists.cte == nxdGenerateBuckets(128, 1000));
    QVERIFY(nxd.lists.tkg == nxdGenerateBuckets(128, 1400));
    // The current TKG list was not given: NxD's default stands in for it.
    QVERIFY(byName["current"]->evaluation.lists.cte == current.cte);
    QVERIFY(byName["current"]->evaluation.lists.tkg == nxd.lists.tkg);
    for (const auto& b : r.baselines) {
        // The tuner with the same number of models is never worse.
        QVERIFY(b.tunedSameModelsMs >= 0);
        QVERIFY2(b.tunedSameModelsMs <= b.evaluation.meanRequestMs + 1e-9, b.name.c_str());
    }
    // Equal mass keeps the tuned split.
    QCOMPARE(byName["equal_mass"]->evaluation.lists.cte.size(), r.best.lists.cte.size());
    QVERIFY(byName["equal_mass"]->evaluation.lists.tkg.size() <= r.best.lists.tkg.size());
    // Powers of two start above the shortest prompt.
    const auto& p2 = byName["powers_of_two"]->evaluation.lists.cte;
    QVERIFY(p2[0] > traffic.promptSummary().min);
    QCOMPARE(p2.largest(), int64_t(1000));
}

void TestLlmTuner::partitionDpEqualsBruteForce()
{
    std::mt19937_64 rng{61};
    for (int round = 0; round < 300; ++round) {
        PartitionProblem p;
        const size_t n = 1 + rng() % 9;
        const size_t m = 1 + rng() % 3;
        int64_t x = 0;
        for (size_t i = 0; i < n; ++i)
            p.lengths.push_back(x += 1 + int64_t(rng() % 5));
        p.cover = p.lengths.back() + int64_t(rng() % 3); // sometimes equal to the longest
        p.weight.assign(m, std::vector<double>(n));
        p.cost.assign(m, std::vector<double>(n));
        p.coverCost.resize(m);
        for (size_t c = 0; c < m; ++c) {
            double h = double(rng() % 5);
            for (size_t i = 0; i < n; ++i) {
                p.weight[c][i] = double(rng() % 7);
                p.cost[c][i] = (h += double(rng() % 4));
            }
            p.coverCost[c] = h + double(rng() % 3);
        }
        const int kMax = 1 + int(rng() % 5);
        const auto dp = solvePartitions(p, kMax);
        const auto brute = bruteForcePartitions(p, kMax);
        for (int k = 0; k < kMax; ++k) {
            QCOMPARE(dp[size_t(k)].feasible, brute[size_t(k)].feasible);
            if (!dp[size_t(k)].feasible)
                continue;
            QVERIFY2(close(dp[size_t(k)].cost, brute[size_t(k)].cost),
                     (std::to_string(dp[size_t(k)].cost) + " vs " +
                      std::to_string(brute[size_t(k)].cost))
                         .c_str());
            QCOMPARE(dp[size_t(k)].boundaries.size(), size_t(k + 1));
            QCOMPARE(dp[size_t(k)].boundaries.back(), p.cover);
            QVERIFY(close(partitionCost(p, dp[size_t(k)].boundaries), dp[size_t(k)].cost));
        }
    }
    // A decreasing cost breaks exactness: refused.
    PartitionProblem bad;
    bad.lengths = {1, 2};
    bad.cover = 2;
    bad.weight = {{1, 1}};
    bad.cost = {{2, 1}};
    bad.coverCost = {1};
    QVERIFY_THROWS_EXCEPTION(Error, solvePartitions(bad, 2));
}

void TestLlmTuner::partitionDpEqualsCoreTuner()
{
    // One class is core/tuning's problem (smallest boundary >= length, a fixed cover).
    std::mt19937_64 rng{71};
    const LatencyCurve curve = LatencyCurve::fromSpec("poly:2,0.3,0.01");
    for (int round = 0; round < 50; ++round) {
        std::vector<std::pair<int64_t, int64_t>> counts;
        for (int i = 0; i < 30; ++i)
            counts.emplace_back(1 + int64_t(rng() % 200), 1 + int64_t(rng() % 9));
        const auto h = LengthHistogram::fromCounts(counts);
        const int64_t cover = h.maxLength() + int64_t(rng() % 20);
        PartitionProblem p;
        p.lengths = h.lengths();
        p.cover = cover;
        p.weight = {std::vector<double>(h.counts().begin(), h.counts().end())};
        p.cost.assign(1, {});
        for (int64_t l : h.lengths())
            p.cost[0].push_back(curve.at(l));
        p.coverCost = {curve.at(cover)};
        const int kMax = std::min<int>(6, int(h.distinct()));
        const auto dp = solvePartitions(p, kMax);
        const BucketEvaluator ev(h, curve, cover);
        TuneSettings s;
        s.coverLength = cover;
        const auto sweep = BoundaryTuner(ev).sweep(s, kMax);
        for (int k = 0; k < kMax; ++k)
            QVERIFY(close(dp[size_t(k)].cost / double(h.total()), sweep[size_t(k)].objective));
    }
}

void TestLlmTuner::batchedEqualsBruteForce()
{
    std::mt19937_64 rng{81};
    for (int round = 0; round < 3; ++round) {
        const auto traffic = randomTraffic(rng, 8, 7, 14);
        const ServingLimits limits{8, 14, 0};
        LlmCosts costs;
        costs.cte = LatencyCurve::fromSpec("linear:2,0.7");
        costs.tkg = LatencyCurve::fromSpec("linear:1,0.3");
        costs.tkgBatch =
            round == 0 ? BatchLatency::scaled(costs.tkg, 0.4)
                       : BatchLatency::fromCurves({{1, LatencyCurve::fromSpec("linear:1,0.2")},
                                                   {3, LatencyCurve::fromSpec("linear:1.5,0.5")}},
                                                  "grid");
        const auto calls = simulateContinuousBatching(traffic, limits, 4, uint64_t(round));
        const int K = 6;
        LlmTuneSettings s;
        s.limits = limits;
        s.totalBuckets = K;
        s.maxBatchSets = 1000;
        const auto r = tuneLlmBuckets(traffic, costs, s, {}, &calls);
        QVERIFY2(r.feasible, r.infeasibleReason.c_str());
        QVERIFY(r.exact);
        QVERIFY(r.batched);
        // Brute force: every batch set with the maximum batch x every sequence list.
        std::vector<PhaseList> tkgs;
        std::vector<int64_t> others;
        for (int64_t b = 1; b < calls.maxBatch(); ++b)
            others.push_back(b);
        for (unsigned mask = 0; mask < (1u << others.size()); ++mask) {
            std::vector<int64_t> batches;
            for (size_t i = 0; i < others.size(); ++i)
                if (mask & (1u << i))
                    batches.push_back(others[i]);
            batches.push_back(calls.maxBatch());
            const int most = (K - 1) / int(batches.size());
            if (most < 1)
                continue;
            for (const auto& l : allLists(limits.seqLen, most)) {
                const auto e = evaluateLlmBuckets(
                    traffic, limits, costs, listsOf({limits.maxContextLength}, l, batches), &calls);
                QCOMPARE(e.failedCalls, 0);
                tkgs.push_back({l, batches, e.meanDecodeMs * double(e.served), 0, 0});
            }
        }
        const auto brute =
            bruteJoint(cteLists(traffic, limits, costs, K - 1), tkgs, K, double(r.workload.served));
        QVERIFY2(
            close(r.best.meanRequestMs, brute.bestMs),
            (std::to_string(r.best.meanRequestMs) + " vs " + std::to_string(brute.bestMs)).c_str());
        QVERIFY(close(r.predictedMs, r.best.meanRequestMs));
        QVERIFY(r.lowerBoundMs <= r.best.meanRequestMs + 1e-9);
        QCOMPARE(r.best.lists.batches.largest(), calls.maxBatch());
    }
}

void TestLlmTuner::batchedHeuristicIsBounded()
{
    std::mt19937_64 rng{91};
    const auto traffic = randomTraffic(rng, 200, 120, 200);
    const ServingLimits limits{200, 330, 0};
    LlmCosts costs;
    costs.cte = LatencyCurve::fromSpec("linear:3,0.05");
    costs.tkg = LatencyCurve::fromSpec("linear:2,0.01");
    costs.tkgBatch = BatchLatency::scaled(costs.tkg, 0.3);
    const auto calls = simulateContinuousBatching(traffic, limits, 8, 3);
    LlmTuneSettings s;
    s.limits = limits;
    s.totalBuckets = 9;
    s.maxBatchSets = 5000;
    const auto exact = tuneLlmBuckets(traffic, costs, s, {}, &calls);
    s.maxBatchSets = 3;
    const auto heuristic = tuneLlmBuckets(traffic, costs, s, {}, &calls);
    QVERIFY(exact.exact);
    QVERIFY(!heuristic.exact);
    QVERIFY(heuristic.exactness.find("lower_bound_ms") != std::string::npos);
    QVERIFY(heuristic.lowerBoundMs <= exact.best.meanRequestMs + 1e-9);
    QVERIFY(exact.best.meanRequestMs <= heuristic.best.meanRequestMs + 1e-9);
    QVERIFY(close(heuristic.lowerBoundMs, exact.lowerBoundMs));
}

void TestLlmTuner::errors()
{
    const auto traffic = RequestTraffic::fromPairs({{5, 3, 1}});
    LlmCosts costs;
    costs.cte = LatencyCurve::fromSpec("linear:1,1");
    costs.tkg = LatencyCurve::fromSpec("linear:1,1");
    LlmTuneSettings s;
    s.limits = {8, 16, 0};
    // Each error names the setting it is about (a front end shows its own name for it).
    auto fieldOfError = [&](const DecodeCalls* calls = nullptr) -> std::optional<Field> {
        try {
            tuneLlmBuckets(traffic, costs, s, {}, calls);
        } catch (const Error& e) {
            return e.field();
        }
        return std::nullopt;
    };
    s.totalBuckets = 1;
    QCOMPARE(fieldOfError(), std::optional<Field>(Field::BucketCount));
    s.totalBuckets = 4;
    s.compileBudgetS = 100;
    try {
        tuneLlmBuckets(traffic, costs, s);
        QFAIL("no error");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).contains("needs the compile time per bucket"), e.what());
        QCOMPARE(e.field(), std::optional<Field>(Field::CompileBudget));
    }
    s.compileBudgetS = 0;
    s.memoryBudgetMiB = 100;
    QCOMPARE(fieldOfError(), std::optional<Field>(Field::MemoryBudget));
    s.memoryBudgetMiB = 0;
    s.objective = LlmObjective::MeanRequestTtftP99;
    QCOMPARE(fieldOfError(), std::optional<Field>(Field::Objective));
    s.objective = LlmObjective::MeanRequest;
    s.limits = {17, 16, 0};
    QCOMPARE(fieldOfError(), std::optional<Field>(Field::MaxContextLength));
    s.limits = {8, 16, 16};
    QCOMPARE(fieldOfError(), std::optional<Field>(Field::SpeculationLength));
    s.limits = {8, 16, 0};
    // Batched decoding without batch latencies.
    const auto calls = simulateContinuousBatching(traffic, s.limits, 2);
    QCOMPARE(fieldOfError(&calls), std::optional<Field>(Field::TkgBatchLatency));
    // More budget than lengths: one bucket per required length and the largest, no more.
    // Prompt 5 needs a 6 (strict fit), then the 8; steps at 5 and 6 need 6 and 7, then 16.
    s.totalBuckets = 20;
    const auto r = tuneLlmBuckets(traffic, costs, s);
    QVERIFY(r.feasible);
    QVERIFY(r.best.lists.cte == (std::vector<int64_t>{6, 8}));
    QVERIFY(r.best.lists.tkg == (std::vector<int64_t>{6, 7, 16}));
}

QTEST_GUILESS_MAIN(TestLlmTuner)
#include "tst_llm_tuner.moc"
