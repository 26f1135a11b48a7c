// The profiler's decoder phases: the demo decoder is a real KV-cache decoder (a decode step
// continues a prefill exactly), each phase times the call it names with the inputs it
// promises (checked by a decoder that reports what it was given), statistics on a simulated
// device clock, the phase recorded in the profile, and bad requests refused before anything
// big is allocated.
#include "core/demo/demo.h"
#include "core/demo/demo_decoder.h"
#include "core/latency/latency_curve.h"
#include "core/latency/profiler.h"
#include "core/llm/llm_evaluator.h"
#include "core/runtime/torch_io_p.h"
#include "core/util/error.h"
#include "core/util/output_file.h"
#include "core/util/sha256.h"
#include "envoverride.h"
#include "testutil.h"

#include <torch/script.h>

#include <QTemporaryDir>
#include <QTest>

#include <cmath>

using namespace bucketlab;
using namespace bucketlab::test;

using RequestEdit = std::function<void(ProfileRequest&)>;
Q_DECLARE_METATYPE(RequestEdit)
Q_DECLARE_METATYPE(bucketlab::DecoderPhase)

namespace {

// A decoder that checks what each call was given and fails at one length with a message
// that spells it out, so a test can read back exactly what the profiler passed.
const char* kProbeDecoder = R"(
def prefill(self, input_ids: Tensor) -> Tensor:
    if input_ids.size(1) == 48:
        raise Exception("prefill saw " + str(input_ids.size(0)) + "x" + str(input_ids.size(1)) + " tokens " + str(int(input_ids.min())) + ".." + str(int(input_ids.max())))
    return input_ids.to(torch.float32).sum(1)

def decode(self, input_ids: Tensor, cache: Tensor, position: int) -> Tensor:
    if cache.size(1) == 48:
        raise Exception("decode saw " + str(input_ids.size(0)) + "x" + str(input_ids.size(1)) + " tokens, cache " + str(cache.size(0)) + "x" + str(cache.size(1)) + "x" + str(cache.size(2)) + ", position " + str(position))
    return cache.sum(2)

def empty_cache(self, batch: int, length: int) -> Tensor:
    return torch.zeros([batch, length, 8], dtype=torch.float32)
)";

void writeProbeDecoder(const std::string& path)
{
    torch::jit::Module m("__torch__.bucketlab.ProbeDecoder");
    m.define(kProbeDecoder, scriptResolver());
    writeFileAtomically(path, saveModuleToBytes(m), true);
}

double simulatedMs(DecoderPhase phase, int64_t length, int64_t batch)
{
    return phase == DecoderPhase::Prefill ? 0.5 + 0.01 * double(length * batch)
                                          : 0.2 + 0.001 * double(length) * double(batch);
}

} // namespace

class TestDecoderProfile : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void demoDecoderIsDeterministic();
    void decodeStepContinuesPrefill();
    void phasesOnASimulatedClock_data();
    void phasesOnASimulatedClock();
    void phaseGetsTheInputsItPromises_data();
    void phaseGetsTheInputsItPromises();
    void realDecoderBothPhases();
    void badRequests_data();
    void badRequests();
    void cacheCountsAgainstTheMemoryBudget();
    void llmRefusesAProfileOfTheOtherPhase();

private:
    std::string path(const char* name) const { return dir_.filePath(name).toStdString(); }
    ProfileRequest request(DecoderPhase phase, std::vector<int64_t> lengths) const
    {
        ProfileRequest r;
        r.model = decoder_;
        r.phase = phase;
        r.lengths = std::move(lengths);
        r.budgetS = 2;
        return r;
    }
    QTemporaryDir dir_;
    std::string decoder_, probe_, encoder_;
};

void TestDecoderProfile::initTestCase()
{
    QVERIFY(dir_.isValid());
    decoder_ = path("decoder.pt");
    writeDemoDecoder(decoder_);
    probe_ = path("probe.pt");
    writeProbeDecoder(probe_);
    encoder_ = path("encoder.pt");
    DemoModelConfig small;
    small.vocab = 100;
    small.layers = 1;
    small.maxPositions = 64;
    writeDemoModel(encoder_, small);
}

void TestDecoderProfile::demoDecoderIsDeterministic()
{
    writeDemoDecoder(path("again.pt"));
    QCOMPARE(sha256File(path("again.pt")), sha256File(decoder_));
    // Refuses to replace a file unless asked.
    QVERIFY_THROWS_EXCEPTION(Error, writeDemoDecoder(decoder_, {}, /*replace=*/false));
}

void TestDecoderProfile::decodeStepContinuesPrefill()
{
    // prefill(t[0..n]) then one decode step of t[n] in a bucket of 32 slots gives the logits
    // of prefill(t[0..n+1]): the cache carries the context, the masked slots add nothing.
    torch::NoGradGuard noGrad;
    auto m = torch::jit::load(decoder_);
    m.eval();
    const int64_t n = 11, slots = 32;
    auto ids = torch::arange(3, 3 + 2 * (n + 1), 2, torch::kInt64).view({1, n + 1}).repeat({2, 1});
    ids[1].copy_(ids[1].flip(0));
    auto prefix = m.get_method("prefill")({ids.narrow(1, 0, n)}).toTuple();
    const auto cacheN = prefix->elements()[1].toTensor();
    QCOMPARE(cacheN.sizes().vec(), (std::vector<int64_t>{2, 2, 2, 4, n, 16}));
    auto cache = m.get_method("empty_cache")({int64_t(2), slots}).toTensor();
    QCOMPARE(cache.sizes().vec(), (std::vector<int64_t>{2, 2, 2, 4, slots, 16}));
    cache.narrow(4, 0, n).copy_(cacheN);
    const auto stepped = m.get_method("decode")({ids.narrow(1, n, 1), cache, n}).toTensor();
    const auto full = m.get_method("prefill")({ids}).toTuple()->elements()[0].toTensor();
    QCOMPARE(stepped.sizes().vec(), (std::vector<int64_t>{2, 512}));
    const double diff = (stepped - full).abs().max().item<double>();
    qInfo("decode step vs prefill of n+1 tokens: max |diff| %.2e", diff);
    QVERIFY2(diff < 1e-4, qPrintable(QString::number(diff)));
    // Its keys and values went into slot n; the slots after it are untouched.
    QVERIFY(cache.narrow(4, n, 1).abs().sum().item<double>() > 0);
    QCOMPARE(cache.narrow(4, n + 1, slots - n - 1).abs().sum().item<double>(), 0.0);
    // And the next logits differ from the prefix's: the step is not a no-op.
    QVERIFY((stepped - prefix->elements()[0].toTensor()).abs().max().item<double>() > 1e-3);
}

void TestDecoderProfile::phasesOnASimulatedClock_data()
{
    QTest::addColumn<DecoderPhase>("phase");
    QTest::addRow("prefill") << DecoderPhase::Prefill;
    QTest::addRow("decode") << DecoderPhase::Decode;
}

void TestDecoderProfile::phasesOnASimulatedClock()
{
    // Every call runs the real decoder; the clock is simulated, so each sample is exactly
    // the simulated duration of the phase at that shape, and the statistics follow exactly.
    QFETCH(DecoderPhase, phase);
    ProfileRequest r = request(phase, {16, 128, 512});
    r.batches = {1, 2};
    int64_t calls = 0;
    r.simulatedCallMs = [&](int64_t length, int64_t batch, int64_t) {
        ++calls;
        return simulatedMs(phase, length, batch);
    };
    const Profile p = runProfile(r);
    QCOMPARE(p.settings.at("phase"), decoderPhaseName(phase));
    QCOMPARE(profilePhase(p), decoderPhaseName(phase));
    QCOMPARE(
        p.settings.at("target"),
        std::string(phase == DecoderPhase::Prefill ? "decoder prefill" : "decoder decode step"));
    QCOMPARE(p.settings.at("clock"), std::string("simulated"));
    QCOMPARE(p.points.size(), size_t(6));
    int64_t counted = 0;
    for (const auto& pt : p.points) {
        QVERIFY2(pt.ok(), pt.error.c_str());
        const double ms = simulatedMs(phase, pt.length, pt.batch);
        QCOMPARE(pt.p50Ms, ms);
        QCOMPARE(pt.meanMs, ms);
        QCOMPARE(pt.ci95LowMs, ms);
        QCOMPARE(pt.ci95HighMs, ms);
        QVERIFY(pt.samples >= 10); // the minimum before a converged shape may stop
        counted += pt.samples + pt.warmupRuns;
    }
    QCOMPARE(calls, counted); // every call a warm-up run or a sample
    // Written and read back, the curve keeps the phase; llm reads it by that phase.
    writeProfile(path("sim.json"), p, true);
    const LatencyCurve curve = LatencyCurve::load(path("sim.json"));
    QCOMPARE(curve.phase(), decoderPhaseName(phase));
    QCOMPARE(curve.at(128), simulatedMs(phase, 128, 1)); // the smallest batch
}

void TestDecoderProfile::phaseGetsTheInputsItPromises_data()
{
    QTest::addColumn<DecoderPhase>("phase");
    QTest::addColumn<QString>("saw");
    QTest::addRow("prefill") << DecoderPhase::Prefill << "prefill saw 3x48 tokens 1..1";
    QTest::addRow("decode") << DecoderPhase::Decode
                            << "decode saw 3x1 tokens, cache 3x48x8, position 47";
}

void TestDecoderProfile::phaseGetsTheInputsItPromises()
{
    // The probe fails at length 48 and says what it was given; the other length is
    // measured. Prefill gets the prompt of 48 tokens; decode one token per sequence, the
    // cache empty_cache(3, 48) made, and the last position of the bucket.
    QFETCH(DecoderPhase, phase);
    QFETCH(QString, saw);
    ProfileRequest r = request(phase, {8, 48});
    r.model = probe_;
    r.batches = {3};
    r.simulatedCallMs = [](int64_t, int64_t, int64_t) {
        return 1.0;
    };
    const Profile p = runProfile(r);
    QCOMPARE(p.points.size(), size_t(2));
    QVERIFY2(p.points[0].ok(), p.points[0].error.c_str());
    QVERIFY(!p.points[1].ok());
    QVERIFY2(QString::fromStdString(p.points[1].error).contains(saw), p.points[1].error.c_str());
    QVERIFY2(QString::fromStdString(p.points[1].error).contains("length 48, batch 3"),
             p.points[1].error.c_str());
}

void TestDecoderProfile::realDecoderBothPhases()
{
    // The wall clock on the real decoder: measured, positive, in order of the statistics.
    // (How the phases compare in time is for the figures, not a gate.)
    for (DecoderPhase phase : {DecoderPhase::Prefill, DecoderPhase::Decode}) {
        ProfileRequest r = request(phase, {32, 256});
        r.budgetS = 1.5;
        const Profile p = runProfile(r);
        QCOMPARE(p.settings.at("clock"), std::string("wall"));
        for (const auto& pt : p.points) {
            QVERIFY2(pt.ok(), pt.error.c_str());
            QVERIFY(pt.p50Ms > 0 && pt.ci95LowMs <= pt.p50Ms && pt.p50Ms <= pt.ci95HighMs);
            qInfo("%s at %lld: p50 %.3f ms (%lld samples)", decoderPhaseName(phase).c_str(),
                  (long long)pt.length, pt.p50Ms, (long long)pt.samples);
        }
    }
}

void TestDecoderProfile::badRequests_data()
{
    QTest::addColumn<RequestEdit>("edit");
    QTest::addColumn<QString>("mentions");
    QTest::addRow("encoder has no decode")
        << RequestEdit([this](ProfileRequest& r) { r.model = encoder_; })
        << "not a decoder, it has no decode() method";
    QTest::addRow("inputs given") << RequestEdit([](ProfileRequest& r) { r.inputs = demoInputs(); })
                                  << "makes a decoder's inputs itself";
    QTest::addRow("decoder too short") << RequestEdit([](ProfileRequest& r) {
        r.lengths = {20000};
        r.simulatedCallMs = [](int64_t, int64_t, int64_t) {
            return 1.0;
        };
    }) << "exceeds 16384 positions";
    QTest::addRow("bucket model") << RequestEdit([](ProfileRequest& r) { r.bucketModel = true; })
                                  << "not a package's bucket model";
}

void TestDecoderProfile::badRequests()
{
    QFETCH(RequestEdit, edit);
    QFETCH(QString, mentions);
    ProfileRequest r = request(DecoderPhase::Decode, {16});
    edit(r);
    try {
        runProfile(r);
        QFAIL("no error");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).contains(mentions), e.what());
        QVERIFY2(!QString(e.what()).contains('\n'), e.what());
    }
    QVERIFY_THROWS_EXCEPTION(Error, parseDecoderPhase("sideways"));
    QCOMPARE(parseDecoderPhase("decode"), DecoderPhase::Decode);
}

void TestDecoderProfile::cacheCountsAgainstTheMemoryBudget()
{
    // The demo cache holds 2 layers x (K, V) x 4 heads x 16 dims of float32 per slot: 1 KiB.
    // 8 sequences of 16384 slots are 128 MiB of cache: refused under a 64 MiB budget before
    // any cache is made; 2 sequences of 1024 slots fit.
    EnvOverride budget("BUCKETLAB_MEMORY_BUDGET_MIB", "64");
    ProfileRequest r = request(DecoderPhase::Decode, {16384});
    r.batches = {8};
    try {
        runProfile(r);
        QFAIL("no error");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).contains("memory budget"), e.what());
    }
    r.lengths = {1024};
    r.batches = {2};
    r.simulatedCallMs = [](int64_t, int64_t, int64_t) {
        return 1.0;
    };
    QVERIFY(runProfile(r).points[0].ok());
}

void TestDecoderProfile::llmRefusesAProfileOfTheOtherPhase()
{
    auto write = [&](DecoderPhase phase, const char* name) {
        ProfileRequest r = request(phase, {16, 64});
        r.simulatedCallMs = [phase](int64_t length, int64_t batch, int64_t) {
            return simulatedMs(phase, length, batch);
        };
        writeProfile(path(name), runProfile(r), true);
        return LatencyCurve::load(path(name));
    };
    const LatencyCurve prefill = write(DecoderPhase::Prefill, "cte.json");
    const LatencyCurve decode = write(DecoderPhase::Decode, "tkg.json");
    const LatencyCurve analytic = LatencyCurve::load("linear:1,0.01");
    checkCurvePhases(prefill, decode);  // right way round
    checkCurvePhases(analytic, decode); // no phase recorded: nothing to check
    checkCurvePhases(prefill, analytic);
    struct Case {
        const LatencyCurve& cte;
        const LatencyCurve& tkg;
        const char* mentions;
    };
    for (const Case& c : {Case{decode, decode, "tkg.json measured decode steps"},
                          Case{prefill, prefill, "cte.json measured prefill"},
                          Case{decode, prefill, "are swapped"}}) {
        try {
            checkCurvePhases(c.cte, c.tkg);
            QFAIL("no error");
        } catch (const Error& e) {
            QVERIFY2(QString(e.what()).contains(c.mentions), e.what());
            // Both latencies are named, so a front end names both of its controls.
            QVERIFY2(QString::fromStdString(e.marked())
                         .contains(QString::fromStdString(subject(Field::CteLatency))),
                     e.what());
            QVERIFY2(QString::fromStdString(e.marked())
                         .contains(QString::fromStdString(subject(Field::TkgLatency))),
                     e.what());
        }
    }
}

QTEST_GUILESS_MAIN(TestDecoderProfile)
#include "tst_decoder_profile.moc"
