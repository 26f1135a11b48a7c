// What a model or package file holds: methods with their signatures, parameters and
// buffers with shapes and sizes, submodules, the package metadata when present, and the
// bucket kernel / state preprocessor sources. Read from the archive alone (archive.h):
// nothing is loaded, compiled or run.
#pragma once

#include "core/spec/package_meta.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bucketlab {

struct TensorInfo {
    std::string name; // dotted path, e.g. bucket_0.l0_q_w
    std::vector<int64_t> shape;
    std::string dtype;
    int64_t bytes = 0;
    bool parameter = true; // false: buffer
};

struct MethodInfo {
    std::string name;
    std::string schema; // e.g. forward(Tensor input_ids, Tensor attention_mask) -> Tensor
};

struct KernelSourceInfo {
    std::string role; // "bucket_kernel" or "state_preprocessor"
    std::string name; // qualified name in the archive
    std::string schema;
    std::string file; // code record holding it
    int line = 0;
    std::string source;
};

struct ModelInfo {
    std::string path;
    int64_t fileBytes = 0;
    std::optional<PackageMeta> package;
    std::vector<MethodInfo> methods;
    std::vector<TensorInfo> tensors; // parameters and buffers, each distinct tensor once
    std::vector<std::string> submodules;
    int64_t parameterCount = 0; // elements of distinct parameters
    int64_t tensorBytes = 0;    // bytes of distinct storages
    std::string rootClass;
    std::vector<std::string> customClasses; // torch.classes.* (loadable only with their runtime)
    std::vector<TensorInfo> constants;      // tensor constants of the code (constants.pkl)
    std::vector<KernelSourceInfo> kernels;
};

// Describes the archive without executing, compiling or loading weights. Throws Error for
// unreadable or non-TorchScript files.
ModelInfo inspectModel(const std::string& path);

nlohmann::json modelInfoJson(const ModelInfo& info);

} // namespace bucketlab
