// The generic table model (ui/models/columntablemodel.h) on its own, without widgets: which
// answer each role gives (and what it falls back to), the headers, and that new rows reset
// the model only when their count changes.
#include "ui/models/columntablemodel.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTest>

using namespace bucketlab::ui;

namespace {

struct Item {
    QString name;
    double value = 0;
    QString note; // the row tooltip; none when empty
    bool marked = false;
};

// A table of three columns: Name (sorted by its text), Value (text, sorted by the number,
// its own tooltip for negative values), Tag (its own bold rule and a swatch).
class ItemModel : public ColumnTableModel<Item> {
public:
    enum { Name, Value, Tag };

    explicit ItemModel(bool headerTipsOnCells)
    {
        using Col = TableColumn<Item>;
        setColumns({
            Col(
                "Name", [](const Item& i) { return i.name; }, "The item's name")
                .align(Qt::AlignLeft | Qt::AlignVCenter),
            Col("Value", [](const Item& i) { return QString::number(i.value, 'f', 1) + " ms"; })
                .sortBy([](const Item& i) { return i.value; })
                .tip([](const Item& i) { return i.value < 0 ? QVariant("negative") : QVariant(); })
                .align(Qt::AlignRight | Qt::AlignVCenter),
            Col(
                "Tag", [](const Item& i) { return i.marked ? "yes" : "no"; }, "Whether marked")
                .boldWhen([](const Item& i) { return i.value > 100; })
                .decorate([this](const Item&) { return QVariant(swatch); }),
        });
        setRowToolTip([](const Item& i) { return i.note.isEmpty() ? QVariant() : i.note; });
        setRowBold([](const Item& i) { return i.marked; });
        setHeaderToolTipsOnCells(headerTipsOnCells);
    }

    void set(std::vector<Item> items, const QString& source = {})
    {
        setRows(std::move(items), [&] { this->source = source; });
    }
    void update(std::vector<Item> items) { updateRows(std::move(items)); }
    void put(int row, Item item) { replaceRow(row, std::move(item)); }
    void insert(int row, Item item) { insertRowAt(row, std::move(item)); }
    void recolour(const QColor& colour)
    {
        swatch = colour;
        cellsChanged(Tag, Tag, {Qt::DecorationRole});
    }

    QColor swatch = Qt::red;
    QString source; // state the reset changes alongside the rows
};

std::vector<Item> threeItems()
{
    return {{"a", 1.5, "first", false}, {"b", -2, "", true}, {"c", 250, "", false}};
}

} // namespace

class TestColumnTableModel : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void displayAndSortValues();
    void toolTipFallsBackFromColumnToRowToHeader_data();
    void toolTipFallsBackFromColumnToRowToHeader();
    void boldAlignmentAndSwatch();
    void headers();
    void outOfRangeIndexesAnswerNothing();
    void newRowsResetOnlyWhenTheCountChanges();
    void rowsAreReplacedAndInsertedInPlace();
    void stateChangedAlongsideIsNewOnlyAfterTheReset();
};

void TestColumnTableModel::displayAndSortValues()
{
    ItemModel model(false);
    new QAbstractItemModelTester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest,
                                 &model);
    model.set(threeItems());
    QCOMPARE(model.rowCount(), 3);
    QCOMPARE(model.columnCount(), 3);
    QCOMPARE(model.index(0, ItemModel::Value).data().toString(), QString("1.5 ms"));
    // EditRole is the raw number where the column sorts by one ...
    QCOMPARE(model.index(1, ItemModel::Value).data(Qt::EditRole).toDouble(), -2.0);
    // ... and the display value where it does not.
    QCOMPARE(model.index(1, ItemModel::Name).data(Qt::EditRole).toString(), QString("b"));
    QCOMPARE(model.row(2).name, QString("c"));
    QCOMPARE(model.rows().size(), size_t(3));
    // A role no column answers.
    QVERIFY(!model.index(0, ItemModel::Name).data(Qt::CheckStateRole).isValid());
}

void TestColumnTableModel::toolTipFallsBackFromColumnToRowToHeader_data()
{
    QTest::addColumn<bool>("headerTipsOnCells");
    QTest::addColumn<int>("row");
    QTest::addColumn<int>("column");
    QTest::addColumn<QVariant>("expected");
    const QVariant none;
    QTest::addRow("column tip wins over the row's")
        << false << 1 << int(ItemModel::Value) << QVariant("negative");
    QTest::addRow("column has none for the row: the row's")
        << false << 0 << int(ItemModel::Value) << QVariant("first");
    QTest::addRow("no column tip: the row's")
        << false << 0 << int(ItemModel::Name) << QVariant("first");
    QTest::addRow("neither, header tips off") << false << 2 << int(ItemModel::Name) << none;
    QTest::addRow("neither, header tips on: the header's")
        << true << 2 << int(ItemModel::Name) << QVariant("The item's name");
    QTest::addRow("neither, header tips on, header has none")
        << true << 2 << int(ItemModel::Value) << none;
    QTest::addRow("row tip before the header's")
        << true << 0 << int(ItemModel::Tag) << QVariant("first");
}

void TestColumnTableModel::toolTipFallsBackFromColumnToRowToHeader()
{
    QFETCH(bool, headerTipsOnCells);
    QFETCH(int, row);
    QFETCH(int, column);
    QFETCH(QVariant, expected);
    ItemModel model(headerTipsOnCells);
    model.set(threeItems());
    const QVariant tip = model.index(row, column).data(Qt::ToolTipRole);
    QCOMPARE(tip.isValid(), expected.isValid());
    QCOMPARE(tip.toString(), expected.toString());
}

void TestColumnTableModel::boldAlignmentAndSwatch()
{
    ItemModel model(false);
    model.set(threeItems());
    auto bold = [&](int row, int column) {
        const QVariant font = model.index(row, column).data(Qt::FontRole);
        return font.isValid() && font.value<QFont>().bold();
    };
    // The row rule (marked) holds where the column has no rule of its own.
    QVERIFY(!bold(0, ItemModel::Name));
    QVERIFY(bold(1, ItemModel::Name));
    QVERIFY(bold(1, ItemModel::Value));
    // The Tag column's own rule (value > 100) replaces the row rule there.
    QVERIFY(!bold(1, ItemModel::Tag));
    QVERIFY(bold(2, ItemModel::Tag));
    QVERIFY(!bold(2, ItemModel::Name));
    QVERIFY(!model.index(0, ItemModel::Name).data(Qt::FontRole).isValid());

    // Alignment is an int, as Qt's delegates read it; none where the column sets none.
    QCOMPARE(model.index(0, ItemModel::Value).data(Qt::TextAlignmentRole).toInt(),
             int(Qt::AlignRight | Qt::AlignVCenter));
    QCOMPARE(model.index(0, ItemModel::Name).data(Qt::TextAlignmentRole).toInt(),
             int(Qt::AlignLeft | Qt::AlignVCenter));
    QVERIFY(!model.index(0, ItemModel::Tag).data(Qt::TextAlignmentRole).isValid());

    QCOMPARE(model.index(0, ItemModel::Tag).data(Qt::DecorationRole).value<QColor>(),
             QColor(Qt::red));
    QVERIFY(!model.index(0, ItemModel::Name).data(Qt::DecorationRole).isValid());
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    model.recolour(Qt::blue);
    QCOMPARE(changed.count(), 1);
    QCOMPARE(changed[0][0].value<QModelIndex>(), model.index(0, ItemModel::Tag));
    QCOMPARE(changed[0][1].value<QModelIndex>(), model.index(2, ItemModel::Tag));
    QCOMPARE(changed[0][2].value<QList<int>>(), QList<int>{Qt::DecorationRole});
    QCOMPARE(model.index(2, ItemModel::Tag).data(Qt::DecorationRole).value<QColor>(),
             QColor(Qt::blue));
}

void TestColumnTableModel::headers()
{
    ItemModel model(false);
    QCOMPARE(model.headerData(ItemModel::Value, Qt::Horizontal).toString(), QString("Value"));
    QCOMPARE(model.headerData(ItemModel::Name, Qt::Horizontal, Qt::ToolTipRole).toString(),
             QString("The item's name"));
    QVERIFY(!model.headerData(ItemModel::Value, Qt::Horizontal, Qt::ToolTipRole).isValid());
    QVERIFY(!model.headerData(3, Qt::Horizontal).isValid());
    QVERIFY(!model.headerData(-1, Qt::Horizontal).isValid());
    // Rows are numbered from 1, as QAbstractItemModel numbers them.
    QCOMPARE(model.headerData(0, Qt::Vertical).toInt(), 1);
}

void TestColumnTableModel::outOfRangeIndexesAnswerNothing()
{
    ItemModel model(true);
    model.set(threeItems());
    QVERIFY(!model.data(QModelIndex()).isValid());
    QVERIFY(!model.index(3, 0).isValid());
    QVERIFY(!model.index(0, 3).isValid());
    QCOMPARE(model.rowCount(model.index(0, 0)), 0); // a table: no children
    QCOMPARE(model.columnCount(model.index(0, 0)), 0);
}

void TestColumnTableModel::newRowsResetOnlyWhenTheCountChanges()
{
    ItemModel model(false);
    new QAbstractItemModelTester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest,
                                 &model);
    model.set(threeItems());
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);

    auto items = threeItems();
    items[0].value = 7;
    model.update(items); // as many rows: changed in place
    QCOMPARE(reset.count(), 0);
    QCOMPARE(changed.count(), 1);
    QCOMPARE(changed[0][0].value<QModelIndex>(), model.index(0, 0));
    QCOMPARE(changed[0][1].value<QModelIndex>(), model.index(2, 2));
    QCOMPARE(model.index(0, ItemModel::Value).data(Qt::EditRole).toDouble(), 7.0);

    items.pop_back();
    model.update(items); // fewer rows: a reset
    QCOMPARE(reset.count(), 1);
    QCOMPARE(changed.count(), 1);
    QCOMPARE(model.rowCount(), 2);

    model.update({}); // none: a reset to an empty table, and nothing to change after
    QCOMPARE(reset.count(), 2);
    QCOMPARE(model.rowCount(), 0);
    model.recolour(Qt::green);
    QCOMPARE(changed.count(), 1);
}

void TestColumnTableModel::rowsAreReplacedAndInsertedInPlace()
{
    ItemModel model(false);
    new QAbstractItemModelTester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest,
                                 &model);
    model.set(threeItems());
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);

    model.put(1, {"B", 3, "", false});
    QCOMPARE(changed.count(), 1);
    QCOMPARE(changed[0][0].value<QModelIndex>(), model.index(1, 0));
    QCOMPARE(changed[0][1].value<QModelIndex>(), model.index(1, 2));
    QCOMPARE(model.index(1, ItemModel::Name).data().toString(), QString("B"));

    model.insert(1, {"between", 0, "", false});
    QCOMPARE(inserted.count(), 1);
    QCOMPARE(inserted[0][1].toInt(), 1);
    QCOMPARE(model.rowCount(), 4);
    QCOMPARE(model.index(1, ItemModel::Name).data().toString(), QString("between"));
    QCOMPARE(model.index(2, ItemModel::Name).data().toString(), QString("B"));
    model.insert(4, {"last", 0, "", false});
    QCOMPARE(model.index(4, ItemModel::Name).data().toString(), QString("last"));
}

void TestColumnTableModel::stateChangedAlongsideIsNewOnlyAfterTheReset()
{
    ItemModel model(false);
    model.set(threeItems(), "old");
    QString before, after;
    connect(&model, &QAbstractItemModel::modelAboutToBeReset, this, [&] { before = model.source; });
    connect(&model, &QAbstractItemModel::modelReset, this, [&] { after = model.source; });
    model.set({}, "new");
    // Rows and the state they index into change together, inside one reset.
    QCOMPARE(before, QString("old"));
    QCOMPARE(after, QString("new"));
}

QTEST_GUILESS_MAIN(TestColumnTableModel)
#include "tst_columntablemodel.moc"
