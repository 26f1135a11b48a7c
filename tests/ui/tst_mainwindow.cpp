// The real main window, driven as a user would: open the demo, open bad files, use the
// recent-files menu, and render a screenshot through the bucketlab executable.
#include "guitest.h"
#include "testutil.h"
#include "ui/mainwindow.h"
#include "ui/packagetablemodels.h"
#include "ui/packageview.h"

#include <QAbstractItemModelTester>
#include <QImage>
#include <QLabel>
#include <QMenu>
#include <QSettings>
#include <QSignalSpy>
#include <QTableView>
#include <QTemporaryDir>

using namespace bucketlab::test;
using bucketlab::ui::MainWindow;

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
    void screenshotIsWritten();

private:
    bool waitLoad(MainWindow& w, int timeoutMs = 120000);
    QTemporaryDir dir_;
    QString package_;
};

void TestMainWindow::initTestCase()
{
    QVERIFY(dir_.isValid());
    const auto r = runCli({"demo", "--out", dir_.filePath("demo"), "--json"});
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
    return spy.wait(timeoutMs) || spy.count() > 0;
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

BUCKETLAB_GUI_TEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"
