// Constant arguments a bucket kernel takes after its list of inputs, as NxD Inference calls
// kernels: bucket_kernel(inputs, *bucket_kernel_constant_args), with e.g.
// (torch.tensor(buckets), padding_side, pad_token). They are written as TorchScript
// expressions and compiled here, so they mean what they would mean in the model's Python.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bucketlab {

struct ConstantArg {
    std::string type;  // TorchScript type: "Tensor", "str", "int", "float", "bool", ...
    std::string value; // "int64[2]: 128 512", "'right'", "0"
};

struct ConstantArgs {
    std::string text; // as given
    std::vector<ConstantArg> args;
    // The buckets the kernel is given: the first argument that is a 1-D integer tensor of
    // ascending positive values (NxD's torch.tensor(buckets)); empty when there is none.
    std::vector<int64_t> buckets;
    bool empty() const { return args.empty(); }
};

// Compiles "torch.tensor([128, 512]), 'right', 0" (a comma-separated list of TorchScript
// expressions) and evaluates it. Empty or blank text gives no arguments. Throws Error with
// one line naming the text when it does not compile or evaluate.
ConstantArgs parseConstantArgs(const std::string& text);

class Kernel;
// Throws Error when the kernel's parameters after its first (the inputs) do not take
// `args`: too few (naming the parameters still missing), too many, or of another type.
void checkConstantArgsFit(const Kernel& kernel, const ConstantArgs& args);

} // namespace bucketlab
