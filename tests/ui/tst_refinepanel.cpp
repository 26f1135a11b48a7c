// "Measure and refine" in the Buckets view, driven as a user drives it: open the demo (its
// package, MRPC traffic and measured profile), click the button, watch the rounds appear while
// the UI thread keeps running, read the verdict, find the refined set active as one undo step,
// and cancel a second run. The points the rounds measured join the session's latency curve
// in that same step: the Latency view names and marks them, a later Optimize prices on them,
// the project keeps them, and Undo brings back the curve before. The measuring runs go through the
// real profiler on the demo package (every call runs the model), with a simulated device clock so
// the figures are exact whatever the machine's load: the demo profile's own curve, with lengths
// that are multiples of 64 20 % cheaper (fine structure the profile's grid cannot see). A
// screenshot of the panel goes to build/test-output/tst_refinepanel/.
#include "core/latency/latency_curve.h"
#include "core/latency/profile_format.h"
#include "core/project/project.h"
#include "core/tuning/bucket_evaluator.h"
#include "core/tuning/refine.h"
#include "guitest.h"
#include "stallwatchdog.h"
#include "ui/models/backgroundjob.h"
#include "ui/models/session.h"
#include "ui/models/sessionloader.h"
#include "ui/views/bucketsview.h"
#include "ui/views/latencyview.h"
#include "ui/views/plot.h"

#include <QComboBox>
#include <QDir>
#include <QFileInfo>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QScopeGuard>
#include <QSettings>
#include <QSignalSpy>
#include <QTemporaryDir>
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
    void refinedPointsBecomeTheCurve();
    void optimizeAfterwardsPricesOnTheRefinedCurve();
    void projectKeepsTheRefinedCurve();
    void undoLeavesANewerCurveAlone();

private:
    void openDemo();
    // Refines on the demo as a user does (the button); the refined set must come out.
    void refine();
    std::unique_ptr<QTemporaryDir> profiles_;
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
    // Remembered profiles (QSettings, isolated by the test main) from an earlier test would
    // come back into this session's lists.
    QSettings().remove("profiles/saved");
    profiles_ = std::make_unique<QTemporaryDir>();
    QVERIFY(profiles_->isValid());
    session_ = new Session;
    loader_ = new SessionLoader(session_);
    view_ = new BucketsView(session_);
    view_->setRefinedProfileDirectory(profiles_->path());
    view_->resize(1400, 820);
    view_->show();
    QVERIFY(QTest::qWaitForWindowExposed(view_));
}

void TestRefinePanel::cleanup()
{
    delete view_;
    delete loader_;
    delete session_;
    profiles_.reset();
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
    view_->paretoPlot()->replot(QCustomPlot::rpImmediateRefresh);
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

void TestRefinePanel::refine()
{
    QSignalSpy done(view_, &BucketsView::refineFinished);
    QTest::mouseClick(view_->findChild<QPushButton*>("refineButton"), Qt::LeftButton);
    QVERIFY(signalSeen(done, 300000));
    QVERIFY2(done.last().at(0).toBool(), qPrintable(view_->refineLog()));
    QCOMPARE(session_->activeSet()->name, std::string("refined"));
}

void TestRefinePanel::refinedPointsBecomeTheCurve()
{
    auto* latencyView = new LatencyView(session_);
    const auto deleteView = qScopeGuard([latencyView] { delete latencyView; });
    latencyView->resize(1100, 760);
    latencyView->show();
    QVERIFY(QTest::qWaitForWindowExposed(latencyView));
    openDemo();
    const LatencySource demoSource = *session_->latencySource();
    const LatencyCurve demoCurve = session_->latency();
    const QString demoName = QFileInfo(QString::fromStdString(demoSource.source)).fileName();
    QCOMPARE(latencyView->profileChooser()->currentText(), demoName);
    const auto before = session_->activeBoundaries();
    const size_t profilesBefore = session_->profiles().size();
    session_->setSaved();
    QVERIFY(!session_->isModified());

    refine();
    const Boundaries refined = session_->activeBoundaries();

    // The session's curve is the refined profile, saved in the profiles folder: every
    // boundary serving traffic is one of its measured points, and the cheap multiple of 64
    // the demo grid could not see is priced as measured (20 % below the grid's curve).
    const auto& source = session_->latencySource();
    QVERIFY(source);
    const QString path = QString::fromStdString(source->source);
    QCOMPARE(QFileInfo(path).absolutePath(), QDir(profiles_->path()).absolutePath());
    QVERIFY(QFileInfo(path).fileName().contains("refined"));
    const Profile written = readProfile(source->source);
    const std::vector<int64_t> measured = refinedLengths(written);
    QVERIFY(!measured.empty());
    const auto& points = session_->latency().measured();
    const auto hasPoint = [&](int64_t length) {
        return std::any_of(points.begin(), points.end(),
                           [length](const LatencyPoint& p) { return p.length == length; });
    };
    for (int64_t l : measured)
        QVERIFY2(hasPoint(l), qPrintable(QString::number(l)));
    for (int64_t b : refined)
        QVERIFY2(b == 512 || std::binary_search(measured.begin(), measured.end(), b),
                 qPrintable(QString::number(b)));
    const auto cheap = std::find_if(refined.begin(), refined.end(),
                                    [](int64_t b) { return b % 64 == 0 && b < 512; });
    QVERIFY(cheap != refined.end());
    QVERIFY(!demoCurve.measured().empty());
    QVERIFY2(std::abs(session_->latency().at(*cheap) - 0.8 * demoCurve.at(*cheap)) <
                 1e-6 * demoCurve.at(*cheap),
             qPrintable(QString("%1: %2 against the grid's %3")
                            .arg(*cheap)
                            .arg(session_->latency().at(*cheap))
                            .arg(demoCurve.at(*cheap))));
    // Listed like a profile from the Profile panel (the choosers), and remembered for the
    // next start.
    QCOMPARE(session_->profiles().size(), profilesBefore + 1);
    QCOMPARE(session_->profiles().back().path, path);
    QVERIFY(QSettings()
                .value("profiles/saved")
                .toStringList()
                .contains(QFileInfo(path).absoluteFilePath()));
    QVERIFY(latencyView->compareChooser()->findData(path) > 0);
    // The optimum and baselines are priced on it, fresh; the refined set is not stale.
    QVERIFY(session_->tuningReport());
    QVERIFY(session_->tuningStaleReason().isEmpty());
    QCOMPARE(session_->tuningReport()->solution.boundaries, refined);
    QVERIFY(!session_->tuningReport()->pareto.empty()); // the Pareto front, on the refined curve
    QCOMPARE(session_->tuningReport()->curve.source(), source->source);
    QCOMPARE(session_->tuningReport()->evaluation.stats.meanLatencyMs,
             BucketEvaluator(session_->histogram(), session_->latency())
                 .evaluate(refined)
                 .stats.meanLatencyMs);
    QVERIFY(session_->staleFor(session_->activeIndex()).isEmpty());
    // The status line's figures are the refined curve's.
    const Evaluation onRefined =
        BucketEvaluator(session_->histogram(), session_->latency()).evaluate(refined);
    QCOMPARE(session_->evaluation()->stats.meanLatencyMs, onRefined.stats.meanLatencyMs);
    QVERIFY(view_->refineLog().contains("joined the latency curve"));
    QVERIFY(session_->isModified());

    // The Latency view follows: its chooser and "Tuning uses" name the refined profile, and
    // the refined points have their own legend entry and marker.
    QCOMPARE(latencyView->profileChooser()->currentText(), QFileInfo(path).fileName());
    auto* curveLabel = latencyView->findChild<QLabel*>("curveLabel");
    QVERIFY(curveLabel);
    QVERIFY2(curveLabel->text().contains(QFileInfo(path).fileName()),
             qPrintable(curveLabel->text()));
    QCPGraph* marked = nullptr;
    QCustomPlot* plot = latencyView->plot();
    for (int i = 0; i < plot->graphCount(); ++i)
        if (plot->graph(i)->objectName() == "refinedPointsGraph")
            marked = plot->graph(i);
    QVERIFY(marked);
    QCOMPARE(marked->data()->size(), int(measured.size()));
    QVERIFY(marked->name().contains("measured by refinement"));
    QVERIFY(plot->legend->hasItemWithPlottable(marked));
    plot->replot(QCustomPlot::rpImmediateRefresh);
    latencyView->grab().save(QString(BUCKETLAB_TEST_OUTPUT) + "/latency_after_refine.png");
    // The refined lengths crowd between the short buckets: the log axis spreads them.
    latencyView->setLogAxis(true);
    plot->replot(QCustomPlot::rpImmediateRefresh);
    latencyView->grab().save(QString(BUCKETLAB_TEST_OUTPUT) + "/latency_after_refine_log.png");
    latencyView->setLogAxis(false);
    // And zoomed to the served traffic, as a user would (wheel zoom): one marker a length.
    plot->xAxis->setRange(40, 140);
    plot->yAxis->setRange(0, 9);
    plot->replot(QCustomPlot::rpImmediateRefresh);
    latencyView->grab().save(QString(BUCKETLAB_TEST_OUTPUT) + "/latency_after_refine_zoom.png");

    // Undo: the set before, the demo curve before (its chooser and label too); the refined
    // profile stays listed, so the session still has unsaved work.
    session_->undoStack()->undo();
    QCOMPARE(session_->activeBoundaries(), before);
    QCOMPARE(session_->latencySource()->source, demoSource.source);
    QCOMPARE(session_->latency().measured().size(), demoCurve.measured().size());
    QCOMPARE(latencyView->profileChooser()->currentText(), demoName);
    QVERIFY(!curveLabel->text().contains("refined"));
    QCOMPARE(session_->profiles().size(), profilesBefore + 1);
    QVERIFY(session_->isModified());
    // Redo: the refined set and curve again, as fresh as they were.
    session_->undoStack()->redo();
    QCOMPARE(session_->activeBoundaries(), refined);
    QCOMPARE(session_->latencySource()->source, source->source);
    QCOMPARE(latencyView->profileChooser()->currentText(), QFileInfo(path).fileName());
    QVERIFY(session_->tuningReport());
    QVERIFY(session_->staleFor(session_->activeIndex()).isEmpty());
}

void TestRefinePanel::optimizeAfterwardsPricesOnTheRefinedCurve()
{
    openDemo();
    const LatencyCurve demoCurve = session_->latency();
    refine();
    const LatencyCurve refinedCurve = session_->latency();

    QSignalSpy optimized(view_, &BucketsView::optimizeFinished);
    QTest::mouseClick(view_->findChild<QPushButton*>("optimizeButton"), Qt::LeftButton);
    QVERIFY(signalSeen(optimized, 120000));
    QVERIFY(optimized.last().at(0).toBool());
    const auto& report = session_->tuningReport();
    QVERIFY(report);
    QCOMPARE(report->curve.source(), refinedCurve.source());
    QCOMPARE(report->curve.measured().size(), refinedCurve.measured().size());
    const Boundaries tuned = report->solution.boundaries;
    QCOMPARE(session_->activeSet()->name, std::string("tuned"));
    QCOMPARE(tuned.largest(), int64_t(512));
    const double onRefined =
        BucketEvaluator(session_->histogram(), refinedCurve).evaluate(tuned).stats.meanLatencyMs;
    const double onGrid =
        BucketEvaluator(session_->histogram(), demoCurve).evaluate(tuned).stats.meanLatencyMs;
    QCOMPARE(report->evaluation.stats.meanLatencyMs, onRefined);
    // The optimum uses a cheap multiple of 64 only the refined curve knows: the grid's
    // curve would price the same set dearer.
    QVERIFY2(onRefined < onGrid * 0.999,
             qPrintable(
                 QString("%1 on the refined curve, %2 on the grid's").arg(onRefined).arg(onGrid)));
}

void TestRefinePanel::projectKeepsTheRefinedCurve()
{
    openDemo();
    refine();
    const std::string refinedSource = session_->latencySource()->source;
    QVERIFY(!refinedLengths(readProfile(refinedSource)).empty());
    const Boundaries refined = session_->activeBoundaries();
    const size_t refinedPoints = session_->latency().measured().size();

    const QString file = QDir(profiles_->path()).filePath("refined.bucketlab.json");
    writeProject(session_->toProject(), file.toStdString());
    session_->setSaved();

    Session reopened;
    SessionLoader loader(&reopened);
    LatencyView latencyView(&reopened);
    QSignalSpy loaded(&loader, &SessionLoader::finished);
    loader.openProject(file, /*outsideAllowed=*/true);
    QVERIFY(signalSeen(loaded, 120000));
    QVERIFY2(loaded.last().at(0).toBool(), qPrintable(loaded.last().at(1).toString()));
    QVERIFY(reopened.latencySource());
    QCOMPARE(reopened.latencySource()->source, refinedSource);
    QCOMPARE(reopened.latency().measured().size(), refinedPoints);
    QCOMPARE(reopened.activeSet()->name, std::string("refined"));
    QCOMPARE(reopened.activeBoundaries(), refined);
    // Both profiles listed (the demo's and the refined one), and the marker survives the file.
    QCOMPARE(reopened.profiles().size(), session_->profiles().size());
    QCOMPARE(latencyView.profileChooser()->currentText(),
             QFileInfo(QString::fromStdString(refinedSource)).fileName());
    bool marked = false;
    for (int i = 0; i < latencyView.plot()->graphCount(); ++i)
        marked = marked || latencyView.plot()->graph(i)->objectName() == "refinedPointsGraph";
    QVERIFY(marked);
    QVERIFY(!reopened.isModified());
}

void TestRefinePanel::undoLeavesANewerCurveAlone()
{
    openDemo();
    const std::string demoSource = session_->latencySource()->source;
    refine();
    QVERIFY(session_->latencySource()->source != demoSource);
    // The user picks another curve after refining: Undo of the refinement gives back the
    // sets, but the newer curve is the user's later choice and stays.
    session_->setLatency(LatencyCurve::fromSpec("linear:0.5,0.01"),
                         {"analytic", "linear:0.5,0.01"});
    session_->undoStack()->undo();
    QCOMPARE(session_->activeBoundaries().values(), (std::vector<int64_t>{128, 512}));
    QCOMPARE(session_->latencySource()->source, std::string("linear:0.5,0.01"));
    QVERIFY(session_->latency().isAnalytic());
    session_->undoStack()->redo();
    QCOMPARE(session_->activeSet()->name, std::string("refined"));
    QCOMPARE(session_->latencySource()->source, std::string("linear:0.5,0.01"));
}

BUCKETLAB_GUI_TEST_MAIN(TestRefinePanel)
#include "tst_refinepanel.moc"
