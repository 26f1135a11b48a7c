// The profiler on real TorchScript models: what it measures (a model at L, a package's
// padded forward at L, a package's bucket model), its statistics and records, failing
// shapes, bad requests, devices that are absent here (CUDA, Neuron), progress, the time
// budget and cancellation.
#include "core/demo/demo.h"
#include "core/latency/profiler.h"
#include "core/latency/sample_statistics.h"
#include "core/package/package.h"
#include "core/runtime/device.h"
#include "core/util/error.h"
#include "envoverride.h"
#include "fixtures.h"
#include "testutil.h"

#include <caffe2/serialize/inline_container.h>

#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <atomic>
#include <functional>

using namespace bucketlab;
using namespace bucketlab::test;

using RequestEdit = std::function<void(ProfileRequest&)>;
Q_DECLARE_METATYPE(RequestEdit)
Q_DECLARE_METATYPE(bucketlab::ProfileStage)

namespace {

// A Neuron-compiled model as far as anything short of loading can tell: a saved archive
// whose class code declares a torch.classes.neuron.Model attribute, as the modules
// torch_neuronx.trace produces do. Written record by record into a new archive.
void writeNeuronFixture(const std::string& from, const std::string& to)
{
    caffe2::serialize::PyTorchStreamReader reader(from);
    caffe2::serialize::PyTorchStreamWriter writer(to);
    bool rewritten = false;
    for (const auto& name : reader.getAllRecords()) {
        auto [data, size] = reader.getRecord(name);
        std::string bytes(static_cast<const char*>(data.get()), size);
        const auto buffers = bytes.find("__buffers__");
        if (!rewritten && name.rfind("code/", 0) == 0 && buffers != std::string::npos) {
            const auto eol = bytes.find('\n', buffers);
            bytes.insert(eol + 1, "  neuron_model : __torch__.torch.classes.neuron.Model\n");
            rewritten = true;
        }
        writer.writeRecord(name, bytes.data(), bytes.size());
    }
    writer.writeEndOfFile();
    if (!rewritten)
        throw std::runtime_error("no class code record to rewrite in " + from);
}

} // namespace

class TestProfiler : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void profilesEachLengthWithHonestStatistics();
    void packageIsTimedPaddedAndBucketModelBare();
    void failingLengthFailsAlone();
    void everyLengthFailingIsAnError();
    void badRequests_data();
    void badRequests();
    void cudaAbsentIsExplained();
    void neuronModelWithoutRuntime();
    void neuronLibrarySearchOrder();
    void progressReportsEveryStage();
    void budgetIsKept_data();
    void budgetIsKept();
    void cancelFinishesOnlyTheCallUnderWay_data();
    void cancelFinishesOnlyTheCallUnderWay();

private:
    ProfileRequest demoRequest(std::vector<int64_t> lengths, double budget) const;
    std::string path(const char* name) const { return s(dir_.filePath(name)); }
    QTemporaryDir dir_;
    DemoFiles demo_;
    std::string small_;     // demo encoder with 64 positions: longer inputs raise
    std::string perBucket_; // per-bucket package 16,40
    std::string neuron_;
};

void TestProfiler::initTestCase()
{
    QVERIFY(dir_.isValid());
    demo_ = prepareDemo(path("demo"));
    small_ = path("small.pt");
    writeDemoModel(small_, smallDemoConfig(64));
    writeFixedLengthModel(path("fixed16.pt"), 16, 1);
    writeFixedLengthModel(path("fixed40.pt"), 40, 2);
    PackageBuildRequest b;
    b.perBucket = {{16, path("fixed16.pt")}, {40, path("fixed40.pt")}};
    b.inputs = demoInputs();
    b.out = path("per_bucket.pt");
    perBucket_ = buildPackage(b).out;
    neuron_ = path("neuron_model.pt");
    writeNeuronFixture(small_, neuron_);
    QVERIFY(writeAll(dir_.filePath("notes.txt"), "not a model\n"));
}

ProfileRequest TestProfiler::demoRequest(std::vector<int64_t> lengths, double budget) const
{
    ProfileRequest r;
    r.model = demo_.model;
    r.inputs = demoInputs();
    r.lengths = std::move(lengths);
    r.budgetS = budget;
    return r;
}

void TestProfiler::profilesEachLengthWithHonestStatistics()
{
    const Profile p = runProfile(demoRequest({16, 128}, 6));
    QCOMPARE(p.points.size(), size_t(2));
    QCOMPARE(p.deviceKind, std::string("cpu"));
    QCOMPARE(p.threads, 1);
    QCOMPARE(p.modelFile, std::string("demo_model.pt"));
    QCOMPARE(p.modelSha256.size(), size_t(64));
    for (const char* key : {"cpu_model", "libtorch", "host", "os"})
        QVERIFY2(!p.environment.at(key).empty(), key);
    QCOMPARE(p.settings.at("target"), std::string("model forward"));
    for (const auto& pt : p.points) {
        QVERIFY2(pt.ok(), pt.error.c_str());
        QVERIFY(pt.warmupRuns >= 2);
        QCOMPARE(pt.samples, int64_t(pt.samplesMs.size()));
        QVERIFY(pt.samples >= 1);
        const auto [lo, hi] = std::minmax_element(pt.samplesMs.begin(), pt.samplesMs.end());
        QVERIFY(*lo <= pt.p50Ms && pt.p50Ms <= pt.p90Ms && pt.p90Ms <= pt.p99Ms && pt.p99Ms <= *hi);
        QVERIFY(pt.ci95LowMs <= pt.p50Ms && pt.p50Ms <= pt.ci95HighMs);
        // Converged shapes are within the target; the others say so.
        const double halfWidth = relativeHalfWidthPct(pt.p50Ms, {pt.ci95LowMs, pt.ci95HighMs});
        QVERIFY(halfWidth <= 2.0 || hasFlag(pt, kFlagUnconverged));
    }

    // What is written is what was measured, raw samples included.
    writeProfile(path("p.json"), p, true);
    const Profile back = readProfile(path("p.json"));
    QCOMPARE(back.points[1].samplesMs, p.points[1].samplesMs);
    QCOMPARE(back.points[1].ci95LowMs, p.points[1].ci95LowMs);
    QCOMPARE(back.points[0].warmupRuns, p.points[0].warmupRuns);
    QCOMPARE(back.settings.at("stopped_by"), p.settings.at("stopped_by"));
}

void TestProfiler::packageIsTimedPaddedAndBucketModelBare()
{
    // Length 200 in a 128,512 package: the package's forward (which pads to 512) and its
    // bucket model alone are distinct targets, each recorded as such. How their times
    // compare on this machine is bench_profiler's to print, not a gate.
    ProfileRequest r = demoRequest({200}, 2);
    r.model = demo_.package;
    r.inputs.clear();
    r.simulatedCallMs = [](int64_t, int64_t, int64_t) {
        return 1.0;
    };
    const Profile padded = runProfile(r);
    QCOMPARE(padded.settings.at("target"), std::string("package forward"));
    QVERIFY2(padded.points[0].ok(), padded.points[0].error.c_str());
    r.bucketModel = true;
    const Profile bare = runProfile(r);
    QCOMPARE(bare.settings.at("target"), std::string("package bucket model"));
    QVERIFY2(bare.points[0].ok(), bare.points[0].error.c_str());
    // Beyond the package's largest bucket the padded forward cannot serve; the bucket model
    // is asked to, and says what failed rather than padding silently.
    r.bucketModel = false;
    r.lengths = {513};
    QVERIFY_THROWS_EXCEPTION(Error, runProfile(r));
}

void TestProfiler::failingLengthFailsAlone()
{
    ProfileRequest r;
    r.model = small_;
    r.inputs = demoInputs();
    r.lengths = {16, 32, 100};
    r.budgetS = 3;
    const Profile p = runProfile(r);
    QCOMPARE(p.points.size(), size_t(3));
    QVERIFY(p.points[0].ok() && p.points[1].ok());
    QVERIFY(p.points[0].samples >= 1 && p.points[1].samples >= 1);
    const auto& bad = p.points[2];
    QVERIFY(!bad.ok());
    QVERIFY2(QString::fromStdString(bad.error).contains("length 100"), bad.error.c_str());
    QVERIFY2(QString::fromStdString(bad.error).contains("exceeds 64 positions"), bad.error.c_str());
    QCOMPARE(bad.flags, std::vector<std::string>{kFlagFailed});
    QVERIFY(bad.samplesMs.empty());
    // The failure survives a round trip: the tuner's reader skips it, a user sees why.
    writeProfile(path("failed.json"), p, true);
    QCOMPARE(readProfile(path("failed.json")).points[2].error, bad.error);
}

void TestProfiler::everyLengthFailingIsAnError()
{
    ProfileRequest r;
    r.model = small_;
    r.inputs = demoInputs();
    r.lengths = {100, 200};
    r.budgetS = 2;
    try {
        runProfile(r);
        QFAIL("profiled a model that fails at every length");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).contains("no shape could be measured"), e.what());
        QVERIFY2(QString(e.what()).contains("exceeds 64 positions"), e.what());
    }
}

void TestProfiler::badRequests_data()
{
    QTest::addColumn<RequestEdit>("edit");
    QTest::addColumn<QString>("mentions");
    const std::string package = demo_.package, notes = path("notes.txt"), perBucket = perBucket_;
    QTest::addRow("length 0") << RequestEdit([](ProfileRequest& r) {
        r.lengths = {0, 16};
    }) << "length 0 is not positive";
    QTest::addRow("negative length")
        << RequestEdit([](ProfileRequest& r) { r.lengths = {-3}; }) << "length -3 is not positive";
    QTest::addRow("above the package's largest bucket")
        << RequestEdit([package](ProfileRequest& r) {
               r.model = package;
               r.inputs.clear();
               r.lengths = {128, 600};
           })
        << "length 600 exceeds the largest bucket 512";
    QTest::addRow("budget 0") << RequestEdit([](ProfileRequest& r) { r.budgetS = 0; })
                              << "must be a positive number of seconds";
    QTest::addRow("negative budget")
        << RequestEdit([](ProfileRequest& r) { r.budgetS = -5; }) << "the time budget -5 s";
    QTest::addRow("NaN budget") << RequestEdit([](ProfileRequest& r) { r.budgetS = NAN; })
                                << "must be a positive number";
    QTest::addRow("no lengths") << RequestEdit([](ProfileRequest& r) { r.lengths.clear(); })
                                << "no lengths";
    QTest::addRow("batch 0") << RequestEdit([](ProfileRequest& r) { r.batches = {0}; })
                             << "batch size 0";
    QTest::addRow("threads 0") << RequestEdit([](ProfileRequest& r) { r.threads = 0; })
                               << "the thread count 0";
    QTest::addRow("negative CI target")
        << RequestEdit([](ProfileRequest& r) { r.targetCiPct = -1; }) << "the target confidence";
    QTest::addRow("plain model without inputs")
        << RequestEdit([](ProfileRequest& r) { r.inputs.clear(); }) << "needs the inputs";
    QTest::addRow("package with other inputs") << RequestEdit([package](ProfileRequest& r) {
        r.model = package;
        r.inputs = {InputSpec{"tokens", DType::Int64, 0, 1}};
    }) << "do not match the inputs";
    QTest::addRow("missing file") << RequestEdit([](ProfileRequest& r) {
        r.model = "/nonexistent/m.pt";
    }) << "no such file";
    QTest::addRow("not a model") << RequestEdit([notes](ProfileRequest& r) { r.model = notes; })
                                 << "not a TorchScript archive";
    QTest::addRow("bucket model of a per-bucket package")
        << RequestEdit([perBucket](ProfileRequest& r) {
               r.model = perBucket;
               r.inputs.clear();
               r.lengths = {20};
               r.bucketModel = true;
           })
        << "serves only the lengths its models were traced at (16,40)";
    QTest::addRow("bucket model of a plain model")
        << RequestEdit([](ProfileRequest& r) { r.bucketModel = true; })
        << "not a BucketLab package";
    QTest::addRow("same batch and length dimension")
        << RequestEdit([](ProfileRequest& r) { r.batchDim = 1; })
        << "the bucket dimension and the batch dimension are both 1";
    QTest::addRow("bucket dimension beyond the inputs' rank")
        << RequestEdit([](ProfileRequest& r) { r.bucketDim = 7; })
        << "the bucket dimension 7 is beyond the rank of input 'input_ids': it has rank 2";
    QTest::addRow("batch dimension beyond the inputs' rank")
        << RequestEdit([](ProfileRequest& r) { r.batchDim = 2; })
        << "the batch dimension 2 is beyond the rank of input 'input_ids'";
    QTest::addRow("negative bucket dimension")
        << RequestEdit([](ProfileRequest& r) { r.bucketDim = -1; })
        << "the bucket dimension -1 is negative";
}

void TestProfiler::badRequests()
{
    QFETCH(RequestEdit, edit);
    QFETCH(QString, mentions);
    ProfileRequest r = demoRequest({16}, 1);
    edit(r);
    int64_t calls = 0;
    r.simulatedCallMs = [&](int64_t, int64_t, int64_t) {
        return double(++calls);
    };
    try {
        runProfile(r);
        QFAIL("accepted a bad request");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).contains(mentions), e.what());
    }
    // Refused before any timing starts.
    QCOMPARE(calls, int64_t(0));
}

void TestProfiler::cudaAbsentIsExplained()
{
    if (cudaAvailable())
        QSKIP("this LibTorch sees a GPU; the CUDA-absent message cannot be provoked here");
    ProfileRequest r = demoRequest({16}, 1);
    r.device = DeviceKind::Cuda;
    try {
        runProfile(r);
        QFAIL("profiled on CUDA without CUDA");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).contains("CUDA is not available to this LibTorch"), e.what());
        QVERIFY2(QString(e.what()).contains("profile on the CPU (the device cpu)"), e.what());
    }
}

void TestProfiler::neuronModelWithoutRuntime()
{
    QVERIFY(archiveNeedsNeuron(neuron_));
    QVERIFY(!archiveNeedsNeuron(small_));
    QVERIFY(!archiveNeedsNeuron(demo_.package));
    ProfileRequest r;
    r.model = neuron_;
    r.inputs = demoInputs();
    r.lengths = {16};
    r.budgetS = 1;
    auto expectError = [&](const QString& mentions) {
        try {
            runProfile(r);
            QFAIL("profiled a Neuron model without the Neuron runtime");
        } catch (const Error& e) {
            QVERIFY2(QString(e.what()).contains(mentions), e.what());
            QVERIFY2(QString(e.what()).startsWith(QString::fromStdString(neuron_)), e.what());
        }
    };
    {
        EnvOverride a("BUCKETLAB_NEURON_LIB", QByteArray());
        EnvOverride b("NEURON_LIBRARY_PATH", QByteArray());
        if (loadNeuronRuntime().loaded)
            QSKIP("the Neuron runtime is installed here");
        expectError(QString::fromStdString(neuronMissingMessage()));
        r.device = DeviceKind::Cpu;
        expectError("runs only on Neuron");
        r.device = DeviceKind::Auto;
    }
    {
        // A library that is there but will not load: the loader's reason, not "absent".
        EnvOverride a("BUCKETLAB_NEURON_LIB", dir_.filePath("notes.txt").toUtf8());
        expectError("cannot load the Neuron runtime library " + dir_.filePath("notes.txt"));
    }
    {
        EnvOverride a("BUCKETLAB_NEURON_LIB", "/nonexistent/libtorchneuron.so");
        expectError(
            "BUCKETLAB_NEURON_LIB names /nonexistent/libtorchneuron.so, which does not exist");
    }
}

void TestProfiler::neuronLibrarySearchOrder()
{
    {
        EnvOverride a("BUCKETLAB_NEURON_LIB", QByteArray());
        EnvOverride b("NEURON_LIBRARY_PATH", "/a/lib:/b/libtorchneuron.so");
        const auto c = neuronLibraryCandidates();
        QVERIFY(c.size() >= 4);
        QCOMPARE(c[0], std::string("/a/lib/libtorchneuron.so"));
        QCOMPARE(c[1], std::string("/b/libtorchneuron.so"));
        QVERIFY(std::find(c.begin(), c.end(), "/opt/aws/neuron/lib/libtorchneuron.so") != c.end());
        QCOMPARE(c.back(), std::string("libtorchneuron.so")); // the loader's own path, last
    }
    {
        // An explicit choice is the only one tried: no silent fallback to another copy.
        EnvOverride a("BUCKETLAB_NEURON_LIB", dir_.path().toUtf8());
        EnvOverride b("NEURON_LIBRARY_PATH", "/a/lib");
        QCOMPARE(neuronLibraryCandidates(), std::vector<std::string>{path("libtorchneuron.so")});
    }
}

void TestProfiler::progressReportsEveryStage()
{
    ProfileRequest r;
    r.model = small_;
    r.inputs = demoInputs();
    r.lengths = {8, 32};
    r.budgetS = 2;
    r.targetCiPct = 0; // sample for the whole budget, so there is progress to report
    ProfileObserver control;
    control.intervalS = 0.05;
    std::vector<ProfileStage> stages;
    std::vector<size_t> done;
    double lastElapsed = 0;
    bool elapsedMonotone = true, remainingSane = true, pointsPresent = true;
    int64_t liveSamples = 0;
    control.progress = [&](const ProfilerProgress& p) {
        stages.push_back(p.stage);
        elapsedMonotone &= p.elapsedS >= lastElapsed;
        lastElapsed = p.elapsedS;
        remainingSane &= p.remainingS >= 0 && p.remainingS <= r.budgetS;
        QCOMPARE(p.pointCount, p.stage == ProfileStage::Loading ? size_t(0) : size_t(2));
        if (p.stage == ProfileStage::WarmingUp || p.stage == ProfileStage::Sampling ||
            p.stage == ProfileStage::PointDone)
            pointsPresent &= p.point != nullptr && p.pointIndex < 2;
        if (p.stage == ProfileStage::Sampling && p.point)
            liveSamples = std::max(liveSamples, p.point->samples);
        if (p.stage == ProfileStage::PointDone) {
            done.push_back(p.pointIndex);
            QCOMPARE(p.point->samples, int64_t(p.point->samplesMs.size()));
        }
    };
    runProfile(r, {}, control);
    QVERIFY(elapsedMonotone);
    QVERIFY(remainingSane);
    QVERIFY(pointsPresent);
    QCOMPARE(stages.front(), ProfileStage::Loading);
    QCOMPARE(stages.back(), ProfileStage::Finished);
    QCOMPARE(std::count(stages.begin(), stages.end(), ProfileStage::WarmingUp), 2l);
    QVERIFY(std::count(stages.begin(), stages.end(), ProfileStage::Sampling) >= 3);
    std::sort(done.begin(), done.end());
    QCOMPARE(done, (std::vector<size_t>{0, 1})); // each shape's final figures exactly once
    QVERIFY(liveSamples > 1);                    // live statistics, for a plot to follow
}

void TestProfiler::budgetIsKept_data()
{
    QTest::addColumn<double>("callMs");
    QTest::addColumn<double>("budget");
    // Fast shapes (thousands of samples: bookkeeping) and slow ones (a few dozen).
    QTest::addRow("1 ms calls, 3 s") << 1.0 << 3.0;
    QTest::addRow("40 ms calls, 5 s") << 40.0 << 5.0;
    QTest::addRow("900 ms calls, 4 s") << 900.0 << 4.0;
}

void TestProfiler::budgetIsKept()
{
    // On a simulated device clock: the length-48 shape takes twice as long as length 8.
    // The run must use its budget (no earlier stop while it lasts) and never start a call
    // that would end past it, except the one sample every shape is owed.
    QFETCH(double, callMs);
    QFETCH(double, budget);
    ProfileRequest r = demoRequest({8, 48}, budget);
    r.model = small_;
    r.targetCiPct = 0; // never satisfied: the budget is what stops it
    double clockMs = 0, longestMs = 0;
    int64_t calls = 0;
    bool callsCounted = true; // the profiler numbers its calls 0, 1, 2, ...
    r.simulatedCallMs = [&](int64_t length, int64_t, int64_t call) {
        callsCounted &= call == calls;
        ++calls;
        const double ms = length == 8 ? callMs : 2 * callMs;
        clockMs += ms;
        longestMs = std::max(longestMs, ms);
        return ms;
    };
    const Profile p = runProfile(r);
    QCOMPARE(p.settings.at("stopped_by"), std::string("budget"));
    QCOMPARE(p.settings.at("clock"), std::string("simulated"));
    QVERIFY(callsCounted);
    QVERIFY(p.points[0].samples >= 1 && p.points[1].samples >= 1);
    const double elapsedS = clockMs / 1000.0;
    qInfo("budget %.1f s: the simulated run took %.3f s in %lld calls", budget, elapsedS,
          (long long)calls);
    // The least a run does: the warm-up every shape needs and one sample of each.
    double leastMs = 0;
    for (const auto& pt : p.points)
        leastMs += double(pt.warmupRuns + 1) * (pt.length == 8 ? callMs : 2 * callMs);
    if (leastMs > budget * 1000) {
        // Calls too slow for the budget: one sample each, nothing more.
        QCOMPARE(p.points[0].samples, int64_t(1));
        QCOMPARE(p.points[1].samples, int64_t(1));
        QCOMPARE(clockMs, leastMs);
        return;
    }
    QVERIFY2(elapsedS <= budget + longestMs / 1000.0,
             qPrintable(QString("took %1 s of a %2 s budget").arg(elapsedS).arg(budget)));
    QVERIFY2(elapsedS >= budget - longestMs / 1000.0,
             qPrintable(QString("stopped at %1 s of a %2 s budget").arg(elapsedS).arg(budget)));
    // Every call made is a warm-up run or a sample.
    QCOMPARE(calls, p.points[0].warmupRuns + p.points[0].samples + p.points[1].warmupRuns +
                        p.points[1].samples);
}

void TestProfiler::cancelFinishesOnlyTheCallUnderWay_data()
{
    QTest::addColumn<ProfileStage>("cancelDuring");
    QTest::addRow("while sampling") << ProfileStage::Sampling;
    QTest::addRow("while warming up") << ProfileStage::WarmingUp;
}

void TestProfiler::cancelFinishesOnlyTheCallUnderWay()
{
    // Cancelling while a call is under way lets that call finish and starts no other: on
    // a simulated clock, the run stops after exactly the call during which it was cancelled,
    // so cancelling costs at most one sample (the real-time figure is bench_profiler's).
    QFETCH(ProfileStage, cancelDuring);
    ProfileRequest r = demoRequest({8, 48}, 120);
    r.model = small_;
    r.targetCiPct = 0;
    std::atomic<bool> cancel{false};
    bool reached = false;
    int64_t calls = 0, cancelledInCall = -1;
    ProfileObserver control;
    control.intervalS = 0.02;
    control.progress = [&](const ProfilerProgress& p) {
        if (p.stage == cancelDuring && p.round <= 3)
            reached = true;
    };
    r.simulatedCallMs = [&](int64_t, int64_t, int64_t call) {
        ++calls;
        if (reached && cancelledInCall < 0) {
            cancel = true; // while this call runs
            cancelledInCall = call;
        }
        return 5.0;
    };
    bool threwCancelled = false;
    try {
        runProfile(r, Job::cancellable(&cancel), control);
    } catch (const Cancelled&) {
        threwCancelled = true;
    }
    QVERIFY(reached);
    QVERIFY(cancelledInCall >= 0);
    QVERIFY(threwCancelled);
    QCOMPARE(calls, cancelledInCall + 1);
}

QTEST_GUILESS_MAIN(TestProfiler)
#include "tst_profiler.moc"
