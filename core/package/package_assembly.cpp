#include "core/package/package_assembly_p.h"

#include "core/kernel/kernel_compiler_p.h"
#include "core/kernel/kernel_source.h"
#include "core/runtime/torch_io_p.h"
#include "core/util/error.h"

#include <nlohmann/json.hpp>

namespace bucketlab {
namespace {

c10::IValue shapesCollection(const std::vector<StateSpec>& states, size_t buckets)
{
    // shapes_collection[bucket][state] = that state's shape for the bucket (the guide's layout).
    const auto intList = c10::ListType::ofInts();
    const auto perBucket = c10::ListType::create(intList);
    c10::impl::GenericList collection(perBucket);
    for (size_t k = 0; k < buckets; ++k) {
        c10::impl::GenericList shapes(intList);
        for (const auto& st : states)
            shapes.push_back(c10::List<int64_t>(st.shapes[k]));
        collection.push_back(std::move(shapes));
    }
    return collection;
}

void addStates(torch::jit::Module& package, const PackageMeta& meta)
{
    if (meta.states.empty())
        return;
    for (const auto& st : meta.states)
        // Zeros, as a fresh KV cache starts; the buffer keeps the largest bucket's shape.
        package.register_buffer(
            stateBufferName(st.name),
            torch::zeros(stateBufferShape(st), torch::dtype(toScalarType(st.dtype))));
    package.register_attribute(
        "shapes_collection", c10::ListType::create(c10::ListType::create(c10::ListType::ofInts())),
        shapesCollection(meta.states, meta.boundaries.size()));
    package.define(generateStatePreprocessorSource(KernelForm::Method), scriptResolver());
}

} // namespace

torch::jit::Module assemblePackage(const PackageAssembly& parts)
{
    const PackageMeta& meta = parts.meta;
    if (parts.buckets.size() != meta.boundaries.size())
        throw Error("package assembly: " + std::to_string(parts.buckets.size()) +
                    " bucket models for " + std::to_string(meta.boundaries.size()) + " buckets");
    checkStateSpecs(meta.states, meta.boundaries, meta.inputs);
    torch::jit::Module package(kPackageClass);
    for (size_t k = 0; k < parts.buckets.size(); ++k)
        package.register_module("bucket_" + std::to_string(k), parts.buckets[k]);
    package.register_attribute("bucketlab_meta", c10::StringType::get(), metaJson(meta).dump());
    try {
        addStates(package, meta);
        if (!parts.kernelFile.empty())
            defineUserKernelMethod(package, parts.kernelFile, parts.kernelFunction,
                                   meta.constantArgs);
        else if (!meta.constantArgs.empty())
            throw Error("package assembly: constant arguments '" + meta.constantArgs +
                        "' without a user kernel; the generated kernel takes none");
        else
            package.define(generateKernelSource(KernelLayout{meta.boundaries, meta.bucketDim,
                                                             meta.inputs, meta.paddingSide},
                                                KernelForm::Method),
                           scriptResolver());
        package.define(generateForwardSource(meta), scriptResolver());
    } catch (const Error&) {
        throw;
    } catch (const std::exception& e) {
        std::string msg = torchMessage(e);
        if (msg.find("type") != std::string::npos && meta.kind == PackageKind::PerBucket)
            msg += " (do the bucket models all return the same type?)";
        if (!meta.states.empty())
            msg += " (each bucket model must take the inputs followed by the states: " +
                   std::to_string(meta.inputs.size() + meta.states.size()) + " tensors)";
        throw Error("cannot build the package's forward(): " + msg);
    }
    return package;
}

std::string serializePackage(const torch::jit::Module& package, const PackageMeta& meta)
{
    return saveModuleToBytes(package, {{kMetaExtraFile, metaJson(meta).dump(2)}});
}

} // namespace bucketlab
