// The desktop's command line as a terminal user meets it: --help and --version print and
// exit 0 with no display at all (no DISPLAY, no WAYLAND_DISPLAY, no QT_QPA_PLATFORM), and a
// mistyped option is one line on stderr with exit 2 — never an abort from the window system.
#include <QProcess>
#include <QProcessEnvironment>
#include <QTest>

namespace {

struct Run {
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};

// Runs the desktop binary as from a bare ssh session: no window system to connect to.
Run runWithoutDisplay(const QStringList& args)
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    for (const char* name : {"DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"})
        env.remove(name);
    QProcess p;
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(BUCKETLAB_DESKTOP), args);
    Run r;
    if (!p.waitForStarted(10000) || !p.waitForFinished(60000)) {
        p.kill();
        p.waitForFinished();
        return r;
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
}

} // namespace

class TestDesktopOptions : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void helpAndVersionNeedNoDisplay_data();
    void helpAndVersionNeedNoDisplay();
    void aMistypedOptionIsOneLineAndExitTwo();
};

void TestDesktopOptions::helpAndVersionNeedNoDisplay_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("expected");
    QTest::addRow("--help") << QStringList{"--help"} << "--screenshot-all";
    QTest::addRow("-h") << QStringList{"-h"} << "--demo";
    QTest::addRow("--help with a file") << QStringList{"model.pt", "--help"} << "files";
    QTest::addRow("--version") << QStringList{"--version"} << "bucketlab";
}

void TestDesktopOptions::helpAndVersionNeedNoDisplay()
{
    QFETCH(QStringList, args);
    QFETCH(QString, expected);
    const Run r = runWithoutDisplay(args);
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QVERIFY2(r.out.contains(expected.toUtf8()), r.out.constData());
    // Nothing about a platform plugin that could not be loaded.
    QVERIFY2(!r.err.contains("platform"), r.err.constData());
}

void TestDesktopOptions::aMistypedOptionIsOneLineAndExitTwo()
{
    // The option is checked after the window system is up (Qt's own options are only known
    // then), so give it the offscreen one this time; the answer must not depend on it.
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("QT_QPA_PLATFORM", "offscreen");
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(BUCKETLAB_DESKTOP), {"--screnshot", "x.png"});
    QVERIFY(p.waitForFinished(60000));
    QCOMPARE(p.exitCode(), 2);
    const QByteArray err = p.readAllStandardError().trimmed();
    const QList<QByteArray> lines = err.split('\n');
    QByteArray ours;
    for (const QByteArray& line : lines)
        if (line.startsWith("bucketlab:"))
            ours += line;
    QVERIFY2(ours.contains("screnshot"), err.constData());
    QVERIFY2(!ours.contains('\n'), err.constData());
}

QTEST_GUILESS_MAIN(TestDesktopOptions)
#include "tst_desktopoptions.moc"
