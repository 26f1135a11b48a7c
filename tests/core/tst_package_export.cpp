// Re-exporting packages with new boundaries: the model carries over (stored once), the
// export is verified against its source before it gets its name, per-bucket packages refuse
// boundaries they have no model for, and a failed check or a cancel leaves nothing behind.
#include "core/demo/demo.h"
#include "core/package/package.h"
#include "core/package/package_check.h"
#include "core/package/package_export.h"
#include "core/runtime/torch_io_p.h"
#include "core/util/error.h"
#include "core/util/sha256.h"
#include "fixtures.h"
#include "testutil.h"

#include <torch/script.h>

#include <QDir>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QTest>

#include <filesystem>

using namespace bucketlab;
using namespace bucketlab::test;

namespace {

// A shape-generic model that returns a per-position output ([batch, length, 8], padded
// positions zero) and a pooled one: padding-invariant on the real positions only.
void writeHiddenStateModel(const std::string& path)
{
    torch::manual_seed(11);
    torch::jit::Module m("__torch__.HiddenStates");
    m.register_parameter("embedding", torch::randn({100, 8}), false);
    m.define(R"(
def forward(self, input_ids: Tensor, attention_mask: Tensor) -> Tuple[Tensor, Tensor]:
    x = torch.embedding(self.embedding, input_ids) * attention_mask.unsqueeze(2).to(torch.float32)
    return x.sum(1), x
)",
             scriptResolver());
    torch::jit::ExtraFilesMap none;
    m.save(path, none);
}

// A user kernel for a package with buckets 8,24,64 that goes wrong in a way the padding-
// invariant demo model hides: it sends lengths up to 8 to bucket 1 (24) instead of 0.
const char* kMisroutingKernel = R"(
def misrouting_kernel(inputs: List[Tensor]) -> Tuple[List[Tensor], Tensor]:
    ids = inputs[0]
    mask = inputs[1]
    length = ids.size(1)
    if length <= 24:
        bucket_length = 24
        bucket_index = 1
    else:
        bucket_length = 64
        bucket_index = 2
    shape: List[int] = ids.size()
    shape[1] = bucket_length - length
    out: List[Tensor] = [torch.cat([ids, torch.zeros(shape, dtype=ids.dtype)], 1),
                         torch.cat([mask, torch.zeros(shape, dtype=mask.dtype)], 1)]
    return out, torch.tensor([bucket_index])
)";

// Pads the attention mask with 1: padded positions are attended, outputs change.
const char* kBadPadKernel = R"(
def bad_pad_kernel(inputs: List[Tensor]) -> Tuple[List[Tensor], Tensor]:
    ids = inputs[0]
    mask = inputs[1]
    length = ids.size(1)
    if length <= 8:
        bucket_length = 8
        bucket_index = 0
    elif length <= 24:
        bucket_length = 24
        bucket_index = 1
    else:
        bucket_length = 64
        bucket_index = 2
    shape: List[int] = ids.size()
    shape[1] = bucket_length - length
    out: List[Tensor] = [torch.cat([ids, torch.zeros(shape, dtype=ids.dtype)], 1),
                         torch.cat([mask, torch.ones(shape, dtype=mask.dtype)], 1)]
    return out, torch.tensor([bucket_index])
)";

QStringList entries(const QString& dir)
{
    return QDir(dir).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot);
}

} // namespace

class TestPackageExport : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void sampledLengthsCoverEveryBucket();
    void variedInputsStayInRange();
    void sharedExportMatchesBaseModelAtEveryLength_data();
    void sharedExportMatchesBaseModelAtEveryLength();
    void userKernelIsReplacedByAGeneratedOne();
    void perPositionOutputsAreComparedOnRealPositions();
    void leftPaddedExportComparesTheLastPositions();
    void constantArgsGoWithTheUserKernel();
    void perBucketSubsetCarriesItsModels();
    void perBucketMissingModelsAreRefusedNamingThem();
    void perBucketRefusalStillWritesTheRecipe();
    void verificationFailureWritesNothing();
    void comparisonCatchesBadKernels_data();
    void comparisonCatchesBadKernels();
    void kernelValidatorHook();
    void coreValidatorFindsKernelDefects_data();
    void coreValidatorFindsKernelDefects();
    void kernelCheckLengthMustPassTheLargestBucket();
    void cancelLeavesNothing();
    void badRequests_data();
    void badRequests();

private:
    std::string path(const QString& name) const { return s(dir_.filePath(name)); }
    ExportRequest request(const std::string& source, std::vector<int64_t> boundaries,
                          const QString& out) const;
    QTemporaryDir dir_;
    std::string model_;
    std::string shared_; // small demo, buckets 8,24,64
};

void TestPackageExport::initTestCase()
{
    QVERIFY(dir_.isValid());
    model_ = path("small_demo.pt");
    writeDemoModel(model_, smallDemoConfig(64));
    writeFixedLengthModel(path("fixed16.pt"), 16, 1);
    writeFixedLengthModel(path("fixed40.pt"), 40, 2);
    writeHiddenStateModel(path("hidden.pt"));
    PackageBuildRequest r;
    r.model = model_;
    r.boundaries = {8, 24, 64};
    r.inputs = parseInputSpecs("input_ids:int64:0:99,attention_mask:int64:0");
    r.out = shared_ = path("shared.pt");
    buildPackage(r);
}

ExportRequest TestPackageExport::request(const std::string& source, std::vector<int64_t> boundaries,
                                         const QString& out) const
{
    ExportRequest r;
    r.package = source;
    r.boundaries = Boundaries::from(std::move(boundaries), Field::Boundaries);
    r.out = path(out);
    r.force = true;
    return r;
}

void TestPackageExport::sampledLengthsCoverEveryBucket()
{
    const auto lengths = exportSampleLengths({16, 40, 64}, {8, 24, 64}, 3, 5);
    for (int64_t must : {1, 16, 17, 40, 41, 64, 65, 8, 9, 24, 25})
        QVERIFY2(std::count(lengths.begin(), lengths.end(), must) == 1,
                 qPrintable(QString("length %1").arg(must)));
    QVERIFY(std::is_sorted(lengths.begin(), lengths.end()));
    QCOMPARE(lengths.back(), int64_t(65)); // the one above the maximum, which must be rejected
    // Random lengths land in every bucket: more than the fixed ones in each range.
    const auto in = [&](int64_t lo, int64_t hi) {
        return std::count_if(lengths.begin(), lengths.end(),
                             [&](int64_t l) { return l >= lo && l <= hi; });
    };
    QVERIFY(in(2, 15) >= 1);
    QVERIFY(in(18, 39) >= 2); // 24, 25 plus at least one random
    QVERIFY(in(42, 63) >= 1);
    QCOMPARE(exportSampleLengths({16, 40, 64}, {8, 24, 64}, 3, 5), lengths); // deterministic
}

void TestPackageExport::variedInputsStayInRange()
{
    const auto specs = parseInputSpecs("ids:int64:0:99,mask:int64:0,feat:float32:0:2,flag:bool:0");
    const auto in = makeVariedInputs(specs, 3, 50, 0, 1);
    QCOMPARE(in[0].sizes().vec(), (std::vector<int64_t>{3, 50}));
    QCOMPARE(in[0].min().item<int64_t>(), int64_t(1));
    QVERIFY(in[0].max().item<int64_t>() <= 99);
    QVERIFY(std::get<0>(torch::_unique(in[0])).numel() > 20); // positions differ
    QVERIFY(!torch::equal(in[0][0], in[0][1]));               // rows differ
    QVERIFY(torch::all(in[1] == 1).item<bool>());             // fill 1: the mask stays 1
    QVERIFY(in[2].min().item<float>() >= 1.0f && in[2].max().item<float>() <= 2.0f);
    QCOMPARE(in[3].dtype(), torch::kBool);
    QVERIFY(torch::all(in[3]).item<bool>()); // bool inputs keep their fill (1: true)
    // Batch after length: the same values, transposed.
    const auto t = makeVariedInputs(specs, 3, 50, 1, 0);
    QVERIFY(torch::equal(t[0], in[0].t()));
}

void TestPackageExport::sharedExportMatchesBaseModelAtEveryLength_data()
{
    QTest::addColumn<QString>("boundaries");
    QTest::addRow("more buckets") << "4,16,40,64";
    QTest::addRow("fewer buckets") << "32,64";
    QTest::addRow("smaller maximum") << "10,48";
    QTest::addRow("larger maximum") << "16,32,64";
}

void TestPackageExport::sharedExportMatchesBaseModelAtEveryLength()
{
    QFETCH(QString, boundaries);
    const auto b = Boundaries::parse(s(boundaries), Field::Boundaries).values();
    const auto result = exportPackage(request(shared_, b, "exported.pt"));
    QVERIFY2(result.written, result.failure.c_str());
    QCOMPARE(result.meta.boundaries, b);
    QCOMPARE(result.meta.kind, PackageKind::Shared);
    QCOMPARE(result.meta.models.at(0).sha256, sha256File(model_));
    // The core validator ran on the new kernel up to the first length it must reject.
    QVERIFY(result.kernelValidated);
    // QVERIFY2 builds its message even when the check passes: no front() of an empty list.
    QCOMPARE(result.kernelDefects, std::vector<std::string>{});
    QCOMPARE(result.kernelCheckLength, b.back() + 1);
    QVERIFY(!result.kernelCallAbandoned);
    QVERIFY(result.maxAbsDiff <= 1e-5);
    size_t rejected = 0;
    for (const auto& row : result.verification) {
        QVERIFY2(
            row.passed(1e-5),
            qPrintable(
                QString("length %1: %2").arg(row.length).arg(QString::fromStdString(row.error))));
        rejected += row.expectRejection;
    }
    QCOMPARE(rejected, size_t(2)); // max + 1 at batch 1 and 2

    // Independent check: the exported package against the base model, loaded on its own,
    // on inputs padded here, at every length and two batch sizes.
    auto exported = torch::jit::load(result.out);
    auto base = torch::jit::load(model_);
    torch::NoGradGuard noGrad;
    for (int64_t batch : {1, 2}) {
        const auto ids = torch::randint(1, 100, {batch, b.back()}, torch::kInt64);
        const auto mask = torch::ones({batch, b.back()}, torch::kInt64);
        for (int64_t length = 1; length <= b.back(); ++length) {
            const int64_t bucket = *std::lower_bound(b.begin(), b.end(), length);
            const auto x = ids.slice(1, 0, length), m = mask.slice(1, 0, length);
            const auto got = exported.forward({x, m}).toTensor();
            const auto want =
                base.forward({padTo(x, 1, bucket, 0), padTo(m, 1, bucket, 0)}).toTensor();
            QVERIFY2((got - want).abs().max().item<double>() <= 1e-5,
                     qPrintable(QString("batch %1 length %2").arg(batch).arg(length)));
        }
    }
    // The model is stored once however many buckets there are.
    const auto first = exported.attr("bucket_0").toModule().attr("token_embedding").toTensor();
    const auto last = exported.attr("bucket_" + std::to_string(b.size() - 1))
                          .toModule()
                          .attr("token_embedding")
                          .toTensor();
    QCOMPARE(first.data_ptr(), last.data_ptr());
    const double ratio = double(QFileInfo(QString::fromStdString(result.out)).size()) /
                         double(QFileInfo(QString::fromStdString(model_)).size());
    QVERIFY2(ratio < 1.2, qPrintable(QString::number(ratio)));
}

void TestPackageExport::userKernelIsReplacedByAGeneratedOne()
{
    const std::string model512 = path("demo512.pt");
    writeDemoModel(model512, smallDemoConfig(512));
    PackageBuildRequest b;
    b.model = model512;
    b.boundaries = {128, 512};
    b.inputs = demoInputs();
    b.kernelFile = s(dataPath("seed_bucket_kernel.py"));
    b.out = path("seed.pt");
    QVERIFY(buildPackage(b).meta.userKernel);
    ExportRequest r = request(b.out, {64, 128, 512}, "seed_exported.pt");
    r.batches = {1};
    r.randomLengthsPerBucket = 1;
    const auto result = exportPackage(r);
    QVERIFY2(result.written, result.failure.c_str());
    QVERIFY(!result.meta.userKernel);
    QVERIFY(!readPackageMeta(result.out)->userKernel);
}

void TestPackageExport::perPositionOutputsAreComparedOnRealPositions()
{
    PackageBuildRequest b;
    b.model = path("hidden.pt");
    b.boundaries = {8, 32};
    b.inputs = parseInputSpecs("input_ids:int64:0:99,attention_mask:int64:0");
    b.out = path("hidden_pkg.pt");
    buildPackage(b);
    const auto result = exportPackage(request(b.out, {16, 32}, "hidden_exported.pt"));
    QVERIFY2(result.written, result.failure.c_str());
    // Length 10 runs at 24 positions in the source and 16 in the export: the hidden states
    // have different shapes, compared on the 10 real positions.
    auto exported = torch::jit::load(result.out);
    const auto x = torch::ones({1, 10}, torch::kInt64);
    const auto out = exported.forward({x, x}).toTupleRef().elements();
    QCOMPARE(out[1].toTensor().size(1), int64_t(16));
}

void TestPackageExport::leftPaddedExportComparesTheLastPositions()
{
    PackageBuildRequest b;
    b.model = path("hidden.pt");
    b.boundaries = {8, 32};
    b.inputs = parseInputSpecs("input_ids:int64:0:99,attention_mask:int64:0");
    b.paddingSide = PaddingSide::Left;
    b.out = path("left_pkg.pt");
    QVERIFY(buildPackage(b).written);
    const auto result = exportPackage(request(b.out, {16, 32}, "left_exported.pt"));
    QVERIFY2(result.written, result.failure.c_str());
    QCOMPARE(result.meta.paddingSide, PaddingSide::Left);
    QVERIFY(readPackageMeta(result.out)->paddingSide == PaddingSide::Left);
    // Length 10: the real tokens are the last 10 positions in both, the padding (masked to
    // zero) comes first.
    auto source = torch::jit::load(b.out);
    auto exported = torch::jit::load(result.out);
    const auto ids = torch::randint(1, 99, {2, 10}, torch::kInt64);
    const auto mask = torch::ones({2, 10}, torch::kInt64);
    const auto want = source.forward({ids, mask}).toTupleRef().elements()[1].toTensor();
    const auto got = exported.forward({ids, mask}).toTupleRef().elements()[1].toTensor();
    QCOMPARE(got.size(1), int64_t(16));
    QVERIFY(got.narrow(1, 6, 10).equal(want.narrow(1, 22, 10)));
    QVERIFY(got.narrow(1, 0, 6).abs().max().item<float>() == 0.0f);
}

void TestPackageExport::constantArgsGoWithTheUserKernel()
{
    // An NxD-style kernel with constant arguments (its buckets among them), left padding.
    PackageBuildRequest b;
    b.model = path("hidden.pt");
    b.boundaries = {8, 32};
    b.inputs = parseInputSpecs("input_ids:int64:0:99,attention_mask:int64:0");
    b.paddingSide = PaddingSide::Left;
    b.kernelFile = s(dataPath("nxd_context_encoding_kernel.py"));
    b.kernelFunction = "pad_to_bucket_bk";
    b.constantArgs = "torch.tensor([8, 32]), 'left', 0";
    b.out = path("nxd_pkg.pt");
    const auto built = buildPackage(b);
    QVERIFY2(built.written, built.failure.c_str());
    QCOMPARE(readPackageMeta(b.out)->constantArgs, b.constantArgs);
    // The export gets a generated kernel for its boundaries, which takes no constants (these
    // name the old buckets); it is compared with the source's forward(), constants and all.
    const auto result = exportPackage(request(b.out, {16, 32}, "nxd_exported.pt"));
    QVERIFY2(result.written, result.failure.c_str());
    QVERIFY(!result.verification.empty());
    for (const auto& row : result.verification)
        QVERIFY2(row.passed(1e-5), row.error.c_str());
    const auto meta = readPackageMeta(result.out);
    QVERIFY(!meta->userKernel);
    QCOMPARE(meta->constantArgs, std::string());
    QCOMPARE(meta->paddingSide, PaddingSide::Left);
}

void TestPackageExport::perBucketSubsetCarriesItsModels()
{
    // The same padding-invariant model as every "traced" bucket: dropping a bucket keeps
    // the outputs (a length moves to a bigger bucket), so the export verifies.
    PackageBuildRequest b;
    b.perBucket = parsePerBucketSpec("16=" + model_ + ",40=" + model_ + ",64=" + model_);
    b.inputs = parseInputSpecs("input_ids:int64:0:99,attention_mask:int64:0");
    b.out = path("pb_same.pt");
    buildPackage(b);
    const auto result = exportPackage(request(b.out, {16, 64}, "pb_subset.pt"));
    QVERIFY2(result.written, result.failure.c_str());
    QCOMPARE(result.meta.kind, PackageKind::PerBucket);
    QCOMPARE(result.meta.models.size(), size_t(2));
    QCOMPARE(result.meta.models[0].bucket, int64_t(16));
    QCOMPARE(result.meta.models[1].bucket, int64_t(64));
}

void TestPackageExport::perBucketMissingModelsAreRefusedNamingThem()
{
    PackageBuildRequest b;
    b.perBucket = parsePerBucketSpec("16=" + path("fixed16.pt") + ",40=" + path("fixed40.pt"));
    b.inputs = demoInputs();
    b.out = path("pb.pt");
    buildPackage(b);
    const auto before = entries(dir_.path());
    try {
        exportPackage(request(b.out, {16, 24, 32, 40}, "pb_new.pt"));
        QFAIL("exported boundaries without models");
    } catch (const Error& e) {
        const QString msg = e.what();
        QVERIFY2(msg.contains("boundaries 24, 32 have no model: this package holds models traced "
                              "at 16, 40; re-trace with the recipe"),
                 e.what());
        QVERIFY2(msg.contains("the Neuron recipe folder"), e.what());
    }
    QCOMPARE(entries(dir_.path()), before);
}

void TestPackageExport::perBucketRefusalStillWritesTheRecipe()
{
    ExportRequest r = request(path("pb.pt"), {16, 32}, "pb_new.pt");
    r.neuronRecipeDir = path("pb_recipe");
    try {
        exportPackage(r);
        QFAIL("exported a boundary without a model");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).contains("boundary 32 has no model"), e.what());
        QVERIFY2(QString(e.what()).contains("recipe written to " + dir_.filePath("pb_recipe")),
                 e.what());
    }
    QVERIFY(!QFile::exists(dir_.filePath("pb_new.pt")));
    for (const char* f : {"bucket_config.json", "bucket_kernel.py", "neuron_build.py", "README.md"})
        QVERIFY2(QFile::exists(dir_.filePath("pb_recipe/") + f), f);
    const auto config = readAll(dir_.filePath("pb_recipe/bucket_config.json"));
    QVERIFY(config.contains("\"missing_models\": [\n    32\n  ]"));
    QVERIFY(readAll(dir_.filePath("pb_recipe/README.md")).contains("Re-trace needed"));
}

void TestPackageExport::verificationFailureWritesNothing()
{
    // fixed16 and fixed40 have different weights: sending length 10 to the 40 model
    // changes the output, and the export must say so instead of writing.
    const auto before = entries(dir_.path());
    const auto result = exportPackage(request(path("pb.pt"), {40}, "pb_40.pt"));
    QVERIFY(!result.written);
    QVERIFY2(QString::fromStdString(result.failure).contains("differs from"),
             result.failure.c_str());
    QVERIFY2(QString::fromStdString(result.failure).contains("length 1, batch 1"),
             result.failure.c_str());
    QCOMPARE(entries(dir_.path()), before);
}

void TestPackageExport::comparisonCatchesBadKernels_data()
{
    QTest::addColumn<QString>("kernel");
    QTest::addColumn<QString>("mentions");
    QTest::addRow("misrouted") << kMisroutingKernel
                               << "routed length 1 to bucket 1, expected "
                                  "bucket 0 (8)";
    QTest::addRow("mask padded with 1") << kBadPadKernel << "";
}

void TestPackageExport::comparisonCatchesBadKernels()
{
    QFETCH(QString, kernel);
    QFETCH(QString, mentions);
    QVERIFY(writeAll(dir_.filePath("bad_kernel.py"), kernel.toUtf8()));
    PackageBuildRequest b;
    b.model = model_;
    b.boundaries = {8, 24, 64};
    b.inputs = parseInputSpecs("input_ids:int64:0:99,attention_mask:int64:0");
    b.kernelFile = path("bad_kernel.py");
    b.out = path("bad_kernel_pkg.pt");
    b.force = true;
    buildPackage(b);
    EquivalenceOptions o;
    o.lengths = {1, 5, 8, 9, 24, 30, 64};
    const auto rows = comparePackages(shared_, b.out, o);
    const auto failed =
        std::count_if(rows.begin(), rows.end(), [](const auto& r) { return !r.passed(1e-5); });
    QVERIFY2(failed > 0, "a bad kernel passed the comparison");
    if (!mentions.isEmpty())
        QCOMPARE(QString::fromStdString(rows[0].error), mentions);
    else
        QVERIFY(rows[1].maxAbsDiff > 1e-3); // length 5 padded to 8 with attended positions
    // The good package compared with itself passes everywhere, including the rejection.
    o.lengths.push_back(65);
    for (const auto& r : comparePackages(shared_, shared_, o))
        QVERIFY2(r.passed(1e-5), r.error.c_str());
}

void TestPackageExport::kernelValidatorHook()
{
    ExportRequest r = request(shared_, {16, 64}, "validated.pt");
    r.batches = {1};
    std::string seen;
    r.validateKernel = [&](const std::string& staged, const Job&) {
        seen = staged;
        // The hook sees the written package, readable as one before it has its name.
        const auto meta = readPackageMeta(staged);
        return meta && meta->boundaries == std::vector<int64_t>{16, 64}
                   ? std::vector<std::string>{}
                   : std::vector<std::string>{"not the staged package"};
    };
    auto result = exportPackage(r);
    QVERIFY2(result.written, result.failure.c_str());
    QVERIFY(result.kernelValidated);
    QVERIFY(!seen.empty() && seen != r.out);

    std::filesystem::remove(r.out);
    r.validateKernel = [](const std::string&, const Job&) {
        return std::vector<std::string>{"length 17 padded to 16 (bucket 0)"};
    };
    result = exportPackage(r);
    QVERIFY(!result.written);
    QCOMPARE(result.kernelDefects.size(), size_t(1));
    QVERIFY2(QString::fromStdString(result.failure).contains("1 defect: length 17"),
             result.failure.c_str());
    QVERIFY(!QFile::exists(QString::fromStdString(r.out)));
}

void TestPackageExport::coreValidatorFindsKernelDefects_data()
{
    QTest::addColumn<QString>("kernel");
    QTest::addRow("misrouted") << kMisroutingKernel;
    QTest::addRow("mask padded with 1") << kBadPadKernel;
}

// An export generates its kernel, so a defect in it cannot be provoked through the request.
// The validator an export runs is checked here on packages carrying defective user kernels,
// and its defect lines are fed through the export to show they stop the write.
void TestPackageExport::coreValidatorFindsKernelDefects()
{
    QFETCH(QString, kernel);
    QVERIFY(writeAll(dir_.filePath("defective_kernel.py"), kernel.toUtf8()));
    PackageBuildRequest b;
    b.model = model_;
    b.boundaries = {8, 24, 64};
    b.inputs = parseInputSpecs("input_ids:int64:0:99,attention_mask:int64:0");
    b.kernelFile = path("defective_kernel.py");
    b.out = path("defective_pkg.pt");
    b.force = true;
    buildPackage(b);

    KernelCheckOptions options;
    options.batchSizes = {1, 2};
    const KernelValidator validator = packageKernelValidator(options);
    const auto defects = validator(b.out, Job());
    // The same defect classes as `validate` finds over lengths 1..65.
    options.maxLength = 65;
    const auto direct = checkKernelFile(b.out, "bucket_kernel", options);
    QVERIFY(!direct.ok);
    QCOMPARE(defects.size(), direct.defects.size());
    for (size_t i = 0; i < defects.size(); ++i)
        QVERIFY2(QString::fromStdString(defects[i])
                     .startsWith(QString::fromStdString(defectKindName(direct.defects[i].kind))),
                 defects[i].c_str());

    const auto before = entries(dir_.path());
    ExportRequest r = request(shared_, {16, 64}, "defect_stops_write.pt");
    r.force = false;
    r.validateKernel = [&](const std::string&, const Job&) {
        return validator(b.out, Job());
    };
    const auto result = exportPackage(r);
    QVERIFY(!result.written);
    QVERIFY(result.kernelValidated);
    QCOMPARE(result.kernelDefects, defects);
    QVERIFY2(QString::fromStdString(result.failure).contains("kernel has"), result.failure.c_str());
    QCOMPARE(entries(dir_.path()), before);
}

void TestPackageExport::kernelCheckLengthMustPassTheLargestBucket()
{
    ExportRequest r = request(shared_, {16, 64}, "short_check.pt");
    r.kernelCheckLength = 64;
    const auto before = entries(dir_.path());
    QVERIFY_THROWS_EXCEPTION(Error, exportPackage(r));
    QCOMPARE(entries(dir_.path()), before);
    // Longer than the default: the validator runs that far and still finds the kernel clean.
    r.kernelCheckLength = 200;
    r.batches = {1};
    const auto result = exportPackage(r);
    QVERIFY2(result.written, result.failure.c_str());
    QCOMPARE(result.kernelCheckLength, int64_t(200));
    QVERIFY(result.kernelDefects.empty());
}

void TestPackageExport::cancelLeavesNothing()
{
    const auto before = entries(dir_.path());
    ExportRequest r = request(shared_, {16, 64}, "cancelled.pt");
    r.force = false;
    int verifySteps = 0;
    std::atomic<bool> cancel{false};
    const Job job(
        [&](double, const std::string& message) {
            if (message.rfind("checking length", 0) == 0 && ++verifySteps == 5)
                cancel = true; // mid-verification, while the staged file exists
        },
        &cancel);
    QVERIFY_THROWS_EXCEPTION(Cancelled, exportPackage(r, job));
    QCOMPARE(verifySteps, 5);
    QCOMPARE(entries(dir_.path()), before);
}

void TestPackageExport::badRequests_data()
{
    QTest::addColumn<QString>("source"); // relative names are in the temp dir
    QTest::addColumn<QString>("boundaries");
    QTest::addColumn<QString>("out");
    QTest::addColumn<bool>("force");
    QTest::addColumn<QString>("recipe");
    QTest::addColumn<QString>("mentions");
    QTest::addRow("out exists") << "shared.pt"
                                << "16,64"
                                << "exists.pt" << false << ""
                                << "already exists (the replace option replaces it)";
    QTest::addRow("out is the source") << "shared.pt"
                                       << "16,64"
                                       << "shared.pt" << true << ""
                                       << "also an input";
    QTest::addRow("unwritable out") << "shared.pt"
                                    << "16,64"
                                    << "/proc/x.pt" << false << ""
                                    << "not writable";
    QTest::addRow("descending") << "shared.pt"
                                << "64,16"
                                << "x.pt" << false << ""
                                << "must ascend";
    QTest::addRow("plain model") << "small_demo.pt"
                                 << "16,64"
                                 << "x.pt" << false << ""
                                 << "not a BucketLab package";
    QTest::addRow("missing source") << "nope.pt"
                                    << "16,64"
                                    << "x.pt" << false << ""
                                    << "no such file";
    QTest::addRow("recipe dir is a file") << "shared.pt"
                                          << "16,64"
                                          << "x.pt" << false << "exists.pt"
                                          << "is a file";
    QTest::addRow("recipe files exist") << "shared.pt"
                                        << "16,64"
                                        << "x.pt" << false << "recipe_there"
                                        << "bucket_config.json already exists";
    QTest::addRow("recipe parent missing") << "shared.pt"
                                           << "16,64"
                                           << "x.pt" << false << "no/such/dir"
                                           << "does not exist";
}

void TestPackageExport::badRequests()
{
    QFETCH(QString, source);
    QFETCH(QString, boundaries);
    QFETCH(QString, out);
    QFETCH(bool, force);
    QFETCH(QString, recipe);
    QFETCH(QString, mentions);
    QVERIFY(writeAll(dir_.filePath("exists.pt"), "keep me"));
    QVERIFY(QDir(dir_.path()).mkpath("recipe_there"));
    QVERIFY(writeAll(dir_.filePath("recipe_there/bucket_config.json"), "{}"));
    const QByteArray sourceBefore = readAll(QString::fromStdString(shared_));
    const auto before = entries(dir_.path());
    ExportRequest r;
    r.package = path(source);
    r.out = out.startsWith('/') ? s(out) : path(out);
    r.force = force;
    if (!recipe.isEmpty())
        r.neuronRecipeDir = path(recipe);
    try {
        r.boundaries = Boundaries::parse(s(boundaries), Field::Boundaries);
        exportPackage(r);
        QFAIL("accepted a bad export request");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).contains(mentions), e.what());
        QVERIFY(!QString(e.what()).contains('\n'));
    }
    QCOMPARE(readAll(dir_.filePath("exists.pt")), QByteArray("keep me"));
    QCOMPARE(readAll(dir_.filePath("recipe_there/bucket_config.json")), QByteArray("{}"));
    QCOMPARE(readAll(QString::fromStdString(shared_)), sourceBefore);
    QCOMPARE(entries(dir_.path()), before);
}

QTEST_GUILESS_MAIN(TestPackageExport)
#include "tst_package_export.moc"
