// Shared state specs: the --state text form and the rules a state's per-bucket shapes must
// follow for the guide's preprocessor (one buffer, sliced per bucket).
#include "core/spec/package_meta.h"
#include "core/spec/state_spec.h"
#include "core/util/error.h"

#include <QTest>

#include <nlohmann/json.hpp>

using namespace bucketlab;

Q_DECLARE_METATYPE(std::vector<int64_t>)

class TestStateSpec : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void parsesAndFormats();
    void badText_data();
    void badText();
    void badShapesForBuckets_data();
    void badShapesForBuckets();
    void bufferIsTheLargestBucketsShape();
    void metaCarriesStates();
    void lengthMarkedShapes();
    void badLengthMarkedShapes_data();
    void badLengthMarkedShapes();
};

void TestStateSpec::parsesAndFormats()
{
    const auto st = parseStateSpec("kv:float32:1x4x16/1x4x64");
    QCOMPARE(st.name, std::string("kv"));
    QCOMPARE(st.dtype, DType::Float32);
    QCOMPARE(st.shapes, (std::vector<std::vector<int64_t>>{{1, 4, 16}, {1, 4, 64}}));
    QCOMPARE(formatStateSpec(st), std::string("kv:float32:1x4x16/1x4x64"));
    QCOMPARE(parseStateSpec(formatStateSpec(st)), st);
    const auto counter = parseStateSpec("steps:long:1/1/1");
    QCOMPARE(counter.dtype, DType::Int64);
    QCOMPARE(counter.shapes.size(), size_t(3));
    checkStateSpecs({st}, {16, 64}, {});
    checkStateSpecs({counter}, {16, 32, 64}, {});
}

void TestStateSpec::badText_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("mentions");
    QTest::addRow("no shapes") << "kv:float32"
                               << "NAME:DTYPE:SHAPE";
    QTest::addRow("empty name") << ":float32:1x4"
                                << "NAME:DTYPE:SHAPE";
    QTest::addRow("unknown dtype") << "kv:float128:1x4"
                                   << "unknown dtype";
    QTest::addRow("letters in a dim") << "kv:float32:1xfour"
                                      << "is not a shape";
    QTest::addRow("empty dim") << "kv:float32:1xx4"
                               << "is not a shape";
    QTest::addRow("zero dim") << "kv:float32:1x0/1x4"
                              << "must be positive";
    QTest::addRow("negative dim") << "kv:float32:1x-4"
                                  << "must be positive";
    QTest::addRow("trailing slash") << "kv:float32:1x4/"
                                    << "empty shape";
    // Found by fuzz_options: the shape was put into the message raw.
    QTest::addRow("shape escaped") << QString::fromLatin1("kv:float32:1x4/0x4\x8e\x1b")
                                   << "shape 0x4\\xc2\\x8e\\x1b has dimension 0";
}

void TestStateSpec::badText()
{
    QFETCH(QString, text);
    QFETCH(QString, mentions);
    try {
        parseStateSpec(text.toStdString());
        QFAIL("accepted a malformed --state");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).contains(mentions), e.what());
        QVERIFY2(QString(e.what()).startsWith("the states"), e.what());
        for (unsigned char c : std::string(e.what()))
            QVERIFY2(c >= 0x20 && c != 0x7f, e.what()); // one line, no terminal escapes
    }
}

void TestStateSpec::badShapesForBuckets_data()
{
    QTest::addColumn<QString>("state");
    QTest::addColumn<std::vector<int64_t>>("boundaries");
    QTest::addColumn<QString>("mentions");
    QTest::addRow("fewer shapes than buckets")
        << "kv:float32:1x16/1x64" << std::vector<int64_t>{16, 32, 64}
        << "2 shapes but the package has 3 buckets";
    QTest::addRow("more shapes than buckets")
        << "kv:float32:1x16/1x64" << std::vector<int64_t>{64} << "one shape per bucket";
    QTest::addRow("rank differs") << "kv:float32:1x4x16/1x64" << std::vector<int64_t>{16, 64}
                                  << "rank 3 for bucket 16 but rank 2 for bucket 64";
    QTest::addRow("shrinks") << "kv:float32:1x64/1x16" << std::vector<int64_t>{16, 64}
                             << "shrinks from 1x64 (bucket 16) to 1x16 (bucket 64)";
    QTest::addRow("shrinks in one dim")
        << "kv:float32:2x16/1x64" << std::vector<int64_t>{16, 64} << "in dimension 0";
    QTest::addRow("name is an input")
        << "input_ids:float32:1x16" << std::vector<int64_t>{16} << "has the name of an input";
    QTest::addRow("name clashes with the preprocessor")
        << "preprocessor:float32:1x16" << std::vector<int64_t>{16} << "is reserved";
    QTest::addRow("name is a keyword")
        << "def:float32:1x16" << std::vector<int64_t>{16} << "is not usable";
}

void TestStateSpec::badShapesForBuckets()
{
    QFETCH(QString, state);
    QFETCH(std::vector<int64_t>, boundaries);
    QFETCH(QString, mentions);
    const std::vector<InputSpec> inputs{InputSpec{"input_ids", DType::Int64, 0, 1}};
    try {
        checkStateSpecs({parseStateSpec(state.toStdString())},
                        Boundaries::from(boundaries, Field::Boundaries), inputs);
        QFAIL("accepted state shapes the preprocessor cannot serve");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).contains(mentions), e.what());
    }
}

void TestStateSpec::bufferIsTheLargestBucketsShape()
{
    QCOMPARE(stateBufferShape(parseStateSpec("kv:float32:1x4x16/1x4x64/2x4x64")),
             (std::vector<int64_t>{2, 4, 64}));
    const auto twice = {parseStateSpec("kv:float32:1x16"), parseStateSpec("kv:int64:1x16")};
    QVERIFY_THROWS_EXCEPTION(Error, checkStateSpecs(twice, {16}, {}));
}

void TestStateSpec::metaCarriesStates()
{
    PackageMeta m;
    m.boundaries = {16, 64};
    m.inputs = {InputSpec{"x", DType::Float32, 0, 1}};
    m.states = {parseStateSpec("kv:float32:1x16/1x64"), parseStateSpec("n:int64:1/1")};
    const auto back = metaFromJson(metaJson(m).dump(), "pkg.pt");
    QCOMPARE(back.states.size(), size_t(2));
    QCOMPARE(back.states[0], m.states[0]);
    QCOMPARE(back.states[1], m.states[1]);
    // A package whose metadata breaks the rules is refused when read.
    m.states = {parseStateSpec("kv:float32:1x64/1x16")};
    try {
        metaFromJson(metaJson(m).dump(), "pkg.pt");
        QFAIL("read metadata with shrinking state shapes");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).startsWith("pkg.pt: bucketlab_meta"), e.what());
    }
}

QTEST_GUILESS_MAIN(TestStateSpec)
#include "tst_state_spec.moc"

void TestStateSpec::lengthMarkedShapes()
{
    // L stands for each bucket's length: a rank-5 cache with the length in dimension 3, and L
    // in two dimensions of one state.
    const Boundaries buckets{16, 64, 128};
    const auto kv = parseStateSpec("kv:bfloat16:2x8x1xLx32", buckets);
    QCOMPARE(kv.dtype, DType::BFloat16);
    QCOMPARE(kv.shapes, (std::vector<std::vector<int64_t>>{
                            {2, 8, 1, 16, 32}, {2, 8, 1, 64, 32}, {2, 8, 1, 128, 32}}));
    QCOMPARE(formatStateSpec(kv), std::string("kv:bfloat16:2x8x1x16x32/2x8x1x64x32/2x8x1x128x32"));
    const auto square = parseStateSpec("attn:float32:LxL", buckets);
    QCOMPARE(square.shapes.back(), (std::vector<int64_t>{128, 128}));
    checkStateSpecs({kv, square}, buckets, {});
    QCOMPARE(stateBufferShape(kv), (std::vector<int64_t>{2, 8, 1, 128, 32}));
    // Shapes without L are as before, buckets or not; one shape for several buckets is that
    // shape in each.
    QCOMPARE(parseStateSpec("steps:int64:1/1/1", buckets), parseStateSpec("steps:int64:1/1/1"));
    QCOMPARE(parseStateSpec("steps:int64:1", buckets), parseStateSpec("steps:int64:1/1/1"));
    QCOMPARE(parseStateSpec("steps:int64:1").shapes.size(), size_t(1));
}

void TestStateSpec::badLengthMarkedShapes_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("withBuckets");
    QTest::addColumn<QString>("mentions");
    QTest::addRow("L without buckets") << "kv:float32:2xLx4" << false << "needs the buckets";
    QTest::addRow("L and per-bucket shapes") << "kv:float32:2xLx4/2x64x4" << true << "not both";
    QTest::addRow("lower-case l") << "kv:float32:2xlx4" << true << "is not a shape";
    QTest::addRow("L with a number") << "kv:float32:2x2Lx4" << true << "is not a shape";
}

void TestStateSpec::badLengthMarkedShapes()
{
    QFETCH(QString, text);
    QFETCH(bool, withBuckets);
    QFETCH(QString, mentions);
    const Boundaries buckets{16, 64};
    try {
        withBuckets ? parseStateSpec(text.toStdString(), buckets)
                    : parseStateSpec(text.toStdString());
        QFAIL("accepted a malformed --state");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).contains(mentions), e.what());
    }
}
