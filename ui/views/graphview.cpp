#include "ui/views/graphview.h"

#include "core/archive/archive.h"
#include "core/graph/graph_capture.h"
#include "core/kernel/kernel.h"
#include "core/util/error.h"
#include "ui/models/backgroundjob.h"
#include "ui/models/graphlayout.h"
#include "ui/models/linttablemodel.h"
#include "ui/models/session.h"
#include "ui/views/graphcanvas.h"
#include "ui/views/graphnodeitem.h"
#include "ui/views/graphscene.h"
#include "ui/views/jobprogress.h"
#include "ui/views/tablecopy.h"

#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QSplitter>
#include <QStandardItemModel>
#include <QTableView>
#include <QTextBrowser>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

#include <sstream>

Q_DECLARE_METATYPE(std::shared_ptr<const bucketlab::ui::LoadedGraph>)
Q_DECLARE_METATYPE(std::shared_ptr<const bucketlab::ui::GraphLayout>)

namespace bucketlab::ui {

namespace {

// The state preprocessor's function: an archive names it in its code; a .py file either
// is the preprocessor (get_state_preprocessor scripts it) or defines one by the guide's name.
std::string statePreprocessorFunction(const std::string& path)
{
    if (isArchiveFile(path)) {
        const ArchiveContents contents = readArchive(path);
        for (const auto& k : contents.kernels)
            if (k.role == KernelRole::StatePreprocessor)
                return k.function.name;
        throw Error(path + ": holds no state preprocessor");
    }
    const Kernel main = loadKernel(path);
    if (main.role() == KernelRole::StatePreprocessor)
        return main.name();
    return "state_preprocessor";
}

LoadedGraph loadSubject(const std::string& path, GraphView::Subject subject,
                        const JobContext& context)
{
    auto check = [&context] {
        if (context.cancelled())
            throw Cancelled();
    };
    LoadedGraph r;
    r.file = path;
    if (subject == GraphView::Subject::WholeModel) {
        r.graph = std::make_shared<GraphModel>(fileGraph(path, "forward"));
        check();
        return r;
    }
    KernelLoadOptions options;
    if (subject == GraphView::Subject::StatePreprocessor)
        options.function = statePreprocessorFunction(path);
    check();
    const Kernel kernel = loadKernel(path, options);
    if (subject == GraphView::Subject::StatePreprocessor &&
        kernel.role() != KernelRole::StatePreprocessor)
        throw Error(path + ": " + kernel.name() + " is not a state preprocessor");
    check();
    auto graph = std::make_shared<GraphModel>(kernelGraph(kernel));
    check();
    r.findings = lintGraph(*graph, kernel.source());
    r.graph = std::move(graph);
    r.source = kernel.source();
    if (!kernel.file().empty())
        r.file = kernel.file();
    r.linted = true;
    return r;
}

QString esc(const std::string& text)
{
    return QString::fromStdString(text).toHtmlEscaped();
}

bool containsText(const std::string& haystack, const QString& needle)
{
    return QString::fromStdString(haystack).contains(needle, Qt::CaseInsensitive);
}

// An Inputs or Outputs table after its heading (`opening`, which opens the table): each
// value's name and type, and the kind of node that makes it. Empty for no values.
QString valueTable(const GraphModel& g, const QString& opening, const std::vector<int>& values)
{
    if (values.empty())
        return {};
    auto valueRow = [&g](int v) {
        const GraphValue& value = g.values[size_t(v)];
        QString from;
        if (const GraphNode* p = g.producer(v))
            from = QString(" <span style='opacity:0.7'>← %1</span>").arg(esc(p->kind));
        return QString("<tr><td><code>%%1</code></td><td><code>%2</code>%3</td></tr>")
            .arg(esc(value.name), esc(value.type), from);
    };
    QString html = opening;
    for (int v : values)
        html += valueRow(v);
    return html + "</table>";
}

// A node's source line, with two lines of context when the kernel's source has it at that
// line; `kernelFile` names a line that gives no file of its own.
QString sourceHtml(const GraphNode& n, const std::string& kernelFile,
                   const std::string& kernelSource)
{
    QString html;
    if (n.source.line > 0) {
        const QString file =
            QFileInfo(QString::fromStdString(n.source.file.empty() ? kernelFile : n.source.file))
                .fileName();
        html += GraphView::tr("<p><b>Source</b> %1:%2:%3</p>")
                    .arg(file.toHtmlEscaped())
                    .arg(n.source.line)
                    .arg(n.source.column);
        // The line with two lines of context, when the kernel's source has it at that line.
        std::vector<std::string> lines;
        std::istringstream in(kernelSource);
        for (std::string line; std::getline(in, line);)
            lines.push_back(line);
        const int line = n.source.line;
        QString pre;
        if (line <= int(lines.size()) && lines[size_t(line - 1)] == n.source.lineText) {
            for (int l = std::max(1, line - 2); l <= std::min(int(lines.size()), line + 2); ++l) {
                const QString text = QString("%1 │ %2")
                                         .arg(l, 4)
                                         .arg(QString::fromStdString(lines[size_t(l - 1)]))
                                         .toHtmlEscaped();
                pre += l == line ? "<b>" + text + "</b>\n" : text + "\n";
            }
        } else {
            pre = QString("%1 │ %2")
                      .arg(line, 4)
                      .arg(QString::fromStdString(n.source.lineText))
                      .toHtmlEscaped();
        }
        html += "<pre>" + pre + "</pre>";
    } else {
        html += GraphView::tr("<p>No source line (generated by the compiler).</p>");
    }
    return html;
}

} // namespace

GraphView::GraphView(Session* session, QWidget* parent)
    : QWidget(parent), session_(session), loadJob_(new BackgroundJob(this)),
      layoutJob_(new BackgroundJob(this))
{
    setObjectName("graphView");
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addLayout(buildToolbar());
    buildMessageArea(layout);
    layout->addWidget(buildPanels(), 1);
    addShortcuts();
    connectControls();
    connectJobs();
    connect(session_, &Session::kernelFileChanged, this, &GraphView::followKernelFile);
    showMessage(tr("Open a package, a model or a kernel (.py) to see its graph."), false);
    updateStatus();
}

// The subject, search, collapse switches, zoom, export and the busy indicator.
QHBoxLayout* GraphView::buildToolbar()
{
    auto* bar = new QHBoxLayout;
    subject_ = new QComboBox(this);
    subject_->setObjectName("graphSubject");
    subject_->addItem(tr("Bucket kernel"));
    subject_->addItem(tr("State preprocessor"));
    subject_->addItem(tr("Whole model (inlined)"));
    subject_->setToolTip(tr("Which graph to show: the bucket kernel, the state preprocessor, "
                            "or the model's forward with every call inlined"));
    bar->addWidget(subject_);
    search_ = new QLineEdit(this);
    search_->setObjectName("graphSearch");
    search_->setPlaceholderText(tr("Find a node by kind or name (Ctrl+F, Enter for next)"));
    search_->setClearButtonEnabled(true);
    search_->setMinimumWidth(260);
    bar->addWidget(search_, 1);
    collapseBlocks_ = new QCheckBox(tr("Collapse blocks"), this);
    collapseBlocks_->setObjectName("collapseBlocks");
    collapseBlocks_->setToolTip(tr("Draw each prim::If and prim::Loop as one box (double-click "
                                   "a box to collapse or expand it alone)"));
    bar->addWidget(collapseBlocks_);
    collapseScopes_ = new QCheckBox(tr("Collapse scopes"), this);
    collapseScopes_->setObjectName("collapseScopes");
    collapseScopes_->setToolTip(tr("Draw each module scope (a layer of the model) as one box"));
    bar->addWidget(collapseScopes_);
    auto tool = [this, bar](const QString& text, const QString& name, const QString& tip) {
        auto* b = new QToolButton(this);
        b->setText(text);
        b->setObjectName(name);
        b->setToolTip(tip);
        b->setAutoRaise(true);
        bar->addWidget(b);
        return b;
    };
    zoomOut_ = tool(tr("−"), "graphZoomOut", tr("Zoom out (Ctrl+-, Ctrl+wheel)"));
    zoomIn_ = tool(tr("+"), "graphZoomIn", tr("Zoom in (Ctrl+=, Ctrl+wheel)"));
    fit_ = tool(tr("Fit"), "graphFit", tr("Fit the graph in the view (Ctrl+0)"));
    export_ = tool(tr("Export…"), "graphExport", tr("Export the whole graph as SVG or PNG"));
    jobs_ = new JobProgress("graph", JobProgress::Idle::Hidden, this);
    jobs_->setIndeterminate();
    jobs_->bar()->setMaximumWidth(120);
    bar->addWidget(jobs_);
    return bar;
}

// The status line and the message box under it (with its "Show collapsed view" offer).
void GraphView::buildMessageArea(QVBoxLayout* layout)
{
    status_ = new QLabel(this);
    status_->setObjectName("graphStatus");
    status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(status_);

    messageBox_ = new QWidget(this);
    messageBox_->setObjectName("graphMessage");
    auto* messageLayout = new QHBoxLayout(messageBox_);
    messageLayout->setContentsMargins(8, 4, 8, 4);
    messageText_ = new QLabel(messageBox_);
    messageText_->setObjectName("graphMessageText");
    messageText_->setWordWrap(true);
    messageText_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    messageCollapse_ = new QPushButton(tr("Show collapsed view"), messageBox_);
    messageCollapse_->setObjectName("graphShowCollapsed");
    messageLayout->addWidget(messageText_, 1);
    messageLayout->addWidget(messageCollapse_);
    messageBox_->setAutoFillBackground(true);
    messageBox_->hide();
    layout->addWidget(messageBox_);
}

// The canvas beside the details panel over the lint table.
QSplitter* GraphView::buildPanels()
{
    auto* split = new QSplitter(Qt::Horizontal, this);
    scene_ = new GraphScene(this);
    canvas_ = new GraphCanvas(split);
    canvas_->setObjectName("graphCanvas");
    canvas_->setScene(scene_);
    auto* side = new QSplitter(Qt::Vertical, split);
    details_ = new QTextBrowser(side);
    details_->setObjectName("graphDetails");
    details_->setOpenLinks(false);
    lintModel_ = new LintTableModel(this);
    lintTable_ = new QTableView(side);
    lintTable_->setObjectName("lintTable");
    lintTable_->setModel(lintModel_);
    installTableCopy(lintTable_);
    lintTable_->setSelectionBehavior(QAbstractItemView::SelectRows);
    lintTable_->setSelectionMode(QAbstractItemView::SingleSelection);
    lintTable_->verticalHeader()->hide();
    // The Finding column takes the width that is left and elides; its tooltip has the whole
    // text. Severity, Rule and Line are short and sized to their contents.
    lintTable_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    lintTable_->horizontalHeader()->setSectionResizeMode(LintTableModel::Message,
                                                         QHeaderView::Stretch);
    lintTable_->setTextElideMode(Qt::ElideRight);
    lintTable_->setWordWrap(false);
    lintTable_->setToolTip(tr("Lowering lints of the kernel; click one to show its node"));
    side->addWidget(details_);
    side->addWidget(lintTable_);
    side->setStretchFactor(0, 3);
    side->setStretchFactor(1, 2);
    split->addWidget(canvas_);
    split->addWidget(side);
    // The graph is what the view is for: it gets the width the window gains.
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 0);
    split->setSizes({880, 340});
    return split;
}

void GraphView::addShortcuts()
{
    // The view's keys work as soon as it is shown, wherever the focus is (the tab bar, the
    // Project tree): an action with a window context is live only while its view is visible,
    // so the other views' keys never collide with these.
    auto shortcut = [this](QList<QKeySequence> keys, auto fn) {
        // ZoomOut is Ctrl+- on most platforms: one key twice on an action is "ambiguous".
        QList<QKeySequence> unique;
        for (const auto& k : keys)
            if (!k.isEmpty() && !unique.contains(k))
                unique << k;
        auto* a = new QAction(this);
        a->setShortcuts(unique);
        a->setShortcutContext(Qt::WindowShortcut);
        connect(a, &QAction::triggered, this, fn);
        addAction(a);
        return a;
    };
    shortcut({QKeySequence::Find}, [this] {
        search_->setFocus(Qt::ShortcutFocusReason);
        search_->selectAll();
    })->setText(tr("Find node"));
    shortcut({QKeySequence::FindNext}, [this] {
        search(search_->text());
    })->setText(tr("Next match"));
    shortcut({QKeySequence::FindPrevious}, [this] {
        searchPrevious(search_->text());
    })->setText(tr("Previous match"));
    shortcut({QKeySequence::ZoomIn, QKeySequence(Qt::CTRL | Qt::Key_Equal)}, [this] {
        canvas_->zoomBy(1.25);
    })->setText(tr("Zoom in"));
    shortcut({QKeySequence::ZoomOut, QKeySequence(Qt::CTRL | Qt::Key_Minus)}, [this] {
        canvas_->zoomBy(0.8);
    })->setText(tr("Zoom out"));
    shortcut({QKeySequence(Qt::CTRL | Qt::Key_0)}, [this] {
        canvas_->fitGraph();
    })->setText(tr("Fit to width"));
    search_->installEventFilter(this); // Shift+Enter: the previous match
}

// The toolbar's controls, the canvas, the scene's selection and the lint table.
void GraphView::connectControls()
{
    connect(zoomIn_, &QToolButton::clicked, this, [this] { canvas_->zoomBy(1.25); });
    connect(zoomOut_, &QToolButton::clicked, this, [this] { canvas_->zoomBy(0.8); });
    connect(fit_, &QToolButton::clicked, canvas_, &GraphCanvas::fitGraph);
    connect(export_, &QToolButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Export graph"), "graph.svg",
                                                          tr("SVG (*.svg);;PNG (*.png)"));
        if (path.isEmpty())
            return;
        const QString error = exportImage(path);
        if (!error.isEmpty())
            QMessageBox::warning(this, tr("Export graph"), error);
    });
    connect(subject_, &QComboBox::activated, this, [this] { reload(); });
    connect(search_, &QLineEdit::returnPressed, this, [this] { search(search_->text()); });
    connect(search_, &QLineEdit::textChanged, this, [this](const QString& text) {
        searchCursor_ = -1;
        if (text.isEmpty()) {
            scene_->markMatches({});
            updateStatus();
        }
    });
    connect(collapseBlocks_, &QCheckBox::toggled, this, &GraphView::setCollapseBlocks);
    connect(collapseScopes_, &QCheckBox::toggled, this, &GraphView::setCollapseScopes);
    connect(messageCollapse_, &QPushButton::clicked, this, [this] {
        const QSignalBlocker a(collapseBlocks_), b(collapseScopes_);
        collapseBlocks_->setChecked(true);
        collapseScopes_->setChecked(true);
        if (loaded_)
            collapse_.collapsedNodes = blockOwners(*loaded_->graph);
        collapse_.collapseScopes = true;
        startLayout();
    });
    connect(canvas_, &GraphCanvas::nodeDoubleClicked, this, [this](QGraphicsItem* item) {
        if (auto* node = qgraphicsitem_cast<GraphNodeItem*>(item);
            node && node->role() == VisibleNode::Role::ControlFlow)
            toggleCollapsed(node->modelNode());
    });
    connect(scene_, &QGraphicsScene::selectionChanged, this, [this] {
        const auto items = scene_->selectedItems();
        showDetails(items.isEmpty() ? nullptr : qgraphicsitem_cast<GraphNodeItem*>(items.first()));
    });
    connect(lintTable_->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex& current) {
                if (current.isValid() && !lintModel_->finding(current.row()).nodes.empty())
                    selectModelNode(lintModel_->finding(current.row()).nodes.front());
            });
    connect(lintTable_, &QTableView::clicked, this, [this](const QModelIndex& index) {
        if (index.isValid() && !lintModel_->finding(index.row()).nodes.empty())
            selectModelNode(lintModel_->finding(index.row()).nodes.front());
    });
}

// The load and layout jobs, and the layout's time limit.
void GraphView::connectJobs()
{
    jobs_->track(loadJob_);
    jobs_->track(layoutJob_);
    connect(loadJob_, &BackgroundJob::finished, this, [this](const QVariant& result) {
        auto loaded = result.value<std::shared_ptr<const LoadedGraph>>();
        showGraph(*loaded);
    });
    connect(loadJob_, &BackgroundJob::failed, this, [this](const QString& message) {
        scene_->clearGraph();
        lintModel_->setFindings({});
        details_->clear();
        showMessage(message, false);
        Q_EMIT layoutFinished(false);
    });
    connect(loadJob_, &BackgroundJob::cancelled, this, [this] {
        showMessage(tr("Loading the graph was cancelled."), false);
        Q_EMIT layoutFinished(false);
    });
    layoutTimer_ = new QTimer(this);
    layoutTimer_->setSingleShot(true);
    connect(layoutTimer_, &QTimer::timeout, this, [this] {
        if (!layoutJob_->isRunning())
            return;
        layoutJob_->cancel();
        const bool collapsed = collapse_.collapseScopes && loaded_ &&
                               collapse_.collapsedNodes == blockOwners(*loaded_->graph);
        showMessage(tr("Laying out %1 boxes takes longer than %2 s.%3")
                        .arg(visible_ ? int(visible_->nodes.size()) : 0)
                        .arg(layoutTimeLimitMs_ / 1000.0)
                        .arg(collapsed ? QString() : tr(" The collapsed view is smaller.")),
                    !collapsed);
    });
    connect(layoutJob_, &BackgroundJob::finished, this, [this](const QVariant& result) {
        layoutTimer_->stop();
        showLayout(result.value<std::shared_ptr<const GraphLayout>>());
    });
    connect(layoutJob_, &BackgroundJob::failed, this, [this](const QString& message) {
        layoutTimer_->stop();
        showMessage(message, false);
        Q_EMIT layoutFinished(false);
    });
    connect(layoutJob_, &BackgroundJob::cancelled, this, [this] {
        layoutTimer_->stop();
        if (messageBox_->isHidden())
            showMessage(tr("Layout cancelled."), false);
        Q_EMIT layoutFinished(false);
    });
}

// A new kernel file: offer the subjects it has and show the first.
void GraphView::followKernelFile()
{
    const QString path = session_->kernelFile();
    const auto& model = session_->model();
    // A plain model has no kernel: its own graph is what there is to see.
    const bool plainModel = model && !model->package && QString::fromStdString(model->path) == path;
    const bool archive = !path.isEmpty() && isArchiveFile(path.toStdString());
    auto* items = qobject_cast<QStandardItemModel*>(subject_->model());
    items->item(int(Subject::WholeModel))->setEnabled(archive);
    items->item(int(Subject::BucketKernel))->setEnabled(!plainModel);
    items->item(int(Subject::StatePreprocessor))->setEnabled(!plainModel);
    subject_->setCurrentIndex(int(plainModel ? Subject::WholeModel : Subject::BucketKernel));
    reload();
}

GraphView::~GraphView()
{
    // The scene, a child, is destroyed after the details panel it would report to.
    disconnect(scene_, nullptr, this, nullptr);
}

void GraphView::setSubject(Subject subject)
{
    subject_->setCurrentIndex(int(subject));
    reload();
}

GraphView::Subject GraphView::subject() const
{
    return Subject(subject_->currentIndex());
}

bool GraphView::isBusy() const
{
    return loadJob_->isRunning() || layoutJob_->isRunning();
}

void GraphView::reload()
{
    const QString path = session_->kernelFile();
    layoutJob_->cancel();
    layoutTimer_->stop();
    if (path.isEmpty()) {
        loadJob_->cancel();
        loaded_.reset();
        scene_->clearGraph();
        lintModel_->setFindings({});
        details_->clear();
        showMessage(tr("Open a package, a model or a kernel (.py) to see its graph."), false);
        updateStatus();
        return;
    }
    hideMessage();
    const Subject subject = this->subject();
    const std::string p = path.toStdString();
    status_->setText(tr("Compiling %1…").arg(QFileInfo(path).fileName()));
    loadJob_->start(tr("Loading the graph of %1").arg(path), [p, subject](JobContext& context) {
        return QVariant::fromValue(std::shared_ptr<const LoadedGraph>(
            std::make_shared<LoadedGraph>(loadSubject(p, subject, context))));
    });
}

void GraphView::showGraph(LoadedGraph loaded)
{
    loaded_ = std::make_shared<const LoadedGraph>(std::move(loaded));
    collapse_.collapsedNodes.clear();
    if (collapseBlocks_->isChecked())
        collapse_.collapsedNodes = blockOwners(*loaded_->graph);
    collapse_.collapseScopes = collapseScopes_->isChecked();
    collapse_.constantPerUse = int(loaded_->graph->nodes.size()) >= kConstantPerUseFrom;
    lintModel_->setFindings(loaded_->findings);
    scene_->clearGraph();
    details_->clear();
    searchCursor_ = -1;
    startLayout();
}

void GraphView::startLayout()
{
    if (!loaded_)
        return;
    hideMessage();
    auto visible = std::make_shared<VisibleGraph>(buildVisibleGraph(*loaded_->graph, collapse_));
    QFont font = canvas_->font();
    for (auto& n : visible->nodes) {
        const QSizeF size = graphNodeSize(n, font);
        n.width = size.width();
        n.height = size.height();
    }
    visible_ = visible;
    layout_.reset();
    // The drawn boxes belong to the previous VisibleGraph; none may outlive it.
    scene_->clearGraph();
    if (int(visible->nodes.size()) > maxLayoutNodes_) {
        layoutJob_->cancel();
        scene_->clearGraph();
        const bool collapsed =
            collapse_.collapseScopes && collapse_.collapsedNodes == blockOwners(*loaded_->graph);
        showMessage(tr("The graph has %1 boxes, more than the %2 that can be laid out in "
                       "time.%3")
                        .arg(visible->nodes.size())
                        .arg(maxLayoutNodes_)
                        .arg(collapsed ? tr(" Search still finds its nodes by name.")
                                       : tr(" The collapsed view draws each block and module "
                                            "scope as one box.")),
                    !collapsed);
        updateStatus();
        Q_EMIT layoutFinished(false);
        return;
    }
    GraphLayoutOptions options;
    options.maxNodes = maxLayoutNodes_;
    layoutJob_->start(
        tr("Laying out the graph"), [visible = std::shared_ptr<const VisibleGraph>(visible),
                                     options](JobContext& context) mutable {
            return QVariant::fromValue(std::shared_ptr<const GraphLayout>(
                std::make_shared<GraphLayout>(layoutGraph(*visible, options, context.job()))));
        });
    layoutTimer_->start(layoutTimeLimitMs_);
}

void GraphView::showLayout(std::shared_ptr<const GraphLayout> layout)
{
    if (!visible_)
        return;
    layout_ = std::move(layout);
    layoutSeconds_ = layout_->seconds;
    scene_->build(*visible_, *layout_, canvas_->font());
    scene_->highlightFindings(loaded_->findings);
    QRectF inputs;
    for (const GraphNodeItem* item : scene_->nodeItems())
        if (item->role() == VisibleNode::Role::GraphInput)
            inputs |= item->sceneBoundingRect();
    canvas_->showNewGraph(inputs);
    showDetails(nullptr);
    if (!search_->text().isEmpty())
        search(search_->text());
    hideMessage();
    updateStatus();
    Q_EMIT layoutFinished(true);
}

void GraphView::setCollapseBlocks(bool collapse)
{
    if (collapseBlocks_->isChecked() != collapse) {
        collapseBlocks_->setChecked(collapse); // comes back here through toggled
        return;
    }
    if (!loaded_)
        return;
    collapse_.collapsedNodes = collapse ? blockOwners(*loaded_->graph) : std::set<int>{};
    startLayout();
}

void GraphView::setCollapseScopes(bool collapse)
{
    if (collapseScopes_->isChecked() != collapse) {
        collapseScopes_->setChecked(collapse);
        return;
    }
    collapse_.collapseScopes = collapse;
    startLayout();
}

void GraphView::toggleCollapsed(int modelNode)
{
    if (!loaded_)
        return;
    if (!collapse_.collapsedNodes.erase(modelNode))
        collapse_.collapsedNodes.insert(modelNode);
    startLayout();
}

void GraphView::selectModelNode(int modelNode)
{
    GraphNodeItem* item = scene_->itemForModelNode(modelNode);
    if (!item)
        return;
    scene_->clearSelection();
    item->setSelected(true);
    canvas_->focusItem(item);
    // The box may stand for a collapsed block: show the node itself.
    if (item->modelNode() != modelNode && loaded_)
        showDetails(item);
}

int GraphView::search(const QString& text)
{
    return searchStep(text, +1);
}

int GraphView::searchPrevious(const QString& text)
{
    return searchStep(text, -1);
}

int GraphView::searchStep(const QString& text, int step)
{
    if (!loaded_ || text.trimmed().isEmpty())
        return 0;
    const QString needle = text.trimmed();
    std::vector<int> hits;
    for (const auto& node : loaded_->graph->nodes) {
        bool hit = containsText(node.kind, needle);
        for (int v : node.outputs)
            hit = hit || containsText(loaded_->graph->values[size_t(v)].name, needle);
        if (hit)
            hits.push_back(node.id);
    }
    const auto matches = scene_->markMatches(hits);
    if (matches.empty()) {
        status_->setText(tr("No node matches “%1”").arg(needle));
        return 0;
    }
    const int count = int(matches.size());
    if (needle != lastSearch_)
        searchCursor_ = -1;
    lastSearch_ = needle;
    searchCursor_ = searchCursor_ < 0 ? (step > 0 ? 0 : count - 1)
                                      : ((searchCursor_ + step) % count + count) % count;
    GraphNodeItem* item = matches[size_t(searchCursor_)];
    scene_->clearSelection();
    item->setSelected(true);
    canvas_->focusItem(item);
    status_->setText(tr("“%1”: match %2 of %3 (Enter: next, Shift+Enter: previous)")
                         .arg(needle)
                         .arg(searchCursor_ + 1)
                         .arg(count));
    return count;
}

QString GraphView::exportImage(const QString& path)
{
    return scene_->exportImage(path);
}

void GraphView::setLayoutTimeLimit(int milliseconds)
{
    layoutTimeLimitMs_ = milliseconds;
}

void GraphView::setMaxLayoutNodes(int nodes)
{
    maxLayoutNodes_ = nodes;
}

int GraphView::visibleNodeCount() const
{
    return int(scene_->nodeItems().size());
}

QString GraphView::message() const
{
    return messageBox_->isHidden() ? QString() : messageText_->text();
}

QString GraphView::detailsText() const
{
    return details_->toPlainText();
}

void GraphView::showMessage(const QString& text, bool offerCollapse)
{
    QPalette pal = messageBox_->palette();
    const QColor base = palette().color(QPalette::Base);
    const QColor accent = GraphNodeItem::lintColor(LintSeverity::Warning);
    pal.setColor(QPalette::Window,
                 QColor::fromRgbF(float(base.redF() * 0.8 + accent.redF() * 0.2),
                                  float(base.greenF() * 0.8 + accent.greenF() * 0.2),
                                  float(base.blueF() * 0.8 + accent.blueF() * 0.2)));
    messageBox_->setPalette(pal);
    messageText_->setText(text);
    messageCollapse_->setVisible(offerCollapse);
    messageBox_->show();
}

void GraphView::hideMessage()
{
    messageBox_->hide();
}

void GraphView::showDetails(const GraphNodeItem* item)
{
    if (!item || !loaded_) {
        details_->setHtml(tr("<p>Select a node to see its inputs, outputs, constant value and "
                             "source line.</p>"));
        return;
    }
    const GraphModel& g = *loaded_->graph;
    int id = item->modelNode();
    // A finding's node inside a collapsed box: the selected finding names it.
    const QModelIndex current = lintTable_->currentIndex();
    if (current.isValid()) {
        const auto& f = lintModel_->finding(current.row());
        if (!f.nodes.empty() && scene_->itemForModelNode(f.nodes.front()) == item)
            id = f.nodes.front();
    }
    QString html;
    if (id < 0) {
        const auto& v = visible_->nodes[size_t(item->visibleIndex())];
        html = QString("<h3>%1</h3><p>%2</p>").arg(esc(v.title), esc(v.toolTip));
        if (!v.members.empty())
            html += tr("<p>%1 nodes inside.</p>").arg(v.members.size());
        details_->setHtml(html);
        return;
    }
    const GraphNode& n = g.nodes[size_t(id)];
    html += QString("<h3><code>%1</code></h3>").arg(esc(n.kind));
    if (item->modelNode() != id)
        html +=
            tr("<p><i>Inside the collapsed box “%1”.</i></p>").arg(item->title().toHtmlEscaped());
    if (n.constant)
        html += tr("<p><b>Constant</b> <code>%1</code></p>").arg(esc(n.constant->text));
    html += valueTable(g, tr("<p><b>Inputs</b></p><table cellspacing='4'>"), n.inputs);
    html += valueTable(g, tr("<p><b>Outputs</b></p><table cellspacing='4'>"), n.outputs);
    if (!n.blocks.empty())
        html += tr("<p>%1 nested block(s); double-click the box to collapse or expand.</p>")
                    .arg(n.blocks.size());
    if (!n.scope.empty())
        html += tr("<p><b>Scope</b> <code>%1</code></p>").arg(esc(n.scope));
    html += sourceHtml(n, loaded_->file, loaded_->source);
    for (const auto& f : loaded_->findings)
        if (std::find(f.nodes.begin(), f.nodes.end(), id) != f.nodes.end())
            html += QString("<p><b style='color:%1'>%2 [%3]</b> %4</p>")
                        .arg(GraphNodeItem::lintColor(f.severity).name(),
                             esc(severityName(f.severity)), esc(f.rule), esc(f.message));
    details_->setHtml(html);
}

void GraphView::updateStatus()
{
    if (!loaded_) {
        status_->clear();
        return;
    }
    const auto& g = *loaded_->graph;
    QString text = tr("%1 — %2 · %3 nodes")
                       .arg(QFileInfo(QString::fromStdString(loaded_->file)).fileName(),
                            QString::fromStdString(g.name))
                       .arg(g.nodes.size());
    if (visible_ && int(visible_->nodes.size()) != int(g.nodes.size()))
        text += tr(", %1 boxes shown").arg(visible_->nodes.size());
    if (loaded_->linted)
        text += tr(" · %n lint finding(s)", nullptr, int(loaded_->findings.size()));
    if (!scene_->nodeItems().empty())
        text += tr(" · laid out in %1 s").arg(layoutSeconds_, 0, 'f', 2);
    status_->setText(text);
}

bool GraphView::eventFilter(QObject* watched, QEvent* event)
{
    if (watched == search_ && event->type() == QEvent::KeyPress) {
        const auto* key = static_cast<QKeyEvent*>(event);
        if ((key->key() == Qt::Key_Return || key->key() == Qt::Key_Enter) &&
            (key->modifiers() & Qt::ShiftModifier)) {
            searchPrevious(search_->text());
            return true;
        }
    }
    return QWidget::eventFilter(watched, event);
}

void GraphView::changeEvent(QEvent* event)
{
    // Edges and clusters take their colours when drawn: draw them again, same layout.
    if (event->type() == QEvent::PaletteChange && visible_ && layout_ && !isBusy() &&
        !scene_->nodeItems().empty()) {
        scene_->build(*visible_, *layout_, canvas_->font());
        scene_->highlightFindings(loaded_->findings);
    }
    QWidget::changeEvent(event);
}

} // namespace bucketlab::ui
