// A saved BucketLab session (`*.bucketlab.json`, format bucketlab.project/1): the model or
// package, traffic distributions, latency sources (profiles or analytic specs), named
// boundary sets and notes. Paths are stored relative to the project file when they are below
// it, so a project directory can be moved or shared.
#pragma once

#include "core/spec/boundaries.h"
#include "core/traffic/distribution.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace bucketlab {

inline constexpr const char* kProjectFormat = "bucketlab.project/1";

struct DistributionSource {
    std::string name;
    std::string source;                         // file path or synthetic spec
    std::map<std::string, std::string> options; // column, field, vocab, text_columns, ...
};

struct LatencySource {
    std::string name;
    std::string source; // profile path (JSON/CSV) or analytic spec (linear:a,b)
};

struct BoundarySet {
    std::string name;
    std::string kind; // current | tuned | baseline | user
    Boundaries boundaries;
};

struct Project {
    std::string path; // where it was read from or will be written to
    std::string model;
    std::string inputs; // input spec for plain models
    std::vector<DistributionSource> distributions;
    std::vector<LatencySource> latencies;
    std::vector<BoundarySet> boundarySets;
    std::string activeBoundarySet;
    std::string notes;
};

// How to read a project's distribution: its options (column, field, vocab, text_columns,
// lowercase) as the traffic readers take them.
DistributionOptions distributionOptionsOf(const DistributionSource& source);

nlohmann::json projectJson(const Project& project);
// Relative paths in the file are resolved against the project file's directory.
Project projectFromJson(const std::string& json, const std::string& projectPath);
Project readProject(const std::string& path);
void writeProject(const Project& project, const std::string& path);

// Files the project refers to that do not exist (model, distribution and profile files;
// specs that are not paths are skipped). Each entry: "what: path".
std::vector<std::string> missingProjectFiles(const Project& project);

// Files the project refers to outside the project file's folder (and its subfolders), with
// symbolic links resolved: "../../../etc/passwd", an absolute path elsewhere, or a link that
// leads out. The desktop lists them and asks before it reads any. Each entry: "what: path".
std::vector<std::string> outsideProjectFiles(const Project& project);

} // namespace bucketlab
