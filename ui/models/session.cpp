#include "ui/models/session.h"

#include "core/spec/package_meta.h"
#include "core/util/error.h"
#include "core/util/format.h"
#include "ui/models/secondrun.h"

#include <QStringList>
#include <QUndoCommand>
#include <QUndoStack>

namespace bucketlab::ui {

namespace {

// Undo/redo of one edit of a boundary set: the set is found by name, so the command stays
// right if other sets are added meanwhile.
class BoundaryEdit : public QUndoCommand {
public:
    BoundaryEdit(Session* session, std::string setName, Boundaries before, Boundaries after,
                 const QString& text)
        : QUndoCommand(text), session_(session), setName_(std::move(setName)),
          before_(std::move(before)), after_(std::move(after))
    {
    }
    void undo() override { apply(before_); }
    void redo() override { apply(after_); }

private:
    void apply(const Boundaries& boundaries)
    {
        const auto& sets = session_->boundarySets();
        for (size_t i = 0; i < sets.size(); ++i)
            if (sets[i].name == setName_) {
                session_->setActiveIndex(int(i));
                session_->setActiveBoundaries(boundaries);
                return;
            }
    }
    Session* session_;
    std::string setName_;
    Boundaries before_, after_;
};

} // namespace

// Undo/redo of a change of the sets as a whole. The change has already run when the
// command is pushed, so the first redo (QUndoStack::push calls it) does nothing.
class SetsChange : public QUndoCommand {
public:
    SetsChange(Session* session, Session::SetsState before, Session::SetsState after,
               const QString& text)
        : QUndoCommand(text), session_(session), before_(std::move(before)),
          after_(std::move(after))
    {
    }
    void undo() override { session_->restoreSetsState(before_, after_); }
    void redo() override
    {
        if (applied_)
            session_->restoreSetsState(after_, before_);
        applied_ = true;
    }

private:
    Session* session_;
    Session::SetsState before_, after_;
    bool applied_ = false;
};

Session::Session(QObject* parent) : QObject(parent), undo_(new QUndoStack(this))
{
    connect(undo_, &QUndoStack::cleanChanged, this, [this] { setModifiedFlag(modified_); });
}

bool Session::isModified() const
{
    return modified_ || !undo_->isClean();
}

void Session::markModified()
{
    setModifiedFlag(true);
}

void Session::setSaved()
{
    undo_->setClean();
    setModifiedFlag(false);
}

void Session::setModifiedFlag(bool modified)
{
    modified_ = modified;
    const bool now = isModified();
    if (now != reportedModified_) {
        reportedModified_ = now;
        Q_EMIT modifiedChanged(now);
    }
}

Session::~Session() = default;

void Session::setModel(const ModelInfo& info)
{
    model_ = info;
    Q_EMIT modelChanged();
}

void Session::setKernelFile(const QString& path)
{
    kernelFile_ = path;
    Q_EMIT kernelFileChanged();
}

void Session::setTraffic(LengthHistogram histogram, const DistributionSource& source)
{
    histogram_ = std::move(histogram);
    trafficSource_ = source;
    ++trafficGeneration_; // the tuning result and tuned sets now read as stale
    rebuildEvaluator();
    Q_EMIT trafficChanged();
    Q_EMIT tuningChanged();
    if (!tunedFor_.empty())
        Q_EMIT boundarySetsChanged(); // their titles say "stale" now
    reevaluate();
}

void Session::setLatency(LatencyCurve curve, const LatencySource& source)
{
    latency_ = std::move(curve);
    latencySource_ = source;
    latencyGeneration_ = ++lastLatencyGeneration_;
    rebuildEvaluator();
    Q_EMIT latencyChanged();
    Q_EMIT tuningChanged();
    if (!tunedFor_.empty())
        Q_EMIT boundarySetsChanged();
    reevaluate();
}

void Session::addProfile(const LoadedProfile& profile)
{
    for (auto& p : profiles_)
        if (p.path == profile.path) {
            p = profile;
            Q_EMIT profilesChanged();
            return;
        }
    profiles_.push_back(profile);
    Q_EMIT profilesChanged();
}

void Session::rebuildEvaluator()
{
    evaluator_.reset();
    if (histogram_.empty() || !latencySource_)
        return;
    evaluator_ = std::make_shared<const BucketEvaluator>(histogram_, latency_);
}

const BoundarySet* Session::activeSet() const
{
    return active_ >= 0 && active_ < int(sets_.size()) ? &sets_[size_t(active_)] : nullptr;
}

Boundaries Session::activeBoundaries() const
{
    const BoundarySet* s = activeSet();
    return s ? s->boundaries : Boundaries();
}

int Session::putTunedSet(const BoundarySet& set)
{
    // Recorded before the set is announced, so its first label is already right.
    const auto was = tunedFor_.find(set.name);
    const std::optional<PricingInputs> previous =
        was == tunedFor_.end() ? std::nullopt : std::optional<PricingInputs>(was->second);
    tunedFor_[set.name] = pricingInputs();
    const int index = putBoundarySet(set);
    if (previous && !previous->sameAs(tunedFor_[set.name]))
        Q_EMIT boundarySetsChanged(); // same boundaries, but no longer stale
    return index;
}

int Session::putBoundarySet(const BoundarySet& set)
{
    for (size_t i = 0; i < sets_.size(); ++i)
        if (sets_[i].name == set.name) {
            sets_[i] = set;
            Q_EMIT boundarySetsChanged();
            if (int(i) == active_) {
                Q_EMIT activeBoundariesChanged();
                reevaluate();
            }
            return int(i);
        }
    sets_.push_back(set);
    Q_EMIT boundarySetsChanged();
    return int(sets_.size()) - 1;
}

void Session::setActiveIndex(int index)
{
    if (index < 0 || index >= int(sets_.size()) || index == active_)
        return;
    active_ = index;
    Q_EMIT boundarySetsChanged();
    Q_EMIT activeBoundariesChanged();
    reevaluate();
}

bool Session::setActiveBoundaries(const std::vector<int64_t>& values)
{
    const auto boundaries = Boundaries::tryFrom(values);
    return boundaries && setActiveBoundaries(*boundaries);
}

bool Session::setActiveBoundaries(const Boundaries& boundaries)
{
    if (active_ < 0 || boundaries.empty())
        return false;
    if (sets_[size_t(active_)].boundaries == boundaries)
        return true;
    sets_[size_t(active_)].boundaries = boundaries;
    Q_EMIT activeBoundariesChanged();
    reevaluate();
    return true;
}

void Session::editActiveBoundaries(const std::vector<int64_t>& values, const QString& what,
                                   const std::optional<Boundaries>& before)
{
    const BoundarySet* s = activeSet();
    const auto after = Boundaries::tryFrom(values);
    if (!s || !after)
        return;
    const Boundaries from = before ? *before : s->boundaries;
    if (from == *after)
        return;
    undo_->push(new BoundaryEdit(this, s->name, from, *after, what));
}

void Session::changeBoundarySets(const QString& what, const std::function<void()>& change)
{
    SetsState before = setsState();
    change();
    SetsState after = setsState();
    undo_->push(new SetsChange(this, std::move(before), std::move(after), what));
}

Session::SetsState Session::setsState() const
{
    return {sets_,     active_,  tuning_,        tuningFor_,
            tunedFor_, latency_, latencySource_, latencyGeneration_};
}

void Session::restoreSetsState(const SetsState& state, const SetsState& other)
{
    const bool curveBack = state.latencyGeneration != other.latencyGeneration &&
                           latencyGeneration_ == other.latencyGeneration;
    if (curveBack) {
        latency_ = state.latency;
        latencySource_ = state.latencySource;
        latencyGeneration_ = state.latencyGeneration;
        rebuildEvaluator();
        Q_EMIT latencyChanged();
    }
    const Boundaries was = activeBoundaries();
    const bool activeMoved = state.active != active_;
    sets_ = state.sets;
    active_ = state.active;
    tuning_ = state.tuning;
    tuningFor_ = state.tuningFor;
    tunedFor_ = state.tunedFor;
    Q_EMIT boundarySetsChanged();
    if (activeMoved || activeBoundaries() != was)
        Q_EMIT activeBoundariesChanged();
    Q_EMIT tuningChanged();
    reevaluate();
}

void Session::setTuningReport(const TuningReport& report)
{
    tuning_ = report;
    tuningFor_ = pricingInputs();
    Q_EMIT tuningChanged();
}

const std::optional<TuningReport>& Session::tuningReport() const
{
    static const std::optional<TuningReport> none;
    return tuning_ && tuningFor_.sameAs(pricingInputs()) ? tuning_ : none;
}

PricingInputs Session::pricingInputs() const
{
    PricingInputs p;
    p.traffic = trafficGeneration_;
    p.latency = latencyGeneration_;
    if (trafficSource_)
        p.trafficName = QString::fromStdString(trafficSource_->name.empty() ? trafficSource_->source
                                                                            : trafficSource_->name);
    if (latencySource_)
        p.latencyName = QString::fromStdString(latencySource_->name.empty() ? latencySource_->source
                                                                            : latencySource_->name);
    return p;
}

QString Session::describeChange(const PricingInputs& then) const
{
    const PricingInputs now = pricingInputs();
    QStringList what;
    if (then.latency != now.latency)
        what << tr("the latency curve changed from %1 to %2")
                    .arg(then.latencyName.isEmpty() ? tr("none") : then.latencyName,
                         now.latencyName.isEmpty() ? tr("none") : now.latencyName);
    if (then.traffic != now.traffic)
        what << tr("the traffic changed from %1 to %2")
                    .arg(then.trafficName.isEmpty() ? tr("none") : then.trafficName,
                         now.trafficName.isEmpty() ? tr("none") : now.trafficName);
    return what.join(tr(" and "));
}

QString Session::tuningStaleReason() const
{
    if (!tuning_ || tuningFor_.sameAs(pricingInputs()))
        return {};
    return describeChange(tuningFor_);
}

QString Session::staleFor(int index) const
{
    if (index < 0 || index >= int(sets_.size()))
        return {};
    const auto it = tunedFor_.find(sets_[size_t(index)].name);
    if (it == tunedFor_.end())
        return {};
    const PricingInputs& then = it->second;
    const PricingInputs now = pricingInputs();
    QStringList what;
    if (then.latency != now.latency)
        what << (then.latencyName.isEmpty() ? tr("no latency curve") : then.latencyName);
    if (then.traffic != now.traffic)
        what << (then.trafficName.isEmpty() ? tr("no traffic") : then.trafficName);
    return what.join(tr(" and "));
}

QString Session::setTitle(int index) const
{
    if (index < 0 || index >= int(sets_.size()))
        return {};
    const QString title = boundarySetTitle(sets_[size_t(index)]);
    const QString stale = staleFor(index);
    return stale.isEmpty() ? title : tr("%1 (for %2, stale)").arg(title, stale);
}

QString Session::setLabel(int index) const
{
    if (index < 0 || index >= int(sets_.size()))
        return {};
    return QStringLiteral("%1: %2").arg(
        setTitle(index),
        QString::fromStdString(formatLengths(sets_[size_t(index)].boundaries, ", ")));
}

std::optional<Evaluation> Session::evaluate(const Boundaries& boundaries) const
{
    if (!evaluator_ || boundaries.empty())
        return std::nullopt;
    return evaluator_->evaluate(boundaries);
}

void Session::reevaluate()
{
    evaluation_ = evaluate(activeBoundaries());
    Q_EMIT evaluationChanged();
}

Project Session::toProject() const
{
    Project p;
    if (model_)
        p.model = model_->path;
    if (trafficSource_)
        p.distributions.push_back(*trafficSource_);
    if (latencySource_)
        p.latencies.push_back(*latencySource_);
    for (const auto& prof : profiles_)
        if (!latencySource_ || latencySource_->source != prof.path.toStdString())
            p.latencies.push_back({"profile", prof.path.toStdString()});
    p.boundarySets = sets_;
    if (const BoundarySet* s = activeSet())
        p.activeBoundarySet = s->name;
    return p;
}

void Session::setSecondRun(std::shared_ptr<const SecondRun> run)
{
    secondRun_ = std::move(run);
    Q_EMIT secondRunChanged();
}

void Session::clear()
{
    model_.reset();
    kernelFile_.clear();
    histogram_ = {};
    trafficSource_.reset();
    latency_ = {};
    latencySource_.reset();
    profiles_.clear();
    evaluator_.reset();
    sets_.clear();
    active_ = -1;
    evaluation_.reset();
    tuning_.reset();
    tunedFor_.clear();
    undo_->clear();
    secondRun_.reset(); // a comparison belongs to the session it was opened beside
    setModifiedFlag(false);
    Q_EMIT modelChanged();
    Q_EMIT kernelFileChanged();
    Q_EMIT trafficChanged();
    Q_EMIT latencyChanged();
    Q_EMIT profilesChanged();
    Q_EMIT boundarySetsChanged();
    Q_EMIT activeBoundariesChanged();
    Q_EMIT tuningChanged();
    Q_EMIT evaluationChanged();
    Q_EMIT secondRunChanged();
}

QString boundarySetTitle(const BoundarySet& set)
{
    const QString name = QString::fromStdString(set.name);
    const QString kind = QString::fromStdString(set.kind);
    if (kind.isEmpty() || name.contains(kind, Qt::CaseInsensitive))
        return name;
    return QStringLiteral("%1 (%2)").arg(name, kind);
}

QString boundarySetLabel(const BoundarySet& set)
{
    return QStringLiteral("%1: %2").arg(
        boundarySetTitle(set), QString::fromStdString(formatLengths(set.boundaries, ", ")));
}

} // namespace bucketlab::ui
