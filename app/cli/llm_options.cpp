#include "app/cli/llm_options.h"

#include "core/latency/latency_curve.h"
#include "core/llm/compile_cost.h"

#include <filesystem>

namespace bucketlab::cli {

std::vector<std::string> LlmTrafficOptions::inputFiles() const
{
    std::vector<std::string> files;
    for (const auto& in : {traffic, cteLatency, tkgLatency, cteCompile, tkgCompile}) {
        std::error_code ec;
        if (!in.empty() && std::filesystem::exists(in, ec))
            files.push_back(in);
    }
    return files;
}

void addLlmTrafficOptions(CLI::App* sub, LlmTrafficOptions& o, const std::string& trafficFlag,
                          bool required)
{
    auto* traffic = sub->add_option(
        trafficFlag, o.traffic,
        "Requests: CSV/TSV/JSONL with prompt and output token counts (e.g. the Azure trace's "
        "ContextTokens,GeneratedTokens[,count]) or a spec such as "
        "'prompt=lognormal:mu=7,sigma=1,max=8000;output=geometric:mean=200,max=2000;n=20000;"
        "seed=1'");
    sub->add_option("--prompt-field", o.promptField, "Column or JSON field of prompt tokens");
    sub->add_option("--output-field", o.outputField, "Column or JSON field of output tokens");
    sub->add_option("--count-field", o.countField,
                    "Column or field counting requests per row (default: count when present)");
    auto* cte = sub->add_option(
        "--cte-latency", o.cteLatency,
        "CTE (prefill) latency by prompt bucket: a profile (bucketlab.profile/1 JSON or CSV "
        "length,latency_ms) or linear:a,b / poly:c0,c1,c2 (ms)");
    auto* tkg = sub->add_option("--tkg-latency", o.tkgLatency,
                                "TKG latency of one decode step by sequence bucket: a profile or "
                                "linear:a,b / poly:... (ms)");
    sub->add_option("--latency-stat", o.latencyStat, "Profile statistic per point: median or mean")
        ->capture_default_str();
    auto* maxContext =
        sub->add_option("--max-context-length", o.maxContextLength,
                        "NxD max_context_length: the longest prompt; the largest CTE bucket");
    auto* seqLen = sub->add_option("--seq-len", o.seqLen,
                                   "NxD seq_len (vLLM --max-model-len): the longest prompt + "
                                   "output; the largest TKG bucket");
    sub->add_option("--speculation-length", o.speculationLength,
                    "Speculation length: added to a TKG step's required length, as NxD does")
        ->capture_default_str();
    sub->add_option("--cte-compile", o.cteCompile,
                    "Compile cost per CTE bucket: linear:a,b seconds by length, or a CSV "
                    "length,compile_s[,memory_mib]");
    sub->add_option("--tkg-compile", o.tkgCompile,
                    "Compile cost per TKG sequence bucket (per batch bucket with batches)");
    if (required)
        for (auto* option : {traffic, cte, tkg, maxContext, seqLen})
            option->required();
}

void requireLlmTrafficOptions(const LlmTrafficOptions& o, const std::string& trafficFlag)
{
    if (!o.given())
        return;
    const std::pair<const char*, bool> needed[] = {{"--cte-latency", !o.cteLatency.empty()},
                                                   {"--tkg-latency", !o.tkgLatency.empty()},
                                                   {"--max-context-length", o.maxContextLength > 0},
                                                   {"--seq-len", o.seqLen > 0}};
    for (const auto& [flag, present] : needed)
        if (!present)
            throw Error(trafficFlag + " needs " + flag);
}

RequestTraffic loadLlmTraffic(const LlmTrafficOptions& o)
{
    TrafficReadOptions read;
    read.promptField = o.promptField;
    read.outputField = o.outputField;
    read.countField = o.countField;
    return forField(Field::Traffic, [&] { return loadRequestTraffic(o.traffic, read); });
}

LlmCosts loadLlmCosts(const LlmTrafficOptions& o)
{
    const LatencyStatistic stat = parseLatencyStatistic(o.latencyStat);
    LlmCosts costs;
    costs.cte = forField(Field::CteLatency, [&] { return LatencyCurve::load(o.cteLatency, stat); });
    costs.tkg = forField(Field::TkgLatency, [&] { return LatencyCurve::load(o.tkgLatency, stat); });
    checkCurvePhases(costs.cte, costs.tkg);
    if (!o.cteCompile.empty())
        costs.cteCompile =
            forField(Field::CteCompileCost, [&] { return CompileCost::load(o.cteCompile); });
    if (!o.tkgCompile.empty())
        costs.tkgCompile =
            forField(Field::TkgCompileCost, [&] { return CompileCost::load(o.tkgCompile); });
    return costs;
}

} // namespace bucketlab::cli
