#include "ui/views/graphscene.h"

#include "ui/views/graphnodeitem.h"

#include <QApplication>
#include <QFileInfo>
#include <QGraphicsPathItem>
#include <QGraphicsPolygonItem>
#include <QGraphicsRectItem>
#include <QGraphicsSimpleTextItem>
#include <QImage>
#include <QLineF>
#include <QPainter>
#include <QPalette>
#include <QSaveFile>
#include <QSvgGenerator>

#include <cmath>
#include <set>

namespace bucketlab::ui {

namespace {

QColor mix(const QColor& a, const QColor& b, double t)
{
    return QColor::fromRgbF(float(a.redF() * (1 - t) + b.redF() * t),
                            float(a.greenF() * (1 - t) + b.greenF() * t),
                            float(a.blueF() * (1 - t) + b.blueF() * t));
}

int severityRank(LintSeverity s)
{
    return s == LintSeverity::Error ? 2 : s == LintSeverity::Warning ? 1 : 0;
}

QPolygonF arrowHead(QPointF base, QPointF tip, double angleAtEnd)
{
    // Graphviz leaves a gap for the arrow; without one (edge clipped to the box), point
    // along the path's last direction.
    QLineF line(base, tip);
    if (line.length() < 1.0) {
        line = QLineF(tip, tip + QPointF(std::cos(angleAtEnd * M_PI / 180.0),
                                         -std::sin(angleAtEnd * M_PI / 180.0)));
        line.setLength(8.0);
        line = QLineF(tip - (line.p2() - line.p1()), tip);
    }
    const QPointF dir = (line.p2() - line.p1()) / line.length();
    const QPointF normal(-dir.y(), dir.x());
    const QPointF back = line.p2() - dir * 8.0;
    return QPolygonF({line.p2(), back + normal * 3.5, back - normal * 3.5});
}

} // namespace

GraphScene::GraphScene(QObject* parent) : QGraphicsScene(parent) {}

void GraphScene::clearGraph()
{
    clearSelection();
    clear();
    nodes_.clear();
    nodeOfModelNode_.clear();
}

void GraphScene::build(const VisibleGraph& graph, const GraphLayout& layout, const QFont& font)
{
    clearGraph();
    const QPalette palette = QApplication::palette();
    const QColor base = palette.color(QPalette::Base);
    const QColor text = palette.color(QPalette::Text);
    setBackgroundBrush(base);

    QFont clusterFont = font;
    clusterFont.setItalic(true);
    const QPen clusterPen(mix(base, text, 0.35), 1.0, Qt::DashLine);
    const QBrush clusterBrush(mix(base, text, 0.03));
    for (size_t i = 0; i < graph.clusters.size() && i < layout.clusters.size(); ++i) {
        if (layout.clusters[i].isEmpty())
            continue; // an empty block (an `if` without `else`): no box, no label piled on others
        auto* rect = addRect(layout.clusters[i], clusterPen, clusterBrush);
        rect->setZValue(-3);
        auto* label = addSimpleText(QString::fromStdString(graph.clusters[i].label), clusterFont);
        label->setBrush(mix(base, text, 0.7));
        label->setPos(layout.clusters[i].topLeft() + QPointF(6, 3));
        label->setZValue(-2);
    }

    const QPen edgePen(mix(base, text, 0.55), 1.0);
    const QBrush arrowBrush(mix(base, text, 0.55));
    for (size_t i = 0; i < graph.edges.size() && i < layout.edges.size(); ++i) {
        auto* path = addPath(layout.edges[i], edgePen);
        path->setZValue(-1);
        auto* arrow = addPolygon(arrowHead(layout.arrowBases[i], layout.arrowTips[i],
                                           layout.edges[i].angleAtPercent(1.0)),
                                 Qt::NoPen, arrowBrush);
        arrow->setZValue(-1);
    }

    nodes_.reserve(graph.nodes.size());
    for (size_t i = 0; i < graph.nodes.size(); ++i) {
        auto* item = new GraphNodeItem(int(i), graph.nodes[i], layout.nodes[i], font);
        addItem(item);
        nodes_.push_back(item);
    }
    nodeOfModelNode_ = graph.nodeOfModelNode;
    setSceneRect(layout.bounds.adjusted(-20, -20, 20, 20));
}

GraphNodeItem* GraphScene::itemForModelNode(int modelNode) const
{
    if (modelNode < 0 || modelNode >= int(nodeOfModelNode_.size()))
        return nullptr;
    const int v = nodeOfModelNode_[size_t(modelNode)];
    return v >= 0 && v < int(nodes_.size()) ? nodes_[size_t(v)] : nullptr;
}

void GraphScene::highlightFindings(const std::vector<LintFinding>& findings)
{
    for (auto* item : nodes_)
        item->setLintSeverity(std::nullopt);
    auto flag = [](GraphNodeItem* item, LintSeverity severity) {
        const auto current = item->lintSeverity();
        if (!current || severityRank(severity) > severityRank(*current))
            item->setLintSeverity(severity);
    };
    for (const auto& f : findings) {
        const std::set<int> nodes(f.nodes.begin(), f.nodes.end());
        for (int node : f.nodes)
            if (auto* item = itemForModelNode(node))
                flag(item, f.severity);
        // A constant drawn once per use: every copy.
        for (auto* item : nodes_)
            if (nodes.count(item->modelNode()))
                flag(item, f.severity);
    }
}

std::vector<GraphNodeItem*> GraphScene::markMatches(const std::vector<int>& modelNodes)
{
    for (auto* item : nodes_)
        item->setSearchMatch(false);
    std::vector<GraphNodeItem*> matches;
    for (int node : modelNodes)
        if (auto* item = itemForModelNode(node); item && !item->isSearchMatch()) {
            item->setSearchMatch(true);
            matches.push_back(item);
        }
    return matches;
}

QString GraphScene::exportImage(const QString& path)
{
    const QString suffix = QFileInfo(path).suffix().toLower();
    const QRectF source = sceneRect();
    if (source.isEmpty())
        return tr("%1: there is no graph to export").arg(path);
    // The export shows the graph, not the user's selection.
    const auto selected = selectedItems();
    clearSelection();
    bool ok = false;
    // QSaveFile: a failed export leaves no partial file behind.
    QSaveFile file(path);
    if (suffix != "svg" && suffix != "png") {
        for (auto* item : selected)
            item->setSelected(true);
        return tr("%1: export as .svg or .png").arg(path);
    }
    if (!file.open(QIODevice::WriteOnly)) {
        for (auto* item : selected)
            item->setSelected(true);
        return tr("%1: cannot write the file (%2)").arg(path, file.errorString());
    }
    if (suffix == "svg") {
        QSvgGenerator svg;
        svg.setOutputDevice(&file);
        svg.setSize(source.size().toSize());
        svg.setViewBox(QRectF(QPointF(0, 0), source.size()));
        svg.setTitle(tr("BucketLab graph"));
        QPainter painter;
        ok = painter.begin(&svg);
        if (ok) {
            render(&painter, QRectF(QPointF(0, 0), source.size()), source);
            ok = painter.end();
        }
    } else if (suffix == "png") {
        // Twice the scene's size for crisp text, within what an image viewer opens.
        const double scale = std::min(2.0, 16000.0 / std::max(source.width(), source.height()));
        QImage image((source.size() * scale).toSize(), QImage::Format_ARGB32_Premultiplied);
        image.fill(backgroundBrush().color());
        QPainter painter(&image);
        painter.setRenderHint(QPainter::Antialiasing);
        painter.setRenderHint(QPainter::TextAntialiasing);
        render(&painter, QRectF(QPointF(0, 0), image.size()), source);
        painter.end();
        ok = image.save(&file, "PNG");
    }
    ok = ok && file.commit();
    for (auto* item : selected)
        item->setSelected(true);
    return ok ? QString() : tr("%1: cannot write the file").arg(path);
}

} // namespace bucketlab::ui
