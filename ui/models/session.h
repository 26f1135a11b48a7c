// Everything the desktop works on at once: the opened model or package, the traffic
// (a length histogram), the latency curve, the profiles, and the named boundary sets with
// the active one. Views observe it through signals and edit the active boundaries through
// the undo stack, so every edit can be undone. Evaluation of the active set is O(K) and
// cached here: dragging a boundary re-evaluates on every mouse move. Figures priced under
// one traffic and latency curve (the tuning result, a tuned set) remember which; when either
// changes they are reported stale, never silently re-priced.
#pragma once

#include "core/archive/model_info.h"
#include "core/latency/latency_curve.h"
#include "core/latency/profile_format.h"
#include "core/project/project.h"
#include "core/traffic/length_histogram.h"
#include "core/tuning/bucket_evaluator.h"
#include "core/tuning/tuning_report.h"

#include <QObject>
#include <QString>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

class QUndoStack;

namespace bucketlab::ui {

struct SecondRun;

struct LoadedProfile {
    QString path;
    Profile profile;
};

// What priced figures depend on: the traffic and the latency curve as loaded. Every load is
// a new generation, so a re-measured profile counts as a change even under the same name.
struct PricingInputs {
    quint64 traffic = 0;
    quint64 latency = 0;
    QString trafficName;
    QString latencyName;
    bool sameAs(const PricingInputs& other) const
    {
        return traffic == other.traffic && latency == other.latency;
    }
};

class Session : public QObject {
    Q_OBJECT
public:
    explicit Session(QObject* parent = nullptr);
    ~Session() override;

    // The model or package.
    void setModel(const ModelInfo& info);
    const std::optional<ModelInfo>& model() const { return model_; }

    // The file whose kernel the graph and validation views inspect: a kernel source (.py as
    // users write it, or TorchScript) or the opened model or package itself. Empty: none.
    void setKernelFile(const QString& path);
    const QString& kernelFile() const { return kernelFile_; }

    // Traffic. `source` is what the project file stores to reload it.
    void setTraffic(LengthHistogram histogram, const DistributionSource& source);
    const LengthHistogram& histogram() const { return histogram_; }
    const std::optional<DistributionSource>& trafficSource() const { return trafficSource_; }

    // Latency: a curve from a profile or an analytic spec.
    void setLatency(LatencyCurve curve, const LatencySource& source);
    const LatencyCurve& latency() const { return latency_; }
    const std::optional<LatencySource>& latencySource() const { return latencySource_; }
    bool hasLatency() const { return latencySource_.has_value(); }

    // Measured profiles, for the latency view (the first one may also be the curve).
    void addProfile(const LoadedProfile& profile);
    const std::vector<LoadedProfile>& profiles() const { return profiles_; }

    // Null until both traffic and latency are set. Shared so a background job (the tuner)
    // keeps the one it started with alive when the traffic changes meanwhile.
    std::shared_ptr<const BucketEvaluator> evaluator() const { return evaluator_; }

    // Boundary sets: the current deployment, the tuned optimum, the baselines, the user's.
    const std::vector<BoundarySet>& boundarySets() const { return sets_; }
    int activeIndex() const { return active_; }
    const BoundarySet* activeSet() const;
    Boundaries activeBoundaries() const;
    // Adds or replaces (by name) a set; returns its index.
    int putBoundarySet(const BoundarySet& set);
    // The same for a set the tuner has just found under the current traffic and latency: it
    // is marked stale once either changes (staleFor).
    int putTunedSet(const BoundarySet& set);
    void setActiveIndex(int index);
    // Replaces the active set's boundaries without the undo stack (the undo commands and a
    // live drag use it). Invalid boundaries are refused (returns false).
    bool setActiveBoundaries(const Boundaries& boundaries);
    // The same from values being edited (a drag): refused when they are not boundaries.
    bool setActiveBoundaries(const std::vector<int64_t>& values);
    // The undoable edit: records before/after on the stack. A live drag has already applied
    // `after` with setActiveBoundaries, so it passes where the drag started as `before`.
    // Values that are not boundaries are refused (nothing is recorded).
    void editActiveBoundaries(const std::vector<int64_t>& after, const QString& what,
                              const std::optional<Boundaries>& before = std::nullopt);
    // An undoable change of the sets as a whole (Optimize, a point of the Pareto front, Measure
    // and refine): `change` runs now with the usual setters (putBoundarySet, setActiveIndex,
    // setTuningReport, and setLatency when the change brings its own curve); Undo restores the
    // sets, the active one and the tuning report as they were before, Redo as they were after.
    // When `change` set the latency curve, Undo restores the curve before it too (and Redo the
    // one after), as long as that curve is still in use: a curve loaded since is the user's
    // newer choice and stays. The profiles list is not part of the step: measurements added
    // by it stay listed (and saved with the project) after Undo.
    void changeBoundarySets(const QString& what, const std::function<void()>& change);
    QUndoStack* undoStack() const { return undo_; }

    // Unsaved work: an edit on the undo stack since the last save or load, or a change
    // outside it that the user made (a new measured profile: markModified). Loading files
    // is not an edit; clear() and setSaved() make the session unmodified.
    bool isModified() const;
    void markModified();
    void setSaved();

    // The latest tuning result (optimum, baselines, Pareto front), priced under the current
    // traffic and latency; none when there is none or it is stale (tuningStaleReason).
    void setTuningReport(const TuningReport& report);
    const std::optional<TuningReport>& tuningReport() const;
    // Why the latest tuning result no longer holds ("the latency curve changed from A to B"),
    // or empty when it holds or there is none.
    QString tuningStaleReason() const;

    // The traffic and latency in use now, with their generations.
    PricingInputs pricingInputs() const;
    // For a tuned set whose traffic or latency has changed since it was found, what it was
    // found for ("demo encoder"); empty otherwise (a fresh optimum, any other set).
    QString staleFor(int index) const;
    // How set `index` is named in every list and in the status bar: boundarySetTitle, marked
    // "tuned (for demo encoder, stale)" when staleFor says so.
    QString setTitle(int index) const;
    // The title with the set's boundaries: "tuned (for demo encoder, stale): 96, 512".
    QString setLabel(int index) const;

    // Evaluation of the active boundaries; nullopt without evaluator or boundaries.
    const std::optional<Evaluation>& evaluation() const { return evaluation_; }
    std::optional<Evaluation> evaluate(const Boundaries& boundaries) const;

    // A second run to compare the session with (File > Compare With…): the views draw its
    // traffic and curve over the session's, and the run comparison prices every set on
    // both. Null: none. Not part of the project file (it names the other run's file).
    void setSecondRun(std::shared_ptr<const SecondRun> run);
    const std::shared_ptr<const SecondRun>& secondRun() const { return secondRun_; }

    Project toProject() const;
    void clear();

Q_SIGNALS:
    void modelChanged();
    void kernelFileChanged();
    void trafficChanged();
    void latencyChanged();
    void profilesChanged();
    void boundarySetsChanged();
    void activeBoundariesChanged();
    void evaluationChanged();
    void tuningChanged();
    void modifiedChanged(bool modified);
    void secondRunChanged();

private:
    friend class SetsChange;
    struct SetsState {
        std::vector<BoundarySet> sets;
        int active = -1;
        std::optional<TuningReport> tuning;
        PricingInputs tuningFor;
        std::map<std::string, PricingInputs> tunedFor;
        // The curve in use, with its generation: restoring it restores the generation, so
        // figures priced under it read as fresh again.
        LatencyCurve latency;
        std::optional<LatencySource> latencySource;
        quint64 latencyGeneration = 0;
    };
    SetsState setsState() const;
    QString describeChange(const PricingInputs& then) const;
    // Restores `state`; its curve only when the curve in use is still `other`'s (the state
    // the command leaves) and differs from `state`'s.
    void restoreSetsState(const SetsState& state, const SetsState& other);
    void setModifiedFlag(bool modified);
    void rebuildEvaluator();
    void reevaluate();

    std::optional<ModelInfo> model_;
    QString kernelFile_;
    LengthHistogram histogram_;
    std::optional<DistributionSource> trafficSource_;
    LatencyCurve latency_;
    std::optional<LatencySource> latencySource_;
    std::vector<LoadedProfile> profiles_;
    std::shared_ptr<const BucketEvaluator> evaluator_;
    std::vector<BoundarySet> sets_;
    int active_ = -1;
    std::optional<Evaluation> evaluation_;
    std::optional<TuningReport> tuning_;
    PricingInputs tuningFor_;                       // what tuning_ was priced under
    std::map<std::string, PricingInputs> tunedFor_; // by set name: what the tuner used
    quint64 trafficGeneration_ = 0, latencyGeneration_ = 0;
    quint64 lastLatencyGeneration_ = 0; // the highest handed out: a new curve is never an old one
    QUndoStack* undo_ = nullptr;
    std::shared_ptr<const SecondRun> secondRun_;
    bool modified_ = false; // changes outside the undo stack
    bool reportedModified_ = false;
};

// How a boundary set is named in every list (the Buckets view's chooser, the Project
// tree): its name, and its kind when the name does not already say it ("current",
// "tuned K=3", "powers_of_two (baseline)").
QString boundarySetTitle(const BoundarySet& set);
// The title with the set's boundaries as they are now: "current: 100, 512".
QString boundarySetLabel(const BoundarySet& set);

} // namespace bucketlab::ui
