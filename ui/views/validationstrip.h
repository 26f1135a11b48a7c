// The validator's verdict along the length axis: one coloured segment per length range (ok,
// rejected past the largest bucket, or defect), the inferred bucket boundaries as ticks, a
// line where the served range ends, and a legend. Clicking a segment selects its range.
#pragma once

#include "ui/models/validationtablemodel.h"

#include <QGuiApplication>
#include <QPalette>
#include <QWidget>

namespace bucketlab::ui {

class ValidationStrip : public QWidget {
    Q_OBJECT
public:
    explicit ValidationStrip(QWidget* parent = nullptr);

    void setRanges(std::vector<ValidationRange> ranges, std::vector<int64_t> boundaries);
    void setSelectedRange(int index);
    int selectedRange() const { return selected_; }
    // The range drawn at x (widget coordinates), or -1.
    int rangeAt(int x) const;
    // The x where `length` is drawn.
    double xOfLength(int64_t length) const;
    // Where the ranges are drawn.
    QRectF barRect() const;

    // From ui/palette.h for `palette` (light or dark variants); the application's by default.
    static QColor okColor(const QPalette& palette = QGuiApplication::palette()); // served, ok
    // Past the largest bucket, rejected as it should be.
    static QColor rejectedColor(const QPalette& palette = QGuiApplication::palette());
    static QColor defectColor(const QPalette& palette = QGuiApplication::palette());

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

Q_SIGNALS:
    void rangeClicked(int index);

protected:
    void paintEvent(QPaintEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;

private:
    std::vector<ValidationRange> ranges_;
    std::vector<int64_t> boundaries_;
    int selected_ = -1;
};

} // namespace bucketlab::ui
