// One box of the graph view: a node (or a collapsed block or scope) with its kind and a
// second line (outputs, constant value, what is collapsed inside). Its colours come from
// the palette at paint time, so light and dark themes and exports all read well; a lint
// finding on the node draws a thick border in the finding's colour.
#pragma once

#include "core/graph/lint.h"
#include "ui/models/visiblegraph.h"

#include <QFont>
#include <QGraphicsItem>
#include <QString>

#include <optional>

namespace bucketlab::ui {

class GraphNodeItem : public QGraphicsItem {
public:
    enum { Type = UserType + 61 };

    GraphNodeItem(int visibleIndex, const VisibleNode& node, const QRectF& rect, const QFont& font);

    int visibleIndex() const { return index_; }
    int modelNode() const { return modelNode_; }
    VisibleNode::Role role() const { return role_; }
    QString title() const { return title_; }

    void setLintSeverity(std::optional<LintSeverity> severity);
    std::optional<LintSeverity> lintSeverity() const { return lint_; }
    void setSearchMatch(bool match);
    bool isSearchMatch() const { return match_; }

    // The fill and border a box of this role and state gets on `palette`.
    static QColor fillColor(VisibleNode::Role role, const QPalette& palette);
    static QColor lintColor(LintSeverity severity);

    QRectF boundingRect() const override;
    void paint(QPainter* painter, const QStyleOptionGraphicsItem* option, QWidget* widget) override;
    int type() const override { return Type; }

private:
    int index_;
    int modelNode_;
    VisibleNode::Role role_;
    QString title_;
    QString subtitle_;
    QRectF rect_;
    QFont font_;
    std::optional<LintSeverity> lint_;
    bool match_ = false;
};

// Box sizes for `node` in `font` (title and subtitle lines plus padding), in scene units.
QSizeF graphNodeSize(const VisibleNode& node, const QFont& font);

} // namespace bucketlab::ui
