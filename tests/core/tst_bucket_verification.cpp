// Verifying boundary sets (the core of `tune --verify`): measured expected latency from
// per-bucket figures and traffic shares, what is timed for models and packages, bad
// requests, and predicted against measured on a simulated device (exact, whatever the
// machine's load; bench_verification prints the same comparison on the real demo model).
#include "core/demo/demo.h"
#include "core/latency/profile_grid.h"
#include "core/latency/profiler.h"
#include "core/tuning/bucket_verification.h"
#include "core/util/error.h"
#include "core/util/format.h"
#include "fixtures.h"
#include "testutil.h"

#include <nlohmann/json.hpp>

#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

using namespace bucketlab;
using namespace bucketlab::test;

using VerificationEdit = std::function<void(BucketVerificationRequest&)>;
Q_DECLARE_METATYPE(VerificationEdit)

namespace {

// The demo traffic (MRPC pair lengths) as length -> count.
std::map<int64_t, double> demoTraffic()
{
    std::map<int64_t, double> counts;
    std::istringstream in(demoDistributionCsv());
    std::string line;
    std::getline(in, line); // header
    while (std::getline(in, line)) {
        const auto comma = line.find(',');
        if (comma != std::string::npos)
            counts[std::stoll(line.substr(0, comma))] += std::stod(line.substr(comma + 1));
    }
    return counts;
}

// The share of requests each bucket serves: a length goes to the smallest bucket >= it.
std::vector<double> sharesOf(const std::vector<int64_t>& boundaries)
{
    std::vector<double> shares(boundaries.size(), 0.0);
    double total = 0;
    for (const auto& [length, count] : demoTraffic()) {
        const auto it = std::lower_bound(boundaries.begin(), boundaries.end(), length);
        if (it != boundaries.end())
            shares[size_t(it - boundaries.begin())] += count;
        total += count;
    }
    for (auto& s : shares)
        s /= total;
    return shares;
}

// A grid point: its median and the 95 % CI of it.
struct CurvePoint {
    int64_t length = 0;
    double ms = 0, low = 0, high = 0;
};

// A prediction with the uncertainty the grid's CIs carry into it.
struct Estimate {
    double ms = 0, low = 0, high = 0;
};

// The simplest curve a tuner could use: straight lines between measured medians (and,
// for the uncertainty, between the CI bounds).
Estimate interpolate(const std::vector<CurvePoint>& curve, int64_t length)
{
    auto at = [](const CurvePoint& p) {
        return Estimate{p.ms, p.low, p.high};
    };
    if (length <= curve.front().length)
        return at(curve.front());
    for (size_t i = 1; i < curve.size(); ++i)
        if (length <= curve[i].length) {
            const auto& a = curve[i - 1];
            const auto& b = curve[i];
            const double t = double(length - a.length) / double(b.length - a.length);
            return {a.ms + (b.ms - a.ms) * t, a.low + (b.low - a.low) * t,
                    a.high + (b.high - a.high) * t};
        }
    return at(curve.back());
}

} // namespace

class TestBucketVerification : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void combinesPerBucketFigures();
    void packageOwnBoundariesUseItsForward();
    void badRequests_data();
    void badRequests();
    void measurementIsScaledToTheCurvesConditions_data();
    void measurementIsScaledToTheCurvesConditions();
    void verdictIsThePointError_data();
    void verdictIsThePointError();

private:
    BucketVerificationRequest request(std::vector<int64_t> boundaries, std::vector<double> shares,
                                      double budget) const;
    QTemporaryDir dir_;
    DemoFiles demo_;
    std::string perBucket_;
};

void TestBucketVerification::initTestCase()
{
    QVERIFY(dir_.isValid());
    demo_ = prepareDemo(s(dir_.filePath("demo")));
    writeFixedLengthModel(s(dir_.filePath("fixed16.pt")), 16, 1);
    writeFixedLengthModel(s(dir_.filePath("fixed40.pt")), 40, 2);
    PackageBuildRequest b;
    b.perBucket = {{16, s(dir_.filePath("fixed16.pt"))}, {40, s(dir_.filePath("fixed40.pt"))}};
    b.inputs = demoInputs();
    b.out = s(dir_.filePath("per_bucket.pt"));
    perBucket_ = buildPackage(b).out;
}

BucketVerificationRequest TestBucketVerification::request(std::vector<int64_t> boundaries,
                                                          std::vector<double> shares,
                                                          double budget) const
{
    BucketVerificationRequest r;
    r.model = demo_.model;
    r.inputs = demoInputs();
    r.boundaries = Boundaries::from(std::move(boundaries), Field::Boundaries);
    r.shares = std::move(shares);
    r.budgetS = budget;
    return r;
}

void TestBucketVerification::combinesPerBucketFigures()
{
    // Counts rather than fractions: 2 : 1 : 1 is 50 %, 25 %, 25 %.
    const auto v = measureBuckets(request({64, 128, 512}, {2, 1, 1}, 8));
    QCOMPARE(v.buckets.size(), size_t(3));
    QCOMPARE(v.profile.settings.at("target"), std::string("model forward"));
    double median = 0, mean = 0, low = 0, high = 0;
    const std::vector<double> expectedShares = {0.5, 0.25, 0.25};
    for (size_t k = 0; k < 3; ++k) {
        const auto& b = v.buckets[k];
        QCOMPARE(b.boundary, (std::vector<int64_t>{64, 128, 512})[k]);
        QCOMPARE(b.point.length, b.boundary);
        QCOMPARE(b.share, expectedShares[k]);
        QVERIFY(b.point.ok() && b.point.samples >= 1);
        median += b.share * b.point.p50Ms;
        mean += b.share * b.point.meanMs;
        low += b.share * b.point.ci95LowMs;
        high += b.share * b.point.ci95HighMs;
    }
    QCOMPARE(v.expectedMs, median);
    QCOMPARE(v.expectedMeanMs, mean);
    QCOMPARE(v.expectedLowMs, low);
    QCOMPARE(v.expectedHighMs, high);
    QVERIFY(v.expectedLowMs <= v.expectedMs && v.expectedMs <= v.expectedHighMs);
    // The 512 bucket dominates: a quarter of the traffic at several times the cost.
    QVERIFY(v.buckets[2].share * v.buckets[2].point.p50Ms > 0.4 * v.expectedMs);
    QVERIFY(std::abs(predictionErrorPct(1.1 * v.expectedMs, v.expectedMs) - 10.0) < 1e-9);
}

void TestBucketVerification::packageOwnBoundariesUseItsForward()
{
    BucketVerificationRequest r = request({128, 512}, {0.9, 0.1}, 3);
    r.model = demo_.package;
    r.inputs.clear();
    QCOMPARE(measureBuckets(r).profile.settings.at("target"), std::string("package forward"));
    // New boundaries: what a re-exported package would run, its shared bucket model.
    r.boundaries = {100, 300};
    const auto v = measureBuckets(r);
    QCOMPARE(v.profile.settings.at("target"), std::string("package bucket model"));
    QCOMPARE(v.buckets[0].point.length, int64_t(100));
}

void TestBucketVerification::badRequests_data()
{
    QTest::addColumn<VerificationEdit>("edit");
    QTest::addColumn<QString>("mentions");
    const std::string perBucket = perBucket_;
    QTest::addRow("one share short")
        << VerificationEdit([](auto& r) { r.shares = {1}; }) << "1 traffic shares for 2 buckets";
    QTest::addRow("negative share") << VerificationEdit([](auto& r) {
        r.shares = {1, -0.5};
    }) << "share of bucket 512";
    QTest::addRow("NaN share") << VerificationEdit([](auto& r) {
        r.shares = {NAN, 1};
    }) << "not a finite number";
    QTest::addRow("no traffic") << VerificationEdit([](auto& r) {
        r.shares = {0, 0};
    }) << "every bucket has a zero traffic share";
    QTest::addRow("per-bucket package, other boundaries") << VerificationEdit([perBucket](auto& r) {
        r.model = perBucket;
        r.inputs.clear();
        r.boundaries = {20, 40};
    }) << "re-trace the model";
    QTest::addRow("budget 0") << VerificationEdit([](auto& r) { r.budgetS = 0; })
                              << "the time budget";
}

void TestBucketVerification::badRequests()
{
    QFETCH(VerificationEdit, edit);
    QFETCH(QString, mentions);
    BucketVerificationRequest r = request({128, 512}, {0.5, 0.5}, 1);
    edit(r);
    try {
        measureBuckets(r);
        QFAIL("accepted a bad verification request");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).contains(mentions), e.what());
    }
}

namespace {

// Boundary sets a tuner could choose for the MRPC traffic (19..111 tokens), plus the
// guide's current buckets. Most fall between grid lengths, so predicting them takes
// interpolation.
const std::vector<std::vector<int64_t>> kBoundarySets = {
    {48, 64, 88, 111}, {40, 56, 72, 96, 128}, {128, 512}};

// The grid a tuner is given: log-spaced lengths plus the current buckets.
const std::vector<int64_t> kGrid = gridLengths(12, 16, 512, demoCurrentBoundaries());

// A simulated device: 0.4 ms plus 0.02 ms a token, `slower` times slower than when the curve
// was measured, and with a step where asked: 30 % more from 113 tokens on (as when a model's
// activations outgrow a cache), which no grid point between 94 and 128 sees.
double deviceMs(int64_t length, double slower, bool step)
{
    const double ms = 0.4 + 0.02 * double(length);
    return slower * (step && length >= 113 ? 1.3 * ms : ms);
}

std::vector<CurvePoint> simulatedCurve(bool step)
{
    std::vector<CurvePoint> c;
    for (int64_t length : kGrid) {
        const double ms = deviceMs(length, 1, step);
        c.push_back({length, ms, ms, ms});
    }
    return c;
}

Estimate predict(const std::vector<CurvePoint>& curve, const std::vector<int64_t>& boundaries)
{
    const auto shares = sharesOf(boundaries);
    Estimate e;
    for (size_t k = 0; k < boundaries.size(); ++k) {
        const auto at = interpolate(curve, boundaries[k]);
        e.ms += shares[k] * at.ms;
        e.low += shares[k] * at.low;
        e.high += shares[k] * at.high;
    }
    return e;
}

// What the device really costs the traffic on a set: the exact expected latency.
double trueExpectedMs(const std::vector<int64_t>& set, double slower, bool step)
{
    const auto shares = sharesOf(set);
    double ms = 0;
    for (size_t k = 0; k < set.size(); ++k)
        ms += shares[k] * deviceMs(set[k], slower, step);
    return ms;
}

bool near(double a, double b)
{
    return std::abs(a - b) <= 1e-9 * std::max(std::abs(a), std::abs(b));
}

} // namespace

void TestBucketVerification::measurementIsScaledToTheCurvesConditions_data()
{
    QTest::addColumn<double>("slower");
    QTest::addRow("same machine") << 1.0;
    QTest::addRow("1.5x slower") << 1.5;
    QTest::addRow("30 %% faster") << 0.7;
}

void TestBucketVerification::measurementIsScaledToTheCurvesConditions()
{
    // What `tune --verify` does: a separate run of exactly the boundary shapes, some time
    // after the curve was measured, re-measuring a few of the curve's own points beside
    // them to scale the measurement back to the curve's conditions. On a simulated device
    // whose latency is a straight line, the prediction is exact and so must the verdict be.
    QFETCH(double, slower);
    const auto curve = simulatedCurve(false);
    std::vector<ReferencePoint> references;
    for (const auto& p : curve)
        references.push_back({p.length, p.ms});
    for (const auto& set : kBoundarySets) {
        auto r = request(set, sharesOf(set), 30);
        r.references = references;
        r.simulatedCallMs = [&](int64_t length, int64_t, int64_t) {
            return deviceMs(length, slower, false);
        };
        const auto v = measureBuckets(r);
        QCOMPARE(v.profile.settings.at("clock"), std::string("simulated"));
        QVERIFY(!v.references.empty() && v.references.size() <= 3);
        QVERIFY2(near(v.conditionsRatio, slower), qPrintable(QString::number(v.conditionsRatio)));
        QVERIFY(near(v.expectedMs, trueExpectedMs(set, slower, false)));
        QCOMPARE(v.expectedAtReferenceMs, v.expectedMs / v.conditionsRatio);
        const double predicted = predict(curve, set).ms;
        const auto check = checkPrediction(predicted, v, 5);
        QVERIFY(check.scaledToReference);
        QVERIFY2(std::abs(check.errorPct) < 1e-6, qPrintable(QString::number(check.errorPct)));
        QVERIFY(!check.beyondTolerance);
    }
}

void TestBucketVerification::verdictIsThePointError_data()
{
    QTest::addColumn<QVector<qint64>>("set");
    QTest::addColumn<double>("tolerance");
    // The step at 113 sits between grid points 94 and 128: interpolation overprices 111 and
    // underprices nothing else here; the set ending at 128 is priced exactly.
    QTest::addRow("ends below the step, 5 %%") << QVector<qint64>{48, 64, 88, 111} << 5.0;
    QTest::addRow("ends below the step, 20 %%") << QVector<qint64>{48, 64, 88, 111} << 20.0;
    QTest::addRow("ends above the step, 5 %%") << QVector<qint64>{40, 56, 72, 96, 120} << 5.0;
    QTest::addRow("grid points only, 1 %%") << QVector<qint64>{128, 512} << 1.0;
}

void TestBucketVerification::verdictIsThePointError()
{
    // "Within tolerance" is exactly |predicted - measured| / measured <= tolerance: the
    // point error, whatever the interval beside it.
    QFETCH(QVector<qint64>, set);
    QFETCH(double, tolerance);
    const std::vector<int64_t> boundaries(set.begin(), set.end());
    const auto curve = simulatedCurve(true);
    auto r = request(boundaries, sharesOf(boundaries), 30);
    r.simulatedCallMs = [](int64_t length, int64_t, int64_t call) {
        // +-1 % of deterministic noise, so the intervals are not points.
        return deviceMs(length, 1, true) * (1 + 0.01 * std::sin(double(call)));
    };
    const auto v = measureBuckets(r);
    const double predicted = predict(curve, boundaries).ms;
    const auto check = checkPrediction(predicted, v, tolerance);
    QVERIFY(!check.scaledToReference);
    QCOMPARE(check.measuredMs, v.expectedMs);
    QVERIFY(near(check.errorPct, (predicted - v.expectedMs) / v.expectedMs * 100));
    QCOMPARE(check.beyondTolerance, std::abs(check.errorPct) > tolerance);
    // The noise is small beside the step: the verdict is the one the true figures give.
    const double trueError = (predicted - trueExpectedMs(boundaries, 1, true)) /
                             trueExpectedMs(boundaries, 1, true) * 100;
    qInfo("buckets %s: predicted %.4f ms, measured %.4f ms [%.4f, %.4f], error %.2f %% (true "
          "%.2f %%)",
          formatLengths(boundaries).c_str(), predicted, check.measuredMs, check.measuredLowMs,
          check.measuredHighMs, check.errorPct, trueError);
    QVERIFY(std::abs(check.errorPct - trueError) < 1.0);
    QCOMPARE(check.beyondTolerance, std::abs(trueError) > tolerance);
    const auto j = verificationJson(v, check);
    QCOMPARE(j.at("within_tolerance").get<bool>(), !check.beyondTolerance);
}

QTEST_GUILESS_MAIN(TestBucketVerification)
#include "tst_bucket_verification.moc"
