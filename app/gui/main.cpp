// bucketlab: the desktop front end. Options only; the window lives in ui/.
#include "core/package_meta.h"
#include "ui/mainwindow.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QTimer>

#include <iostream>

int main(int argc, char** argv)
{
    // A screenshot needs no screen: without a display, render offscreen instead of failing.
    for (int i = 1; i < argc; ++i)
        if (QByteArray(argv[i]).startsWith("--screenshot") &&
            qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM") &&
            qEnvironmentVariableIsEmpty("DISPLAY") &&
            qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY"))
            qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    QApplication::setOrganizationName("BucketLab");
    QApplication::setApplicationName("BucketLab");
    QApplication::setApplicationVersion(QString::fromStdString(bucketlab::creatorString()));

    QCommandLineParser parser;
    parser.setApplicationDescription("BucketLab desktop: tune, check and package bucketed models");
    parser.addHelpOption();
    parser.addVersionOption();
    QCommandLineOption demo("demo", "Open the embedded demo");
    QCommandLineOption screenshot("screenshot", "Render the main window to FILE (PNG) and exit",
                                  "FILE");
    parser.addOption(demo);
    parser.addOption(screenshot);
    parser.addPositionalArgument("file", "Model or package to open", "[file]");
    parser.process(app);

    bucketlab::ui::MainWindow window;
    const QString shot = parser.value(screenshot);
    if (!shot.isEmpty()) {
        window.resize(1280, 800);
        QObject::connect(&window, &bucketlab::ui::MainWindow::loadFinished, &app, [&window, shot] {
            // Let queued replots and layouts run before grabbing.
            QTimer::singleShot(200, &window, [&window, shot] {
                const bool ok = window.grab().save(shot, "PNG");
                if (!ok)
                    std::cerr << "bucketlab: cannot write " << shot.toStdString() << "\n";
                QApplication::exit(ok ? 0 : 2);
            });
        });
    }
    window.show();
    if (parser.isSet(demo))
        window.openDemo();
    else if (!parser.positionalArguments().isEmpty())
        window.openFile(parser.positionalArguments().first());
    else if (!shot.isEmpty())
        QTimer::singleShot(200, &window, [&window] { Q_EMIT window.loadFinished(true); });
    return app.exec();
}
