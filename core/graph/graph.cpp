#include "core/graph/graph.h"

#include "core/util/error.h"
#include "core/util/text.h"

#include <nlohmann/json.hpp>

#include <sstream>

namespace bucketlab {

std::string GraphValue::variableName() const
{
    if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0])))
        return {};
    // LibTorch appends ".N" to keep debug names unique.
    const auto dot = name.rfind('.');
    if (dot != std::string::npos && dot + 1 < name.size() &&
        name.find_first_not_of("0123456789", dot + 1) == std::string::npos)
        return name.substr(0, dot);
    return name;
}

const GraphNode* GraphModel::producer(int value) const
{
    if (value < 0 || size_t(value) >= values.size())
        return nullptr;
    const int p = values[size_t(value)].producer;
    return p < 0 ? nullptr : &nodes[size_t(p)];
}

std::vector<int> GraphModel::nodesUnder(int block) const
{
    std::vector<int> out;
    for (int n : blocks[size_t(block)].nodes) {
        out.push_back(n);
        for (int b : nodes[size_t(n)].blocks)
            for (int inner : nodesUnder(b))
                out.push_back(inner);
    }
    return out;
}

bool GraphModel::isInside(int node, int ancestorBlock) const
{
    int b = nodes[size_t(node)].block;
    while (true) {
        if (b == ancestorBlock)
            return true;
        const int owner = blocks[size_t(b)].owner;
        if (owner < 0)
            return false;
        b = nodes[size_t(owner)].block;
    }
}

GraphFormat parseGraphFormat(const std::string& text)
{
    if (text == "text")
        return GraphFormat::Text;
    if (text == "dot")
        return GraphFormat::Dot;
    if (text == "json")
        return GraphFormat::Json;
    throw Error(subject(Field::GraphFormat) + " " + quote(text) + " is not one of text, dot, json");
}

std::string graphToText(const GraphModel& graph)
{
    return graph.printed;
}

namespace {

std::string dotEscape(const std::string& s)
{
    std::string out;
    for (char c : s) {
        if (c == '"' || c == '\\')
            out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

std::string nodeLabel(const GraphNode& n)
{
    std::string label = n.kind;
    if (n.constant)
        label += " = " + n.constant->text;
    if (n.source.line > 0)
        label += "\nline " + std::to_string(n.source.line);
    return label;
}

// Blocks become clusters so If/Loop nesting stays visible; block parameters and returns
// become small nodes so every edge has a drawn end.
void writeDotBlock(const GraphModel& g, int blockId, std::ostringstream& s, int depth)
{
    const auto& block = g.blocks[size_t(blockId)];
    const std::string pad(size_t(depth) * 2, ' ');
    if (block.owner >= 0) {
        s << pad << "subgraph cluster_b" << blockId << " {\n";
        s << pad << "  label=\"block " << blockId << " of %" << block.owner << " "
          << g.nodes[size_t(block.owner)].kind << "\";\n";
    }
    if (!block.inputs.empty())
        s << pad << "  b" << blockId << "_in [shape=invhouse, label=\""
          << (block.owner < 0 ? "inputs" : "block params") << "\"];\n";
    for (int id : block.nodes) {
        const auto& n = g.nodes[size_t(id)];
        s << pad << "  n" << id << " [label=\"" << dotEscape(nodeLabel(n)) << "\""
          << (n.kind == "prim::Constant" ? ", shape=plaintext" : "") << "];\n";
        for (int b : n.blocks)
            writeDotBlock(g, b, s, depth + 1);
    }
    s << pad << "  b" << blockId << "_out [shape=house, label=\""
      << (block.owner < 0 ? "return" : "block return") << "\"];\n";
    if (block.owner >= 0)
        s << pad << "}\n";
}

std::string valueEnd(const GraphModel& g, int value)
{
    const auto& v = g.values[size_t(value)];
    if (v.producer >= 0)
        return "n" + std::to_string(v.producer);
    return "b" + std::to_string(v.block) + "_in";
}

} // namespace

std::string graphToDot(const GraphModel& graph)
{
    std::ostringstream s;
    s << "digraph \"" << dotEscape(graph.name) << "\" {\n";
    s << "  node [shape=box, fontname=\"monospace\", fontsize=10];\n";
    s << "  edge [fontname=\"monospace\", fontsize=9];\n";
    writeDotBlock(graph, 0, s, 0);
    for (const auto& v : graph.values)
        for (const auto& u : v.uses) {
            const std::string to =
                u.node >= 0 ? "n" + std::to_string(u.node) : "b" + std::to_string(u.block) + "_out";
            s << "  " << valueEnd(graph, v.id) << " -> " << to << " [label=\""
              << dotEscape("%" + v.name + " : " + v.type) << "\"];\n";
        }
    // Nesting edges, dashed: a node to the blocks it owns.
    for (const auto& b : graph.blocks)
        if (b.owner >= 0)
            s << "  n" << b.owner << " -> b" << b.id << "_" << (b.inputs.empty() ? "out" : "in")
              << " [style=dashed, arrowhead=none];\n";
    s << "}\n";
    return s.str();
}

nlohmann::json graphJson(const GraphModel& graph)
{
    using nlohmann::json;
    json j;
    j["name"] = graph.name;
    j["nodes"] = json::array();
    for (const auto& n : graph.nodes) {
        json node{{"id", n.id},           {"kind", n.kind},     {"inputs", n.inputs},
                  {"outputs", n.outputs}, {"blocks", n.blocks}, {"block", n.block},
                  {"scope", n.scope}};
        if (n.constant)
            node["constant"] = n.constant->text;
        if (n.source.line > 0)
            node["source"] = {{"file", n.source.file},
                              {"line", n.source.line},
                              {"column", n.source.column},
                              {"end_line", n.source.endLine},
                              {"end_column", n.source.endColumn},
                              {"code", n.source.code}};
        j["nodes"].push_back(node);
    }
    j["values"] = json::array();
    for (const auto& v : graph.values) {
        json uses = json::array();
        for (const auto& u : v.uses)
            uses.push_back(u.node >= 0 ? json{{"node", u.node}, {"input", u.input}}
                                       : json{{"block_return", u.block}, {"output", u.input}});
        json value{{"id", v.id}, {"name", v.name}, {"type", v.type}, {"uses", uses}};
        if (v.producer >= 0)
            value["producer"] = v.producer;
        else
            value["block_param"] = v.block;
        j["values"].push_back(value);
    }
    j["blocks"] = json::array();
    for (const auto& b : graph.blocks)
        j["blocks"].push_back({{"id", b.id},
                               {"owner", b.owner < 0 ? json(nullptr) : json(b.owner)},
                               {"inputs", b.inputs},
                               {"outputs", b.outputs},
                               {"nodes", b.nodes}});
    return j;
}

std::string exportGraph(const GraphModel& graph, GraphFormat format)
{
    switch (format) {
    case GraphFormat::Text: return graphToText(graph);
    case GraphFormat::Dot: return graphToDot(graph);
    case GraphFormat::Json: return graphJson(graph).dump(2);
    }
    return {};
}

} // namespace bucketlab
