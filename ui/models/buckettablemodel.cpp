#include "ui/models/buckettablemodel.h"

#include <QLocale>

namespace bucketlab::ui {

namespace {

using Row = BucketStats;
using Col = TableColumn<Row>;
constexpr Qt::Alignment kRight = Qt::AlignRight | Qt::AlignVCenter;

QString count(int64_t v)
{
    return QLocale().toString(qlonglong(v));
}

// A figure: shown with `decimals` in the user's locale, sorted by the number (EditRole, which
// tests read too).
Col figure(const QString& header, double Row::*field, int decimals, const QString& tip)
{
    return Col(
               header,
               [field, decimals](const Row& b) {
                   return QLocale().toString(b.*field, 'f', decimals);
               },
               tip)
        .sortBy([field](const Row& b) { return b.*field; })
        .align(kRight);
}

// A count: shown with the locale's digit groups, sorted by the number.
Col tally(const QString& header, int64_t Row::*field, const QString& tip)
{
    return Col(
               header, [field](const Row& b) { return count(b.*field); }, tip)
        .sortBy([field](const Row& b) { return qlonglong(b.*field); })
        .align(kRight);
}

} // namespace

BucketTableModel::BucketTableModel(QObject* parent) : ColumnTableModel(parent)
{
    auto bucket = [](const Row& b) {
        return qlonglong(b.boundary);
    };
    auto lengths = [](const Row& b) -> QVariant {
        return b.firstLength > b.lastLength
                   ? tr("—")
                   : QString("%1 – %2").arg(b.firstLength).arg(b.lastLength);
    };
    auto latency = [](const Row& b) {
        return QLocale().toString(b.latencyMs, 'f', 2) + (b.extrapolated ? " *" : "");
    };
    auto latencyTip = [](const Row& b) -> QVariant {
        return b.extrapolated ? tr("Latency of one call at length %1, extrapolated beyond "
                                   "the measured points")
                                    .arg(b.boundary)
                              : tr("Latency of one call at length %1").arg(b.boundary);
    };
    auto wasteTip = [](const Row& b) -> QVariant {
        return tr("%1 of %2 computed tokens in this bucket are padding")
            .arg(count(b.paddedTokens - b.realTokens), count(b.paddedTokens));
    };
    auto swatch = [this](const Row&) {
        return setColor_.isValid() ? QVariant(setColor_) : QVariant();
    };
    setColumns({
        Col(tr("Bucket"), bucket, tr("The bucket length: inputs are padded up to it"))
            .align(kRight)
            .decorate(swatch),
        Col(tr("Lengths"), lengths, tr("Input lengths this bucket serves")).align(Qt::AlignCenter),
        figure(tr("Traffic %"), &Row::trafficPct, 1,
               tr("Share of all requests that land in this bucket")),
        tally(tr("Requests"), &Row::requests, tr("Requests that land in this bucket")),
        figure(tr("Waste %"), &Row::wastePct, 1,
               tr("Padding as a share of the tokens this bucket computes"))
            .tip(wasteTip),
        tally(tr("Padded tokens"), &Row::paddedTokens,
              tr("Tokens computed: requests × bucket length")),
        Col(tr("Latency ms"), latency,
            tr("Latency of one call at the bucket length, from the latency curve "
               "(* = extrapolated)"))
            .sortBy([](const Row& b) { return b.latencyMs; })
            .tip(latencyTip)
            .align(kRight),
        figure(tr("Share of mean %"), &Row::latencySharePct, 1,
               tr("This bucket's part of the mean latency over all served requests")),
    });
    setHeaderToolTipsOnCells(true);
}

void BucketTableModel::setEvaluation(const std::optional<Evaluation>& evaluation)
{
    updateRows(evaluation ? evaluation->buckets : std::vector<BucketStats>{},
               [&] { evaluation_ = evaluation; });
}

void BucketTableModel::setSetColor(const QColor& color)
{
    if (color == setColor_)
        return;
    setColor_ = color;
    cellsChanged(Bucket, Bucket, {Qt::DecorationRole});
}

} // namespace bucketlab::ui
