#include "ui/models/linttablemodel.h"

namespace bucketlab::ui {

LintTableModel::LintTableModel(QObject* parent) : QAbstractTableModel(parent) {}

void LintTableModel::setFindings(std::vector<LintFinding> findings)
{
    beginResetModel();
    findings_ = std::move(findings);
    endResetModel();
}

int LintTableModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : int(findings_.size());
}

int LintTableModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant LintTableModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() >= rowCount() || index.column() >= ColumnCount)
        return {};
    const LintFinding& f = findings_[size_t(index.row())];
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
        case Severity:
            return QString::fromStdString(severityName(f.severity));
        case Rule:
            return QString::fromStdString(f.rule);
        case Line:
            return f.line > 0 ? QVariant(f.line) : QVariant(QString());
        case Message:
            return QString::fromStdString(f.message);
        }
    }
    if (role == Qt::ToolTipRole) {
        const LintRule& rule = lintRule(f.rule);
        // The Finding column is elided to fit: its tooltip starts with the whole finding.
        const QString finding =
            index.column() == Message
                ? QString("<p>%1</p>").arg(QString::fromStdString(f.message).toHtmlEscaped())
                : QString();
        return finding + tr("<b>%1</b><p>%2</p><p><b>Fix:</b> %3</p>")
                             .arg(QString::fromStdString(rule.title).toHtmlEscaped(),
                                  QString::fromStdString(rule.explanation).toHtmlEscaped(),
                                  QString::fromStdString(rule.fix).toHtmlEscaped());
    }
    if (role == Qt::TextAlignmentRole && index.column() == Line)
        return QVariant(Qt::AlignRight | Qt::AlignVCenter);
    return {};
}

QVariant LintTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case Severity:
        return tr("Severity");
    case Rule:
        return tr("Rule");
    case Line:
        return tr("Line");
    case Message:
        return tr("Finding");
    }
    return {};
}

} // namespace bucketlab::ui
