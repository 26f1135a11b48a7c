#include "core/tuning/refine.h"

#include "core/latency/sample_statistics.h"
#include "core/tuning/bucket_evaluator.h"
#include "core/util/error.h"
#include "core/util/format.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>

namespace bucketlab {

namespace {

constexpr const char* kRefinedLengthsSetting = "refined_lengths";

// The halves of a split by sampling round get the bootstrap's default draws and seed.
constexpr int kSplitResamples = 4000;
constexpr uint64_t kSplitSeed = 1;

// The profile's points at one batch size, by length.
using PointsByLength = std::map<int64_t, ProfilePoint>;

ProfilePoint scaled(ProfilePoint p, double factor)
{
    for (double* v : {&p.p50Ms, &p.p90Ms, &p.p99Ms, &p.meanMs, &p.stdevMs, &p.madMs, &p.ci95LowMs,
                      &p.ci95HighMs})
        *v *= factor;
    for (double& v : p.samplesMs)
        v *= factor;
    return p;
}

// The starting profile with every refinement point in place of a point of the same length.
Profile refinedProfile(const Profile& start, int64_t batch, const PointsByLength& refined)
{
    Profile p = start;
    p.points.clear();
    PointsByLength all;
    for (const auto& point : start.points)
        if (point.batch == batch)
            all[point.length] = point;
    for (const auto& [length, point] : refined)
        all[length] = point;
    for (auto& [length, point] : all)
        p.points.push_back(std::move(point));
    for (const auto& point : start.points)
        if (point.batch != batch)
            p.points.push_back(point);
    // Refining a refined profile keeps the earlier refinement's points, and their record.
    std::set<int64_t> lengths;
    for (int64_t l : refinedLengths(start))
        lengths.insert(l);
    for (const auto& [length, point] : refined)
        lengths.insert(length);
    p.settings[kRefinedLengthsSetting] = formatLengths({lengths.begin(), lengths.end()});
    return p;
}

// The lengths the tuner may choose as boundaries, as tuneAndCompare sets it up: the served
// traffic's distinct lengths (rounded up to the alignment, clamped to the last bucket's end)
// and the cover length.
std::vector<int64_t> candidateLengths(const LengthHistogram& traffic, int64_t maxLength,
                                      const TuneSettings& s)
{
    const int64_t end = s.coverLength > 0 ? s.coverLength : maxLength;
    std::set<int64_t> candidates;
    for (int64_t l : traffic.lengths()) {
        if (maxLength > 0 && l > maxLength)
            continue;
        if (s.coverLength > 0 && l > s.coverLength)
            continue; // refused by the tuned set
        if (s.align > 1)
            l = (l + s.align - 1) / s.align * s.align;
        if (end > 0 && l > end)
            l = end;
        candidates.insert(l);
    }
    if (s.coverLength > 0)
        candidates.insert(s.coverLength);
    return {candidates.begin(), candidates.end()};
}

// Tile widths whose multiples kernels often run faster at (vector widths, 64-wide blocks,
// Neuron's 128-wide tiles): worth a measurement next to a boundary, because the curve's
// interpolation cannot see them.
constexpr int64_t kTileWidths[] = {16, 64, 128};

// The boundaries and, for each, the lengths next to it whose price the curve cannot resolve
// that this refinement has not measured: the nearest candidates below and above it, and the
// next multiples of the tile widths above it (up to the next boundary, within `limit`, on the
// alignment). A cheaper multiple then prices the bucket, which moves there.
// Idle boundaries (serving none of the traffic) are neither measured nor looked around.
std::vector<int64_t> lengthsToMeasure(const Boundaries& boundaries,
                                      const std::vector<int64_t>& idle,
                                      const std::vector<int64_t>& candidates,
                                      const PointsByLength& measured, int64_t limit, int64_t align)
{
    const auto isIdle = [&](int64_t l) {
        return std::find(idle.begin(), idle.end(), l) != idle.end();
    };
    std::set<int64_t> lengths;
    for (size_t k = 0; k < boundaries.size(); ++k) {
        const int64_t b = boundaries[k];
        if (isIdle(b))
            continue;
        lengths.insert(b);
        const auto above = std::upper_bound(candidates.begin(), candidates.end(), b);
        if (above != candidates.end())
            lengths.insert(*above);
        const auto atOrAbove = std::lower_bound(candidates.begin(), candidates.end(), b);
        if (atOrAbove != candidates.begin())
            lengths.insert(*std::prev(atOrAbove));
        if (k + 1 == boundaries.size())
            continue; // the last bucket ends where the served range does
        for (int64_t tile : kTileWidths) {
            if (b % tile == 0)
                continue; // already a multiple: the next one is a bigger bucket, no better fit
            const int64_t next = (b / tile + 1) * tile;
            if (next < boundaries[k + 1] && (limit <= 0 || next <= limit) &&
                (align <= 1 || next % align == 0))
                lengths.insert(next);
        }
    }
    std::vector<int64_t> out;
    for (int64_t l : lengths)
        if (!measured.count(l) && !isIdle(l))
            out.push_back(l);
    return out;
}

std::vector<ReferencePoint> referencesFrom(const PointsByLength& original,
                                           const std::vector<int64_t>& exclude)
{
    std::vector<ReferencePoint> refs;
    for (const auto& [length, point] : original)
        if (point.ok() && std::find(exclude.begin(), exclude.end(), length) == exclude.end())
            refs.push_back({length, point.p50Ms});
    return refs;
}

} // namespace

Boundaries movedToPricingLengths(const Boundaries& boundaries, const LatencyCurve& curve,
                                 int64_t coverLength, int64_t limit, int64_t align)
{
    if (curve.isAnalytic() || boundaries.empty())
        return boundaries;
    const auto& points = curve.measured();
    std::vector<int64_t> moved;
    for (int64_t b : boundaries) {
        int64_t target = b;
        if (!(coverLength > 0 && b == coverLength)) {
            // The curve's price of b is the latency of the first measured length at or above
            // it that is this cheap (its non-decreasing envelope), or b's own.
            const double price = curve.at(b);
            auto it =
                std::lower_bound(points.begin(), points.end(), b,
                                 [](const LatencyPoint& p, int64_t l) { return p.length < l; });
            while (it != points.end() && it->ms > price)
                ++it;
            if (it != points.end() && it->length > b && (limit <= 0 || it->length <= limit) &&
                (coverLength <= 0 || it->length <= coverLength) &&
                (align <= 1 || it->length % align == 0))
                target = it->length;
        }
        moved.push_back(target);
    }
    std::sort(moved.begin(), moved.end());
    moved.erase(std::unique(moved.begin(), moved.end()), moved.end());
    return Boundaries::from(moved, "the refined boundaries");
}

bool splitBySamplingRound(const Profile& run, Profile& odd, Profile& even)
{
    for (const auto& p : run.points)
        if (p.ok() && p.samplesMs.size() < 2)
            return false;
    Profile halves[2] = {run, run};
    for (int h = 0; h < 2; ++h) {
        for (auto& p : halves[h].points) {
            if (!p.ok())
                continue;
            std::vector<double> samples;
            for (size_t i = size_t(h); i < p.samplesMs.size(); i += 2)
                samples.push_back(p.samplesMs[i]);
            p.samplesMs = std::move(samples);
            summarizePointWithCi(p, kSplitResamples, kSplitSeed);
        }
        halves[h].settings["samples"] = h == 0 ? "odd sampling rounds" : "even sampling rounds";
    }
    odd = std::move(halves[0]);
    even = std::move(halves[1]);
    return true;
}

std::vector<int64_t> refinedLengths(const Profile& profile)
{
    const auto it = profile.settings.find(kRefinedLengthsSetting);
    if (it == profile.settings.end() || it->second.empty())
        return {};
    std::set<int64_t> lengths;
    size_t from = 0;
    while (from <= it->second.size()) {
        const size_t comma = std::min(it->second.find(',', from), it->second.size());
        const std::string item = it->second.substr(from, comma - from);
        char* end = nullptr;
        const long long value = std::strtoll(item.c_str(), &end, 10);
        if (item.empty() || end != item.c_str() + item.size() || value <= 0)
            return {}; // edited by hand into something else: no claim about any point
        lengths.insert(value);
        from = comma + 1;
    }
    return {lengths.begin(), lengths.end()};
}

namespace {

// The batch size of the profile's latency curve (its smallest measured one), which the
// refinement must measure at too (LatencyCurve).
int64_t curveBatch(const Profile& start, const std::string& source, const RefineRequest& request)
{
    int64_t batch = 0;
    for (const auto& p : start.points)
        if (p.ok() && (batch == 0 || p.batch < batch))
            batch = p.batch;
    if (batch == 0)
        throw Error(source + ": the profile has no successfully measured points to refine");
    if (batch != request.batch)
        throw Error(source + ": the profile's latency curve is at batch size " +
                    std::to_string(batch) + ", but the refinement measures batch size " +
                    std::to_string(request.batch) + "; measure at the profile's batch size");
    return batch;
}

// A round's solve: the tuning on the starting profile's curve with every refinement point,
// its boundaries moved to the lengths pricing them (as deployed), and that profile.
struct RoundSolve {
    Profile profile;
    TuningReport report;
};

RoundSolve solveOnRefinedCurve(const LengthHistogram& traffic, int64_t maxLength,
                               const Profile& start, const std::string& source,
                               const RefineRequest& request, int64_t batch,
                               const PointsByLength& refined)
{
    RoundSolve out;
    out.profile = refinedProfile(start, batch, refined);
    LatencyCurve curve = LatencyCurve::fromProfile(
        out.profile,
        refined.empty() ? source
                        : source + " + " + std::to_string(refined.size()) + " measured lengths",
        request.statistic);
    const BucketEvaluator evaluator(traffic, std::move(curve), maxLength);
    TuningReport& report = out.report;
    report = tuneAndCompare(evaluator, request.tuning);
    if (!report.solution.feasible)
        return out;
    const TuneSettings& s = report.settings;
    const Boundaries deployed = movedToPricingLengths(report.solution.boundaries, evaluator.curve(),
                                                      s.coverLength, maxLength, s.align);
    if (deployed != report.solution.boundaries) {
        report.solution.boundaries = deployed;
        report.evaluation = evaluator.evaluate(deployed);
        report.range =
            servedRangeChange(report.histogram, request.tuning.current, deployed, maxLength);
    }
    return out;
}

// The round's idle boundaries and those not measured yet. A bucket no request reaches (the
// cover, when the traffic stops short of it) adds nothing to the mean: it is not measured.
void sortRoundBuckets(const Evaluation& evaluation, const PointsByLength& refined, RefineRound& r)
{
    for (const auto& b : evaluation.buckets) {
        if (b.requests == 0)
            r.idle.push_back(b.boundary);
        else if (!refined.count(b.boundary))
            r.unmeasured.push_back(b.boundary);
    }
}

// Measures `lengths` in one run, with references from the starting profile to scale them to
// its conditions (the verification's own measuring, with unit shares); adds them to
// `refined` and records them in `round`.
void measureRoundLengths(const std::vector<int64_t>& lengths, const PointsByLength& original,
                         const RefineRequest& request, int64_t batch, const LengthMeasurer& measure,
                         const Job& job, PointsByLength& refined, RefineRound& round)
{
    job.report(0, "round " + std::to_string(round.round) + ": boundaries " +
                      round.boundaries.str() + ", measuring " + formatLengths(lengths));
    BucketVerificationRequest m;
    m.boundaries = Boundaries::from(lengths, "the lengths to measure");
    m.shares.assign(lengths.size(), 1.0);
    m.references = referencesFrom(original, {});
    m.maxReferences = request.maxReferences;
    m.batch = batch;
    const BucketVerification v = measureBucketsWith(m, measure, job);
    for (const auto& bucket : v.buckets)
        refined[bucket.boundary] = scaled(bucket.point, 1.0 / v.conditionsRatio);
    round.measuredNow = lengths;
    round.conditionsRatio = v.conditionsRatio;
}

// The boundaries serving traffic in the final evaluation and their request counts.
struct ServingBuckets {
    std::vector<int64_t> boundaries;
    std::vector<double> requests;
};

// The loop's estimate and its interval into `result`: each bucket's price with its measured
// point's relative interval (none known: no width). Returns the buckets serving traffic.
ServingBuckets addLoopPrediction(RefineResult& result, const PointsByLength& original,
                                 const PointsByLength& refined)
{
    const Evaluation& e = result.report.evaluation;
    PointsByLength curvePoints = original;
    for (const auto& [length, point] : refined)
        curvePoints[length] = point;
    result.loopPredictedMs = e.stats.meanLatencyMs;
    ServingBuckets serving;
    for (const auto& b : e.buckets) {
        const double share = e.stats.served > 0 ? double(b.requests) / double(e.stats.served) : 0;
        if (b.requests > 0) {
            serving.boundaries.push_back(b.boundary);
            serving.requests.push_back(double(b.requests));
        }
        double low = b.latencyMs, high = b.latencyMs;
        const auto it = curvePoints.find(b.boundary);
        if (it != curvePoints.end() && it->second.p50Ms > 0) {
            // A median's interval holds the median; min/max keep rounding from saying otherwise.
            low *= std::min(1.0, it->second.ci95LowMs / it->second.p50Ms);
            high *= std::max(1.0, it->second.ci95HighMs / it->second.p50Ms);
        }
        result.loopPredictedLowMs += share * low;
        result.loopPredictedHighMs += share * high;
    }
    // Summed in another order than the evaluator's mean: keep rounding inside.
    result.loopPredictedLowMs = std::min(result.loopPredictedLowMs, result.loopPredictedMs);
    result.loopPredictedHighMs = std::max(result.loopPredictedHighMs, result.loopPredictedMs);
    return serving;
}

// The final run: the boundaries as deployed (those serving traffic), fresh, scaled to the
// starting profile's conditions through lengths other than the boundaries themselves. Its
// odd sampling rounds price the prediction, its even ones are the measurement (see refine.h).
void checkRefinedBoundaries(RefineResult& result, const ServingBuckets& serving,
                            const PointsByLength& original, const RefineRequest& request,
                            int64_t batch, const LengthMeasurer& measure, const Job& checkJob)
{
    const Evaluation& e = result.report.evaluation;
    BucketVerificationRequest check;
    check.boundaries = Boundaries::from(serving.boundaries, "the refined boundaries");
    check.shares = serving.requests;
    check.references = referencesFrom(original, e.boundaries.values());
    check.maxReferences = request.maxReferences;
    check.batch = batch;
    checkJob.report(0, "measuring the refined boundaries " + e.boundaries.str());
    Profile run;
    const BucketVerification whole = measureBucketsWith(
        check,
        [&](const std::vector<int64_t>& lengths, const Job& j) {
            run = measure(lengths, j);
            return run;
        },
        checkJob);
    Profile odd, even;
    result.splitRun = splitBySamplingRound(run, odd, even);
    const auto half = [&](const Profile& p) {
        BucketVerification v = measureBucketsWith(
            check, [&](const std::vector<int64_t>&, const Job&) { return p; }, checkJob);
        // One ratio for both halves (the whole run's): the conditions are the same, and a ratio
        // per half would add its own noise to each.
        v.references = whole.references;
        v.conditionsRatio = whole.conditionsRatio;
        v.expectedAtReferenceMs = v.expectedMs / v.conditionsRatio;
        return v;
    };
    if (result.splitRun) {
        result.pricing = half(odd);
        result.measurement = half(even);
    } else {
        // Too few samples to split: the whole run prices, and the measurement is a run of its
        // own (its progress at the end: the job's share is spent).
        result.pricing = whole;
        result.measurement = measureBucketsWith(check, measure, checkJob.sub(1, 1));
    }
    const PredictionCheck priced = checkPrediction(1, result.pricing); // scaled like a measurement
    result.predictedMs = priced.measuredMs;
    result.predictedLowMs = priced.measuredLowMs;
    result.predictedHighMs = priced.measuredHighMs;
    result.check = checkPrediction(result.predictedMs, result.measurement, request.tolerancePct);
    result.loopErrorPct = predictionErrorPct(result.loopPredictedMs, result.check.measuredMs);
}

} // namespace

RefineResult refineTuning(const LengthHistogram& traffic, int64_t maxLength, const Profile& start,
                          const std::string& source, const RefineRequest& request,
                          const LengthMeasurer& measure, const Job& job,
                          const RefineObserver& observer)
{
    if (request.maxRounds < 1 || request.maxRounds > 100)
        throw Error("refinement: the round cap must be between 1 and 100, got " +
                    std::to_string(request.maxRounds));
    if (!measure)
        throw Error("refinement: nothing to measure with");
    const int64_t batch = curveBatch(start, source, request);
    PointsByLength original;
    for (const auto& p : start.points)
        if (p.ok() && p.batch == batch)
            original[p.length] = p;

    RefineResult result;
    result.maxRounds = request.maxRounds;
    PointsByLength refined;
    Boundaries previous;
    const auto finishRound = [&](const RefineRound& r) {
        result.rounds.push_back(r);
        if (observer)
            observer(r);
    };
    const double roundsShare = 0.85; // of the job's progress; the final check has the rest
    for (int round = 1; round <= request.maxRounds; ++round) {
        job.checkCancelled();
        const Job roundJob = job.sub(roundsShare * (round - 1) / request.maxRounds,
                                     roundsShare * round / request.maxRounds);
        RoundSolve solved =
            solveOnRefinedCurve(traffic, maxLength, start, source, request, batch, refined);
        const Profile& profile = solved.profile;
        TuningReport& report = solved.report;
        RefineRound r;
        r.round = round;
        if (!report.solution.feasible) {
            result.report = std::move(report);
            result.profile = profile;
            for (const auto& [length, point] : refined)
                result.measuredLengths.push_back(length);
            finishRound(r);
            return result;
        }
        const TuneSettings& s = report.settings;
        const Boundaries deployed = report.solution.boundaries;
        r.boundaries = deployed;
        r.predictedMs = report.evaluation.stats.meanLatencyMs;
        sortRoundBuckets(report.evaluation, refined, r);
        const std::vector<int64_t> toMeasure =
            lengthsToMeasure(deployed, r.idle, candidateLengths(traffic, maxLength, s), refined,
                             s.coverLength > 0 ? s.coverLength : maxLength, s.align);
        result.report = std::move(report);
        result.profile = profile;
        // Settled: every boundary measured here, and the set the previous round's curve chose.
        const bool settled = r.unmeasured.empty() && deployed == previous;
        if (settled || round == request.maxRounds) {
            result.converged = settled;
            finishRound(r);
            break;
        }
        if (!toMeasure.empty())
            measureRoundLengths(toMeasure, original, request, batch, measure, roundJob, refined, r);
        finishRound(r);
        previous = deployed;
    }
    for (const auto& [length, point] : refined)
        result.measuredLengths.push_back(length);

    const ServingBuckets serving = addLoopPrediction(result, original, refined);
    job.checkCancelled();
    checkRefinedBoundaries(result, serving, original, request, batch, measure,
                           job.sub(roundsShare, 1));
    return result;
}

nlohmann::json RefineResult::toJson() const
{
    using nlohmann::json;
    json j;
    j["converged"] = converged;
    j["max_rounds"] = maxRounds;
    j["rounds"] = json::array();
    for (const auto& r : rounds)
        j["rounds"].push_back({{"round", r.round},
                               {"boundaries", r.boundaries.values()},
                               {"unmeasured", r.unmeasured},
                               {"idle", r.idle},
                               {"measured", r.measuredNow},
                               {"predicted_ms", r.predictedMs},
                               {"conditions_ratio", r.conditionsRatio}});
    j["measured_lengths"] = measuredLengths;
    if (!report.solution.feasible)
        return j;
    j["boundaries"] = report.solution.boundaries.values();
    j["predicted_ms"] = predictedMs;
    j["predicted_ci95_ms"] = {predictedLowMs, predictedHighMs};
    json priced = json::array();
    for (const auto& b : pricing.buckets)
        priced.push_back({{"boundary", b.boundary},
                          {"share", b.share},
                          {"p50_ms", b.point.p50Ms},
                          {"ci95_ms", {b.point.ci95LowMs, b.point.ci95HighMs}},
                          {"samples", b.point.samples}});
    j["prediction"] = {{"method", splitRun ? "fresh samples: the final run's odd sampling rounds "
                                             "(the measurement is its even rounds)"
                                           : "fresh samples: a run of its own before the "
                                             "measurement's"},
                       {"buckets", priced}};
    j["loop_predicted_ms"] = loopPredictedMs;
    j["loop_predicted_ci95_ms"] = {loopPredictedLowMs, loopPredictedHighMs};
    j["loop_error_pct"] = loopErrorPct;
    j["measured_ms"] = check.measuredMs;
    j["measured_ci95_ms"] = {check.measuredLowMs, check.measuredHighMs};
    j["error_pct"] = check.errorPct;
    j["tolerance_pct"] = check.tolerancePct;
    j["within_tolerance"] = !check.beyondTolerance;
    j["verification"] = verificationJson(measurement, check);
    return j;
}

} // namespace bucketlab
