#include "ui/models/validationtablemodel.h"

#include "ui/models/palette.h"

#include <QColor>
#include <QLocale>

#include <algorithm>
#include <set>

namespace bucketlab::ui {

std::vector<ValidationRange> validationRanges(const KernelCheckResult& result, int64_t maxLength)
{
    for (const auto& d : result.defects)
        maxLength = std::max(maxLength, d.lastLength);
    std::set<int64_t> starts{1};
    for (int64_t b : result.boundaries)
        if (b + 1 <= maxLength)
            starts.insert(b + 1);
    for (const auto& d : result.defects) {
        if (d.firstLength >= 1)
            starts.insert(d.firstLength);
        if (d.lastLength + 1 <= maxLength)
            starts.insert(d.lastLength + 1);
    }
    std::vector<ValidationRange> ranges;
    for (auto it = starts.begin(); it != starts.end() && *it <= maxLength; ++it) {
        ValidationRange r;
        r.first = *it;
        const auto next = std::next(it);
        r.last = next == starts.end() ? maxLength : std::min(maxLength, *next - 1);
        const auto bucket =
            std::lower_bound(result.boundaries.begin(), result.boundaries.end(), r.first);
        r.bucket = bucket == result.boundaries.end() ? 0 : *bucket;
        for (size_t i = 0; i < result.defects.size(); ++i) {
            const auto& d = result.defects[i];
            // Defects found with no length (a kernel that never returns a bucket) cover all.
            const bool lengthless = d.firstLength <= 0 && d.lastLength <= 0;
            if (lengthless || (d.firstLength <= r.last && d.lastLength >= r.first))
                r.defects.push_back(i);
        }
        ranges.push_back(std::move(r));
    }
    return ranges;
}

ValidationTableModel::ValidationTableModel(QObject* parent) : QAbstractTableModel(parent) {}

void ValidationTableModel::setResult(const KernelCheckResult& result, int64_t maxLength)
{
    beginResetModel();
    result_ = result;
    ranges_ = validationRanges(result, maxLength);
    endResetModel();
}

void ValidationTableModel::clear()
{
    beginResetModel();
    result_ = {};
    ranges_.clear();
    endResetModel();
}

int ValidationTableModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : int(ranges_.size());
}

int ValidationTableModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant ValidationTableModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() >= rowCount() || index.column() >= ColumnCount)
        return {};
    const ValidationRange& r = ranges_[size_t(index.row())];
    const QLocale locale;
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
        case Lengths:
            return r.first == r.last ? locale.toString(qlonglong(r.first))
                                     : tr("%1–%2").arg(locale.toString(qlonglong(r.first)),
                                                       locale.toString(qlonglong(r.last)));
        case Verdict: {
            if (r.ok())
                return tr("ok");
            QStringList kinds;
            for (size_t d : r.defects)
                kinds << QString::fromStdString(defectKindName(result_.defects[d].kind));
            return kinds.join(", ");
        }
        case Bucket:
            return r.bucket > 0 ? locale.toString(qlonglong(r.bucket))
                                : tr("past the largest bucket");
        case Detail:
            if (r.ok())
                return r.bucket > 0 ? tr("padded to %1").arg(locale.toString(qlonglong(r.bucket)))
                                    : tr("rejected with an exception (correct)");
            return QString::fromStdString(result_.defects[r.defects.front()].message);
        }
    }
    if (role == Qt::ToolTipRole && !r.ok()) {
        QStringList lines;
        for (size_t d : r.defects)
            lines << QString::fromStdString(result_.defects[d].message);
        return lines.join("\n");
    }
    if (role == Qt::DecorationRole && index.column() == Verdict)
        return validationRangeColor(r); // as the strip draws it
    return {};
}

QVariant ValidationTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case Lengths:
        return tr("Lengths");
    case Verdict:
        return tr("Verdict");
    case Bucket:
        return tr("Bucket");
    case Detail:
        return tr("Detail");
    }
    return {};
}

QColor validationRangeColor(const ValidationRange& range, const QPalette& palette)
{
    if (!range.ok())
        return dataColor(DataRole::Defect, palette);
    return dataColor(range.bucket > 0 ? DataRole::Ok : DataRole::Rejected, palette);
}

} // namespace bucketlab::ui
