#include "ui/models/profiletablemodel.h"

#include <QLocale>
#include <QStringList>

#include <algorithm>

namespace bucketlab::ui {

namespace {

using Row = ProfilePoint;
using Col = TableColumn<Row>;

bool byBatchThenLength(const ProfilePoint& a, const ProfilePoint& b)
{
    return std::tie(a.batch, a.length) < std::tie(b.batch, b.length);
}

QString ms(double v)
{
    return QLocale().toString(v, 'f', 3);
}

// A latency column: milliseconds with three decimals ("—" for a failed point),
// sorted by the number.
Col latency(const QString& header, double ProfilePoint::*field)
{
    return Col(header, [field](const Row& p) { return p.ok() ? ms(p.*field) : QString("—"); })
        .sortBy([field](const Row& p) { return p.*field; });
}

QVariant ci(const Row& p)
{
    return p.ok() && p.ci95HighMs > 0 ? QString("%1 – %2").arg(ms(p.ci95LowMs), ms(p.ci95HighMs))
                                      : QString("—");
}

} // namespace

ProfileTableModel::ProfileTableModel(QObject* parent) : ColumnTableModel(parent)
{
    auto samples = [](const Row& p) -> QVariant {
        return p.outliers > 0 ? tr("%1 (%2 outliers)").arg(p.samples).arg(p.outliers)
                              : QString::number(p.samples);
    };
    auto flags = [](const Row& p) -> QVariant {
        if (!p.ok())
            return tr("failed: %1").arg(QString::fromStdString(p.error));
        QStringList flags;
        for (const auto& f : p.flags)
            flags << QString::fromStdString(f);
        return flags.join(", ");
    };
    // A column's own tooltip gives way to the bucket mark (the row tooltip).
    auto unlessBucket = [this](const QString& tip) {
        return [this, tip](const Row& p) {
            return isBucket(p) ? QVariant() : QVariant(tip);
        };
    };
    std::vector<Col> columns{
        Col(tr("Length"), [](const Row& p) { return qlonglong(p.length); }),
        Col(tr("Batch"), [](const Row& p) { return qlonglong(p.batch); }),
        latency(tr("p50 ms"), &ProfilePoint::p50Ms),
        latency(tr("p90 ms"), &ProfilePoint::p90Ms),
        latency(tr("p99 ms"), &ProfilePoint::p99Ms),
        latency(tr("Mean ms"), &ProfilePoint::meanMs),
        Col(tr("CI95 of median"), ci)
            .tip(unlessBucket(tr("95 % bootstrap confidence interval of the median"))),
        Col(tr("Samples"), samples).sortBy([](const Row& p) { return qlonglong(p.samples); }),
        Col(tr("Flags"), flags)
            .tip(unlessBucket(tr("noisy: CV above 10 %; drift: first and last rounds differ; "
                                 "few-samples: the budget ended before the CI was tight")))
            .align(Qt::AlignLeft | Qt::AlignVCenter),
    };
    for (int c = Length; c < Flags; ++c)
        columns[size_t(c)].align(Qt::AlignRight | Qt::AlignVCenter);
    setColumns(std::move(columns));
    setRowToolTip([this](const Row& p) {
        return isBucket(p) ? QVariant(tr("A bucket of the active boundary set")) : QVariant();
    });
    setRowBold([this](const Row& p) { return isBucket(p); });
}

void ProfileTableModel::setProfile(const Profile* profile)
{
    std::vector<ProfilePoint> points = profile ? profile->points : std::vector<ProfilePoint>{};
    std::sort(points.begin(), points.end(), byBatchThenLength);
    setRows(std::move(points));
}

void ProfileTableModel::setBucketLengths(const std::set<int64_t>& lengths)
{
    buckets_ = lengths;
    cellsChanged(0, ColumnCount - 1, {Qt::FontRole, Qt::ToolTipRole});
}

void ProfileTableModel::upsertPoint(const ProfilePoint& point)
{
    const auto& points = rows();
    auto it = std::find_if(points.begin(), points.end(), [&](const ProfilePoint& p) {
        return p.length == point.length && p.batch == point.batch;
    });
    if (it != points.end())
        replaceRow(int(it - points.begin()), point);
    else
        insertRowAt(int(std::lower_bound(points.begin(), points.end(), point, byBatchThenLength) -
                        points.begin()),
                    point);
}

} // namespace bucketlab::ui
