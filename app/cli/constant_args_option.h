// --constant-args as `validate` and `lint` take it: the core parses the constants and says
// whether a kernel takes them; these add the flag's name to what it says.
#pragma once

#include "core/kernel/constant_args.h"
#include "core/kernel/kernel.h"

#include <string>

namespace bucketlab::cli {

// Throws Error "--constant-args: ..." when the text is not TorchScript constants.
ConstantArgs parseConstantArgsOption(const std::string& text);

// Throws Error when a bucket kernel's parameters after its inputs do not fit `args`, saying
// how to pass them (none given) or naming the flag (some given).
void checkConstantArgsOption(const Kernel& kernel, const ConstantArgs& args);

} // namespace bucketlab::cli
