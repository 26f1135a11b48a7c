#include "core/kernel/kernel.h"

#include "core/kernel/kernel_compiler_p.h"
#include "core/kernel/kernel_impl_p.h"
#include "core/runtime/torch_io_p.h"
#include "core/util/error.h"

#include <torch/csrc/jit/frontend/parser.h>
#include <torch/csrc/jit/frontend/resolver.h>
#include <torch/csrc/jit/frontend/sugared_value.h>
#include <torch/csrc/jit/serialization/import_read.h>

#include <caffe2/serialize/inline_container.h>

#include <fstream>
#include <regex>
#include <sstream>

namespace bucketlab {

std::string kernelOriginName(KernelOrigin origin)
{
    switch (origin) {
    case KernelOrigin::SourceFile: return "source file";
    case KernelOrigin::ArchiveMethod: return "archive method";
    case KernelOrigin::ArchiveFunction: return "archive function";
    case KernelOrigin::ArchiveExtracted: return "source extracted from the archive";
    }
    return {};
}

Kernel::Kernel(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
const std::string& Kernel::file() const
{
    return impl_->file;
}
const std::string& Kernel::name() const
{
    return impl_->name;
}
KernelOrigin Kernel::origin() const
{
    return impl_->origin;
}
const std::string& Kernel::source() const
{
    return impl_->source;
}

std::vector<KernelParam> Kernel::parameters() const
{
    std::vector<KernelParam> out;
    for (const auto& a : impl_->function->getSchema().arguments())
        if (!(impl_->module && a.name() == "self"))
            out.push_back({a.name(), a.type()->annotation_str()});
    return out;
}

std::string Kernel::returnType() const
{
    const auto& r = impl_->function->getSchema().returns();
    if (r.size() == 1)
        return r[0].type()->annotation_str();
    std::string s = "(";
    for (size_t i = 0; i < r.size(); ++i)
        s += (i ? ", " : "") + r[i].type()->annotation_str();
    return s + ")";
}

std::string Kernel::schema() const
{
    std::string s = name() + "(";
    const auto params = parameters();
    for (size_t i = 0; i < params.size(); ++i)
        s += (i ? ", " : "") + params[i].type + " " + params[i].name;
    return s + ") -> " + returnType();
}

std::optional<KernelRole> Kernel::role() const
{
    // NxD's kernels take constant arguments after their inputs (buckets, padding side, pad
    // token), so a first List[Tensor] marks a bucket kernel whatever follows it.
    const auto params = parameters();
    if (params.size() == 1 || (!params.empty() && params.front().type == "List[Tensor]"))
        return KernelRole::BucketKernel;
    if (params.size() == 3)
        return KernelRole::StatePreprocessor;
    return std::nullopt;
}

bool isArchiveFile(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    char magic[4] = {};
    in.read(magic, 4);
    return in.gcount() == 4 && std::string(magic, 4) == std::string("PK\x03\x04", 4);
}

namespace {

// ---- Kernels extracted from archives that cannot be loaded here -----------------------

// `CONSTANTS.c<N>` of serialized code: the tensors of constants.pkl.
struct ConstantTableValue : torch::jit::SugaredValue {
    explicit ConstantTableValue(std::vector<c10::IValue> constants)
        : constants_(std::move(constants))
    {
    }
    std::string kind() const override { return "CONSTANTS"; }
    std::shared_ptr<torch::jit::SugaredValue> attr(const torch::jit::SourceRange& loc,
                                                   torch::jit::GraphFunction& m,
                                                   const std::string& field) override
    {
        const size_t i = field.size() > 1 ? size_t(std::stoul(field.substr(1))) : 0;
        if (field.empty() || field[0] != 'c' || i >= constants_.size())
            throw torch::jit::ErrorReport(loc) << "unknown constant CONSTANTS." << field;
        return std::make_shared<torch::jit::SimpleValue>(
            m.graph()->insertConstant(constants_[i], loc));
    }

private:
    std::vector<c10::IValue> constants_;
};

class ArchiveKernelCompiler;

// `__torch__.a.b.f`: a namespace path that ends at a free function of the archive,
// compiled on first use.
struct ArchiveNamespaceValue : torch::jit::SugaredValue {
    ArchiveNamespaceValue(ArchiveKernelCompiler* compiler, std::string prefix)
        : compiler_(compiler), prefix_(std::move(prefix))
    {
    }
    std::string kind() const override { return "namespace " + prefix_; }
    std::shared_ptr<torch::jit::SugaredValue> attr(const torch::jit::SourceRange& loc,
                                                   torch::jit::GraphFunction& m,
                                                   const std::string& field) override;

private:
    ArchiveKernelCompiler* compiler_;
    std::string prefix_;
};

// Compiles functions of an archive's serialized code on their own, with the names the
// serialized code uses (torch, ops, annotate, CONSTANTS, __torch__...), so a kernel can be
// run where the model around it cannot be loaded.
class ArchiveKernelCompiler : public torch::jit::Resolver,
                              public std::enable_shared_from_this<ArchiveKernelCompiler> {
public:
    ArchiveKernelCompiler(const ArchiveContents& archive, std::vector<c10::IValue> constants)
        : archive_(archive), constants_(std::move(constants)),
          unit_(std::make_shared<torch::jit::CompilationUnit>())
    {
    }

    torch::jit::Function* compile(const ScriptFunction& f)
    {
        const std::string qualified = "__torch__.bucketlab_extracted." + f.name;
        if (auto* done = unit_->find_function(c10::QualifiedName(qualified)))
            return done;
        if (f.usesSelf)
            throw Error(archive_.path + ": " + f.file + ":" + std::to_string(f.firstLine) + ": " +
                        f.name +
                        " reads attributes of its module (self.<name>), so it cannot run "
                        "without the model; load it where the model's runtime is installed");
        // Keep the code record's line numbers: blank lines before, the rewritten header
        // (without self) on the def line, blank lines for the rest of the header.
        std::vector<std::string> lines;
        {
            std::stringstream s(f.source);
            std::string line;
            while (std::getline(s, line))
                lines.push_back(line);
        }
        size_t headerEnd = 0;
        int depth = 0;
        for (; headerEnd < lines.size(); ++headerEnd) {
            for (char c : lines[headerEnd])
                depth += (c == '(' || c == '[') - (c == ')' || c == ']');
            const auto last = lines[headerEnd].find_last_not_of(" \t\r");
            if (depth <= 0 && last != std::string::npos && lines[headerEnd][last] == ':')
                break;
        }
        std::string text(size_t(f.firstLine - 1), '\n');
        text += "def " + f.name + "(";
        for (size_t i = 0; i < f.params.size(); ++i)
            text += (i ? ", " : "") + f.params[i].name +
                    (f.params[i].type.empty() ? "" : ": " + f.params[i].type) +
                    (f.params[i].defaultValue.empty() ? "" : "=" + f.params[i].defaultValue);
        text += ")" + (f.returnType.empty() ? std::string() : " -> " + f.returnType) + ":\n";
        for (size_t i = 1; i <= headerEnd && i < lines.size(); ++i)
            text += "\n";
        for (size_t i = headerEnd + 1; i < lines.size(); ++i)
            text += lines[i] + "\n";
        // Functions it calls are compiled from inside define(); the kernel's own text is
        // the first one compiled.
        if (source_.empty())
            source_ = text;
        checkSourceNesting(text, archive_.path + ": " + f.file);
        try {
            auto src = std::make_shared<torch::jit::Source>(text, f.file, 1);
            torch::jit::Parser parser(src);
            std::vector<torch::jit::Def> defs{torch::jit::Def(parser.parseFunction(false))};
            std::vector<torch::jit::ResolverPtr> resolvers{shared_from_this()};
            auto fns = unit_->define(c10::QualifiedName("__torch__.bucketlab_extracted"), {}, {},
                                     defs, resolvers, nullptr);
            fns.front()->ensure_defined();
            return fns.front();
        } catch (const Error&) {
            throw;
        } catch (const std::exception& e) {
            throw Error(archive_.path + ": " + f.file + ":" + std::to_string(f.firstLine) +
                        ": cannot compile " + f.name + " on its own: " + torchMessage(e));
        }
    }

    torch::jit::Function* functionNamed(const std::string& qualified)
    {
        for (const auto& f : archive_.code.functions)
            if (f.qualifiedName == qualified)
                return compile(f);
        return nullptr;
    }

    std::shared_ptr<torch::jit::SugaredValue>
    resolveValue(const std::string& name, torch::jit::GraphFunction& m,
                 const torch::jit::SourceRange& loc) override
    {
        if (name == "ops")
            return opsNamespace();
        if (name == "annotate")
            return torch::jit::SpecialFormValue::create(c10::prim::annotate);
        if (name == "uninitialized")
            return torch::jit::SpecialFormValue::create(c10::prim::Uninitialized);
        if (name == "fork")
            return torch::jit::SpecialFormValue::create(c10::prim::fork);
        if (name == "CONSTANTS")
            return std::make_shared<ConstantTableValue>(constants_);
        if (name == "inf" || name == "nan")
            return std::make_shared<torch::jit::SimpleValue>(
                m.graph()->insertConstant(name == "inf" ? std::numeric_limits<double>::infinity()
                                                        : std::numeric_limits<double>::quiet_NaN(),
                                          loc));
        if (name == "__torch__")
            return std::make_shared<ArchiveNamespaceValue>(this, "__torch__");
        return scriptResolver()->resolveValue(name, m, loc);
    }
    torch::jit::TypePtr resolveType(const std::string& name,
                                    const torch::jit::SourceRange& loc) override
    {
        return torch::jit::nativeResolver()->resolveType(name, loc);
    }

    std::shared_ptr<torch::jit::CompilationUnit> unit() const { return unit_; }
    const std::string& source() const { return source_; }

private:
    const ArchiveContents& archive_;
    std::vector<c10::IValue> constants_;
    std::shared_ptr<torch::jit::CompilationUnit> unit_;
    std::string source_;
};

std::shared_ptr<torch::jit::SugaredValue>
ArchiveNamespaceValue::attr(const torch::jit::SourceRange&, torch::jit::GraphFunction&,
                            const std::string& field)
{
    const std::string name = prefix_ + "." + field;
    if (auto* f = compiler_->functionNamed(name))
        return std::make_shared<torch::jit::FunctionValue>(f);
    return std::make_shared<ArchiveNamespaceValue>(compiler_, name);
}

std::vector<c10::IValue> readConstants(const std::string& path)
{
    caffe2::serialize::PyTorchStreamReader reader(path);
    if (!reader.hasRecord("constants.pkl"))
        return {};
    auto value = torch::jit::readArchiveAndTensors("constants", "", "constants/", c10::nullopt,
                                                   c10::nullopt, c10::Device(c10::kCPU), reader);
    return value.toTupleRef().elements().vec();
}

const ScriptFunction* pickArchiveKernel(const ArchiveContents& archive, const std::string& name)
{
    if (!name.empty())
        return findArchiveFunction(archive, name);
    // The function that holds the kernel's logic: a free function named like a kernel
    // (a method usually just calls it), else the first method named so.
    for (const auto& k : archive.kernels)
        if (k.role == KernelRole::BucketKernel && k.function.owner.empty())
            return &k.function;
    for (const auto& k : archive.kernels)
        if (k.role == KernelRole::BucketKernel)
            return &k.function;
    return nullptr;
}

std::string functionList(const ArchiveContents& archive)
{
    std::string names;
    for (const auto& m : archive.rootMethods())
        names += (names.empty() ? "" : ", ") + m.name;
    for (const auto& f : archive.code.functions)
        names += (names.empty() ? "" : ", ") + f.name;
    return names.empty() ? "none" : names;
}

Kernel extractFromArchive(const std::string& path, const ArchiveContents& archive,
                          const std::string& function, const std::string& loadError)
{
    const ScriptFunction* f = pickArchiveKernel(archive, function);
    if (!f)
        throw Error(path + ": " +
                    (function.empty() ? std::string("no bucket kernel found")
                                      : "no function or method '" + function + "'") +
                    " (functions here: " + functionList(archive) +
                    "); the archive cannot be loaded here either (" + loadError + ")");
    auto compiler = std::make_shared<ArchiveKernelCompiler>(archive, readConstants(path));
    auto impl = std::make_shared<Kernel::Impl>();
    impl->function = compiler->compile(*f);
    impl->unit = compiler->unit();
    impl->file = path;
    impl->name = f->name;
    impl->source = compiler->source();
    impl->origin = KernelOrigin::ArchiveExtracted;
    return Kernel(impl);
}

// ---- Kernels of loadable archives ------------------------------------------------------

Kernel fromLoadedModule(const std::string& path, torch::jit::Module module,
                        const ArchiveContents& archive, const std::string& function)
{
    auto impl = std::make_shared<Kernel::Impl>();
    impl->file = path;
    impl->unit = module._ivalue()->compilation_unit();
    auto useMethod = [&](const std::string& name) {
        impl->name = name;
        impl->function = &module.get_method(name).function();
        impl->module = module;
        impl->origin = KernelOrigin::ArchiveMethod;
        if (const auto* f = findArchiveFunction(archive, name))
            impl->source = f->source;
        return Kernel(impl);
    };
    auto useFunction = [&](torch::jit::Function* fn) {
        impl->name = fn->name();
        impl->function = fn;
        impl->origin = KernelOrigin::ArchiveFunction;
        if (const auto* f = findArchiveFunction(archive, fn->qualname().qualifiedName()))
            impl->source = f->source;
        return Kernel(impl);
    };
    if (!function.empty()) {
        if (module.find_method(function))
            return useMethod(function);
        for (auto* fn : impl->unit->get_functions())
            if (fn->name() == function || fn->qualname().qualifiedName() == function)
                return useFunction(fn);
        throw Error(path + ": no method or function '" + function +
                    "' (functions here: " + functionList(archive) + ")");
    }
    for (const auto& m : module.get_methods())
        if (kernelRoleOfName(m.name()) == KernelRole::BucketKernel)
            return useMethod(m.name());
    for (auto* fn : impl->unit->get_functions())
        if (kernelRoleOfName(fn->name()) == KernelRole::BucketKernel)
            return useFunction(fn);
    // torch.jit.save(torch.jit.script(fn)) stores the function as a module's forward.
    if (!archive.modules.empty() &&
        archive.modules.front().className.find("PlaceholderModule") != std::string::npos &&
        module.find_method("forward"))
        return useMethod("forward");
    throw Error(path + ": no bucket kernel found (functions here: " + functionList(archive) +
                "); name it with " + subject(Field::Function));
}

Kernel fromCompiledSource(const CompiledKernel& k, const std::string& path)
{
    auto impl = std::make_shared<Kernel::Impl>();
    impl->file = path;
    impl->name = k.function;
    impl->source = k.source;
    impl->unit = k.unit;
    impl->function = k.kernel;
    impl->origin = KernelOrigin::SourceFile;
    try {
        impl->function->ensure_defined();
        (void)impl->function->getSchema();
    } catch (const std::exception& e) {
        throw Error(path + ": " + torchMessage(e));
    }
    return Kernel(impl);
}

} // namespace

Kernel compileKernelSource(const std::string& source, const std::string& name,
                           const KernelLoadOptions& options)
{
    return fromCompiledSource(compileKernelText(source, name, options.function), name);
}

Kernel loadKernel(const std::string& path, const KernelLoadOptions& options)
{
    // A .pt that is not a zip gets the archive checks' message ("not a TorchScript archive").
    const bool archive =
        isArchiveFile(path) || (path.size() > 3 && path.compare(path.size() - 3, 3, ".pt") == 0);
    if (!archive)
        return fromCompiledSource(compileKernelFile(path, options.function), path);
    const ArchiveContents contents = readArchive(path); // checks the file first
    std::optional<torch::jit::Module> module;
    std::string loadError;
    try {
        module = loadScriptModule(path);
    } catch (const Error& e) {
        loadError = e.what();
    }
    if (module)
        return fromLoadedModule(path, *module, contents, options.function);
    return extractFromArchive(path, contents, options.function, loadError);
}

} // namespace bucketlab
