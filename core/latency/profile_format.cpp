#include "core/latency/profile_format.h"

#include "core/spec/boundaries.h"
#include "core/util/error.h"
#include "core/util/output_file.h"
#include "core/util/text.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <sstream>

namespace bucketlab {

using nlohmann::json;

namespace {

double percentile(const std::vector<double>& sorted, double q)
{
    if (sorted.empty())
        return 0.0;
    const double pos = q * double(sorted.size() - 1);
    const size_t lo = size_t(std::floor(pos));
    const size_t hi = std::min(lo + 1, sorted.size() - 1);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - double(lo));
}

void checkLatency(double v, const std::string& where)
{
    if (!std::isfinite(v) || v <= 0)
        throw Error(where + ": latency " + (std::isfinite(v) ? std::to_string(v) : "non-finite") +
                    " ms is not a positive finite number");
}

void checkPoint(const ProfilePoint& p, const std::string& where)
{
    // The bounds every length and batch size has (core/spec/boundaries.h): a profile's point
    // becomes a length the tuner and the curve work with.
    if (p.length <= 0 || p.length > kMaxLength)
        throw Error(where + ": length " + std::to_string(p.length) + " is not in 1.." +
                    std::to_string(kMaxLength));
    if (p.batch <= 0 || p.batch > kMaxBatch)
        throw Error(where + ": batch " + std::to_string(p.batch) + " is not in 1.." +
                    std::to_string(kMaxBatch));
    if (p.ok())
        for (double v : {p.p50Ms, p.meanMs})
            checkLatency(v, where);
    for (double v : p.samplesMs)
        checkLatency(v, where);
}

} // namespace

void summarizeSamples(ProfilePoint& p)
{
    std::vector<double> s = p.samplesMs;
    std::sort(s.begin(), s.end());
    p.samples = int64_t(s.size());
    if (s.empty())
        return;
    p.p50Ms = percentile(s, 0.50);
    p.p90Ms = percentile(s, 0.90);
    p.p99Ms = percentile(s, 0.99);
    double sum = 0;
    for (double v : s)
        sum += v;
    p.meanMs = sum / double(s.size());
    double var = 0;
    for (double v : s)
        var += (v - p.meanMs) * (v - p.meanMs);
    p.stdevMs = s.size() > 1 ? std::sqrt(var / double(s.size() - 1)) : 0.0;
    std::vector<double> dev;
    for (double v : s)
        dev.push_back(std::abs(v - p.p50Ms));
    std::sort(dev.begin(), dev.end());
    p.madMs = percentile(dev, 0.5);
    const double q1 = percentile(s, 0.25), q3 = percentile(s, 0.75), iqr = q3 - q1;
    p.outliers = 0;
    for (double v : s)
        if (v < q1 - 1.5 * iqr || v > q3 + 1.5 * iqr)
            ++p.outliers;
}

nlohmann::json profileJson(const Profile& profile)
{
    json j;
    j["format"] = profile.format;
    j["model"] = {{"file", profile.modelFile}, {"sha256", profile.modelSha256}};
    j["device"] = {
        {"kind", profile.deviceKind}, {"name", profile.deviceName}, {"threads", profile.threads}};
    j["environment"] = profile.environment;
    j["settings"] = profile.settings;
    j["created_by"] = profile.createdBy;
    j["created_at"] = profile.createdAt;
    j["points"] = json::array();
    for (const auto& p : profile.points) {
        json q;
        q["length"] = p.length;
        q["batch"] = p.batch;
        q["p50_ms"] = p.p50Ms;
        q["p90_ms"] = p.p90Ms;
        q["p99_ms"] = p.p99Ms;
        q["mean_ms"] = p.meanMs;
        q["stdev_ms"] = p.stdevMs;
        q["mad_ms"] = p.madMs;
        q["ci95_ms"] = {p.ci95LowMs, p.ci95HighMs};
        q["samples"] = p.samples;
        q["outliers"] = p.outliers;
        q["warmup_runs"] = p.warmupRuns;
        q["flags"] = p.flags;
        q["error"] = p.error.empty() ? json(nullptr) : json(p.error);
        q["samples_ms"] = p.samplesMs;
        j["points"].push_back(q);
    }
    return j;
}

namespace {

// A profile's model, device, environment, settings and creator (all optional).
void readProfileHeader(const json& j, Profile& p)
{
    if (j.contains("model") && j["model"].is_object()) {
        p.modelFile = j["model"].value("file", std::string());
        p.modelSha256 = j["model"].value("sha256", std::string());
    }
    if (j.contains("device") && j["device"].is_object()) {
        p.deviceKind = j["device"].value("kind", std::string("cpu"));
        p.deviceName = j["device"].value("name", std::string());
        p.threads = j["device"].value("threads", 1);
    }
    for (const char* key : {"environment", "settings"})
        if (j.contains(key) && j[key].is_object())
            for (const auto& [k, v] : j[key].items())
                (std::string(key) == "environment" ? p.environment : p.settings)[k] =
                    v.is_string() ? v.get<std::string>() : v.dump();
    p.createdBy = j.value("created_by", std::string());
    p.createdAt = j.value("created_at", std::string());
}

// One element of "points"; `at` names it in errors.
ProfilePoint pointFromJson(const json& q, const std::string& at)
{
    ProfilePoint pt;
    // Whole numbers only: nlohmann casts 3e20 to int64 (undefined behaviour).
    const auto whole = [&](const char* k, int64_t otherwise) -> int64_t {
        if (!q.contains(k))
            return otherwise;
        const json& v = q[k];
        if (!v.is_number_integer() ||
            (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX)))
            throw Error(at + "." + k + " is not a whole number");
        return v.get<int64_t>();
    };
    if (!q.contains("length"))
        throw Error(at + " has no length");
    pt.length = whole("length", 0);
    pt.batch = whole("batch", 1);
    if (q.contains("samples_ms") && q["samples_ms"].is_array())
        pt.samplesMs = q["samples_ms"].get<std::vector<double>>();
    if (q.contains("error") && q["error"].is_string())
        pt.error = q["error"].get<std::string>();
    if (!pt.samplesMs.empty())
        summarizeSamples(pt);
    // Stored statistics win over recomputed ones (imports may carry no samples).
    auto num = [&](const char* k, double& v) {
        if (q.contains(k) && q[k].is_number())
            v = q[k].get<double>();
        else if (q.contains(k) && !q[k].is_null())
            throw Error(at + "." + k + " is not a number");
    };
    num("p50_ms", pt.p50Ms);
    num("p90_ms", pt.p90Ms);
    num("p99_ms", pt.p99Ms);
    num("mean_ms", pt.meanMs);
    num("stdev_ms", pt.stdevMs);
    num("mad_ms", pt.madMs);
    if (pt.meanMs == 0 && pt.p50Ms > 0)
        pt.meanMs = pt.p50Ms;
    if (pt.p50Ms == 0 && pt.meanMs > 0)
        pt.p50Ms = pt.meanMs;
    if (q.contains("ci95_ms") && q["ci95_ms"].is_array() && q["ci95_ms"].size() == 2) {
        pt.ci95LowMs = q["ci95_ms"][0].get<double>();
        pt.ci95HighMs = q["ci95_ms"][1].get<double>();
    }
    if (q.contains("samples") && q["samples"].is_number_integer())
        pt.samples = q["samples"].get<int64_t>();
    pt.outliers = whole("outliers", pt.outliers);
    pt.warmupRuns = whole("warmup_runs", 0);
    if (q.contains("flags") && q["flags"].is_array())
        pt.flags = q["flags"].get<std::vector<std::string>>();
    checkPoint(pt, at);
    return pt;
}

} // namespace

Profile profileFromJson(const std::string& text, const std::string& where)
{
    json j;
    try {
        j = json::parse(text);
    } catch (const json::exception& e) { // parse_error, or out_of_range (1e400)
        throw Error(where + ": not valid JSON (" + libraryMessage(e.what()) + ")");
    }
    // (value() would throw nlohmann's type_error for a "format" that is not a string.)
    if (!j.is_object() || !j.contains("format") || j["format"] != kProfileFormat)
        throw Error(where + ": not a " + std::string(kProfileFormat) +
                    " profile (missing or different \"format\")");
    Profile p;
    try {
        readProfileHeader(j, p);
        if (!j.contains("points") || !j["points"].is_array())
            throw Error(where + ": no \"points\" array");
        size_t i = 0;
        for (const auto& q : j["points"])
            p.points.push_back(pointFromJson(q, where + ": points[" + std::to_string(i++) + "]"));
    } catch (const json::exception& e) {
        throw Error(where + ": malformed profile (" + libraryMessage(e.what()) + ")");
    }
    if (p.points.empty())
        throw Error(where + ": the profile has no points");
    return p;
}

namespace {

// A CSV/TSV line's cells (tab-separated when it has a tab), blanks trimmed.
std::vector<std::string> csvCells(const std::string& l)
{
    std::vector<std::string> out;
    std::string cell;
    std::istringstream s(l);
    const char sep = l.find('\t') != std::string::npos ? '\t' : ',';
    while (std::getline(s, cell, sep)) {
        const auto b = cell.find_first_not_of(" \t\r");
        const auto e = cell.find_last_not_of(" \t\r");
        out.push_back(b == std::string::npos ? std::string() : cell.substr(b, e - b + 1));
    }
    return out;
}

// Where a profile CSV keeps its figures (batch: -1 when it has no such column).
struct CsvColumns {
    int length = -1, latency = -1, batch = -1;
};

CsvColumns csvColumns(const std::vector<std::string>& header, const std::string& where,
                      int64_t lineNo)
{
    CsvColumns c;
    for (size_t i = 0; i < header.size(); ++i) {
        if (header[i] == "length")
            c.length = int(i);
        else if (header[i] == "latency_ms")
            c.latency = int(i);
        else if (header[i] == "batch")
            c.batch = int(i);
    }
    if (c.length < 0 || c.latency < 0)
        throw Error(located(where, lineNo, "expected a header with columns length and latency_ms"));
    return c;
}

// One data line as a sample of its (length, batch) point.
void addCsvSample(const std::vector<std::string>& cells, const CsvColumns& cols,
                  const std::string& where, int64_t lineNo,
                  std::map<std::pair<int64_t, int64_t>, ProfilePoint>& byShape)
{
    auto cell = [&](int col, const char* what) {
        if (col >= int(cells.size()))
            throw Error(located(where, lineNo, std::string("missing ") + what + " value"));
        const std::string& t = cells[size_t(col)];
        char* end = nullptr;
        const double v = std::strtod(t.c_str(), &end);
        if (t.empty() || end != t.c_str() + t.size())
            throw Error(
                located(where, lineNo, std::string(what) + " " + quote(t) + " is not a number"));
        return v;
    };
    const double length = cell(cols.length, "length");
    const double latency = cell(cols.latency, "latency_ms");
    const double batch = cols.batch >= 0 ? cell(cols.batch, "batch") : 1.0;
    if (length <= 0 || length != std::floor(length) || length > double(kMaxLength))
        throw Error(located(where, lineNo,
                            "length " + quote(cells[size_t(cols.length)]) +
                                " is not a positive integer up to " + std::to_string(kMaxLength)));
    if (batch <= 0 || batch != std::floor(batch) || batch > double(kMaxBatch))
        throw Error(located(where, lineNo,
                            "batch " + quote(cells[size_t(cols.batch)]) +
                                " is not a positive integer up to " + std::to_string(kMaxBatch)));
    if (!std::isfinite(latency) || latency <= 0)
        throw Error(located(where, lineNo,
                            "latency_ms " + quote(cells[size_t(cols.latency)]) +
                                " is not a positive finite number"));
    auto& pt = byShape[{int64_t(length), int64_t(batch)}];
    pt.length = int64_t(length);
    pt.batch = int64_t(batch);
    pt.samplesMs.push_back(latency);
}

} // namespace

Profile profileFromCsv(const std::string& text, const std::string& where)
{
    std::istringstream in(text);
    std::string line;
    int64_t lineNo = 0;
    bool haveHeader = false;
    CsvColumns cols;
    std::map<std::pair<int64_t, int64_t>, ProfilePoint> byShape;
    while (std::getline(in, line)) {
        ++lineNo;
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos)
            continue;
        if (!haveHeader) {
            cols = csvColumns(csvCells(line), where, lineNo);
            haveHeader = true;
            continue;
        }
        addCsvSample(csvCells(line), cols, where, lineNo, byShape);
    }
    if (!haveHeader)
        throw Error(where + ": empty file");
    Profile p;
    p.deviceKind = "imported";
    for (auto& [shape, pt] : byShape) {
        summarizeSamples(pt);
        p.points.push_back(pt);
    }
    if (p.points.empty())
        throw Error(where + ": the profile has no points");
    return p;
}

std::string profilePhase(const Profile& profile)
{
    const auto it = profile.settings.find(kPhaseSetting);
    return it == profile.settings.end() ? std::string() : it->second;
}

Profile readProfile(const std::string& path)
{
    const std::string text = readFile(path, kMaxDataFileBytes, "a latency profile");
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first != std::string::npos && text[first] == '{')
        return profileFromJson(text, path);
    return profileFromCsv(text, path);
}

void writeProfile(const std::string& path, const Profile& profile, bool replace)
{
    writeFileAtomically(path, profileJson(profile).dump(2) + "\n", replace);
}

} // namespace bucketlab
