#include "ui/mainwindow.h"

#include "core/package_meta.h"
#include "ui/packageview.h"
#include "ui/recentfiles.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDragEnterEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QSettings>
#include <QStandardPaths>
#include <QStatusBar>
#include <QToolBar>
#include <QToolButton>
#include <QVBoxLayout>

// The .qrc is compiled into a static library, whose registration object the linker would
// drop; registering it explicitly keeps the icons.
static void initResources()
{
    Q_INIT_RESOURCE(resources);
}

namespace bucketlab::ui {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent)
{
    initResources();
    setObjectName("mainWindow");
    setWindowTitle(tr("BucketLab"));
    setWindowIcon(QIcon(":/bucketlab/icon.svg"));
    setAcceptDrops(true);

    loader_ = new ModelLoadJob(this);
    recent_ = new RecentFiles(this);

    auto* central = new QWidget(this);
    auto* layout = new QVBoxLayout(central);
    layout->setContentsMargins(8, 8, 8, 8);

    errorBanner_ = new QWidget(central);
    errorBanner_->setObjectName("errorBanner");
    errorBanner_->setAutoFillBackground(true);
    QPalette pal = errorBanner_->palette();
    pal.setColor(QPalette::Window, QColor(253, 236, 234));
    pal.setColor(QPalette::WindowText, QColor(120, 20, 20));
    errorBanner_->setPalette(pal);
    auto* bannerLayout = new QHBoxLayout(errorBanner_);
    errorLabel_ = new QLabel(errorBanner_);
    errorLabel_->setObjectName("errorLabel");
    errorLabel_->setWordWrap(true);
    errorLabel_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto* close = new QToolButton(errorBanner_);
    close->setText(tr("Dismiss"));
    connect(close, &QToolButton::clicked, this, &MainWindow::hideError);
    bannerLayout->addWidget(errorLabel_, 1);
    bannerLayout->addWidget(close);
    errorBanner_->hide();
    layout->addWidget(errorBanner_);

    packageView_ = new PackageView(central);
    layout->addWidget(packageView_, 1);
    setCentralWidget(central);

    busy_ = new QProgressBar(this);
    busy_->setRange(0, 0);
    busy_->setMaximumWidth(160);
    busy_->hide();
    statusBar()->addPermanentWidget(busy_);
    statusBar()->showMessage(tr("Ready"));

    createActions();

    connect(loader_, &ModelLoadJob::started, this, [this](const QString& what) {
        busy_->show();
        statusBar()->showMessage(what + QStringLiteral("…"));
    });
    connect(loader_, &ModelLoadJob::loaded, this, &MainWindow::onLoaded);
    connect(loader_, &ModelLoadJob::failed, this, [this](const QString& message) {
        busy_->hide();
        statusBar()->showMessage(tr("Could not open the file"), 5000);
        showError(message);
        Q_EMIT loadFinished(false);
    });

    QSettings settings;
    if (!restoreGeometry(settings.value("mainWindow/geometry").toByteArray()))
        resize(1280, 800);
    restoreState(settings.value("mainWindow/state").toByteArray());
}

void MainWindow::createActions()
{
    QMenu* file = menuBar()->addMenu(tr("&File"));
    QAction* open = file->addAction(tr("&Open…"), this, [this] {
        const QString path = QFileDialog::getOpenFileName(
            this, tr("Open a model or package"), QString(),
            tr("TorchScript archives (*.pt *.pth *.ptl *.zip);;All files (*)"));
        if (!path.isEmpty())
            openFile(path);
    });
    open->setShortcut(QKeySequence::Open);
    open->setObjectName("actionOpen");
    open->setToolTip(tr("Open a TorchScript model or a BucketLab package"));
    recentMenu_ = file->addMenu(tr("Open &Recent"));
    recentMenu_->setObjectName("recentMenu");
    connect(recent_, &RecentFiles::changed, this, &MainWindow::rebuildRecentMenu);
    rebuildRecentMenu();
    QAction* demo = file->addAction(tr("Open &Demo"), this, &MainWindow::openDemo);
    demo->setObjectName("actionOpenDemo");
    demo->setToolTip(tr("Build the embedded BERT-shaped demo and its MRPC traffic, and open "
                        "the package"));
    file->addSeparator();
    QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About BucketLab"), this, [this] {
        QMessageBox::about(
            this, tr("About BucketLab"),
            tr("<b>%1</b><p>Measure, tune, check and package bucketed models for static-shape "
               "runtimes (AWS Neuron, XLA, TensorRT, CUDA graphs).</p>")
                .arg(QString::fromStdString(creatorString())));
    });

    QToolBar* bar = addToolBar(tr("Main"));
    bar->setObjectName("mainToolBar");
    bar->setMovable(false);
    bar->addAction(open);
    bar->addAction(demo);
}

void MainWindow::rebuildRecentMenu()
{
    recentMenu_->clear();
    const QStringList files = recent_->files();
    for (const QString& f : files)
        recentMenu_->addAction(QFileInfo(f).fileName(), this, [this, f] { openFile(f); })
            ->setToolTip(f);
    if (files.isEmpty())
        recentMenu_->addAction(tr("(none)"))->setEnabled(false);
    else {
        recentMenu_->addSeparator();
        recentMenu_->addAction(tr("Clear"), recent_, &RecentFiles::clear);
    }
}

void MainWindow::openFile(const QString& path)
{
    hideError();
    currentFile_ = path;
    loader_->load(path);
}

void MainWindow::openDemo()
{
    hideError();
    QString dir = QStandardPaths::writableLocation(QStandardPaths::CacheLocation);
    if (dir.isEmpty())
        dir = QDir::tempPath() + "/bucketlab";
    currentFile_.clear();
    loader_->loadDemo(dir + "/demo");
}

void MainWindow::onLoaded(const LoadedModel& model)
{
    busy_->hide();
    currentFile_ = QString::fromStdString(model.info.path);
    packageView_->setModelInfo(model.info);
    if (model.distributionPath.isEmpty())
        recent_->add(currentFile_);
    setWindowTitle(tr("%1 — BucketLab").arg(QFileInfo(currentFile_).fileName()));
    statusBar()->showMessage(tr("Opened %1").arg(currentFile_), 5000);
    Q_EMIT loadFinished(true);
}

QString MainWindow::errorText() const
{
    return errorBanner_->isVisible() || !errorBanner_->isHidden() ? errorLabel_->text() : QString();
}

void MainWindow::showError(const QString& message)
{
    errorLabel_->setText(message);
    errorBanner_->show();
}

void MainWindow::hideError()
{
    errorLabel_->clear();
    errorBanner_->hide();
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event)
{
    if (event->mimeData()->hasUrls())
        event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event)
{
    const auto urls = event->mimeData()->urls();
    if (urls.isEmpty() || !urls.first().isLocalFile()) {
        showError(tr("Only local files can be opened"));
        return;
    }
    openFile(urls.first().toLocalFile());
    event->acceptProposedAction();
}

void MainWindow::closeEvent(QCloseEvent* event)
{
    QSettings settings;
    settings.setValue("mainWindow/geometry", saveGeometry());
    settings.setValue("mainWindow/state", saveState());
    QMainWindow::closeEvent(event);
}

} // namespace bucketlab::ui
