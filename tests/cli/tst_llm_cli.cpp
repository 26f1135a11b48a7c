// `bucketlab-cli llm` as scripts use it: the contract's JSON fields, the shipped Azure
// example beating NxD's defaults with the same number of buckets, configs written only after
// passing their rules, exit codes (0 tuned, 1 infeasible or a broken current list, 2 bad
// input with one line naming the option, file and line), and no replaced files without
// --force.
#include "testutil.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

using namespace bucketlab::test;

namespace {

const QString kDemo = QStringLiteral(BUCKETLAB_SOURCE_DIR "/resources/llm/azure_code_pairs.csv");
// The README's example curves: prefill with a quadratic attention term, decode nearly flat.
const QString kCte = "poly:8,0.025,0.0000025";
const QString kTkg = "linear:9,0.0004";

QList<qint64> ints(const QJsonValue& v)
{
    QList<qint64> out;
    for (const auto& x : v.toArray())
        out << x.toInteger();
    return out;
}

bool ascending(const QList<qint64>& v)
{
    for (int i = 1; i < v.size(); ++i)
        if (v[i] <= v[i - 1])
            return false;
    return !v.isEmpty() && v.first() > 0;
}

// `args` with each `--option value` of `overrides` replacing the option's value, or appended
// when absent (CLI11 refuses an option given twice); "REMOVE:--option" drops it and its value.
QStringList withOptions(QStringList args, const QStringList& overrides)
{
    for (int i = 0; i < overrides.size(); ++i) {
        if (overrides[i].startsWith("REMOVE:")) {
            const int at = args.indexOf(overrides[i].mid(7));
            args.remove(at, 2);
            continue;
        }
        const int at = args.indexOf(overrides[i]);
        if (at >= 0)
            args[at + 1] = overrides[i + 1];
        else
            args << overrides[i] << overrides[i + 1];
        ++i;
    }
    return args;
}

QJsonObject baseline(const QJsonObject& j, const QString& name)
{
    for (const auto& b : j["baselines"].toArray())
        if (b.toObject()["name"].toString() == name)
            return b.toObject();
    return {};
}

} // namespace

class TestLlmCli : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void help();
    void demoBeatsNxdDefaultWithSameBuckets();
    void configsWrittenAndChecked();
    void textReport();
    void batchBuckets();
    void ttftBudgetAndCompileBudget();
    void currentListsBreakingARuleExitOne();
    void outputsAreProtected();
    void badInput_data();
    void badInput();

private:
    QStringList base(const QString& traffic, int buckets = 14) const
    {
        return {"llm",
                "--traffic",
                traffic,
                "--cte-latency",
                kCte,
                "--tkg-latency",
                kTkg,
                "--max-context-length",
                "8192",
                "--seq-len",
                "8192",
                "--buckets",
                QString::number(buckets)};
    }
    QString path(const QString& name) const { return dir_.filePath(name); }
    QTemporaryDir dir_;
};

void TestLlmCli::initTestCase()
{
    QVERIFY(dir_.isValid());
    QVERIFY(QFile::exists(kDemo));
    QVERIFY(writeAll(path("small.csv"), "ContextTokens,GeneratedTokens\n100,20\n300,5\n"
                                        "700,40\n1500,12\n2500,3\n"));
    QVERIFY(writeAll(path("bad_line.csv"), "ContextTokens,GeneratedTokens\n100,20\n300,-5\n"));
    QVERIFY(writeAll(path("profile.csv"), "length,latency_ms\n128,10\n1024,40\n8192,400\n"));
    QVERIFY(writeAll(path("log.csv"), "batch,position,count\n1,100,50\n4,900,20\n8,3000,5\n"));
}

void TestLlmCli::help()
{
    const auto r = runCli({"llm", "--help"});
    QCOMPARE(r.exitCode, 0);
    QVERIFY(r.out.contains("Example"));
    for (const char* option : {"--traffic", "--prompt-field", "--output-field", "--count-field",
                               "--cte-latency", "--tkg-latency", "--max-context-length",
                               "--seq-len", "--buckets", "--json", "--nxd-config", "--vllm-config"})
        QVERIFY2(r.out.contains(option), option);
}

void TestLlmCli::demoBeatsNxdDefaultWithSameBuckets()
{
    // NxD's default for 8192/8192 is 7 CTE + 7 TKG buckets: give the tuner the same 14.
    const auto r = runCli(base(kDemo, 14) + QStringList{"--json"});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QVERIFY(r.err.isEmpty());
    const auto j = QJsonDocument::fromJson(r.out).object();
    const auto cte = ints(j["cte_buckets"]);
    const auto tkg = ints(j["tkg_buckets"]);
    QVERIFY(ascending(cte) && ascending(tkg));
    QCOMPARE(cte.last(), 8192);
    QCOMPARE(tkg.last(), 8192);
    const auto nxd = baseline(j, "nxd_default");
    QVERIFY(!nxd.isEmpty());
    QCOMPARE(ints(nxd["cte_buckets"]), (QList<qint64>{128, 256, 512, 1024, 2048, 4096, 8192}));
    QCOMPARE(ints(nxd["tkg_buckets"]), (QList<qint64>{128, 256, 512, 1024, 2048, 4096, 8192}));
    QCOMPARE(nxd["models"].toInt(), 14);
    QVERIFY(cte.size() + tkg.size() <= 14);
    const double tuned = j["mean_request_ms"].toDouble();
    const double def = nxd["mean_request_ms"].toDouble();
    QVERIFY2(tuned < def, qPrintable(QString("%1 vs %2").arg(tuned).arg(def)));
    QVERIFY(nxd["tuned_same_models_ms"].toDouble() <= tuned + 1e-9);
    for (const auto& b : j["baselines"].toArray()) {
        const auto o = b.toObject();
        for (const char* key : {"name", "cte_buckets", "tkg_buckets", "mean_request_ms"})
            QVERIFY2(o.contains(key), key);
    }
    QCOMPARE(j["exact"].toBool(), true);
    QCOMPARE(j["traffic"].toObject()["requests"].toInteger(), 8819);
    QCOMPARE(j["workload"].toObject()["tkg_steps"].toInteger(), 237077);
    QCOMPARE(j["pareto"].toObject()["by_models"].toArray().size(), 13);
}

void TestLlmCli::configsWrittenAndChecked()
{
    const auto r =
        runCli(base(kDemo, 12) + QStringList{"--json", "--nxd-config", path("nxd.json"),
                                             "--vllm-config", path("vllm.json"),
                                             "--vllm-neuron-config", path("plugin.json")});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    const auto j = QJsonDocument::fromJson(r.out).object();
    const auto nxd = QJsonDocument::fromJson(readAll(path("nxd.json"))).object();
    QCOMPARE(nxd["enable_bucketing"].toBool(), true);
    QCOMPARE(ints(nxd["context_encoding_buckets"]), ints(j["cte_buckets"]));
    QCOMPARE(ints(nxd["token_generation_buckets"]), ints(j["tkg_buckets"]));
    QCOMPARE(nxd["max_context_length"].toInteger(), 8192);
    QCOMPARE(nxd["seq_len"].toInteger(), 8192);
    QVERIFY(!nxd.contains("token_generation_batches"));
    const auto vllm = QJsonDocument::fromJson(readAll(path("vllm.json"))).object();
    const auto override_ = vllm["override_neuron_config"].toObject();
    QCOMPARE(ints(override_["context_encoding_buckets"]), ints(j["cte_buckets"]));
    QCOMPARE(override_["seq_len"].toInteger(), 8192);
    const auto plugin =
        QJsonDocument::fromJson(readAll(path("plugin.json"))).object()["neuron_config"].toObject();
    QCOMPARE(ints(plugin["num_batched_tokens_buckets"]), ints(j["cte_buckets"]));
    QCOMPARE(ints(plugin["num_seqs_buckets"]), QList<qint64>{1});
    QCOMPARE(j["configs"].toObject()["nxd"].toString(), path("nxd.json"));
}

void TestLlmCli::textReport()
{
    const auto r = runCli(base(kDemo, 14));
    QVERIFY2(r.exitCode == 0, r.err.constData());
    for (const char* s : {"tuned", "nxd_default", "powers_of_two", "equal_mass", "pareto",
                          "CTE buckets", "TKG buckets", "vllm serve", "exact:"})
        QVERIFY2(r.out.contains(s), s);
}

void TestLlmCli::batchBuckets()
{
    auto r =
        runCli(base(kDemo, 16) + QStringList{"--max-batch", "8", "--tkg-batch-latency", "scale:0.1",
                                             "--json", "--nxd-config", path("nxd2d.json"),
                                             "--vllm-config", path("vllm2d.json")});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    auto j = QJsonDocument::fromJson(r.out).object();
    const auto batches = ints(j["tkg_batches"]);
    QVERIFY(ascending(batches));
    QCOMPARE(batches.last(), 8);
    QVERIFY(ints(j["cte_buckets"]).size() + batches.size() * ints(j["tkg_buckets"]).size() <= 16);
    QVERIFY(j["lower_bound_ms"].toDouble() <= j["mean_request_ms"].toDouble() + 1e-9);
    const auto nxd = QJsonDocument::fromJson(readAll(path("nxd2d.json"))).object();
    QCOMPARE(ints(nxd["token_generation_batches"]), batches);
    QCOMPARE(nxd["batch_size"].toInteger(), 8);
    const auto vllm = QJsonDocument::fromJson(readAll(path("vllm2d.json"))).object();
    QCOMPARE(ints(vllm["override_neuron_config"].toObject()["token_generation_batches"]), batches);
    // From a decode log.
    r = runCli(base(path("small.csv"), 8) + QStringList{"--decode-log", path("log.csv"),
                                                        "--tkg-batch-latency", "scale:0.2",
                                                        "--json"});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    j = QJsonDocument::fromJson(r.out).object();
    QCOMPARE(j["decode_calls"].toObject()["calls"].toInteger(), 75);
    QCOMPARE(ints(j["tkg_batches"]).last(), 8);
}

void TestLlmCli::ttftBudgetAndCompileBudget()
{
    auto r = runCli(base(kDemo, 14) + QStringList{"--objective", "ttft-p99:340", "--json"});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    auto j = QJsonDocument::fromJson(r.out).object();
    QVERIFY(j["p99_ttft_ms"].toDouble() <= 340);
    // The 99th-percentile prompt has 7,436 tokens; no bucket serves it under 332 ms: exit 1.
    r = runCli(base(kDemo, 14) + QStringList{"--objective", "ttft-p99:100", "--json"});
    QCOMPARE(r.exitCode, 1);
    j = QJsonDocument::fromJson(r.out).object();
    QCOMPARE(j["feasible"].toBool(), false);
    QVERIFY(j["infeasible_reason"].toString().contains("99th-percentile prompt"));
    QVERIFY(j["cte_buckets"].isNull());
    QVERIFY(baseline(j, "nxd_default").contains("mean_request_ms"));
    // Ten-minute CTE compiles and five-minute TKG compiles, an hour and a half in all.
    r = runCli(base(kDemo, 14) + QStringList{"--cte-compile", "linear:600,0", "--tkg-compile",
                                             "linear:300,0", "--compile-budget", "5400", "--json"});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    j = QJsonDocument::fromJson(r.out).object();
    QVERIFY(j["compile_s"].toDouble() <= 5400);
    QCOMPARE(j["exact"].toBool(), true);
    QVERIFY(j["pareto"].toObject()["by_compile"].toArray().size() > 2);
}

void TestLlmCli::currentListsBreakingARuleExitOne()
{
    // A TKG list that stops short of seq_len: NxD raises for longer sequences.
    auto r = runCli(base(kDemo, 14) + QStringList{"--current-cte", "1024,4096,8192",
                                                  "--current-tkg", "1024,4096", "--json"});
    QCOMPARE(r.exitCode, 1);
    const auto j = QJsonDocument::fromJson(r.out).object();
    const auto checks = j["checks"].toArray();
    QCOMPARE(checks.size(), 1);
    QCOMPARE(checks[0].toObject()["rule"].toString(), QString("nxd.tkg_buckets_cover_seq_len"));
    const auto current = baseline(j, "current");
    QVERIFY(current["failed_requests"].toInteger() > 0);
    // A valid current list: exit 0, and it is a baseline.
    r = runCli(base(kDemo, 14) + QStringList{"--current-cte", "1024,4096,8192", "--json"});
    QCOMPARE(r.exitCode, 0);
    QCOMPARE(ints(baseline(QJsonDocument::fromJson(r.out).object(), "current")["cte_buckets"]),
             (QList<qint64>{1024, 4096, 8192}));
}

void TestLlmCli::outputsAreProtected()
{
    QVERIFY(writeAll(path("keep.json"), "{}"));
    auto r = runCli(base(kDemo, 10) + QStringList{"--nxd-config", path("keep.json")});
    QCOMPARE(r.exitCode, 2);
    QVERIFY(r.err.contains("--nxd-config"));
    QCOMPARE(readAll(path("keep.json")), QByteArray("{}"));
    r = runCli(base(kDemo, 10) + QStringList{"--nxd-config", path("keep.json"), "--force"});
    QCOMPARE(r.exitCode, 0);
    QVERIFY(readAll(path("keep.json")).contains("context_encoding_buckets"));
    r = runCli(base(path("small.csv"), 10) +
               QStringList{"--vllm-config", path("small.csv"), "--force"});
    QCOMPARE(r.exitCode, 2);
    QVERIFY(r.err.contains("also an input"));
    r = runCli(base(kDemo, 10) +
               QStringList{"--nxd-config", path("same.json"), "--vllm-config", path("same.json")});
    QCOMPARE(r.exitCode, 2);
    QVERIFY(!QFile::exists(path("same.json")));
}

void TestLlmCli::badInput_data()
{
    QTest::addColumn<QStringList>("extra");
    QTest::addColumn<QString>("traffic");
    QTest::addColumn<QString>("mentions");
    QTest::addRow("bad row") << QStringList{} << "DIR/bad_line.csv"
                             << "--traffic: DIR/bad_line.csv:3: output tokens -5 is below 0";
    QTest::addRow("missing file") << QStringList{} << "DIR/none.csv"
                                  << "none.csv";
    QTest::addRow("bad spec") << QStringList{} << "prompt=uniform:min=1,max=9"
                              << "--traffic: traffic spec";
    QTest::addRow("unknown field") << QStringList{"--prompt-field", "tokens_in"} << "DIR/small.csv"
                                   << "no column 'tokens_in'";
    QTest::addRow("context > seq_len")
        << QStringList{"--max-context-length", "9000"} << "DIR/small.csv"
        << "--max-context-length 9000 exceeds --seq-len 8192";
    QTest::addRow("one bucket") << QStringList{"--buckets", "1"} << "DIR/small.csv"
                                << "--buckets must be at least 2";
    QTest::addRow("objective") << QStringList{"--objective", "p99"} << "DIR/small.csv"
                               << "--objective must be mean or ttft-p99:MS";
    QTest::addRow("latency file") << QStringList{"--cte-latency", "DIR/nolat.csv"}
                                  << "DIR/small.csv"
                                  << "--cte-latency:";
    QTest::addRow("latency spec") << QStringList{"--tkg-latency", "linear:1"} << "DIR/small.csv"
                                  << "--tkg-latency: latency spec";
    QTest::addRow("compile budget without costs")
        << QStringList{"--compile-budget", "100"} << "DIR/small.csv"
        << "--compile-budget needs the compile time per bucket: give --cte-compile";
    QTest::addRow("batches without latency") << QStringList{"--max-batch", "4"} << "DIR/small.csv"
                                             << "need --tkg-batch-latency";
    QTest::addRow("batches with speculation")
        << QStringList{"--max-batch",          "4", "--tkg-batch-latency", "scale:0.1",
                       "--speculation-length", "3"}
        << "DIR/small.csv"
        << "NxD rule: token_generation_batches";
    QTest::addRow("unsorted current")
        << QStringList{"--current-tkg", "512,256,8192"} << "DIR/small.csv"
        << "--current-tkg";
    QTest::addRow("missing required") << QStringList{"REMOVE:--buckets"} << "DIR/small.csv"
                                      << "--buckets is required";
}

void TestLlmCli::badInput()
{
    QFETCH(QStringList, extra);
    QFETCH(QString, traffic);
    QFETCH(QString, mentions);
    traffic.replace("DIR", dir_.path());
    mentions.replace("DIR", dir_.path());
    for (auto& e : extra)
        e.replace("DIR", dir_.path());
    const auto r = runCli(withOptions(base(traffic, 6), extra));
    QCOMPARE(r.exitCode, 2);
    QVERIFY(r.out.isEmpty());
    QCOMPARE(r.err.count('\n'), 1);
    QVERIFY2(r.err.contains(mentions.toUtf8()), r.err.constData());
}

QTEST_GUILESS_MAIN(TestLlmCli)
#include "tst_llm_cli.moc"
