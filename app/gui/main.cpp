// bucketlab: the desktop front end. Options only; the window lives in ui/.
#include "desktop_tour.h"

#include "core/spec/package_meta.h"
#include "ui/views/bucketsview.h"
#include "ui/views/mainwindow.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QElapsedTimer>
#include <QTabWidget>
#include <QThread>
#include <QTimer>

#include <iostream>

namespace {

// Renders the window once pending loads (and Optimize, when asked), layouts and queued
// replots have run.
void renderWhenReady(bucketlab::ui::MainWindow& window, bool afterOptimize,
                     std::function<bool()> render)
{
    auto go = [&window, render] {
        QTimer::singleShot(300, &window, [render] { QApplication::exit(render() ? 0 : 2); });
    };
    if (afterOptimize)
        QObject::connect(window.bucketsView(), &bucketlab::ui::BucketsView::optimizeFinished,
                         &window, go);
    else if (window.isBusy())
        QObject::connect(&window, &bucketlab::ui::MainWindow::loadFinished, &window, go);
    else
        go();
}

QString fileNameFor(const QString& tab)
{
    QString name = tab.toLower();
    name.remove('&');
    name.replace(' ', '-');
    return name + ".png";
}

// A screenshot needs no screen: without a display, render offscreen instead of failing.
void offscreenForScreenshots(int argc, char** argv)
{
    for (int i = 1; i < argc; ++i)
        if (QByteArray(argv[i]).startsWith("--screenshot") &&
            qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM") &&
            qEnvironmentVariableIsEmpty("DISPLAY") &&
            qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY"))
            qputenv("QT_QPA_PLATFORM", "offscreen");
}

// --optimize K: Optimize with K buckets (mean latency) once the files have loaded. False
// (said on stderr) for a bad count.
bool optimizeWhenLoaded(bucketlab::ui::MainWindow& window, const QString& value)
{
    bool ok = false;
    const int k = value.toInt(&ok);
    if (!ok || k < 1) {
        std::cerr << "bucketlab: --optimize needs a bucket count >= 1\n";
        return false;
    }
    auto run = [&window, k] {
        window.bucketsView()->setOptimizeSettings(k, 0);
        window.bucketsView()->optimize();
    };
    if (window.isBusy())
        QObject::connect(&window, &bucketlab::ui::MainWindow::loadFinished, &window, run,
                         Qt::SingleShotConnection);
    else
        run();
    return true;
}

// --screenshot-all DIR: one PNG per view, each once its background work is done.
bool screenshotAllViews(bucketlab::ui::MainWindow& window, const QString& shotDir)
{
    if (!QDir().mkpath(shotDir)) {
        std::cerr << "bucketlab: cannot create " << shotDir.toStdString() << "\n";
        return false;
    }
    QTabWidget* views = window.views();
    for (int i = 0; i < views->count(); ++i) {
        views->setCurrentIndex(i);
        QApplication::processEvents();
        const QString path = QDir(shotDir).filePath(fileNameFor(views->tabText(i)));
        // Views with background work (graph layout, validation) say so through their
        // "busy" property; wait for it, within reason.
        QElapsedTimer waited;
        waited.start();
        while (views->widget(i)->property("busy").toBool() && waited.elapsed() < 60000) {
            QApplication::processEvents(QEventLoop::AllEvents, 50);
            QThread::msleep(10);
        }
        // Plots replot on a queued event; let it run before grabbing.
        for (int n = 0; n < 3; ++n)
            QApplication::processEvents();
        if (!window.grab().save(path, "PNG")) {
            std::cerr << "bucketlab: cannot write " << path.toStdString() << "\n";
            return false;
        }
    }
    return true;
}

// --screenshot FILE (the window) or --screenshot-all DIR (every view), once the window is
// ready (after Optimize when `afterOptimize`); then the application exits.
void screenshotWhenReady(bucketlab::ui::MainWindow& window, const QString& shot,
                         const QString& shotDir, bool afterOptimize)
{
    if (!shot.isEmpty()) {
        renderWhenReady(window, afterOptimize, [&window, shot] {
            if (window.grab().save(shot, "PNG"))
                return true;
            std::cerr << "bucketlab: cannot write " << shot.toStdString() << "\n";
            return false;
        });
    } else if (!shotDir.isEmpty()) {
        renderWhenReady(window, afterOptimize,
                        [&window, shotDir] { return screenshotAllViews(window, shotDir); });
    }
}

} // namespace

int main(int argc, char** argv)
{
    QCommandLineParser parser;
    parser.setApplicationDescription("BucketLab desktop: tune, check and package bucketed models");
    const QCommandLineOption help = parser.addHelpOption();
    const QCommandLineOption version = parser.addVersionOption();
    QCommandLineOption demo("demo", "Open the embedded demo in the Buckets view");
    QCommandLineOption screenshot("screenshot", "Render the main window to FILE (PNG) and exit",
                                  "FILE");
    QCommandLineOption screenshotAll("screenshot-all", "Render one PNG per view into DIR and exit",
                                     "DIR");
    QCommandLineOption optimize("optimize",
                                "After loading, run Optimize with K buckets (mean latency)", "K");
    QCommandLineOption tour("tour",
                            "Drive one tuning session on the demo (open, drag, Optimize, "
                            "profile, export), write a PNG of every view and tour.json into "
                            "DIR, and exit (0: every step passed)",
                            "DIR");
    parser.addOption(optimize);
    parser.addOption(tour);
    parser.addOption(demo);
    parser.addOption(screenshot);
    parser.addOption(screenshotAll);
    parser.addPositionalArgument("files", "Models, packages, traffic, profiles or a project",
                                 "[files...]");

    const auto wantsInfo = [&] {
        return parser.isSet(help) || parser.isSet("help-all") || parser.isSet(version);
    };
    // --help and --version answer before any window system is touched, so they work on a
    // terminal without a display (QApplication would abort there). Qt's own options
    // (-platform, -style, ...) are only known once QApplication has taken them out.
    QStringList arguments;
    for (int i = 0; i < argc; ++i)
        arguments << QString::fromLocal8Bit(argv[i]);
    if (parser.parse(arguments) && wantsInfo()) {
        QCoreApplication app(argc, argv); // names the program in the usage line
        QCoreApplication::setApplicationVersion(QString::fromStdString(bucketlab::creatorString()));
        parser.process(app); // prints and exits 0
        return 0;
    }

    offscreenForScreenshots(argc, argv);
    QApplication app(argc, argv);
    QApplication::setOrganizationName("BucketLab");
    QApplication::setApplicationName("BucketLab");
    QApplication::setApplicationVersion(QString::fromStdString(bucketlab::creatorString()));
    if (!parser.parse(QApplication::arguments())) {
        std::cerr << "bucketlab: " << parser.errorText().toStdString()
                  << " (bucketlab --help lists the options)\n";
        return 2;
    }
    if (wantsInfo())
        parser.process(app); // prints and exits 0

    bucketlab::ui::MainWindow window;
    window.resize(1280, 800);
    window.show();
    if (parser.isSet(tour)) {
        // The window is real and shown; the tour starts once the window system has mapped it.
        auto* t = new DesktopTour(&window, parser.value(tour));
        QTimer::singleShot(500, t, [t] { t->start(); });
        return app.exec();
    }
    if (parser.isSet(demo))
        window.openDemo();
    for (const QString& f : parser.positionalArguments())
        window.openFile(f);

    if (parser.isSet(optimize) && !optimizeWhenLoaded(window, parser.value(optimize)))
        return 2;

    screenshotWhenReady(window, parser.value(screenshot), parser.value(screenshotAll),
                        parser.isSet(optimize));
    return app.exec();
}
