// bucketlab-cli as scripts use it: exit codes, one-line errors, JSON on stdout, and no
// partial or modified files on bad input.
#include "testutil.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>

using namespace bucketlab::test;

class TestCli : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void helpForEverySubcommand_data();
    void helpForEverySubcommand();
    void demoReportsAndWritesFiles();
    void buildAndInspectJson();
    void buildPerBucket();
    void buildValidatesUserKernel();
    void badBuildInput_data();
    void badBuildInput();
    void dimensionsBeyondTheInputs_data();
    void dimensionsBeyondTheInputs();
    void unknownSubcommand();
    void inspectBadFiles_data();
    void inspectBadFiles();
    void torchFreeCommandsLoadNoLibTorch_data();
    void torchFreeCommandsLoadNoLibTorch();
    void missingTorchModuleIsOneLine_data();
    void missingTorchModuleIsOneLine();

private:
    QString path(const QString& name) const { return dir_.filePath(name); }
    QTemporaryDir dir_;
    QString model_;
};

void TestCli::initTestCase()
{
    QVERIFY(dir_.isValid());
    const auto r = runCli({"demo", "--out", path("demo"), "--verify-budget", "0", "--json"});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QVERIFY(!QJsonDocument::fromJson(r.out).object().contains("verification"));
    model_ = path("demo/demo_model.pt");
    QVERIFY(QFile::exists(model_));
    QVERIFY(writeAll(path("random.pt"), QByteArray(2048, '\x13')));
    const QByteArray full = readAll(model_);
    QVERIFY(writeAll(path("truncated.pt"), full.left(full.size() / 3)));
    QVERIFY(writeAll(path("notes.txt"), "not a model\n"));
}

void TestCli::helpForEverySubcommand_data()
{
    QTest::addColumn<QString>("sub");
    for (const char* s : {"build", "inspect", "demo", "graph", "lint", "validate"})
        QTest::addRow("%s", s) << s;
}

void TestCli::helpForEverySubcommand()
{
    QFETCH(QString, sub);
    const auto r = runCli({sub, "--help"});
    QCOMPARE(r.exitCode, 0);
    QVERIFY(r.out.contains("--json"));
}

void TestCli::demoReportsAndWritesFiles()
{
    const auto r = runCli({"demo", "--out", path("demo2")});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QVERIFY(r.out.contains("buckets 128,512"));
    QVERIFY(r.out.contains("rejected with a clear error"));
    QVERIFY2(r.out.contains("measured   demo_tuned.pt") && r.out.contains("predicted") &&
                 r.out.contains("% tolerance"),
             r.out.constData());
    for (const char* f : {"demo_model.pt", "demo_package.pt", "mrpc_pair_lengths.csv",
                          "demo_profile.json", "demo_tuned.pt"})
        QVERIFY2(QFile::exists(path("demo2/") + f), f);
    // A second run keeps the model and package (the desktop's start with --demo depends on
    // it); a damaged model is noticed and both are rebuilt.
    const QDateTime built = QFileInfo(path("demo2/demo_package.pt")).lastModified();
    QTest::qWait(20); // file times have ms resolution here
    QCOMPARE(runCli({"demo", "--out", path("demo2"), "--verify-budget", "0"}).exitCode, 0);
    QCOMPARE(QFileInfo(path("demo2/demo_package.pt")).lastModified(), built);
    QVERIFY(writeAll(path("demo2/demo_model.pt"), "damaged"));
    const auto j = runCli({"demo", "--out", path("demo2"), "--verify-budget", "6", "--json"});
    QCOMPARE(j.exitCode, 0);
    const auto doc = QJsonDocument::fromJson(j.out).object();
    QCOMPARE(doc["boundaries"].toArray().size(), 2);
    QVERIFY(doc["max_abs_diff"].toDouble() <= 1e-5);
    QVERIFY(doc["rejects_over_length"].toBool());
    QVERIFY(QFileInfo(path("demo2/demo_package.pt")).lastModified() > built);
    QVERIFY(QFileInfo(path("demo2/demo_model.pt")).size() > 1000000);
    // The latency curve is the embedded measured profile, not an analytic stand-in.
    QVERIFY2(doc["latency"].toString().contains("measured points"),
             qPrintable(doc["latency"].toString()));

    // Predicted vs measured: the tuned buckets, each weighted by its traffic share.
    const auto tune = doc["tune"].toObject();
    const auto v = doc["verification"].toObject();
    QCOMPARE(v["predicted_ms"].toDouble(), tune["stats"].toObject()["mean_latency_ms"].toDouble());
    const auto buckets = v["buckets"].toArray();
    QCOMPARE(buckets.size(), tune["boundaries"].toArray().size());
    double shares = 0;
    for (int k = 0; k < buckets.size(); ++k) {
        const auto b = buckets[k].toObject();
        QCOMPARE(b["boundary"].toInt(), tune["boundaries"][k].toInt());
        QVERIFY(b["p50_ms"].toDouble() > 0 && b["samples"].toInt() >= 1);
        shares += b["share"].toDouble();
    }
    QVERIFY(std::abs(shares - 1) < 1e-9);
    QVERIFY(v["scaled_to_reference"].toBool()); // a measured curve gives references
    QVERIFY(!v["references"].toArray().isEmpty());
    const double predicted = v["predicted_ms"].toDouble(), measured = v["measured_ms"].toDouble();
    QVERIFY(measured > 0);
    QVERIFY(std::abs(v["error_pct"].toDouble() - (predicted - measured) / measured * 100) < 1e-9);
    const auto ci = v["measured_ci95_ms"].toArray();
    QVERIFY(ci[0].toDouble() <= measured && measured <= ci[1].toDouble());
    qInfo("demo: predicted %.3f ms, measured %.3f ms [%.3f, %.3f], error %+.2f %%", predicted,
          measured, ci[0].toDouble(), ci[1].toDouble(), v["error_pct"].toDouble());
}

void TestCli::buildAndInspectJson()
{
    const auto r = runCli({"build", model_, "--inputs", "input_ids:int64:0,attention_mask:int64:0",
                           "--boundaries", "32,64,128,512", "--out", path("pkg.pt"), "--json"});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    const auto built = QJsonDocument::fromJson(r.out).object();
    QCOMPARE(built["meta"].toObject()["boundaries"].toArray().size(), 4);
    QVERIFY(built["package_bytes"].toDouble() <= 1.2 * built["model_bytes"].toDouble());

    const auto i = runCli({"inspect", path("pkg.pt"), "--json"});
    QVERIFY2(i.exitCode == 0, i.err.constData());
    const auto info = QJsonDocument::fromJson(i.out).object();
    QVERIFY(info["is_package"].toBool());
    QCOMPARE(info["package"].toObject()["format"].toString(), QString("bucketlab.package/1"));
    bool hasKernel = false;
    for (const auto& m : info["methods"].toArray())
        hasKernel |= m.toObject()["name"].toString() == "bucket_kernel";
    QVERIFY(hasKernel);

    const auto plain = runCli({"inspect", model_, "--json"});
    QCOMPARE(plain.exitCode, 0);
    const auto p = QJsonDocument::fromJson(plain.out).object();
    QVERIFY(!p["is_package"].toBool());
    QVERIFY(p["parameter_count"].toDouble() > 1e6);

    const auto text = runCli({"inspect", path("pkg.pt")});
    QCOMPARE(text.exitCode, 0);
    QVERIFY(text.out.contains("buckets     32,64,128,512"));
}

void TestCli::buildPerBucket()
{
    // Two "traced" models are the same file here; what matters is the per-bucket layout.
    const auto r =
        runCli({"build", "--per-bucket", "64=" + model_ + ",16=" + model_, "--inputs",
                "input_ids:int64:0,attention_mask:int64:0", "--out", path("pb.pt"), "--json"});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    const auto meta = QJsonDocument::fromJson(r.out).object()["meta"].toObject();
    QCOMPARE(meta["kind"].toString(), QString("per-bucket"));
    QCOMPARE(meta["boundaries"].toArray().at(0).toInt(), 16);
    QCOMPARE(meta["bucket_models"].toArray().size(), 2);
}

// Issue 12: build --kernel validates the kernel as export validates the one it writes; a
// kernel with defects is not written (exit 1, one line naming the first defect and length).
void TestCli::buildValidatesUserKernel()
{
    const QString in = "input_ids:int64:0,attention_mask:int64:0";
    const QString out = path("seed_kernel_pkg.pt");
    const auto bad = runCli({"build", model_, "--inputs", in, "--boundaries", "128,512", "--kernel",
                             dataPath("seed_bucket_kernel.py"), "--out", out});
    QCOMPARE(bad.exitCode, 1);
    const QString err = QString::fromUtf8(bad.err).trimmed();
    QVERIFY2(err.startsWith("bucketlab-cli build: package not written: the kernel "),
             qPrintable(err));
    QVERIFY2(err.contains("has 2 defects, the first dtype_changed: length 1, batch 1"),
             qPrintable(err));
    QVERIFY2(!err.contains('\n'), qPrintable("more than one line: " + err));
    QVERIFY(!QFile::exists(out));
    const auto json =
        runCli({"build", model_, "--inputs", in, "--boundaries", "128,512", "--kernel",
                dataPath("seed_bucket_kernel.py"), "--out", out, "--json"});
    QCOMPARE(json.exitCode, 1);
    const auto doc = QJsonDocument::fromJson(json.out).object();
    QCOMPARE(doc["written"].toBool(true), false);
    QVERIFY(doc["failure"].toString().contains("the first dtype_changed: length 1"));
    QVERIFY(!QFile::exists(out));
    // The kernel of the demo's Neuron recipe validates clean at its own boundaries.
    const auto config =
        QJsonDocument::fromJson(readAll(path("demo/neuron_recipe/bucket_config.json"))).object();
    QStringList boundaries;
    for (const auto& b : config["boundaries"].toArray())
        boundaries << QString::number(b.toInt());
    const auto good =
        runCli({"build", model_, "--inputs", in, "--boundaries", boundaries.join(','), "--kernel",
                path("demo/neuron_recipe/bucket_kernel.py"), "--out", out});
    QVERIFY2(good.exitCode == 0, good.err.constData());
    QVERIFY(QFile::exists(out));
}

void TestCli::badBuildInput_data()
{
    QTest::addColumn<QStringList>("args"); // MODEL and OUT are substituted
    QTest::addColumn<QString>("mentions");
    const QString in = "input_ids:int64:0,attention_mask:int64:0";
    QTest::addRow("missing model") << QStringList{"build",        "DIR/nope.pt", "--inputs", in,
                                                  "--boundaries", "128",         "--out",    "OUT"}
                                   << "no such file";
    QTest::addRow("random bytes") << QStringList{"build",        "DIR/random.pt", "--inputs", in,
                                                 "--boundaries", "128",           "--out",    "OUT"}
                                  << "not a TorchScript archive";
    QTest::addRow("truncated") << QStringList{"build",        "DIR/truncated.pt",
                                              "--inputs",     in,
                                              "--boundaries", "128",
                                              "--out",        "OUT"}
                               << "truncated or corrupt";
    QTest::addRow("text file") << QStringList{"build",        "DIR/notes.txt", "--inputs", in,
                                              "--boundaries", "128",           "--out",    "OUT"}
                               << "not a TorchScript archive";
    QTest::addRow("descending") << QStringList{"build",        "MODEL",   "--inputs", in,
                                               "--boundaries", "512,128", "--out",    "OUT"}
                                << "must ascend";
    QTest::addRow("duplicate") << QStringList{"build",        "MODEL",   "--inputs", in,
                                              "--boundaries", "128,128", "--out",    "OUT"}
                               << "appears twice";
    QTest::addRow("zero") << QStringList{"build",        "MODEL", "--inputs", in,
                                         "--boundaries", "0,128", "--out",    "OUT"}
                          << "--boundaries: '0' is not positive";
    QTest::addRow("empty boundaries")
        << QStringList{"build", "MODEL", "--inputs", in, "--boundaries", "", "--out", "OUT"}
        << "--boundaries is empty";
    QTest::addRow("no boundaries") << QStringList{"build", "MODEL", "--inputs", in, "--out", "OUT"}
                                   << "--boundaries are missing";
    QTest::addRow("unknown dtype")
        << QStringList{"build",        "MODEL", "--inputs", "input_ids:int128",
                       "--boundaries", "128",   "--out",    "OUT"}
        << "unknown dtype";
    QTest::addRow("malformed inputs")
        << QStringList{"build",        "MODEL", "--inputs", "input_ids",
                       "--boundaries", "128",   "--out",    "OUT"}
        << "name:dtype";
    QTest::addRow("out is input") << QStringList{"build", "MODEL",        "--inputs",
                                                 in,      "--boundaries", "128",
                                                 "--out", "MODEL",        "--force"}
                                  << "also an input";
    QTest::addRow("unwritable out")
        << QStringList{"build",        "MODEL", "--inputs", in,
                       "--boundaries", "128",   "--out",    "/proc/x.pt"}
        << "not writable";
    QTest::addRow("missing --out")
        << QStringList{"build", "MODEL", "--inputs", in, "--boundaries", "128"} << "--out";
    QTest::addRow("per-bucket list ending with a comma")
        << QStringList{"build", "--per-bucket", "128=x.pt,", "--inputs", in, "--out", "OUT"}
        << "--per-bucket ends with a comma";
    QTest::addRow("bad per-bucket")
        << QStringList{"build", "--per-bucket", "128:MODEL", "--inputs", in, "--out", "OUT"}
        << "LENGTH=FILE";
}

void TestCli::badBuildInput()
{
    QFETCH(QStringList, args);
    QFETCH(QString, mentions);
    for (auto& a : args) {
        if (a == "MODEL")
            a = model_;
        else if (a == "OUT")
            a = path("bad_out.pt");
        else if (a.startsWith("DIR/"))
            a = path(a.mid(4));
    }
    const QByteArray modelHash =
        QCryptographicHash::hash(readAll(model_), QCryptographicHash::Sha256);
    const auto before = QDir(dir_.path()).entryList(QDir::AllEntries | QDir::Hidden);
    const auto r = runCli(args);
    QCOMPARE(r.exitCode, 2);
    const QString err = QString::fromUtf8(r.err).trimmed();
    QVERIFY2(err.contains(mentions), qPrintable(err));
    QVERIFY2(!err.contains('\n'), qPrintable("more than one line: " + err));
    QVERIFY(r.out.isEmpty());
    QCOMPARE(QDir(dir_.path()).entryList(QDir::AllEntries | QDir::Hidden), before);
    QCOMPARE(QCryptographicHash::hash(readAll(model_), QCryptographicHash::Sha256), modelHash);
}

// --bucket-dim and --batch-dim name dimensions of the inputs BucketLab makes, which have
// rank 2 (batch and length): every command that takes them refuses one beyond that with one
// line naming the option, the input and its rank (issue 12), before it runs anything.
void TestCli::dimensionsBeyondTheInputs_data()
{
    QTest::addColumn<QStringList>("args"); // MODEL, KERNEL and OUT are substituted
    QTest::addColumn<QString>("mentions");
    const QString in = "input_ids:int64:0,attention_mask:int64:0";
    const QString rank2 = "is beyond the rank of input 'input_ids': it has rank 2";
    QTest::addRow("build --bucket-dim 7")
        << QStringList{"build", "MODEL", "--inputs",     in, "--boundaries", "128",
                       "--out", "OUT",   "--bucket-dim", "7"}
        << "--bucket-dim 7 " + rank2;
    QTest::addRow("build --batch-dim 2")
        << QStringList{"build", "MODEL", "--inputs",    in, "--boundaries", "128",
                       "--out", "OUT",   "--batch-dim", "2"}
        << "--batch-dim 2 " + rank2;
    QTest::addRow("build --bucket-dim -1")
        << QStringList{"build", "MODEL", "--inputs",     in,  "--boundaries", "128",
                       "--out", "OUT",   "--bucket-dim", "-1"}
        << "--bucket-dim -1 is negative";
    QTest::addRow("build same dimension")
        << QStringList{"build", "MODEL", "--inputs",     in, "--boundaries", "128",
                       "--out", "OUT",   "--bucket-dim", "0"}
        << "--bucket-dim and --batch-dim are both 0";
    QTest::addRow("validate --bucket-dim 7")
        << QStringList{"validate", "KERNEL", "--max-length", "64", "--bucket-dim", "7"}
        << "--bucket-dim 7 is beyond the rank of input";
    QTest::addRow("validate --bucket-dim 3 with inputs")
        << QStringList{"validate", "KERNEL", "--max-length", "64",
                       "--inputs", in,       "--bucket-dim", "3"}
        << "--bucket-dim 3 " + rank2;
    QTest::addRow("profile --bucket-dim 7")
        << QStringList{"profile", "MODEL", "--inputs", in, "--lengths", "16", "--bucket-dim", "7"}
        << "--bucket-dim 7 " + rank2;
    QTest::addRow("tune --verify --bucket-dim 7") << QStringList{"tune",
                                                                 "--distribution",
                                                                 "uniform:min=1,max=100,n=100",
                                                                 "--latency",
                                                                 "linear:1,0.01",
                                                                 "--buckets",
                                                                 "2",
                                                                 "--verify",
                                                                 "MODEL",
                                                                 "--inputs",
                                                                 in,
                                                                 "--bucket-dim",
                                                                 "7"}
                                                  << "--bucket-dim 7 " + rank2;
}

void TestCli::dimensionsBeyondTheInputs()
{
    QFETCH(QStringList, args);
    QFETCH(QString, mentions);
    for (auto& a : args) {
        if (a == "MODEL")
            a = model_;
        else if (a == "KERNEL")
            a = dataPath("seed_bucket_kernel.py");
        else if (a == "OUT")
            a = path("dims_out.pt");
    }
    const auto r = runCli(args);
    const QString err = QString::fromUtf8(r.err).trimmed();
    QVERIFY2(r.exitCode == 2, qPrintable(QString::number(r.exitCode) + ": " + err));
    QVERIFY2(err.contains(mentions), qPrintable(err));
    QVERIFY2(!err.contains('\n'), qPrintable("more than one line: " + err));
    QVERIFY(r.out.isEmpty());
    QVERIFY(!QFile::exists(path("dims_out.pt")));
}

void TestCli::unknownSubcommand()
{
    const auto r = runCli({"frobnicate"});
    QCOMPARE(r.exitCode, 2);
    QVERIFY(r.err.contains("frobnicate"));
    QCOMPARE(r.err.trimmed().count('\n'), 0);
    const auto none = runCli({});
    QCOMPARE(none.exitCode, 2);
}

void TestCli::inspectBadFiles_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("mentions");
    QTest::addRow("missing") << "nope.pt"
                             << "no such file";
    QTest::addRow("random") << "random.pt"
                            << "not a TorchScript archive";
    QTest::addRow("truncated") << "truncated.pt"
                               << "truncated or corrupt";
    QTest::addRow("directory") << "demo"
                               << "is a directory";
}

void TestCli::inspectBadFiles()
{
    QFETCH(QString, file);
    QFETCH(QString, mentions);
    const auto r = runCli({"inspect", path(file)});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains(mentions.toUtf8()), r.err.constData());
    QVERIFY2(r.err.contains(path(file).toUtf8()), "the error names the file");
    QCOMPARE(r.err.trimmed().count('\n'), 0);
}

namespace {

// The CLI's arguments for `command` (a test row's name) on the demo's files in `demo`, writing
// into `out`.
QStringList commandLine(const QString& command, const QString& demo, const QString& out)
{
    const QString traffic = demo + "/mrpc_pair_lengths.csv";
    const QString profile = demo + "/demo_profile.json";
    if (command == "version")
        return {"--version"};
    if (command == "help")
        return {"--help"};
    if (command == "tune help")
        return {"tune", "--help"};
    if (command == "inspect")
        return {"inspect", demo + "/demo_package.pt", "--json"};
    if (command == "distribution")
        return {"distribution", traffic, "--json"};
    if (command == "tune")
        return {"tune", "--distribution", traffic, "--latency", profile, "--buckets", "3"};
    if (command == "report --no-kernel-check")
        return {"report", "--distribution",     traffic,   "--latency",
                profile,  "--current",          "128,512", "--no-kernel-check",
                "--html", out + "/report.html", "--force"};
    if (command == "report --no-kernel-check --llm-traffic")
        return {"report",
                "--distribution",
                traffic,
                "--latency",
                profile,
                "--current",
                "128,512",
                "--no-kernel-check",
                "--llm-traffic",
                QStringLiteral(BUCKETLAB_SOURCE_DIR) + "/resources/llm/azure_code_pairs.csv",
                "--cte-latency",
                "poly:8,0.025,0.0000025",
                "--tkg-latency",
                "linear:9,0.0004",
                "--max-context-length",
                "8192",
                "--seq-len",
                "10240",
                "--llm-buckets",
                "14",
                "--html",
                out + "/report_llm.html",
                "--force"};
    if (command == "llm")
        return {"llm",
                "--traffic",
                QStringLiteral(BUCKETLAB_SOURCE_DIR) + "/resources/llm/azure_code_pairs.csv",
                "--cte-latency",
                "poly:8,0.025,0.0000025",
                "--tkg-latency",
                "linear:9,0.0004",
                "--max-context-length",
                "8192",
                "--seq-len",
                "8192",
                "--buckets",
                "14",
                "--json"};
    if (command == "build")
        return {"build",        demo + "/demo_model.pt",
                "--inputs",     "input_ids:int64:0",
                "--boundaries", "128,512",
                "--out",        out + "/p.pt"};
    if (command == "tune --verify")
        return {"tune",      "--distribution", traffic,
                "--latency", profile,          "--buckets",
                "3",         "--verify",       demo + "/demo_package.pt"};
    if (command == "report")
        return {"report",    "--distribution", traffic,  "--latency",          profile,
                "--current", "128,512",        "--html", out + "/report2.html"};
    return {};
}

} // namespace

void TestCli::torchFreeCommandsLoadNoLibTorch_data()
{
    QTest::addColumn<QString>("command");
    QTest::addColumn<bool>("loadsTorch");
    for (const char* c :
         {"version", "help", "tune help", "inspect", "distribution", "tune",
          "report --no-kernel-check", "report --no-kernel-check --llm-traffic", "llm"})
        QTest::addRow("%s", c) << c << false;
    // The control: the dynamic loader's log does name LibTorch when a command needs it.
    QTest::addRow("build --help (the torch module)") << "build help" << true;
}

// What the dynamic loader opens (LD_DEBUG=libs), not what the binary links: the commands that
// run no model never load LibTorch, so they start in milliseconds.
void TestCli::torchFreeCommandsLoadNoLibTorch()
{
    QFETCH(QString, command);
    QFETCH(bool, loadsTorch);
    const QString out = path("torchfree");
    QVERIFY(QDir().mkpath(out));
    const QStringList args = command == "build help" ? QStringList{"build", "--help"}
                                                     : commandLine(command, path("demo"), out);
    QVERIFY(!args.isEmpty());
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("LD_DEBUG", "libs");
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(BUCKETLAB_CLI), args);
    QVERIFY(p.waitForFinished(120000));
    const QByteArray err = p.readAllStandardError();
    QVERIFY2(p.exitCode() == 0, (p.readAllStandardOutput() + err).right(2000).constData());
    QVERIFY2(err.contains("calling init:"), "LD_DEBUG=libs logs the libraries initialised");
    QCOMPARE(err.contains("libtorch_cpu.so"), loadsTorch);
}

void TestCli::missingTorchModuleIsOneLine_data()
{
    QTest::addColumn<QString>("command");
    QTest::addColumn<bool>("needsTorch");
    for (const char* c : {"version", "inspect", "distribution", "tune", "report --no-kernel-check"})
        QTest::addRow("%s", c) << c << false;
    for (const char* c : {"build", "tune --verify", "report"})
        QTest::addRow("%s", c) << c << true;
}

// The executable alone, without lib/bucketlab/ beside its folder: what runs no model still
// works; a command that needs the module says so in one line and writes nothing.
void TestCli::missingTorchModuleIsOneLine()
{
    QFETCH(QString, command);
    QFETCH(bool, needsTorch);
    const QString bin = path("alone/bin");
    const QString out = path("alone/out");
    QVERIFY(QDir().mkpath(bin) && QDir().mkpath(out));
    const QString cli = bin + "/bucketlab-cli";
    if (!QFile::exists(cli))
        QVERIFY(QFile::copy(QStringLiteral(BUCKETLAB_CLI), cli));
    const auto r = runProcess(cli, commandLine(command, path("demo"), out));
    if (!needsTorch) {
        QVERIFY2(r.exitCode == 0, r.err.constData());
        return;
    }
    QCOMPARE(r.exitCode, 2);
    QCOMPARE(r.err.trimmed().count('\n'), 0);
    QVERIFY2(r.err.contains(path("alone/lib/bucketlab/bucketlab-cli-torch.so").toUtf8()) &&
                 r.err.contains("missing") && r.err.contains("bucketlab-cli-torch"),
             r.err.constData());
    QVERIFY2(QDir(out).entryList(QDir::Files).isEmpty() ||
                 !QDir(out).entryList(QDir::Files).contains("p.pt"),
             "nothing written");
    QVERIFY(!QFile::exists(out + "/report2.html"));
}

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
