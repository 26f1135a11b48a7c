// The LLM view driven as a user drives it: open the shipped Azure trace through the view's
// own Open dialog, drag a CTE and a TKG handle with the mouse and watch the totals follow,
// undo, run Optimize from its button (off the UI thread), pick a point of the Pareto front,
// export through the Export dialog and check the written configs against NxD's and vLLM's
// rules, and see a broken list's rule shown in the view.
#include "core/llm/nxd_bucket_rule.h"
#include "core/util/format.h"
#include "guitest.h"
#include "ui/models/backgroundjob.h"
#include "ui/models/llmsession.h"
#include "ui/views/llmview.h"
#include "ui/views/plot.h"

#include <QDoubleSpinBox>
#include <QFile>
#include <QFileDialog>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QUndoStack>

#include <algorithm>

using namespace bucketlab;
using namespace bucketlab::ui;

namespace {

const QString kDemo = QStringLiteral(BUCKETLAB_SOURCE_DIR "/resources/llm/azure_code_pairs.csv");

QByteArray readAll(const QString& path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

} // namespace

class TestLlmView : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void init();
    void cleanup();
    void opensTheTraceThroughItsDialog();
    void opensTheBuiltInDemoTrace();
    void dragUpdatesTotalsWhileMovingAndUndoRestores();
    void largestBucketIsPinned();
    void doubleClickAddsAndRemovesBuckets();
    void optimizeFromTheButtonAndPickAParetoPoint();
    void compileBudgetGreysTheFront();
    void exportThroughTheDialogPassesTheRules();
    void brokenListsShowTheirRule();
    void rendersToPng();

private:
    void openDemo();
    QFileDialog* dialogNamed(const char* name);
    LlmSession* session_ = nullptr;
    LlmView* view_ = nullptr;
};

void TestLlmView::init()
{
    session_ = new LlmSession;
    view_ = new LlmView(session_);
    view_->resize(1400, 900);
    view_->show();
    QVERIFY(QTest::qWaitForWindowExposed(view_));
}

void TestLlmView::cleanup()
{
    delete view_;
    delete session_;
    view_ = nullptr;
    session_ = nullptr;
}

QFileDialog* TestLlmView::dialogNamed(const char* name)
{
    QFileDialog* dialog = nullptr;
    (void)QTest::qWaitFor(
        [&] { return (dialog = view_->findChild<QFileDialog*>(name)) != nullptr; }, 5000);
    return dialog;
}

void TestLlmView::openDemo()
{
    view_->openTraffic(kDemo);
    QVERIFY(session_->ready());
    QCoreApplication::processEvents();
    view_->plot(LlmPhase::Cte)->replot();
    view_->plot(LlmPhase::Tkg)->replot();
}

void TestLlmView::opensTheTraceThroughItsDialog()
{
    QVERIFY(view_->totalsText().contains("Open a request trace"));
    QTest::mouseClick(view_->findChild<QPushButton*>("llmOpenTrace"), Qt::LeftButton);
    QFileDialog* dialog = dialogNamed("llmOpenDialog");
    QVERIFY(dialog);
    dialog->selectFile(kDemo);
    static_cast<QDialog*>(dialog)->accept();
    QTRY_VERIFY_WITH_TIMEOUT(session_->hasTraffic(), 5000);
    QCOMPARE(session_->trafficSource(), kDemo);
    QVERIFY(view_->findChild<QLabel*>("llmTrafficLabel")->text().contains("8819 requests"));
    // The totals are the evaluator's for NxD's defaults.
    const auto& e = session_->evaluation();
    QVERIFY(e.has_value());
    QVERIFY2(view_->totalsText().contains(
                 QString::fromStdString(formatNumber(e->meanRequestMs, 2) + " ms")),
             qPrintable(view_->totalsText()));
    QCOMPARE(session_->lists(LlmPhase::Cte).values(), nxdGenerateBuckets(128, 8192));
}

void TestLlmView::opensTheBuiltInDemoTrace()
{
    QTest::mouseClick(view_->findChild<QPushButton*>("llmDemoTrace"), Qt::LeftButton);
    QVERIFY2(session_->ready(), qPrintable(view_->statusText()));
    // The same requests as the file in the repository.
    QVERIFY(session_->traffic().pairs() == loadRequestTraffic(kDemo.toStdString(), {}).pairs());
    QVERIFY(session_->trafficSource().endsWith("azure_code_pairs.csv"));
}

void TestLlmView::dragUpdatesTotalsWhileMovingAndUndoRestores()
{
    openDemo();
    for (const LlmPhase phase : {LlmPhase::Cte, LlmPhase::Tkg}) {
        QWidget* canvas = view_->plot(phase);
        const auto before = session_->lists(phase).values();
        const QString totalsBefore = view_->totalsText();
        const int undoBefore = session_->undoStack()->index();
        // The third handle (512), dragged to ~800 in steps, as a hand does (1024 is next).
        QTest::mousePress(canvas, Qt::LeftButton, Qt::NoModifier,
                          view_->plotPointForLength(phase, before[2]));
        for (int64_t target : {600, 680, 740, 800}) {
            QTest::mouseMove(canvas, view_->plotPointForLength(phase, target));
            QCoreApplication::processEvents();
        }
        const int64_t during = session_->lists(phase).values()[2];
        QVERIFY2(std::abs(during - 800) <= 40, qPrintable(QString::number(during)));
        QVERIFY(view_->totalsText() != totalsBefore); // live, before the release
        QCOMPARE(session_->undoStack()->index(), undoBefore);
        QTest::mouseRelease(canvas, Qt::LeftButton, Qt::NoModifier,
                            view_->plotPointForLength(phase, 800));
        QCOMPARE(session_->undoStack()->index(), undoBefore + 1); // one drag, one step
        auto expected = before;
        expected[2] = during;
        QCOMPARE(session_->lists(phase).values(), expected);
        // The totals are the evaluator's for the dragged lists.
        const LlmEvaluation direct = evaluateLlmBuckets(session_->traffic(), session_->limits(),
                                                        session_->costs(), session_->bucketLists());
        QVERIFY(view_->totalsText().contains(
            QString::fromStdString(formatNumber(direct.meanRequestMs, 2) + " ms")));
        session_->undoStack()->undo();
        QCOMPARE(session_->lists(phase).values(), before);
        QCOMPARE(view_->totalsText(), totalsBefore);
    }
}

void TestLlmView::largestBucketIsPinned()
{
    openDemo();
    QWidget* canvas = view_->plot(LlmPhase::Cte);
    const auto before = session_->lists(LlmPhase::Cte).values();
    QTest::mousePress(canvas, Qt::LeftButton, Qt::NoModifier,
                      view_->plotPointForLength(LlmPhase::Cte, before.back()));
    QTest::mouseMove(canvas, view_->plotPointForLength(LlmPhase::Cte, 6000));
    QTest::mouseRelease(canvas, Qt::LeftButton, Qt::NoModifier,
                        view_->plotPointForLength(LlmPhase::Cte, 6000));
    QCOMPARE(session_->lists(LlmPhase::Cte).values(), before);
    QCOMPARE(session_->undoStack()->count(), 0);
}

void TestLlmView::doubleClickAddsAndRemovesBuckets()
{
    openDemo();
    QWidget* canvas = view_->plot(LlmPhase::Tkg);
    const auto before = session_->lists(LlmPhase::Tkg).values();
    // On a handle (512): removed, one undo step.
    QTest::mouseDClick(canvas, Qt::LeftButton, Qt::NoModifier,
                       view_->plotPointForLength(LlmPhase::Tkg, before[2]));
    auto fewer = before;
    fewer.erase(fewer.begin() + 2);
    QCOMPARE(session_->lists(LlmPhase::Tkg).values(), fewer);
    QCOMPARE(session_->undoStack()->count(), 1);
    // Between handles (near 3000): a bucket added there.
    QTest::mouseDClick(canvas, Qt::LeftButton, Qt::NoModifier,
                       view_->plotPointForLength(LlmPhase::Tkg, 3000));
    const auto more = session_->lists(LlmPhase::Tkg).values();
    QCOMPARE(more.size(), fewer.size() + 1);
    int64_t added = 0;
    for (int64_t v : more)
        if (std::find(fewer.begin(), fewer.end(), v) == fewer.end())
            added = v;
    QVERIFY2(std::abs(added - 3000) <= 150, qPrintable(QString::number(added)));
    QCOMPARE(session_->undoStack()->count(), 2);
    session_->undoStack()->undo();
    session_->undoStack()->undo();
    QCOMPARE(session_->lists(LlmPhase::Tkg).values(), before);
}

void TestLlmView::optimizeFromTheButtonAndPickAParetoPoint()
{
    openDemo();
    auto* buckets = view_->findChild<QSpinBox*>("llmBuckets");
    buckets->setValue(10);
    QSignalSpy done(session_, &LlmSession::optimizeFinished);
    auto* optimize = view_->findChild<QPushButton*>("llmOptimize");
    QTest::mouseClick(optimize, Qt::LeftButton);
    QVERIFY(!optimize->isEnabled()); // running, the UI thread free
    QVERIFY(view_->findChild<QPushButton*>("llmCancel")->isEnabled());
    QVERIFY(signalSeen(done, 120000));
    QVERIFY2(done.first().at(0).toBool(), qPrintable(done.first().at(1).toString()));
    QVERIFY(optimize->isEnabled());
    LlmTuneSettings settings;
    settings.limits = session_->limits();
    settings.totalBuckets = 10;
    const LlmTuneResult direct = tuneLlmBuckets(session_->traffic(), session_->costs(), settings);
    QCOMPARE(session_->lists(LlmPhase::Cte).values(), direct.best.lists.cte.values());
    QCOMPARE(session_->lists(LlmPhase::Tkg).values(), direct.best.lists.tkg.values());
    QVERIFY(view_->statusText().startsWith("Optimized"));
    QCOMPARE(session_->undoStack()->count(), 1);

    // Click the front's point for 4 models (index 2): its lists, one more undo step.
    view_->paretoPlot()->replot();
    QTest::mouseClick(view_->paretoPlot(), Qt::LeftButton, Qt::NoModifier,
                      view_->paretoPointPosition(2));
    QCOMPARE(session_->evaluation()->models, direct.paretoByModels[2].models);
    QCOMPARE(session_->lists(LlmPhase::Cte).values(), direct.paretoByModels[2].lists.cte.values());
    QCOMPARE(session_->undoStack()->count(), 2);
}

// With a compile cost, the budget control greys the front's points that compile longer.
void TestLlmView::compileBudgetGreysTheFront()
{
    openDemo();
    auto* cost = view_->findChild<QLineEdit*>("llmCompileCost");
    cost->setText("linear:60,0.01");
    Q_EMIT cost->editingFinished();
    QVERIFY(session_->costs().cteCompile.known());
    QSignalSpy done(session_, &LlmSession::optimizeFinished);
    QTest::mouseClick(view_->findChild<QPushButton*>("llmOptimize"), Qt::LeftButton);
    QVERIFY(signalSeen(done, 120000));
    QVERIFY(done.first().at(0).toBool());
    QCPGraph* over = view_->paretoPlot()->graph(1);
    QCOMPARE(over->name(), "over the compile budget");
    QCOMPARE(over->dataCount(), 0); // no budget yet
    const double budget = 700;
    int expected = 0;
    for (const auto& p : session_->tuneResult()->paretoByModels)
        expected += p.compileS > budget ? 1 : 0;
    QVERIFY(expected > 0 && expected < int(session_->tuneResult()->paretoByModels.size()));
    view_->findChild<QDoubleSpinBox*>("llmCompileBudget")->setValue(budget);
    QCOMPARE(session_->compileBudget(), budget);
    QCOMPARE(over->dataCount(), expected);
}

void TestLlmView::exportThroughTheDialogPassesTheRules()
{
    openDemo();
    QTemporaryDir dir;
    QTest::mouseClick(view_->findChild<QPushButton*>("llmExport"), Qt::LeftButton);
    QFileDialog* dialog = dialogNamed("llmExportDialog");
    QVERIFY(dialog);
    dialog->setDirectory(dir.path());
    dialog->selectFile(dir.path());
    static_cast<QDialog*>(dialog)->accept();
    const QString nxd = dir.filePath("nxd_config.json");
    QTRY_VERIFY_WITH_TIMEOUT(QFile::exists(nxd), 5000);
    QVERIFY2(view_->statusText().startsWith("Wrote"), qPrintable(view_->statusText()));
    const NxdBucketConfig back = nxdConfigFromJson(readAll(nxd).toStdString(), "nxd_config.json");
    QVERIFY(checkNxdConfig(back).empty());
    QCOMPARE(back.contextEncodingBuckets, session_->lists(LlmPhase::Cte).values());
    NxdBucketConfig v =
        nxdConfigFromJson(readAll(dir.filePath("vllm_config.json")).toStdString(), "vllm");
    v.batchSize = 1;
    QVERIFY(
        checkVllmOverride(v, {session_->limits().seqLen, 1, session_->limits().maxContextLength})
            .empty());
}

void TestLlmView::brokenListsShowTheirRule()
{
    openDemo();
    auto* maxContext = view_->findChild<QSpinBox*>("llmMaxContext");
    maxContext->setValue(4096);
    Q_EMIT maxContext->editingFinished();
    QCOMPARE(session_->limits().maxContextLength, 4096);
    auto* rules = view_->findChild<QLabel*>("llmRules");
    QVERIFY(rules->isVisible());
    QVERIFY2(rules->text().contains("nxd.context_buckets_le_max_context"),
             qPrintable(rules->text()));
    QTemporaryDir dir;
    const QString error = view_->exportTo(dir.filePath("n.json"), dir.filePath("v.json"));
    QVERIFY(error.contains("nxd.context_buckets_le_max_context"));
    QVERIFY(view_->statusText().startsWith("Not exported"));
    QVERIFY(!QFile::exists(dir.filePath("n.json")));
    QTest::mouseClick(view_->findChild<QPushButton*>("llmReset"), Qt::LeftButton);
    QVERIFY(!rules->isVisible());
}

// Rendered offscreen for a person to look at (the path is printed).
void TestLlmView::rendersToPng()
{
    openDemo();
    QSignalSpy done(session_, &LlmSession::optimizeFinished);
    view_->optimize();
    QVERIFY(signalSeen(done, 120000));
    QCoreApplication::processEvents();
    for (auto* plot : view_->findChildren<QCustomPlot*>())
        plot->replot();
    for (bool dark : {false, true}) {
        if (dark) {
            QPalette p;
            p.setColor(QPalette::Window, QColor(0x2b2b2b));
            p.setColor(QPalette::WindowText, QColor(0xe0e0e0));
            p.setColor(QPalette::Base, QColor(0x1e1e1e));
            p.setColor(QPalette::Text, QColor(0xe0e0e0));
            p.setColor(QPalette::Button, QColor(0x353535));
            p.setColor(QPalette::ButtonText, QColor(0xe0e0e0));
            p.setColor(QPalette::PlaceholderText, QColor(0x9a9a9a));
            view_->setPalette(p);
            QCoreApplication::processEvents();
            for (auto* plot : view_->findChildren<QCustomPlot*>())
                plot->replot();
        }
        const QImage image = view_->grab().toImage();
        QVERIFY(!image.isNull());
        QCOMPARE(image.size(), view_->size());
        const QString path = QDir(QStringLiteral(QT_TESTCASE_BUILDDIR))
                                 .filePath(dark ? "llmview-dark.png" : "llmview.png");
        QVERIFY(image.save(path));
        qInfo("rendered %s", qPrintable(path));
        // The plots' backgrounds follow the palette.
        QCustomPlot* plot = view_->plot(LlmPhase::Cte);
        const QPoint corner = plot->mapTo(view_, plot->axisRect()->rect().topLeft() + QPoint(3, 3));
        QCOMPARE(QColor(image.pixel(corner)).lightness() < 128, dark);
    }
}

BUCKETLAB_GUI_TEST_MAIN(TestLlmView)
#include "tst_llmview.moc"
