// Two runs side by side in the desktop: the session (run A) and a second run
// (ui/models/ secondrun.h). compareSessionWith prices every boundary set of the
// session — and the report's optimum, baselines and run B's optimum — on both
// runs with the core's compareRuns (core/report/run_comparison.h), the same
// figures `report --compare` prints; RunComparisonModel shows them as a table
// with B − A beside each figure.
#pragma once

#include "core/project/project.h"
#include "core/report/run_comparison.h"
#include "core/tuning/bucket_evaluator.h"
#include "ui/models/columntablemodel.h"
#include "ui/models/secondrun.h"

#include <optional>

namespace bucketlab::ui {

// Run A's sets are `sets` (the session's): current is the set of kind "current"
// (else the active one), tuned the active set (when it is the current one, the
// optimum with as many buckets is tuned here), every other set priced under its
// name. Throws Error for what the core refuses (a K the traffic cannot fill);
// Cancelled when job.cancel is set.
RunComparison compareSessionWith(const BucketEvaluator& runA, const std::string& trafficA,
                                 const std::vector<BoundarySet>& sets, int active,
                                 const SecondRun& runB, const Job& job = {});

// A row of the run comparison: which of its sets, and whether it is the best on
// either run.
struct RunComparisonRow {
    size_t set = 0;
    bool bestA = false, bestB = false;
};

// DisplayRole: formatted text; EditRole: the number (ms or %), or the
// boundaries as text.
class RunComparisonModel : public ColumnTableModel<RunComparisonRow> {
    Q_OBJECT
public:
    enum Column {
        Name,
        Boundaries,
        MeanA,
        MeanB,
        MeanDelta, // B − A, ms
        P99A,
        P99B,
        WasteA,
        WasteB,
        RejectedA,
        RejectedB,
        ColumnCount
    };

    explicit RunComparisonModel(QObject* parent = nullptr);
    void setComparison(std::optional<RunComparison> comparison);
    const std::optional<RunComparison>& comparison() const { return comparison_; }

private:
    const PricedBoundarySet& set(const RunComparisonRow& row) const
    {
        return comparison_->sets[row.set];
    }

    std::optional<RunComparison> comparison_;
};

} // namespace bucketlab::ui
