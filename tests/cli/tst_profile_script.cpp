// resources/neuron/profile_buckets.py, the script for a Neuron host, run here on CPU
// TorchScript models with Debian's python3-torch (no torch_neuronx): its profiles are read
// by the core's profile reader, its failures and bad usage follow the CLI's exit codes.
#include "core/latency/latency_curve.h"
#include "core/latency/profile_format.h"
#include "core/llm/llm_evaluator.h"
#include "core/util/error.h"
#include "testutil.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

using namespace bucketlab;
using namespace bucketlab::test;

namespace {

const char* kNeuronFixture = R"(
import sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
    for info in zin.infolist():
        data = zin.read(info.filename)
        if "/code/" in info.filename and info.filename.endswith(".py") and b"__buffers__" in data:
            at = data.index(b"\n", data.index(b"__buffers__")) + 1
            data = data[:at] + b"  neuron_model : __torch__.torch.classes.neuron.Model\n" + data[at:]
        zout.writestr(info.filename, data)
)";

ProcessResult runScript(const QStringList& args)
{
    return runProcess(
        QStringLiteral(BUCKETLAB_PYTHON),
        QStringList{QStringLiteral(BUCKETLAB_SOURCE_DIR "/resources/neuron/profile_buckets.py")} +
            args);
}

} // namespace

class TestProfileScript : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void packageProfileReadByTheCore();
    void plainModelWithAFailingLength();
    void printsJsonWithoutOut();
    void decoderPhasesReadByTheCore();
    void badUsage_data();
    void badUsage();

private:
    QString path(const QString& name) const { return dir_.filePath(name); }
    QTemporaryDir dir_;
    QString model_, package_, decoder_;
    const QString inputs_ = "input_ids:int64:0,attention_mask:int64:0";
};

void TestProfileScript::initTestCase()
{
    QVERIFY(dir_.isValid());
    qputenv("OMP_NUM_THREADS", "1");
    const auto d = runCli({"demo", "--out", path("demo"), "--verify-budget", "0", "--json"});
    QVERIFY2(d.exitCode == 0, d.err.constData());
    model_ = path("demo/demo_model.pt");
    package_ = path("demo/demo_package.pt");
    const auto n = runPython(kNeuronFixture, {model_, path("neuron.pt")});
    QVERIFY2(n.exitCode == 0, n.err.constData());
    decoder_ = path("decoder.pt");
    const auto dec = runCli({"demo", "decoder", "--out", decoder_});
    QVERIFY2(dec.exitCode == 0, dec.err.constData());
}

void TestProfileScript::packageProfileReadByTheCore()
{
    const auto r = runScript({package_, "--budget", "5", "--out", path("s.json")});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    const Profile p = readProfile(s(path("s.json")));
    QCOMPARE(p.format, std::string("bucketlab.profile/1"));
    QCOMPARE(p.deviceKind, std::string("cpu"));
    QCOMPARE(p.threads, 1);
    QCOMPARE(p.modelFile, std::string("demo_package.pt"));
    QCOMPARE(p.settings.at("target"), std::string("package forward"));
    QVERIFY(!p.environment.at("torch").empty());
    // A package's lengths default to its buckets.
    QCOMPARE(p.points.size(), size_t(2));
    QCOMPARE(p.points[0].length, int64_t(128));
    QCOMPARE(p.points[1].length, int64_t(512));
    for (const auto& pt : p.points) {
        QVERIFY2(pt.ok(), pt.error.c_str());
        QVERIFY(pt.warmupRuns >= 2);
        QCOMPARE(pt.samples, int64_t(pt.samplesMs.size()));
        QVERIFY(pt.ci95LowMs <= pt.p50Ms && pt.p50Ms <= pt.ci95HighMs);
        QVERIFY(pt.p50Ms <= pt.p99Ms);
    }
    QVERIFY(p.points[1].p50Ms > p.points[0].p50Ms);
}

void TestProfileScript::plainModelWithAFailingLength()
{
    const auto r = runScript({model_, "--inputs", inputs_, "--lengths", "16,600", "--budget", "3",
                              "--out", path("f.json")});
    QCOMPARE(r.exitCode, 1);
    const Profile p = readProfile(s(path("f.json")));
    QCOMPARE(p.points.size(), size_t(2));
    QVERIFY(p.points[0].ok());
    QVERIFY(!p.points[1].ok());
    QVERIFY2(QString::fromStdString(p.points[1].error).contains("exceeds 512 positions"),
             p.points[1].error.c_str());
    QCOMPARE(p.points[1].flags, std::vector<std::string>{"failed"});
}

void TestProfileScript::printsJsonWithoutOut()
{
    const auto r = runScript({model_, "--inputs", inputs_, "--lengths", "32", "--budget", "3"});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    const Profile p = profileFromJson(r.out.toStdString(), "stdout");
    QCOMPARE(p.points.size(), size_t(1));
    QCOMPARE(p.settings.at("target"), std::string("model forward"));
    QVERIFY(r.err.contains("32 x 1: p50")); // the summary goes to stderr
}

void TestProfileScript::decoderPhasesReadByTheCore()
{
    // The demo decoder's two phases, as the script measures them on a Neuron host (here on
    // CPU): each profile records its phase and the lengths asked, and the core reads the
    // pair as llm's CTE and TKG curves (refusing them swapped).
    struct Phase {
        const char* name;
        QString lengths;
        std::vector<int64_t> expected;
        const char* target;
    };
    for (const Phase& ph : {Phase{"prefill", "16,128", {16, 128}, "decoder prefill"},
                            Phase{"decode", "64,512", {64, 512}, "decoder decode step"}}) {
        const QString out = path(QString(ph.name) + ".json");
        const auto r = runScript({decoder_, "--phase", ph.name, "--lengths", ph.lengths, "--batch",
                                  "1,2", "--budget", "3", "--out", out});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const Profile p = readProfile(s(out));
        QCOMPARE(profilePhase(p), std::string(ph.name));
        QCOMPARE(p.settings.at("target"), std::string(ph.target));
        QCOMPARE(p.points.size(), size_t(4));
        for (size_t i = 0; i < p.points.size(); ++i) {
            QVERIFY2(p.points[i].ok(), p.points[i].error.c_str());
            QCOMPARE(p.points[i].length, ph.expected[i % 2]);
            QCOMPARE(p.points[i].batch, int64_t(i < 2 ? 1 : 2));
            QVERIFY(p.points[i].p50Ms > 0 && p.points[i].warmupRuns >= 2);
        }
    }
    const LatencyCurve cte = LatencyCurve::load(s(path("prefill.json")));
    const LatencyCurve tkg = LatencyCurve::load(s(path("decode.json")));
    QCOMPARE(cte.phase(), std::string("prefill"));
    QCOMPARE(tkg.phase(), std::string("decode"));
    checkCurvePhases(cte, tkg);
    QVERIFY_THROWS_EXCEPTION(Error, checkCurvePhases(tkg, cte));
}

void TestProfileScript::badUsage_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("mentions");
    const QString m = model_, p = package_;
    QTest::addRow("--neuron without torch_neuronx")
        << QStringList{p, "--neuron"} << "--neuron needs torch_neuronx";
    QTest::addRow("Neuron model without --neuron")
        << QStringList{path("neuron.pt"), "--inputs", inputs_, "--lengths", "16"}
        << "uses Neuron classes; run with --neuron";
    QTest::addRow("length 0") << QStringList{m, "--inputs", inputs_, "--lengths", "0"}
                              << "--lengths: 0 is not positive";
    QTest::addRow("budget 0") << QStringList{p, "--budget", "0"} << "--budget 0";
    QTest::addRow("above the package's largest bucket")
        << QStringList{p, "--lengths", "600"} << "exceeds the largest bucket 512";
    QTest::addRow("plain model without inputs")
        << QStringList{m, "--lengths", "16"} << "--inputs is needed";
    QTest::addRow("missing file") << QStringList{path("nope.pt")} << "no such file";
    QTest::addRow("--phase on an encoder") << QStringList{m, "--phase", "decode", "--lengths", "16"}
                                           << "not a decoder, it has no decode() method";
    QTest::addRow("--phase with --inputs")
        << QStringList{decoder_, "--phase", "prefill", "--lengths", "16", "--inputs", inputs_}
        << "leave --inputs out";
    QTest::addRow("--phase on a package")
        << QStringList{p, "--phase", "prefill", "--lengths", "16"} << "a BucketLab package";
    QTest::addRow("--phase without lengths")
        << QStringList{decoder_, "--phase", "decode"} << "--phase needs --lengths";
    QTest::addRow("bad input spec")
        << QStringList{m, "--inputs", "ids:complex", "--lengths", "16"} << "dtype 'complex'";
}

void TestProfileScript::badUsage()
{
    QFETCH(QStringList, args);
    QFETCH(QString, mentions);
    const auto r = runScript(args + QStringList{"--out", path("never.json")});
    QCOMPARE(r.exitCode, 2);
    const QString err = QString::fromUtf8(r.err).trimmed();
    QVERIFY2(err.startsWith("profile_buckets.py: error: ") && err.contains(mentions),
             qPrintable(err));
    QVERIFY2(!err.contains('\n'), qPrintable(err));
    QVERIFY(!QFile::exists(path("never.json")));
}

QTEST_GUILESS_MAIN(TestProfileScript)
#include "tst_profile_script.moc"
