// The evaluator's figures and the tuner's exactness: divide-and-conquer DP, the naive DP and
// brute force over every boundary set must agree on thousands of random traffic histograms
// and latency curves, for every objective, with and without a bucket cost and a max length.
#include "core/spec/package_meta.h"
#include "core/traffic/synthetic_distribution.h"
#include "core/tuning/boundary_tuner.h"
#include "core/tuning/tuning_report.h"
#include "core/util/error.h"

#include <QTest>

#include <nlohmann/json.hpp>

#include <atomic>
#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <set>

using namespace bucketlab;

namespace {

LengthHistogram histogram(std::vector<std::pair<int64_t, int64_t>> counts)
{
    return LengthHistogram::fromCounts(std::move(counts));
}

bool close(double a, double b)
{
    if (std::isinf(a) || std::isinf(b))
        return a == b;
    return std::abs(a - b) <= 1e-9 * std::max({1.0, std::abs(a), std::abs(b)});
}

// Every boundary set of `k` buckets whose largest is the longest servable length (any other
// choice rejects traffic or pads further for nothing), checked through the evaluator alone.
double bruteForce(const BoundaryTuner& tuner, const std::vector<int64_t>& candidates, int k,
                  const TuneSettings& settings)
{
    double best = std::numeric_limits<double>::infinity();
    const size_t n = candidates.size();
    std::vector<int64_t> chosen;
    std::function<void(size_t, int)> pick = [&](size_t from, int left) {
        if (left == 0) {
            std::vector<int64_t> b = chosen;
            b.push_back(candidates.back());
            best =
                std::min(best, tuner.objectiveOf(Boundaries::from(b, Field::Boundaries), settings));
            return;
        }
        for (size_t i = from; i + 1 < n; ++i) {
            chosen.push_back(candidates[i]);
            pick(i + 1, left - 1);
            chosen.pop_back();
        }
    };
    pick(0, k - 1);
    return best;
}

// Every set of k buckets whose largest is exactly `cover`: k-1 boundaries from the
// candidates (any, the longest included) plus the cover length.
double bruteForceCovered(const BoundaryTuner& tuner, const std::vector<int64_t>& candidates, int k,
                         int64_t cover, const TuneSettings& settings)
{
    double best = std::numeric_limits<double>::infinity();
    std::vector<int64_t> chosen;
    std::function<void(size_t, int)> pick = [&](size_t from, int left) {
        if (left == 0) {
            std::vector<int64_t> b = chosen;
            b.push_back(cover);
            best =
                std::min(best, tuner.objectiveOf(Boundaries::from(b, Field::Boundaries), settings));
            return;
        }
        for (size_t i = from; i < candidates.size(); ++i) {
            if (candidates[i] == cover)
                continue;
            chosen.push_back(candidates[i]);
            pick(i + 1, left - 1);
            chosen.pop_back();
        }
    };
    pick(0, k - 1);
    return best;
}

// The measured-looking CPU latency of a BERT-base-sized encoder: a fixed cost, a linear
// part and attention's quadratic part, with measurement wobble and one shape (192) that
// runs slower than the next bucket, as odd shapes do.
LatencyCurve measuredLookingCurve()
{
    std::vector<LatencyPoint> points;
    const int64_t lengths[] = {32, 64, 96, 128, 192, 256, 384, 512, 768, 1024};
    const double wobble[] = {1.02, 0.98, 1.01, 0.99, 1.25, 1.0, 1.03, 0.97, 1.01, 1.0};
    for (size_t i = 0; i < std::size(lengths); ++i) {
        const double l = double(lengths[i]);
        points.push_back({lengths[i], (1.2 + 0.011 * l + 6e-6 * l * l) * wobble[i]});
    }
    return LatencyCurve::fromPoints(points, "measured-looking");
}

} // namespace

class TestTuner : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void evaluatorFigures();
    void evaluatorRejectsAboveLargestAndMaxLength();
    void evaluatorPercentilesUseNearestRank();
    void randomInstancesMatchBruteForce_data();
    void randomInstancesMatchBruteForce();
    void exactMatchesNaiveOnLargerInstances();
    void coverLengthMatchesBruteForce_data();
    void coverLengthMatchesBruteForce();
    void p99BudgetIsMetAndInfeasibleIsReported();
    void bucketCostTradesBuckets();
    void oneDpPassSolvesAndSweeps_data();
    void oneDpPassSolvesAndSweeps();
    void badRequests_data();
    void badRequests();
    void cancelAndProgress();
    void powersOfTwoAsNxdGeneratesThem_data();
    void powersOfTwoAsNxdGeneratesThem();
    void otherBaselines();
    void kneeOfTheParetoFront();
    void reportHasEveryField();
    void tunedBeatsPowersOfTwoOnHeavyTailedTraffic();
    void servedRangeIsKeptUnlessShrunk_data();
    void servedRangeIsKeptUnlessShrunk();
    void serveUpToParses_data();
    void alignedOptimumMatchesBruteForce_data();
    void alignedOptimumMatchesBruteForce();
    void serveUpToParses();
};

void TestTuner::evaluatorFigures()
{
    // Lengths 10 x2, 20, 30; latency 1 + 0.1 L ms; buckets 20 and 30.
    const BucketEvaluator ev(histogram({{10, 2}, {20, 1}, {30, 1}}),
                             LatencyCurve::fromSpec("linear:1,0.1"));
    const Evaluation e = ev.evaluate({20, 30});
    QCOMPARE(e.buckets.size(), size_t(2));
    QCOMPARE(e.buckets[0].firstLength, int64_t(1));
    QCOMPARE(e.buckets[0].lastLength, int64_t(20));
    QCOMPARE(e.buckets[0].requests, int64_t(3));
    QCOMPARE(e.buckets[0].realTokens, int64_t(40));
    QCOMPARE(e.buckets[0].paddedTokens, int64_t(60));
    QVERIFY(close(e.buckets[0].wastePct, 100.0 / 3.0));
    QVERIFY(close(e.buckets[0].latencyMs, 3.0));
    QVERIFY(close(e.buckets[0].trafficPct, 75.0));
    QVERIFY(close(e.buckets[0].latencySharePct, 100.0 * 9.0 / 13.0));
    QCOMPARE(e.buckets[1].firstLength, int64_t(21));
    QCOMPARE(e.buckets[1].wastePct, 0.0);
    QVERIFY(close(e.stats.meanLatencyMs, 13.0 / 4.0));
    QVERIFY(close(e.stats.requestsPerSecond, 1000.0 / 3.25));
    QVERIFY(close(e.stats.wastePct, 100.0 * 20.0 / 90.0));
    QCOMPARE(e.stats.rejected, int64_t(0));
    QVERIFY(close(e.stats.meanPaddedTokens, 90.0 / 4.0));
}

void TestTuner::evaluatorRejectsAboveLargestAndMaxLength()
{
    const BucketEvaluator ev(histogram({{10, 2}, {20, 1}, {30, 1}}),
                             LatencyCurve::fromSpec("linear:1,0.1"));
    const Evaluation e = ev.evaluate({20});
    QCOMPARE(e.stats.rejected, int64_t(1));
    QVERIFY(close(e.stats.rejectedPct, 25.0));
    QVERIFY(close(e.stats.meanLatencyMs, 3.0)); // over the served three
    // A max length of 25 rejects 30 whatever the buckets; a bucket above it serves up to 25.
    const BucketEvaluator capped(histogram({{10, 2}, {20, 1}, {30, 1}}),
                                 LatencyCurve::fromSpec("linear:1,0.1"), 25);
    const Evaluation c = capped.evaluate({40});
    QCOMPARE(c.stats.served, int64_t(3));
    QCOMPARE(c.buckets[0].lastLength, int64_t(25));
    QCOMPARE(capped.servedDistinct(), size_t(2));
    QVERIFY_THROWS_EXCEPTION(Error, ev.evaluate({20, 10}));
    QCOMPARE(ev.evaluate({}).stats.rejected, ev.histogram().total()); // no bucket serves anything
    QVERIFY_THROWS_EXCEPTION(Error, ev.evaluate({10, int64_t(1) << 40}));
}

void TestTuner::evaluatorPercentilesUseNearestRank()
{
    // 100 requests: 98 of length 1, 2 of length 50. Nearest rank ceil(0.99 * 100) = 99 is a
    // long request, so p99 is the long bucket's latency even though 98 % are short.
    const BucketEvaluator ev(histogram({{1, 98}, {50, 2}}), LatencyCurve::fromSpec("linear:0,1"));
    const Evaluation e = ev.evaluate({1, 50});
    QCOMPARE(e.stats.p50LatencyMs, 1.0);
    QCOMPARE(e.stats.p90LatencyMs, 1.0);
    QCOMPARE(e.stats.p99LatencyMs, 50.0);
    // With 99 short requests the 99th is short.
    const BucketEvaluator ev2(histogram({{1, 99}, {50, 1}}), LatencyCurve::fromSpec("linear:0,1"));
    QCOMPARE(ev2.evaluate({1, 50}).stats.p99LatencyMs, 1.0);
    QCOMPARE(ev2.totals({1, 50}).p99LatencyMs, 1.0);
}

void TestTuner::randomInstancesMatchBruteForce_data()
{
    QTest::addColumn<int>("objective");
    QTest::addColumn<bool>("withCost");
    QTest::addColumn<bool>("withMaxLength");
    const std::pair<const char*, TuneObjective> objectives[] = {
        {"mean", TuneObjective::MeanLatency},
        {"tokens", TuneObjective::PaddedTokens},
        {"p99", TuneObjective::MeanLatencyP99Budget}};
    for (const auto& [name, o] : objectives)
        for (bool cost : {false, true})
            for (bool cap : {false, true})
                QTest::addRow("%s%s%s", name, cost ? ", bucket cost" : "",
                              cap ? ", max length" : "")
                    << int(o) << cost << cap;
}

void TestTuner::randomInstancesMatchBruteForce()
{
    QFETCH(int, objective);
    QFETCH(bool, withCost);
    QFETCH(bool, withMaxLength);
    std::mt19937_64 rng(1234 + uint64_t(objective) * 10 + withCost * 2 + withMaxLength);
    auto uniform = [&](int64_t lo, int64_t hi) {
        return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
    };
    int checked = 0, infeasible = 0;
    for (int instance = 0; instance < 1000; ++instance) {
        std::vector<std::pair<int64_t, int64_t>> counts;
        const int distinct = int(uniform(1, 10));
        for (int i = 0; i < distinct; ++i)
            counts.emplace_back(uniform(1, 80), uniform(1, 30));
        const LengthHistogram h = histogram(counts);
        // Curves: measured points in random order and values (the envelope makes them
        // non-decreasing), or an analytic polynomial.
        LatencyCurve curve;
        if (uniform(0, 3) == 0)
            curve = LatencyCurve::fromSpec("poly:" + std::to_string(uniform(1, 5)) + "," +
                                           std::to_string(double(uniform(0, 10)) / 10) + ",0.01");
        else {
            std::vector<LatencyPoint> pts;
            std::vector<int64_t> used;
            for (int i = 0, m = int(uniform(1, 6)); i < m; ++i) {
                const int64_t l = uniform(1, 90);
                if (std::find(used.begin(), used.end(), l) != used.end())
                    continue;
                used.push_back(l);
                pts.push_back({l, double(uniform(1, 1000)) / 10.0});
            }
            curve = LatencyCurve::fromPoints(pts, "random");
        }
        const int64_t maxLength = withMaxLength ? uniform(h.minLength(), h.maxLength()) : 0;
        const BucketEvaluator ev(h, curve, maxLength);
        const BoundaryTuner tuner(ev);
        const size_t n = ev.servedDistinct();
        std::vector<int64_t> candidates(h.lengths().begin(),
                                        h.lengths().begin() + std::ptrdiff_t(n));
        TuneSettings s;
        s.objective = TuneObjective(objective);
        s.buckets = int(uniform(1, int64_t(n)));
        s.bucketCost = withCost ? double(uniform(0, 40)) / 10.0 : 0.0;
        if (s.objective == TuneObjective::MeanLatencyP99Budget) {
            const double lo = ev.latencyAtLength().front(), hi = ev.latencyAtLength()[n - 1];
            s.p99BudgetMs = lo + (hi - lo) * double(uniform(-10, 110)) / 100.0;
            if (s.p99BudgetMs <= 0)
                s.p99BudgetMs = lo;
        }
        double expected = std::numeric_limits<double>::infinity();
        for (int k = withCost ? 1 : s.buckets; k <= s.buckets; ++k)
            expected = std::min(expected, bruteForce(tuner, candidates, k, s));
        for (TuneAlgorithm a : {TuneAlgorithm::Exact, TuneAlgorithm::Naive}) {
            s.algorithm = a;
            const TuneSolution sol = tuner.solve(s);
            const QByteArray where = QStringLiteral("instance %1, %2, K=%3")
                                         .arg(instance)
                                         .arg(a == TuneAlgorithm::Exact ? "exact" : "naive")
                                         .arg(s.buckets)
                                         .toUtf8();
            if (std::isinf(expected)) {
                QVERIFY2(!sol.feasible, where.constData());
                QVERIFY2(!sol.infeasibleReason.empty(), where.constData());
                continue;
            }
            QVERIFY2(sol.feasible, where.constData());
            QVERIFY2(close(sol.objective, expected),
                     (where + QByteArray(": ") + QByteArray::number(sol.objective, 'g', 17) +
                      " vs brute force " + QByteArray::number(expected, 'g', 17))
                         .constData());
            // The reported objective is what the evaluator says of the reported boundaries.
            QVERIFY2(close(tuner.objectiveOf(sol.boundaries, s), sol.objective), where.constData());
            QVERIFY2(withCost || int(sol.boundaries.size()) == s.buckets, where.constData());
        }
        std::isinf(expected) ? ++infeasible : ++checked;
    }
    qInfo("%d instances compared, %d infeasible", checked, infeasible);
    QVERIFY(checked > 300); // most instances are feasible, so the comparison has teeth
    if (objective == int(TuneObjective::MeanLatencyP99Budget))
        QVERIFY(infeasible > 0); // and some budgets are out of reach
}

void TestTuner::coverLengthMatchesBruteForce_data()
{
    QTest::addColumn<int>("objective");
    QTest::addRow("mean") << int(TuneObjective::MeanLatency);
    QTest::addRow("tokens") << int(TuneObjective::PaddedTokens);
    QTest::addRow("p99") << int(TuneObjective::MeanLatencyP99Budget);
}

void TestTuner::coverLengthMatchesBruteForce()
{
    QFETCH(int, objective);
    std::mt19937_64 rng(777 + uint64_t(objective));
    auto uniform = [&](int64_t lo, int64_t hi) {
        return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
    };
    int checked = 0, emptyLast = 0;
    for (int instance = 0; instance < 1000; ++instance) {
        std::vector<std::pair<int64_t, int64_t>> counts;
        for (int i = 0, m = int(uniform(1, 9)); i < m; ++i)
            counts.emplace_back(uniform(1, 80), uniform(1, 30));
        const LengthHistogram h = histogram(counts);
        const LatencyCurve curve =
            LatencyCurve::fromSpec("poly:" + std::to_string(uniform(1, 5)) + "," +
                                   std::to_string(double(uniform(0, 10)) / 10) + ",0.01");
        // The cover is the longest request itself or beyond it (today's largest bucket).
        const int64_t cover = h.maxLength() + (uniform(0, 3) == 0 ? 0 : uniform(1, 60));
        const BucketEvaluator ev(h, curve, cover);
        const BoundaryTuner tuner(ev);
        TuneSettings s;
        s.objective = TuneObjective(objective);
        s.coverLength = cover;
        const int64_t usable = int64_t(h.distinct()) + (cover > h.maxLength() ? 1 : 0);
        s.buckets = int(uniform(1, usable));
        if (s.objective == TuneObjective::MeanLatencyP99Budget)
            s.p99BudgetMs = curve.at(h.lengths()[h.distinct() / 2]) +
                            double(uniform(0, 100)) / 100.0 * curve.at(cover);
        const double expected = bruteForceCovered(tuner, h.lengths(), s.buckets, cover, s);
        for (TuneAlgorithm a : {TuneAlgorithm::Exact, TuneAlgorithm::Naive}) {
            s.algorithm = a;
            const TuneSolution sol = tuner.solve(s);
            const QByteArray where = QStringLiteral("instance %1, K=%2, cover %3")
                                         .arg(instance)
                                         .arg(s.buckets)
                                         .arg(cover)
                                         .toUtf8();
            if (std::isinf(expected)) {
                QVERIFY2(!sol.feasible, where.constData());
                continue;
            }
            QVERIFY2(sol.feasible, where.constData());
            QVERIFY2(close(sol.objective, expected),
                     (where + ": " + QByteArray::number(sol.objective, 'g', 17) + " vs " +
                      QByteArray::number(expected, 'g', 17))
                         .constData());
            QCOMPARE(sol.boundaries.largest(), cover);
            QCOMPARE(int(sol.boundaries.size()), s.buckets);
            if (a == TuneAlgorithm::Exact && s.buckets > 1 &&
                sol.boundaries[sol.boundaries.size() - 2] >= h.maxLength())
                ++emptyLast;
        }
        if (!std::isinf(expected))
            ++checked;
    }
    qInfo("%d instances compared, %d with a covering bucket that serves nothing", checked,
          emptyLast);
    QVERIFY(checked > 300);
}

void TestTuner::exactMatchesNaiveOnLargerInstances()
{
    std::mt19937_64 rng(99);
    for (int instance = 0; instance < 60; ++instance) {
        const std::string spec = "lognormal:mu=" + std::to_string(3 + instance % 4) +
                                 ",sigma=0.8,max=3000,n=20000,seed=" + std::to_string(instance);
        const LengthHistogram h = syntheticDistribution(spec);
        std::vector<LatencyPoint> pts;
        for (int64_t l = 16; l <= 4096; l *= 2)
            pts.push_back({l, 0.5 + double(l) * (0.5 + double(rng() % 100) / 100.0) / 100.0});
        const BucketEvaluator ev(h, LatencyCurve::fromPoints(pts, "random"));
        const BoundaryTuner tuner(ev);
        for (TuneObjective o : {TuneObjective::MeanLatency, TuneObjective::PaddedTokens,
                                TuneObjective::MeanLatencyP99Budget}) {
            TuneSettings s;
            s.objective = o;
            s.buckets = 1 + instance % 12;
            s.p99BudgetMs = ev.latencyAtLength()[h.distinct() * 9 / 10];
            s.algorithm = TuneAlgorithm::Exact;
            const auto exact = tuner.solve(s);
            s.algorithm = TuneAlgorithm::Naive;
            const auto naive = tuner.solve(s);
            QCOMPARE(exact.feasible, naive.feasible);
            if (exact.feasible)
                QVERIFY2(close(exact.objective, naive.objective),
                         qPrintable(QString::fromStdString(spec)));
        }
    }
}

void TestTuner::p99BudgetIsMetAndInfeasibleIsReported()
{
    const LengthHistogram h = syntheticDistribution("lognormal:mu=5,sigma=0.7,max=2000,seed=5");
    const BucketEvaluator ev(h, LatencyCurve::fromSpec("linear:1,0.01"));
    const BoundaryTuner tuner(ev);
    TuneSettings free;
    free.buckets = 3;
    const auto unconstrained = tuner.solve(free);
    const double p99Free = ev.evaluate(unconstrained.boundaries).stats.p99LatencyMs;
    TuneSettings s = free;
    s.objective = TuneObjective::MeanLatencyP99Budget;
    s.p99BudgetMs = p99Free * 0.8; // tighter than the unconstrained optimum gives
    const auto constrained = tuner.solve(s);
    QVERIFY(constrained.feasible);
    QVERIFY(ev.evaluate(constrained.boundaries).stats.p99LatencyMs <= s.p99BudgetMs);
    QVERIFY(constrained.objective >= unconstrained.objective); // the budget has a price
    // Below the latency of a bucket holding exactly the 99th-percentile length: infeasible.
    s.p99BudgetMs = 1.0 + 0.01 * double(h.quantile(0.99)) - 0.001;
    const auto none = tuner.solve(s);
    QVERIFY(!none.feasible);
    QVERIFY(none.infeasibleReason.find("99th-percentile request") != std::string::npos);
    QVERIFY(none.toJson()["feasible"] == false);
    QVERIFY(constrained.toJson()["boundaries"].is_array());
    // One bucket must be the longest length: a budget below it is infeasible at K = 1 only.
    s.buckets = 1;
    s.p99BudgetMs = 1.0 + 0.01 * double(h.maxLength()) - 0.001;
    QVERIFY(!tuner.solve(s).feasible);
    s.buckets = 2;
    QVERIFY(tuner.solve(s).feasible);
}

void TestTuner::bucketCostTradesBuckets()
{
    const LengthHistogram h = syntheticDistribution("lognormal:mu=5,sigma=0.7,max=2000,seed=6");
    const BucketEvaluator ev(h, LatencyCurve::fromSpec("linear:1,0.01"));
    const BoundaryTuner tuner(ev);
    TuneSettings s;
    s.buckets = 12;
    const auto sweep = tuner.sweep(s, 12);
    // A cost between the gains of the 2nd and 3rd bucket makes exactly 2 buckets best.
    const double gain2 = sweep[0].objective - sweep[1].objective;
    const double gain3 = sweep[1].objective - sweep[2].objective;
    QVERIFY(gain2 > gain3);
    s.bucketCost = (gain2 + gain3) / 2;
    const auto two = tuner.solve(s);
    QCOMPARE(two.boundaries.size(), size_t(2));
    QVERIFY(close(two.objective, sweep[1].objective + 2 * s.bucketCost));
    s.bucketCost = 0;
    QCOMPARE(tuner.solve(s).boundaries.size(), size_t(12));
}

void TestTuner::oneDpPassSolvesAndSweeps_data()
{
    QTest::addColumn<int>("buckets");
    QTest::addColumn<int>("kMax");
    QTest::addColumn<double>("bucketCost");
    QTest::addColumn<int>("objective");
    QTest::addColumn<int64_t>("cover");
    const int mean = int(TuneObjective::MeanLatency);
    QTest::addRow("K 4, front to 8") << 4 << 8 << 0.0 << mean << int64_t(0);
    QTest::addRow("K 8, front to 3") << 8 << 3 << 0.0 << mean << int64_t(0);
    QTest::addRow("K 6, no front") << 6 << 0 << 0.0 << mean << int64_t(0);
    QTest::addRow("bucket cost") << 10 << 12 << 0.05 << mean << int64_t(0);
    QTest::addRow("padded tokens")
        << 5 << 9 << 0.0 << int(TuneObjective::PaddedTokens) << int64_t(0);
    QTest::addRow("p99 budget") << 4 << 7 << 0.0 << int(TuneObjective::MeanLatencyP99Budget)
                                << int64_t(0);
    QTest::addRow("cover 3000") << 5 << 8 << 0.0 << mean << int64_t(3000);
}

// tune prices the optimum and the Pareto front from one DP pass over max(K, kMax) bucket
// counts; each must be exactly what its own pass gives.
void TestTuner::oneDpPassSolvesAndSweeps()
{
    QFETCH(int, buckets);
    QFETCH(int, kMax);
    QFETCH(double, bucketCost);
    QFETCH(int, objective);
    QFETCH(int64_t, cover);
    const LengthHistogram h = syntheticDistribution("lognormal:mu=5,sigma=0.9,max=2000,seed=11");
    const BucketEvaluator ev(h, LatencyCurve::fromSpec("poly:1,0.01,0.00001"));
    const BoundaryTuner tuner(ev);
    TuneSettings s;
    s.buckets = buckets;
    s.bucketCost = bucketCost;
    s.objective = TuneObjective(objective);
    s.coverLength = cover;
    if (s.objective == TuneObjective::MeanLatencyP99Budget)
        s.p99BudgetMs = ev.curve().at(h.maxLength()) * 0.9; // binds, meetable from K = 2
    const auto [solution, front] = tuner.solveAndSweep(s, kMax);
    const TuneSolution alone = tuner.solve(s);
    QVERIFY(solution.feasible && alone.feasible);
    QCOMPARE(solution.boundaries.str(), alone.boundaries.str());
    QCOMPARE(solution.objective, alone.objective);
    QCOMPARE(int(front.size()), kMax);
    if (kMax == 0)
        return;
    const auto sweep = tuner.sweep(s, kMax);
    for (int k = 0; k < kMax; ++k) {
        QCOMPARE(front[size_t(k)].feasible, sweep[size_t(k)].feasible);
        QCOMPARE(front[size_t(k)].boundaries.str(), sweep[size_t(k)].boundaries.str());
        QCOMPARE(front[size_t(k)].objective, sweep[size_t(k)].objective);
    }
    // The front's entry at K is the optimum when buckets cost nothing.
    if (bucketCost == 0 && buckets <= kMax)
        QCOMPARE(front[size_t(buckets - 1)].boundaries.str(), solution.boundaries.str());
}

void TestTuner::badRequests_data()
{
    QTest::addColumn<int>("buckets");
    QTest::addColumn<QString>("objective");
    QTest::addColumn<double>("value");
    QTest::addColumn<QString>("mentions");
    QTest::addRow("zero buckets") << 0 << "mean" << 0.0 << "at least 1";
    QTest::addRow("more buckets than lengths")
        << 4 << "mean" << 0.0 << "is 4 but the traffic has only 3 distinct";
    QTest::addRow("zero p99 budget") << 2 << "p99" << 0.0 << "positive";
    QTest::addRow("nan p99 budget") << 2 << "p99" << std::nan("") << "positive";
    QTest::addRow("negative bucket cost") << 2 << "cost" << -1.0 << "the cost per bucket";
}

void TestTuner::badRequests()
{
    QFETCH(int, buckets);
    QFETCH(QString, objective);
    QFETCH(double, value);
    QFETCH(QString, mentions);
    const BucketEvaluator ev(histogram({{10, 1}, {20, 1}, {30, 1}}),
                             LatencyCurve::fromSpec("linear:1,1"));
    TuneSettings s;
    s.buckets = buckets;
    if (objective == "p99") {
        s.objective = TuneObjective::MeanLatencyP99Budget;
        s.p99BudgetMs = value;
    } else if (objective == "cost")
        s.bucketCost = value;
    try {
        BoundaryTuner(ev).solve(s);
        QFAIL("no error");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).contains(mentions), e.what());
    }
    // No traffic at or below the max length.
    const BucketEvaluator capped(histogram({{10, 1}}), LatencyCurve::fromSpec("linear:1,1"), 5);
    TuneSettings one;
    one.buckets = 1;
    QVERIFY_THROWS_EXCEPTION(Error, BoundaryTuner(capped).solve(one));
}

void TestTuner::cancelAndProgress()
{
    const LengthHistogram h = syntheticDistribution("uniform:min=1,max=3000,n=50000,seed=2");
    const BucketEvaluator ev(h, LatencyCurve::fromSpec("linear:1,0.01"));
    TuneSettings s;
    s.buckets = 6;
    std::vector<double> fractions;
    const Job job([&](double f, const std::string&) { fractions.push_back(f); });
    BoundaryTuner(ev).solve(s, job);
    QCOMPARE(fractions.size(), size_t(6));
    QVERIFY(std::is_sorted(fractions.begin(), fractions.end()));
    QCOMPARE(fractions.back(), 1.0);
    std::atomic<bool> cancel{false};
    const Job cancelling([&](double, const std::string&) { cancel = true; }, &cancel);
    QVERIFY_THROWS_EXCEPTION(Cancelled, BoundaryTuner(ev).solve(s, cancelling));
    s.algorithm = TuneAlgorithm::Naive;
    cancel = false;
    QVERIFY_THROWS_EXCEPTION(Cancelled, BoundaryTuner(ev).solve(s, cancelling));
}

void TestTuner::powersOfTwoAsNxdGeneratesThem_data()
{
    QTest::addColumn<qint64>("longest");
    QTest::addColumn<qint64>("maxLength");
    QTest::addColumn<QString>("expected");
    QTest::addRow("short traffic") << qint64(100) << qint64(0) << "128";
    QTest::addRow("exactly 128") << qint64(128) << qint64(0) << "128";
    QTest::addRow("just above") << qint64(129) << qint64(0) << "128,256";
    QTest::addRow("MRPC-like") << qint64(437) << qint64(0) << "128,256,512";
    // With a model maximum: NxD's generate_buckets(128, max) ends at max itself and rounds
    // log2(max), so 600 gets no 512 bucket but 1000 does.
    QTest::addRow("max 512") << qint64(300) << qint64(512) << "128,256,512";
    QTest::addRow("max 600") << qint64(300) << qint64(600) << "128,256,600";
    QTest::addRow("max 1000") << qint64(300) << qint64(1000) << "128,256,512,1000";
    QTest::addRow("max 100") << qint64(90) << qint64(100) << "100";
}

void TestTuner::powersOfTwoAsNxdGeneratesThem()
{
    QFETCH(qint64, longest);
    QFETCH(qint64, maxLength);
    QFETCH(QString, expected);
    const auto b = powersOfTwoBoundaries(longest, maxLength);
    QString got;
    for (int64_t v : b)
        got += (got.isEmpty() ? "" : ",") + QString::number(v);
    QCOMPARE(got, expected);
}

void TestTuner::otherBaselines()
{
    // 10 requests at each of 1..10: quartiles at ranks 25, 50, 75, 100.
    std::vector<std::pair<int64_t, int64_t>> counts;
    for (int64_t l = 1; l <= 10; ++l)
        counts.emplace_back(l * 10, 10);
    const LengthHistogram h = histogram(counts);
    QCOMPARE(equalMassBoundaries(h, 4), (std::vector<int64_t>{30, 50, 80, 100}));
    QCOMPARE(uniformBoundaries(100, 3), (std::vector<int64_t>{34, 67, 100}));
    // Ties collapse: all traffic at one length gives one boundary.
    QCOMPARE(equalMassBoundaries(histogram({{7, 100}}), 4), (std::vector<int64_t>{7}));
}

void TestTuner::kneeOfTheParetoFront()
{
    QCOMPARE(kneeIndex({10, 5, 4, 3.8, 3.7}), 1);
    QCOMPARE(kneeIndex({10, 9, 8, 7, 6}), -1); // a straight line has no knee
    QCOMPARE(kneeIndex({10, 5}), -1);
    QCOMPARE(kneeIndex({10, 9.5, 9, 3, 2.9}), 3);
}

void TestTuner::reportHasEveryField()
{
    const BucketEvaluator ev(syntheticDistribution("lognormal:mu=5,sigma=0.8,max=3000,seed=3"),
                             measuredLookingCurve(), 2048);
    TuningRequest req;
    req.settings.buckets = 4;
    req.current = {128, 512, 2048};
    req.distributionSource = "synthetic";
    const TuningReport r = tuneAndCompare(ev, req);
    QVERIFY(r.solution.feasible);
    QCOMPARE(r.baselines.size(), size_t(4));
    QCOMPARE(r.baselines[0].name, std::string("current"));
    for (const auto& b : r.baselines)
        if (b.evaluation.boundaries.size() <= 4) // no 4-bucket set can beat the optimum
            QVERIFY2(b.tunedGainPct >= -1e-9, b.name.c_str());
    QCOMPARE(r.pareto.size(), size_t(8));
    QVERIFY(r.kneeBuckets >= 2 && r.kneeBuckets <= 7);
    // Notes: the slow 192 bucket, and traffic above the max length.
    bool latencyNote = false, rejectedNote = false;
    for (const auto& n : r.notes) {
        latencyNote = latencyNote || n.find("bucket 192 measured") != std::string::npos;
        rejectedNote = rejectedNote || n.find("above the maximum length 2048") != std::string::npos;
    }
    QVERIFY(latencyNote);
    QVERIFY(rejectedNote);
    const std::string json = r.toJson().dump(2);
    for (const char* key :
         {"\"boundaries\"", "\"buckets\"", "\"stats\"", "\"baselines\"", "\"pareto\"",
          "\"solve_ms\"", "\"mean_latency_ms\"", "\"p99_latency_ms\"", "\"waste_pct\"",
          "\"rejected_pct\"", "\"tuned_gain_pct\"", "\"knee\""})
        QVERIFY2(json.find(key) != std::string::npos, key);
}

void TestTuner::tunedBeatsPowersOfTwoOnHeavyTailedTraffic()
{
    // Heavy-tailed traffic for a model with 1024 positions: a median of 33 tokens (search
    // and chat queries), p99 338, a tail truncated at 1024. NxD's default buckets for it are
    // 128, 256, 512, 1024: four, the same count as the tuned set, so the comparison is like
    // for like. (With a median near 100 tokens the same curve makes powers of two nearly
    // optimal, within 0.4 %: how much tuning buys depends on the traffic, which is the
    // point of measuring it.)
    const LengthHistogram h =
        syntheticDistribution("lognormal:mu=3.5,sigma=1.0,max=1024,n=1000000,seed=42");
    const BucketEvaluator ev(h, measuredLookingCurve(), 1024);
    TuningRequest req;
    req.settings.buckets = 4;
    req.paretoMax = -1;
    const TuningReport r = tuneAndCompare(ev, req);
    const auto& p2 = r.baselines[0];
    QCOMPARE(p2.name, std::string("powers_of_two"));
    QCOMPARE(p2.evaluation.boundaries, (std::vector<int64_t>{128, 256, 512, 1024}));
    qInfo("tuned %s: mean %.4f ms, waste %.2f%%; powers of two: mean %.4f ms, waste %.2f%%; "
          "tuned is %.2f%% faster",
          r.solution.boundaries.str().c_str(), r.evaluation.stats.meanLatencyMs,
          r.evaluation.stats.wastePct, p2.evaluation.stats.meanLatencyMs,
          p2.evaluation.stats.wastePct, p2.tunedGainPct);
    QVERIFY(r.evaluation.stats.meanLatencyMs < p2.evaluation.stats.meanLatencyMs);
    QVERIFY(p2.tunedGainPct > 5.0);
}

void TestTuner::servedRangeIsKeptUnlessShrunk_data()
{
    QTest::addColumn<QString>("serveUpTo");
    QTest::addColumn<bool>("withCurrent");
    QTest::addColumn<qint64>("largest");
    QTest::addColumn<qint64>("refused"); // requests the current set serves, refused
    // Traffic 19..111 tokens; the current set 128,512 serves up to 512.
    QTest::addRow("default keeps the current largest") << "" << true << 512ll << 0ll;
    QTest::addRow("current, said") << "current" << true << 512ll << 0ll;
    QTest::addRow("traffic: shrinks, refuses none seen") << "traffic" << true << 111ll << 0ll;
    QTest::addRow("64: refuses 65..111") << "64" << true << 64ll << -1ll;
    QTest::addRow("1024: serves more") << "1024" << true << 1024ll << 0ll;
    QTest::addRow("no current set: the traffic's longest") << "" << false << 111ll << 0ll;
}

void TestTuner::servedRangeIsKeptUnlessShrunk()
{
    QFETCH(QString, serveUpTo);
    QFETCH(bool, withCurrent);
    QFETCH(qint64, largest);
    QFETCH(qint64, refused);
    std::vector<std::pair<int64_t, int64_t>> counts;
    for (int64_t len = 19; len <= 111; ++len)
        counts.emplace_back(len, 1 + (len * 7) % 13);
    const LengthHistogram h = histogram(counts);
    const BucketEvaluator ev(h, LatencyCurve::fromSpec("linear:1,0.05"));
    TuningRequest req;
    req.settings.buckets = 4;
    req.serveUpTo = ServeUpTo::parse(serveUpTo.toStdString());
    if (withCurrent)
        req.current = {128, 512};
    const TuningReport r = tuneAndCompare(ev, req);
    QVERIFY(r.solution.feasible);
    QCOMPARE(r.solution.boundaries.largest(), int64_t(largest));
    QCOMPARE(r.solution.boundaries.size(), size_t(4));
    const int64_t expectRefused = refused >= 0 ? refused : h.total() - h.countAtMost(64);
    QCOMPARE(r.range.refusedRequests, expectRefused);
    QCOMPARE(r.range.refuses(), expectRefused > 0);
    QCOMPARE(r.range.shrinks(), withCurrent && largest < 512);
    const std::string said = r.range.describe();
    if (r.range.refuses()) {
        QCOMPARE(r.range.firstRefused, int64_t(65));
        QCOMPARE(r.range.lastRefused, int64_t(111));
        QCOMPARE(r.range.refusedPct, 100.0 * double(expectRefused) / double(h.total()));
        QVERIFY2(said.find("65..111") != std::string::npos, said.c_str());
        QVERIFY2(said.find("would be refused") != std::string::npos, said.c_str());
    } else if (r.range.shrinks()) {
        QVERIFY2(said.find("no request of this traffic is longer") != std::string::npos,
                 said.c_str());
    } else {
        QVERIFY2(said.find("would be refused") == std::string::npos, said.c_str());
    }
    QCOMPARE(r.toJson().at("served_range").at("refused_requests").get<int64_t>(), expectRefused);
    if (!withCurrent)
        return;
    // "Better by" against the current set is over the requests both serve.
    const BaselineResult& current = r.baselines.front();
    QCOMPARE(current.name, std::string("current"));
    QCOMPARE(current.refusedByTuned, expectRefused);
    if (expectRefused == 0) {
        QCOMPARE(current.comparedRequests, h.total());
        QCOMPARE(current.tunedGainPct,
                 100.0 * (current.objective - r.solution.objective) / current.objective);
    } else {
        QCOMPARE(current.comparedRequests, h.countAtMost(64));
        const BucketEvaluator common(h.truncated(64), ev.curve());
        const double before = common.evaluate(req.current).stats.meanLatencyMs;
        const double after = common.evaluate(r.solution.boundaries).stats.meanLatencyMs;
        QVERIFY(close(current.tunedGainPct, 100.0 * (before - after) / before));
        QVERIFY2(current.note.find("refuses") != std::string::npos, current.note.c_str());
    }
}

void TestTuner::serveUpToParses_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<int>("mode"); // -1: an error
    QTest::addColumn<qint64>("cover");
    QTest::addRow("empty") << "" << int(ServeUpTo::Mode::KeepCurrent) << 512ll;
    QTest::addRow("current") << "current" << int(ServeUpTo::Mode::KeepCurrent) << 512ll;
    QTest::addRow("traffic") << "traffic" << int(ServeUpTo::Mode::Traffic) << 0ll;
    QTest::addRow("a length") << "300" << int(ServeUpTo::Mode::Length) << 300ll;
    QTest::addRow("zero") << "0" << -1 << 0ll;
    QTest::addRow("a word") << "largest" << -1 << 0ll;
    QTest::addRow("above the longest length") << "99999999999" << -1 << 0ll;
}

void TestTuner::serveUpToParses()
{
    QFETCH(QString, text);
    QFETCH(int, mode);
    QFETCH(qint64, cover);
    if (mode < 0) {
        try {
            ServeUpTo::parse(text.toStdString());
            QFAIL("accepted");
        } catch (const Error& e) {
            QCOMPARE(e.field(), Field::ServeUpTo);
            QVERIFY2(std::string(e.what()).find("current") != std::string::npos, e.what());
        }
        return;
    }
    const ServeUpTo s = ServeUpTo::parse(text.toStdString());
    QCOMPARE(int(s.mode), mode);
    QCOMPARE(s.coverFor(Boundaries{128, 512}), int64_t(cover));
    QCOMPARE(ServeUpTo::parse(s.str()).coverFor(Boundaries{128, 512}), int64_t(cover));
}

void TestTuner::alignedOptimumMatchesBruteForce_data()
{
    QTest::addColumn<int>("objective");
    QTest::addColumn<bool>("covered");
    QTest::addRow("mean") << int(TuneObjective::MeanLatency) << false;
    QTest::addRow("tokens") << int(TuneObjective::PaddedTokens) << false;
    QTest::addRow("mean, covered") << int(TuneObjective::MeanLatency) << true;
    QTest::addRow("tokens, covered") << int(TuneObjective::PaddedTokens) << true;
}

void TestTuner::alignedOptimumMatchesBruteForce()
{
    // --align N: the optimum over every set of multiples of N (the cover length may end the
    // last bucket), priced on the real traffic, by brute force.
    QFETCH(int, objective);
    QFETCH(bool, covered);
    std::mt19937_64 rng(4242 + uint64_t(objective) + (covered ? 100 : 0));
    auto uniform = [&](int64_t lo, int64_t hi) {
        return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
    };
    int checked = 0;
    for (int instance = 0; instance < 300; ++instance) {
        std::vector<std::pair<int64_t, int64_t>> counts;
        for (int i = 0, m = int(uniform(1, 12)); i < m; ++i)
            counts.emplace_back(uniform(1, 100), uniform(1, 30));
        const LengthHistogram h = histogram(counts);
        const LatencyCurve curve =
            LatencyCurve::fromSpec("poly:" + std::to_string(uniform(1, 5)) + "," +
                                   std::to_string(double(uniform(0, 10)) / 10) + ",0.01");
        const int64_t align = int64_t(1) << uniform(3, 5); // 8 .. 32: brute force stays small
        const int64_t cover = covered ? h.maxLength() + uniform(0, 40) : 0;
        const BucketEvaluator ev(h, curve);
        const BoundaryTuner plain(ev);
        // The allowed boundaries: multiples of N up to the one that serves the longest request,
        // or below the cover length plus the cover length itself.
        std::vector<int64_t> candidates;
        const int64_t top = cover > 0 ? cover : (h.maxLength() + align - 1) / align * align;
        for (int64_t b = align; b < top; b += align)
            candidates.push_back(b);
        candidates.push_back(top);
        TuningRequest req;
        req.settings.objective = TuneObjective(objective);
        req.settings.align = align;
        req.paretoMax = -1;
        if (cover > 0)
            req.serveUpTo = ServeUpTo::upTo(cover);
        // Only sets that serve every request: as many buckets as there are allowed boundaries
        // at or above some request.
        std::set<int64_t> usable;
        for (int64_t l : h.lengths())
            usable.insert(std::min(top, (l + align - 1) / align * align));
        if (cover > 0)
            usable.insert(cover);
        req.settings.buckets = int(uniform(1, int64_t(usable.size())));
        const TuningReport r = tuneAndCompare(ev, req);
        const QByteArray where = QStringLiteral("instance %1, K=%2, align %3, cover %4")
                                     .arg(instance)
                                     .arg(req.settings.buckets)
                                     .arg(align)
                                     .arg(cover)
                                     .toUtf8();
        QVERIFY2(r.solution.feasible, where.constData());
        const auto& b = r.solution.boundaries;
        for (size_t i = 0; i + 1 < b.size(); ++i)
            QVERIFY2(b[i] % align == 0, where.constData());
        QVERIFY2(b.largest() == top, where.constData());
        // Priced on the real traffic, the tuner's figure is the evaluator's.
        QVERIFY2(close(r.solution.objective, plain.objectiveOf(b, req.settings)),
                 where.constData());
        const double expected =
            cover > 0
                ? bruteForceCovered(plain, candidates, req.settings.buckets, cover, req.settings)
                : bruteForce(plain, candidates, req.settings.buckets, req.settings);
        QVERIFY2(close(r.solution.objective, expected),
                 (where + ": " + QByteArray::number(r.solution.objective, 'g', 17) + " vs " +
                  QByteArray::number(expected, 'g', 17))
                     .constData());
        ++checked;
    }
    QCOMPARE(checked, 300);
    // A bad alignment is an error about that field.
    TuningRequest bad;
    bad.settings.align = 0;
    try {
        tuneAndCompare(BucketEvaluator(histogram({{10, 1}}), LatencyCurve::fromSpec("linear:1,1")),
                       bad);
        QFAIL("align 0 accepted");
    } catch (const Error& e) {
        QCOMPARE(e.field(), Field::Align);
    }
}

QTEST_GUILESS_MAIN(TestTuner)
#include "tst_tuner.moc"
