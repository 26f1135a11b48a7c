// libFuzzer target: the parsers every option value and spec goes through, whichever front end
// typed it (CLI, desktop, project file). The first byte picks the parser, the rest is the text:
//   0 boundaries (Boundaries::parse)        5 dtype, padding side, latency statistic names
//   1 one length (parseLength)              6 an analytic latency curve (linear:a,b, poly:...)
//   2 a positive list (batch sizes)         7 a synthetic distribution spec (lognormal:...)
//   3 input specs (name:dtype:pad:fill,...) 8 an NxD / vLLM bucket config (JSON)
//   4 a shared-state spec (kv:f32:1x4/1x8)  9 a decode log (per-step batch sizes)
// Besides crashes, leaks, sanitizer reports and time-outs: errors keep the message contract
// (fuzz_check.h), and what a parser accepts is within its documented bounds and formats back
// to text that parses to the same value.
#include "core/latency/latency_curve.h"
#include "core/llm/decode_batches.h"
#include "core/llm/serving_config.h"
#include "core/spec/boundaries.h"
#include "core/spec/input_spec.h"
#include "core/spec/state_spec.h"
#include "core/traffic/synthetic_distribution.h"
#include "fuzz_check.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <string>

using namespace bucketlab;

namespace {

void checkBoundaries(const Boundaries& b)
{
    for (size_t i = 0; i < b.size(); ++i)
        if (b[i] < 1 || b[i] > kMaxLength || (i > 0 && b[i] <= b[i - 1]))
            fuzz::broken("boundaries ascending in 1..kMaxLength", b.str());
    if (!b.empty() && Boundaries::parse(b.str(), Field::Boundaries) != b)
        fuzz::broken("boundaries read back as written", b.str());
}

void run(unsigned selector, const std::string& text)
{
    switch (selector % 10) {
    case 0: checkBoundaries(Boundaries::parse(text, Field::Boundaries)); break;
    case 1: {
        const int64_t n = parseLength(text, Field::MaxLength);
        if (n < 1 || n > kMaxLength)
            fuzz::broken("a length in 1..kMaxLength", std::to_string(n));
        break;
    }
    case 2: {
        const auto list = parsePositiveList(text, Field::BatchSizes, kMaxBatch);
        for (size_t i = 0; i < list.size(); ++i)
            if (list[i] < 1 || list[i] > kMaxBatch || (i > 0 && list[i] <= list[i - 1]))
                fuzz::broken("batch sizes ascending in 1..kMaxBatch");
        break;
    }
    case 3: {
        const auto inputs = parseInputSpecs(text);
        checkInputSpecs(inputs);
        if (!(parseInputSpecs(formatInputSpecs(inputs)) == inputs))
            fuzz::broken("input specs read back as written", formatInputSpecs(inputs));
        (void)firstBucketedInput(inputs);
        for (const auto& in : inputs) {
            (void)scalarLiteral(in.dtype, in.padValue);
            (void)scalarLiteral(in.dtype, in.fillValue);
        }
        break;
    }
    case 4: {
        const auto state = parseStateSpec(text);
        if (!(parseStateSpec(formatStateSpec(state)) == state))
            fuzz::broken("a state spec reads back as written", formatStateSpec(state));
        (void)stateBufferShape(state);
        break;
    }
    case 5: {
        const auto field = (selector / 10) % 3;
        if (field == 0)
            (void)parseDType(text);
        else if (field == 1)
            (void)parsePaddingSide(text);
        else
            (void)parseLatencyStatistic(text);
        break;
    }
    case 6: {
        const auto curve = LatencyCurve::fromSpec(text);
        double last = 0;
        for (int64_t length : {int64_t(1), int64_t(2), int64_t(1000), kMaxLength}) {
            const double ms = curve.at(length);
            if (!std::isfinite(ms) || ms <= 0 || ms < last)
                fuzz::broken("the curve is positive, finite, non-decreasing",
                             text + " at " + std::to_string(length));
            last = ms;
        }
        (void)curve.toJson().dump();
        break;
    }
    case 7:
        if (looksLikeSyntheticSpec(text)) {
            const auto h = syntheticDistribution(text);
            if (!h.empty() && (h.minLength() < 1 || h.maxLength() > kMaxLength))
                fuzz::broken("synthetic lengths in 1..kMaxLength", text);
        }
        break;
    case 8:
        if ((selector / 10) % 2 == 0) {
            const auto config = nxdConfigFromJson(text, "fuzz.json");
            (void)checkNxdConfig(config);
            (void)nxdNeuronConfigJson(config);
        } else {
            const auto buckets = vllmNeuronPluginFromJson(text, "fuzz.json");
            (void)vllmNeuronPluginJson(buckets);
        }
        break;
    default: (void)parseDecodeLog(text, "fuzz.log"); break;
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const auto [selector, text] = fuzz::splitSelector(data, size);
    try {
        run(selector, text);
    } catch (const Error& e) {
        fuzz::checkError(e, selector % 10 == 8   ? "fuzz.json"
                            : selector % 10 == 9 ? "fuzz.log"
                                                 : "");
    }
    return 0;
}
