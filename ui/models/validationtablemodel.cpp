#include "ui/models/validationtablemodel.h"

#include "ui/models/palette.h"

#include <QColor>
#include <QLocale>
#include <QStringList>

#include <algorithm>
#include <set>

namespace bucketlab::ui {

std::vector<ValidationRange> validationRanges(const KernelCheckResult& result, int64_t maxLength)
{
    for (const auto& d : result.defects)
        maxLength = std::max(maxLength, d.lastLength);
    std::set<int64_t> starts{1};
    for (int64_t b : result.boundaries)
        if (b + 1 <= maxLength)
            starts.insert(b + 1);
    for (const auto& d : result.defects) {
        if (d.firstLength >= 1)
            starts.insert(d.firstLength);
        if (d.lastLength + 1 <= maxLength)
            starts.insert(d.lastLength + 1);
    }
    std::vector<ValidationRange> ranges;
    for (auto it = starts.begin(); it != starts.end() && *it <= maxLength; ++it) {
        ValidationRange r;
        r.first = *it;
        const auto next = std::next(it);
        r.last = next == starts.end() ? maxLength : std::min(maxLength, *next - 1);
        const auto bucket =
            std::lower_bound(result.boundaries.begin(), result.boundaries.end(), r.first);
        r.bucket = bucket == result.boundaries.end() ? 0 : *bucket;
        for (size_t i = 0; i < result.defects.size(); ++i) {
            const auto& d = result.defects[i];
            // Defects found with no length (a kernel that never returns a bucket)
            // cover all.
            const bool lengthless = d.firstLength <= 0 && d.lastLength <= 0;
            if (lengthless || (d.firstLength <= r.last && d.lastLength >= r.first))
                r.defects.push_back(i);
        }
        ranges.push_back(std::move(r));
    }
    return ranges;
}

ValidationTableModel::ValidationTableModel(QObject* parent) : ColumnTableModel(parent)
{
    using Row = ValidationRange;
    using Col = TableColumn<Row>;
    auto number = [](int64_t v) {
        return QLocale().toString(qlonglong(v));
    };
    auto lengths = [number](const Row& r) -> QVariant {
        return r.first == r.last ? number(r.first)
                                 : tr("%1–%2").arg(number(r.first), number(r.last));
    };
    auto verdict = [this](const Row& r) -> QVariant {
        if (r.ok())
            return tr("ok");
        QStringList kinds;
        for (size_t d : r.defects)
            kinds << QString::fromStdString(defectKindName(result_.defects[d].kind));
        return kinds.join(", ");
    };
    auto bucket = [number](const Row& r) -> QVariant {
        return r.bucket > 0 ? number(r.bucket) : tr("past the largest bucket");
    };
    auto detail = [this, number](const Row& r) -> QVariant {
        if (r.ok())
            return r.bucket > 0 ? tr("padded to %1").arg(number(r.bucket))
                                : tr("rejected with an exception (correct)");
        return QString::fromStdString(result_.defects[r.defects.front()].message);
    };
    setColumns({
        Col(tr("Lengths"), lengths),
        // The swatch is the colour the strip draws the range in.
        Col(tr("Verdict"), verdict).decorate([](const Row& r) {
            return QVariant(validationRangeColor(r));
        }),
        Col(tr("Bucket"), bucket),
        Col(tr("Detail"), detail),
    });
    setRowToolTip([this](const Row& r) -> QVariant {
        if (r.ok())
            return {};
        QStringList lines;
        for (size_t d : r.defects)
            lines << QString::fromStdString(result_.defects[d].message);
        return lines.join("\n");
    });
}

void ValidationTableModel::setResult(const KernelCheckResult& result, int64_t maxLength)
{
    setRows(validationRanges(result, maxLength), [&] { result_ = result; });
}

void ValidationTableModel::clear()
{
    setRows({}, [this] { result_ = {}; });
}

QColor validationRangeColor(const ValidationRange& range, const QPalette& palette)
{
    if (!range.ok())
        return dataColor(DataRole::Defect, palette);
    return dataColor(range.bucket > 0 ? DataRole::Ok : DataRole::Rejected, palette);
}

} // namespace bucketlab::ui
