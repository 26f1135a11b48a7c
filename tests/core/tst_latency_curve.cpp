// Latency curves: interpolation, the non-decreasing envelope (and the note when it changed
// a measured point), extrapolation on both sides, analytic specs and bad profiles.
#include "core/latency/latency_curve.h"
#include "core/util/error.h"
#include "testutil.h"

#include <QTemporaryDir>
#include <QTest>

using namespace bucketlab;

class TestLatencyCurve : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void interpolatesBetweenPoints();
    void envelopeUsesCheaperBiggerBucket();
    void extrapolation();
    void analyticSpecs_data();
    void analyticSpecs();
    void fromProfileFiles();
    void badCurves_data();
    void badCurves();
};

void TestLatencyCurve::interpolatesBetweenPoints()
{
    const auto c = LatencyCurve::fromPoints({{256, 4.0}, {128, 2.0}}, "p");
    QCOMPARE(c.at(128), 2.0);
    QCOMPARE(c.at(192), 3.0);
    QCOMPARE(c.at(256), 4.0);
    QVERIFY(c.adjustments().empty());
    QVERIFY(!c.isExtrapolated(200));
}

void TestLatencyCurve::envelopeUsesCheaperBiggerBucket()
{
    // 256 measured slower than 384: lengths up to 256 are better served by padding to 384.
    const auto c = LatencyCurve::fromPoints({{128, 2.0}, {256, 5.0}, {384, 4.0}, {512, 6.0}}, "p");
    QCOMPARE(c.at(256), 4.0);
    QCOMPARE(c.at(192), 3.5); // halfway between 2 and 5, below the envelope's 4
    QCOMPARE(c.adjustments().size(), size_t(1));
    QCOMPARE(c.adjustments()[0].length, int64_t(256));
    QCOMPARE(c.adjustments()[0].measuredMs, 5.0);
    QCOMPARE(c.adjustments()[0].usedMs, 4.0);
    QCOMPARE(c.adjustments()[0].cheaperLength, int64_t(384));
    int64_t prev = 1;
    for (int64_t l = 1; l <= 700; ++l) {
        QVERIFY2(c.at(l) >= c.at(prev), qPrintable(QString::number(l)));
        prev = l;
    }
}

void TestLatencyCurve::extrapolation()
{
    const auto c = LatencyCurve::fromPoints({{100, 2.0}, {200, 3.0}}, "p");
    QCOMPARE(c.at(10), 2.0);  // flat below the first point
    QCOMPARE(c.at(400), 5.0); // the last segment's slope, 0.01 ms per token
    QVERIFY(c.isExtrapolated(400));
    QVERIFY(c.isExtrapolated(10));
    // A falling last segment does not make longer buckets cheaper.
    const auto falling = LatencyCurve::fromPoints({{100, 3.0}, {200, 2.0}}, "p");
    QCOMPARE(falling.at(1000), 2.0);
    QCOMPARE(falling.at(100), 2.0);
    // One point: proportional to length above it.
    const auto one = LatencyCurve::fromPoints({{128, 2.0}}, "p");
    QCOMPARE(one.at(256), 4.0);
    QCOMPARE(one.at(64), 2.0);
}

void TestLatencyCurve::analyticSpecs_data()
{
    QTest::addColumn<QString>("spec");
    QTest::addColumn<qint64>("length");
    QTest::addColumn<double>("ms");
    QTest::addRow("linear") << "linear:1.5,0.01" << qint64(100) << 2.5;
    QTest::addRow("poly quadratic") << "poly:1,0,0.0001" << qint64(100) << 2.0;
    QTest::addRow("poly constant") << "poly:3" << qint64(5000) << 3.0;
}

void TestLatencyCurve::analyticSpecs()
{
    QFETCH(QString, spec);
    QFETCH(qint64, length);
    QFETCH(double, ms);
    const auto c = LatencyCurve::load(spec.toStdString());
    QVERIFY(c.isAnalytic());
    QVERIFY(std::abs(c.at(length) - ms) < 1e-12);
    QVERIFY(!c.isExtrapolated(length));
}

void TestLatencyCurve::fromProfileFiles()
{
    QTemporaryDir dir;
    const QString csv = dir.filePath("p.csv");
    QVERIFY(test::writeAll(csv, "length,latency_ms\n128,2\n128,4\n128,3\n256,5\n"));
    auto c = LatencyCurve::load(test::s(csv));
    QCOMPARE(c.at(128), 3.0); // median of 2, 4, 3
    c = LatencyCurve::load(test::s(csv), LatencyStatistic::Mean);
    QCOMPARE(c.at(128), 3.0);
    Profile p;
    ProfilePoint a, b, failed, batch4;
    a.length = 128, a.samplesMs = {1, 2, 9};
    b.length = 256, b.samplesMs = {4, 4, 4};
    failed.length = 512, failed.error = "out of memory";
    batch4.length = 128, batch4.batch = 4, batch4.samplesMs = {1, 1, 1};
    for (auto* q : {&a, &b, &batch4})
        summarizeSamples(*q);
    p.points = {a, b, failed, batch4};
    const QString json = dir.filePath("p.json");
    writeProfile(test::s(json), p, false);
    c = LatencyCurve::load(test::s(json));
    QCOMPARE(c.measured().size(), size_t(2)); // batch 1 only, the failed point skipped
    QCOMPARE(c.at(128), 2.0);
    QCOMPARE(LatencyCurve::load(test::s(json), LatencyStatistic::Mean).at(128), 4.0);
}

void TestLatencyCurve::badCurves_data()
{
    QTest::addColumn<QByteArray>("csv");
    QTest::addColumn<QString>("spec");
    QTest::addColumn<QString>("mentions");
    QTest::addRow("no points") << QByteArray("length,latency_ms\n") << ""
                               << "no points";
    QTest::addRow("zero latency") << QByteArray("length,latency_ms\n128,0\n") << ""
                                  << "p.csv:2:";
    QTest::addRow("negative latency") << QByteArray("length,latency_ms\n128,-2\n") << ""
                                      << "p.csv:2:";
    QTest::addRow("nan latency") << QByteArray("length,latency_ms\n128,nan\n") << ""
                                 << "p.csv:2:";
    QTest::addRow("inf latency") << QByteArray("length,latency_ms\n128,inf\n") << ""
                                 << "p.csv:2:";
    QTest::addRow("empty file") << QByteArray("") << ""
                                << "empty file";
    QTest::addRow("negative coefficient") << QByteArray() << "linear:1,-0.1"
                                          << "negative";
    QTest::addRow("zero curve") << QByteArray() << "poly:0,0"
                                << "must be positive";
    QTest::addRow("linear arity") << QByteArray() << "linear:1"
                                  << "two coefficients";
    QTest::addRow("not a number") << QByteArray() << "poly:1,x"
                                  << "'x' is not a finite number";
    QTest::addRow("missing file") << QByteArray() << "nope.json"
                                  << "no such file";
}

void TestLatencyCurve::badCurves()
{
    QFETCH(QByteArray, csv);
    QFETCH(QString, spec);
    QFETCH(QString, mentions);
    QTemporaryDir dir;
    QVERIFY(QDir::setCurrent(dir.path()));
    if (spec.isEmpty()) {
        QVERIFY(test::writeAll("p.csv", csv));
        spec = "p.csv";
    }
    try {
        LatencyCurve::load(spec.toStdString());
        QFAIL("no error");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).contains(mentions), e.what());
    }
    QVERIFY_THROWS_EXCEPTION(Error, LatencyCurve::fromPoints({{128, 1.0}, {128, 2.0}}, "dup"));
    QVERIFY_THROWS_EXCEPTION(Error, LatencyCurve::fromPoints({}, "none"));
}

QTEST_GUILESS_MAIN(TestLatencyCurve)
#include "tst_latency_curve.moc"
