// The tuned optimum beside the baselines people use (current, powers of two, equal mass,
// uniform): boundaries, mean and p99 latency, waste, rejected traffic, and how much the
// optimum gains over each.
#pragma once

#include "core/tuning/tuning_report.h"

#include <QAbstractTableModel>
#include <QPalette>

#include <optional>

namespace bucketlab::ui {

class ComparisonTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Name, Boundaries, Buckets, Mean, P99, Waste, Rejected, Gain, ColumnCount };

    explicit ComparisonTableModel(QObject* parent = nullptr);
    void setReport(const std::optional<TuningReport>& report);
    // Boundaries of a row (the tuned set is row 0).
    std::vector<int64_t> boundariesAt(int row) const;
    QString nameAt(int row) const;
    // The palette the sets' colour swatches (ui/palette.h) are chosen for.
    void setPalette(const QPalette& palette);

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

private:
    struct Row {
        QString name;
        std::vector<int64_t> boundaries;
        EvaluationStats stats;
        double gainPct = 0;
        bool tuned = false;
        QString note;
    };
    std::vector<Row> rows_;
    QPalette palette_;
};

} // namespace bucketlab::ui
