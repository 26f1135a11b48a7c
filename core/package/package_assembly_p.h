// PRIVATE to core/ (LibTorch types). Puts a package module together from its metadata and
// its bucket models: the bucket submodules, the bucketlab_meta attribute, the shared state
// buffers with shapes_collection and state_preprocessor, the bucket kernel (generated, or
// the user's) and forward(). Shared by `build` and `export`.
#pragma once

#include "core/spec/package_meta.h"

#include <torch/script.h>

#include <string>
#include <vector>

namespace bucketlab {

// The package module's class (the same in every package, so tools can recognise it).
inline constexpr const char* kPackageClass = "__torch__.bucketlab.BucketPackage";

struct PackageAssembly {
    PackageMeta meta;
    // One per boundary. A shared package passes the same module object K times, so
    // TorchScript's pickler writes its weights once.
    std::vector<torch::jit::Module> buckets;
    std::string kernelFile;     // empty: generate the kernel from meta
    std::string kernelFunction; // function in kernelFile (empty: detected)
};

// Throws Error when the parts do not fit together (e.g. bucket models whose return types
// differ, a kernel without the bucket-kernel signature).
torch::jit::Module assemblePackage(const PackageAssembly& parts);

// Serialises an assembled package with its metadata also as the archive record
// extra/bucketlab_meta.json (readable without loading the model).
std::string serializePackage(const torch::jit::Module& package, const PackageMeta& meta);

} // namespace bucketlab
