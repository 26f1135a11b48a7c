// Copy any table as TSV: Ctrl+C (and "Copy as TSV" in its context menu) on a table view puts
// the selected rows — or all of them when none is selected — on the clipboard, with a header
// line, in the columns and order the view shows. One implementation for every table, so a
// spreadsheet receives the same shape from each.
#pragma once

#include <QList>
#include <QString>

class QAbstractItemModel;
class QAbstractItemView;
class QTableView;

namespace bucketlab::ui {

// `rows` and `columns` are model rows and columns in the order wanted; empty `rows`: all.
// Cells are the text the table shows; tabs and line breaks inside a cell become spaces.
QString tableAsTsv(const QAbstractItemModel& model, QList<int> rows, const QList<int>& columns);

// What Ctrl+C on `view` copies: its selected rows (all when none), its visible columns in
// visual order.
QString tableViewAsTsv(const QTableView& view);

// Adds the copy action (Ctrl+C while the view has focus, and in its context menu).
void installTableCopy(QTableView* view);

} // namespace bucketlab::ui
