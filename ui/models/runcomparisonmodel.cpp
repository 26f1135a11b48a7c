#include "ui/models/runcomparisonmodel.h"

#include "core/report/boundary_report.h"
#include "ui/models/session.h"

#include <QFont>
#include <QLocale>

namespace bucketlab::ui {

RunComparison compareSessionWith(const BucketEvaluator& runA, const std::string& trafficA,
                                 const std::vector<BoundarySet>& sets, int active,
                                 const SecondRun& runB, const Job& job)
{
    const BoundarySet* activeSet =
        active >= 0 && size_t(active) < sets.size() ? &sets[size_t(active)] : nullptr;
    const BoundarySet* current = nullptr;
    for (const auto& s : sets)
        if (s.kind == "current" && !s.boundaries.empty()) {
            current = &s;
            break;
        }
    if (!current)
        current = activeSet;
    if (!current || current->boundaries.empty())
        throw Error("comparing runs needs a boundary set in the session: open a package or type "
                    "boundaries");
    BoundaryComparisonRequest compare;
    compare.current = current->boundaries;
    if (activeSet && activeSet != current && !activeSet->boundaries.empty())
        compare.tuned = activeSet->boundaries;
    compare.distributionSource = trafficA;
    const BoundaryComparison primary = compareBoundaries(runA, compare, job.sub(0, 0.4));
    job.checkCancelled();

    const BucketEvaluator evaluatorB(runB.traffic ? *runB.traffic : runA.histogram(),
                                     runB.curve ? *runB.curve : runA.curve(), runA.maxLength());
    RunComparisonRequest request;
    request.primary = &primary;
    request.runA = &runA;
    request.runB = &evaluatorB;
    const auto info = [](const std::string& traffic, const BucketEvaluator& e) {
        ReportRunInfo r;
        r.traffic = traffic;
        r.latency = e.curve().describe();
        r.requests = e.histogram().total();
        r.shortest = e.histogram().minLength();
        r.longest = e.histogram().maxLength();
        r.meanLength = e.histogram().mean();
        return r;
    };
    request.a = info(trafficA, runA);
    request.b = info(runB.traffic ? runB.trafficSource : trafficA, evaluatorB);
    if (runB.kind == "project")
        request.b.project = runB.path.toStdString();
    request.sameTraffic = !runB.traffic;
    request.sameLatency = !runB.curve;
    request.setsOfB = runB.sets;
    for (const auto& s : sets)
        if (!s.boundaries.empty())
            request.setsOfA.push_back({boundarySetTitle(s).toStdString(), s.boundaries});
    return compareRuns(request, job.sub(0.4, 1));
}

RunComparisonModel::RunComparisonModel(QObject* parent) : QAbstractTableModel(parent) {}

void RunComparisonModel::setComparison(std::optional<RunComparison> comparison)
{
    beginResetModel();
    comparison_ = std::move(comparison);
    endResetModel();
}

int RunComparisonModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() || !comparison_ ? 0 : int(comparison_->sets.size());
}

int RunComparisonModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant RunComparisonModel::data(const QModelIndex& index, int role) const
{
    if (!comparison_ || !index.isValid() || index.row() >= rowCount())
        return {};
    const PricedBoundarySet& s = comparison_->sets[size_t(index.row())];
    const auto& a = s.a.stats;
    const auto& b = s.b.stats;
    const QLocale locale;
    const auto value = [&](double v, int decimals, const QString& unit) -> QVariant {
        if (role == Qt::EditRole)
            return v;
        return locale.toString(v, 'f', decimals) + unit;
    };
    if (role == Qt::DisplayRole || role == Qt::EditRole) {
        switch (index.column()) {
        case Name:
            return QString::fromStdString(s.name);
        case Boundaries: {
            QStringList parts;
            for (auto v : s.a.boundaries)
                parts << QString::number(v);
            return parts.join(", ");
        }
        case MeanA:
            return value(a.meanLatencyMs, 3, " ms");
        case MeanB:
            return value(b.meanLatencyMs, 3, " ms");
        case MeanDelta: {
            const double d = b.meanLatencyMs - a.meanLatencyMs;
            if (role == Qt::EditRole)
                return d;
            return (d > 0 ? "+" : d < 0 ? "−" : "") + locale.toString(std::abs(d), 'f', 3) + " ms";
        }
        case P99A:
            return value(a.p99LatencyMs, 3, " ms");
        case P99B:
            return value(b.p99LatencyMs, 3, " ms");
        case WasteA:
            return value(a.wastePct, 1, " %");
        case WasteB:
            return value(b.wastePct, 1, " %");
        case RejectedA:
            return value(a.rejectedPct, 2, " %");
        case RejectedB:
            return value(b.rejectedPct, 2, " %");
        }
    }
    if (role == Qt::ToolTipRole) {
        QStringList tip;
        if (!s.note.empty())
            tip << QString::fromStdString(s.note);
        if (size_t(index.row()) == comparison_->bestA)
            tip << tr("Best on run A");
        if (size_t(index.row()) == comparison_->bestB)
            tip << tr("Best on run B");
        return tip.isEmpty() ? QVariant() : tip.join("\n");
    }
    if (role == Qt::FontRole &&
        (size_t(index.row()) == comparison_->bestA || size_t(index.row()) == comparison_->bestB) &&
        index.column() == Name) {
        QFont f;
        f.setBold(true);
        return f;
    }
    if (role == Qt::TextAlignmentRole && index.column() >= MeanA)
        return int(Qt::AlignRight | Qt::AlignVCenter);
    return {};
}

QVariant RunComparisonModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case Name:
        return tr("Set");
    case Boundaries:
        return tr("Boundaries");
    case MeanA:
        return tr("Mean A");
    case MeanB:
        return tr("Mean B");
    case MeanDelta:
        return tr("B − A");
    case P99A:
        return tr("p99 A");
    case P99B:
        return tr("p99 B");
    case WasteA:
        return tr("Waste A");
    case WasteB:
        return tr("Waste B");
    case RejectedA:
        return tr("Rejected A");
    case RejectedB:
        return tr("Rejected B");
    }
    return {};
}

} // namespace bucketlab::ui
