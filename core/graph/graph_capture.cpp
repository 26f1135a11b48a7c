#include "core/graph/graph_capture.h"

#include "core/archive/archive.h"
#include "core/kernel/kernel_impl_p.h"
#include "core/runtime/torch_io_p.h"
#include "core/util/error.h"

#include <torch/csrc/jit/passes/inliner.h>

#include <sstream>
#include <unordered_map>

namespace bucketlab {
namespace {

std::string stripNewline(std::string s)
{
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r'))
        s.pop_back();
    return s;
}

class GraphCapture {
public:
    explicit GraphCapture(GraphModel& out) : out_(out) {}

    void capture(torch::jit::Graph& graph)
    {
        out_.blocks.push_back(GraphBlock{});
        visitBlock(graph.block(), 0);
        // Uses are recorded last, once every node and block has its id.
        for (const auto& [value, id] : valueIds_)
            for (const auto& use : value->uses()) {
                GraphUse u;
                u.input = int(use.offset);
                if (use.user->kind() == c10::prim::Return) {
                    u.block = blockIds_.at(use.user->owningBlock());
                } else {
                    u.node = nodeIds_.at(use.user);
                }
                out_.values[size_t(id)].uses.push_back(u);
            }
        for (auto& v : out_.values)
            std::sort(v.uses.begin(), v.uses.end(), [](const GraphUse& a, const GraphUse& b) {
                return std::tie(a.node, a.block, a.input) < std::tie(b.node, b.block, b.input);
            });
    }

private:
    int valueId(const torch::jit::Value* v)
    {
        auto it = valueIds_.find(v);
        if (it != valueIds_.end())
            return it->second;
        GraphValue gv;
        gv.id = int(out_.values.size());
        gv.name = v->debugName();
        gv.type = v->type()->str();
        gv.index = int(v->offset());
        out_.values.push_back(gv);
        valueIds_[v] = gv.id;
        return gv.id;
    }

    void visitBlock(torch::jit::Block* block, int blockId)
    {
        blockIds_[block] = blockId;
        for (auto* in : block->inputs()) {
            const int id = valueId(in);
            out_.values[size_t(id)].block = blockId;
            out_.blocks[size_t(blockId)].inputs.push_back(id);
        }
        for (auto* node : block->nodes()) {
            GraphNode n;
            n.id = int(out_.nodes.size());
            n.kind = node->kind().toQualString();
            n.block = blockId;
            nodeIds_[node] = n.id;
            for (auto* in : node->inputs())
                n.inputs.push_back(valueId(in));
            for (auto* o : node->outputs()) {
                const int id = valueId(o);
                out_.values[size_t(id)].producer = n.id;
                n.outputs.push_back(id);
            }
            if (node->kind() == c10::prim::Constant)
                n.constant = constantOf(node);
            n.source = positionOf(node->sourceRange());
            n.scope = scopeOf(node);
            out_.nodes.push_back(n);
            out_.blocks[size_t(blockId)].nodes.push_back(n.id);
            for (auto* inner : node->blocks()) {
                GraphBlock b;
                b.id = int(out_.blocks.size());
                b.owner = n.id;
                out_.blocks.push_back(b);
                out_.nodes[size_t(n.id)].blocks.push_back(b.id);
                visitBlock(inner, b.id);
            }
        }
        for (auto* o : block->outputs())
            out_.blocks[size_t(blockId)].outputs.push_back(valueId(o));
    }

    static GraphConstant constantOf(torch::jit::Node* node)
    {
        GraphConstant c;
        const auto iv = torch::jit::toIValue(node->output());
        if (!iv) {
            c.text = "?";
            return c;
        }
        if (iv->isNone()) {
            c.kind = ConstantKind::None;
            c.text = "None";
        } else if (iv->isBool()) {
            c.kind = ConstantKind::Bool;
            c.intValue = iv->toBool();
            c.text = iv->toBool() ? "True" : "False";
        } else if (iv->isInt()) {
            c.kind = ConstantKind::Int;
            c.intValue = iv->toInt();
            c.text = std::to_string(c.intValue);
        } else if (iv->isDouble()) {
            c.kind = ConstantKind::Float;
            std::ostringstream s;
            s << iv->toDouble();
            c.text = s.str();
        } else if (iv->isString()) {
            c.kind = ConstantKind::String;
            c.text = "\"" + iv->toStringRef() + "\"";
        } else if (iv->isTensor()) {
            c.kind = ConstantKind::Tensor;
            std::ostringstream s;
            s << "tensor " << iv->toTensor().sizes();
            c.text = s.str();
        } else {
            std::ostringstream s;
            s << *iv;
            c.text = s.str();
        }
        return c;
    }

    static SourcePosition positionOf(const torch::jit::SourceRange& range)
    {
        SourcePosition p;
        const auto& src = range.source();
        if (!src || range.end() <= range.start())
            return p;
        const size_t startLine = src->lineno_for_offset(range.start());
        const size_t endLine = src->lineno_for_offset(range.end() > 0 ? range.end() - 1 : 0);
        p.file = src->filename() ? *src->filename() : std::string("<source>");
        p.line = int(src->lineno_to_source_lineno(startLine));
        p.column = int(range.start() - src->offset_for_line(startLine)) + 1;
        p.endLine = int(src->lineno_to_source_lineno(endLine));
        p.endColumn = int(range.end() - src->offset_for_line(endLine)) + 1;
        p.lineText = stripNewline(src->get_line(startLine).str());
        std::string code = range.text().str();
        if (const auto nl = code.find('\n'); nl != std::string::npos)
            code.resize(nl);
        p.code = code;
        if (!src->filename())
            p.line = int(startLine) + 1;
        return p;
    }

    static std::string scopeOf(torch::jit::Node* node)
    {
        std::string s;
        if (node->scope() && !node->scope()->isBlank())
            s = node->scope()->namesFromRoot();
        if (auto cs = node->callstack()) {
            std::string calls;
            for (const auto& entry : (*cs)->vec()) {
                const auto* fn = std::get<0>(entry);
                calls += (calls.empty() ? "" : "/") + (fn ? fn->name() : std::string("?"));
            }
            s += (s.empty() ? "" : " ") + calls;
        }
        return s;
    }

    GraphModel& out_;
    std::unordered_map<const torch::jit::Value*, int> valueIds_;
    std::unordered_map<const torch::jit::Node*, int> nodeIds_;
    std::unordered_map<const torch::jit::Block*, int> blockIds_;
};

GraphModel captureInlined(const std::shared_ptr<torch::jit::Graph>& graph, const std::string& name)
{
    auto copy = graph->copy();
    torch::jit::Inline(*copy);
    GraphModel model;
    model.name = name;
    std::ostringstream printed;
    copy->print(printed, /*print_source_locations=*/true);
    model.printed = printed.str();
    GraphCapture(model).capture(*copy);
    return model;
}

} // namespace

GraphModel kernelGraph(const Kernel& kernel)
{
    try {
        return captureInlined(kernel.impl().graph(), kernel.name());
    } catch (const Error&) {
        throw;
    } catch (const std::exception& e) {
        throw Error(kernel.file() + ": cannot lower " + kernel.name() + ": " + torchMessage(e));
    }
}

GraphModel fileGraph(const std::string& path, const std::string& method)
{
    if (!isArchiveFile(path))
        return kernelGraph(loadKernel(path, {method}));
    if (auto problem = archiveProblem(path); !problem.empty())
        throw Error(problem);
    torch::jit::Module module;
    try {
        module = loadScriptModule(path);
    } catch (const Error&) {
        // Not loadable here (Neuron classes): the kernel extracted from the code.
        return kernelGraph(loadKernel(path, {method}));
    }
    const std::string name = method.empty() ? "forward" : method;
    if (auto m = module.find_method(name)) {
        try {
            return captureInlined(m->graph(), name);
        } catch (const std::exception& e) {
            throw Error(path + ": cannot lower " + name + ": " + torchMessage(e));
        }
    }
    return kernelGraph(loadKernel(path, {method}));
}

} // namespace bucketlab
