// The validator's result per length range: the lengths are cut at every
// inferred bucket boundary and where each defect starts and ends, so each row
// has one verdict (ok, or the defects that hit it), the bucket serving it and
// the first defect's message.
#pragma once

#include "core/kernel/kernel_check.h"
#include "ui/models/columntablemodel.h"

#include <QColor>
#include <QGuiApplication>
#include <QPalette>

#include <cstdint>
#include <vector>

namespace bucketlab::ui {

struct ValidationRange {
    int64_t first = 1;
    int64_t last = 1;
    int64_t bucket = 0;          // the bucket length serving it; 0 past the largest bucket
    std::vector<size_t> defects; // indices into KernelCheckResult::defects
    bool ok() const { return defects.empty(); }
};

// Ranges covering 1..maxLength (maxLength at least the last defect's last
// length).
std::vector<ValidationRange> validationRanges(const KernelCheckResult& result, int64_t maxLength);

// The colour of a range's verdict (ui/models/palette.h): ok, rejected past the
// largest bucket (a grey), or defect; the strip and the table draw ranges in
// it.
QColor validationRangeColor(const ValidationRange& range,
                            const QPalette& palette = QGuiApplication::palette());

class ValidationTableModel : public ColumnTableModel<ValidationRange> {
    Q_OBJECT
public:
    enum Column { Lengths, Verdict, Bucket, Detail, ColumnCount };

    explicit ValidationTableModel(QObject* parent = nullptr);

    void setResult(const KernelCheckResult& result, int64_t maxLength);
    void clear();
    const KernelCheckResult& result() const { return result_; }
    const std::vector<ValidationRange>& ranges() const { return rows(); }
    const ValidationRange& range(int r) const { return row(r); }

private:
    KernelCheckResult result_;
};

} // namespace bucketlab::ui
