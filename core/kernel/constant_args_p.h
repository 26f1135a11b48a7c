// PRIVATE to core/: the values of constant arguments (constant_args.h), to pass to a kernel.
#pragma once

#include "core/kernel/constant_args.h"

#include <ATen/core/ivalue.h>

#include <vector>

namespace bucketlab {

// The evaluated arguments of parseConstantArgs(text), in order. Throws as it does.
std::vector<c10::IValue> constantArgValues(const std::string& text);

// checkConstantArgsFit for values already evaluated.
void checkConstantValuesFit(const Kernel& kernel, const std::vector<c10::IValue>& values);

} // namespace bucketlab
