// What the graph view draws of a GraphModel: one box per node, except that a collapsed
// prim::If / prim::Loop stands for everything inside its blocks and, with module scopes
// collapsed, one box stands for each scope. Expanded blocks become nested clusters. Edges
// follow values from producer to consumer between the boxes that stand for them.
#pragma once

#include "core/graph/graph.h"

#include <set>
#include <string>
#include <vector>

namespace bucketlab::ui {

struct CollapseState {
    std::set<int> collapsedNodes; // prim::If / prim::Loop nodes drawn without their blocks
    bool collapseScopes = false;  // one box per top-level module scope
    // One box per use of each constant (and of each submodule read by prim::GetAttr, drawn
    // without its `self` edge). TorchScript hoists constants to the top of a graph
    // and shares them, so in a whole model one `1` feeds ops hundreds of ranks below: dot
    // then routes (and places) thousands of virtual nodes, taking minutes. Kernels keep the
    // shared box: that sharing is what the literal-reuse lint is about.
    bool constantPerUse = false;
};

// Graphs above this many nodes get constantPerUse by default.
constexpr int kConstantPerUseFrom = 250;

struct VisibleNode {
    enum class Role { Operation, ControlFlow, Constant, Group, GraphInput, GraphOutput };
    Role role = Role::Operation;
    int modelNode = -1;       // the GraphModel node it is (Operation, ControlFlow, Constant)
    std::vector<int> members; // every model node it stands for (itself included)
    int cluster = -1;         // innermost expanded block holding it, -1 at top level
    std::string title;        // first label line: the kind, a scope, "input"
    std::string subtitle;     // second line: outputs, constant value, collapsed count
    std::string toolTip;
    double width = 0;  // points, filled by the view before layout (label size)
    double height = 0; // points
};

struct VisibleEdge {
    int from = 0;
    int to = 0;
};

struct VisibleCluster {
    int block = -1;  // GraphModel block
    int parent = -1; // enclosing cluster, -1 at top level
    std::string label;
};

struct VisibleGraph {
    std::vector<VisibleNode> nodes;
    std::vector<VisibleEdge> edges;
    std::vector<VisibleCluster> clusters;
    std::vector<int> nodeOfModelNode; // model node -> visible node standing for it (the
                                      // first, for a constant drawn once per use)

    int visibleOperationCount() const; // boxes that stand for model nodes
};

// Nodes owning nested blocks (prim::If, prim::Loop, ...).
std::set<int> blockOwners(const GraphModel& graph);

VisibleGraph buildVisibleGraph(const GraphModel& graph, const CollapseState& collapse);

} // namespace bucketlab::ui
