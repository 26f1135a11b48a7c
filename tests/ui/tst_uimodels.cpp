// The desktop's models on their own, in a program that links no Qt Widgets
// (bucketlab_ui_models): files load into the Session off the UI thread, the active set is
// priced, edits are undoable, and the table models over it pass QAbstractItemModelTester.
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

QTEST_MAIN(TestUiModels)
#include "tst_uimodels.moc"
