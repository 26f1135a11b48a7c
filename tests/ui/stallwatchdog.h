// Watches the UI thread's event loop while background work runs: a 5 ms timer on the UI
// thread counts the ticks it gets while `busy()` says the work is under way. Work that ran
// on the UI thread (or held it for its whole length) leaves no tick inside it; work on the
// thread pool leaves many. That is what the gating tests assert: it does not depend on how
// loaded the machine is. The longest gap between ticks, the stall a user would feel, depends
// on the load, so it is printed, not asserted.
#pragma once

#include <QDebug>
#include <QElapsedTimer>
#include <QObject>
#include <QTimer>

#include <algorithm>
#include <functional>

class StallWatchdog : public QObject {
public:
    explicit StallWatchdog(std::function<bool()> busy) : busy_(std::move(busy))
    {
        timer_.setInterval(5);
        QObject::connect(&timer_, &QTimer::timeout, this, [this] {
            const qint64 now = clock_.elapsed();
            if (last_ >= 0)
                worst_ = std::max(worst_, now - last_);
            last_ = now;
            if (busy_())
                ++busyTicks_;
        });
        clock_.start();
        timer_.start();
    }
    ~StallWatchdog() override
    {
        qInfo("UI thread: %d ticks during the work, longest gap %lld ms", busyTicks_, worst_);
    }
    // Ticks of the UI thread's event loop while the work was under way.
    int busyTicks() const { return busyTicks_; }
    qint64 worstGapMs() const { return worst_; }

private:
    std::function<bool()> busy_;
    QTimer timer_;
    QElapsedTimer clock_;
    qint64 last_ = -1;
    qint64 worst_ = 0;
    int busyTicks_ = 0;
};
