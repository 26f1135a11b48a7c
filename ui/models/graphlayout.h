// Lays out a VisibleGraph with Graphviz's dot (top to bottom, expanded blocks as clusters).
// Graphviz keeps global state and is not safe to run concurrently, so every layout in the
// process goes through one mutex here. Coordinates come back in scene units (points, y down).
#pragma once

#include "core/util/error.h"
#include "core/util/job.h"
#include "ui/models/visiblegraph.h"

#include <QPainterPath>
#include <QPointF>
#include <QRectF>

#include <atomic>
#include <vector>

namespace bucketlab::ui {

struct GraphLayout {
    std::vector<QRectF> nodes;       // per VisibleGraph node
    std::vector<QPainterPath> edges; // per VisibleGraph edge, from tail to head
    std::vector<QPointF> arrowTips;  // per edge: where the head's arrow points
    std::vector<QPointF> arrowBases; // per edge: where the arrow starts
    std::vector<QRectF> clusters;    // per VisibleGraph cluster
    QRectF bounds;
    double seconds = 0;
};

struct GraphLayoutOptions {
    // Above this many boxes dot's layout takes too long to be interactive; the caller offers
    // the collapsed view instead (LayoutTooLarge).
    int maxNodes = 6000;
};

// Thrown when the graph has more than maxNodes boxes.
class LayoutTooLarge : public Error {
public:
    using Error::Error;
};

// Node sizes (VisibleNode::width/height) must be set. Throws Cancelled (checked between
// stages: dot itself cannot stop), LayoutTooLarge, or Error when Graphviz fails.
GraphLayout layoutGraph(const VisibleGraph& graph, const GraphLayoutOptions& options = {},
                        const Job& job = {});

} // namespace bucketlab::ui
