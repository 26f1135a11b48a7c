// The real desktop in a real window: `bucketlab --tour` started under Xvfb (xvfb-run -a, the
// xcb platform, not offscreen) drives one tuning session on the demo — open, drag a boundary
// with the mouse, Optimize, profile, export — and writes a PNG of every view and tour.json
// into build/test-output/tst_realwindow/. Checked: every step passed, every view's screenshot
// shows a drawn window, the export wrote its package, the UI thread kept ticking while the
// background work ran, and no gap between its heartbeats of the desktop's own making exceeded
// 100 ms (issue 15). "Own making": the gap less the time the kernel kept the UI thread ready
// but off the CPU (its run-queue wait, from Linux's schedstat), which on a shared 2-core
// machine other processes alone stretch past 100 ms; the work and the waits of the UI thread
// itself — painting, layout, a lock, a wait for a thread pool — all count. The raw gaps are
// printed; BUCKETLAB_STRICT_STALL=1 bounds them too (for an otherwise idle machine), and
// BUCKETLAB_STALL_BOUND_MS=N relaxes the bound to N ms for an overloaded machine. Xvfb
// starved of CPU can also make the UI thread wait (for its replies): a run past the bound is
// repeated once, and the second must keep it (a stall of the desktop's own shows in every
// run). stall-stacks.txt in the output folder holds the UI thread's stacks during each stall.
// Skipped, with the reason, where xvfb-run is not installed.
#include <QDir>
#include <QFile>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMap>
#include <QProcess>
#include <QSet>
#include <QStandardPaths>
#include <QTest>

#include <algorithm>

class TestRealWindow : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void aTuningSessionUnderXvfb();

private:
    // One tour into a fresh output folder, every check but the stall bound; its tour.json.
    void runTour(const QString& xvfbRun, QJsonObject* result);
};

void TestRealWindow::aTuningSessionUnderXvfb()
{
    const QString xvfbRun = QStandardPaths::findExecutable("xvfb-run");
    if (xvfbRun.isEmpty())
        QSKIP("xvfb-run is not installed (Debian's xvfb and xauth; scripts/setup.sh installs "
              "them): the real-window test needs a virtual X display");
    const QDir out(QStringLiteral(BUCKETLAB_TEST_OUTPUT));
    QJsonObject tour;
    runTour(xvfbRun, &tour);
    if (QTest::currentTestFailed())
        return;
    // A stall of the desktop's own making shows in every run. One past the bound can also be
    // Xvfb starved of CPU (the UI thread waits for its replies, which counts as its own time):
    // then the tour runs once more, and the bound must hold there. The first run's tour.json
    // and stacks stay beside the second's as first-run-*.
    //
    // BUCKETLAB_STALL_BOUND_MS relaxes the bound (never below 100 ms) on a machine so
    // overloaded that Xvfb itself starves: two CPU hogs beside this VM's usual load (about 12 on
    // 2 cores) made the UI thread wait 122 ms in all for Xvfb's replies and for Qt's own
    // painting threads.
    const double bound = std::max(100, qEnvironmentVariableIntValue("BUCKETLAB_STALL_BOUND_MS"));
    if (tour["worst_own_gap_ms"].toDouble() > bound) {
        qInfo("UI thread: %.0f ms of its own making; running the tour once more",
              tour["worst_own_gap_ms"].toDouble());
        QMap<QString, QByteArray> first;
        for (const QString& name : {QString("tour.json"), QString("stall-stacks.txt")}) {
            QFile f(out.filePath(name));
            if (f.open(QIODevice::ReadOnly))
                first[name] = f.readAll();
        }
        runTour(xvfbRun, &tour);
        if (QTest::currentTestFailed())
            return;
        for (auto it = first.cbegin(); it != first.cend(); ++it) {
            QFile f(out.filePath("first-run-" + it.key()));
            QVERIFY(f.open(QIODevice::WriteOnly) && f.write(it.value()) == it.value().size());
        }
    }
    const double worst = tour["worst_gap_ms"].toDouble();
    const double own = tour["worst_own_gap_ms"].toDouble();
    qInfo("UI thread under Xvfb: worst gap %.0f ms, %.0f ms less its run-queue wait%s; %d gaps "
          "over 100 ms; per step (worst gap, less run-queue wait):",
          worst, own, tour["run_queue_known"].toBool() ? "" : " (unknown here: the same)",
          tour["gaps_over_100_ms"].toInt());
    for (const auto& v : tour["steps"].toArray()) {
        const QJsonObject s = v.toObject();
        qInfo("  %-22s %6.0f ms  worst gap %4.0f ms, own %4.0f ms",
              qPrintable(s["step"].toString()), s["ms"].toDouble(), s["worst_gap_ms"].toDouble(),
              s["worst_own_gap_ms"].toDouble());
    }
    QStringList stalls;
    for (const auto& v : tour["stalls"].toArray()) {
        const QJsonObject s = v.toObject();
        stalls << QString("%1: %2 ms (own %3 ms) after %4")
                      .arg(s["step"].toString())
                      .arg(s["gap_ms"].toDouble())
                      .arg(s["own_ms"].toDouble())
                      .arg(s["event"].toString());
    }
    const QString where = QString("; stalls: %1; stacks in %2")
                              .arg(stalls.join("; "), out.filePath("stall-stacks.txt"));
    QVERIFY2(own <= bound, qPrintable(QString("the UI thread stalled %1 ms of its own making "
                                              "(bound %2 ms)")
                                          .arg(own)
                                          .arg(bound) +
                                      where));
    if (qEnvironmentVariableIntValue("BUCKETLAB_STRICT_STALL") == 1)
        QVERIFY2(worst <= 100, qPrintable(QString("worst UI-thread gap %1 ms").arg(worst) + where));
}

void TestRealWindow::runTour(const QString& xvfbRun, QJsonObject* result)
{
    QDir out(QStringLiteral(BUCKETLAB_TEST_OUTPUT));
    QVERIFY(out.removeRecursively() || !out.exists());
    QVERIFY(QDir().mkpath(out.path()));

    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("QT_QPA_PLATFORM", "xcb");
    env.remove("WAYLAND_DISPLAY");
    // The user's settings, caches and saved profiles stay untouched.
    env.insert("XDG_CONFIG_HOME", out.filePath("home/config"));
    env.insert("XDG_CACHE_HOME", out.filePath("home/cache"));
    env.insert("XDG_DATA_HOME", out.filePath("home/data"));
    // The UI thread's stacks while it stalls, sampled, into stall-stacks.txt.
    env.insert("BUCKETLAB_STALL_STACKS", "1");
    QProcess p;
    p.setProcessEnvironment(env);
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(xvfbRun, {"-a", "-s", "-screen 0 1600x1000x24", QStringLiteral(BUCKETLAB_DESKTOP),
                      "--tour", out.path()});
    QVERIFY2(p.waitForStarted(30000), qPrintable(p.errorString()));
    const bool finished = p.waitForFinished(840000);
    const QByteArray log = p.readAll();
    if (!finished) {
        p.kill();
        p.waitForFinished();
        QFAIL(qPrintable("the tour did not end:\n" + QString::fromLocal8Bit(log)));
    }
    QVERIFY2(p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0, log.constData());

    QFile f(out.filePath("tour.json"));
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QJsonObject tour = QJsonDocument::fromJson(f.readAll()).object();
    QCOMPARE(tour["platform"].toString(), QString("xcb")); // a real window system
    QVERIFY(tour["ok"].toBool());
    QStringList steps;
    QJsonObject byName;
    for (const auto& v : tour["steps"].toArray()) {
        const QJsonObject s = v.toObject();
        QVERIFY2(s["ok"].toBool(),
                 qPrintable(s["step"].toString() + ": " + s["detail"].toString()));
        steps << s["step"].toString();
        byName[s["step"].toString()] = s;
    }
    QCOMPARE(steps, (QStringList{"open the demo", "drag a boundary", "optimize", "profile",
                                 "export", "screenshot every view"}));
    // Profiling and export run for seconds on the thread pool: the UI thread's event loop
    // kept turning throughout (a blocked loop leaves no heartbeat).
    for (const char* step : {"profile", "export"}) {
        const QJsonObject s = byName[step].toObject();
        const double expected = s["ms"].toDouble() / 10.0; // a beat every 10 ms
        QVERIFY2(s["heartbeats"].toDouble() > expected / 4,
                 qPrintable(QString("%1: %2 heartbeats in %3 ms")
                                .arg(step)
                                .arg(s["heartbeats"].toInt())
                                .arg(s["ms"].toDouble())));
    }
    QVERIFY(QFile::exists(out.filePath("tuned.pt")));

    // A screenshot per view, each a drawn window (many colours), not a blank or black frame.
    const QStringList shots = out.entryList({"*.png"}, QDir::Files, QDir::Name);
    QCOMPARE(shots, (QStringList{"1-buckets.png", "2-latency.png", "3-package.png", "4-graph.png",
                                 "5-validation.png", "6-llm.png"}));
    for (const QString& name : shots) {
        const QImage image(out.filePath(name));
        QVERIFY2(image.width() >= 1000 && image.height() >= 600, qPrintable(name));
        QSet<QRgb> colours;
        for (int y = 0; y < image.height(); y += 7)
            for (int x = 0; x < image.width(); x += 7)
                colours.insert(image.pixel(x, y));
        QVERIFY2(colours.size() > 30,
                 qPrintable(QString("%1: %2 colours").arg(name).arg(colours.size())));
    }

    *result = tour;
}

QTEST_GUILESS_MAIN(TestRealWindow)
#include "tst_realwindow.moc"
