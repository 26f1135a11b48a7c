// signalSeen() for every UI test, the model tests that link no Qt Widgets included.
#pragma once

#include <QSignalSpy>

// True once the spy has caught its signal, whether before this call or within the timeout.
// QSignalSpy::wait() alone waits for a *new* emission and misses one that arrived while an
// earlier QTRY_ or qWait() was spinning the event loop.
inline bool signalSeen(QSignalSpy& spy, int timeoutMs)
{
    return spy.count() > 0 || spy.wait(timeoutMs);
}
