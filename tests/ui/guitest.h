// Shared main for widget tests: offscreen platform unless one is set, fixed scale factor,
// settings and caches isolated from the user's (QStandardPaths test mode).
#pragma once

#include "signalseen.h"

#include <QApplication>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTest>

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
