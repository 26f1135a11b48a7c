#include "ui/views/latencyview.h"

#include "core/latency/latency_curve.h"
#include "core/tuning/refine.h"
#include "ui/models/profiletablemodel.h"
#include "ui/models/secondrun.h"
#include "ui/models/session.h"
#include "ui/views/elidedlabel.h"
#include "ui/views/plot.h"
#include "ui/views/plotsupport.h"
#include "ui/views/profilepanel.h"
#include "ui/views/tablecopy.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

#include <algorithm>
#include <set>

namespace bucketlab::ui {

LatencyView::LatencyView(Session* session, QWidget* parent) : QWidget(parent), session_(session)
{
    setObjectName("latencyView");
    QHBoxLayout* bar = buildToolbar();

    profiler_ = new ProfilePanel(session_, this);

    QSplitter* split = buildPlotAndTable();

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(bar);
    layout->addWidget(profiler_);
    layout->addWidget(split, 1);

    connectSignals();
    rebuildChoosers(true);
}

QHBoxLayout* LatencyView::buildToolbar()
{
    first_ = new QComboBox(this);
    first_->setObjectName("profileChooser");
    // Profile names can be long: the choosers keep their width, the tooltips the path.
    first_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    first_->setMinimumContentsLength(24);
    second_ = new QComboBox(this);
    second_->setObjectName("compareChooser");
    second_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    second_->setMinimumContentsLength(24);
    second_->setToolTip(tr("A second profile drawn beside the first"));
    curveLabel_ = new ElidedLabel(this, Qt::ElideMiddle);
    curveLabel_->setObjectName("curveLabel");
    logAxis_ = new QCheckBox(tr("Log length axis"), this);
    logAxis_->setObjectName("latencyLogAxis");
    logAxis_->setToolTip(tr("Lengths on a base-2 log scale: short lengths get as much room as "
                            "long ones"));
    tools_ = new QWidget(this);
    auto* toolsLayout = new QHBoxLayout(tools_);
    toolsLayout->setContentsMargins(0, 0, 0, 0);

    auto* bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("Profile:"), this));
    bar->addWidget(first_);
    bar->addSpacing(12);
    bar->addWidget(new QLabel(tr("Compare with:"), this));
    bar->addWidget(second_);
    bar->addSpacing(12);
    bar->addWidget(logAxis_);
    bar->addSpacing(12);
    bar->addWidget(tools_);
    bar->addStretch(1);
    return bar;
}

QSplitter* LatencyView::buildPlotAndTable()
{
    plot_ = new QCustomPlot(this);
    plot_->setObjectName("latencyPlot");
    plot_->setMinimumHeight(300);
    plot_->xAxis->setLabel(tr("input length (tokens)"));
    plot_->yAxis->setLabel(tr("latency per call (ms)"));
    plot_->legend->setVisible(true);
    plot_->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignLeft);
    plot_->setInteractions(QCP::iRangeZoom | QCP::iRangeDrag);
    plot_->setToolTip(tr("Points: median per shape with its 95 % confidence interval; dashed: "
                         "p90 and p99; line: the non-decreasing curve the tuner uses"));
    applyPlotTheme(plot_, palette());
    installPlotExportMenu(plot_);

    table_ = new ProfileTableModel(this);
    tableView_ = new QTableView(this);
    tableView_->setObjectName("profileTable");
    tableView_->setModel(table_);
    installTableCopy(tableView_);
    tableView_->verticalHeader()->setVisible(false);
    tableView_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    tableView_->horizontalHeader()->setStretchLastSection(true);
    tableView_->setAlternatingRowColors(true);

    auto* split = new QSplitter(Qt::Vertical, this);
    split->addWidget(plot_);
    auto* lower = new QWidget(split);
    auto* lowerLayout = new QVBoxLayout(lower);
    lowerLayout->setContentsMargins(0, 0, 0, 0);
    lowerLayout->addWidget(curveLabel_);
    lowerLayout->addWidget(tableView_, 1);
    split->addWidget(lower);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    return split;
}

void LatencyView::connectSignals()
{
    connect(first_, &QComboBox::currentIndexChanged, this, &LatencyView::redraw);
    connect(second_, &QComboBox::currentIndexChanged, this, &LatencyView::redraw);
    connect(logAxis_, &QCheckBox::toggled, this, &LatencyView::setLogAxis);
    connect(session_, &Session::profilesChanged, this, [this] { rebuildChoosers(false); });
    // A new curve for the tuner (a finished profile, an opened one) is what the user wants
    // to see: the chooser follows it, so the plot never shows one profile while "Tuning uses"
    // names another.
    connect(session_, &Session::latencyChanged, this, [this] { rebuildChoosers(true); });
    connect(session_, &Session::activeBoundariesChanged, this, &LatencyView::redraw);
    connect(session_, &Session::secondRunChanged, this, &LatencyView::redraw);
    connect(profiler_, &ProfilePanel::liveUpdated, this, &LatencyView::redraw);
}

void LatencyView::rebuildChoosers(bool followTuner)
{
    const QString a = first_->currentText(), b = second_->currentText();
    {
        const QSignalBlocker blockA(first_), blockB(second_);
        first_->clear();
        second_->clear();
        second_->addItem(tr("(none)"));
        for (const auto& p : session_->profiles()) {
            first_->addItem(QFileInfo(p.path).fileName(), p.path);
            first_->setItemData(first_->count() - 1, p.path, Qt::ToolTipRole);
            second_->addItem(QFileInfo(p.path).fileName(), p.path);
            second_->setItemData(second_->count() - 1, p.path, Qt::ToolTipRole);
        }
        const auto& src = session_->latencySource();
        const int used = src ? first_->findData(QString::fromStdString(src->source)) : -1;
        if (followTuner && used >= 0)
            first_->setCurrentIndex(used);
        else if (first_->findText(a) >= 0)
            first_->setCurrentIndex(first_->findText(a));
        else if (used >= 0)
            first_->setCurrentIndex(used); // default to the profile the tuner uses
        if (second_->findText(b) >= 0)
            second_->setCurrentIndex(second_->findText(b));
    }
    redraw();
}

void LatencyView::setLogAxis(bool log)
{
    const QSignalBlocker block(logAxis_);
    logAxis_->setChecked(log);
    setLengthAxisLog(plot_->xAxis, log);
    redraw();
}

void LatencyView::drawProfile(const Profile& profile, int colorIndex, const QString& name,
                              bool describeRoles)
{
    const QColor color = profileColor(colorIndex, palette());
    // The smallest batch present: the curve the tuner uses is built from it.
    int64_t batch = 0;
    for (const auto& p : profile.points)
        if (p.ok() && (batch == 0 || p.batch < batch))
            batch = p.batch;
    QVector<double> x, p50, lo, hi, p90, p99;
    std::vector<ProfilePoint> points;
    for (const auto& p : profile.points)
        if (p.ok() && p.batch == batch)
            points.push_back(p);
    std::sort(points.begin(), points.end(),
              [](const auto& a, const auto& b) { return a.length < b.length; });
    for (const auto& p : points) {
        x << double(p.length);
        p50 << p.p50Ms;
        const bool hasCi = p.ci95HighMs > 0;
        lo << (hasCi ? std::max(0.0, p.p50Ms - p.ci95LowMs) : 0.0);
        hi << (hasCi ? std::max(0.0, p.ci95HighMs - p.p50Ms) : 0.0);
        p90 << p.p90Ms;
        p99 << p.p99Ms;
    }
    auto* median = plot_->addGraph();
    median->setName(describeRoles ? tr("%1: median, 95 % CI").arg(name) : name);
    median->setData(x, p50, true);
    median->setLineStyle(QCPGraph::lsNone);
    median->setScatterStyle(
        QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(color, 1.5), QBrush(color), 6));
    auto* bars = new QCPErrorBars(plot_->xAxis, plot_->yAxis);
    bars->setDataPlottable(median);
    bars->setData(lo, hi);
    bars->setPen(QPen(color, 1.2));
    bars->setName(tr("%1 95 % CI").arg(name));
    bars->removeFromLegend();
    // The points a refinement measured (Measure and refine, `tune --refined-profile`): the
    // same colour, since they are this profile's, ringed with a larger hollow diamond and
    // named in the legend, so the curve's new points read apart from the grid's.
    drawRefinedPoints(profile, points, color, name, describeRoles);
    for (const auto& [values, label, style] :
         {std::tuple{p90, QStringLiteral("p90"), Qt::DashLine},
          std::tuple{p99, QStringLiteral("p99"), Qt::DotLine}}) {
        auto* g = plot_->addGraph();
        g->setName(label);
        if (!describeRoles)
            g->removeFromLegend();
        g->setData(x, values, true);
        QColor c = color;
        c.setAlpha(170);
        g->setPen(QPen(c, 1, style));
    }
    // The non-decreasing curve built from this profile.
    drawProfileCurve(profile, x, color, name, describeRoles);
}

void LatencyView::drawRefinedPoints(const Profile& profile, const std::vector<ProfilePoint>& points,
                                    const QColor& color, const QString& name, bool describeRoles)
{
    const std::vector<int64_t> refined = refinedLengths(profile);
    if (refined.empty())
        return;
    QVector<double> rx, ry;
    for (const auto& p : points)
        if (std::binary_search(refined.begin(), refined.end(), p.length)) {
            rx << double(p.length);
            ry << p.p50Ms;
        }
    if (!rx.isEmpty()) {
        auto* g = plot_->addGraph();
        g->setObjectName("refinedPointsGraph");
        g->setName(describeRoles ? tr("measured by refinement (%1)").arg(rx.size())
                                 : tr("%1: measured by refinement (%2)").arg(name).arg(rx.size()));
        g->setData(rx, ry, true);
        g->setLineStyle(QCPGraph::lsNone);
        g->setScatterStyle(
            QCPScatterStyle(QCPScatterStyle::ssDiamond, QPen(color, 1.8), Qt::NoBrush, 13));
    }
}

void LatencyView::drawProfileCurve(const Profile& profile, const QVector<double>& x,
                                   const QColor& color, const QString& name, bool describeRoles)
{
    try {
        const LatencyCurve curve = LatencyCurve::fromProfile(profile, name.toStdString());
        if (!x.isEmpty()) {
            QVector<double> cx, cy;
            const double top = x.last() * 1.05;
            for (int i = 0; i <= 300; ++i) {
                const int64_t len = std::max<int64_t>(1, int64_t(top * i / 300.0));
                cx << double(len);
                cy << curve.at(len);
            }
            auto* g = plot_->addGraph();
            g->setName(tr("curve used for tuning"));
            if (!describeRoles)
                g->removeFromLegend();
            g->setData(cx, cy, true);
            g->setPen(QPen(color, 2));
        }
    } catch (const std::exception&) {
        // A profile without usable points draws its points only.
    }
}

void LatencyView::redraw()
{
    plot_->clearGraphs();
    plot_->clearPlottables();
    plot_->clearItems();
    const auto& profiles = session_->profiles();
    const Profile* a = nullptr;
    const Profile* b = nullptr;
    if (first_->currentIndex() >= 0 && first_->currentIndex() < int(profiles.size()))
        a = &profiles[size_t(first_->currentIndex())].profile;
    if (second_->currentIndex() > 0 && second_->currentIndex() - 1 < int(profiles.size()))
        b = &profiles[size_t(second_->currentIndex() - 1)].profile;
    bool rolesDescribed = false;
    const auto draw = [&](const Profile& p, int colorIndex, const QString& name) {
        drawProfile(p, colorIndex, name, !rolesDescribed);
        rolesDescribed = true;
    };
    if (a)
        draw(*a, 0, first_->currentText());
    if (b && b != a)
        draw(*b, 1, second_->currentText());
    const Profile live = profiler_->liveProfile();
    if (!live.points.empty())
        draw(live, 2, tr("profiling"));
    if (!a && live.points.empty() && session_->hasLatency())
        drawAnalyticCurve(); // no measurements: the analytic curve in use
    drawSecondRunCurve();
    const std::set<int64_t> buckets = drawBucketLines();
    table_->setProfile(live.points.empty() ? a : &live);
    table_->setBucketLengths(buckets);
    curveLabel_->setText(
        session_->hasLatency()
            ? tr("Tuning uses: %1").arg(QString::fromStdString(session_->latency().describe()))
            : tr("No latency curve yet: open a profile (.json/.csv) or profile "
                 "the model"));
    fitAxes();
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

void LatencyView::drawAnalyticCurve()
{
    QVector<double> cx, cy;
    const double top = std::max<double>(64, double(session_->histogram().maxLength()));
    for (int i = 0; i <= 300; ++i) {
        const int64_t len = std::max<int64_t>(1, int64_t(top * i / 300.0));
        cx << double(len);
        cy << session_->latency().at(len);
    }
    auto* g = plot_->addGraph();
    g->setName(QString::fromStdString(session_->latency().describe()));
    g->setData(cx, cy, true);
    g->setPen(QPen(profileColor(0, palette()), 2));
}

void LatencyView::drawSecondRunCurve()
{
    const auto& run = session_->secondRun();
    if (!run || !run->curve)
        return;
    const LatencyCurve& curve = *run->curve;
    double top = std::max<double>(64, double(session_->histogram().maxLength()));
    for (const auto& p : curve.measured())
        top = std::max(top, double(p.length));
    for (int i = 0; i < plot_->graphCount(); ++i)
        if (!plot_->graph(i)->data()->isEmpty())
            top = std::max(top, (plot_->graph(i)->data()->constEnd() - 1)->key);
    QVector<double> cx, cy;
    for (int i = 0; i <= 300; ++i) {
        const int64_t len = std::max<int64_t>(1, int64_t(top * i / 300.0));
        cx << double(len);
        cy << curve.at(len);
    }
    auto* g = plot_->addGraph();
    g->setObjectName("secondCurveGraph");
    g->setName(tr("run B: %1").arg(run->displayName));
    g->setData(cx, cy, true);
    g->setPen(QPen(profileColor(2, palette()), 2, Qt::DashLine));
    if (!curve.measured().empty()) {
        QVector<double> mx, my;
        for (const auto& p : curve.measured()) {
            mx << double(p.length);
            my << p.ms;
        }
        auto* points = plot_->addGraph();
        points->setData(mx, my, true);
        points->setLineStyle(QCPGraph::lsNone);
        const QColor c = profileColor(2, palette());
        points->setScatterStyle(
            QCPScatterStyle(QCPScatterStyle::ssDiamond, QPen(c, 1.5), QBrush(c), 6));
        points->removeFromLegend();
    }
}

std::set<int64_t> LatencyView::drawBucketLines()
{
    std::set<int64_t> buckets;
    QColor setColor = session_->activeSet() ? boundarySetColor(*session_->activeSet(), palette())
                                            : palette().color(QPalette::Text);
    setColor.setAlpha(150);
    for (int64_t bLen : session_->activeBoundaries()) {
        buckets.insert(bLen);
        auto* line = new QCPItemStraightLine(plot_);
        line->point1->setCoords(double(bLen), 0);
        line->point2->setCoords(double(bLen), 1);
        line->setPen(QPen(setColor, 1, Qt::DashDotLine));
    }
    return buckets;
}

void LatencyView::fitAxes()
{
    plot_->rescaleAxes();
    if (logAxis_->isChecked()) {
        // A log axis has no 0: start below the shortest measured length (the curves are
        // sampled from length 1; without measurements, start there).
        double shortest = 0;
        for (int i = 0; i < plot_->graphCount(); ++i)
            if (plot_->graph(i)->lineStyle() == QCPGraph::lsNone)
                for (auto it = plot_->graph(i)->data()->constBegin();
                     it != plot_->graph(i)->data()->constEnd(); ++it)
                    if (it->key > 0 && (shortest == 0 || it->key < shortest))
                        shortest = it->key;
        plot_->xAxis->setRangeLower(std::max(1.0, shortest * 0.8));
    } else {
        plot_->xAxis->setRangeLower(0);
    }
    plot_->yAxis->setRangeLower(0);
    plot_->yAxis->setRangeUpper(plot_->yAxis->range().upper * 1.08);
}

void LatencyView::changeEvent(QEvent* event)
{
    if (event->type() == QEvent::PaletteChange) {
        applyPlotTheme(plot_, palette());
        redraw();
    }
    QWidget::changeEvent(event);
}

} // namespace bucketlab::ui
