// Boundaries (checked once where text or a list becomes one), positive lists, error fields
// (each front end names a field its own way) and quoting of input values in messages.
#include "core/spec/boundaries.h"
#include "core/spec/memory_budget.h"
#include "core/util/error.h"
#include "core/util/format.h"
#include "core/util/text.h"
#include "core/util/text_template.h"

#include <QtTest>

#include <set>

using namespace bucketlab;

class TestBoundaries : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void memoryBudget();
    void parses_data();
    void parses();
    void refusesBadText_data();
    void refusesBadText();
    void refusesBadLists_data();
    void refusesBadLists();
    void bucketFor();
    void positiveLists_data();
    void positiveLists();
    void errorsNameFieldsPerFrontEnd();
    void everyFieldHasWords();
    void quoteEscapesAndCuts_data();
    void quoteEscapesAndCuts();
    void formatsNumbers_data();
    void formatsNumbers();
    void fillsTemplates();
    void refusesTemplateMismatches_data();
    void refusesTemplateMismatches();
    void readsTemplateSections();
};

void TestBoundaries::parses_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<std::vector<int64_t>>("expected");
    QTest::addRow("two") << "128,512" << std::vector<int64_t>{128, 512};
    QTest::addRow("blanks around items")
        << " 64 , 128,\t256 " << std::vector<int64_t>{64, 128, 256};
    QTest::addRow("one") << "1" << std::vector<int64_t>{1};
    QTest::addRow("the longest accepted") << "16777216" << std::vector<int64_t>{kMaxLength};
}

void TestBoundaries::parses()
{
    QFETCH(QString, text);
    QFETCH(std::vector<int64_t>, expected);
    const auto b = Boundaries::parse(text.toStdString(), Field::Boundaries);
    QCOMPARE(b.values(), expected);
    QCOMPARE(b.largest(), expected.back());
    QCOMPARE(b.size(), expected.size());
    // str() is what parse() reads back.
    QCOMPARE(Boundaries::parse(b.str(), Field::Boundaries), b);
}

void TestBoundaries::refusesBadText_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("mentions");
    QTest::addRow("empty") << ""
                           << "the boundaries is empty";
    QTest::addRow("blank") << "  "
                           << "is empty";
    QTest::addRow("trailing comma") << "128,"
                                    << "'128,': ends with a comma";
    QTest::addRow("leading comma") << ",128"
                                   << "has an empty item";
    QTest::addRow("double comma") << "64,,128"
                                  << "has an empty item";
    QTest::addRow("word") << "64,long"
                          << "'long' is not a whole number";
    QTest::addRow("fraction") << "12.5"
                              << "'12.5' is not a whole number";
    QTest::addRow("zero") << "0,128"
                          << "'0' is not positive";
    QTest::addRow("negative") << "-5"
                              << "'-5' is not positive";
    QTest::addRow("int32 max") << "128,2147483647"
                               << "'2147483647' is above the largest accepted";
    QTest::addRow("overflow") << "99999999999999999999999"
                              << "above the largest accepted";
    QTest::addRow("repeated") << "128,128"
                              << "boundary 128 appears twice";
    QTest::addRow("descending") << "512,128"
                                << "must ascend, but 128 follows 512";
    QTest::addRow("control characters") << "12\x1b[31m"
                                        << "'12\\x1b[31m' is not a whole number";
}

void TestBoundaries::refusesBadText()
{
    QFETCH(QString, text);
    QFETCH(QString, mentions);
    try {
        Boundaries::parse(text.toStdString(), Field::Boundaries);
        QFAIL("accepted bad boundaries");
    } catch (const Error& e) {
        QVERIFY2(QString::fromStdString(e.what()).contains(mentions), e.what());
        QCOMPARE(e.field(), std::optional<Field>(Field::Boundaries));
    }
}

void TestBoundaries::refusesBadLists_data()
{
    QTest::addColumn<std::vector<int64_t>>("values");
    QTest::addColumn<QString>("mentions");
    QTest::addRow("none") << std::vector<int64_t>{} << "no boundaries given";
    QTest::addRow("zero") << std::vector<int64_t>{0} << "boundary 0 is not a positive length";
    QTest::addRow("too long") << std::vector<int64_t>{kMaxLength + 1} << "above the longest";
    QTest::addRow("int64 max") << std::vector<int64_t>{INT64_MAX} << "above the longest";
    QTest::addRow("repeated") << std::vector<int64_t>{4, 4} << "appears twice";
    QTest::addRow("descending") << std::vector<int64_t>{8, 4} << "must ascend";
}

void TestBoundaries::refusesBadLists()
{
    QFETCH(std::vector<int64_t>, values);
    QFETCH(QString, mentions);
    try {
        Boundaries::from(values, "model.pt: bucketlab_meta boundaries");
        QFAIL("accepted bad boundaries");
    } catch (const Error& e) {
        QVERIFY2(QString::fromStdString(e.what()).startsWith("model.pt: bucketlab_meta"), e.what());
        QVERIFY2(QString::fromStdString(e.what()).contains(mentions), e.what());
    }
}

void TestBoundaries::bucketFor()
{
    const auto b = Boundaries::from({128, 512}, Field::Boundaries);
    QCOMPARE(b.bucketFor(1), std::optional<size_t>(0));
    QCOMPARE(b.bucketFor(128), std::optional<size_t>(0));
    QCOMPARE(b.bucketFor(129), std::optional<size_t>(1));
    QCOMPARE(b.bucketFor(512), std::optional<size_t>(1));
    QCOMPARE(b.bucketFor(513), std::nullopt); // rejected: past the largest bucket
    QCOMPARE(b.bucketFor(0), std::nullopt);   // no such length
    QCOMPARE(Boundaries().bucketFor(1), std::nullopt);
    QVERIFY(b.contains(512) && !b.contains(511));
    QCOMPARE(Boundaries().largest(), int64_t(0));
    QVERIFY(Boundaries().empty());
}

void TestBoundaries::positiveLists_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<std::vector<int64_t>>("expected"); // empty: refused
    QTest::addRow("any order and repeats") << " 5, 1 ,1,2" << std::vector<int64_t>{1, 2, 5};
    QTest::addRow("at the limit") << "4096" << std::vector<int64_t>{kMaxBatch};
    QTest::addRow("over the limit") << "100000000" << std::vector<int64_t>{};
    QTest::addRow("zero") << "0" << std::vector<int64_t>{};
    QTest::addRow("trailing comma") << "1,2," << std::vector<int64_t>{};
    QTest::addRow("empty") << "" << std::vector<int64_t>{};
}

void TestBoundaries::positiveLists()
{
    QFETCH(QString, text);
    QFETCH(std::vector<int64_t>, expected);
    if (!expected.empty()) {
        QCOMPARE(parsePositiveList(text.toStdString(), Field::BatchSizes, kMaxBatch), expected);
        return;
    }
    QVERIFY_THROWS_EXCEPTION(Error,
                             parsePositiveList(text.toStdString(), Field::BatchSizes, kMaxBatch));
}

void TestBoundaries::errorsNameFieldsPerFrontEnd()
{
    const Error e(subject(Field::BucketCount) + " is 10 but the traffic has only 6 lengths; " +
                  "lower " + subject(Field::BucketCount));
    // The core's words by default; the message never carries a flag of its own.
    QCOMPARE(std::string(e.what()),
             std::string("the bucket count is 10 but the traffic has only 6 lengths; lower the "
                         "bucket count"));
    QCOMPARE(e.render([](Field f) { return f == Field::BucketCount ? "--buckets" : "?"; }),
             std::string("--buckets is 10 but the traffic has only 6 lengths; lower --buckets"));
    QCOMPARE(e.field(), std::optional<Field>(Field::BucketCount));
    // Rethrown with context, the marks survive.
    const Error wrapped("traffic.csv: " + e.marked());
    QCOMPARE(wrapped.render([](Field) { return "K"; }),
             std::string("traffic.csv: K is 10 but the traffic has only 6 lengths; lower K"));
    QCOMPARE(Error("plain").field(), std::nullopt);
}

void TestBoundaries::everyFieldHasWords()
{
    std::set<std::string> ids;
    for (Field f : allFields()) {
        QVERIFY(!fieldName(f).empty());
        QVERIFY2(ids.insert(fieldId(f)).second, fieldId(f).c_str());
        QCOMPARE(Error(subject(f)).field(), std::optional<Field>(f));
        QCOMPARE(std::string(Error(subject(f)).what()), fieldName(f));
    }
}

void TestBoundaries::quoteEscapesAndCuts_data()
{
    QTest::addColumn<QByteArray>("value");
    QTest::addColumn<QString>("expected");
    QTest::addRow("plain") << QByteArray("abc") << "'abc'";
    QTest::addRow("newline and tab") << QByteArray("a\nb\tc") << "'a\\nb\\tc'";
    QTest::addRow("terminal escape") << QByteArray("\x1b]0;pwned\x07") << "'\\x1b]0;pwned\\x07'";
    QTest::addRow("NUL byte") << QByteArray("a\0b", 3) << "'a\\x00b'";
    QTest::addRow("C1 control (CSI)") << QByteArray("a\xc2\x9b"
                                                    "2J")
                                      << "'a\\xc2\\x9b2J'";
    QTest::addRow("not UTF-8") << QByteArray("\xff\xfe") << "'\\xff\\xfe'";
    QTest::addRow("UTF-8 kept") << QByteArray("größe") << "'größe'";
    QTest::addRow("long value cut")
        << QByteArray(10'000'000, 'x') << "'" + QString(80, 'x') + "...' (10000000 bytes)";
}

void TestBoundaries::quoteEscapesAndCuts()
{
    QFETCH(QByteArray, value);
    QFETCH(QString, expected);
    QCOMPARE(
        QString::fromStdString(quote(std::string_view(value.constData(), size_t(value.size())))),
        expected);
}

void TestBoundaries::formatsNumbers_data()
{
    QTest::addColumn<QString>("got");
    QTest::addColumn<QString>("expected");
    QTest::addRow("thousands") << QString::fromStdString(formatNumber(12345.678, 1)) << "12,345.7";
    QTest::addRow("negative") << QString::fromStdString(formatNumber(-2.5, 1)) << "−2.5";
    QTest::addRow("negative zero") << QString::fromStdString(formatNumber(-0.01, 1)) << "0.0";
    QTest::addRow("ms, large") << QString::fromStdString(formatMs(123.4)) << "123 ms";
    QTest::addRow("ms, small") << QString::fromStdString(formatMs(0.1234)) << "0.123 ms";
    QTest::addRow("percent") << QString::fromStdString(formatPercent(36.56)) << "36.6 %";
    QTest::addRow("bytes") << QString::fromStdString(formatBytes(512)) << "512 B";
    QTest::addRow("KiB") << QString::fromStdString(formatBytes(1536)) << "1.5 KiB";
    QTest::addRow("GiB") << QString::fromStdString(formatBytes(int64_t(3) << 30)) << "3.0 GiB";
    QTest::addRow("count") << QString::fromStdString(formatCount(5801)) << "5,801";
    QTest::addRow("lengths") << QString::fromStdString(formatLengths({1, 2, 5})) << "1,2,5";
    QTest::addRow("lengths, prose")
        << QString::fromStdString(formatLengths({128, 256, 512}, ", ")) << "128, 256, 512";
    QTest::addRow("lengths, one") << QString::fromStdString(formatLengths({7}, ", ")) << "7";
    QTest::addRow("lengths, none") << QString::fromStdString(formatLengths({}, ", ")) << "";
}

// Templates of generated files (resources/): every @@blank@@ filled, text around kept byte for
// byte, a value may be empty or hold @@ itself (it is not read again).
void TestBoundaries::fillsTemplates()
{
    QCOMPARE(
        QString::fromStdString(fillTemplate("a @@x@@ b @@y@@@@x@@\n", {{"x", "1"}, {"y", ""}})),
        QString("a 1 b 1\n"));
    QCOMPARE(QString::fromStdString(fillTemplate("@@x@@", {{"x", "@@y@@"}})), QString("@@y@@"));
    QCOMPARE(QString::fromStdString(fillTemplate("no blanks {{}} @ x", {})),
             QString("no blanks {{}} @ x"));
    // The compiled-in templates are there, and a recipe's README fills every blank it has
    // (generateNeuronRecipe fails otherwise; tst_neuron_recipe checks the files).
    QVERIFY(reportStylesheet().rfind(":root {", 0) == 0);
    QVERIFY(neuronBuildTemplate().find("@@boundaries@@") != std::string::npos);
    QVERIFY(neuronReadmeTemplate().find("@@notes@@") != std::string::npos);
}

void TestBoundaries::refusesTemplateMismatches_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("expected");
    QTest::addRow("blank without a value") << "a @@x@@"
                                           << "y"
                                           << "no value for the blank @@x@@";
    QTest::addRow("value without a blank") << "a"
                                           << "y"
                                           << "no blank @@y@@";
    QTest::addRow("unterminated blank") << "a @@x"
                                        << "x"
                                        << "unterminated @@ blank at offset 2";
}

void TestBoundaries::refusesTemplateMismatches()
{
    QFETCH(QString, text);
    QFETCH(QString, name);
    QFETCH(QString, expected);
    try {
        fillTemplate(text.toStdString(), {{name.toStdString(), "v"}});
        QFAIL("no error");
    } catch (const Error& e) {
        QVERIFY2(QString::fromStdString(e.what()).contains(expected), e.what());
    }
}

// Several texts in one template file: a section is the lines after its "@@@ NAME" line up to
// the next one, each with its newline; the preamble belongs to none.
void TestBoundaries::readsTemplateSections()
{
    const std::string text = "preamble @@@ a\n@@@ a\nline 1\n\n@@@ b\n@@@ bb\n@@x@@ two\n";
    QCOMPARE(QString::fromStdString(std::string(templateSection(text, "a"))),
             QString("line 1\n\n"));
    QCOMPARE(QString::fromStdString(std::string(templateSection(text, "b"))), QString(""));
    QCOMPARE(QString::fromStdString(fillTemplate(templateSection(text, "bb"), {{"x", "1"}})),
             QString("1 two\n"));
    QCOMPARE(QString::fromStdString(std::string(templateSection("@@@ first\nx", "first"))),
             QString("x"));
    try {
        templateSection(text, "c");
        QFAIL("no error");
    } catch (const Error& e) {
        QVERIFY2(QString::fromStdString(e.what()).contains("no section @@@ c"), e.what());
    }
    // The recipe's templates have the sections neuron_recipe.cpp reads.
    for (const char* name : {"header", "states_line", "states_note"})
        QVERIFY2(!templateSection(neuronKernelTemplate(), name).empty(), name);
    for (const char* name : {"retrace", "states", "user_kernel", "constant_args"})
        QVERIFY2(!templateSection(neuronReadmeNotesTemplate(), name).empty(), name);
}

void TestBoundaries::formatsNumbers()
{
    QFETCH(QString, got);
    QFETCH(QString, expected);
    QCOMPARE(got, expected);
}

// Issue 12: the budget every check is held to, its arithmetic and its override.
void TestBoundaries::memoryBudget()
{
    using namespace bucketlab;
    qunsetenv(kMemoryBudgetVariable);
    QCOMPARE(bucketlab::memoryBudget(), uint64_t(2) << 30);
    // Saturating, not wrapping: 2^40 * 2^40 bytes is not a small number.
    QCOMPARE(bytesTimes(uint64_t(1) << 40, uint64_t(1) << 40), UINT64_MAX);
    QCOMPARE(bytesPlus(UINT64_MAX, 1), UINT64_MAX);
    const std::vector<InputSpec> inputs{{"ids", DType::Int64, 0, 1},
                                        {"mask", DType::Float16, 0, 1},
                                        {"seq", DType::Int32, 0, 1, false}};
    QCOMPARE(inputBytes(inputs, 3, 100), uint64_t(3 * 100 * 8 + 3 * 100 * 2 + 3 * 4));
    QCOMPARE(inputBytes(inputs, 4096, kMaxLength), uint64_t(4096) * kMaxLength * 10 + 4096 * 4);
    checkMemoryBudget(uint64_t(2) << 30, "at the budget", "nothing"); // equal passes
    try {
        checkMemoryBudget((uint64_t(2) << 30) + 1, "checking " + subject(Field::CheckLength),
                          "lower it");
        QFAIL("one byte over the budget passed");
    } catch (const Error& e) {
        QCOMPARE(e.field(), std::optional<Field>(Field::CheckLength));
        QVERIFY2(
            QString(e.what()).contains("needs about 2.00 GiB (2147483649 bytes), more than the "
                                       "memory budget of 2.00 GiB; lower it"),
            e.what());
    }
    qputenv(kMemoryBudgetVariable, "1");
    QCOMPARE(bucketlab::memoryBudget(), uint64_t(1) << 20);
    QVERIFY_THROWS_EXCEPTION(Error, checkMemoryBudget((uint64_t(1) << 20) + 1, "x", "y"));
    for (const char* bad : {"0", "-5", "1.5", "2GiB", "99999999999999999999"}) {
        qputenv(kMemoryBudgetVariable, bad);
        QVERIFY_THROWS_EXCEPTION(Error, bucketlab::memoryBudget());
    }
    qunsetenv(kMemoryBudgetVariable);
}

QTEST_GUILESS_MAIN(TestBoundaries)
#include "tst_boundaries.moc"
