// The lint findings of the graph shown in the graph view: one row per finding
// (severity, rule, source line, message); the explanation and fix are the row's
// tooltip.
#pragma once

#include "core/graph/lint.h"
#include "ui/models/columntablemodel.h"

#include <vector>

namespace bucketlab::ui {

class LintTableModel : public ColumnTableModel<LintFinding> {
    Q_OBJECT
public:
    enum Column { Severity, Rule, Line, Message, ColumnCount };

    explicit LintTableModel(QObject* parent = nullptr);

    void setFindings(std::vector<LintFinding> findings);
    const std::vector<LintFinding>& findings() const { return rows(); }
    const LintFinding& finding(int r) const { return row(r); }
};

} // namespace bucketlab::ui
