// File ▸ Report… as a user runs it: on the demo, after an edit, the menu action asks for a
// file and writes the HTML report for the session (current against the edited set) on a
// background job while the window keeps answering; no package is exported. What cannot be
// written is said in the window and leaves no file behind.
#include "guitest.h"
#include "stallwatchdog.h"
#include "ui/models/backgroundjob.h"
#include "ui/models/session.h"
#include "ui/views/mainwindow.h"

#include <QAction>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QSignalSpy>
#include <QTemporaryDir>

using namespace bucketlab;
using namespace bucketlab::ui;

class TestReportAction : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void theMenuWritesTheSessionsReport();
    void whatCannotBeWrittenIsShownAndLeavesNoFile();
    void withoutTrafficTheActionSaysWhatIsMissing();
};

void TestReportAction::theMenuWritesTheSessionsReport()
{
    QTemporaryDir dir;
    MainWindow w;
    w.resize(1280, 800);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QSignalSpy loaded(&w, &MainWindow::loadFinished);
    w.openDemo();
    QVERIFY(signalSeen(loaded, 120000));
    QVERIFY2(loaded.first().first().toBool(), qPrintable(w.errorText()));
    const int exportedBefore = int(QDir(dir.path()).entryList(QDir::Files).size());
    // An edit the report has to show: the active set becomes 96, <largest>.
    const Boundaries before = w.session()->activeBoundaries();
    QVERIFY(before.size() >= 2);
    std::vector<int64_t> edited{96, before.largest()};
    w.session()->editActiveBoundaries(edited, "test edit");

    QAction* action = w.findChild<QAction*>("actionReport");
    QVERIFY(action);
    QVERIFY(action->isEnabled());
    action->trigger();
    QFileDialog* dialog = nullptr;
    QTRY_VERIFY((dialog = w.findChild<QFileDialog*>("reportFileDialog")));
    QVERIFY(dialog->isModal()); // window-modal with open(): no nested event loop
    const QString path = dir.filePath("session.html");
    QSignalSpy done(&w, &MainWindow::reportFinished);
    StallWatchdog watch([&w] { return w.reportJob()->isRunning(); });
    dialog->selectFile(path);
    static_cast<QDialog*>(dialog)->accept();
    QVERIFY(w.reportJob()->isRunning() || done.count() > 0);
    QVERIFY(signalSeen(done, 300000));
    QVERIFY2(done.first().at(0).toBool(), qPrintable(done.first().at(1).toString()));
    QCOMPARE(done.first().at(1).toString(), path);
    // The UI thread ran its event loop while the report was made.
    QVERIFY2(watch.busyTicks() > 0, "the report ran on the UI thread");

    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QString html = QString::fromUtf8(f.readAll());
    QVERIFY(html.startsWith("<!DOCTYPE html>", Qt::CaseInsensitive));
    QVERIFY(html.trimmed().endsWith("</html>"));
    // The edited set is the report's tuned set, the demo's current one its baseline.
    QVERIFY2(html.contains(QString("96, %1").arg(before.largest())), "the edited set");
    QVERIFY(html.contains(QString::number(before.values().front())));
    // Nothing else was written beside it (no package export).
    QCOMPARE(int(QDir(dir.path()).entryList(QDir::Files).size()), exportedBefore + 1);
    QVERIFY(w.errorText().isEmpty());
}

void TestReportAction::whatCannotBeWrittenIsShownAndLeavesNoFile()
{
    QTemporaryDir dir;
    MainWindow w;
    w.show();
    QSignalSpy loaded(&w, &MainWindow::loadFinished);
    w.openDemo();
    QVERIFY(signalSeen(loaded, 120000));
    QSignalSpy done(&w, &MainWindow::reportFinished);
    // A folder that does not exist: refused before any work, said in the banner.
    const QString path = dir.filePath("no/such/folder/report.html");
    w.writeReport(path);
    QVERIFY(signalSeen(done, 300000));
    QVERIFY(!done.first().at(0).toBool());
    QVERIFY2(w.errorText().startsWith("Report:"), qPrintable(w.errorText()));
    QVERIFY(!QFile::exists(path));
    QCOMPARE(QDir(dir.path()).entryList(QDir::NoDotAndDotDot | QDir::AllEntries).size(), 0);
}

void TestReportAction::withoutTrafficTheActionSaysWhatIsMissing()
{
    MainWindow w;
    w.show();
    QAction* action = w.findChild<QAction*>("actionReport");
    QVERIFY(action);
    action->trigger();
    QVERIFY(!w.findChild<QFileDialog*>("reportFileDialog"));
    QVERIFY2(w.errorText().contains("traffic"), qPrintable(w.errorText()));
}

BUCKETLAB_GUI_TEST_MAIN(TestReportAction)
#include "tst_reportaction.moc"
