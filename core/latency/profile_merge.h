// Latency profiles of one model from several hosts, combined into one profile the tuner reads
// like any other. Per (length, batch): when every host stored its raw samples they are pooled
// (the median and its bootstrap interval come from all of them); otherwise the point is the
// median of the hosts' medians (and of their other statistics), with a bootstrap interval over
// the hosts. A shape only one host measured keeps that host's point. Profiles of different models,
// inputs or devices are refused, naming what differs and both files: a merged profile must describe
// one thing.
#pragma once

#include "core/latency/profile_format.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace bucketlab {

struct ProfileSource {
    std::string name; // how messages name it (the file)
    Profile profile;
};

enum class MergeMethod {
    PooledSamples,   // every host stored samples: one point from all of them
    MedianOfMedians, // at least one host stored statistics only
    OneHost,         // only one host measured the shape: its point as it is
    Failed           // no host measured the shape: its errors, joined
};

struct MergedPoint {
    int64_t length = 0;
    int64_t batch = 1;
    MergeMethod method = MergeMethod::PooledSamples;
    std::vector<std::string> sources; // the profiles that measured it, in the order given
};

struct ProfileMerge {
    Profile profile;                  // points ascending by (length, batch)
    std::vector<MergedPoint> points;  // same order as profile.points
    std::vector<std::string> sources; // the profiles merged, in the order given

    // {"profiles": [...], "points": [{"length", "batch", "method", "hosts", "p50_ms",
    //  "ci95_ms", "samples", "flags"}]}
    nlohmann::json toJson() const;
};

// "pooled samples", "median of host medians", "one host" or "failed".
std::string mergeMethodName(MergeMethod method);

// The first difference between two profiles that forbids merging them, as a phrase ("the
// inputs differ: 'a' in A.json, 'b' in B.json"), or "" when they describe the same model,
// inputs and device. Compared: the model (its SHA-256 when both record one, else its file
// name), the measured target, inputs, bucket and batch dimensions, the device kind and name,
// the thread count and the clock (settings only when both record them).
std::string profileDifference(const ProfileSource& a, const ProfileSource& b);

// Throws Error with one line naming the difference and both sources when the profiles differ,
// when fewer than two are given or one is given twice (by name). `seed` makes the bootstrap
// intervals reproducible.
ProfileMerge mergeProfiles(const std::vector<ProfileSource>& sources, uint64_t seed = 1);
// Reads the files (JSON or CSV profiles) and merges them; also refuses two paths to one file.
ProfileMerge mergeProfileFiles(const std::vector<std::string>& paths, uint64_t seed = 1);

} // namespace bucketlab
