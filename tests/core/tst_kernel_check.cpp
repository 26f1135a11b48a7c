// The validator against real kernels: the guide's seed kernel (its known defects), every
// kernel BucketLab generates (property test over random boundary sets), broken variants of
// a generated kernel (one defect class each), the guide's state preprocessor, and NxD-style
// kernels with constant arguments under both contracts (tests/data/nxd_context_encoding_kernel.py).
#include "core/kernel/constant_args.h"
#include "core/kernel/kernel.h"
#include "core/kernel/kernel_check.h"
#include "core/util/error.h"
#include "kernel_fixtures.h"

#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <tuple>

#include <random>
#include <set>

using namespace bucketlab;
using namespace bucketlab::test;

class TestKernelCheck : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { QVERIFY(dir_.isValid()); }
    void seedKernelDefects();
    void seedKernelWithTwoInputsDropsNothing();
    void generatedKernelsValidateClean();
    void anInputWithoutALengthMustPassThrough();
    void paddingIsCheckedOnItsSide();
    void brokenKernels_data();
    void brokenKernels();
    void neverReturningKernelTimesOut();
    void cancelStops();
    void statePreprocessor_data();
    void statePreprocessor();
    void declaredStates_data();
    void declaredStates();
    void wrongSignatureIsAnError();
    void constantArgs_data();
    void constantArgs();
    void badConstantArgs_data();
    void badConstantArgs();
    void constantArgsMustFitTheKernel();
    void nxdSlicingKernel_data();
    void nxdSlicingKernel();
    void nxdPaddingKernelPastItsLargestBucket();

private:
    static std::string nxdFixture()
    {
        return (QStringLiteral(BUCKETLAB_TEST_DATA) + "/nxd_context_encoding_kernel.py")
            .toStdString();
    }
    static std::string nxdSource()
    {
        return readAll(QString::fromStdString(nxdFixture())).toStdString();
    }
    static KernelCheckOptions nxdOptions(const std::string& constantArgs)
    {
        KernelCheckOptions o;
        o.inputs = parseInputSpecs("input_ids:int64:0,attention_mask:int64:0,seq_ids:int64:-");
        o.constantArgs = constantArgs;
        o.batchSizes = {1, 2};
        return o;
    }
    const KernelDefect* find(const KernelCheckResult& r, DefectKind kind)
    {
        for (const auto& d : r.defects)
            if (d.kind == kind)
                return &d;
        return nullptr;
    }
    QTemporaryDir dir_;
};

void TestKernelCheck::seedKernelDefects()
{
    KernelCheckOptions o;
    o.maxLength = 1024;
    o.batchSizes = {1, 3};
    const auto r = checkKernelFile(s(dataPath("seed_bucket_kernel.py")), "", o);
    QVERIFY(!r.ok);
    QCOMPARE(r.boundaries, (std::vector<int64_t>{128, 512}));
    // Past 512 the guide's kernel returns an empty list and bucket 0.
    const auto* fall = find(r, DefectKind::FallThrough);
    QVERIFY(fall);
    QCOMPARE(fall->firstLength, int64_t(513));
    QCOMPARE(fall->lastLength, int64_t(1024));
    QVERIFY2(fall->message.find("returns 0 tensors") != std::string::npos, fall->message.c_str());
    QCOMPARE(fall->example.length, int64_t(513));
    QVERIFY(fall->example.outputs.empty());
    QCOMPARE(fall->example.inputs.size(), size_t(3));
    // `num_inputs = 3`: a fourth input is dropped at every served length.
    const auto* dropped = find(r, DefectKind::InputsDropped);
    QVERIFY(dropped);
    QCOMPARE(dropped->firstLength, int64_t(1));
    QCOMPARE(dropped->lastLength, int64_t(512));
    QVERIFY2(dropped->message.find("with 4 inputs") != std::string::npos, dropped->message.c_str());
    QCOMPARE(dropped->example.inputs.size(), size_t(4));
    QCOMPARE(dropped->example.outputs.size(), size_t(3));
    // Padding takes x.dtype for every input: mixed dtypes come back promoted.
    QVERIFY(find(r, DefectKind::DtypeChanged));
    // Within 1..512 with the guide's own inputs it neither raises nor mis-pads.
    QVERIFY(!find(r, DefectKind::Exception));
    QVERIFY(!find(r, DefectKind::WrongOutputLength));
    QVERIFY(!find(r, DefectKind::IndexNotMonotone));
}

void TestKernelCheck::seedKernelWithTwoInputsDropsNothing()
{
    KernelCheckOptions o;
    o.maxLength = 600;
    o.batchSizes = {2};
    o.inputs = parseInputSpecs("input_ids:int64:0,attention_mask:int64:0");
    const auto r = checkKernelFile(s(dataPath("seed_bucket_kernel.py")), "", o);
    QCOMPARE(r.boundaries, (std::vector<int64_t>{128, 512}));
    // 1, 2 and 3 inputs are all within num_inputs = 3.
    QVERIFY(!find(r, DefectKind::InputsDropped));
    QVERIFY(find(r, DefectKind::FallThrough));
}

void TestKernelCheck::generatedKernelsValidateClean()
{
    std::mt19937 rng(20241126);
    const DType dtypes[] = {DType::Int64, DType::Int32, DType::Float32, DType::Bool,
                            DType::Float16};
    for (int round = 0; round < 24; ++round) {
        std::set<int64_t> set;
        const int k = 1 + int(rng() % 5);
        while (int(set.size()) < k)
            set.insert(1 + int64_t(rng() % (round % 3 == 0 ? 8 : 300)));
        KernelLayout l;
        l.boundaries = Boundaries::from({set.begin(), set.end()}, Field::Boundaries);
        l.bucketDim = 1;
        const int n = 1 + int(rng() % 3);
        for (int i = 0; i < n; ++i) {
            const DType d = dtypes[rng() % 5];
            const double pad = d == DType::Bool ? double(rng() % 2) : double(int(rng() % 3) - 1);
            l.inputs.push_back({"x" + std::to_string(i), d, pad, 1.0});
        }
        if (n > 1 && round % 2 == 1)
            l.inputs.back().bucketed = false; // an input without a length, passed through
        if (round % 4 >= 2)
            l.paddingSide = PaddingSide::Left;
        const auto file = writeText(dir_, QString("gen%1.py").arg(round), generatedKernelPy(l));
        KernelCheckOptions o;
        o.inputs = l.inputs;
        o.paddingSide = l.paddingSide;
        o.batchSizes = {1, 3};
        o.maxLength = 2 * l.boundaries.largest() + 3;
        const auto r = checkKernel(loadKernel(file), o);
        std::string defects;
        for (const auto& d : r.defects)
            defects += defectKindName(d.kind) + ": " + d.message + "; ";
        QVERIFY2(r.ok,
                 qPrintable(QString::fromStdString(l.boundaries.str() + " " +
                                                   formatInputSpecs(l.inputs) + ": " + defects)));
        QCOMPARE(r.boundaries, l.boundaries);
    }
}

void TestKernelCheck::anInputWithoutALengthMustPassThrough()
{
    KernelLayout l = layout({8, 32});
    l.inputs.push_back({"seq_ids", DType::Int64, 0, 0});
    l.inputs.back().bucketed = false;
    KernelCheckOptions o;
    o.inputs = l.inputs;
    o.maxLength = 40;
    o.batchSizes = {1, 3};
    const std::string good = generatedKernelPy(l);
    QVERIFY(good.find("padded.append(seq_ids)") != std::string::npos);
    const auto clean = checkKernel(loadKernel(writeText(dir_, "seq_ok.py", good)), o);
    QVERIFY(clean.ok);
    QCOMPARE(clean.boundaries, l.boundaries);
    // A kernel that changes it (adding one stands for any change) is a defect at the first
    // length that takes that branch.
    const auto bad = checkKernel(loadKernel(writeText(dir_, "seq_bad.py",
                                                      replaced(good, "padded.append(seq_ids)",
                                                               "padded.append(seq_ids + 1)"))),
                                 o);
    QVERIFY(!bad.ok);
    const auto changed = std::find_if(bad.defects.begin(), bad.defects.end(), [](const auto& d) {
        return defectKindName(d.kind) == "values_changed";
    });
    QVERIFY(changed != bad.defects.end());
    QCOMPARE(changed->firstLength, int64_t(1));
}

void TestKernelCheck::paddingIsCheckedOnItsSide()
{
    KernelLayout right = layout({8, 32});
    KernelLayout left = right;
    left.paddingSide = PaddingSide::Left;
    const std::string leftSource = generatedKernelPy(left);
    QVERIFY(leftSource.find("torch.cat([input0_pad, input0], 1)") != std::string::npos);
    KernelCheckOptions o;
    o.inputs = right.inputs;
    o.maxLength = 40;
    o.batchSizes = {1, 2};
    const auto kindsOf = [](const KernelCheckResult& r) {
        std::set<std::string> kinds;
        for (const auto& d : r.defects)
            kinds.insert(defectKindName(d.kind));
        return kinds;
    };
    // Each kernel is clean on its own side and a defect on the other, from length 1 on.
    for (const auto& [source, side, clean] :
         {std::tuple{leftSource, PaddingSide::Left, true},
          std::tuple{leftSource, PaddingSide::Right, false},
          std::tuple{generatedKernelPy(right), PaddingSide::Left, false}}) {
        o.paddingSide = side;
        const auto r = checkKernel(loadKernel(writeText(dir_, "side.py", source)), o);
        QCOMPARE(r.ok, clean);
        if (clean) {
            QCOMPARE(r.boundaries, right.boundaries);
            continue;
        }
        QVERIFY(kindsOf(r).count("values_changed") || kindsOf(r).count("wrong_padding"));
        for (const auto& d : r.defects)
            if (defectKindName(d.kind) == "values_changed")
                QCOMPARE(d.firstLength, int64_t(1));
    }
}

void TestKernelCheck::brokenKernels_data()
{
    QTest::addColumn<QString>("from");
    QTest::addColumn<QString>("to");
    QTest::addColumn<QString>("kind");
    QTest::addColumn<int>("firstLength");
    QTest::addRow("off by one at a boundary") << "if length <= 8:"
                                              << "if length < 8:"
                                              << "wrong_output_length" << 8;
    QTest::addRow("swapped indices") << "bucket_index = 0\n"
                                     << "bucket_index = 1\n"
                                     << "index_not_monotone" << 1;
    QTest::addRow("raises at one length")
        << "    padded: List"
        << "    if length == 20:\n        raise Exception(\"boom\")\n    padded: List"
        << "exception" << 20;
    QTest::addRow("wrong padding value") << "input1_pad_shape, 0,"
                                         << "input1_pad_shape, 7,"
                                         << "wrong_padding" << 1;
    QTest::addRow("float bucket index") << "dtype=torch.int64)\n"
                                        << "dtype=torch.float32)\n"
                                        << "index_not_int64" << 1;
    QTest::addRow("values changed") << "torch.cat([input0, "
                                    << "torch.cat([input0 * 2, "
                                    << "values_changed" << 1;
    QTest::addRow("second input dropped")
        << "        padded.append(torch.cat([input1, input1_pad], 1))\n"
        << ""
        << "inputs_dropped" << 1;
    QTest::addRow("no rejection past the largest bucket")
        << "        raise Exception(\"bucketlab: input length \" + str(length) + \" exceeds the "
           "largest bucket 32\")\n"
        << "        bucket_length = length\n        bucket_index = 0\n"
        << "fall_through" << 33;
}

void TestKernelCheck::brokenKernels()
{
    QFETCH(QString, from);
    QFETCH(QString, to);
    QFETCH(QString, kind);
    QFETCH(int, firstLength);
    const std::string text = replaced(generatedKernelPy(layout({8, 32})), s(from), s(to));
    const auto file = writeText(dir_, "broken.py", text);
    KernelCheckOptions o;
    o.inputs = layout({8, 32}).inputs;
    o.maxLength = 64;
    o.batchSizes = {1, 2};
    const auto r = checkKernel(loadKernel(file), o);
    QVERIFY(!r.ok);
    const KernelDefect* d = nullptr;
    for (const auto& x : r.defects)
        if (defectKindName(x.kind) == s(kind))
            d = &x;
    std::string all;
    for (const auto& x : r.defects)
        all += defectKindName(x.kind) + " ";
    QVERIFY2(d, qPrintable(QString::fromStdString("defects: " + all)));
    QCOMPARE(d->firstLength, int64_t(firstLength));
    QVERIFY(!d->message.empty());
    QCOMPARE(d->example.length, int64_t(firstLength));
}

void TestKernelCheck::neverReturningKernelTimesOut()
{
    const std::string text =
        replaced(generatedKernelPy(layout({8, 32})), "    padded: List",
                 "    n = length\n    while length == 12:\n        n = n + 1\n    padded: List");
    const auto file = writeText(dir_, "stuck.py", text);
    KernelCheckOptions o;
    o.inputs = layout({8, 32}).inputs;
    o.maxLength = 40;
    o.callTimeoutSeconds = 0.3;
    QElapsedTimer t;
    t.start();
    const auto r = checkKernel(loadKernel(file), o);
    // The stuck call never returns: that the check returned at all is the proof.
    qInfo("the check returned after %lld ms", t.elapsed());
    QVERIFY(r.workerAbandoned);
    const KernelDefect* d = find(r, DefectKind::Timeout);
    QVERIFY(d);
    QCOMPARE(d->firstLength, int64_t(12));
    // Lengths 1..11 were still checked: 1..8 pad to 8, 9..11 to 32.
    QCOMPARE(r.boundaries, (std::vector<int64_t>{8, 32}));
}

void TestKernelCheck::cancelStops()
{
    const auto file = writeText(dir_, "cancel.py", generatedKernelPy(layout({64, 512})));
    KernelCheckOptions o;
    o.maxLength = 100000;
    o.inputs = layout({8}).inputs;
    // Cancelled from the progress sink once some calls are done, as the GUI's Cancel would.
    std::atomic<bool> cancel{false};
    double lastFraction = 0;
    const Job job(
        [&](double f, const std::string&) {
            lastFraction = f;
            if (f > 0.001)
                cancel = true;
        },
        &cancel);
    QVERIFY_EXCEPTION_THROWN(checkKernel(loadKernel(file), o, job), Cancelled);
    QVERIFY(lastFraction > 0.001 && lastFraction < 0.5);
}

void TestKernelCheck::statePreprocessor_data()
{
    QTest::addColumn<QString>("from");
    QTest::addColumn<QString>("to");
    QTest::addColumn<QString>("kind"); // "" = no defects
    QTest::addRow("the guide's") << ""
                                 << ""
                                 << "";
    QTest::addRow("keeps one position too many") << "start=state_tensor_dim_length-npos,"
                                                 << "start=state_tensor_dim_length-npos-1,"
                                                 << "state_contract";
    QTest::addRow("drops the last state") << "for i in range(len(shapes)):"
                                          << "for i in range(len(shapes) - 1):"
                                          << "state_contract";
}

void TestKernelCheck::statePreprocessor()
{
    QFETCH(QString, from);
    QFETCH(QString, to);
    QFETCH(QString, kind);
    std::string text = readAll(dataPath("seed_state_preprocessor.py")).toStdString();
    if (!from.isEmpty())
        text = replaced(text, s(from), s(to));
    const auto file = writeText(dir_, "sp.py", text);
    const Kernel k = loadKernel(file);
    QCOMPARE(k.role(), std::optional<KernelRole>(KernelRole::StatePreprocessor));
    KernelCheckOptions o;
    o.batchSizes = {1, 2};
    const auto r = checkKernel(k, o);
    QCOMPARE(r.role, KernelRole::StatePreprocessor);
    QCOMPARE(r.boundaries, (std::vector<int64_t>{128, 512}));
    if (kind.isEmpty()) {
        std::string all;
        for (const auto& d : r.defects)
            all += d.message + "; ";
        QVERIFY2(r.ok, all.c_str());
    } else {
        QVERIFY(!r.ok);
        QCOMPARE(QString::fromStdString(defectKindName(r.defects.front().kind)), kind);
    }
}

void TestKernelCheck::declaredStates_data()
{
    QTest::addColumn<QString>("from");
    QTest::addColumn<QString>("to");
    QTest::addColumn<QString>("states"); // ";"-separated --state texts for buckets 16,64
    QTest::addColumn<bool>("testLayoutsOk");
    QTest::addColumn<bool>("declaredOk");
    const QString rank5 = "kv:float32:2x3x1xLx4;steps:int64:1";
    QTest::addRow("the guide's, rank 5 and 1") << ""
                                               << "" << rank5 << true << true;
    // Slices the first four dimensions only: the check's own layouts are rank 4 at most and
    // pass it; the declared rank-5 state shows that dimension 4 is never cut.
    QTest::addRow("slices four dimensions")
        << "for j,npos in enumerate(expected_shape):"
        << "for j,npos in enumerate(expected_shape[:4]):"
        << "kv:float32:2x3x1x4xL;steps:int64:1" << true << false;
    // Assumes the length is in dimension 1, as in the guide's [batch, length] example: the
    // test layouts already catch it, and so do declared states with the length elsewhere.
    QTest::addRow("length in dimension 1 only")
        << "for j,npos in enumerate(expected_shape):"
        << "for j,npos in enumerate(expected_shape[1:2]):\n          j = 1"
        << "kv:float32:2x3x1xLx4" << false << false;
}

void TestKernelCheck::declaredStates()
{
    QFETCH(QString, from);
    QFETCH(QString, to);
    QFETCH(QString, states);
    QFETCH(bool, testLayoutsOk);
    QFETCH(bool, declaredOk);
    std::string text = readAll(dataPath("seed_state_preprocessor.py")).toStdString();
    if (!from.isEmpty())
        text = replaced(text, s(from), s(to));
    const Kernel k = loadKernel(writeText(dir_, "declared.py", text));
    KernelCheckOptions o;
    o.batchSizes = {1, 2};
    o.stateBoundaries = Boundaries{16, 64};
    QCOMPARE(checkKernel(k, o).ok, testLayoutsOk);
    for (const auto& st : states.split(';'))
        o.states.push_back(parseStateSpec(st.toStdString(), o.stateBoundaries));
    const auto r = checkKernel(k, o);
    QCOMPARE(r.ok, declaredOk);
    // One call per bucket and one past the last, at the declared shapes only.
    QCOMPARE(r.calls, int64_t(3));
    if (!declaredOk) {
        QCOMPARE(QString::fromStdString(defectKindName(r.defects.front().kind)),
                 QString("state_contract"));
        QVERIFY2(r.defects.front().message.find("declared states kv:") != std::string::npos,
                 r.defects.front().message.c_str());
    }
}

void TestKernelCheck::wrongSignatureIsAnError()
{
    const auto file =
        writeText(dir_, "sig.py", "def bucket_kernel(x: int, y: int):\n    return x + y\n");
    try {
        checkKernel(loadKernel(file), {});
        QFAIL("validated a function that is not a kernel");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).contains("List[Tensor]"), e.what());
    }
}

void TestKernelCheck::constantArgs_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QStringList>("types");
    QTest::addColumn<QList<qlonglong>>("buckets");
    QTest::addRow("NxD's") << "torch.tensor([128, 512]), 'right', 0"
                           << QStringList{"Tensor", "str", "int"} << QList<qlonglong>{128, 512};
    QTest::addRow("scalars, trailing comma")
        << " 1.5, True, -3, " << QStringList{"float", "bool", "int"} << QList<qlonglong>{};
    // Not ascending: a tensor, but not the kernel's buckets.
    QTest::addRow("tensor that is not buckets")
        << "torch.tensor([512, 128])" << QStringList{"Tensor"} << QList<qlonglong>{};
    QTest::addRow("empty") << "  " << QStringList{} << QList<qlonglong>{};
}

void TestKernelCheck::constantArgs()
{
    QFETCH(QString, text);
    QFETCH(QStringList, types);
    QFETCH(QList<qlonglong>, buckets);
    const auto args = parseConstantArgs(text.toStdString());
    QStringList got;
    for (const auto& a : args.args)
        got << QString::fromStdString(a.type);
    QCOMPARE(got, types);
    QCOMPARE(QList<qlonglong>(args.buckets.begin(), args.buckets.end()), buckets);
    QCOMPARE(args.empty(), types.isEmpty());
}

void TestKernelCheck::badConstantArgs_data()
{
    QTest::addColumn<QString>("text");
    QTest::addRow("unterminated string") << "torch.tensor([128, 512]), 'right";
    QTest::addRow("unknown name") << "torch.tensor([128, 512]), right, 0";
    QTest::addRow("two lines") << "torch.tensor([128, 512]),\n'right'";
    QTest::addRow("raises") << "torch.tensor([1, 2]).view(3)";
}

void TestKernelCheck::badConstantArgs()
{
    QFETCH(QString, text);
    try {
        parseConstantArgs(text.toStdString());
        QFAIL("accepted bad constant arguments");
    } catch (const Error& e) {
        const QString what = e.what();
        QVERIFY2(what.startsWith("the constant arguments"), e.what());
        QVERIFY2(!what.contains('\n'), e.what());
    }
}

void TestKernelCheck::constantArgsMustFitTheKernel()
{
    const Kernel kernel = loadKernel(nxdFixture(), {"context_encoder_bk"});
    QCOMPARE(kernel.role(), std::optional<KernelRole>(KernelRole::BucketKernel));
    for (const auto& [text, mentions] :
         {std::pair<std::string, QString>{"", "takes 3 arguments after its inputs (buckets: "
                                              "Tensor, padding_side: str, pad_token: int)"},
          {"torch.tensor([128, 512])", "add padding_side: str, pad_token: int"},
          {"torch.tensor([128, 512]), 0, 0", "parameter padding_side takes str"},
          {"torch.tensor([128, 512]), 'right', 0, 1",
           "takes 3 arguments after its inputs but 4"}}) {
        try {
            checkKernel(kernel, nxdOptions(text));
            QFAIL(qPrintable("validated with constant arguments '" + QString::fromStdString(text) +
                             "'"));
        } catch (const Error& e) {
            QVERIFY2(QString(e.what()).contains(mentions), e.what());
        }
    }
}

void TestKernelCheck::nxdSlicingKernel_data()
{
    QTest::addColumn<QString>("side");
    QTest::addColumn<QString>("from");
    QTest::addColumn<QString>("to");
    QTest::addColumn<QString>("defect");
    QTest::addColumn<qlonglong>("firstLength");
    QTest::addRow("right padding") << "right"
                                   << ""
                                   << ""
                                   << "" << 0LL;
    QTest::addRow("left padding") << "left"
                                  << ""
                                  << ""
                                  << "" << 0LL;
    // `<` where `<=` was meant, at the boundary: 129 real tokens go to the 128 bucket.
    QTest::addRow("off by one at 128, drops the last real token") << "right"
                                                                  << "buckets < real_tokens"
                                                                  << "buckets < real_tokens - 1"
                                                                  << "tokens_dropped" << 129LL;
    QTest::addRow("off by one at 128, left padding") << "left"
                                                     << "buckets < real_tokens"
                                                     << "buckets < real_tokens - 1"
                                                     << "tokens_dropped" << 129LL;
    // Slicing the wrong end with left padding keeps pad positions instead of the real tokens.
    QTest::addRow("left padding sliced from the start") << "left"
                                                        << "largest - bucket, largest, 1"
                                                        << "0, bucket, 1"
                                                        << "values_changed" << 1LL;
    QTest::addRow("float index") << "right"
                                 << "bucket_idx.to(torch.int32)"
                                 << "bucket_idx.to(torch.float32)"
                                 << "index_not_int64" << 1LL;
    QTest::addRow("always the largest bucket")
        << "right"
        << "torch.argmin((buckets < real_tokens).to(torch.int32))"
        << "torch.argmax(buckets)"
        << "wrong_output_length" << 1LL;
}

void TestKernelCheck::nxdSlicingKernel()
{
    QFETCH(QString, side);
    QFETCH(QString, from);
    QFETCH(QString, to);
    QFETCH(QString, defect);
    QFETCH(qlonglong, firstLength);
    std::string source = nxdSource();
    if (!from.isEmpty())
        source = replaced(source, from.toStdString(), to.toStdString());
    const Kernel kernel =
        loadKernel(writeText(dir_, "nxd_slice.py", source), {"context_encoder_bk"});
    auto o = nxdOptions("torch.tensor([128, 512]), '" + side.toStdString() + "', 0");
    o.contract = KernelContract::Slice;
    o.paddingSide = side == "left" ? PaddingSide::Left : PaddingSide::Right;
    const auto r = checkKernel(kernel, o);
    if (defect.isEmpty()) {
        QVERIFY2(r.ok, r.defects.empty() ? "" : r.defects.front().message.c_str());
        QCOMPARE(r.boundaries, (std::vector<int64_t>{128, 512}));
        QCOMPARE(r.indexDtype, std::string("int32"));
        QVERIFY(std::find(r.notes.begin(), r.notes.end(),
                          std::string("bucket index is int32 (accepted: NxD's kernels return "
                                      "their index as int32)")) != r.notes.end());
        // Every length 1..512 at batch 1 and 2, plus the other input counts and dtypes.
        QVERIFY(r.calls >= 2 * 512);
        return;
    }
    QVERIFY(!r.ok);
    const auto it = std::find_if(r.defects.begin(), r.defects.end(), [&](const auto& d) {
        return defectKindName(d.kind) == defect.toStdString();
    });
    QVERIFY2(it != r.defects.end(), qPrintable("no " + defect));
    QCOMPARE(qlonglong(it->firstLength), firstLength);
    if (defect == "tokens_dropped") {
        QCOMPARE(it->lastLength, int64_t(129)); // only the boundary is off
        QVERIFY2(QString::fromStdString(it->message).contains("slices to 128 and drops 1 of 129"),
                 it->message.c_str());
    }
}

void TestKernelCheck::nxdPaddingKernelPastItsLargestBucket()
{
    auto o = nxdOptions("torch.tensor([128, 512]), 'right', 0");
    o.maxLength = 600;
    const auto clean = checkKernel(loadKernel(nxdFixture(), {"pad_to_bucket_bk"}), o);
    QVERIFY2(clean.ok, clean.defects.empty() ? "" : clean.defects.front().message.c_str());
    QCOMPARE(clean.boundaries, (std::vector<int64_t>{128, 512}));
    QCOMPARE(clean.indexDtype, std::string("int64"));
    // Without its length check, constant_pad_nd pads 513 tokens by 128 - 513: it cuts them.
    const std::string unguarded =
        replaced(nxdSource(), "    if length > largest:", "    if length > largest + 1000:");
    const auto bad =
        checkKernel(loadKernel(writeText(dir_, "nxd_pad.py", unguarded), {"pad_to_bucket_bk"}), o);
    QVERIFY(!bad.ok);
    QCOMPARE(bad.boundaries, (std::vector<int64_t>{128, 512}));
    QCOMPARE(bad.defects.size(), size_t(1));
    const auto& d = bad.defects.front();
    QCOMPARE(defectKindName(d.kind), std::string("fall_through"));
    QCOMPARE(d.firstLength, int64_t(513));
    QVERIFY2(QString::fromStdString(d.message).contains(
                 "pads by a negative amount (-385), cutting 385 real tokens"),
             d.message.c_str());
}

QTEST_GUILESS_MAIN(TestKernelCheck)
#include "tst_kernel_check.moc"
