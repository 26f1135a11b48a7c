// `bucketlab-cli report`: one self-contained HTML file whose tables carry the core evaluator's
// figures, that loads nothing from anywhere, that headless Chromium renders into a real
// picture, and that is never left half-written when the input is bad.
#include "core/latency/latency_curve.h"
#include "core/report/run_comparison.h"
#include "core/traffic/distribution.h"
#include "core/tuning/bucket_evaluator.h"
#include "testutil.h"

#include <QDir>
#include <QFileInfo>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QSet>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QUrl>

#include <cmath>

using namespace bucketlab;
using namespace bucketlab::test;

namespace {

// Short requests with a long tail, and a cluster near the demo's largest bucket.
const char* kTraffic = "0.8*lognormal:mu=4.5,sigma=0.5,max=512+0.2*normal:mean=400,sd=40,max=512,"
                       "n=20000,seed=3";
const char* kLatency = "linear:0.8,0.012";
// Run B: longer requests, some beyond the current set's largest bucket (512), and a curve
// with a higher fixed cost and a steeper slope.
const char* kTrafficB = "lognormal:mu=5.2,sigma=0.35,max=700,n=8000,seed=5";
const char* kLatencyB = "linear:2.5,0.02";

QStringList entries(const QString& dir)
{
    return QDir(dir).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot);
}

// The cells of each body row of the table with this id, tags stripped.
QList<QStringList> tableRows(const QString& html, const QString& id)
{
    const int start = html.indexOf("<table id=\"" + id + "\"");
    const int end = html.indexOf("</table>", start);
    if (start < 0 || end < 0)
        return {};
    const QString table = html.mid(start, end - start);
    const QString body = table.mid(table.indexOf("<tbody>"));
    QList<QStringList> rows;
    static const QRegularExpression row("<tr[^>]*>(.*?)</tr>");
    static const QRegularExpression cell("<td[^>]*>(.*?)</td>");
    static const QRegularExpression tag("<[^>]+>");
    for (auto r = row.globalMatch(body); r.hasNext();) {
        QStringList cells;
        const QString inner = r.next().captured(1);
        for (auto c = cell.globalMatch(inner); c.hasNext();)
            cells << c.next().captured(1).remove(tag).trimmed();
        rows << cells;
    }
    return rows;
}

// "1,234.5 %" / "6.37 ms" / "−0.5" → the number; NaN when there is none.
double number(QString text)
{
    text.remove(',').replace(QString::fromUtf8("−"), "-");
    static const QRegularExpression first("-?[0-9]+(\\.[0-9]+)?");
    const auto m = first.match(text);
    return m.hasMatch() ? m.captured(0).toDouble() : std::nan("");
}

// Within what the report's rounding allows: `decimals` fixed decimals, or 3 significant
// digits for milliseconds (decimals < 0).
bool shows(const QString& cell, double expected, int decimals)
{
    const double got = number(cell);
    const double slack = decimals >= 0 ? 0.5 * std::pow(10.0, -decimals) + 1e-9
                                       : 0.005 * std::fabs(expected) + 0.0005;
    return std::fabs(got - expected) <= slack;
}

QString findChromium()
{
    for (const char* name : {"chromium", "chromium-browser", "google-chrome"}) {
        const QString path = QStandardPaths::findExecutable(name);
        if (!path.isEmpty())
            return path;
    }
    return {};
}

} // namespace

class TestReport : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void help();
    void tablesCarryTheEvaluatorsFigures_data();
    void tablesCarryTheEvaluatorsFigures();
    void selfContained();
    void kernelValidationSection();
    void rendersInChromium_data();
    void rendersInChromium();
    void coverKeepsTheLargestBucket();
    void withoutCompareNoRunsSection();
    void comparesTwoRuns_data();
    void comparesTwoRuns();
    void llmSection();
    void readsTrafficAsTuneDoes_data();
    void readsTrafficAsTuneDoes();
    void badInput_data();
    void badInput();

private:
    QString path(const QString& name) const { return dir_.filePath(name); }
    QTemporaryDir dir_;
    QString package_;  // the demo package, buckets 128,512
    QString html_;     // the report made in initTestCase
    QJsonObject json_; // what report --json printed for it
};

void TestReport::initTestCase()
{
    QVERIFY(dir_.isValid());
    const auto demo = runCli({"demo", "--out", path("demo"), "--verify-budget", "0", "--json"});
    QVERIFY2(demo.exitCode == 0, demo.err.constData());
    package_ = path("demo/demo_package.pt");
    QVERIFY(writeAll(path("exists.html"), "keep me"));
    QVERIFY(writeAll(path("bad_traffic.csv"), "length\n5\nfive\n"));
    QVERIFY(writeAll(path("notes.txt"), "not a model\n"));
    QVERIFY(writeAll(path("bad_trace.csv"), "ContextTokens,GeneratedTokens\n100,20\nlots,5\n"));
    QVERIFY(writeAll(path("few_lengths.csv"), "length\n10\n20\n20\n30\n"));
    // Run B as a project: a CSV whose length column is not a default name (the project's
    // options say which), a latency spec and a boundary set of its own.
    QByteArray csv = "id,request_size\n";
    for (int i = 0; i < 3000; ++i)
        csv += QByteArray::number(i) + "," + QByteArray::number(40 + (i * 7919) % 331) + "\n";
    QVERIFY(writeAll(path("b_traffic.csv"), csv));
    QVERIFY(writeAll(path("b.bucketlab.json"),
                     R"({"format": "bucketlab.project/1", "distributions": [{"name": "b",
                         "source": "b_traffic.csv", "options": {"column": "request_size"}}],
                         "latencies": [{"name": "b", "source": "linear:1.5,0.03"}],
                         "boundary_sets": [{"name": "deployed", "kind": "current",
                         "boundaries": [100, 300, 512]}]})"));
    QVERIFY(writeAll(path("empty.bucketlab.json"), R"({"format": "bucketlab.project/1"})"));
    QVERIFY(writeAll(path("dangling.bucketlab.json"),
                     R"({"format": "bucketlab.project/1", "distributions": [{"name": "b",
                         "source": "missing_b.csv"}]})"));

    const auto r = runCli({"report", "--distribution", kTraffic, "--latency", kLatency, "--current",
                           "128,512", "--buckets", "4", "--package", package_, "--batch-sizes",
                           "1,2", "--html", path("report.html"), "--json"});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QVERIFY(r.err.isEmpty());
    json_ = QJsonDocument::fromJson(r.out).object();
    QVERIFY(!json_.isEmpty());
    html_ = QString::fromUtf8(readAll(path("report.html")));
    QVERIFY(html_.startsWith("<!DOCTYPE html>"));
    QVERIFY(html_.trimmed().endsWith("</html>"));
}

void TestReport::help()
{
    const auto r = runCli({"report", "--help"});
    QCOMPARE(r.exitCode, 0);
    for (const char* option : {"--distribution",
                               "--column",
                               "--field",
                               "--vocab",
                               "--text-columns",
                               "--lowercase",
                               "--latency",
                               "--current",
                               "--tuned",
                               "--buckets",
                               "--package",
                               "--html",
                               "--json",
                               "--force",
                               "--compare",
                               "--compare-distribution",
                               "--compare-latency",
                               "--llm-traffic",
                               "--llm-buckets",
                               "--cte-latency",
                               "--tkg-latency",
                               "--max-context-length",
                               "--seq-len"})
        QVERIFY2(r.out.contains(option), option);
    // --tune, the old name of --buckets, is still accepted (see below) but no longer listed.
    QVERIFY2(!QRegularExpression("--tune(?![a-z-])").match(QString::fromUtf8(r.out)).hasMatch(),
             r.out.constData());
}

void TestReport::tablesCarryTheEvaluatorsFigures_data()
{
    QTest::addColumn<QString>("set");
    QTest::addRow("current") << "current";
    QTest::addRow("tuned") << "tuned";
}

// The per-bucket and overall tables against BucketEvaluator on the same traffic and curve,
// so a change in the evaluator or a slip in the rendering shows here.
void TestReport::tablesCarryTheEvaluatorsFigures()
{
    QFETCH(QString, set);
    const BucketEvaluator evaluator(loadDistribution(kTraffic, {}), LatencyCurve::load(kLatency));
    std::vector<int64_t> boundaries;
    for (const auto& b : json_[set].toObject()["boundaries"].toArray())
        boundaries.push_back(b.toInteger());
    if (set == "current")
        QCOMPARE(boundaries, (std::vector<int64_t>{128, 512}));
    else
        QCOMPARE(boundaries.size(), size_t(4)); // --tune 4
    const Evaluation e = evaluator.evaluate(Boundaries::from(boundaries, Field::Boundaries));

    // The JSON carries the evaluator's figures unrounded.
    const auto j = json_[set].toObject();
    QCOMPARE(j["mean_ms"].toDouble(), e.stats.meanLatencyMs);
    QCOMPARE(j["p99_ms"].toDouble(), e.stats.p99LatencyMs);
    QCOMPARE(j["waste_pct"].toDouble(), e.stats.wastePct);
    QCOMPARE(j["padded_tokens"].toInteger(), e.stats.paddedTokens);

    const auto rows = tableRows(html_, "buckets-" + set);
    QCOMPARE(rows.size(), qsizetype(e.buckets.size() + 1)); // + the total row
    for (size_t i = 0; i < e.buckets.size(); ++i) {
        const auto& b = e.buckets[i];
        const auto& cells = rows[qsizetype(i)];
        const QString where = QString("bucket %1: %2").arg(b.boundary).arg(cells.join(" | "));
        QCOMPARE(cells.size(), qsizetype(9));
        QVERIFY2(number(cells[0]) == double(b.boundary), qPrintable(where));
        QVERIFY2(QString(cells[1]).remove(QChar(',')) ==
                     QString::fromUtf8("%1–%2").arg(b.firstLength).arg(b.lastLength),
                 qPrintable(where));
        QVERIFY2(number(cells[2]) == double(b.requests), qPrintable(where));
        QVERIFY2(shows(cells[3], b.trafficPct, 1), qPrintable(where));
        QVERIFY2(number(cells[4]) == double(b.realTokens), qPrintable(where));
        QVERIFY2(number(cells[5]) == double(b.paddedTokens), qPrintable(where));
        QVERIFY2(shows(cells[6], b.wastePct, 1), qPrintable(where));
        QVERIFY2(shows(cells[7], b.latencyMs, -1), qPrintable(where));
        QVERIFY2(shows(cells[8], b.latencySharePct, 1), qPrintable(where));
    }
    const auto& total = rows.last();
    QVERIFY2(number(total[2]) == double(e.stats.served), qPrintable(total.join(" | ")));
    QVERIFY2(shows(total[6], e.stats.wastePct, 1), qPrintable(total.join(" | ")));
    QVERIFY2(shows(total[7], e.stats.meanLatencyMs, -1), qPrintable(total.join(" | ")));

    // Overall latency: mean, p50, p90, p99 in the current and tuned columns.
    const auto latency = tableRows(html_, "latency");
    QCOMPARE(latency.size(), qsizetype(4));
    const int column = set == "current" ? 1 : 2;
    const double expected[] = {e.stats.meanLatencyMs, e.stats.p50LatencyMs, e.stats.p90LatencyMs,
                               e.stats.p99LatencyMs};
    for (int i = 0; i < 4; ++i)
        QVERIFY2(shows(latency[i][column], expected[i], -1), qPrintable(latency[i].join(" | ")));
}

void TestReport::selfContained()
{
    // Nothing to fetch: no scripts, no external stylesheets, fonts or images, no links out.
    QVERIFY(!html_.contains("<script", Qt::CaseInsensitive));
    QVERIFY(!html_.contains("<link", Qt::CaseInsensitive));
    QVERIFY(!html_.contains("<img", Qt::CaseInsensitive));
    QVERIFY(!html_.contains("@import", Qt::CaseInsensitive));
    static const QRegularExpression remote(
        "(src|href|xlink:href)\\s*=\\s*[\"']?\\s*(https?:)?//|url\\(\\s*[\"']?\\s*(https?:)?//",
        QRegularExpression::CaseInsensitiveOption);
    const auto m = remote.match(html_);
    QVERIFY2(!m.hasMatch(), qPrintable(m.captured(0)));
    QVERIFY(!html_.contains("http://") && !html_.contains("https://"));
    // The plots are inline SVG: traffic, two token panels, latency, Pareto front.
    QVERIFY(html_.count("<svg") >= 5);
    QCOMPARE(html_.count("<svg"), html_.count("</svg>"));
    // Light, dark and print.
    QVERIFY(html_.contains("prefers-color-scheme: dark"));
    QVERIFY(html_.contains("@media print"));
    // Baselines and environment.
    QCOMPARE(tableRows(html_, "baselines").size() >= 4, true);
    for (const char* text : {"Powers of two", "Equal traffic per bucket", "Uniform widths",
                             "LibTorch", "Host", "Threads", "CPU", "SHA-256"})
        QVERIFY2(html_.contains(text), text);
    // The package is an input with its size and SHA-256.
    const auto inputs = json_["inputs"].toArray();
    QCOMPARE(inputs.size(), qsizetype(3));
    const QString sha = inputs[2].toObject()["sha256"].toString();
    QCOMPARE(sha.size(), qsizetype(64));
    QVERIFY(html_.contains(sha));
}

void TestReport::kernelValidationSection()
{
    const auto checks = json_["kernel_checks"].toArray();
    QCOMPARE(checks.size(), qsizetype(2)); // the generated kernel and the package's own
    for (const auto& c : checks) {
        const auto o = c.toObject();
        QVERIFY2(o["ok"].toBool(), qPrintable(QJsonDocument(o).toJson()));
        QVERIFY(o["calls"].toInteger() > 0);
    }
    // The package's kernel found its own buckets by running them.
    const auto own = checks[1].toObject();
    QCOMPARE(own["boundaries"].toArray(), (QJsonArray{128, 512}));
    QVERIFY(html_.contains("Kernel of demo_package.pt"));
    QVERIFY(html_.contains("<span class=\"badge ok\">clean</span>"));
}

void TestReport::rendersInChromium_data()
{
    QTest::addColumn<bool>("dark");
    QTest::addRow("light") << false;
    QTest::addRow("dark") << true;
}

void TestReport::rendersInChromium()
{
    QFETCH(bool, dark);
    const QString chromium = findChromium();
    if (chromium.isEmpty())
        QSKIP("chromium not found (scripts/setup.sh installs Debian's chromium)");
    const QString png = path(dark ? "report-dark.png" : "report-light.png");
    QStringList args{
        "--headless",          "--disable-gpu",
        "--no-sandbox",        "--hide-scrollbars",
        "--no-first-run",      "--user-data-dir=" + path(dark ? "chromium-dark" : "chromium-light"),
        "--screenshot=" + png, "--window-size=1280,2000"};
    if (dark)
        args << "--force-dark-mode"
             << "--blink-settings=preferredColorScheme=0";
    args << QUrl::fromLocalFile(path("report.html")).toString();
    const auto r = runProcess(chromium, args, 120000);
    QVERIFY2(r.finished && r.exitCode == 0, r.err.constData());
    if (qEnvironmentVariableIsSet("BUCKETLAB_KEEP_SCREENSHOTS"))
        QFile::copy(png, qEnvironmentVariable("BUCKETLAB_KEEP_SCREENSHOTS") + "/" +
                             QFileInfo(png).fileName());

    QImage image(png);
    QVERIFY2(!image.isNull(), qPrintable(png));
    QCOMPARE(image.size(), QSize(1280, 2000));
    // Not blank: text, plots and coloured markers make many distinct colours, and a good
    // share of the page is not background.
    QSet<QRgb> colours;
    const QRgb background = image.pixel(2, 2);
    qint64 ink = 0;
    for (int y = 0; y < image.height(); y += 2)
        for (int x = 0; x < image.width(); x += 2) {
            const QRgb p = image.pixel(x, y);
            colours.insert(p);
            ink += p != background;
        }
    QVERIFY2(colours.size() > 200, qPrintable(QString::number(colours.size())));
    const double inkShare = double(ink) / (double(image.width()) * image.height() / 4);
    QVERIFY2(inkShare > 0.03, qPrintable(QString::number(inkShare)));
    // The page follows the colour scheme: a light or a dark background.
    QCOMPARE(qGray(background) < 80, dark);
}

void TestReport::coverKeepsTheLargestBucket()
{
    // Traffic that stops at 300 and a current set serving up to 512: by default the tuned set
    // keeps 512; shrinking the served range is a choice, and the headline then says what it
    // refuses.
    const QStringList base = {"report",
                              "--distribution",
                              "uniform:max=300,n=5000,seed=1",
                              "--latency",
                              kLatency,
                              "--current",
                              "128,512",
                              "--tune",
                              "3",
                              "--no-kernel-check",
                              "--json"};
    const auto kept = runCli(base + QStringList{"--html", path("kept.html")});
    QVERIFY2(kept.exitCode == 0, kept.err.constData());
    const auto k = QJsonDocument::fromJson(kept.out).object();
    const auto b = k["tuned"].toObject()["boundaries"].toArray();
    QCOMPARE(b.size(), 3);
    QCOMPARE(b.last().toInt(), 512);
    QVERIFY(b[1].toInt() <= 300);
    QCOMPARE(k["served_range"].toObject()["shrinks"].toBool(), false);
    QVERIFY(!k["summary"].toString().contains("REFUSE"));

    const auto traffic = runCli(base + QStringList{"--cover", "traffic", "--html", path("t.html")});
    QVERIFY2(traffic.exitCode == 0, traffic.err.constData());
    const auto t = QJsonDocument::fromJson(traffic.out).object();
    QCOMPARE(t["tuned"].toObject()["boundaries"].toArray().last().toInt(), 300);
    QCOMPARE(t["served_range"].toObject()["shrinks"].toBool(), true);
    QVERIFY2(t["summary"].toString().contains("up to 300 only"),
             qPrintable(t["summary"].toString()));
    QVERIFY(readAll(path("t.html")).contains("served range shrinks"));
    QVERIFY(readAll(path("t.html")).contains("--cover traffic"));

    const auto cut = runCli(base + QStringList{"--cover", "200", "--html", path("cut.html")});
    QVERIFY2(cut.exitCode == 0, cut.err.constData());
    const auto c = QJsonDocument::fromJson(cut.out).object();
    const auto range = c["served_range"].toObject();
    QVERIFY(range["refused_requests"].toInteger() > 0);
    const QString headline = c["summary"].toString();
    QVERIFY2(headline.startsWith("Tuned boundaries") && headline.contains("REFUSE"),
             qPrintable(headline));
    QVERIFY2(headline.contains("lengths 201–300"), qPrintable(headline));
    const QString html = readAll(path("cut.html"));
    QVERIFY(html.contains("headline refuses"));
}

void TestReport::withoutCompareNoRunsSection()
{
    QVERIFY(json_.contains("compare"));
    QVERIFY(json_["compare"].isNull());
    QVERIFY(!html_.contains("id=\"runs\""));
    QVERIFY(html_.contains("Figure 4. Pareto front"));
}

void TestReport::comparesTwoRuns_data()
{
    QTest::addColumn<QStringList>("compare"); // DIR/ substituted
    QTest::addColumn<QString>("trafficB");    // as loadDistribution reads it; DIR/ substituted
    QTest::addColumn<QString>("columnB");
    QTest::addColumn<QString>("latencyB");
    QTest::addColumn<QStringList>("setNames"); // besides the report's own sets
    QTest::addRow("another traffic")
        << QStringList{"--compare-distribution", kTrafficB} << kTrafficB << "" << kLatency
        << QStringList{"Optimum for run B"};
    QTest::addRow("another latency") << QStringList{"--compare-latency", kLatencyB} << kTraffic
                                     << "" << kLatencyB << QStringList{"Optimum for run B"};
    QTest::addRow("another traffic and latency")
        << QStringList{"--compare-distribution", kTrafficB, "--compare-latency", kLatencyB}
        << kTrafficB << "" << kLatencyB << QStringList{"Optimum for run B"};
    QTest::addRow("a project") << QStringList{"--compare", "DIR/b.bucketlab.json"}
                               << "DIR/b_traffic.csv"
                               << "request_size"
                               << "linear:1.5,0.03"
                               << QStringList{"Optimum for run B", "Run B's 'deployed'"};
}

// Every set priced on both runs carries the evaluator's figures on each run; the best set on
// each run is no worse than any other there; the headline for run A is unchanged.
void TestReport::comparesTwoRuns()
{
    QFETCH(QStringList, compare);
    QFETCH(QString, trafficB);
    QFETCH(QString, columnB);
    QFETCH(QString, latencyB);
    QFETCH(QStringList, setNames);
    for (auto& a : compare)
        if (a.startsWith("DIR/"))
            a = path(a.mid(4));
    if (trafficB.startsWith("DIR/"))
        trafficB = path(trafficB.mid(4));
    const QStringList base{"report", "--distribution",    kTraffic,  "--latency",
                           kLatency, "--current",         "128,512", "--tune",
                           "3",      "--no-kernel-check", "--json",  "--force"};
    const auto alone = runCli(base + QStringList{"--html", path("alone.html")});
    QVERIFY2(alone.exitCode == 0, alone.err.constData());
    const auto single = QJsonDocument::fromJson(alone.out).object();
    const QString html =
        path(QString("compare-%1.html").arg(QTest::currentDataTag()).replace(' ', '-'));
    const auto r = runCli(base + compare + QStringList{"--html", html});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QVERIFY(r.err.isEmpty());
    const auto j = QJsonDocument::fromJson(r.out).object();
    QCOMPARE(j["summary"].toString(), single["summary"].toString());
    QCOMPARE(j["tuned"].toObject()["boundaries"], single["tuned"].toObject()["boundaries"]);
    const auto cmp = j["compare"].toObject();
    QVERIFY(!cmp.isEmpty());

    const BucketEvaluator onA(loadDistribution(kTraffic, {}), LatencyCurve::load(kLatency));
    DistributionOptions o;
    o.column = columnB.toStdString();
    const BucketEvaluator onB(loadDistribution(trafficB.toStdString(), o),
                              LatencyCurve::load(latencyB.toStdString()));
    QCOMPARE(cmp["runs"].toObject()["b"].toObject()["requests"].toInteger(),
             onB.histogram().total());

    const auto sets = cmp["sets"].toArray();
    QStringList names, alsoNames; // rows, and sets shown in a row of the same boundaries
    for (const auto& v : sets) {
        names << v.toObject()["name"].toString();
        for (const auto& also : v.toObject()["note"].toString().split("; "))
            if (also.startsWith("also "))
                alsoNames << also.mid(5);
    }
    for (const char* name : {"Current", "Tuned", "Powers of two (NxD default)",
                             "Equal traffic per bucket", "Uniform widths"})
        QVERIFY2(names.contains(name), qPrintable(names.join(", ")));
    for (const auto& name : setNames)
        QVERIFY2(names.contains(name) || alsoNames.contains(name),
                 qPrintable(names.join(", ") + " / " + alsoNames.join(", ")));
    QCOMPARE(names[0], QString("Current"));
    QCOMPARE(names[1], QString("Tuned"));

    const auto rows = tableRows(readAll(html), "compare-sets");
    QCOMPARE(rows.size(), sets.size());
    std::vector<Evaluation> evalA, evalB;
    for (qsizetype i = 0; i < sets.size(); ++i) {
        const auto set = sets[i].toObject();
        std::vector<int64_t> b;
        for (const auto& v : set["boundaries"].toArray())
            b.push_back(v.toInteger());
        const auto boundaries = Boundaries::from(b, Field::Boundaries);
        evalA.push_back(onA.evaluate(boundaries));
        evalB.push_back(onB.evaluate(boundaries));
        const QString where = set["name"].toString();
        for (const auto& [run, e] :
             {std::pair<QString, const Evaluation*>{"a", &evalA.back()}, {"b", &evalB.back()}}) {
            const auto f = set[run].toObject();
            QVERIFY2(f["mean_ms"].toDouble() == e->stats.meanLatencyMs, qPrintable(where));
            QVERIFY2(f["p99_ms"].toDouble() == e->stats.p99LatencyMs, qPrintable(where));
            QVERIFY2(f["waste_pct"].toDouble() == e->stats.wastePct, qPrintable(where));
            QVERIFY2(f["rejected_pct"].toDouble() == e->stats.rejectedPct, qPrintable(where));
        }
        const auto d = set["difference"].toObject();
        QCOMPARE(d["mean_ms"].toDouble(),
                 evalB.back().stats.meanLatencyMs - evalA.back().stats.meanLatencyMs);
        // The HTML row: A, B and B − A for the mean, p99, waste and rejected share.
        const auto& cells = rows[i];
        QCOMPARE(cells.size(), qsizetype(13));
        QVERIFY2(QString(cells[0]).replace("&#39;", "'").startsWith(where),
                 qPrintable(cells.join(" | ")));
        const auto& a = evalA.back().stats;
        const auto& bs = evalB.back().stats;
        QVERIFY2(shows(cells[1], a.meanLatencyMs, -1), qPrintable(cells.join(" | ")));
        QVERIFY2(shows(cells[2], bs.meanLatencyMs, -1), qPrintable(cells.join(" | ")));
        QVERIFY2(shows(cells[4], a.p99LatencyMs, -1), qPrintable(cells.join(" | ")));
        QVERIFY2(shows(cells[5], bs.p99LatencyMs, -1), qPrintable(cells.join(" | ")));
        QVERIFY2(shows(cells[7], a.wastePct, 1), qPrintable(cells.join(" | ")));
        QVERIFY2(shows(cells[8], bs.wastePct, 1), qPrintable(cells.join(" | ")));
        QVERIFY2(shows(cells[9], bs.wastePct - a.wastePct, 1), qPrintable(cells.join(" | ")));
        QVERIFY2(shows(cells[11], bs.rejectedPct, 1), qPrintable(cells.join(" | ")));
    }
    // The best set on each run: no other rejects fewer requests there, or rejects as few
    // and is faster.
    const auto best = cmp["best"].toObject();
    for (const auto& [run, evals] :
         {std::pair<QString, const std::vector<Evaluation>*>{"a", &evalA}, {"b", &evalB}}) {
        const qsizetype k = names.indexOf(best[run].toString());
        QVERIFY2(k >= 0, qPrintable(best[run].toString()));
        const auto& winner = (*evals)[size_t(k)].stats;
        for (const auto& e : *evals) {
            QVERIFY(winner.rejected <= e.stats.rejected);
            if (winner.rejected == e.stats.rejected)
                QVERIFY2(winner.meanLatencyMs <= e.stats.meanLatencyMs * 1.0005,
                         qPrintable(run + ": " + best[run].toString()));
        }
        QVERIFY2(rows[k][run == "a" ? 1 : 2].contains(QString::fromUtf8("★")),
                 qPrintable(rows[k].join(" | ")));
    }
    // The plain sentence names the verdict on each run and the best sets.
    const QString sentence = cmp["summary"].toString();
    QVERIFY2(sentence.startsWith("Tuned boundaries") && sentence.contains("run B"),
             qPrintable(sentence));
    QVERIFY2(sentence.contains(best["b"].toString()), qPrintable(sentence));
    const bool tunedBetterOnB = evalB[1].stats.rejected < evalB[0].stats.rejected ||
                                (evalB[1].stats.rejected == evalB[0].stats.rejected &&
                                 evalB[1].stats.meanLatencyMs < evalB[0].stats.meanLatencyMs);
    QVERIFY2(sentence.contains(tunedBetterOnB ? "beat the current ones" : "lose to") ||
                 sentence.contains("match"),
             qPrintable(sentence));

    // Both charts, each run labelled; a run's own traffic or curve only when it has one.
    const QString page = readAll(html);
    QVERIFY(page.contains("id=\"runs\""));
    QVERIFY(page.contains("aria-label=\"Traffic of run A and run B"));
    QVERIFY(page.contains("aria-label=\"Latency curves of run A and run B"));
    const bool sameTraffic = cmp["runs"].toObject()["b"].toObject()["same_traffic"].toBool();
    const bool sameLatency = cmp["runs"].toObject()["b"].toObject()["same_latency"].toBool();
    QCOMPARE(sameTraffic, trafficB == kTraffic);
    QCOMPARE(sameLatency, latencyB == kLatency);
    QCOMPARE(page.contains("<polyline class=\"run-b-line\""), !sameTraffic);
    QCOMPARE(page.contains("<polyline class=\"run-b-curve\""), !sameLatency);
    QVERIFY(page.contains(sameTraffic ? ">A and B: " : ">B: "));
    QVERIFY(page.contains("Figure 6. Pareto front"));
    QCOMPARE(page.count("<svg"), html_.count("<svg") + 2);
    // Run B's files are inputs of the report, with their checksums.
    QStringList roles;
    for (const auto& v : j["inputs"].toArray())
        roles << v.toObject()["role"].toString();
    QCOMPARE(roles.contains("run B traffic"), !sameTraffic);
    QCOMPARE(roles.contains("run B project"), compare.contains("--compare"));
}

// With request traffic, the report gains the LLM serving section: its figures are those
// `bucketlab-cli llm` computes for the same options (both from core/llm), the JSON has an
// "llm" object, and the file stays self-contained.
void TestReport::llmSection()
{
    const QString trace =
        QStringLiteral(BUCKETLAB_SOURCE_DIR "/resources/llm/azure_code_pairs.csv");
    const QStringList llmOptions{"--cte-latency",
                                 "poly:8,0.025,0.0000025",
                                 "--tkg-latency",
                                 "linear:9,0.0004",
                                 "--max-context-length",
                                 "8192",
                                 "--seq-len",
                                 "10240"};
    const auto r =
        runCli(QStringList{"report", "--distribution", kTraffic, "--latency", kLatency, "--current",
                           "128,512", "--no-kernel-check", "--llm-traffic", trace, "--llm-buckets",
                           "14", "--html", path("llm_report.html"), "--json"} +
               llmOptions);
    QVERIFY2(r.exitCode == 0, r.err.constData());
    const QJsonObject j = QJsonDocument::fromJson(r.out).object();
    QVERIFY(j["llm"].isObject());
    const QJsonObject llm = j["llm"].toObject();

    const auto direct =
        runCli(QStringList{"llm", "--traffic", trace, "--buckets", "14", "--json"} + llmOptions);
    QVERIFY2(direct.exitCode == 0, direct.err.constData());
    const QJsonObject d = QJsonDocument::fromJson(direct.out).object();
    for (const char* key : {"cte_buckets", "tkg_buckets", "mean_request_ms", "mean_ttft_ms",
                            "p99_ttft_ms", "models", "baselines"})
        QVERIFY2(llm[key] == d[key], key);
    QVERIFY(llm["nxd_config"].isObject());
    QCOMPARE(llm["nxd_config"].toObject()["context_encoding_buckets"], d["cte_buckets"]);
    QVERIFY(llm["config_violations"].toArray().isEmpty());
    QCOMPARE(llm["traffic"].toObject()["source"].toString(), trace);

    const QString html = QString::fromUtf8(readAll(path("llm_report.html")));
    QVERIFY(html.contains("<h2 id=\"llm\">LLM serving buckets</h2>"));
    // The recommended row and the NxD default row carry the JSON's figures (formatted).
    const auto joined = [](const QJsonArray& a) {
        QStringList out;
        for (const auto& v : a)
            out << QString::number(v.toInteger());
        return out.join(", ");
    };
    QVERIFY(html.contains("<td class=\"l\">" + joined(llm["cte_buckets"].toArray()) + "</td>"));
    QJsonObject nxd;
    for (const auto& b : llm["baselines"].toArray())
        if (b.toObject()["name"] == "nxd_default")
            nxd = b.toObject();
    QVERIFY(!nxd.isEmpty());
    QVERIFY(html.contains("<td class=\"l\">" + joined(nxd["tkg_buckets"].toArray()) + "</td>"));
    const double gain = nxd["tuned_gain_pct"].toDouble();
    QVERIFY(gain > 0);
    QVERIFY2(html.contains(QString::number(gain, 'f', 1) + " %"),
             qPrintable(QString::number(gain)));
    // Self-contained still, with the LLM charts inline, and the inputs recorded.
    QVERIFY(!html.contains("<script", Qt::CaseInsensitive));
    QVERIFY(!html.contains("http://") && !html.contains("https://"));
    QCOMPARE(html.count("<svg"), html.count("</svg>"));
    QVERIFY(html.count("<svg") >= 8);
    QVERIFY(html.contains("context_encoding_buckets"));
    QStringList roles;
    for (const auto& in : j["inputs"].toArray())
        roles << in.toObject()["role"].toString();
    QVERIFY2(roles.contains("llm traffic"), qPrintable(roles.join(",")));
    // Without request traffic there is no section and "llm" is null.
    QVERIFY(json_["llm"].isNull());
    QVERIFY(!html_.contains("id=\"llm\""));
}

void TestReport::readsTrafficAsTuneDoes_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<QStringList>("readOptions");
    QTest::addRow("JSONL field") << "traffic.jsonl" << QStringList{"--field", "n_tokens"};
    QTest::addRow("CSV column") << "traffic.jsonl.csv" << QStringList{"--column", "size"};
    QTest::addRow("sentence pairs, WordPiece")
        << "pairs.tsv" << QStringList{"--vocab", "VOCAB", "--text-columns", "first,second"};
    QTest::addRow("lower-cased texts, WordPiece")
        << "texts.txt" << QStringList{"--vocab", "VOCAB", "--lowercase"};
}

// The report reads its traffic with tune's options (--column, --field, --vocab with
// --text-columns and --lowercase): its figures are the evaluator's on what loadDistribution
// reads with those options, tune reads the same traffic, and the reproduction command in the
// report's environment carries them.
void TestReport::readsTrafficAsTuneDoes()
{
    QFETCH(QString, file);
    QFETCH(QStringList, readOptions);
    // Files written once for every row: lengths 3..200, and texts of a few to many words.
    if (!QFile::exists(path("traffic.jsonl"))) {
        QByteArray jsonl, csv = "id,size\n", pairs = "id\tfirst\tsecond\n", texts;
        for (int i = 0; i < 400; ++i) {
            const int length = 3 + (i * 37) % 198;
            jsonl += "{\"id\": " + QByteArray::number(i) +
                     ", \"n_tokens\": " + QByteArray::number(length) + "}\n";
            csv += QByteArray::number(i) + "," + QByteArray::number(length) + "\n";
            QByteArray words;
            for (int w = 0; w < 1 + (i * 13) % 40; ++w)
                words += w % 3 ? "Hello world, " : "Bucketing ";
            pairs += QByteArray::number(i) + "\t" + words + "\tA reply of " +
                     QByteArray::number(i) + " words.\n";
            texts += words + "\n";
        }
        QVERIFY(writeAll(path("traffic.jsonl"), jsonl));
        QVERIFY(writeAll(path("traffic.jsonl.csv"), csv));
        QVERIFY(writeAll(path("pairs.tsv"), pairs));
        QVERIFY(writeAll(path("texts.txt"), texts));
    }
    for (auto& a : readOptions)
        if (a == "VOCAB")
            a = dataPath("bert-base-cased-vocab.txt");
    const QString traffic = path(file);
    DistributionOptions read;
    for (int i = 0; i < readOptions.size(); ++i) {
        const QString& o = readOptions[i];
        if (o == "--lowercase")
            read.lowercase = true;
        else if (o == "--column")
            read.column = s(readOptions[++i]);
        else if (o == "--field")
            read.field = s(readOptions[++i]);
        else if (o == "--vocab")
            read.vocab = s(readOptions[++i]);
        else if (o == "--text-columns")
            for (const auto& c : readOptions[++i].split(','))
                read.textColumns.push_back(s(c));
    }
    const LengthHistogram expectedTraffic = loadDistribution(s(traffic), read);
    const BucketEvaluator evaluator(expectedTraffic, LatencyCurve::load(kLatency));
    const Evaluation e = evaluator.evaluate(Boundaries::from({128, 512}, Field::Boundaries));
    QVERIFY(e.stats.served > 0);

    const QString html =
        path("read_" + QString(QTest::currentDataTag()).replace(' ', '_') + ".html");
    const auto r =
        runCli(QStringList{"report", "--distribution", traffic} + readOptions +
               QStringList{"--latency", kLatency, "--current", "128,512", "--buckets", "3",
                           "--no-kernel-check", "--html", html, "--force", "--json"});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    const QJsonObject report = QJsonDocument::fromJson(r.out).object();
    const QJsonObject current = report["current"].toObject();
    // A vocabulary is an input of the report like the traffic: listed with its hash.
    QStringList roles;
    for (const auto& in : report["inputs"].toArray())
        roles << in.toObject()["role"].toString();
    QCOMPARE(roles.contains("vocabulary"), readOptions.contains("--vocab"));
    QCOMPARE(current["mean_ms"].toDouble(), e.stats.meanLatencyMs);
    QCOMPARE(current["padded_tokens"].toInteger(), e.stats.paddedTokens);

    // tune reads the same traffic: its current set's figures are the same.
    const auto t = runCli(
        QStringList{"tune", "--distribution", traffic} + readOptions +
        QStringList{"--latency", kLatency, "--current", "128,512", "--buckets", "3", "--json"});
    QVERIFY2(t.exitCode == 0, t.err.constData());
    QJsonObject tuneCurrent;
    for (const auto& b : QJsonDocument::fromJson(t.out).object()["baselines"].toArray())
        if (b.toObject()["name"].toString() == "current")
            tuneCurrent = b.toObject()["stats"].toObject();
    QVERIFY2(!tuneCurrent.isEmpty(), t.out.constData());
    QCOMPARE(tuneCurrent["mean_latency_ms"].toDouble(), e.stats.meanLatencyMs);
    QCOMPARE(tuneCurrent["padded_tokens"].toInteger(), e.stats.paddedTokens);

    // The environment's command line makes the same report again.
    const QString page = QString::fromUtf8(readAll(html));
    for (const auto& o : readOptions)
        if (o.startsWith("--"))
            QVERIFY2(page.contains(o), qPrintable(o));
}

void TestReport::badInput_data()
{
    QTest::addColumn<QStringList>("args"); // DIR/ and PKG are substituted
    QTest::addColumn<QString>("mentions");
    const QStringList base{"report", "--latency", kLatency, "--current", "128,512"};
    QTest::addRow("missing traffic file")
        << base + QStringList{"--distribution", "DIR/nope.csv", "--html", "DIR/out.html"}
        << "nope.csv";
    QTest::addRow("traffic file with a bad line")
        << base + QStringList{"--distribution", "DIR/bad_traffic.csv", "--html", "DIR/out.html"}
        << "bad_traffic.csv:3";
    QTest::addRow("descending current boundaries")
        << QStringList{"report",    "--distribution", kTraffic, "--latency",   kLatency,
                       "--current", "512,128",        "--html", "DIR/out.html"}
        << "must ascend";
    QTest::addRow("zero tuned boundary")
        << base +
               QStringList{"--distribution", kTraffic, "--tuned", "0,512", "--html", "DIR/out.html"}
        << "--tuned: '0' is not positive";
    QTest::addRow("tuned and tune together")
        << base + QStringList{"--distribution", kTraffic, "--tuned", "64,512",
                              "--tune",         "3",      "--html",  "DIR/out.html"}
        << "excludes";
    QTest::addRow("more buckets than lengths")
        << base + QStringList{"--distribution", "DIR/few_lengths.csv", "--tune", "5",
                              "--html",         "DIR/out.html"}
        << "--buckets is 5 but the traffic has only 3 distinct lengths";
    QTest::addRow("bad latency spec")
        << QStringList{"report",    "--distribution", kTraffic, "--latency",   "linear:x",
                       "--current", "128,512",        "--html", "DIR/out.html"}
        << "linear:x";
    QTest::addRow("not a package") << base + QStringList{"--distribution", kTraffic, "--package",
                                                         "DIR/notes.txt",  "--html", "DIR/out.html"}
                                   << "notes.txt";
    QTest::addRow("unwritable output")
        << base + QStringList{"--distribution", kTraffic, "--html", "/proc/report.html"}
        << "not writable";
    QTest::addRow("existing output without --force")
        << base + QStringList{"--distribution", kTraffic, "--html", "DIR/exists.html"}
        << "exists.html already exists (--force replaces it)";
    QTest::addRow("output is an input")
        << base + QStringList{"--distribution", kTraffic, "--package", "PKG",
                              "--html",         "PKG",    "--force"}
        << "also an input";
    QTest::addRow("missing --html") << base + QStringList{"--distribution", kTraffic} << "--html";
    const QStringList compare = base + QStringList{"--distribution", kTraffic, "--no-kernel-check",
                                                   "--html", "DIR/out.html"};
    QTest::addRow("compare: missing traffic file")
        << compare + QStringList{"--compare-distribution", "DIR/nope_b.csv"} << "nope_b.csv";
    QTest::addRow("compare: traffic file with a bad line")
        << compare + QStringList{"--compare-distribution", "DIR/bad_traffic.csv"}
        << "bad_traffic.csv:3";
    QTest::addRow("compare: bad latency spec")
        << compare + QStringList{"--compare-latency", "linear:y"} << "linear:y";
    QTest::addRow("compare: a file that is not a project")
        << compare + QStringList{"--compare", "DIR/notes.txt"} << "notes.txt: not valid JSON";
    QTest::addRow("compare: a traffic file given as a project")
        << compare + QStringList{"--compare", "DIR/few_lengths.csv"} << "--compare-distribution";
    QTest::addRow("compare: missing project")
        << compare + QStringList{"--compare", "DIR/gone.bucketlab.json"} << "gone.bucketlab.json";
    QTest::addRow("compare: project with nothing to compare")
        << compare + QStringList{"--compare", "DIR/empty.bucketlab.json"}
        << "empty.bucketlab.json: gives neither a traffic distribution nor a latency source";
    QTest::addRow("compare: project whose traffic file is missing")
        << compare + QStringList{"--compare", "DIR/dangling.bucketlab.json"} << "missing_b.csv";
    QTest::addRow("compare: project and another traffic together")
        << compare +
               QStringList{"--compare", "DIR/b.bucketlab.json", "--compare-distribution", kTrafficB}
        << "excludes";
    const QStringList llm =
        compare +
        QStringList{"--cte-latency",        "linear:5,0.01", "--tkg-latency", "linear:8,0.001",
                    "--max-context-length", "4096",          "--seq-len",     "8192"};
    QTest::addRow("llm: missing trace")
        << llm + QStringList{"--llm-traffic", "DIR/nope_trace.csv"} << "--llm-traffic";
    QTest::addRow("llm: missing trace names the file")
        << llm + QStringList{"--llm-traffic", "DIR/nope_trace.csv"} << "nope_trace.csv";
    QTest::addRow("llm: trace without its curves")
        << compare + QStringList{"--llm-traffic", "DIR/few_lengths.csv"}
        << "--llm-traffic needs --cte-latency";
    QTest::addRow("llm: buckets without a trace")
        << compare + QStringList{"--llm-buckets", "6"} << "--llm-buckets needs --llm-traffic";
    QTest::addRow("llm: trace with a bad line")
        << llm + QStringList{"--llm-traffic", "DIR/bad_trace.csv"} << "bad_trace.csv:3";
    QTest::addRow("text columns without a vocabulary")
        << base + QStringList{"--distribution",    "DIR/few_lengths.csv",
                              "--text-columns",    "1",
                              "--no-kernel-check", "--html",
                              "DIR/out.html"}
        << "--text-columns needs --vocab";
    QTest::addRow("missing vocabulary")
        << base + QStringList{"--distribution",     "DIR/notes.txt",     "--vocab",
                              "DIR/nope_vocab.txt", "--no-kernel-check", "--html",
                              "DIR/out.html"}
        << "nope_vocab.txt";
    QTest::addRow("compare: with kernel checks, bad latency")
        << base + QStringList{"--distribution", kTraffic, "--compare-latency",
                              "DIR/nope.json",  "--html", "DIR/out.html"}
        << "nope.json";
}

void TestReport::badInput()
{
    QFETCH(QStringList, args);
    QFETCH(QString, mentions);
    for (auto& a : args) {
        if (a == "PKG")
            a = package_;
        else if (a.startsWith("DIR/"))
            a = path(a.mid(4));
    }
    const QByteArray packageBefore = readAll(package_);
    const auto before = entries(dir_.path());
    const auto r = runCli(args);
    QCOMPARE(r.exitCode, 2);
    const QString err = QString::fromUtf8(r.err).trimmed();
    QVERIFY2(err.contains(mentions), qPrintable(err));
    QVERIFY2(!err.contains('\n'), qPrintable("more than one line: " + err));
    QVERIFY(r.out.isEmpty());
    QCOMPARE(entries(dir_.path()), before); // no report, no temporary file
    QCOMPARE(readAll(path("exists.html")), QByteArray("keep me"));
    QCOMPARE(readAll(package_), packageBefore);
}

QTEST_GUILESS_MAIN(TestReport)
#include "tst_report.moc"
