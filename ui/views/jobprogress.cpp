#include "ui/views/jobprogress.h"

#include "ui/models/backgroundjob.h"

#include <QHBoxLayout>
#include <QProgressBar>
#include <QPushButton>

#include <algorithm>
#include <cmath>

namespace bucketlab::ui {

namespace {
constexpr int kSteps = 1000; // the bar's range: a fraction in thousandths
}

QString jobProgressFormat(const QString& message, double remainingSeconds)
{
    QString text = message.isEmpty() ? QStringLiteral("%p%") : message + QStringLiteral(" — %p%");
    if (remainingSeconds >= 0)
        text += JobProgress::tr(", %1 s left")
                    .arg(remainingSeconds, 0, 'f', remainingSeconds < 10 ? 1 : 0);
    return text;
}

JobProgress::JobProgress(const QString& name, Idle idle, QWidget* parent)
    : QWidget(parent), bar_(new QProgressBar(this)), cancel_(new QPushButton(tr("Cancel"), this)),
      idle_(idle)
{
    setObjectName(name + "Job");
    bar_->setObjectName(name + "Progress");
    bar_->setRange(0, kSteps);
    bar_->setValue(0);
    bar_->setTextVisible(true);
    bar_->setFormat(tr("idle"));
    cancel_->setObjectName(name + "Cancel");
    cancel_->setEnabled(false);
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(bar_, 1);
    layout->addWidget(cancel_);
    if (idle_ == Idle::Hidden)
        setVisible(false);
    connect(cancel_, &QPushButton::clicked, this, [this] {
        for (const auto& job : jobs_)
            if (job && job->isRunning())
                job->cancel();
    });
}

void JobProgress::track(BackgroundJob* job)
{
    jobs_.append(job);
    connect(job, &BackgroundJob::started, this, [this](const QString& what) {
        bar_->setValue(0);
        bar_->setFormat(what.isEmpty() ? QStringLiteral("%p%") : what + QStringLiteral("…"));
        updateRunning();
    });
    connect(job, &BackgroundJob::progress, this, &JobProgress::showProgress);
    connect(job, &BackgroundJob::finished, this, [this] { showOutcome(1.0, tr("done")); });
    connect(job, &BackgroundJob::failed, this, [this] { showOutcome(0.0, tr("failed")); });
    connect(job, &BackgroundJob::cancelled, this, [this] { showOutcome(0.0, tr("cancelled")); });
    connect(job, &BackgroundJob::stopped, this, &JobProgress::updateRunning);
    updateRunning();
}

void JobProgress::showProgress(double fraction, const QString& message, double remainingSeconds)
{
    showOutcome(fraction, messageShown_ ? jobProgressFormat(message, remainingSeconds)
                                        : QStringLiteral("%p%"));
}

void JobProgress::showOutcome(double fraction, const QString& text)
{
    bar_->setValue(int(std::lround(std::clamp(fraction, 0.0, 1.0) * kSteps)));
    bar_->setFormat(text);
}

void JobProgress::setMessageShown(bool shown)
{
    messageShown_ = shown;
}

void JobProgress::setIndeterminate()
{
    bar_->setRange(0, 0);
}

bool JobProgress::isRunning() const
{
    for (const auto& job : jobs_)
        if (job && job->isRunning())
            return true;
    return false;
}

void JobProgress::updateRunning()
{
    const bool running = isRunning();
    cancel_->setEnabled(running);
    if (idle_ == Idle::Hidden)
        setVisible(running);
}

} // namespace bucketlab::ui
