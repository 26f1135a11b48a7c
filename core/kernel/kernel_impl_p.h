// PRIVATE to core/: what a Kernel holds on the LibTorch side. The compilation unit and
// module are shared, so a kernel call running on a validator thread keeps them alive.
#pragma once

#include "core/kernel/kernel.h"

#include <torch/script.h>

#include <optional>

namespace bucketlab {

struct Kernel::Impl {
    std::string file;
    std::string name;
    std::string source;
    KernelOrigin origin = KernelOrigin::SourceFile;
    std::shared_ptr<torch::jit::CompilationUnit> unit;
    std::optional<torch::jit::Module> module; // set for methods: passed as self
    torch::jit::Function* function = nullptr;

    c10::IValue call(std::vector<c10::IValue> args) const
    {
        if (module)
            args.insert(args.begin(), module->_ivalue());
        return (*function)(std::move(args));
    }
    std::shared_ptr<torch::jit::Graph> graph() const
    {
        return torch::jit::toGraphFunction(*function).graph();
    }
};

} // namespace bucketlab
