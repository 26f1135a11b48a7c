#include "app/cli/command.h"
#include "app/cli/common_options.h"
#include "app/cli/terminal_progress.h"
#include "app/cli/torch_steps.h"
#include "core/latency/latency_curve.h"
#include "core/latency/profile_format.h"
#include "core/spec/boundaries.h"
#include "core/spec/package_meta.h"
#include "core/traffic/distribution.h"
#include "core/tuning/bucket_verification.h"
#include "core/tuning/refine.h"
#include "core/tuning/tuning_report.h"
#include "core/util/error.h"
#include "core/util/format.h"
#include "core/util/output_file.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>

namespace bucketlab::cli {

namespace {

struct TuneCliOptions {
    TrafficOptions traffic;
    std::string latency;
    std::string latencyStat = "median";
    int buckets = 0;
    std::string objective = "mean";
    double bucketCost = 0;
    std::string current;
    int64_t maxLength = 0;
    std::string cover;
    bool allowReject = false;
    int64_t align = 1;
    std::string algorithm = "exact";
    int paretoMax = 0;
    std::string verify;
    std::string refine;
    int refineRounds = 8;
    std::string refinedProfile;
    bool force = false;
    ModelInputOptions in;
    MeasureOptions measure;
    double verifyBudget = 20;
    double verifyTolerance = 5;
    bool json = false;
};

TuneSettings parseSettings(const TuneCliOptions& o)
{
    TuneSettings s;
    s.buckets = o.buckets;
    s.bucketCost = o.bucketCost;
    s.align = o.align;
    if (o.objective == "mean")
        s.objective = TuneObjective::MeanLatency;
    else if (o.objective == "tokens")
        s.objective = TuneObjective::PaddedTokens;
    else if (o.objective.rfind("p99:", 0) == 0) {
        s.objective = TuneObjective::MeanLatencyP99Budget;
        const std::string v = o.objective.substr(4);
        char* end = nullptr;
        s.p99BudgetMs = std::strtod(v.c_str(), &end);
        if (v.empty() || end != v.c_str() + v.size() || !std::isfinite(s.p99BudgetMs) ||
            s.p99BudgetMs <= 0)
            throw Error("--objective p99:MS needs a positive budget in ms, got '" + v + "'");
    } else
        throw Error("--objective must be mean, tokens or p99:MS, got '" + o.objective + "'");
    if (o.algorithm == "exact")
        s.algorithm = TuneAlgorithm::Exact;
    else if (o.algorithm == "naive")
        s.algorithm = TuneAlgorithm::Naive;
    else
        throw Error("--algorithm must be exact or naive, got '" + o.algorithm + "'");
    return s;
}

std::string fmt(const char* format, double v)
{
    char buf[64];
    std::snprintf(buf, sizeof buf, format, v);
    return buf;
}

void printEvaluationLine(const char* label, const Evaluation& e, const std::string& extra)
{
    const auto& s = e.stats;
    std::printf("  %-16s %-28s %9.4g %9.4g %7.2f%% %8.2f%%  %s\n", label,
                e.boundaries.str().c_str(), s.meanLatencyMs, s.p99LatencyMs, s.wastePct,
                s.rejectedPct, extra.c_str());
}

void printText(const TuningReport& r)
{
    const auto& h = r.histogram;
    std::printf(
        "traffic    %s: %lld requests, %zu distinct lengths %lld..%lld (p50 %lld, p99 %lld)\n",
        r.distributionSource.c_str(), (long long)h.total(), h.distinct(), (long long)h.minLength(),
        (long long)h.maxLength(), (long long)h.quantile(0.5), (long long)h.quantile(0.99));
    std::string objective = r.settings.objective == TuneObjective::PaddedTokens
                                ? "padded tokens per request"
                                : "mean latency";
    if (r.settings.objective == TuneObjective::MeanLatencyP99Budget)
        objective += " with p99 <= " + fmt("%.4g", r.settings.p99BudgetMs) + " ms";
    if (r.settings.align > 1)
        objective += ", boundaries multiples of " + std::to_string(r.settings.align);
    std::printf("objective  %s, %s%d buckets%s (%s, solved in %.3g ms)\n", objective.c_str(),
                r.settings.bucketCost > 0 ? "at most " : "", r.settings.buckets,
                r.settings.bucketCost > 0
                    ? (", " + fmt("%.4g", r.settings.bucketCost) + " per bucket").c_str()
                    : "",
                r.settings.algorithm == TuneAlgorithm::Exact ? "exact" : "naive",
                r.solution.solveMs);
    if (!r.solution.feasible) {
        std::printf("\ninfeasible: %s\n", r.solution.infeasibleReason.c_str());
    } else {
        std::printf("\ntuned boundaries %s\n", r.solution.boundaries.str().c_str());
        std::printf("  %8s  %-17s %8s %8s %10s %8s\n", "bucket", "lengths", "traffic", "waste",
                    "latency", "share");
        for (const auto& b : r.evaluation.buckets)
            std::printf(
                "  %8lld  %-17s %7.2f%% %7.2f%% %7.4g ms %7.2f%%%s\n", (long long)b.boundary,
                (std::to_string(b.firstLength) + "-" + std::to_string(b.lastLength)).c_str(),
                b.trafficPct, b.wastePct, b.latencyMs, b.latencySharePct,
                b.extrapolated ? "  (extrapolated)" : "");
        const auto& s = r.evaluation.stats;
        std::printf("  mean %.4g ms  p50 %.4g  p90 %.4g  p99 %.4g ms  %.4g req/s  waste %.2f%%  "
                    "rejected %.2f%%\n",
                    s.meanLatencyMs, s.p50LatencyMs, s.p90LatencyMs, s.p99LatencyMs,
                    s.requestsPerSecond, s.wastePct, s.rejectedPct);
        std::printf("  %s %s\n",
                    r.range.shrinks() ? "SERVED RANGE SHRINKS: the tuned set" : "the tuned set",
                    r.range.describe().c_str());
        if (r.range.refuses())
            std::printf("  (exit 1: pass --allow-reject to accept it, or keep --cover current)\n");
    }
    std::printf("\n  %-16s %-28s %9s %9s %8s %9s  %s\n", "baseline", "boundaries", "mean ms",
                "p99 ms", "waste", "rejected", "tuned is better by");
    if (r.solution.feasible)
        printEvaluationLine("tuned", r.evaluation, "");
    for (const auto& b : r.baselines) {
        std::string extra = r.solution.feasible ? fmt("%.2f%%", b.tunedGainPct) : "";
        if (r.settings.objective == TuneObjective::MeanLatencyP99Budget && !b.meetsP99Budget)
            extra += " (misses the p99 budget)";
        if (!b.note.empty())
            extra += " (" + b.note + ")";
        printEvaluationLine(b.name.c_str(), b.evaluation, extra);
    }
    if (!r.pareto.empty()) {
        std::printf("\npareto (optimal %s by bucket count)\n",
                    r.settings.objective == TuneObjective::PaddedTokens ? "padded tokens/request"
                                                                        : "mean latency");
        for (const auto& p : r.pareto) {
            if (!p.solution.feasible) {
                std::printf("  %3d  infeasible\n", p.buckets);
                continue;
            }
            std::printf("  %3d  %10.5g  %s%s\n", p.buckets, p.solution.objective,
                        p.solution.boundaries.str().c_str(), p.knee ? "   <- knee" : "");
        }
    }
    for (const auto& n : r.notes)
        std::printf("note: %s\n", n.c_str());
}

void printVerification(const BucketVerification& v, const PredictionCheck& c,
                       const std::string& model)
{
    std::printf("\nverify     %s on %s, %d thread%s: each tuned bucket measured, weighted by its "
                "traffic\n",
                model.c_str(), v.profile.deviceKind.c_str(), v.profile.threads,
                v.profile.threads == 1 ? "" : "s");
    std::printf("  %8s %8s %10s %21s %8s  %s\n", "bucket", "traffic", "p50", "95% CI", "samples",
                "flags");
    for (const auto& b : v.buckets) {
        std::string flags;
        for (const auto& f : b.point.flags)
            flags += (flags.empty() ? "" : ",") + f;
        std::printf("  %8lld %7.2f%% %7.4g ms %9.4g-%-8.4g ms %8lld  %s\n", (long long)b.boundary,
                    b.share * 100, b.point.p50Ms, b.point.ci95LowMs, b.point.ci95HighMs,
                    (long long)b.point.samples, flags.c_str());
    }
    if (c.scaledToReference) {
        std::printf("  the machine now runs %.3gx the time of the curve's measurement (median over "
                    "lengths",
                    c.conditionsRatio);
        for (const auto& r : v.references)
            std::printf(" %lld: %.4g -> %.4g ms", (long long)r.length, r.thenMs, r.nowMs);
        std::printf("); measured figures are scaled back by it\n");
    }
    std::printf("  predicted mean %.4g ms, measured %.4g ms (95%% CI %.4g-%.4g): error %+.2f%%, "
                "%s the %.3g %% tolerance\n",
                c.predictedMs, c.measuredMs, c.measuredLowMs, c.measuredHighMs, c.errorPct,
                c.beyondTolerance ? "BEYOND" : "within", c.tolerancePct);
}

void printRound(const RefineRound& r)
{
    std::printf("round %d   %-24s predicted %.4g ms", r.round, r.boundaries.str().c_str(),
                r.predictedMs);
    if (!r.measuredNow.empty())
        std::printf(", measured %s (now %.3gx the profile's time)",
                    formatLengths(r.measuredNow).c_str(), r.conditionsRatio);
    else
        std::printf(", every boundary measured");
    std::printf("\n");
    std::fflush(stdout);
}

void printRefinement(const RefineResult& r, const std::string& model)
{
    if (r.converged)
        std::printf("\nrefined    on %s: converged in %zu rounds; every boundary serving "
                    "traffic is a measured length (%zu lengths measured)\n",
                    model.c_str(), r.rounds.size(), r.measuredLengths.size());
    else
        std::printf("\nrefined    on %s: NOT converged, stopped at the cap of %d rounds (raise "
                    "--refine-rounds)\n",
                    model.c_str(), r.maxRounds);
    const auto& c = r.check;
    std::printf("  predicted mean %.4g ms (95%% CI %.4g-%.4g), measured %.4g ms (95%% CI "
                "%.4g-%.4g): error %+.2f%%, %s the %.3g %% tolerance\n",
                r.predictedMs, r.predictedLowMs, r.predictedHighMs, c.measuredMs, c.measuredLowMs,
                c.measuredHighMs, c.errorPct, c.beyondTolerance ? "BEYOND" : "within",
                c.tolerancePct);
    std::printf("  (the prediction prices the boundaries from fresh samples, %s; the rounds' own "
                "estimate, from the samples that chose them, was %.4g ms: %+.2f%%)\n",
                r.splitRun ? "alternate sampling rounds of the measuring run"
                           : "a run of its own before the measurement's",
                r.loopPredictedMs, r.loopErrorPct);
}

// How --verify and --refine measure: the model's inputs and the measurement settings.
void setMeasurement(BucketVerificationRequest& r, const TuneCliOptions& o)
{
    if (!o.in.inputs.empty())
        r.inputs = parseInputSpecs(o.in.inputs);
    r.bucketDim = o.in.bucketDim;
    r.batchDim = o.in.batchDim;
    r.threads = o.measure.threads;
    r.clock = o.measure.profileClock();
    r.device = o.measure.deviceKind();
    r.budgetS = o.verifyBudget;
}

int runRefine(const TuneCliOptions& o, const BucketEvaluator& evaluator,
              const TuningRequest& tuning, LatencyStatistic stat)
{
    if (o.refineRounds < 1 || o.refineRounds > 100)
        throw Error("--refine-rounds must be between 1 and 100, got " +
                    std::to_string(o.refineRounds));
    if (LatencyCurve::looksLikeSpec(o.latency))
        throw Error("--refine adds measurements to a measured profile; give --latency a profile "
                    "(bucketlab.profile/1 JSON or CSV), not an analytic curve");
    if (!o.refinedProfile.empty())
        checkOutputPath(o.refinedProfile,
                        OutputCheck{o.force, {o.latency, o.traffic.source, o.refine}});
    const Profile start = readProfile(o.latency);
    BucketVerificationRequest settings;
    settings.model = o.refine;
    setMeasurement(settings, o);
    RefineRequest request;
    request.tuning = tuning;
    request.statistic = stat;
    request.maxRounds = o.refineRounds;
    request.tolerancePct = o.verifyTolerance;
    const RefineResult r =
        refineTuning(evaluator.histogram(), evaluator.maxLength(), start, o.latency, request,
                     measurerWithTorch(settings), terminalJob(),
                     o.json ? RefineObserver() : RefineObserver(printRound));
    if (!o.refinedProfile.empty())
        writeProfile(o.refinedProfile, r.profile, o.force);
    const bool refused = r.report.range.refuses() && !o.allowReject;
    if (o.json) {
        auto j = r.report.toJson();
        j["refine"] = r.toJson();
        j["refine"]["model"] = o.refine;
        j["refine"]["refined_profile"] =
            o.refinedProfile.empty() ? nlohmann::json(nullptr) : nlohmann::json(o.refinedProfile);
        printJson(j);
    } else {
        std::printf("\n");
        printText(r.report);
        if (r.report.solution.feasible)
            printRefinement(r, o.refine);
        if (!o.refinedProfile.empty())
            std::printf("wrote %s\n", o.refinedProfile.c_str());
    }
    if (!r.report.solution.feasible)
        return 1;
    return r.check.beyondTolerance || refused ? 1 : 0;
}

void addTuneOptions(CLI::App* sub, TuneCliOptions& o)
{
    addTrafficOptions(sub, o.traffic, {});
    sub->add_option("--latency", o.latency,
                    "Latency per bucket length: a profile (bucketlab.profile/1 JSON or CSV "
                    "length,latency_ms) or linear:a,b / poly:c0,c1,c2 (ms)")
        ->required();
    sub->add_option("--latency-stat", o.latencyStat, "Profile statistic per point: median or mean")
        ->capture_default_str();
    sub->add_option("--buckets", o.buckets, "Number of buckets K (the most, with --bucket-cost)")
        ->required();
    sub->add_option("--objective", o.objective,
                    "mean (latency), tokens (padded tokens), or p99:MS (mean latency with p99 "
                    "latency <= MS)")
        ->capture_default_str();
    sub->add_option("--bucket-cost", o.bucketCost,
                    "Cost added per bucket, in the objective's unit per request (ms; tokens "
                    "for --objective tokens): trades buckets for latency")
        ->capture_default_str();
    sub->add_option("--current", o.current, "Your current boundaries, compared as a baseline");
    sub->add_option("--max-length", o.maxLength,
                    "Longest length the model accepts: longer traffic is rejected, no bucket "
                    "above it");
    sub->add_option("--cover", o.cover,
                    "Serve up to: the tuned set's largest bucket. current (default: the largest "
                    "of --current, so nothing served today is refused), traffic (the longest "
                    "request seen) or a length N");
    sub->add_option("--align", o.align,
                    "Every boundary a multiple of N (e.g. 128, Neuron's tile width), except the "
                    "--cover length and --max-length; the optimum under that constraint")
        ->capture_default_str();
    sub->add_flag("--allow-reject", o.allowReject,
                  "Accept a tuned set that refuses requests --current serves (exit 0, not 1)");
    sub->add_option("--algorithm", o.algorithm,
                    "exact (divide-and-conquer DP) or naive (O(K N^2) reference)")
        ->capture_default_str();
    sub->add_option("--pareto-max", o.paretoMax,
                    "Largest bucket count in the Pareto sweep (default max(K, 8))");
    sub->add_option("--verify", o.verify,
                    "After tuning, measure the tuned buckets on this model or package and "
                    "compare the measured mean latency with the prediction");
    auto* refine = sub->add_option(
        "--refine", o.refine,
        "Tune with measurements in the loop on this model or package: measure the tuned "
        "boundaries and the lengths next to them, add them to the --latency profile, tune "
        "again until every boundary is measured and the set stops changing; then measure the "
        "result against its prediction");
    refine->excludes(sub->get_option("--verify"));
    sub->add_option("--refine-rounds", o.refineRounds, "With --refine: the most tuning rounds")
        ->capture_default_str();
    sub->add_option("--refined-profile", o.refinedProfile,
                    "With --refine: write the --latency profile with every refinement "
                    "measurement added (bucketlab.profile/1 JSON, in the profile's conditions)");
    addForceFlag(sub, o.force, "--refined-profile");
    addModelInputOptions(sub, o.in, {"With --verify/--refine on a plain model: "});
    addMeasureOptions(sub, o.measure, "With --verify/--refine: ");
    sub->add_option("--verify-budget", o.verifyBudget,
                    "With --verify/--refine: seconds per measuring run (--refine: each round's "
                    "and the final check's)")
        ->capture_default_str();
    sub->add_option("--verify-tolerance", o.verifyTolerance,
                    "With --verify/--refine: largest acceptable prediction error, in %")
        ->capture_default_str();
    addJsonFlag(sub, o.json);
    sub->footer("Exit status: 0 tuned, 1 the p99 budget cannot be met (infeasible), the tuned "
                "set refuses requests --current serves (without --allow-reject) or the "
                "verified (or refined) prediction is off by more than the tolerance, 2 bad "
                "input.\nExamples:\n  bucketlab-cli tune --distribution traffic.csv --latency "
                "profile.json --buckets 4 --current 128,256,512\n  bucketlab-cli tune "
                "--distribution traffic.csv --latency profile.json --buckets 4 --current 128,512 "
                "--refine model.bucketed.pt");
}

// --verify: measures the tuned buckets and compares the measured mean with the prediction.
int runVerify(const TuneCliOptions& o, const BucketEvaluator& evaluator, const TuningReport& report,
              bool refused)
{
    BucketVerificationRequest vr = verificationRequestFor(report.evaluation, evaluator.curve());
    vr.model = o.verify;
    setMeasurement(vr, o);
    const BucketVerification measured = measureWithTorch(vr, terminalJob());
    const PredictionCheck check =
        checkPrediction(report.evaluation.stats.meanLatencyMs, measured, o.verifyTolerance);
    if (o.json) {
        auto j = report.toJson();
        j["verification"] = verificationJson(measured, check);
        j["verification"]["model"] = o.verify;
        printJson(j);
    } else {
        printText(report);
        printVerification(measured, check, o.verify);
    }
    return check.beyondTolerance || refused ? 1 : 0;
}

int runTune(const TuneCliOptions& o, const CLI::App& sub)
{
    TuneSettings settings = parseSettings(o);
    // Given means given: an empty list or a zero length is a mistake, not "none".
    if (sub.count("--max-length") > 0 && o.maxLength <= 0)
        throw Error("--max-length must be positive, got " + std::to_string(o.maxLength));
    if (sub.count("--current") > 0 && o.current.empty())
        throw Error("--current is empty: give the current boundaries, e.g. 128,512, "
                    "or leave the option out");
    const ServeUpTo serveUpTo = ServeUpTo::parse(o.cover);
    const int64_t maxLength = o.maxLength;
    if (o.paretoMax < 0)
        throw Error("--pareto-max must be positive");
    Boundaries current;
    if (!o.current.empty())
        current = Boundaries::parse(o.current, Field::CurrentBoundaries);
    const LatencyStatistic stat = parseLatencyStatistic(o.latencyStat);
    LengthHistogram histogram = loadDistribution(o.traffic.source, o.traffic.read);
    LatencyCurve curve = LatencyCurve::load(o.latency, stat);
    const BucketEvaluator evaluator(std::move(histogram), std::move(curve), maxLength);
    TuningRequest request;
    request.settings = settings;
    request.serveUpTo = serveUpTo;
    request.current = current;
    request.paretoMax = o.paretoMax;
    request.distributionSource = o.traffic.source;
    const bool measures = !o.verify.empty() || !o.refine.empty();
    if (measures && (o.verifyBudget <= 0 || o.measure.threads < 1))
        throw Error("--verify-budget must be positive and --threads at least 1");
    if (!o.refine.empty())
        return runRefine(o, evaluator, request, stat);
    const TuningReport report = tuneAndCompare(evaluator, request);
    // Refusing requests the current set serves is a failure unless accepted.
    const bool refused = report.range.refuses() && !o.allowReject;
    if (o.verify.empty() || !report.solution.feasible) {
        if (o.json)
            printJson(report.toJson());
        else
            printText(report);
        return report.solution.feasible && !refused ? 0 : 1;
    }
    return runVerify(o, evaluator, report, refused);
}

} // namespace

Command addTuneCommand(CLI::App& app)
{
    auto o = std::make_shared<TuneCliOptions>();
    auto* sub = app.add_subcommand("tune", commandSummary("tune"));
    addTuneOptions(sub, *o);
    return {sub,
            [o, sub] { return runTune(*o, *sub); },
            {},
            [o] {
                return !o->verify.empty() || !o->refine.empty();
            }};
}

} // namespace bucketlab::cli
