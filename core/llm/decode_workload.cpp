#include "core/llm/decode_workload.h"

#include "core/util/error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <vector>

namespace bucketlab {

void checkServingLimits(const ServingLimits& limits)
{
    if (limits.maxContextLength < 1)
        throw Error(subject(Field::MaxContextLength) + " must be at least 1, got " +
                    std::to_string(limits.maxContextLength));
    if (limits.seqLen > kMaxLength)
        throw Error(subject(Field::SeqLen) + " " + std::to_string(limits.seqLen) +
                    " exceeds the supported " + std::to_string(kMaxLength));
    if (limits.maxContextLength > limits.seqLen)
        throw Error(
            "NxD rule max_context_length <= max_length: " + subject(Field::MaxContextLength) + " " +
            std::to_string(limits.maxContextLength) + " exceeds " + subject(Field::SeqLen) + " " +
            std::to_string(limits.seqLen) + " (NeuronConfig asserts it)");
    if (limits.speculationLength < 0 || limits.speculationLength >= limits.seqLen)
        throw Error(subject(Field::SpeculationLength) + " must be in 0.." +
                    std::to_string(limits.seqLen - 1) + ", got " +
                    std::to_string(limits.speculationLength));
}

RequestCalls callsOf(const RequestPair& pair, const ServingLimits& limits)
{
    RequestCalls c;
    const int64_t p = pair.prompt;
    if (p > limits.maxContextLength)
        return c;
    c.served = true;
    // Tokens kept: generation stops at seq_len tokens in all (HF generate's max_length).
    const int64_t kept = std::max<int64_t>(0, std::min(pair.output, limits.seqLen - p));
    // The CTE call makes the first token; TKG step j (1-based) feeds position p + j - 1.
    int64_t lastPosition = p + kept - 2;
    // A step needs position + speculation <= seq_len, the largest bucket.
    lastPosition = std::min(lastPosition, limits.seqLen - limits.speculationLength);
    c.tkgSteps = std::max<int64_t>(0, lastPosition - p + 1);
    c.truncated = c.tkgSteps < std::max<int64_t>(0, pair.output - 1);
    if (c.tkgSteps > 0) {
        c.firstRequired = p + limits.speculationLength;
        c.lastRequired = lastPosition + limits.speculationLength;
    }
    return c;
}

DecodeWorkload deriveDecodeWorkload(const RequestTraffic& traffic, const ServingLimits& limits)
{
    checkServingLimits(limits);
    DecodeWorkload w;
    w.limits = limits;
    w.requests = traffic.requests();
    // Steps per required length through a difference array: each request adds its count to
    // one contiguous range, so the whole histogram costs O(pairs + seq_len).
    std::vector<int64_t> delta(size_t(limits.seqLen) + 2, 0);
    std::vector<std::pair<int64_t, int64_t>> prompts;
    for (const auto& pair : traffic.pairs()) {
        const RequestCalls c = callsOf(pair, limits);
        if (!c.served) {
            w.rejected += pair.count;
            continue;
        }
        w.served += pair.count;
        prompts.emplace_back(pair.prompt, pair.count);
        if (c.truncated)
            w.truncated += pair.count;
        if (c.tkgSteps == 0)
            continue;
        delta[size_t(c.firstRequired)] += pair.count;
        delta[size_t(c.lastRequired) + 1] -= pair.count;
        w.tkgSteps += pair.count * c.tkgSteps;
    }
    if (w.served == 0)
        throw Error("no request has a prompt of at most " +
                    std::to_string(limits.maxContextLength) + " tokens (" +
                    subject(Field::MaxContextLength) + "); the longest prompt is " +
                    std::to_string(traffic.maxPrompt()));
    w.cte = LengthHistogram::fromCounts(std::move(prompts));
    std::vector<std::pair<int64_t, int64_t>> steps;
    int64_t running = 0;
    for (size_t r = 1; r < delta.size(); ++r) {
        running += delta[r];
        if (running > 0)
            steps.emplace_back(int64_t(r), running);
    }
    w.tkg = LengthHistogram::fromCounts(std::move(steps));
    return w;
}

nlohmann::json DecodeWorkload::toJson() const
{
    auto summary = [](const LengthHistogram& h) {
        if (h.empty())
            return nlohmann::json(nullptr);
        return nlohmann::json{{"calls", h.total()},      {"distinct", h.distinct()},
                              {"min", h.minLength()},    {"mean", h.mean()},
                              {"p50", h.quantile(0.5)},  {"p90", h.quantile(0.9)},
                              {"p99", h.quantile(0.99)}, {"max", h.maxLength()}};
    };
    nlohmann::json j{{"requests", requests},        {"served", served},
                     {"rejected", rejected},        {"truncated", truncated},
                     {"tkg_steps", tkgSteps},       {"cte_required", summary(cte)},
                     {"tkg_required", summary(tkg)}};
    return j;
}

} // namespace bucketlab
