// `bucketlab-cli profile` as scripts use it: the JSON fields, the profile file, grids,
// exit codes (0 measured, 1 some lengths failed, 2 unusable input) with one line on
// stderr, and no output file on bad input.
#include "envoverride.h"
#include "testutil.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>

using namespace bucketlab::test;

namespace {

// A Neuron-compiled model as far as anything short of loading can tell: the demo model's
// archive with a torch.classes.neuron.Model attribute added to its class code, as the
// modules torch_neuronx.trace produces declare one. Rewritten entry by entry with Python's
// zipfile (stored, like torch.jit.save's records).
const char* kNeuronFixture = R"(
import sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
done = False
with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
    for info in zin.infolist():
        data = zin.read(info.filename)
        if not done and "/code/" in info.filename and info.filename.endswith(".py") and b"__buffers__" in data:
            at = data.index(b"\n", data.index(b"__buffers__")) + 1
            data = data[:at] + b"  neuron_model : __torch__.torch.classes.neuron.Model\n" + data[at:]
            done = True
        zout.writestr(info.filename, data)
assert done
)";

} // namespace

class TestCliProfile : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void help();
    void jsonPointsAndProfileFile();
    void textTableForAPackage();
    void gridOfAPackage();
    void failingLengthExitsOne();
    void forwardMemoryPastTheBudget();
    void badInput_data();
    void badInput();
    void existingOutputIsKept();
    void tuneVerifyMeasuresTheTunedBuckets();
    void tuneVerifyBadInput_data();
    void tuneVerifyBadInput();

private:
    QString path(const QString& name) const { return dir_.filePath(name); }
    QTemporaryDir dir_;
    QString model_, package_;
    const QString inputs_ = "input_ids:int64:0,attention_mask:int64:0";
};

void TestCliProfile::initTestCase()
{
    QVERIFY(dir_.isValid());
    const auto d = runCli({"demo", "--out", path("demo"), "--verify-budget", "0", "--json"});
    QVERIFY2(d.exitCode == 0, d.err.constData());
    model_ = path("demo/demo_model.pt");
    package_ = path("demo/demo_package.pt");
    QVERIFY(writeAll(path("notes.txt"), "not a model\n"));
    const auto n = runPython(kNeuronFixture, {model_, path("neuron.pt")});
    QVERIFY2(n.exitCode == 0, n.err.constData());
}

void TestCliProfile::help()
{
    const auto r = runCli({"profile", "--help"});
    QCOMPARE(r.exitCode, 0);
    for (const char* option :
         {"--json", "--lengths", "--grid", "--batch-sizes", "--threads", "--budget", "--out",
          "--inputs", "--device", "--clock", "--target-ci"})
        QVERIFY2(r.out.contains(option), option);
    // --batch, the old name of --batch-sizes, is still accepted but no longer listed.
    QVERIFY2(!QRegularExpression("--batch(?![a-z-])").match(QString::fromUtf8(r.out)).hasMatch(),
             r.out.constData());
}

void TestCliProfile::jsonPointsAndProfileFile()
{
    const auto r = runCli({"profile", model_, "--inputs", inputs_, "--lengths", "64,16", "--budget",
                           "4", "--out", path("p.json"), "--json"});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    const auto doc = QJsonDocument::fromJson(r.out).object();
    QCOMPARE(doc["format"].toString(), QString("bucketlab.profile/1"));
    QCOMPARE(doc["out"].toString(), path("p.json"));
    QCOMPARE(doc["device"].toObject()["threads"].toInt(), 1);
    const auto points = doc["points"].toArray();
    QCOMPARE(points.size(), 2);
    QCOMPARE(points[0].toObject()["length"].toInt(), 16); // ascending
    for (const auto& v : points) {
        const auto p = v.toObject();
        for (const char* key : {"length", "batch", "p50_ms", "p90_ms", "p99_ms", "mean_ms",
                                "ci95_ms", "samples", "flags"})
            QVERIFY2(p.contains(key), key);
        QVERIFY(!p.contains("samples_ms")); // raw samples go to the file, not the terminal
        QCOMPARE(p["ci95_ms"].toArray().size(), 2);
        QVERIFY(p["ci95_ms"][0].toDouble() <= p["p50_ms"].toDouble());
        QVERIFY(p["p50_ms"].toDouble() <= p["ci95_ms"][1].toDouble());
        QVERIFY(p["samples"].toInt() >= 1);
    }
    const auto file = QJsonDocument::fromJson(readAll(path("p.json"))).object();
    const auto stored = file["points"].toArray();
    QCOMPARE(stored.size(), 2);
    for (int i = 0; i < 2; ++i) {
        QCOMPARE(stored[i].toObject()["samples_ms"].toArray().size(),
                 stored[i].toObject()["samples"].toInt());
        QCOMPARE(stored[i].toObject()["p50_ms"].toDouble(),
                 points[i].toObject()["p50_ms"].toDouble());
    }
}

void TestCliProfile::textTableForAPackage()
{
    const auto r = runCli({"profile", package_, "--lengths", "100", "--budget", "3"});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QVERIFY2(r.out.contains("(package forward)"), r.out.constData());
    QVERIFY(r.out.contains("1 thread, wall clock"));
    QVERIFY(r.out.contains("p50 ms"));
    QVERIFY(r.out.contains("     100      1"));
}

void TestCliProfile::gridOfAPackage()
{
    const auto r = runCli({"profile", package_, "--grid", "4", "--budget", "8", "--json"});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QList<int> lengths;
    for (const auto& v : QJsonDocument::fromJson(r.out).object()["points"].toArray())
        lengths << v.toObject()["length"].toInt();
    // 16 * 32^(i/3) for i = 0..3, rounded, up to the largest bucket, plus the buckets.
    QCOMPARE(lengths, (QList<int>{16, 51, 128, 161, 512}));
}

void TestCliProfile::failingLengthExitsOne()
{
    // The demo encoder has 512 positions and raises above that: the other length goes on.
    const auto r = runCli({"profile", model_, "--inputs", inputs_, "--lengths", "16,600",
                           "--budget", "3", "--out", path("failed.json"), "--json"});
    QCOMPARE(r.exitCode, 1);
    const auto points = QJsonDocument::fromJson(r.out).object()["points"].toArray();
    QCOMPARE(points.size(), 2);
    QVERIFY(points[0].toObject()["error"].isNull());
    const QString error = points[1].toObject()["error"].toString();
    QVERIFY2(error.contains("length 600") && error.contains("exceeds 512 positions"),
             qPrintable(error));
    QCOMPARE(points[1].toObject()["flags"].toArray().at(0).toString(), QString("failed"));
    QVERIFY(QFile::exists(path("failed.json"))); // the measured length is kept
}

void TestCliProfile::forwardMemoryPastTheBudget()
{
    // Issue 12: what a model allocates inside its forward() is held to the memory budget.
    // Past 64 tokens this model builds an n x n x 4096 float tensor (256 MiB at 128).
    const QString hungry = path("hungry.pt");
    const auto made = runPython("import sys, torch\n"
                                "class Hungry(torch.nn.Module):\n"
                                "    def forward(self, input_ids, attention_mask):\n"
                                "        n = input_ids.shape[1]\n"
                                "        if n > 64:\n"
                                "            return torch.zeros([n, n, 4096]).sum() + 0.0\n"
                                "        return input_ids.sum().float()\n"
                                "torch.jit.script(Hungry()).save(sys.argv[1])\n",
                                {hungry});
    QVERIFY2(made.exitCode == 0, made.err.constData());
    const EnvOverride budget("BUCKETLAB_MEMORY_BUDGET_MIB", "64");
    const QString refusal = "forward failed at length 128, batch 1: allocating a tensor of "
                            "256.00 MiB would pass the memory budget of 64.00 MiB";
    // One length over the budget: that point fails with the reason, the other is measured.
    const auto mixed = runCli({"profile", hungry, "--inputs", inputs_, "--lengths", "16,128",
                               "--budget", "1", "--out", path("hungry.json"), "--json"});
    QCOMPARE(mixed.exitCode, 1);
    const auto points =
        QJsonDocument::fromJson(readAll(path("hungry.json"))).object()["points"].toArray();
    QCOMPARE(points.size(), 2);
    QCOMPARE(points.at(0).toObject()["length"].toInt(), 16);
    QVERIFY(points.at(0).toObject()["error"].toString().isEmpty());
    QVERIFY(points.at(0).toObject()["p50_ms"].toDouble() > 0);
    QVERIFY2(points.at(1).toObject()["error"].toString().startsWith(refusal),
             qPrintable(points.at(1).toObject()["error"].toString()));
    // Every length over it: nothing to write, a one-line error.
    const auto none = runCli({"profile", hungry, "--inputs", inputs_, "--lengths", "128",
                              "--budget", "1", "--out", path("hungry_none.json")});
    QCOMPARE(none.exitCode, 2);
    const QString err = QString::fromUtf8(none.err).trimmed();
    QVERIFY2(err.contains("hungry.pt: no shape could be measured; " + refusal), qPrintable(err));
    QVERIFY(!err.contains('\n'));
    QVERIFY(!QFileInfo::exists(path("hungry_none.json")));
}

void TestCliProfile::badInput_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("mentions");
    const QString m = model_, p = package_;
    const QStringList plain = {"profile", m, "--inputs", inputs_};
    QTest::addRow("length 0") << plain + QStringList{"--lengths", "0,16"}
                              << "--lengths: '0' is not positive";
    QTest::addRow("negative length") << plain + QStringList{"--lengths", "-4"} << "not positive";
    QTest::addRow("above the package's largest bucket")
        << QStringList{"profile", p, "--lengths", "128,600"} << "exceeds the largest bucket 512";
    QTest::addRow("budget 0") << plain + QStringList{"--lengths", "16", "--budget", "0"}
                              << "positive number of seconds";
    QTest::addRow("negative budget")
        << plain + QStringList{"--lengths", "16", "--budget", "-1"} << "positive number of seconds";
    QTest::addRow("lengths and grid")
        << plain + QStringList{"--lengths", "16", "--grid", "4"} << "excludes";
    QTest::addRow("neither lengths nor grid") << plain << "give --lengths LIST or --grid N";
    QTest::addRow("grid of a plain model without --max-length")
        << plain + QStringList{"--grid", "4"} << "needs --max-length";
    QTest::addRow("grid beyond the package")
        << QStringList{"profile", p, "--grid", "4", "--max-length", "600"}
        << "--max-length 600 exceeds the largest bucket 512";
    QTest::addRow("plain model without inputs")
        << QStringList{"profile", m, "--lengths", "16"} << "needs --inputs";
    QTest::addRow("batch 0") << plain + QStringList{"--lengths", "16", "--batch", "0"}
                             << "--batch-sizes: '0' is not positive";
    QTest::addRow("Neuron model without the Neuron runtime")
        << QStringList{"profile", path("neuron.pt"), "--inputs", inputs_, "--lengths", "16"}
        << "this model needs the AWS Neuron runtime (libtorchneuron.so), which is not installed "
           "here; profile it on a Neuron host with resources/neuron/profile_buckets.py and "
           "import the JSON";
    QTest::addRow("cpu clock with two threads")
        << plain + QStringList{"--lengths", "16", "--clock", "cpu", "--threads", "2"}
        << "needs --threads 1";
    QTest::addRow("unknown device") << plain + QStringList{"--lengths", "16", "--device", "tpu"}
                                    << "expected auto, cpu, cuda or neuron";
    QTest::addRow("missing model")
        << QStringList{"profile", path("nope.pt"), "--lengths", "16"} << "no such file";
    QTest::addRow("not a model") << QStringList{"profile", path("notes.txt"), "--inputs",
                                                inputs_,   "--lengths",       "16"}
                                 << "not a TorchScript archive";
    QTest::addRow("2^24 tokens at batch 4096")
        << plain + QStringList{"--lengths", "16777216", "--batch", "4096"}
        << "needs about 1.00 TiB, more than the memory budget of 2.00 GiB; lower --lengths or "
           "--batch-sizes";
    QTest::addRow("output is the model")
        << plain + QStringList{"--lengths", "16", "--out", m} << "--out";
}

void TestCliProfile::badInput()
{
    QFETCH(QStringList, args);
    QFETCH(QString, mentions);
    const QString out = path("never_written.json");
    if (!args.contains("--out"))
        args << "--out" << out;
    const auto r = runCli(args);
    QCOMPARE(r.exitCode, 2);
    const QString err = QString::fromUtf8(r.err).trimmed();
    QVERIFY2(err.contains(mentions), qPrintable(err));
    QVERIFY2(!err.contains('\n'), qPrintable(err)); // one line
    QVERIFY(r.out.isEmpty());
    QVERIFY(!QFile::exists(out));
}

void TestCliProfile::existingOutputIsKept()
{
    QVERIFY(writeAll(path("kept.json"), "precious\n"));
    const auto r = runCli(
        {"profile", model_, "--inputs", inputs_, "--lengths", "16", "--out", path("kept.json")});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains("--force"), r.err.constData());
    QCOMPARE(readAll(path("kept.json")), QByteArray("precious\n"));
    const auto forced = runCli({"profile", model_, "--inputs", inputs_, "--lengths", "16",
                                "--budget", "2", "--out", path("kept.json"), "--force"});
    QVERIFY2(forced.exitCode == 0, forced.err.constData());
    QVERIFY(readAll(path("kept.json")).contains("bucketlab.profile/1"));
}

// `tune --verify`: the tuned buckets are measured on the package's shared bucket model
// (the boundaries are new), weighted by their traffic, and set against the prediction.
void TestCliProfile::tuneVerifyMeasuresTheTunedBuckets()
{
    const auto p = runCli({"profile", model_, "--inputs", inputs_, "--lengths", "16,32,64,128",
                           "--budget", "6", "--out", path("curve.json"), "--force"});
    QVERIFY2(p.exitCode == 0, p.err.constData());
    const auto r = runCli({"tune", "--distribution", "uniform:max=128,n=2000,seed=3", "--latency",
                           path("curve.json"), "--buckets", "2", "--cover", "128", "--verify",
                           package_, "--verify-budget", "6", "--json"});
    QVERIFY2(r.exitCode == 0 || r.exitCode == 1, r.err.constData());
    const auto doc = QJsonDocument::fromJson(r.out).object();
    const auto v = doc["verification"].toObject();
    QCOMPARE(v["model"].toString(), package_);
    QCOMPARE(r.exitCode, v["within_tolerance"].toBool() ? 0 : 1);
    QCOMPARE(v["predicted_ms"].toDouble(), doc["stats"].toObject()["mean_latency_ms"].toDouble());
    const auto tuned = doc["boundaries"].toArray();
    QCOMPARE(tuned.size(), 2);
    QCOMPARE(tuned[1].toInt(), 128);
    const auto buckets = v["buckets"].toArray();
    QCOMPARE(buckets.size(), 2);
    double shares = 0;
    for (int k = 0; k < 2; ++k) {
        QCOMPARE(buckets[k].toObject()["boundary"].toInt(), tuned[k].toInt());
        shares += buckets[k].toObject()["share"].toDouble();
    }
    QVERIFY(std::abs(shares - 1) < 1e-9);
    // Uniform traffic up to 128: the bucket at 128 serves 128 - b0 of every 128 lengths.
    QVERIFY(std::abs(buckets[1].toObject()["share"].toDouble() -
                     (128.0 - tuned[0].toInt()) / 128.0) < 0.05);
    QVERIFY(v["scaled_to_reference"].toBool());
    const double measured = v["measured_ms"].toDouble();
    QVERIFY(std::abs(v["error_pct"].toDouble() -
                     (v["predicted_ms"].toDouble() - measured) / measured * 100) < 1e-9);
    qInfo("tune --verify: predicted %.3f ms, measured %.3f ms, error %+.2f %%",
          v["predicted_ms"].toDouble(), measured, v["error_pct"].toDouble());

    const auto text = runCli({"tune", "--distribution", "uniform:max=128,n=2000,seed=3",
                              "--latency", "linear:1,0.01", "--buckets", "2", "--cover", "128",
                              "--verify", package_, "--verify-budget", "4"});
    QVERIFY2(text.exitCode == 0 || text.exitCode == 1, text.err.constData());
    QVERIFY2(text.out.contains("verify     " + package_.toUtf8()), text.out.constData());
    QVERIFY(text.out.contains("predicted mean"));
    // An analytic curve names no machine: nothing to scale by.
    QVERIFY(!text.out.contains("scaled back"));
}

void TestCliProfile::tuneVerifyBadInput_data()
{
    QTest::addColumn<QStringList>("extra");
    QTest::addColumn<QString>("mentions");
    QTest::addRow("missing model") << QStringList{"--verify", path("absent.pt")} << "absent.pt";
    QTest::addRow("not a model") << QStringList{"--verify", path("notes.txt")} << "notes.txt";
    QTest::addRow("plain model without inputs") << QStringList{"--verify", model_} << "--inputs";
    QTest::addRow("zero budget") << QStringList{"--verify", package_, "--verify-budget", "0"}
                                 << "--verify-budget";
    QTest::addRow("buckets above the package")
        << QStringList{"--verify", package_, "--cover", "600"} << "512";
}

void TestCliProfile::tuneVerifyBadInput()
{
    QFETCH(QStringList, extra);
    QFETCH(QString, mentions);
    const auto r = runCli(QStringList{"tune", "--distribution", "uniform:max=128,n=500,seed=1",
                                      "--latency", "linear:1,0.01", "--buckets", "2"} +
                          extra);
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains(mentions.toUtf8()), r.err.constData());
    QCOMPARE(r.err.trimmed().count('\n'), 0);
}

QTEST_GUILESS_MAIN(TestCliProfile)
#include "tst_cli_profile.moc"
