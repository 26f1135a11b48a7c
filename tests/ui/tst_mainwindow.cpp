// The real main window, driven as a user would: open the demo, open bad files, use the
// recent-files menu, and render a screenshot through the bucketlab executable.
#include "core/project/project.h"
#include "guitest.h"
#include "testutil.h"
#include "ui/models/buckettablemodel.h"
#include "ui/models/comparisontablemodel.h"
#include "ui/models/packagetablemodels.h"
#include "ui/models/session.h"
#include "ui/models/validationtablemodel.h"
#include "ui/views/bucketsview.h"
#include "ui/views/latencyview.h"
#include "ui/views/llmview.h"
#include "ui/views/mainwindow.h"
#include "ui/views/packageview.h"
#include "ui/views/plot.h"
#include "ui/views/profilepanel.h"
#include "ui/views/validationstrip.h"
#include "ui/views/validationview.h"

#include <QAbstractItemModelTester>
#include <QComboBox>
#include <QDir>
#include <QDockWidget>
#include <QDropEvent>
#include <QFileInfo>
#include <QHelpEvent>
#include <QImage>
#include <QLabel>
#include <QMenu>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTimer>
#include <QToolTip>
#include <QTreeWidget>
#include <QUndoStack>

using namespace bucketlab::test;
using bucketlab::ui::MainWindow;

namespace {

// Answers a question box (by default Save / Discard / Cancel) as a user does: waits for the
// box named `box` to show (it runs its own event loop), then clicks `button`. Counts the
// questions asked.
class SaveQuestion {
public:
    explicit SaveQuestion(QMessageBox::StandardButton button,
                          const QString& boxName = QStringLiteral("saveChangesBox"))
    {
        timer_.setInterval(10);
        QObject::connect(&timer_, &QTimer::timeout, [this, button, boxName] {
            for (QWidget* w : QApplication::topLevelWidgets()) {
                auto* box = qobject_cast<QMessageBox*>(w);
                if (!box || !box->isVisible() || box->objectName() != boxName || box == answered_)
                    continue;
                answered_ = box;
                ++asked_;
                text_ = box->text() + " " + box->informativeText();
                QTest::mouseClick(box->button(button), Qt::LeftButton);
                return;
            }
        });
        timer_.start();
    }
    int asked() const { return asked_; }
    QString text() const { return text_; }

private:
    QTimer timer_;
    QPointer<QMessageBox> answered_;
    int asked_ = 0;
    QString text_;
};

// Drags a boundary handle of the Buckets view with the mouse.
void dragBoundary(MainWindow& w, int64_t from, int64_t to)
{
    QCustomPlot* plot = w.bucketsView()->plot();
    plot->replot();
    auto at = [plot](int64_t length) {
        return QPoint(int(std::lround(plot->xAxis->coordToPixel(double(length)))),
                      plot->axisRect()->rect().center().y());
    };
    QTest::mousePress(plot, Qt::LeftButton, Qt::NoModifier, at(from));
    QTest::mouseMove(plot, at((from + to) / 2));
    QTest::mouseMove(plot, at(to));
    QTest::mouseRelease(plot, Qt::LeftButton, Qt::NoModifier, at(to));
}

} // namespace

class TestMainWindow : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void init();
    void tableModelsPassTheModelTester();
    void demoShowsBucketsInputsAndMetadata();
    void badFilesShowAVisibleError_data();
    void badFilesShowAVisibleError();
    void recentFilesRemembersOpenedFiles();
    void demoOpensInTheBucketsViewWithTrafficAndLatency();
    void projectSavesAndReopens();
    void projectWithMissingFilesSaysSoAndKeepsWorking();
    void projectOutsideItsFolderAsksBeforeReading();
    void droppedFilesOfEveryKind();
    void screenshotIsWritten();
    void screenshotOfEveryView();
    void windowNeverWidensItself();
    void unsavedEditsAskBeforeClosing();
    void optimizeUndoesFromTheMenuAndDiscardOpensTheOtherProject();
    void aFinishedProfileLeavesNoPanelStale();
    void validationFollowsTheActiveSet();
    void viewKeysAndTheirList();
    void llmViewUndoesFromTheMenuWithoutTouchingTheProject();

private:
    QString writeOtherProject();
    bool waitLoad(MainWindow& w, int timeoutMs = 120000);
    QTemporaryDir dir_;
    QString package_;
};

void TestMainWindow::initTestCase()
{
    QVERIFY(dir_.isValid());
    const auto r =
        runCli({"demo", "--out", dir_.filePath("demo"), "--verify-budget", "0", "--json"});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    package_ = dir_.filePath("demo/demo_package.pt");
}

void TestMainWindow::init()
{
    QSettings().clear();
}

bool TestMainWindow::waitLoad(MainWindow& w, int timeoutMs)
{
    QSignalSpy spy(&w, &MainWindow::loadFinished);
    return signalSeen(spy, timeoutMs);
}

void TestMainWindow::tableModelsPassTheModelTester()
{
    MainWindow w;
    auto* view = w.packageView();
    // Attach the testers before the models are filled.
    for (auto* m : {view->bucketModel(), view->inputModel(), view->methodModel(),
                    view->tensorModel(), view->metadataModel()})
        new QAbstractItemModelTester(m, QAbstractItemModelTester::FailureReportingMode::QtTest, m);
    w.openFile(package_);
    QVERIFY(waitLoad(w));
    QVERIFY(view->bucketModel()->rowCount() == 2);
}

void TestMainWindow::demoShowsBucketsInputsAndMetadata()
{
    MainWindow w;
    w.show();
    w.openDemo();
    QVERIFY(w.isBusy()); // the work runs off the UI thread
    QVERIFY(waitLoad(w));
    QVERIFY2(w.errorText().isEmpty(), qPrintable(w.errorText()));
    w.views()->setCurrentWidget(w.packageView());
    auto* table = w.findChild<QTableView*>("bucketTable");
    QVERIFY(table);
    QCOMPARE(table->model()->rowCount(), 2);
    QCOMPARE(table->model()->index(0, 1).data().toLongLong(), 128LL);
    QCOMPARE(table->model()->index(1, 2).data().toString(), QString("129 – 512"));
    auto* inputs = w.findChild<QTableView*>("inputTable");
    QCOMPARE(inputs->model()->rowCount(), 2);
    QCOMPARE(inputs->model()->index(1, 0).data().toString(), QString("attention_mask"));
    auto* title = w.findChild<QLabel*>("packageTitle");
    QVERIFY(title->text().contains("BucketLab package"));
    QVERIFY(w.windowTitle().contains("demo_package.pt"));
}

void TestMainWindow::badFilesShowAVisibleError_data()
{
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<QString>("mentions");
    QTest::addRow("random bytes") << QByteArray(1000, '\x7f') << "not a TorchScript archive";
    QTest::addRow("empty") << QByteArray() << "empty file";
}

void TestMainWindow::badFilesShowAVisibleError()
{
    QFETCH(QByteArray, content);
    QFETCH(QString, mentions);
    const QString bad = dir_.filePath("bad.pt");
    QVERIFY(writeAll(bad, content));
    MainWindow w;
    w.show();
    w.openFile(bad);
    QVERIFY(waitLoad(w));
    QVERIFY2(w.errorText().contains(mentions), qPrintable(w.errorText()));
    QVERIFY(w.errorText().contains(bad));
    QVERIFY(w.findChild<QWidget*>("errorBanner")->isVisible());
    // The window keeps working: a good file opens afterwards and clears the error.
    w.openFile(package_);
    QVERIFY(waitLoad(w));
    QVERIFY(w.errorText().isEmpty());
    QCOMPARE(w.findChild<QTableView*>("bucketTable")->model()->rowCount(), 2);
}

void TestMainWindow::recentFilesRemembersOpenedFiles()
{
    {
        MainWindow w;
        w.openFile(package_);
        QVERIFY(waitLoad(w));
    }
    MainWindow again;
    auto* menu = again.findChild<QMenu*>("recentMenu");
    QVERIFY(menu);
    QStringList names;
    for (auto* a : menu->actions())
        names << a->text();
    QVERIFY2(names.contains("demo_package.pt"), qPrintable(names.join(",")));
}

void TestMainWindow::screenshotIsWritten()
{
    const QString png = dir_.filePath("shot.png");
    const QString app = QFileInfo(QStringLiteral(BUCKETLAB_CLI)).absolutePath() + "/bucketlab";
    const auto r = runProcess(app, {"--screenshot", png, package_}, 120000);
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QImage image(png);
    QVERIFY(!image.isNull());
    QVERIFY(image.width() >= 1280);
    QVERIFY(image.height() >= 800);
}

void TestMainWindow::demoOpensInTheBucketsViewWithTrafficAndLatency()
{
    MainWindow w;
    w.show();
    w.openDemo();
    QVERIFY(waitLoad(w));
    QCOMPARE(w.views()->currentWidget(), static_cast<QWidget*>(w.bucketsView()));
    QCOMPARE(w.session()->histogram().total(), int64_t(5801)); // MRPC pairs
    QVERIFY(w.session()->hasLatency());
    QCOMPARE(w.session()->activeBoundaries(), (std::vector<int64_t>{128, 512}));
    QCOMPARE(w.bucketsView()->bucketModel()->rowCount(), 2);
    auto* summary = w.findChild<QLabel*>("statusSummary");
    QVERIFY2(summary->text().contains("mean") && summary->text().contains("waste"),
             qPrintable(summary->text()));
}

void TestMainWindow::projectSavesAndReopens()
{
    const QString project = dir_.filePath("session.bucketlab.json");
    std::vector<int64_t> edited;
    {
        MainWindow w;
        w.openDemo();
        QVERIFY(waitLoad(w));
        w.session()->editActiveBoundaries({48, 64, 128, 512}, "edit");
        edited = w.session()->activeBoundaries();
        QCOMPARE(w.saveProject(project), QString());
    }
    MainWindow again;
    // The demo's files live in the application's cache folder, outside the project's: the
    // window lists them and reads them once the user agrees.
    QSignalSpy loads(&again, &MainWindow::loadFinished);
    SaveQuestion outside(QMessageBox::Open, "outsideFilesBox");
    again.openProject(project);
    QTRY_COMPARE_WITH_TIMEOUT(outside.asked(), 1, 30000);
    QTRY_VERIFY_WITH_TIMEOUT(loads.count() >= 2, 60000);
    QVERIFY2(again.errorText().isEmpty(), qPrintable(again.errorText()));
    QCOMPARE(again.session()->activeBoundaries(), edited);
    QCOMPARE(again.session()->histogram().total(), int64_t(5801));
    QVERIFY(again.session()->model().has_value());
    QCOMPARE(again.bucketsView()->bucketModel()->rowCount(), 4);
}

void TestMainWindow::projectWithMissingFilesSaysSoAndKeepsWorking()
{
    bucketlab::Project p;
    p.model = bucketlab::test::s(dir_.filePath("gone/model.pt"));
    p.distributions = {{"traffic", bucketlab::test::s(dir_.filePath("gone/traffic.csv")), {}}};
    p.latencies = {{"curve", "linear:1,0.01"}};
    p.boundarySets = {{"current", "current", {64, 256}}};
    p.activeBoundarySet = "current";
    const QString file = dir_.filePath("missing.bucketlab.json");
    bucketlab::writeProject(p, bucketlab::test::s(file));
    MainWindow w;
    w.show();
    w.openProject(file);
    QVERIFY(waitLoad(w));
    QVERIFY2(w.errorText().contains("gone/model.pt"), qPrintable(w.errorText()));
    QVERIFY(w.errorText().contains("gone/traffic.csv"));
    // What exists still loaded, and the window works on.
    QCOMPARE(w.session()->activeBoundaries(), (std::vector<int64_t>{64, 256}));
    QVERIFY(w.session()->hasLatency());
    w.openFile(package_);
    QVERIFY(waitLoad(w));
    QVERIFY(w.session()->model().has_value());
}

// A project naming files outside its folder lists them and reads nothing until the user
// agrees (issue 12: project files stay in their lane).
void TestMainWindow::projectOutsideItsFolderAsksBeforeReading()
{
    bucketlab::Project p;
    p.model = bucketlab::test::s(package_);
    p.latencies = {{"demo", bucketlab::test::s(dir_.filePath("demo/demo_profile.json"))}};
    p.boundarySets = {{"current", "current", {64, 256}}};
    p.activeBoundarySet = "current";
    QVERIFY(QDir().mkpath(dir_.filePath("lane")));
    const QString file = dir_.filePath("lane/outside.bucketlab.json");
    bucketlab::writeProject(p, bucketlab::test::s(file));
    MainWindow w;
    w.show();
    QSignalSpy loads(&w, &MainWindow::loadFinished);
    {
        SaveQuestion question(QMessageBox::Cancel, "outsideFilesBox");
        w.openProject(file);
        QTRY_COMPARE_WITH_TIMEOUT(question.asked(), 1, 20000);
        QVERIFY2(question.text().contains("2 files outside its folder") &&
                     question.text().contains("demo_package.pt") &&
                     question.text().contains("demo_profile.json"),
                 qPrintable(question.text()));
        QTRY_VERIFY(w.statusBar()->currentMessage().contains("Did not open"));
    }
    // Nothing of it was read.
    QVERIFY(!w.session()->model().has_value());
    QVERIFY(!w.session()->hasLatency());
    QVERIFY(w.session()->boundarySets().empty());
    QVERIFY(!w.windowTitle().contains("outside.bucketlab.json"));
    {
        SaveQuestion question(QMessageBox::Open, "outsideFilesBox");
        const int before = int(loads.count());
        w.openProject(file);
        QTRY_COMPARE_WITH_TIMEOUT(question.asked(), 1, 20000);
        QTRY_VERIFY_WITH_TIMEOUT(loads.count() >= before + 2, 60000);
    }
    QVERIFY(w.session()->model().has_value());
    QCOMPARE(w.session()->activeBoundaries(), (std::vector<int64_t>{64, 256}));
    QVERIFY(w.windowTitle().contains("outside.bucketlab.json"));
}

void TestMainWindow::droppedFilesOfEveryKind()
{
    QVERIFY(writeAll(dir_.filePath("lengths.csv"), "tokens\n10\n20\n20\n30\n"));
    QVERIFY(writeAll(dir_.filePath("latency.csv"), "length,latency_ms\n16,1.0\n64,2.0\n"));
    QVERIFY(writeAll(dir_.filePath("notes.docx"), "x"));
    MainWindow w;
    w.show();
    for (const QString& name : {QString("lengths.csv"), QString("latency.csv")}) {
        // QTest cannot start a platform drag; the drop handler is exercised with the same
        // mime data a drop carries.
        QMimeData mime;
        mime.setUrls({QUrl::fromLocalFile(dir_.filePath(name))});
        QVERIFY(w.openMimeData(&mime));
        QVERIFY(waitLoad(w));
        QVERIFY2(w.errorText().isEmpty(), qPrintable(w.errorText()));
    }
    QCOMPARE(w.session()->histogram().total(), int64_t(4));
    QCOMPARE(w.session()->latency().measured().size(), size_t(2));
    QMimeData wrong;
    wrong.setUrls({QUrl::fromLocalFile(dir_.filePath("notes.docx"))});
    QVERIFY(w.openMimeData(&wrong));
    QVERIFY(waitLoad(w));
    QVERIFY2(w.errorText().contains("unknown kind of file"), qPrintable(w.errorText()));
    QCOMPARE(w.session()->histogram().total(), int64_t(4)); // nothing lost
}

void TestMainWindow::screenshotOfEveryView()
{
    const QString out = dir_.filePath("shots");
    const QString app = QFileInfo(QStringLiteral(BUCKETLAB_CLI)).absolutePath() + "/bucketlab";
    const auto r = runProcess(app, {"--demo", "--screenshot-all", out}, 120000);
    QVERIFY2(r.exitCode == 0, r.err.constData());
    const QStringList shots = QDir(out).entryList({"*.png"});
    QVERIFY2(shots.contains("buckets.png") && shots.contains("package.png"),
             qPrintable(shots.join(",")));
    for (const QString& f : shots) {
        QImage image(QDir(out).filePath(f));
        QVERIFY(image.width() >= 1280 && image.height() >= 800);
    }
}

void TestMainWindow::windowNeverWidensItself()
{
    MainWindow w;
    w.resize(1280, 760); // a 1280 px wide screen
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    w.openDemo();
    QVERIFY(waitLoad(w));
    QVERIFY(!w.isWindowModified()); // opening files is not an edit
    QCoreApplication::processEvents();
    const int width = w.width();
    QCOMPARE(width, 1280); // no view asks for more on its own
    const QString longName = QString("a_rather_long_folder_name_for_saved_profiles_").repeated(4);
    const QString longDir = dir_.filePath(longName + "/" + longName);

    // A profile measured in the Latency view and saved under a long path.
    w.views()->setCurrentWidget(w.latencyView());
    auto* panel = w.latencyView()->profilePanel();
    panel->setOutputDirectory(longDir);
    w.findChild<QSpinBox*>("profileGrid")->setValue(2);
    w.findChild<QSpinBox*>("profileBudget")->setValue(1);
    QSignalSpy stopped(panel, &bucketlab::ui::ProfilePanel::profilingStopped);
    QTest::mouseClick(w.findChild<QPushButton*>("profileRun"), Qt::LeftButton);
    QVERIFY(signalSeen(stopped, 60000));
    QVERIFY(stopped.first().first().toBool());
    auto* status = w.findChild<QLabel*>("profileStatus");
    QVERIFY2(status->text().contains(longName), qPrintable(status->text()));
    QVERIFY(status->toolTip().contains(longName)); // the whole path stays readable
    QVERIFY(w.isWindowModified());                 // a measured profile is unsaved work
    QCoreApplication::processEvents();
    QCOMPARE(w.width(), width);

    // A profile opened from a long path (it becomes the curve the tuner uses).
    const QString csv = longDir + "/" + longName + ".csv";
    QVERIFY(writeAll(csv, "length,latency_ms\n16,1.0\n128,2.0\n512,6.0\n"));
    w.openFile(csv);
    QVERIFY(waitLoad(w));
    QVERIFY2(w.errorText().isEmpty(), qPrintable(w.errorText()));
    QCoreApplication::processEvents();
    QCOMPARE(w.width(), width);
    // The line naming the curve in use is cut to fit, and its tooltip says it whole.
    auto* curve = w.findChild<QLabel*>("curveLabel");
    QVERIFY2(curve->text().contains(longName), qPrintable(curve->text()));
    QVERIFY(curve->fontMetrics().horizontalAdvance(curve->text()) > curve->width());
    QHelpEvent help(QEvent::ToolTip, QPoint(5, 5), curve->mapToGlobal(QPoint(5, 5)));
    QCoreApplication::sendEvent(curve, &help);
    QTRY_COMPARE(QToolTip::text(), curve->text());

    // A long status message, and a set with many boundaries in the Buckets view.
    w.statusBar()->showMessage("Opened " + csv + " " + csv);
    std::vector<int64_t> many;
    for (int64_t b = 8; b <= 512; b += 8)
        many.push_back(b);
    w.session()->editActiveBoundaries(many, "many");
    w.views()->setCurrentWidget(w.bucketsView());
    QCoreApplication::processEvents();
    QCOMPARE(w.width(), width);
}

QString TestMainWindow::writeOtherProject()
{
    bucketlab::Project p;
    p.latencies = {{"curve", "linear:1,0.01"}};
    p.boundarySets = {{"current", "current", {64, 256}}};
    p.activeBoundarySet = "current";
    const QString file = dir_.filePath("other.bucketlab.json");
    bucketlab::writeProject(p, bucketlab::test::s(file));
    return file;
}

void TestMainWindow::unsavedEditsAskBeforeClosing()
{
    const QString project = dir_.filePath("unsaved.bucketlab.json");
    const QString other = writeOtherProject();
    MainWindow w;
    w.show();
    w.activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(&w));
    w.openDemo();
    QVERIFY(waitLoad(w));
    QVERIFY(!w.isWindowModified()); // opening files is not an edit
    QCOMPARE(w.saveProject(project), QString());
    QVERIFY2(w.windowTitle().contains("[*]"), qPrintable(w.windowTitle()));
    QVERIFY(!w.isWindowModified());

    // A drag marks the title; undoing back to the saved state clears the mark.
    dragBoundary(w, 128, 100);
    const auto edited = w.session()->activeBoundaries();
    QVERIFY(edited != (std::vector<int64_t>{128, 512}));
    QVERIFY(w.isWindowModified());
    auto* undo = w.findChild<QAction*>("actionUndo");
    auto* redo = w.findChild<QAction*>("actionRedo");
    undo->trigger();
    QVERIFY(!w.isWindowModified());
    redo->trigger();
    QVERIFY(w.isWindowModified());

    // Ctrl+Q, Cancel: the window stays, with the edit.
    {
        SaveQuestion question(QMessageBox::Cancel);
        QTest::keyClick(&w, Qt::Key_Q, Qt::ControlModifier);
        QCOMPARE(question.asked(), 1);
        QVERIFY2(question.text().contains("unsaved.bucketlab.json"), qPrintable(question.text()));
    }
    QVERIFY(w.isVisible());
    QCOMPARE(w.session()->activeBoundaries(), edited);
    QVERIFY(w.isWindowModified());

    // Opening another project, Cancel: this one stays open.
    {
        SaveQuestion question(QMessageBox::Cancel);
        w.openProject(other);
        QCOMPARE(question.asked(), 1);
    }
    QVERIFY(!w.isBusy());
    QCOMPARE(w.session()->activeBoundaries(), edited);
    QVERIFY(w.session()->model().has_value());

    // The close event itself, Save: written to the project, and the window closes.
    {
        SaveQuestion question(QMessageBox::Save);
        QVERIFY(w.close());
        QCOMPARE(question.asked(), 1);
    }
    QVERIFY(!w.isVisible());
    const auto saved = bucketlab::readProject(bucketlab::test::s(project));
    QCOMPARE(saved.boundarySets.front().boundaries.values(), edited.values());
}

void TestMainWindow::optimizeUndoesFromTheMenuAndDiscardOpensTheOtherProject()
{
    const QString project = dir_.filePath("optimized.bucketlab.json");
    const QString other = writeOtherProject();
    MainWindow w;
    w.show();
    w.openDemo();
    QVERIFY(waitLoad(w));
    QCOMPARE(w.saveProject(project), QString());
    const auto before = w.session()->activeBoundaries();

    // Tools > Optimize: one undo step, and unsaved work.
    QSignalSpy done(w.bucketsView(), &bucketlab::ui::BucketsView::optimizeFinished);
    w.findChild<QAction*>("actionOptimize")->trigger();
    QVERIFY(signalSeen(done, 30000));
    QVERIFY(done.first().first().toBool());
    const auto optimum = w.session()->activeBoundaries();
    QVERIFY(optimum != before);
    QVERIFY(w.isWindowModified());
    auto* undo = w.findChild<QAction*>("actionUndo");
    auto* redo = w.findChild<QAction*>("actionRedo");
    QVERIFY(undo->isEnabled());
    QVERIFY2(undo->text().contains("Optimize"), qPrintable(undo->text()));
    undo->trigger();
    QCOMPARE(w.session()->activeBoundaries(), before);
    QCOMPARE(w.session()->activeSet()->name, std::string("current"));
    QVERIFY(!w.isWindowModified());
    QVERIFY2(redo->text().contains("Optimize"), qPrintable(redo->text()));
    redo->trigger();
    QCOMPARE(w.session()->activeBoundaries(), optimum);
    QVERIFY(w.isWindowModified());

    // Opening another project, Discard: it opens, and the saved project keeps what it had.
    {
        SaveQuestion question(QMessageBox::Discard);
        w.openProject(other);
        QCOMPARE(question.asked(), 1);
    }
    QVERIFY(waitLoad(w));
    QCOMPARE(w.session()->activeBoundaries(), (std::vector<int64_t>{64, 256}));
    QVERIFY(!w.isWindowModified());
    const auto saved = bucketlab::readProject(bucketlab::test::s(project));
    QCOMPARE(saved.activeBoundarySet, std::string("current"));
    QCOMPARE(saved.boundarySets.front().boundaries.values(), before.values());

    // Nothing unsaved: closing asks nothing.
    SaveQuestion none(QMessageBox::Cancel);
    QVERIFY(w.close());
    QCOMPARE(none.asked(), 0);
}

namespace {

// The visible text items of a plot (notes drawn on it).
QStringList plotTexts(QCustomPlot* plot)
{
    QStringList texts;
    for (int i = 0; i < plot->itemCount(); ++i)
        if (auto* t = qobject_cast<QCPItemText*>(plot->item(i)); t && t->visible())
            texts << t->text();
    return texts;
}

QString legendNames(QCustomPlot* plot)
{
    QStringList names;
    if (plot->legend->visible())
        for (int i = 0; i < plot->legend->itemCount(); ++i)
            if (auto* item = qobject_cast<QCPPlottableLegendItem*>(plot->legend->item(i)))
                names << item->plottable()->name();
    return names.join("; ");
}

bool treeHasText(QTreeWidget* tree, const QString& text)
{
    return !tree->findItems(text, Qt::MatchContains | Qt::MatchRecursive).isEmpty();
}

} // namespace

void TestMainWindow::aFinishedProfileLeavesNoPanelStale()
{
    MainWindow w;
    w.resize(1280, 800);
    w.show();
    w.openDemo();
    QVERIFY(waitLoad(w));
    auto* session = w.session();
    auto* buckets = w.bucketsView();
    auto* status = w.findChild<QLabel*>("statusSummary");
    auto* chooser = w.findChild<QComboBox*>("boundarySetChooser");
    auto* progress = w.findChild<QProgressBar*>("optimizeProgress");
    auto* optimizeButton = w.findChild<QPushButton*>("optimizeButton");
    auto* comparisonNote = w.findChild<QLabel*>("comparisonNote");
    auto* tree = w.findChild<QTreeWidget*>("projectTree");
    QVERIFY(status && chooser && progress && optimizeButton && comparisonNote && tree);

    // Optimize from the menu: the optimum, its comparison and its Pareto front.
    QSignalSpy done(buckets, &bucketlab::ui::BucketsView::optimizeFinished);
    w.findChild<QAction*>("actionOptimize")->trigger();
    QVERIFY(signalSeen(done, 30000));
    QVERIFY(done.first().first().toBool());
    QCOMPARE(session->activeSet()->name, std::string("tuned"));
    const auto tuned = session->activeBoundaries();
    QVERIFY(buckets->comparisonModel()->rowCount() > 0);
    QVERIFY(comparisonNote->isHidden());
    QVERIFY2(progress->format().contains("optimum found"), qPrintable(progress->format()));
    QVERIFY(buckets->paretoPlot()->graph(0)->dataCount() > 0);
    QVERIFY2(!status->text().contains("stale"), qPrintable(status->text()));

    // A profile measured in the Latency view, on a simulated device that is much faster than
    // the demo's curve: it becomes the curve the tuner uses.
    w.views()->setCurrentWidget(w.latencyView());
    auto* panel = w.latencyView()->profilePanel();
    panel->setOutputDirectory(dir_.filePath("stale-profiles"));
    panel->setSimulatedClock([](int64_t length, int64_t, int64_t) { return 0.1 + 0.002 * length; });
    w.findChild<QSpinBox*>("profileGrid")->setValue(3);
    w.findChild<QSpinBox*>("profileBudget")->setValue(5);
    QSignalSpy stopped(panel, &bucketlab::ui::ProfilePanel::profilingStopped);
    QTest::mouseClick(w.findChild<QPushButton*>("profileRun"), Qt::LeftButton);
    QVERIFY(signalSeen(stopped, 60000));
    QVERIFY(stopped.first().first().toBool());
    const QString measured = QString::fromStdString(session->latencySource()->source);
    QCOMPARE(session->profiles().back().path, measured);

    // The Latency view shows the profile the tuner now uses, not the demo's.
    auto* profileChooser = w.latencyView()->profileChooser();
    QCOMPARE(profileChooser->currentData().toString(), measured);
    QVERIFY(w.latencyView()->plot()->graphCount() > 0);
    QVERIFY2(w.latencyView()->plot()->graph(0)->name().startsWith(QFileInfo(measured).fileName()),
             qPrintable(w.latencyView()->plot()->graph(0)->name()));

    // The optimum is stale and every panel says so instead of showing old figures.
    QCOMPARE(session->activeBoundaries(), tuned); // the user's set is kept...
    QVERIFY2(status->text().startsWith("tuned (for demo encoder, stale)"),
             qPrintable(status->text())); // ...and named stale wherever it shows
    QVERIFY2(chooser->currentText().contains("stale"), qPrintable(chooser->currentText()));
    QVERIFY(treeHasText(tree, "tuned (for demo encoder, stale)"));
    QVERIFY(!session->tuningReport());
    QCOMPARE(buckets->comparisonModel()->rowCount(), 0);
    QVERIFY(!comparisonNote->isHidden());
    QVERIFY2(comparisonNote->text().contains("Optimize again"), qPrintable(comparisonNote->text()));
    QVERIFY2(!legendNames(buckets->paretoPlot()).contains("knee"),
             qPrintable(legendNames(buckets->paretoPlot())));
    QCOMPARE(buckets->paretoPlot()->graph(0)->dataCount(), 0);
    QVERIFY2(plotTexts(buckets->paretoPlot()).join(" ").contains("Optimize again"),
             qPrintable(plotTexts(buckets->paretoPlot()).join(" ")));
    QVERIFY2(!progress->format().contains("optimum found"), qPrintable(progress->format()));
    QCOMPARE(optimizeButton->text(), QString("Optimize again"));
    // Saying so never widens the window, whichever view shows.
    for (QWidget* view : {static_cast<QWidget*>(buckets), static_cast<QWidget*>(w.latencyView()),
                          static_cast<QWidget*>(w.validationView())}) {
        w.views()->setCurrentWidget(view);
        QCoreApplication::processEvents();
        QCOMPARE(w.width(), 1280);
    }

    // Optimize again, from the offered button: a fresh optimum, no stale mark.
    w.views()->setCurrentWidget(buckets);
    done.clear();
    QTest::mouseClick(optimizeButton, Qt::LeftButton);
    QVERIFY(signalSeen(done, 30000));
    QVERIFY(done.first().first().toBool());
    QVERIFY2(!status->text().contains("stale"), qPrintable(status->text()));
    QVERIFY(!treeHasText(tree, "stale"));
    QVERIFY(buckets->comparisonModel()->rowCount() > 0);
    QVERIFY(comparisonNote->isHidden());
    QCOMPARE(optimizeButton->text(), QString("Optimize"));
    QVERIFY2(progress->format().contains("optimum found"), qPrintable(progress->format()));

    // Undo brings back the old optimum, and with it its stale mark (not its old figures).
    w.findChild<QAction*>("actionUndo")->trigger();
    QCOMPARE(session->activeBoundaries(), tuned);
    QVERIFY2(status->text().contains("stale"), qPrintable(status->text()));
    QCOMPARE(buckets->comparisonModel()->rowCount(), 0);
    w.findChild<QAction*>("actionRedo")->trigger();
    QVERIFY2(!status->text().contains("stale"), qPrintable(status->text()));

    // A profile opened from a file: the Latency view follows it too, and the optimum found
    // for the measured one is stale in its turn.
    const QString csv = dir_.filePath("opened-profile.csv");
    QVERIFY(writeAll(csv, "length,latency_ms\n16,1.0\n128,2.0\n512,6.0\n"));
    w.openFile(csv);
    QVERIFY(waitLoad(w));
    QCOMPARE(profileChooser->currentData().toString(), csv);
    QVERIFY2(status->text().contains(
                 QStringLiteral("for %1, stale").arg(QFileInfo(measured).fileName())),
             qPrintable(status->text()));
    QCOMPARE(progress->format(), QString("stale: Optimize again"));
}

void TestMainWindow::validationFollowsTheActiveSet()
{
    MainWindow w;
    w.resize(1280, 800);
    w.show();
    auto* validation = w.validationView();
    QSignalSpy validated(validation, &bucketlab::ui::ValidationView::validationFinished);
    w.openDemo();
    QVERIFY(waitLoad(w));
    // Opening the package validates its own kernel, whose buckets are the active set's.
    QVERIFY(signalSeen(validated, 60000));
    QVERIFY(validated.last().first().toBool());
    QCOMPARE(validation->model()->result().boundaries, (std::vector<int64_t>{128, 512}));
    QVERIFY2(validation->subjectText().contains("demo_package.pt") &&
                 validation->subjectText().contains("<b>current</b>"),
             qPrintable(validation->subjectText()));

    // Optimize: the active set is "tuned". The Validation tab then checks the kernel that
    // serves it, and says so.
    QSignalSpy done(w.bucketsView(), &bucketlab::ui::BucketsView::optimizeFinished);
    w.findChild<QAction*>("actionOptimize")->trigger();
    QVERIFY(signalSeen(done, 30000));
    const auto tuned = w.session()->activeBoundaries().values();
    QVERIFY(tuned != (std::vector<int64_t>{128, 512}));
    QVERIFY(w.findChild<QLabel*>("statusSummary")->text().startsWith("tuned:"));
    validated.clear();
    w.views()->setCurrentWidget(validation);
    QVERIFY(signalSeen(validated, 60000));
    QVERIFY(validated.first().first().toBool());
    QCOMPARE(validation->model()->result().boundaries, tuned);
    QVERIFY(validation->model()->result().ok);
    QStringList tunedText;
    for (int64_t b : tuned)
        tunedText << QString::number(b);
    QVERIFY2(validation->subjectText().contains("<b>tuned</b> (buckets " + tunedText.join(", ")),
             qPrintable(validation->subjectText()));
    QVERIFY2(validation->subjectText().contains("128, 512"), // and what the package serves
             qPrintable(validation->subjectText()));
    QCoreApplication::processEvents();
    QCOMPARE(w.width(), 1280); // the longer explanation wraps; the window keeps its width

    // The strip shows where the served range ends: past the largest bucket is not "ok" green.
    auto* strip = validation->strip();
    const auto& ranges = validation->model()->ranges();
    QVERIFY(!ranges.empty());
    const auto& past = ranges.back();
    QCOMPARE(past.bucket, int64_t(0));
    QVERIFY(past.ok()); // rejected, as it should be
    const auto& served = ranges.front();
    QVERIFY(served.bucket > 0 && served.ok());
    const QImage image = strip->grab().toImage();
    const int y = int(strip->barRect().center().y());
    auto colourAt = [&](const bucketlab::ui::ValidationRange& r) {
        const double x = (strip->xOfLength(r.first) + strip->xOfLength(r.last + 1)) / 2;
        return image.pixelColor(int(x), y);
    };
    QCOMPARE(colourAt(served), bucketlab::ui::ValidationStrip::okColor());
    QCOMPARE(colourAt(past), bucketlab::ui::ValidationStrip::rejectedColor());
    QVERIFY(colourAt(past) != colourAt(served));

    // Undo the Optimize: back to "current", and to the package's own kernel.
    validated.clear();
    w.findChild<QAction*>("actionUndo")->trigger();
    QVERIFY(signalSeen(validated, 60000));
    QCOMPARE(validation->model()->result().boundaries, (std::vector<int64_t>{128, 512}));
    QVERIFY2(validation->subjectText().contains("<b>current</b>"),
             qPrintable(validation->subjectText()));
}

void TestMainWindow::viewKeysAndTheirList()
{
    MainWindow w;
    w.resize(1280, 800);
    w.show();
    w.activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(&w));
    // Ctrl+1..6 are the views in tab order, wherever the focus is.
    w.findChild<QDockWidget*>()->widget()->setFocus();
    for (int i : {3, 6, 5, 2, 4, 1}) {
        QTest::keyClick(&w, Qt::Key(Qt::Key_0 + i), Qt::ControlModifier);
        QCOMPARE(w.views()->currentIndex(), i - 1);
    }
    QCOMPARE(w.views()->currentWidget(), static_cast<QWidget*>(w.views()->widget(0)));
    // Alt+0 hides and shows the Project panel.
    auto* dock = w.findChild<QDockWidget*>();
    QVERIFY(dock->isVisible());
    QTest::keyClick(&w, Qt::Key_0, Qt::AltModifier);
    QVERIFY(!dock->isVisible());
    QTest::keyClick(&w, Qt::Key_0, Qt::AltModifier);
    QVERIFY(dock->isVisible());

    // Help > Keyboard Shortcuts lists the keys from the actions themselves, the views' own too.
    w.findChild<QAction*>("actionShortcuts")->trigger();
    auto* table = w.findChild<QTableWidget*>("shortcutsTable");
    QVERIFY(table && table->isVisible());
    QVERIFY(w.isVisible()); // not modal
    QStringList rows;
    for (int r = 0; r < table->rowCount(); ++r)
        rows << table->item(r, 0)->text() + " | " + table->item(r, 1)->text() + " | " +
                    table->item(r, 2)->text();
    const QString all = rows.join("\n");
    for (const char* row :
         {"View | Graph | Ctrl+4", "View | Validation | Ctrl+5", "View | LLM | Ctrl+6",
          "Tools | Optimize Buckets | Ctrl+R", "Graph view | Fit to width | Ctrl+0",
          "Graph view | Find node | Ctrl+F", "File | Quit | Ctrl+Q"})
        QVERIFY2(rows.contains(row), qPrintable(QString(row) + " not in:\n" + all));
}

// The LLM view's edits have their own undo stack: Edit > Undo reaches them while the view is
// in front, the project's edits otherwise, and they never mark the project modified.
void TestMainWindow::llmViewUndoesFromTheMenuWithoutTouchingTheProject()
{
    MainWindow w;
    w.resize(1280, 800);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    w.openDemo();
    QVERIFY(waitLoad(w));
    w.session()->editActiveBoundaries({48, 64, 128, 512}, "edit");
    QVERIFY(w.isWindowModified());
    w.session()->setSaved(); // as if saved
    QVERIFY(!w.isWindowModified());

    QTest::keyClick(&w, Qt::Key_6, Qt::ControlModifier);
    QCOMPARE(w.views()->currentWidget(), static_cast<QWidget*>(w.llmView()));
    w.llmView()->openTraffic(
        QStringLiteral(BUCKETLAB_SOURCE_DIR "/resources/llm/azure_code_pairs.csv"));
    bucketlab::ui::LlmSession* llm = w.llmView()->session();
    QVERIFY(llm->ready());
    const auto defaults = llm->lists(bucketlab::ui::LlmPhase::Cte).values();
    auto lists = llm->bucketLists();
    lists.cte = bucketlab::Boundaries{300, 1000, 8192};
    llm->editLists(lists, "test edit");
    QVERIFY(!w.isWindowModified()); // not the project's
    QAction* undo = w.findChild<QAction*>("actionUndo");
    QVERIFY(undo->isEnabled());
    undo->trigger();
    QCOMPARE(llm->lists(bucketlab::ui::LlmPhase::Cte).values(), defaults);
    QCOMPARE(w.session()->activeBoundaries(), (std::vector<int64_t>{48, 64, 128, 512}));
    // Back on the Buckets view, Undo is the project's again.
    QTest::keyClick(&w, Qt::Key_1, Qt::ControlModifier);
    undo->trigger();
    QCOMPARE(w.session()->activeBoundaries(), (std::vector<int64_t>{128, 512}));
}

BUCKETLAB_GUI_TEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"
