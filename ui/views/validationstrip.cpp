#include "ui/views/validationstrip.h"

#include "ui/models/palette.h"

#include <QLocale>
#include <QMouseEvent>
#include <QPainter>

namespace bucketlab::ui {

ValidationStrip::ValidationStrip(QWidget* parent) : QWidget(parent)
{
    setObjectName("validationStrip");
    setToolTip(tr("Each length the kernel was called with, coloured by the verdict; ticks mark "
                  "the buckets inferred from its behaviour. Click a segment to see it."));
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
}

QColor ValidationStrip::okColor(const QPalette& palette)
{
    return dataColor(DataRole::Ok, palette);
}

QColor ValidationStrip::defectColor(const QPalette& palette)
{
    return dataColor(DataRole::Defect, palette);
}

QColor ValidationStrip::rejectedColor(const QPalette& palette)
{
    // A neutral grey: outside the served range, neither a pass in green nor a defect in red,
    // and told apart from both by lightness too (colour-blind readers).
    return dataColor(DataRole::Rejected, palette);
}

void ValidationStrip::setRanges(std::vector<ValidationRange> ranges,
                                std::vector<int64_t> boundaries)
{
    ranges_ = std::move(ranges);
    boundaries_ = std::move(boundaries);
    selected_ = -1;
    update();
}

void ValidationStrip::setSelectedRange(int index)
{
    selected_ = index;
    update();
}

QSize ValidationStrip::sizeHint() const
{
    return {600, minimumSizeHint().height()};
}

QSize ValidationStrip::minimumSizeHint() const
{
    return {200, fontMetrics().height() * 4 + 34};
}

QRectF ValidationStrip::barRect() const
{
    const int text = fontMetrics().height();
    return QRectF(12, text + 6, width() - 24, 22);
}

double ValidationStrip::xOfLength(int64_t length) const
{
    const QRectF bar = barRect();
    if (ranges_.empty())
        return bar.left();
    const double max = double(ranges_.back().last);
    return bar.left() + bar.width() * double(length - 1) / max;
}

int ValidationStrip::rangeAt(int x) const
{
    for (size_t i = 0; i < ranges_.size(); ++i)
        if (x >= xOfLength(ranges_[i].first) && x <= xOfLength(ranges_[i].last + 1))
            return int(i);
    return -1;
}

void ValidationStrip::paintEvent(QPaintEvent*)
{
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    const QColor text = palette().color(QPalette::Text);
    const QRectF bar = barRect();
    const QFontMetrics fm = fontMetrics();
    const QLocale locale;
    if (ranges_.empty()) {
        p.setPen(text);
        p.drawText(bar, Qt::AlignCenter,
                   tr("Run the validator to see the kernel's verdict per length"));
        return;
    }
    p.setPen(text);
    p.drawText(QRectF(bar.left(), 0, bar.width(), fm.height() + 2),
               Qt::AlignLeft | Qt::AlignVCenter, tr("Input length (tokens)"));
    for (size_t i = 0; i < ranges_.size(); ++i) {
        const auto& r = ranges_[i];
        QRectF seg(QPointF(xOfLength(r.first), bar.top()),
                   QPointF(xOfLength(r.last + 1), bar.bottom()));
        p.setPen(Qt::NoPen);
        p.setBrush(validationRangeColor(r, palette()));
        p.drawRect(seg);
        if (int(i) == selected_) {
            p.setPen(QPen(palette().color(QPalette::Highlight), 3));
            p.setBrush(Qt::NoBrush);
            p.drawRect(seg.adjusted(1.5, -2, -1.5, 2));
        }
    }
    // Where the served range ends: a firm line at the largest bucket.
    if (!boundaries_.empty() && boundaries_.back() < ranges_.back().last) {
        const double x = xOfLength(boundaries_.back() + 1);
        p.setPen(QPen(text, 2));
        p.drawLine(QPointF(x, bar.top() - 4), QPointF(x, bar.bottom() + 4));
    }
    // Ticks and labels at 1, every boundary and the last length; labels that would overlap
    // the previous one are left out.
    std::vector<int64_t> ticks{1};
    for (int64_t b : boundaries_)
        if (b < ranges_.back().last)
            ticks.push_back(b);
    ticks.push_back(ranges_.back().last);
    double lastRight = -1e9;
    p.setPen(text);
    for (int64_t t : ticks) {
        const double x = t == 1 ? bar.left() : xOfLength(t + 1);
        p.drawLine(QPointF(x, bar.bottom()), QPointF(x, bar.bottom() + 5));
        const QString label = locale.toString(qlonglong(t));
        const double w = fm.horizontalAdvance(label);
        double left = std::clamp(x - w / 2, 0.0, double(width()) - w);
        if (left < lastRight + 6)
            continue;
        p.drawText(QPointF(left, bar.bottom() + 6 + fm.ascent()), label);
        lastRight = left + w;
    }
    // Legend.
    const double y = bar.bottom() + 10 + fm.height();
    double x = bar.left();
    auto legend = [&](const QColor& c, const QString& label) {
        p.setPen(Qt::NoPen);
        p.setBrush(c);
        p.drawRect(QRectF(x, y + (fm.height() - 10) / 2.0, 14, 10));
        x += 20;
        p.setPen(text);
        p.drawText(QPointF(x, y + fm.ascent()), label);
        x += fm.horizontalAdvance(label) + 18;
    };
    legend(okColor(palette()), tr("ok (padded to its bucket)"));
    legend(rejectedColor(palette()), tr("rejected past the largest bucket (as it should)"));
    legend(defectColor(palette()), tr("defect"));
    p.setPen(text);
    p.drawText(QPointF(x, y + fm.ascent()), tr("ticks: inferred bucket boundaries"));
}

void ValidationStrip::mousePressEvent(QMouseEvent* event)
{
    const int index = rangeAt(int(event->position().x()));
    if (index >= 0) {
        setSelectedRange(index);
        Q_EMIT rangeClicked(index);
    }
}

} // namespace bucketlab::ui
