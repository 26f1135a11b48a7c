// Small charts as inline SVG, for reports that must stand alone (no scripts, no fonts, no
// images to fetch): linear axes with "nice" ticks and labelled units, rectangles (bars and
// shaded ranges), lines, points, vertical markers with labels that stack instead of
// overlapping, and a legend. Colours are CSS classes the embedding page styles, so one chart
// serves light, dark and print. All text is escaped; numbers are formatted independently
// of the locale.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bucketlab {

// Escapes & < > " ' for HTML text and attribute values (and SVG inside HTML).
std::string escapeHtml(std::string_view text);

// Evenly spaced round values (1, 2, 2.5 or 5 times a power of ten) covering [min, max],
// about `target` of them; always includes the first tick at or above min.
std::vector<double> niceTicks(double min, double max, int target = 6);
// The smallest round value (1, 2, 2.5, 5 x 10^k) at or above `value` (> 0).
double niceCeil(double value);

enum class TextAnchor { Start, Middle, End };

// How a legend entry shows its series: a filled box (bars), a line, or a dot (points).
enum class LegendSwatch { Box, Line, Dot };

class SvgChart {
public:
    // Size in CSS pixels at 100 %; the SVG scales to its container's width.
    SvgChart(int width, int height);

    void setXAxis(std::string label, double min, double max);
    void setYAxis(std::string label, double min, double max);
    // Tick labels on the x axis at integer values only (counts, bucket numbers).
    void setIntegerXTicks(bool integer) { integerX_ = integer; }

    // A rectangle over data ranges [x0, x1] x [y0, y1]; `tooltip` becomes its <title>.
    void addRect(double x0, double x1, double y0, double y1, const std::string& cssClass,
                 const std::string& tooltip = {});
    // A band over the whole plot height between x0 and x1.
    void addBand(double x0, double x1, const std::string& cssClass);
    void addLine(const std::vector<std::pair<double, double>>& points, const std::string& cssClass);
    // The area between a line and the bottom of the y axis (a filled step outline).
    void addArea(const std::vector<std::pair<double, double>>& points, const std::string& cssClass);
    void addPoint(double x, double y, double radius, const std::string& cssClass,
                  const std::string& tooltip = {});
    // A vertical line across the plot at x with a label above it; labels that would overlap
    // move to the next row up (up to three rows), so close boundaries stay readable.
    void addMarker(double x, const std::string& label, const std::string& cssClass);
    // Text at data coordinates, offset by (dx, dy) pixels.
    void addText(double x, double y, const std::string& text, const std::string& cssClass,
                 TextAnchor anchor = TextAnchor::Start, double dx = 0, double dy = 0);
    // Legend entries, drawn right-aligned above the plot: a swatch in `cssClass` and the label;
    // entries that do not fit in one row wrap to the next.
    void addLegend(const std::string& label, const std::string& cssClass,
                   LegendSwatch swatch = LegendSwatch::Box);

    // The <svg> element. `title` is its accessible name (role="img").
    std::string render(const std::string& title) const;

    double width() const { return width_; }
    double height() const { return height_; }

private:
    struct Axis {
        std::string label;
        double min = 0, max = 1;
    };
    struct Marker {
        double x;
        std::string label, cssClass;
    };
    struct Legend {
        std::string label, cssClass;
        LegendSwatch swatch;
    };
    // What add*() stored, placed only in render(): where the plot area starts depends on
    // the legend and marker rows, which may be added later.
    struct Element {
        enum class Kind { Rect, Band, Line, Area, Point, Text };
        Kind kind = Kind::Rect;
        double x0 = 0, x1 = 0, y0 = 0, y1 = 0; // Point: (x0, y0), radius x1; Text: offset x1, y1
        std::vector<std::pair<double, double>> points;
        std::string cssClass, text; // text: tooltip, or the text of a Text
        TextAnchor anchor = TextAnchor::Start;
    };
    double px(double x) const;
    double py(double y) const;
    double plotLeft() const { return left_; }
    double plotRight() const { return width_ - right_; }
    double plotTop() const;
    double plotBottom() const { return height_ - bottom_; }
    int markerRows() const;
    // The legend entries of each row, in order.
    std::vector<std::vector<size_t>> legendRows() const;
    std::vector<int> markerRowAssignment() const;
    // The parts render() joins, in drawing order.
    std::string renderBands() const;
    std::string renderGrid(const std::vector<double>& yTicks) const;
    std::string renderElement(const Element& e) const;
    std::string renderAxes(const std::vector<double>& yTicks) const;
    std::string renderMarkers() const;
    std::string renderLegend() const;

    double width_, height_;
    double left_ = 70, right_ = 20, bottom_ = 48;
    Axis x_, y_;
    bool integerX_ = false;
    std::vector<Element> elements_; // in drawing order (bands first)
    std::vector<Marker> markers_;
    std::vector<Legend> legend_;
};

} // namespace bucketlab
