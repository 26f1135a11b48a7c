// BackgroundJob's long work never holds the threads Qt's own painting needs. Qt 6's raster
// engine splits a large fill into tasks on QThreadPool::globalInstance() and the UI thread
// waits for them: when jobs held every global thread, the first paint of the Buckets view after
// the demo loaded waited for a job to end (issue 15: 100-400 ms under Xvfb). Checked by order
// of events, not by time: while as many jobs as the global pool has threads are running (each
// blocked until the test releases it), the UI thread fills a large polygon; the fill must end
// while every job is still blocked. Before the fix it could only end once the jobs gave up.
#include "ui/models/backgroundjob.h"

#include "signalseen.h"

#include <QImage>
#include <QPainter>
#include <QPolygonF>
#include <QSemaphore>
#include <QSignalSpy>
#include <QTest>
#include <QThread>
#include <QThreadPool>

#include <atomic>
#include <cmath>
#include <memory>
#include <vector>

using namespace bucketlab::ui;

class TestBackgroundJob : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void jobsLeaveTheGlobalPoolToPainting();
    void jobsStillDeliverTheirResults();
};

void TestBackgroundJob::jobsLeaveTheGlobalPoolToPainting()
{
    const int n = std::max(1, QThreadPool::globalInstance()->maxThreadCount());
    auto release = std::make_shared<QSemaphore>(0);
    auto gaveUp = std::make_shared<std::atomic<int>>(0);
    std::vector<std::unique_ptr<BackgroundJob>> jobs;
    std::vector<std::unique_ptr<QSignalSpy>> entered, finished;
    for (int i = 0; i < n; ++i) {
        jobs.push_back(std::make_unique<BackgroundJob>());
        entered.push_back(
            std::make_unique<QSignalSpy>(jobs.back().get(), &BackgroundJob::partialResult));
        finished.push_back(
            std::make_unique<QSignalSpy>(jobs.back().get(), &BackgroundJob::finished));
        jobs.back()->start("blocked", [release, gaveUp](JobContext& context) {
            context.partial(QVariant(true)); // running now
            // Long work: until the test lets it go (or, if the paint never comes, 20 s).
            if (!release->tryAcquire(1, 20000))
                ++*gaveUp;
            return QVariant(true);
        });
    }
    for (int i = 0; i < n; ++i)
        QVERIFY2(signalSeen(*entered[size_t(i)], 20000), "a job never started");
    QCOMPARE(BackgroundJob::pool()->activeThreadCount() >= n, true);

    // A filled histogram as the Buckets view draws it: a tall step polygon, antialiased, with
    // a pattern brush; hundreds of spans per fill, which Qt hands to the global pool.
    QImage image(1200, 900, QImage::Format_ARGB32_Premultiplied);
    image.fill(Qt::white);
    QPolygonF steps;
    steps << QPointF(0, 900);
    for (int x = 0; x < 1200; x += 6) {
        const double y = 450 + 400 * std::sin(x / 90.0);
        steps << QPointF(x, y) << QPointF(x + 6, y);
    }
    steps << QPointF(1200, 900);
    {
        QPainter painter(&image);
        painter.setRenderHint(QPainter::Antialiasing);
        painter.setPen(Qt::NoPen);
        painter.setBrush(QBrush(QColor(200, 120, 40, 190), Qt::BDiagPattern));
        painter.drawPolygon(steps);
        painter.setBrush(QColor(40, 120, 200, 160));
        painter.drawPolygon(steps);
    }
    const int gaveUpDuringPaint = gaveUp->load();
    release->release(n);
    for (int i = 0; i < n; ++i)
        QVERIFY(signalSeen(*finished[size_t(i)], 30000));
    QCOMPARE(gaveUpDuringPaint, 0); // the paint did not wait for the jobs
    QCOMPARE(gaveUp->load(), 0);
    // The fill happened (not an empty image): the bottom middle is painted over.
    QVERIFY(image.pixel(600, 890) != QColor(Qt::white).rgb());
}

void TestBackgroundJob::jobsStillDeliverTheirResults()
{
    // On their own pool, jobs still run off the UI thread and deliver on it.
    BackgroundJob job;
    QSignalSpy finished(&job, &BackgroundJob::finished);
    QThread* ui = QThread::currentThread();
    auto ranOn = std::make_shared<std::atomic<QThread*>>(nullptr);
    job.start("where", [ranOn](JobContext&) {
        ranOn->store(QThread::currentThread());
        return QVariant(42);
    });
    QVERIFY(signalSeen(finished, 20000));
    QCOMPARE(finished.first().first().toInt(), 42);
    QVERIFY(ranOn->load() != nullptr);
    QVERIFY(ranOn->load() != ui);
    QVERIFY(!QThreadPool::globalInstance()->contains(ranOn->load()));
    QVERIFY(BackgroundJob::pool()->contains(ranOn->load()));
}

QTEST_MAIN(TestBackgroundJob)
#include "tst_backgroundjob.moc"
