// bucketlab.profile/1: measured latency per input shape, written by the profiler (LibTorch
// here, or resources/neuron/profile_buckets.py on a Neuron host) and read by the latency
// curve. CSV `length,latency_ms` (one row per sample or per length) is read too.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace bucketlab {

inline constexpr const char* kProfileFormat = "bucketlab.profile/1";

struct ProfilePoint {
    int64_t length = 0;
    int64_t batch = 1;
    std::vector<double> samplesMs; // raw, in measurement order (may be empty for imports)
    double p50Ms = 0, p90Ms = 0, p99Ms = 0, meanMs = 0, stdevMs = 0, madMs = 0;
    double ci95LowMs = 0, ci95HighMs = 0; // CI of the median
    int64_t samples = 0;
    int64_t outliers = 0;           // outside Tukey fences (reported, never dropped)
    int64_t warmupRuns = 0;         // runs before sampling, discarded (not in samplesMs)
    std::vector<std::string> flags; // see core/latency/sample_statistics.h: "noisy", "drift", ...
    std::string error;              // why this point could not be measured
    bool ok() const { return error.empty(); }
};

struct Profile {
    std::string format = kProfileFormat;
    std::string modelFile; // file name
    std::string modelSha256;
    std::string deviceKind = "cpu"; // cpu | cuda | neuron
    std::string deviceName;
    int threads = 1;
    std::map<std::string, std::string> environment; // cpu_model, libtorch, host, os, ...
    std::map<std::string, std::string> settings;    // budget_s, target_ci_pct, inputs, ...
    std::string createdBy;
    std::string createdAt;
    std::vector<ProfilePoint> points;
};

// Fills p50/p90/p99/mean/stdev/MAD/samples/outliers from samplesMs (percentiles by linear
// interpolation between order statistics). The CI and flags are the profiler's business.
void summarizeSamples(ProfilePoint& point);

// The phase of a decoder a profile measured, recorded in its settings under "phase": a
// prefill (context-encoding, CTE) pass over a prompt of `length` tokens, or one decode
// (token-generation, TKG) step at sequence bucket `length`. Empty for a whole forward().
inline constexpr const char* kPhaseSetting = "phase";
inline constexpr const char* kPhasePrefill = "prefill";
inline constexpr const char* kPhaseDecode = "decode";
std::string profilePhase(const Profile& profile);

nlohmann::json profileJson(const Profile& profile);
// `where` names the source (file) in errors.
Profile profileFromJson(const std::string& json, const std::string& where);
// CSV with header `length,latency_ms` (extra columns ignored; `batch` honoured). Repeated
// lengths are samples of one point. Errors name file:line.
Profile profileFromCsv(const std::string& text, const std::string& where);
// Reads JSON or CSV (by content). Throws Error on unreadable or invalid files: no points,
// non-positive or non-finite latencies, lengths <= 0.
Profile readProfile(const std::string& path);
void writeProfile(const std::string& path, const Profile& profile, bool replace);

} // namespace bucketlab
