// The one table model of the desktop: a list of rows of one type and a list of column
// descriptors saying how a row becomes each role of a cell (text, sort value, tooltip, colour
// swatch, alignment, bold). A table is then its row type and its columns; rowCount,
// columnCount, headerData and data are written here once.
//
// What a cell answers, per role:
//   DisplayRole          the column's display(row)
//   EditRole             the column's sort(row): the raw number views sort by and tests read;
//                        the display value when the column has none (as QStandardItem does)
//   ToolTipRole          the column's toolTip(row); when that is unset or invalid, the model's
//                        row tooltip; when that is invalid too, the column's header tooltip if
//                        setHeaderToolTipsOnCells(true)
//   DecorationRole       the column's decoration(row) (a QColor swatch)
//   TextAlignmentRole    the column's alignment(row), as an int (what Qt's delegates read)
//   FontRole             bold when the column's bold(row), or else the model's row bold(row),
//                        says so
// A horizontal header answers DisplayRole with the column's header and ToolTipRole with its
// header tooltip; a vertical one numbers the rows as QAbstractItemModel does.
#pragma once

#include <QAbstractTableModel>
#include <QFont>
#include <QList>
#include <QString>
#include <QVariant>

#include <functional>
#include <utility>
#include <vector>

namespace bucketlab::ui {

template <class Row> struct TableColumn {
    using Cell = std::function<QVariant(const Row&)>;
    using Test = std::function<bool(const Row&)>;

    QString header;
    QString headerToolTip;
    Cell display;
    Cell sort;
    Cell toolTip;
    Cell decoration;
    Cell alignment;
    Test bold;

    TableColumn(QString header, Cell display, QString headerToolTip = {})
        : header(std::move(header)), headerToolTip(std::move(headerToolTip)),
          display(std::move(display))
    {
    }
    // Builder steps: TableColumn<Row>(tr("Waste %"), text).sortBy(number).align(right).
    TableColumn& sortBy(Cell value) { return sort = std::move(value), *this; }
    TableColumn& tip(Cell value) { return toolTip = std::move(value), *this; }
    TableColumn& decorate(Cell value) { return decoration = std::move(value), *this; }
    TableColumn& alignBy(Cell value) { return alignment = std::move(value), *this; }
    TableColumn& align(Qt::Alignment value)
    {
        return alignBy([value](const Row&) { return QVariant(int(value)); });
    }
    TableColumn& boldWhen(Test value) { return bold = std::move(value), *this; }
};

template <class Row> class ColumnTableModel : public QAbstractTableModel {
public:
    using Column = TableColumn<Row>;

    const std::vector<Row>& rows() const { return rows_; }
    const Row& row(int r) const { return rows_[size_t(r)]; }

    int rowCount(const QModelIndex& parent = {}) const override
    {
        return parent.isValid() ? 0 : int(rows_.size());
    }
    int columnCount(const QModelIndex& parent = {}) const override
    {
        return parent.isValid() ? 0 : int(columns_.size());
    }

    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override
    {
        if (!index.isValid() || index.row() >= rowCount() || index.column() >= columnCount())
            return {};
        const Column& c = columns_[size_t(index.column())];
        const Row& r = rows_[size_t(index.row())];
        switch (role) {
        case Qt::DisplayRole: return ask(c.display, r);
        case Qt::EditRole: return c.sort ? c.sort(r) : ask(c.display, r);
        case Qt::ToolTipRole: return toolTip(c, r);
        case Qt::DecorationRole: return ask(c.decoration, r);
        case Qt::TextAlignmentRole: return ask(c.alignment, r);
        case Qt::FontRole: return bold(c, r);
        default: return {};
        }
    }

    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override
    {
        if (orientation != Qt::Horizontal)
            return QAbstractTableModel::headerData(section, orientation, role);
        if (section < 0 || section >= columnCount())
            return {};
        const Column& c = columns_[size_t(section)];
        if (role == Qt::DisplayRole)
            return c.header;
        if (role == Qt::ToolTipRole && !c.headerToolTip.isEmpty())
            return c.headerToolTip;
        return {};
    }

protected:
    using QAbstractTableModel::QAbstractTableModel;

    // Once, in the constructor of the table.
    void setColumns(std::vector<Column> columns) { columns_ = std::move(columns); }
    void setRowToolTip(typename Column::Cell toolTip) { rowToolTip_ = std::move(toolTip); }
    void setRowBold(typename Column::Test bold) { rowBold_ = std::move(bold); }
    void setHeaderToolTipsOnCells(bool on) { headerToolTipsOnCells_ = on; }

    // New rows: a model reset. alsoChange, when given, changes what the columns read besides
    // the rows (the result their indices point into) within the same reset.
    void setRows(std::vector<Row> rows, const std::function<void()>& alsoChange = {})
    {
        beginResetModel();
        rows_ = std::move(rows);
        if (alsoChange)
            alsoChange();
        endResetModel();
    }
    // New rows, changed in place (dataChanged) when there are as many as before, so a view
    // keeps its selection and scroll position while the rows follow a drag.
    void updateRows(std::vector<Row> rows, const std::function<void()>& alsoChange = {})
    {
        if (rows.size() != rows_.size()) {
            setRows(std::move(rows), alsoChange);
            return;
        }
        rows_ = std::move(rows);
        if (alsoChange)
            alsoChange();
        cellsChanged(0, columnCount() - 1);
    }
    void replaceRow(int r, Row row)
    {
        rows_[size_t(r)] = std::move(row);
        Q_EMIT dataChanged(index(r, 0), index(r, columnCount() - 1));
    }
    void insertRowAt(int r, Row row)
    {
        beginInsertRows({}, r, r);
        rows_.insert(rows_.begin() + r, std::move(row));
        endInsertRows();
    }
    // Every row's cells in columns first..last changed what they answer for roles (all when
    // empty): state the columns read besides the row (a palette, a colour) changed.
    void cellsChanged(int first, int last, const QList<int>& roles = {})
    {
        if (!rows_.empty())
            Q_EMIT dataChanged(index(0, first), index(rowCount() - 1, last), roles);
    }

private:
    static QVariant ask(const typename Column::Cell& cell, const Row& r)
    {
        return cell ? cell(r) : QVariant();
    }
    QVariant toolTip(const Column& c, const Row& r) const
    {
        QVariant tip = ask(c.toolTip, r);
        if (!tip.isValid())
            tip = ask(rowToolTip_, r);
        if (!tip.isValid() && headerToolTipsOnCells_ && !c.headerToolTip.isEmpty())
            tip = c.headerToolTip;
        return tip;
    }
    QVariant bold(const Column& c, const Row& r) const
    {
        const auto& test = c.bold ? c.bold : rowBold_;
        if (!test || !test(r))
            return {};
        QFont f;
        f.setBold(true);
        return f;
    }

    std::vector<Column> columns_;
    std::vector<Row> rows_;
    typename Column::Cell rowToolTip_;
    typename Column::Test rowBold_;
    bool headerToolTipsOnCells_ = false;
};

} // namespace bucketlab::ui
