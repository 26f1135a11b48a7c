#include "app/cli/command.h"
#include "app/cli/common_options.h"
#include "app/cli/llm_options.h"
#include "core/latency/latency_curve.h"
#include "core/llm/compile_cost.h"
#include "core/llm/decode_batches.h"
#include "core/llm/llm_tuner.h"
#include "core/llm/request_traffic.h"
#include "core/llm/serving_config.h"
#include "core/spec/boundaries.h"
#include "core/util/error.h"
#include "core/util/format.h"
#include "core/util/output_file.h"
#include "core/util/text.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>

namespace bucketlab::cli {

namespace {

struct LlmCliOptions {
    LlmTrafficOptions in;
    int buckets = 0;
    std::string objective = "mean";
    double compileBudget = 0;
    double memoryBudget = 0;
    std::string currentCte, currentTkg, currentBatches;
    int64_t maxBatch = 0;
    std::string decodeLog;
    std::string tkgBatchLatency;
    int batchSetsMax = 256;
    uint64_t seed = 1;
    std::string nxdConfig, vllmConfig, vllmNeuronConfig;
    bool force = false;
    bool json = false;
};

bool isFile(const std::string& path)
{
    std::error_code ec;
    return !path.empty() && std::filesystem::exists(path, ec);
}

// Writes a config only after reading the written bytes back and passing the rules, so a
// file on disk has always passed them.
void writeChecked(const std::string& path, const std::string& bytes, bool force,
                  const std::function<std::vector<ConfigViolation>(const std::string&)>& check)
{
    StagedOutput staged(path, bytes);
    requireNoViolations(check(readFile(staged.readPath(), kMaxSourceBytes, "a written config")),
                        path);
    staged.commit(force);
}

void printSummary(const char* label, const MarginalSummary& s)
{
    std::printf("  %-7s min %lld  mean %.1f  p50 %lld  p90 %lld  p99 %lld  max %lld tokens\n",
                label, (long long)s.min, s.mean, (long long)s.p50, (long long)s.p90,
                (long long)s.p99, (long long)s.max);
}

void printPhase(const char* title, const std::vector<PhaseBucketStats>& stats, bool batched)
{
    std::printf("  %s\n", title);
    if (batched)
        std::printf("    %8s %6s %12s %8s %11s %8s\n", "bucket", "batch", "calls", "calls %",
                    "latency", "time %");
    else
        std::printf("    %8s %12s %8s %11s %8s\n", "bucket", "calls", "calls %", "latency",
                    "time %");
    for (const auto& s : stats) {
        std::printf("    %8lld", (long long)s.bucket);
        if (batched)
            std::printf(" %6lld", (long long)s.batch);
        std::printf(" %12lld %7.2f%% %8.4g ms %7.2f%%%s\n", (long long)s.calls, s.callPct,
                    s.latencyMs, s.timePct, s.extrapolated ? "  (extrapolated)" : "");
    }
}

// What was tuned: the traffic, its workload, the latency curves and the objective.
void printInputs(const LlmTuneResult& r, const LlmCliOptions& o, const RequestTraffic& traffic,
                 const LlmCosts& costs)
{
    std::printf("traffic    %s: %s requests, %s distinct (prompt, output) pairs\n",
                o.in.traffic.c_str(), formatCount(traffic.requests()).c_str(),
                formatCount(int64_t(traffic.pairs().size())).c_str());
    printSummary("prompt", traffic.promptSummary());
    printSummary("output", traffic.outputSummary());
    const auto& w = r.workload;
    std::printf("workload   %s served, %s rejected (prompt > %lld), %s cut at seq_len %lld: "
                "%s CTE calls, %s TKG steps\n",
                formatCount(w.served).c_str(), formatCount(w.rejected).c_str(),
                (long long)r.settings.limits.maxContextLength, formatCount(w.truncated).c_str(),
                (long long)r.settings.limits.seqLen, formatCount(w.served).c_str(),
                formatCount(w.tkgSteps).c_str());
    if (r.batched)
        std::printf("decode     %s: %lld calls, mean batch %.2f, max %lld\n",
                    r.calls.source().c_str(), (long long)r.calls.totalCalls(), r.calls.meanBatch(),
                    (long long)r.calls.maxBatch());
    std::printf("latency    CTE %s; TKG %s%s\n", costs.cte.describe().c_str(),
                costs.tkg.describe().c_str(),
                r.batched ? ("; batched " + costs.tkgBatch.describe()).c_str() : "");
    std::string objective = "mean request latency (TTFT + decode)";
    if (r.settings.objective == LlmObjective::MeanRequestTtftP99)
        objective += " with TTFT p99 <= " + formatMs(r.settings.ttftP99BudgetMs);
    std::printf(
        "objective  %s, at most %d compiled models%s (solved in %.3g ms)\n", objective.c_str(),
        r.settings.totalBuckets,
        r.settings.compileBudgetS > 0
            ? (", compile budget " + std::to_string(int64_t(r.settings.compileBudgetS)) + " s")
                  .c_str()
            : "",
        r.solveMs);
    std::printf("           %s\n", r.exactness.c_str());
}

// The tuned lists and their figures, or why there are none.
void printBest(const LlmTuneResult& r, const LlmCosts& costs)
{
    if (!r.feasible) {
        std::printf("\ninfeasible: %s\n", r.infeasibleReason.c_str());
    } else {
        const auto& e = r.best;
        std::printf("\ntuned      CTE %s | TKG %s%s\n", formatLengths(e.lists.cte).c_str(),
                    formatLengths(e.lists.tkg).c_str(),
                    r.batched ? (" x batches " + formatLengths(e.lists.batches)).c_str() : "");
        std::printf("  mean request %s = TTFT %s + decode %s; TTFT p50 %s, p90 %s, p99 %s\n",
                    formatMs(e.meanRequestMs).c_str(), formatMs(e.meanTtftMs).c_str(),
                    formatMs(e.meanDecodeMs).c_str(), formatMs(e.p50TtftMs).c_str(),
                    formatMs(e.p90TtftMs).c_str(), formatMs(e.p99TtftMs).c_str());
        std::printf("  %d compiled models", e.models);
        if (costs.cteCompile.known() || costs.tkgCompile.known())
            std::printf(", compile %.0f s", e.compileS);
        if (e.memoryMiB > 0)
            std::printf(", memory %.0f MiB", e.memoryMiB);
        if (r.batched)
            std::printf("; lower bound %.4g ms", r.lowerBoundMs);
        std::printf("\n");
        printPhase("CTE buckets (prefill, by prompt length)", e.cte, false);
        printPhase("TKG buckets (decode steps, by position)", e.tkg, r.batched);
    }
}

// The tuned lists against each baseline.
void printBaselines(const LlmTuneResult& r)
{
    std::printf("\n  %-14s %7s %12s %12s %14s %8s  %s\n", "baseline", "models", "mean ms",
                "TTFT p99", "tuned, same", "gain", "lists");
    if (r.feasible)
        std::printf("  %-14s %7d %12.5g %12.5g %14s %8s  %s | %s%s\n", "tuned", r.best.models,
                    r.best.meanRequestMs, r.best.p99TtftMs, "", "",
                    formatLengths(r.best.lists.cte).c_str(),
                    formatLengths(r.best.lists.tkg).c_str(),
                    r.batched ? (" x batches " + formatLengths(r.best.lists.batches)).c_str() : "");
    for (const auto& b : r.baselines) {
        std::string gain;
        if (b.tunedSameModelsMs >= 0 && b.evaluation.meanRequestMs > 0)
            gain = formatPercent(100.0 * (b.evaluation.meanRequestMs - b.tunedSameModelsMs) /
                                     b.evaluation.meanRequestMs,
                                 2);
        const std::string same =
            b.tunedSameModelsMs >= 0 ? formatNumber(b.tunedSameModelsMs, 2) : std::string("-");
        std::printf("  %-14s %7d %12.5g %12.5g %14s %8s  %s | %s%s%s%s\n", b.name.c_str(),
                    b.evaluation.models, b.evaluation.meanRequestMs, b.evaluation.p99TtftMs,
                    same.c_str(), gain.c_str(), formatLengths(b.evaluation.lists.cte).c_str(),
                    formatLengths(b.evaluation.lists.tkg).c_str(),
                    r.batched ? (" x batches " + (b.evaluation.lists.batches.empty()
                                                      ? std::string("none (padded to the maximum)")
                                                      : formatLengths(b.evaluation.lists.batches)))
                                    .c_str()
                              : "",
                    b.meetsTtftBudget ? "" : "  (misses the TTFT budget)",
                    b.note.empty() ? "" : ("  (" + b.note + ")").c_str());
    }
}

void printText(const LlmTuneResult& r, const LlmCliOptions& o, const RequestTraffic& traffic,
               const LlmCosts& costs, const std::vector<std::string>& written,
               const std::vector<std::pair<std::string, ConfigViolation>>& checks)
{
    printInputs(r, o, traffic, costs);
    printBest(r, costs);
    printBaselines(r);
    if (!r.paretoByModels.empty()) {
        std::printf("\npareto     best mean request latency with at most N models (CTE + TKG)\n");
        for (const auto& p : r.paretoByModels)
            std::printf(
                "  %3d  %2d + %-3d %10.5g ms%s\n", p.models, p.cteModels, p.tkgModels,
                p.meanRequestMs,
                (costs.cteCompile.known() || costs.tkgCompile.known())
                    ? ("   compile " + std::to_string(int64_t(std::llround(p.compileS))) + " s")
                          .c_str()
                    : "");
    }
    for (const auto& [list, v] : checks)
        std::printf("\ncheck      %s lists break rule %s: %s\n", list.c_str(), v.rule.c_str(),
                    v.message.c_str());
    for (const auto& path : written)
        std::printf("\nwrote      %s", path.c_str());
    if (!written.empty())
        std::printf("\n");
    if (r.feasible)
        std::printf("\nvLLM       vllm serve MODEL --max-model-len %lld --max-num-seqs %lld "
                    "--additional-config \"$(cat %s)\"\n",
                    (long long)r.settings.limits.seqLen,
                    (long long)(r.batched ? r.best.lists.batches.largest() : 1),
                    o.vllmConfig.empty() ? "VLLM_CONFIG.json" : o.vllmConfig.c_str());
    for (const auto& n : r.notes)
        std::printf("note: %s\n", n.c_str());
}

// The tuner's settings from the options, each checked (bad usage before any work).
LlmTuneSettings tuneSettings(const LlmCliOptions& o, bool batched)
{
    LlmTuneSettings settings;
    settings.limits = {o.in.maxContextLength, o.in.seqLen, o.in.speculationLength};
    checkServingLimits(settings.limits);
    if (o.buckets < 2)
        throw Error("--buckets must be at least 2 (one CTE and one TKG bucket), got " +
                    std::to_string(o.buckets));
    if (o.maxBatch < 0)
        throw Error("--max-batch must be positive");
    if (o.maxBatch > 0 && !o.decodeLog.empty())
        throw Error("give --max-batch (a serving model) or --decode-log, not both");
    if (batched && o.tkgBatchLatency.empty())
        throw Error("batch buckets (--max-batch or --decode-log) need "
                    "--tkg-batch-latency");
    if (!batched && (!o.tkgBatchLatency.empty() || !o.currentBatches.empty()))
        throw Error("--tkg-batch-latency and --current-batches need --max-batch or "
                    "--decode-log");
    if (batched && o.in.speculationLength > 0)
        throw Error("--speculation-length cannot be combined with batch buckets "
                    "(NxD rule: token_generation_batches is not supported with "
                    "speculation)");
    settings.totalBuckets = o.buckets;
    settings.compileBudgetS = o.compileBudget;
    settings.memoryBudgetMiB = o.memoryBudget;
    settings.maxBatch = o.maxBatch;
    settings.maxBatchSets = o.batchSetsMax;
    if (o.objective == "mean")
        settings.objective = LlmObjective::MeanRequest;
    else if (o.objective.rfind("ttft-p99:", 0) == 0) {
        settings.objective = LlmObjective::MeanRequestTtftP99;
        const std::string v = o.objective.substr(9);
        char* end = nullptr;
        settings.ttftP99BudgetMs = std::strtod(v.c_str(), &end);
        if (v.empty() || end != v.c_str() + v.size() || !std::isfinite(settings.ttftP99BudgetMs) ||
            settings.ttftP99BudgetMs <= 0)
            throw Error("--objective ttft-p99:MS needs a positive budget in ms, got " + quote(v));
    } else
        throw Error("--objective must be mean or ttft-p99:MS, got " + quote(o.objective));
    parseLatencyStatistic(o.in.latencyStat); // a bad name is bad usage, before any work
    return settings;
}

// The current lists given (--current-cte, --current-tkg, --current-batches).
LlmBucketLists currentLists(const LlmCliOptions& o)
{
    LlmBucketLists current;
    if (!o.currentCte.empty())
        current.cte = Boundaries::parse(o.currentCte, Field::CurrentCteBuckets);
    if (!o.currentTkg.empty())
        current.tkg = Boundaries::parse(o.currentTkg, Field::CurrentTkgBuckets);
    if (!o.currentBatches.empty())
        current.batches = Boundaries::parse(o.currentBatches, Field::CurrentTkgBatches);
    return current;
}

// Outputs are checked before any work: never an input, never replaced without --force, no
// two the same file.
void checkConfigOutputs(const LlmCliOptions& o)
{
    OutputCheck outCheck;
    outCheck.force = o.force;
    outCheck.inputs = o.in.inputFiles();
    for (const auto& in : {o.decodeLog, o.tkgBatchLatency})
        if (isFile(in))
            outCheck.inputs.push_back(in);
    const std::pair<Field, const std::string*> outputs[] = {
        {Field::NxdConfig, &o.nxdConfig},
        {Field::VllmConfig, &o.vllmConfig},
        {Field::VllmNeuronConfig, &o.vllmNeuronConfig}};
    for (const auto& [field, path] : outputs) {
        if (path->empty())
            continue;
        checkOutputPath(*path, outCheck, field);
        for (const auto& [other, otherPath] : outputs)
            if (other != field && !otherPath->empty() && sameFile(*path, *otherPath))
                throw Error(subject(field) + " and " + subject(other) + " name the same file");
    }
}

// The decode calls batch buckets are tuned for: from a server log or simulated.
DecodeCalls decodeCalls(const LlmCliOptions& o, const RequestTraffic& traffic,
                        const LlmTuneSettings& settings, LlmCosts& costs)
{
    DecodeCalls calls;
    costs.tkgBatch = forField(Field::TkgBatchLatency,
                              [&] { return BatchLatency::load(o.tkgBatchLatency, costs.tkg); });
    if (!o.decodeLog.empty())
        calls = forField(Field::DecodeLog, [&] { return readDecodeLog(o.decodeLog); });
    else
        calls = simulateContinuousBatching(traffic, settings.limits, o.maxBatch, o.seed);
    if (calls.empty())
        throw Error("no request decodes more than one token: nothing to batch");
    return calls;
}

// The current lists against NxD's rules: a failed check, not bad input.
std::vector<std::pair<std::string, ConfigViolation>> checkCurrentLists(const LlmTuneResult& r,
                                                                       const LlmCliOptions& o,
                                                                       bool batched,
                                                                       const DecodeCalls& calls)
{
    std::vector<std::pair<std::string, ConfigViolation>> checks;
    for (const auto& b : r.baselines) {
        if (b.name != "current")
            continue;
        NxdBucketConfig c;
        c.contextEncodingBuckets = b.evaluation.lists.cte;
        c.tokenGenerationBuckets = b.evaluation.lists.tkg;
        c.tokenGenerationBatches = b.evaluation.lists.batches;
        c.maxContextLength = o.in.maxContextLength;
        c.seqLen = o.in.seqLen;
        c.batchSize = batched ? (o.maxBatch > 0 ? o.maxBatch : calls.maxBatch()) : 0;
        c.speculationLength = o.in.speculationLength;
        for (const auto& v : checkNxdConfig(c))
            checks.emplace_back("current", v);
    }

    return checks;
}

// The configs asked for, each checked against its rules once written; what was written.
std::vector<std::string> writeConfigs(const LlmTuneResult& r, const LlmCliOptions& o)
{
    std::vector<std::string> written;
    if (!r.feasible)
        return written;
    NxdBucketConfig c;
    c.contextEncodingBuckets = r.best.lists.cte;
    c.tokenGenerationBuckets = r.best.lists.tkg;
    c.tokenGenerationBatches = r.best.lists.batches;
    c.maxContextLength = o.in.maxContextLength;
    c.seqLen = o.in.seqLen;
    c.speculationLength = o.in.speculationLength;
    const int64_t maxSeqs = r.best.lists.batches.empty() ? 1 : r.best.lists.batches.largest();
    c.batchSize = r.best.lists.batches.empty() ? 0 : maxSeqs;
    const VllmServeSettings vllm{o.in.seqLen, maxSeqs, o.in.maxContextLength};
    if (!o.nxdConfig.empty()) {
        writeChecked(o.nxdConfig, nxdNeuronConfigJson(c), o.force, [&](const std::string& text) {
            return checkNxdConfig(nxdConfigFromJson(text, o.nxdConfig));
        });
        written.push_back(o.nxdConfig + " (NxD Inference NeuronConfig fragment)");
    }
    if (!o.vllmConfig.empty()) {
        NxdBucketConfig v = c;
        v.batchSize = 0; // the plugin sets batch_size from --max-num-seqs
        writeChecked(o.vllmConfig, vllmOverrideJson(v), o.force, [&](const std::string& text) {
            NxdBucketConfig back = nxdConfigFromJson(text, o.vllmConfig);
            back.batchSize = vllm.maxNumSeqs;
            return checkVllmOverride(back, vllm);
        });
        written.push_back(o.vllmConfig + " (vLLM --additional-config, override_neuron_config)");
    }
    if (!o.vllmNeuronConfig.empty()) {
        const VllmNeuronBuckets b{r.best.lists.cte, r.best.lists.batches.empty()
                                                        ? std::vector<int64_t>{1}
                                                        : r.best.lists.batches};
        writeChecked(o.vllmNeuronConfig, vllmNeuronPluginJson(b), o.force,
                     [&](const std::string& text) {
                         return checkVllmNeuronPlugin(
                             vllmNeuronPluginFromJson(text, o.vllmNeuronConfig), vllm);
                     });
        written.push_back(o.vllmNeuronConfig +
                          " (vLLM Neuron plugin --additional-config; run with "
                          "--max-num-batched-tokens " +
                          std::to_string(o.in.maxContextLength) + " --max-num-seqs " +
                          std::to_string(maxSeqs) + ")");
    }
    return written;
}

nlohmann::json llmJson(const LlmTuneResult& r, const LlmCliOptions& o,
                       const RequestTraffic& traffic, const LlmCosts& costs, bool batched,
                       const std::vector<std::pair<std::string, ConfigViolation>>& checks)
{
    auto j = r.toJson();
    j["traffic"] = {{"source", o.in.traffic},
                    {"requests", traffic.requests()},
                    {"distinct_pairs", traffic.pairs().size()}};
    for (const auto& [key, s] : {std::pair{"prompt", traffic.promptSummary()},
                                 std::pair{"output", traffic.outputSummary()}})
        j["traffic"][key] = {{"min", s.min}, {"mean", s.mean}, {"p50", s.p50},
                             {"p90", s.p90}, {"p99", s.p99},   {"max", s.max}};
    j["latency"] = {{"cte", costs.cte.describe()},
                    {"tkg", costs.tkg.describe()},
                    {"tkg_batch", batched ? nlohmann::json(costs.tkgBatch.describe())
                                          : nlohmann::json(nullptr)}};
    j["checks"] = nlohmann::json::array();
    for (const auto& [list, v] : checks)
        j["checks"].push_back({{"lists", list}, {"rule", v.rule}, {"message", v.message}});
    j["configs"] = {{"nxd", o.nxdConfig.empty() || !r.feasible ? nlohmann::json(nullptr)
                                                               : nlohmann::json(o.nxdConfig)},
                    {"vllm", o.vllmConfig.empty() || !r.feasible ? nlohmann::json(nullptr)
                                                                 : nlohmann::json(o.vllmConfig)},
                    {"vllm_neuron", o.vllmNeuronConfig.empty() || !r.feasible
                                        ? nlohmann::json(nullptr)
                                        : nlohmann::json(o.vllmNeuronConfig)}};
    return j;
}

void addLlmOptions(CLI::App* sub, LlmCliOptions* o)
{
    addLlmTrafficOptions(sub, o->in, "--traffic", true);
    sub->add_option("--buckets", o->buckets,
                    "Compiled models allowed in total: CTE buckets + TKG buckets (batch x "
                    "sequence with batch buckets)")
        ->required();
    sub->add_option("--objective", o->objective,
                    "mean (mean request latency) or ttft-p99:MS (mean request latency with the "
                    "TTFT p99 <= MS)")
        ->capture_default_str();
    sub->add_option("--compile-budget", o->compileBudget,
                    "Total compile time allowed, seconds (needs --cte-compile/--tkg-compile)");
    sub->add_option("--memory-budget", o->memoryBudget,
                    "Total device memory of the compiled buckets allowed, MiB (needs memory_mib "
                    "in the compile cost files)");
    sub->add_option("--current-cte", o->currentCte, "Your context_encoding_buckets, a baseline");
    sub->add_option("--current-tkg", o->currentTkg, "Your token_generation_buckets, a baseline");
    sub->add_option("--current-batches", o->currentBatches,
                    "Your token_generation_batches, a baseline (with batched decoding)");
    sub->add_option("--max-batch", o->maxBatch,
                    "Batch x sequence TKG buckets: decode batches from a continuous-batching "
                    "model with at most this many sequences (NxD tkg_batch_size)");
    sub->add_option("--decode-log", o->decodeLog,
                    "Batch x sequence TKG buckets: decode calls from a server log, CSV "
                    "batch,position[,count]");
    sub->add_option("--tkg-batch-latency", o->tkgBatchLatency,
                    "With batches: TKG step latency by batch, a profile with several batch "
                    "sizes or scale:ALPHA (the TKG curve x (1 + ALPHA (batch - 1)))");
    sub->add_option("--batch-sets-max", o->batchSetsMax,
                    "With batches: try every batch set when there are at most this many; "
                    "otherwise a heuristic with a stated lower bound")
        ->capture_default_str();
    sub->add_option("--seed", o->seed, "Seed of the continuous-batching model's request order")
        ->capture_default_str();
    sub->add_option("--nxd-config", o->nxdConfig,
                    "Write the NxD Inference NeuronConfig fragment (JSON) here");
    sub->add_option("--vllm-config", o->vllmConfig,
                    "Write vLLM's --additional-config JSON (override_neuron_config) here");
    sub->add_option("--vllm-neuron-config", o->vllmNeuronConfig,
                    "Write the vLLM Neuron plugin's --additional-config JSON "
                    "(num_batched_tokens_buckets, num_seqs_buckets) here");
    addForceFlag(sub, o->force,
                 "the config files (--nxd-config, --vllm-config, --vllm-neuron-config)");
    addJsonFlag(sub, o->json);
    sub->footer(
        "Exit status: 0 tuned, 1 no lists meet the budgets or your current lists break an NxD "
        "rule, 2 bad input.\nExample (the Azure coding trace in resources/llm):\n"
        "  bucketlab-cli llm --traffic resources/llm/azure_code_pairs.csv --cte-latency "
        "poly:8,0.025,0.0000025 --tkg-latency linear:9,0.0004 --max-context-length 8192 "
        "--seq-len 10240 --buckets 14 --nxd-config nxd.json --vllm-config vllm.json");
}

int runLlm(LlmCliOptions& o)
{
    const bool batched = o.maxBatch > 0 || !o.decodeLog.empty();
    const LlmTuneSettings settings = tuneSettings(o, batched);
    const LlmBucketLists current = currentLists(o);
    checkConfigOutputs(o);
    const RequestTraffic traffic = loadLlmTraffic(o.in);
    LlmCosts costs = loadLlmCosts(o.in);
    DecodeCalls calls;
    if (batched)
        calls = decodeCalls(o, traffic, settings, costs);
    const LlmTuneResult r =
        tuneLlmBuckets(traffic, costs, settings, current, batched ? &calls : nullptr);
    const auto checks = checkCurrentLists(r, o, batched, calls);
    const std::vector<std::string> written = writeConfigs(r, o);
    if (o.json)
        printJson(llmJson(r, o, traffic, costs, batched, checks));
    else
        printText(r, o, traffic, costs, written, checks);
    return r.feasible && checks.empty() ? 0 : 1;
}

} // namespace

Command addLlmCommand(CLI::App& app)
{
    auto o = std::make_shared<LlmCliOptions>();
    auto* sub = app.add_subcommand("llm", commandSummary("llm"));
    addLlmOptions(sub, o.get());
    return {sub, [o] {
                return runLlm(*o);
            }};
}

} // namespace bucketlab::cli
