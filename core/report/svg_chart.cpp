#include "core/report/svg_chart.h"

#include "core/util/format.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace bucketlab {

std::string escapeHtml(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#39;"; break;
        default: out += c;
        }
    }
    return out;
}

namespace {

double niceStep(double raw)
{
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
        if (m * magnitude >= raw * (1 - 1e-9))
            return m * magnitude;
    return 10.0 * magnitude;
}

// Decimals that show every tick of `step` exactly (2.5 needs one more than 2 or 5).
int decimalsFor(double step)
{
    int decimals = std::max(0, -int(std::floor(std::log10(step) + 1e-9)));
    const double scaled = step * std::pow(10.0, decimals);
    if (std::fabs(scaled - std::round(scaled)) > 1e-6)
        ++decimals;
    return decimals;
}

std::string num(double v)
{
    // SVG coordinates: two decimals are sub-pixel enough.
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, std::round(v * 100) / 100,
                                 std::chars_format::fixed, 2);
    std::string s(buf, r.ptr);
    while (!s.empty() && s.back() == '0')
        s.pop_back();
    if (!s.empty() && s.back() == '.')
        s.pop_back();
    return s == "-0" ? "0" : s;
}

const char* anchorName(TextAnchor a)
{
    switch (a) {
    case TextAnchor::Start: return "start";
    case TextAnchor::Middle: return "middle";
    case TextAnchor::End: return "end";
    }
    return "start";
}

constexpr double kLegendHeight = 22;
constexpr double kMarkerRowHeight = 14;
constexpr int kMaxMarkerRows = 3;
constexpr double kCharWidth = 6.4; // 11 px sans-serif digits, with a little room

// A legend entry: swatch, gap, label and the space before the next entry.
double legendEntryWidth(const std::string& label)
{
    return 26 + kCharWidth * 1.05 * double(label.size()) + 16;
}

std::string titleElement(const std::string& tooltip)
{
    return tooltip.empty() ? "" : "<title>" + escapeHtml(tooltip) + "</title>";
}

} // namespace

std::vector<double> niceTicks(double min, double max, int target)
{
    std::vector<double> ticks;
    if (!(max > min) || !std::isfinite(min) || !std::isfinite(max))
        return {min};
    const double step = niceStep((max - min) / std::max(1, target));
    const double first = std::ceil(min / step - 1e-9) * step;
    for (int i = 0;; ++i) {
        const double t = first + i * step;
        if (t > max + step * 1e-9 || i > 1000)
            break;
        ticks.push_back(std::fabs(t) < step * 1e-9 ? 0.0 : t);
    }
    return ticks;
}

double niceCeil(double value)
{
    if (!(value > 0))
        return 1;
    const double magnitude = std::pow(10.0, std::floor(std::log10(value)));
    for (double m : {1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0})
        if (m * magnitude >= value * (1 - 1e-9))
            return m * magnitude;
    return 10 * magnitude;
}

SvgChart::SvgChart(int width, int height) : width_(width), height_(height) {}

void SvgChart::setXAxis(std::string label, double min, double max)
{
    x_ = {std::move(label), min, max > min ? max : min + 1};
}

void SvgChart::setYAxis(std::string label, double min, double max)
{
    y_ = {std::move(label), min, max > min ? max : min + 1};
}

double SvgChart::plotTop() const
{
    return 10 + double(legendRows().size()) * kLegendHeight + markerRows() * kMarkerRowHeight;
}

double SvgChart::px(double x) const
{
    const double t = std::clamp((x - x_.min) / (x_.max - x_.min), 0.0, 1.0);
    return plotLeft() + t * (plotRight() - plotLeft());
}

double SvgChart::py(double y) const
{
    const double t = std::clamp((y - y_.min) / (y_.max - y_.min), 0.0, 1.0);
    return plotBottom() - t * (plotBottom() - plotTop());
}

void SvgChart::addRect(double x0, double x1, double y0, double y1, const std::string& cssClass,
                       const std::string& tooltip)
{
    Element e;
    e.kind = Element::Kind::Rect;
    e.x0 = x0, e.x1 = x1, e.y0 = y0, e.y1 = y1;
    e.cssClass = cssClass;
    e.text = tooltip;
    elements_.push_back(std::move(e));
}

void SvgChart::addBand(double x0, double x1, const std::string& cssClass)
{
    Element e;
    e.kind = Element::Kind::Band;
    e.x0 = x0, e.x1 = x1;
    e.cssClass = cssClass;
    elements_.push_back(std::move(e));
}

void SvgChart::addLine(const std::vector<std::pair<double, double>>& points,
                       const std::string& cssClass)
{
    Element e;
    e.kind = Element::Kind::Line;
    e.points = points;
    e.cssClass = cssClass;
    elements_.push_back(std::move(e));
}

void SvgChart::addArea(const std::vector<std::pair<double, double>>& points,
                       const std::string& cssClass)
{
    Element e;
    e.kind = Element::Kind::Area;
    e.points = points;
    e.cssClass = cssClass;
    elements_.push_back(std::move(e));
}

void SvgChart::addPoint(double x, double y, double radius, const std::string& cssClass,
                        const std::string& tooltip)
{
    Element e;
    e.kind = Element::Kind::Point;
    e.x0 = x, e.y0 = y, e.x1 = radius;
    e.cssClass = cssClass;
    e.text = tooltip;
    elements_.push_back(std::move(e));
}

void SvgChart::addMarker(double x, const std::string& label, const std::string& cssClass)
{
    markers_.push_back({x, label, cssClass});
}

void SvgChart::addText(double x, double y, const std::string& text, const std::string& cssClass,
                       TextAnchor anchor, double dx, double dy)
{
    Element e;
    e.kind = Element::Kind::Text;
    e.x0 = x, e.y0 = y, e.x1 = dx, e.y1 = dy;
    e.text = text;
    e.cssClass = cssClass;
    e.anchor = anchor;
    elements_.push_back(std::move(e));
}

void SvgChart::addLegend(const std::string& label, const std::string& cssClass, LegendSwatch swatch)
{
    legend_.push_back({label, cssClass, swatch});
}

std::vector<int> SvgChart::markerRowAssignment() const
{
    // Markers left to right; each label goes to the lowest row where it does not overlap
    // the previous label of that row.
    std::vector<size_t> order(markers_.size());
    for (size_t i = 0; i < order.size(); ++i)
        order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return markers_[a].x < markers_[b].x; });
    std::vector<int> rows(markers_.size(), 0);
    std::vector<double> rowEnd(kMaxMarkerRows, -1e9);
    // Placement uses the final plot width, which does not depend on rows.
    const double scale = (width_ - right_ - left_) / (x_.max - x_.min);
    for (size_t i : order) {
        const double centre =
            left_ + std::clamp(markers_[i].x - x_.min, 0.0, x_.max - x_.min) * scale;
        const double half = kCharWidth * double(markers_[i].label.size()) / 2 + 3;
        int row = 0;
        while (row + 1 < kMaxMarkerRows && centre - half < rowEnd[size_t(row)])
            ++row;
        rows[i] = row;
        rowEnd[size_t(row)] = centre + half;
    }
    return rows;
}

std::vector<std::vector<size_t>> SvgChart::legendRows() const
{
    std::vector<std::vector<size_t>> rows;
    const double available = plotRight() - plotLeft();
    double used = 0;
    for (size_t i = 0; i < legend_.size(); ++i) {
        const double w = legendEntryWidth(legend_[i].label);
        if (rows.empty() || (used + w > available && !rows.back().empty())) {
            rows.emplace_back();
            used = 0;
        }
        rows.back().push_back(i);
        used += w;
    }
    return rows;
}

int SvgChart::markerRows() const
{
    if (markers_.empty())
        return 0;
    const auto rows = markerRowAssignment();
    return 1 + *std::max_element(rows.begin(), rows.end());
}

// Bands under the grid.
std::string SvgChart::renderBands() const
{
    using Kind = Element::Kind;
    const double top = plotTop(), bottom = plotBottom();
    std::string s;
    for (const auto& e : elements_)
        if (e.kind == Kind::Band) {
            const double x0 = px(e.x0), x1 = px(e.x1);
            s += "<rect class=\"" + escapeHtml(e.cssClass) + "\" x=\"" + num(x0) + "\" y=\"" +
                 num(top) + "\" width=\"" + num(std::max(0.0, x1 - x0)) + "\" height=\"" +
                 num(bottom - top) + "\"/>";
        }
    return s;
}

// The horizontal grid lines at the y ticks.
std::string SvgChart::renderGrid(const std::vector<double>& yTicks) const
{
    const double left = plotLeft(), right = plotRight();
    std::string s;
    s += "<g class=\"grid\">";
    for (double t : yTicks)
        s += "<line x1=\"" + num(left) + "\" x2=\"" + num(right) + "\" y1=\"" + num(py(t)) +
             "\" y2=\"" + num(py(t)) + "\"/>";
    s += "</g>";
    return s;
}

// One data element (bands are drawn first, by renderBands).
std::string SvgChart::renderElement(const Element& e) const
{
    using Kind = Element::Kind;
    std::string s;
    switch (e.kind) {
    case Kind::Band: return s;
    case Kind::Rect: {
        const double x0 = px(e.x0), x1 = px(e.x1), y0 = py(e.y0), y1 = py(e.y1);
        const double h = std::fabs(y0 - y1);
        if (h < 0.01)
            return s;
        // Narrow bars keep a hairline width so a lone length stays visible.
        s += "<rect class=\"" + escapeHtml(e.cssClass) + "\" x=\"" + num(std::min(x0, x1)) +
             "\" y=\"" + num(std::min(y0, y1)) + "\" width=\"" +
             num(std::max(0.3, std::fabs(x1 - x0))) + "\" height=\"" + num(h) + "\">" +
             titleElement(e.text) + "</rect>";
        return s;
    }
    case Kind::Line: {
        std::string points;
        for (const auto& [x, y] : e.points)
            points += (points.empty() ? "" : " ") + num(px(x)) + "," + num(py(y));
        s += "<polyline class=\"" + escapeHtml(e.cssClass) + "\" points=\"" + points + "\"/>";
        return s;
    }
    case Kind::Area: {
        if (e.points.empty())
            return s;
        const std::string base = num(py(y_.min));
        std::string points = num(px(e.points.front().first)) + "," + base;
        for (const auto& [x, y] : e.points)
            points += " " + num(px(x)) + "," + num(py(y));
        points += " " + num(px(e.points.back().first)) + "," + base;
        s += "<polygon class=\"" + escapeHtml(e.cssClass) + "\" points=\"" + points + "\"/>";
        return s;
    }
    case Kind::Point:
        s += "<circle class=\"" + escapeHtml(e.cssClass) + "\" cx=\"" + num(px(e.x0)) + "\" cy=\"" +
             num(py(e.y0)) + "\" r=\"" + num(e.x1) + "\">" + titleElement(e.text) + "</circle>";
        return s;
    case Kind::Text:
        s += "<text class=\"" + escapeHtml(e.cssClass) + "\" x=\"" + num(px(e.x0) + e.x1) +
             "\" y=\"" + num(py(e.y0) + e.y1) + "\" text-anchor=\"" + anchorName(e.anchor) + "\">" +
             escapeHtml(e.text) + "</text>";
        return s;
    }
    return s;
}

// Axes with ticks and unit labels.
std::string SvgChart::renderAxes(const std::vector<double>& yTicks) const
{
    const double top = plotTop(), bottom = plotBottom(), left = plotLeft(), right = plotRight();
    const int yDecimals = yTicks.size() > 1 ? decimalsFor(yTicks[1] - yTicks[0]) : 0;
    std::string s;
    s += "<g class=\"axis\">";
    s += "<line x1=\"" + num(left) + "\" x2=\"" + num(right) + "\" y1=\"" + num(bottom) +
         "\" y2=\"" + num(bottom) + "\"/>";
    s += "<line x1=\"" + num(left) + "\" x2=\"" + num(left) + "\" y1=\"" + num(top) + "\" y2=\"" +
         num(bottom) + "\"/>";
    auto xTicks = niceTicks(x_.min, x_.max, std::max(2, int((right - left) / 90)));
    if (integerX_) {
        xTicks.erase(std::remove_if(xTicks.begin(), xTicks.end(),
                                    [](double t) { return std::fabs(t - std::round(t)) > 1e-9; }),
                     xTicks.end());
    }
    const int xDecimals =
        integerX_ ? 0 : (xTicks.size() > 1 ? decimalsFor(xTicks[1] - xTicks[0]) : 0);
    for (double t : xTicks) {
        const double x = px(t);
        s += "<line x1=\"" + num(x) + "\" x2=\"" + num(x) + "\" y1=\"" + num(bottom) + "\" y2=\"" +
             num(bottom + 5) + "\"/>";
        s += "<text class=\"tick\" x=\"" + num(x) + "\" y=\"" + num(bottom + 18) +
             "\" text-anchor=\"middle\">" + formatNumber(t, xDecimals) + "</text>";
    }
    for (double t : yTicks) {
        const double y = py(t);
        s += "<line x1=\"" + num(left - 5) + "\" x2=\"" + num(left) + "\" y1=\"" + num(y) +
             "\" y2=\"" + num(y) + "\"/>";
        s += "<text class=\"tick\" x=\"" + num(left - 8) + "\" y=\"" + num(y + 4) +
             "\" text-anchor=\"end\">" + formatNumber(t, yDecimals) + "</text>";
    }
    s += "<text class=\"axis-label\" x=\"" + num((left + right) / 2) + "\" y=\"" +
         num(height_ - 8) + "\" text-anchor=\"middle\">" + escapeHtml(x_.label) + "</text>";
    const double yMid = (top + bottom) / 2;
    s += "<text class=\"axis-label\" transform=\"translate(14 " + num(yMid) +
         ") rotate(-90)\" text-anchor=\"middle\">" + escapeHtml(y_.label) + "</text>";
    s += "</g>";

    return s;
}

// Markers over everything, labels stacked in rows above the plot.
std::string SvgChart::renderMarkers() const
{
    const double top = plotTop(), bottom = plotBottom();
    std::string s;
    const auto rows = markerRowAssignment();
    for (size_t i = 0; i < markers_.size(); ++i) {
        const auto& m = markers_[i];
        const double x = px(m.x);
        const double labelY = top - 4 - rows[i] * kMarkerRowHeight;
        s += "<g class=\"" + escapeHtml(m.cssClass) + "\"><line x1=\"" + num(x) + "\" x2=\"" +
             num(x) + "\" y1=\"" + num(labelY + 2) + "\" y2=\"" + num(bottom) + "\"/><text x=\"" +
             num(x) + "\" y=\"" + num(labelY) + "\" text-anchor=\"middle\">" + escapeHtml(m.label) +
             "</text></g>";
    }

    return s;
}

// Legend: right-aligned rows above the markers.
std::string SvgChart::renderLegend() const
{
    const double left = plotLeft(), right = plotRight();
    std::string s;
    const auto rowsOfLegend = legendRows();
    if (!rowsOfLegend.empty())
        s += "<g class=\"legend\">";
    for (size_t row = 0; row < rowsOfLegend.size(); ++row) {
        double widthNeeded = 0;
        for (size_t i : rowsOfLegend[row])
            widthNeeded += legendEntryWidth(legend_[i].label);
        double x = std::max(left, right - widthNeeded);
        const double y = 10 + kLegendHeight / 2 + double(row) * kLegendHeight;
        for (size_t i : rowsOfLegend[row]) {
            const auto& l = legend_[i];
            switch (l.swatch) {
            case LegendSwatch::Line:
                s += "<line class=\"" + escapeHtml(l.cssClass) + "\" x1=\"" + num(x) + "\" x2=\"" +
                     num(x + 20) + "\" y1=\"" + num(y) + "\" y2=\"" + num(y) + "\"/>";
                break;
            case LegendSwatch::Dot:
                s += "<circle class=\"" + escapeHtml(l.cssClass) + "\" cx=\"" + num(x + 10) +
                     "\" cy=\"" + num(y) + "\" r=\"5\"/>";
                break;
            case LegendSwatch::Box:
                s += "<rect class=\"" + escapeHtml(l.cssClass) + "\" x=\"" + num(x + 3) +
                     "\" y=\"" + num(y - 6) + "\" width=\"14\" height=\"12\"/>";
                break;
            }
            s += "<text x=\"" + num(x + 26) + "\" y=\"" + num(y + 4) + "\">" + escapeHtml(l.label) +
                 "</text>";
            x += legendEntryWidth(l.label);
        }
    }
    if (!rowsOfLegend.empty())
        s += "</g>";
    return s;
}

std::string SvgChart::render(const std::string& title) const
{
    std::string s;
    s += "<svg class=\"chart\" viewBox=\"0 0 " + num(width_) + " " + num(height_) +
         "\" role=\"img\" aria-label=\"" + escapeHtml(title) + "\"><title>" + escapeHtml(title) +
         "</title>";
    // Bands under the grid, then the grid, then the data, the axes, the markers, the legend.
    s += renderBands();
    const auto yTicks = niceTicks(y_.min, y_.max, 5);
    s += renderGrid(yTicks);
    for (const auto& e : elements_)
        s += renderElement(e);
    s += renderAxes(yTicks);
    s += renderMarkers();
    s += renderLegend();
    s += "</svg>";
    return s;
}

} // namespace bucketlab
