// The run comparison's model alone (no widgets): run B read from each kind of file the user
// may pick (project, profile, traffic), every set of the session priced on both runs by the
// core (the figures are the core's, not priced again here), and the table's B − A.
#include "core/latency/latency_curve.h"
#include "core/latency/profile_format.h"
#include "core/project/project.h"
#include "core/traffic/length_histogram.h"
#include "core/util/error.h"
#include "ui/models/runcomparisonmodel.h"
#include "ui/models/secondrun.h"

#include <QAbstractItemModelTester>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <random>

using namespace bucketlab;
using namespace bucketlab::ui;

namespace {

std::vector<std::pair<int64_t, int64_t>> lognormal(double mu, uint64_t seed)
{
    std::mt19937_64 rng(seed);
    std::lognormal_distribution<double> d(mu, 0.5);
    std::vector<std::pair<int64_t, int64_t>> counts;
    for (int i = 0; i < 5000; ++i)
        counts.emplace_back(std::clamp<int64_t>(int64_t(d(rng)), 1, 500), 1);
    return counts;
}

void writeTrafficCsv(const QString& path, const std::vector<std::pair<int64_t, int64_t>>& counts)
{
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("length\n");
    for (const auto& [len, n] : counts)
        for (int64_t i = 0; i < n; ++i)
            f.write(QByteArray::number(qint64(len)) + "\n");
}

Profile fasterProfile()
{
    Profile p;
    for (int64_t len : {16, 64, 128, 256, 512}) {
        ProfilePoint point;
        point.length = len;
        point.samplesMs = {0.2 + 0.01 * double(len), 0.21 + 0.01 * double(len),
                           0.19 + 0.01 * double(len)};
        summarizeSamples(point);
        p.points.push_back(point);
    }
    return p;
}

std::vector<BoundarySet> sessionSets()
{
    return {{"current", "current", Boundaries::from({128, 512}, Field::CurrentBoundaries)},
            {"edited", "user", Boundaries::from({64, 160, 512}, Field::Boundaries)},
            {"snapshot", "user", Boundaries::from({96, 512}, Field::Boundaries)}};
}

} // namespace

class TestRunComparisonModel : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void readsEachKindOfSecondRun_data();
    void readsEachKindOfSecondRun();
    void aFileOfNoKnownKindIsRefusedByName();
    void everySessionSetIsPricedOnBothRunsWithBMinusA();
};

void TestRunComparisonModel::readsEachKindOfSecondRun_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("kind");
    QTest::addColumn<bool>("traffic");
    QTest::addColumn<bool>("curve");
    QTest::addColumn<int>("sets");
    QTest::addRow("traffic CSV") << "b.csv"
                                 << "traffic" << true << false << 0;
    QTest::addRow("profile JSON") << "b.json"
                                  << "profile" << false << true << 0;
    QTest::addRow("project") << "b.bucketlab.json"
                             << "project" << true << true << 1;
}

void TestRunComparisonModel::readsEachKindOfSecondRun()
{
    QFETCH(QString, file);
    QFETCH(QString, kind);
    QFETCH(bool, traffic);
    QFETCH(bool, curve);
    QFETCH(int, sets);
    QTemporaryDir dir;
    const QString csv = dir.filePath("b.csv");
    writeTrafficCsv(csv, lognormal(4.5, 7));
    const QString json = dir.filePath("b.json");
    writeProfile(json.toStdString(), fasterProfile(), true);
    Project project;
    project.distributions.push_back({"b traffic", csv.toStdString(), {}});
    project.latencies.push_back({"b profile", json.toStdString()});
    project.boundarySets.push_back(
        {"deployed on B", "current", Boundaries::from({200, 512}, Field::Boundaries)});
    writeProject(project, dir.filePath("b.bucketlab.json").toStdString());

    const SecondRun run = readSecondRun(dir.filePath(file));
    QCOMPARE(run.kind, kind);
    QCOMPARE(run.displayName, file);
    QCOMPARE(run.traffic.has_value(), traffic);
    QCOMPARE(run.curve.has_value(), curve);
    QCOMPARE(int(run.sets.size()), sets);
    if (traffic)
        QCOMPARE(run.traffic->total(), int64_t(5000));
    if (curve)
        QCOMPARE(run.curve->measured().size(), size_t(5));
}

void TestRunComparisonModel::aFileOfNoKnownKindIsRefusedByName()
{
    QTemporaryDir dir;
    const QString path = dir.filePath("notes.md");
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("# nothing to compare\n");
    f.close();
    for (const QString& p : {path, dir.filePath("missing.csv")}) {
        try {
            readSecondRun(p);
            QFAIL("no error");
        } catch (const Error& e) {
            QVERIFY2(QString(e.what()).startsWith(p), e.what());
        }
    }
}

void TestRunComparisonModel::everySessionSetIsPricedOnBothRunsWithBMinusA()
{
    RunComparisonModel model;
    new QAbstractItemModelTester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest,
                                 this);
    const BucketEvaluator runA(LengthHistogram::fromCounts(lognormal(4.0, 1)),
                               LatencyCurve::fromSpec("linear:0.5,0.02"));
    SecondRun b;
    b.kind = "traffic";
    b.displayName = "b.csv";
    b.trafficSource = "b.csv";
    b.traffic = LengthHistogram::fromCounts(lognormal(4.6, 2)); // longer requests
    const auto sets = sessionSets();
    const RunComparison c = compareSessionWith(runA, "a.csv", sets, /*active=*/1, b);
    model.setComparison(c);
    QCOMPARE(model.rowCount(), int(c.sets.size()));
    QCOMPARE(model.columnCount(), int(RunComparisonModel::ColumnCount));

    QStringList names, lists;
    for (int r = 0; r < model.rowCount(); ++r) {
        names << model.index(r, RunComparisonModel::Name).data().toString() + " " +
                     model.index(r, RunComparisonModel::Name).data(Qt::ToolTipRole).toString();
        lists << model.index(r, RunComparisonModel::Boundaries).data().toString();
    }
    // Current and the active set lead (the core's order: current, then tuned); the snapshot
    // is priced too, under its name.
    QCOMPARE(lists.at(0), QString("128, 512"));
    QCOMPARE(lists.at(1), QString("64, 160, 512"));
    QVERIFY2(lists.contains("96, 512"), qPrintable(lists.join(" | ")));
    QVERIFY2(names.join(" ").contains("snapshot"), qPrintable(names.join(" | ")));
    QVERIFY2(names.join(" ").contains("Optimum for run B"), qPrintable(names.join(" | ")));

    for (int r = 0; r < model.rowCount(); ++r) {
        const PricedBoundarySet& s = c.sets[size_t(r)];
        // The core's figures for these boundaries on each run, not another pricing.
        const BucketEvaluator runB(*b.traffic, runA.curve());
        QCOMPARE(s.a.stats.meanLatencyMs, runA.evaluate(s.a.boundaries).stats.meanLatencyMs);
        QCOMPARE(s.b.stats.meanLatencyMs, runB.evaluate(s.a.boundaries).stats.meanLatencyMs);
        QCOMPARE(model.index(r, RunComparisonModel::MeanA).data(Qt::EditRole).toDouble(),
                 s.a.stats.meanLatencyMs);
        const double delta =
            model.index(r, RunComparisonModel::MeanDelta).data(Qt::EditRole).toDouble();
        QCOMPARE(delta, s.b.stats.meanLatencyMs - s.a.stats.meanLatencyMs);
        // Longer requests on run B cost more with every set; the text carries the sign.
        QVERIFY(delta > 0);
        QVERIFY(model.index(r, RunComparisonModel::MeanDelta).data().toString().startsWith("+"));
    }
    QCOMPARE(model.headerData(RunComparisonModel::MeanDelta, Qt::Horizontal).toString(),
             QString("B − A"));
    model.setComparison(std::nullopt);
    QCOMPARE(model.rowCount(), 0);
}

QTEST_GUILESS_MAIN(TestRunComparisonModel)
#include "tst_runcomparisonmodel.moc"
