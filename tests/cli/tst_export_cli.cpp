// `bucketlab-cli export` as scripts use it: JSON on stdout, exit codes, one-line errors, and
// nothing partial left behind, even when the process is killed mid-export.
#include "testutil.h"

#include <QCryptographicHash>
#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <unistd.h>

using namespace bucketlab::test;

namespace {

QStringList entries(const QString& dir)
{
    return QDir(dir).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot);
}

// True while `pid` holds an unnamed (O_TMPFILE) file in `dir` open: the staged package,
// written in full and being verified, not yet linked into place.
bool holdsStagedFile(qint64 pid, const QString& dir)
{
    const QString fdDir = QString("/proc/%1/fd").arg(pid);
    const QByteArray prefix = QFileInfo(dir).canonicalFilePath().toUtf8() + "/";
    for (const auto& fd :
         QDir(fdDir).entryList(QDir::AllEntries | QDir::System | QDir::NoDotAndDotDot)) {
        // readlink(2) itself: the target does not exist under that name, which makes
        // QFileInfo report no target at all.
        char target[4096];
        const ssize_t n =
            ::readlink(QFile::encodeName(fdDir + "/" + fd).constData(), target, sizeof target - 1);
        if (n <= 0)
            continue;
        const QByteArray t(target, int(n));
        if (t.startsWith(prefix) && t.endsWith("(deleted)"))
            return true;
    }
    return false;
}

} // namespace

class TestExportCli : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void help();
    void exportsVerifiedPackageAndRecipe();
    void textReport();
    void badInput_data();
    void badInput();
    void killedExportLeavesNothing_data();
    void killedExportLeavesNothing();

private:
    QString path(const QString& name) const { return dir_.filePath(name); }
    QTemporaryDir dir_;
    QString package_; // the demo package, buckets 128,512
};

void TestExportCli::initTestCase()
{
    QVERIFY(dir_.isValid());
    const auto r = runCli({"demo", "--out", path("demo"), "--verify-budget", "0", "--json"});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    package_ = path("demo/demo_package.pt");
    QVERIFY(writeAll(path("exists.pt"), "keep me"));
    QVERIFY(writeAll(path("notes.txt"), "not a model\n"));
}

void TestExportCli::help()
{
    const auto r = runCli({"export", "--help"});
    QCOMPARE(r.exitCode, 0);
    for (const char* option : {"--boundaries", "--out", "--force", "--neuron-recipe", "--state",
                               "--batch-sizes", "--json"})
        QVERIFY2(r.out.contains(option), option);
}

void TestExportCli::exportsVerifiedPackageAndRecipe()
{
    const auto r = runCli({"export", package_, "--boundaries", "64,128,256,512", "--out",
                           path("tuned.pt"), "--neuron-recipe", path("recipe"), "--json"});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QVERIFY(r.err.isEmpty());
    const auto j = QJsonDocument::fromJson(r.out).object();
    QVERIFY(j["ok"].toBool());
    QCOMPARE(j["boundaries"].toArray().size(), 4);
    QCOMPARE(j["kind"].toString(), QString("shared"));
    QVERIFY(j["failure"].isNull());
    // The new kernel validated clean with the core validator up to the first rejected length.
    const auto k = j["kernel_check"].toObject();
    QVERIFY(k["run"].toBool());
    QVERIFY(k["ok"].toBool());
    QVERIFY(k["defects"].toArray().isEmpty());
    QCOMPARE(k["max_length"].toInt(), 513);
    QVERIFY(k["seconds"].toDouble() > 0);
    const auto v = j["verification"].toObject();
    QVERIFY(v["max_abs_diff"].toDouble() <= 1e-5);
    QCOMPARE(v["batches"].toArray().size(), 2);
    QList<int> lengths;
    for (const auto& l : v["lengths"].toArray())
        lengths << l.toInt();
    for (int must : {1, 64, 65, 128, 129, 256, 257, 512, 513})
        QVERIFY2(lengths.contains(must), qPrintable(QString::number(must)));
    int rejected = 0;
    for (const auto& row : v["rows"].toArray()) {
        const auto o = row.toObject();
        QVERIFY2(o["passed"].toBool(), qPrintable(QJsonDocument(o).toJson()));
        if (o["expect_rejection"].toBool()) {
            ++rejected;
            QVERIFY(o["error"].toString().contains("exceeds the largest bucket 512"));
        }
    }
    QCOMPARE(rejected, 2);
    QCOMPARE(j["recipe_files"].toArray().size(), 4);
    for (const char* f : {"bucket_config.json", "bucket_kernel.py", "neuron_build.py", "README.md"})
        QVERIFY2(QFile::exists(path("recipe/") + f), f);
    // The export is a package like any other.
    const auto i = runCli({"inspect", path("tuned.pt"), "--json"});
    QCOMPARE(i.exitCode, 0);
    QCOMPARE(QJsonDocument::fromJson(i.out)["package"].toObject()["boundaries"].toArray().size(),
             4);
}

void TestExportCli::textReport()
{
    const auto r = runCli({"export", package_, "--boundaries", "200,512", "--out", path("text.pt"),
                           "--batch-sizes", "1", "--random-lengths", "1"});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QVERIFY(r.out.contains("buckets 200,512"));
    QVERIFY(r.out.contains("verified  same outputs as"));
    QVERIFY(r.out.contains("length 513 rejected"));
    QVERIFY2(r.out.contains("kernel    validates clean at lengths 1..513 (rejecting those past "
                            "512) x batch sizes 1 in "),
             r.out.constData());
}

void TestExportCli::badInput_data()
{
    QTest::addColumn<QStringList>("args"); // PKG, OUT and DIR/ are substituted
    QTest::addColumn<QString>("mentions");
    QTest::addRow("existing out without --force")
        << QStringList{"export", "PKG", "--boundaries", "64,512", "--out", "DIR/exists.pt"}
        << "already exists (--force replaces it)";
    QTest::addRow("out is the source")
        << QStringList{"export", "PKG", "--boundaries", "64,512", "--out", "PKG", "--force"}
        << "also an input";
    QTest::addRow("unwritable out")
        << QStringList{"export", "PKG", "--boundaries", "64,512", "--out", "/proc/x.pt"}
        << "not writable";
    QTest::addRow("descending boundaries")
        << QStringList{"export", "PKG", "--boundaries", "512,64", "--out", "OUT"} << "must ascend";
    QTest::addRow("zero boundary")
        << QStringList{"export", "PKG", "--boundaries", "0,64", "--out", "OUT"}
        << "--boundaries: '0' is not positive";
    QTest::addRow("not a package")
        << QStringList{"export", "DIR/demo/demo_model.pt", "--boundaries", "64", "--out", "OUT"}
        << "not a BucketLab package";
    QTest::addRow("text file") << QStringList{"export", "DIR/notes.txt", "--boundaries",
                                              "64",     "--out",         "OUT"}
                               << "not a TorchScript archive";
    QTest::addRow("missing package")
        << QStringList{"export", "DIR/nope.pt", "--boundaries", "64", "--out", "OUT"}
        << "no such file";
    QTest::addRow("state for a stateless package")
        << QStringList{"export", "PKG", "--boundaries", "64,512",
                       "--out",  "OUT", "--state",      "kv:float32:1x64/1x512"}
        << "has no shared states";
    QTest::addRow("malformed state")
        << QStringList{"export", "PKG", "--boundaries", "64,512", "--out", "OUT", "--state", "kv"}
        << "NAME:DTYPE:SHAPE";
    QTest::addRow("state shapes shrink")
        << QStringList{"export", "PKG", "--boundaries", "64,512",
                       "--out",  "OUT", "--state",      "kv:float32:1x512/1x64"}
        << "shrinks";
    QTest::addRow("kernel check stops short of the largest bucket")
        << QStringList{"export", "PKG", "--boundaries",          "64,512",
                       "--out",  "OUT", "--kernel-check-length", "300"}
        << "must exceed the largest bucket 512";
    QTest::addRow("bad batch size")
        << QStringList{"export", "PKG", "--boundaries", "64", "--out", "OUT", "--batch-sizes", "0"}
        << "--batch-sizes";
    // Issue 12: checks that would take more memory than the budget are refused up front.
    QTest::addRow("kernel check length 2^31")
        << QStringList{"export", "PKG", "--boundaries",          "64,512",
                       "--out",  "OUT", "--kernel-check-length", "2147483648"}
        << "more than the memory budget of 2.00 GiB; lower --kernel-check-length or --batch-sizes";
    QTest::addRow("largest bucket 2^24")
        << QStringList{"export", "PKG", "--boundaries", "128,16777216", "--out", "OUT"}
        << "more than the memory budget of 2.00 GiB; lower --boundaries or --batch-sizes";
    QTest::addRow("largest bucket 2^31")
        << QStringList{"export", "PKG", "--boundaries", "128,2147483647", "--out", "OUT"}
        << "above the largest accepted (16777216)";
    QTest::addRow("batch size 10^8")
        << QStringList{"export", "PKG", "--boundaries",  "64,512",
                       "--out",  "OUT", "--batch-sizes", "1,100000000"}
        << "--batch-sizes: '100000000' is above the largest accepted (4096)";
    QTest::addRow("recipe dir is a file")
        << QStringList{"export", "PKG", "--boundaries",    "64,512",
                       "--out",  "OUT", "--neuron-recipe", "DIR/notes.txt"}
        << "is a file";
    QTest::addRow("missing --out") << QStringList{"export", "PKG", "--boundaries", "64"} << "--out";
    // build --state follows the same rules.
    const QString in = "input_ids:int64:0,attention_mask:int64:0";
    const QString model = "DIR/demo/demo_model.pt";
    QTest::addRow("build: state rank differs")
        << QStringList{"build",        model,    "--inputs", in,
                       "--boundaries", "64,512", "--state",  "kv:float32:1x4x64/1x512",
                       "--out",        "OUT"}
        << "rank 3 for bucket 64 but rank 2 for bucket 512";
    // One shape stands for every bucket; two shapes for three buckets are an error.
    QTest::addRow("build: two shapes for three buckets")
        << QStringList{"build",        model,        "--inputs", in,
                       "--boundaries", "64,128,512", "--state",  "kv:float32:1x128/1x512",
                       "--out",        "OUT"}
        << "2 shapes but the package has 3 buckets";
    QTest::addRow("build: zero dimension")
        << QStringList{"build",        model,    "--inputs", in,
                       "--boundaries", "64,512", "--state",  "kv:float32:1x0/1x512",
                       "--out",        "OUT"}
        << "must be positive";
    QTest::addRow("build: state of 10^15 elements")
        << QStringList{"build",        model,
                       "--inputs",     in,
                       "--boundaries", "64,512",
                       "--state",      "kv:float32:1x1x64/100000x100000x100000",
                       "--out",        "OUT"}
        << "--state (buffers at the largest bucket's shapes) needs about 3.55 PiB";
}

void TestExportCli::badInput()
{
    QFETCH(QStringList, args);
    QFETCH(QString, mentions);
    for (auto& a : args) {
        if (a == "PKG")
            a = package_;
        else if (a == "OUT")
            a = path("bad_out.pt");
        else if (a.startsWith("DIR/"))
            a = path(a.mid(4));
    }
    const QByteArray hash = QCryptographicHash::hash(readAll(package_), QCryptographicHash::Sha256);
    const auto before = entries(dir_.path());
    const auto r = runCli(args);
    QCOMPARE(r.exitCode, 2);
    const QString err = QString::fromUtf8(r.err).trimmed();
    QVERIFY2(err.contains(mentions), qPrintable(err));
    QVERIFY2(!err.contains('\n'), qPrintable("more than one line: " + err));
    QVERIFY(r.out.isEmpty());
    QCOMPARE(entries(dir_.path()), before);
    QCOMPARE(readAll(path("exists.pt")), QByteArray("keep me"));
    QCOMPARE(QCryptographicHash::hash(readAll(package_), QCryptographicHash::Sha256), hash);
}

void TestExportCli::killedExportLeavesNothing_data()
{
    QTest::addColumn<bool>("whileVerifying");
    QTest::addRow("while verifying the staged package") << true;
    QTest::addRow("while loading") << false;
}

void TestExportCli::killedExportLeavesNothing()
{
    QFETCH(bool, whileVerifying);
    const QString out =
        path(QString("killed_%1.pt").arg(QTest::currentDataTag()).replace(' ', '_'));
    const auto before = entries(dir_.path());
    QProcess p;
    // Extra lengths make the verification of the full-size demo last seconds.
    p.start(BUCKETLAB_CLI, {"export", package_, "--boundaries", "32,64,128,256,512", "--out", out,
                            "--random-lengths", "10", "--neuron-recipe", path("killed_recipe")});
    QVERIFY(p.waitForStarted());
    QElapsedTimer timer;
    timer.start();
    bool staged = false;
    if (whileVerifying) {
        while (!staged && p.state() == QProcess::Running && timer.elapsed() < 120000) {
            staged = holdsStagedFile(p.processId(), dir_.path());
            if (!staged)
                QThread::msleep(5);
        }
        QVERIFY2(staged, "the export finished before its staged package was seen");
        QThread::msleep(200); // well into the verification
    } else {
        QThread::msleep(150);
    }
    QVERIFY2(p.state() == QProcess::Running, "the export ended before it could be killed");
    p.kill(); // SIGKILL: no handler, no cleanup code runs
    QVERIFY(p.waitForFinished());
    QCOMPARE(p.exitStatus(), QProcess::CrashExit);
    QVERIFY(!QFile::exists(out));
    QCOMPARE(entries(dir_.path()), before);
}

QTEST_GUILESS_MAIN(TestExportCli)
#include "tst_export_cli.moc"
