// A bucket kernel or state preprocessor, loaded for inspection, linting and validation:
// from a .py file exactly as users write it (imports, a get_bucket_kernel() wrapper that
// is not TorchScript), from TorchScript source, or from a TorchScript archive (a scripted
// function, a model's or package's method, or — for archives whose classes cannot be
// loaded here, such as Neuron bucket models — the kernel's source extracted from the
// archive's code). Plain C++; the LibTorch side is in core/kernel/kernel_impl_p.h.
#pragma once

#include "core/archive/archive.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace bucketlab {

enum class KernelOrigin {
    SourceFile,      // .py or TorchScript source, compiled here
    ArchiveMethod,   // a method of a loaded module (a package's bucket_kernel)
    ArchiveFunction, // a scripted function in a loaded archive
    ArchiveExtracted // source taken from an archive that cannot be loaded here
};

std::string kernelOriginName(KernelOrigin origin);

struct KernelParam {
    std::string name;
    std::string type; // "List[Tensor]", ...
};

class Kernel {
public:
    struct Impl;
    explicit Kernel(std::shared_ptr<const Impl> impl);

    const std::string& file() const; // the file it was loaded from
    const std::string& name() const; // function or method name
    KernelOrigin origin() const;
    // The source it was compiled from. Line numbers are those of `file` for source files,
    // of the archive's code record for extracted kernels, and of the serialized code for
    // loaded archives.
    const std::string& source() const;
    std::vector<KernelParam> parameters() const; // without self
    std::string returnType() const;
    std::string schema() const; // name(List[Tensor] tensor_list) -> (Tensor[], Tensor)
    // By signature: a list of tensors, alone or followed by constant arguments -> bucket
    // kernel; (shapes, states, index) -> state preprocessor; nullopt for anything else.
    std::optional<KernelRole> role() const;

    const Impl& impl() const { return *impl_; }

private:
    std::shared_ptr<const Impl> impl_;
};

struct KernelLoadOptions {
    // The function or method to load. Default: in a .py, the one torch.jit.script(...)
    // wraps; in an archive, the bucket kernel (bucketlab's bucket_kernel, torch_neuronx's
    // names), else a scripted function's forward.
    std::string function;
};

// Throws Error with file:line:column for compile errors, and a one-line message naming
// the file for anything else (missing file, corrupt archive, no such function).
Kernel loadKernel(const std::string& path, const KernelLoadOptions& options = {});

// Compiles kernel source held in memory (a kernel BucketLab generated, the text of a .py
// file); `name` stands for the file in messages and in Kernel::file().
Kernel compileKernelSource(const std::string& source, const std::string& name,
                           const KernelLoadOptions& options = {});

// True when `path` starts like a zip archive (a .pt), false for source text. Reads 4 bytes.
bool isArchiveFile(const std::string& path);

} // namespace bucketlab
