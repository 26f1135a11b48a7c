#include "ui/models/packagetablemodels.h"

#include <QFileInfo>
#include <QLocale>

namespace bucketlab::ui {

RowTableModel::RowTableModel(QStringList headers, QObject* parent)
    : QAbstractTableModel(parent), headers_(std::move(headers))
{
}

void RowTableModel::setRows(QVector<Row> rows)
{
    beginResetModel();
    rows_ = std::move(rows);
    endResetModel();
}

int RowTableModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : int(rows_.size());
}

int RowTableModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : int(headers_.size());
}

QVariant RowTableModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() >= rows_.size() || index.column() >= headers_.size())
        return {};
    const Row& row = rows_[index.row()];
    const QVariant cell =
        index.column() < row.cells.size() ? row.cells[index.column()] : QVariant();
    switch (role) {
    case Qt::DisplayRole:
        return cell;
    case Qt::ToolTipRole:
        return row.toolTip.isEmpty() ? QVariant() : QVariant(row.toolTip);
    case Qt::TextAlignmentRole: {
        const auto type = cell.typeId();
        const bool numeric =
            type == QMetaType::Int || type == QMetaType::LongLong || type == QMetaType::Double;
        return QVariant::fromValue(Qt::AlignVCenter | (numeric ? Qt::AlignRight : Qt::AlignLeft));
    }
    default:
        return {};
    }
}

QVariant RowTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (role != Qt::DisplayRole)
        return {};
    if (orientation == Qt::Horizontal)
        return section < headers_.size() ? QVariant(headers_[section]) : QVariant();
    return section + 1;
}

QString humanBytes(qint64 bytes)
{
    return QLocale().formattedDataSize(bytes, 1, QLocale::DataSizeTraditionalFormat);
}

QVector<RowTableModel::Row> bucketRows(const ModelInfo& info)
{
    QVector<RowTableModel::Row> rows;
    if (!info.package)
        return rows;
    const auto& m = *info.package;
    int64_t previous = 0;
    for (size_t k = 0; k < m.boundaries.size(); ++k) {
        const int64_t b = m.boundaries[k];
        QString model = m.kind == PackageKind::Shared ? QObject::tr("shared") : QString();
        for (const auto& ref : m.models)
            if (m.kind == PackageKind::PerBucket && ref.bucket == b)
                model = QString::fromStdString(ref.file);
        rows.push_back(
            {{qlonglong(k), qlonglong(b), QString("%1 – %2").arg(previous + 1).arg(b), model},
             QObject::tr("Inputs of length %1 to %2 are padded to %2 and run by "
                         "bucket_%3")
                 .arg(previous + 1)
                 .arg(b)
                 .arg(k)});
        previous = b;
    }
    return rows;
}

QVector<RowTableModel::Row> inputRows(const ModelInfo& info)
{
    QVector<RowTableModel::Row> rows;
    if (!info.package)
        return rows;
    for (const auto& in : info.package->inputs) {
        if (!in.bucketed) {
            rows.push_back(
                {{QString::fromStdString(in.name), QString::fromStdString(dtypeName(in.dtype)),
                  QObject::tr("not bucketed"), in.fillValue},
                 QObject::tr("No length: passed through unpadded as [batch]; filled "
                             "with %1 when BucketLab makes inputs")
                     .arg(in.fillValue)});
            continue;
        }
        rows.push_back({{QString::fromStdString(in.name),
                         QString::fromStdString(dtypeName(in.dtype)), in.padValue, in.fillValue},
                        QObject::tr("Padded with %1; filled with %2 when BucketLab makes inputs")
                            .arg(in.padValue)
                            .arg(in.fillValue)});
    }
    return rows;
}

QVector<RowTableModel::Row> methodRows(const ModelInfo& info)
{
    QVector<RowTableModel::Row> rows;
    for (const auto& m : info.methods)
        rows.push_back({{QString::fromStdString(m.name), QString::fromStdString(m.schema)}, {}});
    return rows;
}

QVector<RowTableModel::Row> tensorRows(const ModelInfo& info)
{
    QVector<RowTableModel::Row> rows;
    for (const auto& t : info.tensors) {
        QStringList dims;
        for (auto d : t.shape)
            dims << QString::number(d);
        rows.push_back({{QString::fromStdString(t.name), "[" + dims.join(", ") + "]",
                         QString::fromStdString(t.dtype), humanBytes(t.bytes),
                         t.parameter ? QObject::tr("parameter") : QObject::tr("buffer")},
                        {}});
    }
    return rows;
}

QVector<RowTableModel::Row> metadataRows(const ModelInfo& info)
{
    QVector<RowTableModel::Row> rows;
    auto add = [&](const QString& key, const QString& value) {
        rows.push_back({{key, value}, {}});
    };
    add(QObject::tr("File"), QString::fromStdString(info.path));
    add(QObject::tr("Size"), humanBytes(info.fileBytes));
    add(QObject::tr("Parameters"), QLocale().toString(qlonglong(info.parameterCount)));
    add(QObject::tr("Tensor data"), humanBytes(info.tensorBytes));
    if (const auto& m = info.package) {
        add(QObject::tr("Format"), QString::fromStdString(m->format));
        add(QObject::tr("Kind"), QString::fromStdString(packageKindName(m->kind)));
        add(QObject::tr("Bucket dimension"), QString::number(m->bucketDim));
        add(QObject::tr("Batch dimension"), QString::number(m->batchDim));
        add(QObject::tr("Kernel"),
            m->userKernel ? QObject::tr("user-supplied") : QObject::tr("generated by BucketLab"));
        if (!m->constantArgs.empty())
            add(QObject::tr("Kernel constant arguments"), QString::fromStdString(m->constantArgs));
        for (const auto& ref : m->models)
            add(m->kind == PackageKind::Shared ? QObject::tr("Base model")
                                               : QObject::tr("Bucket %1 model").arg(ref.bucket),
                QString("%1 (sha256 %2…)")
                    .arg(QString::fromStdString(ref.file),
                         QString::fromStdString(ref.sha256.substr(0, 12))));
        add(QObject::tr("Created"), QString::fromStdString(m->createdAt + " by " + m->createdBy));
    }
    return rows;
}

} // namespace bucketlab::ui
