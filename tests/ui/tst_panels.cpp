// The smaller readability points of issue 15 (item 8), as a user sees them: the Latency plot
// has a log length axis and names each profile once in its legend; a curve note is said once
// however many points it concerns; the Project tree's details are cut to fit with their whole
// text as tooltip; the Pareto chart says what to do before the first Optimize instead of
// showing empty axes.
#include "core/latency/latency_curve.h"
#include "core/traffic/length_histogram.h"
#include "guitest.h"
#include "ui/models/session.h"
#include "ui/views/bucketsview.h"
#include "ui/views/latencyview.h"
#include "ui/views/mainwindow.h"
#include "ui/views/plot.h"
#include "ui/views/projectpanel.h"

#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QInputDialog>
#include <QLabel>
#include <QTreeWidget>
#include <QTreeWidgetItemIterator>
#include <QUndoStack>

using namespace bucketlab;
using namespace bucketlab::ui;

namespace {

// A measured profile: latency a + b*L at `lengths`, except where `slower` names a length
// measured `slowerBy` ms above the line (a bigger bucket then being faster).
Profile lineProfile(double a, double b, const std::vector<int64_t>& lengths,
                    const std::vector<int64_t>& slower = {}, double slowerBy = 0)
{
    Profile p;
    for (int64_t len : lengths) {
        ProfilePoint point;
        point.length = len;
        double ms = a + b * double(len);
        if (std::find(slower.begin(), slower.end(), len) != slower.end())
            ms += slowerBy;
        point.p50Ms = ms;
        point.meanMs = ms;
        point.p90Ms = ms * 1.1;
        point.p99Ms = ms * 1.2;
        point.ci95LowMs = ms * 0.97;
        point.ci95HighMs = ms * 1.03;
        point.samples = 30;
        p.points.push_back(point);
    }
    return p;
}

LengthHistogram someTraffic()
{
    std::vector<std::pair<int64_t, int64_t>> counts;
    for (int64_t len = 8; len <= 500; len += 3)
        counts.emplace_back(len, 1 + (len * 7) % 13);
    return LengthHistogram::fromCounts(counts);
}

QStringList legendTexts(QCustomPlot* plot)
{
    QStringList names;
    for (int i = 0; i < plot->legend->itemCount(); ++i)
        if (auto* item = qobject_cast<QCPPlottableLegendItem*>(plot->legend->item(i)))
            names << item->plottable()->name();
    return names;
}

} // namespace

class TestPanels : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void latencyLegendNamesEachProfileOnce();
    void latencyLengthAxisTogglesToLog();
    void aCurveNoteIsSaidOnce();
    void projectTreeDetailsElideWithTooltips();
    void paretoSaysWhatToDoBeforeTheFirstOptimize();
    void aSnapshotKeepsTheSetAsItWas();
};

void TestPanels::latencyLegendNamesEachProfileOnce()
{
    Session session;
    session.addProfile({"/tmp/cpu-here.json", lineProfile(0.5, 0.02, {16, 64, 128, 256, 512})});
    session.addProfile({"/tmp/neuron-host.json", lineProfile(0.2, 0.01, {16, 64, 128, 512})});
    LatencyView view(&session);
    view.resize(1000, 700);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.profileChooser()->setCurrentIndex(0);
    view.compareChooser()->setCurrentIndex(2); // "(none)" comes first
    const QStringList names = legendTexts(view.plot());
    const QString all = names.join(" | ");
    QCOMPARE(all.count("cpu-here.json"), 1);
    QCOMPARE(all.count("neuron-host.json"), 1);
    // The line styles are explained once, not once per profile.
    QCOMPARE(names.count("p90"), 1);
    QCOMPARE(names.count("p99"), 1);
    QCOMPARE(names.filter("curve used for tuning").size(), 1);
    // Both profiles are still drawn in full: medians, p90, p99 and a curve each.
    QCOMPARE(view.plot()->graphCount(), 8);
}

void TestPanels::latencyLengthAxisTogglesToLog()
{
    Session session;
    session.addProfile({"/tmp/p.json", lineProfile(0.5, 0.02, {16, 64, 128, 256, 512})});
    LatencyView view(&session);
    view.resize(1000, 700);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    QCheckBox* box = view.findChild<QCheckBox*>("latencyLogAxis");
    QVERIFY(box);
    QCOMPARE(view.plot()->xAxis->scaleType(), QCPAxis::stLinear);
    QTest::mouseClick(box, Qt::LeftButton, {}, box->rect().center());
    QVERIFY(box->isChecked());
    QCOMPARE(view.plot()->xAxis->scaleType(), QCPAxis::stLogarithmic);
    // Starts just below the shortest measured length (a log axis has no 0) and shows 512.
    const QCPRange range = view.plot()->xAxis->range();
    QVERIFY2(range.lower > 1 && range.lower < 16, qPrintable(QString::number(range.lower)));
    QVERIFY(range.upper >= 512);
    view.plot()->replot();
    const QVector<double> ticks = view.plot()->xAxis->tickVector();
    QVERIFY2(ticks.contains(32) && ticks.contains(256), "base-2 ticks every octave");
    QTest::mouseClick(box, Qt::LeftButton, {}, box->rect().center());
    QCOMPARE(view.plot()->xAxis->scaleType(), QCPAxis::stLinear);
    QCOMPARE(view.plot()->xAxis->range().lower, 0.0);
}

void TestPanels::aCurveNoteIsSaidOnce()
{
    Session session;
    BucketsView view(&session);
    view.resize(1200, 720);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    // Three measured lengths slower than a longer one: three adjustments of the curve.
    const Profile profile =
        lineProfile(1.0, 0.01, {32, 64, 96, 128, 256, 384, 512}, {64, 128, 384}, 2.0);
    const LatencyCurve curve = LatencyCurve::fromProfile(profile, "p.json");
    QCOMPARE(curve.adjustments().size(), size_t(3));
    session.setTraffic(someTraffic(), {"traffic", "traffic.csv", {}});
    session.setLatency(curve, {"p.json", "p.json"});
    session.setActiveIndex(session.putBoundarySet(
        {"current", "current", Boundaries::from({128, 512}, Field::CurrentBoundaries)}));
    auto* notes = view.findChild<QLabel*>("notesLabel");
    QVERIFY(notes);
    QCOMPARE(notes->text().count("faster"), 1);
    QVERIFY2(notes->text().contains("64, 128, 384"), qPrintable(notes->text()));
    // The figures behind the sentence are one hover away, each adjustment on its line.
    QCOMPARE(notes->toolTip().split('\n').size(), 3);
    QVERIFY(notes->toolTip().contains("Measured"));
}

void TestPanels::projectTreeDetailsElideWithTooltips()
{
    Session session;
    const std::string longName =
        "a-profile-measured-on-a-very-long-named-host-with-a-long-path-and-settings.json";
    session.setTraffic(someTraffic(), {"traffic", "traffic.csv", {}});
    session.setLatency(LatencyCurve::fromProfile(lineProfile(0.5, 0.02, {16, 64, 128, 256, 512}),
                                                 "/some/long/folder/" + longName),
                       {longName, "/some/long/folder/" + longName});
    session.setActiveIndex(
        session.putBoundarySet({"current", "current",
                                Boundaries::from({16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512},
                                                 Field::CurrentBoundaries)}));
    ProjectPanel panel(&session);
    panel.resize(260, 500); // as narrow as the dock gets
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    QTreeWidget* tree = panel.tree();
    int details = 0, cut = 0;
    for (QTreeWidgetItemIterator it(tree); *it; ++it) {
        const QString text = (*it)->text(1);
        if (text.isEmpty())
            continue;
        ++details;
        QCOMPARE((*it)->toolTip(1), text);
        const QRect cell = tree->visualRect(tree->indexFromItem(*it, 1));
        if (tree->fontMetrics().horizontalAdvance(text) > cell.width())
            ++cut;
    }
    QVERIFY(details >= 3); // traffic, latency, the set
    // Short names keep their room: the set's name is not cut.
    for (QTreeWidgetItemIterator it(tree); *it; ++it)
        if ((*it)->text(0) == "current")
            QVERIFY(tree->fontMetrics().horizontalAdvance("current") <
                    tree->visualRect(tree->indexFromItem(*it, 0)).width());
    // The Details column is on screen, not pushed right of a narrow dock's edge.
    const int detailsX = tree->header()->sectionViewportPosition(1);
    QVERIFY2(
        detailsX > 0 && detailsX < tree->viewport()->width() - 40,
        qPrintable(QString("Details at x=%1 of %2").arg(detailsX).arg(tree->viewport()->width())));
    QVERIFY2(cut >= 1, "the narrow dock cuts at least one detail (else this proves nothing)");
    QCOMPARE(tree->textElideMode(), Qt::ElideRight);
}

void TestPanels::paretoSaysWhatToDoBeforeTheFirstOptimize()
{
    Session session;
    BucketsView view(&session);
    view.resize(1200, 720);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    session.setTraffic(someTraffic(), {"traffic", "traffic.csv", {}});
    session.setLatency(LatencyCurve::fromSpec("linear:0.5,0.02"), {"l", "linear:0.5,0.02"});
    session.setActiveIndex(session.putBoundarySet(
        {"current", "current", Boundaries::from({128, 512}, Field::CurrentBoundaries)}));
    QCustomPlot* pareto = view.paretoPlot();
    QCOMPARE(pareto->graph(0)->dataCount(), 0);
    QStringList shown;
    for (int i = 0; i < pareto->itemCount(); ++i)
        if (auto* text = qobject_cast<QCPItemText*>(pareto->item(i)); text && text->visible())
            shown << text->text();
    QVERIFY2(shown.join(" ").contains("Optimize"), qPrintable(shown.join(" | ")));
    // No value scale without values to read on it.
    QVERIFY(!pareto->yAxis->tickLabels());
}

void TestPanels::aSnapshotKeepsTheSetAsItWas()
{
    MainWindow w;
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    Session* session = w.session();
    session->setTraffic(someTraffic(), {"traffic", "traffic.csv", {}});
    session->setLatency(LatencyCurve::fromSpec("linear:0.5,0.02"), {"l", "linear:0.5,0.02"});
    session->setActiveIndex(session->putBoundarySet(
        {"current", "current", Boundaries::from({128, 512}, Field::CurrentBoundaries)}));
    session->editActiveBoundaries({100, 512}, "drag");

    QAction* action = w.findChild<QAction*>("actionSaveSetAs");
    QVERIFY(action);
    action->trigger();
    QInputDialog* ask = nullptr;
    QTRY_VERIFY((ask = w.findChild<QInputDialog*>("saveSetDialog")));
    QVERIFY(ask->isModal()); // window-modal with open(): no nested event loop
    ask->setTextValue("before adding 60");
    ask->accept();
    QCOMPARE(int(session->boundarySets().size()), 2);
    const BoundarySet& copy = session->boundarySets().back();
    QCOMPARE(copy.name, std::string("before adding 60"));
    QCOMPARE(copy.boundaries, Boundaries::from({100, 512}, Field::Boundaries));
    QCOMPARE(session->activeIndex(), 0); // the edited set stays active

    // Later edits change the active set, not the snapshot.
    session->editActiveBoundaries({60, 100, 512}, "add");
    QCOMPARE(session->boundarySets().back().boundaries,
             Boundaries::from({100, 512}, Field::Boundaries));
    // A name in use is refused in the window, and nothing is added.
    QVERIFY(!w.saveSetAs("current").isEmpty());
    QVERIFY(w.errorText().contains("exists"));
    QCOMPARE(int(session->boundarySets().size()), 2);
    // One undo step each: undoing the edit and then the snapshot removes it.
    session->undoStack()->undo();
    session->undoStack()->undo();
    QCOMPARE(int(session->boundarySets().size()), 1);
}

BUCKETLAB_GUI_TEST_MAIN(TestPanels)
#include "tst_panels.moc"
