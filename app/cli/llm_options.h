// The options that describe LLM serving traffic and its costs, declared once for every
// subcommand that prices CTE and TKG buckets (`llm`, and `report`'s LLM section): the
// request traffic and its fields, the two latency curves, the serving limits and the compile
// costs. A subcommand names the traffic option itself (`llm --traffic`, `report
// --llm-traffic`); the rest keep one name everywhere.
#pragma once

#include "core/llm/decode_workload.h"
#include "core/llm/llm_evaluator.h"
#include "core/llm/request_traffic.h"
#include "core/util/error.h"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace bucketlab::cli {

struct LlmTrafficOptions {
    std::string traffic;
    std::string promptField, outputField, countField;
    std::string cteLatency, tkgLatency;
    std::string latencyStat = "median";
    int64_t maxContextLength = 0;
    int64_t seqLen = 0;
    int64_t speculationLength = 0;
    std::string cteCompile, tkgCompile;

    bool given() const { return !traffic.empty(); }
    ServingLimits limits() const { return {maxContextLength, seqLen, speculationLength}; }
    // The inputs among the options that name files (for output path checks).
    std::vector<std::string> inputFiles() const;
};

// Declares the options on `sub`; `trafficFlag` is the traffic option's name ("--traffic").
// `required`: the traffic, both curves and both limits must be given (else they are checked
// by requireLlmTrafficOptions when the traffic is).
void addLlmTrafficOptions(CLI::App* sub, LlmTrafficOptions& o, const std::string& trafficFlag,
                          bool required);

// Throws Error naming the first missing option when the traffic is given without the curves
// or limits it needs.
void requireLlmTrafficOptions(const LlmTrafficOptions& o, const std::string& trafficFlag);

// Reads the traffic and the curves and compile costs; errors name the option, file and line.
RequestTraffic loadLlmTraffic(const LlmTrafficOptions& o);
LlmCosts loadLlmCosts(const LlmTrafficOptions& o);

// Runs `load` and puts the field's option in front of its error, so the one error line
// names the option as well as the file and line.
template <typename F> auto forField(Field field, F load) -> decltype(load())
{
    try {
        return load();
    } catch (const Error& e) {
        throw Error(subject(field) + ": " + e.marked());
    }
}

} // namespace bucketlab::cli
