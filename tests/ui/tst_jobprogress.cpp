// JobProgress, the one progress bar with its Cancel button every view uses: what it shows
// while a tracked job runs and after it stops, what Cancel cancels, and when it hides. Jobs
// here block on a semaphore the test releases, so every state is checked in a known order.
#include "ui/models/backgroundjob.h"
#include "ui/views/jobprogress.h"

#include "signalseen.h"

#include <QProgressBar>
#include <QPushButton>
#include <QSemaphore>
#include <QSignalSpy>
#include <QTest>

#include <memory>
#include <stdexcept>

using namespace bucketlab::ui;

namespace {

enum class End { Finish, Fail, WaitForCancel };

// Starts `job`: reports 25 % with a message, then waits for the test's release and ends as
// told (a cancel raised meanwhile ends it as cancelled).
void startBlocked(BackgroundJob& job, std::shared_ptr<QSemaphore> release, End end)
{
    job.start("Working", [release, end](JobContext& context) {
        context.report(0.25, "step one");
        while (!release->tryAcquire(1, 20)) {
            if (end == End::WaitForCancel && context.cancelled())
                break;
        }
        if (end == End::Fail)
            throw std::runtime_error("the work broke");
        return QVariant(true);
    });
}

} // namespace

class TestJobProgress : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void formatSaysMessageAndTimeLeft();
    void followsAJobToItsEnd();
    void failureAndCancelAreShown();
    void cancelStopsEveryRunningTrackedJob();
    void aHiddenBarShowsOnlyWhileAJobRuns();
    void messageLeftToTheView();
};

void TestJobProgress::formatSaysMessageAndTimeLeft()
{
    QCOMPARE(jobProgressFormat("", -1), QString("%p%"));
    QCOMPARE(jobProgressFormat("Pricing", -1), QString("Pricing — %p%"));
    QCOMPARE(jobProgressFormat("Pricing", 3.31), QString("Pricing — %p%, 3.3 s left"));
    QCOMPARE(jobProgressFormat("Pricing", 42.6), QString("Pricing — %p%, 43 s left"));
    QCOMPARE(jobProgressFormat("", 0), QString("%p%, 0.0 s left"));
}

void TestJobProgress::followsAJobToItsEnd()
{
    QWidget parent;
    auto* progress = new JobProgress("demo", JobProgress::Idle::Shown, &parent);
    BackgroundJob job;
    progress->track(&job);
    parent.show();
    QCOMPARE(progress->bar()->objectName(), QString("demoProgress"));
    QCOMPARE(progress->cancelButton()->objectName(), QString("demoCancel"));
    QCOMPARE(parent.findChild<QPushButton*>("demoCancel"), progress->cancelButton());
    QVERIFY(!progress->cancelButton()->isEnabled());
    QCOMPARE(progress->bar()->format(), QString("idle"));

    auto release = std::make_shared<QSemaphore>(0);
    QSignalSpy reported(&job, &BackgroundJob::progress);
    QSignalSpy finished(&job, &BackgroundJob::finished);
    startBlocked(job, release, End::Finish);
    QVERIFY(progress->isRunning());
    QVERIFY(progress->cancelButton()->isEnabled());
    QVERIFY(signalSeen(reported, 20000));
    QCOMPARE(progress->bar()->value(), 250);
    QVERIFY2(progress->bar()->format().startsWith("step one — %p%"),
             qPrintable(progress->bar()->format()));
    QVERIFY(progress->isVisible());

    release->release();
    QVERIFY(signalSeen(finished, 20000));
    QVERIFY(!progress->isRunning());
    QVERIFY(!progress->cancelButton()->isEnabled());
    QCOMPARE(progress->bar()->value(), progress->bar()->maximum());
    QCOMPARE(progress->bar()->format(), QString("done"));
    QVERIFY(progress->isVisible()); // Idle::Shown stays in place

    // A view's own outcome replaces "done".
    progress->showOutcome(0.5, "half of it");
    QCOMPARE(progress->bar()->value(), 500);
    QCOMPARE(progress->bar()->format(), QString("half of it"));
}

void TestJobProgress::failureAndCancelAreShown()
{
    QWidget parent;
    auto* progress = new JobProgress("demo", JobProgress::Idle::Shown, &parent);
    BackgroundJob job;
    progress->track(&job);

    auto release = std::make_shared<QSemaphore>(0);
    QSignalSpy failed(&job, &BackgroundJob::failed);
    startBlocked(job, release, End::Fail);
    release->release();
    QVERIFY(signalSeen(failed, 20000));
    QCOMPARE(progress->bar()->value(), 0);
    QCOMPARE(progress->bar()->format(), QString("failed"));
    QVERIFY(!progress->cancelButton()->isEnabled());

    QSignalSpy cancelled(&job, &BackgroundJob::cancelled);
    startBlocked(job, release, End::WaitForCancel);
    QVERIFY(progress->cancelButton()->isEnabled());
    QTest::mouseClick(progress->cancelButton(), Qt::LeftButton);
    QVERIFY(signalSeen(cancelled, 20000));
    QCOMPARE(progress->bar()->value(), 0);
    QCOMPARE(progress->bar()->format(), QString("cancelled"));
    QVERIFY(!progress->cancelButton()->isEnabled());
}

void TestJobProgress::cancelStopsEveryRunningTrackedJob()
{
    QWidget parent;
    auto* progress = new JobProgress("two", JobProgress::Idle::Shown, &parent);
    BackgroundJob load, layout, untracked;
    progress->track(&load);
    progress->track(&layout);

    auto release = std::make_shared<QSemaphore>(0);
    QSignalSpy loadCancelled(&load, &BackgroundJob::cancelled);
    QSignalSpy layoutCancelled(&layout, &BackgroundJob::cancelled);
    QSignalSpy untrackedStopped(&untracked, &BackgroundJob::stopped);
    QSignalSpy untrackedCancelled(&untracked, &BackgroundJob::cancelled);
    startBlocked(load, release, End::WaitForCancel);
    startBlocked(layout, release, End::WaitForCancel);
    startBlocked(untracked, release, End::WaitForCancel);
    QTest::mouseClick(progress->cancelButton(), Qt::LeftButton);
    QVERIFY(signalSeen(loadCancelled, 20000));
    QVERIFY(signalSeen(layoutCancelled, 20000));
    QVERIFY(!progress->isRunning());
    QVERIFY(!progress->cancelButton()->isEnabled());
    // A job the bar does not track runs on until it ends by itself.
    QVERIFY(untracked.isRunning());
    release->release(3);
    QVERIFY(signalSeen(untrackedStopped, 20000));
    QCOMPARE(untrackedCancelled.count(), 0);
}

void TestJobProgress::aHiddenBarShowsOnlyWhileAJobRuns()
{
    QWidget parent;
    auto* progress = new JobProgress("quiet", JobProgress::Idle::Hidden, &parent);
    BackgroundJob job;
    progress->track(&job);
    parent.show();
    QVERIFY(!progress->isVisible());
    QVERIFY(!progress->cancelButton()->isVisible());

    auto release = std::make_shared<QSemaphore>(0);
    QSignalSpy stopped(&job, &BackgroundJob::stopped);
    startBlocked(job, release, End::Finish);
    QVERIFY(progress->isVisible());
    QVERIFY(progress->cancelButton()->isVisible());
    QVERIFY(progress->cancelButton()->isEnabled());
    release->release();
    QVERIFY(signalSeen(stopped, 20000));
    QVERIFY(!progress->isVisible());
    QVERIFY(!progress->cancelButton()->isEnabled());
}

void TestJobProgress::messageLeftToTheView()
{
    QWidget parent;
    auto* progress = new JobProgress("plain", JobProgress::Idle::Shown, &parent);
    progress->setMessageShown(false);
    BackgroundJob job;
    progress->track(&job);
    auto release = std::make_shared<QSemaphore>(0);
    QSignalSpy reported(&job, &BackgroundJob::progress);
    QSignalSpy stopped(&job, &BackgroundJob::stopped);
    startBlocked(job, release, End::Finish);
    QVERIFY(signalSeen(reported, 20000));
    QCOMPARE(progress->bar()->format(), QString("%p%"));
    QCOMPARE(progress->bar()->value(), 250);
    release->release();
    QVERIFY(signalSeen(stopped, 20000));
}

QTEST_MAIN(TestJobProgress)
#include "tst_jobprogress.moc"
