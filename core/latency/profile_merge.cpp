#include "core/latency/profile_merge.h"

#include "core/latency/sample_statistics.h"
#include "core/spec/package_meta.h"
#include "core/util/error.h"
#include "core/util/output_file.h"
#include "core/util/text.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <set>

namespace bucketlab {

namespace {

constexpr int kResamples = 4000;

double medianOf(std::vector<double> values)
{
    std::sort(values.begin(), values.end());
    const size_t n = values.size();
    return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

// A seed per shape, so that a shape's interval does not depend on which others were merged.
uint64_t shapeSeed(uint64_t seed, int64_t length, int64_t batch)
{
    return seed ^ (uint64_t(length) * 0x9e3779b97f4a7c15ULL) ^
           (uint64_t(batch) * 0xbf58476d1ce4e5b9ULL);
}

std::string setting(const Profile& p, const char* key)
{
    const auto it = p.settings.find(key);
    return it == p.settings.end() ? std::string() : it->second;
}

std::string joinedLengths(const std::set<int64_t>& values)
{
    std::string out;
    for (int64_t v : values)
        out += (out.empty() ? "" : ",") + std::to_string(v);
    return out;
}

// One host's figures for a shape.
struct Contribution {
    const ProfileSource* source;
    const ProfilePoint* point;
};

ProfilePoint mergePoint(const std::vector<Contribution>& all, uint64_t seed, MergedPoint& info)
{
    ProfilePoint merged;
    merged.length = all.front().point->length;
    merged.batch = all.front().point->batch;
    info.length = merged.length;
    info.batch = merged.batch;
    std::vector<Contribution> ok;
    for (const auto& c : all)
        if (c.point->ok())
            ok.push_back(c);
    if (ok.empty()) {
        info.method = MergeMethod::Failed;
        for (const auto& c : all) {
            info.sources.push_back(c.source->name);
            merged.error +=
                (merged.error.empty() ? "" : "; ") + c.source->name + ": " + c.point->error;
        }
        addFlag(merged, kFlagFailed);
        return merged;
    }
    if (ok.size() == 1) {
        // One host measured it: its point as it is, its own interval included.
        info.method = MergeMethod::OneHost;
        info.sources.push_back(ok.front().source->name);
        merged = *ok.front().point;
        return merged;
    }
    for (const auto& c : ok) {
        info.sources.push_back(c.source->name);
        merged.warmupRuns += c.point->warmupRuns;
        for (const auto& f : c.point->flags)
            if (f != kFlagFailed)
                addFlag(merged, f);
    }
    const bool pooled = std::all_of(
        ok.begin(), ok.end(), [](const Contribution& c) { return !c.point->samplesMs.empty(); });
    const uint64_t pointSeed = shapeSeed(seed, merged.length, merged.batch);
    if (pooled) {
        info.method = MergeMethod::PooledSamples;
        for (const auto& c : ok)
            merged.samplesMs.insert(merged.samplesMs.end(), c.point->samplesMs.begin(),
                                    c.point->samplesMs.end());
        summarizePointWithCi(merged, kResamples, pointSeed);
        return merged;
    }
    // Statistics only from some host: each figure is the median over the hosts, and the
    // interval is the bootstrap's over the hosts' medians.
    info.method = MergeMethod::MedianOfMedians;
    auto over = [&](double ProfilePoint::*field) {
        std::vector<double> values;
        for (const auto& c : ok)
            values.push_back(c.point->*field);
        return medianOf(values);
    };
    merged.p50Ms = over(&ProfilePoint::p50Ms);
    merged.p90Ms = over(&ProfilePoint::p90Ms);
    merged.p99Ms = over(&ProfilePoint::p99Ms);
    merged.meanMs = over(&ProfilePoint::meanMs);
    merged.stdevMs = over(&ProfilePoint::stdevMs);
    merged.madMs = over(&ProfilePoint::madMs);
    for (const auto& c : ok) {
        merged.samples += c.point->samples;
        merged.outliers += c.point->outliers;
    }
    std::vector<double> medians;
    for (const auto& c : ok)
        medians.push_back(c.point->p50Ms);
    std::sort(medians.begin(), medians.end());
    const auto ci = bootstrapMedianCi(medians, 0.95, kResamples, pointSeed);
    merged.ci95LowMs = ci.low;
    merged.ci95HighMs = ci.high;
    return merged;
}

} // namespace

std::string mergeMethodName(MergeMethod method)
{
    switch (method) {
    case MergeMethod::PooledSamples: return "pooled samples";
    case MergeMethod::MedianOfMedians: return "median of host medians";
    case MergeMethod::OneHost: return "one host";
    case MergeMethod::Failed: return "failed";
    }
    return {};
}

std::string profileDifference(const ProfileSource& a, const ProfileSource& b)
{
    auto differ = [&](const std::string& what, const std::string& x, const std::string& y) {
        return what + " differ" + (what.back() == 's' ? "" : "s") + ": " + quote(x) + " in " +
               a.name + ", " + quote(y) + " in " + b.name;
    };
    const Profile& p = a.profile;
    const Profile& q = b.profile;
    if (!p.modelSha256.empty() && !q.modelSha256.empty()) {
        if (p.modelSha256 != q.modelSha256)
            return "the models differ: " + p.modelFile + " (SHA-256 " +
                   p.modelSha256.substr(0, 12) + "...) in " + a.name + ", " + q.modelFile +
                   " (SHA-256 " + q.modelSha256.substr(0, 12) + "...) in " + b.name;
    } else if (p.modelSha256.empty() != q.modelSha256.empty()) {
        return differ("the model's SHA-256", p.modelSha256.empty() ? "none" : p.modelSha256,
                      q.modelSha256.empty() ? "none" : q.modelSha256);
    } else if (p.modelFile != q.modelFile) {
        return differ("the model files", p.modelFile, q.modelFile);
    }
    for (const auto& [key, what] :
         std::vector<std::pair<const char*, const char*>>{{"target", "the measured targets"},
                                                          {"inputs", "the inputs"},
                                                          {"bucket_dim", "the length dimensions"},
                                                          {"batch_dim", "the batch dimensions"}}) {
        const std::string x = setting(p, key), y = setting(q, key);
        if (!x.empty() && !y.empty() && x != y)
            return differ(what, x, y);
    }
    if (p.deviceKind != q.deviceKind)
        return differ("the device kinds", p.deviceKind, q.deviceKind);
    if (p.deviceName != q.deviceName)
        return differ("the devices", p.deviceName, q.deviceName);
    if (p.threads != q.threads)
        return differ("the thread counts", std::to_string(p.threads), std::to_string(q.threads));
    const std::string x = setting(p, "clock"), y = setting(q, "clock");
    if (!x.empty() && !y.empty() && x != y)
        return differ("the clocks", x, y);
    return {};
}

ProfileMerge mergeProfiles(const std::vector<ProfileSource>& sources, uint64_t seed)
{
    if (sources.size() < 2)
        throw Error("merging profiles: " + std::to_string(sources.size()) +
                    " profile given; give two or more profiles of the same model to merge");
    for (size_t i = 0; i < sources.size(); ++i)
        for (size_t j = 0; j < i; ++j)
            if (sources[i].name == sources[j].name)
                throw Error("merging profiles: " + sources[i].name +
                            " is given twice; each profile may be merged once");
    for (size_t i = 1; i < sources.size(); ++i) {
        const std::string d = profileDifference(sources.front(), sources[i]);
        if (!d.empty())
            throw Error("merging profiles: cannot merge " + sources[i].name + " with " +
                        sources.front().name + ", " + d +
                        "; merge only profiles of one model, inputs and device");
    }

    ProfileMerge m;
    Profile& out = m.profile;
    const Profile& first = sources.front().profile;
    out.modelFile = first.modelFile;
    out.modelSha256 = first.modelSha256;
    out.deviceKind = first.deviceKind;
    out.deviceName = first.deviceName;
    out.threads = first.threads;
    // Environment: what all hosts share as is; what differs (the host names...) listed.
    std::map<std::string, std::vector<std::string>> environment;
    for (const auto& s : sources)
        for (const auto& [key, value] : s.profile.environment) {
            auto& values = environment[key];
            if (std::find(values.begin(), values.end(), value) == values.end())
                values.push_back(value);
        }
    for (const auto& [key, values] : environment) {
        std::string joined;
        for (const auto& v : values)
            joined += (joined.empty() ? "" : ", ") + v;
        out.environment[key] = joined;
    }
    // Settings: those every profile records alike; the run's own (budget, rounds...) differ
    // and go.
    // (No structured bindings captured by the lambda: C++17 does not allow it, and clang
    // refuses it, which the fuzz build uses.)
    for (const auto& setting : first.settings)
        if (std::all_of(sources.begin(), sources.end(), [&](const ProfileSource& s) {
                const auto it = s.profile.settings.find(setting.first);
                return it != s.profile.settings.end() && it->second == setting.second;
            }))
            out.settings[setting.first] = setting.second;
    std::string names;
    for (const auto& s : sources) {
        names += (names.empty() ? "" : ",") + s.name;
        m.sources.push_back(s.name);
    }
    out.settings["merged_from"] = names;
    out.createdBy = creatorString();
    out.createdAt = utcNowIso8601();

    std::map<std::pair<int64_t, int64_t>, std::vector<Contribution>> shapes;
    std::set<int64_t> lengths, batches;
    for (const auto& s : sources)
        for (const auto& p : s.profile.points) {
            shapes[{p.length, p.batch}].push_back({&s, &p});
            lengths.insert(p.length);
            batches.insert(p.batch);
        }
    out.settings["lengths"] = joinedLengths(lengths);
    out.settings["batches"] = joinedLengths(batches);
    for (const auto& [shape, contributions] : shapes) {
        MergedPoint info;
        out.points.push_back(mergePoint(contributions, seed, info));
        m.points.push_back(std::move(info));
    }
    return m;
}

ProfileMerge mergeProfileFiles(const std::vector<std::string>& paths, uint64_t seed)
{
    for (size_t i = 0; i < paths.size(); ++i)
        for (size_t j = 0; j < i; ++j)
            if (paths[i] == paths[j] || sameFile(paths[i], paths[j]))
                throw Error("merging profiles: " + paths[j] + " and " + paths[i] +
                            " are the same file; each profile may be merged once");
    std::vector<ProfileSource> sources;
    for (const auto& path : paths)
        sources.push_back({path, readProfile(path)});
    return mergeProfiles(sources, seed);
}

nlohmann::json ProfileMerge::toJson() const
{
    using nlohmann::json;
    json j;
    j["model"] = {{"file", profile.modelFile}, {"sha256", profile.modelSha256}};
    j["device"] = {
        {"kind", profile.deviceKind}, {"name", profile.deviceName}, {"threads", profile.threads}};
    j["profiles"] = sources;
    j["points"] = json::array();
    for (size_t i = 0; i < points.size(); ++i) {
        const ProfilePoint& p = profile.points[i];
        j["points"].push_back({{"length", p.length},
                               {"batch", p.batch},
                               {"method", mergeMethodName(points[i].method)},
                               {"hosts", points[i].sources},
                               {"p50_ms", p.p50Ms},
                               {"mean_ms", p.meanMs},
                               {"ci95_ms", {p.ci95LowMs, p.ci95HighMs}},
                               {"samples", p.samples},
                               {"flags", p.flags},
                               {"error", p.ok() ? json(nullptr) : json(p.error)}});
    }
    return j;
}

} // namespace bucketlab
