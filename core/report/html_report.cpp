#include "core/report/html_report.h"
#include "core/util/format.h"
#include "core/util/text_template.h"

#include "core/report/run_comparison.h"
#include "core/report/svg_chart.h"
#include "core/spec/package_meta.h"

#include <algorithm>
#include <cmath>

namespace bucketlab {
namespace {

constexpr int kChartWidth = 1000;

std::string integer(int64_t v)
{
    return formatNumber(double(v), 0);
}

std::string pct(double v, int decimals = 1)
{
    return formatNumber(v, decimals) + " %";
}

std::string ms(double v)
{
    return formatMs(v);
}

std::string fileSize(int64_t bytes)
{
    if (bytes < 1024)
        return integer(bytes) + " B";
    if (bytes < 1024 * 1024)
        return formatNumber(double(bytes) / 1024, 1) + " KiB";
    if (bytes < int64_t(1024) * 1024 * 1024)
        return formatNumber(double(bytes) / (1024 * 1024), 1) + " MiB";
    return formatNumber(double(bytes) / (1024.0 * 1024 * 1024), 2) + " GiB";
}

// A change from current to tuned where lower is better: "−3.94 ms (−38.2 %)" in green, or
// the same in red when higher.
std::string deltaSpan(double current, double tuned, bool showPct = true)
{
    const double d = tuned - current;
    const double rel = current != 0 ? 100.0 * d / current : 0.0;
    if (std::fabs(rel) < 0.05)
        return "<span class=\"same\">no change</span>";
    const char* cls = d < 0 ? "better" : "worse";
    std::string text = (d > 0 ? "+" : "") + formatMs(d);
    if (showPct)
        text += " (" + std::string(rel > 0 ? "+" : "") + pct(rel) + ")";
    return "<span class=\"" + std::string(cls) + "\">" + text + "</span>";
}

std::string pointsDelta(double current, double tuned)
{
    const double d = tuned - current;
    if (std::fabs(d) < 0.05)
        return "<span class=\"same\">no change</span>";
    const char* cls = d < 0 ? "better" : "worse";
    return "<span class=\"" + std::string(cls) + "\">" + (d > 0 ? "+" : "") + formatNumber(d, 1) +
           " points</span>";
}

// Divides large counts into thousands or millions so tick labels stay short.
struct Scale {
    double divisor = 1;
    std::string unit;
};

Scale scaleFor(double max, const std::string& what)
{
    if (max >= 2e6)
        return {1e6, "millions of " + what};
    if (max >= 2e4)
        return {1e3, "thousands of " + what};
    return {1, what};
}

// Lengths binned for drawing: at most ~320 bars, bin width a round number.
struct Bins {
    int64_t width = 1;
    int64_t count = 0;
    int64_t firstOf(int64_t i) const { return 1 + i * width; }
    int64_t lastOf(int64_t i) const { return (i + 1) * width; }
    int64_t of(int64_t length) const { return (length - 1) / width; }
};

Bins binsFor(int64_t maxLength)
{
    Bins b;
    for (int64_t w :
         {1,   2,   4,   5,   8,   10,   16,   20,   25,   32,   50,    64,    100,   128,
          200, 250, 256, 500, 512, 1000, 1024, 2000, 2048, 5000, 10000, 20000, 50000, 100000})
        if (maxLength / w <= 320 || w == 100000) {
            b.width = w;
            break;
        }
    while (maxLength / b.width > 320)
        b.width *= 2;
    b.count = (maxLength + b.width - 1) / b.width;
    return b;
}

std::string binLabel(const Bins& bins, int64_t i)
{
    return bins.width == 1 ? "length " + integer(bins.firstOf(i))
                           : "lengths " + integer(bins.firstOf(i)) + "–" + integer(bins.lastOf(i));
}

// The x range of the traffic charts: up to the longest request and the bucket of each set
// that serves it. Buckets beyond it serve nothing, and including them would squeeze the
// traffic into a corner; the caption names them instead.
double trafficAxisMax(const BoundaryComparison& c)
{
    const int64_t longest = c.tuning.histogram.maxLength();
    int64_t m = longest;
    for (const auto* b : {&c.current.boundaries, &c.tuned.boundaries}) {
        const auto it = std::lower_bound(b->begin(), b->end(), longest);
        m = std::max(m, it == b->end() ? b->largest() : *it);
    }
    return double(m) * 1.04 + 1;
}

// The latency chart shows every bucket: what the unused ones would cost matters too.
double latencyAxisMax(const BoundaryComparison& c)
{
    return double(std::max({c.tuning.histogram.maxLength(), c.current.boundaries.largest(),
                            c.tuned.boundaries.largest()})) *
               1.03 +
           1;
}

// "current 512 and tuned 1024 are beyond the longest request ..." or "".
std::string offChartNote(const BoundaryComparison& c)
{
    const double xMax = trafficAxisMax(c);
    std::string parts;
    for (const auto& [set, b] :
         {std::pair<const char*, const Boundaries*>{"current", &c.current.boundaries},
          {"tuned", &c.tuned.boundaries}}) {
        std::vector<int64_t> beyond;
        for (auto v : *b)
            if (double(v) > xMax)
                beyond.push_back(v);
        if (!beyond.empty())
            parts +=
                std::string(parts.empty() ? "" : "; ") + set + " " + formatLengths(beyond, ", ");
    }
    return parts.empty() ? ""
                         : " Buckets beyond the longest request lie to the right of the chart and "
                           "serve no traffic (" +
                               parts + ").";
}

void addBoundaryMarkers(SvgChart& chart, const std::vector<int64_t>& boundaries,
                        const std::string& cssClass, double xMax)
{
    for (auto b : boundaries)
        if (double(b) <= xMax)
            chart.addMarker(double(b), std::to_string(b), cssClass);
}

bool sharedBoundary(const BoundaryComparison& c)
{
    const auto& tuned = c.tuned.boundaries;
    return std::any_of(c.current.boundaries.begin(), c.current.boundaries.end(), [&](int64_t b) {
        return std::binary_search(tuned.begin(), tuned.end(), b);
    });
}

// Both sets on one chart: a boundary in both gets one marker of its own style, not two
// lines drawn over each other with the same label stacked twice. Returns whether any did.
bool addBothSetsMarkers(SvgChart& chart, const BoundaryComparison& c, double xMax)
{
    const auto& cur = c.current.boundaries;
    const auto& tun = c.tuned.boundaries;
    const auto in = [](const std::vector<int64_t>& v, int64_t b) {
        return std::binary_search(v.begin(), v.end(), b);
    };
    bool shared = false;
    for (auto b : cur)
        if (double(b) <= xMax) {
            const bool both = in(tun, b);
            shared |= both;
            chart.addMarker(double(b), std::to_string(b), both ? "marker-both" : "marker-current");
        }
    for (auto b : tun)
        if (double(b) <= xMax && !in(cur, b))
            chart.addMarker(double(b), std::to_string(b), "marker-tuned");
    return shared;
}

std::string trafficChart(const BoundaryComparison& c)
{
    const auto& h = c.tuning.histogram;
    const double xMax = trafficAxisMax(c);
    const Bins bins = binsFor(int64_t(xMax));
    std::vector<int64_t> requests(size_t(bins.count) + 1, 0);
    for (size_t i = 0; i < h.distinct(); ++i)
        requests[size_t(bins.of(h.lengths()[i]))] += h.counts()[i];
    const double top = double(*std::max_element(requests.begin(), requests.end()));
    const Scale scale = scaleFor(top, "requests");
    SvgChart chart(kChartWidth, 300);
    chart.setXAxis("input length (tokens)", 0, xMax);
    chart.setYAxis(bins.width == 1 ? scale.unit + " per length"
                                   : scale.unit + " per " + std::to_string(bins.width) + " lengths",
                   0, niceCeil(top / scale.divisor * 1.05));
    for (int64_t i = 0; i < int64_t(requests.size()); ++i)
        if (requests[size_t(i)] > 0)
            chart.addRect(double(bins.firstOf(i)) - 0.5, double(bins.lastOf(i)) + 0.5, 0,
                          double(requests[size_t(i)]) / scale.divisor, "bar-requests",
                          binLabel(bins, i) + ": " + integer(requests[size_t(i)]) + " requests");
    const bool shared = addBothSetsMarkers(chart, c, xMax);
    chart.addLegend("requests", "swatch-requests");
    chart.addLegend("current boundaries", "line-current", LegendSwatch::Line);
    chart.addLegend("tuned boundaries", "line-tuned", LegendSwatch::Line);
    if (shared)
        chart.addLegend("in both", "line-both", LegendSwatch::Line);
    return chart.render("Traffic: requests by input length, with the current and tuned bucket "
                        "boundaries");
}

// Computed tokens by length for one boundary set: each request's real tokens plus the
// padding its bucket adds, stacked; requests the set rejects are drawn apart.
struct TokenBins {
    std::vector<double> real, padding, rejected;
};

TokenBins tokenBins(const BoundaryComparison& c, const std::vector<int64_t>& boundaries,
                    const Bins& bins)
{
    const auto& h = c.tuning.histogram;
    const int64_t maxLength = c.tuning.maxLength;
    TokenBins t;
    t.real.assign(size_t(bins.count) + 1, 0);
    t.padding = t.rejected = t.real;
    size_t k = 0;
    for (size_t i = 0; i < h.distinct(); ++i) {
        const int64_t len = h.lengths()[i];
        const double n = double(h.counts()[i]);
        while (k < boundaries.size() && boundaries[k] < len)
            ++k;
        const size_t bin = size_t(bins.of(len));
        if (k == boundaries.size() || (maxLength > 0 && len > maxLength)) {
            t.rejected[bin] += n * double(len);
            continue;
        }
        t.real[bin] += n * double(len);
        t.padding[bin] += n * double(boundaries[k] - len);
    }
    return t;
}

std::string computeChart(const BoundaryComparison& c, const std::vector<int64_t>& boundaries,
                         const std::string& set, double top, const Scale& scale, const Bins& bins,
                         bool anyRejected)
{
    const TokenBins t = tokenBins(c, boundaries, bins);
    SvgChart chart(kChartWidth, 230);
    const double xMax = trafficAxisMax(c);
    chart.setXAxis("input length (tokens)", 0, xMax);
    chart.setYAxis(scale.unit + " computed", 0, niceCeil(top / scale.divisor * 1.05));
    for (size_t i = 0; i < t.real.size(); ++i) {
        const double real = t.real[i] / scale.divisor, pad = t.padding[i] / scale.divisor;
        const std::string where = binLabel(bins, int64_t(i));
        if (t.real[i] > 0)
            chart.addRect(double(bins.firstOf(int64_t(i))) - 0.5,
                          double(bins.lastOf(int64_t(i))) + 0.5, 0, real, "bar-real",
                          where + ": " + integer(int64_t(t.real[i])) + " real tokens");
        if (t.padding[i] > 0)
            chart.addRect(double(bins.firstOf(int64_t(i))) - 0.5,
                          double(bins.lastOf(int64_t(i))) + 0.5, real, real + pad, "pad-" + set,
                          where + ": " + integer(int64_t(t.padding[i])) + " padding tokens");
        if (t.rejected[i] > 0)
            chart.addRect(double(bins.firstOf(int64_t(i))) - 0.5,
                          double(bins.lastOf(int64_t(i))) + 0.5, 0, t.rejected[i] / scale.divisor,
                          "bar-rejected", where + ": rejected (above the largest bucket)");
    }
    addBoundaryMarkers(chart, boundaries, "marker-" + set, xMax);
    chart.addLegend("real tokens", "swatch-requests");
    chart.addLegend("padding", "pad-" + set);
    if (anyRejected)
        chart.addLegend("rejected", "swatch-rejected");
    return chart.render("Computed tokens by input length with the " + set +
                        " boundaries: real tokens and padding");
}

std::string computeCharts(const BoundaryComparison& c)
{
    // One y scale for both panels, so their shaded areas compare directly.
    const Bins bins = binsFor(int64_t(trafficAxisMax(c)));
    double top = 1;
    bool anyRejected = false;
    for (const auto* b : {&c.current.boundaries, &c.tuned.boundaries}) {
        const auto t = tokenBins(c, *b, bins);
        for (size_t i = 0; i < t.real.size(); ++i) {
            top = std::max({top, t.real[i] + t.padding[i], t.rejected[i]});
            anyRejected |= t.rejected[i] > 0;
        }
    }
    const Scale scale = scaleFor(top, "tokens");
    std::string s;
    s += "<p class=\"panel-title\"><span class=\"legend-inline sw-current\"></span>Current "
         "boundaries " +
         escapeHtml(formatLengths(c.current.boundaries, ", ")) + " — padding " +
         pct(c.current.stats.wastePct) + " of computed tokens</p>";
    s += computeChart(c, c.current.boundaries, "current", top, scale, bins, anyRejected);
    s += "<p class=\"panel-title\"><span class=\"legend-inline sw-tuned\"></span>Tuned "
         "boundaries " +
         escapeHtml(formatLengths(c.tuned.boundaries, ", ")) + " — padding " +
         pct(c.tuned.stats.wastePct) + " of computed tokens</p>";
    s += computeChart(c, c.tuned.boundaries, "tuned", top, scale, bins, anyRejected);
    return s;
}

std::pair<std::vector<std::pair<double, double>>, std::vector<std::pair<double, double>>>
curveSamples(const LatencyCurve& curve, double xMax, double& top);

std::string latencyChart(const BoundaryComparison& c)
{
    const LatencyCurve& curve = c.curve;
    const double xMax = latencyAxisMax(c);
    double top = 0;
    const auto samples = curveSamples(curve, xMax, top);
    const auto& inside = samples.first;
    const auto& beyond = samples.second;
    SvgChart chart(kChartWidth, 300);
    chart.setXAxis("bucket length (tokens)", 0, xMax);
    chart.setYAxis("latency per request (ms)", 0, niceCeil(top * 1.08));
    chart.addLine(inside, "curve");
    if (!beyond.empty())
        chart.addLine(beyond, "curve-extrapolated");
    for (const auto& p : curve.measured())
        if (double(p.length) <= xMax)
            chart.addPoint(double(p.length), p.ms, 3.5, "measured",
                           "measured: length " + integer(p.length) + ", " + ms(p.ms));
    // The higher mean's label goes above its line, the lower one's below, so close means
    // keep readable labels.
    const bool tunedLower = c.tuned.stats.meanLatencyMs <= c.current.stats.meanLatencyMs;
    const auto meanLine = [&](double mean, const std::string& set, bool above) {
        chart.addLine({{0, mean}, {xMax, mean}}, "line-" + set);
        chart.addText(xMax, mean, set + " mean " + ms(mean), "label-" + set, TextAnchor::End, -4,
                      above ? -6 : 14);
    };
    meanLine(c.current.stats.meanLatencyMs, "current", tunedLower);
    meanLine(c.tuned.stats.meanLatencyMs, "tuned", !tunedLower);
    // Tuned buckets as dots, current ones as rings drawn over them: a bucket in both sets
    // shows as a dot in a ring instead of one hiding the other.
    for (const auto& b : c.tuned.buckets)
        chart.addPoint(double(b.boundary), b.latencyMs, 5, "point-tuned",
                       "tuned bucket " + integer(b.boundary) + ": " + ms(b.latencyMs));
    for (const auto& b : c.current.buckets)
        chart.addPoint(double(b.boundary), b.latencyMs, 7.5, "ring-current",
                       "current bucket " + integer(b.boundary) + ": " + ms(b.latencyMs));
    chart.addLegend("latency curve", "curve", LegendSwatch::Line);
    if (!beyond.empty())
        chart.addLegend("extrapolated", "curve-extrapolated", LegendSwatch::Line);
    if (!curve.measured().empty() && !curve.isAnalytic())
        chart.addLegend("measured", "measured", LegendSwatch::Dot);
    chart.addLegend("current buckets", "ring-current", LegendSwatch::Dot);
    chart.addLegend("tuned buckets", "point-tuned", LegendSwatch::Dot);
    return chart.render("Latency of one request by bucket length, with the buckets of both sets");
}

std::string paretoChart(const BoundaryComparison& c)
{
    const auto& front = c.tuning.pareto;
    std::vector<std::pair<double, double>> line;
    double top = std::max(c.current.stats.meanLatencyMs, c.tuned.stats.meanLatencyMs);
    int kMax = int(std::max(c.current.boundaries.size(), c.tuned.boundaries.size()));
    for (const auto& p : front)
        if (p.solution.feasible) {
            line.emplace_back(double(p.buckets), p.evaluation.stats.meanLatencyMs);
            top = std::max(top, p.evaluation.stats.meanLatencyMs);
            kMax = std::max(kMax, p.buckets);
        }
    SvgChart chart(kChartWidth, 280);
    chart.setXAxis("number of buckets", 0.5, double(kMax) + 0.5);
    chart.setIntegerXTicks(true);
    chart.setYAxis("mean latency (ms)", 0, niceCeil(top * 1.1));
    chart.addLine(line, "front");
    for (const auto& p : front)
        if (p.solution.feasible) {
            chart.addPoint(double(p.buckets), p.evaluation.stats.meanLatencyMs, 3.5, "front-point",
                           std::to_string(p.buckets) + " buckets (" +
                               formatLengths(p.solution.boundaries, ", ") +
                               "): " + ms(p.evaluation.stats.meanLatencyMs));
            if (p.knee) {
                chart.addPoint(double(p.buckets), p.evaluation.stats.meanLatencyMs, 9, "knee");
                chart.addText(double(p.buckets), p.evaluation.stats.meanLatencyMs,
                              "knee: " + std::to_string(p.buckets) + " buckets", "label-knee",
                              TextAnchor::Start, 12, -10);
            }
        }
    const auto mark = [&](const Evaluation& e, const std::string& set, double dy) {
        const double k = double(e.boundaries.size());
        chart.addPoint(k, e.stats.meanLatencyMs, 5.5, "point-" + set);
        chart.addText(k, e.stats.meanLatencyMs, set, "label-" + set, TextAnchor::End, -10, dy);
    };
    mark(c.current, "current", -8);
    mark(c.tuned, "tuned", 16);
    chart.addLegend("optimum for each bucket count", "front", LegendSwatch::Line);
    chart.addLegend("current", "point-current", LegendSwatch::Dot);
    chart.addLegend("tuned", "point-tuned", LegendSwatch::Dot);
    return chart.render("Pareto front: the lowest mean latency for each number of buckets");
}

std::string card(const std::string& label, const std::string& value, const std::string& delta)
{
    return "<div class=\"card\"><div class=\"label\">" + label + "</div><div class=\"value\">" +
           value + "</div><div class=\"delta\">" + delta + "</div></div>";
}

std::string kernelBadge(const BoundaryReport& r)
{
    if (r.kernelChecks.empty())
        return "<span class=\"badge none\">not run</span>";
    size_t bad = 0;
    for (const auto& k : r.kernelChecks)
        bad += k.ok ? 0 : 1;
    return bad == 0 ? "<span class=\"badge ok\">clean</span>"
                    : "<span class=\"badge bad\">" + std::to_string(bad) + " with defects</span>";
}

std::string cards(const BoundaryReport& r)
{
    const auto& a = r.comparison.current.stats;
    const auto& b = r.comparison.tuned.stats;
    const auto arrow = [](const std::string& x, const std::string& y) {
        return x + " → " + y;
    };
    std::string s = "<div class=\"cards\">";
    s += card("Mean latency", arrow(ms(a.meanLatencyMs), ms(b.meanLatencyMs)),
              deltaSpan(a.meanLatencyMs, b.meanLatencyMs));
    s += card("p50 latency", arrow(ms(a.p50LatencyMs), ms(b.p50LatencyMs)),
              deltaSpan(a.p50LatencyMs, b.p50LatencyMs));
    s += card("p90 latency", arrow(ms(a.p90LatencyMs), ms(b.p90LatencyMs)),
              deltaSpan(a.p90LatencyMs, b.p90LatencyMs));
    s += card("p99 latency", arrow(ms(a.p99LatencyMs), ms(b.p99LatencyMs)),
              deltaSpan(a.p99LatencyMs, b.p99LatencyMs));
    s += card("Padding waste", arrow(pct(a.wastePct), pct(b.wastePct)),
              pointsDelta(a.wastePct, b.wastePct));
    const double tput =
        a.requestsPerSecond > 0
            ? 100.0 * (b.requestsPerSecond - a.requestsPerSecond) / a.requestsPerSecond
            : 0;
    s += card("Throughput, one stream",
              arrow(formatNumber(a.requestsPerSecond, 1), formatNumber(b.requestsPerSecond, 1)) +
                  " /s",
              "<span class=\"" +
                  std::string(std::fabs(tput) < 0.05 ? "same"
                              : tput > 0             ? "better"
                                                     : "worse") +
                  "\">" + (tput > 0 ? "+" : "") + pct(tput) + "</span>");
    s += card("Buckets",
              arrow(std::to_string(r.comparison.current.boundaries.size()),
                    std::to_string(r.comparison.tuned.boundaries.size())),
              "<span class=\"same\">" +
                  std::string(r.comparison.tunedHere ? "tuned here (exact optimum)"
                                                     : "tuned boundaries given") +
                  "</span>");
    s += card("Kernel check", kernelBadge(r),
              "<span class=\"same\">" +
                  (r.kernelChecks.empty()
                       ? std::string("see below")
                       : std::to_string(r.kernelChecks.size()) + " kernel" +
                             (r.kernelChecks.size() == 1 ? "" : "s") + " validated") +
                  "</span>");
    s += "</div>";
    return s;
}

std::string latencyTable(const BoundaryComparison& c)
{
    const auto& a = c.current.stats;
    const auto& b = c.tuned.stats;
    std::string s =
        "<table id=\"latency\"><thead><tr><th class=\"l\">Latency per request</th><th>Current</th>"
        "<th>Tuned</th><th>Change</th></tr></thead><tbody>";
    const auto row = [&](const char* name, double x, double y) {
        s += "<tr><td class=\"l\">" + std::string(name) + "</td><td>" + ms(x) + "</td><td>" +
             ms(y) + "</td><td>" + deltaSpan(x, y) + "</td></tr>";
    };
    row("Mean", a.meanLatencyMs, b.meanLatencyMs);
    row("p50", a.p50LatencyMs, b.p50LatencyMs);
    row("p90", a.p90LatencyMs, b.p90LatencyMs);
    row("p99", a.p99LatencyMs, b.p99LatencyMs);
    s += "</tbody></table>";
    return s;
}

// `id` names the table for links (and for scripts that read the report back).
std::string bucketTable(const Evaluation& e, const std::string& id)
{
    std::string s = "<table id=\"" + id +
                    "\"><thead><tr><th>Bucket</th><th>Lengths</th><th>Requests</th>"
                    "<th>Traffic</th><th>Real tokens</th><th>Computed tokens</th>"
                    "<th>Waste</th><th>Latency</th><th>Share of mean</th></tr></thead><tbody>";
    bool extrapolated = false;
    for (const auto& b : e.buckets) {
        extrapolated |= b.extrapolated;
        s += "<tr><td>" + integer(b.boundary) + "</td><td>" + integer(b.firstLength) + "–" +
             integer(b.lastLength) + "</td><td>" + integer(b.requests) + "</td><td>" +
             pct(b.trafficPct) + "</td><td>" + integer(b.realTokens) + "</td><td>" +
             integer(b.paddedTokens) + "</td><td>" + pct(b.wastePct) + "</td><td>" +
             ms(b.latencyMs) + (b.extrapolated ? "*" : "") + "</td><td>" + pct(b.latencySharePct) +
             "</td></tr>";
    }
    const auto& st = e.stats;
    s += "<tr class=\"total\"><td class=\"l\">All</td><td></td><td>" + integer(st.served) +
         "</td><td>" + pct(100.0 - st.rejectedPct) + "</td><td>" + integer(st.realTokens) +
         "</td><td>" + integer(st.paddedTokens) + "</td><td>" + pct(st.wastePct) + "</td><td>" +
         ms(st.meanLatencyMs) + " mean</td><td>100.0 %</td></tr>";
    s += "</tbody></table>";
    std::string notes;
    if (st.rejected > 0)
        notes += integer(st.rejected) + " requests (" + pct(st.rejectedPct) +
                 ") are longer than the largest bucket and rejected. ";
    if (extrapolated)
        notes += "* latency extrapolated beyond the measured lengths. ";
    if (!notes.empty())
        s += "<p class=\"table-note\">" + escapeHtml(notes) + "</p>";
    return s;
}

// "3.80 ms faster (24.8 %)" or "4.24 ms slower (58.4 %)": a signed "faster by" reads badly.
std::string versus(double gainMs, double gainPct)
{
    if (std::fabs(gainPct) < 0.05)
        return "<span class=\"same\">the same</span>";
    const bool faster = gainMs > 0;
    return "<span class=\"" + std::string(faster ? "better" : "worse") + "\">" +
           formatMs(std::fabs(gainMs)) + " " + (faster ? "faster" : "slower") + " (" +
           pct(std::fabs(gainPct)) + ")</span>";
}

std::string baselinesTable(const BoundaryComparison& c)
{
    const auto& tuned = c.tuned.stats;
    std::string s = "<table id=\"baselines\"><thead><tr><th class=\"l\">Boundary set</th><th "
                    "class=\"l\">Buckets</th>"
                    "<th>Mean</th><th>p99</th><th>Waste</th><th>Rejected</th>"
                    "<th>Tuned mean vs this</th></tr></thead><tbody>";
    const auto row = [&](const std::string& name, const Evaluation& e, bool highlight,
                         const std::string& note) {
        const double gainMs = e.stats.meanLatencyMs - tuned.meanLatencyMs;
        const double gainPct = e.stats.meanLatencyMs > 0 ? 100 * gainMs / e.stats.meanLatencyMs : 0;
        s +=
            std::string(highlight ? "<tr class=\"highlight\">" : "<tr>") + "<td class=\"l\">" +
            escapeHtml(name) +
            (note.empty() ? "" : "<br><span class=\"table-note\">" + escapeHtml(note) + "</span>") +
            "</td><td class=\"l\">" + escapeHtml(formatLengths(e.boundaries, ", ")) + "</td><td>" +
            ms(e.stats.meanLatencyMs) + "</td><td>" + ms(e.stats.p99LatencyMs) + "</td><td>" +
            pct(e.stats.wastePct) + "</td><td>" + pct(e.stats.rejectedPct) + "</td><td>" +
            (highlight ? "—" : versus(gainMs, gainPct)) + "</td></tr>";
    };
    row("Tuned", c.tuned, true, "");
    if (!c.tunedHere && c.tuning.solution.feasible &&
        c.tuning.solution.boundaries != c.tuned.boundaries)
        row("Optimum for " + std::to_string(c.tuning.solution.boundaries.size()) + " buckets",
            c.tuning.evaluation, false, "exact optimum of mean latency");
    for (const auto& b : c.tuning.baselines)
        row(baselineDisplayName(b.name), b.evaluation, false, b.note);
    s += "</tbody></table>";
    return s;
}

std::string paretoTable(const BoundaryComparison& c)
{
    std::string s = "<table><thead><tr><th>Buckets</th><th class=\"l\">Optimal boundaries</th>"
                    "<th>Mean</th><th>p99</th><th>Waste</th><th class=\"l\"></th></tr></thead>"
                    "<tbody>";
    for (const auto& p : c.tuning.pareto) {
        if (!p.solution.feasible)
            continue;
        const bool isTuned = p.solution.boundaries == c.tuned.boundaries;
        s += std::string(p.knee || isTuned ? "<tr class=\"highlight\">" : "<tr>") + "<td>" +
             std::to_string(p.buckets) + "</td><td class=\"l\">" +
             escapeHtml(formatLengths(p.solution.boundaries, ", ")) + "</td><td>" +
             ms(p.evaluation.stats.meanLatencyMs) + "</td><td>" +
             ms(p.evaluation.stats.p99LatencyMs) + "</td><td>" + pct(p.evaluation.stats.wastePct) +
             "</td><td class=\"l\">" +
             (p.knee    ? std::string("knee") + (isTuned ? ", tuned" : "")
              : isTuned ? "tuned"
                        : "") +
             "</td></tr>";
    }
    s += "</tbody></table>";
    return s;
}

std::string kernelSection(const BoundaryReport& r)
{
    std::string s;
    if (r.kernelChecks.empty()) {
        s += "<div class=\"check\"><h3><span class=\"badge none\">not run</span>No kernel "
             "validation was run</h3><p>" +
             escapeHtml(r.kernelChecksNotRun) + "</p></div>";
        return s;
    }
    for (const auto& k : r.kernelChecks) {
        s += "<div class=\"check\"><h3>" +
             std::string(k.ok ? "<span class=\"badge ok\">clean</span>"
                              : "<span class=\"badge bad\">" + std::to_string(k.defects.size()) +
                                    (k.defects.size() == 1 ? " defect" : " defects") + "</span>") +
             escapeHtml(k.title) + "</h3>";
        s += "<p>" + escapeHtml(k.subject) + "</p>";
        std::string batches;
        for (auto b : k.batchSizes)
            batches += (batches.empty() ? "" : ", ") + std::to_string(b);
        s += "<p class=\"table-note\">Run at every length 1–" + integer(k.maxLength) +
             " and batch sizes " + escapeHtml(batches) + ": " + integer(k.calls) + " calls in " +
             formatNumber(k.seconds, 2) + " s. Buckets found by running it: " +
             escapeHtml(k.inferredBoundaries.empty() ? std::string("none")
                                                     : formatLengths(k.inferredBoundaries, ", ")) +
             ".</p>";
        if (!k.defects.empty()) {
            s += "<ul>";
            for (const auto& d : k.defects)
                s += "<li><code>" + escapeHtml(d.kind) + "</code> " + escapeHtml(d.message) +
                     "</li>";
            s += "</ul>";
        }
        if (!k.notes.empty()) {
            s += "<ul class=\"table-note\">";
            for (const auto& n : k.notes)
                s += "<li>" + escapeHtml(n) + "</li>";
            s += "</ul>";
        }
        s += "</div>";
    }
    return s;
}

std::string environmentSection(const ReportEnvironment& env)
{
    std::string s = "<dl class=\"env\">";
    const auto item = [&](const char* name, const std::string& value, bool mono = false) {
        s += "<dt>" + std::string(name) + "</dt><dd>" + (mono ? "<code>" : "") +
             escapeHtml(value.empty() ? std::string("unknown") : value) + (mono ? "</code>" : "") +
             "</dd>";
    };
    item("BucketLab", env.bucketlabVersion);
    item("Created", env.createdAt);
    item("Host", env.hostname);
    item("CPU",
         env.cpuModel +
             (env.cpuCount > 0 ? " (" + std::to_string(env.cpuCount) + " logical CPUs)" : ""));
    item("Threads", env.computeThreads > 0
                        ? std::to_string(env.computeThreads) +
                              (env.computeThreads == 1 ? " LibTorch intra-op thread"
                                                       : " LibTorch intra-op threads") +
                              " for the kernel checks"
                        : std::string());
    item("Operating system", env.os);
    item("LibTorch", env.libtorchVersion.empty() ? "not used" : env.libtorchVersion);
    if (!env.commandLine.empty())
        item("Command", env.commandLine, true);
    s += "</dl>";
    s += "<table><thead><tr><th class=\"l\">Input</th><th class=\"l\">File or spec</th>"
         "<th>Size</th><th class=\"l\">SHA-256</th></tr></thead><tbody>";
    for (const auto& in : env.inputs)
        s += "<tr><td class=\"l\">" + escapeHtml(in.role) + "</td><td class=\"l\"><code>" +
             escapeHtml(in.path) + "</code></td><td>" + (in.isFile ? fileSize(in.bytes) : "spec") +
             "</td><td class=\"hash\">" + (in.isFile ? escapeHtml(in.sha256) : "—") + "</td></tr>";
    s += "</tbody></table>";
    return s;
}

std::string trafficSummary(const BoundaryComparison& c)
{
    const auto& h = c.tuning.histogram;
    return integer(h.total()) + " requests, " + integer(int64_t(h.distinct())) +
           " distinct lengths from " + integer(h.minLength()) + " to " + integer(h.maxLength()) +
           " (mean " + formatNumber(h.mean(), 1) + ", p50 " + integer(h.quantile(0.5)) + ", p90 " +
           integer(h.quantile(0.9)) + ", p99 " + integer(h.quantile(0.99)) + ")";
}

// ---- Run B: the report's sets priced on a second run (report --compare) ----

// Long specs would push a legend off its chart; the runs table gives them whole.
std::string elide(const std::string& s, size_t n = 60)
{
    if (s.size() <= n)
        return s;
    size_t cut = n - 1;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80)
        --cut;
    return s.substr(0, cut) + "…";
}

// The legend name of a run's latency: the profile's file name, or the analytic spec.
std::string curveName(const LatencyCurve& curve)
{
    return curve.isAnalytic() ? curve.source() : shortSourceName(curve.source());
}

double runsTrafficAxisMax(const BoundaryComparison& c, const RunComparison& rc)
{
    const int64_t longest = std::max(c.tuning.histogram.maxLength(), rc.trafficB.maxLength());
    int64_t m = longest;
    for (const auto* b : {&c.current.boundaries, &c.tuned.boundaries}) {
        const auto it = std::lower_bound(b->begin(), b->end(), longest);
        m = std::max(m, it == b->end() ? b->largest() : *it);
    }
    return double(m) * 1.04 + 1;
}

// Percent of the run's requests in each bin: runs of any size on one scale.
std::vector<double> sharesByBin(const LengthHistogram& h, const Bins& bins)
{
    std::vector<double> shares(size_t(bins.count) + 1, 0);
    for (size_t i = 0; i < h.distinct(); ++i)
        if (size_t(bins.of(h.lengths()[i])) < shares.size())
            shares[size_t(bins.of(h.lengths()[i]))] += double(h.counts()[i]);
    for (auto& s : shares)
        s = h.total() > 0 ? 100.0 * s / double(h.total()) : 0;
    return shares;
}

std::vector<std::pair<double, double>> stepOutline(const std::vector<double>& values,
                                                   const Bins& bins)
{
    std::vector<std::pair<double, double>> points;
    points.reserve(values.size() * 2);
    for (size_t i = 0; i < values.size(); ++i) {
        points.emplace_back(double(bins.firstOf(int64_t(i))) - 0.5, values[i]);
        points.emplace_back(double(bins.lastOf(int64_t(i))) + 0.5, values[i]);
    }
    return points;
}

std::string runsTrafficChart(const BoundaryComparison& c, const RunComparison& rc)
{
    const double xMax = runsTrafficAxisMax(c, rc);
    const Bins bins = binsFor(int64_t(xMax));
    const auto a = sharesByBin(c.tuning.histogram, bins);
    const auto b = sharesByBin(rc.trafficB, bins);
    double top = *std::max_element(a.begin(), a.end());
    if (!rc.sameTraffic)
        top = std::max(top, *std::max_element(b.begin(), b.end()));
    SvgChart chart(kChartWidth, 300);
    chart.setXAxis("input length (tokens)", 0, xMax);
    chart.setYAxis(bins.width == 1 ? "% of requests per length"
                                   : "% of requests per " + std::to_string(bins.width) + " lengths",
                   0, niceCeil(top * 1.08));
    const auto outlineA = stepOutline(a, bins);
    chart.addArea(outlineA, "run-a-area");
    chart.addLine(outlineA, "run-a-line");
    if (!rc.sameTraffic)
        chart.addLine(stepOutline(b, bins), "run-b-line");
    const bool shared = addBothSetsMarkers(chart, c, xMax);
    if (rc.sameTraffic) {
        chart.addLegend("A and B: " + elide(shortSourceName(rc.a.traffic)), "swatch-run-a");
    } else {
        chart.addLegend("A: " + elide(shortSourceName(rc.a.traffic)), "swatch-run-a");
        chart.addLegend("B: " + elide(shortSourceName(rc.b.traffic)), "run-b-line",
                        LegendSwatch::Line);
    }
    chart.addLegend("current boundaries", "line-current", LegendSwatch::Line);
    chart.addLegend("tuned boundaries", "line-tuned", LegendSwatch::Line);
    if (shared)
        chart.addLegend("in both", "line-both", LegendSwatch::Line);
    return chart.render("Traffic of run A and run B: share of requests by input length, with "
                        "the current and tuned bucket boundaries");
}

// The curve sampled up to xMax: measured range (or analytic) and the extrapolated rest.
std::pair<std::vector<std::pair<double, double>>, std::vector<std::pair<double, double>>>
curveSamples(const LatencyCurve& curve, double xMax, double& top)
{
    std::vector<std::pair<double, double>> inside, beyond;
    const int samples = 400;
    for (int i = 0; i <= samples; ++i) {
        const int64_t len = std::max<int64_t>(1, int64_t(std::llround(xMax * i / samples)));
        const double v = curve.at(len);
        top = std::max(top, v);
        (curve.isExtrapolated(len) && !curve.isAnalytic() && len > curve.measured().back().length
             ? beyond
             : inside)
            .emplace_back(double(len), v);
    }
    if (!inside.empty() && !beyond.empty())
        beyond.insert(beyond.begin(), inside.back());
    for (const auto& p : curve.measured())
        top = std::max(top, p.ms);
    return {inside, beyond};
}

std::string runsLatencyChart(const BoundaryComparison& c, const RunComparison& rc)
{
    const double xMax = std::max(latencyAxisMax(c), double(rc.trafficB.maxLength()) * 1.03 + 1);
    double top = 0;
    const auto a = curveSamples(c.curve, xMax, top);
    const auto b = curveSamples(rc.curveB, xMax, top);
    SvgChart chart(kChartWidth, 300);
    chart.setXAxis("bucket length (tokens)", 0, xMax);
    chart.setYAxis("latency per request (ms)", 0, niceCeil(top * 1.08));
    bool extrapolated = false;
    const auto draw = [&](const LatencyCurve& curve, const auto& samples, const std::string& run) {
        chart.addLine(samples.first, "run-" + run + "-curve");
        if (!samples.second.empty()) {
            chart.addLine(samples.second, "run-" + run + "-curve extrapolated");
            extrapolated = true;
        }
        if (!curve.isAnalytic())
            for (const auto& p : curve.measured())
                if (double(p.length) <= xMax)
                    chart.addPoint(double(p.length), p.ms, 3.5, "run-" + run + "-measured",
                                   "run " + std::string(run == "a" ? "A" : "B") +
                                       " measured: length " + integer(p.length) + ", " + ms(p.ms));
    };
    draw(c.curve, a, "a");
    if (!rc.sameLatency)
        draw(rc.curveB, b, "b");
    if (rc.sameLatency) {
        chart.addLegend("A and B: " + elide(curveName(c.curve)), "run-a-curve", LegendSwatch::Line);
    } else {
        chart.addLegend("A: " + elide(curveName(c.curve)), "run-a-curve", LegendSwatch::Line);
        chart.addLegend("B: " + elide(curveName(rc.curveB)), "run-b-curve", LegendSwatch::Line);
    }
    if (extrapolated)
        chart.addLegend("extrapolated", "curve-extrapolated", LegendSwatch::Line);
    return chart.render("Latency curves of run A and run B: latency of one request by bucket "
                        "length");
}

std::string signedMs(double d)
{
    if (std::fabs(d) < 0.0005)
        return "0";
    return (d > 0 ? "+" : "") + formatMs(d);
}

std::string signedPoints(double d)
{
    if (std::fabs(d) < 0.05)
        return "0";
    return (d > 0 ? "+" : "") + formatNumber(d, 1);
}

std::string runsInputsTable(const RunComparison& rc)
{
    std::string s = "<table id=\"runs-inputs\"><thead><tr><th class=\"l\">Run</th><th "
                    "class=\"l\">Traffic</th><th>Requests</th><th>Lengths</th><th>Mean "
                    "length</th><th class=\"l\">Latency</th></tr></thead><tbody>";
    const auto row = [&](const char* name, const ReportRunInfo& r, bool sameT, bool sameL) {
        s += "<tr><td class=\"l\"><span class=\"legend-inline sw-run-" +
             std::string(name[0] == 'A' ? "a" : "b") + "\"></span>" + name +
             (r.project.empty() ? std::string()
                                : "<br><span class=\"table-note\">project <code>" +
                                      escapeHtml(r.project) + "</code></span>") +
             "</td><td class=\"l\"><code>" + escapeHtml(r.traffic) + "</code>" +
             (sameT ? " <span class=\"table-note\">(run A's)</span>" : "") + "</td><td>" +
             integer(r.requests) + "</td><td>" + integer(r.shortest) + "–" + integer(r.longest) +
             "</td><td>" + formatNumber(r.meanLength, 1) + "</td><td class=\"l\"><code>" +
             escapeHtml(r.latency) + "</code>" +
             (sameL ? " <span class=\"table-note\">(run A's)</span>" : "") + "</td></tr>";
    };
    row("A", rc.a, false, false);
    row("B", rc.b, rc.sameTraffic, rc.sameLatency);
    s += "</tbody></table>";
    return s;
}

std::string runsSetsTable(const RunComparison& rc)
{
    std::string s =
        "<table id=\"compare-sets\" class=\"runs\"><thead><tr><th class=\"l\" "
        "rowspan=\"2\">Boundary set</th><th colspan=\"3\" class=\"group\">Mean latency</th><th "
        "colspan=\"3\" class=\"group\">p99 latency</th><th colspan=\"3\" class=\"group\">Padding "
        "waste</th><th colspan=\"3\" class=\"group\">Rejected</th></tr><tr>";
    for (int i = 0; i < 4; ++i)
        s += "<th>A</th><th>B</th><th class=\"diff\">B − A</th>";
    s += "</tr></thead><tbody>";
    for (size_t i = 0; i < rc.sets.size(); ++i) {
        const auto& p = rc.sets[i];
        const auto& a = p.a.stats;
        const auto& b = p.b.stats;
        const bool highlight = p.origin == "tuned";
        const auto best = [&](bool onB, const std::string& text) {
            return (onB ? i == rc.bestB : i == rc.bestA)
                       ? "<strong class=\"best\">" + text + " ★</strong>"
                       : text;
        };
        std::string what = formatLengths(p.a.boundaries, ", ");
        if (!p.note.empty())
            what += " · " + p.note;
        s += std::string(highlight ? "<tr class=\"highlight\">" : "<tr>") + "<td class=\"l\">" +
             escapeHtml(p.name) + "<br><span class=\"table-note\">" + escapeHtml(what) +
             "</span></td>";
        s += "<td>" + best(false, ms(a.meanLatencyMs)) + "</td><td>" +
             best(true, ms(b.meanLatencyMs)) + "</td><td class=\"diff\">" +
             signedMs(b.meanLatencyMs - a.meanLatencyMs) + "</td>";
        s += "<td>" + ms(a.p99LatencyMs) + "</td><td>" + ms(b.p99LatencyMs) +
             "</td><td class=\"diff\">" + signedMs(b.p99LatencyMs - a.p99LatencyMs) + "</td>";
        s += "<td>" + pct(a.wastePct) + "</td><td>" + pct(b.wastePct) + "</td><td class=\"diff\">" +
             signedPoints(b.wastePct - a.wastePct) + "</td>";
        s += "<td>" + pct(a.rejectedPct) + "</td><td>" + pct(b.rejectedPct) +
             "</td><td class=\"diff\">" + signedPoints(b.rejectedPct - a.rejectedPct) + "</td>";
        s += "</tr>";
    }
    s += "</tbody></table>";
    s += "<p class=\"table-note\">★ the best set on each run: the fewest rejected requests, then "
         "the lowest mean latency. B − A in ms for latencies and in percentage points for waste "
         "and rejected shares. Means, percentiles and waste are over the requests a set "
         "serves.</p>";
    return s;
}

// What run B is, in a word: its project, else what it changes.
std::string runBName(const RunComparison& rc)
{
    if (!rc.b.project.empty())
        return shortSourceName(rc.b.project);
    if (!rc.sameTraffic)
        return shortSourceName(rc.b.traffic);
    return curveName(rc.curveB);
}

std::string runsSection(const BoundaryReport& r, int firstFigure)
{
    const BoundaryComparison& c = r.comparison;
    const RunComparison& rc = *r.runs;
    const std::string what = rc.sameLatency   ? "another traffic on the same latency curve"
                             : rc.sameTraffic ? "the same traffic on another latency curve"
                                              : "another traffic and another latency curve";
    std::string s = "<h2 id=\"runs\">Run A and run B</h2>";
    s += "<p>The boundary sets of this report priced on a second run. Run A is this report's "
         "traffic and latency; run B is " +
         what +
         (rc.b.project.empty()
              ? std::string()
              : " from project <code>" + escapeHtml(shortSourceName(rc.b.project)) + "</code>") +
         ". Every set is priced on both, including the optimum for run B and run B's own "
         "sets, so the table shows whether boundaries tuned on A hold on B.</p>";
    s += runsInputsTable(rc);
    s += "<figure>" + runsTrafficChart(c, rc) + "<figcaption>Figure " +
         std::to_string(firstFigure) +
         ". Share of requests by input length on each run (each run's requests add up to "
         "100 %" +
         (rc.sameTraffic ? "; both runs have the same traffic" : "") +
         "), with the current (dashed) and tuned (solid) boundaries.</figcaption></figure>\n";
    s += "<figure>" + runsLatencyChart(c, rc) + "<figcaption>Figure " +
         std::to_string(firstFigure + 1) + ". Latency of one request by bucket length on each run" +
         (rc.sameLatency ? "; both runs have the same latency curve" : "") +
         ". Circles are measured points.</figcaption></figure>\n";
    s += runsSetsTable(rc);
    s += "<p class=\"verdict\">" + escapeHtml(describeRunComparison(rc)) + "</p>";
    if (!rc.notes.empty()) {
        s += "<ul class=\"notes\">";
        for (const auto& n : rc.notes)
            s += "<li>" + escapeHtml(n) + "</li>";
        s += "</ul>";
    }
    return s;
}

} // namespace

namespace {

// The document's head, the title block and the summary with its headline cards.
std::string reportHead(const BoundaryReport& r)
{
    const BoundaryComparison& c = r.comparison;
    const ComparisonSummary summary = summarizeComparison(c);
    const std::string source =
        c.tuning.distributionSource.empty() ? "traffic" : c.tuning.distributionSource;
    std::string h;
    h += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
    h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
    h += "<meta name=\"generator\" content=\"" + escapeHtml(r.environment.bucketlabVersion) +
         "\">\n";
    h += "<title>Bucket report: " + escapeHtml(formatLengths(c.current.boundaries, ", ")) + " → " +
         escapeHtml(formatLengths(c.tuned.boundaries, ", ")) + "</title>\n<style>\n" +
         reportStylesheet() + "</style>\n</head>\n<body>\n";

    h += "<header><div class=\"eyebrow\">BucketLab bucket report</div>";
    h += "<h1>Buckets " + escapeHtml(formatLengths(c.current.boundaries, ", ")) + " → " +
         escapeHtml(formatLengths(c.tuned.boundaries, ", ")) + "</h1>";
    h += "<p class=\"sub\">Traffic <code>" + escapeHtml(source) + "</code> · latency <code>" +
         escapeHtml(c.curve.describe()) + "</code>" +
         (r.runs ? " · compared with run B <code>" + escapeHtml(runBName(*r.runs)) + "</code>"
                 : std::string()) +
         " · " + escapeHtml(r.environment.createdAt) + "</p></header>\n";

    h += summary.refuses ? "<section class=\"summary\"><p class=\"headline refuses\"><span "
                           "class=\"badge bad\">served range shrinks</span> " +
                               escapeHtml(summary.sentence) + "</p>"
                         : "<section class=\"summary\"><p class=\"headline\">" +
                               escapeHtml(summary.sentence) + "</p>";
    if (!summary.caveat.empty())
        h += "<p class=\"caveat\">" + escapeHtml(summary.caveat) + "</p>";
    if (r.runs)
        h += "<p class=\"caveat\">Compared with run B (see <a href=\"#runs\">Run A and run "
             "B</a>): " +
             escapeHtml(describeRunComparison(*r.runs)) + "</p>";
    h += "</section>\n" + cards(r) + "\n";
    return h;
}

std::string trafficSection(const BoundaryComparison& c)
{
    std::string h;
    h += "<h2>Traffic and buckets</h2>";
    h += "<p>" + escapeHtml(trafficSummary(c)) +
         ". A request is padded to the smallest bucket at or above its length; the shaded "
         "part of each bar below is that padding, computed for nothing.</p>";
    h += "<figure>" + trafficChart(c) +
         "<figcaption>Figure 1. Requests by input length with the current (dashed) and tuned "
         "(solid) boundaries" +
         (sharedBoundary(c) ? "; dotted where both sets have the same one." : ".") +
         escapeHtml(offChartNote(c)) + "</figcaption></figure>\n";
    h += "<figure>" + computeCharts(c) +
         "<figcaption>Figure 2. Tokens the model computes for the traffic at each length: real "
         "tokens plus padding (shaded), with both panels on one scale. The shaded share of a "
         "panel is its padding waste.</figcaption></figure>\n";
    return h;
}

std::string latencySection(const BoundaryComparison& c)
{
    std::string h;
    h += "<h2>Latency</h2>";
    h += "<p>Each request takes its bucket's latency, read from the curve " +
         escapeHtml(c.curve.describe()) +
         ". Percentiles are over requests (nearest rank); both sets are evaluated on the same "
         "traffic.</p>";
    h += "<figure>" + latencyChart(c) +
         "<figcaption>Figure 3. Latency of one request by bucket length; points mark each "
         "set's buckets, lines its mean over the traffic.</figcaption></figure>\n";
    h += latencyTable(c);
    return h;
}

std::string perBucketSection(const BoundaryComparison& c)
{
    std::string h;
    h += "<h2>Per bucket</h2>";
    h += "<h3><span class=\"legend-inline sw-current\"></span>Current: " +
         escapeHtml(formatLengths(c.current.boundaries, ", ")) + "</h3>" +
         bucketTable(c.current, "buckets-current");
    h += "<h3><span class=\"legend-inline sw-tuned\"></span>Tuned: " +
         escapeHtml(formatLengths(c.tuned.boundaries, ", ")) + "</h3>" +
         bucketTable(c.tuned, "buckets-tuned");
    h += "<p class=\"table-note\">Waste = padding ÷ computed tokens. Traffic shares are of all "
         "requests; latency shares of the summed latency of the requests served.</p>";
    return h;
}

std::string baselinesSection(const BoundaryComparison& c)
{
    std::string h;
    h += "<h2>Baselines</h2><p>The same traffic and latency with the boundary sets people "
         "commonly use, for " +
         std::to_string(c.tuning.settings.buckets) + " buckets where the rule takes a count.</p>";
    h += baselinesTable(c);
    return h;
}

// The Pareto front; its figure number follows the runs section's when there is one.
std::string bucketCountSection(const BoundaryComparison& c, bool runs)
{
    std::string h;
    h += "<h2>How many buckets</h2><p>The exact optimum of mean latency for each bucket count. "
         "Past the knee, another bucket (another compiled graph) buys less than the average "
         "bucket did.</p>";
    h += "<figure>" + paretoChart(c) + "<figcaption>Figure " + std::string(runs ? "6" : "4") +
         ". Pareto front of mean latency against the number of buckets"
         "</figcaption></figure>\n";
    h += paretoTable(c);
    return h;
}

// Kernel validation, notes, environment and the end of the document.
std::string reportTail(const BoundaryReport& r)
{
    const BoundaryComparison& c = r.comparison;
    std::string h;
    h += "<h2>Kernel validation</h2>";
    h += kernelSection(r);

    std::vector<std::string> notes = c.tuning.notes;
    if (!notes.empty()) {
        h += "<h2>Notes</h2><ul class=\"notes\">";
        for (const auto& n : notes)
            h += "<li>" + escapeHtml(n) + "</li>";
        h += "</ul>";
    }

    h += "<h2>Environment</h2>" + environmentSection(r.environment);
    h += "<footer>Made by " + escapeHtml(r.environment.bucketlabVersion) +
         ". This file is self-contained: it loads no scripts, fonts or images, so it can be "
         "attached to a review or archived as is.</footer>\n";
    h += "</body>\n</html>\n";
    return h;
}

} // namespace

std::string renderHtmlReport(const BoundaryReport& r)
{
    const BoundaryComparison& c = r.comparison;
    std::string h;
    h.reserve(1 << 20);
    h += reportHead(r);
    h += trafficSection(c);
    h += latencySection(c);
    h += perBucketSection(c);
    h += baselinesSection(c);
    if (r.runs)
        h += runsSection(r, 4);
    h += bucketCountSection(c, bool(r.runs));
    if (r.llm)
        h += renderLlmReportSection(*r.llm);
    h += reportTail(r);
    return h;
}

} // namespace bucketlab
