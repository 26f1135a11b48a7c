// Plots written to files as a user exports them: PNG (twice the on-screen pixels), PDF and
// SVG that other programs read, written atomically (a replaced file is whole, nothing is left
// beside it), and File > Export Plot on the current view's plot through a window-modal dialog.
#include "guitest.h"
#include "ui/views/bucketsview.h"
#include "ui/views/latencyview.h"
#include "ui/views/mainwindow.h"
#include "ui/views/plot.h"
#include "ui/views/plotsupport.h"
#include "ui/views/validationview.h"

#include <QAction>
#include <QFile>
#include <QFileDialog>
#include <QImage>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QSvgRenderer>
#include <QTabWidget>
#include <QTemporaryDir>

using namespace bucketlab::ui;

class TestPlotExport : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void writesEachFormat_data();
    void writesEachFormat();
    void replacesWholeAndLeavesNothingBehind();
    void refusesWhatItCannotWrite();
    void fileMenuExportsTheCurrentViewsPlot();

private:
    static QCustomPlot* samplePlot();
};

QCustomPlot* TestPlotExport::samplePlot()
{
    auto* plot = new QCustomPlot;
    plot->setObjectName("samplePlot");
    plot->resize(400, 300);
    plot->addGraph()->setData({1, 2, 3, 4}, {1, 4, 2, 3});
    plot->xAxis->setLabel("length");
    plot->rescaleAxes();
    plot->replot();
    return plot;
}

void TestPlotExport::writesEachFormat_data()
{
    QTest::addColumn<QString>("suffix");
    QTest::addRow("PNG") << "png";
    QTest::addRow("PDF") << "pdf";
    QTest::addRow("SVG") << "svg";
}

void TestPlotExport::writesEachFormat()
{
    QFETCH(QString, suffix);
    QTemporaryDir dir;
    std::unique_ptr<QCustomPlot> plot(samplePlot());
    const QString path = dir.filePath("plot." + suffix);
    QCOMPARE(exportPlot(plot.get(), path), QString());
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray bytes = file.readAll();
    if (suffix == "png") {
        QImage image;
        QVERIFY(image.loadFromData(bytes, "PNG"));
        QCOMPARE(image.size(), QSize(800, 600)); // twice the plot's 400 x 300
    } else if (suffix == "pdf") {
        QVERIFY(bytes.startsWith("%PDF-"));
        QVERIFY(bytes.trimmed().endsWith("%%EOF"));
        // One page the plot's size, in points (one per pixel).
        QVERIFY(QRegularExpression(R"(/MediaBox \[0 0 400(\.0+)? 300(\.0+)?\])")
                    .match(QString::fromLatin1(bytes))
                    .hasMatch());
    } else {
        QSvgRenderer svg(bytes);
        QVERIFY(svg.isValid());
        QCOMPARE(svg.viewBox(), QRect(0, 0, 400, 300));
    }
}

void TestPlotExport::replacesWholeAndLeavesNothingBehind()
{
    QTemporaryDir dir;
    const QString path = dir.filePath("plot.png");
    {
        QFile old(path);
        QVERIFY(old.open(QIODevice::WriteOnly));
        old.write("an older plot");
    }
    std::unique_ptr<QCustomPlot> plot(samplePlot());
    QCOMPARE(exportPlot(plot.get(), path, 200, 100), QString());
    QImage image(path);
    QCOMPARE(image.size(), QSize(400, 200));
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden), QStringList{"plot.png"});
}

void TestPlotExport::refusesWhatItCannotWrite()
{
    QTemporaryDir dir;
    std::unique_ptr<QCustomPlot> plot(samplePlot());
    // A format it does not write: said so, and the file there stays as it was.
    const QString jpg = dir.filePath("plot.jpg");
    {
        QFile old(jpg);
        QVERIFY(old.open(QIODevice::WriteOnly));
        old.write("keep me");
    }
    QString error = exportPlot(plot.get(), jpg);
    QVERIFY2(error.contains(jpg) && error.contains(".png"), qPrintable(error));
    QFile kept(jpg);
    QVERIFY(kept.open(QIODevice::ReadOnly));
    QCOMPARE(kept.readAll(), QByteArray("keep me"));
    // A folder that does not exist: the message names the file, nothing is created.
    const QString missing = dir.filePath("no/such/folder/plot.svg");
    error = exportPlot(plot.get(), missing);
    QVERIFY2(error.startsWith(missing), qPrintable(error));
    QVERIFY(!QFile::exists(missing));
}

void TestPlotExport::fileMenuExportsTheCurrentViewsPlot()
{
    QTemporaryDir dir;
    MainWindow w;
    w.resize(1280, 800);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QSignalSpy loaded(&w, &MainWindow::loadFinished);
    w.openDemo();
    QVERIFY(signalSeen(loaded, 60000));
    auto* action = w.findChild<QAction*>("actionExportPlot");
    QVERIFY(action);
    QCOMPARE(action->shortcut(), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_E));

    w.views()->setCurrentWidget(w.bucketsView());
    QVERIFY(action->isEnabled());
    QCOMPARE(w.currentPlot(), w.bucketsView()->plot());
    action->trigger();
    QFileDialog* dialog = nullptr;
    QTRY_VERIFY((dialog = w.findChild<QFileDialog*>("exportPlotDialog")));
    QVERIFY(dialog->isModal()); // window-modal, opened with open(): no nested event loop
    const QString path = dir.filePath("buckets.svg");
    dialog->selectFile(path);
    static_cast<QDialog*>(dialog)->accept(); // the Save button (QFileDialog::accept)
    QTRY_VERIFY(QFile::exists(path));
    QSvgRenderer svg(path);
    QVERIFY(svg.isValid());
    QCOMPARE(svg.viewBox().size(), w.bucketsView()->plot()->size());

    // Views without a plot disable it; the Latency view exports its own.
    w.views()->setCurrentWidget(w.validationView());
    QVERIFY(!action->isEnabled());
    w.views()->setCurrentWidget(w.latencyView());
    QVERIFY(action->isEnabled());
    QVERIFY(w.currentPlot() && w.latencyView()->isAncestorOf(w.currentPlot()));
}

BUCKETLAB_GUI_TEST_MAIN(TestPlotExport)
#include "tst_plotexport.moc"
