#include "core/archive/archive.h"

#include "core/archive/pickle_reader.h"
#include "core/archive/zip_reader.h"
#include "core/util/error.h"
#include "core/util/text.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>
#include <unistd.h>
#include <unordered_map>
#include <unordered_set>

namespace bucketlab {
namespace {

namespace fs = std::filesystem;
using Kind = PickleValue::Kind;

// Code records read into memory, all together (each is also within the zip reader's record
// limit). torch.jit.save writes kilobytes to a few megabytes of code.
constexpr uint64_t kMaxCodeBytes = uint64_t(64) << 20;
// Modules listed: a module shared under several names is listed under each, so a hostile
// pickle could otherwise make the list grow exponentially with its depth.
constexpr size_t kMaxModules = 100000;
// Attributes listed over all modules (each listing of a shared module counts).
constexpr size_t kMaxAttributes = 1000000;

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

std::vector<int64_t> intTuple(PickleRef v)
{
    std::vector<int64_t> out;
    if (v && (v->kind == Kind::Tuple || v->kind == Kind::List))
        for (const auto* i : v->items)
            out.push_back(i->kind == Kind::Int ? i->intValue : 0);
    return out;
}

// The persistent id of a storage: ('storage', <Global torch XStorage>, key, location, numel).
const StorageType* storageOf(const PickleValue& tensor)
{
    if (tensor.items.empty() || tensor.items[0]->kind != Kind::PersistentId)
        return nullptr;
    const PickleValue* pid = tensor.items[0]->id;
    if (!pid || pid->kind != Kind::Tuple || pid->items.size() < 5)
        return nullptr;
    return storageType(pickleClassName(*pid->items[1]));
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
    const std::string text = utf8Escaped(s);
    if (text.size() <= 60)
        return text;
    size_t cut = 57; // not inside a UTF-8 sequence
    while (cut > 0 && (uint8_t(text[cut]) & 0xC0) == 0x80)
        --cut;
    return text.substr(0, cut) + "...";
}

// Byte and element counts of tensors, with every product and sum checked: the shapes and
// sizes come from the file.
class TensorCounter {
public:
    explicit TensorCounter(const std::string& where) : where_(where) {}

    int64_t elements(const std::vector<int64_t>& shape, const std::string& tensor) const
    {
        int64_t n = 1;
        for (auto d : shape) {
            if (d < 0)
                throw Error(where_ + ": tensor " + displayText(tensor) + " has a negative size " +
                            std::to_string(d));
            if (__builtin_mul_overflow(n, d, &n))
                throw Error(where_ + ": tensor " + displayText(tensor) +
                            " has more elements than 64 bits can count");
        }
        return n;
    }
    // `what`: "tensor NAME" or "storage KEY".
    int64_t bytes(int64_t elements, int64_t elementBytes, const std::string& what) const
    {
        int64_t n = 0;
        if (elements < 0 || __builtin_mul_overflow(elements, elementBytes, &n))
            throw Error(where_ + ": " + displayText(what) + " holds " + std::to_string(elements) +
                        " elements, more bytes than 64 bits can count");
        return n;
    }
    int64_t add(int64_t total, int64_t more, const char* what) const
    {
        int64_t n = 0;
        if (__builtin_add_overflow(total, more, &n))
            throw Error(where_ + ": the " + what + " add up to more than 64 bits can count");
        return n;
    }

private:
    std::string where_;
};

class ArchiveWalker {
public:
    explicit ArchiveWalker(ArchiveContents& out) : out_(out), count_(out.path + ": data.pkl")
    {
        for (const auto& c : out_.code.classes) {
            auto [it, added] = classes_.try_emplace(c.qualifiedName);
            if (!added)
                continue; // the first definition wins, as in ArchiveContents::findClass
            ClassInfo& info = it->second;
            info.cls = &c;
            info.parameters.insert(c.parameters.begin(), c.parameters.end());
            info.buffers.insert(c.buffers.begin(), c.buffers.end());
        }
    }

    // The module tree, depth first and root first, without recursion. A module shared under
    // several names (a package's buckets) is listed under each name; its tensors are
    // counted once.
    void walk(const PickleValue& root)
    {
        std::vector<std::pair<const PickleValue*, std::string>> todo{{&root, ""}};
        while (!todo.empty()) {
            auto [obj, path] = std::move(todo.back());
            todo.pop_back();
            if (out_.modules.size() == kMaxModules)
                throw Error(out_.path + ": data.pkl lists more than " +
                            std::to_string(kMaxModules) +
                            " modules (shared modules nested too often)");
            auto children = visit(*obj, path);
            for (auto it = children.rbegin(); it != children.rend(); ++it)
                todo.emplace_back(it->second, path.empty() ? it->first : path + "." + it->first);
        }
    }

private:
    std::vector<std::pair<std::string, const PickleValue*>> visit(const PickleValue& obj,
                                                                  const std::string& path)
    {
        ArchiveModule m;
        m.path = path;
        m.className = qualifiedClass(pickleClassName(obj));
        m.customClass = m.className.rfind("__torch__.torch.classes.", 0) == 0;
        if (m.customClass)
            out_.customClasses.push_back(m.className.substr(10));
        const auto info = classes_.find(m.className);
        const ClassInfo* cls = info == classes_.end() ? nullptr : &info->second;
        std::vector<std::pair<std::string, const PickleValue*>> children;
        if (obj.state && obj.state->kind == Kind::Dict) {
            attributes_ += obj.state->dict.size();
            if (attributes_ > kMaxAttributes)
                throw Error(out_.path + ": data.pkl lists more than " +
                            std::to_string(kMaxAttributes) +
                            " module attributes (shared modules nested too often)");
            for (const auto& [key, value] : obj.state->dict) {
                if (key->kind != Kind::String)
                    continue;
                const std::string name = utf8Escaped(key->text);
                ArchiveAttribute a = describe(name, *value);
                if (a.kind == "tensor") {
                    const bool parameter = cls && cls->parameters.count(name);
                    const bool buffer = cls && cls->buffers.count(name);
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
        out_.modules.push_back(std::move(m));
        return children;
    }

    const ScriptClass* findClass(const std::string& name) const
    {
        const auto it = classes_.find(name);
        return it == classes_.end() ? nullptr : it->second.cls;
    }

    ArchiveAttribute describe(const std::string& name, const PickleValue& v)
    {
        ArchiveAttribute a;
        a.name = name;
        switch (v.kind) {
        case Kind::None: a.kind = "none"; break;
        case Kind::Bool:
            a.kind = "bool";
            a.value = v.boolValue ? "True" : "False";
            break;
        case Kind::Int:
            a.kind = "int";
            a.value = std::to_string(v.intValue);
            break;
        case Kind::Float:
            a.kind = "float";
            a.value = std::to_string(v.floatValue);
            break;
        case Kind::String:
            a.kind = "str";
            a.value = shortText(v.text);
            break;
        case Kind::List:
            a.kind = "list";
            a.value = std::to_string(v.items.size()) + " items";
            break;
        case Kind::Tuple:
            a.kind = "tuple";
            a.value = std::to_string(v.items.size()) + " items";
            break;
        case Kind::Dict:
            a.kind = "dict";
            a.value = std::to_string(v.dict.size()) + " items";
            break;
        case Kind::Object: {
            a.type = qualifiedClass(pickleClassName(v));
            const ScriptClass* cls = findClass(a.type);
            a.kind = cls && cls->base == "Module" ? "module" : "object";
            break;
        }
        case Kind::Call:
            if (isTensorCall(v)) {
                a.kind = "tensor";
                const auto* st = storageOf(v);
                std::string shape;
                for (auto d : intTuple(v.items.size() > 2 ? v.items[2] : nullptr))
                    shape += (shape.empty() ? "" : ", ") + std::to_string(d);
                a.type = std::string(st ? st->dtype : "?") + "[" + shape + "]";
            } else {
                a.kind = "other";
                a.type = pickleClassName(v);
            }
            break;
        default: a.kind = "other";
        }
        return a;
    }

    void countStorage(const PickleValue& tensor)
    {
        const auto* st = storageOf(tensor);
        if (!st)
            return;
        const auto& fields = tensor.items[0]->id->items;
        const std::string key = fields[2]->kind == Kind::String ? fields[2]->text : "";
        if (storages_.insert(key).second && fields[4]->kind == Kind::Int)
            out_.tensorBytes = count_.add(
                out_.tensorBytes, count_.bytes(fields[4]->intValue, st->bytes, "storage " + key),
                "tensor sizes");
    }

    void addTensor(const std::string& name, const PickleValue& tensor, bool parameter)
    {
        if (!seen_.insert(&tensor).second)
            return;
        TensorInfo t;
        t.name = name;
        t.parameter = parameter;
        t.shape = intTuple(tensor.items.size() > 2 ? tensor.items[2] : nullptr);
        const auto* st = storageOf(tensor);
        t.dtype = st ? st->dtype : "unknown";
        const int64_t numel = count_.elements(t.shape, name);
        t.bytes = st ? count_.bytes(numel, st->bytes, "tensor " + name) : 0;
        if (parameter)
            out_.parameterCount = count_.add(out_.parameterCount, numel, "parameter counts");
        out_.tensors.push_back(t);
        countStorage(tensor);
    }

    struct ClassInfo {
        const ScriptClass* cls = nullptr;
        std::unordered_set<std::string> parameters, buffers;
    };

    ArchiveContents& out_;
    TensorCounter count_;
    std::unordered_map<std::string, ClassInfo> classes_;
    size_t attributes_ = 0;
    std::set<const PickleValue*> seen_;
    std::set<std::string> storages_;
};

// `torch.classes.<ns>.<Name>` in code text, each once (a scan, not a regex: the text comes
// from the file and std::regex recurses per character).
void findCustomClasses(const std::string& text, std::vector<std::string>& out)
{
    static const std::string kStart = "torch.classes.";
    const auto identifierAt = [&](size_t i) {
        if (i >= text.size() || !(std::isalpha(uint8_t(text[i])) || text[i] == '_'))
            return size_t(0);
        size_t j = i + 1;
        while (j < text.size() && (std::isalnum(uint8_t(text[j])) || text[j] == '_'))
            ++j;
        return j - i;
    };
    for (size_t at = text.find(kStart); at != std::string::npos; at = text.find(kStart, at + 1)) {
        const size_t ns = at + kStart.size();
        const size_t nsLength = identifierAt(ns);
        if (nsLength == 0 || ns + nsLength >= text.size() || text[ns + nsLength] != '.')
            continue;
        const size_t nameLength = identifierAt(ns + nsLength + 1);
        if (nameLength > 0)
            out.push_back(text.substr(at, kStart.size() + nsLength + 1 + nameLength));
    }
}

// The zip index of a TorchScript archive, checked: the file itself, the records' common top
// folder, the version record and code records.
struct OpenedArchive {
    ZipReader zip;
    std::string prefix; // "archive" for archive/data.pkl
    int64_t version = 0;

    const ZipEntry* find(const std::string& record) const { return zip.find(prefix + record); }
};

OpenedArchive openArchive(const std::string& path)
{
    std::error_code ec;
    if (!fs::exists(path, ec))
        throw Error(path + ": no such file");
    if (fs::is_directory(path, ec))
        throw Error(path + ": is a directory, expected a TorchScript archive (.pt)");
    if (!fs::is_regular_file(path, ec))
        throw Error(path + ": not a regular file (a device or pipe), expected a TorchScript "
                           "archive (.pt)");
    if (::access(path.c_str(), R_OK) != 0)
        throw Error(path + ": cannot read (permission denied)");
    const auto size = fs::file_size(path, ec);
    if (ec || size == 0)
        throw Error(path + ": empty file, expected a TorchScript archive (.pt)");
    {
        char magic[4] = {};
        std::FILE* f = std::fopen(path.c_str(), "rb");
        const size_t got = f ? std::fread(magic, 1, 4, f) : 0;
        if (f)
            std::fclose(f);
        if (got < 4 || std::string(magic, 4) != std::string("PK\x03\x04", 4))
            throw Error(path + ": not a TorchScript archive (not a zip file); save the model "
                               "with torch.jit.save");
    }
    OpenedArchive a{ZipReader(path), "", 0};
    const auto& entries = a.zip.entries();
    if (entries.empty())
        throw Error(path + ": truncated or corrupt archive: the zip file has no records");
    // Every record sits in one top folder, named after the model ("archive/data.pkl").
    const std::string& first = entries.front().name;
    const auto slash = first.find('/');
    if (slash == std::string::npos)
        throw Error(path +
                    ": not a TorchScript archive: its records are not inside a folder "
                    "(record " +
                    displayText(first) + ")");
    a.prefix = first.substr(0, slash + 1);
    bool hasCode = false;
    for (const auto& e : entries) {
        if (!isValidUtf8(e.name))
            throw Error(path +
                        ": not a TorchScript archive: a record name that is not UTF-8 "
                        "text (record " +
                        displayText(e.name) + ")");
        if (e.name.compare(0, a.prefix.size(), a.prefix) != 0)
            throw Error(path +
                        ": not a TorchScript archive: records in more than one folder "
                        "(record " +
                        displayText(e.name) + ")");
        hasCode |= e.name.compare(a.prefix.size(), 5, "code/") == 0;
    }
    const ZipEntry* version = a.find(".data/version");
    if (!version)
        version = a.find("version");
    if (!version)
        throw Error(path + ": truncated or corrupt archive: no version record");
    const std::string text = trimWhitespace(a.zip.read(*version));
    if (text.empty() || text.size() > 18 ||
        !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
        throw Error(path + ": truncated or corrupt archive: the version record holds '" +
                    displayText(text) + "', not a number (record " + displayText(version->name) +
                    ")");
    a.version = std::stoll(text);
    if (!hasCode)
        throw Error(path + ": a PyTorch zip archive without TorchScript code (saved with "
                           "torch.save rather than torch.jit.save?)");
    return a;
}

} // namespace

std::string archiveProblem(const std::string& path)
{
    try {
        openArchive(path);
    } catch (const Error& e) {
        return e.what();
    }
    return {};
}

void checkArchivePickles(const std::string& path)
{
    const OpenedArchive a = openArchive(path);
    for (const auto& e : a.zip.entries()) {
        const auto dot = e.name.rfind('.');
        const std::string ext = dot == std::string::npos ? "" : e.name.substr(dot);
        if (ext == ".pkl" || ext == ".debug_pkl")
            readPickle(a.zip.read(e), path + ": " + e.name.substr(a.prefix.size()));
    }
}

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

namespace {

void readCode(const OpenedArchive& a, ArchiveContents& out)
{
    uint64_t codeBytes = 0;
    for (const auto& r : out.records) {
        if (r.rfind("code/", 0) != 0 || r.size() < 3 || r.compare(r.size() - 3, 3, ".py") != 0)
            continue;
        const ZipEntry& entry = *a.find(r);
        codeBytes += entry.size; // each within the record limit: no overflow
        if (codeBytes > kMaxCodeBytes)
            throw Error(out.path + ": the code records hold more than " +
                        std::to_string(kMaxCodeBytes >> 20) +
                        " MiB in all, more than this reader's limit (record " + displayText(r) +
                        ")");
        std::string text = utf8Escaped(a.zip.read(entry));
        auto code = parseScriptCode(text, r);
        for (auto& c : code.classes)
            out.code.classes.push_back(std::move(c));
        for (auto& f : code.functions)
            out.code.functions.push_back(std::move(f));
        out.codeFiles.emplace_back(r, std::move(text));
    }
}

void readConstants(const Pickle& table, ArchiveContents& out)
{
    const TensorCounter count(out.path + ": constants.pkl");
    for (size_t i = 0; table->kind == Kind::Tuple && i < table->items.size(); ++i) {
        const auto& c = *table->items[i];
        if (!isTensorCall(c))
            continue;
        TensorInfo t;
        t.name = "c" + std::to_string(i);
        t.parameter = false;
        t.shape = intTuple(c.items.size() > 2 ? c.items[2] : nullptr);
        const auto* st = storageOf(c);
        t.dtype = st ? st->dtype : "unknown";
        t.bytes =
            st ? count.bytes(count.elements(t.shape, t.name), st->bytes, "constant " + t.name) : 0;
        out.constants.push_back(t);
    }
}

void findKernels(ArchiveContents& out)
{
    // The root's methods first, then free functions, then other classes' methods.
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
}

} // namespace

ArchiveContents readArchive(const std::string& path)
{
    const OpenedArchive a = openArchive(path);
    ArchiveContents out;
    out.path = path;
    out.fileBytes = int64_t(a.zip.fileBytes());
    out.prefix = a.prefix.substr(0, a.prefix.size() - 1);
    out.version = a.version;
    for (const auto& e : a.zip.entries())
        out.records.push_back(e.name.substr(a.prefix.size()));
    std::sort(out.records.begin(), out.records.end());

    readCode(a, out);
    if (const ZipEntry* data = a.find("data.pkl")) {
        const Pickle root = readPickle(a.zip.read(*data), path + ": data.pkl");
        if (root->kind == Kind::Object)
            ArchiveWalker(out).walk(*root);
    }
    if (const ZipEntry* constants = a.find("constants.pkl"))
        readConstants(readPickle(a.zip.read(*constants), path + ": constants.pkl"), out);
    if (const ZipEntry* meta = a.find(std::string("extra/") + kMetaExtraFile)) {
        const std::string text = a.zip.read(*meta);
        try {
            out.meta = metaFromJson(text, path);
        } catch (const Error&) {
            throw;
        } catch (const std::exception& e) {
            throw Error(path + ": bucketlab_meta cannot be read (" + libraryMessage(e.what()) +
                        ")");
        }
    }

    for (const auto& [record, text] : out.codeFiles)
        findCustomClasses(text, out.customClasses);
    std::sort(out.customClasses.begin(), out.customClasses.end());
    out.customClasses.erase(std::unique(out.customClasses.begin(), out.customClasses.end()),
                            out.customClasses.end());
    findKernels(out);
    return out;
}

} // namespace bucketlab
