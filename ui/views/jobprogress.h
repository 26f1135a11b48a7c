// The desktop's one progress-and-cancel control: a progress bar with its Cancel button beside
// it, driven by the BackgroundJobs it tracks. Every view that runs long work uses it (Optimize
// and Measure and refine, the LLM optimizer, graph loading and layout, profiling, validation,
// export), so they all show progress, the time left, Cancel and the outcome the same way.
#pragma once

#include <QList>
#include <QPointer>
#include <QWidget>

class QProgressBar;
class QPushButton;

namespace bucketlab::ui {

class BackgroundJob;

class JobProgress : public QWidget {
    Q_OBJECT
public:
    enum class Idle {
        Shown,  // stays in place while no job runs, showing the last outcome
        Hidden, // shown only while a tracked job runs
    };
    // The bar is named <name>Progress and the button <name>Cancel.
    JobProgress(const QString& name, Idle idle, QWidget* parent);

    // Follows `job`: while it runs, Cancel is enabled and cancels every running tracked job,
    // and the bar shows the job's fraction, message and time left; when it stops, the bar
    // shows "done", "failed" or "cancelled". A view that says more connects its own handlers
    // to the job after calling track() and calls showOutcome() from them.
    void track(BackgroundJob* job);
    // What the bar shows while no job runs.
    void showOutcome(double fraction, const QString& text);
    // The bar shows the percentage only: the view shows the job's messages and the time left.
    void setMessageShown(bool shown);
    // No fraction, only "busy" (for jobs that report none).
    void setIndeterminate();
    bool isRunning() const;

    QProgressBar* bar() const { return bar_; }
    QPushButton* cancelButton() const { return cancel_; }

private:
    void showProgress(double fraction, const QString& message, double remainingSeconds);
    void updateRunning();

    QProgressBar* bar_;
    QPushButton* cancel_;
    Idle idle_;
    bool messageShown_ = true;
    QList<QPointer<BackgroundJob>> jobs_;
};

// "message — 45%, 12 s left": the bar's format for a fraction's message and the time left
// (remainingSeconds < 0: unknown); "%p%" alone without a message. Qt fills in %p.
QString jobProgressFormat(const QString& message, double remainingSeconds);

} // namespace bucketlab::ui
