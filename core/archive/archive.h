// Reads a TorchScript archive without executing or compiling any of it: the record index,
// the code files (code/**.py) as text, the pickled module tree (data.pkl) through a safe
// pickle reader, tensor shapes and sizes from the storage references (weights are never
// read), bucketlab_meta, and the bucket kernel and state preprocessor sources. It works on
// archives whose classes cannot be loaded here, such as Neuron bucket models holding
// torch.classes.neuron.* objects.
#pragma once

#include "core/archive/model_info.h"
#include "core/archive/script_code.h"
#include "core/spec/package_meta.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bucketlab {

struct ArchiveAttribute {
    std::string name;
    std::string kind;  // "tensor", "module", "object", "str", "int", "float", "bool",
                       // "none", "list", "tuple", "dict", "other"
    std::string type;  // the class for modules and objects, dtype+shape for tensors
    std::string value; // short text for scalars and strings ("" otherwise)
};

struct ArchiveModule {
    std::string path;         // dotted from the root, "" for the root
    std::string className;    // __torch__.pkg.Class, or a custom class __torch__.torch.classes.ns.C
    bool customClass = false; // a torch.classes.* object (C++ class registered by a runtime)
    std::vector<ArchiveAttribute> attributes;
};

enum class KernelRole { BucketKernel, StatePreprocessor };

struct ArchiveKernel {
    KernelRole role = KernelRole::BucketKernel;
    ScriptFunction function; // source, file and lines in the archive's code
};

struct ArchiveContents {
    std::string path;
    int64_t fileBytes = 0;
    std::string prefix; // the archive's top folder ("mod" for mod/data.pkl)
    int64_t version = 0;
    std::vector<std::string> records;                           // without the prefix
    std::vector<std::pair<std::string, std::string>> codeFiles; // record -> text
    ScriptCode code;                                            // every class and function in code/
    std::vector<ArchiveModule> modules;                         // depth first, root first
    std::vector<TensorInfo> tensors;   // parameters and buffers, each distinct tensor once
    std::vector<TensorInfo> constants; // constants.pkl: the tensors code reads as CONSTANTS.c<N>
    int64_t parameterCount = 0;
    int64_t tensorBytes = 0;                // bytes of distinct storages
    std::vector<std::string> customClasses; // torch.classes.* referenced by data or code
    std::optional<PackageMeta> meta;
    std::vector<ArchiveKernel> kernels;

    const ScriptClass* findClass(const std::string& qualifiedName) const;
    // The root module's methods (what torch.jit.load would expose), or empty.
    std::vector<ScriptFunction> rootMethods() const;
};

// Throws Error (one line, naming the file) for missing, non-archive, truncated or corrupt
// files, for pickles it cannot read and for anything above the readers' limits (records of
// more than 64 MiB, code of more than 64 MiB in all, pickles nested more than 1,000 deep or
// of more than a million values, more than 100,000 listed modules: zip_reader.h,
// pickle_reader.h). Plain C++: reads the zip index and the code, pickle and metadata
// records, never the weights, and needs no LibTorch.
ArchiveContents readArchive(const std::string& path);

// Describes why `path` is not a TorchScript archive, in one line naming the file, or returns
// an empty string when it looks like one: missing, a directory or other non-file,
// unreadable, empty, not a zip, a damaged or truncated zip index, records outside the
// archive's folder, no version record, no code (a torch.save file). Reads only the zip
// index and the version record, so it costs about a millisecond however large the weights.
std::string archiveProblem(const std::string& path);

// Reads every pickle of the archive (data.pkl, constants.pkl, code/**.debug_pkl) with the
// bounded reader and throws Error, naming the file and record, when one is corrupt, nested
// too deeply, cyclic or above the limits. LibTorch's unpickler has no such limits (it builds
// and frees nested values recursively), so every torch::jit::load goes through this first.
void checkArchivePickles(const std::string& path);

// A function or method by name ("bucket_kernel", "forward", a free function's name or
// its qualified name). Null when there is none.
const ScriptFunction* findArchiveFunction(const ArchiveContents& archive, const std::string& name);

// Names torch_neuronx and BucketLab give the bucket kernel and the state preprocessor.
std::optional<KernelRole> kernelRoleOfName(const std::string& name);

} // namespace bucketlab
