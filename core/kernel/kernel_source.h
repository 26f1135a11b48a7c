// Generates bucket kernels and package forward() methods as TorchScript/Python source.
// Generated kernels follow every rule of the autobucketing guide's "TorchScript best
// practices": annotated lists, constant indices only, no variable initialised from a
// literal and then mutated, and a clear exception (naming the length and the limit)
// beyond the largest bucket instead of the guide kernel's silent fall-through.
#pragma once

#include "core/spec/boundaries.h"
#include "core/spec/input_spec.h"
#include "core/spec/package_meta.h"

#include <cstdint>
#include <string>
#include <vector>

namespace bucketlab {

struct KernelLayout {
    Boundaries boundaries;
    int64_t bucketDim = 1;
    std::vector<InputSpec> inputs;
    PaddingSide paddingSide = PaddingSide::Right;
};

enum class KernelForm {
    Method,  // `def bucket_kernel(self, inputs: List[Tensor])`, defined on a package module
    Function // a free function for a .py file: `torch.jit.script(bucket_kernel)`
};

std::string generateKernelSource(const KernelLayout& layout, KernelForm form,
                                 const std::string& name = "bucket_kernel");

// The guide's shared-state preprocessor, `(shapes_collection, states, bucket_idx_tensor) ->
// List[Tensor]`: for the chosen bucket, every state is sliced to the trailing
// shapes_collection[bucket][i][d] entries of each dimension d, as in the guide's KV-cache
// example. The slices are views, so a bucket model that writes its state in place writes the
// shared buffer. Method form (C++-compiled) uses int()/torch.slice, which lower to aten::Int
// and aten::slice; the function form (Python) spells torch.ops.aten.Int/slice as the guide
// does, since `torch.ops` does not resolve in source compiled from C++.
std::string generateStatePreprocessorSource(KernelForm form,
                                            const std::string& name = "state_preprocessor");

// The package attribute holding state `name`'s shared buffer.
std::string stateBufferName(const std::string& name);

// The package's forward(<one Tensor per input>): runs self.bucket_kernel, then (when the
// package has states) self.state_preprocessor(self.shapes_collection, [buffers], bucket),
// and dispatches to self.bucket_<i> with the padded inputs followed by the state views.
// Buckets of a shared package are the same module object.
std::string generateForwardSource(const PackageMeta& meta);

// Checks on a kernel's source text before LibTorch's TorchScript parser sees it (torch-free,
// so they are fuzzed on their own: tests/fuzz/fuzz_kernel_source.cpp).

// LibTorch's TorchScript parser recurses once per nested bracket and block, and a source
// nested tens of thousands deep crashes it (the process dies with no message). Throws Error
// "file:line: ..." for brackets nested more than 100 deep or a line indented more than 1,000
// columns, which no kernel comes near; call it before handing text to the parser.
void checkSourceNesting(const std::string& text, const std::string& file);

// The part of a kernel file (written as in the autobucketing guide: imports, a
// non-TorchScript get_bucket_kernel() wrapper, the kernel indented inside a code block) that
// is compiled: the kernel function and the functions it calls.
struct KernelSelection {
    std::string function;               // the kernel's name in the file
    std::vector<std::string> functions; // it and every function it calls, in file order
    std::string source;                 // those functions dedented, every other line blank, so
                                        // line numbers are the file's
    std::vector<std::string> lines;     // the file's lines (for locating compile errors)
};

// Checks the nesting (above), then picks `function` (default: the one torch.jit.script(...)
// wraps, else the only function with "kernel" in its name, else the first) and the top-level
// functions it calls, transitively. Throws Error naming `file` when there is no function or
// no function of that name.
KernelSelection selectKernelFunctions(const std::string& text, const std::string& file,
                                      const std::string& function);

} // namespace bucketlab
