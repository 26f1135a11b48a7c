#include "ui/views/bucketsview.h"

#include "core/latency/profile_format.h"
#include "core/tuning/bucket_verification.h"
#include "core/tuning/refine.h"
#include "core/util/error.h"
#include "core/util/format.h"
#include "ui/models/backgroundjob.h"
#include "ui/models/buckettablemodel.h"
#include "ui/models/comparisontablemodel.h"
#include "ui/models/errortext.h"
#include "ui/models/metatypes.h"
#include "ui/models/palette.h"
#include "ui/models/savedprofiles.h"
#include "ui/models/secondrun.h"
#include "ui/models/session.h"
#include "ui/views/elidedlabel.h"
#include "ui/views/jobprogress.h"
#include "ui/views/plot.h"
#include "ui/views/plotsupport.h"
#include "ui/views/tablecopy.h"

#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QToolTip>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <limits>

namespace bucketlab::ui {

namespace {

constexpr int kHandleGrabPixels = 6;
constexpr int kMaxDrawBins = 2048;
constexpr int kSetColorRole = Qt::UserRole + 1; // the chooser's swatch colour, to skip redraws

// A swatch of a set's colour for the chooser (QComboBox shows icons, not colours).
QIcon swatch(const QColor& color)
{
    QPixmap pixmap(12, 12);
    pixmap.fill(color);
    return QIcon(pixmap);
}

} // namespace

BucketsView::BucketsView(Session* session, QWidget* parent) : QWidget(parent), session_(session)
{
    setObjectName("bucketsView");
    setFocusPolicy(Qt::StrongFocus);
    optimizeJob_ = new BackgroundJob(this);

    auto* bar = buildToolbar();
    auto* boundariesRow = buildBoundariesRow();
    buildPlot();
    auto* tables = buildTables();

    auto* center = new QSplitter(Qt::Vertical, this);
    center->addWidget(plot_);
    center->addWidget(tables);
    center->setStretchFactor(0, 3);
    center->setStretchFactor(1, 2);

    auto* main = new QSplitter(Qt::Horizontal, this);
    main->addWidget(center);
    main->addWidget(buildOptimizePanel());
    main->setStretchFactor(0, 4);
    main->setStretchFactor(1, 1);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(bar);
    layout->addLayout(boundariesRow);
    layout->addWidget(main, 1);

    connectControls();
    connectSession();

    applyDataColours();
    rebuildTraffic();
    rebuildLatency();
    refreshSetChooser();
    refreshBoundariesEdit();
    refreshBoundaries();
    refreshTuning();
    refreshTotals();
}

QHBoxLayout* BucketsView::buildToolbar()
{
    setChooser_ = new QComboBox(this);
    setChooser_->setObjectName("boundarySetChooser");
    setChooser_->setToolTip(tr("The boundary set shown and edited"));
    // A set with many boundaries has a long label: the chooser keeps its width (the window
    // never widens itself) and the tooltip carries the whole label.
    setChooser_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    setChooser_->setMinimumContentsLength(22);
    modeChooser_ = new QComboBox(this);
    modeChooser_->setObjectName("histogramMode");
    modeChooser_->addItem(tr("Tokens (padding shaded)"));
    modeChooser_->addItem(tr("Requests"));
    modeChooser_->setToolTip(tr("Tokens: real tokens per length, with the padding each bucket "
                                "adds hatched on top. Requests: how many requests have each "
                                "length."));
    logScale_ = new QCheckBox(tr("Log length axis"), this);
    logScale_->setObjectName("logScale");
    showBaselines_ = new QCheckBox(tr("Show baselines"), this);
    showBaselines_->setObjectName("showBaselines");
    showBaselines_->setChecked(true);
    showBaselines_->setToolTip(tr("Draw the baseline boundary sets (powers of two, equal mass, "
                                  "uniform, current) as dashed lines after Optimize"));
    auto* bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("Boundary set:"), this));
    bar->addWidget(setChooser_);
    bar->addSpacing(12);
    bar->addWidget(new QLabel(tr("Show:"), this));
    bar->addWidget(modeChooser_);
    bar->addWidget(logScale_);
    bar->addWidget(showBaselines_);
    bar->addStretch(1);
    return bar;
}

QHBoxLayout* BucketsView::buildBoundariesRow()
{
    // Boundaries typed or pasted into the active set: Enter applies them as one undo step.
    boundariesEdit_ = new QLineEdit(this);
    boundariesEdit_->setObjectName("boundariesEdit");
    boundariesEdit_->setPlaceholderText(tr("e.g. 64, 128, 256, 512"));
    boundariesEdit_->setToolTip(tr("The active set's boundaries: type or paste new ones "
                                   "(\"64,128,256,512\") and press Enter; Undo brings the old "
                                   "ones back. Escape discards the typing."));
    boundariesEdit_->setClearButtonEnabled(true);
    boundariesError_ = new ElidedLabel(this);
    boundariesError_->setObjectName("boundariesError");
    boundariesError_->setStyleSheet(QStringLiteral("color: #b3261e; font-weight: 600;"));
    boundariesError_->hide();
    auto* boundariesRow = new QHBoxLayout;
    boundariesRow->addWidget(new QLabel(tr("Boundaries:"), this));
    boundariesRow->addWidget(boundariesEdit_, 2);
    boundariesRow->addWidget(boundariesError_, 3);
    connect(boundariesEdit_, &QLineEdit::returnPressed, this, [this] {
        if (setBoundariesFromText(boundariesEdit_->text(), tr("Type boundaries")).isEmpty())
            boundariesEdit_->selectAll();
    });
    connect(boundariesEdit_, &QLineEdit::textEdited, this, [this] {
        if (boundariesError_->isVisible())
            showBoundariesError(QString());
    });
    auto* discard = new QAction(boundariesEdit_);
    discard->setShortcut(QKeySequence(Qt::Key_Escape));
    discard->setShortcutContext(Qt::WidgetShortcut);
    connect(discard, &QAction::triggered, this, [this] {
        boundariesEdit_->setModified(false);
        showBoundariesError(QString());
        refreshBoundariesEdit();
    });
    boundariesEdit_->addAction(discard);
    return boundariesRow;
}

void BucketsView::buildPlot()
{
    // The main plot.
    plot_ = new QCustomPlot(this);
    plot_->setObjectName("bucketsPlot");
    // An explicit minimum: the one-row legend would otherwise ask ~700 px and, with the
    // optimize panel and the Project dock, force the window wider than a 1280 px screen.
    plot_->setMinimumSize(360, 280);
    plot_->setInteractions(QCP::iRangeZoom | QCP::iRangeDrag);
    plot_->axisRect()->setRangeZoom(Qt::Horizontal);
    plot_->axisRect()->setRangeDrag(Qt::Horizontal);
    plot_->xAxis->setLabel(tr("input length (tokens)"));
    plot_->yAxis->setLabel(tr("tokens computed"));
    plot_->yAxis2->setVisible(true);
    plot_->yAxis2->setLabel(tr("latency per call (ms)"));
    plot_->setToolTip(tr("Drag a boundary handle to move it; double-click to add one; "
                         "right-click for more. The table below updates as you drag."));
    // The legend gets its own row above the plot, so it never hides the histogram.
    plot_->legend->setVisible(true);
    plot_->plotLayout()->insertRow(0);
    auto* legendRow = new QCPLayoutGrid;
    plot_->plotLayout()->addElement(0, 0, legendRow);
    legendRow->addElement(0, 0, plot_->legend);
    // Three entries a row: one row of six squeezed every name to a few letters.
    plot_->legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
    plot_->legend->setWrap(3);
    plot_->plotLayout()->setRowStretchFactor(0, 0.001);
    plot_->legend->setBorderPen(Qt::NoPen);
    plot_->setMouseTracking(true);

    paddedGraph_ = plot_->addGraph();
    paddedGraph_->setName(tr("padding (waste)"));
    paddedGraph_->setLineStyle(QCPGraph::lsStepCenter);
    realGraph_ = plot_->addGraph();
    realGraph_->setName(tr("real tokens"));
    realGraph_->setLineStyle(QCPGraph::lsStepCenter);
    curveGraph_ = plot_->addGraph(plot_->xAxis, plot_->yAxis2);
    curveGraph_->setName(tr("latency curve"));
    servedGraph_ = plot_->addGraph(plot_->xAxis, plot_->yAxis2);
    servedGraph_->setName(tr("latency paid per bucket"));
    measuredGraph_ = plot_->addGraph(plot_->xAxis, plot_->yAxis2);
    measuredGraph_->setName(tr("measured"));
    measuredGraph_->setLineStyle(QCPGraph::lsNone);
    measuredGraph_->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 6));
    activeSetGraph_ = plot_->addGraph(); // no data: a line in the legend only
    secondTrafficGraph_ = plot_->addGraph();
    secondTrafficGraph_->setObjectName("secondTrafficGraph");
    secondTrafficGraph_->setLineStyle(QCPGraph::lsStepCenter);
    secondTrafficGraph_->setVisible(false);
    secondTrafficGraph_->removeFromLegend();
    applyPlotTheme(plot_, palette());
    // After the layout: the labels' room depends on the axis rect's size this paint.
    connect(plot_, &QCustomPlot::afterLayout, this, &BucketsView::keepHandleLabelsInside);
    // Its own context menu: boundary edits plus the shared plot export.
    plot_->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(plot_, &QWidget::customContextMenuRequested, this, &BucketsView::showPlotMenu);

    connect(plot_, &QCustomPlot::mousePress, this, &BucketsView::onMousePress);
    connect(plot_, &QCustomPlot::mouseMove, this, &BucketsView::onMouseMove);
    connect(plot_, &QCustomPlot::mouseRelease, this, &BucketsView::onMouseRelease);
    connect(plot_, &QCustomPlot::mouseDoubleClick, this, &BucketsView::onDoubleClick);
}

QWidget* BucketsView::buildTables()
{
    totals_ = new ElidedLabel(this);
    totals_->setObjectName("totalsLabel");
    totals_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    QFont bold = totals_->font();
    bold.setBold(true);
    totals_->setFont(bold);
    notes_ = new QLabel(this);
    notes_->setObjectName("notesLabel");
    notes_->setWordWrap(true);

    bucketModel_ = new BucketTableModel(this);
    bucketTable_ = new QTableView(this);
    bucketTable_->setObjectName("bucketStatsTable");
    bucketTable_->setModel(bucketModel_);
    installTableCopy(bucketTable_);
    bucketTable_->verticalHeader()->setVisible(false);
    bucketTable_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    bucketTable_->horizontalHeader()->setStretchLastSection(true);
    bucketTable_->setSelectionBehavior(QAbstractItemView::SelectRows);
    bucketTable_->setAlternatingRowColors(true);

    comparisonModel_ = new ComparisonTableModel(this);
    comparisonTable_ = new QTableView(this);
    comparisonTable_->setObjectName("comparisonTable");
    comparisonTable_->setModel(comparisonModel_);
    installTableCopy(comparisonTable_);
    comparisonTable_->verticalHeader()->setVisible(false);
    comparisonTable_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    comparisonTable_->horizontalHeader()->setStretchLastSection(true);
    comparisonTable_->setSelectionBehavior(QAbstractItemView::SelectRows);
    comparisonTable_->setToolTip(tr("Double-click a row to show and edit that boundary set"));
    connect(comparisonTable_, &QTableView::doubleClicked, this, [this](const QModelIndex& index) {
        const auto b = comparisonModel_->boundariesAt(index.row());
        const QString name = comparisonModel_->nameAt(index.row());
        for (size_t i = 0; i < session_->boundarySets().size(); ++i)
            if (QString::fromStdString(session_->boundarySets()[i].name) == name)
                session_->setActiveIndex(int(i));
        Q_UNUSED(b);
    });

    // The per-bucket table and the comparison share the space below the plot as tabs.
    auto* tables = new QWidget(this);
    auto* tablesLayout = new QVBoxLayout(tables);
    tablesLayout->setContentsMargins(0, 0, 0, 0);
    tablesTabs_ = new QTabWidget(tables);
    tablesTabs_->setObjectName("tableTabs");
    tablesTabs_->addTab(bucketTable_, tr("Per bucket"));
    // Without a current result the tab says why (none yet, or stale) instead of going blank.
    comparisonPage_ = new QWidget(tables);
    auto* comparisonLayout = new QVBoxLayout(comparisonPage_);
    comparisonLayout->setContentsMargins(0, 0, 0, 0);
    comparisonNote_ = new QLabel(comparisonPage_);
    comparisonNote_->setObjectName("comparisonNote");
    comparisonNote_->setWordWrap(true);
    comparisonNote_->setTextFormat(Qt::RichText);
    comparisonNote_->setContentsMargins(6, 6, 6, 6);
    connect(comparisonNote_, &QLabel::linkActivated, this, [this] { optimize(); });
    comparisonLayout->addWidget(comparisonNote_);
    comparisonLayout->addWidget(comparisonTable_, 1);
    tablesTabs_->addTab(comparisonPage_, tr("Optimum and baselines"));
    tablesLayout->addWidget(totals_);
    tablesLayout->addWidget(tablesTabs_, 1);
    tablesLayout->addWidget(notes_);
    return tables;
}

void BucketsView::connectControls()
{
    connect(modeChooser_, &QComboBox::currentIndexChanged, this,
            [this](int i) { setMode(i == 0 ? Mode::Tokens : Mode::Requests); });
    connect(logScale_, &QCheckBox::toggled, this, &BucketsView::setLogScale);
    connect(showBaselines_, &QCheckBox::toggled, this, [this] {
        refreshBaselines();
        replot();
    });
    connect(setChooser_, &QComboBox::activated, this,
            [this](int i) { session_->setActiveIndex(i); });
}

void BucketsView::connectSession()
{
    connect(session_, &Session::trafficChanged, this, [this] {
        rebuildTraffic();
        replot();
    });
    connect(session_, &Session::latencyChanged, this, [this] {
        rebuildLatency();
        replot();
    });
    connect(session_, &Session::secondRunChanged, this, [this] {
        rebuildSecondTraffic();
        replot();
    });
    connect(session_, &Session::boundarySetsChanged, this, &BucketsView::refreshSetChooser);
    // The active set's label follows its boundaries, a drag included.
    connect(session_, &Session::activeBoundariesChanged, this, &BucketsView::refreshSetChooser);
    connect(session_, &Session::activeBoundariesChanged, this, &BucketsView::refreshBoundariesEdit);
    // A different set (switching, loading) may reach further: show all of it. A drag keeps
    // the range still, or the handle would run away from the mouse.
    connect(session_, &Session::activeBoundariesChanged, this, [this] {
        if (dragIndex_ >= 0)
            return;
        const auto b = session_->activeBoundaries();
        const std::string name = session_->activeSet() ? session_->activeSet()->name : "";
        if (name != fittedSet_ ||
            (!b.empty() && double(b.largest()) > plot_->xAxis->range().upper)) {
            fittedSet_ = name;
            fitLengthRange();
            rebuildLatency();
        }
    });
    // The baselines leave out the active set (its handles draw it).
    connect(session_, &Session::activeBoundariesChanged, this, [this] {
        if (dragIndex_ < 0)
            refreshBaselines();
    });
    connect(session_, &Session::evaluationChanged, this, [this] {
        bucketModel_->setEvaluation(session_->evaluation());
        refreshBoundaries();
        refreshPadding();
        refreshTotals();
        replot();
    });
    connect(session_, &Session::tuningChanged, this, [this] {
        refreshTuning();
        refreshTotals();
        replot();
    });
}

QWidget* BucketsView::buildOptimizePanel()
{
    auto* panel = new QWidget(this);
    auto* layout = new QVBoxLayout(panel);
    layout->setContentsMargins(4, 0, 0, 0);
    auto* box = new QGroupBox(tr("Optimize"), panel);
    auto* form = new QFormLayout(box);
    buildOptimizeSettings(box, form);
    buildOptimizeActions(box, form);
    layout->addWidget(box);

    layout->addWidget(buildParetoPlot(panel), 1);

    connectOptimize();
    return panel;
}

void BucketsView::buildOptimizeSettings(QWidget* box, QFormLayout* form)
{
    buckets_ = new QSpinBox(box);
    buckets_->setObjectName("optimizeBuckets");
    buckets_->setRange(1, 64);
    buckets_->setValue(4);
    buckets_->setToolTip(tr("Number of buckets K: each one is a model compiled for that length"));
    objective_ = new QComboBox(box);
    objective_->setObjectName("optimizeObjective");
    objective_->addItem(tr("Mean latency"));
    objective_->addItem(tr("Padded tokens"));
    objective_->addItem(tr("Mean latency, p99 within budget"));
    objective_->setToolTip(tr("What the exact optimizer minimises over the traffic"));
    p99Budget_ = new QDoubleSpinBox(box);
    p99Budget_->setObjectName("optimizeP99Budget");
    p99Budget_->setRange(0.001, 1e6);
    p99Budget_->setDecimals(3);
    p99Budget_->setSuffix(tr(" ms"));
    p99Budget_->setValue(50);
    p99Budget_->setEnabled(false);
    p99Budget_->setToolTip(tr("The 99th-percentile latency the boundaries must meet"));
    bucketCost_ = new QDoubleSpinBox(box);
    bucketCost_->setObjectName("optimizeBucketCost");
    bucketCost_->setRange(0, 1e6);
    bucketCost_->setDecimals(3);
    bucketCost_->setToolTip(tr("A fixed cost per bucket in the objective's unit (ms per "
                               "request, or tokens): with it, K is the most buckets allowed and "
                               "the optimizer may use fewer"));
    serveUpTo_ = new QSpinBox(box);
    serveUpTo_->setObjectName("optimizeServeUpTo");
    serveUpTo_->setRange(0, int(kMaxLength));
    serveUpTo_->setSpecialValueText(tr("current largest"));
    serveUpTo_->setToolTip(
        tr("The length the largest tuned bucket serves. By default the current set's largest, "
           "so nothing served today is refused; a smaller length shrinks the served range, and "
           "the result then says which requests it refuses"));
    form->addRow(tr("Buckets (K)"), buckets_);
    form->addRow(tr("Serve up to"), serveUpTo_);
    align_ = new QSpinBox(box);
    align_->setObjectName("optimizeAlign");
    align_->setRange(1, 4096);
    align_->setSpecialValueText(tr("any length"));
    align_->setToolTip(tr("Every boundary a multiple of this (e.g. 128, a Neuron tile), except "
                          "the served length; the optimum under that constraint"));
    form->addRow(tr("Align to"), align_);
    form->addRow(tr("Objective"), objective_);
    form->addRow(tr("p99 budget"), p99Budget_);
    form->addRow(tr("Cost per bucket"), bucketCost_);
}

void BucketsView::buildOptimizeActions(QWidget* box, QFormLayout* form)
{
    optimizeButton_ = new QPushButton(tr("Optimize"), box);
    optimizeButton_->setObjectName("optimizeButton");
    optimizeButton_->setToolTip(tr("Find the provably optimal boundaries and compare them with "
                                   "the baselines"));
    refineButton_ = new QPushButton(tr("Measure and refine"), box);
    refineButton_->setObjectName("refineButton");
    refineButton_->setToolTip(
        tr("Tune, then measure latency at the chosen boundaries (and the lengths next to them) "
           "on the open model or package, add the points to the curve and tune again until the "
           "boundaries are measured lengths and stop changing; then predict the refined set's "
           "mean from fresh samples and measure it"));
    refineBudget_ = new QDoubleSpinBox(box);
    refineBudget_->setObjectName("refineBudget");
    refineBudget_->setRange(0.1, 600);
    refineBudget_->setDecimals(1);
    refineBudget_->setValue(5);
    refineBudget_->setSuffix(tr(" s"));
    refineBudget_->setToolTip(tr("Measure and refine: the time each measuring run may take"));
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(optimizeButton_);
    buttons->addWidget(refineButton_);
    form->addRow(buttons);
    form->addRow(tr("Measuring budget"), refineBudget_);
    jobs_ = new JobProgress("optimize", JobProgress::Idle::Shown, box);
    form->addRow(jobs_);
    refineLog_ = new QPlainTextEdit(box);
    refineLog_->setObjectName("refineLog");
    refineLog_->setReadOnly(true);
    refineLog_->setLineWrapMode(QPlainTextEdit::WidgetWidth);
    refineLog_->setPlaceholderText(tr("Measure and refine lists its rounds here"));
    refineLog_->setMinimumHeight(110);
    refineLog_->setMaximumHeight(220);
    form->addRow(refineLog_);
}

QCustomPlot* BucketsView::buildParetoPlot(QWidget* panel)
{
    pareto_ = new QCustomPlot(panel);
    pareto_->setObjectName("paretoPlot");
    pareto_->setMinimumSize(220, 200);
    pareto_->xAxis->setLabel(tr("buckets (K)"));
    pareto_->yAxis->setLabel(tr("mean latency (ms)"));
    pareto_->setToolTip(tr("The best objective for each bucket count; the knee is where another "
                           "bucket starts to buy less. Click a point to use its boundaries."));
    pareto_->addGraph();
    pareto_->graph(0)->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 6));
    pareto_->addGraph();
    pareto_->graph(1)->setLineStyle(QCPGraph::lsNone);
    QSharedPointer<QCPAxisTickerFixed> ticker(new QCPAxisTickerFixed);
    ticker->setTickStep(1);
    ticker->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
    pareto_->xAxis->setTicker(ticker);
    paretoNote_ = new QCPItemText(pareto_);
    paretoNote_->position->setType(QCPItemPosition::ptAxisRectRatio);
    paretoNote_->position->setCoords(0.5, 0.5);
    paretoNote_->setPositionAlignment(Qt::AlignCenter);
    paretoNote_->setTextAlignment(Qt::AlignCenter);
    applyPlotTheme(pareto_, palette());
    installPlotExportMenu(pareto_);
    connect(pareto_, &QCustomPlot::mousePress, this, [this](QMouseEvent* event) {
        const auto& report = session_->tuningReport();
        if (!report || report->pareto.empty() || event->button() != Qt::LeftButton)
            return;
        const double k = std::round(pareto_->xAxis->pixelToCoord(event->pos().x()));
        for (const auto& p : report->pareto)
            if (p.buckets == int(k) && p.solution.feasible) {
                BoundarySet set{"tuned K=" + std::to_string(p.buckets), "tuned",
                                p.solution.boundaries};
                session_->changeBoundarySets(tr("Use K = %1").arg(p.buckets), [&] {
                    session_->setActiveIndex(session_->putTunedSet(set));
                });
            }
    });
    return pareto_;
}

void BucketsView::connectOptimize()
{
    connect(objective_, &QComboBox::currentIndexChanged, this, [this](int i) {
        p99Budget_->setEnabled(i == 2);
        pareto_->yAxis->setLabel(i == 1 ? tr("padded tokens per request")
                                        : tr("mean latency (ms)"));
        bucketCost_->setSuffix(i == 1 ? tr(" tokens") : tr(" ms"));
    });
    bucketCost_->setSuffix(tr(" ms"));
    connect(optimizeButton_, &QPushButton::clicked, this, &BucketsView::optimize);
    jobs_->track(optimizeJob_);
    connectRefine();
    connect(optimizeJob_, &BackgroundJob::stopped, this,
            [this] { optimizeButton_->setEnabled(true); });
    connect(optimizeJob_, &BackgroundJob::finished, this, [this](const QVariant& result) {
        const auto report = result.value<std::shared_ptr<TuningReport>>();
        if (!session_->pricingInputs().sameAs(optimizeFor_)) {
            // Priced under a curve or traffic that has gone meanwhile: not an optimum now.
            refreshTuning();
            notes_->setText(tr("The traffic or the latency curve changed while optimizing: "
                               "Optimize again."));
            Q_EMIT optimizeFinished(false);
            return;
        }
        if (report->solution.feasible) {
            // One undo step: Undo brings back the sets, the active one and the report.
            session_->changeBoundarySets(
                tr("Optimize (K = %1)").arg(report->solution.boundaries.size()), [&] {
                    for (const auto& b : report->baselines)
                        if (b.name != "current")
                            session_->putBoundarySet({b.name, "baseline", b.evaluation.boundaries});
                    const int tuned =
                        session_->putTunedSet({"tuned", "tuned", report->solution.boundaries});
                    session_->setTuningReport(*report);
                    session_->setActiveIndex(tuned);
                });
            tablesTabs_->setCurrentWidget(comparisonPage_);
        } else {
            session_->setTuningReport(*report);
            notes_->setText(tr("No boundaries meet the constraint: %1")
                                .arg(QString::fromStdString(report->solution.infeasibleReason)));
        }
        Q_EMIT optimizeFinished(report->solution.feasible);
    });
    connect(optimizeJob_, &BackgroundJob::failed, this, [this](const QString& message) {
        notes_->setText(tr("Optimize failed: %1").arg(message));
        Q_EMIT optimizeFinished(false);
    });
    connect(optimizeJob_, &BackgroundJob::cancelled, this,
            [this] { Q_EMIT optimizeFinished(false); });
}

void BucketsView::setOptimizeSettings(int buckets, int objectiveIndex, double p99BudgetMs,
                                      int64_t serveUpTo)
{
    buckets_->setValue(buckets);
    serveUpTo_->setValue(int(serveUpTo));
    objective_->setCurrentIndex(objectiveIndex);
    if (p99BudgetMs > 0)
        p99Budget_->setValue(p99BudgetMs);
}

TuningRequest BucketsView::panelTuningRequest() const
{
    TuningRequest request;
    request.settings.buckets = buckets_->value();
    request.settings.objective = objective_->currentIndex() == 0 ? TuneObjective::MeanLatency
                                 : objective_->currentIndex() == 1
                                     ? TuneObjective::PaddedTokens
                                     : TuneObjective::MeanLatencyP99Budget;
    request.settings.p99BudgetMs = p99Budget_->value();
    request.settings.bucketCost = bucketCost_->value();
    if (serveUpTo_->value() > 0)
        request.serveUpTo = ServeUpTo::upTo(serveUpTo_->value());
    request.settings.align = align_->value();
    for (const auto& set : session_->boundarySets())
        if (set.kind == "current")
            request.current = set.boundaries;
    if (const auto& src = session_->trafficSource())
        request.distributionSource = src->source;
    return request;
}

namespace {

QString roundText(const RefineRound& r)
{
    QString text = QObject::tr("round %1: %2, predicted %3 ms")
                       .arg(r.round)
                       .arg(QString::fromStdString(r.boundaries.str()))
                       .arg(r.predictedMs, 0, 'g', 4);
    if (!r.measuredNow.empty())
        text += QObject::tr("; measured %1 (now %2x the profile's time)")
                    .arg(QString::fromStdString(formatLengths(r.measuredNow)))
                    .arg(r.conditionsRatio, 0, 'g', 3);
    else
        text += QObject::tr("; every boundary measured");
    return text;
}

QString verdictText(const RefineResult& r)
{
    const auto& c = r.check;
    QString text =
        r.converged ? QObject::tr("Refined to %1 in %2 rounds: every boundary serving traffic is a "
                                  "measured length.")
                          .arg(QString::fromStdString(r.report.solution.boundaries.str()))
                          .arg(r.rounds.size())
                    : QObject::tr("Refined to %1, NOT converged: stopped at the cap of %2 rounds.")
                          .arg(QString::fromStdString(r.report.solution.boundaries.str()))
                          .arg(r.maxRounds);
    text += QObject::tr("\nPredicted mean %1 ms (95 % CI %2–%3), measured %4 ms (95 % CI "
                        "%5–%6): error %7 %, %8 the %9 % tolerance.")
                .arg(r.predictedMs, 0, 'g', 4)
                .arg(r.predictedLowMs, 0, 'g', 4)
                .arg(r.predictedHighMs, 0, 'g', 4)
                .arg(c.measuredMs, 0, 'g', 4)
                .arg(c.measuredLowMs, 0, 'g', 4)
                .arg(c.measuredHighMs, 0, 'g', 4)
                .arg(QString::asprintf("%+.2f", c.errorPct))
                .arg(c.beyondTolerance ? QObject::tr("BEYOND") : QObject::tr("within"))
                .arg(c.tolerancePct, 0, 'g', 3);
    text += QObject::tr("\nThe prediction prices the boundaries from fresh samples; the rounds' "
                        "own estimate was %1 ms (%2 %).")
                .arg(r.loopPredictedMs, 0, 'g', 4)
                .arg(QString::asprintf("%+.2f", r.loopErrorPct));
    if (c.beyondTolerance)
        text += QObject::tr("\nRe-measure with a larger budget, or profile again.");
    return text;
}

} // namespace

QString BucketsView::refineLog() const
{
    return refineLog_->toPlainText();
}

void BucketsView::setRefineBudget(double seconds)
{
    refineBudget_->setValue(seconds);
}

void BucketsView::connectRefine()
{
    refineJob_ = new BackgroundJob(this);
    connect(refineButton_, &QPushButton::clicked, this, &BucketsView::measureAndRefine);
    jobs_->track(refineJob_);
    connect(refineJob_, &BackgroundJob::partialResult, this,
            [this](const QVariant& line) { refineLog_->appendPlainText(line.toString()); });
    connect(refineJob_, &BackgroundJob::stopped, this, [this] {
        optimizeButton_->setEnabled(true);
        refineButton_->setEnabled(true);
    });
    connect(refineJob_, &BackgroundJob::finished, this, [this](const QVariant& value) {
        finishRefine(*value.value<std::shared_ptr<RefineResult>>());
    });
    connect(refineJob_, &BackgroundJob::failed, this, [this](const QString& message) {
        refineLog_->appendPlainText(tr("Measure and refine failed: %1").arg(message));
        Q_EMIT refineFinished(false);
    });
    connect(refineJob_, &BackgroundJob::cancelled, this, [this] {
        refineLog_->appendPlainText(tr("Cancelled."));
        Q_EMIT refineFinished(false);
    });
}

void BucketsView::finishRefine(const RefineResult& r)
{
    jobs_->showOutcome(1.0, tr("refined"));
    if (!session_->pricingInputs().sameAs(refineFor_)) {
        refineLog_->appendPlainText(tr("The traffic or the latency curve changed while "
                                       "refining: the result is dropped; refine again."));
        Q_EMIT refineFinished(false);
        return;
    }
    if (!r.report.solution.feasible) {
        refineLog_->appendPlainText(
            tr("No boundaries meet the constraint: %1")
                .arg(QString::fromStdString(r.report.solution.infeasibleReason)));
        Q_EMIT refineFinished(false);
        return;
    }
    refineLog_->appendPlainText(verdictText(r));
    // The refined set was chosen on a curve with the measured points in it: that curve
    // becomes the session's, or everything else (the Latency view, Optimize, the report,
    // the project) would price the set on a curve that lacks the very points that chose
    // it. Saved first, so the project can refer to it like any other profile.
    QString path;
    try {
        path = writeRefinedProfile(r.profile);
    } catch (const std::exception& e) {
        refineLog_->appendPlainText(
            tr("The refined profile could not be saved (%1): nothing was changed. Free "
               "space or make the profiles folder writable, then refine again.")
                .arg(messageFor(e)));
        Q_EMIT refineFinished(false);
        return;
    }
    SavedProfiles::remember(path); // listed again after a restart, like a Profile run
    // The measurements stay listed (and saved with the project) whatever is undone.
    session_->addProfile({path, r.profile});
    session_->markModified();
    // One undo step: Undo brings back the sets, the active one, the tuning result and
    // the curve as they were.
    session_->changeBoundarySets(
        tr("Measure and refine (K = %1)").arg(r.report.solution.boundaries.size()), [&] {
            session_->setLatency(LatencyCurve::fromProfile(r.profile, path.toStdString()),
                                 {QFileInfo(path).fileName().toStdString(), path.toStdString()});
            // The final tuning was priced on this very profile's curve; named as the
            // session names it, so the report and the Latency view say the same.
            TuningReport report = r.report;
            report.curve = session_->latency();
            session_->setTuningReport(report);
            session_->setActiveIndex(
                session_->putTunedSet({"refined", "tuned", r.report.solution.boundaries}));
        });
    refineLog_->appendPlainText(
        tr("The lengths measured (%1) joined the latency curve: tuning now uses %2 "
           "(Undo restores the previous set and curve).")
            .arg(QString::fromStdString(formatLengths(r.measuredLengths, ", ")),
                 QDir::toNativeSeparators(path)));
    Q_EMIT refineFinished(true);
}

QString BucketsView::writeRefinedProfile(const Profile& profile) const
{
    const QString dir =
        refinedProfileDir_.isEmpty() ? SavedProfiles::defaultDirectory() : refinedProfileDir_;
    if (!QDir().mkpath(dir))
        throw Error("cannot create the folder " + dir.toStdString());
    QString stem = QFileInfo(QString::fromStdString(profile.modelFile)).completeBaseName();
    if (stem.isEmpty())
        stem = QStringLiteral("profile");
    const QString base = QStringLiteral("%1-refined-%2")
                             .arg(stem, QDateTime::currentDateTime().toString("yyyyMMdd-HHmmss"));
    // Two refinements in one second: never overwrite the first one's measurements.
    QString path = QDir(dir).filePath(base + ".json");
    for (int i = 2; QFileInfo::exists(path); ++i)
        path = QDir(dir).filePath(QStringLiteral("%1-%2.json").arg(base).arg(i));
    writeProfile(path.toStdString(), profile, /*replace=*/false);
    return path;
}

void BucketsView::measureAndRefine()
{
    const auto evaluator = session_->evaluator();
    const auto& latency = session_->latencySource();
    const auto& model = session_->model();
    QString missing;
    if (!evaluator)
        missing = tr("traffic and a latency curve");
    else if (!model)
        missing = tr("a model or package to measure");
    else if (!latency || session_->latency().isAnalytic())
        missing = tr("a measured latency profile (an analytic curve describes no machine)");
    if (!missing.isEmpty()) {
        refineLog_->setPlainText(tr("Measure and refine needs %1: open the demo, or add them to "
                                    "the project.")
                                     .arg(missing));
        Q_EMIT refineFinished(false);
        return;
    }
    RefineRequest request;
    request.tuning = panelTuningRequest();
    BucketVerificationRequest settings;
    settings.model = model->path;
    settings.budgetS = refineBudget_->value();
    settings.simulatedCallMs = refineClock_;
    // The profile the curve was made of, as loaded (else read with the job).
    std::optional<Profile> start;
    for (const auto& p : session_->profiles())
        if (p.path.toStdString() == latency->source)
            start = p.profile;
    const std::string source = latency->source;
    refineFor_ = session_->pricingInputs();
    optimizeButton_->setEnabled(false);
    refineButton_->setEnabled(false);
    refineLog_->setPlainText(tr("Measuring on %1, %2 s a run")
                                 .arg(QString::fromStdString(model->path))
                                 .arg(settings.budgetS, 0, 'g', 3));
    refineJob_->start(tr("Measuring and refining"), [evaluator, request, settings, start,
                                                     source](JobContext& context) {
        const Profile profile = start ? *start : readProfile(source);
        auto result = std::make_shared<RefineResult>(refineTuning(
            evaluator->histogram(), evaluator->maxLength(), profile, source, request,
            profilerMeasurer(settings), context.job(),
            [&context](const RefineRound& r) { context.partial(QVariant(roundText(r))); }));
        return QVariant::fromValue(result);
    });
}

void BucketsView::optimize()
{
    const auto evaluator = session_->evaluator();
    if (!evaluator) {
        notes_->setText(tr("Optimize needs traffic and a latency curve: open the demo, or add a "
                           "distribution and a profile to the project."));
        Q_EMIT optimizeFinished(false);
        return;
    }
    const TuningRequest request = panelTuningRequest();
    optimizeFor_ = session_->pricingInputs();
    optimizeButton_->setEnabled(false);
    notes_->clear();
    optimizeJob_->start(tr("Optimizing"), [evaluator, request](JobContext& context) {
        auto report =
            std::make_shared<TuningReport>(tuneAndCompare(*evaluator, request, context.job()));
        return QVariant::fromValue(report);
    });
}

void BucketsView::setMode(Mode mode)
{
    mode_ = mode;
    modeChooser_->setCurrentIndex(mode == Mode::Tokens ? 0 : 1);
    plot_->yAxis->setLabel(mode == Mode::Tokens ? tr("tokens computed") : tr("requests"));
    realGraph_->setName(mode == Mode::Tokens ? tr("real tokens") : tr("requests"));
    rebuildTraffic();
    replot();
}

void BucketsView::setLogScale(bool log)
{
    logScale_->setChecked(log);
    setLengthAxisLog(plot_->xAxis, log);
    rebuildLatency();
    rebuildTraffic();
    replot();
}

void BucketsView::rebuildTraffic()
{
    bins_.clear();
    const LengthHistogram& h = session_->histogram();
    if (h.empty()) {
        realGraph_->data()->clear();
        paddedGraph_->data()->clear();
        refreshBoundaries();
        return;
    }
    // Draw at most kMaxDrawBins bins: one per length for short ranges, wider beyond (the
    // evaluation itself always uses exact lengths).
    const int64_t lo = h.minLength(), hi = h.maxLength();
    const int64_t width = std::max<int64_t>(1, (hi - lo + kMaxDrawBins) / kMaxDrawBins);
    const size_t nBins = size_t((hi - lo) / width + 1);
    bins_.resize(nBins);
    for (size_t i = 0; i < nBins; ++i) {
        bins_[i].first = lo + int64_t(i) * width;
        bins_[i].last = std::min(hi, bins_[i].first + width - 1);
    }
    for (size_t i = 0; i < h.distinct(); ++i) {
        Bin& b = bins_[size_t((h.lengths()[i] - lo) / width)];
        b.requests += double(h.counts()[i]);
        b.tokens += double(h.counts()[i]) * double(h.lengths()[i]);
    }
    QVector<double> keys, values;
    keys.reserve(int(nBins));
    values.reserve(int(nBins));
    for (const Bin& b : bins_) {
        keys << (double(b.first) + double(b.last)) / 2.0;
        values << (mode_ == Mode::Tokens ? b.tokens : b.requests);
    }
    realGraph_->setData(keys, values, true);
    paddedGraph_->setVisible(mode_ == Mode::Tokens);
    rebuildSecondTraffic();
    refreshPadding();
    refreshBoundaries();
    fitLengthRange();
}

void BucketsView::rebuildSecondTraffic()
{
    secondTrafficGraph_->data()->clear();
    const auto& run = session_->secondRun();
    const LengthHistogram& a = session_->histogram();
    if (!run || !run->traffic || run->traffic->empty() || a.empty() || bins_.empty()) {
        secondTrafficGraph_->setVisible(false);
        secondTrafficGraph_->removeFromLegend();
        return;
    }
    const LengthHistogram& b = *run->traffic;
    const int64_t lo = bins_.front().first;
    const int64_t width = bins_.front().last - bins_.front().first + 1;
    // Run A's bins, extended to run B's lengths on either side.
    const int64_t first = lo - ((lo - std::min(lo, b.minLength()) + width - 1) / width) * width;
    const int64_t last = std::max(bins_.back().last, b.maxLength());
    const size_t n = size_t((last - first) / width + 1);
    std::vector<double> requests(n, 0), tokens(n, 0);
    for (size_t i = 0; i < b.distinct(); ++i) {
        const size_t bin = size_t((b.lengths()[i] - first) / width);
        requests[bin] += double(b.counts()[i]);
        tokens[bin] += double(b.counts()[i]) * double(b.lengths()[i]);
    }
    const double scale = double(a.total()) / double(b.total());
    QVector<double> keys, values;
    for (size_t i = 0; i < n; ++i) {
        const double from = double(first + int64_t(i) * width);
        keys << from + double(width - 1) / 2.0;
        values << scale * (mode_ == Mode::Tokens ? tokens[i] : requests[i]);
    }
    secondTrafficGraph_->setData(keys, values, true);
    QColor c = profileColor(2, palette());
    secondTrafficGraph_->setPen(QPen(c, 2, Qt::DashLine));
    secondTrafficGraph_->setName(qFuzzyCompare(scale, 1.0)
                                     ? tr("run B: %1").arg(run->displayName)
                                     : tr("run B: %1 (× %2, to run A's requests)")
                                           .arg(run->displayName)
                                           .arg(QLocale().toString(scale, 'g', 3)));
    secondTrafficGraph_->setVisible(true);
    secondTrafficGraph_->addToLegend();
}

void BucketsView::fitLengthRange()
{
    const LengthHistogram& h = session_->histogram();
    const auto b = session_->activeBoundaries();
    double xMax = double(h.maxLength());
    if (!b.empty())
        xMax = std::max(xMax, double(b.largest()));
    if (xMax <= 0)
        return;
    const double lo = h.empty() ? 1.0 : double(h.minLength());
    plot_->xAxis->setRange(logScale_->isChecked() ? std::max(0.8, lo * 0.8) : 0.0, xMax * 1.04 + 1);
}

void BucketsView::refreshPadding()
{
    const LengthHistogram& h = session_->histogram();
    const auto boundaries = session_->activeBoundaries();
    if (bins_.empty() || mode_ != Mode::Tokens) {
        paddedGraph_->data()->clear();
        double top = 0;
        for (const Bin& b : bins_)
            top = std::max(top, mode_ == Mode::Tokens ? b.tokens : b.requests);
        plot_->yAxis->setRange(0, top * 1.12 + 1);
        return;
    }
    // Computed tokens per bin: each request counts as its bucket's length; requests above
    // the last boundary are rejected and compute nothing.
    std::vector<double> computed(bins_.size(), 0.0);
    const int64_t lo = bins_.front().first;
    const int64_t width = bins_.front().last - bins_.front().first + 1;
    size_t k = 0;
    for (size_t i = 0; i < h.distinct(); ++i) {
        const int64_t len = h.lengths()[i];
        while (k < boundaries.size() && boundaries[k] < len)
            ++k;
        const size_t bin = size_t((len - lo) / width);
        computed[bin] += k < boundaries.size()
                             ? double(h.counts()[i]) * double(boundaries[k])
                             : double(h.counts()[i]) * double(len); // rejected: no padding drawn
    }
    QVector<double> keys, values;
    double top = 0;
    for (size_t i = 0; i < bins_.size(); ++i) {
        keys << (double(bins_[i].first) + double(bins_[i].last)) / 2.0;
        values << computed[i];
        top = std::max(top, computed[i]);
    }
    paddedGraph_->setData(keys, values, true);
    plot_->yAxis->setRange(0, top * 1.12 + 1);
}

void BucketsView::rebuildLatency()
{
    curveGraph_->data()->clear();
    measuredGraph_->data()->clear();
    if (!session_->hasLatency()) {
        plot_->yAxis2->setVisible(false);
        return;
    }
    plot_->yAxis2->setVisible(true);
    const LatencyCurve& curve = session_->latency();
    double xMax = std::max<double>(double(session_->histogram().maxLength()), 16.0);
    const auto b = session_->activeBoundaries();
    if (!b.empty())
        xMax = std::max(xMax, double(b.largest()));
    QVector<double> keys, values;
    const int samples = 400;
    for (int i = 0; i <= samples; ++i) {
        const double t = double(i) / samples;
        const double x =
            logScale_->isChecked() ? std::pow(xMax * 1.05, t) : 1.0 + t * (xMax * 1.05 - 1.0);
        const int64_t len = std::max<int64_t>(1, int64_t(std::llround(x)));
        keys << double(len);
        values << curve.at(len);
    }
    curveGraph_->setData(keys, values, true);
    QVector<double> mk, mv;
    for (const auto& p : curve.measured()) {
        mk << double(p.length);
        mv << p.ms;
    }
    measuredGraph_->setData(mk, mv, true);
    measuredGraph_->setVisible(!mk.isEmpty());
    if (mk.isEmpty())
        measuredGraph_->removeFromLegend();
    else
        measuredGraph_->addToLegend();
    double top = 0;
    for (double v : values)
        top = std::max(top, v);
    plot_->yAxis2->setRange(0, top * 1.15);
    refreshBoundaries();
}

void BucketsView::refreshBoundaries()
{
    const auto b = session_->activeBoundaries();
    if (handles_.size() != b.size()) {
        for (auto* h : handles_)
            plot_->removeItem(h);
        for (auto* l : handleLabels_)
            plot_->removeItem(l);
        handles_.clear();
        handleLabels_.clear();
        for (size_t i = 0; i < b.size(); ++i) {
            auto* line = new QCPItemStraightLine(plot_);
            line->setSelectable(false);
            handles_.push_back(line);
            auto* label = new QCPItemText(plot_);
            label->position->setTypeX(QCPItemPosition::ptPlotCoords);
            label->position->setTypeY(QCPItemPosition::ptAxisRectRatio);
            label->setPositionAlignment(Qt::AlignTop | Qt::AlignHCenter);
            label->setPadding(QMargins(3, 1, 3, 1));
            label->setClipToAxisRect(true);
            handleLabels_.push_back(label);
        }
        if (selected_ >= int(b.size()))
            selected_ = -1;
    }
    // Every handle in the set's colour: a bucket's colour never depends on its position, so
    // adding, removing or dragging a boundary recolours nothing (the label tells them apart).
    const QColor bg = palette().color(QPalette::Base);
    const QColor c = activeSetColor();
    for (size_t i = 0; i < b.size(); ++i) {
        handles_[i]->point1->setCoords(double(b[i]), 0);
        handles_[i]->point2->setCoords(double(b[i]), 1);
        handles_[i]->setPen(QPen(c, int(i) == selected_ || int(i) == dragIndex_ ? 4.0 : 2.5));
        handleLabels_[i]->position->setCoords(double(b[i]), 0.01);
        handleLabels_[i]->setText(QString::number(b[i]));
        handleLabels_[i]->setColor(c);
        handleLabels_[i]->setBrush(QBrush(bg));
        handleLabels_[i]->setPen(QPen(c));
    }
    bucketModel_->setSetColor(c);
    if (session_->activeSet()) {
        activeSetGraph_->setName(session_->setTitle(session_->activeIndex()));
        activeSetGraph_->setPen(QPen(c, 2.5));
        activeSetGraph_->addToLegend();
    } else {
        activeSetGraph_->removeFromLegend();
    }
    // The latency each bucket pays, as a step over the lengths it serves.
    servedGraph_->data()->clear();
    if (session_->hasLatency() && !b.empty()) {
        QVector<double> keys, values;
        int64_t previous = 0;
        for (size_t i = 0; i < b.size(); ++i) {
            const double ms = session_->latency().at(b[i]);
            keys << double(previous) + 1.0 << double(b[i]);
            values << ms << ms;
            if (i + 1 < b.size()) {
                keys << double(b[i]) + 0.5;
                values << std::numeric_limits<double>::quiet_NaN();
            }
            previous = b[i];
        }
        servedGraph_->setData(keys, values, true);
    }
}

void BucketsView::refreshBaselines()
{
    for (auto* l : baselineLines_)
        plot_->removeItem(l);
    baselineLines_.clear();
    for (auto* l : baselineLabels_)
        plot_->removeItem(l);
    baselineLabels_.clear();
    const auto& report = session_->tuningReport();
    if (!report || !showBaselines_->isChecked())
        return;
    const QPalette pal = palette();
    const std::string active = session_->activeSet() ? session_->activeSet()->name : "";
    int row = 0;
    for (const auto& base : report->baselines) {
        if (base.name == active || base.evaluation.boundaries.empty())
            continue; // the active set is drawn by its handles
        // Each baseline in its set's colour and dash, named beside its smallest boundary
        // (labels stacked upwards from near the axis, one row per set; the legend would be too
        // crowded to name them).
        const QColor c = boundarySetColor(base.name, "baseline", pal);
        const QPen pen(c, 1.3, boundarySetDash(base.name));
        const QString title = QString::fromStdString(base.name);
        for (int64_t x : base.evaluation.boundaries) {
            auto* line = new QCPItemStraightLine(plot_);
            line->point1->setCoords(double(x), 0);
            line->point2->setCoords(double(x), 1);
            line->setPen(pen);
            line->setSelectable(false);
            baselineLines_.push_back(line);
        }
        auto* label = new QCPItemText(plot_);
        label->position->setTypeX(QCPItemPosition::ptPlotCoords);
        label->position->setTypeY(QCPItemPosition::ptAxisRectRatio);
        // Above the strip where the latency of short buckets runs along the axis.
        label->position->setCoords(double(base.evaluation.boundaries[0]), 0.9 - 0.075 * row);
        label->setPositionAlignment(Qt::AlignBottom | Qt::AlignLeft);
        label->setText(title);
        label->setColor(c);
        label->setBrush(QBrush(pal.color(QPalette::Base)));
        label->setPen(pen);
        label->setPadding(QMargins(3, 1, 3, 1));
        label->setClipToAxisRect(true);
        label->setSelectable(false);
        baselineLabels_.push_back(label);
        ++row;
    }
}

void BucketsView::refreshPareto()
{
    pareto_->graph(0)->data()->clear();
    pareto_->graph(1)->data()->clear();
    pareto_->graph(1)->setName(QString());
    pareto_->legend->setVisible(false); // a knee is named only beside its point
    const auto& report = session_->tuningReport();
    const QString stale = session_->tuningStaleReason();
    paretoNote_->setVisible(!report);
    paretoNote_->setText(stale.isEmpty()
                             ? tr("Optimize to see the best\nobjective per bucket count")
                             : tr("Stale: the traffic or\nlatency changed.\nOptimize again."));
    paretoNote_->setColor(palette().color(QPalette::PlaceholderText));
    // Without a current front the value axis has nothing to say (not the old run's scale).
    pareto_->yAxis->setTickLabels(bool(report));
    if (!report)
        pareto_->xAxis->setRange(0.5, buckets_->value() + 0.5);
    if (report) {
        QVector<double> k, v, kk, kv;
        for (const auto& p : report->pareto)
            if (p.solution.feasible) {
                k << p.buckets;
                v << p.solution.objective;
                if (p.knee) {
                    kk << p.buckets;
                    kv << p.solution.objective;
                }
            }
        pareto_->graph(0)->setData(k, v, true);
        pareto_->graph(1)->setData(kk, kv, true);
        pareto_->graph(1)->setName(kk.isEmpty() ? QString() : tr("knee: K = %1").arg(kk.first()));
        if (!k.isEmpty()) {
            pareto_->xAxis->setRange(0.5, k.last() + 0.5);
            double top = 0;
            for (double x : v)
                top = std::max(top, x);
            pareto_->yAxis->setRange(0, top * 1.1);
        }
        pareto_->legend->setVisible(!kk.isEmpty());
        pareto_->graph(0)->removeFromLegend();
    }
    pareto_->replot(QCustomPlot::rpQueuedReplot);
}

void BucketsView::refreshTuning()
{
    const auto& report = session_->tuningReport();
    const QString stale = session_->tuningStaleReason();
    comparisonModel_->setReport(report);
    comparisonNote_->setVisible(!report);
    comparisonNote_->setText(
        stale.isEmpty() ? tr("Run Optimize to compare the exact optimum with the baselines.")
                        : tr("Not shown: the optimum and baselines were priced before %1. "
                             "<a href=\"optimize\">Optimize again</a>")
                              .arg(stale.toHtmlEscaped()));
    if (!jobs_->isRunning()) {
        if (report)
            jobs_->showOutcome(
                1.0, report->solution.feasible
                         ? tr("optimum found in %1 ms").arg(report->solution.solveMs, 0, 'g', 3)
                         : tr("infeasible"));
        else
            jobs_->showOutcome(0.0, stale.isEmpty() ? tr("idle") : tr("stale: Optimize again"));
    }
    optimizeButton_->setText(stale.isEmpty() ? tr("Optimize") : tr("Optimize again"));
    optimizeButton_->setToolTip(stale.isEmpty()
                                    ? tr("Find the provably optimal boundaries and compare them "
                                         "with the baselines")
                                    : tr("The last optimum is stale: %1").arg(stale));
    refreshBaselines();
    refreshPareto();
}

void BucketsView::refreshTotals()
{
    const auto& e = session_->evaluation();
    if (!e) {
        totals_->setText(session_->histogram().empty()
                             ? tr("No traffic loaded")
                             : tr("Add a latency curve (a profile or a spec) to see latency"));
        return;
    }
    const QLocale locale;
    const auto& s = e->stats;
    totals_->setText(tr("Mean %1 ms · p50 %2 ms · p99 %3 ms · waste %4 % · rejected %5 % · "
                        "%6 requests/s (one stream)")
                         .arg(locale.toString(s.meanLatencyMs, 'f', 2))
                         .arg(locale.toString(s.p50LatencyMs, 'f', 2))
                         .arg(locale.toString(s.p99LatencyMs, 'f', 2))
                         .arg(locale.toString(s.wastePct, 'f', 1))
                         .arg(locale.toString(s.rejectedPct, 'f', 2))
                         .arg(locale.toString(s.requestsPerSecond, 'f', 1)));
    // One sentence per kind of note, however many points or buckets it concerns: the strip
    // stays readable, and the tooltip lists every adjustment in full.
    QStringList notes, details;
    QStringList adjusted;
    for (const auto& adj : session_->latency().adjustments()) {
        adjusted << QString::number(adj.length);
        details << tr("Measured %1 ms at length %2, but length %3 measured %4 ms.")
                       .arg(adj.measuredMs, 0, 'f', 2)
                       .arg(adj.length)
                       .arg(adj.cheaperLength)
                       .arg(adj.usedMs, 0, 'f', 2);
    }
    if (!adjusted.isEmpty())
        notes << tr("The curve uses a bigger, faster bucket at length(s) %1 (measured slower "
                    "than a longer length).",
                    nullptr, int(adjusted.size()))
                     .arg(adjusted.join(", "));
    QStringList extrapolated;
    for (const auto& b : e->buckets)
        if (b.extrapolated)
            extrapolated << QString::number(b.boundary);
    if (!extrapolated.isEmpty())
        notes << tr("Bucket(s) %1 lie beyond the measured latency points (extrapolated).", nullptr,
                    int(extrapolated.size()))
                     .arg(extrapolated.join(", "));
    if (s.rejected > 0)
        notes << tr("%1 requests are longer than the largest bucket and would be rejected.")
                     .arg(locale.toString(qlonglong(s.rejected)));
    // A set that serves less than the current one says so first, in red.
    bool shrinks = false;
    for (const auto& set : session_->boundarySets())
        if (set.kind == "current" && !set.boundaries.empty() && !e->boundaries.empty()) {
            const auto range =
                servedRangeChange(session_->histogram(), set.boundaries, e->boundaries);
            if (range.shrinks()) {
                shrinks = true;
                notes.prepend(tr("This set %1.").arg(QString::fromStdString(range.describe())));
            }
        }
    // A tuned set priced under a newer curve or traffic is no optimum: say so, and how to get one.
    const QString staleFor = session_->staleFor(session_->activeIndex());
    if (!staleFor.isEmpty())
        notes.prepend(tr("These boundaries were optimized for %1; the figures here use the "
                         "current traffic and latency. Optimize again for their optimum.")
                          .arg(staleFor));
    notes_->setStyleSheet(shrinks ? QStringLiteral("color: #b3261e; font-weight: 600;")
                                  : QString());
    notes_->setText(notes.join(" "));
    notes_->setToolTip(details.join("\n"));
}

void BucketsView::refreshSetChooser()
{
    const QSignalBlocker block(setChooser_);
    const auto& sets = session_->boundarySets();
    // Relabel in place when the list is the same length (a drag relabels on every step).
    if (setChooser_->count() != int(sets.size())) {
        setChooser_->clear();
        for (size_t i = 0; i < sets.size(); ++i)
            setChooser_->addItem(QString());
    }
    for (size_t i = 0; i < sets.size(); ++i) {
        const QString label = session_->setLabel(int(i));
        if (setChooser_->itemText(int(i)) != label) {
            setChooser_->setItemText(int(i), label);
            setChooser_->setItemData(int(i), label, Qt::ToolTipRole);
        }
        const QColor color = boundarySetColor(sets[i], palette());
        if (setChooser_->itemData(int(i), kSetColorRole).value<QColor>() != color) {
            setChooser_->setItemData(int(i), color, kSetColorRole);
            setChooser_->setItemIcon(int(i), swatch(color));
        }
    }
    setChooser_->setCurrentIndex(session_->activeIndex());
    setChooser_->setToolTip(
        setChooser_->currentText().isEmpty()
            ? tr("The boundary set shown and edited")
            : tr("The boundary set shown and edited: %1").arg(setChooser_->currentText()));
}

void BucketsView::applyDataColours()
{
    const QPalette pal = palette();
    comparisonModel_->setPalette(pal);
    const QColor traffic = dataColor(DataRole::Traffic, pal);
    realGraph_->setPen(QPen(isDarkPalette(pal) ? traffic.lighter(130) : traffic.darker(130), 1));
    realGraph_->setBrush(QBrush(traffic));
    paddedGraph_->setPen(QPen(dataColor(DataRole::Padding, pal), 1));
    paddedGraph_->setBrush(paddingBrush(pal));
    const QColor latency = dataColor(DataRole::LatencyCurve, pal);
    curveGraph_->setPen(QPen(latency, 1.2, Qt::DotLine));
    measuredGraph_->setPen(QPen(latency, 1.5));
    servedGraph_->setPen(QPen(dataColor(DataRole::LatencyPaid, pal), 2.5));
    // The Pareto front is made of tuned optima: the tuned colour, its knee as in the report.
    pareto_->graph(0)->setPen(QPen(boundarySetColor("tuned", "tuned", pal), 2));
    pareto_->graph(1)->setScatterStyle(QCPScatterStyle(
        QCPScatterStyle::ssStar, QPen(dataColor(DataRole::Knee, pal), 2), Qt::NoBrush, 14));
}

QColor BucketsView::activeSetColor() const
{
    const BoundarySet* set = session_->activeSet();
    return set ? boundarySetColor(*set, palette()) : palette().color(QPalette::Text);
}

void BucketsView::keepHandleLabelsInside()
{
    const QRect rect = plot_->axisRect()->rect();
    for (auto* label : handleLabels_) {
        const double x = plot_->xAxis->coordToPixel(label->position->coords().x());
        const QFontMetrics metrics(label->font());
        const double half = (metrics.horizontalAdvance(label->text()) + label->padding().left() +
                             label->padding().right()) /
                                2.0 +
                            1;
        Qt::Alignment h = Qt::AlignHCenter;
        if (x + half > rect.right())
            h = Qt::AlignRight; // the text ends at the line
        else if (x - half < rect.left())
            h = Qt::AlignLeft;
        label->setPositionAlignment(Qt::AlignTop | h);
    }
}

QString BucketsView::setBoundariesFromText(const QString& text, const QString& what)
{
    if (!session_->activeSet()) {
        const QString message = tr("No boundary set to change: open a model, a package or the "
                                   "demo first.");
        showBoundariesError(message);
        return message;
    }
    // Lists as people copy them: "64, 128", a spreadsheet column, "[64, 128]" from Python or
    // JSON. Core's parser says what is wrong with anything else.
    QString list = text.trimmed();
    if (list.startsWith('[') && list.endsWith(']'))
        list = list.mid(1, list.size() - 2).trimmed();
    if (!list.contains(','))
        list.replace(QRegularExpression(QStringLiteral("\\s+")), QStringLiteral(","));
    std::optional<Boundaries> parsed;
    try {
        parsed = Boundaries::parse(list.toStdString(), Field::Boundaries);
    } catch (const Error& e) {
        // The field is this view's, whatever the export dialog calls its own.
        QString message = QString::fromStdString(firstLine(e.render([](Field f) {
            return f == Field::Boundaries ? tr("the boundaries").toStdString()
                                          : controlName(f).toStdString();
        })));
        if (!message.isEmpty())
            message[0] = message[0].toUpper();
        showBoundariesError(message);
        return message;
    }
    showBoundariesError(QString());
    boundariesEdit_->setModified(false);
    if (parsed->values() != session_->activeBoundaries().values())
        session_->editActiveBoundaries(
            parsed->values(), tr("%1 %2").arg(what, QString::fromStdString(parsed->str())));
    refreshBoundariesEdit();
    return QString();
}

void BucketsView::refreshBoundariesEdit()
{
    // Typing in progress is the user's; anything else follows the active set.
    if (boundariesEdit_->hasFocus() && boundariesEdit_->isModified())
        return;
    QStringList parts;
    for (int64_t b : session_->activeBoundaries())
        parts << QString::number(b);
    const QString text = parts.join(QStringLiteral(", "));
    if (boundariesEdit_->text() != text)
        boundariesEdit_->setText(text);
    boundariesEdit_->setEnabled(session_->activeSet() != nullptr);
}

void BucketsView::showBoundariesError(const QString& message)
{
    boundariesError_->setText(message);
    boundariesError_->setToolTip(message);
    boundariesError_->setVisible(!message.isEmpty());
    boundariesEdit_->setStyleSheet(
        message.isEmpty() ? QString() : QStringLiteral("QLineEdit { border: 2px solid #b3261e; }"));
}

void BucketsView::replot()
{
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

QPoint BucketsView::handlePosition(int index) const
{
    const auto b = session_->activeBoundaries();
    if (index < 0 || index >= int(b.size()))
        return {};
    const int x = int(std::lround(plot_->xAxis->coordToPixel(double(b[size_t(index)]))));
    const QRect r = plot_->axisRect()->rect();
    return plot_->mapTo(const_cast<BucketsView*>(this), QPoint(x, r.center().y()));
}

int BucketsView::handleAt(const QPoint& pos) const
{
    if (!plot_->axisRect()->rect().contains(pos))
        return -1;
    const auto b = session_->activeBoundaries();
    int best = -1;
    double bestDistance = kHandleGrabPixels + 0.5;
    for (size_t i = 0; i < b.size(); ++i) {
        const double d = std::abs(plot_->xAxis->coordToPixel(double(b[i])) - pos.x());
        if (d < bestDistance) {
            bestDistance = d;
            best = int(i);
        }
    }
    return best;
}

int64_t BucketsView::clampForIndex(int index, int64_t value) const
{
    const auto b = session_->activeBoundaries();
    const int64_t lo = index > 0 ? b[size_t(index - 1)] + 1 : 1;
    const int64_t hi = index + 1 < int(b.size()) ? b[size_t(index + 1)] - 1 : kMaxLength;
    return std::clamp(value, lo, hi);
}

void BucketsView::onMousePress(QMouseEvent* event)
{
    if (event->button() != Qt::LeftButton)
        return;
    const int hit = handleAt(event->pos());
    setFocus(Qt::MouseFocusReason);
    if (hit < 0) {
        if (selected_ >= 0) {
            selected_ = -1;
            refreshBoundaries();
            replot();
        }
        return;
    }
    // Grabbing a handle must not pan the axis.
    plot_->setInteraction(QCP::iRangeDrag, false);
    dragIndex_ = hit;
    selected_ = hit;
    dragStart_ = session_->activeBoundaries();
    refreshBoundaries();
    replot();
}

void BucketsView::onMouseMove(QMouseEvent* event)
{
    if (dragIndex_ < 0) {
        plot_->setCursor(handleAt(event->pos()) >= 0 ? Qt::SizeHorCursor : Qt::ArrowCursor);
        return;
    }
    const double x = plot_->xAxis->pixelToCoord(event->pos().x());
    const int64_t value = clampForIndex(dragIndex_, int64_t(std::llround(std::max(1.0, x))));
    auto b = session_->activeBoundaries().values();
    if (dragIndex_ >= int(b.size()) || b[size_t(dragIndex_)] == value)
        return;
    b[size_t(dragIndex_)] = value;
    session_->setActiveBoundaries(b); // live: table and totals follow the mouse
    QToolTip::showText(event->globalPosition().toPoint(), tr("%1 tokens").arg(value), plot_);
}

void BucketsView::onMouseRelease(QMouseEvent* event)
{
    Q_UNUSED(event);
    if (dragIndex_ < 0)
        return;
    const int index = dragIndex_;
    dragIndex_ = -1;
    plot_->setInteraction(QCP::iRangeDrag, true);
    session_->editActiveBoundaries(session_->activeBoundaries().values(),
                                   tr("Move boundary %1").arg(index + 1), dragStart_);
    dragStart_.reset();
    refreshBoundaries();
    replot();
}

void BucketsView::onDoubleClick(QMouseEvent* event)
{
    if (!plot_->axisRect()->rect().contains(event->pos()) || handleAt(event->pos()) >= 0)
        return;
    addBoundaryAt(int64_t(std::llround(plot_->xAxis->pixelToCoord(event->pos().x()))));
}

void BucketsView::addBoundaryAt(int64_t length)
{
    if (length < 1 || !session_->activeSet())
        return;
    auto b = session_->activeBoundaries().values();
    if (std::find(b.begin(), b.end(), length) != b.end())
        return;
    b.insert(std::upper_bound(b.begin(), b.end(), length), length);
    session_->editActiveBoundaries(b, tr("Add boundary %1").arg(length));
}

void BucketsView::removeBoundary(int index)
{
    auto b = session_->activeBoundaries().values();
    if (index < 0 || index >= int(b.size()) || b.size() <= 1)
        return; // a package needs at least one bucket
    const int64_t removed = b[size_t(index)];
    b.erase(b.begin() + index);
    selected_ = -1;
    session_->editActiveBoundaries(b, tr("Remove boundary %1").arg(removed));
}

void BucketsView::nudgeSelected(int64_t delta)
{
    auto b = session_->activeBoundaries().values();
    if (selected_ < 0 || selected_ >= int(b.size()))
        return;
    const int64_t value = clampForIndex(selected_, b[size_t(selected_)] + delta);
    if (value == b[size_t(selected_)])
        return;
    b[size_t(selected_)] = value;
    session_->editActiveBoundaries(b, tr("Move boundary %1").arg(selected_ + 1));
}

void BucketsView::showPlotMenu(const QPoint& pos)
{
    QMenu menu(this);
    const int hit = handleAt(pos);
    const int64_t length =
        std::max<int64_t>(1, int64_t(std::llround(plot_->xAxis->pixelToCoord(pos.x()))));
    if (hit >= 0) {
        const int64_t value = session_->activeBoundaries()[size_t(hit)];
        QAction* remove = menu.addAction(tr("Remove boundary %1").arg(value), this,
                                         [this, hit] { removeBoundary(hit); });
        remove->setEnabled(session_->activeBoundaries().size() > 1);
    } else if (plot_->axisRect()->rect().contains(pos) && session_->activeSet()) {
        menu.addAction(tr("Add boundary at %1").arg(length), this,
                       [this, length] { addBoundaryAt(length); });
    }
    menu.addSeparator();
    menu.addAction(tr("Export plot…"), this, [this] { showPlotExportDialog(plot_); });
    menu.exec(plot_->mapToGlobal(pos));
}

void BucketsView::keyPressEvent(QKeyEvent* event)
{
    const int64_t step = event->modifiers() & Qt::ShiftModifier ? 10 : 1;
    switch (event->key()) {
    case Qt::Key_Delete:
    case Qt::Key_Backspace: removeBoundary(selected_); return;
    case Qt::Key_Left: nudgeSelected(-step); return;
    case Qt::Key_Right: nudgeSelected(step); return;
    case Qt::Key_Insert:
    case Qt::Key_Plus: {
        // Split the selected bucket (or the last one) in the middle.
        const auto b = session_->activeBoundaries();
        if (b.empty())
            return;
        const int i = selected_ >= 0 ? selected_ : int(b.size()) - 1;
        const int64_t lo = i > 0 ? b[size_t(i - 1)] : 0;
        if (b[size_t(i)] - lo >= 2)
            addBoundaryAt((lo + b[size_t(i)]) / 2);
        return;
    }
    default: QWidget::keyPressEvent(event);
    }
}

void BucketsView::changeEvent(QEvent* event)
{
    if (event->type() == QEvent::PaletteChange && plot_) {
        applyPlotTheme(plot_, palette());
        applyPlotTheme(pareto_, palette());
        applyDataColours();
        rebuildTraffic();
        rebuildLatency();
        refreshSetChooser();
        refreshTuning();
        replot();
    }
    QWidget::changeEvent(event);
}

} // namespace bucketlab::ui
