// Traffic readers: CSV/TSV columns and histograms, JSONL fields, synthetic specs, the
// errors users get for bad files (always file:line), and streaming in constant memory.
#include "core/traffic/distribution.h"
#include "core/traffic/synthetic_distribution.h"
#include "core/util/error.h"
#include "core/util/text.h"
#include "testutil.h"

#include <QTemporaryDir>
#include <QTest>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

using namespace bucketlab;

namespace {

std::vector<std::pair<int64_t, int64_t>> pairs(const LengthHistogram& h)
{
    std::vector<std::pair<int64_t, int64_t>> out;
    for (size_t i = 0; i < h.distinct(); ++i)
        out.emplace_back(h.lengths()[i], h.counts()[i]);
    return out;
}

using Pairs = std::vector<std::pair<int64_t, int64_t>>;

long peakRssKb()
{
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

} // namespace

class TestDistribution : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void histogramBasics();
    void builderDenseAndSparse();
    void csvForms_data();
    void csvForms();
    void jsonlFields();
    void badFiles_data();
    void badFiles();
    void filesAndMissingFiles();
    void syntheticSpecs();
    void badSyntheticSpecs_data();
    void badSyntheticSpecs();
    void streamsInConstantMemory();
    void streamsWithoutEndsStop();
    void cancelWhileReading();
};

void TestDistribution::histogramBasics()
{
    const auto h = LengthHistogram::fromCounts({{30, 1}, {10, 2}, {20, 1}, {10, 1}, {40, 0}});
    QCOMPARE(pairs(h), (Pairs{{10, 3}, {20, 1}, {30, 1}}));
    QCOMPARE(h.total(), int64_t(5));
    QCOMPARE(h.totalTokens(), int64_t(80));
    QCOMPARE(h.mean(), 16.0);
    QCOMPARE(h.quantile(0.0), int64_t(10));
    QCOMPARE(h.quantile(0.6), int64_t(10)); // rank ceil(3) = 3: still length 10
    QCOMPARE(h.quantile(0.61), int64_t(20));
    QCOMPARE(h.quantile(1.0), int64_t(30));
    QCOMPARE(h.countAtMost(20), int64_t(4));
    QCOMPARE(pairs(h.truncated(25)), (Pairs{{10, 3}, {20, 1}}));
    auto m = h;
    m.merge(LengthHistogram::fromCounts({{20, 2}, {50, 1}}));
    QCOMPARE(pairs(m), (Pairs{{10, 3}, {20, 3}, {30, 1}, {50, 1}}));
    QCOMPARE(h.toCsv(), std::string("length,count\n10,3\n20,1\n30,1\n"));
    QVERIFY_THROWS_EXCEPTION(Error, LengthHistogram::fromCounts({{0, 1}}));
    QVERIFY_THROWS_EXCEPTION(Error, LengthHistogram::fromCounts({{5, -1}}));
    QVERIFY_THROWS_EXCEPTION(Error, LengthHistogram::fromCounts({{5, INT64_MAX}, {6, 1}}));
}

void TestDistribution::builderDenseAndSparse()
{
    LengthHistogramBuilder b;
    b.add(3);
    b.add(3);
    b.add(LengthHistogramBuilder::kDenseLimit + 5); // beyond the flat array
    b.add(kMaxLength);
    b.add(70000, 4);
    QCOMPARE(b.total(), int64_t(8));
    QCOMPARE(
        pairs(b.build()),
        (Pairs{{3, 2}, {70000, 4}, {LengthHistogramBuilder::kDenseLimit + 5, 1}, {kMaxLength, 1}}));
    QVERIFY_THROWS_EXCEPTION(Error, b.add(0));
    QVERIFY_THROWS_EXCEPTION(Error, b.add(kMaxLength + 1));
}

void TestDistribution::csvForms_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QString>("column");
    QTest::addColumn<QString>("expected"); // length:count,...
    QTest::addRow("single column") << "a.csv" << QByteArray("length\n5\n7\n5\n") << ""
                                   << "5:2,7:1";
    QTest::addRow("default name seq_len") << "a.csv" << QByteArray("id,seq_len\n1,5\n2,7\n") << ""
                                          << "5:1,7:1";
    QTest::addRow("default name tokens, any case")
        << "a.csv" << QByteArray("ID,Tokens\n1,9\n") << ""
        << "9:1";
    QTest::addRow("named column") << "a.csv" << QByteArray("a,b,c\n1,2,3\n4,5,6\n") << "b"
                                  << "2:1,5:1";
    QTest::addRow("histogram form")
        << "a.csv" << QByteArray("length,count\n10,3\n20,0\n10,2\n") << ""
        << "10:5";
    QTest::addRow("histogram form, count first")
        << "a.csv" << QByteArray("count,length\n3,10\n") << ""
        << "10:3";
    QTest::addRow("tsv by header") << "a.txt" << QByteArray("x\tlen\n1\t4\n") << ""
                                   << "4:1";
    QTest::addRow("tsv by extension, one column") << "a.tsv" << QByteArray("length\n4\n") << ""
                                                  << "4:1";
    QTest::addRow("semicolons") << "a.csv" << QByteArray("id;length\n1;8\n") << ""
                                << "8:1";
    QTest::addRow("bom, crlf, blank lines, spaces")
        << "a.csv" << QByteArray("\xEF\xBB\xBFlength\r\n 5 \r\n\r\n6\r\n\n") << ""
        << "5:1,6:1";
    QTest::addRow("quoted cells with separators")
        << "a.csv" << QByteArray("text,length\n\"a, b\",3\n\"say \"\"hi\"\", ok\",\"4\"\n") << ""
        << "3:1,4:1";
    QTest::addRow("integral decimals") << "a.csv" << QByteArray("length\n12.0\n1e2\n") << ""
                                       << "12:1,100:1";
    QTest::addRow("no trailing newline") << "a.csv" << QByteArray("length\n9") << ""
                                         << "9:1";
}

void TestDistribution::csvForms()
{
    QFETCH(QString, name);
    QFETCH(QByteArray, text);
    QFETCH(QString, column);
    QFETCH(QString, expected);
    DistributionOptions o;
    o.column = column.toStdString();
    const auto h = parseDistributionCsv(std::string_view(text.constData(), size_t(text.size())),
                                        name.toStdString(), o);
    QString got;
    for (const auto& [l, c] : pairs(h))
        got += (got.isEmpty() ? "" : ",") + QString("%1:%2").arg(l).arg(c);
    QCOMPARE(got, expected);
    // The file path goes through the same reader.
    QTemporaryDir dir;
    const QString path = dir.filePath(name);
    QVERIFY(test::writeAll(path, text));
    QVERIFY(readDistributionFile(path.toStdString(), o) == h);
}

void TestDistribution::jsonlFields()
{
    DistributionOptions o;
    const std::string text = "{\"id\": 1, \"length\": 5}\n\n{\"id\": 2, \"length\": 7.0}\n";
    QCOMPARE(pairs(parseDistributionJsonl(text, "a.jsonl", o)), (Pairs{{5, 1}, {7, 1}}));
    o.field = "input_ids";
    QCOMPARE(pairs(parseDistributionJsonl("{\"input_ids\": [101, 7, 102]}\n", "a.jsonl", o)),
             (Pairs{{3, 1}}));
    o.field = "text";
    try {
        parseDistributionJsonl("{\"text\": \"hello\"}\n", "a.jsonl", o);
        QFAIL("text without vocab accepted");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).contains("a.jsonl:1: field 'text' is text; give the vocabulary"),
                 e.what());
    }
    o.vocab = test::dataPath("bert-base-cased-vocab.txt").toStdString();
    // [CLS] Hello , world ! [SEP]
    QCOMPARE(pairs(parseDistributionJsonl("{\"text\": \"Hello, world!\"}\n", "a.jsonl", o)),
             (Pairs{{6, 1}}));
    o.textColumns = {"a", "b"};
    // [CLS] Hello [SEP] world [SEP]
    QCOMPARE(pairs(parseDistributionJsonl("{\"a\": \"Hello\", \"b\": \"world\"}\n", "a.jsonl", o)),
             (Pairs{{5, 1}}));
}

void TestDistribution::badFiles_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QString>("column");
    QTest::addColumn<QString>("mentions");
    QTest::addRow("empty file") << "t.csv" << QByteArray() << ""
                                << "t.csv: empty file";
    QTest::addRow("blank file") << "t.csv" << QByteArray("\n\n") << ""
                                << "t.csv: empty file";
    QTest::addRow("header only") << "t.csv" << QByteArray("length\n") << ""
                                 << "t.csv: no lengths";
    QTest::addRow("header without the column") << "t.csv" << QByteArray("a,b\n1,2\n") << "len"
                                               << "t.csv:1: no column 'len'";
    QTest::addRow("no length-like column") << "t.csv" << QByteArray("a,b\n1,2\n") << ""
                                           << "t.csv:1: no length column (columns: a, b)";
    QTest::addRow("no header") << "t.csv" << QByteArray("12\n13\n") << ""
                               << "t.csv:1: the first line must be a header";
    QTest::addRow("negative") << "t.csv" << QByteArray("length\n5\n-3\n") << ""
                              << "t.csv:3: length -3 is negative";
    QTest::addRow("zero") << "t.csv" << QByteArray("length\n0\n") << ""
                          << "t.csv:2: length 0 is not positive";
    QTest::addRow("nan") << "t.csv" << QByteArray("length\n5\n\nnan\n") << ""
                         << "t.csv:4: length 'nan' is not a number (NaN)";
    QTest::addRow("infinite") << "t.csv" << QByteArray("length\ninf\n") << ""
                              << "t.csv:2: length 'inf' is not finite";
    QTest::addRow("non-numeric") << "t.csv" << QByteArray("length\nabc\n") << ""
                                 << "t.csv:2: length 'abc' is not a number";
    QTest::addRow("huge") << "t.csv" << QByteArray("length\n2147483648\n") << ""
                          << "t.csv:2: length 2147483648 exceeds the largest supported length";
    QTest::addRow("way too huge") << "t.csv" << QByteArray("length\n1e300\n") << ""
                                  << "t.csv:2: length 1e300 exceeds";
    QTest::addRow("fraction") << "t.csv" << QByteArray("length\n12.5\n") << ""
                              << "t.csv:2: length 12.5 is not an integer";
    QTest::addRow("missing cell") << "t.csv" << QByteArray("id,length\n1,4\n2\n") << ""
                                  << "t.csv:3: missing length";
    QTest::addRow("empty cell") << "t.csv" << QByteArray("id,length\n1,\n") << ""
                                << "t.csv:2: missing length (empty cell)";
    QTest::addRow("negative count") << "t.csv" << QByteArray("length,count\n4,-2\n") << ""
                                    << "t.csv:2: count -2 is negative";
    QTest::addRow("jsonl not json") << "t.jsonl" << QByteArray("{\"length\": 3}\n{oops\n") << ""
                                    << "t.jsonl:2: not valid JSON";
    QTest::addRow("jsonl no field") << "t.jsonl" << QByteArray("{\"a\": 3}\n") << ""
                                    << "t.jsonl:1: no length field (fields: a)";
    QTest::addRow("jsonl negative") << "t.jsonl" << QByteArray("{\"length\": -3}\n") << ""
                                    << "t.jsonl:1: length -3 is negative";
    QTest::addRow("jsonl huge") << "t.jsonl" << QByteArray("{\"length\": 4294967296}\n") << ""
                                << "t.jsonl:1: length 4294967296 exceeds";
    QTest::addRow("jsonl not an object") << "t.jsonl" << QByteArray("[1]\n") << ""
                                         << "t.jsonl:1: expected one JSON object";
    // Found by fuzz_traffic: a header's names and the JSON parser's "last read" excerpt were
    // put into the message as the file's raw bytes (terminal escapes, text that is not
    // UTF-8), and a header of thousands of columns made a message of any length.
    QTest::addRow("header names escaped")
        << "t.tsv" << QByteArray("lenght\tcou\xd2\xd2nt\x1b[31m\n1\t2\n") << "length"
        << "t.tsv:1: no column 'length' in the header (columns: lenght, cou\\xd2\\xd2nt\\x1b[31m)";
    QTest::addRow("header names cut")
        << "t.csv" << QByteArray("c0,c1,c2,c3,c4,c5,c6,c7,c8,c9,c10,c11,c12,c13,c14\n1\n") << ""
        << "t.csv:1: no length column (columns: c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, "
           "c11, ... (3 more)); name it with";
    // Two columns (a lone column is the lengths, whatever its name): the long name is cut.
    QTest::addRow("long header name cut")
        << "t.csv" << QByteArray(200, 'x').append(",y\n1,2\n") << ""
        << "t.csv:1: no length column (columns: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx..., y)";
    QTest::addRow("option echoed escaped") << "t.csv" << QByteArray("a\n1\n") << "le\x1bn"
                                           << "t.csv:1: no column 'le\\x1bn' in the header";
    // Found by fuzz_request_traffic and fuzz_package_meta: a number beyond double (1e400)
    // makes the JSON parser throw out_of_range, not parse_error, and it escaped as a crash.
    QTest::addRow("jsonl number overflow") << "t.jsonl" << QByteArray("{\"length\": 1e400}\n") << ""
                                           << "t.jsonl:1: not valid JSON (";
    QTest::addRow("jsonl parse error excerpt escaped")
        << "t.jsonl" << QByteArray("{\"a\xc4\x1b\": 1}\n") << ""
        << "t.jsonl:1: not valid JSON ("; // the excerpt escaped: checked below
}

void TestDistribution::badFiles()
{
    QFETCH(QString, name);
    QFETCH(QByteArray, text);
    QFETCH(QString, column);
    QFETCH(QString, mentions);
    QTemporaryDir dir;
    QVERIFY(QDir::setCurrent(dir.path())); // so the message shows the short name
    QVERIFY(test::writeAll(name, text));
    DistributionOptions o;
    o.column = column.toStdString();
    try {
        readDistributionFile(name.toStdString(), o);
        QFAIL("no error");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).startsWith(mentions), e.what());
        // One line, no control characters, nothing that is not UTF-8: a file's bytes are
        // escaped before they reach a message.
        const std::string what = e.what();
        QVERIFY2(isValidUtf8(what), e.what());
        for (unsigned char c : what)
            QVERIFY2(c >= 0x20 && c != 0x7f, e.what());
    }
}

void TestDistribution::filesAndMissingFiles()
{
    QTemporaryDir dir;
    QVERIFY(test::writeAll(dir.filePath("a.csv"), "length\n5\n"));
    QVERIFY(test::writeAll(dir.filePath("b.csv"), "length,count\n5,2\n9,1\n"));
    const auto h = readDistributionFiles(
        {dir.filePath("a.csv").toStdString(), dir.filePath("b.csv").toStdString()}, {});
    QCOMPARE(pairs(h), (Pairs{{5, 3}, {9, 1}}));
    QVERIFY_THROWS_EXCEPTION(Error,
                             readDistributionFile(dir.filePath("nope.csv").toStdString(), {}));
    QVERIFY_THROWS_EXCEPTION(Error, readDistributionFile(dir.path().toStdString(), {}));
    // A missing file that is not a spec is reported as a missing file.
    try {
        loadDistribution(dir.filePath("nope.csv").toStdString(), {});
        QFAIL("no error");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).contains("no such file"), e.what());
    }
    DistributionOptions o;
    o.textColumns = {"1"};
    QVERIFY_THROWS_EXCEPTION(Error, readDistributionFile(dir.filePath("a.csv").toStdString(), o));
}

void TestDistribution::syntheticSpecs()
{
    QVERIFY(looksLikeSyntheticSpec("lognormal:mu=5,sigma=1"));
    QVERIFY(looksLikeSyntheticSpec("0.5*uniform:max=9+0.5*zipf:s=1,max=9"));
    QVERIFY(!looksLikeSyntheticSpec("traffic.csv"));
    const auto a = syntheticDistribution("lognormal:mu=5,sigma=0.5,max=1000,n=50000,seed=7");
    QCOMPARE(a.total(), int64_t(50000));
    QVERIFY(a.maxLength() <= 1000);
    // Median of a lognormal is e^mu = 148.4.
    QVERIFY(std::abs(double(a.quantile(0.5)) - 148.4) < 4);
    QVERIFY(syntheticDistribution("lognormal:mu=5,sigma=0.5,max=1000,n=50000,seed=7") == a);
    QVERIFY(!(syntheticDistribution("lognormal:mu=5,sigma=0.5,max=1000,n=50000,seed=8") == a));
    const auto u = syntheticDistribution("uniform:min=10,max=19,n=100000");
    QCOMPARE(u.minLength(), int64_t(10));
    QCOMPARE(u.maxLength(), int64_t(19));
    QCOMPARE(u.distinct(), size_t(10));
    const auto n = syntheticDistribution("normal:mean=50,sd=5,n=20000");
    QVERIFY(std::abs(n.mean() - 50) < 0.5);
    const auto z = syntheticDistribution("zipf:s=2,max=100,n=60000");
    // P(1) = 1 / zeta_100(2) = 0.6145.
    QVERIFY(std::abs(double(z.countAtMost(1)) / 60000.0 - 0.6145) < 0.01);
    // Mixture: 80 % near 10, 20 % at 1000..1001.
    const auto m = syntheticDistribution(
        "0.8*normal:mean=10,sd=1+0.2*uniform:min=1000,max=1001,n=100000,seed=3");
    QVERIFY(std::abs(double(m.countAtMost(500)) / 100000.0 - 0.8) < 0.01);
}

void TestDistribution::badSyntheticSpecs_data()
{
    QTest::addColumn<QString>("spec");
    QTest::addColumn<QString>("mentions");
    QTest::addRow("unknown family") << "gamma:k=2"
                                    << "unknown family 'gamma'";
    QTest::addRow("missing parameter") << "lognormal:mu=5"
                                       << "needs sigma=";
    QTest::addRow("unknown parameter") << "lognormal:mu=5,sigma=1,beta=2"
                                       << "no parameter 'beta'";
    QTest::addRow("bad number") << "lognormal:mu=five,sigma=1"
                                << "'five' is not a finite number";
    QTest::addRow("negative sigma") << "lognormal:mu=5,sigma=-1"
                                    << "sigma must be positive";
    QTest::addRow("uniform without max") << "uniform:min=3"
                                         << "uniform needs max=";
    QTest::addRow("min above max") << "uniform:min=30,max=3"
                                   << "min 30 is above max 3";
    QTest::addRow("zero n") << "uniform:max=3,n=0"
                            << "n must be an integer";
    QTest::addRow("fractional n") << "uniform:max=3,n=1.5"
                                  << "n must be an integer";
    QTest::addRow("zero weight") << "0*uniform:max=3"
                                 << "weights must be positive";
    QTest::addRow("not key=value") << "uniform:max"
                                   << "expected key=value";
    // Found by fuzz_options: a key with a control character was put into the message raw.
    QTest::addRow("key escaped") << QString::fromLatin1("normal:mean=100,std\x05"
                                                        "ev=2n")
                                 << "std\\x05"
                                    "ev '2n' is not a finite number";
    QTest::addRow("spec escaped") << QString::fromUtf8("uniform:max=3,n=0\x1b[2J")
                                  << "distribution spec 'uniform:max=3,n=0\\x1b[2J': n ";
}

void TestDistribution::badSyntheticSpecs()
{
    QFETCH(QString, spec);
    QFETCH(QString, mentions);
    try {
        syntheticDistribution(spec.toStdString());
        QFAIL("no error");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).contains(mentions), e.what());
        for (unsigned char c : std::string(e.what()))
            QVERIFY2(c >= 0x20 && c != 0x7f, e.what()); // one line, no terminal escapes
    }
}

void TestDistribution::streamsInConstantMemory()
{
    // 2 * 10^7 lines (about 90 MB) pushed through a FIFO: the reader never holds more than
    // its 1 MiB buffer and the histogram, so peak memory must grow by far less than the data.
    QTemporaryDir dir;
    const std::string fifo = dir.filePath("traffic.csv").toStdString();
    QCOMPARE(::mkfifo(fifo.c_str(), 0600), 0);
    constexpr int64_t lines = 20'000'000;
    std::thread writer([&] {
        const int fd = ::open(fifo.c_str(), O_WRONLY);
        std::string chunk = "length\n";
        for (int64_t i = 0; i < lines; ++i) {
            chunk += std::to_string(1 + (i * 7919) % 4000);
            chunk += '\n';
            if (chunk.size() > (1 << 16)) {
                if (::write(fd, chunk.data(), chunk.size()) != ssize_t(chunk.size()))
                    break;
                chunk.clear();
            }
        }
        if (::write(fd, chunk.data(), chunk.size()) != ssize_t(chunk.size()))
            qWarning("short write");
        ::close(fd);
    });
    const long before = peakRssKb();
    const auto h = readDistributionFile(fifo, {});
    writer.join();
    const long grownKb = peakRssKb() - before;
    QCOMPARE(h.total(), lines);
    QCOMPARE(h.distinct(), size_t(4000));
    qInfo("peak memory grew by %ld KiB while streaming %lld lines", grownKb, (long long)lines);
    QVERIFY(grownKb < 32 * 1024);
}

void TestDistribution::cancelWhileReading()
{
    std::string text = "length\n";
    for (int i = 0; i < 300000; ++i)
        text += "12\n";
    std::atomic<bool> cancel{true};
    DistributionOptions o;
    o.job = Job::cancellable(&cancel);
    QVERIFY_THROWS_EXCEPTION(Cancelled, parseDistributionCsv(text, "big.csv", o));
}

void TestDistribution::streamsWithoutEndsStop()
{
    // A stream without line ends stops at the line cap with the file and line, instead of
    // taking the machine's memory.
    try {
        readDistributionFile("/dev/zero", {});
        QFAIL("/dev/zero read to the end");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).startsWith("/dev/zero:1: a line longer than 16 MiB"), e.what());
    }
    // A FIFO that nothing writes to ends in an error instead of waiting forever.
    QTemporaryDir dir;
    const std::string fifo = dir.filePath("nobody.csv").toStdString();
    QCOMPARE(::mkfifo(fifo.c_str(), 0600), 0);
    try {
        readDistributionFile(fifo, {});
        QFAIL("read a FIFO nobody writes to");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).contains("a FIFO that nothing wrote to"), e.what());
    }
}

QTEST_GUILESS_MAIN(TestDistribution)
#include "tst_distribution.moc"
