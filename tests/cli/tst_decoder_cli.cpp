// Measured LLM curves from the command line: `demo decoder` writes the demo decoder,
// `profile --phase prefill|decode` measures its two phases at a few lengths, and `llm` reads
// both profiles as its CTE and TKG curves; a profile of the other phase, or an unknown phase,
// exits 2 with one line naming the options.
#include "testutil.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

using namespace bucketlab::test;

class TestDecoderCli : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void help();
    void profilesFeedLlm();
    void badInput_data();
    void badInput();

private:
    QString path(const QString& name) const { return dir_.filePath(name); }
    QStringList llm(const QString& cte, const QString& tkg) const
    {
        return {"llm",
                "--traffic",
                "prompt=lognormal:mu=5,sigma=1,max=1000;output=geometric:mean=60,max=500;"
                "n=2000;seed=3",
                "--cte-latency",
                cte,
                "--tkg-latency",
                tkg,
                "--max-context-length",
                "1024",
                "--seq-len",
                "1536",
                "--buckets",
                "4",
                "--json"};
    }
    QTemporaryDir dir_;
    QString decoder_;
};

void TestDecoderCli::initTestCase()
{
    QVERIFY(dir_.isValid());
    decoder_ = path("decoder.pt");
    const auto r = runCli({"demo", "decoder", "--out", decoder_, "--json"});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    const auto j = QJsonDocument::fromJson(r.out).object();
    QCOMPARE(j["out"].toString(), decoder_);
    QCOMPARE(j["sha256"].toString().size(), 64);
    QVERIFY(QFile::exists(decoder_));
    // Written again: refused without --force (exit 2, one line), identical with it.
    const auto again = runCli({"demo", "decoder", "--out", decoder_});
    QCOMPARE(again.exitCode, 2);
    QCOMPARE(again.err.count('\n'), 1);
    const auto forced = runCli({"demo", "decoder", "--out", decoder_, "--force", "--json"});
    QCOMPARE(forced.exitCode, 0);
    QCOMPARE(QJsonDocument::fromJson(forced.out).object()["sha256"], j["sha256"]);
}

void TestDecoderCli::help()
{
    const auto r = runCli({"profile", "--help"});
    QCOMPARE(r.exitCode, 0);
    QVERIFY(r.out.contains("--phase"));
    const auto d = runCli({"demo", "decoder", "--help"});
    QCOMPARE(d.exitCode, 0);
    QVERIFY(d.out.contains("--out"));
}

void TestDecoderCli::profilesFeedLlm()
{
    const QList<qint64> cteLengths{64, 256, 1024}, tkgLengths{128, 512, 1536};
    auto profile = [&](const QString& phase, const QList<qint64>& lengths) {
        QStringList list;
        for (qint64 l : lengths)
            list << QString::number(l);
        const QString out = path(phase + ".json");
        const auto r = runCli({"profile", decoder_, "--phase", phase, "--lengths", list.join(','),
                               "--budget", "3", "--out", out, "--json"});
        if (r.exitCode != 0)
            qWarning("%s", r.err.constData());
        const auto j = QJsonDocument::fromJson(r.out).object();
        return std::make_pair(r.exitCode, j);
    };
    const auto [cteExit, cte] = profile("prefill", cteLengths);
    QCOMPARE(cteExit, 0);
    const auto [tkgExit, tkg] = profile("decode", tkgLengths);
    QCOMPARE(tkgExit, 0);
    QCOMPARE(cte["settings"].toObject()["phase"].toString(), QString("prefill"));
    QCOMPARE(tkg["settings"].toObject()["phase"].toString(), QString("decode"));
    QCOMPARE(tkg["settings"].toObject()["target"].toString(), QString("decoder decode step"));
    for (const auto& [j, lengths] :
         {std::make_pair(cte, cteLengths), std::make_pair(tkg, tkgLengths)}) {
        const auto points = j["points"].toArray();
        QCOMPARE(points.size(), lengths.size());
        for (int i = 0; i < points.size(); ++i) {
            QCOMPARE(points[i].toObject()["length"].toInteger(), lengths[i]);
            QVERIFY(points[i].toObject()["p50_ms"].toDouble() > 0);
        }
        qInfo("%s: %s", qPrintable(j["settings"].toObject()["phase"].toString()), qPrintable([&] {
                  QStringList s;
                  for (const auto& p : points)
                      s << QString("%1 -> %2 ms")
                               .arg(p.toObject()["length"].toInteger())
                               .arg(p.toObject()["p50_ms"].toDouble(), 0, 'f', 3);
                  return s.join(", ");
              }()));
    }

    // Both files feed llm as its curves: its report names them and uses their points.
    const auto r = runCli(llm(path("prefill.json"), path("decode.json")));
    QVERIFY2(r.exitCode == 0, r.err.constData());
    const auto j = QJsonDocument::fromJson(r.out).object();
    QVERIFY(!j["cte_buckets"].toArray().isEmpty());
    QVERIFY(!j["tkg_buckets"].toArray().isEmpty());
    QCOMPARE(j["cte_buckets"].toArray().size() + j["tkg_buckets"].toArray().size(), 4);
    QCOMPARE(j["cte_buckets"].toArray().last().toInteger(), 1024);
    QCOMPARE(j["tkg_buckets"].toArray().last().toInteger(), 1536);
    QVERIFY(j["mean_request_ms"].toDouble() > 0);
    const auto latency = j["latency"].toObject();
    QVERIFY2(latency["cte"].toString().contains("prefill.json"),
             qPrintable(latency["cte"].toString()));
    QVERIFY2(latency["tkg"].toString().contains("decode.json"),
             qPrintable(latency["tkg"].toString()));
}

void TestDecoderCli::badInput_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QStringList>("mentions");
    QTest::addRow("decode profile as CTE")
        << QStringList{"LLM", "DIR/decode.json", "DIR/decode.json"}
        << QStringList{"--cte-latency", "--tkg-latency", "decode.json measured decode steps"};
    QTest::addRow("prefill profile as TKG")
        << QStringList{"LLM", "DIR/prefill.json", "DIR/prefill.json"}
        << QStringList{"--cte-latency", "--tkg-latency", "prefill.json measured prefill"};
    QTest::addRow("swapped") << QStringList{"LLM", "DIR/decode.json", "DIR/prefill.json"}
                             << QStringList{"--cte-latency and --tkg-latency are swapped"};
    QTest::addRow("unknown phase")
        << QStringList{"profile", "DIR/decoder.pt", "--phase", "sideways", "--lengths", "16"}
        << QStringList{"--phase", "sideways"};
    QTest::addRow("not a model") << QStringList{"profile", "DIR/nodecoder.pt", "--phase",
                                                "decode",  "--lengths",        "16"}
                                 << QStringList{"nodecoder.pt"};
    QTest::addRow("inputs with a phase")
        << QStringList{"profile", "DIR/decoder.pt", "--phase",          "prefill", "--lengths",
                       "16",      "--inputs",       "input_ids:int64:0"}
        << QStringList{"--inputs", "leave --inputs out"};
}

void TestDecoderCli::badInput()
{
    QFETCH(QStringList, args);
    QFETCH(QStringList, mentions);
    if (!QFile::exists(path("decode.json")))
        QSKIP("needs the profiles of profilesFeedLlm");
    QFile::copy(path("prefill.json"), path("nodecoder.pt")); // not even a model
    for (auto& a : args)
        a.replace("DIR", dir_.path());
    if (args.first() == "LLM")
        args = llm(args[1], args[2]);
    const auto r = runCli(args);
    QCOMPARE(r.exitCode, 2);
    QVERIFY(r.out.isEmpty());
    QCOMPARE(r.err.count('\n'), 1);
    for (const auto& m : mentions)
        QVERIFY2(r.err.contains(m.toUtf8()), r.err.constData());
}

QTEST_GUILESS_MAIN(TestDecoderCli)
#include "tst_decoder_cli.moc"
