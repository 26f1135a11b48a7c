// The LLM serving section of the bucket report: the prompt and decode-position distributions
// with the recommended CTE and TKG boundaries, the recommended lists beside NxD's default and
// powers-of-two lists (mean request latency, time to first token, and how much better the
// tuner does with as many compiled models), the joint Pareto front of latency against total
// buckets with its CTE/TKG split, and the NxD Inference config fragment, checked against
// NxD's rules. Every figure is computed by core/llm (LlmTuner, LlmEvaluator); this file only
// arranges them.
#pragma once

#include "core/llm/llm_tuner.h"
#include "core/llm/request_traffic.h"
#include "core/llm/serving_config.h"
#include "core/util/job.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace bucketlab {

struct LlmReportSection {
    std::string trafficSource; // the file or spec, as given
    int64_t requests = 0;
    int64_t distinctPairs = 0;
    MarginalSummary prompt, output;
    std::string cteCurve, tkgCurve; // LatencyCurve::describe()
    LlmTuneResult result;
    // The recommended lists as an NxD Inference NeuronConfig fragment, and what NxD's rules
    // say of it (empty when it passes). Empty JSON when the tuning is infeasible.
    NxdBucketConfig nxd;
    std::string nxdConfigJson;
    std::vector<ConfigViolation> violations;
};

// Tunes the traffic (tuneLlmBuckets) and prepares the section. Throws what the tuner throws.
LlmReportSection makeLlmReportSection(const std::string& trafficSource,
                                      const RequestTraffic& traffic, const LlmCosts& costs,
                                      const LlmTuneSettings& settings, const Job& job = {});

// The baseline's mean request latency relative to the tuner's optimum with at most as many
// compiled models: how much lower the tuned one is, in % of the baseline's; negative when
// there is no such optimum.
double llmGainPct(const LlmBaseline& baseline);

// The section as HTML (from its <h2> on), for renderHtmlReport. Inline SVG only.
std::string renderLlmReportSection(const LlmReportSection& section);

// `report --json`'s "llm" object: the tuner's document (cte_buckets, tkg_buckets,
// mean_request_ms, baselines, pareto, ...) plus traffic, latency, nxd_config and
// config_violations.
nlohmann::json llmReportSectionJson(const LlmReportSection& section);

} // namespace bucketlab
