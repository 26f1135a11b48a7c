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
    agattr(g.graph, AGRAPH, cstr("rankdir"), cstr("TB"));
    agattr(g.graph, AGRAPH, cstr("nodesep"), cstr("0.25"));
    agattr(g.graph, AGRAPH, cstr("ranksep"), cstr("0.35"));
    // Bounded crossing minimisation and network simplex: whole-model graphs have thousands
    // of nodes, and dot's defaults spend seconds on a few percent fewer crossings.
    const bool large = count > 800;
    agattr(g.graph, AGRAPH, cstr("mclimit"), cstr(large ? "0.1" : "1.0"));
    // newrank ranks in one pass over the whole graph, and a small nslimit stops the
    // x-placement network simplex (the dominant cost) early: boxes never overlap either way.
    agattr(g.graph, AGRAPH, cstr("newrank"), cstr(large ? "true" : "false"));
    agattr(g.graph, AGRAPH, cstr("nslimit"), cstr(large ? "0.05" : "5"));
    agattr(g.graph, AGRAPH, cstr("nslimit1"), cstr(large ? "2" : "5"));
    agattr(g.graph, AGRAPH, cstr("remincross"), cstr(large ? "false" : "true"));
    // Spline routing around thousands of boxes dominates a large layout; straight segments
    // are as readable when zoomed out that far.
    agattr(g.graph, AGRAPH, cstr("splines"), cstr(large ? "line" : "spline"));
    agattr(g.graph, AGRAPH, cstr("fontsize"), cstr("10"));
    agattr(g.graph, AGRAPH, cstr("label"), cstr(""));
    Agsym_t* nodeWidth = agattr(g.graph, AGNODE, cstr("width"), cstr("1"));
    Agsym_t* nodeHeight = agattr(g.graph, AGNODE, cstr("height"), cstr("0.5"));
    agattr(g.graph, AGNODE, cstr("shape"), cstr("box"));
    agattr(g.graph, AGNODE, cstr("fixedsize"), cstr("true"));
    agattr(g.graph, AGNODE, cstr("label"), cstr(""));

    std::vector<Agraph_t*> clusters;
    clusters.reserve(visible.clusters.size());
    for (size_t i = 0; i < visible.clusters.size(); ++i) {
        const auto& c = visible.clusters[i];
        Agraph_t* parent = c.parent >= 0 ? clusters[size_t(c.parent)] : g.graph;
        const std::string name = "cluster_" + std::to_string(i);
        Agraph_t* sub = agsubg(parent, cstr(name.c_str()), 1);
        // The label reserves room at the top of the box; the view draws the text itself.
        agsafeset(sub, cstr("label"), cstr(c.label.c_str()), cstr(""));
        clusters.push_back(sub);
    }

    std::vector<Agnode_t*> nodes(size_t(count), nullptr);
    for (int i = 0; i < count; ++i) {
        const auto& v = visible.nodes[size_t(i)];
        const std::string name = "n" + std::to_string(i);
        Agnode_t* n = agnode(g.graph, cstr(name.c_str()), 1);
        agxset(n, nodeWidth, cstr(inches(v.width).c_str()));
        agxset(n, nodeHeight, cstr(inches(v.height).c_str()));
        if (v.cluster >= 0)
            agsubnode(clusters[size_t(v.cluster)], n, 1);
        nodes[size_t(i)] = n;
    }
    std::vector<Agedge_t*> edges;
    edges.reserve(visible.edges.size());
    for (const auto& e : visible.edges)
        edges.push_back(agedge(g.graph, nodes[size_t(e.from)], nodes[size_t(e.to)], nullptr, 1));
    job.checkCancelled();

    if (gvLayout(context, g.graph, "dot") != 0)
        throw Error("Graphviz could not lay out the graph (dot layout failed)");
    g.laidOut = true;
    job.checkCancelled();

    GraphLayout out;
    const boxf bb = GD_bb(g.graph);
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
    out.seconds = double(clock.elapsed()) / 1000.0;
    return out;
}

} // namespace bucketlab::ui
