// Per-bucket figures of the active boundary set (range, traffic, waste,
// latency, share of the mean) as a table that updates in place while a boundary
// is dragged: the row count only changes when buckets are added or removed.
#pragma once

#include "core/tuning/bucket_evaluator.h"
#include "ui/models/columntablemodel.h"

#include <QColor>

#include <optional>

namespace bucketlab::ui {

class BucketTableModel : public ColumnTableModel<BucketStats> {
    Q_OBJECT
public:
    enum Column {
        Bucket,
        Lengths,
        Traffic,
        Requests,
        Waste,
        PaddedTokens,
        Latency,
        MeanShare,
        ColumnCount
    };

    explicit BucketTableModel(QObject* parent = nullptr);
    void setEvaluation(const std::optional<Evaluation>& evaluation);
    const std::optional<Evaluation>& evaluation() const { return evaluation_; }
    // The colour of the set the buckets belong to: every row's swatch, as every
    // handle of the set is drawn in it (ui/palette.h), so adding a bucket
    // recolours no other.
    void setSetColor(const QColor& color);

private:
    std::optional<Evaluation> evaluation_;
    QColor setColor_;
};

} // namespace bucketlab::ui
