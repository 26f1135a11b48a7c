// PRIVATE to core/ (LibTorch types): compiles a bucket kernel from TorchScript source or a
// .py file written as in the autobucketing guide (imports, a non-TorchScript
// get_bucket_kernel() wrapper) and attaches one to a package as bucket_kernel(). kernel.h
// is the public face (loading from archives too).
#pragma once

#include "core/kernel/kernel_source.h"

#include <torch/script.h>

#include <memory>
#include <string>
#include <vector>

namespace bucketlab {

struct CompiledKernel {
    std::shared_ptr<torch::jit::CompilationUnit> unit;
    std::string file;
    std::string function;               // the kernel's name in the file
    std::vector<std::string> functions; // it and every function it calls, in file order
    std::string source; // the TorchScript that was compiled (file line numbers kept)
    torch::jit::Function* kernel = nullptr;
};

// Picks `function` (default: the one torch.jit.script(...) wraps, else the only function
// with "kernel" in its name, else the first) and the functions it calls, and compiles them
// into `unit` (a new one when null). Graphs that call them hold raw Function pointers, so
// the unit must outlive them: pass the package's own unit when attaching to a package.
// Errors come as bucketlab::Error "file:line:col: message".
CompiledKernel compileKernelFile(const std::string& file, const std::string& function,
                                 std::shared_ptr<torch::jit::CompilationUnit> unit = nullptr);

// The same for source text held in memory (a kernel BucketLab generated); `file` names it
// in messages.
CompiledKernel compileKernelText(const std::string& text, const std::string& file,
                                 const std::string& function,
                                 std::shared_ptr<torch::jit::CompilationUnit> unit = nullptr);

// Adds `def bucket_kernel(self, inputs)` calling the compiled kernel, as
// `kernel(inputs, <constantArgs>)` when constant arguments are given: the expressions are
// written into the method's source, so TorchScript compiles them as constants of its graph
// and the package needs nothing but its inputs (NxD's kernel(inputs, *constant_args)).
void defineUserKernelMethod(torch::jit::Module& package, const std::string& file,
                            const std::string& function, const std::string& constantArgs = {});

} // namespace bucketlab
