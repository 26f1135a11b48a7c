#include "core/archive/archive.h"

#include "core/archive/pickle_reader.h"
#include "core/runtime/torch_io_p.h"
#include "core/util/error.h"

#include <caffe2/serialize/inline_container.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <regex>
#include <set>

namespace bucketlab {
namespace {

using Kind = PickleValue::Kind;

struct StorageType {
    const char* name;
    const char* dtype; // c10::toString names, as inspect printed them before
    int64_t bytes;
};

constexpr StorageType kStorageTypes[] = {
    {"FloatStorage", "Float", 4},
    {"DoubleStorage", "Double", 8},
    {"HalfStorage", "Half", 2},
    {"BFloat16Storage", "BFloat16", 2},
    {"LongStorage", "Long", 8},
    {"IntStorage", "Int", 4},
    {"ShortStorage", "Short", 2},
    {"CharStorage", "Char", 1},
    {"ByteStorage", "Byte", 1},
    {"BoolStorage", "Bool", 1},
    {"ComplexFloatStorage", "ComplexFloat", 8},
    {"ComplexDoubleStorage", "ComplexDouble", 16},
    {"QInt8Storage", "QInt8", 1},
    {"QUInt8Storage", "QUInt8", 1},
    {"QInt32Storage", "QInt32", 4},
};

const StorageType* storageType(const std::string& global)
{
    // "torch FloatStorage"
    const auto space = global.rfind(' ');
    const std::string name = space == std::string::npos ? global : global.substr(space + 1);
    for (const auto& t : kStorageTypes)
        if (name == t.name)
            return &t;
    return nullptr;
}

bool isTensorCall(const PickleValue& v)
{
    if (v.kind != Kind::Call)
        return false;
    const std::string c = pickleClassName(v);
    return c.rfind("torch._utils _rebuild", 0) == 0;
}

std::vector<int64_t> intTuple(const PickleRef& v)
{
    std::vector<int64_t> out;
    if (v && (v->kind == Kind::Tuple || v->kind == Kind::List))
        for (const auto& i : v->items)
            out.push_back(i->kind == Kind::Int ? i->intValue : 0);
    return out;
}

std::string qualifiedClass(const std::string& global)
{
    // GLOBAL "__torch__.pkg Class" -> __torch__.pkg.Class
    std::string s = global;
    const auto space = s.find(' ');
    if (space != std::string::npos)
        s[space] = '.';
    return s;
}

std::string shortText(const std::string& s)
{
    return s.size() <= 60 ? s : s.substr(0, 57) + "...";
}

class ArchiveWalker {
public:
    explicit ArchiveWalker(ArchiveContents& out) : out_(out) {}

    void walk(const PickleRef& obj, const std::string& path)
    {
        ArchiveModule m;
        m.path = path;
        m.className = qualifiedClass(pickleClassName(*obj));
        m.customClass = m.className.rfind("__torch__.torch.classes.", 0) == 0;
        if (m.customClass)
            out_.customClasses.push_back(m.className.substr(10));
        const ScriptClass* cls = out_.findClass(m.className);
        std::vector<std::pair<std::string, PickleRef>> children;
        if (obj->state && obj->state->kind == Kind::Dict) {
            for (const auto& [key, value] : obj->state->dict) {
                if (key->kind != Kind::String)
                    continue;
                const std::string name = key->text;
                ArchiveAttribute a = describe(name, value);
                if (a.kind == "tensor") {
                    const bool parameter =
                        cls && std::count(cls->parameters.begin(), cls->parameters.end(), name);
                    const bool buffer =
                        cls && std::count(cls->buffers.begin(), cls->buffers.end(), name);
                    if (parameter || buffer)
                        addTensor(path.empty() ? name : path + "." + name, *value, parameter);
                    else
                        countStorage(*value);
                }
                if (value->kind == Kind::Object)
                    children.emplace_back(name, value);
                m.attributes.push_back(a);
            }
        }
        out_.modules.push_back(m);
        // A module shared under several names (a package's buckets) is listed under each
        // name; its tensors are counted once. Depth guards a malicious self-reference.
        if (path.size() > 4096)
            throw Error(out_.path + ": data.pkl nests modules too deeply");
        for (const auto& [name, child] : children)
            walk(child, path.empty() ? name : path + "." + name);
    }

private:
    ArchiveAttribute describe(const std::string& name, const PickleRef& v)
    {
        ArchiveAttribute a;
        a.name = name;
        switch (v->kind) {
        case Kind::None:
            a.kind = "none";
            break;
        case Kind::Bool:
            a.kind = "bool";
            a.value = v->boolValue ? "True" : "False";
            break;
        case Kind::Int:
            a.kind = "int";
            a.value = std::to_string(v->intValue);
            break;
        case Kind::Float:
            a.kind = "float";
            a.value = std::to_string(v->floatValue);
            break;
        case Kind::String:
            a.kind = "str";
            a.value = shortText(v->text);
            break;
        case Kind::List:
            a.kind = "list";
            a.value = std::to_string(v->items.size()) + " items";
            break;
        case Kind::Tuple:
            a.kind = "tuple";
            a.value = std::to_string(v->items.size()) + " items";
            break;
        case Kind::Dict:
            a.kind = "dict";
            a.value = std::to_string(v->dict.size()) + " items";
            break;
        case Kind::Object: {
            a.type = qualifiedClass(pickleClassName(*v));
            const ScriptClass* cls = out_.findClass(a.type);
            a.kind = cls && cls->base == "Module" ? "module" : "object";
            break;
        }
        case Kind::Call:
            if (isTensorCall(*v)) {
                a.kind = "tensor";
                const auto* st = v->items.empty() || v->items[0]->kind != Kind::PersistentId
                                     ? nullptr
                                     : storageOf(*v->items[0]);
                std::string shape;
                for (auto d : intTuple(v->items.size() > 2 ? v->items[2] : nullptr))
                    shape += (shape.empty() ? "" : ", ") + std::to_string(d);
                a.type = std::string(st ? st->dtype : "?") + "[" + shape + "]";
            } else {
                a.kind = "other";
                a.type = pickleClassName(*v);
            }
            break;
        default:
            a.kind = "other";
        }
        return a;
    }

    // The persistent id of a storage: ('storage', <Global torch XStorage>, key, location, numel).
    const StorageType* storageOf(const PickleValue& pid) const
    {
        if (!pid.id || pid.id->kind != Kind::Tuple || pid.id->items.size() < 5)
            return nullptr;
        return storageType(pickleClassName(*pid.id->items[1]));
    }

    void countStorage(const PickleValue& tensor)
    {
        if (tensor.items.empty() || tensor.items[0]->kind != Kind::PersistentId)
            return;
        const auto& pid = *tensor.items[0];
        const auto* st = storageOf(pid);
        if (!st)
            return;
        const auto& fields = pid.id->items;
        const std::string key = fields[2]->kind == Kind::String ? fields[2]->text : "";
        if (storages_.insert(key).second && fields[4]->kind == Kind::Int)
            out_.tensorBytes += fields[4]->intValue * st->bytes;
    }

    void addTensor(const std::string& name, const PickleValue& tensor, bool parameter)
    {
        if (!seen_.insert(&tensor).second)
            return;
        TensorInfo t;
        t.name = name;
        t.parameter = parameter;
        t.shape = intTuple(tensor.items.size() > 2 ? tensor.items[2] : nullptr);
        const auto* st = tensor.items.empty() || tensor.items[0]->kind != Kind::PersistentId
                             ? nullptr
                             : storageOf(*tensor.items[0]);
        t.dtype = st ? st->dtype : "unknown";
        int64_t numel = 1;
        for (auto d : t.shape)
            numel *= d;
        t.bytes = st ? numel * st->bytes : 0;
        if (parameter)
            out_.parameterCount += numel;
        out_.tensors.push_back(t);
        countStorage(tensor);
    }

    ArchiveContents& out_;
    std::set<const PickleValue*> seen_;
    std::set<std::string> storages_;
};

std::string recordText(caffe2::serialize::PyTorchStreamReader& reader, const std::string& name)
{
    auto [data, size] = reader.getRecord(name);
    return std::string(static_cast<const char*>(data.get()), size);
}

} // namespace

const ScriptClass* ArchiveContents::findClass(const std::string& qualifiedName) const
{
    for (const auto& c : code.classes)
        if (c.qualifiedName == qualifiedName)
            return &c;
    return nullptr;
}

std::vector<ScriptFunction> ArchiveContents::rootMethods() const
{
    if (modules.empty())
        return {};
    if (const auto* c = findClass(modules.front().className))
        return c->methods;
    return {};
}

std::optional<KernelRole> kernelRoleOfName(const std::string& name)
{
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    if (lower.find("state_preprocessor") != std::string::npos ||
        lower.find("state_buffer_preprocessor") != std::string::npos)
        return KernelRole::StatePreprocessor;
    if (lower.find("bucket_kernel") != std::string::npos ||
        lower.find("bucketkernel") != std::string::npos)
        return KernelRole::BucketKernel;
    return std::nullopt;
}

const ScriptFunction* findArchiveFunction(const ArchiveContents& archive, const std::string& name)
{
    // The root's methods first: they are what runs when the model is called.
    const std::string rootClass = archive.modules.empty() ? "" : archive.modules.front().className;
    for (const auto& c : archive.code.classes)
        if (c.qualifiedName == rootClass)
            for (const auto& m : c.methods)
                if (m.name == name || m.qualifiedName == name)
                    return &m;
    for (const auto& f : archive.code.functions)
        if (f.name == name || f.qualifiedName == name)
            return &f;
    for (const auto& c : archive.code.classes)
        for (const auto& m : c.methods)
            if (m.qualifiedName == name)
                return &m;
    return nullptr;
}

ArchiveContents readArchive(const std::string& path)
{
    if (auto problem = archiveProblem(path); !problem.empty())
        throw Error(problem);
    ArchiveContents out;
    out.path = path;
    out.fileBytes = int64_t(std::filesystem::file_size(path));
    try {
        caffe2::serialize::PyTorchStreamReader reader(path);
        out.records = reader.getAllRecords();
        std::sort(out.records.begin(), out.records.end());
        out.version = int64_t(reader.version());
        for (const auto& r : out.records) {
            if (r.rfind("code/", 0) != 0 || r.size() < 3 || r.compare(r.size() - 3, 3, ".py") != 0)
                continue;
            std::string text = recordText(reader, r);
            auto code = parseScriptCode(text, r);
            for (auto& c : code.classes)
                out.code.classes.push_back(std::move(c));
            for (auto& f : code.functions)
                out.code.functions.push_back(std::move(f));
            out.codeFiles.emplace_back(r, std::move(text));
        }
        if (reader.hasRecord("data.pkl")) {
            const auto root = readPickle(recordText(reader, "data.pkl"), path + ": data.pkl");
            if (root->kind == Kind::Object)
                ArchiveWalker(out).walk(root, "");
        }
        if (reader.hasRecord("constants.pkl")) {
            const auto table =
                readPickle(recordText(reader, "constants.pkl"), path + ": constants.pkl");
            for (size_t i = 0; table->kind == Kind::Tuple && i < table->items.size(); ++i) {
                const auto& c = *table->items[i];
                if (!isTensorCall(c))
                    continue;
                TensorInfo t;
                t.name = "c" + std::to_string(i);
                t.parameter = false;
                t.shape = intTuple(c.items.size() > 2 ? c.items[2] : nullptr);
                const auto* st = c.items.empty() || c.items[0]->kind != Kind::PersistentId ||
                                         !c.items[0]->id || c.items[0]->id->items.size() < 5
                                     ? nullptr
                                     : storageType(pickleClassName(*c.items[0]->id->items[1]));
                t.dtype = st ? st->dtype : "unknown";
                int64_t numel = 1;
                for (auto d : t.shape)
                    numel *= d;
                t.bytes = st ? numel * st->bytes : 0;
                out.constants.push_back(t);
            }
        }
        const std::string metaRecord = std::string("extra/") + kMetaExtraFile;
        if (reader.hasRecord(metaRecord))
            out.meta = metaFromJson(recordText(reader, metaRecord), path);
    } catch (const Error&) {
        throw;
    } catch (const std::exception& e) {
        throw Error(path + ": truncated or corrupt archive (" + torchMessage(e) + ")");
    }

    static const std::regex customRe(
        R"(torch\.classes\.[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*)");
    for (const auto& [record, text] : out.codeFiles)
        for (auto it = std::sregex_iterator(text.begin(), text.end(), customRe);
             it != std::sregex_iterator(); ++it)
            out.customClasses.push_back(it->str());
    std::sort(out.customClasses.begin(), out.customClasses.end());
    out.customClasses.erase(std::unique(out.customClasses.begin(), out.customClasses.end()),
                            out.customClasses.end());

    // Kernels: the root's methods first, then free functions, then other classes' methods.
    std::set<std::string> seen;
    auto consider = [&](const ScriptFunction& f) {
        if (auto role = kernelRoleOfName(f.name); role && seen.insert(f.qualifiedName).second)
            out.kernels.push_back({*role, f});
    };
    for (const auto& m : out.rootMethods())
        consider(m);
    for (const auto& f : out.code.functions)
        consider(f);
    for (const auto& c : out.code.classes)
        for (const auto& m : c.methods)
            consider(m);
    return out;
}

} // namespace bucketlab
