#include "core/tuning/tuning_report.h"

#include "core/spec/package_meta.h"
#include "core/util/error.h"
#include "core/util/format.h"
#include "core/util/text.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <optional>
#include <tuple>

namespace bucketlab {

using nlohmann::json;

namespace {

void dedupe(std::vector<int64_t>& v)
{
    v.erase(std::unique(v.begin(), v.end()), v.end());
}

std::string ms(double v)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g ms", v);
    return buf;
}

double metric(const Evaluation& e, TuneObjective objective)
{
    return objective == TuneObjective::PaddedTokens ? e.stats.meanPaddedTokens
                                                    : e.stats.meanLatencyMs;
}

json numberOrNull(double v)
{
    return std::isfinite(v) ? json(v) : json(nullptr);
}

// The gain of the tuned set over a baseline, over the requests both serve.
void compareOverCommonRequests(BaselineResult& b, const TuningReport& r,
                               const BucketEvaluator& evaluator, const TuneSettings& s)
{
    const auto& tuned = r.evaluation.stats;
    const auto objectiveOf = [&](const Evaluation& e) {
        return metric(e, s.objective) + s.bucketCost * double(e.boundaries.size());
    };
    const int64_t tunedUpTo = r.solution.boundaries.largest();
    const int64_t baseUpTo = b.evaluation.boundaries.largest();
    const LengthHistogram& h = evaluator.histogram();
    const int64_t cap = evaluator.maxLength() > 0 ? evaluator.maxLength() : h.maxLength();
    const auto served = [&](int64_t upTo) {
        return h.countAtMost(std::min(upTo, cap));
    };
    b.refusedByTuned = std::max<int64_t>(0, served(baseUpTo) - served(tunedUpTo));
    b.refusedByThis = std::max<int64_t>(0, served(tunedUpTo) - served(baseUpTo));
    if (b.refusedByTuned == 0 && b.refusedByThis == 0) {
        b.comparedRequests = tuned.served;
        b.tunedGainPct =
            b.objective > 0 ? 100.0 * (b.objective - r.solution.objective) / b.objective : 0.0;
        return;
    }
    // Different served requests: both sets priced over the lengths both serve.
    const int64_t common = std::min(tunedUpTo, baseUpTo);
    b.comparedRequests = served(common);
    if (b.comparedRequests == 0) {
        b.tunedGainPct = std::nan("");
        return;
    }
    const BucketEvaluator both(h.truncated(std::min(common, cap)), evaluator.curve(),
                               evaluator.maxLength());
    const double baseObjective = objectiveOf(both.evaluate(b.evaluation.boundaries));
    const double tunedObjective = objectiveOf(both.evaluate(r.solution.boundaries));
    b.tunedGainPct =
        baseObjective > 0 ? 100.0 * (baseObjective - tunedObjective) / baseObjective : 0.0;
}

std::string baselineNote(const BaselineResult& b, int64_t total)
{
    const auto share = [&](int64_t n) {
        return formatPercent(100.0 * double(n) / double(total));
    };
    if (b.refusedByTuned > 0)
        return "the tuned set refuses " + share(b.refusedByTuned) +
               " of the requests that this one serves; compared over the " +
               formatCount(b.comparedRequests) + " requests both serve";
    if (b.refusedByThis > 0)
        return "rejects " + share(b.refusedByThis) +
               " of the requests that the tuned set serves (above its largest bucket); "
               "compared over the " +
               formatCount(b.comparedRequests) + " requests both serve";
    return {};
}

// The traffic as a tuner restricted to multiples of settings.align sees it: every servable
// length rounded up to the next multiple, or to the cover length or the maximum length when
// that comes first (the two lengths the last bucket may end at). A set of allowed boundaries
// serves each request with the same bucket in both histograms, so the optimum over this one
// is the optimum over the allowed sets on the real traffic.
BucketEvaluator alignedForTuning(const BucketEvaluator& evaluator, const TuneSettings& s)
{
    if (s.align < 1 || s.align > kMaxLength)
        throw Error(subject(Field::Align) + " must be between 1 and " + std::to_string(kMaxLength) +
                    ", got " + std::to_string(s.align));
    const int64_t cap = evaluator.maxLength();
    const int64_t end = s.coverLength > 0 ? s.coverLength : cap;
    const auto& lengths = evaluator.histogram().lengths();
    const auto& counts = evaluator.histogram().counts();
    std::vector<std::pair<int64_t, int64_t>> rounded;
    rounded.reserve(lengths.size());
    for (size_t i = 0; i < lengths.size(); ++i) {
        int64_t l = lengths[i];
        if (cap <= 0 || l <= cap) {
            l = (l + s.align - 1) / s.align * s.align;
            if (end > 0 && l > end)
                l = end;
        }
        rounded.emplace_back(std::min(l, kMaxLength), counts[i]);
    }
    return BucketEvaluator(LengthHistogram::fromCounts(std::move(rounded)), evaluator.curve(), cap);
}

} // namespace

ServeUpTo ServeUpTo::parse(const std::string& text)
{
    if (text.empty() || text == "current")
        return {};
    if (text == "traffic")
        return {Mode::Traffic, 0};
    try {
        return upTo(parseLength(text, Field::ServeUpTo));
    } catch (const Error&) {
        throw Error(subject(Field::ServeUpTo) +
                    " must be current (the current set's largest bucket), traffic (the "
                    "traffic's longest length) or a length, got " +
                    quote(text));
    }
}

int64_t ServeUpTo::coverFor(const Boundaries& current) const
{
    switch (mode) {
    case Mode::KeepCurrent: return current.empty() ? 0 : current.largest();
    case Mode::Traffic: return 0;
    case Mode::Length: return length;
    }
    return 0;
}

std::string ServeUpTo::str() const
{
    switch (mode) {
    case Mode::KeepCurrent: return "current";
    case Mode::Traffic: return "traffic";
    case Mode::Length: return std::to_string(length);
    }
    return {};
}

ServedRangeChange servedRangeChange(const LengthHistogram& traffic, const Boundaries& current,
                                    const Boundaries& proposed, int64_t maxLength)
{
    ServedRangeChange c;
    c.currentUpTo = current.empty() ? 0 : current.largest();
    c.proposedUpTo = proposed.empty() ? 0 : proposed.largest();
    if (current.empty() || !c.shrinks())
        return c;
    const int64_t top = maxLength > 0 ? std::min(maxLength, c.currentUpTo) : c.currentUpTo;
    const auto& lengths = traffic.lengths();
    const auto& counts = traffic.counts();
    for (size_t i = 0; i < lengths.size(); ++i)
        if (lengths[i] > c.proposedUpTo && lengths[i] <= top) {
            if (c.refusedRequests == 0)
                c.firstRefused = lengths[i];
            c.lastRefused = lengths[i];
            c.refusedRequests += counts[i];
        }
    if (traffic.total() > 0)
        c.refusedPct = 100.0 * double(c.refusedRequests) / double(traffic.total());
    return c;
}

std::string ServedRangeChange::describe() const
{
    if (currentUpTo == 0)
        return "serves lengths up to " + std::to_string(proposedUpTo);
    if (!shrinks())
        return "serves lengths up to " + std::to_string(proposedUpTo) +
               (proposedUpTo == currentUpTo
                    ? ", as the current set does"
                    : ", beyond the current set's " + std::to_string(currentUpTo)) +
               ": no request the current set serves is refused";
    std::string s = "serves lengths up to " + std::to_string(proposedUpTo) +
                    " only, where the current set serves up to " + std::to_string(currentUpTo) +
                    ": ";
    if (!refuses())
        return s + "no request of this traffic is longer, but lengths " +
               std::to_string(proposedUpTo + 1) + ".." + std::to_string(currentUpTo) +
               " would be refused";
    return s + formatPercent(refusedPct) + " of the requests (" + formatCount(refusedRequests) +
           ", lengths " + std::to_string(firstRefused) + ".." + std::to_string(lastRefused) +
           ") would be refused";
}

nlohmann::json ServedRangeChange::toJson() const
{
    return {{"current_up_to", currentUpTo > 0 ? json(currentUpTo) : json(nullptr)},
            {"tuned_up_to", proposedUpTo},
            {"shrinks", shrinks()},
            {"refused_requests", refusedRequests},
            {"refused_pct", refusedPct},
            {"refused_lengths", refuses() ? json({firstRefused, lastRefused}) : json(nullptr)},
            {"summary", describe()}};
}

Boundaries powersOfTwoBoundaries(int64_t longest, int64_t maxLength)
{
    std::vector<int64_t> out;
    if (maxLength > 0) {
        // neuronx-distributed-inference autobucketing.generate_buckets(128, max_length).
        if (maxLength == 128)
            return Boundaries::from({128}, "the powers-of-two baseline");
        const int maxBound = int(std::lround(std::log2(double(maxLength))));
        for (int i = 7; i < maxBound; ++i)
            out.push_back(int64_t(1) << i);
        out.push_back(maxLength);
        return Boundaries::from(out, "the powers-of-two baseline");
    }
    int64_t b = 128;
    out.push_back(b);
    while (b < longest && b < kMaxLength) {
        b = std::min<int64_t>(b * 2, kMaxLength);
        out.push_back(b);
    }
    return Boundaries::from(out, "the powers-of-two baseline");
}

Boundaries equalMassBoundaries(const LengthHistogram& served, int k)
{
    std::vector<int64_t> out;
    for (int i = 1; i <= k; ++i)
        out.push_back(served.quantile(double(i) / double(k)));
    out.back() = served.maxLength(); // exact even when i/k rounds below 1
    dedupe(out);
    return Boundaries::from(out, "the equal-mass baseline");
}

Boundaries uniformBoundaries(int64_t longest, int k)
{
    std::vector<int64_t> out;
    for (int i = 1; i <= k; ++i)
        out.push_back(std::max<int64_t>(1, (longest * i + k - 1) / k));
    dedupe(out);
    return Boundaries::from(out, "the uniform baseline");
}

int kneeIndex(const std::vector<double>& objectives)
{
    const size_t n = objectives.size();
    if (n < 3)
        return -1;
    const double span = objectives.front() - objectives.back();
    if (!(span > 0))
        return -1;
    int best = -1;
    double bestGap = 1e-12;
    for (size_t i = 1; i + 1 < n; ++i) {
        const double x = double(i) / double(n - 1);
        const double y = (objectives.front() - objectives[i]) / span;
        if (y - x > bestGap)
            bestGap = y - x, best = int(i);
    }
    return best;
}

namespace {

// The boundary sets the tuned one is compared with: the current one (if any), powers of two,
// equal mass and uniform at the tuned bucket count.
std::vector<std::pair<std::string, Boundaries>> baselineSets(const TuningReport& r,
                                                             const TuningRequest& request)
{
    const TuneSettings& s = r.settings;
    const LengthHistogram served =
        r.maxLength > 0 ? r.histogram.truncated(r.maxLength) : r.histogram;
    std::vector<std::pair<std::string, Boundaries>> sets;
    if (!request.current.empty())
        sets.emplace_back("current", request.current);
    sets.emplace_back("powers_of_two", powersOfTwoBoundaries(served.maxLength(), r.maxLength));
    if (s.coverLength > 0) {
        // Like the optimum, the baselines keep the covering bucket as their largest.
        std::vector<int64_t> mass;
        if (s.buckets > 1)
            mass = equalMassBoundaries(served, s.buckets - 1).values();
        if (mass.empty() || mass.back() < s.coverLength)
            mass.push_back(s.coverLength);
        sets.emplace_back("equal_mass", Boundaries::from(mass, "the equal-mass baseline"));
        sets.emplace_back("uniform", uniformBoundaries(s.coverLength, s.buckets));
    } else {
        sets.emplace_back("equal_mass", equalMassBoundaries(served, s.buckets));
        sets.emplace_back("uniform", uniformBoundaries(served.maxLength(), s.buckets));
    }
    return sets;
}

// Each baseline evaluated and set against the tuned set.
void priceBaselines(TuningReport& r, const std::vector<std::pair<std::string, Boundaries>>& sets,
                    const BucketEvaluator& evaluator)
{
    const TuneSettings& s = r.settings;
    for (const auto& [name, boundaries] : sets) {
        BaselineResult b;
        b.name = name;
        b.evaluation = evaluator.evaluate(boundaries);
        b.objective = metric(b.evaluation, s.objective) + s.bucketCost * double(boundaries.size());
        if (s.objective == TuneObjective::MeanLatencyP99Budget)
            b.meetsP99Budget = b.evaluation.stats.p99LatencyMs <= s.p99BudgetMs;
        if (r.solution.feasible) {
            compareOverCommonRequests(b, r, evaluator, s);
            b.note = baselineNote(b, r.histogram.total());
        } else {
            const int64_t rejected = evaluator.servableRequests() - b.evaluation.stats.served;
            if (rejected > 0)
                b.note = "rejects " +
                         formatPercent(100.0 * double(rejected) / double(r.histogram.total())) +
                         " of the traffic (above its largest bucket); its figures cover the rest";
        }
        r.baselines.push_back(std::move(b));
    }
}

// The Pareto front over the bucket count 1..kMax and its knee.
void addParetoFront(TuningReport& r, const std::vector<TuneSolution>& front, int kMax,
                    const BucketEvaluator& evaluator)
{
    std::vector<double> feasibleObjectives;
    int firstFeasible = -1;
    for (int k = 1; k <= kMax; ++k) {
        ParetoPoint p;
        p.buckets = k;
        p.solution = front[size_t(k - 1)];
        if (p.solution.feasible) {
            p.evaluation = evaluator.evaluate(p.solution.boundaries);
            if (firstFeasible < 0)
                firstFeasible = k;
            feasibleObjectives.push_back(p.solution.objective);
        }
        r.pareto.push_back(std::move(p));
    }
    const int knee = kneeIndex(feasibleObjectives);
    if (knee >= 0) {
        r.kneeBuckets = firstFeasible + knee;
        r.pareto[size_t(r.kneeBuckets - 1)].knee = true;
    }
}

// Notes worth a reader's attention: adjusted and extrapolated latencies, rejected traffic.
void addNotes(TuningReport& r, const BucketEvaluator& evaluator)
{
    for (const auto& a : evaluator.curve().adjustments())
        r.notes.push_back("latency: bucket " + std::to_string(a.length) + " measured " +
                          ms(a.measuredMs) + " but the bigger bucket " +
                          std::to_string(a.cheaperLength) + " measured " + ms(a.usedMs) +
                          "; lengths up to " + std::to_string(a.length) + " use " + ms(a.usedMs));
    if (r.solution.feasible)
        for (int64_t b : r.solution.boundaries)
            if (evaluator.curve().isExtrapolated(b)) {
                r.notes.push_back("latency: bucket " + std::to_string(b) +
                                  " lies outside the measured lengths; its latency is "
                                  "extrapolated (profile it to confirm)");
            }
    const int64_t aboveMax = r.histogram.total() - evaluator.servableRequests();
    if (aboveMax > 0)
        r.notes.push_back(formatPercent(100.0 * double(aboveMax) / double(r.histogram.total())) +
                          " of the traffic is above the maximum length " +
                          std::to_string(r.maxLength) + " and rejected by every boundary set");
}

} // namespace

TuningReport tuneAndCompare(const BucketEvaluator& evaluator, const TuningRequest& request,
                            const Job& job)
{
    TuningReport r;
    r.settings = request.settings;
    r.settings.coverLength = request.serveUpTo.coverFor(request.current);
    // Keeping today's range cannot go past what the model accepts.
    if (request.serveUpTo.mode == ServeUpTo::Mode::KeepCurrent && evaluator.maxLength() > 0)
        r.settings.coverLength = std::min(r.settings.coverLength, evaluator.maxLength());
    r.serveUpTo = request.serveUpTo;
    r.maxLength = evaluator.maxLength();
    r.distributionSource = request.distributionSource;
    r.histogram = evaluator.histogram();
    r.curve = evaluator.curve();
    const TuneSettings& s = r.settings;
    if (s.coverLength > 0 && evaluator.maxLength() > 0 && s.coverLength > evaluator.maxLength())
        throw Error(subject(Field::ServeUpTo) + " is " + std::to_string(s.coverLength) +
                    ", above the maximum length " + std::to_string(evaluator.maxLength()) +
                    ": no bucket can be longer than what the model accepts");
    // Serving up to less than the traffic's longest request: the tuner sees only the requests
    // the tuned set will serve; everything else is priced on the whole traffic, so what the
    // tuned set refuses shows.
    const BucketEvaluator* tuning = &evaluator;
    std::optional<BucketEvaluator> capped;
    const size_t servable = evaluator.servedDistinct();
    if (s.coverLength > 0 && servable > 0 &&
        s.coverLength < evaluator.histogram().lengths()[servable - 1]) {
        capped.emplace(evaluator.histogram(), evaluator.curve(), s.coverLength);
        tuning = &*capped;
    }
    std::optional<BucketEvaluator> aligned;
    if (s.align != 1) {
        aligned.emplace(alignedForTuning(*tuning, s));
        tuning = &*aligned;
    }
    const BoundaryTuner tuner(*tuning);

    // The Pareto front over the bucket count comes from the same DP pass as the optimum.
    int kMax = request.paretoMax > 0 ? request.paretoMax : std::max(s.buckets, 8);
    kMax = int(std::min<size_t>(size_t(kMax), tuning->servedDistinct()));
    if (request.paretoMax < 0)
        kMax = 0;
    std::vector<TuneSolution> front;
    std::tie(r.solution, front) = tuner.solveAndSweep(s, kMax, job);
    if (r.solution.feasible) {
        r.evaluation = evaluator.evaluate(r.solution.boundaries);
        r.range = servedRangeChange(r.histogram, request.current, r.solution.boundaries,
                                    evaluator.maxLength());
    }

    priceBaselines(r, baselineSets(r, request), evaluator);
    if (kMax >= 1)
        addParetoFront(r, front, kMax, evaluator);
    addNotes(r, evaluator);
    return r;
}

nlohmann::json TuningReport::toJson() const
{
    json j;
    j["objective"] = objectiveName(settings.objective);
    if (settings.objective == TuneObjective::MeanLatencyP99Budget)
        j["p99_budget_ms"] = settings.p99BudgetMs;
    j["bucket_cost"] = settings.bucketCost;
    j["bucket_cost_unit"] =
        settings.objective == TuneObjective::PaddedTokens ? "tokens/request" : "ms/request";
    j["buckets_requested"] = settings.buckets;
    j["algorithm"] = settings.algorithm == TuneAlgorithm::Exact ? "exact" : "naive";
    j["max_length"] = maxLength > 0 ? json(maxLength) : json(nullptr);
    j["cover_length"] = settings.coverLength > 0 ? json(settings.coverLength) : json(nullptr);
    j["serve_up_to"] = serveUpTo.str();
    j["align"] = settings.align;
    j["served_range"] = solution.feasible ? range.toJson() : json(nullptr);
    j["feasible"] = solution.feasible;
    j["infeasible_reason"] = solution.feasible ? json(nullptr) : json(solution.infeasibleReason);
    j["boundaries"] = solution.boundaries;
    j["objective_value"] = solution.feasible ? json(solution.objective) : json(nullptr);
    if (solution.feasible) {
        const json e = evaluation.toJson();
        j["buckets"] = e["buckets"];
        j["stats"] = e["stats"];
    } else {
        j["buckets"] = json::array();
        j["stats"] = nullptr;
    }
    j["baselines"] = json::array();
    for (const auto& b : baselines) {
        json e = b.evaluation.toJson();
        e["name"] = b.name;
        e["objective_value"] = b.objective;
        e["tuned_gain_pct"] = solution.feasible ? numberOrNull(b.tunedGainPct) : json(nullptr);
        e["compared_requests"] = b.comparedRequests;
        e["refused_by_tuned"] = b.refusedByTuned;
        e["refused_by_baseline"] = b.refusedByThis;
        if (settings.objective == TuneObjective::MeanLatencyP99Budget)
            e["meets_p99_budget"] = b.meetsP99Budget;
        e["note"] = b.note.empty() ? json(nullptr) : json(b.note);
        j["baselines"].push_back(e);
    }
    j["pareto"] = json::array();
    for (const auto& p : pareto) {
        json q;
        q["buckets"] = p.buckets;
        q["feasible"] = p.solution.feasible;
        q["boundaries"] = p.solution.boundaries;
        q["objective_value"] =
            p.solution.feasible ? numberOrNull(p.solution.objective) : json(nullptr);
        q["mean_latency_ms"] =
            p.solution.feasible ? json(p.evaluation.stats.meanLatencyMs) : json(nullptr);
        q["p99_latency_ms"] =
            p.solution.feasible ? json(p.evaluation.stats.p99LatencyMs) : json(nullptr);
        q["waste_pct"] = p.solution.feasible ? json(p.evaluation.stats.wastePct) : json(nullptr);
        q["knee"] = p.knee;
        j["pareto"].push_back(q);
    }
    j["knee_buckets"] = kneeBuckets > 0 ? json(kneeBuckets) : json(nullptr);
    j["solve_ms"] = solution.solveMs;
    j["distribution"] = {{"source", distributionSource},
                         {"requests", histogram.total()},
                         {"distinct_lengths", histogram.distinct()},
                         {"min", histogram.minLength()},
                         {"mean", histogram.mean()},
                         {"p50", histogram.quantile(0.5)},
                         {"p90", histogram.quantile(0.9)},
                         {"p99", histogram.quantile(0.99)},
                         {"max", histogram.maxLength()}};
    j["latency"] = curve.toJson();
    j["notes"] = notes;
    return j;
}

} // namespace bucketlab
