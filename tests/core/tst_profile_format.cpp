#include "core/latency/profile_format.h"
#include "core/util/error.h"
#include "core/util/text.h"

#include <QTest>

#include <nlohmann/json.hpp>

using namespace bucketlab;

class TestProfileFormat : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void summaryStatistics();
    void jsonRoundTrip();
    void csvAggregatesSamples();
    void badFiles_data();
    void badFiles();
};

void TestProfileFormat::summaryStatistics()
{
    ProfilePoint p;
    p.samplesMs = {5, 1, 4, 2, 3, 100}; // 100 is far outside the Tukey fences
    summarizeSamples(p);
    QCOMPARE(p.samples, int64_t(6));
    QCOMPARE(p.p50Ms, 3.5);
    QCOMPARE(p.meanMs, 115.0 / 6.0);
    QCOMPARE(p.outliers, int64_t(1));
    QCOMPARE(p.madMs, 1.5); // |x - 3.5| = 2.5 1.5 0.5 0.5 1.5 96.5 -> median 1.5
    QVERIFY(p.p99Ms > 90 && p.p99Ms <= 100);
}

void TestProfileFormat::jsonRoundTrip()
{
    Profile p;
    p.modelFile = "m.pt";
    p.deviceName = "CPU";
    p.threads = 2;
    p.environment["libtorch"] = "1.13.1";
    ProfilePoint a;
    a.length = 128;
    a.samplesMs = {1.0, 1.1, 0.9};
    summarizeSamples(a);
    a.ci95LowMs = 0.95;
    a.ci95HighMs = 1.05;
    a.flags = {"few-samples"};
    ProfilePoint b;
    b.length = 512;
    b.error = "forward raised: boom";
    p.points = {a, b};
    const Profile back = profileFromJson(profileJson(p).dump(), "p.json");
    QCOMPARE(back.points.size(), size_t(2));
    QCOMPARE(back.points[0].p50Ms, a.p50Ms);
    QCOMPARE(back.points[0].samplesMs, a.samplesMs);
    QCOMPARE(back.points[0].ci95HighMs, 1.05);
    QCOMPARE(back.points[0].flags, a.flags);
    QVERIFY(!back.points[1].ok());
    QCOMPARE(back.threads, 2);
    QCOMPARE(back.environment.at("libtorch"), std::string("1.13.1"));
}

void TestProfileFormat::csvAggregatesSamples()
{
    const auto p = profileFromCsv("length,latency_ms\n128,2.0\n512,8\n128,4.0\n", "p.csv");
    QCOMPARE(p.points.size(), size_t(2));
    QCOMPARE(p.points[0].length, int64_t(128));
    QCOMPARE(p.points[0].samples, int64_t(2));
    QCOMPARE(p.points[0].p50Ms, 3.0);
    QCOMPARE(p.points[1].meanMs, 8.0);
}

void TestProfileFormat::badFiles_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("mentions");
    QTest::addRow("empty") << ""
                           << "p.csv: empty file";
    QTest::addRow("no header columns") << "len,ms\n1,2\n"
                                       << "p.csv:1:";
    QTest::addRow("no points") << "length,latency_ms\n"
                               << "no points";
    QTest::addRow("zero latency") << "length,latency_ms\n128,0\n"
                                  << "p.csv:2:";
    QTest::addRow("negative latency") << "length,latency_ms\n128,-1\n"
                                      << "p.csv:2:";
    QTest::addRow("nan latency") << "length,latency_ms\n128,1\n256,nan\n"
                                 << "p.csv:3:";
    QTest::addRow("text latency") << "length,latency_ms\n128,fast\n"
                                  << "not a number";
    QTest::addRow("zero length") << "length,latency_ms\n0,1\n"
                                 << "not a positive integer";
    QTest::addRow("huge length") << "length,latency_ms\n3000000000,1\n"
                                 << "not a positive integer";
    QTest::addRow("json wrong format") << "{\"format\":\"x\"}"
                                       << "not a bucketlab.profile/1";
    QTest::addRow("json no points") << "{\"format\":\"bucketlab.profile/1\",\"points\":[]}"
                                    << "no points";
    QTest::addRow("json bad latency")
        << "{\"format\":\"bucketlab.profile/1\",\"points\":[{\"length\":8,\"p50_ms\":-2}]}"
        << "points[0]";
    // Found by fuzz_profile: a cell's bytes and the JSON parser's excerpt of the file were put
    // into the message raw (a control character, text that is not UTF-8).
    QTest::addRow("control character in a number")
        << QString::fromLatin1("length,latency_ms,batch\n64,1.5,1\x06"
                               "64\n")
        << "p.csv:2: batch '1\\x06"
           "64' is not a number";
    // Found by fuzz_profile: a "format" that is not a string threw nlohmann's type_error,
    // which no caller expects (the CLI said "internal error").
    QTest::addRow("json format an object") << "{\"format\": {\"os\": \"linux\"}, \"points\": []}"
                                           << "p.csv: not a bucketlab.profile/1 profile";
    // Found by fuzz_profile: lengths above the one bound every length has (2^24) were read,
    // and a batch of 1e300 was converted to an integer (undefined behaviour).
    QTest::addRow("length above the bound") << "length,latency_ms\n16777217,1\n"
                                            << "p.csv:2: length '16777217' is not a positive "
                                               "integer up to 16777216";
    QTest::addRow("batch above the bound") << "length,latency_ms,batch\n8,1,1e300\n"
                                           << "p.csv:2: batch '1e300' is not a positive integer "
                                              "up to 4096";
    QTest::addRow("json length above the bound")
        << "{\"format\":\"bucketlab.profile/1\",\"points\":[{\"length\":97027041,\"p50_ms\":2}]}"
        << "p.csv: points[0]: length 97027041 is not in 1..16777216";
    QTest::addRow("json length not whole") // was cast to int64: undefined behaviour
        << "{\"format\":\"bucketlab.profile/1\",\"points\":[{\"length\":3e20,\"p50_ms\":2}]}"
        << "p.csv: points[0].length is not a whole number";
    QTest::addRow("json number overflow")
        << "{\"format\":\"bucketlab.profile/1\",\"points\":[{\"length\":8,\"p50_ms\":1e400}]}"
        << "p.csv: not valid JSON (";
    QTest::addRow("json excerpt escaped")
        << QString::fromUtf8("{\"format\":\"bucketlab.profile/1\",\"po\x1b[2J")
        << "p.csv: not valid JSON (";
}

void TestProfileFormat::badFiles()
{
    QFETCH(QString, text);
    QFETCH(QString, mentions);
    const std::string t = text.toStdString();
    try {
        if (!t.empty() && t[0] == '{')
            profileFromJson(t, "p.csv");
        else
            profileFromCsv(t, "p.csv");
        QFAIL("accepted a bad profile");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).contains(mentions), e.what());
        const std::string what = e.what();
        QVERIFY2(isValidUtf8(what), e.what());
        for (unsigned char c : what)
            QVERIFY2(c >= 0x20 && c != 0x7f, e.what()); // one line, no terminal escapes
    }
}

QTEST_GUILESS_MAIN(TestProfileFormat)
#include "tst_profile_format.moc"
