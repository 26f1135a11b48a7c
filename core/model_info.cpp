#include "core/model_info.h"

#include "core/error.h"
#include "core/package.h"
#include "core/torch_io.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <set>
#include <sstream>

namespace bucketlab {
namespace {

std::string schemaText(const c10::FunctionSchema& schema)
{
    std::ostringstream s;
    s << schema.name() << "(";
    bool first = true;
    for (size_t i = 0; i < schema.arguments().size(); ++i) {
        const auto& a = schema.arguments()[i];
        if (a.name() == "self")
            continue;
        s << (first ? "" : ", ") << a.type()->annotation_str() << " " << a.name();
        first = false;
    }
    s << ") -> ";
    if (schema.returns().size() == 1)
        s << schema.returns()[0].type()->annotation_str();
    else {
        s << "(";
        for (size_t i = 0; i < schema.returns().size(); ++i)
            s << (i ? ", " : "") << schema.returns()[i].type()->annotation_str();
        s << ")";
    }
    return s.str();
}

} // namespace

ModelInfo inspectModel(const std::string& path)
{
    ModelInfo info;
    info.path = path;
    info.package = readPackageMeta(path);
    auto module = loadScriptModule(path);
    info.fileBytes = int64_t(std::filesystem::file_size(path));
    for (const auto& m : module.get_methods())
        info.methods.push_back({m.name(), schemaText(m.function().getSchema())});
    for (const auto& sub : module.named_modules())
        if (!sub.name.empty())
            info.submodules.push_back(sub.name);
    std::set<const void*> seenStorage;
    std::set<const void*> seenTensor;
    auto add = [&](const std::string& name, const at::Tensor& t, bool parameter) {
        if (!seenTensor.insert(t.unsafeGetTensorImpl()).second)
            return;
        TensorInfo ti;
        ti.name = name;
        ti.shape = t.sizes().vec();
        ti.dtype = std::string(c10::toString(t.scalar_type()));
        ti.bytes = int64_t(t.numel() * t.element_size());
        ti.parameter = parameter;
        info.tensors.push_back(ti);
        if (parameter)
            info.parameterCount += t.numel();
        if (seenStorage.insert(t.storage().unsafeGetStorageImpl()).second)
            info.tensorBytes += int64_t(t.storage().nbytes());
    };
    for (const auto& p : module.named_parameters(/*recurse=*/true))
        add(p.name, p.value, true);
    for (const auto& b : module.named_buffers(/*recurse=*/true))
        add(b.name, b.value, false);
    return info;
}

std::string modelInfoToJson(const ModelInfo& info, int indent)
{
    using nlohmann::json;
    json j;
    j["path"] = info.path;
    j["file_bytes"] = info.fileBytes;
    j["is_package"] = info.package.has_value();
    j["package"] = info.package ? json::parse(metaToJson(*info.package)) : json(nullptr);
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
    return j.dump(indent);
}

} // namespace bucketlab
