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
    PaddingSide paddingSide = PaddingSide::Right; // where the generated kernel pads
    std::string kernelFile;     // optional user kernel (TorchScript source or .py)
    std::string kernelFunction; // function in kernelFile; default: the only/first kernel
    // TorchScript expressions the user kernel takes after its inputs ("torch.tensor([128,
    // 512]), 'left', 0"), stored in the metadata and passed by forward() on every call. The
    // kernel gets the inputs at their length (the pad contract): forward() has nothing else.
    std::string constantArgs;
    std::string out;
    bool force = false;
};

struct PackageBuildResult {
    PackageMeta meta;
    std::string out;
    // False: the assembled package failed a call (runPackageAtEveryBucket, batch 1) and
    // nothing was written; `failure` says where and why.
    bool written = false;
    std::string failure;
    int64_t provenCalls = 0; // forward() calls made before writing
    // A call never returned: its thread still runs TorchScript, and a process that ends now
    // must leave with std::quick_exit.
    bool callAbandoned = false;
    int64_t packageBytes = 0;
    int64_t modelBytes = 0; // sum of the distinct model files packaged
};

// Parses "128=m128.pt,512=m512.pt".
std::vector<BucketModelFile> parsePerBucketSpec(const std::string& text);

// Validates the request (before loading anything), builds, proves the package runs (its
// forward() at every bucket, at the boundary and at the first length the bucket holds, batch
// 1), and only then writes it atomically. Throws Error on bad input; a package that cannot
// run is a result (written == false), not an exception. Never leaves a partial output file.
PackageBuildResult buildPackage(const PackageBuildRequest& request);

// Reads bucketlab_meta from the archive index without loading the model. Returns nullopt
// for a TorchScript archive that is not a package; throws Error for unreadable files.
std::optional<PackageMeta> readPackageMeta(const std::string& path);

} // namespace bucketlab
