// The LLM view's model on its own (no Qt Widgets): the shipped Azure coding trace priced
// live by the core's evaluator, edits with undo, Optimize on a BackgroundJob giving the
// core tuner's optimum, and export that writes only configs passing NxD's and vLLM's rules.
#include "core/latency/profile_format.h"
#include "core/llm/compile_cost.h"
#include "core/llm/nxd_bucket_rule.h"
#include "core/util/format.h"
#include "signalseen.h"
#include "ui/models/backgroundjob.h"
#include "ui/models/llmsession.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>
#include <QUndoStack>

#include <algorithm>

using namespace bucketlab;
using namespace bucketlab::ui;

namespace {

const QString kDemo = QStringLiteral(BUCKETLAB_SOURCE_DIR "/resources/llm/azure_code_pairs.csv");
const QString kCte = "poly:8,0.025,0.0000025";
const QString kTkg = "linear:9,0.0004";

LlmCosts costs()
{
    LlmCosts c;
    c.cte = LatencyCurve::load(kCte.toStdString());
    c.tkg = LatencyCurve::load(kTkg.toStdString());
    return c;
}

QByteArray readAll(const QString& path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

} // namespace

class TestLlmSession : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void init();
    void cleanup();
    void opensTheDemoAtNxdDefaults();
    void liveEditsAndUndo();
    void optimizeRunsTheTunerOffTheUiThread();
    void compileBudgetBoundsOptimize();
    void exportWritesConfigsThatPassTheRules();
    void brokenListsAreShownAndNotExported();
    void badTraceIsOneLine();
    void curvesOfTheOtherPhaseAreRefused();
    void bucketsAddedAndRemovedByHand();

private:
    LlmSession* session_ = nullptr;
    RequestTraffic traffic_;
};

void TestLlmSession::init()
{
    session_ = new LlmSession;
    QCOMPARE(session_->setCurves(kCte, kTkg), QString());
    QCOMPARE(session_->setLimits(8192, 10240), QString());
    QCOMPARE(session_->openTraffic(kDemo), QString());
    traffic_ = loadRequestTraffic(kDemo.toStdString(), {});
}

void TestLlmSession::cleanup()
{
    delete session_;
    session_ = nullptr;
}

void TestLlmSession::opensTheDemoAtNxdDefaults()
{
    QVERIFY(session_->ready());
    QCOMPARE(session_->traffic().requests(), traffic_.requests());
    QCOMPARE(session_->lists(LlmPhase::Cte).values(), nxdGenerateBuckets(128, 8192));
    QCOMPARE(session_->lists(LlmPhase::Tkg).values(), nxdGenerateBuckets(128, 10240));
    const auto& e = session_->evaluation();
    QVERIFY(e.has_value());
    const LlmEvaluation direct =
        evaluateLlmBuckets(traffic_, {8192, 10240, 0}, costs(), session_->bucketLists());
    QCOMPARE(e->meanRequestMs, direct.meanRequestMs);
    QCOMPARE(e->p99TtftMs, direct.p99TtftMs);
    const QString totals = session_->totalsText();
    QVERIFY2(totals.contains(QString::fromStdString(formatNumber(direct.meanRequestMs, 2) + " ms")),
             qPrintable(totals));
    QVERIFY2(totals.contains(QString("CTE %1 + TKG %2 buckets = %3 models")
                                 .arg(direct.lists.cte.size())
                                 .arg(direct.lists.tkg.size())
                                 .arg(direct.models)),
             qPrintable(totals));
    QVERIFY(session_->violations().empty());
    QCOMPARE(session_->undoStack()->count(), 0);
}

void TestLlmSession::liveEditsAndUndo()
{
    const LlmBucketLists before = session_->bucketLists();
    const double meanBefore = session_->evaluation()->meanRequestMs;
    auto cte = before.cte.values();
    cte[2] = 900; // 512 -> 900
    session_->setLists(LlmPhase::Cte, cte);
    QCOMPARE(session_->lists(LlmPhase::Cte).values(), cte);
    const double meanLive = session_->evaluation()->meanRequestMs;
    QVERIFY(meanLive != meanBefore);
    LlmBucketLists expected = before;
    expected.cte = Boundaries::from(cte, "test");
    QCOMPARE(meanLive,
             evaluateLlmBuckets(traffic_, {8192, 10240, 0}, costs(), expected).meanRequestMs);
    QCOMPARE(session_->undoStack()->count(), 0); // live edits record nothing
    session_->editLists(session_->bucketLists(), "Move CTE bucket 3", before);
    QCOMPARE(session_->undoStack()->count(), 1);
    session_->undoStack()->undo();
    QCOMPARE(session_->lists(LlmPhase::Cte).values(), before.cte.values());
    QCOMPARE(session_->evaluation()->meanRequestMs, meanBefore);
    session_->undoStack()->redo();
    QCOMPARE(session_->lists(LlmPhase::Cte).values(), cte);
    QCOMPARE(session_->evaluation()->meanRequestMs, meanLive);
    // A list that is not a list (repeats) is ignored while dragging.
    session_->setLists(LlmPhase::Cte, {128, 128, 8192});
    QCOMPARE(session_->lists(LlmPhase::Cte).values(), cte);
}

void TestLlmSession::optimizeRunsTheTunerOffTheUiThread()
{
    session_->setTotalBuckets(12);
    QSignalSpy done(session_, &LlmSession::optimizeFinished);
    session_->optimize();
    QVERIFY(session_->optimizeJob()->isRunning()); // returned before the tuner finished
    QVERIFY(signalSeen(done, 120000));
    QVERIFY2(done.first().at(0).toBool(), qPrintable(done.first().at(1).toString()));
    LlmTuneSettings settings;
    settings.limits = {8192, 10240, 0};
    settings.totalBuckets = 12;
    const LlmTuneResult direct = tuneLlmBuckets(traffic_, costs(), settings);
    QCOMPARE(session_->lists(LlmPhase::Cte).values(), direct.best.lists.cte.values());
    QCOMPARE(session_->lists(LlmPhase::Tkg).values(), direct.best.lists.tkg.values());
    QCOMPARE(session_->evaluation()->meanRequestMs, direct.best.meanRequestMs);
    QVERIFY(session_->evaluation()->models <= 12);
    QCOMPARE(int(session_->tuneResult()->paretoByModels.size()), 11); // 2..12 models
    QCOMPARE(session_->undoStack()->count(), 1);
    // A Pareto point is one more undo step; undo twice is NxD's defaults again.
    session_->applyParetoPoint(4);
    QCOMPARE(session_->evaluation()->models, direct.paretoByModels[4].models);
    QCOMPARE(session_->evaluation()->meanRequestMs, direct.paretoByModels[4].meanRequestMs);
    session_->undoStack()->undo();
    session_->undoStack()->undo();
    QCOMPARE(session_->lists(LlmPhase::Cte).values(), nxdGenerateBuckets(128, 8192));
}

// With a compile cost per bucket, the compile budget bounds what Optimize may choose, as
// the core tuner does with the same budget.
void TestLlmSession::compileBudgetBoundsOptimize()
{
    QCOMPARE(session_->setCompileCost("linear:60,0.01"), QString());
    session_->setTotalBuckets(14);
    session_->setCompileBudget(600);
    QSignalSpy done(session_, &LlmSession::optimizeFinished);
    session_->optimize();
    QVERIFY(signalSeen(done, 120000));
    QVERIFY2(done.first().at(0).toBool(), qPrintable(done.first().at(1).toString()));
    LlmCosts c = costs();
    c.cteCompile = CompileCost::load("linear:60,0.01");
    c.tkgCompile = c.cteCompile;
    LlmTuneSettings settings;
    settings.limits = {8192, 10240, 0};
    settings.totalBuckets = 14;
    settings.compileBudgetS = 600;
    const LlmTuneResult direct = tuneLlmBuckets(traffic_, c, settings);
    QVERIFY(direct.feasible);
    QCOMPARE(session_->lists(LlmPhase::Cte).values(), direct.best.lists.cte.values());
    QCOMPARE(session_->lists(LlmPhase::Tkg).values(), direct.best.lists.tkg.values());
    QVERIFY(session_->evaluation()->compileS <= 600);
    QVERIFY(session_->evaluation()->models < 14); // the budget binds before the count does
    QVERIFY(session_->totalsText().contains(" · compile "));
    // A bad compile cost is one line, and the old one stays.
    const QString error = session_->setCompileCost("linear:x");
    QVERIFY(!error.isEmpty() && !error.contains('\n'));
    QVERIFY(session_->costs().cteCompile.known());
}

void TestLlmSession::exportWritesConfigsThatPassTheRules()
{
    QTemporaryDir dir;
    const QString nxd = dir.filePath("nxd.json"), vllm = dir.filePath("vllm.json");
    QCOMPARE(session_->exportConfigs(nxd, vllm), QString());
    const NxdBucketConfig back = nxdConfigFromJson(readAll(nxd).toStdString(), "nxd.json");
    QVERIFY(checkNxdConfig(back).empty());
    QCOMPARE(back.contextEncodingBuckets, session_->lists(LlmPhase::Cte).values());
    QCOMPARE(back.tokenGenerationBuckets, session_->lists(LlmPhase::Tkg).values());
    QCOMPARE(back.maxContextLength, 8192);
    QCOMPARE(back.seqLen, 10240);
    NxdBucketConfig v = nxdConfigFromJson(readAll(vllm).toStdString(), "vllm.json");
    v.batchSize = 1;
    QVERIFY(checkVllmOverride(v, {10240, 1, 8192}).empty());
    QVERIFY(readAll(vllm).contains("override_neuron_config"));
}

void TestLlmSession::brokenListsAreShownAndNotExported()
{
    // The limits shrink under the lists: the largest CTE bucket (8192) is now above
    // max_context_length.
    QCOMPARE(session_->setLimits(4096, 10240), QString());
    QCOMPARE(session_->lists(LlmPhase::Cte).values().back(), 8192);
    const auto v = session_->violations();
    QVERIFY(!v.empty());
    QCOMPARE(QString::fromStdString(v.front().rule), "nxd.context_buckets_le_max_context");
    QTemporaryDir dir;
    const QString nxd = dir.filePath("nxd.json");
    const QString error = session_->exportConfigs(nxd, QString());
    QVERIFY2(error.contains("nxd.context_buckets_le_max_context"), qPrintable(error));
    QVERIFY(!error.contains('\n'));
    QVERIFY(!QFile::exists(nxd));
    // NxD's defaults for the new limits fix it, as one undo step.
    session_->resetToNxdDefaults();
    QVERIFY(session_->violations().empty());
    QCOMPARE(session_->exportConfigs(nxd, QString()), QString());
    QVERIFY(QFile::exists(nxd));
}

void TestLlmSession::badTraceIsOneLine()
{
    const QString error = session_->openTraffic("/nonexistent/trace.csv");
    QVERIFY(!error.isEmpty());
    QVERIFY2(error.contains("trace.csv"), qPrintable(error));
    QVERIFY(!error.contains('\n'));
    QCOMPARE(session_->traffic().requests(), traffic_.requests()); // the old trace stays
}

void TestLlmSession::curvesOfTheOtherPhaseAreRefused()
{
    // Profiles of a decoder record their phase; a decode profile is no CTE curve.
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    auto write = [&](const char* phase, double ms) {
        Profile p;
        p.settings[kPhaseSetting] = phase;
        for (int64_t length : {128, 1024, 8192}) {
            ProfilePoint pt;
            pt.length = length;
            pt.samplesMs = {ms * double(length), ms * double(length)};
            summarizeSamples(pt);
            p.points.push_back(pt);
        }
        const QString path = dir.filePath(QString(phase) + ".json");
        writeProfile(path.toStdString(), p, true);
        return path;
    };
    const QString prefill = write(kPhasePrefill, 0.05), decode = write(kPhaseDecode, 0.001);
    const double before = session_->evaluation()->meanRequestMs;
    const QString error = session_->setCurves(decode, prefill);
    QVERIFY2(error.contains("swapped"), qPrintable(error));
    QVERIFY(!error.contains('\n'));
    QCOMPARE(session_->costs().cte.source(), kCte.toStdString()); // the old curves stay
    QCOMPARE(session_->evaluation()->meanRequestMs, before);
    QVERIFY2(session_->setCurves(decode, decode).contains("measured decode steps"),
             qPrintable(session_->setCurves(decode, decode)));
    QCOMPARE(session_->setCurves(prefill, decode), QString());
    QCOMPARE(session_->costs().cte.phase(), std::string(kPhasePrefill));
    QVERIFY(session_->evaluation()->meanRequestMs != before);
}

void TestLlmSession::bucketsAddedAndRemovedByHand()
{
    const auto cte = session_->lists(LlmPhase::Cte).values();
    const auto tkg = session_->lists(LlmPhase::Tkg).values();
    const double before = session_->evaluation()->meanRequestMs;
    // Added: sorted in, priced at once, one undo step.
    QCOMPARE(session_->addBucket(LlmPhase::Cte, 300), QString());
    auto expected = cte;
    expected.insert(std::upper_bound(expected.begin(), expected.end(), 300), 300);
    QCOMPARE(session_->lists(LlmPhase::Cte).values(), expected);
    QCOMPARE(session_->undoStack()->count(), 1);
    const LlmEvaluation direct = evaluateLlmBuckets(session_->traffic(), session_->limits(),
                                                    session_->costs(), session_->bucketLists());
    QCOMPARE(session_->evaluation()->meanRequestMs, direct.meanRequestMs);
    QVERIFY(direct.meanRequestMs < before); // a prompt bucket more: less padding
    session_->undoStack()->undo();
    QCOMPARE(session_->lists(LlmPhase::Cte).values(), cte);
    QCOMPARE(session_->evaluation()->meanRequestMs, before);
    // Removed: the same, and the other list untouched.
    QCOMPARE(session_->removeBucket(LlmPhase::Tkg, tkg[1]), QString());
    auto fewer = tkg;
    fewer.erase(fewer.begin() + 1);
    QCOMPARE(session_->lists(LlmPhase::Tkg).values(), fewer);
    QCOMPARE(session_->lists(LlmPhase::Cte).values(), cte);
    session_->undoStack()->undo();
    QCOMPARE(session_->lists(LlmPhase::Tkg).values(), tkg);
    // Refused, saying why, with nothing changed or recorded.
    const int steps = session_->undoStack()->count();
    for (const auto& [error, mentions] : std::vector<std::pair<QString, QString>>{
             {session_->addBucket(LlmPhase::Cte, cte[0]), "already there"},
             {session_->addBucket(LlmPhase::Cte, cte.back()), "pinned"},
             {session_->addBucket(LlmPhase::Tkg, 0), "start at 1"},
             {session_->removeBucket(LlmPhase::Tkg, tkg.back()), "the largest"},
             {session_->removeBucket(LlmPhase::Cte, 300), "not in the list"}})
        QVERIFY2(error.contains(mentions), qPrintable(error));
    QCOMPARE(session_->undoStack()->count(), steps);
    QCOMPARE(session_->lists(LlmPhase::Cte).values(), cte);
    QCOMPARE(session_->lists(LlmPhase::Tkg).values(), tkg);
}

QTEST_GUILESS_MAIN(TestLlmSession)
#include "tst_llmsession.moc"
