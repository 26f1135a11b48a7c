#include "ui/views/mainwindow.h"

#include "core/project/project.h"
#include "core/report/html_report.h"
#include "core/report/report_checks.h"
#include "core/spec/package_meta.h"
#include "core/util/error.h"
#include "core/util/output_file.h"
#include "ui/models/backgroundjob.h"
#include "ui/models/errortext.h"
#include "ui/models/recentfiles.h"
#include "ui/models/secondrun.h"
#include "ui/models/session.h"
#include "ui/models/sessionloader.h"
#include "ui/views/bucketsview.h"
#include "ui/views/elidedlabel.h"
#include "ui/views/exportdialog.h"
#include "ui/views/graphview.h"
#include "ui/views/latencyview.h"
#include "ui/views/llmview.h"
#include "ui/views/packageview.h"
#include "ui/views/plot.h"
#include "ui/views/plotsupport.h"
#include "ui/views/projectpanel.h"
#include "ui/views/runcomparisonpanel.h"
#include "ui/views/validationview.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QCloseEvent>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDir>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QSettings>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableWidget>
#include <QToolBar>
#include <QToolButton>
#include <QUndoGroup>
#include <QUndoStack>
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
    setWindowTitle(tr("BucketLab[*]"));
    setWindowIcon(QIcon(":/bucketlab/icon.svg"));
    setAcceptDrops(true);
    setDockOptions(QMainWindow::AnimatedDocks | QMainWindow::AllowTabbedDocks);

    session_ = new Session(this);
    loader_ = new SessionLoader(session_, this);
    recent_ = new RecentFiles(this);
    reportJob_ = new BackgroundJob(this);
    reportJob_->setObjectName("reportJob");

    auto* central = new QWidget(this);
    auto* layout = new QVBoxLayout(central);
    layout->setContentsMargins(6, 6, 6, 6);

    layout->addWidget(buildErrorBanner(central));
    layout->addWidget(buildViews(central), 1);
    setCentralWidget(central);

    QDockWidget* dock = buildProjectDock();
    buildStatusBar();
    QDockWidget* comparisonDock = buildComparisonDock();

    createActions();
    addViewActions(dock);

    connectSession();
    connectLoader();

    QSettings settings;
    if (!restoreGeometry(settings.value("mainWindow/geometry").toByteArray()))
        resize(1280, 800);
    restoreState(settings.value("mainWindow/state").toByteArray());
    comparisonDock->hide(); // until File > Compare With… opens a second run
    updateStatus();
}

QWidget* MainWindow::buildErrorBanner(QWidget* central)
{
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
    return errorBanner_;
}

QTabWidget* MainWindow::buildViews(QWidget* central)
{
    views_ = new QTabWidget(central);
    views_->setObjectName("views");
    views_->setDocumentMode(true);
    bucketsView_ = new BucketsView(session_, views_);
    latencyView_ = new LatencyView(session_, views_);
    packageView_ = new PackageView(views_);
    views_->addTab(bucketsView_, tr("Buckets"));
    views_->addTab(latencyView_, tr("Latency"));
    graphView_ = new GraphView(session_, views_);
    validationView_ = new ValidationView(session_, views_);
    views_->addTab(packageView_, tr("Package"));
    views_->addTab(graphView_, tr("Graph"));
    views_->addTab(validationView_, tr("Validation"));
    // LLM serving buckets: not part of the project, so its edits have their own undo stack
    // (and never mark the project modified); Edit > Undo follows the view in front.
    llmSession_ = new LlmSession(nullptr, this);
    llmView_ = new LlmView(llmSession_, views_);
    views_->addTab(llmView_, tr("LLM"));
    return views_;
}

QDockWidget* MainWindow::buildProjectDock()
{
    projectPanel_ = new ProjectPanel(session_, this);
    auto* dock = new QDockWidget(tr("Project"), this);
    dock->setObjectName("projectDock");
    dock->setWidget(projectPanel_);
    addDockWidget(Qt::LeftDockWidgetArea, dock);
    return dock;
}

void MainWindow::buildStatusBar()
{
    summary_ = new ElidedLabel(this);
    summary_->setObjectName("statusSummary");
    statusBar()->addPermanentWidget(summary_);
    busy_ = new QProgressBar(this);
    busy_->setRange(0, 0);
    busy_->setMaximumWidth(140);
    busy_->hide();
    statusBar()->addPermanentWidget(busy_);
    statusBar()->showMessage(tr("Ready"));
}

QDockWidget* MainWindow::buildComparisonDock()
{
    comparisonPanel_ = new RunComparisonPanel(session_, this);
    auto* comparisonDock = new QDockWidget(tr("Run Comparison"), this);
    comparisonDock->setObjectName("comparisonDock");
    comparisonDock->setWidget(comparisonPanel_);
    addDockWidget(Qt::BottomDockWidgetArea, comparisonDock);
    comparisonDock->hide();
    connect(session_, &Session::secondRunChanged, this, [this, comparisonDock] {
        comparisonDock->setVisible(session_->secondRun() != nullptr);
        if (const auto& run = session_->secondRun())
            statusBar()->showMessage(tr("Comparing with %1").arg(run->displayName), 5000);
    });
    connect(comparisonPanel_, &RunComparisonPanel::failed, this, &MainWindow::showError);
    return comparisonDock;
}

void MainWindow::addViewActions(QDockWidget* dock)
{
    // Ctrl+1..6 go to the views in tab order; the Project panel toggles with Alt+0.
    QMenu* viewMenu = menuBar()->findChild<QMenu*>("viewMenu");
    for (int i = 0; i < views_->count() && i < 9; ++i) {
        QAction* go = viewMenu->addAction(views_->tabText(i), this,
                                          [this, i] { views_->setCurrentIndex(i); });
        go->setObjectName(QString("actionView%1").arg(i + 1));
        go->setShortcut(QKeySequence(Qt::CTRL | Qt::Key(Qt::Key_1 + i)));
    }
    viewMenu->addSeparator();
    dock->toggleViewAction()->setShortcut(QKeySequence(Qt::ALT | Qt::Key_0));
    viewMenu->addAction(dock->toggleViewAction());
}

void MainWindow::connectSession()
{
    connect(session_, &Session::modelChanged, this, [this] {
        if (const auto& m = session_->model())
            packageView_->setModelInfo(*m);
        else
            packageView_->clear();
        updateTitle();
    });
    // The title's [*] shows unsaved edits (a boundary edit, Optimize, a new profile).
    connect(session_, &Session::modifiedChanged, this, &QWidget::setWindowModified);
    connect(session_, &Session::evaluationChanged, this, &MainWindow::updateStatus);
    connect(session_, &Session::boundarySetsChanged, this, &MainWindow::updateStatus);
}

void MainWindow::connectLoader()
{
    connect(loader_, &SessionLoader::started, this, [this](const QString& what) {
        busy_->show();
        statusBar()->showMessage(what + QStringLiteral("…"));
    });
    connect(loader_, &SessionLoader::finished, this, [this](bool ok, const QString& message) {
        lastLoadOk_ = ok;
        if (ok) {
            // Errors stay until the user's next action (warnings of this load included).
            statusBar()->showMessage(tr("Opened %1").arg(message), 5000);
        } else {
            statusBar()->showMessage(tr("Could not open the file"), 5000);
            showError(message);
        }
    });
    connect(loader_, &SessionLoader::warning, this, &MainWindow::showError);
    // Asked once the loader is idle, not from inside its finished handler.
    connect(loader_, &SessionLoader::projectReachesOutside, this, &MainWindow::askAboutOutsideFiles,
            Qt::QueuedConnection);
    connect(loader_, &SessionLoader::idle, this, [this] {
        busy_->hide();
        Q_EMIT loadFinished(lastLoadOk_);
    });
}

void MainWindow::createActions()
{
    ToolBarActions actions;
    QMenu* file = menuBar()->addMenu(tr("&File"));
    addOpenActions(file, actions);
    file->addSeparator();
    addSaveActions(file, actions);
    addExportActions(file);
    file->addSeparator();
    addQuitAction(file);

    QMenu* edit = menuBar()->addMenu(tr("&Edit"));
    addEditActions(edit, actions);

    QMenu* view = menuBar()->addMenu(tr("&View"));
    view->setObjectName("viewMenu");

    QMenu* tools = menuBar()->addMenu(tr("&Tools"));
    actions.optimize = tools->addAction(tr("&Optimize Buckets"), this, [this] {
        views_->setCurrentWidget(bucketsView_);
        bucketsView_->optimize();
    });
    actions.optimize->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_R));
    actions.optimize->setObjectName("actionOptimize");

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    addHelpActions(help);

    createToolBar(actions);
}

void MainWindow::addOpenActions(QMenu* file, ToolBarActions& actions)
{
    actions.open = file->addAction(tr("&Open…"), this, [this] {
        const QString path = QFileDialog::getOpenFileName(
            this, tr("Open a model, package, traffic or profile"), QString(),
            tr("All supported (*.pt *.pth *.ptl *.zip *.py *.csv *.tsv *.jsonl *.ndjson *.txt "
               "*.json);;"
               "TorchScript models and packages (*.pt *.pth *.ptl *.zip);;"
               "Bucket kernels and state preprocessors (*.py);;"
               "Traffic (*.csv *.tsv *.jsonl *.ndjson *.txt);;"
               "Latency profiles (*.json *.csv);;All files (*)"));
        if (!path.isEmpty())
            openFile(path);
    });
    actions.open->setShortcut(QKeySequence::Open);
    actions.open->setObjectName("actionOpen");
    actions.open->setToolTip(
        tr("Open a model or package, a kernel (.py), a traffic file, or a latency profile"));
    QAction* traffic = file->addAction(tr("Open &Traffic…"), this, &MainWindow::openTrafficDialog);
    traffic->setToolTip(tr("Read traffic with options: a CSV column, a JSONL field, or texts "
                           "tokenized with a WordPiece vocabulary"));
    QAction* llmTrace = file->addAction(tr("Open &LLM Trace…"), this, [this] {
        views_->setCurrentWidget(llmView_);
        llmView_->showOpenDialog();
    });
    llmTrace->setObjectName("actionOpenLlmTrace");
    llmTrace->setToolTip(tr("Open LLM request traffic (prompt and output tokens) in the LLM "
                            "view"));
    QAction* openProj = file->addAction(tr("Open &Project…"), this, [this] {
        const QString path = QFileDialog::getOpenFileName(
            this, tr("Open project"), QString(), tr("BucketLab projects (*.bucketlab.json)"));
        if (!path.isEmpty())
            openProject(path);
    });
    openProj->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O));
    recentMenu_ = file->addMenu(tr("Open &Recent"));
    recentMenu_->setObjectName("recentMenu");
    connect(recent_, &RecentFiles::changed, this, &MainWindow::rebuildRecentMenu);
    rebuildRecentMenu();
    actions.demo = file->addAction(tr("Open &Demo"), this, &MainWindow::openDemo);
    actions.demo->setObjectName("actionOpenDemo");
    actions.demo->setToolTip(tr("Build the embedded BERT-shaped demo with its MRPC traffic"));
}

void MainWindow::addSaveActions(QMenu* file, ToolBarActions& actions)
{
    actions.save =
        file->addAction(tr("&Save Project"), this, [this] { saveInteractive(/*askPath=*/false); });
    actions.save->setShortcut(QKeySequence::Save);
    actions.save->setObjectName("actionSave");
    QAction* saveAs = file->addAction(tr("Save Project &As…"), this,
                                      [this] { saveInteractive(/*askPath=*/true); });
    saveAs->setShortcut(QKeySequence::SaveAs);
}

void MainWindow::addExportActions(QMenu* file)
{
    QAction* exportAction =
        file->addAction(tr("&Export Tuned Package…"), this, &MainWindow::exportTunedPackage);
    exportAction->setObjectName("actionExport");
    exportAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
    exportAction->setToolTip(tr("Write a new package with the active boundaries, verified "
                                "against the open one, and the Neuron build recipe"));
    // The current view's plot as PNG, PDF or SVG (the same as its context menu's export).
    QAction* exportPlotAction = file->addAction(tr("Export &Plot…"), this, [this] {
        if (QCustomPlot* plot = currentPlot())
            showPlotExportDialog(plot);
    });
    exportPlotAction->setObjectName("actionExportPlot");
    exportPlotAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_E));
    exportPlotAction->setToolTip(tr("Save the current view's plot as PNG, PDF or SVG"));
    auto followView = [this, exportPlotAction] {
        exportPlotAction->setEnabled(currentPlot() != nullptr);
    };
    connect(views_, &QTabWidget::currentChanged, exportPlotAction, followView);
    followView();
    QAction* compareAction =
        file->addAction(tr("&Compare With…"), this, &MainWindow::openCompareDialog);
    compareAction->setObjectName("actionCompareWith");
    compareAction->setToolTip(tr("Open a second project, profile or traffic file: its traffic "
                                 "and curve are drawn over this session's and every boundary "
                                 "set is priced on both"));
    QAction* reportAction = file->addAction(tr("&Report…"), this, &MainWindow::openReportDialog);
    reportAction->setObjectName("actionReport");
    reportAction->setToolTip(tr("Write the HTML report for this session's traffic, latency and "
                                "boundary sets (no package is exported)"));
    connect(reportJob_, &BackgroundJob::started, reportAction,
            [reportAction] { reportAction->setEnabled(false); });
    connect(reportJob_, &BackgroundJob::stopped, reportAction,
            [reportAction] { reportAction->setEnabled(true); });
}

void MainWindow::exportTunedPackage()
{
    const auto& m = session_->model();
    if (!m || !m->package) {
        showError(tr("Export needs a BucketLab package: open one (or build one with "
                     "bucketlab-cli build) first"));
        return;
    }
    // Window-modal, not exec(): no nested event loop while the export runs.
    auto* dialog =
        new ExportDialog(QString::fromStdString(m->path), session_->activeBoundaries(), this);
    dialog->setServedRange(servedRangeChange(session_->histogram(), m->package->boundaries,
                                             session_->activeBoundaries()));
    // The report validates the package's boundaries against the new ones.
    QString whyNot;
    auto report = reportRequest(&whyNot);
    if (report) {
        report->current = m->package->boundaries;
        report->tuned = Boundaries();
    }
    dialog->setReportInputs(report, report ? QString() : whyNot);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->open();
}

void MainWindow::addQuitAction(QMenu* file)
{
    QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    // Some platforms (Windows, the offscreen and minimal ones) bind nothing to Quit.
    const auto quitKeys = QKeySequence::keyBindings(QKeySequence::Quit);
    quit->setShortcuts(quitKeys.isEmpty() ? QList<QKeySequence>{QKeySequence(Qt::CTRL | Qt::Key_Q)}
                                          : quitKeys);
    quit->setObjectName("actionQuit");
}

void MainWindow::addEditActions(QMenu* edit, ToolBarActions& actions)
{
    undoGroup_ = new QUndoGroup(this);
    undoGroup_->addStack(session_->undoStack());
    undoGroup_->addStack(llmSession_->undoStack());
    const auto followUndo = [this] {
        undoGroup_->setActiveStack(views_->currentWidget() == llmView_ ? llmSession_->undoStack()
                                                                       : session_->undoStack());
    };
    connect(views_, &QTabWidget::currentChanged, this, followUndo);
    followUndo();
    actions.undo = undoGroup_->createUndoAction(this, tr("&Undo"));
    actions.undo->setShortcut(QKeySequence::Undo);
    actions.undo->setObjectName("actionUndo");
    actions.redo = undoGroup_->createRedoAction(this, tr("&Redo"));
    actions.redo->setShortcut(QKeySequence::Redo);
    actions.redo->setObjectName("actionRedo");
    edit->addAction(actions.undo);
    edit->addAction(actions.redo);
    edit->addSeparator();
    // Boundaries from anywhere (a config, a spreadsheet, a chat) into the active set.
    QAction* paste = edit->addAction(tr("&Paste Boundaries"), this, [this] {
        views_->setCurrentWidget(bucketsView_);
        const QString error = bucketsView_->setBoundariesFromText(
            QGuiApplication::clipboard()->text(), tr("Paste boundaries"));
        if (!error.isEmpty())
            showError(tr("Paste Boundaries: %1").arg(error));
    });
    paste->setObjectName("actionPasteBoundaries");
    paste->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_V));
    paste->setToolTip(tr("Replace the active set's boundaries with the ones on the clipboard "
                         "(\"64,128,256,512\"); one undo step"));

    // A named snapshot of the active set: a copy that later edits leave alone, to go back to
    // or compare with. One undo step.
    QAction* snapshot = edit->addAction(tr("Save Set &As…"), this, [this] {
        if (!session_->activeSet()) {
            showError(tr("Save Set As: there is no boundary set to save yet"));
            return;
        }
        auto* ask = new QInputDialog(this);
        ask->setObjectName("saveSetDialog");
        ask->setWindowTitle(tr("Save Set As"));
        ask->setLabelText(
            tr("Name for a copy of \"%1\":").arg(session_->setLabel(session_->activeIndex())));
        ask->setTextValue(tr("snapshot %1").arg(session_->boundarySets().size()));
        ask->setAttribute(Qt::WA_DeleteOnClose);
        ask->setWindowModality(Qt::WindowModal);
        connect(ask, &QInputDialog::textValueSelected, this, &MainWindow::saveSetAs);
        ask->open();
    });
    snapshot->setObjectName("actionSaveSetAs");
    snapshot->setShortcut(QKeySequence(Qt::CTRL | Qt::ALT | Qt::Key_S));
    snapshot->setToolTip(tr("Keep a named copy of the active boundary set"));
}

void MainWindow::addHelpActions(QMenu* help)
{
    QAction* keys = help->addAction(tr("&Keyboard Shortcuts"), this, &MainWindow::showShortcuts);
    keys->setObjectName("actionShortcuts");
    keys->setShortcut(QKeySequence::HelpContents);
    help->addAction(tr("&About BucketLab"), this, [this] {
        QMessageBox::about(
            this, tr("About BucketLab"),
            tr("<b>%1</b><p>Measure, tune, check and package bucketed models for static-shape "
               "runtimes (AWS Neuron, XLA, TensorRT, CUDA graphs).</p>")
                .arg(QString::fromStdString(creatorString())));
    });
}

void MainWindow::createToolBar(const ToolBarActions& actions)
{
    QToolBar* bar = addToolBar(tr("Main"));
    bar->setObjectName("mainToolBar");
    bar->setMovable(false);
    bar->addAction(actions.open);
    bar->addAction(actions.demo);
    bar->addAction(actions.save);
    bar->addSeparator();
    bar->addAction(actions.undo);
    bar->addAction(actions.redo);
    bar->addSeparator();
    bar->addAction(actions.optimize);
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

bool MainWindow::isBusy() const
{
    return loader_->isBusy();
}

void MainWindow::openFile(const QString& path)
{
    hideError();
    if (path.endsWith(".bucketlab.json")) {
        openProject(path);
        return;
    }
    recent_->add(path);
    // A kernel is opened to be looked at.
    if (QFileInfo(path).suffix().compare("py", Qt::CaseInsensitive) == 0)
        views_->setCurrentWidget(graphView_);
    loader_->openFile(path);
}

void MainWindow::openProject(const QString& path)
{
    if (!maybeSave())
        return;
    hideError();
    previousProjectPath_ = projectPath_;
    projectPath_ = path;
    recent_->add(path);
    updateTitle();
    loader_->openProject(path);
}

void MainWindow::askAboutOutsideFiles(const QString& path, const QStringList& files)
{
    constexpr int kListed = 12;
    QStringList listed = files.mid(0, kListed);
    if (files.size() > kListed)
        listed << tr("… and %1 more").arg(files.size() - kListed);
    const QString name = QFileInfo(path).fileName();
    const QString text =
        files.size() == 1
            ? tr("%1 refers to a file outside its folder:").arg(name)
            : tr("%1 refers to %2 files outside its folder:").arg(name).arg(files.size());
    QMessageBox box(QMessageBox::Warning, tr("Files outside the project"), text,
                    QMessageBox::Open | QMessageBox::Cancel, this);
    box.setObjectName("outsideFilesBox");
    box.setInformativeText(listed.join('\n') + "\n\n" +
                           tr("Nothing has been read from them. Open the project and read "
                              "them?"));
    box.setDefaultButton(QMessageBox::Cancel);
    box.setWindowModality(Qt::WindowModal);
    if (box.exec() == QMessageBox::Open) {
        loader_->openProject(path, /*outsideAllowed=*/true);
        return;
    }
    if (projectPath_ == path) {
        projectPath_ = previousProjectPath_;
        updateTitle();
    }
    statusBar()->showMessage(tr("Did not open %1").arg(QFileInfo(path).fileName()), 5000);
}

void MainWindow::openDemo()
{
    if (!maybeSave())
        return;
    hideError();
    projectPath_.clear(); // the demo is a new session: Save asks where
    QString dir = QStandardPaths::writableLocation(QStandardPaths::CacheLocation);
    if (dir.isEmpty())
        dir = QDir::tempPath() + "/bucketlab";
    views_->setCurrentWidget(bucketsView_);
    loader_->openDemo(dir + "/demo");
    llmView_->openDemoTrace(); // the LLM view's demo: the built-in Azure trace
}

void MainWindow::openTrafficDialog()
{
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Open traffic"), QString(),
        tr("Traffic (*.csv *.tsv *.jsonl *.ndjson *.txt);;All files (*)"));
    if (path.isEmpty())
        return;
    DistributionSource source{QFileInfo(path).fileName().toStdString(), path.toStdString(), {}};
    const QString suffix = QFileInfo(path).suffix().toLower();
    bool ok = true;
    if (suffix == "txt" || suffix == "tsv") {
        const QString vocab = QFileDialog::getOpenFileName(
            this, tr("WordPiece vocabulary for the texts (cancel for a length column)"),
            SessionLoader::textVocabulary(), tr("Vocabulary (*.txt)"));
        if (!vocab.isEmpty()) {
            SessionLoader::setTextVocabulary(vocab);
            source.options["vocab"] = vocab.toStdString();
            if (suffix == "tsv") {
                const QString cols = QInputDialog::getText(
                    this, tr("Text columns"),
                    tr("TSV columns with the text or the sentence pair (names or 1-based "
                       "numbers, comma-separated):"),
                    QLineEdit::Normal, "", &ok);
                if (!ok)
                    return;
                if (!cols.isEmpty())
                    source.options["text_columns"] = cols.toStdString();
            }
        }
    } else if (suffix == "csv" || suffix == "jsonl" || suffix == "ndjson") {
        const QString column = QInputDialog::getText(
            this, tr("Length column"),
            tr("Column or field holding the lengths (empty: detect length, len, tokens, ...):"),
            QLineEdit::Normal, "", &ok);
        if (!ok)
            return;
        if (!column.isEmpty())
            source.options[suffix == "csv" ? "column" : "field"] = column.toStdString();
    }
    loader_->openTraffic(source);
}

std::optional<BoundaryReportRequest> MainWindow::reportRequest(QString* whyNot) const
{
    const auto& traffic = session_->trafficSource();
    const auto& latency = session_->latencySource();
    const auto fail = [whyNot](const QString& why) {
        if (whyNot)
            *whyNot = why;
        return std::nullopt;
    };
    if (!traffic || !latency)
        return fail(tr("The report needs traffic and a latency curve in the session"));
    const bool rereadable = traffic->options.empty() ||
                            (traffic->options.size() == 1 && traffic->options.count("column"));
    if (!rereadable)
        return fail(tr("The report reads traffic from a file or spec with at most a column; "
                       "this traffic was tokenized from text"));
    BoundaryReportRequest report;
    report.distribution = traffic->source;
    if (auto it = traffic->options.find("column"); it != traffic->options.end())
        report.column = it->second;
    report.latency = latency->source;
    const auto& m = session_->model();
    if (m && m->package) {
        report.current = m->package->boundaries;
        report.maxLength = m->package->maxLength();
    }
    // Current: the package's, else the session's "current" set, else the active one. The
    // active set is what the report calls tuned; when it is the current one, the report
    // tunes as many buckets itself.
    if (report.current.empty())
        for (const auto& set : session_->boundarySets())
            if (set.kind == "current" && !set.boundaries.empty()) {
                report.current = set.boundaries;
                break;
            }
    const Boundaries active = session_->activeBoundaries();
    if (report.current.empty())
        report.current = active;
    if (report.current.empty())
        return fail(tr("The report needs a boundary set: open a package or type boundaries"));
    if (!active.empty() && !(active == report.current))
        report.tuned = active;
    // With a second run open (File > Compare With…), the report compares the runs too.
    if (const auto& run = session_->secondRun()) {
        ReportRunRequest b;
        if (run->traffic)
            b.distribution = run->trafficSource;
        if (run->curve)
            b.latency = run->latencySource;
        if (run->kind == "project")
            b.project = run->path.toStdString();
        b.boundarySets = run->sets;
        report.compareWith = b;
    }
    return report;
}

void MainWindow::openReportDialog()
{
    QString whyNot;
    if (!reportRequest(&whyNot)) {
        showError(tr("Report: %1").arg(whyNot));
        return;
    }
    // Window-modal and asynchronous (open(), not exec()): no nested event loop.
    auto* dialog = new QFileDialog(this, tr("Write the HTML report"));
    dialog->setObjectName("reportFileDialog");
    dialog->setAcceptMode(QFileDialog::AcceptSave);
    dialog->setNameFilters({tr("HTML report (*.html)")});
    dialog->setDefaultSuffix("html");
    dialog->selectFile(projectPath_.isEmpty()
                           ? QStringLiteral("report.html")
                           : QString(projectPath_).replace(".bucketlab.json", ".report.html"));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &QFileDialog::fileSelected, this, &MainWindow::writeReport);
    dialog->open();
}

QString MainWindow::saveSetAs(const QString& name)
{
    const QString trimmed = name.trimmed();
    const BoundarySet* active = session_->activeSet();
    QString error;
    if (!active)
        error = tr("there is no boundary set to save yet");
    else if (trimmed.isEmpty())
        error = tr("give the copy a name");
    else
        for (const auto& set : session_->boundarySets())
            if (QString::fromStdString(set.name) == trimmed)
                error = tr("a set named \"%1\" exists already: choose another name").arg(trimmed);
    if (!error.isEmpty()) {
        showError(tr("Save Set As: %1").arg(error));
        return error;
    }
    const BoundarySet copy{trimmed.toStdString(), "user", active->boundaries};
    // The active set stays active: the snapshot is what later edits leave alone.
    session_->changeBoundarySets(tr("Save set as \"%1\"").arg(trimmed),
                                 [this, copy] { session_->putBoundarySet(copy); });
    statusBar()->showMessage(tr("Saved the set as \"%1\"").arg(trimmed), 5000);
    return {};
}

void MainWindow::openCompareDialog()
{
    if (!session_->evaluator()) {
        showError(tr("Compare With: the session needs traffic and a latency curve first (run "
                     "A); open the demo or a project"));
        return;
    }
    auto* dialog = new QFileDialog(this, tr("Compare with a project, profile or traffic"));
    dialog->setObjectName("compareFileDialog");
    dialog->setFileMode(QFileDialog::ExistingFile);
    dialog->setNameFilters({tr("Projects, profiles and traffic (*.bucketlab.json *.json *.csv "
                               "*.tsv *.jsonl *.ndjson)"),
                            tr("All files (*)")});
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &QFileDialog::fileSelected, this, [this](const QString& path) {
        hideError();
        comparisonPanel_->openSecondRun(path);
    });
    dialog->open();
}

void MainWindow::writeReport(const QString& path)
{
    hideError();
    QString whyNot;
    auto request = reportRequest(&whyNot);
    if (!request) {
        showError(tr("Report: %1").arg(whyNot));
        Q_EMIT reportFinished(false, whyNot);
        return;
    }
    // The file dialog has asked before replacing a file; an input is never replaced.
    try {
        checkOutputPath(path.toStdString(),
                        OutputCheck{true, {request->distribution, request->latency}});
    } catch (const std::exception& e) {
        showError(tr("Report: %1").arg(messageFor(e)));
        Q_EMIT reportFinished(false, messageFor(e));
        return;
    }
    disconnect(reportJob_, nullptr, this, nullptr);
    connect(reportJob_, &BackgroundJob::progress, this,
            [this](double, const QString& message, double) {
                statusBar()->showMessage(tr("Report: %1").arg(message));
            });
    connect(reportJob_, &BackgroundJob::finished, this, [this](const QVariant& result) {
        busy_->hide();
        const QString written = result.toString();
        statusBar()->showMessage(tr("Wrote the report %1").arg(written), 8000);
        Q_EMIT reportFinished(true, written);
    });
    connect(reportJob_, &BackgroundJob::failed, this, [this](const QString& message) {
        busy_->hide();
        statusBar()->showMessage(tr("No report written"), 5000);
        showError(tr("Report: %1").arg(message));
        Q_EMIT reportFinished(false, message);
    });
    connect(reportJob_, &BackgroundJob::cancelled, this, [this] {
        busy_->hide();
        Q_EMIT reportFinished(false, tr("cancelled"));
    });
    busy_->show();
    request->commandLine = "bucketlab (File ▸ Report…)";
    reportJob_->start(tr("Writing the report"),
                      [request = *request, path](JobContext& context) -> QVariant {
                          const Job job = context.job();
                          const BoundaryReportRun run =
                              makeBoundaryReport(request, torchReportRuntime(), job.sub(0, 0.95));
                          // QSaveFile semantics: the whole report or the old file untouched.
                          writeFileAtomically(path.toStdString(), renderHtmlReport(run.report),
                                              /*replace=*/true);
                          return path;
                      });
}

QString MainWindow::saveProject(const QString& path)
{
    try {
        writeProject(session_->toProject(), path.toStdString());
    } catch (const std::exception& e) {
        return messageFor(e);
    }
    projectPath_ = path;
    recent_->add(path);
    session_->setSaved();
    updateTitle();
    statusBar()->showMessage(tr("Saved %1").arg(path), 5000);
    return {};
}

bool MainWindow::saveInteractive(bool askPath)
{
    QString path = askPath ? QString() : projectPath_;
    if (path.isEmpty())
        path = QFileDialog::getSaveFileName(
            this, tr("Save project"),
            projectPath_.isEmpty() ? QStringLiteral("session.bucketlab.json") : projectPath_,
            tr("BucketLab projects (*.bucketlab.json)"));
    if (path.isEmpty())
        return false;
    const QString error = saveProject(path);
    if (!error.isEmpty()) {
        showError(error);
        return false;
    }
    return true;
}

bool MainWindow::maybeSave()
{
    if (!session_->isModified())
        return true;
    QMessageBox box(QMessageBox::Warning, tr("Unsaved changes"),
                    projectPath_.isEmpty()
                        ? tr("This session has unsaved edits.")
                        : tr("%1 has unsaved edits.").arg(QFileInfo(projectPath_).fileName()),
                    QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel, this);
    box.setObjectName("saveChangesBox");
    box.setInformativeText(tr("Save them to the project before going on?"));
    box.setDefaultButton(QMessageBox::Save);
    box.setWindowModality(Qt::WindowModal);
    switch (box.exec()) {
    case QMessageBox::Save: return saveInteractive(/*askPath=*/false);
    case QMessageBox::Discard: return true;
    default: return false;
    }
}

void MainWindow::updateTitle()
{
    QString name;
    if (!projectPath_.isEmpty())
        name = QFileInfo(projectPath_).fileName();
    else if (const auto& m = session_->model())
        name = QFileInfo(QString::fromStdString(m->path)).fileName();
    setWindowTitle(name.isEmpty() ? tr("BucketLab[*]") : tr("%1[*] — BucketLab").arg(name));
}

void MainWindow::updateStatus()
{
    const BoundarySet* set = session_->activeSet();
    const auto& e = session_->evaluation();
    if (!set) {
        summary_->setText(tr("No boundary set"));
        return;
    }
    // The set's title as every list shows it: a stale optimum says so here too.
    const QString title = session_->setTitle(session_->activeIndex());
    if (!e) {
        summary_->setText(tr("%1: waiting for traffic and latency").arg(title));
        return;
    }
    const QLocale locale;
    summary_->setText(tr("%1: mean %2 ms · p99 %3 ms · waste %4 %")
                          .arg(title)
                          .arg(locale.toString(e->stats.meanLatencyMs, 'f', 2))
                          .arg(locale.toString(e->stats.p99LatencyMs, 'f', 2))
                          .arg(locale.toString(e->stats.wastePct, 'f', 1)));
}

QString MainWindow::errorText() const
{
    return errorBanner_->isHidden() ? QString() : errorLabel_->text();
}

QCustomPlot* MainWindow::currentPlot() const
{
    QWidget* view = views_->currentWidget();
    if (view == bucketsView_)
        return bucketsView_->plot(); // its main plot, not the Pareto front beside it
    return view ? view->findChild<QCustomPlot*>() : nullptr;
}

void MainWindow::showError(const QString& message)
{
    const QString text = errorBanner_->isHidden() || errorLabel_->text().isEmpty()
                             ? message
                             : errorLabel_->text() + "\n" + message;
    errorLabel_->setText(text);
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
    if (openMimeData(event->mimeData()))
        event->acceptProposedAction();
}

bool MainWindow::openMimeData(const QMimeData* mime)
{
    bool any = false;
    for (const QUrl& url : mime->urls()) {
        if (!url.isLocalFile()) {
            showError(tr("%1: only local files can be opened").arg(url.toString()));
            continue;
        }
        openFile(url.toLocalFile());
        any = true;
    }
    return any;
}

void MainWindow::closeEvent(QCloseEvent* event)
{
    if (!maybeSave()) {
        event->ignore(); // Cancel: everything stays open
        return;
    }
    QSettings settings;
    settings.setValue("mainWindow/geometry", saveGeometry());
    settings.setValue("mainWindow/state", saveState());
    QMainWindow::closeEvent(event);
}

void MainWindow::showShortcuts()
{
    // Built from the actions themselves, so the list cannot drift from the keys.
    struct Row {
        QString where, what, keys;
    };
    QVector<Row> rows;
    const auto add = [&](const QString& where, QAction* a) {
        if (a->shortcuts().isEmpty() || a->text().isEmpty())
            return;
        QStringList keys;
        for (const auto& k : a->shortcuts())
            keys << k.toString(QKeySequence::NativeText);
        rows.push_back(
            {where, QString(a->text()).remove('&').remove(QChar(0x2026)), keys.join(", ")});
    };
    for (QAction* top : menuBar()->actions())
        if (QMenu* menu = top->menu())
            for (QAction* a : menu->actions())
                add(QString(top->text()).remove('&'), a);
    for (int i = 0; i < views_->count(); ++i)
        for (QAction* a : views_->widget(i)->actions())
            add(views_->tabText(i) + tr(" view"), a);

    auto* dialog = new QDialog(this);
    dialog->setObjectName("shortcutsDialog");
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowTitle(tr("Keyboard Shortcuts"));
    auto* table = new QTableWidget(int(rows.size()), 3, dialog);
    table->setObjectName("shortcutsTable");
    table->setHorizontalHeaderLabels({tr("Where"), tr("Action"), tr("Keys")});
    table->verticalHeader()->hide();
    table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    for (int r = 0; r < rows.size(); ++r) {
        table->setItem(r, 0, new QTableWidgetItem(rows[r].where));
        table->setItem(r, 1, new QTableWidgetItem(rows[r].what));
        table->setItem(r, 2, new QTableWidgetItem(rows[r].keys));
    }
    table->resizeColumnsToContents();
    table->horizontalHeader()->setStretchLastSection(true);
    auto* close = new QDialogButtonBox(QDialogButtonBox::Close, dialog);
    connect(close, &QDialogButtonBox::rejected, dialog, &QDialog::close);
    auto* layout = new QVBoxLayout(dialog);
    layout->addWidget(table);
    layout->addWidget(close);
    dialog->resize(560, 480);
    dialog->show(); // not modal: the list can stay open beside the window
}

} // namespace bucketlab::ui
