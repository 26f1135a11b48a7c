// "Measure and refine" in the Buckets view, driven as a user drives it: open the demo (its
// package, MRPC traffic and measured profile), click the button, watch the rounds appear while
// the UI thread keeps running, read the verdict, find the refined set active as one undo step,
// and cancel a second run. The measuring runs go through the real profiler on the demo
// package (every call runs the model), with a simulated device clock so the figures are exact
// whatever the machine's load: the demo profile's own curve, with lengths that are multiples
// of 64 20 % cheaper (fine structure the profile's grid cannot see). A screenshot of the panel
// goes to build/test-output/tst_refinepanel/.
#include "core/latency/latency_curve.h"
#include "core/latency/profile_format.h"
#include "guitest.h"
#include "stallwatchdog.h"
#include "ui/models/backgroundjob.h"
#include "ui/models/session.h"
#include "ui/models/sessionloader.h"
#include "ui/views/bucketsview.h"
#include "ui/views/plot.h"

#include <QDir>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QUndoStack>

#include <memory>

using namespace bucketlab;
using namespace bucketlab::ui;

class TestRefinePanel : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();
    void refinesOnTheOpenPackageAsOneUndoStep();
    void cancelLeavesTheSessionAlone();
    void needsAMeasuredProfileAndAModel();

private:
    void openDemo();
    Session* session_ = nullptr;
    BucketsView* view_ = nullptr;
    SessionLoader* loader_ = nullptr;
    std::shared_ptr<LatencyCurve> device_;
};

void TestRefinePanel::initTestCase()
{
    QDir().mkpath(BUCKETLAB_TEST_OUTPUT);
}

void TestRefinePanel::init()
{
    session_ = new Session;
    loader_ = new SessionLoader(session_);
    view_ = new BucketsView(session_);
    view_->resize(1400, 820);
    view_->show();
    QVERIFY(QTest::qWaitForWindowExposed(view_));
}

void TestRefinePanel::cleanup()
{
    delete view_;
    delete loader_;
    delete session_;
}

void TestRefinePanel::openDemo()
{
    QSignalSpy loaded(loader_, &SessionLoader::finished);
    loader_->openDemo(QDir::temp().filePath("bucketlab_tst_refinepanel_demo"));
    QVERIFY(signalSeen(loaded, 120000));
    QVERIFY2(loaded.last().at(0).toBool(), qPrintable(loaded.last().at(1).toString()));
    QVERIFY(session_->model());
    QVERIFY(!session_->profiles().empty());
    // The simulated device: the demo profile's curve, multiples of 64 cheaper.
    device_ = std::make_shared<LatencyCurve>(
        LatencyCurve::fromProfile(session_->profiles().front().profile, "demo"));
    view_->setRefineSimulatedClock([device = device_](int64_t length, int64_t, int64_t) {
        return device->at(length) * (length % 64 == 0 ? 0.8 : 1.0);
    });
    view_->setRefineBudget(2); // simulated seconds: a deterministic clock converges at once
    view_->setOptimizeSettings(4, 0);
}

void TestRefinePanel::refinesOnTheOpenPackageAsOneUndoStep()
{
    openDemo();
    const auto before = session_->activeBoundaries().values();
    QCOMPARE(before, (std::vector<int64_t>{128, 512}));
    const int steps = session_->undoStack()->count();
    const int sets = int(session_->boundarySets().size());

    auto* button = view_->findChild<QPushButton*>("refineButton");
    auto* optimize = view_->findChild<QPushButton*>("optimizeButton");
    auto* cancel = view_->findChild<QPushButton*>("optimizeCancel");
    QVERIFY(button && optimize && cancel);
    QSignalSpy done(view_, &BucketsView::refineFinished);
    QSignalSpy rounds(view_->refineJob(), &BackgroundJob::partialResult);
    bool sawRunning = false;
    {
        StallWatchdog watchdog([&] { return view_->refineJob()->isRunning(); });
        QTest::mouseClick(button, Qt::LeftButton);
        QVERIFY(view_->refineJob()->isRunning());
        // While it runs: Cancel is offered, Optimize and the button itself are not.
        QVERIFY(cancel->isEnabled());
        QVERIFY(!optimize->isEnabled() && !button->isEnabled());
        sawRunning = true;
        QVERIFY(signalSeen(done, 300000));
        // The UI thread ran its event loop throughout (the work is off it).
        QVERIFY2(watchdog.busyTicks() > 0, "the UI thread did not run while refining");
    }
    QVERIFY(sawRunning);
    QCOMPARE(done.last().at(0).toBool(), true);
    QVERIFY(button->isEnabled() && optimize->isEnabled() && !cancel->isEnabled());

    // Each round shown as it came, then the verdict with both intervals.
    const QString log = view_->refineLog();
    QVERIFY(rounds.size() >= 2);
    for (int i = 0; i < rounds.size(); ++i)
        QVERIFY2(log.contains(QString("round %1: ").arg(i + 1)), qPrintable(log));
    QVERIFY2(log.contains(QRegularExpression(
                 "Predicted mean [0-9.]+ ms \\(95 % CI [0-9.]+–[0-9.]+\\), measured [0-9.]+ ms "
                 "\\(95 % CI [0-9.]+–[0-9.]+\\): error [-+][0-9.]+ %, within the 5 % "
                 "tolerance")),
             qPrintable(log));
    QVERIFY2(log.contains("converged") || log.contains("in " + QString::number(rounds.size())),
             qPrintable(log));
    QVERIFY(log.contains("the rounds' own estimate"));

    // The refined set is active, as one undo step, keeps the served range, and is the last
    // round's boundaries.
    const auto* active = session_->activeSet();
    QVERIFY(active);
    QCOMPARE(active->name, std::string("refined"));
    const auto refined = active->boundaries;
    QCOMPARE(refined.largest(), int64_t(512));
    const QString lastRound = rounds.last().at(0).toString();
    QVERIFY2(lastRound.contains(QString::fromStdString(refined.str())), qPrintable(lastRound));
    QVERIFY2(lastRound.contains("every boundary measured"), qPrintable(lastRound));
    // The device's cheap multiples of 64 the grid could not see: the refinement found one.
    QVERIFY2(std::any_of(refined.begin(), refined.end(),
                         [](int64_t b) { return b % 64 == 0 && b < 512; }),
             refined.str().c_str());
    QCOMPARE(session_->undoStack()->count(), steps + 1);
    QCOMPARE(int(session_->boundarySets().size()), sets + 1);
    view_->plot()->replot(QCustomPlot::rpImmediateRefresh);
    view_->grab().save(QString(BUCKETLAB_TEST_OUTPUT) + "/refine_panel.png");

    session_->undoStack()->undo();
    QCOMPARE(session_->activeBoundaries().values(), before);
    QCOMPARE(int(session_->boundarySets().size()), sets);
    session_->undoStack()->redo();
    QCOMPARE(session_->activeSet()->name, std::string("refined"));
    QCOMPARE(session_->activeBoundaries(), refined);
}

void TestRefinePanel::cancelLeavesTheSessionAlone()
{
    openDemo();
    const int steps = session_->undoStack()->count();
    const auto before = session_->activeBoundaries().values();
    // A device whose calls alternate between two speeds (no median interval ever narrows to
    // the target) and a long budget: the first run is still measuring when cancelled.
    view_->setRefineBudget(600);
    view_->setRefineSimulatedClock([device = device_](int64_t length, int64_t, int64_t call) {
        return device->at(length) * (call % 2 ? 1.0 : 3.0);
    });
    QSignalSpy done(view_, &BucketsView::refineFinished);
    QSignalSpy cancelled(view_->refineJob(), &BackgroundJob::cancelled);
    QSignalSpy progress(view_->refineJob(), &BackgroundJob::progress);
    view_->measureAndRefine();
    QVERIFY(signalSeen(progress, 60000));
    QTest::mouseClick(view_->findChild<QPushButton*>("optimizeCancel"), Qt::LeftButton);
    QVERIFY(signalSeen(done, 120000));
    QCOMPARE(done.last().at(0).toBool(), false);
    QCOMPARE(cancelled.size(), 1);
    QVERIFY(view_->refineLog().endsWith("Cancelled."));
    QCOMPARE(session_->undoStack()->count(), steps);
    QCOMPARE(session_->activeBoundaries().values(), before);
}

void TestRefinePanel::needsAMeasuredProfileAndAModel()
{
    // Traffic and an analytic curve, no model: refused with a note, nothing started.
    session_->setTraffic(LengthHistogram::fromCounts({{20, 5}, {60, 3}, {100, 2}}),
                         {"test traffic", "inline", {}});
    session_->setLatency(LatencyCurve::fromSpec("linear:0.5,0.01"),
                         {"analytic", "linear:0.5,0.01"});
    QSignalSpy done(view_, &BucketsView::refineFinished);
    view_->measureAndRefine();
    QCOMPARE(done.size(), 1);
    QCOMPARE(done.last().at(0).toBool(), false);
    QVERIFY(!view_->refineJob()->isRunning());
    QVERIFY2(view_->refineLog().contains("needs a model or package to measure"),
             qPrintable(view_->refineLog()));
}

QTEST_MAIN(TestRefinePanel)
#include "tst_refinepanel.moc"
