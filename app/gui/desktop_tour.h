// `bucketlab --tour DIR`: the desktop drives itself through one tuning session as a user
// would — open the demo, drag a boundary, Optimize, profile, export — with real mouse events
// on the real window (QTest's event helpers, in process), then writes a PNG of every view and
// tour.json (each step, how it went, and the UI thread's heartbeat: the longest gap between
// ticks of a 10 ms timer, and that gap less the time the thread waited for a CPU, from
// Linux's schedstat). tests/ui/tst_realwindow runs it under Xvfb. Every wait is a signal or a
// timer: no nested event loop, so the heartbeat sees what a user would feel. With
// BUCKETLAB_STALL_STACKS=1 a StallSampler records the UI thread's stacks whenever it has not
// answered for 40 ms, into stall-stacks.txt.
#pragma once

#include <QElapsedTimer>
#include <QJsonArray>
#include <QObject>
#include <QString>
#include <QTimer>

#include <array>
#include <functional>
#include <memory>
#include <vector>

namespace bucketlab::ui {
class MainWindow;
}

class StallSampler;

class DesktopTour : public QObject {
public:
    DesktopTour(bucketlab::ui::MainWindow* window, QString outDir);
    ~DesktopTour() override;
    // Starts the tour; the application exits 0 when every step passed, 1 otherwise.
    void start();

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    struct Delivery {
        qint64 ms = 0;
        const char* className = nullptr; // static strings of the meta-object system
        QString name;
        int type = 0;
    };
    void recordStall(qint64 gap, qint64 own);
    // Milliseconds the UI thread has spent ready to run but waiting for a CPU, in all; -1
    // where unknown (not Linux, no schedstat).
    double runQueueWaitMs();
    struct Step {
        QString name;
        // Begins the step; it calls done(ok, detail) once finished, maybe later.
        std::function<void()> run;
    };
    void next();
    void done(bool ok, const QString& detail);
    void finish();
    void openDemo();
    void dragBoundary();
    void optimize();
    void profile();
    void exportPackage();
    void screenshots(int index);
    // Calls `then` once `ready` holds (checked every 50 ms), or after `limitMs` with false.
    void when(std::function<bool()> ready, int limitMs, std::function<void(bool)> then);

    bucketlab::ui::MainWindow* window_;
    QString outDir_;
    std::vector<Step> steps_;
    size_t current_ = 0;
    QJsonArray results_;
    QElapsedTimer stepClock_;
    QTimer heartbeat_;
    QElapsedTimer clock_;
    qint64 lastBeat_ = -1;
    qint64 stepWorstGap_ = 0, worstGap_ = 0;
    qint64 stepWorstOwnGap_ = 0, worstOwnGap_ = 0;
    int schedstat_ = -1;     // /proc/thread-self/schedstat of the UI thread
    double lastQueued_ = -1; // its run-queue wait at the last heartbeat
    int stepBeats_ = 0, gapsOver100_ = 0;
    bool allOk_ = true;
    bool inScreenshots_ = false;
    std::array<Delivery, 16> recent_{};
    size_t recentNext_ = 0;
    QJsonArray stalls_;
    // BUCKETLAB_STALL_STACKS=1: the UI thread's stacks during stalls, into stall-stacks.txt.
    std::unique_ptr<StallSampler> sampler_;
};
