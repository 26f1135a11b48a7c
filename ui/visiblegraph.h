// What the graph view draws of a GraphModel: one box per node, except that a collapsed
// prim::If / prim::Loop stands for everything inside its blocks and, with module scopes
// collapsed, one box stands for each scope. Expanded blocks become nested clusters. Edges
// follow values from producer to consumer between the boxes that stand for them.
#pragma once

#include "core/graph.h"

#include <set>
#include <string>
#include <vector>

namespace bucketlab::ui {

struct CollapseState {
    std::set<int> collapsedNodes; // prim::If / prim::Loop nodes drawn without their blocks
    bool collapseScopes = false;  // one box per top-level module scope
};

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
    std::vector<int> nodeOfModelNode; // model node -> visible node standing for it

    int visibleOperationCount() const; // boxes that stand for model nodes
};

// Nodes owning nested blocks (prim::If, prim::Loop, ...).
std::set<int> blockOwners(const GraphModel& graph);

VisibleGraph buildVisibleGraph(const GraphModel& graph, const CollapseState& collapse);

} // namespace bucketlab::ui
