// The lint findings of the graph shown in the graph view: one row per finding (severity,
// rule, source line, message); the explanation and fix are the row's tooltip.
#pragma once

#include "core/graph/lint.h"

#include <QAbstractTableModel>

#include <vector>

namespace bucketlab::ui {

class LintTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Severity, Rule, Line, Message, ColumnCount };

    explicit LintTableModel(QObject* parent = nullptr);

    void setFindings(std::vector<LintFinding> findings);
    const std::vector<LintFinding>& findings() const { return findings_; }
    const LintFinding& finding(int row) const { return findings_[size_t(row)]; }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

private:
    std::vector<LintFinding> findings_;
};

} // namespace bucketlab::ui
