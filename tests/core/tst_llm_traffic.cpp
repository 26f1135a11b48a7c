// (prompt, output) traffic: the Azure trace format and other CSV/TSV/JSONL layouts read into
// the same pair histogram, every bad value an error naming file:line, synthetic specs
// reproducible and shaped as asked, and summaries by nearest rank.
#include "core/llm/request_traffic.h"
#include "core/util/error.h"

#include "testutil.h"

#include <QTemporaryDir>
#include <QTest>

#include <cmath>

using namespace bucketlab;

namespace {

RequestTraffic csv(const std::string& text, const std::string& name = "t.csv",
                   const TrafficReadOptions& o = {})
{
    return parseRequestTrafficCsv(text, name, o);
}

std::vector<RequestPair> pairs(std::initializer_list<RequestPair> p)
{
    return std::vector<RequestPair>(p);
}

} // namespace

class TestLlmTraffic : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void azureTraceFormat();
    void countColumnAndDuplicatesAddUp();
    void namedColumnsTsvAndQuotes();
    void jsonlOneObjectPerRequest();
    void fileReaderAndCsvRoundTrip();
    void readerErrors_data();
    void readerErrors();
    void summaries();
    void syntheticIsReproducibleAndShaped();
    void syntheticErrors_data();
    void syntheticErrors();
    void fromPairsValidates();
};

void TestLlmTraffic::azureTraceFormat()
{
    // The public trace's header and timestamp format (AzureLLMInferenceTrace_code.csv).
    const auto t = csv("TIMESTAMP,ContextTokens,GeneratedTokens\n"
                       "2023-11-16 18:15:46.6805900,4808,10\n"
                       "2023-11-16 18:15:50.9951690,3180,8\n"
                       "2023-11-16 18:15:51.1222660,4808,10\n");
    QCOMPARE(t.requests(), 3);
    QCOMPARE(t.pairs().size(), size_t(2));
    QVERIFY(t.pairs()[0] == (RequestPair{3180, 8, 1}));
    QVERIFY(t.pairs()[1] == (RequestPair{4808, 10, 2}));
    QCOMPARE(t.maxPrompt(), 4808);
    QCOMPARE(t.maxOutput(), 10);
    QCOMPARE(t.maxTotal(), 4818);
    QCOMPARE(t.prompts().total(), 3);
    QCOMPARE(t.prompts().distinct(), size_t(2));
}

void TestLlmTraffic::countColumnAndDuplicatesAddUp()
{
    const auto t = csv("ContextTokens,GeneratedTokens,count\n5,1,2\n5,1,3\n7,0,1\n9,4,0\n");
    QCOMPARE(t.requests(), 6);
    QCOMPARE(t.pairs().size(), size_t(2)); // the zero count is dropped
    QVERIFY(t.pairs()[0] == (RequestPair{5, 1, 5}));
    QVERIFY(t.pairs()[1] == (RequestPair{7, 0, 1})); // zero output tokens are allowed
}

void TestLlmTraffic::namedColumnsTsvAndQuotes()
{
    TrafficReadOptions o;
    o.promptField = "in";
    o.outputField = "out";
    o.countField = "n";
    const auto t =
        parseRequestTrafficCsv("id\tin\tout\tn\n\"a\tb\"\t12\t3\t2\nx\t12\t3\t1\n", "t.tsv", o);
    QCOMPARE(t.requests(), 3);
    QVERIFY(t.pairs()[0] == (RequestPair{12, 3, 3}));
    // Case-insensitive default names, quoted cells with separators.
    const auto u = csv("note,prompt_tokens,COMPLETION_TOKENS\n\"x, y\",7,2\n");
    QVERIFY(u.pairs()[0] == (RequestPair{7, 2, 1}));
}

void TestLlmTraffic::jsonlOneObjectPerRequest()
{
    const auto t = parseRequestTrafficJsonl(
        "{\"prompt_tokens\": 10, \"output_tokens\": 4}\n\n{\"prompt_tokens\": 10, "
        "\"output_tokens\": 4, \"extra\": \"x\"}\n{\"prompt_tokens\": 3, \"output_tokens\": 1}\n",
        "t.jsonl", {});
    QCOMPARE(t.requests(), 3);
    QVERIFY(t.pairs()[1] == (RequestPair{10, 4, 2}));
    // Named fields, and a count per object.
    const auto u = parseRequestTrafficJsonl("{\"p\":5,\"g\":2,\"n\":4}\n", "t.jsonl",
                                            TrafficReadOptions{"p", "g", "n", {}});
    QCOMPARE(u.requests(), 4);
}

void TestLlmTraffic::fileReaderAndCsvRoundTrip()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath("t.csv");
    QVERIFY(test::writeAll(path, "ContextTokens,GeneratedTokens\n100,20\n50,5\n100,20\n"));
    const auto t = loadRequestTraffic(test::s(path), {});
    QCOMPARE(t.requests(), 3);
    // The histogram form reads back to the same traffic.
    const auto back = csv(t.toCsv());
    QVERIFY(back.pairs() == t.pairs());
    const QString jl = dir.filePath("t.ndjson");
    QVERIFY(test::writeAll(jl, "{\"ContextTokens\": 8, \"GeneratedTokens\": 3}\n"));
    QCOMPARE(loadRequestTraffic(test::s(jl), {}).requests(), 1);
    QVERIFY_THROWS_EXCEPTION(Error, loadRequestTraffic(test::s(dir.filePath("missing.csv")), {}));
}

void TestLlmTraffic::readerErrors_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("expected");
    QTest::addRow("empty file") << ""
                                << "t.csv"
                                << "t.csv: empty file";
    QTest::addRow("no prompt column") << "a,b\n1,2\n"
                                      << "t.csv"
                                      << "t.csv:1: no prompt column";
    QTest::addRow("header is a value") << "5,GeneratedTokens\n1,2\n"
                                       << "t.csv"
                                       << "t.csv:1: no prompt column";
    QTest::addRow("negative output") << "prompt,output\n4,2\n5,-1\n"
                                     << "t.csv"
                                     << "t.csv:3: output tokens -1 is below 0";
    QTest::addRow("zero prompt") << "prompt,output\n0,2\n"
                                 << "t.csv"
                                 << "t.csv:2: prompt tokens 0 is below 1";
    QTest::addRow("fraction") << "prompt,output\n4.5,2\n"
                              << "t.csv"
                              << "t.csv:2: prompt tokens '4.5' is not a whole number";
    QTest::addRow("text") << "prompt,output\n4,many\n"
                          << "t.csv"
                          << "t.csv:2: output tokens 'many' is not a number";
    QTest::addRow("nan") << "prompt,output\nnan,1\n"
                         << "t.csv"
                         << "t.csv:2: prompt tokens 'nan' is not a number";
    QTest::addRow("too long") << "prompt,output\n16777217,1\n"
                              << "t.csv"
                              << "t.csv:2: prompt tokens 16777217 exceeds 16777216";
    QTest::addRow("missing cell") << "prompt,output,count\n4,2\n"
                                  << "t.csv"
                                  << "t.csv:2: expected at least 3 columns, the line has 2";
    QTest::addRow("empty cell") << "prompt,output\n4,\n"
                                << "t.csv"
                                << "t.csv:2: missing output tokens (empty cell)";
    QTest::addRow("negative count") << "prompt,output,count\n4,2,-3\n"
                                    << "t.csv"
                                    << "t.csv:2: count -3 is below 0";
    QTest::addRow("only header") << "prompt,output\n"
                                 << "t.csv"
                                 << "t.csv: no requests";
    QTest::addRow("jsonl bad json") << "{\"prompt\": 3, \"output\": 1}\n{oops\n"
                                    << "t.jsonl"
                                    << "t.jsonl:2: not valid JSON";
    QTest::addRow("jsonl missing field") << "{\"prompt\": 3, \"output\": 1}\n{\"prompt\": 3}\n"
                                         << "t.jsonl"
                                         << "t.jsonl:2: no field 'output'";
    QTest::addRow("jsonl string value") << "{\"prompt\": \"3\", \"output\": 1}\n"
                                        << "t.jsonl"
                                        << "t.jsonl:1: field 'prompt' is not a number";
    QTest::addRow("jsonl no fields") << "{\"a\": 3}\n"
                                     << "t.jsonl"
                                     << "t.jsonl:1: no prompt field";
    QTest::addRow("jsonl not object") << "[1, 2]\n"
                                      << "t.jsonl"
                                      << "t.jsonl:1: expected one JSON object per line";
}

void TestLlmTraffic::readerErrors()
{
    QFETCH(QString, text);
    QFETCH(QString, name);
    QFETCH(QString, expected);
    const std::string n = test::s(name);
    try {
        if (name.endsWith(".jsonl"))
            parseRequestTrafficJsonl(test::s(text), n, {});
        else
            csv(test::s(text), n);
        QFAIL("no error");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).startsWith(expected), e.what());
    }
}

void TestLlmTraffic::summaries()
{
    const auto t =
        RequestTraffic::fromPairs(pairs({{10, 1, 50}, {20, 5, 40}, {30, 9, 9}, {40, 2, 1}}));
    const auto p = t.promptSummary();
    QCOMPARE(p.requests, 100);
    QCOMPARE(p.distinct, 4);
    QCOMPARE(p.min, 10);
    QCOMPARE(p.p50, 10); // nearest rank 50 is the 50th request: still 10 tokens
    QCOMPARE(p.p90, 20);
    QCOMPARE(p.p99, 30);
    QCOMPARE(p.max, 40);
    QCOMPARE(p.mean, (10.0 * 50 + 20.0 * 40 + 30.0 * 9 + 40.0) / 100);
    const auto g = t.outputSummary();
    QCOMPARE(g.min, 1);
    QCOMPARE(g.max, 9);
    QCOMPARE(g.p50, 1);
    QCOMPARE(g.p90, 5);
    QCOMPARE(g.p99, 9);
}

void TestLlmTraffic::syntheticIsReproducibleAndShaped()
{
    const std::string spec =
        "prompt=lognormal:mu=6,sigma=0.8,max=4000;output=geometric:mean=50,max=800;n=20000;seed=3";
    QVERIFY(looksLikeTrafficSpec(spec));
    const auto a = syntheticRequestTraffic(spec);
    const auto b = loadRequestTraffic(spec, {});
    QVERIFY(a.pairs() == b.pairs());
    QCOMPARE(a.requests(), 20000);
    QVERIFY(a.maxPrompt() <= 4000);
    QVERIFY(a.maxOutput() <= 800);
    // Geometric with mean 50 (clamped far out in the tail): the sample mean is close.
    const auto g = a.outputSummary();
    QVERIFY2(std::abs(g.mean - 50) < 2.5, std::to_string(g.mean).c_str());
    QCOMPARE(g.min, 1);
    // Lognormal median e^6 = 403.
    const auto p = a.promptSummary();
    QVERIFY2(std::abs(double(p.p50) - 403) < 20, std::to_string(p.p50).c_str());
    // Independent marginals: the mean output barely depends on the prompt's half.
    double lowSum = 0, highSum = 0, lowN = 0, highN = 0;
    for (const auto& q : a.pairs()) {
        double& sum = q.prompt <= p.p50 ? lowSum : highSum;
        double& n = q.prompt <= p.p50 ? lowN : highN;
        sum += double(q.output) * double(q.count);
        n += double(q.count);
    }
    QVERIFY(std::abs(lowSum / lowN - highSum / highN) < 4);
    // Another seed, other traffic.
    QVERIFY(!(syntheticRequestTraffic(spec.substr(0, spec.size() - 1) + "4").pairs() == a.pairs()));
    // Any traffic family for the output too.
    const auto u = syntheticRequestTraffic("prompt=uniform:min=5,max=9;output=uniform:min=2,"
                                           "max=3;n=500;seed=1");
    QCOMPARE(u.promptSummary().min, 5);
    QCOMPARE(u.outputSummary().max, 3);
}

void TestLlmTraffic::syntheticErrors_data()
{
    QTest::addColumn<QString>("spec");
    QTest::addColumn<QString>("expected");
    QTest::addRow("no output") << "prompt=uniform:min=1,max=5"
                               << "needs both prompt=SPEC";
    QTest::addRow("unknown key") << "prompt=uniform:min=1,max=5;output=geometric:mean=3;x=1"
                                 << "unknown key 'x'";
    QTest::addRow("inner n") << "prompt=uniform:min=1,max=5,n=5;output=geometric:mean=3"
                             << "put n= and seed= at the top level";
    QTest::addRow("bad family") << "prompt=gamma:k=1;output=geometric:mean=3"
                                << "is not a distribution";
    QTest::addRow("geometric mean") << "prompt=uniform:min=1,max=5;output=geometric:mean=0.5"
                                    << "geometric needs mean=M with M >= 1";
    QTest::addRow("geometric key") << "prompt=uniform:min=1,max=5;output=geometric:p=0.1"
                                   << "geometric takes mean=M";
    QTest::addRow("n too big") << "prompt=uniform:min=1,max=5;output=geometric:mean=3;n=1e9"
                               << "n must be a whole number";
}

void TestLlmTraffic::syntheticErrors()
{
    QFETCH(QString, spec);
    QFETCH(QString, expected);
    try {
        syntheticRequestTraffic(test::s(spec));
        QFAIL("no error");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).contains(expected), e.what());
        QVERIFY2(QString(e.what()).contains("traffic spec"), e.what());
    }
}

void TestLlmTraffic::fromPairsValidates()
{
    QVERIFY_THROWS_EXCEPTION(Error, RequestTraffic::fromPairs(pairs({{0, 1, 1}})));
    QVERIFY_THROWS_EXCEPTION(Error, RequestTraffic::fromPairs(pairs({{1, -1, 1}})));
    QVERIFY_THROWS_EXCEPTION(Error, RequestTraffic::fromPairs(pairs({{1, 1, -1}})));
    const auto t = RequestTraffic::fromPairs(pairs({{3, 1, 1}, {2, 1, 2}, {3, 1, 4}}));
    QCOMPARE(t.pairs().size(), size_t(2));
    QVERIFY(t.pairs()[0] == (RequestPair{2, 1, 2}));
    QVERIFY(t.pairs()[1] == (RequestPair{3, 1, 5}));
}

QTEST_GUILESS_MAIN(TestLlmTraffic)
#include "tst_llm_traffic.moc"
