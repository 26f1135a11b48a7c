#include "desktop_tour.h"
#include "stall_sampler.h"

#include "ui/models/backgroundjob.h"
#include "ui/models/session.h"
#include "ui/views/bucketsview.h"
#include "ui/views/exportdialog.h"
#include "ui/views/latencyview.h"
#include "ui/views/mainwindow.h"
#include "ui/views/plot.h"
#include "ui/views/profilepanel.h"

#include <QAction>
#include <QApplication>
#include <QDir>
#include <QEvent>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPushButton>
#include <QScreen>
#include <QSpinBox>
#include <QTabWidget>
#include <QTest>

#include <cmath>
#include <cstdio>
#include <iostream>

#if defined(__linux__)
#include <fcntl.h>
#include <unistd.h>
#endif

using namespace bucketlab;
using namespace bucketlab::ui;

DesktopTour::DesktopTour(MainWindow* window, QString outDir)
    : QObject(window), window_(window), outDir_(std::move(outDir))
{
    heartbeat_.setInterval(10);
    heartbeat_.setTimerType(Qt::PreciseTimer);
    connect(&heartbeat_, &QTimer::timeout, this, [this] {
        const qint64 now = clock_.elapsed();
        const double queued = runQueueWaitMs();
        if (lastBeat_ >= 0 && !inScreenshots_) {
            // A gap is the time the UI thread did not come back to its event loop, less the
            // interval it was asked to wait.
            const qint64 gap = now - lastBeat_ - heartbeat_.interval();
            // Of that, the time the kernel kept the thread ready but off the CPU (other
            // processes had it): the rest, the thread's "own" gap, is work or waiting of the
            // desktop's own making.
            const double waited = queued >= 0 && lastQueued_ >= 0 ? queued - lastQueued_ : 0;
            const qint64 own = std::max<qint64>(0, gap - qint64(std::lround(waited)));
            stepWorstGap_ = std::max(stepWorstGap_, gap);
            worstGap_ = std::max(worstGap_, gap);
            stepWorstOwnGap_ = std::max(stepWorstOwnGap_, own);
            worstOwnGap_ = std::max(worstOwnGap_, own);
            if (gap > 100) {
                ++gapsOver100_;
                recordStall(gap, own);
            }
        }
        lastQueued_ = queued;
        lastBeat_ = now;
        ++stepBeats_;
        if (sampler_)
            sampler_->beat();
    });
    steps_ = {
        {"open the demo",
         [this] {
             openDemo();
         }},
        {"drag a boundary",
         [this] {
             dragBoundary();
         }},
        {"optimize",
         [this] {
             optimize();
         }},
        {"profile",
         [this] {
             profile();
         }},
        {"export",
         [this] {
             exportPackage();
         }},
        {"screenshot every view",
         [this] {
             screenshots(0);
         }},
    };
}

DesktopTour::~DesktopTour()
{
#if defined(__linux__)
    if (schedstat_ >= 0)
        ::close(schedstat_);
#endif
}

bool DesktopTour::eventFilter(QObject* watched, QEvent* event)
{
    // The event being delivered now: when the heartbeat comes back late, the event delivered
    // before the longest silence is the one that held the UI thread.
    recent_[recentNext_ % recent_.size()] = {clock_.elapsed(), watched->metaObject()->className(),
                                             watched->objectName(), int(event->type())};
    ++recentNext_;
    return false;
}

double DesktopTour::runQueueWaitMs()
{
#if defined(__linux__)
    // The UI thread's schedstat: "<ns on the CPU> <ns waiting on a run queue> <slices>".
    if (schedstat_ < 0)
        return -1;
    char text[128];
    const ssize_t n = pread(schedstat_, text, sizeof text - 1, 0);
    if (n <= 0)
        return -1;
    text[n] = 0;
    unsigned long long cpu = 0, queued = 0;
    if (std::sscanf(text, "%llu %llu", &cpu, &queued) != 2)
        return -1;
    return double(queued) / 1e6;
#else
    return -1;
#endif
}

void DesktopTour::recordStall(qint64 gap, qint64 own)
{
    // The longest silence between deliveries in the recent ring.
    const size_t n = std::min(recentNext_, recent_.size());
    QString culprit = "unknown";
    qint64 longest = -1;
    for (size_t i = 0; i < n; ++i) {
        const size_t at = (recentNext_ - n + i) % recent_.size();
        const qint64 until = i + 1 < n ? recent_[(at + 1) % recent_.size()].ms : clock_.elapsed();
        if (until - recent_[at].ms > longest) {
            longest = until - recent_[at].ms;
            culprit = QString("%1 to %2 \"%3\"")
                          .arg(recent_[at].type)
                          .arg(QString::fromLatin1(recent_[at].className))
                          .arg(recent_[at].name);
        }
    }
    QJsonObject stall;
    stall["gap_ms"] = double(gap);
    stall["own_ms"] = double(own); // the gap less the run-queue wait
    stall["step"] = current_ < steps_.size() ? steps_[current_].name : QString();
    stall["event"] = culprit; // "<QEvent::Type> to <class> \"<objectName>\""
    stalls_.append(stall);
}

void DesktopTour::start()
{
    qApp->installEventFilter(this);
    if (!QDir().mkpath(outDir_)) {
        std::cerr << "bucketlab: cannot create " << outDir_.toStdString() << "\n";
        QApplication::exit(2);
        return;
    }
#if defined(__linux__)
    schedstat_ = ::open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC); // the UI thread's
#endif
    if (qEnvironmentVariableIntValue("BUCKETLAB_STALL_STACKS") == 1)
        sampler_ = std::make_unique<StallSampler>(40);
    clock_.start();
    heartbeat_.start();
    // The whole tour within ten minutes, whatever a step waits for.
    QTimer::singleShot(600000, this, [this] {
        done(false, "the tour did not finish within 10 minutes");
        current_ = steps_.size();
        finish();
    });
    current_ = 0;
    QTimer::singleShot(0, this, [this] { next(); });
}

void DesktopTour::next()
{
    if (current_ >= steps_.size()) {
        finish();
        return;
    }
    stepClock_.start();
    stepBeats_ = 0;
    std::cerr << "tour: " << steps_[current_].name.toStdString() << "\n";
    steps_[current_].run();
}

void DesktopTour::done(bool ok, const QString& detail)
{
    if (current_ >= steps_.size())
        return;
    QJsonObject r;
    r["step"] = steps_[current_].name;
    r["ok"] = ok;
    r["detail"] = detail;
    r["ms"] = double(stepClock_.elapsed());
    r["heartbeats"] = stepBeats_;
    r["worst_gap_ms"] = double(stepWorstGap_);
    r["worst_own_gap_ms"] = double(stepWorstOwnGap_);
    results_.append(r);
    std::cerr << "tour: " << (ok ? "ok" : "FAILED") << " — " << detail.toStdString() << "\n";
    // A gap from here to the next step's start is labelled with, and counted in, that step.
    stepWorstGap_ = 0;
    stepWorstOwnGap_ = 0;
    allOk_ = allOk_ && ok;
    ++current_;
    if (!ok)
        current_ = steps_.size(); // later steps build on this one
    QTimer::singleShot(0, this, [this] { next(); });
}

void DesktopTour::finish()
{
    heartbeat_.stop();
    qApp->removeEventFilter(this);
    QJsonObject doc;
    doc["ok"] = allOk_;
    doc["steps"] = results_;
    doc["worst_gap_ms"] = double(worstGap_);
    // The worst gap less the time the UI thread waited for a CPU (Linux's schedstat); equal
    // to worst_gap_ms where that is not known ("run_queue_known": false).
    doc["worst_own_gap_ms"] = double(worstOwnGap_);
    doc["run_queue_known"] = lastQueued_ >= 0;
    doc["gaps_over_100_ms"] = gapsOver100_;
    doc["stalls"] = stalls_;
    doc["platform"] = QGuiApplication::platformName();
    QFile f(QDir(outDir_).filePath("tour.json"));
    if (!f.open(QIODevice::WriteOnly)) {
        std::cerr << "bucketlab: cannot write " << f.fileName().toStdString() << "\n";
        QApplication::exit(2);
        return;
    }
    f.write(QJsonDocument(doc).toJson());
    f.close();
    if (sampler_ && !sampler_->write(QDir(outDir_).filePath("stall-stacks.txt")))
        std::cerr << "bucketlab: cannot write the stall stacks into " << outDir_.toStdString()
                  << "\n";
    std::cerr << "tour: worst UI-thread gap " << worstGap_ << " ms (" << worstOwnGap_
              << " ms less its run-queue wait), " << gapsOver100_ << " gaps over 100 ms\n";
    QApplication::exit(allOk_ ? 0 : 1);
}

void DesktopTour::when(std::function<bool()> ready, int limitMs, std::function<void(bool)> then)
{
    auto* poll = new QTimer(this);
    auto waited = std::make_shared<QElapsedTimer>();
    waited->start();
    connect(poll, &QTimer::timeout, this, [poll, waited, ready, limitMs, then] {
        const bool ok = ready();
        if (!ok && waited->elapsed() < limitMs)
            return;
        poll->stop();
        poll->deleteLater();
        then(ok);
    });
    poll->start(50);
}

void DesktopTour::openDemo()
{
    connect(
        window_, &MainWindow::loadFinished, this,
        [this](bool ok) {
            done(ok && window_->session()->evaluation().has_value(),
                 ok ? tr("demo open: %1 boundary sets")
                          .arg(window_->session()->boundarySets().size())
                    : window_->errorText());
        },
        Qt::SingleShotConnection);
    // From the toolbar's action, as a user starts.
    window_->findChild<QAction*>("actionOpenDemo")->trigger();
}

void DesktopTour::dragBoundary()
{
    window_->views()->setCurrentWidget(window_->bucketsView());
    QCustomPlot* plot = window_->bucketsView()->plot();
    plot->replot();
    const Boundaries before = window_->session()->activeBoundaries();
    if (before.empty()) {
        done(false, "no boundaries to drag");
        return;
    }
    const int64_t from = before.values().front();
    const int64_t to = std::max<int64_t>(2, from * 3 / 4); // a quarter lower, at least 2
    const int y = plot->axisRect()->rect().center().y();
    const auto at = [plot, y](double length) {
        return QPoint(int(std::lround(plot->xAxis->coordToPixel(length))), y);
    };
    QTest::mousePress(plot, Qt::LeftButton, Qt::NoModifier, at(double(from)));
    // A hand moves in steps; each is a separate event the plot answers.
    const int steps = 8;
    auto step = std::make_shared<int>(0);
    auto* mover = new QTimer(this);
    connect(mover, &QTimer::timeout, this, [=] {
        ++*step;
        const double x = double(from) + (double(to) - double(from)) * *step / steps;
        QTest::mouseMove(plot, at(x));
        if (*step < steps)
            return;
        mover->stop();
        mover->deleteLater();
        QTest::mouseRelease(plot, Qt::LeftButton, Qt::NoModifier, at(double(to)));
        const Boundaries after = window_->session()->activeBoundaries();
        const bool moved = !after.empty() && after.values().front() != from;
        done(
            moved,
            tr("first boundary %1 → %2").arg(from).arg(after.empty() ? 0 : after.values().front()));
    });
    mover->start(30);
}

void DesktopTour::optimize()
{
    connect(
        window_->bucketsView(), &BucketsView::optimizeFinished, this,
        [this](bool ok) {
            const auto& report = window_->session()->tuningReport();
            done(ok && report.has_value(),
                 report ? tr("optimum %1 ms").arg(report->solution.objective, 0, 'g', 4)
                        : tr("no optimum"));
        },
        Qt::SingleShotConnection);
    window_->findChild<QAction*>("actionOptimize")->trigger();
}

void DesktopTour::profile()
{
    window_->views()->setCurrentWidget(window_->latencyView());
    ProfilePanel* panel = window_->latencyView()->profilePanel();
    panel->setOutputDirectory(QDir(outDir_).filePath("profiles"));
    panel->findChild<QSpinBox*>("profileGrid")->setValue(4);
    panel->findChild<QSpinBox*>("profileBudget")->setValue(3);
    const size_t before = window_->session()->profiles().size();
    connect(
        panel, &ProfilePanel::profilingStopped, this,
        [this, before](bool ok) {
            const size_t after = window_->session()->profiles().size();
            done(ok && after > before, tr("%1 profile(s) in the session").arg(after));
        },
        Qt::SingleShotConnection);
    auto* run = panel->findChild<QPushButton*>("profileRun");
    if (!run || !run->isEnabled()) {
        done(false, "the Profile button is not enabled");
        return;
    }
    QTest::mouseClick(run, Qt::LeftButton);
}

void DesktopTour::exportPackage()
{
    window_->findChild<QAction*>("actionExport")->trigger();
    auto* dialog = window_->findChild<ExportDialog*>();
    if (!dialog) {
        done(false,
             window_->errorText().isEmpty() ? QString("no export dialog") : window_->errorText());
        return;
    }
    const QString out = QDir(outDir_).filePath("tuned.pt");
    dialog->setOutput(out);
    dialog->setRecipeDir(QString());
    dialog->setForce(true);
    dialog->setReportPath(QDir(outDir_).filePath("report.html"));
    connect(
        dialog, &ExportDialog::exportFinished, this,
        [this, dialog, out](bool written) {
            const QString detail = written ? dialog->summary() : dialog->errorText();
            dialog->close();
            done(written && QFile::exists(out), detail.left(200));
        },
        Qt::SingleShotConnection);
    dialog->start();
}

void DesktopTour::screenshots(int index)
{
    QTabWidget* views = window_->views();
    if (index >= views->count()) {
        inScreenshots_ = false;
        done(true, tr("%1 views").arg(views->count()));
        return;
    }
    views->setCurrentIndex(index);
    // Views with background work (graph layout, validation) say so through "busy".
    when([views, index] { return !views->widget(index)->property("busy").toBool(); }, 120000,
         [this, views, index](bool ready) {
             // Let queued replots run, then grab what the X server shows of the window.
             QTimer::singleShot(300, this, [this, views, index, ready] {
                 QString name = views->tabText(index).toLower();
                 name.remove('&');
                 const QString path =
                     QDir(outDir_).filePath(QString("%1-%2.png").arg(index + 1).arg(name));
                 inScreenshots_ = true; // grabbing and encoding are the tour's own work
                 if (sampler_)
                     sampler_->setPaused(true);
                 QPixmap shot = window_->screen()->grabWindow(window_->winId());
                 if (shot.isNull() || shot.width() < 100)
                     shot = window_->grab();
                 const bool saved = shot.save(path, "PNG");
                 inScreenshots_ = false;
                 if (sampler_)
                     sampler_->setPaused(false);
                 lastBeat_ = -1;
                 if (!saved || !ready) {
                     inScreenshots_ = false;
                     done(false,
                          saved ? tr("%1 stayed busy").arg(name) : tr("cannot write %1").arg(path));
                     return;
                 }
                 screenshots(index + 1);
             });
         });
}
