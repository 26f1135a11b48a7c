#include "ui/views/graphcanvas.h"

#include <QFontInfo>
#include <QGraphicsItem>
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
    applyFit();
}

void GraphCanvas::showNewGraph(const QRectF& start)
{
    firstLook_ = true;
    start_ = start;
    applyFit();
}

double GraphCanvas::readableZoom() const
{
    // Titles drawn below ~8 px are smudges, whatever the font: that is the floor.
    constexpr double kMinTitlePixels = 8.0;
    const double pixels = QFontInfo(font()).pixelSize();
    return pixels > 0 ? std::min(1.0, kMinTitlePixels / pixels) : 0.6;
}

void GraphCanvas::applyFit()
{
    if (!scene() || scene()->sceneRect().isEmpty())
        return;
    const QRectF rect = scene()->sceneRect();
    const QSizeF port = viewport()->size();
    const double readable = readableZoom();
    const double whole =
        std::min({1.0, port.width() / rect.width(), port.height() / rect.height()});
    if (whole >= readable) {
        // Text looks best at 1:1 or below, so a small kernel is not blown up.
        setTransform(QTransform::fromScale(whole, whole));
        centerOn(rect.center());
        return;
    }
    // Too large to see whole and read: fit the width (as far as reading allows) and scroll
    // down through the graph from its top. Wider than the view even then: start where the
    // inputs are (a kernel's input node often sits far right of its first checks), as far
    // towards them as the graph's edges allow.
    const double z = std::clamp(port.width() / rect.width(), readable, 1.0);
    setTransform(QTransform::fromScale(z, z));
    const double halfWidth = port.width() / (2 * z);
    double x = rect.center().x();
    if (rect.width() * z > port.width()) {
        const double wanted = start_.isEmpty() ? rect.left() : start_.center().x();
        x = std::clamp(wanted, rect.left() + halfWidth, rect.right() - halfWidth);
    }
    centerOn(QPointF(x, rect.top() + port.height() / (2 * z)));
}

void GraphCanvas::focusItem(QGraphicsItem* item)
{
    firstLook_ = false;
    if (zoom() < readableZoom()) {
        const double z = readableZoom() / zoom();
        scale(z, z);
    }
    const QRectF visible = mapToScene(viewport()->rect()).boundingRect();
    if (!visible.contains(item->sceneBoundingRect()))
        centerOn(item);
}

void GraphCanvas::resizeEvent(QResizeEvent* event)
{
    QGraphicsView::resizeEvent(event);
    if (firstLook_)
        applyFit();
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
