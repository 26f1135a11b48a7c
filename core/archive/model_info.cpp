#include "core/archive/model_info.h"

#include "core/archive/archive.h"

#include <nlohmann/json.hpp>

namespace bucketlab {

ModelInfo inspectModel(const std::string& path)
{
    const ArchiveContents archive = readArchive(path);
    ModelInfo info;
    info.path = path;
    info.fileBytes = archive.fileBytes;
    info.package = archive.meta;
    for (const auto& m : archive.rootMethods())
        info.methods.push_back({m.name, m.schema()});
    for (const auto& m : archive.modules) {
        if (m.path.empty()) {
            info.rootClass = m.className;
            continue;
        }
        const auto* cls = archive.findClass(m.className);
        if (m.customClass || (cls && cls->base == "Module"))
            info.submodules.push_back(m.path);
    }
    info.tensors = archive.tensors;
    info.parameterCount = archive.parameterCount;
    info.tensorBytes = archive.tensorBytes;
    info.customClasses = archive.customClasses;
    info.constants = archive.constants;
    for (const auto& k : archive.kernels)
        info.kernels.push_back(
            {k.role == KernelRole::BucketKernel ? "bucket_kernel" : "state_preprocessor",
             k.function.qualifiedName, k.function.schema(), k.function.file, k.function.firstLine,
             k.function.source});
    return info;
}

nlohmann::json modelInfoJson(const ModelInfo& info)
{
    using nlohmann::json;
    json j;
    j["path"] = info.path;
    j["file_bytes"] = info.fileBytes;
    j["is_package"] = info.package.has_value();
    j["package"] = info.package ? metaJson(*info.package) : json(nullptr);
    j["root_class"] = info.rootClass;
    j["methods"] = json::array();
    for (const auto& m : info.methods)
        j["methods"].push_back({{"name", m.name}, {"schema", m.schema}});
    j["tensors"] = json::array();
    for (const auto& t : info.tensors)
        j["tensors"].push_back({{"name", t.name},
                                {"shape", t.shape},
                                {"dtype", t.dtype},
                                {"bytes", t.bytes},
                                {"kind", t.parameter ? "parameter" : "buffer"}});
    j["submodules"] = info.submodules;
    j["parameter_count"] = info.parameterCount;
    j["tensor_bytes"] = info.tensorBytes;
    j["custom_classes"] = info.customClasses;
    j["constants"] = json::array();
    for (const auto& c : info.constants)
        j["constants"].push_back(
            {{"name", c.name}, {"shape", c.shape}, {"dtype", c.dtype}, {"bytes", c.bytes}});
    j["kernels"] = json::array();
    for (const auto& k : info.kernels)
        j["kernels"].push_back({{"role", k.role},
                                {"name", k.name},
                                {"schema", k.schema},
                                {"file", k.file},
                                {"line", k.line},
                                {"source", k.source}});
    return j;
}

} // namespace bucketlab
