// Read-only table models for what a model or package holds (buckets, inputs, methods,
// tensors, metadata). One small class, RowTableModel, with a builder per table.
#pragma once

#include "core/archive/model_info.h"

#include <QAbstractTableModel>
#include <QStringList>
#include <QVariant>
#include <QVector>

namespace bucketlab::ui {

class RowTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    struct Row {
        QVariantList cells;
        QString toolTip;
    };

    explicit RowTableModel(QStringList headers, QObject* parent = nullptr);
    void setRows(QVector<Row> rows);
    const QVector<Row>& rows() const { return rows_; }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

private:
    QStringList headers_;
    QVector<Row> rows_;
};

QVector<RowTableModel::Row> bucketRows(const ModelInfo& info);
QVector<RowTableModel::Row> inputRows(const ModelInfo& info);
QVector<RowTableModel::Row> methodRows(const ModelInfo& info);
QVector<RowTableModel::Row> tensorRows(const ModelInfo& info);
QVector<RowTableModel::Row> metadataRows(const ModelInfo& info);

QString humanBytes(qint64 bytes);

} // namespace bucketlab::ui
