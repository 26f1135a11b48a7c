#include "ui/models/comparisontablemodel.h"

#include "core/util/format.h"
#include "ui/models/palette.h"

#include <QLocale>

namespace bucketlab::ui {

namespace {

using Row = ComparisonRow;
using Col = TableColumn<Row>;
constexpr Qt::Alignment kLeft = Qt::AlignLeft | Qt::AlignVCenter;
constexpr Qt::Alignment kRight = Qt::AlignRight | Qt::AlignVCenter;

QString fixed(double v, int decimals)
{
    return QLocale().toString(v, 'f', decimals);
}

// A figure of the set's evaluation: shown with `decimals`, sorted by the number (EditRole,
// which tests read too).
Col figure(const QString& header, double EvaluationStats::*field, int decimals, const QString& tip)
{
    return Col(
               header, [field, decimals](const Row& r) { return fixed(r.stats.*field, decimals); },
               tip)
        .sortBy([field](const Row& r) { return r.stats.*field; })
        .align(kRight);
}

} // namespace

ComparisonTableModel::ComparisonTableModel(QObject* parent) : ColumnTableModel(parent)
{
    auto name = [](const Row& r) {
        return r.name;
    };
    auto swatch = [this](const Row& r) {
        return boundarySetColor(r.name.toStdString(), r.tuned ? "tuned" : "baseline", palette_);
    };
    auto boundaries = [](const Row& r) {
        return QString::fromStdString(formatLengths(r.boundaries, ", "));
    };
    auto buckets = [](const Row& r) {
        return int(r.boundaries.size());
    };
    auto gain = [](const Row& r) {
        return r.tuned ? tr("—") : fixed(r.gainPct, 1);
    };
    auto gainTip = [](const Row& r) -> QVariant {
        if (r.tuned)
            return {};
        return tr("The tuned boundaries lower this objective by %1 % compared with %2")
            .arg(fixed(r.gainPct, 1), r.name);
    };
    using Stats = EvaluationStats;
    setColumns({
        Col(tr("Boundary set"), name, tr("Where the boundaries come from"))
            .align(kLeft)
            .decorate(swatch),
        Col(tr("Boundaries"), boundaries, tr("Bucket lengths")).align(kLeft),
        Col(tr("K"), buckets, tr("Number of buckets (each one is a compiled model)")).align(kRight),
        figure(tr("Mean ms"), &Stats::meanLatencyMs, 2, tr("Mean latency over served requests")),
        figure(tr("p99 ms"), &Stats::p99LatencyMs, 2,
               tr("Latency of the request at the 99th percentile")),
        figure(tr("Waste %"), &Stats::wastePct, 1, tr("Padding share of all computed tokens")),
        figure(tr("Rejected %"), &Stats::rejectedPct, 2,
               tr("Traffic longer than the largest bucket")),
        Col(tr("Tuned gain %"), gain, tr("How much lower the tuned objective is than this set's"))
            .sortBy([](const Row& r) { return r.gainPct; })
            .tip(gainTip)
            .align(kRight),
    });
    // The note says where a set comes from; the tuned set is bold.
    setRowToolTip([](const Row& r) { return r.note.isEmpty() ? QVariant() : QVariant(r.note); });
    setRowBold([](const Row& r) { return r.tuned; });
}

void ComparisonTableModel::setReport(const std::optional<TuningReport>& report)
{
    std::vector<Row> rows;
    if (report && report->solution.feasible) {
        rows.push_back({tr("tuned"), report->solution.boundaries, report->evaluation.stats, 0.0,
                        true, tr("The exact optimum for this objective and bucket count")});
    }
    if (report)
        for (const auto& b : report->baselines)
            rows.push_back({QString::fromStdString(b.name), b.evaluation.boundaries,
                            b.evaluation.stats, b.tunedGainPct, false,
                            QString::fromStdString(b.note)});
    setRows(std::move(rows));
}

std::vector<int64_t> ComparisonTableModel::boundariesAt(int r) const
{
    return r >= 0 && r < rowCount() ? row(r).boundaries : std::vector<int64_t>{};
}

QString ComparisonTableModel::nameAt(int r) const
{
    return r >= 0 && r < rowCount() ? row(r).name : QString();
}

void ComparisonTableModel::setPalette(const QPalette& palette)
{
    palette_ = palette;
    cellsChanged(Name, Name, {Qt::DecorationRole});
}

} // namespace bucketlab::ui
