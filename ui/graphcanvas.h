// The graph view's QGraphicsView: drag to pan, Ctrl+wheel to zoom about the cursor, and a
// zoom level kept within what stays readable or useful.
#pragma once

#include <QGraphicsView>

namespace bucketlab::ui {

class GraphCanvas : public QGraphicsView {
    Q_OBJECT
public:
    explicit GraphCanvas(QWidget* parent = nullptr);

    void zoomBy(double factor);
    // The whole graph in the view (not above natural size).
    void fitGraph();
    // The first look at a new graph: the whole of it when that stays readable, else its top
    // (the inputs) at a readable zoom. Redone on resize until the user zooms or pans.
    void showNewGraph();
    // Centres `item` (a finding or search hit) and keeps it there.
    void focusItem(QGraphicsItem* item);
    double zoom() const { return transform().m11(); }

Q_SIGNALS:
    void nodeDoubleClicked(QGraphicsItem* item);

protected:
    void wheelEvent(QWheelEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseDoubleClickEvent(QMouseEvent* event) override;

private:
    void applyFirstLook();
    bool firstLook_ = false;
};

} // namespace bucketlab::ui
