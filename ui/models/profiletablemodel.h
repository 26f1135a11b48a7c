// The points of one latency profile: length, batch, p50/p90/p99/mean with the
// 95 % CI of the median, sample count, outliers and noise flags. Rows at a
// length the active boundary set uses are marked, so the per-bucket percentiles
// stand out.
#pragma once

#include "core/latency/profile_format.h"
#include "ui/models/columntablemodel.h"

#include <set>

namespace bucketlab::ui {

class ProfileTableModel : public ColumnTableModel<ProfilePoint> {
    Q_OBJECT
public:
    enum Column { Length, Batch, P50, P90, P99, Mean, Ci, Samples, Flags, ColumnCount };

    explicit ProfileTableModel(QObject* parent = nullptr);
    void setProfile(const Profile* profile);
    void setBucketLengths(const std::set<int64_t>& lengths);
    // Appends or replaces (by length and batch) one point: live profiling.
    void upsertPoint(const ProfilePoint& point);

private:
    bool isBucket(const ProfilePoint& point) const { return buckets_.count(point.length) > 0; }

    std::set<int64_t> buckets_;
};

} // namespace bucketlab::ui
