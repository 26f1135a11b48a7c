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
    firstLook_ = false;
    const double next = std::clamp(zoom() * factor, 0.02, 8.0);
    const double applied = next / zoom();
    scale(applied, applied);
}

void GraphCanvas::fitGraph()
{
    firstLook_ = false;
    if (!scene() || scene()->sceneRect().isEmpty())
        return;
    fitInView(scene()->sceneRect(), Qt::KeepAspectRatio);
    // A small kernel fits at more than natural size; text looks best at 1:1 or below.
    if (zoom() > 1.0)
        setTransform(QTransform());
}

void GraphCanvas::showNewGraph()
{
    firstLook_ = true;
    applyFirstLook();
}

void GraphCanvas::applyFirstLook()
{
    if (!scene() || scene()->sceneRect().isEmpty())
        return;
    const QRectF rect = scene()->sceneRect();
    const QSizeF port = viewport()->size();
    const double fit = std::min({1.0, port.width() / rect.width(), port.height() / rect.height()});
    // Below ~0.6 the labels cannot be read: start at the top instead.
    constexpr double kReadable = 0.6;
    const double z = std::max(fit, kReadable);
    setTransform(QTransform::fromScale(z, z));
    if (fit >= kReadable)
        centerOn(rect.center());
    else
        centerOn(QPointF(rect.center().x(), rect.top() + port.height() / (2 * z)));
}

void GraphCanvas::focusItem(QGraphicsItem* item)
{
    firstLook_ = false;
    centerOn(item);
}

void GraphCanvas::resizeEvent(QResizeEvent* event)
{
    QGraphicsView::resizeEvent(event);
    if (firstLook_)
        applyFirstLook();
}

void GraphCanvas::mousePressEvent(QMouseEvent* event)
{
    firstLook_ = false; // the user pans or selects: keep what they see
    QGraphicsView::mousePressEvent(event);
}

void GraphCanvas::wheelEvent(QWheelEvent* event)
{
    firstLook_ = false;
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
