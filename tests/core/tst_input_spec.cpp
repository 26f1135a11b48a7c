#include "core/kernel/kernel_source.h"
#include "core/spec/input_spec.h"
#include "core/spec/package_meta.h"
#include "core/util/error.h"

#include <QTest>

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>

using namespace bucketlab;

class TestInputSpec : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void dtypeNamesReadEveryWay();
    void parsesValidSpecs_data();
    void parsesValidSpecs();
    void rejectsBadSpecs_data();
    void rejectsBadSpecs();
    void formatRoundTrips();
    void metaJsonRoundTrips();
    void metaRejectsOtherFormats();
    void kernelSourceNamesLimit();
    void dimensionsWithinTheInputs_data();
    void dimensionsWithinTheInputs();
};

void TestInputSpec::dtypeNamesReadEveryWay()
{
    const struct {
        DType dtype;
        const char* name;
        const char* alias;
        int64_t code;
        uint64_t bytes;
    } expected[] = {{DType::Int64, "int64", "long", 4, 8},
                    {DType::Int32, "int32", "int", 3, 4},
                    {DType::Float32, "float32", "float", 6, 4},
                    {DType::Float16, "float16", "half", 5, 2},
                    {DType::BFloat16, "bfloat16", "bfloat16", 15, 2},
                    {DType::Bool, "bool", "bool", 11, 1}};
    for (const auto& e : expected) {
        QCOMPARE(dtypeName(e.dtype), std::string(e.name));
        QVERIFY(parseDType(e.name) == e.dtype);
        QVERIFY(parseDType(e.alias) == e.dtype);
        QVERIFY(parseDType(std::string("torch.") + e.alias) == e.dtype);
        QCOMPARE(scalarTypeCode(e.dtype), e.code);
        QVERIFY(dtypeOfScalarType(e.code) == e.dtype);
        QCOMPARE(std::string(scalarTypeName(e.code)), std::string(e.name));
        QCOMPARE(scalarTypeOfName(e.alias), std::optional<int64_t>(e.code));
        QCOMPARE(dtypeBytes(e.dtype), e.bytes);
    }
    QCOMPARE(dtypeNameList(), std::string("int64, int32, float32, float16, bfloat16 or bool"));
    // Dtypes a graph or a tensor may have that inputs may not: named, but no DType.
    QCOMPARE(std::string(scalarTypeName(7)), std::string("float64"));
    QCOMPARE(scalarTypeOfName("torch.double"), std::optional<int64_t>(7));
    QVERIFY(!dtypeOfScalarType(7));
    QVERIFY(!dtypeOfScalarType(0));
    QVERIFY(scalarTypeName(9) == nullptr); // complex64: no name here
    QVERIFY(!scalarTypeOfName("complex64"));
    QVERIFY(!scalarTypeOfName("torch."));
    for (const char* bad : {"float64", "complex64", "", "Int64"}) {
        try {
            parseDType(bad);
            QFAIL(bad);
        } catch (const Error& e) {
            const std::string msg = e.what();
            QVERIFY2(msg.find("(use int64, int32, float32, float16, bfloat16 or bool)") !=
                         std::string::npos,
                     msg.c_str());
            QVERIFY2(msg.find(std::string(bad) == "float64" ? "not supported for inputs"
                                                            : "unknown dtype") != std::string::npos,
                     msg.c_str());
        }
    }
}

void TestInputSpec::parsesValidSpecs_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<int>("count");
    QTest::addColumn<QString>("firstDType");
    QTest::addColumn<double>("firstPad");
    QTest::addColumn<double>("firstFill");
    QTest::addColumn<bool>("firstBucketed");
    QTest::addRow("bert pair") << "input_ids:int64:0,attention_mask:int64:0" << 2 << "int64" << 0.0
                               << 1.0 << true;
    QTest::addRow("fill given") << "ids:int32:0:101" << 1 << "int32" << 0.0 << 101.0 << true;
    QTest::addRow("float pad") << "feats:float32:-1.5" << 1 << "float32" << -1.5 << 1.0 << true;
    QTest::addRow("half alias") << "x:half" << 1 << "float16" << 0.0 << 1.0 << true;
    QTest::addRow("bfloat16") << "x:bfloat16:0:0.5" << 1 << "bfloat16" << 0.0 << 0.5 << true;
    QTest::addRow("bool words") << "mask:bool:false:true" << 1 << "bool" << 0.0 << 1.0 << true;
    QTest::addRow("torch prefix, spaces")
        << " x : torch.int64 : 3 " << 1 << "int64" << 3.0 << 1.0 << true;
    QTest::addRow("not bucketed, fill 0")
        << "seq_ids:int64:-,input_ids:int64:0" << 2 << "int64" << 0.0 << 0.0 << false;
    QTest::addRow("not bucketed, fill given")
        << "seq_ids:int32:-:2,x:int64" << 2 << "int32" << 0.0 << 2.0 << false;
}

void TestInputSpec::parsesValidSpecs()
{
    QFETCH(QString, text);
    QFETCH(int, count);
    QFETCH(QString, firstDType);
    QFETCH(double, firstPad);
    QFETCH(double, firstFill);
    QFETCH(bool, firstBucketed);
    const auto specs = parseInputSpecs(text.toStdString());
    QCOMPARE(int(specs.size()), count);
    QCOMPARE(QString::fromStdString(dtypeName(specs[0].dtype)), firstDType);
    QCOMPARE(specs[0].padValue, firstPad);
    QCOMPARE(specs[0].fillValue, firstFill);
    QCOMPARE(specs[0].bucketed, firstBucketed);
    QCOMPARE(specs.back().bucketed, true);
}

void TestInputSpec::rejectsBadSpecs_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("mentions");
    QTest::addRow("empty") << ""
                           << "empty";
    QTest::addRow("unknown dtype") << "x:complex64"
                                   << "unknown dtype 'complex64'";
    QTest::addRow("no dtype") << "input_ids"
                              << "name:dtype";
    QTest::addRow("too many fields") << "x:int64:0:1:2"
                                     << "name:dtype";
    QTest::addRow("stray comma") << "x:int64,,y:int64"
                                 << "empty item";
    QTest::addRow("bad name") << "1x:int64"
                              << "not a valid identifier";
    QTest::addRow("keyword name") << "self:int64"
                                  << "reserved";
    QTest::addRow("duplicate") << "x:int64,x:int32"
                               << "appears twice";
    QTest::addRow("pad not a number") << "x:int64:zero"
                                      << "not a number";
    QTest::addRow("fractional int pad") << "x:int64:0.5"
                                        << "not an integer";
    QTest::addRow("bad bool") << "m:bool:maybe"
                              << "not a bool";
    QTest::addRow("infinite pad") << "x:float32:inf"
                                  << "not a number";
    QTest::addRow("nothing bucketed") << "seq_ids:int64:-"
                                      << "no input is bucketed";
    // Values a dtype cannot hold (an int64 beyond 2^53 would not be written back as given, and
    // a generated kernel would cast it to an integer it cannot represent).
    QTest::addRow("int64 pad beyond 2^53")
        << "at_puids:int64:5.55556e+70:1"
        << "value 5.55556e+70 is outside what int64 holds here (-9007199254740992 to "
           "9007199254740992)";
    QTest::addRow("int32 fill beyond its range") << "x:int32:0:2147483648"
                                                 << "value 2147483648 is outside what int32";
    QTest::addRow("float16 pad beyond 65504") << "x:float16:70000"
                                              << "value 70000 is outside what float16";
}

void TestInputSpec::rejectsBadSpecs()
{
    QFETCH(QString, text);
    QFETCH(QString, mentions);
    try {
        parseInputSpecs(text.toStdString());
        QFAIL("accepted a bad spec");
    } catch (const Error& e) {
        const QString msg = QString::fromStdString(e.what());
        QVERIFY2(msg.contains(mentions), qPrintable(msg));
        QVERIFY2(!msg.contains('\n'), "error messages are one line");
    }
}

void TestInputSpec::formatRoundTrips()
{
    const auto specs = parseInputSpecs("a:int64:0:7,b:float16:-2.5,c:bool:1:0,d:int64:-:3");
    QCOMPARE(parseInputSpecs(formatInputSpecs(specs)), specs);
    QCOMPARE(QString::fromStdString(formatInputSpecs(specs)).section(',', 3), "d:int64:-:3");
    // Every value reads back as the same double, written in its shortest form.
    const auto precise = parseInputSpecs(
        "e:float32:0.1:1.0000001,f:int64:9007199254740992:-9007199254740991,g:int32:-2147483648");
    QCOMPARE(parseInputSpecs(formatInputSpecs(precise)), precise);
    QCOMPARE(QString::fromStdString(formatInputSpecs(precise)),
             "e:float32:0.1:1.0000001,f:int64:9007199254740992:-9007199254740991,"
             "g:int32:-2147483648:1");
}

void TestInputSpec::metaJsonRoundTrips()
{
    PackageMeta m;
    m.kind = PackageKind::PerBucket;
    m.boundaries = {128, 512};
    m.inputs = parseInputSpecs("input_ids:int64:0,attention_mask:int64:0,seq_ids:int64:-");
    m.paddingSide = PaddingSide::Left;
    m.states = {StateSpec{"kv", DType::Float16, {{1, 128}, {1, 512}}}};
    m.createdBy = creatorString();
    m.createdAt = "2026-11-26T00:00:00Z";
    m.models = {{"m128.pt", std::string(64, 'a'), 128}, {"m512.pt", std::string(64, 'b'), 512}};
    const PackageMeta back = metaFromJson(metaJson(m).dump(), "pkg.pt");
    QCOMPARE(back.boundaries, m.boundaries);
    QCOMPARE(back.inputs, m.inputs);
    QVERIFY(!back.inputs[2].bucketed);
    QCOMPARE(back.paddingSide, PaddingSide::Left);
    // A package written before the mark existed: every input bucketed.
    auto old = metaJson(m);
    for (auto& in : old["inputs"])
        in.erase("bucketed");
    old.erase("padding_side");
    const PackageMeta oldMeta = metaFromJson(old.dump(), "old.pt");
    for (const auto& in : oldMeta.inputs)
        QVERIFY(in.bucketed);
    QCOMPARE(oldMeta.paddingSide, PaddingSide::Right);
    auto bad = metaJson(m);
    bad["padding_side"] = "center";
    try {
        metaFromJson(bad.dump(), "bad.pt");
        QFAIL("accepted padding side 'center'");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).startsWith("bad.pt: ") &&
                     QString(e.what()).contains("'center' is neither right nor left"),
                 e.what());
    }
    QCOMPARE(back.kind, PackageKind::PerBucket);
    QCOMPARE(back.states.size(), size_t(1));
    QCOMPARE(back.states[0].shapes, m.states[0].shapes);
    QCOMPARE(back.models.size(), size_t(2));
    QCOMPARE(back.models[1].bucket, int64_t(512));
    QCOMPARE(back.createdAt, m.createdAt);
}

void TestInputSpec::metaRejectsOtherFormats()
{
    for (const char* bad :
         {"not json", "[1,2]", R"({"format":"other/1"})",
          R"({"format":"bucketlab.package/1","bucket_dim":1e722581})",
          // fuzz_package_meta: 3e20 was cast to int64 (undefined behaviour)
          R"({"format":"bucketlab.package/1","boundaries":[3e20,64]})",
          R"({"format":"bucketlab.package/1","boundaries":[32],"bucket_dim":1.5})",
          R"({"format":"bucketlab.package/1","boundaries":[512,128]})"}) {
        try {
            metaFromJson(bad, "pkg.pt");
            QFAIL(bad);
        } catch (const Error& e) {
            QVERIFY2(QString(e.what()).startsWith("pkg.pt"), e.what());
        }
    }
    // Found by fuzz_package_meta: a kind other than shared or per-bucket (a typo) was read as
    // shared, so a per-bucket package's models were silently dropped when written again.
    PackageMeta m;
    m.kind = PackageKind::PerBucket;
    m.boundaries = {128, 512};
    m.inputs = parseInputSpecs("input_ids:int64:0");
    m.models = {{"m128.pt", std::string(64, 'a'), 128}, {"m512.pt", std::string(64, 'b'), 512}};
    auto j = metaJson(m);
    j["kind"] = "per_bucket";
    try {
        metaFromJson(j.dump(), "pkg.pt");
        QFAIL("accepted kind per_bucket");
    } catch (const Error& e) {
        QCOMPARE(QString(e.what()),
                 QString("pkg.pt: bucketlab_meta kind 'per_bucket' is neither shared nor "
                         "per-bucket"));
    }
    // A value of the wrong type read with a default (fill_value, created_by) threw
    // nlohmann's type_error instead of an error naming the file.
    auto typed = metaJson(m);
    typed["inputs"][0]["fill_value"] = "one";
    typed["created_by"] = 3;
    try {
        metaFromJson(typed.dump(), "pkg.pt");
        QFAIL("accepted fill_value \"one\"");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).startsWith("pkg.pt: bucketlab_meta is malformed ("), e.what());
    }
    // Each kind reads the models it writes; a stray list of the other kind is not mixed in.
    j["kind"] = "shared";
    j["base_model"] = {{"file", "model.pt"}, {"sha256", std::string(64, 'c')}};
    const PackageMeta shared = metaFromJson(j.dump(), "pkg.pt");
    QCOMPARE(shared.models.size(), size_t(1));
    QCOMPARE(shared.models[0].file, std::string("model.pt"));
    QCOMPARE(metaFromJson(metaJson(shared).dump(), "pkg.pt").models.size(), size_t(1));
    j["kind"] = "per-bucket";
    const PackageMeta perBucket = metaFromJson(j.dump(), "pkg.pt");
    QCOMPARE(perBucket.models.size(), size_t(2));
    QCOMPARE(perBucket.models[1].bucket, int64_t(512));
}

void TestInputSpec::kernelSourceNamesLimit()
{
    const auto src = generateKernelSource(
        KernelLayout{{32, 96}, 1, parseInputSpecs("ids:int64:0,mask:bool:false")},
        KernelForm::Function);
    // The rejection names the limit; padding uses each input's own pad value and dtype. A
    // bool input is filled with 0 and dtype=bool: TorchScript's torch.full rejects a bool
    // fill value.
    QVERIFY(QString::fromStdString(src).contains("exceeds the largest bucket 96"));
    QVERIFY(QString::fromStdString(src).contains("torch.full(mask_pad_shape, 0, dtype=mask.dtype"));
    QVERIFY(
        QString::fromStdString(src).startsWith("def bucket_kernel(inputs: List[torch.Tensor])"));
}

// Inputs are [batch, length] in either order: a bucket or batch dimension beyond rank 2 is
// refused naming the first bucketed input and its rank, wherever dimensions enter (a request's
// options, a package's metadata, a kernel layout). Issue 12: --bucket-dim 7 was accepted.
void TestInputSpec::dimensionsWithinTheInputs_data()
{
    QTest::addColumn<int>("bucketDim");
    QTest::addColumn<int>("batchDim");
    QTest::addColumn<QString>("error"); // empty: accepted
    QTest::addRow("length after batch") << 1 << 0 << "";
    QTest::addRow("length before batch") << 0 << 1 << "";
    QTest::addRow("bucket 7") << 7 << 0
                              << "the bucket dimension 7 is beyond the rank of input 'input_ids': "
                                 "it has rank 2 (a batch and a length dimension), so dimensions "
                                 "are 0 or 1";
    QTest::addRow("bucket 2") << 2 << 0 << "the bucket dimension 2 is beyond the rank";
    QTest::addRow("batch 3") << 1 << 3 << "the batch dimension 3 is beyond the rank of input";
    QTest::addRow("negative bucket") << -1 << 0 << "the bucket dimension -1 is negative";
    QTest::addRow("negative batch") << 1 << -2 << "the batch dimension -2 is negative";
    QTest::addRow("same") << 1 << 1 << "the bucket dimension and the batch dimension are both 1";
}

void TestInputSpec::dimensionsWithinTheInputs()
{
    QFETCH(int, bucketDim);
    QFETCH(int, batchDim);
    QFETCH(QString, error);
    // The first bucketed input is named, not the per-sequence ids before it.
    const auto inputs = parseInputSpecs("seq_ids:int64:-,input_ids:int64:0,mask:int64:0");
    const auto refused = [&](const std::function<void()>& f) -> QString {
        try {
            f();
            return {};
        } catch (const Error& e) {
            return QString::fromStdString(e.what());
        }
    };
    const QString direct = refused([&] { checkInputDims(inputs, bucketDim, batchDim); });
    QVERIFY2(error.isEmpty() ? direct.isEmpty() : direct.startsWith(error), qPrintable(direct));
    QVERIFY(!direct.contains('\n'));

    PackageMeta m;
    m.boundaries = {128};
    m.inputs = inputs;
    auto j = metaJson(m);
    j["bucket_dim"] = bucketDim;
    j["batch_dim"] = batchDim;
    const QString meta = refused([&] { (void)metaFromJson(j.dump(), "pkg.pt"); });
    QVERIFY2(error.isEmpty() ? meta.isEmpty() : meta == "pkg.pt: bucketlab_meta: " + direct,
             qPrintable(meta));

    // The generated kernel pads the bucket dimension only.
    const QString kernel = refused([&] {
        (void)generateKernelSource(KernelLayout{{128}, bucketDim, inputs}, KernelForm::Function);
    });
    QVERIFY2(bucketDim < 0 || bucketDim > 1 ? kernel == direct : kernel.isEmpty(),
             qPrintable(kernel));
}

QTEST_GUILESS_MAIN(TestInputSpec)
#include "tst_input_spec.moc"
