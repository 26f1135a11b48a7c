// The desktop's models on their own, in a program that links no Qt Widgets
// (bucketlab_ui_models): files load into the Session off the UI thread, the active set is
// priced, edits are undoable, and the table models over it pass QAbstractItemModelTester.
#include "core/latency/latency_curve.h"
#include "core/tuning/bucket_evaluator.h"
#include "core/tuning/tuning_report.h"
#include "testutil.h"
#include "ui/models/buckettablemodel.h"
#include "ui/models/comparisontablemodel.h"
#include "ui/models/session.h"
#include "ui/models/sessionloader.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QUndoStack>

using namespace bucketlab;
using namespace bucketlab::ui;
using namespace bucketlab::test;

class TestUiModels : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void loaderFillsTheSessionAndModelsFollow();
    void undoRestoresTheCurveAStepSet_data();
    void undoRestoresTheCurveAStepSet();
};

void TestUiModels::loaderFillsTheSessionAndModelsFollow()
{
    QTemporaryDir dir;
    QVERIFY(writeAll(dir.filePath("lengths.csv"), "tokens\n10\n20\n20\n30\n90\n120\n"));
    Session session;
    SessionLoader loader(&session);
    BucketTableModel buckets;
    ComparisonTableModel comparison;
    new QAbstractItemModelTester(&buckets, QAbstractItemModelTester::FailureReportingMode::QtTest,
                                 &buckets);
    new QAbstractItemModelTester(
        &comparison, QAbstractItemModelTester::FailureReportingMode::QtTest, &comparison);
    QObject::connect(&session, &Session::evaluationChanged, &buckets,
                     [&] { buckets.setEvaluation(session.evaluation()); });

    QSignalSpy idle(&loader, &SessionLoader::idle);
    loader.openTraffic({"lengths", s(dir.filePath("lengths.csv")), {}});
    loader.openLatency({"curve", "linear:1,0.01"});
    QVERIFY(loader.isBusy()); // the reading runs off this thread
    QTRY_VERIFY_WITH_TIMEOUT(!loader.isBusy(), 20000);
    QCOMPARE(session.histogram().total(), int64_t(6));
    QVERIFY(session.hasLatency());

    session.putBoundarySet({"current", "current", Boundaries::from({32, 128}, Field::Boundaries)});
    session.setActiveIndex(0);
    QVERIFY(session.evaluation().has_value());
    QCOMPARE(buckets.rowCount(), 2);
    session.editActiveBoundaries({16, 32, 128}, "Add boundary 16");
    QVERIFY(session.isModified());
    QCOMPARE(buckets.rowCount(), 3);
    session.undoStack()->undo();
    QCOMPARE(session.activeBoundaries().str(), std::string("32,128"));
    QCOMPARE(buckets.rowCount(), 2);

    TuningRequest request;
    request.settings.buckets = 2;
    request.current = session.activeBoundaries();
    comparison.setReport(tuneAndCompare(*session.evaluator(), request));
    QVERIFY(comparison.rowCount() >= 2); // the optimum and the baselines
}

void TestUiModels::undoRestoresTheCurveAStepSet_data()
{
    QTest::addColumn<bool>("stepSetsCurve");
    QTest::addColumn<bool>("curveChosenSince");
    QTest::addColumn<QString>("afterUndo");
    QTest::addColumn<QString>("afterRedo");
    // Measure and refine: its step brings the refined curve; Undo gives the one before back.
    QTest::addRow("step set the curve") << true << false << "linear:1,0.01"
                                        << "linear:1,0.005";
    // A curve chosen after the step is the user's newer choice: neither Undo nor Redo move it.
    QTest::addRow("step set the curve, another since") << true << true << "linear:2,0.02"
                                                       << "linear:2,0.02";
    // Optimize: its step keeps the curve; Undo must not bring back the curve of its time.
    QTest::addRow("step kept the curve, another since") << false << true << "linear:2,0.02"
                                                        << "linear:2,0.02";
}

void TestUiModels::undoRestoresTheCurveAStepSet()
{
    QFETCH(bool, stepSetsCurve);
    QFETCH(bool, curveChosenSince);
    QFETCH(QString, afterUndo);
    QFETCH(QString, afterRedo);
    Session session;
    session.setTraffic(LengthHistogram::fromCounts({{20, 5}, {60, 3}, {100, 2}}),
                       {"traffic", "inline", {}});
    session.setLatency(LatencyCurve::fromSpec("linear:1,0.01"), {"a", "linear:1,0.01"});
    session.putBoundarySet({"current", "current", Boundaries::from({128}, Field::Boundaries)});
    session.setActiveIndex(0);
    TuningRequest request;
    request.settings.buckets = 2;
    session.setTuningReport(tuneAndCompare(*session.evaluator(), request));
    QVERIFY(session.tuningReport());

    session.changeBoundarySets("step", [&] {
        if (stepSetsCurve)
            session.setLatency(LatencyCurve::fromSpec("linear:1,0.005"), {"b", "linear:1,0.005"});
        session.setActiveIndex(session.putTunedSet(
            {"tuned", "tuned", Boundaries::from({60, 128}, Field::Boundaries)}));
    });
    if (curveChosenSince)
        session.setLatency(LatencyCurve::fromSpec("linear:2,0.02"), {"c", "linear:2,0.02"});
    const QString curveBeforeUndo = QString::fromStdString(session.latencySource()->source);

    QSignalSpy latencyChanged(&session, &Session::latencyChanged);
    session.undoStack()->undo();
    QCOMPARE(session.activeBoundaries().str(), std::string("128"));
    QCOMPARE(QString::fromStdString(session.latencySource()->source), afterUndo);
    QCOMPARE(latencyChanged.size(), afterUndo == curveBeforeUndo ? 0 : 1);
    // The evaluator and the evaluation follow the curve in use.
    QCOMPARE(session.evaluation()->stats.meanLatencyMs,
             BucketEvaluator(session.histogram(), session.latency())
                 .evaluate(session.activeBoundaries())
                 .stats.meanLatencyMs);
    // Back on the curve it was priced under, the earlier tuning result holds again.
    QCOMPARE(bool(session.tuningReport()), afterUndo == "linear:1,0.01");

    session.undoStack()->redo();
    QCOMPARE(session.activeBoundaries().str(), std::string("60,128"));
    QCOMPARE(QString::fromStdString(session.latencySource()->source), afterRedo);
    QVERIFY(session.staleFor(session.activeIndex()).isEmpty() == !curveChosenSince);
}

QTEST_MAIN(TestUiModels)
#include "tst_uimodels.moc"
