// `bucketlab-cli tune --refine` end to end on the real demo package: the JSON lists every
// round's boundaries and the final predicted and measured means with their intervals, the
// exit code follows the verdict, the refined profile is written, and bad usage exits 2 with
// one line before anything is measured. What the loop does is checked exactly on a simulated
// device in tst_refine; here the figures are real measurements, so only their shape and
// their consistency are asserted, never their values.
#include "core/demo/demo.h"
#include "testutil.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>

using namespace bucketlab::test;

class TestTuneRefineCli : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void refinesTheDemo();
    void badUsage_data();
    void badUsage();

private:
    QStringList tuneArgs(const QString& latency = {}) const;
    QString path(const QString& name) const { return dir_.filePath(name); }
    QTemporaryDir dir_;
    bucketlab::DemoFiles demo_;
};

void TestTuneRefineCli::initTestCase()
{
    QVERIFY(dir_.isValid());
    demo_ = bucketlab::prepareDemo(s(dir_.filePath("demo")));
    QVERIFY(writeAll(path("exists.json"), "{}"));
}

QStringList TestTuneRefineCli::tuneArgs(const QString& latency) const
{
    return {"tune",
            "--distribution",
            QString::fromStdString(demo_.distribution),
            "--latency",
            latency.isEmpty() ? QString::fromStdString(demo_.profile) : latency,
            "--buckets",
            "4",
            "--current",
            "128,512"};
}

void TestTuneRefineCli::refinesTheDemo()
{
    const QString refined = path("refined.json");
    const auto r = runCli(tuneArgs() << "--refine" << QString::fromStdString(demo_.package)
                                     << "--verify-budget"
                                     << "2"
                                     << "--refine-rounds"
                                     << "4"
                                     << "--refined-profile" << refined << "--clock"
                                     << "cpu"
                                     << "--json");
    QVERIFY2(r.exitCode == 0 || r.exitCode == 1, r.err.constData());
    const auto j = QJsonDocument::fromJson(r.out).object();
    const auto refine = j["refine"].toObject();
    QVERIFY2(!refine.isEmpty(), r.out.constData());
    // Measured with the thread's CPU time, as asked.
    QCOMPARE(refine["verification"].toObject()["clock"].toString(), QString("thread-cpu"));
    const auto rounds = refine["rounds"].toArray();
    QVERIFY(rounds.size() >= 1 && rounds.size() <= 4);
    QCOMPARE(refine["max_rounds"].toInt(), 4);
    for (int i = 0; i < rounds.size(); ++i) {
        const auto round = rounds[i].toObject();
        QCOMPARE(round["round"].toInt(), i + 1);
        const auto boundaries = round["boundaries"].toArray();
        QCOMPARE(boundaries.size(), 4);
        QCOMPARE(boundaries.last().toInteger(), 512); // the served range is kept
        QVERIFY(round["predicted_ms"].toDouble() > 0);
    }
    // The tuned set is the last round's, and so are the final figures.
    QCOMPARE(j["boundaries"].toArray(), rounds.last().toObject()["boundaries"].toArray());
    QCOMPARE(refine["boundaries"].toArray(), j["boundaries"].toArray());
    const double predicted = refine["predicted_ms"].toDouble();
    const double measured = refine["measured_ms"].toDouble();
    const auto predictedCi = refine["predicted_ci95_ms"].toArray();
    const auto measuredCi = refine["measured_ci95_ms"].toArray();
    QVERIFY(predictedCi[0].toDouble() <= predicted && predicted <= predictedCi[1].toDouble());
    QVERIFY(measuredCi[0].toDouble() <= measured && measured <= measuredCi[1].toDouble());
    // The prediction is priced from fresh samples; the rounds' own estimate is kept beside it.
    QCOMPARE(refine["loop_predicted_ms"].toDouble(),
             rounds.last().toObject()["predicted_ms"].toDouble());
    QCOMPARE(refine["prediction"].toObject()["buckets"].toArray().size(),
             refine["verification"].toObject()["buckets"].toArray().size());
    const double error = refine["error_pct"].toDouble();
    QVERIFY(std::abs(error - (predicted - measured) / measured * 100) < 1e-6);
    const bool within = refine["within_tolerance"].toBool();
    QCOMPARE(within, std::abs(error) <= 5);
    QCOMPARE(r.exitCode, within ? 0 : 1);
    if (refine["converged"].toBool()) {
        // Every boundary that serves traffic was measured, and the set stopped changing.
        QVERIFY(rounds.size() >= 2);
        QCOMPARE(rounds.last().toObject()["boundaries"],
                 rounds[rounds.size() - 2].toObject()["boundaries"]);
        const auto lengths = refine["measured_lengths"].toVariant().toList();
        const auto idle = rounds.last().toObject()["idle"].toArray();
        for (const auto& b : j["boundaries"].toArray())
            QVERIFY(idle.contains(b) || lengths.contains(b.toVariant()));
    }
    // The refined profile: the demo's 25 lengths and every measured one, readable by tune.
    QCOMPARE(refine["refined_profile"].toString(), refined);
    const auto profile = QJsonDocument::fromJson(readAll(refined)).object();
    QVERIFY(profile["points"].toArray().size() >= 25);
    const auto again = runCli({"tune", "--distribution", QString::fromStdString(demo_.distribution),
                               "--latency", refined, "--buckets", "4", "--current", "128,512"});
    QVERIFY2(again.exitCode == 0, again.err.constData());

    // Text: each round on a line of its own, then the verdict.
    const auto text = runCli(tuneArgs() << "--refine" << QString::fromStdString(demo_.package)
                                        << "--verify-budget"
                                        << "1"
                                        << "--refine-rounds"
                                        << "1");
    QVERIFY2(text.exitCode == 0 || text.exitCode == 1, text.err.constData());
    QVERIFY2(text.out.contains("round 1 "), text.out.constData());
    QVERIFY(text.out.contains("NOT converged, stopped at the cap of 1 rounds"));
    QVERIFY(text.out.contains("predicted mean"));
    QVERIFY(text.out.contains("prices the boundaries from fresh samples"));
    QVERIFY(text.out.contains("the rounds' own estimate"));
    QVERIFY(text.out.contains("measured"));
}

void TestTuneRefineCli::badUsage_data()
{
    QTest::addColumn<QStringList>("extra");
    QTest::addColumn<QString>("mentions");
    QTest::addRow("with --verify")
        << QStringList{"--refine", "PACKAGE", "--verify", "PACKAGE"} << "excludes";
    QTest::addRow("analytic curve")
        << QStringList{"--refine", "PACKAGE", "LINEAR"} << "give --latency a profile";
    QTest::addRow("no rounds") << QStringList{"--refine", "PACKAGE", "--refine-rounds", "0"}
                               << "--refine-rounds must be between 1 and 100";
    QTest::addRow("existing refined profile")
        << QStringList{"--refine", "PACKAGE", "--refined-profile", "EXISTS"} << "exists.json";
    QTest::addRow("missing model") << QStringList{"--refine", "nothere.pt"} << "nothere.pt";
    QTest::addRow("zero budget") << QStringList{"--refine", "PACKAGE", "--verify-budget", "0"}
                                 << "--verify-budget must be positive";
}

void TestTuneRefineCli::badUsage()
{
    QFETCH(QStringList, extra);
    QFETCH(QString, mentions);
    QString latency;
    if (extra.removeAll("LINEAR"))
        latency = "linear:1,0.1";
    for (auto& e : extra) {
        if (e == "PACKAGE")
            e = QString::fromStdString(demo_.package);
        else if (e == "EXISTS")
            e = path("exists.json");
    }
    const auto r = runCli(tuneArgs(latency) << extra);
    QCOMPARE(r.exitCode, 2);
    QCOMPARE(r.err.count('\n'), 1);
    QVERIFY2(r.err.contains(mentions.toUtf8()), r.err.constData());
    QVERIFY(r.out.isEmpty());
    QCOMPARE(readAll(path("exists.json")), QByteArray("{}"));
}

QTEST_GUILESS_MAIN(TestTuneRefineCli)
#include "tst_tune_refine_cli.moc"
