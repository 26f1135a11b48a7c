// The Package view's metadata table: what a package's bucketlab_meta says, row by row; here
// the kernel's constant arguments, shown when a package has them and absent otherwise.
#include "core/archive/model_info.h"
#include "core/spec/package_meta.h"
#include "ui/models/packagetablemodels.h"

#include <QTest>

using namespace bucketlab;

class TestPackageTableModels : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void constantArgsRow_data();
    void constantArgsRow();
};

namespace {

QString rowValue(const QVector<ui::RowTableModel::Row>& rows, const QString& key)
{
    for (const auto& r : rows)
        if (r.cells.value(0).toString() == key)
            return r.cells.value(1).toString();
    return {};
}

} // namespace

void TestPackageTableModels::constantArgsRow_data()
{
    QTest::addColumn<QString>("metaJson");
    QTest::addColumn<QString>("shown"); // empty: no row
    const QString base = R"({"format": "bucketlab.package/1", "boundaries": [128, 512],
        "bucket_dim": 1, "batch_dim": 0, "padding_side": "left",
        "inputs": [{"name": "input_ids", "dtype": "int64", "pad_value": 0}], %1})";
    QTest::addRow("user kernel with constants")
        << base.arg(R"("kernel": "user", "constant_args": "torch.tensor([128, 512]), 'left', 0")")
        << "torch.tensor([128, 512]), 'left', 0";
    QTest::addRow("user kernel without") << base.arg(R"("kernel": "user")") << "";
    QTest::addRow("written before the field") << base.arg(R"("kernel": "generated")") << "";
}

void TestPackageTableModels::constantArgsRow()
{
    QFETCH(QString, metaJson);
    QFETCH(QString, shown);
    ModelInfo info;
    info.path = "package.pt";
    info.package = metaFromJson(metaJson.toStdString(), "package.pt");
    const auto rows = ui::metadataRows(info);
    QCOMPARE(rowValue(rows, "Kernel constant arguments"), shown);
    QVERIFY(!rowValue(rows, "Kernel").isEmpty());
}

QTEST_GUILESS_MAIN(TestPackageTableModels)
#include "tst_packagetablemodels.moc"
