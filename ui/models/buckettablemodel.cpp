#include "ui/models/buckettablemodel.h"

#include <QBrush>
#include <QColor>
#include <QLocale>

namespace bucketlab::ui {

BucketTableModel::BucketTableModel(QObject* parent) : QAbstractTableModel(parent) {}

void BucketTableModel::setEvaluation(const std::optional<Evaluation>& evaluation)
{
    const int before = rowCount();
    const int after = evaluation ? int(evaluation->buckets.size()) : 0;
    if (before != after) {
        beginResetModel();
        evaluation_ = evaluation;
        endResetModel();
        return;
    }
    evaluation_ = evaluation;
    if (after > 0)
        Q_EMIT dataChanged(index(0, 0), index(after - 1, ColumnCount - 1));
}

void BucketTableModel::setSetColor(const QColor& color)
{
    if (color == setColor_)
        return;
    setColor_ = color;
    if (rowCount() > 0)
        Q_EMIT dataChanged(index(0, Bucket), index(rowCount() - 1, Bucket), {Qt::DecorationRole});
}

int BucketTableModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() || !evaluation_ ? 0 : int(evaluation_->buckets.size());
}

int BucketTableModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant BucketTableModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || !evaluation_ || index.row() >= rowCount())
        return {};
    const BucketStats& b = evaluation_->buckets[size_t(index.row())];
    const QLocale locale;
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
        case Bucket:
            return qlonglong(b.boundary);
        case Lengths:
            return b.firstLength > b.lastLength
                       ? tr("—")
                       : QString("%1 – %2").arg(b.firstLength).arg(b.lastLength);
        case Traffic:
            return locale.toString(b.trafficPct, 'f', 1);
        case Requests:
            return locale.toString(qlonglong(b.requests));
        case Waste:
            return locale.toString(b.wastePct, 'f', 1);
        case PaddedTokens:
            return locale.toString(qlonglong(b.paddedTokens));
        case Latency:
            return locale.toString(b.latencyMs, 'f', 2) + (b.extrapolated ? " *" : "");
        case MeanShare:
            return locale.toString(b.latencySharePct, 'f', 1);
        }
    } else if (role == Qt::EditRole) {
        // Raw numbers for sorting and for tests.
        switch (index.column()) {
        case Bucket:
            return qlonglong(b.boundary);
        case Traffic:
            return b.trafficPct;
        case Requests:
            return qlonglong(b.requests);
        case Waste:
            return b.wastePct;
        case PaddedTokens:
            return qlonglong(b.paddedTokens);
        case Latency:
            return b.latencyMs;
        case MeanShare:
            return b.latencySharePct;
        default:
            return data(index, Qt::DisplayRole);
        }
    } else if (role == Qt::TextAlignmentRole) {
        return QVariant::fromValue(index.column() == Lengths ? Qt::AlignCenter
                                                             : Qt::AlignRight | Qt::AlignVCenter);
    } else if (role == Qt::DecorationRole && index.column() == Bucket) {
        return setColor_.isValid() ? QVariant(setColor_) : QVariant();
    } else if (role == Qt::ToolTipRole) {
        switch (index.column()) {
        case Latency:
            return b.extrapolated ? tr("Latency of one call at length %1, extrapolated beyond "
                                       "the measured points")
                                        .arg(b.boundary)
                                  : tr("Latency of one call at length %1").arg(b.boundary);
        case Waste:
            return tr("%1 of %2 computed tokens in this bucket are padding")
                .arg(locale.toString(qlonglong(b.paddedTokens - b.realTokens)))
                .arg(locale.toString(qlonglong(b.paddedTokens)));
        default:
            return headerData(index.column(), Qt::Horizontal, Qt::ToolTipRole);
        }
    }
    return {};
}

QVariant BucketTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return {};
    if (role == Qt::DisplayRole) {
        switch (section) {
        case Bucket:
            return tr("Bucket");
        case Lengths:
            return tr("Lengths");
        case Traffic:
            return tr("Traffic %");
        case Requests:
            return tr("Requests");
        case Waste:
            return tr("Waste %");
        case PaddedTokens:
            return tr("Padded tokens");
        case Latency:
            return tr("Latency ms");
        case MeanShare:
            return tr("Share of mean %");
        }
    } else if (role == Qt::ToolTipRole) {
        switch (section) {
        case Bucket:
            return tr("The bucket length: inputs are padded up to it");
        case Lengths:
            return tr("Input lengths this bucket serves");
        case Traffic:
            return tr("Share of all requests that land in this bucket");
        case Requests:
            return tr("Requests that land in this bucket");
        case Waste:
            return tr("Padding as a share of the tokens this bucket computes");
        case PaddedTokens:
            return tr("Tokens computed: requests × bucket length");
        case Latency:
            return tr("Latency of one call at the bucket length, from the latency curve "
                      "(* = extrapolated)");
        case MeanShare:
            return tr("This bucket's part of the mean latency over all served requests");
        }
    }
    return {};
}

} // namespace bucketlab::ui
