// Building and recognising BucketLab packages (format bucketlab.package/1): a TorchScript
// archive whose forward() pads any length to its bucket and dispatches to that bucket's
// model. Either one shape-generic model serves every bucket (weights stored once) or one
// model file per bucket (models traced at fixed lengths).
#pragma once

#include "core/spec/input_spec.h"
#include "core/spec/package_meta.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bucketlab {

struct BucketModelFile {
    int64_t length = 0;
    std::string path;
};

struct PackageBuildRequest {
    std::string model;                      // one shape-generic model for all buckets, or
    std::vector<BucketModelFile> perBucket; // one model per bucket (its length is the boundary)
    Boundaries boundaries;                  // required with `model`; optional with perBucket
    std::vector<InputSpec> inputs;
    std::vector<StateSpec> states; // shared state buffers, one shape per bucket
    int64_t bucketDim = 1;
    int64_t batchDim = 0;
    std::string kernelFile;     // optional user kernel (TorchScript source or .py)
    std::string kernelFunction; // function in kernelFile; default: the only/first kernel
    std::string out;
    bool force = false;
};

struct PackageBuildResult {
    PackageMeta meta;
    std::string out;
    int64_t packageBytes = 0;
    int64_t modelBytes = 0; // sum of the distinct model files packaged
};

// Parses "128=m128.pt,512=m512.pt".
std::vector<BucketModelFile> parsePerBucketSpec(const std::string& text);

// Validates the request (before loading anything), builds, and writes the package
// atomically. Throws Error on bad input; never leaves a partial output file.
PackageBuildResult buildPackage(const PackageBuildRequest& request);

// Reads bucketlab_meta from the archive index without loading the model. Returns nullopt
// for a TorchScript archive that is not a package; throws Error for unreadable files.
std::optional<PackageMeta> readPackageMeta(const std::string& path);

} // namespace bucketlab
