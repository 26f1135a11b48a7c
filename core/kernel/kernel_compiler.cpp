#include "core/kernel/kernel_compiler_p.h"

#include "core/runtime/torch_io_p.h"
#include "core/util/error.h"
#include "core/util/output_file.h"

#include <torch/csrc/jit/frontend/lexer.h>
#include <torch/csrc/jit/frontend/parser.h>
#include <torch/csrc/jit/frontend/resolver.h>
#include <torch/csrc/jit/frontend/sugared_value.h>

#include <regex>

namespace bucketlab {
namespace {

// LibTorch's compile errors end with a highlighted source excerpt naming the file and
// line; turn them into "file:line:col: message".
std::string compileErrorText(const std::string& file, const std::string& what,
                             const std::vector<std::string>& lines)
{
    std::string message = firstLine(what);
    if (!message.empty() && message.back() == ':')
        message.pop_back();
    static const std::regex lineRe("line ([0-9]+)");
    std::smatch m;
    if (!std::regex_search(what, m, lineRe))
        return file + ": " + message;
    const long line = std::stol(m[1].str());
    long col = 1;
    // The excerpt underlines the failing range with '~' below the source line.
    const std::string rest = m.suffix().str();
    auto tilde = rest.find('~');
    if (tilde != std::string::npos) {
        const auto lineStart = rest.rfind('\n', tilde);
        col = long(tilde - (lineStart == std::string::npos ? 0 : lineStart + 1)) + 1;
        // Excerpt lines are printed verbatim, so the column is the column in the file.
        if (line >= 1 && size_t(line) <= lines.size() && col > long(lines[line - 1].size()) + 1)
            col = 1;
    }
    return file + ":" + std::to_string(line) + ":" + std::to_string(col) + ": " + message;
}

struct KernelResolver : torch::jit::Resolver {
    std::shared_ptr<torch::jit::CompilationUnit> unit;
    torch::jit::Function* kernel = nullptr;
    std::string name;

    std::shared_ptr<torch::jit::SugaredValue>
    resolveValue(const std::string& n, torch::jit::GraphFunction& m,
                 const torch::jit::SourceRange& loc) override
    {
        if (n == name)
            return std::make_shared<torch::jit::FunctionValue>(
                torch::jit::StrongFunctionPtr(unit, kernel));
        return scriptResolver()->resolveValue(n, m, loc);
    }
    torch::jit::TypePtr resolveType(const std::string& n,
                                    const torch::jit::SourceRange& loc) override
    {
        return torch::jit::nativeResolver()->resolveType(n, loc);
    }
};

} // namespace

CompiledKernel compileKernelFile(const std::string& file, const std::string& function,
                                 std::shared_ptr<torch::jit::CompilationUnit> unit)
{
    return compileKernelText(readFile(file, kMaxSourceBytes, "a kernel source"), file, function,
                             std::move(unit));
}

CompiledKernel compileKernelText(const std::string& text, const std::string& file,
                                 const std::string& function,
                                 std::shared_ptr<torch::jit::CompilationUnit> unit)
{
    const KernelSelection selected = selectKernelFunctions(text, file, function);
    const auto& lines = selected.lines;
    CompiledKernel out;
    out.file = file;
    out.function = selected.function;
    out.functions = selected.functions;
    out.source = selected.source;
    const std::string& source = out.source;
    out.unit = unit ? std::move(unit) : std::make_shared<torch::jit::CompilationUnit>();
    try {
        const auto src = std::make_shared<torch::jit::Source>(source, file, 1);
        torch::jit::Parser parser(src);
        std::vector<torch::jit::Def> parsed;
        std::vector<torch::jit::ResolverPtr> resolvers;
        while (parser.lexer().cur().kind != torch::jit::TK_EOF) {
            parsed.emplace_back(parser.parseFunction(/*is_method=*/false));
            resolvers.push_back(scriptResolver());
        }
        out.unit->define(c10::QualifiedName("__torch__.bucketlab_kernel"), {}, {}, parsed,
                         resolvers, nullptr);
    } catch (const std::exception& e) {
        throw Error(compileErrorText(file, e.what(), lines));
    }
    out.kernel = &out.unit->get_function(
        c10::QualifiedName(c10::QualifiedName("__torch__.bucketlab_kernel"), out.function));
    return out;
}

void defineUserKernelMethod(torch::jit::Module& package, const std::string& file,
                            const std::string& function, const std::string& constantArgs)
{
    // As constantArgValues reads them: one line, trailing commas allowed.
    std::string constants = constantArgs;
    while (!constants.empty() && std::string(" \t,").find(constants.back()) != std::string::npos)
        constants.pop_back();
    constants.erase(0, constants.find_first_not_of(" \t"));
    if (constants.find_first_of("\r\n") != std::string::npos)
        throw Error(file + ": the constant arguments must be one line of TorchScript expressions");
    CompiledKernel k = compileKernelFile(file, function, package._ivalue()->compilation_unit());
    auto resolver = std::make_shared<KernelResolver>();
    resolver->unit = k.unit;
    resolver->kernel = k.kernel;
    resolver->name = k.function;
    try {
        package.define("def bucket_kernel(self, inputs: List[Tensor]) -> Tuple[List[Tensor], "
                       "Tensor]:\n    return " +
                           k.function + "(inputs" + (constants.empty() ? "" : ", " + constants) +
                           ")\n",
                       resolver);
    } catch (const std::exception& e) {
        if (!constants.empty())
            throw Error(file + ": kernel '" + k.function + "' cannot be called as " + k.function +
                        "(inputs, " + constants +
                        ") -> Tuple[List[Tensor], Tensor]: " + torchMessage(e));
        throw Error(file + ": kernel '" + k.function +
                    "' does not have the bucket kernel signature (List[Tensor]) -> "
                    "Tuple[List[Tensor], Tensor]: " +
                    torchMessage(e));
    }
}

} // namespace bucketlab
