#include "ui/models/profiletablemodel.h"

#include <QFont>
#include <QLocale>
#include <QStringList>

#include <algorithm>

namespace bucketlab::ui {

ProfileTableModel::ProfileTableModel(QObject* parent) : QAbstractTableModel(parent) {}

void ProfileTableModel::setProfile(const Profile* profile)
{
    beginResetModel();
    points_ = profile ? profile->points : std::vector<ProfilePoint>{};
    std::sort(points_.begin(), points_.end(), [](const auto& a, const auto& b) {
        return std::tie(a.batch, a.length) < std::tie(b.batch, b.length);
    });
    endResetModel();
}

void ProfileTableModel::setBucketLengths(const std::set<int64_t>& lengths)
{
    buckets_ = lengths;
    if (!points_.empty())
        Q_EMIT dataChanged(index(0, 0), index(rowCount() - 1, ColumnCount - 1),
                           {Qt::FontRole, Qt::ToolTipRole});
}

void ProfileTableModel::upsertPoint(const ProfilePoint& point)
{
    auto it = std::find_if(points_.begin(), points_.end(), [&](const ProfilePoint& p) {
        return p.length == point.length && p.batch == point.batch;
    });
    if (it != points_.end()) {
        *it = point;
        const int row = int(it - points_.begin());
        Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
        return;
    }
    auto pos = std::lower_bound(
        points_.begin(), points_.end(), point, [](const ProfilePoint& a, const ProfilePoint& b) {
            return std::tie(a.batch, a.length) < std::tie(b.batch, b.length);
        });
    const int row = int(pos - points_.begin());
    beginInsertRows({}, row, row);
    points_.insert(pos, point);
    endInsertRows();
}

int ProfileTableModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : int(points_.size());
}

int ProfileTableModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant ProfileTableModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() >= rowCount())
        return {};
    const ProfilePoint& p = points_[size_t(index.row())];
    const QLocale locale;
    auto ms = [&](double v) {
        return p.ok() ? locale.toString(v, 'f', 3) : QString("—");
    };
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
        case Length:
            return qlonglong(p.length);
        case Batch:
            return qlonglong(p.batch);
        case P50:
            return ms(p.p50Ms);
        case P90:
            return ms(p.p90Ms);
        case P99:
            return ms(p.p99Ms);
        case Mean:
            return ms(p.meanMs);
        case Ci:
            return p.ok() && p.ci95HighMs > 0
                       ? QString("%1 – %2").arg(locale.toString(p.ci95LowMs, 'f', 3),
                                                locale.toString(p.ci95HighMs, 'f', 3))
                       : QString("—");
        case Samples:
            return p.outliers > 0 ? tr("%1 (%2 outliers)").arg(p.samples).arg(p.outliers)
                                  : QString::number(p.samples);
        case Flags: {
            if (!p.ok())
                return tr("failed: %1").arg(QString::fromStdString(p.error));
            QStringList flags;
            for (const auto& f : p.flags)
                flags << QString::fromStdString(f);
            return flags.join(", ");
        }
        }
    } else if (role == Qt::EditRole) {
        switch (index.column()) {
        case P50:
            return p.p50Ms;
        case P90:
            return p.p90Ms;
        case P99:
            return p.p99Ms;
        case Mean:
            return p.meanMs;
        case Samples:
            return qlonglong(p.samples);
        default:
            return data(index, Qt::DisplayRole);
        }
    } else if (role == Qt::FontRole && buckets_.count(p.length)) {
        QFont f;
        f.setBold(true);
        return f;
    } else if (role == Qt::ToolTipRole) {
        if (buckets_.count(p.length))
            return tr("A bucket of the active boundary set");
        if (index.column() == Ci)
            return tr("95 % bootstrap confidence interval of the median");
        if (index.column() == Flags)
            return tr("noisy: CV above 10 %; drift: first and last rounds differ; few-samples: "
                      "the budget ended before the CI was tight");
    } else if (role == Qt::TextAlignmentRole) {
        return QVariant::fromValue(index.column() == Flags ? Qt::AlignLeft | Qt::AlignVCenter
                                                           : Qt::AlignRight | Qt::AlignVCenter);
    }
    return {};
}

QVariant ProfileTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    static const char* names[] = {"Length",  "Batch",          "p50 ms",  "p90 ms", "p99 ms",
                                  "Mean ms", "CI95 of median", "Samples", "Flags"};
    return section >= 0 && section < ColumnCount ? tr(names[section]) : QVariant();
}

} // namespace bucketlab::ui
