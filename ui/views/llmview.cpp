#include "ui/views/llmview.h"

#include "core/llm/nxd_bucket_rule.h"
#include "core/report/svg_chart.h"
#include "ui/models/backgroundjob.h"
#include "ui/models/palette.h"
#include "ui/views/jobprogress.h"
#include "ui/views/plot.h"
#include "ui/views/plotsupport.h"

#include <QDir>
#include <QDoubleSpinBox>
#include <QEvent>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMouseEvent>
#include <QPushButton>
#include <QSaveFile>
#include <QSpinBox>
#include <QSplitter>
#include <QStandardPaths>
#include <QToolTip>
#include <QUndoStack>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

// The .qrc is in a static library (see mainwindow.cpp): register it for this view too.
static void initLlmResources()
{
    Q_INIT_RESOURCE(resources);
}

namespace bucketlab::ui {

namespace {

constexpr int kGrabPixels = 6;
constexpr int kMaxBars = 300;

// The lists being edited take the colour the report gives tuned boundaries; NxD's defaults
// the powers-of-two baseline's, dashed.
QColor listColor(const QPalette& palette)
{
    return boundarySetColor("llm", "tuned", palette);
}

QColor defaultsColor(const QPalette& palette)
{
    return boundarySetColor("powers_of_two", "baseline", palette);
}

} // namespace

LlmView::LlmView(LlmSession* session, QWidget* parent) : QWidget(parent), session_(session)
{
    setObjectName("llmView");
    initLlmResources();

    // Inputs: the trace, the two curves, NxD's limits, the budgets.
    QHBoxLayout* traceButtons = buildTraceButtons();
    buildInputFields();
    QGridLayout* inputs = layoutInputs(traceButtons);
    buildSummaryLabels();
    setUpPhasePlot(cte_, "llmCtePlot", tr("prompt length (tokens): CTE buckets"));
    setUpPhasePlot(tkg_, "llmTkgPlot", tr("decode position (tokens): TKG buckets"));
    cte_.plot->yAxis->setLabel(tr("requests"));
    tkg_.plot->yAxis->setLabel(tr("decode steps"));

    // The joint Pareto front and the actions.
    buildParetoPlot();
    QHBoxLayout* actions = buildActions();
    QSplitter* split = buildPlotSplitter();

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(inputs);
    layout->addWidget(totals_);
    layout->addWidget(rules_);
    layout->addWidget(split, 1);
    layout->addLayout(actions);
    layout->addWidget(status_);

    connectSession();
    applyColours();
    applyInputs();
    refreshTotals();
}

// Open a trace file, or the built-in demo trace.
QHBoxLayout* LlmView::buildTraceButtons()
{
    auto* open = new QPushButton(tr("Open trace…"), this);
    open->setObjectName("llmOpenTrace");
    open->setToolTip(tr("A CSV/TSV/JSONL of prompt and output token counts, e.g. the Azure "
                        "trace's ContextTokens,GeneratedTokens[,count]"));
    connect(open, &QPushButton::clicked, this, &LlmView::showOpenDialog);
    auto* demo = new QPushButton(tr("Demo trace"), this);
    demo->setObjectName("llmDemoTrace");
    demo->setToolTip(tr("The Azure LLM inference trace of a coding service (8,819 requests; "
                        "Microsoft Azure, CC-BY-4.0), built in"));
    connect(demo, &QPushButton::clicked, this, &LlmView::openDemoTrace);
    auto* row = new QHBoxLayout;
    row->addWidget(open);
    row->addWidget(demo);
    return row;
}

// The trace label, the two latency curves, NxD's limits and the budgets; editing one applies
// the inputs.
void LlmView::buildInputFields()
{
    trafficLabel_ = new QLabel(tr("No trace"), this);
    trafficLabel_->setObjectName("llmTrafficLabel");
    trafficLabel_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    cteCurve_ = new QLineEdit(QStringLiteral("poly:8,0.025,0.0000025"), this);
    cteCurve_->setObjectName("llmCteCurve");
    cteCurve_->setToolTip(tr("CTE (prefill) latency by prompt bucket, ms: a profile file or "
                             "linear:a,b / poly:c0,c1,c2"));
    tkgCurve_ = new QLineEdit(QStringLiteral("linear:9,0.0004"), this);
    tkgCurve_->setObjectName("llmTkgCurve");
    tkgCurve_->setToolTip(tr("TKG latency of one decode step by sequence bucket, ms"));
    maxContext_ = new QSpinBox(this);
    maxContext_->setObjectName("llmMaxContext");
    maxContext_->setRange(1, int(kMaxLength));
    maxContext_->setValue(int(session_->limits().maxContextLength));
    maxContext_->setToolTip(tr("NxD max_context_length: the longest prompt; the largest CTE "
                               "bucket"));
    seqLen_ = new QSpinBox(this);
    seqLen_->setObjectName("llmSeqLen");
    seqLen_->setRange(1, int(kMaxLength));
    seqLen_->setValue(int(session_->limits().seqLen));
    seqLen_->setToolTip(tr("NxD seq_len (vLLM --max-model-len): the longest prompt + output; "
                           "the largest TKG bucket"));
    buckets_ = new QSpinBox(this);
    buckets_->setObjectName("llmBuckets");
    buckets_->setRange(2, 64);
    buckets_->setValue(session_->totalBuckets());
    buckets_->setToolTip(tr("Compiled models Optimize may use: CTE + TKG buckets"));
    compileCost_ = new QLineEdit(this);
    compileCost_->setObjectName("llmCompileCost");
    compileCost_->setPlaceholderText(tr("e.g. linear:60,0.01 (s by length)"));
    compileCost_->setToolTip(tr("Compile time of one bucket, seconds by its length (the same "
                                "for CTE and TKG): linear:a,b or a CSV length,compile_s"));
    compileBudget_ = new QDoubleSpinBox(this);
    compileBudget_->setObjectName("llmCompileBudget");
    compileBudget_->setRange(0, 1e7);
    compileBudget_->setDecimals(0);
    compileBudget_->setSuffix(tr(" s"));
    compileBudget_->setSpecialValueText(tr("none"));
    compileBudget_->setToolTip(tr("Total compile time Optimize may spend (needs a compile "
                                  "cost); points of the front above it are greyed"));

    for (auto* edit : {cteCurve_, tkgCurve_, compileCost_})
        connect(edit, &QLineEdit::editingFinished, this, &LlmView::applyInputs);
    for (auto* spin : {maxContext_, seqLen_})
        connect(spin, &QSpinBox::editingFinished, this, &LlmView::applyInputs);
    connect(buckets_, &QSpinBox::valueChanged, session_, &LlmSession::setTotalBuckets);
    connect(compileBudget_, &QDoubleSpinBox::valueChanged, this, [this](double v) {
        session_->setCompileBudget(v);
        refreshPareto();
    });
}

QGridLayout* LlmView::layoutInputs(QHBoxLayout* traceButtons)
{
    auto* inputs = new QGridLayout;
    inputs->addLayout(traceButtons, 0, 0);
    inputs->addWidget(trafficLabel_, 0, 1, 1, 5);
    inputs->addWidget(new QLabel(tr("CTE latency:"), this), 1, 0);
    inputs->addWidget(cteCurve_, 1, 1);
    inputs->addWidget(new QLabel(tr("TKG latency:"), this), 1, 2);
    inputs->addWidget(tkgCurve_, 1, 3);
    inputs->addWidget(new QLabel(tr("Compile cost:"), this), 1, 4);
    inputs->addWidget(compileCost_, 1, 5);
    inputs->addWidget(new QLabel(tr("Max context length:"), this), 2, 0);
    inputs->addWidget(maxContext_, 2, 1);
    inputs->addWidget(new QLabel(tr("Seq len:"), this), 2, 2);
    inputs->addWidget(seqLen_, 2, 3);
    inputs->addWidget(new QLabel(tr("Total buckets:"), this), 2, 4);
    auto* budgets = new QHBoxLayout;
    budgets->addWidget(buckets_);
    budgets->addWidget(new QLabel(tr("Compile budget:"), this));
    budgets->addWidget(compileBudget_, 1);
    inputs->addLayout(budgets, 2, 5);
    inputs->setColumnStretch(1, 2);
    inputs->setColumnStretch(3, 2);
    inputs->setColumnStretch(5, 2);
    return inputs;
}

// The totals line, the broken rules and the status line.
void LlmView::buildSummaryLabels()
{
    totals_ = new QLabel(this);
    totals_->setObjectName("llmTotals");
    totals_->setWordWrap(true);
    totals_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    QFont bold = totals_->font();
    bold.setBold(true);
    totals_->setFont(bold);
    rules_ = new QLabel(this);
    rules_->setObjectName("llmRules");
    rules_->setWordWrap(true);
    rules_->setStyleSheet(QStringLiteral("color: #b3261e; font-weight: 600;"));
    rules_->hide();
    status_ = new QLabel(this);
    status_->setObjectName("llmStatus");
    status_->setWordWrap(true);
    status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
}

// The joint Pareto front: a click on one of its points takes its lists.
void LlmView::buildParetoPlot()
{
    pareto_ = new QCustomPlot(this);
    pareto_->setObjectName("llmParetoPlot");
    pareto_->setMinimumSize(300, 220);
    pareto_->xAxis->setLabel(tr("compiled models (CTE + TKG)"));
    pareto_->yAxis->setLabel(tr("mean request latency (ms)"));
    pareto_->legend->setVisible(true);
    QSharedPointer<QCPAxisTickerFixed> integers(new QCPAxisTickerFixed);
    integers->setTickStep(1);
    integers->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
    pareto_->xAxis->setTicker(integers);
    pareto_->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignBottom | Qt::AlignRight);
    paretoHint_ = new QCPItemText(pareto_);
    paretoHint_->position->setType(QCPItemPosition::ptAxisRectRatio);
    paretoHint_->position->setCoords(0.5, 0.25);
    paretoHint_->setText(tr("Optimize to see the joint\nPareto front: the lowest\nmean "
                            "request latency\nfor each total of buckets"));
    frontGraph_ = pareto_->addGraph();
    frontGraph_->setName(tr("optimum per total (CTE+TKG)"));
    overBudgetGraph_ = pareto_->addGraph();
    overBudgetGraph_->setName(tr("over the compile budget"));
    overBudgetGraph_->setLineStyle(QCPGraph::lsNone);
    nxdGraph_ = pareto_->addGraph();
    nxdGraph_->setName(tr("NxD default"));
    nxdGraph_->setLineStyle(QCPGraph::lsNone);
    currentGraph_ = pareto_->addGraph();
    currentGraph_->setName(tr("these lists"));
    currentGraph_->setLineStyle(QCPGraph::lsNone);
    pareto_->setToolTip(tr("Click a point of the front to take its lists (one undo step)"));
    connect(pareto_, &QCustomPlot::mousePress, this, [this](QMouseEvent* event) {
        const auto& r = session_->tuneResult();
        if (!r || event->button() != Qt::LeftButton)
            return;
        int best = -1;
        double bestDistance = 12;
        for (int i = 0; i < int(r->paretoByModels.size()); ++i) {
            const QPoint p = paretoPointPosition(i);
            const double d =
                std::hypot(double(p.x() - event->pos().x()), double(p.y() - event->pos().y()));
            if (d < bestDistance) {
                bestDistance = d;
                best = i;
            }
        }
        if (best >= 0)
            session_->applyParetoPoint(best);
    });
    applyPlotTheme(pareto_, palette());
    installPlotExportMenu(pareto_);
}

// Optimize, Cancel, its progress, NxD defaults and Export, and what the optimizer reports.
QHBoxLayout* LlmView::buildActions()
{
    optimizeButton_ = new QPushButton(tr("Optimize"), this);
    optimizeButton_->setObjectName("llmOptimize");
    optimizeButton_->setToolTip(tr("Tune the CTE and TKG lists jointly for the total buckets "
                                   "(exact), off the UI thread; one undo step"));
    jobs_ = new JobProgress("llm", JobProgress::Idle::Shown, this);
    jobs_->track(session_->optimizeJob());
    auto* reset = new QPushButton(tr("NxD defaults"), this);
    reset->setObjectName("llmReset");
    reset->setToolTip(tr("Set the lists to NxD's defaults (generate_buckets from 128)"));
    exportButton_ = new QPushButton(tr("Export configs…"), this);
    exportButton_->setObjectName("llmExport");
    exportButton_->setToolTip(tr("Write nxd_config.json (NxD Inference NeuronConfig fragment) "
                                 "and vllm_config.json (vLLM --additional-config) into a "
                                 "folder, after NxD's and vLLM's rule checks"));
    connect(optimizeButton_, &QPushButton::clicked, this, &LlmView::optimize);
    connect(reset, &QPushButton::clicked, session_, &LlmSession::resetToNxdDefaults);
    connect(exportButton_, &QPushButton::clicked, this, &LlmView::showExportDialog);
    // After the bar's own "done": a job that ended without boundaries tuned nothing.
    connect(session_->optimizeJob(), &BackgroundJob::finished, this, [this] {
        if (!session_->tuneResult() || !session_->tuneResult()->feasible)
            jobs_->showOutcome(0.0, tr("no feasible lists"));
    });
    connect(session_, &LlmSession::optimizeFinished, this, [this](bool ok, const QString& message) {
        optimizeButton_->setEnabled(true);
        if (ok) {
            const auto& r = *session_->tuneResult();
            setStatus(tr("Optimized in %1 ms: %2")
                          .arg(r.solveMs, 0, 'f', 1)
                          .arg(QString::fromStdString(r.exactness)),
                      false);
        } else
            setStatus(message, true);
    });

    auto* actions = new QHBoxLayout;
    actions->addWidget(optimizeButton_);
    actions->addWidget(jobs_, 1);
    actions->addWidget(reset);
    actions->addWidget(exportButton_);
    return actions;
}

// The two phase histograms above each other, beside the Pareto front.
QSplitter* LlmView::buildPlotSplitter()
{
    auto* side = new QWidget(this);
    auto* sideLayout = new QVBoxLayout(side);
    sideLayout->setContentsMargins(0, 0, 0, 0);
    sideLayout->addWidget(pareto_, 1);
    auto* plots = new QSplitter(Qt::Vertical, this);
    plots->addWidget(cte_.plot);
    plots->addWidget(tkg_.plot);
    auto* split = new QSplitter(Qt::Horizontal, this);
    split->addWidget(plots);
    split->addWidget(side);
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 1);
    split->setSizes({900, 450});
    return split;
}

void LlmView::connectSession()
{
    connect(session_, &LlmSession::trafficChanged, this, [this] {
        trafficLabel_->setText(tr("%1: %2 requests, %3 distinct (prompt, output) pairs")
                                   .arg(session_->trafficSource())
                                   .arg(session_->traffic().requests())
                                   .arg(qulonglong(session_->traffic().pairs().size())));
        rebuildHistograms();
    });
    connect(session_, &LlmSession::inputsChanged, this, &LlmView::rebuildHistograms);
    connect(session_, &LlmSession::listsChanged, this, [this] {
        refreshHandles();
        refreshTotals();
        refreshPareto();
    });
    connect(session_, &LlmSession::tuneResultChanged, this, &LlmView::refreshPareto);
}

void LlmView::setUpPhasePlot(PhasePlot& p, const QString& name, const QString& xLabel)
{
    p.plot = new QCustomPlot(this);
    p.plot->setObjectName(name);
    p.plot->setMinimumSize(360, 200);
    p.plot->xAxis->setLabel(xLabel);
    p.plot->setMouseTracking(true);
    p.plot->setToolTip(tr("Drag a boundary handle to move it (the largest is pinned at the "
                          "limit NxD needs); double-click a handle to remove it, or elsewhere to "
                          "add a bucket there; the totals follow; Undo brings it back"));
    p.bars = new QCPBars(p.plot->xAxis, p.plot->yAxis);
    p.bars->setWidthType(QCPBars::wtPlotCoords);
    p.bars->setName(p.phase == LlmPhase::Cte ? tr("requests") : tr("decode steps"));
    p.listsKey = p.plot->addGraph();
    p.listsKey->setName(p.phase == LlmPhase::Cte ? tr("CTE buckets (drag)")
                                                 : tr("TKG buckets (drag)"));
    p.defaultsKey = p.plot->addGraph();
    p.defaultsKey->setName(tr("NxD default"));
    p.plot->legend->setVisible(true);
    p.plot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignVCenter | Qt::AlignRight);
    applyPlotTheme(p.plot, palette());
    installPlotExportMenu(p.plot);
    connect(p.plot, &QCustomPlot::mousePress, this, [this, &p](QMouseEvent* e) { onPress(p, e); });
    connect(p.plot, &QCustomPlot::mouseMove, this, [this, &p](QMouseEvent* e) { onMove(p, e); });
    connect(p.plot, &QCustomPlot::mouseRelease, this, [this, &p](QMouseEvent*) { onRelease(p); });
    connect(p.plot, &QCustomPlot::mouseDoubleClick, this,
            [this, &p](QMouseEvent* e) { onDoubleClick(p, e); });
}

QCustomPlot* LlmView::plot(LlmPhase phase) const
{
    return phasePlot(phase).plot;
}

void LlmView::applyInputs()
{
    QString error = session_->setCurves(cteCurve_->text(), tkgCurve_->text());
    if (error.isEmpty())
        error = session_->setLimits(maxContext_->value(), seqLen_->value());
    if (error.isEmpty())
        error = session_->setCompileCost(compileCost_->text());
    if (!error.isEmpty())
        setStatus(error, true);
    else if (status_->property("error").toBool())
        setStatus(QString(), false);
}

void LlmView::setStatus(const QString& text, bool error)
{
    status_->setText(text);
    status_->setProperty("error", error);
    status_->setStyleSheet(error ? QStringLiteral("color: #b3261e; font-weight: 600;") : QString());
}

void LlmView::openTraffic(const QString& fileOrSpec)
{
    const QString error = session_->openTraffic(fileOrSpec);
    if (!error.isEmpty())
        setStatus(error, true);
    else
        setStatus(tr("Opened %1").arg(fileOrSpec), false);
}

void LlmView::openDemoTrace()
{
    QString dir = QStandardPaths::writableLocation(QStandardPaths::CacheLocation);
    if (dir.isEmpty())
        dir = QDir::tempPath() + "/bucketlab";
    const QString path = QDir(dir).filePath("llm/azure_code_pairs.csv");
    QFile in(QStringLiteral(":/bucketlab/llm/azure_code_pairs.csv"));
    QSaveFile out(path);
    if (!QDir().mkpath(QFileInfo(path).absolutePath()) || !in.open(QIODevice::ReadOnly) ||
        !out.open(QIODevice::WriteOnly) || out.write(in.readAll()) < 0 || !out.commit()) {
        setStatus(tr("Cannot write the demo trace to %1").arg(QDir::toNativeSeparators(path)),
                  true);
        return;
    }
    openTraffic(path);
}

void LlmView::showOpenDialog()
{
    auto* dialog = new QFileDialog(this, tr("Open LLM request trace"), QString(),
                                   tr("Request traces (*.csv *.tsv *.jsonl *.ndjson);;All files "
                                      "(*)"));
    dialog->setObjectName("llmOpenDialog");
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setFileMode(QFileDialog::ExistingFile);
    dialog->setWindowModality(Qt::WindowModal);
    connect(dialog, &QFileDialog::fileSelected, this, &LlmView::openTraffic);
    dialog->open();
}

void LlmView::showExportDialog()
{
    auto* dialog = new QFileDialog(this, tr("Export NxD and vLLM configs into a folder"));
    dialog->setObjectName("llmExportDialog");
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setFileMode(QFileDialog::Directory);
    dialog->setOption(QFileDialog::ShowDirsOnly);
    dialog->setWindowModality(Qt::WindowModal);
    connect(dialog, &QFileDialog::fileSelected, this, [this](const QString& dir) {
        exportTo(QDir(dir).filePath("nxd_config.json"), QDir(dir).filePath("vllm_config.json"));
    });
    dialog->open();
}

QString LlmView::exportTo(const QString& nxdPath, const QString& vllmPath)
{
    const QString error = session_->exportConfigs(nxdPath, vllmPath);
    if (error.isEmpty())
        setStatus(tr("Wrote %1 and %2 (they pass NxD's and vLLM's rules)")
                      .arg(QDir::toNativeSeparators(nxdPath), QDir::toNativeSeparators(vllmPath)),
                  false);
    else
        setStatus(tr("Not exported: %1").arg(error), true);
    return error;
}

QString LlmView::statusText() const
{
    return status_->text();
}

QString LlmView::rulesText() const
{
    return rules_->isHidden() ? QString() : rules_->text();
}

QString LlmView::totalsText() const
{
    return totals_->text();
}

void LlmView::optimize()
{
    optimizeButton_->setEnabled(false);
    setStatus(tr("Optimizing…"), false);
    session_->optimize();
}

void LlmView::rebuildHistograms()
{
    const DecodeWorkload* w = session_->workload();
    for (PhasePlot* p : {&cte_, &tkg_}) {
        const int64_t xMax = p->phase == LlmPhase::Cte ? session_->limits().maxContextLength
                                                       : session_->limits().seqLen;
        QVector<double> keys, values;
        if (w) {
            const LengthHistogram& h = p->phase == LlmPhase::Cte ? w->cte : w->tkg;
            const int64_t width = std::max<int64_t>(1, int64_t(niceCeil(double(xMax) / kMaxBars)));
            std::vector<double> bins(size_t(xMax / width) + 1, 0);
            for (size_t i = 0; i < h.distinct(); ++i)
                bins[size_t(std::min(h.lengths()[i], xMax) / width)] += double(h.counts()[i]);
            for (size_t i = 0; i < bins.size(); ++i) {
                keys << (double(i) + 0.5) * double(width);
                values << bins[i];
            }
            p->bars->setWidth(double(width));
            const QString what = p->phase == LlmPhase::Cte ? tr("requests") : tr("decode steps");
            p->plot->yAxis->setLabel(width == 1 ? tr("%1 per length").arg(what)
                                                : tr("%1 per %2 lengths").arg(what).arg(width));
        }
        p->bars->setData(keys, values, true);
        p->plot->xAxis->setRange(0, double(xMax) * 1.02);
        const double top = values.isEmpty() ? 1 : *std::max_element(values.begin(), values.end());
        p->plot->yAxis->setRange(0, std::max(1.0, top * 1.12));
    }
    refreshHandles();
    refreshTotals();
}

void LlmView::refreshHandles()
{
    refreshHandles(cte_);
    refreshHandles(tkg_);
}

void LlmView::refreshHandles(PhasePlot& p)
{
    const auto& b = session_->lists(p.phase).values();
    const QColor c = listColor(palette());
    const QColor bg = palette().color(QPalette::Base);
    while (p.handles.size() > b.size()) {
        p.plot->removeItem(p.handles.back());
        p.plot->removeItem(p.labels.back());
        p.handles.pop_back();
        p.labels.pop_back();
    }
    while (p.handles.size() < b.size()) {
        auto* line = new QCPItemStraightLine(p.plot);
        line->point1->setTypeX(QCPItemPosition::ptPlotCoords);
        line->point1->setTypeY(QCPItemPosition::ptAxisRectRatio);
        line->point2->setTypeX(QCPItemPosition::ptPlotCoords);
        line->point2->setTypeY(QCPItemPosition::ptAxisRectRatio);
        p.handles.push_back(line);
        auto* label = new QCPItemText(p.plot);
        label->position->setTypeX(QCPItemPosition::ptPlotCoords);
        label->position->setTypeY(QCPItemPosition::ptAxisRectRatio);
        label->setPositionAlignment(Qt::AlignTop | Qt::AlignHCenter);
        label->setPadding(QMargins(2, 1, 2, 1));
        label->setClipToAxisRect(false);
        p.labels.push_back(label);
    }
    for (size_t i = 0; i < b.size(); ++i) {
        const bool pinned = i + 1 == b.size();
        const bool dragged = dragPhase_ == p.phase && int(i) == dragIndex_;
        p.handles[i]->point1->setCoords(double(b[i]), 0);
        p.handles[i]->point2->setCoords(double(b[i]), 1);
        p.handles[i]->setPen(QPen(c, dragged ? 4.0 : pinned ? 1.5 : 2.5));
        // Alternate rows so neighbouring labels do not cover each other.
        p.labels[i]->position->setCoords(double(b[i]), i % 2 == 0 ? 0.01 : 0.09);
        p.labels[i]->setText(QString::number(b[i]));
        p.labels[i]->setColor(c);
        p.labels[i]->setBrush(QBrush(bg));
        p.labels[i]->setPen(QPen(c));
    }
    // NxD's defaults behind the handles, dashed.
    for (auto* d : p.defaults)
        p.plot->removeItem(d);
    p.defaults.clear();
    const int64_t limit =
        p.phase == LlmPhase::Cte ? session_->limits().maxContextLength : session_->limits().seqLen;
    QPen dash(defaultsColor(palette()), 1.4, boundarySetDash("powers_of_two"));
    for (auto v : nxdGenerateBuckets(kNxdDefaultMinBucket, limit)) {
        auto* line = new QCPItemStraightLine(p.plot);
        line->point1->setTypeY(QCPItemPosition::ptAxisRectRatio);
        line->point2->setTypeY(QCPItemPosition::ptAxisRectRatio);
        line->point1->setCoords(double(v), 0);
        line->point2->setCoords(double(v), 1);
        line->setPen(dash);
        line->setSelectable(false);
        p.defaults.push_back(line);
    }
    p.plot->replot(QCustomPlot::rpQueuedReplot);
}

void LlmView::refreshTotals()
{
    totals_->setText(session_->totalsText());
    const auto violations = session_->violations();
    QStringList lines;
    for (const auto& v : violations)
        lines << tr("NxD rule %1: %2")
                     .arg(QString::fromStdString(v.rule), QString::fromStdString(v.message));
    rules_->setText(lines.join('\n'));
    rules_->setVisible(!lines.isEmpty());
    exportButton_->setEnabled(!session_->lists(LlmPhase::Cte).empty());
}

void LlmView::refreshPareto()
{
    const auto& r = session_->tuneResult();
    QVector<double> fx, fy, ox, oy;
    double top = 1, kMax = 2;
    if (r) {
        const double budget = session_->compileBudget();
        for (const auto& p : r->paretoByModels) {
            fx << p.models;
            fy << p.meanRequestMs;
            if (budget > 0 && session_->costs().cteCompile.known() && p.compileS > budget) {
                ox << p.models;
                oy << p.meanRequestMs;
            }
            top = std::max(top, p.meanRequestMs);
            kMax = std::max(kMax, double(p.models));
        }
        for (const auto& b : r->baselines)
            if (b.name == "nxd_default") {
                nxdGraph_->setData({double(b.evaluation.models)}, {b.evaluation.meanRequestMs});
                top = std::max(top, b.evaluation.meanRequestMs);
                kMax = std::max(kMax, double(b.evaluation.models));
            }
    } else
        nxdGraph_->data()->clear();
    frontGraph_->setData(fx, fy, true);
    paretoHint_->setVisible(!r);
    for (auto* label : splitLabels_)
        pareto_->removeItem(label);
    splitLabels_.clear();
    if (r)
        for (const auto& p : r->paretoByModels) {
            auto* label = new QCPItemText(pareto_);
            label->position->setCoords(double(p.models), p.meanRequestMs);
            label->setPositionAlignment(Qt::AlignBottom | Qt::AlignHCenter);
            label->setPadding(QMargins(0, 0, 0, 6));
            label->setText(QString("%1+%2").arg(p.cteModels).arg(p.tkgModels));
            label->setColor(palette().color(QPalette::PlaceholderText));
            splitLabels_.push_back(label);
        }
    overBudgetGraph_->setData(ox, oy, true);
    if (const auto& e = session_->evaluation()) {
        currentGraph_->setData({double(e->models)}, {e->meanRequestMs});
        top = std::max(top, e->meanRequestMs);
        kMax = std::max(kMax, double(e->models));
    } else
        currentGraph_->data()->clear();
    pareto_->xAxis->setRange(0.5, kMax + 0.5);
    pareto_->yAxis->setRange(0, top * 1.15);
    pareto_->replot(QCustomPlot::rpQueuedReplot);
}

void LlmView::applyColours()
{
    const QPalette& pal = palette();
    for (PhasePlot* p : {&cte_, &tkg_}) {
        const QColor t = dataColor(DataRole::Traffic, pal);
        p->bars->setPen(Qt::NoPen);
        p->bars->setBrush(t);
        p->listsKey->setPen(QPen(listColor(pal), 2.5));
        p->defaultsKey->setPen(QPen(defaultsColor(pal), 1.4, boundarySetDash("powers_of_two")));
    }
    const QColor muted = pal.color(QPalette::PlaceholderText);
    paretoHint_->setColor(muted);
    frontGraph_->setPen(QPen(pal.color(QPalette::Text), 1.8));
    frontGraph_->setScatterStyle(QCPScatterStyle(
        QCPScatterStyle::ssCircle, pal.color(QPalette::Text), pal.color(QPalette::Text), 6));
    overBudgetGraph_->setScatterStyle(
        QCPScatterStyle(QCPScatterStyle::ssCircle, muted, pal.color(QPalette::Base), 9));
    nxdGraph_->setScatterStyle(
        QCPScatterStyle(QCPScatterStyle::ssDiamond, defaultsColor(pal), defaultsColor(pal), 11));
    currentGraph_->setScatterStyle(
        QCPScatterStyle(QCPScatterStyle::ssDisc, listColor(pal), listColor(pal), 10));
}

void LlmView::changeEvent(QEvent* event)
{
    if (event->type() == QEvent::PaletteChange && pareto_) {
        for (auto* plot : {cte_.plot, tkg_.plot, pareto_})
            applyPlotTheme(plot, palette());
        applyColours();
        refreshHandles();
        refreshPareto();
    }
    QWidget::changeEvent(event);
}

QPoint LlmView::plotPointForLength(LlmPhase phase, int64_t length) const
{
    const QCustomPlot* plot = phasePlot(phase).plot;
    const int x = int(std::lround(plot->xAxis->coordToPixel(double(length))));
    return QPoint(x, plot->axisRect()->rect().center().y());
}

QPoint LlmView::handlePosition(LlmPhase phase, int index) const
{
    const auto& b = session_->lists(phase).values();
    if (index < 0 || index >= int(b.size()))
        return {};
    return phasePlot(phase).plot->mapTo(const_cast<LlmView*>(this),
                                        plotPointForLength(phase, b[size_t(index)]));
}

QPoint LlmView::paretoPointPosition(int index) const
{
    const auto& r = session_->tuneResult();
    if (!r || index < 0 || index >= int(r->paretoByModels.size()))
        return {};
    const auto& p = r->paretoByModels[size_t(index)];
    return QPoint(int(std::lround(pareto_->xAxis->coordToPixel(double(p.models)))),
                  int(std::lround(pareto_->yAxis->coordToPixel(p.meanRequestMs))));
}

int LlmView::handleAt(const PhasePlot& p, const QPoint& pos) const
{
    if (!p.plot->axisRect()->rect().contains(pos))
        return -1;
    const auto& b = session_->lists(p.phase).values();
    int best = -1;
    double bestDistance = kGrabPixels + 0.5;
    // The largest bucket is pinned: NxD needs it at the limit.
    for (size_t i = 0; i + 1 < b.size(); ++i) {
        const double d = std::abs(p.plot->xAxis->coordToPixel(double(b[i])) - pos.x());
        if (d < bestDistance) {
            bestDistance = d;
            best = int(i);
        }
    }
    return best;
}

void LlmView::onPress(PhasePlot& p, QMouseEvent* event)
{
    if (event->button() != Qt::LeftButton)
        return;
    const int hit = handleAt(p, event->pos());
    if (hit < 0)
        return;
    dragPhase_ = p.phase;
    dragIndex_ = hit;
    dragStart_ = session_->bucketLists();
    refreshHandles(p);
}

void LlmView::onMove(PhasePlot& p, QMouseEvent* event)
{
    if (dragPhase_ != p.phase || dragIndex_ < 0) {
        p.plot->setCursor(handleAt(p, event->pos()) >= 0 ? Qt::SizeHorCursor : Qt::ArrowCursor);
        return;
    }
    auto b = session_->lists(p.phase).values();
    if (dragIndex_ >= int(b.size()))
        return;
    const double x = p.plot->xAxis->pixelToCoord(event->pos().x());
    const int64_t lo = dragIndex_ > 0 ? b[size_t(dragIndex_ - 1)] + 1 : 1;
    const int64_t hi = b[size_t(dragIndex_ + 1)] - 1;
    const int64_t value = std::clamp(int64_t(std::llround(std::max(1.0, x))), lo, hi);
    if (b[size_t(dragIndex_)] == value)
        return;
    b[size_t(dragIndex_)] = value;
    session_->setLists(p.phase, b); // live: the totals follow the mouse
    QToolTip::showText(event->globalPosition().toPoint(), tr("%1 tokens").arg(value), p.plot);
}

void LlmView::onRelease(PhasePlot& p)
{
    if (dragPhase_ != p.phase || dragIndex_ < 0)
        return;
    const int index = dragIndex_;
    dragPhase_.reset();
    dragIndex_ = -1;
    const LlmBucketLists after = session_->bucketLists();
    const auto before = dragStart_;
    dragStart_.reset();
    if (before && before->cte.values() == after.cte.values() &&
        before->tkg.values() == after.tkg.values()) {
        refreshHandles(p);
        return; // a click without a move records nothing
    }
    session_->editLists(
        after,
        (p.phase == LlmPhase::Cte ? tr("Move CTE bucket %1") : tr("Move TKG bucket %1"))
            .arg(index + 1),
        before);
}

void LlmView::onDoubleClick(PhasePlot& p, QMouseEvent* event)
{
    if (event->button() != Qt::LeftButton || !p.plot->axisRect()->rect().contains(event->pos()))
        return;
    dragPhase_.reset(); // the double-click's first press may have grabbed a handle
    dragIndex_ = -1;
    dragStart_.reset();
    const int hit = handleAt(p, event->pos());
    QString error;
    if (hit >= 0) {
        error = session_->removeBucket(p.phase, session_->lists(p.phase).values()[size_t(hit)]);
    } else {
        const double x = p.plot->xAxis->pixelToCoord(event->pos().x());
        error = session_->addBucket(p.phase, int64_t(std::llround(std::max(1.0, x))));
    }
    if (!error.isEmpty())
        setStatus(error, true);
    refreshHandles(p);
}

} // namespace bucketlab::ui
