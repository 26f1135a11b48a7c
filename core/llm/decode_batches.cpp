#include "core/llm/decode_batches.h"

#include "core/latency/profile_format.h"
#include "core/util/error.h"
#include "core/util/line_reader.h"
#include "core/util/output_file.h"
#include "core/util/text.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <unordered_map>

namespace bucketlab {

namespace {

constexpr int64_t kMaxSimulatedRequests = 100000000;

int64_t wholeNumber(const std::string& cell, const std::string& name, int64_t line,
                    const std::string& what, int64_t lo)
{
    char* end = nullptr;
    const double v = std::strtod(cell.c_str(), &end);
    if (cell.empty() || end != cell.c_str() + cell.size() || !std::isfinite(v) ||
        v != std::floor(v))
        throw Error(located(name, line, what + " " + quote(cell) + " is not a whole number"));
    if (v < double(lo) || v > 9.0e15)
        throw Error(located(name, line,
                            what + " " + displayText(cell, 40) + " is outside " +
                                std::to_string(lo) + "..9e15"));
    return int64_t(v);
}

} // namespace

DecodeCalls DecodeCalls::fromCalls(std::vector<DecodeCall> calls, std::string source)
{
    for (const auto& c : calls)
        if (c.batch < 1 || c.required < 1 || c.count < 0)
            throw Error(source + ": a decode call needs batch >= 1, required length >= 1 and "
                                 "count >= 0");
    std::sort(calls.begin(), calls.end(), [](const DecodeCall& a, const DecodeCall& b) {
        return a.batch != b.batch ? a.batch < b.batch : a.required < b.required;
    });
    DecodeCalls d;
    d.source_ = std::move(source);
    for (const auto& c : calls) {
        if (c.count == 0)
            continue;
        if (!d.calls_.empty() && d.calls_.back().batch == c.batch &&
            d.calls_.back().required == c.required)
            d.calls_.back().count += c.count;
        else
            d.calls_.push_back(c);
        d.totalCalls_ += c.count;
        d.sequenceSteps_ += c.count * c.batch;
        d.maxBatch_ = std::max(d.maxBatch_, c.batch);
        d.maxRequired_ = std::max(d.maxRequired_, c.required);
    }
    return d;
}

double DecodeCalls::meanBatch() const
{
    return totalCalls_ > 0 ? double(sequenceSteps_) / double(totalCalls_) : 0.0;
}

nlohmann::json DecodeCalls::toJson() const
{
    std::map<int64_t, int64_t> byBatch;
    for (const auto& c : calls_)
        byBatch[c.batch] += c.count;
    nlohmann::json batches = nlohmann::json::array();
    for (const auto& [b, n] : byBatch)
        batches.push_back({{"batch", b}, {"calls", n}});
    return nlohmann::json{
        {"source", source_},         {"calls", totalCalls_},   {"sequence_steps", sequenceSteps_},
        {"mean_batch", meanBatch()}, {"max_batch", maxBatch_}, {"max_required", maxRequired_},
        {"batch_sizes", batches}};
}

DecodeCalls parseDecodeLog(const std::string& text, const std::string& name)
{
    LineReader r = LineReader::fromMemory(text, name);
    std::string_view line;
    const auto header = splitCsvLine(r.firstNonBlankLine(), ',');
    int batchCol = -1, requiredCol = -1, countCol = -1;
    for (size_t i = 0; i < header.size(); ++i) {
        if (header[i] == "batch")
            batchCol = int(i);
        else if (header[i] == "position" || header[i] == "required")
            requiredCol = int(i);
        else if (header[i] == "count")
            countCol = int(i);
    }
    if (batchCol < 0 || requiredCol < 0)
        throw Error(located(name, r.lineNumber(),
                            "expected a header with batch and position columns (and optionally "
                            "count), e.g. batch,position,count"));
    std::vector<DecodeCall> calls;
    while (r.next(line)) {
        if (trimBlanks(line).empty())
            continue;
        const auto cells = splitCsvLine(line, ',');
        const int64_t n = r.lineNumber();
        const size_t needed = size_t(std::max({batchCol, requiredCol, countCol})) + 1;
        if (cells.size() < needed)
            throw Error(located(name, n,
                                "expected " + std::to_string(needed) + " columns, the line has " +
                                    std::to_string(cells.size())));
        DecodeCall c;
        c.batch = wholeNumber(cells[size_t(batchCol)], name, n, "batch", 1);
        c.required = wholeNumber(cells[size_t(requiredCol)], name, n, "position", 1);
        c.count = countCol >= 0 ? wholeNumber(cells[size_t(countCol)], name, n, "count", 0) : 1;
        calls.push_back(c);
    }
    DecodeCalls d = DecodeCalls::fromCalls(std::move(calls), name);
    if (d.empty())
        throw Error(name + ": no decode calls after the header");
    return d;
}

DecodeCalls readDecodeLog(const std::string& path)
{
    return parseDecodeLog(readFile(path, kMaxDataFileBytes, "a decode log"), path);
}

DecodeCalls simulateContinuousBatching(const RequestTraffic& traffic, const ServingLimits& limits,
                                       int64_t maxBatch, uint64_t seed, const Job& job)
{
    checkServingLimits(limits);
    if (maxBatch < 1 || maxBatch > kMaxBatch)
        throw Error(subject(Field::MaxBatch) + " must be in 1.." + std::to_string(kMaxBatch) +
                    ", got " + std::to_string(maxBatch));
    if (limits.speculationLength > 0)
        throw Error("NxD rule: batch bucketing (token_generation_batches) is not supported with "
                    "speculative decoding; set " +
                    subject(Field::SpeculationLength) + " to 0");
    if (traffic.requests() > kMaxSimulatedRequests)
        throw Error("the serving model simulates at most " + std::to_string(kMaxSimulatedRequests) +
                    " requests, the traffic has " + std::to_string(traffic.requests()));
    struct Sequence {
        int64_t position; // of the token fed in next
        int64_t remaining;
    };
    std::vector<Sequence> queue;
    for (const auto& pair : traffic.pairs()) {
        const RequestCalls c = callsOf(pair, limits);
        if (c.served && c.tkgSteps > 0)
            queue.insert(queue.end(), size_t(pair.count), Sequence{c.firstRequired, c.tkgSteps});
    }
    // A seeded Fisher-Yates shuffle with our own index draw, the same on every platform.
    std::mt19937_64 engine(seed);
    for (size_t i = queue.size(); i > 1; --i)
        std::swap(queue[i - 1], queue[size_t(engine() % i)]);

    std::unordered_map<uint64_t, int64_t> counts;
    std::vector<Sequence> active;
    active.reserve(size_t(maxBatch));
    size_t next = 0;
    int64_t rounds = 0;
    for (;;) {
        while (int64_t(active.size()) < maxBatch && next < queue.size())
            active.push_back(queue[next++]);
        if (active.empty())
            break;
        if ((++rounds & 0xffff) == 0) {
            job.checkCancelled();
            job.report(double(next) / double(queue.size()), "simulating continuous batching");
        }
        int64_t widest = 0;
        for (const auto& s : active)
            widest = std::max(widest, s.position);
        ++counts[(uint64_t(active.size()) << 40) | uint64_t(widest)];
        for (size_t i = 0; i < active.size();) {
            ++active[i].position;
            if (--active[i].remaining == 0) {
                active[i] = active.back();
                active.pop_back();
            } else
                ++i;
        }
    }
    std::vector<DecodeCall> calls;
    calls.reserve(counts.size());
    for (const auto& [key, n] : counts)
        calls.push_back({int64_t(key >> 40), int64_t(key & ((uint64_t(1) << 40) - 1)), n});
    return DecodeCalls::fromCalls(std::move(calls), "continuous batching, at most " +
                                                        std::to_string(maxBatch) + " sequences");
}

BatchLatency BatchLatency::fromCurves(std::vector<std::pair<int64_t, LatencyCurve>> byBatch,
                                      std::string source)
{
    if (byBatch.empty())
        throw Error(source + ": no batch sizes measured");
    std::sort(byBatch.begin(), byBatch.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (size_t i = 0; i < byBatch.size(); ++i) {
        if (byBatch[i].first < 1)
            throw Error(source + ": batch " + std::to_string(byBatch[i].first) +
                        " is not positive");
        if (i > 0 && byBatch[i].first == byBatch[i - 1].first)
            throw Error(source + ": batch " + std::to_string(byBatch[i].first) + " appears twice");
    }
    BatchLatency b;
    b.curves_ = std::move(byBatch);
    b.source_ = std::move(source);
    return b;
}

BatchLatency BatchLatency::scaled(const LatencyCurve& tkg, double alpha)
{
    if (!std::isfinite(alpha) || alpha < 0)
        throw Error("the batch scale must be a finite number >= 0, got " + std::to_string(alpha));
    BatchLatency b;
    b.curves_.emplace_back(1, tkg);
    b.alpha_ = alpha;
    b.source_ = "scale:" + std::to_string(alpha) + " x " + tkg.describe();
    return b;
}

BatchLatency BatchLatency::load(const std::string& fileOrSpec, const LatencyCurve& tkg)
{
    std::error_code ec;
    if (!std::filesystem::exists(fileOrSpec, ec) && fileOrSpec.rfind("scale:", 0) == 0) {
        const std::string v = fileOrSpec.substr(6);
        char* end = nullptr;
        const double alpha = std::strtod(v.c_str(), &end);
        if (v.empty() || end != v.c_str() + v.size())
            throw Error("batch latency " + quote(fileOrSpec) + ": expected scale:ALPHA (a number)");
        return scaled(tkg, alpha);
    }
    const Profile profile = readProfile(fileOrSpec);
    std::map<int64_t, std::vector<LatencyPoint>> byBatch;
    for (const auto& p : profile.points)
        if (p.ok())
            byBatch[p.batch].push_back({p.length, p.p50Ms});
    std::vector<std::pair<int64_t, LatencyCurve>> curves;
    for (auto& [batch, points] : byBatch)
        curves.emplace_back(batch, LatencyCurve::fromPoints(std::move(points), fileOrSpec));
    return fromCurves(std::move(curves), fileOrSpec);
}

double BatchLatency::at(int64_t batch, int64_t length) const
{
    if (curves_.empty())
        return 0;
    if (alpha_ >= 0)
        return curves_[0].second.at(length) * (1.0 + alpha_ * double(batch - 1));
    const size_t m = curves_.size();
    std::vector<double> v(m);
    for (size_t i = 0; i < m; ++i)
        v[i] = curves_[i].second.at(length);
    auto interp = [&](int64_t b) {
        if (b <= curves_[0].first)
            return v[0];
        if (b >= curves_[m - 1].first) // proportional to the batch beyond the measurements
            return v[m - 1] * double(b) / double(curves_[m - 1].first);
        size_t hi = 1;
        while (curves_[hi].first < b)
            ++hi;
        const double t =
            double(b - curves_[hi - 1].first) / double(curves_[hi].first - curves_[hi - 1].first);
        return v[hi - 1] + t * (v[hi] - v[hi - 1]);
    };
    // The cheapest measured batch at or above: never decreasing in batch, like the latency
    // curve's envelope in length.
    double best = interp(batch);
    for (size_t i = 0; i < m; ++i)
        if (curves_[i].first >= batch)
            best = std::min(best, v[i]);
    return best;
}

std::string BatchLatency::describe() const
{
    if (alpha_ >= 0)
        return source_;
    std::string batches;
    for (const auto& [b, c] : curves_)
        batches += (batches.empty() ? "" : ",") + std::to_string(b);
    return source_ + " (batch " + batches + ")";
}

} // namespace bucketlab
