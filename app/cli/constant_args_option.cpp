#include "app/cli/constant_args_option.h"

#include "core/util/error.h"

namespace bucketlab::cli {

ConstantArgs parseConstantArgsOption(const std::string& text)
{
    try {
        return parseConstantArgs(text);
    } catch (const Error& e) {
        throw Error("--constant-args: " + std::string(e.what()));
    }
}

void checkConstantArgsOption(const Kernel& kernel, const ConstantArgs& args)
{
    try {
        checkConstantArgsFit(kernel, args);
    } catch (const Error& e) {
        throw Error(std::string(e.what()) +
                    (args.empty() ? "; pass them with --constant-args" : " (--constant-args)"));
    }
}

} // namespace bucketlab::cli
