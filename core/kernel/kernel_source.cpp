#include "core/kernel/kernel_source.h"

#include "core/util/error.h"
#include "core/util/text.h"

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
        throw Error(file + ": no function " + quote(requested) + " (functions here: " + names +
                    ")");
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

std::string inputNameList(const std::vector<InputSpec>& inputs)
{
    std::string out;
    for (const auto& in : inputs)
        out += (out.empty() ? "" : ", ") + in.name;
    return out;
}

// torch.full's fill value is a Scalar, which in TorchScript excludes bool: a bool input is
// padded with 0/1 and dtype=bool (validating generated kernels with bool inputs found this).
std::string padLiteral(const InputSpec& in)
{
    if (in.dtype == DType::Bool)
        return in.padValue != 0.0 ? "1" : "0";
    return scalarLiteral(in.dtype, in.padValue);
}

void checkLayout(const KernelLayout& layout)
{
    if (layout.boundaries.empty())
        throw Error("a kernel needs at least one bucket");
    checkInputSpecs(layout.inputs);
    checkBucketDim(layout.inputs, layout.bucketDim);
}

} // namespace

std::string generateKernelSource(const KernelLayout& layout, KernelForm form,
                                 const std::string& name)
{
    checkLayout(layout);
    const bool method = form == KernelForm::Method;
    const std::string tensor = method ? "Tensor" : "torch.Tensor";
    const std::string dim = std::to_string(layout.bucketDim);
    const auto& in = layout.inputs;
    const auto& b = layout.boundaries;
    const std::string n = std::to_string(in.size());

    std::ostringstream s;
    s << "def " << name << "(" << (method ? "self, " : "") << "inputs: List[" << tensor
      << "]) -> Tuple[List[" << tensor << "], " << tensor << "]:\n";
    s << "    # Generated by " << creatorString() << ": buckets " << b.str() << " on dimension "
      << dim << ", inputs " << inputNameList(in) << ", padded on the "
      << paddingSideName(layout.paddingSide) << ".\n";
    s << "    if len(inputs) != " << n << ":\n";
    s << "        raise Exception(\"bucketlab: expected " << n << " inputs (" << inputNameList(in)
      << "), got \" + str(len(inputs)))\n";
    for (size_t i = 0; i < in.size(); ++i)
        s << "    " << in[i].name << " = inputs[" << i << "]\n";
    // The first bucketed input's length picks the bucket; inputs without a length (marked
    // not bucketed) pass through as given.
    const size_t firstIndex = firstBucketedInput(in);
    const std::string first = in[firstIndex].name;
    s << "    length = " << first << ".size(" << dim << ")\n";
    for (size_t i = firstIndex + 1; i < in.size(); ++i) {
        if (!in[i].bucketed)
            continue;
        s << "    if " << in[i].name << ".size(" << dim << ") != length:\n";
        s << "        raise Exception(\"bucketlab: input " << in[i].name << " has length \" + str("
          << in[i].name << ".size(" << dim << ")) + \" but " << first << " has \" + str(length))\n";
    }
    // One branch per bucket assigns both values, so no variable starts from a literal
    // that a later statement changes (the guide's literal-reuse pitfall).
    for (size_t k = 0; k < b.size(); ++k) {
        s << "    " << (k == 0 ? "if" : "elif") << " length <= " << b[k] << ":\n";
        s << "        bucket_length = " << b[k] << "\n";
        s << "        bucket_index = " << k << "\n";
    }
    s << "    else:\n";
    s << "        raise Exception(\"bucketlab: input length \" + str(length) + \" exceeds the "
         "largest bucket "
      << b.largest() << "\")\n";
    s << "    padded: List[" << tensor << "] = []\n";
    s << "    delta = bucket_length - length\n";
    s << "    if delta > 0:\n";
    for (const auto& x : in) {
        if (!x.bucketed) {
            s << "        padded.append(" << x.name << ")\n";
            continue;
        }
        s << "        " << x.name << "_pad_shape: List[int] = " << x.name << ".size()\n";
        s << "        " << x.name << "_pad_shape[" << dim << "] = delta\n";
        s << "        " << x.name << "_pad = torch.full(" << x.name << "_pad_shape, "
          << padLiteral(x) << ", dtype=" << x.name << ".dtype, device=" << x.name << ".device)\n";
        if (layout.paddingSide == PaddingSide::Left)
            s << "        padded.append(torch.cat([" << x.name << "_pad, " << x.name << "], " << dim
              << "))\n";
        else
            s << "        padded.append(torch.cat([" << x.name << ", " << x.name << "_pad], " << dim
              << "))\n";
    }
    s << "    else:\n";
    for (const auto& x : in)
        s << "        padded.append(" << x.name << ")\n";
    s << "    return padded, torch.tensor([bucket_index], dtype=torch.int64)\n";
    return s.str();
}

std::string generateStatePreprocessorSource(KernelForm form, const std::string& name)
{
    const bool method = form == KernelForm::Method;
    const std::string tensor = method ? "Tensor" : "torch.Tensor";
    std::ostringstream s;
    s << "def " << name << "(" << (method ? "self, " : "")
      << "shapes_collection: List[List[List[int]]], states: List[" << tensor
      << "], bucket_idx_tensor: " << tensor << ") -> List[" << tensor << "]:\n";
    s << "    # Generated by " << creatorString()
      << ": the bucket's view of each shared state is its trailing\n"
         "    # shapes_collection[bucket][i][d] entries in every dimension d (a view, so "
         "in-place\n"
         "    # writes reach the shared buffer).\n";
    s << "    bucket_idx = " << (method ? "int" : "torch.ops.aten.Int") << "(bucket_idx_tensor)\n";
    s << "    sliced: List[" << tensor << "] = []\n";
    // Enumerated loops instead of shapes_collection[bucket_idx] and states[i]: the guide
    // warns that indexing with a variable lowers unreliably.
    s << "    for shapes_index, shapes in enumerate(shapes_collection):\n";
    s << "        if shapes_index == bucket_idx:\n";
    s << "            for state_tensor, expected_shape in zip(states, shapes):\n";
    s << "                view = state_tensor\n";
    s << "                for dim, npos in enumerate(expected_shape):\n";
    s << "                    dim_length = view.size(dim)\n";
    if (method)
        s << "                    view = torch.slice(view, dim, dim_length - npos, dim_length)\n";
    else
        s << "                    view = torch.ops.aten.slice(view, dim=dim, start=dim_length - "
             "npos, end=dim_length)\n";
    s << "                sliced.append(view)\n";
    s << "    if len(sliced) != len(states):\n";
    s << "        raise Exception(\"bucketlab: no state shapes for bucket \" + str(bucket_idx) + "
         "\" (\" + str(len(shapes_collection)) + \" buckets, \" + str(len(states)) + \" "
         "states)\")\n";
    s << "    return sliced\n";
    return s.str();
}

std::string stateBufferName(const std::string& name)
{
    return "state_" + name;
}

std::string generateForwardSource(const PackageMeta& meta)
{
    if (meta.boundaries.empty())
        throw Error("a package needs at least one bucket");
    checkInputSpecs(meta.inputs);
    checkStateSpecs(meta.states, meta.boundaries, meta.inputs);
    std::ostringstream s;
    s << "def forward(self";
    for (const auto& in : meta.inputs)
        s << ", " << in.name << ": Tensor";
    s << "):\n";
    s << "    padded, bucket = self.bucket_kernel([" << inputNameList(meta.inputs) << "])\n";
    if (!meta.states.empty()) {
        std::string buffers;
        for (const auto& st : meta.states)
            buffers += (buffers.empty() ? "self." : ", self.") + stateBufferName(st.name);
        s << "    states = self.state_preprocessor(self.shapes_collection, [" << buffers
          << "], bucket)\n";
    }
    s << "    bucket_index = int(bucket)\n"; // lowers to aten::Int
    std::string args;
    for (size_t i = 0; i < meta.inputs.size(); ++i)
        args += (i ? ", " : "") + std::string("padded[") + std::to_string(i) + "]";
    for (size_t i = 0; i < meta.states.size(); ++i)
        args += ", states[" + std::to_string(i) + "]";
    for (size_t k = 0; k < meta.boundaries.size(); ++k) {
        s << "    if bucket_index == " << k << ":\n";
        s << "        return self.bucket_" << k << ".forward(" << args << ")\n";
    }
    s << "    raise Exception(\"bucketlab: bucket kernel chose bucket \" + str(bucket_index) + \", "
         "but the package has buckets 0.."
      << meta.boundaries.size() - 1 << "\")\n";
    return s.str();
}

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

KernelSelection selectKernelFunctions(const std::string& text, const std::string& file,
                                      const std::string& function)
{
    checkSourceNesting(text, file);
    KernelSelection out;
    out.lines = splitLines(text);
    const auto& lines = out.lines;
    const auto defs = findDefs(lines);
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
    std::vector<size_t> dedent(lines.size(), 0);
    for (const auto& d : defs)
        for (size_t i = d.firstLine; i <= d.lastLine; ++i)
            dedent[i] = d.indent;
    for (size_t i = 0; i < lines.size(); ++i)
        out.source +=
            (kept[i] ? (lines[i].size() >= dedent[i] ? lines[i].substr(dedent[i]) : std::string())
                     : std::string()) +
            "\n";
    return out;
}

} // namespace bucketlab
