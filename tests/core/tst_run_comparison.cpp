// Two runs side by side (core/report/run_comparison.h): every set priced on both runs with
// the evaluator's figures, the best set on each run, run B's own optimum (kept to the served
// range), a project's sets folded into rows of the same boundaries, and the plain sentence.
// Also the chart legend that wraps when two runs' names do not fit in one row.
#include "core/report/boundary_report.h"
#include "core/report/run_comparison.h"
#include "core/report/svg_chart.h"
#include "core/traffic/distribution.h"

#include <QRegularExpression>
#include <QSet>
#include <QTest>

using namespace bucketlab;

namespace {

const char* kTrafficA = "lognormal:mu=4,sigma=0.3,max=512,n=20000,seed=1"; // ~55 tokens
const char* kCurve = "linear:1,0.03";

struct Runs {
    BucketEvaluator a, b;
    BoundaryComparison primary;
    RunComparison result;
};

Runs compare(const std::string& trafficB, std::vector<NamedBoundarySet> setsOfB = {})
{
    BucketEvaluator a(loadDistribution(kTrafficA, {}), LatencyCurve::load(kCurve));
    BucketEvaluator b(loadDistribution(trafficB, {}), LatencyCurve::load(kCurve));
    BoundaryComparisonRequest request;
    request.current = Boundaries{128, 512};
    request.buckets = 3;
    BoundaryComparison primary = compareBoundaries(a, request);
    RunComparisonRequest r;
    r.primary = &primary;
    r.runA = &a;
    r.runB = &b;
    r.setsOfB = std::move(setsOfB);
    RunComparison result = compareRuns(r);
    return {std::move(a), std::move(b), std::move(primary), std::move(result)};
}

const PricedBoundarySet* named(const RunComparison& rc, const std::string& name)
{
    for (const auto& s : rc.sets)
        if (s.name == name)
            return &s;
    return nullptr;
}

} // namespace

class TestRunComparison : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void pricesEverySetOnBothRuns_data();
    void pricesEverySetOnBothRuns();
    void tunedLosesOnLongerTraffic();
    void sameRunSameBest();
    void optimumOfBKeepsTheServedRange();
    void projectSetsJoinRowsOfTheSameBoundaries();
    void tooFewLengthsForAnOptimumOfB();
    void legendWraps();
};

void TestRunComparison::pricesEverySetOnBothRuns_data()
{
    QTest::addColumn<QString>("trafficB");
    QTest::addRow("same traffic") << kTrafficA;
    QTest::addRow("longer traffic") << "lognormal:mu=5,sigma=0.4,max=512,n=8000,seed=2";
    QTest::addRow("traffic beyond 512") << "uniform:max=800,n=5000,seed=3";
}

void TestRunComparison::pricesEverySetOnBothRuns()
{
    QFETCH(QString, trafficB);
    const Runs r = compare(trafficB.toStdString());
    QVERIFY(r.result.sets.size() >= 5); // current, tuned, three baselines (+ B's optimum)
    QCOMPARE(r.result.sets[0].name, std::string("Current"));
    QCOMPARE(r.result.sets[1].name, std::string("Tuned"));
    for (const auto& s : r.result.sets) {
        const Evaluation a = r.a.evaluate(s.a.boundaries);
        const Evaluation b = r.b.evaluate(s.a.boundaries);
        QCOMPARE(s.b.boundaries, s.a.boundaries);
        QCOMPARE(s.a.stats.meanLatencyMs, a.stats.meanLatencyMs);
        QCOMPARE(s.b.stats.meanLatencyMs, b.stats.meanLatencyMs);
        QCOMPARE(s.b.stats.p99LatencyMs, b.stats.p99LatencyMs);
        QCOMPARE(s.b.stats.rejected, b.stats.rejected);
    }
    // The best on each run: no set rejects fewer there, or as few and is faster.
    for (bool onB : {false, true}) {
        const auto& best = onB ? r.result.sets[r.result.bestB].b : r.result.sets[r.result.bestA].a;
        for (const auto& s : r.result.sets) {
            const auto& e = onB ? s.b : s.a;
            QVERIFY(best.stats.rejected <= e.stats.rejected);
            if (best.stats.rejected == e.stats.rejected)
                QVERIFY(best.stats.meanLatencyMs <= e.stats.meanLatencyMs * 1.0005);
        }
    }
}

void TestRunComparison::tunedLosesOnLongerTraffic()
{
    // Tuned on ~55-token traffic, the set ends its short buckets near 80, so B's requests
    // of ~150 tokens all pad to 512: worse than 128, 512 on B.
    const Runs r = compare("lognormal:mu=5,sigma=0.3,max=512,n=8000,seed=2");
    const auto& current = r.result.sets[0];
    const auto& tuned = r.result.sets[1];
    QVERIFY(tuned.a.stats.meanLatencyMs < current.a.stats.meanLatencyMs);
    QVERIFY(tuned.b.stats.meanLatencyMs > current.b.stats.meanLatencyMs);
    const std::string s = describeRunComparison(r.result);
    QVERIFY2(s.rfind("Tuned boundaries " + std::to_string(tuned.a.boundaries[0]), 0) == 0,
             s.c_str());
    QVERIFY2(s.find("beat the current ones 128, 512 on run A") != std::string::npos, s.c_str());
    QVERIFY2(s.find("but lose to them on run B") != std::string::npos, s.c_str());
    // Run B's own optimum is the best there, and the sentence says by how much it beats tuned.
    QCOMPARE(r.result.sets[r.result.bestB].name, std::string("Optimum for run B"));
    QVERIFY2(s.find("Optimum for run B (") != std::string::npos, s.c_str());
    QVERIFY2(s.find("faster there than the tuned set") != std::string::npos, s.c_str());
}

void TestRunComparison::sameRunSameBest()
{
    const Runs r = compare(kTrafficA);
    QCOMPARE(r.result.bestA, r.result.bestB);
    for (const auto& s : r.result.sets)
        QCOMPARE(s.b.stats.meanLatencyMs, s.a.stats.meanLatencyMs);
    // On the same run, B's optimum is the tuned set: one row, both names.
    QVERIFY(!named(r.result, "Optimum for run B"));
    QVERIFY2(r.result.sets[1].note.find("also Optimum for run B") != std::string::npos,
             r.result.sets[1].note.c_str());
    const std::string s = describeRunComparison(r.result);
    QVERIFY2(s.find("beat the current ones 128, 512 on both runs") != std::string::npos, s.c_str());
    QVERIFY2(s.find("is the best on both runs") != std::string::npos, s.c_str());
}

void TestRunComparison::optimumOfBKeepsTheServedRange()
{
    // B has requests up to 800; the tuned set serves up to 512 (the current set's largest),
    // so B's optimum does too, and every such set rejects B's longer requests alike.
    const Runs r = compare("uniform:max=800,n=5000,seed=3");
    const auto* opt = named(r.result, "Optimum for run B");
    QVERIFY(opt);
    QCOMPARE(opt->a.boundaries.largest(), int64_t(512));
    QCOMPARE(opt->a.boundaries.size(), r.result.sets[1].a.boundaries.size());
    QVERIFY(opt->b.stats.rejected > 0);
    QCOMPARE(opt->b.stats.rejected, r.result.sets[0].b.stats.rejected);
    // It is the exact optimum on B among the sets of that many buckets ending at 512.
    for (const auto& s : r.result.sets)
        if (s.a.boundaries.size() == opt->a.boundaries.size() && s.a.boundaries.largest() == 512)
            QVERIFY(opt->b.stats.meanLatencyMs <= s.b.stats.meanLatencyMs + 1e-9);
}

void TestRunComparison::projectSetsJoinRowsOfTheSameBoundaries()
{
    const Runs r =
        compare("lognormal:mu=5,sigma=0.4,max=512,n=8000,seed=2",
                {{"deployed", Boundaries{128, 512}}, {"mine", Boundaries{90, 200, 512}}});
    QVERIFY(!named(r.result, "Run B's 'deployed'"));
    QVERIFY2(r.result.sets[0].note.find("also Run B's 'deployed'") != std::string::npos,
             r.result.sets[0].note.c_str());
    const auto* mine = named(r.result, "Run B's 'mine'");
    QVERIFY(mine);
    QCOMPARE(mine->origin, std::string("run-b"));
    QCOMPARE(mine->b.stats.meanLatencyMs,
             r.b.evaluate(Boundaries{90, 200, 512}).stats.meanLatencyMs);
}

void TestRunComparison::tooFewLengthsForAnOptimumOfB()
{
    // Two distinct lengths cannot fill three buckets (one of them the cover at 512): B gets
    // no optimum row, and a note says why.
    BucketEvaluator a(loadDistribution(kTrafficA, {}), LatencyCurve::load(kCurve));
    BucketEvaluator b(LengthHistogram::fromCounts({{40, 10}, {41, 5}}), LatencyCurve::load(kCurve));
    BoundaryComparisonRequest request;
    request.current = Boundaries{128, 512};
    request.buckets = 4;
    const BoundaryComparison primary = compareBoundaries(a, request);
    RunComparisonRequest req;
    req.primary = &primary;
    req.runA = &a;
    req.runB = &b;
    const RunComparison rc = compareRuns(req);
    QVERIFY(!named(rc, "Optimum for run B"));
    QCOMPARE(rc.notes.size(), size_t(1));
    QVERIFY2(rc.notes[0].find("only 2 distinct lengths") != std::string::npos, rc.notes[0].c_str());
}

void TestRunComparison::legendWraps()
{
    // Two runs named by long specs and three boundary styles do not fit one 1000 px row: the
    // legend wraps, every label stays inside the chart, and the plot moves down to make room.
    SvgChart one(1000, 300), many(1000, 300);
    for (auto* c : {&one, &many}) {
        c->setXAxis("x", 0, 10);
        c->setYAxis("y", 0, 10);
        c->addLine({{0, 0}, {10, 10}}, "line");
    }
    one.addLegend("short", "a");
    for (const char* label : {"A: 0.8*lognormal:mu=4.5,sigma=0.5,max=512+0.2*normal:mean=400,…",
                              "B: lognormal:mu=5,sigma=0.4,max=600,n=5000,seed=2",
                              "current boundaries", "tuned boundaries", "in both"})
        many.addLegend(label, "a", LegendSwatch::Line);
    const QString svg = QString::fromStdString(many.render("t"));
    const int legend = svg.indexOf("<g class=\"legend\">");
    QVERIFY(legend >= 0);
    const QString g = svg.mid(legend, svg.indexOf("</g>", legend) - legend);
    static const QRegularExpression text("<text x=\"([0-9.]+)\" y=\"([0-9.]+)\">([^<]*)</text>");
    QSet<QString> rows;
    int labels = 0;
    for (auto m = text.globalMatch(g); m.hasNext();) {
        const auto t = m.next();
        rows.insert(t.captured(2));
        const double right = t.captured(1).toDouble() + 6.4 * 1.05 * t.captured(3).size();
        QVERIFY2(right <= 1000, qPrintable(t.captured(3)));
        ++labels;
    }
    QCOMPARE(labels, 5);
    QCOMPARE(rows.size(), 2);
    // The y axis starts lower (its top grid line) with two legend rows than with one.
    static const QRegularExpression axis("<line x1=\"70\" x2=\"70\" y1=\"([0-9.]+)\"");
    const double topMany = axis.match(svg).captured(1).toDouble();
    const double topOne =
        axis.match(QString::fromStdString(one.render("t"))).captured(1).toDouble();
    QCOMPARE(topMany - topOne, 22.0);
}

QTEST_GUILESS_MAIN(TestRunComparison)
#include "tst_run_comparison.moc"
