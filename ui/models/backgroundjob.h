// One pattern for long work in the GUI (profiling, validation, tuning, graph layout): the
// core function runs on the jobs' own thread pool (BackgroundJob::pool()) with a progress
// callback and a cancel flag; results, progress and failures come back to the UI thread as
// signals. Starting a job again makes the previous run stale (generation id): its result is
// dropped and its cancel flag is raised.
#pragma once

#include "core/util/job.h"

#include <QElapsedTimer>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QThreadPool>
#include <QVariant>

#include <atomic>
#include <functional>
#include <memory>

namespace bucketlab::ui {

// Handed to the work function: report progress, check for cancellation.
class JobContext {
public:
    explicit JobContext(std::shared_ptr<std::atomic<bool>> cancel) : cancel_(std::move(cancel)) {}
    bool cancelled() const { return cancel_->load(); }
    // The core's job contract over this context: progress goes to report(), the cancel flag
    // is the job's.
    Job job() const
    {
        return Job(
            [report = report](double fraction, const std::string& message) {
                if (report)
                    report(fraction, QString::fromStdString(message));
            },
            cancel_.get());
    }
    // fraction in [0, 1]; message shown beside the progress bar. Throttled by the job.
    std::function<void(double fraction, const QString& message)> report;
    // Partial results (e.g. one profiled point) delivered to the UI as they come.
    std::function<void(const QVariant& partial)> partial;

private:
    std::shared_ptr<std::atomic<bool>> cancel_;
};

class BackgroundJob : public QObject {
    Q_OBJECT
public:
    using Work = std::function<QVariant(JobContext&)>;

    explicit BackgroundJob(QObject* parent = nullptr);
    ~BackgroundJob() override;

    // Runs `work` off the UI thread. `what` names it in progress messages.
    void start(const QString& what, Work work);
    void cancel();
    bool isRunning() const { return running_; }
    QString what() const { return what_; }

    // The pool every job runs on: never QThreadPool::globalInstance(). Qt's raster engine
    // splits a large fill (a filled plot graph, a progress bar) into tasks on the global pool
    // and the UI thread waits for them; with jobs holding every global thread, the first paint
    // of the Buckets view after the demo loaded waited 100-400 ms for a job to end (issue 15).
    // As many threads as cores, at least two.
    static QThreadPool* pool();

Q_SIGNALS:
    void started(const QString& what);
    // fraction in [0,1]; remainingSeconds < 0 when unknown.
    void progress(double fraction, const QString& message, double remainingSeconds);
    void partialResult(const QVariant& partial);
    void finished(const QVariant& result);
    void failed(const QString& message);
    void cancelled();
    // After finished, failed or cancelled.
    void stopped();

private:
    quint64 generation_ = 0;
    bool running_ = false;
    QString what_;
    std::shared_ptr<std::atomic<bool>> cancel_;
};

} // namespace bucketlab::ui
