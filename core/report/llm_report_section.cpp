#include "core/report/llm_report_section.h"

#include "core/report/svg_chart.h"
#include "core/util/format.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

namespace bucketlab {

namespace {

constexpr int kChartWidth = 1000;

std::string count(int64_t v)
{
    return formatCount(v);
}

std::string displayName(const std::string& name)
{
    if (name == "nxd_default")
        return "NxD default (generate_buckets from 128)";
    if (name == "powers_of_two")
        return "Powers of two";
    if (name == "equal_mass")
        return "Equal mass";
    if (name == "current")
        return "Current";
    return name;
}

const LlmBaseline* baseline(const LlmTuneResult& r, const std::string& name)
{
    for (const auto& b : r.baselines)
        if (b.name == name)
            return &b;
    return nullptr;
}

// Requests (or steps) by length, in bins of a round width so at most ~300 bars are drawn,
// with the boundaries of the recommended and NxD default lists as markers.
std::string distributionChart(const LengthHistogram& h, int64_t xMax, const std::string& xLabel,
                              const std::string& what, const std::vector<int64_t>& tuned,
                              const std::vector<int64_t>& nxd, const std::string& title)
{
    const int64_t width = std::max<int64_t>(1, int64_t(niceCeil(double(xMax) / 300.0)));
    std::vector<int64_t> bins(size_t(xMax / width) + 1, 0);
    for (size_t i = 0; i < h.distinct(); ++i)
        bins[size_t(std::min(h.lengths()[i], xMax) / width)] += h.counts()[i];
    const double top = double(std::max<int64_t>(1, *std::max_element(bins.begin(), bins.end())));
    double divisor = 1;
    std::string unit = what;
    if (top >= 2e6) {
        divisor = 1e6;
        unit = "millions of " + what;
    } else if (top >= 2e4) {
        divisor = 1e3;
        unit = "thousands of " + what;
    }
    SvgChart chart(kChartWidth, 280);
    chart.setXAxis(xLabel, 0, double(xMax));
    chart.setYAxis(width == 1 ? unit + " per length"
                              : unit + " per " + std::to_string(width) + " lengths",
                   0, niceCeil(top / divisor * 1.05));
    for (size_t i = 0; i < bins.size(); ++i)
        if (bins[i] > 0) {
            const int64_t first = int64_t(i) * width;
            const int64_t last = first + width - 1;
            chart.addRect(double(first), double(last + 1), 0, double(bins[i]) / divisor,
                          "bar-requests",
                          std::to_string(first) + "–" + std::to_string(last) + ": " +
                              count(bins[i]) + " " + what);
        }
    for (auto b : nxd)
        if (std::find(tuned.begin(), tuned.end(), b) == tuned.end())
            chart.addMarker(double(b), std::to_string(b), "marker-current");
    for (auto b : tuned)
        chart.addMarker(double(b), std::to_string(b),
                        std::find(nxd.begin(), nxd.end(), b) != nxd.end() ? "marker-both"
                                                                          : "marker-tuned");
    chart.addLegend(what, "swatch-requests");
    chart.addLegend("NxD default", "line-current", LegendSwatch::Line);
    chart.addLegend("recommended", "line-tuned", LegendSwatch::Line);
    chart.addLegend("in both", "line-both", LegendSwatch::Line);
    return chart.render(title);
}

std::string paretoChart(const LlmTuneResult& r)
{
    const auto& front = r.paretoByModels;
    double top = r.best.meanRequestMs;
    int kMax = r.best.models;
    std::vector<std::pair<double, double>> line;
    for (const auto& p : front) {
        line.emplace_back(double(p.models), p.meanRequestMs);
        top = std::max(top, p.meanRequestMs);
        kMax = std::max(kMax, p.models);
    }
    const LlmBaseline* nxd = baseline(r, "nxd_default");
    if (nxd) {
        top = std::max(top, nxd->evaluation.meanRequestMs);
        kMax = std::max(kMax, nxd->evaluation.models);
    }
    SvgChart chart(kChartWidth, 300);
    chart.setXAxis("compiled models (CTE + TKG buckets)", 0.5, double(kMax) + 0.5);
    chart.setIntegerXTicks(true);
    chart.setYAxis("mean request latency (ms)", 0, niceCeil(top * 1.12));
    chart.addLine(line, "front");
    for (const auto& p : front) {
        chart.addPoint(double(p.models), p.meanRequestMs, 3.5, "front-point",
                       std::to_string(p.models) + " models: CTE " +
                           formatLengths(p.lists.cte, ", ") + " | TKG " +
                           formatLengths(p.lists.tkg, ", ") + ": " + formatMs(p.meanRequestMs));
        chart.addText(double(p.models), p.meanRequestMs,
                      std::to_string(p.cteModels) + "+" + std::to_string(p.tkgModels), "tick",
                      TextAnchor::Middle, 0, -9);
    }
    if (nxd) {
        chart.addPoint(double(nxd->evaluation.models), nxd->evaluation.meanRequestMs, 5.5,
                       "point-current");
        chart.addText(double(nxd->evaluation.models), nxd->evaluation.meanRequestMs, "NxD default",
                      "label-current", TextAnchor::End, -10, -8);
    }
    chart.addPoint(double(r.best.models), r.best.meanRequestMs, 5.5, "point-tuned");
    chart.addText(double(r.best.models), r.best.meanRequestMs, "recommended", "label-tuned",
                  TextAnchor::End, -10, 16);
    chart.addLegend("optimum for each total (labels: CTE + TKG)", "front", LegendSwatch::Line);
    chart.addLegend("NxD default", "point-current", LegendSwatch::Dot);
    chart.addLegend("recommended", "point-tuned", LegendSwatch::Dot);
    return chart.render("Joint Pareto front: the lowest mean request latency for each number of "
                        "compiled models, with its split between CTE and TKG buckets");
}

std::string gainCell(const LlmBaseline& b)
{
    const double gain = llmGainPct(b);
    if (b.tunedSameModelsMs < 0)
        return "<td>–</td><td>–</td>";
    const char* cls = gain > 0.05 ? "better" : gain < -0.05 ? "worse" : "same";
    return "<td>" + escapeHtml(formatMs(b.tunedSameModelsMs)) + "</td><td><span class=\"" + cls +
           "\">" + escapeHtml(formatPercent(gain, 1)) + "</span></td>";
}

std::string listsTable(const LlmTuneResult& r)
{
    std::string t = "<table class=\"llm-lists\"><thead><tr><th class=\"l\">lists</th>"
                    "<th>models</th><th class=\"l\">CTE buckets</th><th class=\"l\">TKG "
                    "buckets</th><th>mean request</th><th>mean TTFT</th><th>TTFT p99</th>"
                    "<th>tuned, as many models</th><th>tuned is better by</th></tr></thead>"
                    "<tbody>";
    const auto row = [&](const std::string& name, const LlmEvaluation& e, const std::string& cls,
                         const std::string& tail) {
        t += "<tr" + cls + "><td class=\"l\">" + escapeHtml(name) + "</td><td>" +
             std::to_string(e.models) + "</td><td class=\"l\">" +
             escapeHtml(formatLengths(e.lists.cte, ", ")) + "</td><td class=\"l\">" +
             escapeHtml(formatLengths(e.lists.tkg, ", ")) + "</td><td>" +
             escapeHtml(formatMs(e.meanRequestMs)) + "</td><td>" +
             escapeHtml(formatMs(e.meanTtftMs)) + "</td><td>" + escapeHtml(formatMs(e.p99TtftMs)) +
             "</td>" + tail + "</tr>";
    };
    if (r.feasible)
        row("Recommended", r.best, " class=\"highlight\"", "<td>–</td><td>–</td>");
    for (const auto& b : r.baselines)
        row(displayName(b.name), b.evaluation, "", gainCell(b));
    t += "</tbody></table>";
    return t;
}

std::string paretoTable(const LlmTuneResult& r, bool compileKnown)
{
    std::string t = "<table class=\"llm-pareto\"><thead><tr><th>models</th><th>CTE</th>"
                    "<th>TKG</th><th>mean request</th>" +
                    std::string(compileKnown ? "<th>compile</th>" : "") +
                    "<th class=\"l\">CTE buckets</th><th class=\"l\">TKG buckets</th>"
                    "</tr></thead><tbody>";
    for (const auto& p : r.paretoByModels) {
        const bool chosen = r.feasible && p.lists.cte.values() == r.best.lists.cte.values() &&
                            p.lists.tkg.values() == r.best.lists.tkg.values();
        t += std::string(chosen ? "<tr class=\"highlight\">" : "<tr>") + "<td>" +
             std::to_string(p.models) + "</td><td>" + std::to_string(p.cteModels) + "</td><td>" +
             std::to_string(p.tkgModels) + "</td><td>" + escapeHtml(formatMs(p.meanRequestMs)) +
             "</td>" +
             (compileKnown ? "<td>" + escapeHtml(formatNumber(p.compileS, 0)) + " s</td>" : "") +
             "<td class=\"l\">" + escapeHtml(formatLengths(p.lists.cte, ", ")) +
             "</td><td class=\"l\">" + escapeHtml(formatLengths(p.lists.tkg, ", ")) + "</td></tr>";
    }
    t += "</tbody></table>";
    return t;
}

std::string summaryLine(const char* label, const MarginalSummary& s)
{
    return std::string(label) + " min " + count(s.min) + ", mean " + formatNumber(s.mean, 1) +
           ", p50 " + count(s.p50) + ", p90 " + count(s.p90) + ", p99 " + count(s.p99) + ", max " +
           count(s.max) + " tokens";
}

} // namespace

double llmGainPct(const LlmBaseline& b)
{
    if (b.tunedSameModelsMs < 0 || b.evaluation.meanRequestMs <= 0)
        return -1;
    return 100.0 * (b.evaluation.meanRequestMs - b.tunedSameModelsMs) / b.evaluation.meanRequestMs;
}

LlmReportSection makeLlmReportSection(const std::string& trafficSource,
                                      const RequestTraffic& traffic, const LlmCosts& costs,
                                      const LlmTuneSettings& settings, const Job& job)
{
    LlmReportSection s;
    s.trafficSource = trafficSource;
    s.requests = traffic.requests();
    s.distinctPairs = int64_t(traffic.pairs().size());
    s.prompt = traffic.promptSummary();
    s.output = traffic.outputSummary();
    s.cteCurve = costs.cte.describe();
    s.tkgCurve = costs.tkg.describe();
    s.result = tuneLlmBuckets(traffic, costs, settings, {}, nullptr, job);
    if (s.result.feasible) {
        s.nxd.contextEncodingBuckets = s.result.best.lists.cte.values();
        s.nxd.tokenGenerationBuckets = s.result.best.lists.tkg.values();
        s.nxd.maxContextLength = settings.limits.maxContextLength;
        s.nxd.seqLen = settings.limits.seqLen;
        s.nxd.speculationLength = settings.limits.speculationLength;
        s.nxdConfigJson = nxdNeuronConfigJson(s.nxd);
        s.violations = checkNxdConfig(nxdConfigFromJson(s.nxdConfigJson, "the NxD config"));
    }
    return s;
}

namespace {

// The traffic and how NxD serves it.
std::string llmIntro(const LlmReportSection& s)
{
    const LlmTuneResult& r = s.result;
    const auto& w = r.workload;
    const auto& limits = r.settings.limits;
    std::string h = "<h2 id=\"llm\">LLM serving buckets</h2>";
    h += "<p>Requests <code>" + escapeHtml(s.trafficSource) + "</code>: " + count(s.requests) +
         " requests, " + count(s.distinctPairs) + " distinct (prompt, output) pairs; " +
         escapeHtml(summaryLine("prompt", s.prompt)) + "; " +
         escapeHtml(summaryLine("output", s.output)) +
         ". Served as NxD Inference serves them (max_context_length " +
         std::to_string(limits.maxContextLength) + ", seq_len " + std::to_string(limits.seqLen) +
         "): " + count(w.served) + " served, " + count(w.rejected) + " rejected, " +
         count(w.truncated) + " cut at seq_len; " + count(w.served) + " CTE calls and " +
         count(w.tkgSteps) + " TKG steps. CTE latency <code>" + escapeHtml(s.cteCurve) +
         "</code>, TKG step latency <code>" + escapeHtml(s.tkgCurve) + "</code>.</p>";
    return h;
}

// The recommendation against NxD's default lists, or why there is none.
std::string llmHeadline(const LlmTuneResult& r, const LlmBaseline* nxd)
{
    std::string h;
    if (!r.feasible) {
        h += "<p class=\"caveat\">No CTE and TKG lists meet the budget: " +
             escapeHtml(r.infeasibleReason) + "</p>";
    } else {
        std::string headline =
            "Recommended for at most " + std::to_string(r.settings.totalBuckets) +
            " compiled models: CTE " + formatLengths(r.best.lists.cte, ", ") + " | TKG " +
            formatLengths(r.best.lists.tkg, ", ") + " (" + std::to_string(r.best.models) +
            " models), mean request latency " + formatMs(r.best.meanRequestMs) + " = TTFT " +
            formatMs(r.best.meanTtftMs) + " + decode " + formatMs(r.best.meanDecodeMs) + ".";
        if (nxd && nxd->tunedSameModelsMs >= 0)
            headline += " NxD's default lists (" + std::to_string(nxd->evaluation.models) +
                        " models) take " + formatMs(nxd->evaluation.meanRequestMs) +
                        "; the tuned lists with at most as many models take " +
                        formatMs(nxd->tunedSameModelsMs) + ", " +
                        formatPercent(llmGainPct(*nxd), 1) + " less.";
        h += "<section class=\"summary\"><p class=\"headline\">" + escapeHtml(headline) +
             "</p><p>" + escapeHtml(r.exactness) + "</p></section>";
    }
    return h;
}

// Prompt lengths and decode positions with both sets of buckets.
std::string llmCharts(const LlmTuneResult& r, const LlmBaseline* nxd)
{
    const auto& w = r.workload;
    const auto& limits = r.settings.limits;
    std::string h;
    h += "<figure>" +
         distributionChart(w.cte, limits.maxContextLength, "prompt length (tokens)", "requests",
                           r.feasible ? r.best.lists.cte.values() : std::vector<int64_t>{},
                           nxd ? nxd->evaluation.lists.cte.values() : std::vector<int64_t>{},
                           "Prompt lengths with the recommended and NxD default CTE buckets") +
         "<figcaption>Figure L1. CTE calls (one per request) by prompt length, with the "
         "recommended (solid) and NxD default (dashed) context-encoding buckets.</figcaption>"
         "</figure>\n";
    h += "<figure>" +
         distributionChart(w.tkg, limits.seqLen, "decode position (tokens, + speculation)",
                           "decode steps",
                           r.feasible ? r.best.lists.tkg.values() : std::vector<int64_t>{},
                           nxd ? nxd->evaluation.lists.tkg.values() : std::vector<int64_t>{},
                           "Decode positions with the recommended and NxD default TKG buckets") +
         "<figcaption>Figure L2. TKG steps by the position they decode, with the recommended "
         "(solid) and NxD default (dashed) token-generation buckets.</figcaption></figure>\n";
    return h;
}

std::string llmListsSection(const LlmTuneResult& r)
{
    std::string h;
    h += "<h3>Recommended lists and baselines</h3><p>Each row is evaluated request by request "
         "under NxD's first-fit rule. <em>Tuned, as many models</em> is the tuner's optimum with "
         "at most the row's number of compiled models (at most the budget when the row has "
         "more); <em>tuned is better by</em> is how much lower that is, in % of the row's mean "
         "request latency.</p>";
    h += listsTable(r);
    for (const auto& b : r.baselines)
        if (!b.note.empty())
            h += "<p class=\"table-note\">" + escapeHtml(displayName(b.name)) + ": " +
                 escapeHtml(b.note) + "</p>";
    return h;
}

// The joint Pareto front, the NxD config fragment and the notes.
std::string llmParetoAndConfig(const LlmReportSection& s)
{
    const LlmTuneResult& r = s.result;
    std::string h;
    if (!r.paretoByModels.empty()) {
        const bool compileKnown = r.paretoByModels.front().compileS > 0;
        h += "<h3>How many buckets, and where</h3><p>The exact joint optimum for each total of "
             "compiled models, split between CTE and TKG buckets.</p>";
        h += "<figure>" + paretoChart(r) +
             "<figcaption>Figure L3. Joint Pareto front of mean request latency against "
             "compiled models; each point is labelled CTE + TKG buckets.</figcaption></figure>\n";
        h += paretoTable(r, compileKnown);
    }

    if (r.feasible) {
        h += "<h3>NxD Inference config</h3><p>The recommended lists as a "
             "<code>NeuronConfig</code> fragment";
        if (s.violations.empty())
            h += "; it passes NxD's bucket rules.</p>";
        else {
            h += "; it breaks NxD's rules:</p><ul class=\"notes\">";
            for (const auto& v : s.violations)
                h += "<li>" + escapeHtml(v.rule) + ": " + escapeHtml(v.message) + "</li>";
            h += "</ul>";
        }
        h += "<pre class=\"config\"><code>" + escapeHtml(s.nxdConfigJson) + "</code></pre>";
    }
    if (!r.notes.empty()) {
        h += "<ul class=\"notes\">";
        for (const auto& n : r.notes)
            h += "<li>" + escapeHtml(n) + "</li>";
        h += "</ul>";
    }
    return h;
}

} // namespace

std::string renderLlmReportSection(const LlmReportSection& s)
{
    const LlmTuneResult& r = s.result;
    const LlmBaseline* nxd = baseline(r, "nxd_default");
    return llmIntro(s) + llmHeadline(r, nxd) + llmCharts(r, nxd) + llmListsSection(r) +
           llmParetoAndConfig(s);
}

nlohmann::json llmReportSectionJson(const LlmReportSection& s)
{
    nlohmann::json j = s.result.toJson();
    j["traffic"] = {
        {"source", s.trafficSource}, {"requests", s.requests}, {"distinct_pairs", s.distinctPairs}};
    for (const auto& [key, m] : {std::pair{"prompt", s.prompt}, std::pair{"output", s.output}})
        j["traffic"][key] = {{"min", m.min}, {"mean", m.mean}, {"p50", m.p50},
                             {"p90", m.p90}, {"p99", m.p99},   {"max", m.max}};
    j["latency"] = {{"cte", s.cteCurve}, {"tkg", s.tkgCurve}};
    j["nxd_config"] =
        s.nxdConfigJson.empty() ? nlohmann::json(nullptr) : nlohmann::json::parse(s.nxdConfigJson);
    j["config_violations"] = nlohmann::json::array();
    for (const auto& v : s.violations)
        j["config_violations"].push_back({{"rule", v.rule}, {"message", v.message}});
    return j;
}

} // namespace bucketlab
