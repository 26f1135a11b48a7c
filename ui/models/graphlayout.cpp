#include "ui/models/graphlayout.h"

#include <QElapsedTimer>

#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include <cstdio>
#include <mutex>
#include <string>

namespace bucketlab::ui {

namespace {

std::mutex& graphvizMutex()
{
    static std::mutex mutex;
    return mutex;
}

// One context for the process, made under the mutex: gvContext() loads the plugin
// configuration, which is the expensive part.
GVC_t* graphvizContext()
{
    static GVC_t* context = [] {
        agseterr(AGERR); // warnings (e.g. about fonts) are not the user's concern
        return gvContext();
    }();
    return context;
}

char* cstr(const char* text)
{
    return const_cast<char*>(text);
}

std::string inches(double points)
{
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.3f", points / 72.0);
    return buffer;
}

// Frees the graph and its layout however the layout ends.
struct GraphvizGraph {
    GVC_t* context;
    Agraph_t* graph;
    bool laidOut = false;
    ~GraphvizGraph()
    {
        if (laidOut)
            gvFreeLayout(context, graph);
        agclose(graph);
    }
};

// The graph's and its nodes' attributes: dot's limits are tighter for a large graph (`count`
// boxes). Returns the per-node size attributes.
struct NodeSize {
    Agsym_t* width = nullptr;
    Agsym_t* height = nullptr;
};
NodeSize setAttributes(Agraph_t* graph, int count)
{
    agattr(graph, AGRAPH, cstr("rankdir"), cstr("TB"));
    agattr(graph, AGRAPH, cstr("nodesep"), cstr("0.25"));
    agattr(graph, AGRAPH, cstr("ranksep"), cstr("0.35"));
    // Bounded crossing minimisation and network simplex: whole-model graphs have thousands
    // of nodes, and dot's defaults spend seconds on a few percent fewer crossings.
    const bool large = count > 800;
    agattr(graph, AGRAPH, cstr("mclimit"), cstr(large ? "0.1" : "1.0"));
    // newrank ranks in one pass over the whole graph, and a small nslimit stops the
    // x-placement network simplex (the dominant cost) early: boxes never overlap either way.
    agattr(graph, AGRAPH, cstr("newrank"), cstr(large ? "true" : "false"));
    agattr(graph, AGRAPH, cstr("nslimit"), cstr(large ? "0.05" : "5"));
    agattr(graph, AGRAPH, cstr("nslimit1"), cstr(large ? "2" : "5"));
    agattr(graph, AGRAPH, cstr("remincross"), cstr(large ? "false" : "true"));
    // Spline routing around thousands of boxes dominates a large layout; straight segments
    // are as readable when zoomed out that far.
    agattr(graph, AGRAPH, cstr("splines"), cstr(large ? "line" : "spline"));
    agattr(graph, AGRAPH, cstr("fontsize"), cstr("10"));
    agattr(graph, AGRAPH, cstr("label"), cstr(""));
    NodeSize size;
    size.width = agattr(graph, AGNODE, cstr("width"), cstr("1"));
    size.height = agattr(graph, AGNODE, cstr("height"), cstr("0.5"));
    agattr(graph, AGNODE, cstr("shape"), cstr("box"));
    agattr(graph, AGNODE, cstr("fixedsize"), cstr("true"));
    agattr(graph, AGNODE, cstr("label"), cstr(""));
    return size;
}

// One subgraph per cluster, nested as the clusters are.
std::vector<Agraph_t*> addClusters(Agraph_t* graph, const VisibleGraph& visible)
{
    std::vector<Agraph_t*> clusters;
    clusters.reserve(visible.clusters.size());
    for (size_t i = 0; i < visible.clusters.size(); ++i) {
        const auto& c = visible.clusters[i];
        Agraph_t* parent = c.parent >= 0 ? clusters[size_t(c.parent)] : graph;
        const std::string name = "cluster_" + std::to_string(i);
        Agraph_t* sub = agsubg(parent, cstr(name.c_str()), 1);
        // The label reserves room at the top of the box; the view draws the text itself.
        agsafeset(sub, cstr("label"), cstr(c.label.c_str()), cstr(""));
        clusters.push_back(sub);
    }
    return clusters;
}

std::vector<Agnode_t*> addNodes(Agraph_t* graph, const VisibleGraph& visible, const NodeSize& size,
                                const std::vector<Agraph_t*>& clusters)
{
    const int count = int(visible.nodes.size());
    std::vector<Agnode_t*> nodes(size_t(count), nullptr);
    for (int i = 0; i < count; ++i) {
        const auto& v = visible.nodes[size_t(i)];
        const std::string name = "n" + std::to_string(i);
        Agnode_t* n = agnode(graph, cstr(name.c_str()), 1);
        agxset(n, size.width, cstr(inches(v.width).c_str()));
        agxset(n, size.height, cstr(inches(v.height).c_str()));
        if (v.cluster >= 0)
            agsubnode(clusters[size_t(v.cluster)], n, 1);
        nodes[size_t(i)] = n;
    }
    return nodes;
}

// The laid-out graph in scene coordinates (y down): boxes, edge paths with their arrows,
// cluster frames.
GraphLayout readLayout(Agraph_t* graph, const VisibleGraph& visible,
                       const std::vector<Agnode_t*>& nodes, const std::vector<Agedge_t*>& edges,
                       const std::vector<Agraph_t*>& clusters)
{
    const size_t count = nodes.size();
    GraphLayout out;
    const boxf bb = GD_bb(graph);
    const double top = bb.UR.y;
    auto toScene = [top](pointf p) {
        return QPointF(p.x, top - p.y);
    };
    out.bounds = QRectF(QPointF(bb.LL.x, 0), QPointF(bb.UR.x, top - bb.LL.y));
    out.nodes.reserve(size_t(count));
    for (Agnode_t* n : nodes) {
        const double w = ND_width(n) * 72.0;
        const double h = ND_height(n) * 72.0;
        const QPointF c = toScene(ND_coord(n));
        out.nodes.emplace_back(c.x() - w / 2, c.y() - h / 2, w, h);
    }
    out.edges.resize(edges.size());
    out.arrowTips.resize(edges.size());
    out.arrowBases.resize(edges.size());
    for (size_t i = 0; i < edges.size(); ++i) {
        const splines* spl = ED_spl(edges[i]);
        if (!spl || spl->size == 0 || spl->list[0].size == 0) {
            // No route (an edge inside one rank): a straight line between the centres.
            const QPointF a = out.nodes[size_t(visible.edges[i].from)].center();
            const QPointF b = out.nodes[size_t(visible.edges[i].to)].center();
            out.edges[i].moveTo(a);
            out.edges[i].lineTo(b);
            out.arrowTips[i] = out.arrowBases[i] = b;
            continue;
        }
        QPainterPath path;
        for (int s = 0; s < spl->size; ++s) {
            const bezier& bz = spl->list[s];
            path.moveTo(toScene(bz.list[0]));
            // dot's splines are piecewise cubic: 1 + 3k points.
            for (int p = 1; p + 2 < bz.size; p += 3)
                path.cubicTo(toScene(bz.list[p]), toScene(bz.list[p + 1]), toScene(bz.list[p + 2]));
            if (bz.size == 2)
                path.lineTo(toScene(bz.list[1]));
        }
        const bezier& last = spl->list[spl->size - 1];
        out.arrowBases[i] = toScene(last.list[last.size - 1]);
        out.arrowTips[i] = last.eflag ? toScene(last.ep) : out.arrowBases[i];
        out.edges[i] = path;
    }
    out.clusters.reserve(clusters.size());
    for (Agraph_t* sub : clusters) {
        const boxf cb = GD_bb(sub);
        out.clusters.emplace_back(toScene(pointf{cb.LL.x, cb.UR.y}),
                                  toScene(pointf{cb.UR.x, cb.LL.y}));
    }
    return out;
}

} // namespace

GraphLayout layoutGraph(const VisibleGraph& visible, const GraphLayoutOptions& options,
                        const Job& job)
{
    const int count = int(visible.nodes.size());
    if (count > options.maxNodes)
        throw LayoutTooLarge(std::to_string(count) + " boxes are more than the " +
                             std::to_string(options.maxNodes) +
                             " that can be laid out interactively; collapse blocks or scopes");
    job.checkCancelled();
    QElapsedTimer clock;
    clock.start();

    std::lock_guard<std::mutex> lock(graphvizMutex());
    GVC_t* context = graphvizContext();
    GraphvizGraph g{context, agopen(cstr("bucketlab"), Agdirected, nullptr)};
    const NodeSize size = setAttributes(g.graph, count);
    const std::vector<Agraph_t*> clusters = addClusters(g.graph, visible);
    const std::vector<Agnode_t*> nodes = addNodes(g.graph, visible, size, clusters);
    std::vector<Agedge_t*> edges;
    edges.reserve(visible.edges.size());
    for (const auto& e : visible.edges)
        edges.push_back(agedge(g.graph, nodes[size_t(e.from)], nodes[size_t(e.to)], nullptr, 1));
    job.checkCancelled();

    if (gvLayout(context, g.graph, "dot") != 0)
        throw Error("Graphviz could not lay out the graph (dot layout failed)");
    g.laidOut = true;
    job.checkCancelled();

    GraphLayout out = readLayout(g.graph, visible, nodes, edges, clusters);
    out.seconds = double(clock.elapsed()) / 1000.0;
    return out;
}

} // namespace bucketlab::ui
