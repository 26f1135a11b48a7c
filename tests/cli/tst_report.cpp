// `bucketlab-cli report`: one self-contained HTML file whose tables carry the core evaluator's
// figures, that loads nothing from anywhere, that headless Chromium renders into a real
// picture, and that is never left half-written when the input is bad.
#include "core/latency/latency_curve.h"
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
    QVERIFY(writeAll(path("few_lengths.csv"), "length\n10\n20\n20\n30\n"));

    const auto r = runCli({"report", "--distribution", kTraffic, "--latency", kLatency, "--current",
                           "128,512", "--tune", "4", "--package", package_, "--batch-sizes", "1,2",
                           "--html", path("report.html"), "--json"});
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
    for (const char* option : {"--distribution", "--latency", "--current", "--tuned", "--tune",
                               "--package", "--html", "--json", "--force"})
        QVERIFY2(r.out.contains(option), option);
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
