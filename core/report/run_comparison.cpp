#include "core/report/run_comparison.h"

#include "core/report/boundary_report.h"
#include "core/tuning/boundary_tuner.h"
#include "core/util/error.h"
#include "core/util/format.h"
#include "core/util/text.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <optional>

namespace bucketlab {

using nlohmann::json;

std::string shortSourceName(const std::string& fileOrSpec)
{
    std::error_code ec;
    if (std::filesystem::is_regular_file(fileOrSpec, ec))
        return std::filesystem::path(fileOrSpec).filename().string();
    return fileOrSpec;
}

namespace {

// -1: x is better than y on this run, 1: worse, 0: the same. Fewer rejected requests first
// (a faster set that refuses requests is not better), then the mean latency; means within
// 0.05 % count as the same, as the report's one-decimal percentages would show them.
int rank(const Evaluation& x, const Evaluation& y)
{
    if (x.stats.rejected != y.stats.rejected)
        return x.stats.rejected < y.stats.rejected ? -1 : 1;
    const double a = x.stats.meanLatencyMs, b = y.stats.meanLatencyMs;
    if (std::fabs(a - b) <= 0.0005 * std::max(std::fabs(a), std::fabs(b)))
        return 0;
    return a < b ? -1 : 1;
}

size_t bestOf(const std::vector<PricedBoundarySet>& sets, bool onB)
{
    size_t best = 0;
    for (size_t i = 1; i < sets.size(); ++i)
        if (rank(onB ? sets[i].b : sets[i].a, onB ? sets[best].b : sets[best].a) < 0)
            best = i;
    return best;
}

// "47, 70, 97, 160": boundaries in prose.
std::string spaced(const Boundaries& b)
{
    std::string out;
    for (auto v : b)
        out += (out.empty() ? "" : ", ") + std::to_string(v);
    return out;
}

std::string pct(double v)
{
    return formatNumber(v, 1) + " %";
}

json pricedJson(const Evaluation& e)
{
    const auto& s = e.stats;
    return {{"mean_ms", s.meanLatencyMs},    {"p50_ms", s.p50LatencyMs},
            {"p99_ms", s.p99LatencyMs},      {"waste_pct", s.wastePct},
            {"rejected_pct", s.rejectedPct}, {"served", s.served},
            {"rejected", s.rejected}};
}

json runJson(const ReportRunInfo& r)
{
    return {{"traffic", r.traffic},
            {"latency", r.latency},
            {"project", r.project.empty() ? json(nullptr) : json(r.project)},
            {"requests", r.requests},
            {"shortest", r.shortest},
            {"longest", r.longest},
            {"mean_length", r.meanLength}};
}

// "mean 6.37 ms against 10.3 ms", or what each rejects when that decides.
std::string versusDetail(const Evaluation& tuned, const Evaluation& current)
{
    if (tuned.stats.rejected != current.stats.rejected)
        return "they reject " + pct(tuned.stats.rejectedPct) + " of the requests, the current " +
               "ones " + pct(current.stats.rejectedPct);
    return "mean " + formatMs(tuned.stats.meanLatencyMs) + " against " +
           formatMs(current.stats.meanLatencyMs);
}

const char* verdictVerb(int r)
{
    return r < 0 ? "beat" : r > 0 ? "lose to" : "match";
}

} // namespace

RunComparison compareRuns(const RunComparisonRequest& r, const Job& job)
{
    if (!r.primary || !r.runA || !r.runB)
        throw Error("comparing runs needs the report and both runs' traffic and latency");
    const BoundaryComparison& c = *r.primary;
    RunComparison out;
    out.a = r.a;
    out.b = r.b;
    out.sameTraffic = r.sameTraffic;
    out.sameLatency = r.sameLatency;
    out.trafficB = r.runB->histogram();
    out.curveB = r.runB->curve();

    const auto add = [&](const std::string& name, const std::string& origin,
                         const Boundaries& boundaries, const std::string& note) {
        for (auto& s : out.sets)
            if (s.a.boundaries == boundaries) {
                // The same boundaries under another name: one row, both names.
                s.note += std::string(s.note.empty() ? "" : "; ") + "also " + name;
                return;
            }
        PricedBoundarySet s;
        s.name = name;
        s.origin = origin;
        s.note = note;
        s.a = r.runA->evaluate(boundaries);
        s.b = r.runB->evaluate(boundaries);
        out.sets.push_back(std::move(s));
    };
    add("Current", "current", c.current.boundaries, "");
    add("Tuned", "tuned", c.tuned.boundaries, c.tunedHere ? "optimum on run A" : "");
    if (!c.tunedHere && c.tuning.solution.feasible)
        add("Optimum for " + std::to_string(c.tuning.solution.boundaries.size()) + " buckets",
            "optimum", c.tuning.solution.boundaries, "exact optimum of mean latency on run A");
    for (const auto& b : c.tuning.baselines)
        if (b.name != "current")
            add(baselineDisplayName(b.name), "baseline", b.evaluation.boundaries, "");
    for (const auto& s : r.setsOfA)
        add(s.name, "run-a", s.boundaries, "");
    job.checkCancelled();

    // What tuning for run B itself would give, with as many buckets as the tuned set and the
    // same served range: whether B calls for boundaries of its own.
    const int k = int(c.tuned.boundaries.size());
    TuneSettings settings;
    settings.objective = TuneObjective::MeanLatency;
    settings.buckets = k;
    settings.coverLength = c.tuning.settings.coverLength;
    // Run B's requests beyond the served range are refused by the tuned set as by the
    // current one: its optimum is tuned for the requests that range holds.
    const int64_t cover = settings.coverLength;
    std::optional<BucketEvaluator> truncated;
    if (cover > 0 && r.runB->histogram().maxLength() > cover) {
        LengthHistogram within = r.runB->histogram().truncated(cover);
        if (!within.empty())
            truncated.emplace(std::move(within), r.runB->curve(), r.runB->maxLength());
    }
    const BucketEvaluator& tuneOn = truncated ? *truncated : *r.runB;
    const size_t fillable = tuneOn.servedDistinct() + (cover > 0 ? 1 : 0);
    if (cover > 0 && r.runB->histogram().maxLength() > cover && !truncated) {
        out.notes.push_back("Run B has no request at or below " + std::to_string(cover) +
                            ", the tuned set's largest bucket: no optimum of its own.");
    } else if (size_t(k) > fillable) {
        out.notes.push_back("Run B has only " + std::to_string(tuneOn.servedDistinct()) +
                            " distinct lengths, too few for an optimum of its own with " +
                            std::to_string(k) + " buckets.");
    } else {
        const TuneSolution opt = BoundaryTuner(tuneOn).solve(settings, job);
        if (opt.feasible)
            add("Optimum for run B", "run-b-optimum", opt.boundaries,
                "exact optimum of mean latency on run B, " + std::to_string(k) + " buckets" +
                    (cover > 0 ? " up to " + std::to_string(cover) : ""));
        else
            out.notes.push_back("Run B has no optimum of its own: " + opt.infeasibleReason);
    }
    for (const auto& s : r.setsOfB)
        add("Run B's " + quote(s.name), "run-b", s.boundaries, "");

    out.bestA = bestOf(out.sets, false);
    out.bestB = bestOf(out.sets, true);
    return out;
}

std::string describeRunComparison(const RunComparison& rc)
{
    if (rc.sets.size() < 2)
        return {};
    const auto& current = rc.sets[0];
    const auto& tuned = rc.sets[1];
    const int onA = rank(tuned.a, current.a);
    const int onB = rank(tuned.b, current.b);
    const std::string subject = "Tuned boundaries " + spaced(tuned.a.boundaries);
    const std::string object = " the current ones " + spaced(current.a.boundaries);
    std::string s;
    if (onA == onB)
        s = subject + " " + verdictVerb(onA) + object +
            " on both runs: " + versusDetail(tuned.a, current.a) + " on run A, " +
            versusDetail(tuned.b, current.b) + " on run B.";
    else
        s = subject + " " + verdictVerb(onA) + object + " on run A (" +
            versusDetail(tuned.a, current.a) + ") but " + verdictVerb(onB) + " them on run B (" +
            versusDetail(tuned.b, current.b) + ").";

    const auto& bestA = rc.sets[rc.bestA];
    const auto& bestB = rc.sets[rc.bestB];
    const std::string n = std::to_string(rc.sets.size());
    if (rc.bestA == rc.bestB) {
        s += " Of the " + n + " sets priced, " + bestA.name + " (" + spaced(bestA.a.boundaries) +
             ") is the best on both runs.";
    } else {
        s += " The best of the " + n + " sets priced is " + bestA.name + " on run A (" +
             formatMs(bestA.a.stats.meanLatencyMs) + ") and " + bestB.name + " (" +
             spaced(bestB.b.boundaries) + ") on run B (" + formatMs(bestB.b.stats.meanLatencyMs) +
             ")";
        if (rc.bestB != 1 && bestB.b.stats.rejected == tuned.b.stats.rejected &&
            tuned.b.stats.meanLatencyMs > 0) {
            const double faster = 100.0 *
                                  (tuned.b.stats.meanLatencyMs - bestB.b.stats.meanLatencyMs) /
                                  tuned.b.stats.meanLatencyMs;
            s += ", " + pct(faster) + " faster there than the tuned set";
        }
        s += ".";
    }
    return s;
}

nlohmann::json runComparisonJson(const RunComparison& rc)
{
    json j;
    j["runs"] = {{"a", runJson(rc.a)}, {"b", runJson(rc.b)}};
    j["runs"]["b"]["same_traffic"] = rc.sameTraffic;
    j["runs"]["b"]["same_latency"] = rc.sameLatency;
    j["sets"] = json::array();
    for (const auto& s : rc.sets) {
        const auto& a = s.a.stats;
        const auto& b = s.b.stats;
        j["sets"].push_back({{"name", s.name},
                             {"origin", s.origin},
                             {"note", s.note.empty() ? json(nullptr) : json(s.note)},
                             {"boundaries", s.a.boundaries.values()},
                             {"a", pricedJson(s.a)},
                             {"b", pricedJson(s.b)},
                             {"difference",
                              {{"mean_ms", b.meanLatencyMs - a.meanLatencyMs},
                               {"p99_ms", b.p99LatencyMs - a.p99LatencyMs},
                               {"waste_points", b.wastePct - a.wastePct},
                               {"rejected_points", b.rejectedPct - a.rejectedPct}}}});
    }
    j["best"] = rc.sets.empty()
                    ? json(nullptr)
                    : json{{"a", rc.sets[rc.bestA].name}, {"b", rc.sets[rc.bestB].name}};
    j["summary"] = describeRunComparison(rc);
    j["notes"] = rc.notes;
    return j;
}

} // namespace bucketlab
