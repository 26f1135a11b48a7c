// bucketlab_meta: the JSON description every BucketLab package carries, both as the
// module attribute `bucketlab_meta` (for PyTorch users) and as the archive record
// `extra/bucketlab_meta.json` (so it can be read without loading or running anything).
#pragma once

#include "core/spec/boundaries.h"
#include "core/spec/input_spec.h"
#include "core/spec/state_spec.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace bucketlab {

inline constexpr const char* kPackageFormat = "bucketlab.package/1";
inline constexpr const char* kMetaExtraFile = "bucketlab_meta.json";

struct ModelFileRef {
    std::string file;   // file name as given (not a path on this machine)
    std::string sha256; // hex
    int64_t bucket = 0; // boundary served (per-bucket packages), 0 for a shared model
};

enum class PackageKind { Shared, PerBucket };

struct PackageMeta {
    std::string format = kPackageFormat;
    PackageKind kind = PackageKind::Shared;
    Boundaries boundaries;
    int64_t bucketDim = 1;
    int64_t batchDim = 0;
    std::vector<InputSpec> inputs;
    std::vector<StateSpec> states;
    std::string createdBy;
    std::string createdAt;            // ISO 8601, UTC
    std::vector<ModelFileRef> models; // one for Shared, one per bucket for PerBucket
    bool userKernel = false;          // kernel supplied by the user rather than generated
    PaddingSide paddingSide = PaddingSide::Right;
    // What a user kernel takes after its inputs (NxD's bucket_kernel_constant_args), as the
    // TorchScript expressions given, e.g. "torch.tensor([128, 512]), 'left', 0"; forward()
    // passes them on every call. Empty: none (generated kernels, and packages written before
    // the field existed).
    std::string constantArgs;

    int64_t maxLength() const { return boundaries.largest(); }
};

std::string packageKindName(PackageKind kind);
nlohmann::json metaJson(const PackageMeta& meta);
// `where` names the source in error messages (file name of the package).
PackageMeta metaFromJson(const std::string& json, const std::string& where);

// "created_by" value for this build.
std::string creatorString();
std::string utcNowIso8601();

} // namespace bucketlab
