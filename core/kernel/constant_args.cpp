#include "core/kernel/constant_args.h"

#include "core/kernel/constant_args_p.h"
#include "core/kernel/kernel_impl_p.h"
#include "core/runtime/torch_io_p.h"
#include "core/util/error.h"

#include <torch/script.h>

#include <sstream>

namespace bucketlab {
namespace {

std::string trimmed(const std::string& s)
{
    const auto a = s.find_first_not_of(" \t");
    if (a == std::string::npos)
        return {};
    return s.substr(a, s.find_last_not_of(" \t") - a + 1);
}

std::string valueText(const c10::IValue& v)
{
    std::ostringstream o;
    if (v.isTensor()) {
        const auto& t = v.toTensor();
        o << c10::toString(t.scalar_type()) << t.sizes();
        const auto flat = t.reshape({-1}).to(at::kDouble);
        if (flat.numel() > 0)
            o << ":";
        for (int64_t i = 0; i < std::min<int64_t>(flat.numel(), 8); ++i)
            o << " " << flat[i].item<double>();
        if (flat.numel() > 8)
            o << " ...";
    } else if (v.isString()) {
        o << "'" << v.toStringRef() << "'";
    } else {
        o << v;
    }
    return o.str();
}

std::vector<int64_t> bucketsOf(const c10::IValue& v)
{
    if (!v.isTensor())
        return {};
    const auto& t = v.toTensor();
    if (t.dim() != 1 || t.numel() == 0 || !c10::isIntegralType(t.scalar_type(), false))
        return {};
    const auto values = t.to(at::kLong).contiguous();
    std::vector<int64_t> out(values.data_ptr<int64_t>(), values.data_ptr<int64_t>() + t.numel());
    for (size_t i = 0; i < out.size(); ++i)
        if (out[i] < 1 || (i > 0 && out[i] <= out[i - 1]))
            return {};
    return out;
}

} // namespace

std::vector<c10::IValue> constantArgValues(const std::string& text)
{
    std::string body = trimmed(text);
    while (!body.empty() && body.back() == ',')
        body = trimmed(body.substr(0, body.size() - 1));
    if (body.empty())
        return {};
    if (body.find_first_of("\r\n") != std::string::npos)
        throw Error("the constant arguments must be one line of TorchScript expressions, e.g. "
                    "torch.tensor([128, 512]), 'right', 0");
    // One function returning the expressions as a tuple: what NxD's
    // bucket_kernel_constant_args=(...) would hold, evaluated by TorchScript itself.
    const std::string source = "def constant_args():\n    return (" + body + ",)\n";
    try {
        auto unit = std::make_shared<torch::jit::CompilationUnit>();
        unit->define(c10::nullopt, source, scriptResolver(), nullptr);
        const c10::IValue out = unit->get_function("constant_args")(std::vector<c10::IValue>{});
        return out.toTupleRef().elements().vec();
    } catch (const std::exception& e) {
        throw Error("the constant arguments '" + text +
                    "' are not TorchScript constant expressions (e.g. torch.tensor([128, 512]), "
                    "'right', 0): " +
                    torchMessage(e));
    }
}

ConstantArgs parseConstantArgs(const std::string& text)
{
    ConstantArgs out;
    out.text = text;
    for (const auto& v : constantArgValues(text)) {
        out.args.push_back({v.type()->annotation_str(), valueText(v)});
        if (out.buckets.empty())
            out.buckets = bucketsOf(v);
    }
    return out;
}

void checkConstantValuesFit(const Kernel& kernel, const std::vector<c10::IValue>& values)
{
    const auto& impl = kernel.impl();
    std::vector<c10::Argument> rest;
    bool first = true;
    for (const auto& a : impl.function->getSchema().arguments()) {
        if (impl.module && a.name() == "self")
            continue;
        if (!first)
            rest.push_back(a);
        first = false;
    }
    size_t required = 0;
    for (const auto& a : rest)
        required += a.default_value().has_value() ? 0 : 1;
    auto listOf = [&](size_t from) {
        std::string s;
        for (size_t i = from; i < rest.size(); ++i)
            s += (i > from ? ", " : "") + rest[i].name() + ": " + rest[i].type()->annotation_str();
        return s;
    };
    const std::string where = kernel.file() + ": " + kernel.name();
    auto count = [](size_t n) {
        return std::to_string(n) + " argument" + (n == 1 ? "" : "s");
    };
    if (values.size() < required) {
        if (values.empty())
            throw Error(where + " takes " + count(required) + " after its inputs (" + listOf(0) +
                        "); give them as its constant arguments, as NxD passes "
                        "bucket_kernel_constant_args (e.g. torch.tensor([128, 512]), 'right', 0)");
        throw Error(where + " takes " + count(required) + " after its inputs (" + listOf(0) +
                    ") but " + std::to_string(values.size()) +
                    " constant argument(s) were given; add " + listOf(values.size()));
    }
    if (values.size() > rest.size())
        throw Error(where + " takes " + (rest.empty() ? "no arguments" : count(rest.size())) +
                    " after its inputs but " + std::to_string(values.size()) +
                    " constant arguments were given");
    for (size_t i = 0; i < values.size(); ++i)
        if (!values[i].type()->isSubtypeOf(*rest[i].type()))
            throw Error(where + ": constant argument " + std::to_string(i + 1) + " (" +
                        valueText(values[i]) + ") is a " + values[i].type()->annotation_str() +
                        " but parameter " + rest[i].name() + " takes " +
                        rest[i].type()->annotation_str());
}

void checkConstantArgsFit(const Kernel& kernel, const ConstantArgs& args)
{
    checkConstantValuesFit(kernel, constantArgValues(args.text));
}

} // namespace bucketlab
