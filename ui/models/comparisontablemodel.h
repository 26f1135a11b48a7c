// The tuned optimum beside the baselines people use (current, powers of two,
// equal mass, uniform): boundaries, mean and p99 latency, waste, rejected
// traffic, and how much the optimum gains over each.
#pragma once

#include "core/tuning/tuning_report.h"
#include "ui/models/columntablemodel.h"

#include <QPalette>

#include <optional>

namespace bucketlab::ui {

// One boundary set of the comparison: the tuned one (row 0, when feasible) or a
// baseline.
struct ComparisonRow {
    QString name;
    std::vector<int64_t> boundaries;
    EvaluationStats stats;
    double gainPct = 0;
    bool tuned = false;
    QString note;
};

class ComparisonTableModel : public ColumnTableModel<ComparisonRow> {
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

private:
    QPalette palette_;
};

} // namespace bucketlab::ui
