#include "ui/views/tablecopy.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QKeyEvent>
#include <QMimeData>
#include <QTableView>

#include <algorithm>

namespace bucketlab::ui {

namespace {

QString cell(const QVariant& value)
{
    QString text = value.toString();
    text.replace('\t', ' ');
    text.replace('\n', ' ');
    text.replace('\r', ' ');
    return text;
}

// QAbstractItemView handles Ctrl+C itself (it copies the current cell) and claims the key
// before any shortcut sees it; this filter takes the key first and runs the table copy.
class CopyKeyFilter : public QObject {
public:
    CopyKeyFilter(QAction* copy, QObject* parent) : QObject(parent), copy_(copy) {}

protected:
    bool eventFilter(QObject* watched, QEvent* event) override
    {
        if (event->type() == QEvent::ShortcutOverride || event->type() == QEvent::KeyPress) {
            auto* key = static_cast<QKeyEvent*>(event);
            if (key->matches(QKeySequence::Copy)) {
                event->accept();
                if (event->type() == QEvent::KeyPress)
                    copy_->trigger();
                return true;
            }
        }
        return QObject::eventFilter(watched, event);
    }

private:
    QAction* copy_;
};

} // namespace

QString tableAsTsv(const QAbstractItemModel& model, QList<int> rows, const QList<int>& columns)
{
    if (rows.isEmpty())
        for (int r = 0; r < model.rowCount(); ++r)
            rows << r;
    QStringList lines;
    QStringList header;
    for (int c : columns)
        header << cell(model.headerData(c, Qt::Horizontal, Qt::DisplayRole));
    lines << header.join('\t');
    for (int r : rows) {
        QStringList fields;
        for (int c : columns)
            fields << cell(model.index(r, c).data(Qt::DisplayRole));
        lines << fields.join('\t');
    }
    return lines.join('\n') + '\n';
}

QString tableViewAsTsv(const QTableView& view)
{
    const QAbstractItemModel* model = view.model();
    if (!model)
        return {};
    QList<int> rows;
    if (const QItemSelectionModel* selection = view.selectionModel()) {
        for (const QModelIndex& index : selection->selectedIndexes())
            if (!rows.contains(index.row()))
                rows << index.row();
        std::sort(rows.begin(), rows.end());
    }
    QList<int> columns;
    const QHeaderView* header = view.horizontalHeader();
    for (int visual = 0; visual < header->count(); ++visual) {
        const int logical = header->logicalIndex(visual);
        if (!view.isColumnHidden(logical))
            columns << logical;
    }
    return tableAsTsv(*model, rows, columns);
}

void installTableCopy(QTableView* view)
{
    auto* copy = new QAction(QObject::tr("Copy as TSV"), view);
    copy->setObjectName("actionCopyTable");
    copy->setShortcut(QKeySequence::Copy);
    copy->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    copy->setToolTip(QObject::tr("Copy the selected rows (or all) as tab-separated values, "
                                 "with a header line"));
    QObject::connect(copy, &QAction::triggered, view, [view] {
        auto* mime = new QMimeData;
        const QString tsv = tableViewAsTsv(*view);
        mime->setText(tsv);
        mime->setData(QStringLiteral("text/tab-separated-values"), tsv.toUtf8());
        QApplication::clipboard()->setMimeData(mime);
    });
    view->addAction(copy);
    view->installEventFilter(new CopyKeyFilter(copy, view));
    if (view->contextMenuPolicy() == Qt::DefaultContextMenu)
        view->setContextMenuPolicy(Qt::ActionsContextMenu);
}

} // namespace bucketlab::ui
