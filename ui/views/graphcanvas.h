// The graph view's QGraphicsView: drag to pan, Ctrl+wheel to zoom about the cursor, and a
// first look (and Fit) that never shrinks the graph below the zoom where its node titles can
// still be read: a graph too large for the view is fit to its width and scrolled instead.
#pragma once

#include <QGraphicsView>

namespace bucketlab::ui {

class GraphCanvas : public QGraphicsView {
    Q_OBJECT
public:
    explicit GraphCanvas(QWidget* parent = nullptr);

    void zoomBy(double factor);
    // The whole graph when it fits at a readable zoom (never above natural size); else the
    // graph fit to the view's width, no smaller than readableZoom(), from its top — and, when
    // even that is wider than the view, centred on the graph's inputs (the start), or from its
    // left edge when no start is known.
    void fitGraph();
    // The first look at a new graph whose inputs are drawn in `start` (scene coordinates;
    // empty: unknown): fitGraph(), redone on resize until the user zooms or pans.
    void showNewGraph(const QRectF& start = {});
    // Scrolls `item` (a finding or search hit) into view, centred when it was out of sight,
    // zooming in first when the view is too far out to read it.
    void focusItem(QGraphicsItem* item);
    double zoom() const { return transform().m11(); }
    // The smallest zoom at which a node's title (drawn in the canvas font) stays legible.
    double readableZoom() const;

Q_SIGNALS:
    void nodeDoubleClicked(QGraphicsItem* item);

protected:
    void wheelEvent(QWheelEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseDoubleClickEvent(QMouseEvent* event) override;

private:
    void applyFit();
    bool firstLook_ = false;
    QRectF start_;
};

} // namespace bucketlab::ui
