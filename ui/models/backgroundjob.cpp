#include "ui/models/backgroundjob.h"

#include "core/util/error.h"
#include "ui/models/errortext.h"

#include <QCoreApplication>
#include <QMetaObject>
#include <QRunnable>
#include <QThread>

#include <algorithm>
#include <chrono>
#include <mutex>

namespace bucketlab::ui {

BackgroundJob::BackgroundJob(QObject* parent) : QObject(parent) {}

QThreadPool* BackgroundJob::pool()
{
    // Like the global pool, destroyed at exit after waiting for the jobs (cancelled by then:
    // a BackgroundJob's destructor raises its cancel flag).
    static QThreadPool jobs;
    static const bool configured = [] {
        jobs.setObjectName(QStringLiteral("bucketlabJobs"));
        jobs.setMaxThreadCount(std::max(2, QThread::idealThreadCount()));
        return true;
    }();
    Q_UNUSED(configured);
    return &jobs;
}

BackgroundJob::~BackgroundJob()
{
    if (cancel_)
        cancel_->store(true);
}

void BackgroundJob::cancel()
{
    if (cancel_)
        cancel_->store(true);
}

void BackgroundJob::start(const QString& what, Work work)
{
    cancel(); // a previous run becomes stale
    const quint64 generation = ++generation_;
    cancel_ = std::make_shared<std::atomic<bool>>(false);
    running_ = true;
    what_ = what;
    Q_EMIT started(what);

    QPointer<BackgroundJob> self(this);
    auto cancelFlag = cancel_;
    // Deliveries go through queued calls guarded by the QPointer and the generation, so a
    // job object deleted or restarted meanwhile never sees stale results.
    auto deliver = [self, generation](auto fn) {
        QMetaObject::invokeMethod(
            qApp,
            [self, generation, fn] {
                if (self && self->generation_ == generation)
                    fn(self.data());
            },
            Qt::QueuedConnection);
    };

    pool()->start([work = std::move(work), cancelFlag, deliver, what] {
        JobContext context(cancelFlag);
        QElapsedTimer clock;
        clock.start();
        auto lastReport = std::make_shared<qint64>(-1000);
        auto mutex = std::make_shared<std::mutex>();
        context.report = [&clock, lastReport, mutex, deliver](double fraction,
                                                              const QString& message) {
            std::lock_guard<std::mutex> lock(*mutex);
            const qint64 now = clock.elapsed();
            // Throttle to ~20 updates a second; always let 100 % through.
            if (now - *lastReport < 50 && fraction < 1.0)
                return;
            *lastReport = now;
            const double remaining =
                fraction > 0.02 ? double(now) / 1000.0 * (1.0 - fraction) / fraction : -1.0;
            deliver([fraction, message, remaining](BackgroundJob* j) {
                Q_EMIT j->progress(fraction, message, remaining);
            });
        };
        context.partial = [deliver](const QVariant& partial) {
            deliver([partial](BackgroundJob* j) { Q_EMIT j->partialResult(partial); });
        };
        try {
            QVariant result = work(context);
            if (cancelFlag->load())
                throw Cancelled();
            deliver([result](BackgroundJob* j) {
                j->running_ = false;
                Q_EMIT j->finished(result);
                Q_EMIT j->stopped();
            });
        } catch (const Cancelled&) {
            deliver([](BackgroundJob* j) {
                j->running_ = false;
                Q_EMIT j->cancelled();
                Q_EMIT j->stopped();
            });
        } catch (const std::exception& e) {
            const QString message = messageFor(e);
            deliver([message](BackgroundJob* j) {
                j->running_ = false;
                Q_EMIT j->failed(message);
                Q_EMIT j->stopped();
            });
        }
    });
}

} // namespace bucketlab::ui
