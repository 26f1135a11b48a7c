#include "core/demo/demo.h"
#include "core/package/package.h"
#include "core/package/package_assembly_p.h"
#include "core/package/package_check.h"
#include "core/runtime/torch_io_p.h"
#include "core/util/error.h"
#include "core/util/sha256.h"
#include "fixtures.h"
#include "testutil.h"

#include <caffe2/serialize/inline_container.h>
#include <torch/script.h>

#include <nlohmann/json.hpp>

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QTest>

#include <filesystem>
#include <fstream>

using namespace bucketlab;
using namespace bucketlab::test;

class TestPackage : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void dtypesMatchLibTorch();
    void sharedPackageEqualsBucketModelAtEveryLength_data();
    void sharedPackageEqualsBucketModelAtEveryLength();
    void perBucketPackageEqualsItsModels();
    void overLengthRaisesNamingLengthAndLimit();
    void sharedWeightsAreStoredOnce();
    void metaReadsWithoutLoading();
    void userKernelFromSeedFile();
    void badModelFiles_data();
    void badModelFiles();
    void badRequests_data();
    void badRequests();
    void arityMismatchIsExplained();
    void anInputWithoutALengthPassesThrough();
    void aPackageThatCannotRunIsNotWritten();
    void runAtEveryBucketFindsAPackageThatCannotRun();
    void constantArgsArePassedByForward();
    void badConstantArgs_data();
    void badConstantArgs();
    void constantArgsInMeta();

private:
    std::string path(const char* name) const { return s(dir_.filePath(name)); }
    PackageBuildRequest sharedRequest(const std::vector<int64_t>& boundaries, const char* out);
    QTemporaryDir dir_;
    std::string model_;
};

void TestPackage::initTestCase()
{
    QVERIFY(dir_.isValid());
    model_ = path("small_demo.pt");
    writeDemoModel(model_, smallDemoConfig(64));
    writeFixedLengthModel(path("fixed16.pt"), 16, 1);
    writeFixedLengthModel(path("fixed40.pt"), 40, 2);
    writeSeqIdsModel(path("seq_ids.pt"));
}

PackageBuildRequest TestPackage::sharedRequest(const std::vector<int64_t>& boundaries,
                                               const char* out)
{
    PackageBuildRequest r;
    r.model = model_;
    r.boundaries = Boundaries::from(boundaries, Field::Boundaries);
    r.inputs = demoInputs();
    r.out = path(out);
    r.force = true;
    return r;
}

// core/spec/dtype.cpp names LibTorch's scalar types without LibTorch; each DType it knows
// must be the LibTorch type of the same name and size, and LibTorch's other named types must
// not pass for a DType.
void TestPackage::dtypesMatchLibTorch()
{
    for (DType d : {DType::Int64, DType::Int32, DType::Float32, DType::Float16, DType::BFloat16,
                    DType::Bool}) {
        const torch::ScalarType t = toScalarType(d);
        QVERIFY(fromScalarType(t, "test") == d);
        QCOMPARE(uint64_t(c10::elementSize(t)), dtypeBytes(d));
        QCOMPARE(std::string(scalarTypeName(int64_t(t))), dtypeName(d));
        QVERIFY(torch::zeros({1}, torch::TensorOptions().dtype(t)).scalar_type() == t);
    }
    QCOMPARE(std::string(scalarTypeName(int64_t(torch::kFloat64))), std::string("float64"));
    QCOMPARE(std::string(scalarTypeName(int64_t(torch::kInt16))), std::string("int16"));
    try {
        fromScalarType(torch::kFloat64, "x.pt");
        QFAIL("float64 passed for a DType");
    } catch (const Error& e) {
        QVERIFY2(std::string(e.what()).find("x.pt: dtype Double is not supported") == 0, e.what());
    }
}

void TestPackage::sharedPackageEqualsBucketModelAtEveryLength_data()
{
    QTest::addColumn<int>("batch");
    QTest::addRow("batch 1") << 1;
    QTest::addRow("batch 3") << 3;
}

void TestPackage::sharedPackageEqualsBucketModelAtEveryLength()
{
    QFETCH(int, batch);
    const auto result = buildPackage(sharedRequest({8, 24, 64}, "shared.pt"));
    QCOMPARE(result.meta.kind, PackageKind::Shared);

    // Independent reference: the base model loaded on its own, inputs padded here.
    auto package = torch::jit::load(path("shared.pt"));
    auto base = torch::jit::load(model_);
    torch::NoGradGuard noGrad;
    torch::manual_seed(7);
    const auto ids = torch::randint(1, 100, {batch, 64}, torch::kInt64);
    const auto mask = torch::ones({batch, 64}, torch::kInt64);
    for (int64_t length = 1; length <= 64; ++length) {
        const int64_t bucket = length <= 8 ? 8 : length <= 24 ? 24 : 64;
        const auto x = ids.slice(1, 0, length), m = mask.slice(1, 0, length);
        const auto got = package.forward({x, m}).toTensor();
        const auto want = base.forward({padTo(x, 1, bucket, 0), padTo(m, 1, bucket, 0)}).toTensor();
        QVERIFY2((got - want).abs().max().item<double>() <= 1e-5,
                 qPrintable(QString("length %1").arg(length)));
    }
    // The core's own checker agrees, with the packaged bucket modules as reference.
    EquivalenceOptions o;
    for (int64_t l = 1; l <= 64; ++l)
        o.lengths.push_back(l);
    o.batches = {batch};
    for (const auto& row : checkPackageAgainstBuckets(path("shared.pt"), o)) {
        QVERIFY2(row.error.empty(), row.error.c_str());
        QVERIFY(row.maxAbsDiff <= 1e-5);
    }
}

void TestPackage::perBucketPackageEqualsItsModels()
{
    PackageBuildRequest r;
    r.perBucket =
        parsePerBucketSpec(path("fixed40.pt").insert(0, "40=") + "," + "16=" + path("fixed16.pt"));
    r.inputs = demoInputs();
    r.out = path("perbucket.pt");
    const auto result = buildPackage(r);
    QCOMPARE(result.meta.kind, PackageKind::PerBucket);
    QCOMPARE(result.meta.boundaries, (std::vector<int64_t>{16, 40}));
    QCOMPARE(result.meta.models.size(), size_t(2));
    QCOMPARE(result.meta.models[0].sha256, sha256File(path("fixed16.pt")));

    auto package = torch::jit::load(path("perbucket.pt"));
    auto m16 = torch::jit::load(path("fixed16.pt"));
    auto m40 = torch::jit::load(path("fixed40.pt"));
    torch::NoGradGuard noGrad;
    for (int64_t batch : {1, 3}) {
        const auto ids = torch::randint(1, 100, {batch, 40}, torch::kInt64);
        const auto mask = torch::ones({batch, 40}, torch::kInt64);
        for (int64_t length = 1; length <= 40; ++length) {
            const int64_t bucket = length <= 16 ? 16 : 40;
            auto& model = length <= 16 ? m16 : m40;
            const auto x = ids.slice(1, 0, length), m = mask.slice(1, 0, length);
            const auto got = flattenTensors(package.forward({x, m}));
            const auto want =
                flattenTensors(model.forward({padTo(x, 1, bucket, 0), padTo(m, 1, bucket, 0)}));
            QCOMPARE(got.size(), want.size());
            for (size_t i = 0; i < got.size(); ++i)
                QVERIFY2(torch::allclose(got[i], want[i], 0, 1e-5),
                         qPrintable(QString("batch %1 length %2").arg(batch).arg(length)));
        }
    }
}

void TestPackage::overLengthRaisesNamingLengthAndLimit()
{
    buildPackage(sharedRequest({8, 24}, "limit.pt"));
    auto package = torch::jit::load(path("limit.pt"));
    for (int64_t length : {25, 40, 64}) {
        const auto x = torch::ones({1, length}, torch::kInt64);
        try {
            package.forward({x, x});
            QFAIL("an over-length input was accepted");
        } catch (const std::exception& e) { // torch::jit::JITException
            const std::string msg = e.what();
            QVERIFY2(msg.find("input length " + std::to_string(length)) != std::string::npos,
                     msg.c_str());
            QVERIFY2(msg.find("largest bucket 24") != std::string::npos, msg.c_str());
        }
    }
}

void TestPackage::sharedWeightsAreStoredOnce()
{
    // The full-size demo model: weights dominate the file, as in real models.
    const std::string big = path("demo_full.pt");
    writeDemoModel(big);
    PackageBuildRequest r = sharedRequest({64, 128, 256, 512}, "four.pt");
    r.model = big;
    const auto result = buildPackage(r);
    const double ratio = double(QFileInfo(QString::fromStdString(r.out)).size()) /
                         double(QFileInfo(QString::fromStdString(big)).size());
    QVERIFY2(ratio <= 1.2, qPrintable(QString("package/model size ratio %1").arg(ratio)));
    QCOMPARE(result.packageBytes, int64_t(QFileInfo(QString::fromStdString(r.out)).size()));
    // After loading, the buckets share one set of tensors.
    auto package = torch::jit::load(r.out);
    const auto w0 = package.attr("bucket_0").toModule().attr("token_embedding").toTensor();
    const auto w3 = package.attr("bucket_3").toModule().attr("token_embedding").toTensor();
    QCOMPARE(w0.data_ptr(), w3.data_ptr());
}

void TestPackage::metaReadsWithoutLoading()
{
    buildPackage(sharedRequest({8, 24}, "meta.pt"));
    const auto meta = readPackageMeta(path("meta.pt"));
    QVERIFY(meta.has_value());
    QCOMPARE(meta->boundaries, (std::vector<int64_t>{8, 24}));
    QCOMPARE(meta->inputs, demoInputs());
    QCOMPARE(meta->models.at(0).sha256, sha256File(model_));
    QVERIFY(!meta->createdAt.empty());
    // A plain model is not a package.
    QVERIFY(!readPackageMeta(model_).has_value());
    // The attribute holds the same JSON for PyTorch users.
    auto package = torch::jit::load(path("meta.pt"));
    const auto attr = metaFromJson(package.attr("bucketlab_meta").toStringRef(), "meta.pt");
    QCOMPARE(attr.boundaries, meta->boundaries);
}

void TestPackage::userKernelFromSeedFile()
{
    // The guide's kernel has buckets [128, 512] baked in; use a model that accepts 512.
    const std::string model512 = path("demo512.pt");
    writeDemoModel(model512, smallDemoConfig(512));
    PackageBuildRequest r = sharedRequest({128, 512}, "seedkernel.pt");
    r.model = model512;
    r.kernelFile = s(dataPath("seed_bucket_kernel.py"));
    const auto result = buildPackage(r);
    QVERIFY(result.meta.userKernel);
    auto package = torch::jit::load(r.out);
    auto base = torch::jit::load(model512);
    torch::NoGradGuard noGrad;
    for (int64_t length : {1, 100, 128, 129, 512}) {
        const auto x = torch::randint(1, 100, {2, length}, torch::kInt64);
        const auto m = torch::ones({2, length}, torch::kInt64);
        const int64_t bucket = length <= 128 ? 128 : 512;
        const auto got = package.forward({x, m}).toTensor();
        const auto want = base.forward({padTo(x, 1, bucket, 0), padTo(m, 1, bucket, 0)}).toTensor();
        QVERIFY2(torch::allclose(got, want, 0, 1e-5), qPrintable(QString::number(length)));
    }
    // The user's function is kept as a function the package calls.
    QVERIFY(package.get_method("bucket_kernel").function().num_inputs() == 2);
}

void TestPackage::badModelFiles_data()
{
    QTest::addColumn<QByteArray>("content"); // empty with "missing" means: no file at all
    QTest::addColumn<QString>("mentions");
    QTest::addRow("missing") << QByteArray() << "no such file";
    QTest::addRow("empty") << QByteArray("") << "empty file";
    QTest::addRow("random bytes") << QByteArray(4096, '\x5a') << "not a TorchScript archive";
    QTest::addRow("python source") << QByteArray("import torch\n") << "not a TorchScript archive";
    QTest::addRow("truncated") << QByteArray("truncate") << "truncated or corrupt";
    QTest::addRow("zip without code") << QByteArray("nocode") << "without TorchScript code";
}

void TestPackage::badModelFiles()
{
    QFETCH(QByteArray, content);
    QFETCH(QString, mentions);
    const std::string bad = path("bad_model.pt");
    std::filesystem::remove(bad);
    if (content == "truncate") {
        const QByteArray full = readAll(QString::fromStdString(model_));
        QVERIFY(writeAll(QString::fromStdString(bad), full.left(full.size() / 2)));
    } else if (content == "nocode") {
        caffe2::serialize::PyTorchStreamWriter w(bad);
        w.writeRecord("data.pkl", "x", 1);
        w.writeEndOfFile();
    } else if (QTest::currentDataTag() != QLatin1String("missing")) {
        QVERIFY(writeAll(QString::fromStdString(bad), content));
    }
    const QByteArray before = readAll(QString::fromStdString(bad));
    PackageBuildRequest r = sharedRequest({8}, "never.pt");
    r.model = bad;
    r.force = false;
    std::filesystem::remove(r.out);
    try {
        buildPackage(r);
        QFAIL("built a package from a bad model");
    } catch (const Error& e) {
        const QString msg = e.what();
        QVERIFY2(msg.contains(mentions), qPrintable(msg));
        QVERIFY2(msg.startsWith(QString::fromStdString(bad)), qPrintable(msg));
        QVERIFY(!msg.contains('\n'));
    }
    QVERIFY(!std::filesystem::exists(r.out));
    QCOMPARE(readAll(QString::fromStdString(bad)), before);
}

void TestPackage::badRequests_data()
{
    QTest::addColumn<QString>("boundaries");
    QTest::addColumn<QString>("out"); // relative names are in the temp dir
    QTest::addColumn<bool>("force");
    QTest::addColumn<QString>("mentions");
    QTest::addRow("out is the model") << "8"
                                      << "small_demo.pt" << true << "also an input";
    QTest::addRow("out exists") << "8"
                                << "exists.pt" << false << "already exists";
    QTest::addRow("out dir missing") << "8"
                                     << "nodir/x.pt" << false << "does not exist";
    QTest::addRow("out is a directory") << "8"
                                        << "." << true << "is a directory";
    QTest::addRow("unwritable dir") << "8"
                                    << "/proc/x.pt" << false << "not writable";
}

void TestPackage::badRequests()
{
    QFETCH(QString, boundaries);
    QFETCH(QString, out);
    QFETCH(bool, force);
    QFETCH(QString, mentions);
    QVERIFY(writeAll(dir_.filePath("exists.pt"), "keep me"));
    const QByteArray modelBefore = readAll(QString::fromStdString(model_));
    const auto entriesBefore = QDir(dir_.path()).entryList(QDir::AllEntries | QDir::Hidden);
    PackageBuildRequest r =
        sharedRequest(Boundaries::parse(s(boundaries), Field::Boundaries).values(), "x");
    r.out = out.startsWith('/') ? s(out) : s(dir_.filePath(out));
    r.force = force;
    try {
        buildPackage(r);
        QFAIL("accepted a bad request");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).contains(mentions), e.what());
    }
    QCOMPARE(readAll(dir_.filePath("exists.pt")), QByteArray("keep me"));
    QCOMPARE(readAll(QString::fromStdString(model_)), modelBefore);
    QCOMPARE(QDir(dir_.path()).entryList(QDir::AllEntries | QDir::Hidden), entriesBefore);
}

void TestPackage::arityMismatchIsExplained()
{
    PackageBuildRequest r = sharedRequest({8}, "arity.pt");
    r.inputs = parseInputSpecs("input_ids:int64:0,attention_mask:int64:0,token_type_ids:int64:0");
    try {
        buildPackage(r);
        QFAIL("accepted three inputs for a two-input model");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).contains("forward() takes 2 inputs but the inputs list 3"),
                 e.what());
    }
}

void TestPackage::anInputWithoutALengthPassesThrough()
{
    PackageBuildRequest r = sharedRequest({8, 24}, "seq_ids_pkg.pt");
    r.model = path("seq_ids.pt");
    r.inputs = parseInputSpecs("input_ids:int64:0,attention_mask:int64:0,seq_ids:int64:-");
    QVERIFY(!r.inputs[2].bucketed);
    const auto result = buildPackage(r);
    QVERIFY2(result.written, result.failure.c_str());
    QCOMPARE(result.provenCalls, int64_t(4)); // lengths 1 and 8, 9 and 24
    QVERIFY(QFileInfo::exists(QString::fromStdString(result.out)));
    // The metadata keeps the mark.
    const auto meta = readPackageMeta(result.out);
    QVERIFY(meta && !meta->inputs[2].bucketed && meta->inputs[0].bucketed);

    // Called as NxD calls it: seq_ids [batch], the others at their real length; equal to the
    // model on inputs padded to the bucket, with seq_ids as given.
    auto package = torch::jit::load(result.out);
    auto model = torch::jit::load(path("seq_ids.pt"));
    const auto ids = torch::randint(1, 100, {2, 13}, torch::kInt64);
    const auto mask = torch::ones({2, 13}, torch::kInt64);
    const auto seq = torch::tensor({2, 0}, torch::kInt64);
    const auto got = package.forward({ids, mask, seq}).toTensor();
    const auto want = model.forward({padTo(ids, 1, 24, 0), padTo(mask, 1, 24, 0), seq}).toTensor();
    QVERIFY(got.equal(want));
    QCOMPARE(got.size(0), int64_t(2));

    // And the package's own check over every length.
    EquivalenceOptions options;
    options.lengths = {1, 5, 8, 9, 24};
    options.batches = {1, 3};
    for (const auto& row : checkPackageAgainstBuckets(result.out, options)) {
        QVERIFY2(row.error.empty(), row.error.c_str());
        QCOMPARE(row.maxAbsDiff, 0.0);
    }
}

void TestPackage::aPackageThatCannotRunIsNotWritten()
{
    // seq_ids declared bucketed: BucketLab makes it [batch, length], and the model's
    // index_select needs a vector. The package would fail every call: it is not written.
    PackageBuildRequest r = sharedRequest({8, 24}, "cannot_run.pt");
    r.model = path("seq_ids.pt");
    r.inputs = parseInputSpecs("input_ids:int64:0,attention_mask:int64:0,seq_ids:int64:0");
    const auto entriesBefore = QDir(dir_.path()).entryList(QDir::AllEntries | QDir::Hidden);
    const auto result = buildPackage(r);
    QVERIFY(!result.written);
    const QString failure = QString::fromStdString(result.failure);
    QVERIFY2(failure.startsWith("at length 1 (batch 1, bucket 8) forward() raised about input "
                                "'seq_ids': "),
             qPrintable(failure));
    QVERIFY2(!failure.contains('\n'), qPrintable(failure));
    QVERIFY(!QFileInfo::exists(dir_.filePath("cannot_run.pt")));
    QCOMPARE(QDir(dir_.path()).entryList(QDir::AllEntries | QDir::Hidden), entriesBefore);
}

void TestPackage::runAtEveryBucketFindsAPackageThatCannotRun()
{
    // A good package: every bucket at its boundary and first length returns, past the
    // largest it raises.
    const auto good = buildPackage(sharedRequest({8, 24}, "runs.pt"));
    QVERIFY(good.written);
    const auto rows = runPackageAtEveryBucket(good.out, {1, 2}, true);
    QCOMPARE(rows.size(), size_t(10));
    for (const auto& row : rows)
        QVERIFY2(row.passed(), row.error.c_str());
    QCOMPARE(rows[4].length, int64_t(25));
    QVERIFY(rows[4].expectRejection);
    QVERIFY(QString::fromStdString(rows[4].error).contains("exceeds the largest bucket 24"));
    QVERIFY(firstRunFailure(rows).empty());

    // A package of fixed-length bucket models whose buckets are not their lengths, assembled
    // past build's proof: bucket 24 runs the model traced at 16.
    PackageMeta meta = good.meta;
    meta.kind = PackageKind::PerBucket;
    meta.boundaries = Boundaries::from({16, 24}, Field::Boundaries);
    auto fixed = loadScriptModule(path("fixed16.pt"));
    const auto bytes =
        serializePackage(assemblePackage(PackageAssembly{meta, {fixed, fixed}, "", ""}), meta);
    const std::string broken = path("broken.pt");
    {
        std::ofstream out(broken, std::ios::binary);
        out << bytes;
    }
    const auto bad = runPackageAtEveryBucket(broken, {1}, true);
    const QString failure = QString::fromStdString(firstRunFailure(bad));
    QVERIFY2(failure.startsWith("at length 17 (batch 1, bucket 24) forward() raised"),
             qPrintable(failure));
    QVERIFY(bad[0].passed() && bad[1].passed()); // 1 and 16 fit the model traced at 16
}

namespace {

// A position-sensitive model taking NxD's three inputs: its output at every position
// depends on where the real tokens are, so left and right padding give different outputs.
void writePositionalSeqIdsModel(const std::string& path)
{
    torch::manual_seed(5);
    torch::jit::Module m("__torch__.PositionalSeqIds");
    m.register_parameter("embedding", torch::randn({100, 4}), false);
    m.register_parameter("positions", torch::randn({64, 4}), false);
    m.register_parameter("slots", torch::randn({4, 4}), false);
    m.define(R"(
def forward(self, input_ids: Tensor, attention_mask: Tensor, seq_ids: Tensor) -> Tensor:
    x = torch.embedding(self.embedding, input_ids) * attention_mask.unsqueeze(2).to(torch.float32)
    x = x + torch.narrow(self.positions, 0, 0, input_ids.size(1)).unsqueeze(0)
    return x + torch.index_select(self.slots, 0, seq_ids).unsqueeze(1)
)",
             scriptResolver());
    torch::jit::ExtraFilesMap none;
    m.save(path, none);
}

} // namespace

void TestPackage::constantArgsArePassedByForward()
{
    // NxD's kernel signature (inputs, buckets, padding_side, pad_token) with the guide's pad
    // contract, built with left padding: forward() must pass the constants on every call.
    const std::string model = path("positional_seq_ids.pt");
    writePositionalSeqIdsModel(model);
    PackageBuildRequest r = sharedRequest({8, 24}, "nxd_constants.pt");
    r.model = model;
    r.inputs = parseInputSpecs("input_ids:int64:0,attention_mask:int64:0,seq_ids:int64:-");
    r.paddingSide = PaddingSide::Left;
    r.kernelFile = s(dataPath("nxd_context_encoding_kernel.py"));
    r.kernelFunction = "pad_to_bucket_bk";
    r.constantArgs = "torch.tensor([8, 24]), 'left', 0";
    const auto result = buildPackage(r);
    QVERIFY2(result.written, result.failure.c_str());
    QCOMPARE(result.provenCalls, int64_t(4));
    const auto meta = readPackageMeta(result.out);
    QVERIFY(meta && meta->userKernel);
    QCOMPARE(meta->constantArgs, r.constantArgs);

    auto package = torch::jit::load(result.out);
    // The package's kernel takes the inputs alone: the constants are in its graph.
    QCOMPARE(package.get_method("bucket_kernel").function().num_inputs(), size_t(2));
    auto base = torch::jit::load(model);
    torch::NoGradGuard noGrad;
    for (int64_t length : {1, 7, 8, 9, 13, 24}) {
        const int64_t bucket = length <= 8 ? 8 : 24;
        const auto ids = torch::randint(1, 100, {2, length}, torch::kInt64);
        const auto mask = torch::ones({2, length}, torch::kInt64);
        const auto seq = torch::tensor({3, 1}, torch::kInt64);
        const auto got = package.forward({ids, mask, seq}).toTensor();
        const auto left = base.forward({padTo(ids, 1, bucket, 0, PaddingSide::Left),
                                        padTo(mask, 1, bucket, 0, PaddingSide::Left), seq})
                              .toTensor();
        QVERIFY2(got.equal(left), qPrintable(QString("length %1").arg(length)));
        if (length < bucket) { // 'left' reached the kernel: right padding gives another output
            const auto right =
                base.forward({padTo(ids, 1, bucket, 0), padTo(mask, 1, bucket, 0), seq}).toTensor();
            QVERIFY(!got.equal(right));
        }
    }
    try {
        package.forward({torch::ones({1, 25}, torch::kInt64), torch::ones({1, 25}, torch::kInt64),
                         torch::tensor({0}, torch::kInt64)});
        QFAIL("accepted length 25 past the largest bucket 24");
    } catch (const std::exception& e) {
        QVERIFY2(QString(e.what()).contains("exceeds the largest bucket 24"), e.what());
    }
    // validate PACKAGE's call check, over-length included.
    QCOMPARE(firstRunFailure(runPackageAtEveryBucket(result.out, {1, 2}, true)), std::string());
    EquivalenceOptions options;
    options.lengths = {1, 8, 9, 24};
    options.batches = {1, 2};
    for (const auto& row : checkPackageAgainstBuckets(result.out, options)) {
        QVERIFY2(row.error.empty(), row.error.c_str());
        QCOMPARE(row.maxAbsDiff, 0.0);
    }
}

void TestPackage::badConstantArgs_data()
{
    QTest::addColumn<QString>("kernel"); // empty: the generated kernel
    QTest::addColumn<QString>("constants");
    QTest::addColumn<QString>("mentions");
    const QString nxd = dataPath("nxd_context_encoding_kernel.py");
    QTest::addRow("none for a kernel that takes three")
        << nxd << ""
        << "takes 3 arguments after its inputs (buckets: Tensor";
    QTest::addRow("too few") << nxd << "torch.tensor([8, 24])"
                             << "add padding_side: str, pad_token: int";
    QTest::addRow("wrong type") << nxd << "'left', torch.tensor([8, 24]), 0"
                                << "parameter buckets takes Tensor";
    QTest::addRow("not TorchScript") << nxd << "torch.tensor([8, 24"
                                     << "are not TorchScript constant expressions";
    QTest::addRow("generated kernel") << ""
                                      << "torch.tensor([8, 24]), 'left', 0"
                                      << "the generated kernel takes only the inputs";
    QTest::addRow("for a one-argument kernel") << dataPath("seed_bucket_kernel.py") << "0"
                                               << "takes no arguments after its inputs";
}

void TestPackage::badConstantArgs()
{
    QFETCH(QString, kernel);
    QFETCH(QString, constants);
    QFETCH(QString, mentions);
    PackageBuildRequest r = sharedRequest({8, 24}, "bad_constants.pt");
    r.model = path("seq_ids.pt");
    r.inputs = parseInputSpecs("input_ids:int64:0,attention_mask:int64:0,seq_ids:int64:-");
    r.kernelFile = s(kernel);
    if (!kernel.isEmpty() && kernel.contains("nxd"))
        r.kernelFunction = "pad_to_bucket_bk";
    r.constantArgs = s(constants);
    QFile::remove(QString::fromStdString(r.out));
    try {
        buildPackage(r);
        QFAIL("accepted bad constant arguments");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).contains(mentions), e.what());
        QVERIFY2(!QString(e.what()).contains("--"), e.what()); // core messages name no flag
    }
    QVERIFY(!QFileInfo::exists(QString::fromStdString(r.out)));
}

void TestPackage::constantArgsInMeta()
{
    PackageMeta m;
    m.boundaries = Boundaries::from({8, 24}, Field::Boundaries);
    m.inputs = demoInputs();
    // A package without constants writes no field, and a package written before the field
    // existed reads as none.
    const auto plain = metaJson(m);
    QVERIFY(!plain.contains("constant_args"));
    QCOMPARE(metaFromJson(plain.dump(), "old.pt").constantArgs, std::string());
    m.userKernel = true;
    m.constantArgs = "torch.tensor([8, 24]), 'right', 0";
    const auto withArgs = metaJson(m);
    QCOMPARE(withArgs.at("constant_args").get<std::string>(), m.constantArgs);
    QCOMPARE(metaFromJson(withArgs.dump(), "new.pt").constantArgs, m.constantArgs);
    auto generated = withArgs;
    generated["kernel"] = "generated";
    try {
        metaFromJson(generated.dump(), "odd.pt");
        QFAIL("read constant arguments for a generated kernel");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).contains("odd.pt: bucketlab_meta has constant_args"), e.what());
    }
}

QTEST_GUILESS_MAIN(TestPackage)
#include "tst_package.moc"
