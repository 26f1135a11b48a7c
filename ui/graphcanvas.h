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
    void fitGraph();
    double zoom() const { return transform().m11(); }

Q_SIGNALS:
    void nodeDoubleClicked(QGraphicsItem* item);

protected:
    void wheelEvent(QWheelEvent* event) override;
    void mouseDoubleClickEvent(QMouseEvent* event) override;
};

} // namespace bucketlab::ui
