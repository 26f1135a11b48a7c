// A plain data model of a lowered TorchScript graph (torch::jit::Graph): nodes with their
// kind, inputs, outputs, constant values and source positions, the blocks of prim::If and
// prim::Loop nested inside nodes, and every value with its type and uses. Front ends read
// it (graph view, lint list) and export it; it lays nothing out. Built by graph_capture.h.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bucketlab {

// Where a value is used: node `node` takes it as input `input`. Block outputs are uses by
// the block's return (node == -1, `block` names the block, `input` the output position).
struct GraphUse {
    int node = -1;
    int block = -1;
    int input = 0;
};

struct GraphValue {
    int id = 0;
    std::string name;  // LibTorch's debug name ("bucket_dim.1") or its number ("14")
    std::string type;  // "int", "Tensor", "int[]", "(Tensor[], Tensor)", ...
    int producer = -1; // node id, or -1 for a block parameter
    int block = -1;    // for a block parameter: the block
    int index = 0;     // position among the producer's outputs or the block's parameters
    std::vector<GraphUse> uses;

    // The variable name a reader sees: "bucket_dim" for "bucket_dim.1", empty for numbers.
    std::string variableName() const;
};

enum class ConstantKind { None, Int, Float, Bool, String, Tensor, Other };

struct GraphConstant {
    ConstantKind kind = ConstantKind::Other;
    std::string text;     // as LibTorch prints it: "1", "0.5", "\"abc\"", "None"
    int64_t intValue = 0; // Int and Bool
};

struct SourcePosition {
    std::string file; // may name a file of another machine (archives keep original paths)
    int line = 0;     // 1-based; 0 when the node has no source (compiler-generated)
    int column = 0;   // 1-based
    int endLine = 0;
    int endColumn = 0;
    std::string code;     // the source text of the node's range (first line of it)
    std::string lineText; // the whole first source line, without its newline
};

struct GraphNode {
    int id = 0;
    std::string kind; // "aten::cat", "prim::If", ...
    std::vector<int> inputs;
    std::vector<int> outputs;
    std::vector<int> blocks;               // nested blocks (prim::If: then, else; prim::Loop: body)
    int block = 0;                         // the block holding this node (0: the graph itself)
    std::optional<GraphConstant> constant; // prim::Constant only
    SourcePosition source;
    std::string scope; // module scope or inlined call stack, "" at top level
};

struct GraphBlock {
    int id = 0;
    int owner = -1; // node id; -1 for the graph's own block (id 0)
    std::vector<int> inputs;
    std::vector<int> outputs;
    std::vector<int> nodes; // in order
};

struct GraphModel {
    std::string name;               // function or method
    std::string printed;            // LibTorch's own printout of the graph
    std::vector<GraphNode> nodes;   // nodes[i].id == i
    std::vector<GraphValue> values; // values[i].id == i
    std::vector<GraphBlock> blocks; // blocks[0] is the graph

    const GraphNode* producer(int value) const;
    // Nodes of `block` and of every block nested inside it, in order.
    std::vector<int> nodesUnder(int block) const;
    // The node owning `block`, walking out: true when `node` lies inside `ancestorBlock`.
    bool isInside(int node, int ancestorBlock) const;
};

enum class GraphFormat { Text, Dot, Json };

GraphFormat parseGraphFormat(const std::string& text); // throws Error for unknown names
std::string graphToText(const GraphModel& graph);
std::string graphToDot(const GraphModel& graph);
nlohmann::json graphJson(const GraphModel& graph);
std::string exportGraph(const GraphModel& graph, GraphFormat format);

} // namespace bucketlab
