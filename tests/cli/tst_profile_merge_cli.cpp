// `bucketlab-cli profile merge` end to end: the demo's profile as if measured on three hosts
// (one of them keeping statistics only) merged into one file that `tune --latency` reads;
// refusals exit 2 with one line naming both files and write nothing; `profile MODEL` keeps
// its own usage beside the subcommand.
#include "testutil.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

#include <functional>

using namespace bucketlab::test;

namespace {

const QString kDemoProfile =
    QStringLiteral(BUCKETLAB_SOURCE_DIR "/resources/demo/demo_profile.json");
const QString kDemoTraffic =
    QStringLiteral(BUCKETLAB_SOURCE_DIR "/resources/demo/mrpc_pair_lengths.csv");

// The demo profile as another host measured it: its name, samples scaled by `scale`, and
// any other edit.
bool writeHostProfile(const QString& path, const QString& host, double scale,
                      const std::function<void(QJsonObject&)>& edit = {})
{
    QJsonObject j = QJsonDocument::fromJson(readAll(kDemoProfile)).object();
    QJsonObject env = j["environment"].toObject();
    env["host"] = host;
    j["environment"] = env;
    QJsonArray points;
    for (const auto& value : j["points"].toArray()) {
        QJsonObject p = value.toObject();
        QJsonArray samples;
        for (const auto& v : p["samples_ms"].toArray())
            samples.append(v.toDouble() * scale);
        p["samples_ms"] = samples;
        for (const char* key : {"p50_ms", "p90_ms", "p99_ms", "mean_ms", "stdev_ms", "mad_ms"})
            p[key] = p[key].toDouble() * scale;
        QJsonArray ci = p["ci95_ms"].toArray();
        p["ci95_ms"] = QJsonArray{ci[0].toDouble() * scale, ci[1].toDouble() * scale};
        points.append(p);
    }
    j["points"] = points;
    if (edit)
        edit(j);
    return writeAll(path, QJsonDocument(j).toJson());
}

} // namespace

class TestProfileMergeCli : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void help();
    void mergesAndTuneReadsIt();
    void refusals_data();
    void refusals();

private:
    QString path(const QString& name) const { return dir_.filePath(name); }
    QTemporaryDir dir_;
};

void TestProfileMergeCli::initTestCase()
{
    QVERIFY(dir_.isValid());
    QVERIFY(writeHostProfile(path("a.json"), "host-a", 1.0));
    QVERIFY(writeHostProfile(path("b.json"), "host-b", 1.04));
    // Host c kept statistics only (as an import may): no raw samples.
    QVERIFY(writeHostProfile(path("c.json"), "host-c", 0.98, [](QJsonObject& j) {
        QJsonArray points;
        for (const auto& v : j["points"].toArray()) {
            QJsonObject p = v.toObject();
            p.remove("samples_ms");
            points.append(p);
        }
        j["points"] = points;
    }));
    QVERIFY(writeHostProfile(path("other_model.json"), "host-d", 1.0, [](QJsonObject& j) {
        j["model"] = QJsonObject{{"file", "other.pt"}, {"sha256", QString(64, 'f')}};
    }));
    QVERIFY(writeHostProfile(path("four_threads.json"), "host-e", 0.5, [](QJsonObject& j) {
        QJsonObject device = j["device"].toObject();
        device["threads"] = 4;
        j["device"] = device;
    }));
    QVERIFY(writeAll(path("broken.json"), "{\"format\": \"bucketlab.profile/1\", \"points\": ["));
}

void TestProfileMergeCli::help()
{
    auto r = runCli({"profile", "merge", "--help"});
    QCOMPARE(r.exitCode, 0);
    QVERIFY(r.out.contains("Example"));
    QVERIFY(r.out.contains("--out"));
    // The parent lists it, and still profiles a MODEL.
    r = runCli({"profile", "--help"});
    QCOMPARE(r.exitCode, 0);
    QVERIFY(r.out.contains("merge"));
    QVERIFY(r.out.contains("--grid"));
    r = runCli({"profile", "--lengths", "16"});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains("give the MODEL to profile"), r.err.constData());
    r = runCli({"profile", path("missing.pt"), "--lengths", "16"});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains("missing.pt"), r.err.constData());
}

void TestProfileMergeCli::mergesAndTuneReadsIt()
{
    const QString out = path("merged.json");
    auto r = runCli({"profile", "merge", path("a.json"), path("b.json"), path("c.json"), "--out",
                     out, "--json"});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    const auto j = QJsonDocument::fromJson(r.out).object();
    QCOMPARE(j["profiles"].toArray().size(), 3);
    QCOMPARE(j["out"].toString(), out);
    const auto points = j["points"].toArray();
    QCOMPARE(points.size(), 25);
    for (const auto& v : points) {
        const auto p = v.toObject();
        // c has no samples, so every length is the median of the host medians: host a's,
        // between c's (0.98x) and b's (1.04x).
        QCOMPARE(p["method"].toString(), QString("median of host medians"));
        QCOMPARE(p["hosts"].toArray().size(), 3);
    }
    const auto written = QJsonDocument::fromJson(readAll(out)).object();
    const auto a = QJsonDocument::fromJson(readAll(path("a.json"))).object();
    QCOMPARE(written["points"].toArray()[10].toObject()["p50_ms"].toDouble(),
             a["points"].toArray()[10].toObject()["p50_ms"].toDouble());
    QVERIFY(written["environment"].toObject()["host"].toString().contains("host-b"));

    // Pooled: two hosts with samples.
    r = runCli({"profile", "merge", path("a.json"), path("b.json"), "--out", path("ab.json")});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QVERIFY(r.out.contains("pooled samples"));
    QVERIFY(r.out.contains("wrote " + path("ab.json").toUtf8()));

    // tune takes the merged profile like any other.
    r = runCli({"tune", "--distribution", kDemoTraffic, "--latency", out, "--buckets", "4",
                "--current", "128,512", "--json"});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    const auto tuned = QJsonDocument::fromJson(r.out).object();
    const auto boundaries = tuned["boundaries"].toArray();
    QCOMPARE(boundaries.size(), 4);
    QCOMPARE(boundaries.last().toInteger(), 512);

    // An existing output needs --force.
    r = runCli({"profile", "merge", path("a.json"), path("b.json"), "--out", out});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains("merged.json"), r.err.constData());
    r = runCli({"profile", "merge", path("a.json"), path("b.json"), "--out", out, "--force"});
    QVERIFY2(r.exitCode == 0, r.err.constData());
}

void TestProfileMergeCli::refusals_data()
{
    QTest::addColumn<QStringList>("profiles");
    QTest::addColumn<QStringList>("mentions");
    QTest::addRow("another model")
        << QStringList{"a.json", "other_model.json"}
        << QStringList{"the models differ", "other.pt", "a.json", "other_model.json"};
    QTest::addRow("other thread count")
        << QStringList{"a.json", "b.json", "four_threads.json"}
        << QStringList{"the thread counts differ: '1' in", "a.json", "four_threads.json"};
    QTest::addRow("one profile") << QStringList{"a.json"} << QStringList{"two or more"};
    QTest::addRow("twice") << QStringList{"a.json", "b.json", "a.json"}
                           << QStringList{"the same file"};
    QTest::addRow("unreadable") << QStringList{"a.json", "broken.json"}
                                << QStringList{"broken.json", "not valid JSON"};
    QTest::addRow("missing") << QStringList{"a.json", "nothere.json"}
                             << QStringList{"nothere.json"};
}

void TestProfileMergeCli::refusals()
{
    QFETCH(QStringList, profiles);
    QFETCH(QStringList, mentions);
    QStringList args{"profile", "merge"};
    for (const auto& p : profiles)
        args << path(p);
    const QString out = path("refused.json");
    args << "--out" << out;
    const auto r = runCli(args);
    QCOMPARE(r.exitCode, 2);
    QCOMPARE(r.err.count('\n'), 1);
    for (const auto& m : mentions)
        QVERIFY2(r.err.contains(m.toUtf8()), r.err.constData());
    QVERIFY(!QFile::exists(out));
    QVERIFY(r.out.isEmpty());
}

QTEST_GUILESS_MAIN(TestProfileMergeCli)
#include "tst_profile_merge_cli.moc"
