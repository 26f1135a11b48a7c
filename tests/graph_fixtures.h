// A GraphModel of the shape a whole model's inlined graph has (a chain of encoder layers,
// each a few dozen aten ops fed by constants, with residual connections and module scopes),
// generated at any size for layout tests and benchmarks without compiling a model.
#pragma once

#include "core/graph/graph.h"

#include <string>

namespace bucketlab::testing {

inline GraphModel generatedModelGraph(int targetNodes)
{
    GraphModel g;
    g.name = "forward";
    g.blocks.push_back({0, -1, {}, {}, {}});
    auto addValue = [&g](const std::string& name, const std::string& type, int producer) {
        GraphValue v;
        v.id = int(g.values.size());
        v.name = name;
        v.type = type;
        v.producer = producer;
        v.block = producer < 0 ? 0 : -1;
        g.values.push_back(v);
        return v.id;
    };
    auto addNode = [&g, &addValue](const std::string& kind, std::vector<int> inputs,
                                   const std::string& type, const std::string& scope) {
        GraphNode n;
        n.id = int(g.nodes.size());
        n.kind = kind;
        n.inputs = inputs;
        n.scope = scope;
        g.nodes.push_back(n);
        const int out = addValue(std::to_string(g.values.size()), type, n.id);
        g.nodes.back().outputs.push_back(out);
        for (size_t i = 0; i < inputs.size(); ++i)
            g.values[size_t(inputs[i])].uses.push_back({n.id, -1, int(i)});
        g.blocks[0].nodes.push_back(n.id);
        return out;
    };
    auto constant = [&](int value, const std::string& scope) {
        const int out = addNode("prim::Constant", {}, "int", scope);
        auto& n = g.nodes.back();
        n.constant = GraphConstant{ConstantKind::Int, std::to_string(value), value};
        return out;
    };
    int x = addValue("input_ids", "Tensor", -1);
    g.blocks[0].inputs.push_back(x);
    for (int layer = 0; int(g.nodes.size()) < targetNodes; ++layer) {
        const std::string scope =
            "__module.encoder/__module.encoder.layer." + std::to_string(layer);
        const int residual = x;
        // Attention: three projections, scores, softmax, context, output projection.
        int heads[3];
        for (int& h : heads) {
            const int w = addNode("prim::GetAttr", {}, "Tensor", scope);
            const int lin = addNode("aten::linear", {x, w}, "Tensor", scope);
            const int shape = addNode("aten::size", {lin, constant(0, scope)}, "int", scope);
            const int view =
                addNode("prim::ListConstruct", {shape, constant(12, scope)}, "int[]", scope);
            h = addNode("aten::view", {lin, view}, "Tensor", scope);
        }
        int s = addNode("aten::matmul", {heads[0], heads[1]}, "Tensor", scope);
        s = addNode("aten::div", {s, constant(8, scope)}, "Tensor", scope);
        s = addNode("aten::softmax", {s, constant(-1, scope), constant(0, scope)}, "Tensor", scope);
        s = addNode("aten::matmul", {s, heads[2]}, "Tensor", scope);
        const int wo = addNode("prim::GetAttr", {}, "Tensor", scope);
        s = addNode("aten::linear", {s, wo}, "Tensor", scope);
        s = addNode("aten::add", {s, residual, constant(1, scope)}, "Tensor", scope);
        s = addNode("aten::layer_norm", {s, constant(768, scope)}, "Tensor", scope);
        // Feed-forward.
        const int w1 = addNode("prim::GetAttr", {}, "Tensor", scope);
        int f = addNode("aten::linear", {s, w1}, "Tensor", scope);
        f = addNode("aten::gelu", {f}, "Tensor", scope);
        const int w2 = addNode("prim::GetAttr", {}, "Tensor", scope);
        f = addNode("aten::linear", {f, w2}, "Tensor", scope);
        f = addNode("aten::add", {f, s, constant(1, scope)}, "Tensor", scope);
        x = addNode("aten::layer_norm", {f, constant(768, scope)}, "Tensor", scope);
    }
    g.blocks[0].outputs.push_back(x);
    g.values[size_t(x)].uses.push_back({-1, 0, 0});
    return g;
}

} // namespace bucketlab::testing
