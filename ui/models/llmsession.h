// What the LLM view knows and does, without a widget: LLM request traffic (prompt, output),
// the CTE and TKG latency curves, NxD's limits (max_context_length, seq_len), the bucket
// budget and an optional compile cost and budget; the CTE and TKG bucket lists being edited,
// priced live by the core's LlmEvaluator (mean request latency, TTFT, per-phase buckets);
// undo (one step per drag, per optimize, per Pareto point); Optimize, which runs the core's
// LlmTuner on a BackgroundJob; and export of the NxD Inference and vLLM configs, written
// with QSaveFile only after they pass the core's rule checks. No pricing or tuning here.
#pragma once

#include "core/llm/llm_evaluator.h"
#include "core/llm/llm_tuner.h"
#include "core/llm/request_traffic.h"
#include "core/llm/serving_config.h"
#include "core/spec/boundaries.h"

#include <QObject>
#include <QString>

#include <memory>
#include <optional>
#include <vector>

class QUndoStack;

namespace bucketlab::ui {

class BackgroundJob;

enum class LlmPhase { Cte, Tkg };

class LlmSession : public QObject {
    Q_OBJECT
public:
    // `undo`: the stack edits go on; null: a stack of its own (the main window's Edit > Undo
    // reaches it through a QUndoGroup while the LLM view is in front).
    explicit LlmSession(QUndoStack* undo = nullptr, QObject* parent = nullptr);

    // Reads a trace (CSV/TSV/JSONL, or a synthetic spec). On success the lists become NxD's
    // defaults for the limits (when they fit) and the undo history of the lists is kept.
    // Returns an empty string, or the error (one line).
    QString openTraffic(const QString& fileOrSpec);
    // Latency curves: profiles or analytic specs ("poly:8,0.025,0.0000025").
    QString setCurves(const QString& cte, const QString& tkg);
    // max_context_length and seq_len. Lists are kept; a list that no longer ends at the
    // limit shows as a rule violation until it is reset or optimized.
    QString setLimits(int64_t maxContextLength, int64_t seqLen);
    void setTotalBuckets(int buckets);
    // Compile cost per bucket (the same spec for CTE and TKG: "linear:60,0.01" seconds by
    // length, or a CSV); empty: unknown. Budget 0: none.
    QString setCompileCost(const QString& spec);
    void setCompileBudget(double seconds);

    bool hasTraffic() const { return !traffic_.empty(); }
    bool ready() const; // traffic, curves and limits: the lists can be priced
    const RequestTraffic& traffic() const { return traffic_; }
    QString trafficSource() const { return trafficSource_; }
    const DecodeWorkload* workload() const { return workload_ ? &*workload_ : nullptr; }
    const LlmCosts& costs() const { return costs_; }
    ServingLimits limits() const { return limits_; }
    int totalBuckets() const { return totalBuckets_; }
    double compileBudget() const { return compileBudget_; }

    const Boundaries& lists(LlmPhase phase) const { return phase == LlmPhase::Cte ? cte_ : tkg_; }
    LlmBucketLists bucketLists() const;
    // The lists priced request by request; nullopt when not ready or a list is empty.
    const std::optional<LlmEvaluation>& evaluation() const { return evaluation_; }
    // "Mean request 366.80 ms = TTFT 92.91 ms + decode 273.89 ms · TTFT p99 … · CTE 9 +
    // TKG 5 buckets = 14 models", from the evaluation (ms with two decimals).
    QString totalsText() const;
    // NxD's (and for export, vLLM's) rules on the current lists and limits.
    std::vector<ConfigViolation> violations() const;
    NxdBucketConfig nxdConfig() const;

    // Live edit without undo (a drag in progress): the lists are priced again.
    void setLists(LlmPhase phase, std::vector<int64_t> values);
    // The undoable edit: `before` is the lists before a live drag (else the current ones).
    void editLists(const LlmBucketLists& after, const QString& what,
                   const std::optional<LlmBucketLists>& before = std::nullopt);
    // A bucket added or removed by hand, one undo step each. Returns an empty string, or why
    // not (the lists are then unchanged): a length already a bucket or not below the largest
    // (pinned at the limit NxD needs), a bucket that is not there, or the largest.
    QString addBucket(LlmPhase phase, int64_t length);
    QString removeBucket(LlmPhase phase, int64_t length);
    // NxD's defaults for the limits (generate_buckets from 128), one undo step.
    void resetToNxdDefaults();

    QUndoStack* undoStack() const { return undo_; }
    BackgroundJob* optimizeJob() const { return job_; }
    // Starts LlmTuner with the budget (and compile budget) off the UI thread; finished with
    // optimizeFinished(ok). The result's lists become the lists, one undo step.
    void optimize();
    const std::optional<LlmTuneResult>& tuneResult() const { return tuneResult_; }
    // The Pareto point's lists (of the last result), one undo step.
    void applyParetoPoint(int index);

    // Writes the NxD NeuronConfig fragment and/or the vLLM override (paths may be empty)
    // with QSaveFile after the rule checks pass; returns an empty string, or what failed
    // (the rule and its message, or the file).
    QString exportConfigs(const QString& nxdPath, const QString& vllmPath) const;

Q_SIGNALS:
    void trafficChanged();
    void inputsChanged(); // curves, limits, budgets
    void listsChanged();  // the lists or their evaluation
    void tuneResultChanged();
    void optimizeFinished(bool ok, const QString& message);

private:
    void reprice();
    void rederive();
    void applyLists(const LlmBucketLists& lists);
    LlmBucketLists nxdDefaults() const;

    QUndoStack* undo_ = nullptr;
    BackgroundJob* job_ = nullptr;
    RequestTraffic traffic_;
    QString trafficSource_;
    std::optional<DecodeWorkload> workload_;
    LlmCosts costs_;
    bool curvesSet_ = false;
    ServingLimits limits_{8192, 10240, 0};
    int totalBuckets_ = 14;
    double compileBudget_ = 0;
    Boundaries cte_, tkg_;
    std::optional<LlmEvaluation> evaluation_;
    std::optional<LlmTuneResult> tuneResult_;
};

} // namespace bucketlab::ui
