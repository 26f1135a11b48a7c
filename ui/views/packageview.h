// What an opened model or package holds: a summary, the bucket layout drawn over the length
// axis, and tables of buckets, inputs, methods, tensors and metadata.
#pragma once

#include "core/archive/model_info.h"

#include <QWidget>

class QCustomPlot;
class QLabel;
class QTableView;

namespace bucketlab::ui {

class RowTableModel;

class PackageView : public QWidget {
    Q_OBJECT
public:
    explicit PackageView(QWidget* parent = nullptr);

    void setModelInfo(const ModelInfo& info);
    void clear();

    RowTableModel* bucketModel() const { return buckets_; }
    RowTableModel* inputModel() const { return inputs_; }
    RowTableModel* methodModel() const { return methods_; }
    RowTableModel* tensorModel() const { return tensors_; }
    RowTableModel* metadataModel() const { return metadata_; }
    QCustomPlot* layoutPlot() const { return plot_; }

private:
    void drawLayout(const ModelInfo& info);
    QTableView* makeTable(RowTableModel* model, const QString& objectName);

    QLabel* title_ = nullptr;
    QLabel* subtitle_ = nullptr;
    QCustomPlot* plot_ = nullptr;
    RowTableModel* buckets_ = nullptr;
    RowTableModel* inputs_ = nullptr;
    RowTableModel* methods_ = nullptr;
    RowTableModel* tensors_ = nullptr;
    RowTableModel* metadata_ = nullptr;
};

} // namespace bucketlab::ui
