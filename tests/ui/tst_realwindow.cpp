// The real desktop in a real window: `bucketlab --tour` started under Xvfb (xvfb-run -a, the
// xcb platform, not offscreen) drives one tuning session on the demo — open, drag a boundary
// with the mouse, Optimize, profile, export — and writes a PNG of every view and tour.json
// into build/test-output/tst_realwindow/. Checked: every step passed, every view's screenshot
// shows a drawn window, the export wrote its package, and the UI thread kept ticking while the
// background work ran. The longest gap between its heartbeats is printed; it is asserted
// (<= 100 ms) only with BUCKETLAB_STRICT_STALL=1, because on a shared 2-core machine the
// scheduler alone can hold a thread that long (see the README's note). Skipped, with the
// reason, where xvfb-run is not installed.
#include <QDir>
#include <QFile>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSet>
#include <QStandardPaths>
#include <QTest>

class TestRealWindow : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void aTuningSessionUnderXvfb();
};

void TestRealWindow::aTuningSessionUnderXvfb()
{
    const QString xvfbRun = QStandardPaths::findExecutable("xvfb-run");
    if (xvfbRun.isEmpty())
        QSKIP("xvfb-run is not installed (Debian's xvfb and xauth; scripts/setup.sh installs "
              "them): the real-window test needs a virtual X display");
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

    const double worst = tour["worst_gap_ms"].toDouble();
    qInfo("UI thread under Xvfb: worst gap %.0f ms, %d gaps over 100 ms; per step:", worst,
          tour["gaps_over_100_ms"].toInt());
    for (const auto& v : tour["steps"].toArray()) {
        const QJsonObject s = v.toObject();
        qInfo("  %-22s %6.0f ms  worst gap %4.0f ms", qPrintable(s["step"].toString()),
              s["ms"].toDouble(), s["worst_gap_ms"].toDouble());
    }
    if (qEnvironmentVariableIntValue("BUCKETLAB_STRICT_STALL") == 1)
        QVERIFY2(worst <= 100, qPrintable(QString("worst UI-thread gap %1 ms").arg(worst)));
}

QTEST_GUILESS_MAIN(TestRealWindow)
#include "tst_realwindow.moc"
