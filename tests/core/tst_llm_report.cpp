// The LLM section of the bucket report: on a small synthetic trace with known latency curves,
// every figure the HTML shows for the recommended lists and the NxD default lists equals
// what LlmEvaluator computes for those lists independently (mean request latency, mean TTFT,
// TTFT p99), the baselines are NxD's generate_buckets lists, the "better by" percentage is
// the one computed from the tuner's same-model optimum, the Pareto table holds each front
// point priced by the evaluator, and the exported NxD fragment passes NxD's rules.
#include "core/llm/nxd_bucket_rule.h"
#include "core/report/llm_report_section.h"
#include "core/report/svg_chart.h"
#include "core/util/format.h"

#include <QTest>
#include <nlohmann/json.hpp>

#include <QRegularExpression>
#include <random>

using namespace bucketlab;

namespace {

RequestTraffic syntheticTraffic()
{
    std::mt19937_64 rng(7);
    std::vector<RequestPair> pairs;
    for (int i = 0; i < 300; ++i)
        pairs.push_back({1 + int64_t(rng() % 500), int64_t(rng() % 400), 1 + int64_t(rng() % 5)});
    // a few prompts above max_context_length: rejected, not served
    pairs.push_back({700, 10, 3});
    return RequestTraffic::fromPairs(pairs);
}

LlmCosts knownCosts()
{
    LlmCosts costs;
    costs.cte = LatencyCurve::fromSpec("poly:4,0.02,0.00001");
    costs.tkg = LatencyCurve::fromSpec("linear:6,0.003");
    return costs;
}

// The cells of the table row whose first cell is `name` (tags stripped).
QStringList rowCells(const QString& html, const QString& name)
{
    const int at = html.indexOf("<td class=\"l\">" + name.toHtmlEscaped() + "</td>");
    if (at < 0)
        return {};
    const int end = html.indexOf("</tr>", at);
    const QString row = html.mid(at, end - at);
    QStringList cells;
    int pos = 0;
    while ((pos = row.indexOf("<td", pos)) >= 0) {
        const int open = row.indexOf('>', pos) + 1;
        const int close = row.indexOf("</td>", open);
        QString cell = row.mid(open, close - open);
        cell.remove(QRegularExpression("<[^>]*>"));
        cells << cell;
        pos = close;
    }
    return cells;
}

QString q(const std::string& s)
{
    return QString::fromStdString(s);
}

QString lists(const std::vector<int64_t>& v)
{
    QStringList out;
    for (auto b : v)
        out << QString::number(b);
    return out.join(", ");
}

} // namespace

class TestLlmReport : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void figuresEqualTheEvaluators();
    void paretoTableIsTheFrontPriced();
    void configFragmentAndJson();
    void infeasibleSaysSo();
};

void TestLlmReport::figuresEqualTheEvaluators()
{
    const RequestTraffic traffic = syntheticTraffic();
    const LlmCosts costs = knownCosts();
    LlmTuneSettings settings;
    settings.limits = {512, 1024, 0};
    settings.totalBuckets = 8;
    const LlmReportSection s = makeLlmReportSection("synthetic.csv", traffic, costs, settings);
    QVERIFY(s.result.feasible);
    const QString html = q(renderLlmReportSection(s));

    // The recommended lists, evaluated here request by request.
    const LlmEvaluation best =
        evaluateLlmBuckets(traffic, settings.limits, costs, s.result.best.lists);
    QCOMPARE(best.meanRequestMs, s.result.best.meanRequestMs);
    QCOMPARE(best.rejected, 3);
    const QStringList rec = rowCells(html, "Recommended");
    QCOMPARE(rec.size(), 9);
    QCOMPARE(rec[1], QString::number(best.models));
    QCOMPARE(rec[2], lists(best.lists.cte));
    QCOMPARE(rec[3], lists(best.lists.tkg));
    QCOMPARE(rec[4], q(formatMs(best.meanRequestMs)));
    QCOMPARE(rec[5], q(formatMs(best.meanTtftMs)));
    QCOMPARE(rec[6], q(formatMs(best.p99TtftMs)));
    QVERIFY(best.models <= 8);

    // NxD's default lists: generate_buckets(128, max_context_length) and (128, seq_len).
    LlmBucketLists nxdLists;
    nxdLists.cte = Boundaries::from(nxdGenerateBuckets(128, 512), "nxd cte");
    nxdLists.tkg = Boundaries::from(nxdGenerateBuckets(128, 1024), "nxd tkg");
    const LlmEvaluation nxd = evaluateLlmBuckets(traffic, settings.limits, costs, nxdLists);
    const QStringList row = rowCells(html, "NxD default (generate_buckets from 128)");
    QCOMPARE(row.size(), 9);
    QCOMPARE(row[1], QString::number(nxd.models));
    QCOMPARE(row[2], "128, 256, 512");
    QCOMPARE(row[3], "128, 256, 512, 1024");
    QCOMPARE(row[4], q(formatMs(nxd.meanRequestMs)));
    QCOMPARE(row[5], q(formatMs(nxd.meanTtftMs)));
    QCOMPARE(row[6], q(formatMs(nxd.p99TtftMs)));
    // The tuned optimum with at most as many models, and the % it is lower by.
    double sameModels = -1;
    for (const auto& p : s.result.paretoByModels)
        if (p.models <= nxd.models)
            sameModels = p.meanRequestMs;
    QVERIFY(sameModels > 0);
    QVERIFY(sameModels <= nxd.meanRequestMs);
    QCOMPARE(row[7], q(formatMs(sameModels)));
    const double gain = 100.0 * (nxd.meanRequestMs - sameModels) / nxd.meanRequestMs;
    QCOMPARE(row[8], q(formatPercent(gain, 1)));
    QVERIFY(gain > 0);
    // The headline says the same numbers in words.
    QVERIFY(html.contains("NxD&#39;s default lists (" + QString::number(nxd.models) +
                          " models) take " + q(formatMs(nxd.meanRequestMs)) +
                          "; the tuned lists with at most as many models take " +
                          q(formatMs(sameModels)) + ", " + q(formatPercent(gain, 1)) + " less."));
    QVERIFY(rowCells(html, "Powers of two").size() == 9);

    // The workload line: counts from the traffic.
    QVERIFY(html.contains(q(formatCount(s.result.workload.tkgSteps)) + " TKG steps"));
    // Both distributions are drawn with the recommended boundaries as markers.
    QCOMPARE(html.count("<svg"), 3);
    for (auto b : best.lists.cte.values())
        QVERIFY2(html.contains(">" + QString::number(b) + "</text>"),
                 qPrintable(QString::number(b)));
    QVERIFY(!html.contains("<script"));
}

void TestLlmReport::paretoTableIsTheFrontPriced()
{
    const RequestTraffic traffic = syntheticTraffic();
    const LlmCosts costs = knownCosts();
    LlmTuneSettings settings;
    settings.limits = {512, 1024, 0};
    settings.totalBuckets = 6;
    const LlmReportSection s = makeLlmReportSection("synthetic.csv", traffic, costs, settings);
    const QString html = q(renderLlmReportSection(s));
    QCOMPARE(int(s.result.paretoByModels.size()), 5); // 2..6 models
    const int table = html.indexOf("<table class=\"llm-pareto\">");
    QVERIFY(table > 0);
    double previous = 1e300;
    for (const auto& p : s.result.paretoByModels) {
        const LlmEvaluation e = evaluateLlmBuckets(traffic, settings.limits, costs, p.lists);
        QVERIFY(std::abs(e.meanRequestMs - p.meanRequestMs) <= 1e-9 * e.meanRequestMs);
        QCOMPARE(p.cteModels + p.tkgModels, e.models);
        QVERIFY(p.meanRequestMs <= previous);
        previous = p.meanRequestMs;
        const QString cells = "<td>" + QString::number(p.models) + "</td><td>" +
                              QString::number(p.cteModels) + "</td><td>" +
                              QString::number(p.tkgModels) + "</td><td>" +
                              q(formatMs(e.meanRequestMs)) + "</td>";
        QVERIFY2(html.indexOf(cells, table) > 0, qPrintable(cells));
    }
}

void TestLlmReport::configFragmentAndJson()
{
    const RequestTraffic traffic = syntheticTraffic();
    LlmTuneSettings settings;
    settings.limits = {512, 1024, 0};
    settings.totalBuckets = 8;
    const LlmReportSection s =
        makeLlmReportSection("synthetic.csv", traffic, knownCosts(), settings);
    QVERIFY(s.violations.empty());
    const NxdBucketConfig back = nxdConfigFromJson(s.nxdConfigJson, "test");
    QVERIFY(checkNxdConfig(back).empty());
    QCOMPARE(back.contextEncodingBuckets, s.result.best.lists.cte.values());
    QCOMPARE(back.tokenGenerationBuckets, s.result.best.lists.tkg.values());
    const QString html = q(renderLlmReportSection(s));
    QVERIFY(html.contains("passes NxD's bucket rules"));
    QVERIFY(html.contains(q(escapeHtml(s.nxdConfigJson))));

    const nlohmann::json j = llmReportSectionJson(s);
    QCOMPARE(j["cte_buckets"].get<std::vector<int64_t>>(), s.result.best.lists.cte.values());
    QCOMPARE(j["tkg_buckets"].get<std::vector<int64_t>>(), s.result.best.lists.tkg.values());
    QCOMPARE(j["mean_request_ms"].get<double>(), s.result.best.meanRequestMs);
    QCOMPARE(j["traffic"]["requests"].get<int64_t>(), traffic.requests());
    QCOMPARE(j["nxd_config"]["context_encoding_buckets"].get<std::vector<int64_t>>(),
             s.result.best.lists.cte.values());
    QVERIFY(j["config_violations"].empty());
    bool sawNxd = false;
    for (const auto& b : j["baselines"])
        sawNxd = sawNxd || b["name"] == "nxd_default";
    QVERIFY(sawNxd);
}

void TestLlmReport::infeasibleSaysSo()
{
    const RequestTraffic traffic = syntheticTraffic();
    LlmTuneSettings settings;
    settings.limits = {512, 1024, 0};
    settings.totalBuckets = 4;
    settings.objective = LlmObjective::MeanRequestTtftP99;
    settings.ttftP99BudgetMs = 0.001; // no CTE list can meet it
    const LlmReportSection s =
        makeLlmReportSection("synthetic.csv", traffic, knownCosts(), settings);
    QVERIFY(!s.result.feasible);
    const QString html = q(renderLlmReportSection(s));
    QVERIFY(html.contains("No CTE and TKG lists meet the budget: " +
                          q(escapeHtml(s.result.infeasibleReason))));
    QVERIFY(!html.contains("<pre class=\"config\">"));
    QVERIFY(llmReportSectionJson(s)["nxd_config"].is_null());
}

QTEST_GUILESS_MAIN(TestLlmReport)
#include "tst_llm_report.moc"
