// The Buckets view driven as a user drives it: drag a boundary handle with the mouse and
// watch the table follow, undo, add and remove boundaries, run Optimize and Cancel, and make
// sure the UI thread never stalls while the tuner works.
#include "core/latency/latency_curve.h"
#include "core/traffic/length_histogram.h"
#include "core/tuning/boundary_tuner.h"
#include "guitest.h"
#include "stallwatchdog.h"
#include "ui/models/backgroundjob.h"
#include "ui/models/buckettablemodel.h"
#include "ui/models/comparisontablemodel.h"
#include "ui/models/session.h"
#include "ui/views/bucketsview.h"
#include "ui/views/plot.h"
#include "ui/views/projectpanel.h"

#include <QAbstractItemModelTester>
#include <QComboBox>
#include <QElapsedTimer>
#include <QLabel>
#include <QPushButton>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTimer>
#include <QTreeWidget>
#include <QUndoStack>

#include <random>

using namespace bucketlab;
using namespace bucketlab::ui;

namespace {

LengthHistogram lognormalTraffic(int64_t maxLength, int64_t samples, uint64_t seed)
{
    std::mt19937_64 rng(seed);
    std::lognormal_distribution<double> d(4.0, 0.6);
    std::vector<std::pair<int64_t, int64_t>> counts;
    for (int64_t i = 0; i < samples; ++i)
        counts.emplace_back(std::clamp<int64_t>(int64_t(d(rng)), 1, maxLength), 1);
    return LengthHistogram::fromCounts(counts);
}

} // namespace

class TestBucketsView : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void init();
    void cleanup();
    void modelsPassTheModelTester();
    void dragUpdatesTableWhileMovingAndUndoRestores();
    void handlesCannotCrossNeighbours();
    void addAndRemoveBoundaries();
    void optimizeYieldsTheCoreOptimum();
    void optimizeKeepsTheServedRangeUnlessTold();
    void optimizeCanBeCancelledWithoutStallingTheUi();
    void setLabelsFollowEdits();
    void optimizeIsOneUndoStep();
    void aChangedInputMarksTheOptimumStale_data();
    void aChangedInputMarksTheOptimumStale();

private:
    void drag(int64_t from, int64_t to);
    QString chooserText() const;
    void setUpSession(const LengthHistogram& h, std::vector<int64_t> current);
    QPoint plotPointForLength(int64_t length) const;
    Session* session_ = nullptr;
    BucketsView* view_ = nullptr;
};

void TestBucketsView::init()
{
    session_ = new Session;
    view_ = new BucketsView(session_);
    view_->resize(1200, 720);
    view_->show();
    QVERIFY(QTest::qWaitForWindowExposed(view_));
}

void TestBucketsView::cleanup()
{
    delete view_;
    delete session_;
}

void TestBucketsView::setUpSession(const LengthHistogram& h, std::vector<int64_t> current)
{
    session_->setTraffic(h, {"test traffic", "lognormal", {}});
    session_->setLatency(LatencyCurve::fromSpec("poly:0.5,0.03,0.0001"),
                         {"test curve", "poly:0.5,0.03,0.0001"});
    session_->setActiveIndex(session_->putBoundarySet(
        {"current", "current", Boundaries::from(current, Field::CurrentBoundaries)}));
    view_->plot()->replot();
}

QPoint TestBucketsView::plotPointForLength(int64_t length) const
{
    const int x = int(std::lround(view_->plot()->xAxis->coordToPixel(double(length))));
    return QPoint(x, view_->plot()->axisRect()->rect().center().y());
}

void TestBucketsView::modelsPassTheModelTester()
{
    // Testers are attached before anything fills the models.
    new QAbstractItemModelTester(view_->bucketModel(),
                                 QAbstractItemModelTester::FailureReportingMode::QtTest, this);
    new QAbstractItemModelTester(view_->comparisonModel(),
                                 QAbstractItemModelTester::FailureReportingMode::QtTest, this);
    setUpSession(lognormalTraffic(512, 20000, 1), {64, 128, 512});
    QCOMPARE(view_->bucketModel()->rowCount(), 3);
    session_->editActiveBoundaries({64, 512}, "remove");
    QCOMPARE(view_->bucketModel()->rowCount(), 2);
    QSignalSpy done(view_, &BucketsView::optimizeFinished);
    view_->setOptimizeSettings(3, 0);
    view_->optimize();
    QVERIFY(signalSeen(done, 30000));
    QVERIFY(view_->comparisonModel()->rowCount() >= 4); // tuned + baselines
}

void TestBucketsView::dragUpdatesTableWhileMovingAndUndoRestores()
{
    setUpSession(lognormalTraffic(512, 50000, 2), {64, 128, 512});
    auto* model = view_->bucketModel();
    const double wasteBefore =
        model->index(0, BucketTableModel::Waste).data(Qt::EditRole).toDouble();
    QWidget* canvas = view_->plot();
    const QPoint start = plotPointForLength(64);
    QTest::mousePress(canvas, Qt::LeftButton, Qt::NoModifier, start);
    // Move in steps, as a hand does; the table follows before the button is released.
    for (int64_t target : {70, 80, 90, 96}) {
        QTest::mouseMove(canvas, plotPointForLength(target));
        QCoreApplication::processEvents();
    }
    const int64_t during =
        model->index(0, BucketTableModel::Bucket).data(Qt::EditRole).toLongLong();
    QVERIFY2(during >= 94 && during <= 98, qPrintable(QString::number(during)));
    QVERIFY(model->index(0, BucketTableModel::Waste).data(Qt::EditRole).toDouble() != wasteBefore);
    QCOMPARE(session_->undoStack()->count(), 0); // nothing recorded mid-drag
    QTest::mouseRelease(canvas, Qt::LeftButton, Qt::NoModifier, plotPointForLength(96));
    QCOMPARE(session_->undoStack()->count(), 1); // one drag, one undo step
    QCOMPARE(session_->activeBoundaries()[0], during);

    session_->undoStack()->undo();
    QCOMPARE(session_->activeBoundaries(), (std::vector<int64_t>{64, 128, 512}));
    QCOMPARE(model->index(0, BucketTableModel::Bucket).data(Qt::EditRole).toLongLong(), 64LL);
    QCOMPARE(model->index(0, BucketTableModel::Waste).data(Qt::EditRole).toDouble(), wasteBefore);
    session_->undoStack()->redo();
    QCOMPARE(session_->activeBoundaries()[0], during);
}

void TestBucketsView::handlesCannotCrossNeighbours()
{
    setUpSession(lognormalTraffic(512, 20000, 3), {64, 128, 512});
    QWidget* canvas = view_->plot();
    QTest::mousePress(canvas, Qt::LeftButton, Qt::NoModifier, plotPointForLength(64));
    QTest::mouseMove(canvas, plotPointForLength(100));
    QTest::mouseMove(canvas, plotPointForLength(300)); // far past the next handle
    QTest::mouseRelease(canvas, Qt::LeftButton, Qt::NoModifier, plotPointForLength(300));
    QCOMPARE(session_->activeBoundaries(), (std::vector<int64_t>{127, 128, 512}));
}

void TestBucketsView::addAndRemoveBoundaries()
{
    setUpSession(lognormalTraffic(512, 20000, 4), {128, 512});
    QWidget* canvas = view_->plot();
    QTest::mouseDClick(canvas, Qt::LeftButton, Qt::NoModifier, plotPointForLength(300));
    const auto added = session_->activeBoundaries();
    QCOMPARE(added.size(), size_t(3));
    QVERIFY(added[1] >= 296 && added[1] <= 304);
    QCOMPARE(view_->bucketModel()->rowCount(), 3);
    // Select the new handle and delete it with the keyboard.
    QTest::mouseClick(canvas, Qt::LeftButton, Qt::NoModifier, plotPointForLength(added[1]));
    QTest::keyClick(view_, Qt::Key_Delete);
    QCOMPARE(session_->activeBoundaries(), (std::vector<int64_t>{128, 512}));
    session_->undoStack()->undo();
    QCOMPARE(session_->activeBoundaries(), added);
    session_->undoStack()->undo();
    QCOMPARE(session_->activeBoundaries(), (std::vector<int64_t>{128, 512}));
}

void TestBucketsView::optimizeYieldsTheCoreOptimum()
{
    setUpSession(lognormalTraffic(512, 50000, 5), {128, 512});
    view_->setOptimizeSettings(4, 0);
    QSignalSpy done(view_, &BucketsView::optimizeFinished);
    QTest::mouseClick(view_->findChild<QPushButton*>("optimizeButton"), Qt::LeftButton);
    QVERIFY(signalSeen(done, 30000));
    QVERIFY(done.first().first().toBool());

    BoundaryTuner tuner(*session_->evaluator());
    TuneSettings settings;
    settings.buckets = 4;
    settings.coverLength = 512; // serve up to the current set's largest, by default
    const TuneSolution expected = tuner.solve(settings);
    QCOMPARE(session_->activeSet()->name, std::string("tuned"));
    QCOMPARE(session_->activeBoundaries(), expected.boundaries);
    QCOMPARE(view_->bucketModel()->rowCount(), 4);
    QCOMPARE(view_->comparisonModel()->nameAt(0), QString("tuned"));
    // The powers-of-two baseline is listed, and the optimum is no worse than it.
    bool sawPowers = false;
    for (int r = 0; r < view_->comparisonModel()->rowCount(); ++r)
        if (view_->comparisonModel()->nameAt(r) == "powers_of_two") {
            sawPowers = true;
            QVERIFY(view_->comparisonModel()
                        ->index(r, ComparisonTableModel::Gain)
                        .data(Qt::EditRole)
                        .toDouble() >= 0.0);
        }
    QVERIFY(sawPowers);
    // The Pareto chart has one point per bucket count.
    QVERIFY(view_->paretoPlot()->graph(0)->dataCount() >= 4);
}

void TestBucketsView::optimizeKeepsTheServedRangeUnlessTold()
{
    // Traffic of 19..111 tokens (as the demo's) and a current set serving up to 512.
    std::vector<std::pair<int64_t, int64_t>> counts;
    for (int64_t len = 19; len <= 111; ++len)
        counts.emplace_back(len, 1 + (len * 5) % 11);
    setUpSession(LengthHistogram::fromCounts(counts), {128, 512});
    auto* serveUpTo = view_->findChild<QSpinBox*>("optimizeServeUpTo");
    QVERIFY(serveUpTo && serveUpTo->isVisibleTo(view_));
    QCOMPARE(serveUpTo->value(), 0);
    QCOMPARE(serveUpTo->text(), QString("current largest"));
    view_->setOptimizeSettings(4, 0);
    QSignalSpy done(view_, &BucketsView::optimizeFinished);
    QTest::mouseClick(view_->findChild<QPushButton*>("optimizeButton"), Qt::LeftButton);
    QVERIFY(signalSeen(done, 30000));
    QVERIFY(done.first().first().toBool());
    QCOMPARE(session_->activeBoundaries().largest(), int64_t(512));
    auto* notes = view_->findChild<QLabel*>("notesLabel");
    QVERIFY(notes);
    QVERIFY2(!notes->text().contains("refused"), qPrintable(notes->text()));

    // Editing the control shrinks the range on purpose, and the view says what it refuses.
    serveUpTo->setValue(64);
    done.clear();
    QTest::mouseClick(view_->findChild<QPushButton*>("optimizeButton"), Qt::LeftButton);
    QVERIFY(signalSeen(done, 30000));
    QVERIFY(done.last().first().toBool());
    QCOMPARE(session_->activeBoundaries().largest(), int64_t(64));
    QVERIFY2(notes->text().contains("65..111") && notes->text().contains("would be refused"),
             qPrintable(notes->text()));
    QVERIFY(notes->styleSheet().contains("color"));

    // Align to 16: every boundary a multiple of 16, the served range kept.
    serveUpTo->setValue(0);
    auto* align = view_->findChild<QSpinBox*>("optimizeAlign");
    QVERIFY(align && align->isVisibleTo(view_));
    QCOMPARE(align->text(), QString("any length"));
    align->setValue(16);
    done.clear();
    QTest::mouseClick(view_->findChild<QPushButton*>("optimizeButton"), Qt::LeftButton);
    QVERIFY(signalSeen(done, 30000));
    QVERIFY(done.last().first().toBool());
    const Boundaries aligned = session_->activeBoundaries();
    QCOMPARE(aligned.largest(), int64_t(512));
    for (int64_t b : aligned)
        QVERIFY2(b % 16 == 0, qPrintable(QString::number(b)));
}

void TestBucketsView::optimizeCanBeCancelledWithoutStallingTheUi()
{
    // Many distinct lengths and many buckets: seconds of tuner work to cancel.
    std::vector<std::pair<int64_t, int64_t>> counts;
    std::mt19937_64 rng(6);
    for (int64_t len = 1; len <= 200000; ++len)
        counts.emplace_back(len, int64_t(1 + rng() % 50));
    setUpSession(LengthHistogram::fromCounts(counts), {50000, 200000});
    view_->setOptimizeSettings(64, 0);
    StallWatchdog watchdog([&] { return view_->optimizeJob()->isRunning(); });
    QSignalSpy cancelled(view_->optimizeJob(), &BackgroundJob::cancelled);
    QSignalSpy done(view_, &BucketsView::optimizeFinished);
    view_->optimize();
    QTest::qWait(300); // let it get going; the UI keeps ticking meanwhile
    QVERIFY(view_->optimizeJob()->isRunning());
    QElapsedTimer clock;
    clock.start();
    QTest::mouseClick(view_->findChild<QPushButton*>("optimizeCancel"), Qt::LeftButton);
    QVERIFY(signalSeen(cancelled, 10000));
    qInfo("cancelling the tuner took %lld ms", clock.elapsed());
    QCOMPARE(done.count(), 1);
    QVERIFY(!done.first().first().toBool());
    // The boundaries are untouched and the UI thread ran while the tuner worked.
    QCOMPARE(session_->activeBoundaries(), (std::vector<int64_t>{50000, 200000}));
    QVERIFY2(watchdog.busyTicks() >= 1, "the UI thread was held for the whole of the work");
}

namespace {

QString joined(const std::vector<int64_t>& b)
{
    QStringList parts;
    for (int64_t x : b)
        parts << QString::number(x);
    return parts.join(", ");
}

// The words of a label said more than once ("current (current)" says "current" twice).
QStringList repeatedWords(const QString& label)
{
    QStringList seen, repeated;
    for (const QString& w : label.split(QRegularExpression("[^A-Za-z_]+"), Qt::SkipEmptyParts)) {
        if (seen.contains(w, Qt::CaseInsensitive))
            repeated << w;
        seen << w;
    }
    return repeated;
}

// The Project tree's row of a boundary set: "Boundary sets" > the set.
QTreeWidgetItem* setRow(QTreeWidget* tree, int index)
{
    const auto found = tree->findItems("Boundary sets", Qt::MatchExactly);
    if (found.isEmpty() || index >= found.first()->childCount())
        return nullptr;
    return found.first()->child(index);
}

} // namespace

void TestBucketsView::drag(int64_t from, int64_t to)
{
    QWidget* canvas = view_->plot();
    QTest::mousePress(canvas, Qt::LeftButton, Qt::NoModifier, plotPointForLength(from));
    QTest::mouseMove(canvas, plotPointForLength((from + to) / 2));
    QTest::mouseMove(canvas, plotPointForLength(to));
    QTest::mouseRelease(canvas, Qt::LeftButton, Qt::NoModifier, plotPointForLength(to));
}

QString TestBucketsView::chooserText() const
{
    return view_->findChild<QComboBox*>("boundarySetChooser")->currentText();
}

void TestBucketsView::setLabelsFollowEdits()
{
    ProjectPanel panel(session_);
    panel.show();
    auto* chooser = view_->findChild<QComboBox*>("boundarySetChooser");
    QVERIFY(chooser);
    // Traffic 20..400 tokens, so the optimum is well inside the current set.
    std::vector<std::pair<int64_t, int64_t>> counts;
    for (int64_t len = 20; len <= 400; ++len)
        counts.emplace_back(len, 1 + (len * 7) % 13);
    setUpSession(LengthHistogram::fromCounts(counts), {128, 512});
    QCOMPARE(chooserText(), QString("current: 128, 512"));

    // Drag 128 to 100: the chooser and the tree say so, already while the button is down.
    QWidget* canvas = view_->plot();
    QTest::mousePress(canvas, Qt::LeftButton, Qt::NoModifier, plotPointForLength(128));
    QTest::mouseMove(canvas, plotPointForLength(110));
    QTest::mouseMove(canvas, plotPointForLength(100));
    const QString during = joined(session_->activeBoundaries());
    QCOMPARE(chooserText(), "current: " + during);
    QTest::mouseRelease(canvas, Qt::LeftButton, Qt::NoModifier, plotPointForLength(100));
    const auto dragged = session_->activeBoundaries();
    QVERIFY2(dragged[0] >= 98 && dragged[0] <= 102, qPrintable(joined(dragged)));
    QCOMPARE(chooserText(), "current: " + joined(dragged));
    QTreeWidgetItem* row = setRow(panel.tree(), 0);
    QVERIFY(row);
    QCOMPARE(row->text(0), QString("current"));
    QCOMPARE(row->text(1), joined(dragged));

    // Add a boundary with a double-click.
    QTest::mouseDClick(canvas, Qt::LeftButton, Qt::NoModifier, plotPointForLength(60));
    const auto added = session_->activeBoundaries();
    QCOMPARE(added.size(), size_t(3));
    QCOMPARE(chooserText(), "current: " + joined(added));
    QCOMPARE(setRow(panel.tree(), 0)->text(1), joined(added));
    // Undo relabels too.
    session_->undoStack()->undo();
    QCOMPARE(chooserText(), "current: " + joined(dragged));
    QCOMPARE(setRow(panel.tree(), 0)->text(1), joined(dragged));

    // Optimize, then edit the tuned set: its label shows the edited boundaries, not the
    // optimum it was created with.
    view_->setOptimizeSettings(3, 0);
    QSignalSpy done(view_, &BucketsView::optimizeFinished);
    QTest::mouseClick(view_->findChild<QPushButton*>("optimizeButton"), Qt::LeftButton);
    QVERIFY(signalSeen(done, 30000));
    QVERIFY(done.first().first().toBool());
    const auto optimum = session_->activeBoundaries();
    QCOMPARE(chooserText(), "tuned: " + joined(optimum));
    const int64_t first = optimum[0];
    const int64_t target = first - std::max<int64_t>(8, first / 4);
    drag(first, target);
    const auto edited = session_->activeBoundaries();
    QVERIFY2(edited[0] != first, qPrintable(joined(edited)));
    QCOMPARE(chooserText(), "tuned: " + joined(edited));
    QVERIFY(!chooserText().contains(joined(optimum)));
    const int tunedRow = session_->activeIndex();
    QCOMPARE(setRow(panel.tree(), tunedRow)->text(1), joined(edited));

    // No label says the same word twice, in the chooser or the tree.
    for (int i = 0; i < chooser->count(); ++i)
        QVERIFY2(repeatedWords(chooser->itemText(i)).isEmpty(), qPrintable(chooser->itemText(i)));
    for (int i = 0; i < int(session_->boundarySets().size()); ++i) {
        const QString title = setRow(panel.tree(), i)->text(0);
        QVERIFY2(repeatedWords(title).isEmpty(), qPrintable(title));
    }
}

void TestBucketsView::optimizeIsOneUndoStep()
{
    std::vector<std::pair<int64_t, int64_t>> counts;
    for (int64_t len = 20; len <= 400; ++len)
        counts.emplace_back(len, 1 + (len * 7) % 13);
    setUpSession(LengthHistogram::fromCounts(counts), {128, 512});
    drag(128, 100);
    const auto before = session_->activeBoundaries();
    QCOMPARE(session_->undoStack()->count(), 1);

    view_->setOptimizeSettings(3, 0);
    QSignalSpy done(view_, &BucketsView::optimizeFinished);
    QTest::mouseClick(view_->findChild<QPushButton*>("optimizeButton"), Qt::LeftButton);
    QVERIFY(signalSeen(done, 30000));
    QVERIFY(done.first().first().toBool());
    const auto optimum = session_->activeBoundaries();
    QVERIFY(optimum != before);
    QCOMPARE(session_->undoStack()->count(), 2);
    QVERIFY2(session_->undoStack()->undoText().contains("Optimize"),
             qPrintable(session_->undoStack()->undoText()));
    QVERIFY(view_->comparisonModel()->rowCount() >= 4);

    // Undo: the edited current set is active again, the optimum and its report are gone.
    session_->undoStack()->undo();
    QCOMPARE(session_->activeSet()->name, std::string("current"));
    QCOMPARE(session_->activeBoundaries(), before);
    QVERIFY(!session_->tuningReport().has_value());
    QCOMPARE(view_->comparisonModel()->rowCount(), 0);
    QCOMPARE(chooserText(), "current: " + joined(before));
    QVERIFY2(session_->undoStack()->redoText().contains("Optimize"),
             qPrintable(session_->undoStack()->redoText()));
    // One step more undoes the drag.
    session_->undoStack()->undo();
    QCOMPARE(session_->activeBoundaries(), (std::vector<int64_t>{128, 512}));

    // Redo twice: the drag, then the optimum with its report.
    session_->undoStack()->redo();
    session_->undoStack()->redo();
    QCOMPARE(session_->activeSet()->name, std::string("tuned"));
    QCOMPARE(session_->activeBoundaries(), optimum);
    QVERIFY(session_->tuningReport().has_value());
    QVERIFY(view_->comparisonModel()->rowCount() >= 4);
    QCOMPARE(chooserText(), "tuned: " + joined(optimum));
}

void TestBucketsView::aChangedInputMarksTheOptimumStale_data()
{
    QTest::addColumn<bool>("newTraffic");
    QTest::addColumn<bool>("newLatency");
    QTest::addColumn<QString>("title"); // of the tuned set afterwards
    QTest::addRow("nothing changes") << false << false << "tuned";
    QTest::addRow("a new latency curve") << false << true << "tuned (for test curve, stale)";
    QTest::addRow("new traffic") << true << false << "tuned (for test traffic, stale)";
    QTest::addRow("both") << true << true << "tuned (for test curve and test traffic, stale)";
}

void TestBucketsView::aChangedInputMarksTheOptimumStale()
{
    QFETCH(bool, newTraffic);
    QFETCH(bool, newLatency);
    QFETCH(QString, title);
    std::vector<std::pair<int64_t, int64_t>> counts;
    for (int64_t len = 20; len <= 400; ++len)
        counts.emplace_back(len, 1 + (len * 7) % 13);
    setUpSession(LengthHistogram::fromCounts(counts), {128, 512});
    view_->setOptimizeSettings(3, 0);
    QSignalSpy done(view_, &BucketsView::optimizeFinished);
    QTest::mouseClick(view_->findChild<QPushButton*>("optimizeButton"), Qt::LeftButton);
    QVERIFY(signalSeen(done, 30000));
    QVERIFY(done.first().first().toBool());
    const auto optimum = session_->activeBoundaries();
    const double meanBefore = session_->evaluation()->stats.meanLatencyMs;

    // The same traffic re-read, and a different curve, as opening the files again would.
    if (newTraffic)
        session_->setTraffic(LengthHistogram::fromCounts(counts), {"other traffic", "x", {}});
    if (newLatency)
        session_->setLatency(LatencyCurve::fromSpec("poly:0.2,0.01,0.00005"),
                             {"measured", "poly:0.2,0.01,0.00005"});
    const bool stale = newTraffic || newLatency;
    QCOMPARE(session_->setTitle(session_->activeIndex()), title);
    QCOMPARE(chooserText(), title + ": " + joined(optimum));
    QCOMPARE(session_->activeBoundaries(), optimum); // the user's set stays as it was
    QCOMPARE(session_->tuningReport().has_value(), !stale);
    QCOMPARE(session_->tuningStaleReason().isEmpty(), !stale);
    QCOMPARE(view_->comparisonModel()->rowCount() > 0, !stale);
    // Priced under the new curve, and said to be (not silently re-priced as the optimum).
    if (newLatency)
        QVERIFY(session_->evaluation()->stats.meanLatencyMs < meanBefore);
    auto* notes = view_->findChild<QLabel*>("notesLabel");
    QCOMPARE(notes->text().contains("Optimize again"), stale);
}

BUCKETLAB_GUI_TEST_MAIN(TestBucketsView)
#include "tst_bucketsview.moc"
