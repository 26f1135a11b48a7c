// The laid-out graph as a QGraphicsScene: node boxes (GraphNodeItem), edges with arrow
// heads, and the clusters of expanded blocks. Knows which box stands for which model node,
// so findings and search results can be shown on the graph.
#pragma once

#include "core/graph/lint.h"
#include "ui/models/graphlayout.h"
#include "ui/models/visiblegraph.h"

#include <QGraphicsScene>

#include <vector>

namespace bucketlab::ui {

class GraphNodeItem;

class GraphScene : public QGraphicsScene {
    Q_OBJECT
public:
    explicit GraphScene(QObject* parent = nullptr);

    void build(const VisibleGraph& graph, const GraphLayout& layout, const QFont& font);
    void clearGraph();

    const std::vector<GraphNodeItem*>& nodeItems() const { return nodes_; }
    // The box standing for `modelNode` (itself, or the collapsed block or scope holding it).
    GraphNodeItem* itemForModelNode(int modelNode) const;
    // Borders the boxes of each finding's nodes in the finding's colour (worst one wins).
    void highlightFindings(const std::vector<LintFinding>& findings);
    // Marks matching boxes; returns them in graph order.
    std::vector<GraphNodeItem*> markMatches(const std::vector<int>& modelNodes);

    // Renders the whole graph (not the view's window on it) to SVG or PNG by the suffix.
    // Returns "" on success, else a message naming the file.
    QString exportImage(const QString& path);

private:
    std::vector<GraphNodeItem*> nodes_;
    std::vector<int> nodeOfModelNode_;
};

} // namespace bucketlab::ui
