// Read-only table models for what a model or package holds (buckets, inputs,
// methods, tensors, metadata). One small class, RowTableModel, with a builder
// per table.
#pragma once

#include "core/archive/model_info.h"
#include "ui/models/columntablemodel.h"

#include <QStringList>
#include <QVariant>
#include <QVector>

namespace bucketlab::ui {

// A row of ready-made cells, one per header, and the row's tooltip.
struct CellRow {
    QVariantList cells;
    QString toolTip;
};

// Columns named by the headers; numbers are right-aligned.
class RowTableModel : public ColumnTableModel<CellRow> {
    Q_OBJECT
public:
    using Row = CellRow;

    explicit RowTableModel(const QStringList& headers, QObject* parent = nullptr);
    void setRows(const QVector<Row>& rows);
};

QVector<RowTableModel::Row> bucketRows(const ModelInfo& info);
QVector<RowTableModel::Row> inputRows(const ModelInfo& info);
QVector<RowTableModel::Row> methodRows(const ModelInfo& info);
QVector<RowTableModel::Row> tensorRows(const ModelInfo& info);
QVector<RowTableModel::Row> metadataRows(const ModelInfo& info);

QString humanBytes(qint64 bytes);

} // namespace bucketlab::ui
