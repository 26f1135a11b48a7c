#include "ui/views/graphnodeitem.h"

#include "ui/views/plotsupport.h"

#include <QApplication>
#include <QFontMetricsF>
#include <QPainter>
#include <QPalette>
#include <QStyleOptionGraphicsItem>
#include <QWidget>

#include <cmath>

namespace bucketlab::ui {

namespace {

constexpr double kPadX = 8.0;
constexpr double kPadY = 5.0;

QColor mix(const QColor& a, const QColor& b, double t)
{
    return QColor::fromRgbF(float(a.redF() * (1 - t) + b.redF() * t),
                            float(a.greenF() * (1 - t) + b.greenF() * t),
                            float(a.blueF() * (1 - t) + b.blueF() * t));
}

QFont subtitleFont(const QFont& font)
{
    QFont f = font;
    f.setPointSizeF(font.pointSizeF() > 0 ? font.pointSizeF() * 0.88 : 8.0);
    return f;
}

} // namespace

QSizeF graphNodeSize(const VisibleNode& node, const QFont& font)
{
    const QFontMetricsF title(font);
    const QFontMetricsF sub(subtitleFont(font));
    double w = title.horizontalAdvance(QString::fromStdString(node.title));
    double h = title.height();
    if (!node.subtitle.empty()) {
        w = std::max(w, sub.horizontalAdvance(QString::fromStdString(node.subtitle)));
        h += sub.height();
    }
    return {std::ceil(w + 2 * kPadX), std::ceil(h + 2 * kPadY)};
}

GraphNodeItem::GraphNodeItem(int visibleIndex, const VisibleNode& node, const QRectF& rect,
                             const QFont& font)
    : index_(visibleIndex), modelNode_(node.modelNode), role_(node.role),
      title_(QString::fromStdString(node.title)), subtitle_(QString::fromStdString(node.subtitle)),
      rect_(rect), font_(font)
{
    setFlags(ItemIsSelectable);
    setToolTip(QString::fromStdString(node.toolTip));
    setAcceptHoverEvents(false);
}

void GraphNodeItem::setLintSeverity(std::optional<LintSeverity> severity)
{
    lint_ = severity;
    update();
}

void GraphNodeItem::setSearchMatch(bool match)
{
    if (match_ == match)
        return;
    match_ = match;
    update();
}

QColor GraphNodeItem::fillColor(VisibleNode::Role role, const QPalette& palette)
{
    const QColor base = palette.color(QPalette::Base);
    switch (role) {
    case VisibleNode::Role::Operation: return mix(base, seriesColor(0), 0.14);
    case VisibleNode::Role::Constant: return mix(base, palette.color(QPalette::Text), 0.07);
    case VisibleNode::Role::ControlFlow: return mix(base, seriesColor(3), 0.28);
    case VisibleNode::Role::Group: return mix(base, seriesColor(2), 0.22);
    case VisibleNode::Role::GraphInput:
    case VisibleNode::Role::GraphOutput: return mix(base, seriesColor(4), 0.32);
    }
    return base;
}

QColor GraphNodeItem::lintColor(LintSeverity severity)
{
    switch (severity) {
    case LintSeverity::Error: return QColor(213, 50, 0);
    case LintSeverity::Warning: return seriesColor(1);
    case LintSeverity::Info: return seriesColor(0);
    }
    return seriesColor(1);
}

QRectF GraphNodeItem::boundingRect() const
{
    return rect_.adjusted(-3, -3, 3, 3); // room for the lint border
}

void GraphNodeItem::paint(QPainter* painter, const QStyleOptionGraphicsItem* option,
                          QWidget* widget)
{
    const QPalette palette = widget ? widget->palette() : QApplication::palette();
    const bool selected = isSelected();
    const QColor text =
        selected ? palette.color(QPalette::HighlightedText) : palette.color(QPalette::Text);
    QColor fill = selected ? palette.color(QPalette::Highlight) : fillColor(role_, palette);
    QPen border(mix(palette.color(QPalette::Base), palette.color(QPalette::Text), 0.45), 1.0);
    if (lint_) {
        border = QPen(lintColor(*lint_), 3.0);
    } else if (match_) {
        border = QPen(palette.color(QPalette::Highlight), 2.0, Qt::DashLine);
    }
    painter->setPen(border);
    painter->setBrush(fill);
    const double radius = role_ == VisibleNode::Role::Constant ? 9.0 : 4.0;
    painter->drawRoundedRect(rect_, radius, radius);

    // Zoomed far out, text is unreadable noise and costs most of the paint time.
    const double scale = option->levelOfDetailFromTransform(painter->worldTransform());
    if (scale < 0.35)
        return;
    painter->setPen(text);
    const QFontMetricsF fm(font_);
    QRectF line = rect_.adjusted(kPadX, kPadY, -kPadX + 2, -kPadY);
    painter->setFont(font_);
    painter->drawText(QRectF(line.left(), line.top(), line.width(), fm.height()), Qt::AlignCenter,
                      title_);
    if (!subtitle_.isEmpty()) {
        const QFont sub = subtitleFont(font_);
        QColor subColor = text;
        subColor.setAlphaF(selected ? 1.0f : 0.75f);
        painter->setPen(subColor);
        painter->setFont(sub);
        painter->drawText(QRectF(line.left(), line.top() + fm.height(), line.width(),
                                 QFontMetricsF(sub).height()),
                          Qt::AlignCenter, subtitle_);
    }
}

} // namespace bucketlab::ui
