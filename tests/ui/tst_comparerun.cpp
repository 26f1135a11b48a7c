// Compare runs in the desktop as a user does it: on the demo, File ▸ Compare With… picks a
// second traffic file, then a second profile; the Buckets view draws run B's traffic over the
// demo's, the Latency view run B's curve over its own, and the comparison dock prices every
// boundary set on both runs (the core's figures) with B − A. Closing the comparison removes
// all of it.
#include "core/latency/profile_format.h"
#include "guitest.h"
#include "ui/models/runcomparisonmodel.h"
#include "ui/models/session.h"
#include "ui/views/bucketsview.h"
#include "ui/views/latencyview.h"
#include "ui/views/mainwindow.h"
#include "ui/views/plot.h"
#include "ui/views/runcomparisonpanel.h"

#include <QAction>
#include <QDir>
#include <QDockWidget>
#include <QFile>
#include <QFileDialog>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableView>
#include <QTemporaryDir>

using namespace bucketlab;
using namespace bucketlab::ui;

namespace {

QCPGraph* graphNamed(QCustomPlot* plot, const QString& objectName)
{
    for (int i = 0; i < plot->graphCount(); ++i)
        if (plot->graph(i)->objectName() == objectName)
            return plot->graph(i);
    return nullptr;
}

} // namespace

class TestCompareRun : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void compareWithATrafficThenAProfile();

private:
    // Picks `path` in File ▸ Compare With…'s dialog and waits for the pricing.
    void compareWith(MainWindow& w, const QString& path);
    QTemporaryDir dir_;
};

void TestCompareRun::initTestCase()
{
    QVERIFY(dir_.isValid());
    // Run B's traffic: longer requests than the demo's MRPC pairs.
    QFile csv(dir_.filePath("longer.csv"));
    QVERIFY(csv.open(QIODevice::WriteOnly));
    csv.write("length\n");
    for (int i = 0; i < 3000; ++i)
        csv.write(QByteArray::number(40 + (i * 37) % 90) + "\n");
    csv.close();
    // Run B's curve: a machine twice as slow per token.
    Profile p;
    for (int64_t len : {16, 32, 64, 128}) {
        ProfilePoint point;
        point.length = len;
        for (int s = 0; s < 5; ++s)
            point.samplesMs.push_back(1.0 + 0.05 * double(len) + 0.001 * s);
        summarizeSamples(point);
        p.points.push_back(point);
    }
    writeProfile(dir_.filePath("slower.json").toStdString(), p, true);
}

void TestCompareRun::compareWith(MainWindow& w, const QString& path)
{
    QSignalSpy ready(w.runComparisonPanel(), &RunComparisonPanel::comparisonReady);
    QAction* action = w.findChild<QAction*>("actionCompareWith");
    QVERIFY(action);
    action->trigger();
    QFileDialog* dialog = nullptr;
    QTRY_VERIFY((dialog = w.findChild<QFileDialog*>("compareFileDialog")));
    QVERIFY(dialog->isModal());
    dialog->selectFile(path);
    static_cast<QDialog*>(dialog)->accept();
    QVERIFY2(signalSeen(ready, 120000), qPrintable(w.errorText()));
    QVERIFY2(w.errorText().isEmpty(), qPrintable(w.errorText()));
    QTRY_VERIFY(!w.findChild<QFileDialog*>("compareFileDialog")); // closed and deleted
}

void TestCompareRun::compareWithATrafficThenAProfile()
{
    MainWindow w;
    w.resize(1280, 900);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QSignalSpy loaded(&w, &MainWindow::loadFinished);
    w.openDemo();
    QVERIFY(signalSeen(loaded, 120000));
    auto* dock = w.findChild<QDockWidget*>("comparisonDock");
    QVERIFY(dock);
    QVERIFY(!dock->isVisible());
    QCustomPlot* buckets = w.bucketsView()->plot();
    QVERIFY(!graphNamed(buckets, "secondTrafficGraph")->visible());

    compareWith(w, dir_.filePath("longer.csv"));
    QVERIFY(dock->isVisible());
    // Run B's traffic over the demo's, named in the legend.
    QCPGraph* overlay = graphNamed(buckets, "secondTrafficGraph");
    QVERIFY(overlay && overlay->visible());
    QVERIFY(overlay->dataCount() > 0);
    QVERIFY(overlay->name().contains("longer.csv"));
    QVERIFY(buckets->legend->hasItemWithPlottable(overlay));

    // Every set of the session is a row, priced on both runs, with B − A.
    RunComparisonModel* model = w.runComparisonPanel()->model();
    QVERIFY(model->comparison().has_value());
    QStringList lists;
    for (int r = 0; r < model->rowCount(); ++r)
        lists << model->index(r, RunComparisonModel::Boundaries).data().toString();
    for (const auto& set : w.session()->boundarySets()) {
        QStringList parts;
        for (auto v : set.boundaries)
            parts << QString::number(v);
        QVERIFY2(lists.contains(parts.join(", ")), qPrintable(parts.join(", ")));
    }
    for (int r = 0; r < model->rowCount(); ++r) {
        const auto& s = model->comparison()->sets[size_t(r)];
        QCOMPARE(model->index(r, RunComparisonModel::MeanDelta).data(Qt::EditRole).toDouble(),
                 s.b.stats.meanLatencyMs - s.a.stats.meanLatencyMs);
    }
    QVERIFY(!w.runComparisonPanel()->summary().isEmpty());

    // An edit of the active set is priced again (off the UI thread).
    QSignalSpy repriced(w.runComparisonPanel(), &RunComparisonPanel::comparisonReady);
    const Boundaries before = w.session()->activeBoundaries();
    w.session()->editActiveBoundaries({100, before.largest()}, "test edit");
    QVERIFY(signalSeen(repriced, 60000));
    QStringList after;
    for (int r = 0; r < model->rowCount(); ++r)
        after << model->index(r, RunComparisonModel::Boundaries).data().toString();
    QVERIFY2(after.contains(QString("100, %1").arg(before.largest())), qPrintable(after.join("|")));

    // For a reader of the test's output: the window with the comparison open.
    const QString shots = QStringLiteral(BUCKETLAB_TEST_OUTPUT);
    QVERIFY(QDir().mkpath(shots));
    QVERIFY(w.grab().save(QDir(shots).filePath("compare-traffic.png")));

    // File ▸ Report… with run B open: the report compares the runs too.
    QTemporaryDir out;
    QSignalSpy reported(&w, &MainWindow::reportFinished);
    w.writeReport(out.filePath("compare.html"));
    QVERIFY(signalSeen(reported, 300000));
    QVERIFY2(reported.first().at(0).toBool(), qPrintable(reported.first().at(1).toString()));
    QFile html(out.filePath("compare.html"));
    QVERIFY(html.open(QIODevice::ReadOnly));
    const QString text = QString::fromUtf8(html.readAll());
    QVERIFY2(text.contains("longer.csv"), qPrintable(text.left(3000)));
    QVERIFY(text.contains("run B", Qt::CaseInsensitive));

    // A second profile: its curve is drawn over the session's in the Latency view.
    compareWith(w, dir_.filePath("slower.json"));
    QCustomPlot* latency = w.latencyView()->plot();
    QCPGraph* curve = graphNamed(latency, "secondCurveGraph");
    QVERIFY(curve);
    QVERIFY(curve->name().contains("slower.json"));
    QVERIFY(latency->legend->hasItemWithPlottable(curve));
    double at64 = 0;
    for (auto it = curve->data()->constBegin(); it != curve->data()->constEnd(); ++it)
        if (it->key <= 64)
            at64 = it->value;
    QVERIFY2(at64 > 3.5 && at64 < 4.5, qPrintable(QString::number(at64))); // 1 + 0.05 * 64
    // Traffic is the session's now: no traffic overlay.
    QVERIFY(!graphNamed(buckets, "secondTrafficGraph")->visible());

    // Close: the dock and the overlays go.
    auto* close = w.runComparisonPanel()->findChild<QPushButton*>("closeComparison");
    QVERIFY(close);
    QTest::mouseClick(close, Qt::LeftButton);
    QVERIFY(!dock->isVisible());
    QVERIFY(!graphNamed(latency, "secondCurveGraph"));
    QCOMPARE(model->rowCount(), 0);
}

BUCKETLAB_GUI_TEST_MAIN(TestCompareRun)
#include "tst_comparerun.moc"
