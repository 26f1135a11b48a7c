#include "ui/graphcanvas.h"

#include <QMouseEvent>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>

namespace bucketlab::ui {

GraphCanvas::GraphCanvas(QWidget* parent) : QGraphicsView(parent)
{
    setDragMode(QGraphicsView::ScrollHandDrag);
    setRenderHints(QPainter::Antialiasing | QPainter::TextAntialiasing);
    setTransformationAnchor(QGraphicsView::AnchorUnderMouse);
    setViewportUpdateMode(QGraphicsView::SmartViewportUpdate);
    // Thousands of items: skip the per-item painter state save/restore.
    setOptimizationFlags(QGraphicsView::DontSavePainterState);
}

void GraphCanvas::zoomBy(double factor)
{
    const double next = std::clamp(zoom() * factor, 0.02, 8.0);
    const double applied = next / zoom();
    scale(applied, applied);
}

void GraphCanvas::fitGraph()
{
    if (!scene() || scene()->sceneRect().isEmpty())
        return;
    fitInView(scene()->sceneRect(), Qt::KeepAspectRatio);
    // A small kernel fits at more than natural size; text looks best at 1:1 or below.
    if (zoom() > 1.0)
        setTransform(QTransform());
}

void GraphCanvas::wheelEvent(QWheelEvent* event)
{
    if (event->modifiers() & Qt::ControlModifier) {
        zoomBy(std::pow(1.0015, event->angleDelta().y()));
        event->accept();
        return;
    }
    QGraphicsView::wheelEvent(event);
}

void GraphCanvas::mouseDoubleClickEvent(QMouseEvent* event)
{
    if (QGraphicsItem* item = itemAt(event->pos())) {
        Q_EMIT nodeDoubleClicked(item);
        event->accept();
        return;
    }
    QGraphicsView::mouseDoubleClickEvent(event);
}

} // namespace bucketlab::ui
