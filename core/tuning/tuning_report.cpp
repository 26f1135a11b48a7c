#include "core/tuning/tuning_report.h"

#include "core/spec/package_meta.h"
#include "core/util/error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

namespace bucketlab {

using nlohmann::json;

namespace {

void dedupe(std::vector<int64_t>& v)
{
    v.erase(std::unique(v.begin(), v.end()), v.end());
}

std::string percent(double v)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g%%", v);
    return buf;
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

} // namespace

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

TuningReport tuneAndCompare(const BucketEvaluator& evaluator, const TuningRequest& request,
                            const Job& job)
{
    TuningReport r;
    r.settings = request.settings;
    r.maxLength = evaluator.maxLength();
    r.distributionSource = request.distributionSource;
    r.histogram = evaluator.histogram();
    r.curve = evaluator.curve();
    const TuneSettings& s = request.settings;
    const BoundaryTuner tuner(evaluator);

    r.solution = tuner.solve(s, job.sub(0, 0.5));
    if (r.solution.feasible)
        r.evaluation = evaluator.evaluate(r.solution.boundaries);

    // Baselines.
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
    for (auto& [name, boundaries] : sets) {
        BaselineResult b;
        b.name = name;
        b.evaluation = evaluator.evaluate(boundaries);
        b.objective = metric(b.evaluation, s.objective) + s.bucketCost * double(boundaries.size());
        if (r.solution.feasible && b.objective > 0)
            b.tunedGainPct = 100.0 * (b.objective - r.solution.objective) / b.objective;
        if (s.objective == TuneObjective::MeanLatencyP99Budget)
            b.meetsP99Budget = b.evaluation.stats.p99LatencyMs <= s.p99BudgetMs;
        const double extraRejected =
            100.0 * double(evaluator.servableRequests() - b.evaluation.stats.served) /
            double(r.histogram.total());
        if (extraRejected > 0)
            b.note = "rejects " + percent(extraRejected) +
                     " of the traffic (above its largest bucket); its figures cover the rest";
        r.baselines.push_back(std::move(b));
    }

    // Pareto front over the bucket count.
    int kMax = request.paretoMax > 0 ? request.paretoMax : std::max(s.buckets, 8);
    kMax = int(std::min<size_t>(size_t(kMax), evaluator.servedDistinct()));
    if (kMax >= 1 && request.paretoMax >= 0) {
        TuneSettings sweepSettings = s;
        sweepSettings.bucketCost = 0;
        const auto front = tuner.sweep(sweepSettings, kMax, job.sub(0.5, 1));
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

    // Notes worth a reader's attention.
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
        r.notes.push_back(percent(100.0 * double(aboveMax) / double(r.histogram.total())) +
                          " of the traffic is above the maximum length " +
                          std::to_string(r.maxLength) + " and rejected by every boundary set");
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
        e["tuned_gain_pct"] = solution.feasible ? json(b.tunedGainPct) : json(nullptr);
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
