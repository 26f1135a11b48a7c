#include "core/project/project.h"
#include "core/util/error.h"
#include "core/util/text.h"
#include "testutil.h"

#include <QDir>
#include <QTemporaryDir>
#include <QTest>

using namespace bucketlab;
using namespace bucketlab::test;

class TestProject : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void roundTripKeepsRelativePaths();
    void movedProjectStillResolves();
    void reportsMissingFiles();
    void namesFilesOutsideItsFolder();
    void rejectsBadFiles_data();
    void rejectsBadFiles();
    void distributionOptionsReachTheReaders();
};

static Project sampleProject(const QString& dir)
{
    Project p;
    p.model = s(dir + "/models/pkg.pt");
    p.inputs = "input_ids:int64:0";
    p.distributions = {{"traffic", s(dir + "/data/lengths.csv"), {{"column", "tokens"}}},
                       {"synthetic", "lognormal:mu=4,sigma=0.6,max=512", {}}};
    p.latencies = {{"cpu", s(dir + "/profiles/cpu.json")}, {"model", "linear:0.5,0.01"}};
    p.boundarySets = {{"current", "current", {128, 512}}, {"tuned", "tuned", {40, 64, 96, 512}}};
    p.activeBoundarySet = "tuned";
    p.notes = "MRPC traffic, CPU profile";
    return p;
}

void TestProject::roundTripKeepsRelativePaths()
{
    QTemporaryDir dir;
    const QString file = dir.filePath("session.bucketlab.json");
    writeProject(sampleProject(dir.path()), s(file));
    const QByteArray text = readAll(file);
    QVERIFY2(text.contains("\"models/pkg.pt\""), text.constData()); // stored relative
    QVERIFY(text.contains("lognormal:mu=4"));                       // specs untouched
    const Project back = readProject(s(file));
    QCOMPARE(QString::fromStdString(back.model), QDir::cleanPath(dir.filePath("models/pkg.pt")));
    QCOMPARE(back.distributions.size(), size_t(2));
    QCOMPARE(back.distributions[0].options.at("column"), std::string("tokens"));
    QCOMPARE(back.distributions[1].source, std::string("lognormal:mu=4,sigma=0.6,max=512"));
    QCOMPARE(back.boundarySets[1].boundaries, (std::vector<int64_t>{40, 64, 96, 512}));
    QCOMPARE(back.activeBoundarySet, std::string("tuned"));
    QCOMPARE(back.notes, std::string("MRPC traffic, CPU profile"));
}

void TestProject::movedProjectStillResolves()
{
    QTemporaryDir a, b;
    writeProject(sampleProject(a.path()), s(a.filePath("p.bucketlab.json")));
    QVERIFY(QFile::copy(a.filePath("p.bucketlab.json"), b.filePath("p.bucketlab.json")));
    const Project moved = readProject(s(b.filePath("p.bucketlab.json")));
    QCOMPARE(QString::fromStdString(moved.latencies[0].source),
             QDir::cleanPath(b.filePath("profiles/cpu.json")));
}

void TestProject::reportsMissingFiles()
{
    QTemporaryDir dir;
    QDir(dir.path()).mkpath("models");
    QVERIFY(writeAll(dir.filePath("models/pkg.pt"), "x"));
    const auto missing = missingProjectFiles(sampleProject(dir.path()));
    // The model exists; the distribution file and the profile do not; specs are not files.
    QCOMPARE(missing.size(), size_t(2));
    QVERIFY(QString::fromStdString(missing[0]).startsWith("distribution 'traffic': "));
    QVERIFY(QString::fromStdString(missing[1]).contains("profiles/cpu.json"));
}

// What the desktop lists and asks about before it reads anything: files named by a relative
// path that climbs out, by an absolute path elsewhere, or through a link that leads out.
void TestProject::namesFilesOutsideItsFolder()
{
    QTemporaryDir root;
    const QString dir = root.filePath("project");
    QVERIFY(QDir().mkpath(dir + "/data") && QDir().mkpath(root.filePath("elsewhere")));
    QVERIFY(writeAll(root.filePath("elsewhere/secret.csv"), "1\n"));
    QVERIFY(writeAll(dir + "/data/lengths.csv", "1\n"));
    QVERIFY(QFile::link(root.filePath("elsewhere/secret.csv"), dir + "/data/link.csv"));
    const std::string projectFile = s(dir + "/p.bucketlab.json");
    const std::string json = R"({"format": "bucketlab.project/1",
        "model": "../../../etc/passwd",
        "distributions": [{"name": "inside", "source": "data/lengths.csv"},
                          {"name": "synthetic", "source": "lognormal:mu=4,sigma=0.6,max=512"},
                          {"name": "linked", "source": "data/link.csv"},
                          {"name": "absolute", "source": ")" +
                             s(root.filePath("elsewhere/secret.csv")) + R"("},
                          {"name": "climbs back", "source": "../project/data/lengths.csv"}],
        "latencies": [{"name": "spec", "source": "linear:0.5,0.01"},
                      {"name": "missing inside", "source": "profiles/none.json"}]})";
    const Project p = projectFromJson(json, projectFile);
    const auto outside = outsideProjectFiles(p);
    QStringList got;
    for (const auto& o : outside)
        got << QString::fromStdString(o).section(':', 0, 0);
    QCOMPARE(got, (QStringList{"model", "distribution 'linked'", "distribution 'absolute'"}));
    QVERIFY(QString::fromStdString(outside[0]).endsWith("etc/passwd"));
    // A project whose files all live below it names none.
    Project inside = sampleProject(dir);
    inside.path = projectFile;
    QVERIFY(outsideProjectFiles(inside).empty());
}

void TestProject::rejectsBadFiles_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QString>("mentions");
    QTest::addRow("not json") << QByteArray("{") << "not valid JSON";
    QTest::addRow("other format") << QByteArray("{\"format\":\"x\"}") << "not a BucketLab project";
    QTest::addRow("bad boundaries")
        << QByteArray("{\"format\":\"bucketlab.project/1\",\"boundary_sets\":[{\"name\":\"a\","
                      "\"boundaries\":[512,128]}]}")
        << "boundary set 'a'";
    QTest::addRow("wrong type")
        << QByteArray("{\"format\":\"bucketlab.project/1\",\"latencies\":[{\"source\":3}]}")
        << "malformed project";
    // Found by fuzz_project: the JSON parser's excerpt of the file ("last read: '...'") went
    // into the message raw, bytes that are not UTF-8 and terminal escapes included.
    QTest::addRow("number overflow")
        << QByteArray("{\"format\":\"bucketlab.project/1\",\"x\":1e400}") << "not valid JSON (";
    QTest::addRow("boundary not whole") // was cast to int64: undefined behaviour
        << QByteArray("{\"format\":\"bucketlab.project/1\",\"boundary_sets\":[{\"name\":\"a\","
                      "\"boundaries\":[3e20]}]}")
        << "boundary set 'a': boundaries must be whole numbers";
    QTest::addRow("format an object")
        << QByteArray("{\"format\":{\"a\":1}}") << "not a BucketLab project";
    QTest::addRow("parse error excerpt escaped")
        << QByteArray("{\"format\":\"bucketlab.project/1\",\"text_c\xc4l\x1b]0;x\x07\":1}")
        << "not valid JSON (";
    QTest::addRow("boundary set name escaped")
        << QByteArray("{\"format\":\"bucketlab.project/1\",\"boundary_sets\":[{\"name\":"
                      "\"a\\u001b[2J\",\"boundaries\":[512,128]}]}")
        << "boundary set 'a\\x1b[2J'";
}

void TestProject::rejectsBadFiles()
{
    QFETCH(QByteArray, text);
    QFETCH(QString, mentions);
    try {
        projectFromJson(text.toStdString(), "p.bucketlab.json");
        QFAIL("accepted a bad project");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).contains(mentions), e.what());
        QVERIFY(QString(e.what()).startsWith("p.bucketlab.json"));
        const std::string what = e.what();
        QVERIFY2(isValidUtf8(what), e.what());
        for (unsigned char c : what)
            QVERIFY2(c >= 0x20 && c != 0x7f, e.what()); // one line, no terminal escapes
    }
}

// A project's distribution options, as saved (strings), become the readers' options: what
// `report --compare PROJECT` and the desktop read the traffic with.
void TestProject::distributionOptionsReachTheReaders()
{
    const Project p = projectFromJson(
        R"({"format": "bucketlab.project/1", "distributions": [
              {"name": "csv", "source": "t.csv", "options": {"column": "request_size"}},
              {"name": "texts", "source": "t.tsv", "options": {"vocab": "vocab.txt",
               "text_columns": "4,5", "lowercase": "true"}},
              {"name": "jsonl", "source": "t.jsonl", "options": {"field": "prompt"}}]})",
        "/tmp/p/x.bucketlab.json");
    const DistributionOptions csv = distributionOptionsOf(p.distributions[0]);
    QCOMPARE(csv.column, std::string("request_size"));
    QVERIFY(csv.field.empty() && csv.vocab.empty() && csv.textColumns.empty() && !csv.lowercase);
    const DistributionOptions texts = distributionOptionsOf(p.distributions[1]);
    QCOMPARE(texts.vocab, std::string("/tmp/p/vocab.txt")); // resolved against the project
    QCOMPARE(texts.textColumns, (std::vector<std::string>{"4", "5"}));
    QVERIFY(texts.lowercase);
    QCOMPARE(distributionOptionsOf(p.distributions[2]).field, std::string("prompt"));
}

QTEST_GUILESS_MAIN(TestProject)
#include "tst_project.moc"
