// Shared state buffers in packages: one buffer per state at the largest shape, the guide's
// state_preprocessor handing each bucket a view, and a stateful bucket model that reads and
// writes its state across calls of different buckets, checked against a reference written
// here with plain tensors.
#include "core/kernel/kernel_source.h"
#include "core/package/package.h"
#include "core/package/package_export.h"
#include "core/runtime/torch_io_p.h"
#include "core/spec/state_spec.h"
#include "core/util/error.h"
#include "testutil.h"

#include <torch/script.h>

#include <QTemporaryDir>
#include <QTest>

using namespace bucketlab;
using namespace bucketlab::test;

namespace {

// forward(x [batch, L], kv [1, L], steps [1]) -> [batch]: reads both states, then writes
// them in place (decays kv and adds the batch mean of x; counts the call). The write needs
// kv's view to have the bucket's length, which the state shapes below give it.
void writeStatefulModel(const std::string& path)
{
    torch::jit::Module m("__torch__.StatefulEncoder");
    m.register_parameter("scale", torch::tensor({0.75f}), false);
    m.define(R"(
def forward(self, x: Tensor, kv: Tensor, steps: Tensor) -> Tensor:
    out = x.sum(1) * self.scale + kv.sum() + steps.to(torch.float32)
    kv.mul_(0.5)
    kv.add_(x.mean(0, True))
    steps.add_(1)
    return out
)",
             scriptResolver());
    torch::jit::ExtraFilesMap none;
    m.save(path, none);
}

// The same calls replayed on plain tensors: the buffer is [1, max]; bucket b's view is its
// trailing b entries (the guide's slicing), padding is with zeros.
struct Reference {
    torch::Tensor kv = torch::zeros({1, 32});
    int64_t steps = 0;
    torch::Tensor call(const torch::Tensor& x, int64_t bucket)
    {
        const auto padded = torch::cat({x, torch::zeros({x.size(0), bucket - x.size(1)})}, 1);
        auto view = kv.narrow(1, 32 - bucket, bucket);
        const auto out = padded.sum(1) * 0.75 + view.sum() + double(steps);
        view.mul_(0.5);
        view.add_(padded.mean(0, true));
        ++steps;
        return out;
    }
};

} // namespace

class TestStateBuffers : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void buffersAtTheLargestShape();
    void preprocessorHandsOutViews();
    void statefulCallsAcrossBucketsMatchReference();
    void buildRefusesBadStates_data();
    void buildRefusesBadStates();
    void exportCarriesOrReshapesStates();
    void exportWithoutShapesForNewBucketsIsRefused();

private:
    std::string path(const QString& name) const { return s(dir_.filePath(name)); }
    PackageBuildRequest request(const std::vector<std::string>& states,
                                const QString& out = "other.pt") const;
    QTemporaryDir dir_;
    std::string model_;
    std::string package_;
};

void TestStateBuffers::initTestCase()
{
    QVERIFY(dir_.isValid());
    model_ = path("stateful.pt");
    writeStatefulModel(model_);
    package_ = path("stateful_pkg.pt");
    buildPackage(request({"kv:float32:1x8/1x32", "steps:int64:1/1"}, "stateful_pkg.pt"));
}

PackageBuildRequest TestStateBuffers::request(const std::vector<std::string>& states,
                                              const QString& out) const
{
    PackageBuildRequest r;
    r.model = model_;
    r.boundaries = {8, 32};
    r.inputs = parseInputSpecs("x:float32:0");
    for (const auto& st : states)
        r.states.push_back(parseStateSpec(st));
    r.out = path(out);
    r.force = true;
    return r;
}

void TestStateBuffers::buffersAtTheLargestShape()
{
    auto pkg = torch::jit::load(package_);
    const auto kv = pkg.attr(stateBufferName("kv")).toTensor();
    QCOMPARE(kv.sizes().vec(), (std::vector<int64_t>{1, 32}));
    QCOMPARE(kv.dtype(), torch::kFloat32);
    QVERIFY(torch::all(kv == 0).item<bool>());
    QCOMPARE(pkg.attr(stateBufferName("steps")).toTensor().dtype(), torch::kInt64);
    // shapes_collection[bucket][state], the guide's layout.
    const auto collection = pkg.attr("shapes_collection").toList();
    QCOMPARE(collection.size(), size_t(2));
    QCOMPARE(collection.get(0).toList().get(0).toIntVector(), (std::vector<int64_t>{1, 8}));
    QCOMPARE(collection.get(1).toList().get(0).toIntVector(), (std::vector<int64_t>{1, 32}));
    QCOMPARE(collection.get(1).toList().get(1).toIntVector(), (std::vector<int64_t>{1}));
    const auto meta = readPackageMeta(package_);
    QCOMPARE(meta->states.size(), size_t(2));
    QCOMPARE(formatStateSpec(meta->states[0]), std::string("kv:float32:1x8/1x32"));
}

void TestStateBuffers::preprocessorHandsOutViews()
{
    auto pkg = torch::jit::load(package_);
    auto kv = pkg.attr(stateBufferName("kv")).toTensor();
    auto steps = pkg.attr(stateBufferName("steps")).toTensor();
    kv.copy_(torch::arange(32, torch::kFloat32).view({1, 32}));
    const auto collection = pkg.attr("shapes_collection");
    const auto states = c10::List<at::Tensor>({kv, steps});
    for (int64_t bucket : {0, 1}) {
        const auto out =
            pkg.run_method("state_preprocessor", collection, states, torch::tensor({bucket}))
                .toTensorVector();
        QCOMPARE(out.size(), size_t(2));
        const int64_t n = bucket == 0 ? 8 : 32;
        QCOMPARE(out[0].sizes().vec(), (std::vector<int64_t>{1, n}));
        // The trailing n entries, as a view of the buffer's storage.
        QVERIFY(torch::equal(out[0], torch::arange(32 - n, 32, torch::kFloat32).view({1, n})));
        QCOMPARE(out[0].storage().data(), kv.storage().data());
    }
    try {
        pkg.run_method("state_preprocessor", collection, states, torch::tensor({int64_t(2)}));
        QFAIL("a bucket index without shapes was accepted");
    } catch (const std::exception& e) {
        QVERIFY2(QString(e.what()).contains("no state shapes for bucket 2"), e.what());
    }
    // The method lowers slicing and the index conversion to the aten ops the guide names.
    const auto graph = pkg.get_method("state_preprocessor").graph()->toString();
    QVERIFY(QString::fromStdString(graph).contains("aten::slice"));
    QVERIFY(QString::fromStdString(graph).contains("aten::Int"));
}

void TestStateBuffers::statefulCallsAcrossBucketsMatchReference()
{
    auto pkg = torch::jit::load(package_);
    torch::NoGradGuard noGrad;
    Reference ref;
    torch::manual_seed(3);
    // Lengths alternate between the buckets, so bucket 8 reads what bucket 32 wrote into
    // the tail of the buffer and the other way round.
    int call = 0;
    for (int64_t length : {3, 8, 20, 5, 32, 1, 9, 8, 31, 2}) {
        const int64_t batch = call % 2 ? 2 : 1;
        const auto x = torch::randn({batch, length});
        const int64_t bucket = length <= 8 ? 8 : 32;
        const auto got = pkg.forward({x}).toTensor();
        const auto want = ref.call(x, bucket);
        QVERIFY2(torch::allclose(got, want, 1e-5, 1e-5),
                 qPrintable(QString("call %1 (length %2)").arg(call).arg(length)));
        ++call;
    }
    QVERIFY(torch::allclose(pkg.attr(stateBufferName("kv")).toTensor(), ref.kv, 1e-5, 1e-5));
    QCOMPARE(pkg.attr(stateBufferName("steps")).toTensor().item<int64_t>(), ref.steps);
    QVERIFY(ref.kv.abs().sum().item<double>() > 0); // the check saw real state, not zeros
}

void TestStateBuffers::buildRefusesBadStates_data()
{
    QTest::addColumn<QStringList>("states");
    QTest::addColumn<QString>("mentions");
    QTest::addRow("one shape for two buckets") << QStringList{"kv:float32:1x32", "steps:int64:1/1"}
                                               << "1 shape but the package has 2 buckets";
    QTest::addRow("rank differs") << QStringList{"kv:float32:1x8/1x1x32", "steps:int64:1/1"}
                                  << "rank 2 for bucket 8 but rank 3 for bucket 32";
    QTest::addRow("shrinking") << QStringList{"kv:float32:1x32/1x8", "steps:int64:1/1"}
                               << "shrinks";
    QTest::addRow("missing state")
        << QStringList{"kv:float32:1x8/1x32"} << "forward() takes 3 inputs but the inputs list 1";
}

void TestStateBuffers::buildRefusesBadStates()
{
    QFETCH(QStringList, states);
    QFETCH(QString, mentions);
    std::vector<std::string> list;
    for (const auto& st : states)
        list.push_back(s(st));
    try {
        buildPackage(request(list));
        QFAIL("built a package with bad states");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).contains(mentions), e.what());
    }
    QVERIFY(!QFile::exists(dir_.filePath("other.pt")));
}

void TestStateBuffers::exportCarriesOrReshapesStates()
{
    // Keeping a boundary keeps its shapes.
    ExportRequest keep;
    keep.package = package_;
    keep.boundaries = {32};
    keep.out = path("kept.pt");
    auto result = exportPackage(keep);
    QVERIFY2(result.written, result.failure.c_str());
    QCOMPARE(formatStateSpec(result.meta.states[0]), std::string("kv:float32:1x32"));

    // New boundaries take new shapes; fresh states give the same outputs as the source.
    ExportRequest reshape = keep;
    reshape.boundaries = {4, 16, 32};
    reshape.states = {parseStateSpec("steps:int64:1/1/1"),
                      parseStateSpec("kv:float32:1x4/1x16/1x32")};
    reshape.out = path("reshaped.pt");
    result = exportPackage(reshape);
    QVERIFY2(result.written, result.failure.c_str());
    QCOMPARE(result.meta.states.size(), size_t(2));
    QCOMPARE(result.meta.states[0].name, std::string("kv")); // the package's order, not --state's
    auto pkg = torch::jit::load(reshape.out);
    QCOMPARE(pkg.attr("shapes_collection").toList().get(1).toList().get(0).toIntVector(),
             (std::vector<int64_t>{1, 16}));
}

void TestStateBuffers::exportWithoutShapesForNewBucketsIsRefused()
{
    ExportRequest r;
    r.package = package_;
    r.boundaries = {16, 32};
    r.out = path("refused.pt");
    try {
        exportPackage(r);
        QFAIL("exported states without shapes for a new bucket");
    } catch (const Error& e) {
        // The message names the option in the front end's terms: --state on the command line.
        QVERIFY2(QString::fromStdString(
                     e.render([](Field f) { return f == Field::States ? "--state" : "?"; }))
                     .contains("state 'kv' has shapes for buckets 8,32 only; give its "
                               "shapes for the new buckets in --state as "
                               "kv:float32:SHAPE/SHAPE/..."),
                 e.what());
    }
    r.states = {parseStateSpec("kv:float16:1x16/1x32"), parseStateSpec("steps:int64:1/1")};
    QVERIFY_THROWS_EXCEPTION(Error, exportPackage(r)); // dtype differs from the package's
    r.states = {parseStateSpec("kv:float32:1x16/1x32")};
    try {
        exportPackage(r);
        QFAIL("exported with a state left out");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).contains("no shapes given for state 'steps'"), e.what());
    }
    QVERIFY(!QFile::exists(dir_.filePath("refused.pt")));
}

QTEST_GUILESS_MAIN(TestStateBuffers)
#include "tst_state_buffers.moc"
