// Generates bucket kernels and package forward() methods as TorchScript/Python source.
// Generated kernels follow every rule of the autobucketing guide's "TorchScript best
// practices": annotated lists, constant indices only, no variable initialised from a
// literal and then mutated, and a clear exception (naming the length and the limit)
// beyond the largest bucket instead of the guide kernel's silent fall-through.
#pragma once

#include "core/input_spec.h"
#include "core/package_meta.h"

#include <cstdint>
#include <string>
#include <vector>

namespace bucketlab {

struct KernelLayout {
    std::vector<int64_t> boundaries;
    int64_t bucketDim = 1;
    std::vector<InputSpec> inputs;
};

enum class KernelForm {
    Method,  // `def bucket_kernel(self, inputs: List[Tensor])`, defined on a package module
    Function // a free function for a .py file: `torch.jit.script(bucket_kernel)`
};

std::string generateKernelSource(const KernelLayout& layout, KernelForm form,
                                 const std::string& name = "bucket_kernel");

// The package's forward(<one Tensor per input>): runs self.bucket_kernel and dispatches to
// self.bucket_<i>. Buckets of a shared package are the same module object.
std::string generateForwardSource(const PackageMeta& meta);

} // namespace bucketlab
