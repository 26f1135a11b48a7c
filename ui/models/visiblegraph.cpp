#include "ui/models/visiblegraph.h"

#include <algorithm>
#include <functional>
#include <map>

namespace bucketlab::ui {

namespace {

std::string shorten(const std::string& text, size_t max = 48)
{
    if (text.size() <= max)
        return text;
    return text.substr(0, max - 1) + "…";
}

std::vector<std::string> scopeParts(const std::string& scope)
{
    std::vector<std::string> parts;
    size_t start = 0;
    while (start <= scope.size()) {
        const size_t slash = scope.find('/', start);
        parts.push_back(scope.substr(start, slash - start));
        if (slash == std::string::npos)
            break;
        start = slash + 1;
    }
    return parts;
}

// Whole-model scopes all start with the root module's name, so grouping by the first part
// would put everything in one box: group at the first depth where scopes differ.
int scopeDepth(const GraphModel& graph)
{
    for (int depth = 1; depth <= 4; ++depth) {
        std::set<std::string> keys;
        for (const auto& n : graph.nodes) {
            if (n.scope.empty())
                continue;
            const auto parts = scopeParts(n.scope);
            std::string key;
            for (int i = 0; i < depth && i < int(parts.size()); ++i)
                key += (i ? "/" : "") + parts[size_t(i)];
            keys.insert(key);
        }
        if (keys.size() > 1)
            return depth;
    }
    return 1;
}

std::string scopeKey(const std::string& scope, int depth)
{
    const auto parts = scopeParts(scope);
    std::string key;
    for (int i = 0; i < depth && i < int(parts.size()); ++i)
        key += (i ? "/" : "") + parts[size_t(i)];
    return key;
}

std::string outputsText(const GraphModel& graph, const GraphNode& node)
{
    std::string text;
    for (int v : node.outputs) {
        const auto& value = graph.values[size_t(v)];
        if (!text.empty())
            text += ", ";
        text += "%" + value.name + " : " + value.type;
    }
    return text;
}

// prim::GetAttr of a submodule (`self.encoder`): like a constant, it is read once and used
// all over a whole model's graph.
bool isModuleAttribute(const GraphModel& graph, const GraphNode& node)
{
    if (node.kind != "prim::GetAttr" || node.outputs.size() != 1)
        return false;
    return graph.values[size_t(node.outputs[0])].type.rfind("__torch__.", 0) == 0;
}

// One box per graph input; returns the box of each value that is a graph input (-1 else).
std::vector<int> addGraphInputs(const GraphModel& graph, VisibleGraph& out)
{
    std::vector<int> inputNodes(graph.values.size(), -1);
    if (graph.blocks.empty())
        return inputNodes;
    for (int v : graph.blocks[0].inputs) {
        const auto& value = graph.values[size_t(v)];
        VisibleNode n;
        n.role = VisibleNode::Role::GraphInput;
        n.title = "input " + (value.name.empty() ? std::to_string(v) : value.variableName());
        n.subtitle = value.type;
        n.toolTip = "Graph input %" + value.name + " : " + value.type;
        inputNodes[size_t(v)] = int(out.nodes.size());
        out.nodes.push_back(std::move(n));
    }
    return inputNodes;
}

// The box of one model node: its kind, a constant's value or the node's outputs, its line.
VisibleNode nodeBox(const GraphModel& graph, int id, int cluster)
{
    const GraphNode& node = graph.nodes[size_t(id)];
    VisibleNode v;
    v.modelNode = id;
    v.members.push_back(id);
    v.cluster = cluster;
    v.title = node.kind;
    if (node.constant) {
        v.role = VisibleNode::Role::Constant;
        v.subtitle = shorten("= " + node.constant->text, 32);
    } else {
        v.role =
            node.blocks.empty() ? VisibleNode::Role::Operation : VisibleNode::Role::ControlFlow;
        v.subtitle = shorten(outputsText(graph, node));
    }
    v.toolTip = node.kind;
    if (node.source.line > 0)
        v.toolTip += " — line " + std::to_string(node.source.line) + ": " + node.source.code;
    return v;
}

// The cluster of a control-flow node's block `i` (then/else, loop body, block i).
VisibleCluster blockCluster(const GraphNode& node, size_t i, int cluster)
{
    VisibleCluster c;
    c.block = node.blocks[i];
    c.parent = cluster;
    if (node.kind == "prim::If")
        c.label = i == 0 ? "then" : "else";
    else if (node.kind == "prim::Loop")
        c.label = "loop body";
    else
        c.label = "block " + std::to_string(i);
    c.label += " (" + node.kind + ")";
    return c;
}

// Edges, one per pair of boxes; a constant drawn per use gets a copy next to each user, and
// the graph's outputs a return box.
void addEdges(const GraphModel& graph, const std::vector<int>& inputNodes,
              const std::map<int, VisibleNode>& pendingConstants,
              std::map<std::pair<int, int>, int>& constantCopies, VisibleGraph& out)
{
    std::set<std::pair<int, int>> seen;
    auto addEdge = [&](int from, int to) {
        if (from < 0 || to < 0 || from == to)
            return;
        if (seen.insert({from, to}).second)
            out.edges.push_back({from, to});
    };
    auto sourceOf = [&](int valueId, int consumer) {
        const auto& value = graph.values[size_t(valueId)];
        if (value.producer >= 0 && out.nodeOfModelNode[size_t(value.producer)] == -2) {
            auto [it, added] = constantCopies.try_emplace({value.producer, consumer}, -1);
            if (added) {
                VisibleNode copy = pendingConstants.at(value.producer);
                if (consumer >= 0 && consumer < int(out.nodes.size()))
                    copy.cluster = out.nodes[size_t(consumer)].cluster;
                it->second = int(out.nodes.size());
                out.nodes.push_back(std::move(copy));
            }
            return it->second;
        }
        if (value.producer >= 0)
            return out.nodeOfModelNode[size_t(value.producer)];
        if (value.block == 0 || value.block < 0)
            return inputNodes[size_t(valueId)];
        // A block parameter (a loop's counter or carried value): it comes from the owner.
        const int owner = graph.blocks[size_t(value.block)].owner;
        return owner >= 0 ? out.nodeOfModelNode[size_t(owner)] : -1;
    };
    for (const auto& node : graph.nodes) {
        const int to = out.nodeOfModelNode[size_t(node.id)];
        if (to == -2)
            continue; // drawn per use: no edges into its copies
        for (int v : node.inputs)
            addEdge(sourceOf(v, to), to);
    }
    if (!graph.blocks.empty() && !graph.blocks[0].outputs.empty()) {
        VisibleNode ret;
        ret.role = VisibleNode::Role::GraphOutput;
        ret.title = "return";
        for (int v : graph.blocks[0].outputs)
            ret.subtitle += (ret.subtitle.empty() ? "" : ", ") + graph.values[size_t(v)].type;
        ret.subtitle = shorten(ret.subtitle);
        ret.toolTip = "Graph output";
        const int self = int(out.nodes.size());
        out.nodes.push_back(std::move(ret));
        for (int v : graph.blocks[0].outputs)
            addEdge(sourceOf(v, self), self);
    }
}

// Each constant drawn per use maps to its first box; an unused one still gets one.
void placeConstants(const std::map<int, VisibleNode>& pendingConstants,
                    const std::map<std::pair<int, int>, int>& constantCopies, VisibleGraph& out)
{
    for (const auto& [id, box] : pendingConstants) {
        int first = -1;
        for (const auto& [key, copy] : constantCopies)
            if (key.first == id && (first < 0 || copy < first))
                first = copy;
        if (first < 0) {
            first = int(out.nodes.size());
            out.nodes.push_back(box);
        }
        out.nodeOfModelNode[size_t(id)] = first;
    }
}

} // namespace

int VisibleGraph::visibleOperationCount() const
{
    return int(std::count_if(nodes.begin(), nodes.end(), [](const VisibleNode& n) {
        return n.role != VisibleNode::Role::GraphInput && n.role != VisibleNode::Role::GraphOutput;
    }));
}

std::set<int> blockOwners(const GraphModel& graph)
{
    std::set<int> owners;
    for (const auto& n : graph.nodes)
        if (!n.blocks.empty())
            owners.insert(n.id);
    return owners;
}

VisibleGraph buildVisibleGraph(const GraphModel& graph, const CollapseState& collapse)
{
    VisibleGraph out;
    out.nodeOfModelNode.assign(graph.nodes.size(), -1);
    const int depth = collapse.collapseScopes ? scopeDepth(graph) : 0;
    std::map<std::string, int> scopeGroups;
    std::map<int, VisibleNode> pendingConstants;       // constantPerUse: model node -> its box
    std::map<std::pair<int, int>, int> constantCopies; // (constant, consumer box) -> box

    const std::vector<int> inputNodes = addGraphInputs(graph, out);

    // `into` >= 0: a collapsed node or scope box absorbs everything below.
    std::function<void(int, int, int)> visit = [&](int block, int cluster, int into) {
        for (int id : graph.blocks[size_t(block)].nodes) {
            const GraphNode& node = graph.nodes[size_t(id)];
            if (into >= 0) {
                out.nodeOfModelNode[size_t(id)] = into;
                out.nodes[size_t(into)].members.push_back(id);
                for (int b : node.blocks)
                    visit(b, cluster, into);
                continue;
            }
            if (depth > 0 && !node.scope.empty()) {
                const std::string key = scopeKey(node.scope, depth);
                auto it = scopeGroups.find(key);
                if (it == scopeGroups.end()) {
                    VisibleNode group;
                    group.role = VisibleNode::Role::Group;
                    group.title = shorten(key);
                    group.cluster = cluster;
                    group.toolTip = "Module scope " + key + " (collapsed)";
                    it = scopeGroups.emplace(key, int(out.nodes.size())).first;
                    out.nodes.push_back(std::move(group));
                }
                out.nodeOfModelNode[size_t(id)] = it->second;
                out.nodes[size_t(it->second)].members.push_back(id);
                for (int b : node.blocks)
                    visit(b, cluster, it->second);
                continue;
            }
            VisibleNode v = nodeBox(graph, id, cluster);
            if (collapse.constantPerUse && (node.constant || isModuleAttribute(graph, node))) {
                // Drawn where it is used (below); -2 marks it as pending.
                out.nodeOfModelNode[size_t(id)] = -2;
                pendingConstants[id] = std::move(v);
                continue;
            }
            const int self = int(out.nodes.size());
            out.nodeOfModelNode[size_t(id)] = self;
            out.nodes.push_back(std::move(v));
            if (node.blocks.empty())
                continue;
            if (collapse.collapsedNodes.count(id)) {
                for (int b : node.blocks)
                    visit(b, cluster, self);
                const size_t hidden = out.nodes[size_t(self)].members.size() - 1;
                out.nodes[size_t(self)].subtitle =
                    "collapsed: " + std::to_string(hidden) + " nodes inside";
                continue;
            }
            for (size_t i = 0; i < node.blocks.size(); ++i) {
                const VisibleCluster c = blockCluster(node, i, cluster);
                out.clusters.push_back(c);
                visit(node.blocks[i], int(out.clusters.size()) - 1, -1);
            }
        }
    };
    if (!graph.blocks.empty())
        visit(0, -1, -1);

    addEdges(graph, inputNodes, pendingConstants, constantCopies, out);
    placeConstants(pendingConstants, constantCopies, out);
    return out;
}

} // namespace bucketlab::ui
