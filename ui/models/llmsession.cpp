#include "ui/models/llmsession.h"

#include "core/latency/latency_curve.h"
#include "core/llm/compile_cost.h"
#include "core/llm/nxd_bucket_rule.h"
#include "core/util/error.h"
#include "core/util/format.h"
#include "ui/models/backgroundjob.h"
#include "ui/models/errortext.h"

#include <QSaveFile>
#include <QUndoCommand>
#include <QUndoStack>

#include <algorithm>
#include <memory>

Q_DECLARE_METATYPE(std::shared_ptr<bucketlab::LlmTuneResult>)

namespace bucketlab::ui {

namespace {

// One undoable change of the CTE and TKG lists. The change has already run when the command
// is pushed; redo applies `after` again (harmless the first time).
class ListsEdit : public QUndoCommand {
public:
    ListsEdit(std::function<void(const LlmBucketLists&)> apply, LlmBucketLists before,
              LlmBucketLists after, const QString& text)
        : QUndoCommand(text), apply_(std::move(apply)), before_(std::move(before)),
          after_(std::move(after))
    {
    }
    void undo() override { apply_(before_); }
    void redo() override { apply_(after_); }

private:
    std::function<void(const LlmBucketLists&)> apply_;
    LlmBucketLists before_, after_;
};

QString q(const std::string& s)
{
    return QString::fromStdString(s);
}

// Two decimals, so a drag of a few tokens shows in the totals.
QString totalsMs(double ms)
{
    return q(formatNumber(ms, 2)) + " ms";
}

} // namespace

LlmSession::LlmSession(QUndoStack* undo, QObject* parent)
    : QObject(parent), undo_(undo ? undo : new QUndoStack(this)), job_(new BackgroundJob(this))
{
    connect(job_, &BackgroundJob::finished, this, [this](const QVariant& v) {
        const auto result = v.value<std::shared_ptr<LlmTuneResult>>();
        if (!result) {
            Q_EMIT optimizeFinished(false, tr("Optimize returned nothing"));
            return;
        }
        tuneResult_ = *result;
        Q_EMIT tuneResultChanged();
        if (!result->feasible) {
            Q_EMIT optimizeFinished(false, q(result->infeasibleReason));
            return;
        }
        editLists(result->best.lists, tr("Optimize LLM buckets"));
        Q_EMIT optimizeFinished(true, {});
    });
    connect(job_, &BackgroundJob::failed, this,
            [this](const QString& message) { Q_EMIT optimizeFinished(false, message); });
    connect(job_, &BackgroundJob::cancelled, this,
            [this] { Q_EMIT optimizeFinished(false, tr("Optimize cancelled")); });
}

bool LlmSession::ready() const
{
    return hasTraffic() && curvesSet_ && workload_.has_value();
}

LlmBucketLists LlmSession::bucketLists() const
{
    LlmBucketLists l;
    l.cte = cte_;
    l.tkg = tkg_;
    return l;
}

LlmBucketLists LlmSession::nxdDefaults() const
{
    LlmBucketLists l;
    l.cte = Boundaries::from(nxdGenerateBuckets(kNxdDefaultMinBucket, limits_.maxContextLength),
                             "NxD's default CTE buckets");
    l.tkg = Boundaries::from(nxdGenerateBuckets(kNxdDefaultMinBucket, limits_.seqLen),
                             "NxD's default TKG buckets");
    return l;
}

QString LlmSession::openTraffic(const QString& fileOrSpec)
{
    try {
        RequestTraffic t = loadRequestTraffic(fileOrSpec.toStdString(), {});
        if (t.empty())
            return tr("%1: no requests").arg(fileOrSpec);
        traffic_ = std::move(t);
        trafficSource_ = fileOrSpec;
        tuneResult_.reset();
    } catch (const std::exception& e) {
        return messageFor(e);
    }
    rederive();
    if (cte_.empty() || tkg_.empty())
        applyLists(nxdDefaults());
    Q_EMIT trafficChanged();
    Q_EMIT tuneResultChanged();
    reprice();
    return {};
}

QString LlmSession::setCurves(const QString& cte, const QString& tkg)
{
    try {
        LatencyCurve c = LatencyCurve::load(cte.toStdString());
        LatencyCurve t = LatencyCurve::load(tkg.toStdString());
        checkCurvePhases(c, t);
        costs_.cte = std::move(c);
        costs_.tkg = std::move(t);
        curvesSet_ = true;
    } catch (const std::exception& e) {
        return messageFor(e);
    }
    tuneResult_.reset();
    Q_EMIT inputsChanged();
    Q_EMIT tuneResultChanged();
    reprice();
    return {};
}

QString LlmSession::setLimits(int64_t maxContextLength, int64_t seqLen)
{
    const ServingLimits limits{maxContextLength, seqLen, 0};
    try {
        checkServingLimits(limits);
    } catch (const std::exception& e) {
        return messageFor(e);
    }
    limits_ = limits;
    tuneResult_.reset();
    rederive();
    if (cte_.empty() || tkg_.empty())
        applyLists(nxdDefaults());
    Q_EMIT inputsChanged();
    Q_EMIT tuneResultChanged();
    reprice();
    return {};
}

void LlmSession::setTotalBuckets(int buckets)
{
    totalBuckets_ = buckets;
    Q_EMIT inputsChanged();
}

QString LlmSession::setCompileCost(const QString& spec)
{
    try {
        const CompileCost cost =
            spec.trimmed().isEmpty() ? CompileCost() : CompileCost::load(spec.toStdString());
        costs_.cteCompile = cost;
        costs_.tkgCompile = cost;
    } catch (const std::exception& e) {
        return messageFor(e);
    }
    Q_EMIT inputsChanged();
    reprice();
    return {};
}

void LlmSession::setCompileBudget(double seconds)
{
    compileBudget_ = seconds;
    Q_EMIT inputsChanged();
}

void LlmSession::rederive()
{
    workload_.reset();
    if (traffic_.empty())
        return;
    try {
        workload_ = deriveDecodeWorkload(traffic_, limits_);
    } catch (const std::exception&) {
        // No request served under these limits: nothing to draw or price.
    }
}

void LlmSession::reprice()
{
    evaluation_.reset();
    if (ready() && !cte_.empty() && !tkg_.empty()) {
        try {
            evaluation_ = evaluateLlmBuckets(traffic_, limits_, costs_, bucketLists());
        } catch (const std::exception&) {
            // Lists the evaluator refuses: the totals say the lists cannot be priced.
        }
    }
    Q_EMIT listsChanged();
}

void LlmSession::applyLists(const LlmBucketLists& lists)
{
    cte_ = lists.cte;
    tkg_ = lists.tkg;
}

void LlmSession::setLists(LlmPhase phase, std::vector<int64_t> values)
{
    const auto b = Boundaries::tryFrom(std::move(values));
    if (!b)
        return;
    (phase == LlmPhase::Cte ? cte_ : tkg_) = *b;
    reprice();
}

void LlmSession::editLists(const LlmBucketLists& after, const QString& what,
                           const std::optional<LlmBucketLists>& before)
{
    const LlmBucketLists from = before ? *before : bucketLists();
    undo_->push(new ListsEdit(
        [this](const LlmBucketLists& l) {
            applyLists(l);
            reprice();
        },
        from, after, what));
}

QString LlmSession::addBucket(LlmPhase phase, int64_t length)
{
    const QString name = phase == LlmPhase::Cte ? tr("CTE") : tr("TKG");
    auto values = lists(phase).values();
    if (values.empty())
        return tr("There are no %1 buckets to add to yet.").arg(name);
    if (length < 1)
        return tr("A %1 bucket of %2 tokens: buckets start at 1.").arg(name).arg(length);
    if (length >= values.back())
        return tr("%1 bucket %2: not below the largest, %3, which is pinned at the limit NxD "
                  "needs.")
            .arg(name)
            .arg(length)
            .arg(values.back());
    if (std::find(values.begin(), values.end(), length) != values.end())
        return tr("%1 bucket %2 is already there.").arg(name).arg(length);
    values.insert(std::upper_bound(values.begin(), values.end(), length), length);
    LlmBucketLists after = bucketLists();
    (phase == LlmPhase::Cte ? after.cte : after.tkg) = Boundaries::from(values, "the lists");
    editLists(after, tr("Add %1 bucket %2").arg(name).arg(length));
    return {};
}

QString LlmSession::removeBucket(LlmPhase phase, int64_t length)
{
    const QString name = phase == LlmPhase::Cte ? tr("CTE") : tr("TKG");
    auto values = lists(phase).values();
    const auto it = std::find(values.begin(), values.end(), length);
    if (it == values.end())
        return tr("%1 bucket %2 is not in the list.").arg(name).arg(length);
    if (it + 1 == values.end())
        return tr("%1 bucket %2 is the largest, pinned at the limit NxD needs.")
            .arg(name)
            .arg(length);
    values.erase(it);
    LlmBucketLists after = bucketLists();
    (phase == LlmPhase::Cte ? after.cte : after.tkg) = Boundaries::from(values, "the lists");
    editLists(after, tr("Remove %1 bucket %2").arg(name).arg(length));
    return {};
}

void LlmSession::resetToNxdDefaults()
{
    editLists(nxdDefaults(), tr("NxD default LLM buckets"));
}

QString LlmSession::totalsText() const
{
    if (!hasTraffic())
        return tr("Open a request trace (File > Open LLM trace…, or Open trace… here).");
    if (!curvesSet_)
        return tr("Give the CTE and TKG latency curves.");
    if (!evaluation_)
        return tr("These lists cannot be priced for this traffic.");
    const LlmEvaluation& e = *evaluation_;
    QString s = tr("Mean request %1 = TTFT %2 + decode %3 · TTFT p99 %4 · CTE %5 + TKG %6 "
                   "buckets = %7 models")
                    .arg(totalsMs(e.meanRequestMs), totalsMs(e.meanTtftMs),
                         totalsMs(e.meanDecodeMs), totalsMs(e.p99TtftMs))
                    .arg(cte_.size())
                    .arg(tkg_.size())
                    .arg(e.models);
    if (costs_.cteCompile.known())
        s += tr(" · compile %1 s").arg(e.compileS, 0, 'f', 0);
    if (e.failed > 0)
        s += tr(" · %1 requests fail (no bucket fits)").arg(q(formatCount(e.failed)));
    if (e.rejected > 0)
        s += tr(" · %1 rejected (prompt > max context)").arg(q(formatCount(e.rejected)));
    return s;
}

NxdBucketConfig LlmSession::nxdConfig() const
{
    NxdBucketConfig c;
    c.contextEncodingBuckets = cte_.values();
    c.tokenGenerationBuckets = tkg_.values();
    c.maxContextLength = limits_.maxContextLength;
    c.seqLen = limits_.seqLen;
    c.speculationLength = limits_.speculationLength;
    return c;
}

std::vector<ConfigViolation> LlmSession::violations() const
{
    if (cte_.empty() || tkg_.empty())
        return {};
    return checkNxdConfig(nxdConfig());
}

void LlmSession::optimize()
{
    if (!ready()) {
        Q_EMIT optimizeFinished(false, tr("Optimize needs a request trace and both latency "
                                          "curves"));
        return;
    }
    LlmTuneSettings settings;
    settings.limits = limits_;
    settings.totalBuckets = totalBuckets_;
    if (costs_.cteCompile.known())
        settings.compileBudgetS = compileBudget_;
    const RequestTraffic traffic = traffic_;
    const LlmCosts costs = costs_;
    const LlmBucketLists current = bucketLists();
    job_->start(tr("Optimizing LLM buckets"), [=](JobContext& context) {
        auto result = std::make_shared<LlmTuneResult>(
            tuneLlmBuckets(traffic, costs, settings, current, nullptr, context.job()));
        return QVariant::fromValue(result);
    });
}

void LlmSession::applyParetoPoint(int index)
{
    if (!tuneResult_ || index < 0 || index >= int(tuneResult_->paretoByModels.size()))
        return;
    const auto& p = tuneResult_->paretoByModels[size_t(index)];
    editLists(
        p.lists,
        tr("Pareto point: %1 models (%2 + %3)").arg(p.models).arg(p.cteModels).arg(p.tkgModels));
}

QString LlmSession::exportConfigs(const QString& nxdPath, const QString& vllmPath) const
{
    if (cte_.empty() || tkg_.empty())
        return tr("No lists to export");
    const NxdBucketConfig c = nxdConfig();
    struct Out {
        QString path;
        std::string bytes;
        std::function<std::vector<ConfigViolation>(const std::string&)> check;
    };
    const VllmServeSettings vllm{limits_.seqLen, 1, limits_.maxContextLength};
    std::vector<Out> outs;
    if (!nxdPath.isEmpty())
        outs.push_back({nxdPath, nxdNeuronConfigJson(c), [p = nxdPath](const std::string& text) {
                            return checkNxdConfig(nxdConfigFromJson(text, p.toStdString()));
                        }});
    if (!vllmPath.isEmpty())
        outs.push_back({vllmPath, vllmOverrideJson(c), [p = vllmPath, vllm](const std::string& t) {
                            NxdBucketConfig back = nxdConfigFromJson(t, p.toStdString());
                            back.batchSize = vllm.maxNumSeqs;
                            return checkVllmOverride(back, vllm);
                        }});
    try {
        // Every file is checked before any is written: all of them pass, or none is touched.
        for (const auto& o : outs)
            requireNoViolations(o.check(o.bytes), o.path.toStdString());
    } catch (const std::exception& e) {
        return messageFor(e);
    }
    for (const auto& o : outs) {
        QSaveFile file(o.path);
        if (!file.open(QIODevice::WriteOnly) ||
            file.write(o.bytes.data(), qint64(o.bytes.size())) != qint64(o.bytes.size()) ||
            !file.commit())
            return tr("%1: cannot write (%2)").arg(o.path, file.errorString());
    }
    return {};
}

} // namespace bucketlab::ui
