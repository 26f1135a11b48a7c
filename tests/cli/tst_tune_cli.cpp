// `bucketlab-cli tune` and `distribution` as scripts use them: JSON fields, exit codes,
// one-line errors naming file:line, and no partial or replaced output files.
#include "testutil.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

using namespace bucketlab::test;

class TestTuneCli : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void help_data();
    void help();
    void distributionSummaryAndHistogram();
    void distributionRegeneratesMrpcDemo();
    void tuneJson();
    void tuneTextAndNaiveAgree();
    void infeasibleBudget();
    void shrinkingTheServedRangeIsAChoice();
    void alignedBoundaries();
    void badInput_data();
    void badInput();

private:
    QString path(const QString& name) const { return dir_.filePath(name); }
    QTemporaryDir dir_;
};

void TestTuneCli::initTestCase()
{
    QVERIFY(dir_.isValid());
    QByteArray traffic = "id,length\n";
    for (int i = 0; i < 2000; ++i)
        traffic += QByteArray::number(i) + "," + QByteArray::number(8 + (i * 37) % 500) + "\n";
    QVERIFY(writeAll(path("traffic.csv"), traffic));
    QVERIFY(writeAll(path("profile.csv"), "length,latency_ms\n64,1.1\n128,1.6\n256,2.9\n"
                                          "384,4.6\n512,5.9\n"));
    QVERIFY(writeAll(path("empty.csv"), ""));
    QVERIFY(writeAll(path("nocol.csv"), "a,b\n1,2\n"));
    QVERIFY(writeAll(path("negative.csv"), "length\n5\n-4\n"));
    QVERIFY(writeAll(path("nan.csv"), "length\n5\nNaN\n"));
    QVERIFY(writeAll(path("text.csv"), "length\n5\nfive\n"));
    QVERIFY(writeAll(path("huge.csv"), "length\n5\n3000000000\n"));
    QVERIFY(writeAll(path("zero_latency.csv"), "length,latency_ms\n128,0\n"));
    QVERIFY(writeAll(path("no_points.csv"), "length,latency_ms\n"));
    QVERIFY(writeAll(path("inf_latency.csv"), "length,latency_ms\n128,inf\n"));
}

void TestTuneCli::help_data()
{
    QTest::addColumn<QString>("sub");
    QTest::addRow("tune") << "tune";
    QTest::addRow("distribution") << "distribution";
}

void TestTuneCli::help()
{
    QFETCH(QString, sub);
    const auto r = runCli({sub, "--help"});
    QCOMPARE(r.exitCode, 0);
    QVERIFY(r.out.contains("Example"));
}

void TestTuneCli::distributionSummaryAndHistogram()
{
    auto r = runCli({"distribution", path("traffic.csv"), "--json"});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    const auto j = QJsonDocument::fromJson(r.out).object();
    QCOMPARE(j["requests"].toInteger(), 2000);
    QCOMPARE(j["min"].toInteger(), 8);
    QCOMPARE(j["max"].toInteger(), 507);
    for (const char* key : {"distinct_lengths", "mean", "p50", "p90", "p99"})
        QVERIFY2(j.contains(key), key);
    r = runCli({"distribution", path("traffic.csv"), "--histogram-out", path("h.csv")});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QVERIFY(r.out.contains("2000 requests"));
    const QByteArray written = readAll(path("h.csv"));
    QVERIFY(written.startsWith("length,count\n"));
    // Reading the histogram back gives the same summary.
    r = runCli({"distribution", path("h.csv"), "--json"});
    QCOMPARE(QJsonDocument::fromJson(r.out).object()["p90"], j["p90"]);
    // An existing output is kept unless --force; an input is never an output.
    r = runCli({"distribution", "uniform:max=9", "--histogram-out", path("h.csv")});
    QCOMPARE(r.exitCode, 2);
    QVERIFY(r.err.contains("already exists"));
    QCOMPARE(readAll(path("h.csv")), written);
    r = runCli({"distribution", path("h.csv"), "--histogram-out", path("h.csv"), "--force"});
    QCOMPARE(r.exitCode, 2);
    QVERIFY(r.err.contains("also an input"));
    QCOMPARE(readAll(path("h.csv")), written);
    r = runCli({"distribution", "uniform:max=9,n=90", "--histogram-out", path("h.csv"), "--force"});
    QCOMPARE(r.exitCode, 0);
    const QByteArray replaced = readAll(path("h.csv"));
    QVERIFY(replaced.startsWith("length,count\n"));
    QVERIFY(replaced != written);
}

void TestTuneCli::distributionRegeneratesMrpcDemo()
{
    const QByteArray env = qgetenv("BUCKETLAB_SHARED_DATA");
    const QString shared = env.isEmpty() ? QStringLiteral("/work/shared/data") : QString(env);
    if (!QFile::exists(shared + "/mrpc/train.tsv"))
        QSKIP("the shared MRPC corpus is not here (set BUCKETLAB_SHARED_DATA)");
    // The command resources/demo/SOURCE.md documents.
    const auto r =
        runCli({"distribution", shared + "/mrpc/train.tsv", shared + "/mrpc/dev.tsv",
                shared + "/mrpc/test.tsv", "--vocab", shared + "/bert-base-cased-vocab.txt",
                "--text-columns", "4,5", "--histogram-out", path("mrpc.csv")});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QCOMPARE(readAll(path("mrpc.csv")),
             readAll(QStringLiteral(BUCKETLAB_SOURCE_DIR "/resources/demo/mrpc_pair_lengths.csv")));
}

void TestTuneCli::tuneJson()
{
    const auto r =
        runCli({"tune", "--distribution", path("traffic.csv"), "--latency", path("profile.csv"),
                "--buckets", "3", "--current", "128,512", "--json"});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    const auto j = QJsonDocument::fromJson(r.out).object();
    QCOMPARE(j["boundaries"].toArray().size(), 3);
    // The largest bucket stays where the current set has it: nothing served today is refused.
    QCOMPARE(j["boundaries"].toArray().last().toInteger(), 512);
    QCOMPARE(j["serve_up_to"].toString(), QString("current"));
    QCOMPARE(j["served_range"].toObject()["shrinks"].toBool(), false);
    QCOMPARE(j["buckets"].toArray().size(), 3);
    const auto stats = j["stats"].toObject();
    for (const char* key : {"mean_latency_ms", "p99_latency_ms", "waste_pct", "rejected_pct"})
        QVERIFY2(stats.contains(key), key);
    QStringList names;
    for (const auto& b : j["baselines"].toArray()) {
        const auto o = b.toObject();
        names << o["name"].toString();
        QVERIFY(o["stats"].toObject().contains("mean_latency_ms"));
        QVERIFY(o.contains("tuned_gain_pct"));
        QVERIFY(o.contains("buckets"));
        // Every baseline here has at most 3 buckets, so none beats the optimum.
        QVERIFY(o["tuned_gain_pct"].toDouble() >= -1e-9);
    }
    QCOMPARE(names, (QStringList{"current", "powers_of_two", "equal_mass", "uniform"}));
    QCOMPARE(j["pareto"].toArray().size(), 8);
    QVERIFY(j["solve_ms"].toDouble() >= 0);
    // Pareto means never increase with more buckets.
    double prev = 1e300;
    for (const auto& p : j["pareto"].toArray()) {
        const double m = p.toObject()["objective_value"].toDouble();
        QVERIFY(m <= prev + 1e-12);
        prev = m;
    }
}

void TestTuneCli::tuneTextAndNaiveAgree()
{
    QStringList base{"tune",      "--distribution",    path("traffic.csv"),
                     "--latency", path("profile.csv"), "--buckets",
                     "4",         "--objective",       "tokens"};
    const auto text = runCli(base);
    QVERIFY2(text.exitCode == 0, text.err.constData());
    QVERIFY(text.out.contains("tuned boundaries"));
    QVERIFY(text.out.contains("powers_of_two"));
    const auto exact = QJsonDocument::fromJson(runCli(base + QStringList{"--json"}).out).object();
    const auto naive =
        QJsonDocument::fromJson(runCli(base + QStringList{"--algorithm", "naive", "--json"}).out)
            .object();
    QCOMPARE(exact["objective_value"].toDouble(), naive["objective_value"].toDouble());
    QCOMPARE(naive["algorithm"].toString(), QString("naive"));
}

void TestTuneCli::infeasibleBudget()
{
    const auto r =
        runCli({"tune", "--distribution", path("traffic.csv"), "--latency", path("profile.csv"),
                "--buckets", "3", "--objective", "p99:0.5", "--json"});
    QCOMPARE(r.exitCode, 1);
    const auto j = QJsonDocument::fromJson(r.out).object();
    QCOMPARE(j["feasible"].toBool(), false);
    QVERIFY(j["infeasible_reason"].toString().contains("no boundaries meet p99"));
    QVERIFY(j["stats"].isNull());
    QCOMPARE(j["baselines"].toArray().size(), 3); // still shown, for comparison
    const auto text = runCli({"tune", "--distribution", path("traffic.csv"), "--latency",
                              path("profile.csv"), "--buckets", "3", "--objective", "p99:0.5"});
    QCOMPARE(text.exitCode, 1);
    QVERIFY(text.out.contains("infeasible:"));
}

void TestTuneCli::shrinkingTheServedRangeIsAChoice()
{
    const QStringList base{"tune",      "--distribution",    path("traffic.csv"),
                           "--latency", path("profile.csv"), "--buckets",
                           "3",         "--current",         "128,512"};
    // traffic: the longest request (507) is served, nothing is refused: exit 0, and said.
    const auto traffic = runCli(base + QStringList{"--cover", "traffic", "--json"});
    QVERIFY2(traffic.exitCode == 0, traffic.err.constData());
    const auto t = QJsonDocument::fromJson(traffic.out).object();
    QCOMPARE(t["boundaries"].toArray().last().toInteger(), 507);
    QCOMPARE(t["served_range"].toObject()["shrinks"].toBool(), true);
    QCOMPARE(t["served_range"].toObject()["refused_requests"].toInteger(), 0);
    // Below the traffic: requests the current set serves are refused. Exit 1, and the text
    // says how many and which lengths, unless --allow-reject accepts it.
    const auto cut = runCli(base + QStringList{"--cover", "200"});
    QCOMPARE(cut.exitCode, 1);
    QVERIFY2(cut.out.contains("SERVED RANGE SHRINKS") && cut.out.contains("would be refused") &&
                 cut.out.contains("--allow-reject"),
             cut.out.constData());
    const auto json = runCli(base + QStringList{"--cover", "200", "--json"});
    QCOMPARE(json.exitCode, 1);
    const auto range = QJsonDocument::fromJson(json.out).object()["served_range"].toObject();
    QVERIFY(range["refused_requests"].toInteger() > 0);
    QVERIFY(range["refused_pct"].toDouble() > 0);
    QCOMPARE(range["refused_lengths"].toArray().first().toInteger() > 200, true);
    const auto current = QJsonDocument::fromJson(json.out).object()["baselines"][0].toObject();
    QCOMPARE(current["name"].toString(), QString("current"));
    QCOMPARE(current["refused_by_tuned"].toInteger(), range["refused_requests"].toInteger());
    QVERIFY(current["note"].toString().contains("requests both serve"));
    const auto allowed = runCli(base + QStringList{"--cover", "200", "--allow-reject"});
    QCOMPARE(allowed.exitCode, 0);
    QVERIFY(allowed.out.contains("would be refused"));
}

void TestTuneCli::alignedBoundaries()
{
    const QStringList base{"tune",      "--distribution",    path("traffic.csv"),
                           "--latency", path("profile.csv"), "--buckets",
                           "4",         "--current",         "128,512"};
    const auto free = runCli(base + QStringList{"--json"});
    const auto r = runCli(base + QStringList{"--align", "64", "--json"});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    const auto j = QJsonDocument::fromJson(r.out).object();
    QCOMPARE(j["align"].toInteger(), 64);
    for (const auto& b : j["boundaries"].toArray())
        QVERIFY2(b.toInteger() % 64 == 0, qPrintable(QString::number(b.toInteger())));
    QCOMPARE(j["boundaries"].toArray().last().toInteger(), 512);
    // A constraint never helps: the aligned optimum is no better than the free one.
    QVERIFY(j["objective_value"].toDouble() >=
            QJsonDocument::fromJson(free.out).object()["objective_value"].toDouble() - 1e-9);
    const auto text = runCli(base + QStringList{"--align", "64"});
    QVERIFY(text.out.contains("boundaries multiples of 64"));
}

void TestTuneCli::badInput_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("mentions");
    const QString lat = "DIR/profile.csv";
    auto tune = [&](const QString& dist, const QString& latency, const QString& k) {
        return QStringList{"tune", "--distribution", dist, "--latency", latency, "--buckets", k};
    };
    QTest::addRow("empty file") << tune("DIR/empty.csv", lat, "2") << "empty.csv: empty file";
    QTest::addRow("header without the column")
        << tune("DIR/nocol.csv", lat, "2") + QStringList{"--column", "len"}
        << "nocol.csv:1: no column 'len'";
    QTest::addRow("negative") << tune("DIR/negative.csv", lat, "2") << "negative.csv:3:";
    QTest::addRow("nan") << tune("DIR/nan.csv", lat, "2") << "nan.csv:3:";
    QTest::addRow("empty current boundaries")
        << tune("DIR/traffic.csv", lat, "2") + QStringList{"--current", ""} << "--current is empty";
    QTest::addRow("max length 0") << tune("DIR/traffic.csv", lat, "2") +
                                         QStringList{"--max-length", "0"}
                                  << "--max-length must be positive, got 0";
    QTest::addRow("a stream without line ends")
        << tune("/dev/zero", lat, "2") << "/dev/zero:1: a line longer than 16 MiB";
    QTest::addRow("a stream as a profile")
        << tune("DIR/traffic.csv", "/dev/zero", "2")
        << "/dev/zero: more than 256 MiB; a latency profile is not that large";
    QTest::addRow("align 0") << tune("DIR/traffic.csv", lat, "2") + QStringList{"--align", "0"}
                             << "--align must be between 1 and";
    QTest::addRow("serve up to a word")
        << tune("DIR/traffic.csv", lat, "2") + QStringList{"--cover", "all"}
        << "--cover must be current (the current set's largest bucket), traffic";
    QTest::addRow("non-numeric") << tune("DIR/text.csv", lat, "2") << "text.csv:3:";
    QTest::addRow("huge") << tune("DIR/huge.csv", lat, "2") << "huge.csv:3:";
    QTest::addRow("zero latency") << tune("DIR/traffic.csv", "DIR/zero_latency.csv", "2")
                                  << "zero_latency.csv:2:";
    QTest::addRow("infinite latency")
        << tune("DIR/traffic.csv", "DIR/inf_latency.csv", "2") << "inf_latency.csv:2:";
    QTest::addRow("no latency points")
        << tune("DIR/traffic.csv", "DIR/no_points.csv", "2") << "no points";
    QTest::addRow("missing latency")
        << tune("DIR/traffic.csv", "DIR/nope.json", "2") << "no such file";
    QTest::addRow("K zero") << tune("DIR/traffic.csv", lat, "0") << "at least 1";
    QTest::addRow("K above distinct lengths")
        << tune("DIR/traffic.csv", lat, "600")
        << "--buckets is 600 but the traffic has only 500 distinct lengths";
    QTest::addRow("bad objective")
        << tune("DIR/traffic.csv", lat, "2") + QStringList{"--objective", "fast"}
        << "--objective must be";
    QTest::addRow("zero p99 budget")
        << tune("DIR/traffic.csv", lat, "2") + QStringList{"--objective", "p99:0"}
        << "positive budget";
    QTest::addRow("bad algorithm")
        << tune("DIR/traffic.csv", lat, "2") + QStringList{"--algorithm", "quick"} << "--algorithm";
    QTest::addRow("threads -3") << tune("DIR/traffic.csv", lat, "2") +
                                       QStringList{"--threads", "-3"}
                                << "--threads";
    QTest::addRow("current ending with a comma")
        << tune("DIR/traffic.csv", lat, "2") + QStringList{"--current", "128,512,"}
        << "ends with a comma";
    QTest::addRow("bad current") << tune("DIR/traffic.csv", lat, "2") +
                                        QStringList{"--current", "512,128"}
                                 << "--current";
    QTest::addRow("bad spec") << tune("lognormal:mu=4", lat, "2") << "needs sigma=";
    QTest::addRow("negative bucket cost")
        << tune("DIR/traffic.csv", lat, "2") + QStringList{"--bucket-cost", "-1"}
        << "--bucket-cost";
    QTest::addRow("text columns without vocab")
        << QStringList{"distribution", "DIR/traffic.csv", "--text-columns", "1,2"} << "--vocab";
}

void TestTuneCli::badInput()
{
    QFETCH(QStringList, args);
    QFETCH(QString, mentions);
    for (auto& a : args)
        a.replace("DIR", dir_.path());
    const auto r = runCli(args);
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains(mentions.toUtf8()), r.err.constData());
    QCOMPARE(r.err.count('\n'), 1);
    QVERIFY(r.out.isEmpty());
}

QTEST_GUILESS_MAIN(TestTuneCli)
#include "tst_tune_cli.moc"
