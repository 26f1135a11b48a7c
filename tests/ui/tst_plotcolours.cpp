// Colours in the Buckets view as a user reads them: a bucket keeps its colour when a boundary
// is added, each boundary set has one colour (current and tuned as in the HTML report), the
// padding and the latency a bucket pays use no set's colour, baselines are labelled, the log
// axis has labels below 100, the largest handle's label is not cut off, and all of it stays
// readable in a dark palette and for colour-blind readers (simulated).
#include "core/latency/latency_curve.h"
#include "core/report/html_report.h"
#include "core/report/report_builder.h"
#include "core/traffic/length_histogram.h"
#include "guitest.h"
#include "ui/models/buckettablemodel.h"
#include "ui/models/palette.h"
#include "ui/models/session.h"
#include "ui/views/bucketsview.h"
#include "ui/views/mainwindow.h"
#include "ui/views/plot.h"

#include <QCheckBox>
#include <QDir>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTabWidget>

#include <array>
#include <cmath>
#include <random>

using namespace bucketlab;
using namespace bucketlab::ui;

namespace {

LengthHistogram lognormalTraffic(int64_t minLength, int64_t maxLength, uint64_t seed)
{
    std::mt19937_64 rng(seed);
    std::lognormal_distribution<double> d(4.2, 0.6);
    std::vector<std::pair<int64_t, int64_t>> counts;
    for (int i = 0; i < 20000; ++i)
        counts.emplace_back(std::clamp<int64_t>(int64_t(d(rng)), minLength, maxLength), 1);
    return LengthHistogram::fromCounts(counts);
}

QPalette darkPalette()
{
    QPalette p;
    p.setColor(QPalette::Window, QColor(0x2b2b2b));
    p.setColor(QPalette::WindowText, QColor(0xe0e0e0));
    p.setColor(QPalette::Base, QColor(0x1e1e1e));
    p.setColor(QPalette::AlternateBase, QColor(0x262626));
    p.setColor(QPalette::Text, QColor(0xe0e0e0));
    p.setColor(QPalette::Button, QColor(0x353535));
    p.setColor(QPalette::ButtonText, QColor(0xe0e0e0));
    p.setColor(QPalette::PlaceholderText, QColor(0x9a9a9a));
    for (auto role : {QPalette::WindowText, QPalette::Text, QPalette::ButtonText})
        p.setColor(QPalette::Disabled, role, QColor(0x7a7a7a));
    return p;
}

QColor opaque(QColor c)
{
    c.setAlpha(255);
    return c;
}

// Colour-vision deficiency, simulated (Machado, Oliveira, Fernandes 2009, severity 1.0, on
// linear RGB), and the CIE76 distance in L*a*b* between what such a reader sees.
using Matrix = std::array<std::array<double, 3>, 3>;
const Matrix kNormal{{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}};
const Matrix kProtan{{{0.152286, 1.052583, -0.204868},
                      {0.114503, 0.786281, 0.099216},
                      {-0.003882, -0.048116, 1.051998}}};
const Matrix kDeutan{{{0.367322, 0.860646, -0.227968},
                      {0.280085, 0.672501, 0.047413},
                      {-0.011820, 0.042940, 0.968881}}};
const Matrix kTritan{{{1.255528, -0.076749, -0.178779},
                      {-0.078411, 0.930809, 0.147602},
                      {0.004733, 0.691367, 0.303900}}};

std::array<double, 3> seenLab(const QColor& c, const Matrix& m)
{
    auto lin = [](double v) {
        return v <= 0.04045 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4);
    };
    const std::array<double, 3> rgb{lin(c.redF()), lin(c.greenF()), lin(c.blueF())};
    std::array<double, 3> s{};
    for (int i = 0; i < 3; ++i)
        s[size_t(i)] = std::clamp(m[size_t(i)][0] * rgb[0] + m[size_t(i)][1] * rgb[1] +
                                      m[size_t(i)][2] * rgb[2],
                                  0.0, 1.0);
    const double x = (0.4124 * s[0] + 0.3576 * s[1] + 0.1805 * s[2]) / 0.9505;
    const double y = 0.2126 * s[0] + 0.7152 * s[1] + 0.0722 * s[2];
    const double z = (0.0193 * s[0] + 0.1192 * s[1] + 0.9505 * s[2]) / 1.089;
    auto f = [](double t) {
        return t > 0.008856 ? std::cbrt(t) : 7.787 * t + 16.0 / 116.0;
    };
    return {116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))};
}

double seenDistance(const QColor& a, const QColor& b, const Matrix& m)
{
    const auto la = seenLab(a, m), lb = seenLab(b, m);
    return std::hypot(la[0] - lb[0], la[1] - lb[1], la[2] - lb[2]);
}

// The --name: #hex values of the report's stylesheet, light (:root) and dark (the
// prefers-color-scheme block).
QColor reportColour(const QString& html, const QString& name, bool dark)
{
    const int darkAt = html.indexOf("prefers-color-scheme: dark");
    const QRegularExpression re("--" + name + ":\\s*(#[0-9a-fA-F]{6})");
    const auto m = re.match(html, dark ? darkAt : 0);
    return m.hasMatch() && (dark || m.capturedStart() < darkAt) ? QColor(m.captured(1)) : QColor();
}

} // namespace

class TestPlotColours : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void init();
    void cleanup();
    void aBucketKeepsItsColourWhenABoundaryIsAddedBelowIt();
    void setColoursMatchTheReportAndSurviveEdits_data();
    void setColoursMatchTheReportAndSurviveEdits();
    void paddingAndLatencyUseNoSetColour_data();
    void paddingAndLatencyUseNoSetColour();
    void baselinesAreLabelled();
    void logAxisHasLabelsBelow100();
    void largestHandleLabelIsNotClipped_data();
    void largestHandleLabelIsNotClipped();
    void coloursReadInLightAndDarkAndForColourBlindReaders_data();
    void coloursReadInLightAndDarkAndForColourBlindReaders();
    void mainWindowRendersInLightAndDark();

private:
    void setUp(std::vector<int64_t> current, int64_t minLength = 8);
    void optimize(int buckets);
    QCPItemStraightLine* handleAt(int64_t length) const;
    QList<QCPItemStraightLine*> lines(bool dashed) const;
    QCPGraph* graphNamed(const QString& name) const;
    QCPItemText* labelWithText(const QString& text) const;
    QColor tableSwatchFor(int64_t boundary) const;

    Session* session_ = nullptr;
    BucketsView* view_ = nullptr;
};

void TestPlotColours::init()
{
    session_ = new Session;
    view_ = new BucketsView(session_);
    view_->resize(1100, 700);
    view_->show();
    QVERIFY(QTest::qWaitForWindowExposed(view_));
}

void TestPlotColours::cleanup()
{
    delete view_;
    delete session_;
}

void TestPlotColours::setUp(std::vector<int64_t> current, int64_t minLength)
{
    session_->setTraffic(lognormalTraffic(minLength, current.back(), 7),
                         {"test traffic", "lognormal", {}});
    session_->setLatency(LatencyCurve::fromSpec("poly:0.5,0.03,0.0001"),
                         {"test curve", "poly:0.5,0.03,0.0001"});
    session_->setActiveIndex(session_->putBoundarySet(
        {"current", "current", Boundaries::from(current, Field::CurrentBoundaries)}));
    view_->plot()->replot();
}

void TestPlotColours::optimize(int buckets)
{
    QSignalSpy done(view_, &BucketsView::optimizeFinished);
    view_->setOptimizeSettings(buckets, 0);
    view_->optimize();
    QVERIFY(signalSeen(done, 30000));
    QVERIFY(done.first().first().toBool());
    view_->plot()->replot();
}

QList<QCPItemStraightLine*> TestPlotColours::lines(bool dashed) const
{
    QList<QCPItemStraightLine*> out;
    QCustomPlot* plot = view_->plot();
    for (int i = 0; i < plot->itemCount(); ++i)
        if (auto* line = qobject_cast<QCPItemStraightLine*>(plot->item(i)))
            if ((line->pen().style() != Qt::SolidLine) == dashed)
                out << line;
    return out;
}

QCPItemStraightLine* TestPlotColours::handleAt(int64_t length) const
{
    for (auto* line : lines(false))
        if (line->point1->coords().x() == double(length))
            return line;
    return nullptr;
}

QCPGraph* TestPlotColours::graphNamed(const QString& name) const
{
    for (int i = 0; i < view_->plot()->graphCount(); ++i)
        if (view_->plot()->graph(i)->name() == name)
            return view_->plot()->graph(i);
    return nullptr;
}

QCPItemText* TestPlotColours::labelWithText(const QString& text) const
{
    QCustomPlot* plot = view_->plot();
    for (int i = 0; i < plot->itemCount(); ++i)
        if (auto* label = qobject_cast<QCPItemText*>(plot->item(i)))
            if (label->text() == text)
                return label;
    return nullptr;
}

QColor TestPlotColours::tableSwatchFor(int64_t boundary) const
{
    const auto* model = view_->bucketModel();
    for (int row = 0; row < model->rowCount(); ++row)
        if (model->evaluation()->buckets[size_t(row)].boundary == boundary)
            return model->index(row, BucketTableModel::Bucket)
                .data(Qt::DecorationRole)
                .value<QColor>();
    return {};
}

void TestPlotColours::aBucketKeepsItsColourWhenABoundaryIsAddedBelowIt()
{
    setUp({128, 256, 384, 512});
    QCPItemStraightLine* third = handleAt(384);
    QVERIFY(third);
    const QColor before = third->pen().color();
    const QColor swatchBefore = tableSwatchFor(384);
    QVERIFY(swatchBefore.isValid());

    // Double-click at 64 adds a boundary below bucket 3 (which becomes bucket 4).
    const int x = int(std::lround(view_->plot()->xAxis->coordToPixel(64)));
    const QPoint at(x, view_->plot()->axisRect()->rect().center().y());
    QTest::mouseDClick(view_->plot(), Qt::LeftButton, {}, at);
    QTRY_VERIFY(session_->activeBoundaries().size() == 5);
    QCOMPARE(session_->activeBoundaries()[0], int64_t(64));
    view_->plot()->replot();

    QVERIFY(handleAt(384));
    QCOMPARE(handleAt(384)->pen().color(), before);
    QCOMPARE(tableSwatchFor(384), swatchBefore);
    QCOMPARE(handleAt(64)->pen().color(), before); // the new one is the set's too
}

void TestPlotColours::setColoursMatchTheReportAndSurviveEdits_data()
{
    QTest::addColumn<bool>("dark");
    QTest::addRow("light palette") << false;
    QTest::addRow("dark palette") << true;
}

void TestPlotColours::setColoursMatchTheReportAndSurviveEdits()
{
    QFETCH(bool, dark);
    // The report's stylesheet, from a real (small) report.
    BoundaryReportRequest request;
    request.distribution = "uniform:max=64,n=2000,seed=2";
    request.latency = "linear:0.5,0.01";
    request.current = Boundaries::from(std::vector<int64_t>{16, 64}, Field::CurrentBoundaries);
    request.checkKernels = false;
    const QString html =
        QString::fromStdString(renderHtmlReport(makeBoundaryReport(request, {}).report));
    const QColor reportCurrent = reportColour(html, "current", dark);
    const QColor reportTuned = reportColour(html, "tuned", dark);
    QVERIFY(reportCurrent.isValid() && reportTuned.isValid());

    if (dark)
        view_->setPalette(darkPalette());
    setUp({128, 512});
    QCOMPARE(handleAt(128)->pen().color(), reportCurrent);

    // Edited (a nudge and an added boundary), the current set keeps its colour.
    session_->editActiveBoundaries({100, 300, 512}, "edit");
    view_->plot()->replot();
    QCOMPARE(handleAt(100)->pen().color(), reportCurrent);
    QCOMPARE(handleAt(512)->pen().color(), reportCurrent);

    optimize(3); // makes "tuned" active
    QCOMPARE(QString::fromStdString(session_->activeSet()->kind), QStringLiteral("tuned"));
    const auto tuned = session_->activeBoundaries();
    QCOMPARE(handleAt(tuned[0])->pen().color(), reportTuned);
    QCOMPARE(tableSwatchFor(tuned[0]), reportTuned);

    // Back to current: its colour again, whatever index it has in the list.
    for (size_t i = 0; i < session_->boundarySets().size(); ++i)
        if (session_->boundarySets()[i].kind == "current")
            session_->setActiveIndex(int(i));
    view_->plot()->replot();
    QCOMPARE(handleAt(100)->pen().color(), reportCurrent);
}

void TestPlotColours::paddingAndLatencyUseNoSetColour_data()
{
    setColoursMatchTheReportAndSurviveEdits_data();
}

void TestPlotColours::paddingAndLatencyUseNoSetColour()
{
    QFETCH(bool, dark);
    if (dark)
        view_->setPalette(darkPalette());
    // Seven buckets: a palette cycled by position would reach every colour it has.
    setUp({32, 64, 96, 128, 256, 384, 512});
    optimize(4);
    QList<QColor> setColours;
    for (auto* line : lines(false))
        setColours << opaque(line->pen().color());
    for (auto* line : lines(true))
        setColours << opaque(line->pen().color());
    for (const auto& set : session_->boundarySets())
        setColours << boundarySetColor(set, view_->plot()->palette());
    QVERIFY(setColours.size() > 7);

    QCPGraph* padding = graphNamed("padding (waste)");
    QCPGraph* paid = graphNamed("latency paid per bucket");
    QVERIFY(padding && paid);
    const QColor paddingColour = opaque(padding->brush().color());
    const QColor paddingPen = opaque(padding->pen().color());
    const QColor paidColour = opaque(paid->pen().color());
    for (const QColor& set : setColours)
        for (const QColor& data : {paddingColour, paddingPen, paidColour}) {
            // Told apart by normal vision and by every simulated deficiency.
            for (const Matrix* m : {&kNormal, &kProtan, &kDeutan, &kTritan})
                QVERIFY2(seenDistance(set, data, *m) > 15,
                         qPrintable(QString("%1 vs %2").arg(set.name(), data.name())));
        }
}

void TestPlotColours::baselinesAreLabelled()
{
    setUp({128, 512});
    optimize(3);
    const auto& report = session_->tuningReport();
    QVERIFY(report);
    int labelled = 0;
    for (const auto& base : report->baselines) {
        if (base.name == session_->activeSet()->name)
            continue;
        const QString name = QString::fromStdString(base.name);
        QCPItemText* label = labelWithText(name);
        QVERIFY2(label, qPrintable(name));
        // At one of that set's lines, in its colour (sets may share a boundary).
        bool atALine = false;
        for (auto* line : lines(true))
            atALine = atALine || (line->point1->coords().x() == label->position->coords().x() &&
                                  line->pen().color() == label->color());
        QVERIFY2(atALine, qPrintable(name));
        ++labelled;
    }
    QVERIFY(labelled >= 3); // current, powers_of_two, equal_mass, uniform but the active one
    // The active set is named in the legend too, in its handles' colour.
    QCPGraph* active = graphNamed(session_->setTitle(session_->activeIndex()));
    QVERIFY(active);
    QCOMPARE(active->pen().color(), handleAt(session_->activeBoundaries()[0])->pen().color());

    // Hiding the baselines takes their labels away.
    view_->findChild<QCheckBox*>("showBaselines")->setChecked(false);
    QVERIFY(!labelWithText("powers_of_two"));
}

void TestPlotColours::logAxisHasLabelsBelow100()
{
    setUp({128, 512}, 20); // traffic from 20 tokens: base-10 ticks gave only 100
    view_->setLogScale(true);
    view_->plot()->replot();
    QCPAxis* x = view_->plot()->xAxis;
    const QVector<double> ticks = x->tickVector();
    const QVector<QString> labels = x->tickVectorLabels();
    QCOMPARE(ticks.size(), labels.size());
    int below100 = 0;
    for (int i = 0; i < ticks.size(); ++i)
        if (x->range().contains(ticks[i]) && ticks[i] < 100 && !labels[i].isEmpty()) {
            ++below100;
            QCOMPARE(labels[i], QString::number(qlonglong(std::llround(ticks[i]))));
        }
    QVERIFY2(below100 >= 2, qPrintable(QString::number(below100)));
}

void TestPlotColours::largestHandleLabelIsNotClipped_data()
{
    QTest::addColumn<bool>("log");
    QTest::addRow("linear axis") << false;
    QTest::addRow("log axis") << true;
}

void TestPlotColours::largestHandleLabelIsNotClipped()
{
    QFETCH(bool, log);
    view_->resize(700, 600);
    setUp({128, 4096});
    view_->setLogScale(log);
    view_->plot()->replot();
    const QRect rect = view_->plot()->axisRect()->rect();
    for (int64_t b : {int64_t(128), int64_t(4096)}) {
        QCPItemText* label = labelWithText(QString::number(b));
        QVERIFY(label);
        const QPointF left = label->topLeft->pixelPosition();
        const QPointF right = label->bottomRight->pixelPosition();
        QVERIFY2(left.x() >= rect.left() && right.x() <= rect.right() + 1,
                 qPrintable(QString("%1: %2..%3 outside %4..%5")
                                .arg(b)
                                .arg(left.x())
                                .arg(right.x())
                                .arg(rect.left())
                                .arg(rect.right())));
        // Still beside its own line: one edge of the label is on it.
        const double lineX = view_->plot()->xAxis->coordToPixel(double(b));
        QVERIFY(left.x() <= lineX + 1 && right.x() >= lineX - 1);
    }
}

void TestPlotColours::coloursReadInLightAndDarkAndForColourBlindReaders_data()
{
    setColoursMatchTheReportAndSurviveEdits_data();
}

void TestPlotColours::coloursReadInLightAndDarkAndForColourBlindReaders()
{
    QFETCH(bool, dark);
    if (dark)
        view_->setPalette(darkPalette());
    setUp({128, 512});
    optimize(3);
    const QColor base = view_->plot()->palette().color(QPalette::Base);
    QCOMPARE(isDarkPalette(view_->plot()->palette()), dark);
    // Text written in a set's colour (handle and baseline labels) reads as text (WCAG 4.5).
    QList<QColor> setColours;
    QCustomPlot* plot = view_->plot();
    for (int i = 0; i < plot->itemCount(); ++i)
        if (auto* label = qobject_cast<QCPItemText*>(plot->item(i)))
            if (label->visible() && !label->text().isEmpty()) {
                QVERIFY2(contrastRatio(label->color(), base) >= 4.5,
                         qPrintable(label->text() + " " + label->color().name()));
                if (!setColours.contains(label->color()))
                    setColours << label->color();
            }
    QVERIFY(setColours.size() >= 4); // tuned and three baselines
    // The lines a user follows stand out from the background (WCAG 3 for graphics).
    for (const char* name : {"padding (waste)", "latency paid per bucket", "latency curve"})
        QVERIFY2(contrastRatio(opaque(graphNamed(name)->pen().color()), base) >= 3, name);
    // Every two sets look different to normal vision and to each simulated deficiency.
    for (int i = 0; i < setColours.size(); ++i)
        for (int j = i + 1; j < setColours.size(); ++j)
            for (const Matrix* m : {&kNormal, &kProtan, &kDeutan, &kTritan})
                QVERIFY2(seenDistance(setColours[i], setColours[j], *m) >= 9,
                         qPrintable(setColours[i].name() + " vs " + setColours[j].name()));
}

void TestPlotColours::mainWindowRendersInLightAndDark()
{
    // The whole window on the demo after Optimize, light and dark, written where a person
    // (or CI) can look at them: BUCKETLAB_SCREENSHOT_DIR, else the temporary directory.
    const QString dir = qEnvironmentVariableIsEmpty("BUCKETLAB_SCREENSHOT_DIR")
                            ? QDir::temp().filePath("bucketlab-plotcolours")
                            : qEnvironmentVariable("BUCKETLAB_SCREENSHOT_DIR");
    QVERIFY(QDir().mkpath(dir));
    MainWindow window;
    window.resize(1280, 800);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QSignalSpy loaded(&window, &MainWindow::loadFinished);
    window.openDemo();
    if (window.isBusy())
        QVERIFY(signalSeen(loaded, 60000));
    QSignalSpy done(window.bucketsView(), &BucketsView::optimizeFinished);
    window.bucketsView()->setOptimizeSettings(4, 0);
    window.bucketsView()->optimize();
    QVERIFY(signalSeen(done, 60000));
    for (bool dark : {false, true}) {
        window.setPalette(dark ? darkPalette() : QGuiApplication::palette());
        for (bool log : {false, true}) {
            window.bucketsView()->setLogScale(log);
            window.bucketsView()->plot()->replot();
            window.bucketsView()->paretoPlot()->replot(); // queued replots have not run yet
            const QImage shot = window.grab().toImage();
            QVERIFY(shot.save(QDir(dir).filePath(
                QString("buckets-%1%2.png").arg(dark ? "dark" : "light").arg(log ? "-log" : ""))));
            // The plot's background follows the palette.
            QCustomPlot* plot = window.bucketsView()->plot();
            const QPoint corner =
                plot->mapTo(&window, plot->axisRect()->rect().topLeft() + QPoint(3, 3));
            QCOMPARE(QColor(shot.pixel(corner)).lightness() < 128, dark);
        }
    }
}

BUCKETLAB_GUI_TEST_MAIN(TestPlotColours)
#include "tst_plotcolours.moc"
