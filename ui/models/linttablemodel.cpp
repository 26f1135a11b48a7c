#include "ui/models/linttablemodel.h"

namespace bucketlab::ui {

namespace {

using Row = LintFinding;
using Col = TableColumn<Row>;

QString text(const std::string& s)
{
    return QString::fromStdString(s);
}

} // namespace

LintTableModel::LintTableModel(QObject* parent) : ColumnTableModel(parent)
{
    auto ruleTip = [](const Row& f) -> QVariant {
        const LintRule& rule = lintRule(f.rule);
        return tr("<b>%1</b><p>%2</p><p><b>Fix:</b> %3</p>")
            .arg(text(rule.title).toHtmlEscaped(), text(rule.explanation).toHtmlEscaped(),
                 text(rule.fix).toHtmlEscaped());
    };
    // The Finding column is elided to fit: its tooltip starts with the whole
    // finding.
    auto findingTip = [ruleTip](const Row& f) -> QVariant {
        return QString("<p>%1</p>").arg(text(f.message).toHtmlEscaped()) + ruleTip(f).toString();
    };
    setColumns({
        Col(tr("Severity"), [](const Row& f) { return text(severityName(f.severity)); }),
        Col(tr("Rule"), [](const Row& f) { return text(f.rule); }),
        Col(tr("Line"),
            [](const Row& f) { return f.line > 0 ? QVariant(f.line) : QVariant(QString()); })
            .align(Qt::AlignRight | Qt::AlignVCenter),
        Col(tr("Finding"), [](const Row& f) { return text(f.message); }).tip(findingTip),
    });
    setRowToolTip(ruleTip);
}

void LintTableModel::setFindings(std::vector<LintFinding> findings)
{
    setRows(std::move(findings));
}

} // namespace bucketlab::ui
