#include "core/llm/request_traffic.h"

#include "core/traffic/synthetic_distribution.h"
#include "core/util/error.h"
#include "core/util/line_reader.h"
#include "core/util/text.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <unordered_map>

namespace bucketlab {

namespace {

// Totals stay far from overflow even after the decode workload multiplies them by lengths.
constexpr int64_t kMaxTotalRequests = int64_t(1) << 62;
constexpr int64_t kDefaultSyntheticRequests = 10000;
constexpr int64_t kMaxSyntheticRequests = 10000000;
constexpr int64_t kProgressEveryLines = int64_t(1) << 16;

// The column or field for one role: the named one, else the first default name present.
std::optional<size_t> pickName(const std::vector<std::string>& names, const std::string& given,
                               const std::vector<std::string>& defaults)
{
    if (!given.empty())
        return findName(names, given);
    for (const auto& d : defaults)
        if (auto i = findName(names, d))
            return i;
    return std::nullopt;
}

bool looksNumeric(const std::string& s)
{
    char* end = nullptr;
    std::strtod(s.c_str(), &end);
    return !s.empty() && end == s.c_str() + s.size();
}

// An integer token count or request count in [lo, hi]; "12" and "12.0" both read as 12.
int64_t parseInteger(const std::string& text, const std::string& file, int64_t line,
                     const std::string& what, int64_t lo, int64_t hi)
{
    const std::string t = trimmedBlanks(text);
    if (t.empty())
        throw Error(located(file, line, "missing " + what + " (empty cell)"));
    char* end = nullptr;
    const double v = std::strtod(t.c_str(), &end);
    if (end != t.c_str() + t.size() || std::isnan(v))
        throw Error(located(file, line, what + " " + quote(t) + " is not a number"));
    if (!std::isfinite(v) || v != std::floor(v))
        throw Error(located(file, line, what + " " + quote(t) + " is not a whole number"));
    if (v < double(lo))
        throw Error(
            located(file, line,
                    what + " " + t + " is below " + std::to_string(lo) +
                        (what == "prompt tokens" ? " (a prompt has at least one token)" : "")));
    if (v > double(hi))
        throw Error(located(file, line, what + " " + t + " exceeds " + std::to_string(hi)));
    return int64_t(v);
}

// Counts pairs as they stream in; one hash entry per distinct pair.
class PairAccumulator {
public:
    void add(int64_t prompt, int64_t output, int64_t count, const std::string& file, int64_t line)
    {
        if (count == 0)
            return;
        total_ += count;
        if (total_ > kMaxTotalRequests)
            throw Error(located(file, line, "more than 2^62 requests in total"));
        counts_[(uint64_t(prompt) << 31) | uint64_t(output)] += count;
    }
    RequestTraffic build(const std::string& file) const
    {
        if (counts_.empty())
            throw Error(file + ": no requests (nothing after the header)");
        std::vector<RequestPair> pairs;
        pairs.reserve(counts_.size());
        for (const auto& [key, count] : counts_)
            pairs.push_back({int64_t(key >> 31), int64_t(key & ((uint64_t(1) << 31) - 1)), count});
        return RequestTraffic::fromPairs(std::move(pairs));
    }

private:
    std::unordered_map<uint64_t, int64_t> counts_;
    int64_t total_ = 0;
};

void reportProgress(const LineReader& r, const TrafficReadOptions& o)
{
    o.job.checkCancelled();
    if (r.sizeHint() > 0)
        o.job.report(double(r.bytesConsumed()) / double(r.sizeHint()), "reading " + r.name());
}

RequestTraffic readCsv(LineReader& r, const TrafficReadOptions& o)
{
    std::string_view line = r.firstNonBlankLine();
    char sep = ',';
    if (endsWithIgnoringCase(r.name(), ".tsv") || line.find('\t') != std::string_view::npos)
        sep = '\t';
    const std::vector<std::string> header = splitCsvLine(line, sep);
    const std::string file = r.name();
    const int64_t headerLine = r.lineNumber();
    auto require = [&](const std::string& given, const std::vector<std::string>& defaults,
                       const std::string& role) {
        const auto col = pickName(header, given, defaults);
        if (!col) {
            if (!given.empty())
                throw Error(located(file, headerLine,
                                    "no column " + quote(given) +
                                        " in the header (columns: " + joinNames(header) + ")"));
            throw Error(located(file, headerLine,
                                "no " + role + " column (columns: " + joinNames(header) +
                                    "); name the column that holds the " + role + " tokens"));
        }
        if (looksNumeric(header[*col]))
            throw Error(located(file, headerLine,
                                "the first line must be a header naming the prompt and output "
                                "columns, found the value '" +
                                    header[*col] + "'"));
        return *col;
    };
    const size_t promptCol = require(o.promptField, defaultPromptFieldNames(), "prompt");
    const size_t outputCol = require(o.outputField, defaultOutputFieldNames(), "output");
    std::optional<size_t> countCol;
    if (!o.countField.empty()) {
        countCol = findName(header, o.countField);
        if (!countCol)
            throw Error(located(file, headerLine,
                                "no column " + quote(o.countField) +
                                    " in the header (columns: " + joinNames(header) + ")"));
    } else
        countCol = pickName(header, "", defaultCountFieldNames());
    if (promptCol == outputCol)
        throw Error(located(file, headerLine,
                            "the prompt and output columns are the same column '" +
                                header[promptCol] + "'"));
    const size_t needed = std::max({promptCol, outputCol, countCol.value_or(0)}) + 1;

    PairAccumulator acc;
    int64_t sinceProgress = 0;
    while (r.next(line)) {
        if (++sinceProgress == kProgressEveryLines) {
            sinceProgress = 0;
            reportProgress(r, o);
        }
        if (trimBlanks(line).empty())
            continue;
        const auto cells = splitCsvLine(line, sep);
        const int64_t n = r.lineNumber();
        if (cells.size() < needed)
            throw Error(located(file, n,
                                "expected at least " + std::to_string(needed) +
                                    " columns, the line has " + std::to_string(cells.size())));
        const int64_t prompt =
            parseInteger(cells[promptCol], file, n, "prompt tokens", 1, kMaxLength);
        const int64_t output =
            parseInteger(cells[outputCol], file, n, "output tokens", 0, kMaxLength);
        const int64_t count =
            countCol ? parseInteger(cells[*countCol], file, n, "count", 0, kMaxTotalRequests) : 1;
        acc.add(prompt, output, count, file, n);
    }
    return acc.build(file);
}

RequestTraffic readJsonl(LineReader& r, const TrafficReadOptions& o)
{
    using nlohmann::json;
    const std::string file = r.name();
    std::string promptKey = o.promptField, outputKey = o.outputField, countKey = o.countField;
    bool keysChosen = false;
    PairAccumulator acc;
    std::string_view line;
    int64_t sinceProgress = 0;
    auto field = [&](const json& j, const std::string& key, const std::string& what, int64_t lo,
                     int64_t hi) {
        const int64_t n = r.lineNumber();
        if (!j.contains(key))
            throw Error(located(file, n, "no field " + quote(key)));
        const json& v = j[key];
        if (!v.is_number())
            throw Error(located(file, n, "field " + quote(key) + " is not a number"));
        return parseInteger(v.dump(), file, n, what, lo, hi);
    };
    while (r.next(line)) {
        if (++sinceProgress == kProgressEveryLines) {
            sinceProgress = 0;
            reportProgress(r, o);
        }
        if (trimBlanks(line).empty())
            continue;
        const int64_t n = r.lineNumber();
        json j;
        try {
            j = json::parse(line);
        } catch (const json::exception& e) { // parse_error, or out_of_range (1e400)
            throw Error(located(file, n, "not valid JSON (" + libraryMessage(e.what()) + ")"));
        }
        if (!j.is_object())
            throw Error(located(file, n, "expected one JSON object per line"));
        if (!keysChosen) {
            // The first object decides the field names; later lines must have them too.
            std::vector<std::string> keys;
            for (const auto& [k, v] : j.items())
                keys.push_back(k);
            auto choose = [&](std::string& key, const std::vector<std::string>& defaults,
                              const std::string& role) {
                if (!key.empty())
                    return;
                if (auto i = pickName(keys, "", defaults))
                    key = keys[*i];
                else if (role != "count")
                    throw Error(located(file, n,
                                        "no " + role + " field (fields: " + joinNames(keys) +
                                            "); name the field that holds the " + role +
                                            " tokens"));
            };
            choose(promptKey, defaultPromptFieldNames(), "prompt");
            choose(outputKey, defaultOutputFieldNames(), "output");
            choose(countKey, defaultCountFieldNames(), "count");
            keysChosen = true;
        }
        const int64_t prompt = field(j, promptKey, "prompt tokens", 1, kMaxLength);
        const int64_t output = field(j, outputKey, "output tokens", 0, kMaxLength);
        const int64_t count =
            countKey.empty() ? 1 : field(j, countKey, "count", 0, kMaxTotalRequests);
        acc.add(prompt, output, count, file, n);
    }
    if (r.lineNumber() == 0)
        throw Error(file + ": empty file");
    return acc.build(file);
}

bool isJsonl(const std::string& name)
{
    return endsWithIgnoringCase(name, ".jsonl") || endsWithIgnoringCase(name, ".ndjson");
}

// --- synthetic traffic ---------------------------------------------------------------------

class Random {
public:
    explicit Random(uint64_t seed) : engine_(seed) {}
    // Uniform in (0, 1]: never 0, so log() is finite.
    double uniform() { return (double(engine_() >> 11) + 1.0) * 0x1.0p-53; }
    // Uniform in [0, n); the modulo bias is below 2^-40 for the sizes we shuffle, and the
    // result is the same on every platform (std::shuffle's is not).
    uint64_t below(uint64_t n) { return engine_() % n; }

private:
    std::mt19937_64 engine_;
};

struct SyntheticParts {
    std::string prompt, output;
    int64_t n = kDefaultSyntheticRequests;
    uint64_t seed = 1;
};

double specNumber(const std::string& text, const std::string& what, const std::string& spec)
{
    const std::string t = trimmedBlanks(text);
    char* end = nullptr;
    const double v = std::strtod(t.c_str(), &end);
    if (t.empty() || end != t.c_str() + t.size() || !std::isfinite(v))
        throw Error("traffic spec " + quote(spec) + ": " + what + " " + quote(t) +
                    " is not a finite number");
    return v;
}

SyntheticParts parseSpec(const std::string& spec)
{
    SyntheticParts parts;
    size_t pos = 0;
    while (pos <= spec.size()) {
        const size_t end = std::min(spec.find(';', pos), spec.size());
        const std::string item = trimmedBlanks(spec.substr(pos, end - pos));
        pos = end + 1;
        if (item.empty())
            continue;
        const auto eq = item.find('=');
        if (eq == std::string::npos)
            throw Error("traffic spec " + quote(spec) + ": " + quote(item) +
                        " is not key=value (keys: prompt, output, n, seed)");
        const std::string key = trimmedBlanks(item.substr(0, eq));
        const std::string value = trimmedBlanks(item.substr(eq + 1));
        if (key == "prompt")
            parts.prompt = value;
        else if (key == "output")
            parts.output = value;
        else if (key == "n") {
            const double v = specNumber(value, "n", spec);
            if (v != std::floor(v) || v < 1 || v > double(kMaxSyntheticRequests))
                throw Error("traffic spec " + quote(spec) + ": n must be a whole number in 1.." +
                            std::to_string(kMaxSyntheticRequests));
            parts.n = int64_t(v);
        } else if (key == "seed") {
            const double v = specNumber(value, "seed", spec);
            if (v != std::floor(v) || v < 0 || v > 9.0e15)
                throw Error("traffic spec " + quote(spec) + ": seed must be a whole number >= 0");
            parts.seed = uint64_t(v);
        } else
            throw Error("traffic spec " + quote(spec) + ": unknown key " + quote(key) +
                        " (keys: prompt, output, n, seed)");
    }
    if (parts.prompt.empty() || parts.output.empty())
        throw Error("traffic spec " + quote(spec) + ": needs both prompt=SPEC and output=SPEC");
    return parts;
}

// The inner specs take n and seed from the outer one, so both marginals have n draws.
void rejectInnerSampling(const std::string& inner, const std::string& spec)
{
    std::string token;
    for (size_t i = 0; i <= inner.size(); ++i) {
        const char c = i < inner.size() ? inner[i] : ',';
        if (c == ',' || c == ':' || c == '+') {
            const std::string t = trimmedBlanks(token);
            if (t.rfind("n=", 0) == 0 || t.rfind("seed=", 0) == 0)
                throw Error("traffic spec " + quote(spec) +
                            ": put n= and seed= at the top level (" +
                            "prompt=...;output=...;n=N;seed=S), not inside " + quote(inner));
            token.clear();
        } else
            token += c;
    }
}

std::vector<int64_t> expand(const LengthHistogram& h)
{
    std::vector<int64_t> out;
    out.reserve(size_t(h.total()));
    for (size_t i = 0; i < h.distinct(); ++i)
        out.insert(out.end(), size_t(h.counts()[i]), h.lengths()[i]);
    return out;
}

// Geometric output lengths: P(g = k) = (1 - q)^(k-1) q for k >= 1, mean 1/q, the length of a
// generation that stops with probability q after each token; clamped to [min, max].
std::vector<int64_t> geometricDraws(const std::string& inner, const std::string& spec, int64_t n,
                                    uint64_t seed)
{
    std::map<std::string, double> params;
    const std::string body = inner.substr(inner.find(':') + 1);
    size_t pos = 0;
    while (pos <= body.size()) {
        const size_t end = std::min(body.find(',', pos), body.size());
        const std::string item = trimmedBlanks(body.substr(pos, end - pos));
        pos = end + 1;
        if (item.empty())
            continue;
        const auto eq = item.find('=');
        const std::string key = eq == std::string::npos ? item : item.substr(0, eq);
        if (eq == std::string::npos || (key != "mean" && key != "min" && key != "max"))
            throw Error("traffic spec " + quote(spec) +
                        ": geometric takes mean=M, min= and max=, got " + quote(item));
        params[key] = specNumber(item.substr(eq + 1), key, spec);
    }
    if (!params.count("mean") || params["mean"] < 1)
        throw Error("traffic spec " + quote(spec) + ": geometric needs mean=M with M >= 1");
    const double lo = params.count("min") ? params["min"] : 1;
    const double hi = params.count("max") ? params["max"] : double(kMaxLength);
    if (lo != std::floor(lo) || hi != std::floor(hi) || lo < 0 || hi < lo ||
        hi > double(kMaxLength))
        throw Error("traffic spec " + quote(spec) +
                    ": geometric min and max must be whole numbers "
                    "with 0 <= min <= max");
    const double q = 1.0 / params["mean"];
    const double logKeep = std::log1p(-q); // -inf when q == 1: every generation is one token
    Random rng(seed);
    std::vector<int64_t> out(static_cast<size_t>(n));
    for (auto& v : out) {
        const double u = rng.uniform();
        double k = q >= 1.0 ? 1.0 : std::ceil(std::log(u) / logKeep);
        k = std::max(k, 1.0);
        v = int64_t(std::clamp(k, lo, hi));
    }
    return out;
}

std::vector<int64_t> marginalDraws(const std::string& inner, const std::string& spec, int64_t n,
                                   uint64_t seed)
{
    rejectInnerSampling(inner, spec);
    if (inner.rfind("geometric:", 0) == 0)
        return geometricDraws(inner, spec, n, seed);
    if (!looksLikeSyntheticSpec(inner))
        throw Error("traffic spec " + quote(spec) + ": " + quote(inner) +
                    " is not a distribution (lognormal:, normal:, uniform:, zipf: or "
                    "geometric:)");
    return expand(
        syntheticDistribution(inner + ",n=" + std::to_string(n) + ",seed=" + std::to_string(seed)));
}

MarginalSummary summarize(std::vector<std::pair<int64_t, int64_t>> valueCounts)
{
    std::sort(valueCounts.begin(), valueCounts.end());
    MarginalSummary s;
    double sum = 0;
    for (const auto& [v, c] : valueCounts) {
        s.requests += c;
        sum += double(v) * double(c);
    }
    if (s.requests == 0)
        return s;
    s.min = valueCounts.front().first;
    s.max = valueCounts.back().first;
    s.mean = sum / double(s.requests);
    int64_t distinct = 0, last = -1;
    for (const auto& [v, c] : valueCounts)
        if (v != last)
            ++distinct, last = v;
    s.distinct = distinct;
    auto quantile = [&](int percent) {
        const int64_t rank =
            std::max<int64_t>(1, int64_t((__int128(s.requests) * percent + 99) / 100));
        int64_t seen = 0;
        for (const auto& [v, c] : valueCounts)
            if ((seen += c) >= rank)
                return v;
        return s.max;
    };
    s.p50 = quantile(50);
    s.p90 = quantile(90);
    s.p99 = quantile(99);
    return s;
}

} // namespace

RequestTraffic RequestTraffic::fromPairs(std::vector<RequestPair> pairs)
{
    for (const auto& p : pairs) {
        if (p.prompt < 1 || p.prompt > kMaxLength)
            throw Error("prompt length " + std::to_string(p.prompt) + " is outside 1.." +
                        std::to_string(kMaxLength));
        if (p.output < 0 || p.output > kMaxLength)
            throw Error("output length " + std::to_string(p.output) + " is outside 0.." +
                        std::to_string(kMaxLength));
        if (p.count < 0)
            throw Error("request count " + std::to_string(p.count) + " is negative");
    }
    std::sort(pairs.begin(), pairs.end(), [](const RequestPair& a, const RequestPair& b) {
        return a.prompt != b.prompt ? a.prompt < b.prompt : a.output < b.output;
    });
    RequestTraffic t;
    for (const auto& p : pairs) {
        if (p.count == 0)
            continue;
        if (!t.pairs_.empty() && t.pairs_.back().prompt == p.prompt &&
            t.pairs_.back().output == p.output)
            t.pairs_.back().count += p.count;
        else
            t.pairs_.push_back(p);
        t.requests_ += p.count;
        if (t.requests_ > kMaxTotalRequests)
            throw Error("more than 2^62 requests in total");
        t.maxPrompt_ = std::max(t.maxPrompt_, p.prompt);
        t.maxOutput_ = std::max(t.maxOutput_, p.output);
        t.maxTotal_ = std::max(t.maxTotal_, p.prompt + p.output);
    }
    return t;
}

LengthHistogram RequestTraffic::prompts() const
{
    std::vector<std::pair<int64_t, int64_t>> counts;
    counts.reserve(pairs_.size());
    for (const auto& p : pairs_)
        counts.emplace_back(p.prompt, p.count);
    return LengthHistogram::fromCounts(std::move(counts));
}

MarginalSummary RequestTraffic::promptSummary() const
{
    std::vector<std::pair<int64_t, int64_t>> v;
    for (const auto& p : pairs_)
        v.emplace_back(p.prompt, p.count);
    return summarize(std::move(v));
}

MarginalSummary RequestTraffic::outputSummary() const
{
    std::vector<std::pair<int64_t, int64_t>> v;
    for (const auto& p : pairs_)
        v.emplace_back(p.output, p.count);
    return summarize(std::move(v));
}

std::string RequestTraffic::toCsv() const
{
    std::string out = "prompt,output,count\n";
    for (const auto& p : pairs_)
        out += std::to_string(p.prompt) + "," + std::to_string(p.output) + "," +
               std::to_string(p.count) + "\n";
    return out;
}

const std::vector<std::string>& defaultPromptFieldNames()
{
    static const std::vector<std::string> names{"ContextTokens", "prompt_tokens", "input_tokens",
                                                "prompt_len",    "prompt_length", "input_len",
                                                "input_length",  "prompt",        "context_tokens"};
    return names;
}

const std::vector<std::string>& defaultOutputFieldNames()
{
    static const std::vector<std::string> names{
        "GeneratedTokens", "output_tokens", "completion_tokens", "generated_tokens", "output_len",
        "output_length",   "output",        "decode_tokens"};
    return names;
}

const std::vector<std::string>& defaultCountFieldNames()
{
    static const std::vector<std::string> names{"count", "requests", "num_requests"};
    return names;
}

RequestTraffic readRequestTraffic(const std::string& path, const TrafficReadOptions& options)
{
    LineReader r = LineReader::openFile(path);
    return isJsonl(path) ? readJsonl(r, options) : readCsv(r, options);
}

RequestTraffic parseRequestTrafficCsv(std::string_view text, const std::string& name,
                                      const TrafficReadOptions& options)
{
    LineReader r = LineReader::fromMemory(text, name);
    return readCsv(r, options);
}

RequestTraffic parseRequestTrafficJsonl(std::string_view text, const std::string& name,
                                        const TrafficReadOptions& options)
{
    LineReader r = LineReader::fromMemory(text, name);
    return readJsonl(r, options);
}

bool looksLikeTrafficSpec(const std::string& text)
{
    const std::string t = trimmedBlanks(text);
    return t.rfind("prompt=", 0) == 0 || t.rfind("output=", 0) == 0;
}

RequestTraffic loadRequestTraffic(const std::string& fileOrSpec, const TrafficReadOptions& options)
{
    std::error_code ec;
    if (!std::filesystem::exists(fileOrSpec, ec) && looksLikeTrafficSpec(fileOrSpec))
        return syntheticRequestTraffic(fileOrSpec);
    return readRequestTraffic(fileOrSpec, options);
}

RequestTraffic syntheticRequestTraffic(const std::string& spec)
{
    const SyntheticParts parts = parseSpec(spec);
    // Distinct seeds per marginal and for the pairing, derived from the one the user gave.
    const std::vector<int64_t> prompts = marginalDraws(parts.prompt, spec, parts.n, parts.seed);
    std::vector<int64_t> outputs =
        marginalDraws(parts.output, spec, parts.n, parts.seed * 2654435761u + 17);
    Random rng(parts.seed ^ 0x9e3779b97f4a7c15ull);
    for (size_t i = outputs.size(); i > 1; --i)
        std::swap(outputs[i - 1], outputs[rng.below(i)]);
    std::map<std::pair<int64_t, int64_t>, int64_t> counts;
    for (size_t i = 0; i < prompts.size(); ++i)
        ++counts[{prompts[i], outputs[i]}];
    std::vector<RequestPair> pairs;
    pairs.reserve(counts.size());
    for (const auto& [pg, c] : counts)
        pairs.push_back({pg.first, pg.second, c});
    return RequestTraffic::fromPairs(std::move(pairs));
}

} // namespace bucketlab
