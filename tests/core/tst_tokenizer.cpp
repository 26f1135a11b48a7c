// BERT's tokenizer, checked against token counts derived by hand: a tiny vocabulary where
// every rule (cleaning, CJK, punctuation, greedy longest match, [UNK], lower-casing, accents,
// the final sigma) can be followed on paper, the real bert-base-cased vocabulary on sentences
// whose pieces were looked up one by one, and the MRPC histogram of resources/demo, which
// must come out byte for byte (when the shared corpus is present).
#include "core/traffic/distribution.h"
#include "core/traffic/unicode_tables.h"
#include "core/traffic/wordpiece_tokenizer.h"
#include "core/util/error.h"
#include "core/util/output_file.h"
#include "testutil.h"

#include <QDir>
#include <QTest>

using namespace bucketlab;

namespace {

const char* kTinyVocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\nun\n##aff\n##able\na\n##a\nthe\ncat\n,\n.\n"
                         "'\ns\n^\nb\n中\n文\ncafe\ncafé\ni\nοδος\nσα\né\n##é\n";

WordPieceTokenizer tiny(bool lowercase = false, int64_t maxChars = 100)
{
    WordPieceTokenizer::Options o;
    o.lowercase = lowercase;
    o.maxCharsPerWord = maxChars;
    return WordPieceTokenizer::fromText(kTinyVocab, "tiny-vocab.txt", o);
}

QString joined(const std::vector<std::string>& pieces)
{
    QStringList out;
    for (const auto& p : pieces)
        out << QString::fromStdString(p);
    return out.join(' ');
}

QString sharedData()
{
    const QByteArray env = qgetenv("BUCKETLAB_SHARED_DATA");
    if (!env.isEmpty())
        return QString::fromLocal8Bit(env);
    for (const QString& c : {QStringLiteral("/work/shared/data"),
                             QStringLiteral(BUCKETLAB_SOURCE_DIR "/../shared/data")})
        if (QDir(c).exists())
            return c;
    return {};
}

} // namespace

class TestTokenizer : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void tinyVocabulary_data();
    void tinyVocabulary();
    void longWords();
    void casedBertVocabulary_data();
    void casedBertVocabulary();
    void unicodeTables();
    void badVocab();
    void textFiles();
    void reproducesMrpcHistogram();
};

void TestTokenizer::tinyVocabulary_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<bool>("lowercase");
    QTest::addColumn<QString>("pieces");
    QTest::addRow("greedy longest match") << QByteArray("unaffable") << false << "un ##aff ##able";
    QTest::addRow("one unmatched position makes the word [UNK]")
        << QByteArray("xunaffable") << false << "[UNK]";
    QTest::addRow("punctuation splits") << QByteArray("the cat's.") << false << "the cat ' s .";
    QTest::addRow("ASCII symbols count as punctuation") << QByteArray("a^b") << false << "a ^ b";
    QTest::addRow("CJK characters split without spaces")
        << QByteArray("the中文cat") << false << "the 中 文 cat";
    QTest::addRow("control characters vanish")
        << QByteArray("ca\x01t the\x7f", 10) << false << "cat the";
    QTest::addRow("NUL vanishes") << QByteArray("ca\0t", 4) << false << "cat";
    QTest::addRow("zero-width space (Cf) vanishes")
        << QByteArray("ca\xE2\x80\x8Bt") << false << "cat";
    QTest::addRow("invalid UTF-8 vanishes") << QByteArray("ca\xFFt") << false << "cat";
    QTest::addRow("tab, newline, no-break space split") << QByteArray("the\tcat\nthe\xC2\xA0"
                                                                      "cat")
                                                        << false << "the cat the cat";
    QTest::addRow("line separator splits")
        << QByteArray("the\xE2\x80\xA8\x63\x61t") << false << "the cat";
    QTest::addRow("cased keeps case") << QByteArray("The") << false << "[UNK]";
    QTest::addRow("lowercase") << QByteArray("THE CAT") << true << "the cat";
    QTest::addRow("accents kept without lowercasing") << QByteArray("café") << false << "café";
    QTest::addRow("accents stripped with lowercasing") << QByteArray("CAFÉ") << true << "cafe";
    QTest::addRow("dotted capital I lowercases to i + dot, dot stripped")
        << QByteArray("İ") << true << "i";
    QTest::addRow("final sigma at the end of a word") << QByteArray("ΟΔΟΣ") << true << "οδος";
    QTest::addRow("sigma inside a word") << QByteArray("ΣΑ") << true << "σα";
    QTest::addRow("empty") << QByteArray("") << false << "";
    QTest::addRow("only spaces") << QByteArray("  \t ") << false << "";
}

void TestTokenizer::tinyVocabulary()
{
    QFETCH(QByteArray, text);
    QFETCH(bool, lowercase);
    QFETCH(QString, pieces);
    const auto t = tiny(lowercase);
    const std::string_view s(text.constData(), size_t(text.size()));
    QCOMPARE(joined(t.tokenize(s)), pieces);
    const int64_t n = pieces.isEmpty() ? 0 : pieces.split(' ').size();
    QCOMPARE(t.countTokens(s), n);
    QCOMPARE(t.singleLength(s), n + 2);
}

void TestTokenizer::longWords()
{
    const auto t = tiny();
    const std::string hundred(100, 'a'), hundredOne(101, 'a');
    QCOMPARE(t.countTokens(hundred), int64_t(100)); // a ##a ##a ...
    QCOMPARE(joined(t.tokenize(hundredOne)), QString("[UNK]"));
    // The limit counts characters, not bytes: 60 two-byte characters are 60, not 120.
    std::string accented;
    for (int i = 0; i < 60; ++i)
        accented += "é";
    QCOMPARE(tiny(false, 60).countTokens(accented), int64_t(60)); // é ##é ##é ...
    QCOMPARE(joined(tiny(false, 59).tokenize(accented)), QString("[UNK]"));
    QCOMPARE(t.pairLength("the cat", "unaffable"), int64_t(2 + 3 + 3));
}

void TestTokenizer::casedBertVocabulary_data()
{
    // Each piece was looked up in bert-base-cased-vocab.txt (e.g. "naïve": no "naïv", "naï";
    // "na"; then no "##ïve", "##ïv"; "##ï"; "##ve").
    QTest::addColumn<QString>("a");
    QTest::addColumn<QString>("b");
    QTest::addColumn<QString>("pieces");
    QTest::addColumn<int>("length");
    QTest::addRow("greeting") << "Hello, world!"
                              << ""
                              << "Hello , world !" << 6;
    QTest::addRow("possessive, accents, long word")
        << "Tokyo's naïve unbelievable pads."
        << ""
        << "Tokyo ' s na ##ï ##ve un ##believable pads ." << 12;
    QTest::addRow("German and Chinese") << "Straße 中文"
                                        << ""
                                        << "St ##ra ##ße 中 文" << 7;
    QTest::addRow("sentence pair") << "Hello, world!"
                                   << "Tokyo's naïve unbelievable pads."
                                   << "" << 4 + 10 + 3;
}

void TestTokenizer::casedBertVocabulary()
{
    QFETCH(QString, a);
    QFETCH(QString, b);
    QFETCH(QString, pieces);
    QFETCH(int, length);
    const auto t =
        WordPieceTokenizer::fromFile(test::s(test::dataPath("bert-base-cased-vocab.txt")), {});
    QCOMPARE(t.vocabSize(), size_t(28996));
    if (b.isEmpty()) {
        QCOMPARE(joined(t.tokenize(a.toStdString())), pieces);
        QCOMPARE(t.singleLength(a.toStdString()), int64_t(length));
    } else
        QCOMPARE(t.pairLength(a.toStdString(), b.toStdString()), int64_t(length));
}

void TestTokenizer::unicodeTables()
{
    using namespace unicode;
    QCOMPARE(categoryClass(U'!'), CategoryClass::Punctuation);
    QCOMPARE(categoryClass(0x2019), CategoryClass::Punctuation); // right single quotation mark
    QCOMPARE(categoryClass(U'$'), CategoryClass::Other);         // Sc: BERT splits it as ASCII
    QCOMPARE(categoryClass(0x00A0), CategoryClass::SpaceSeparator);
    QCOMPARE(categoryClass(0x0301), CategoryClass::NonspacingMark);
    QCOMPARE(categoryClass(0x200B), CategoryClass::Control); // Cf
    QCOMPARE(categoryClass(0x0378), CategoryClass::Control); // unassigned (Cn)
    QCOMPARE(categoryClass(0xE000), CategoryClass::Control); // private use (Co)
    QCOMPARE(categoryClass(U'a'), CategoryClass::Other);
    char32_t out[3];
    QCOMPARE(lowercase(0x0130, out), size_t(2)); // İ -> i + combining dot
    QCOMPARE(out[1], char32_t(0x0307));
    QCOMPARE(stripAccents(0x00E9, out), size_t(1)); // é -> e
    QCOMPARE(out[0], char32_t('e'));
    QCOMPARE(stripAccents(0xAC01, out), size_t(3)); // Hangul syllable -> three jamo
    QCOMPARE(out[2], char32_t(0x11A8));
    QCOMPARE(caseContext(U'A'), CaseContext::Cased);
    QCOMPARE(caseContext(U'\''), CaseContext::CaseIgnorable);
    QCOMPARE(caseContext(U'1'), CaseContext::None);
}

void TestTokenizer::badVocab()
{
    try {
        WordPieceTokenizer::fromText("hello\nworld\n", "v.txt", {});
        QFAIL("no error");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).contains("v.txt: no [UNK] token"), e.what());
    }
    QVERIFY_THROWS_EXCEPTION(Error, WordPieceTokenizer::fromFile("/nonexistent/vocab.txt", {}));
}

void TestTokenizer::textFiles()
{
    QTemporaryDir dir;
    DistributionOptions o;
    o.vocab = test::s(test::dataPath("bert-base-cased-vocab.txt"));
    // One text per line; blank lines are not samples.
    const QString lines = dir.filePath("texts.txt");
    QVERIFY(test::writeAll(lines, "Hello, world!\n\nStraße 中文\n"));
    auto h = readDistributionFile(test::s(lines), o);
    QCOMPARE(h.total(), int64_t(2));
    QCOMPARE(h.minLength(), int64_t(6));
    QCOMPARE(h.maxLength(), int64_t(7));
    // TSV pairs by number and by header name, with a BOM and an unbalanced quote.
    const QString tsv = dir.filePath("pairs.tsv");
    QVERIFY(test::writeAll(tsv, "\xEF\xBB\xBFid\tfirst\tsecond\n1\tHello, world!\t\"Tokyo's naïve "
                                "unbelievable pads.\n"));
    o.textColumns = {"2", "3"};
    h = readDistributionFile(test::s(tsv), o);
    QCOMPARE(h.maxLength(), int64_t(4 + 11 + 3)); // the quote is one more punctuation token
    o.textColumns = {"first", "second"};
    QVERIFY(readDistributionFile(test::s(tsv), o) == h);
    o.textColumns = {"first"};
    QCOMPARE(readDistributionFile(test::s(tsv), o).maxLength(), int64_t(6));
    o.textColumns = {"2", "9"};
    try {
        readDistributionFile(test::s(tsv), o);
        QFAIL("no error");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).contains("pairs.tsv:2: expected at least 9 tab-separated"),
                 e.what());
    }
    o.textColumns = {"nope"};
    QVERIFY_THROWS_EXCEPTION(Error, readDistributionFile(test::s(tsv), o));
}

void TestTokenizer::reproducesMrpcHistogram()
{
    const QString shared = sharedData();
    if (shared.isEmpty() || !QFile::exists(shared + "/mrpc/train.tsv"))
        QSKIP("the shared MRPC corpus is not here (set BUCKETLAB_SHARED_DATA to its data folder)");
    DistributionOptions o;
    o.vocab = test::s(shared + "/bert-base-cased-vocab.txt");
    o.textColumns = {"4", "5"};
    const auto h = readDistributionFiles({test::s(shared + "/mrpc/train.tsv"),
                                          test::s(shared + "/mrpc/dev.tsv"),
                                          test::s(shared + "/mrpc/test.tsv")},
                                         o);
    QCOMPARE(h.total(), int64_t(5801));
    const std::string committed =
        readFile(BUCKETLAB_SOURCE_DIR "/resources/demo/mrpc_pair_lengths.csv", kMaxDataFileBytes,
                 "the demo histogram");
    QCOMPARE(h.toCsv(), committed);
}

QTEST_GUILESS_MAIN(TestTokenizer)
#include "tst_tokenizer.moc"
