// Shared main for widget tests: offscreen platform unless one is set, fixed scale factor,
// settings and caches isolated from the user's (QStandardPaths test mode).
#pragma once

#include <QApplication>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTest>

// True once the spy has caught its signal, whether before this call or within the timeout.
// QSignalSpy::wait() alone waits for a *new* emission and misses one that arrived while an
// earlier QTRY_ or qWait() was spinning the event loop.
inline bool signalSeen(QSignalSpy& spy, int timeoutMs)
{
    return spy.count() > 0 || spy.wait(timeoutMs);
}

#define BUCKETLAB_GUI_TEST_MAIN(TestClass)                                                         \
    int main(int argc, char** argv)                                                                \
    {                                                                                              \
        if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))                                        \
            qputenv("QT_QPA_PLATFORM", "offscreen");                                               \
        qputenv("QT_SCALE_FACTOR", "1");                                                           \
        QStandardPaths::setTestModeEnabled(true);                                                  \
        QApplication app(argc, argv);                                                              \
        QApplication::setOrganizationName("BucketLabTest");                                        \
        QApplication::setApplicationName("BucketLabTest");                                         \
        TestClass tc;                                                                              \
        QTEST_SET_MAIN_SOURCE_PATH                                                                 \
        return QTest::qExec(&tc, argc, argv);                                                      \
    }
