#include "core/graph/lint.h"

#include "core/spec/dtype.h"
#include "core/util/error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <sstream>

namespace bucketlab {

std::string severityName(LintSeverity severity)
{
    switch (severity) {
    case LintSeverity::Info: return "info";
    case LintSeverity::Warning: return "warning";
    case LintSeverity::Error: return "error";
    }
    return {};
}

const std::vector<LintRule>& lintRules()
{
    static const std::vector<LintRule> rules = {
        {"literal-reuse", LintSeverity::Warning, "one constant stands for several variables",
         "TorchScript pools equal literals into one constant and names it after the first "
         "variable assigned from it, so the graph reads as if unrelated statements used that "
         "variable (the guide: 'the compiler might reuse variables initialized with a literal "
         "for other operations'). Reading or editing the graph then goes wrong.",
         "Do not initialise a variable from a literal that other statements also use: derive "
         "it (x.dim() - 1), assign it in each branch that needs it, or validate the kernel "
         "(bucketlab-cli validate) and read the graph with that pooling in mind."},
        {"tensor-typed-list", LintSeverity::Warning, "list or shape value typed as Tensor",
         "Unannotated parameters default to Tensor, and numbers taken from tensors stay "
         "tensors: a list of inputs or a shape then becomes a Tensor that TorchScript iterates "
         "along dimension 0 or converts implicitly (the guide: 'type annotate non-tensor-like "
         "data types').",
         "Annotate lists and shapes: `tensor_list: List[torch.Tensor]`, `shape: List[int] = "
         "[...]`, and turn tensors into ints explicitly with int(...) / torch.ops.aten.Int."},
        {"variable-index", LintSeverity::Warning, "indexing with a non-constant index",
         "TorchScript's lowering of variable indices into lists and tensors is unreliable for "
         "bucket kernels (the guide: 'index selection support is limited').",
         "Iterate with `for i, x in enumerate(...)` or use literal indices; for tensors call "
         "torch.ops.aten.select/slice explicitly; validate the kernel at every length."},
        {"slice-lowering", LintSeverity::Warning, "slice syntax lowered with sentinel bounds",
         "Slice syntax (t[:, :n]) lowers to aten::slice with None or INT64_MAX sentinels and "
         "negative bounds that wrap, which the guide warns lowers unexpectedly.",
         "Call torch.ops.aten.slice(t, dim=d, start=s, end=e) with explicit bounds, as the "
         "guide's state preprocessor does."},
        {"hardcoded-input-count", LintSeverity::Error, "hard-coded input count drops inputs",
         "A loop over the input list stops after a fixed count (the guide's `num_inputs = 3`), "
         "so any input past that count is silently dropped and the model receives fewer "
         "tensors than it was given.",
         "Pad every tensor of the list (`for tensor in tensor_list:` without a counter), or "
         "check `len(tensor_list)` and raise an exception naming the expected count."},
        {"shared-padding-dtype", LintSeverity::Error, "padding dtype taken from one input",
         "The padding of every input is created with one input's dtype (or the default "
         "float32), so torch.cat promotes inputs of other dtypes: int64 ids padded with float "
         "zeros become float, bool masks become int64.",
         "Create each input's padding with its own dtype: torch.full(shape, pad, "
         "dtype=tensor.dtype, device=tensor.device)."},
        {"bucket-index-dtype", LintSeverity::Error, "bucket index is not an int64 or int32 tensor",
         "The runtime reads the bucket index as an integer tensor (torch_neuronx; BucketLab "
         "packages call int() on it; NxD's own kernels return int32): an int, a float tensor "
         "or a narrower integer type fails or picks a wrong bucket.",
         "Return torch.tensor([bucket_idx], dtype=torch.int64)."},
        {"negative-padding", LintSeverity::Error, "padding that cuts past the largest bucket",
         "constant_pad_nd (F.pad) with a negative amount removes positions instead of adding "
         "them: a kernel that pads by `bucket - length` and raises nowhere returns an input "
         "longer than its largest bucket cut to a bucket, and the model silently reads a "
         "truncated input (NxD-style kernels that pick the bucket with argmin pick bucket 0 "
         "there).",
         "Raise when the length exceeds the largest bucket, naming both, before padding "
         "(`if length > largest: raise ValueError(...)`); validate past the largest bucket."},
    };
    return rules;
}

const LintRule& lintRule(const std::string& id)
{
    for (const auto& r : lintRules())
        if (r.id == id)
            return r;
    throw Error("unknown lint rule '" + id + "'");
}

namespace {

std::vector<std::string> splitLines(const std::string& text)
{
    std::vector<std::string> lines;
    std::stringstream s(text);
    std::string line;
    while (std::getline(s, line))
        lines.push_back(line);
    return lines;
}

bool mentions(const std::string& text, const std::string& word)
{
    if (word.empty())
        return false;
    size_t pos = 0;
    auto isId = [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    };
    while ((pos = text.find(word, pos)) != std::string::npos) {
        const bool before = pos == 0 || !isId(text[pos - 1]);
        const bool after = pos + word.size() >= text.size() || !isId(text[pos + word.size()]);
        if (before && after)
            return true;
        pos += word.size();
    }
    return false;
}

class Linter {
public:
    Linter(const GraphModel& g, const std::string& source) : g_(g), lines_(splitLines(source)) {}

    std::vector<LintFinding> run()
    {
        findInputList();
        literalReuse();
        tensorTypedList();
        variableIndex();
        sliceLowering();
        hardcodedInputCount();
        sharedPaddingDtype();
        bucketIndexDtype();
        negativePadding();
        std::stable_sort(out_.begin(), out_.end(), [](const LintFinding& a, const LintFinding& b) {
            return a.line < b.line;
        });
        return out_;
    }

private:
    const GraphNode& node(int id) const { return g_.nodes[size_t(id)]; }
    const GraphValue& value(int id) const { return g_.values[size_t(id)]; }
    const GraphNode* producer(int v) const { return g_.producer(v); }

    const GraphConstant* constantOf(int v) const
    {
        const auto* p = producer(v);
        return p && p->constant ? &*p->constant : nullptr;
    }

    void add(const std::string& rule, std::vector<int> nodes, const std::string& message,
             int line = 0, const std::string& code = {})
    {
        LintFinding f;
        f.rule = rule;
        f.severity = lintRule(rule).severity;
        f.nodes = std::move(nodes);
        f.message = message;
        if (!f.nodes.empty()) {
            const auto& src = node(f.nodes.front()).source;
            f.file = src.file;
            f.line = src.line;
            f.column = src.column;
            f.code = src.lineText;
        }
        if (line > 0) {
            f.line = line;
            f.column = 1;
            f.code = code;
        }
        out_.push_back(f);
    }

    // The line `name = <literal>` (or `name: T = <literal>`) of the kernel source; 0 if none.
    std::pair<int, std::string> assignment(const std::string& name,
                                           const std::string& literal) const
    {
        const std::regex re(
            "^\\s*" + name + "\\s*(:[^=]*)?=\\s*" +
            std::regex_replace(literal, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") +
            "\\s*(#.*)?$");
        for (size_t i = 0; i < lines_.size(); ++i)
            if (std::regex_match(lines_[i], re))
                return {int(i) + 1, lines_[i]};
        return {0, {}};
    }

    void findInputList()
    {
        for (int v : g_.blocks[0].inputs)
            if (value(v).type == "Tensor[]") {
                inputList_ = v;
                return;
            }
    }

    void literalReuse()
    {
        for (const auto& n : g_.nodes) {
            if (!n.constant || n.outputs.empty())
                continue;
            const auto& v = value(n.outputs[0]);
            const std::string name = v.variableName();
            if (name.empty() || n.constant->kind == ConstantKind::None)
                continue;
            std::vector<int> users;
            std::set<int> lines;
            for (const auto& u : v.uses) {
                if (u.node < 0)
                    continue;
                const auto& user = node(u.node);
                // Uses lowered from LibTorch's own builtins (x.shape is defined in a
                // "<string>" source) are nothing a reader wrote.
                if (user.kind == "prim::Loop" || user.kind == "prim::If" || user.source.line == 0 ||
                    user.source.file != n.source.file)
                    continue;
                if (!mentions(user.source.lineText, name) && lines.insert(user.source.line).second)
                    users.push_back(u.node);
            }
            if (users.empty())
                continue;
            const auto [line, text] = assignment(name, n.constant->text);
            std::string msg =
                "the constant " + n.constant->text + " is named `" + name + "` in the graph";
            if (line > 0)
                msg += " (from `" + std::regex_replace(text, std::regex(R"(^\s+|\s+$)"), "") +
                       "`, line " + std::to_string(line) + ")";
            msg += " but also feeds ";
            for (size_t i = 0; i < users.size() && i < 3; ++i) {
                const auto& s = node(users[i]).source;
                msg += (i ? ", " : "") + std::string("line ") + std::to_string(s.line) + " `" +
                       std::regex_replace(s.lineText, std::regex(R"(^\s+|\s+$)"), "") + "`";
            }
            if (users.size() > 3)
                msg += " and " + std::to_string(users.size() - 3) + " more";
            msg += ", which a reader sees as different variables";
            std::vector<int> nodes{users.front(), n.id};
            nodes.insert(nodes.end(), users.begin() + 1, users.end());
            add("literal-reuse", nodes, msg);
        }
    }

    // A parameter written `name: torch.Tensor` is a tensor on purpose (NxD's bucket tensor,
    // indexed along dimension 0 by design); only unannotated ones became Tensor by default.
    bool annotatedTensor(const std::string& name) const
    {
        if (name.empty())
            return false;
        const std::regex re("(^|[^A-Za-z0-9_])" + name + R"(\s*:\s*(torch\.)?Tensor\b)");
        for (const auto& line : lines_)
            if (std::regex_search(line, re))
                return true;
        return false;
    }

    void tensorTypedList()
    {
        for (int v : g_.blocks[0].inputs) {
            const auto& val = value(v);
            if (val.type != "Tensor" || annotatedTensor(val.variableName()))
                continue;
            for (const auto& u : val.uses) {
                if (u.node < 0)
                    continue;
                const auto& user = node(u.node);
                const bool dim0 = user.kind == "aten::select" && user.inputs.size() > 1 &&
                                  constantOf(user.inputs[1]) &&
                                  constantOf(user.inputs[1])->intValue == 0;
                if (user.kind == "aten::len" || dim0) {
                    add("tensor-typed-list", {u.node},
                        "parameter `" + val.variableName() +
                            "` has no type annotation, so TorchScript typed it Tensor and " +
                            (user.kind == "aten::len" ? "takes its len()" : "indexes it") +
                            " as a tensor along dimension 0; annotate it List[torch.Tensor]");
                    break;
                }
            }
        }
        for (const auto& n : g_.nodes) {
            if (n.kind == "aten::IntImplicit" || n.kind == "aten::ScalarImplicit" ||
                n.kind == "aten::FloatImplicit") {
                const std::string name = n.inputs.empty() ? "" : value(n.inputs[0]).variableName();
                add("tensor-typed-list", {n.id},
                    "`" + (name.empty() ? n.source.code : name) +
                        "` is a Tensor used where a number or shape is expected (lowered to " +
                        n.kind + "); make it an int with int(...) and annotate shapes List[int]");
            }
        }
        for (const auto& v : g_.values) {
            const std::string name = v.variableName();
            if (v.type != "Tensor" || v.producer < 0 || name.empty())
                continue;
            if (name.find("shape") != std::string::npos ||
                name.find("sizes") != std::string::npos) {
                add("tensor-typed-list", {v.producer},
                    "`" + name + "` holds a shape but is typed Tensor; annotate it List[int]");
            }
        }
    }

    const GraphNode* enclosingLoop(const GraphNode& n) const
    {
        int b = n.block;
        while (b > 0) {
            const auto& owner = node(g_.blocks[size_t(b)].owner);
            if (owner.kind == "prim::Loop")
                return &owner;
            b = owner.block;
        }
        return nullptr;
    }

    // A loop's iteration number, or a value it carries and adds 1 to on every trip.
    bool isLoopCounter(int v) const
    {
        const auto& val = value(v);
        if (val.producer >= 0 || val.block <= 0)
            return false;
        const auto& block = g_.blocks[size_t(val.block)];
        if (node(block.owner).kind != "prim::Loop")
            return false;
        if (val.index == 0)
            return true;
        // Body params: counter, carried...; body outputs: condition, carried...
        const auto* next = producer(block.outputs[size_t(val.index)]);
        if (!next || next->kind != "aten::add" || next->inputs.size() != 2)
            return false;
        const auto* step = constantOf(next->inputs[1]);
        return next->inputs[0] == v && step && step->kind == ConstantKind::Int &&
               step->intValue == 1;
    }

    void variableIndex()
    {
        for (const auto& n : g_.nodes) {
            int index = -1;
            if ((n.kind == "aten::__getitem__" || n.kind == "aten::_set_item") &&
                n.inputs.size() >= 2)
                index = n.inputs[1];
            else if (n.kind == "aten::select" && n.inputs.size() >= 3)
                index = n.inputs[2];
            if (index < 0 || constantOf(index))
                continue;
            const auto& container = value(n.inputs[0]);
            if (container.type.rfind("Dict", 0) == 0)
                continue;
            // `for x in xs` and enumerate() index the list with the loop's counter on the
            // loop's own line: that is the compiler's iteration, not the user's indexing.
            if (const auto* loop = enclosingLoop(n); loop && loop->source.line == n.source.line)
                continue;
            // Serialized code (an archive's code/ records) spells every for loop as a while
            // loop with an explicit counter: indexing with that counter is the iteration.
            if (n.source.file.rfind("code/", 0) == 0 && isLoopCounter(index))
                continue;
            if (n.source.line == 0)
                continue;
            const std::string idx = value(index).variableName();
            add("variable-index", {n.id},
                "`" + n.source.code + "` indexes " + container.type + " `" +
                    container.variableName() + "` with the variable " +
                    (idx.empty() ? std::string("index") : "`" + idx + "`") + " (lowered to " +
                    n.kind + ")");
        }
    }

    void sliceLowering()
    {
        for (const auto& n : g_.nodes) {
            if (n.kind != "aten::slice" || n.source.line == 0)
                continue;
            const std::string& code = n.source.code;
            if (code.find('[') == std::string::npos || code.find(':') == std::string::npos ||
                code.find(".slice(") != std::string::npos)
                continue;
            auto bound = [&](size_t i) -> std::string {
                if (i >= n.inputs.size())
                    return "?";
                if (const auto* c = constantOf(n.inputs[i])) {
                    if (c->kind == ConstantKind::None)
                        return "None";
                    if (c->kind == ConstantKind::Int && c->intValue == INT64_MAX)
                        return "INT64_MAX";
                    return c->text;
                }
                const std::string name = value(n.inputs[i]).variableName();
                return name.empty() ? "%" + value(n.inputs[i]).name : name;
            };
            std::string reason;
            for (size_t i : {size_t(2), size_t(3)}) {
                const std::string b = bound(i);
                if (b == "None" || b == "INT64_MAX")
                    reason = "sentinel bounds";
                else if (!b.empty() && b[0] == '-' && reason.empty())
                    reason = "a negative bound that wraps";
            }
            if (reason.empty())
                reason = "bounds computed by the compiler";
            add("slice-lowering", {n.id},
                "`" + code + "` is lowered to aten::slice(dim=" + bound(1) + ", start=" + bound(2) +
                    ", end=" + bound(3) + ", step=" + bound(4) + ") with " + reason +
                    "; call torch.ops.aten.slice with explicit bounds");
        }
    }

    bool derivesFromLenOfInputs(int v, int depth = 0) const
    {
        if (depth > 4 || inputList_ < 0)
            return false;
        const auto* p = producer(v);
        if (!p)
            return false;
        if (p->kind == "aten::len")
            return p->inputs.size() == 1 && p->inputs[0] == inputList_;
        for (int in : p->inputs)
            if (derivesFromLenOfInputs(in, depth + 1))
                return true;
        return false;
    }

    // The value a loop-carried block parameter starts from, following enclosing loops.
    const GraphNode* initialConstant(int blockParam) const
    {
        int v = blockParam;
        for (int guard = 0; guard < 16; ++guard) {
            const auto& val = value(v);
            if (val.producer >= 0)
                return node(val.producer).constant ? &node(val.producer) : nullptr;
            const auto& block = g_.blocks[size_t(val.block)];
            if (block.owner < 0)
                return nullptr;
            const auto& owner = node(block.owner);
            if (owner.kind != "prim::Loop" || val.index == 0)
                return nullptr;
            // Loop inputs: trip count, condition, carried...; body params: counter, carried...
            v = owner.inputs[size_t(val.index) + 1];
        }
        return nullptr;
    }

    void hardcodedInputCount()
    {
        if (inputList_ < 0)
            return;
        bool countChecked = false;
        for (const auto& n : g_.nodes)
            if ((n.kind == "aten::eq" || n.kind == "aten::ne") && n.inputs.size() == 2)
                for (int in : n.inputs)
                    if (const auto* p = producer(in);
                        p && p->kind == "aten::len" && p->inputs[0] == inputList_)
                        countChecked = true;
        for (const auto& loop : g_.nodes) {
            if (loop.kind != "prim::Loop" || loop.blocks.empty())
                continue;
            const auto& body = g_.blocks[size_t(loop.blocks[0])];
            // `for t in tensor_list` runs up to INT64_MAX trips while i < len(tensor_list);
            // either form takes the list's elements in the body.
            bool overInputs = derivesFromLenOfInputs(loop.inputs[0]);
            for (int id : body.nodes) {
                const auto& n = node(id);
                if (n.kind == "aten::__getitem__" && n.inputs[0] == inputList_ &&
                    !constantOf(n.inputs[1]) &&
                    (n.source.line == loop.source.line || isLoopCounter(n.inputs[1])))
                    overInputs = true;
            }
            if (overInputs) {
                // A counter carried through the loop, started from a constant and compared.
                for (size_t k = 1; k < body.inputs.size(); ++k) {
                    const int param = body.inputs[k];
                    for (const auto& u : value(param).uses) {
                        if (u.node < 0)
                            continue;
                        const auto& cmp = node(u.node);
                        static const std::set<std::string> compares = {
                            "aten::eq", "aten::ne", "aten::lt", "aten::le", "aten::gt", "aten::ge"};
                        if (!compares.count(cmp.kind))
                            continue;
                        const auto* start = initialConstant(param);
                        if (!start || start->constant->kind != ConstantKind::Int ||
                            start->constant->intValue < 1)
                            continue;
                        const std::string name = value(param).variableName();
                        const auto [line, text] =
                            assignment(name, std::to_string(start->constant->intValue));
                        add("hardcoded-input-count", {cmp.id, loop.id, start->id},
                            "the loop over `" + value(inputList_).variableName() +
                                "` stops after `" + name + "` = " + start->constant->text +
                                " inputs: input " + std::to_string(start->constant->intValue + 1) +
                                " and later are dropped without an error",
                            line, text);
                        return;
                    }
                }
            }
            if (const auto* trips = constantOf(loop.inputs[0]);
                trips && trips->kind == ConstantKind::Int && trips->intValue < INT64_MAX &&
                !countChecked) {
                // for i in range(N): ... inputs[i] — only N inputs are used.
                for (int id : g_.nodesUnder(body.id)) {
                    const auto& n = node(id);
                    if (n.kind == "aten::__getitem__" && n.inputs[0] == inputList_ &&
                        n.inputs[1] == body.inputs[0]) {
                        add("hardcoded-input-count", {id, loop.id},
                            "the loop runs " + trips->text + " times over `" +
                                value(inputList_).variableName() +
                                "` and never checks len(): inputs past " + trips->text +
                                " are dropped without an error");
                        return;
                    }
                }
            }
        }
    }

    void sharedPaddingDtype()
    {
        static const std::map<std::string, size_t> dtypeArg = {
            {"aten::zeros", 1}, {"aten::ones", 1}, {"aten::empty", 1}, {"aten::full", 2}};
        for (const auto& cat : g_.nodes) {
            if (cat.kind != "aten::cat" || cat.inputs.empty())
                continue;
            const auto* list = producer(cat.inputs[0]);
            if (!list || list->kind != "prim::ListConstruct" || list->inputs.size() < 2)
                continue;
            const int padded = list->inputs[0];
            for (size_t i = 1; i < list->inputs.size(); ++i) {
                const auto* pad = producer(list->inputs[i]);
                if (!pad)
                    continue;
                const auto it = dtypeArg.find(pad->kind);
                if (it == dtypeArg.end() || it->second >= pad->inputs.size())
                    continue;
                const int dtype = pad->inputs[it->second];
                const auto* source = producer(dtype);
                const std::string paddedName = value(padded).variableName();
                if (source && source->kind == "prim::dtype" && source->inputs[0] != padded) {
                    add("shared-padding-dtype", {pad->id, cat.id},
                        "the padding of `" + paddedName + "` takes its dtype from `" +
                            value(source->inputs[0]).variableName() +
                            "`: inputs of any other dtype are promoted by torch.cat");
                } else if (const auto* c = constantOf(dtype); c && c->kind == ConstantKind::None) {
                    add("shared-padding-dtype", {pad->id, cat.id},
                        "the padding of `" + paddedName +
                            "` is created with the default dtype (float32): torch.cat turns "
                            "integer and bool inputs into float");
                }
            }
        }
    }

    void bucketIndexDtype()
    {
        const auto& outs = g_.blocks[0].outputs;
        if (outs.size() != 1)
            return;
        const auto* tuple = producer(outs[0]);
        if (!tuple || tuple->kind != "prim::TupleConstruct" || tuple->inputs.size() != 2)
            return;
        const int idx = tuple->inputs[1];
        const auto& v = value(idx);
        if (v.type != "Tensor") {
            const auto* p = producer(idx);
            add("bucket-index-dtype", {p && p->source.line > 0 ? p->id : tuple->id},
                "the kernel returns the bucket index as " + v.type +
                    ", not an int64 or int32 tensor");
            return;
        }
        const auto* p = producer(idx);
        if (!p)
            return;
        auto dtypeText = [&](const GraphConstant* c) -> std::string {
            if (!c)
                return {};
            if (c->kind == ConstantKind::None)
                return "None";
            const char* name = scalarTypeName(c->intValue);
            return name ? name : c->text;
        };
        std::string problem;
        if (p->kind == "aten::tensor" && p->inputs.size() >= 2) {
            const std::string d = dtypeText(constantOf(p->inputs[1]));
            const std::string data = value(p->inputs[0]).type;
            if (d == "None" &&
                (data.find("float") != std::string::npos || data.find("bool") != std::string::npos))
                problem = "torch.tensor of " + data + " makes a " +
                          (data.find("float") != std::string::npos ? "float32" : "bool") +
                          " tensor";
            else if (!d.empty() && d != "None" && d != "int64" && d != "int32")
                problem = "torch.tensor(..., dtype=" + d + ")";
        } else if ((p->kind == "aten::zeros" || p->kind == "aten::ones" ||
                    p->kind == "aten::full" || p->kind == "aten::empty")) {
            const size_t i = p->kind == "aten::full" ? 2 : 1;
            const std::string d = i < p->inputs.size() ? dtypeText(constantOf(p->inputs[i])) : "";
            if (d == "None")
                problem = p->kind.substr(6) + " without a dtype makes a float32 tensor";
            else if (!d.empty() && d != "int64" && d != "int32")
                problem = p->kind.substr(6) + " with dtype " + d;
        } else if (p->kind == "aten::to" && p->inputs.size() >= 2) {
            const std::string d = dtypeText(constantOf(p->inputs[1]));
            if (!d.empty() && d != "None" && d != "int64" && d != "int32")
                problem = ".to(" + d + ")";
        }
        if (!problem.empty())
            add("bucket-index-dtype", {p->id},
                "the bucket index is not an int64 or int32 tensor: " + problem);
    }

    // Static: without a raise anywhere, nothing stops a length past the largest bucket from
    // reaching the padding with a negative amount (calls are inlined, so a raise in a helper
    // counts). Only constant_pad_nd cuts; zeros() of a negative size raises by itself.
    void negativePadding()
    {
        for (const auto& n : g_.nodes)
            if (n.kind == "prim::RaiseException")
                return;
        for (const auto& n : g_.nodes)
            if (n.kind == "aten::constant_pad_nd" || n.kind == "aten::pad")
                add("negative-padding", {n.id},
                    "the kernel pads with " + n.kind.substr(6) +
                        " and raises nowhere: past its largest bucket the amount is negative "
                        "and the input is cut instead of rejected");
    }

    const GraphModel& g_;
    std::vector<std::string> lines_;
    int inputList_ = -1;
    std::vector<LintFinding> out_;
};

} // namespace

std::vector<LintFinding> lintGraph(const GraphModel& graph, const std::string& source)
{
    return Linter(graph, source).run();
}

nlohmann::json lintFindingsJson(const std::vector<LintFinding>& findings)
{
    using nlohmann::json;
    json list = json::array();
    for (const auto& f : findings) {
        const auto& rule = lintRule(f.rule);
        list.push_back({{"rule", f.rule},
                        {"severity", severityName(f.severity)},
                        {"line", f.line},
                        {"column", f.column},
                        {"file", f.file},
                        {"code", f.code},
                        {"message", f.message},
                        {"nodes", f.nodes},
                        {"explanation", rule.explanation},
                        {"fix", rule.fix}});
    }
    return json{{"findings", list}};
}

} // namespace bucketlab
