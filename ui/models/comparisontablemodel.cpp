#include "ui/models/comparisontablemodel.h"

#include "ui/models/palette.h"

#include <QFont>
#include <QLocale>
#include <QStringList>

namespace bucketlab::ui {

ComparisonTableModel::ComparisonTableModel(QObject* parent) : QAbstractTableModel(parent) {}

void ComparisonTableModel::setReport(const std::optional<TuningReport>& report)
{
    beginResetModel();
    rows_.clear();
    if (report && report->solution.feasible) {
        rows_.push_back({tr("tuned"), report->solution.boundaries, report->evaluation.stats, 0.0,
                         true, tr("The exact optimum for this objective and bucket count")});
    }
    if (report)
        for (const auto& b : report->baselines)
            rows_.push_back({QString::fromStdString(b.name), b.evaluation.boundaries,
                             b.evaluation.stats, b.tunedGainPct, false,
                             QString::fromStdString(b.note)});
    endResetModel();
}

std::vector<int64_t> ComparisonTableModel::boundariesAt(int row) const
{
    return row >= 0 && row < int(rows_.size()) ? rows_[size_t(row)].boundaries
                                               : std::vector<int64_t>{};
}

QString ComparisonTableModel::nameAt(int row) const
{
    return row >= 0 && row < int(rows_.size()) ? rows_[size_t(row)].name : QString();
}

int ComparisonTableModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : int(rows_.size());
}

void ComparisonTableModel::setPalette(const QPalette& palette)
{
    palette_ = palette;
    if (rowCount() > 0)
        Q_EMIT dataChanged(index(0, Name), index(rowCount() - 1, Name), {Qt::DecorationRole});
}

int ComparisonTableModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant ComparisonTableModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() >= rowCount())
        return {};
    const Row& r = rows_[size_t(index.row())];
    const QLocale locale;
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
        case Name:
            return r.name;
        case Boundaries: {
            QStringList parts;
            for (auto b : r.boundaries)
                parts << QString::number(b);
            return parts.join(", ");
        }
        case Buckets:
            return int(r.boundaries.size());
        case Mean:
            return locale.toString(r.stats.meanLatencyMs, 'f', 2);
        case P99:
            return locale.toString(r.stats.p99LatencyMs, 'f', 2);
        case Waste:
            return locale.toString(r.stats.wastePct, 'f', 1);
        case Rejected:
            return locale.toString(r.stats.rejectedPct, 'f', 2);
        case Gain:
            return r.tuned ? tr("—") : locale.toString(r.gainPct, 'f', 1);
        }
    } else if (role == Qt::EditRole) {
        switch (index.column()) {
        case Mean:
            return r.stats.meanLatencyMs;
        case P99:
            return r.stats.p99LatencyMs;
        case Waste:
            return r.stats.wastePct;
        case Rejected:
            return r.stats.rejectedPct;
        case Gain:
            return r.gainPct;
        default:
            return data(index, Qt::DisplayRole);
        }
    } else if (role == Qt::DecorationRole && index.column() == Name) {
        return boundarySetColor(r.name.toStdString(), r.tuned ? "tuned" : "baseline", palette_);
    } else if (role == Qt::FontRole && r.tuned) {
        QFont f;
        f.setBold(true);
        return f;
    } else if (role == Qt::ToolTipRole) {
        if (index.column() == Gain && !r.tuned)
            return tr("The tuned boundaries lower this objective by %1 % compared with %2")
                .arg(locale.toString(r.gainPct, 'f', 1), r.name);
        return r.note.isEmpty() ? QVariant() : QVariant(r.note);
    } else if (role == Qt::TextAlignmentRole) {
        return QVariant::fromValue(index.column() <= Boundaries
                                       ? Qt::AlignLeft | Qt::AlignVCenter
                                       : Qt::AlignRight | Qt::AlignVCenter);
    }
    return {};
}

QVariant ComparisonTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || (role != Qt::DisplayRole && role != Qt::ToolTipRole))
        return {};
    static const char* names[] = {"Boundary set", "Boundaries", "K",          "Mean ms",
                                  "p99 ms",       "Waste %",    "Rejected %", "Tuned gain %"};
    static const char* tips[] = {"Where the boundaries come from",
                                 "Bucket lengths",
                                 "Number of buckets (each one is a compiled model)",
                                 "Mean latency over served requests",
                                 "Latency of the request at the 99th percentile",
                                 "Padding share of all computed tokens",
                                 "Traffic longer than the largest bucket",
                                 "How much lower the tuned objective is than this set's"};
    if (section < 0 || section >= ColumnCount)
        return {};
    return role == Qt::DisplayRole ? tr(names[section]) : tr(tips[section]);
}

} // namespace bucketlab::ui
