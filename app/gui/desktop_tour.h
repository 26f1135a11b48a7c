// `bucketlab --tour DIR`: the desktop drives itself through one tuning session as a user
// would — open the demo, drag a boundary, Optimize, profile, export — with real mouse events
// on the real window (QTest's event helpers, in process), then writes a PNG of every view and
// tour.json (each step, how it went, and the UI thread's heartbeat: the longest gap between
// ticks of a 10 ms timer). tests/ui/tst_realwindow runs it under Xvfb. Every wait is a signal
// or a timer: no nested event loop, so the heartbeat sees what a user would feel.
#pragma once

#include <QElapsedTimer>
#include <QJsonArray>
#include <QObject>
#include <QString>
#include <QTimer>

#include <array>
#include <functional>
#include <vector>

namespace bucketlab::ui {
class MainWindow;
}

class DesktopTour : public QObject {
public:
    DesktopTour(bucketlab::ui::MainWindow* window, QString outDir);
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
    void recordStall(qint64 gap);
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
    int stepBeats_ = 0, gapsOver100_ = 0;
    bool allOk_ = true;
    bool inScreenshots_ = false;
    std::array<Delivery, 16> recent_{};
    size_t recentNext_ = 0;
    QJsonArray stalls_;
};
