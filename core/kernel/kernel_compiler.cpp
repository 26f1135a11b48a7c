#include "core/kernel/kernel_compiler_p.h"

#include "core/runtime/torch_io_p.h"
#include "core/util/error.h"
#include "core/util/output_file.h"

#include <torch/csrc/jit/frontend/lexer.h>
#include <torch/csrc/jit/frontend/parser.h>
#include <torch/csrc/jit/frontend/resolver.h>
#include <torch/csrc/jit/frontend/sugared_value.h>

#include <algorithm>
#include <regex>
#include <set>
#include <sstream>

namespace bucketlab {
namespace {

struct TopLevelDef {
    std::string name;
    size_t firstLine = 0; // 0-based, inclusive (decorators excluded)
    size_t lastLine = 0;  // inclusive
    size_t indent = 0;    // columns the def is indented by (removed when compiling)
};

std::vector<std::string> splitLines(const std::string& text)
{
    std::vector<std::string> lines;
    std::stringstream s(text);
    std::string line;
    while (std::getline(s, line))
        lines.push_back(line);
    return lines;
}

bool isBlankOrComment(const std::string& line)
{
    const auto p = line.find_first_not_of(" \t\r");
    return p == std::string::npos || line[p] == '#';
}

size_t indentOf(const std::string& line)
{
    size_t i = 0;
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t'))
        ++i;
    return i;
}

// Functions not nested in another function. Code pasted from documentation is often
// indented as a whole (the guide's own code block puts the kernel two columns deeper than
// get_bucket_kernel), so a def counts at any indentation that is not inside a def's body.
std::vector<TopLevelDef> findDefs(const std::vector<std::string>& lines)
{
    static const std::regex defRe(R"(^(\s*)def\s+([A-Za-z_][A-Za-z0-9_]*)\s*\()");
    std::vector<TopLevelDef> defs;
    for (size_t i = 0; i < lines.size(); ++i) {
        std::smatch m;
        if (!std::regex_search(lines[i], m, defRe))
            continue;
        TopLevelDef d{m[2].str(), i, i, size_t(m[1].length())};
        // The body runs until the next code line indented no deeper than the def.
        for (size_t j = i + 1; j < lines.size(); ++j) {
            if (isBlankOrComment(lines[j]))
                continue;
            if (indentOf(lines[j]) <= d.indent && lines[j][indentOf(lines[j])] != ')')
                break;
            d.lastLine = j;
        }
        // A later definition of the same name replaces the earlier one, as in Python (a
        // guide or notebook export often repeats the kernel).
        defs.erase(std::remove_if(defs.begin(), defs.end(),
                                  [&](const TopLevelDef& old) { return old.name == d.name; }),
                   defs.end());
        defs.push_back(d);
        i = d.lastLine;
    }
    return defs;
}

std::string pickFunction(const std::string& file, const std::string& text,
                         const std::vector<TopLevelDef>& defs, const std::string& requested)
{
    std::string names;
    for (const auto& d : defs)
        names += (names.empty() ? "" : ", ") + d.name;
    if (defs.empty())
        throw Error(file + ": no function definitions found (expected `def <kernel>(...)`)");
    if (!requested.empty()) {
        for (const auto& d : defs)
            if (d.name == requested)
                return requested;
        throw Error(file + ": no function '" + requested + "' (functions here: " + names + ")");
    }
    static const std::regex scriptRe(R"(torch\.jit\.script\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\))");
    std::smatch m;
    if (std::regex_search(text, m, scriptRe))
        for (const auto& d : defs)
            if (d.name == m[1].str())
                return d.name;
    std::vector<std::string> kernels;
    for (const auto& d : defs)
        if (d.name.find("kernel") != std::string::npos && d.name.rfind("get_", 0) != 0)
            kernels.push_back(d.name);
    if (kernels.size() == 1)
        return kernels[0];
    return defs.front().name;
}

// `name` and every top-level function its body mentions as a call, transitively.
std::set<std::string> closure(const std::string& name, const std::vector<TopLevelDef>& defs,
                              const std::vector<std::string>& lines)
{
    std::set<std::string> out{name};
    std::vector<std::string> todo{name};
    while (!todo.empty()) {
        const std::string cur = todo.back();
        todo.pop_back();
        auto it =
            std::find_if(defs.begin(), defs.end(), [&](const auto& d) { return d.name == cur; });
        std::string body;
        for (size_t i = it->firstLine + 1; i <= it->lastLine; ++i)
            body += lines[i] + "\n";
        for (const auto& d : defs) {
            if (out.count(d.name))
                continue;
            const std::regex call("(^|[^A-Za-z0-9_.])" + d.name + R"(\s*\()");
            if (std::regex_search(body, call)) {
                out.insert(d.name);
                todo.push_back(d.name);
            }
        }
    }
    return out;
}

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

void checkSourceNesting(const std::string& text, const std::string& file)
{
    constexpr int kMaxDepth = 100;
    constexpr size_t kMaxIndent = 1000;
    int depth = 0;
    int64_t line = 1;
    size_t indent = 0;
    bool lineStart = true;
    char quote = 0; // inside a string literal
    bool triple = false;
    const auto fail = [&](const std::string& what) {
        return Error(file + ":" + std::to_string(line) + ": " + what +
                     "; a kernel source is never nested this deep (is this a kernel?)");
    };
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '\n') {
            ++line;
            indent = 0;
            lineStart = true;
            if (quote && !triple)
                quote = 0;
            continue;
        }
        if (lineStart) {
            if (c == ' ' || c == '\t') {
                if (++indent > kMaxIndent)
                    throw fail("a line indented more than " + std::to_string(kMaxIndent) +
                               " columns");
                continue;
            }
            lineStart = false;
        }
        if (quote) {
            if (c == '\\')
                ++i;
            else if (c == quote && (!triple || text.compare(i, 3, std::string(3, quote)) == 0)) {
                i += triple ? 2 : 0;
                quote = 0;
            }
            continue;
        }
        if (c == '#') {
            while (i + 1 < text.size() && text[i + 1] != '\n')
                ++i;
        } else if (c == '\'' || c == '"') {
            quote = c;
            triple = text.compare(i, 3, std::string(3, c)) == 0;
            i += triple ? 2 : 0;
        } else if (c == '(' || c == '[' || c == '{') {
            if (++depth > kMaxDepth)
                throw fail("brackets nested more than " + std::to_string(kMaxDepth) + " deep");
        } else if ((c == ')' || c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
}

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
    checkSourceNesting(text, file);
    const auto lines = splitLines(text);
    const auto defs = findDefs(lines);
    CompiledKernel out;
    out.file = file;
    out.function = pickFunction(file, text, defs, function);
    const auto keep = closure(out.function, defs, lines);
    // Keep line numbers: every line not part of a kept function becomes blank.
    std::vector<bool> kept(lines.size(), false);
    for (const auto& d : defs)
        if (keep.count(d.name)) {
            out.functions.push_back(d.name);
            for (size_t i = d.firstLine; i <= d.lastLine; ++i)
                kept[i] = true;
        }
    std::string source;
    std::vector<size_t> dedent(lines.size(), 0);
    for (const auto& d : defs)
        for (size_t i = d.firstLine; i <= d.lastLine; ++i)
            dedent[i] = d.indent;
    for (size_t i = 0; i < lines.size(); ++i)
        source +=
            (kept[i] ? (lines[i].size() >= dedent[i] ? lines[i].substr(dedent[i]) : std::string())
                     : std::string()) +
            "\n";
    out.source = source;
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
