// The statistics behind the profiler's figures: the bootstrap CI of the median (against a
// classic resampling bootstrap, and by its coverage), the noise flags, and the shape
// lists (length parsing, log-spaced grids).
#include "core/latency/profile_grid.h"
#include "core/latency/sample_statistics.h"
#include "core/util/error.h"

#include <QTest>

#include <algorithm>
#include <cmath>
#include <random>

using namespace bucketlab;

Q_DECLARE_METATYPE(std::vector<double>)
Q_DECLARE_METATYPE(std::vector<int64_t>)

namespace {

// The textbook bootstrap: resample n values with replacement, take the median, repeat.
MedianInterval classicBootstrap(const std::vector<double>& data, int resamples, uint64_t seed)
{
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<size_t> pick(0, data.size() - 1);
    std::vector<double> medians, resample(data.size());
    for (int r = 0; r < resamples; ++r) {
        for (auto& v : resample)
            v = data[pick(rng)];
        std::sort(resample.begin(), resample.end());
        const size_t n = resample.size();
        medians.push_back(n % 2 ? resample[n / 2] : 0.5 * (resample[n / 2 - 1] + resample[n / 2]));
    }
    std::sort(medians.begin(), medians.end());
    return {medians[size_t(0.025 * resamples)], medians[size_t(0.975 * resamples)]};
}

std::vector<double> lognormalSamples(size_t n, uint64_t seed, double sigma)
{
    std::mt19937_64 rng(seed);
    std::lognormal_distribution<double> d(std::log(10.0), sigma);
    std::vector<double> v(n);
    for (auto& x : v)
        x = d(rng);
    return v;
}

} // namespace

class TestSampleStatistics : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void bootstrapAgreesWithClassicResampling_data();
    void bootstrapAgreesWithClassicResampling();
    void bootstrapCoversTheTrueMedian();
    void bootstrapEdgeCases();
    void noiseFlags_data();
    void noiseFlags();
    void gridIsLogSpacedWithBoundaries();
    void badGrids_data();
    void badGrids();
};

void TestSampleStatistics::bootstrapAgreesWithClassicResampling_data()
{
    QTest::addColumn<int>("n");
    QTest::addRow("odd n = 41") << 41;
    QTest::addRow("even n = 40") << 40;
    QTest::addRow("n = 7") << 7;
    QTest::addRow("n = 400") << 400;
}

void TestSampleStatistics::bootstrapAgreesWithClassicResampling()
{
    QFETCH(int, n);
    auto data = lognormalSamples(size_t(n), 7, 0.2);
    std::sort(data.begin(), data.end());
    const auto fast = bootstrapMedianCi(data, 0.95, 20000, 3);
    const auto classic = classicBootstrap(data, 20000, 5);
    // Both are Monte Carlo estimates of the same interval; the bounds are (averages of)
    // order statistics, so they may land one rank apart, never more.
    const auto rankGap = [&](double v) {
        const auto it = std::lower_bound(data.begin(), data.end(), v);
        const size_t i = size_t(it - data.begin());
        return std::max(i < data.size() ? data[i] - (i > 0 ? data[i - 1] : data[i]) : 0.0,
                        i + 1 < data.size() ? data[i + 1] - data[i] : 0.0);
    };
    QVERIFY2(std::abs(fast.low - classic.low) <= 1.01 * rankGap(classic.low),
             qPrintable(QString("low %1 vs classic %2").arg(fast.low).arg(classic.low)));
    QVERIFY2(std::abs(fast.high - classic.high) <= 1.01 * rankGap(classic.high),
             qPrintable(QString("high %1 vs classic %2").arg(fast.high).arg(classic.high)));
    QVERIFY(fast.low < fast.high);
}

void TestSampleStatistics::bootstrapCoversTheTrueMedian()
{
    // Lognormal(log 10, 0.3): the true median is exactly 10.
    int covered = 0;
    const int trials = 400;
    for (int t = 0; t < trials; ++t) {
        auto data = lognormalSamples(51, 1000 + uint64_t(t), 0.3);
        std::sort(data.begin(), data.end());
        const auto ci = bootstrapMedianCi(data, 0.95, 2000, uint64_t(t));
        covered += ci.low <= 10.0 && 10.0 <= ci.high;
    }
    const double coverage = double(covered) / trials;
    // A 95 % interval; the percentile bootstrap of a median is slightly conservative at
    // this n, and 400 trials carry about ±2 % of sampling error.
    QVERIFY2(coverage >= 0.90 && coverage <= 0.995, qPrintable(QString::number(coverage)));
}

void TestSampleStatistics::bootstrapEdgeCases()
{
    const auto none = bootstrapMedianCi({});
    QCOMPARE(none.low, 0.0);
    const auto one = bootstrapMedianCi({4.5});
    QCOMPARE(one.low, 4.5);
    QCOMPARE(one.high, 4.5);
    const auto same = bootstrapMedianCi(std::vector<double>(20, 3.0));
    QCOMPARE(same.low, 3.0);
    QCOMPARE(same.high, 3.0);
    QCOMPARE(relativeHalfWidthPct(10.0, {9.5, 10.2}), 5.0);
    QVERIFY(std::isinf(relativeHalfWidthPct(0.0, {0, 0})));
    // Same seed, same interval: reported figures do not change between reads.
    const auto data = lognormalSamples(30, 2, 0.2);
    auto sorted = data;
    std::sort(sorted.begin(), sorted.end());
    QCOMPARE(bootstrapMedianCi(sorted, 0.95, 500, 9).low,
             bootstrapMedianCi(sorted, 0.95, 500, 9).low);
}

void TestSampleStatistics::noiseFlags_data()
{
    QTest::addColumn<std::vector<double>>("samples");
    QTest::addColumn<QStringList>("expected");
    std::vector<double> steady;
    for (int i = 0; i < 40; ++i)
        steady.push_back(10.0 + 0.01 * (i % 5));
    QTest::addRow("steady") << steady << QStringList{};
    std::vector<double> noisy;
    for (int i = 0; i < 40; ++i)
        noisy.push_back(i % 2 ? 7.0 : 13.0); // CV 0.3, no trend
    QTest::addRow("noisy") << noisy << QStringList{kFlagNoisy};
    std::vector<double> drifting;
    for (int i = 0; i < 40; ++i)
        drifting.push_back(10.0 + 0.05 * i + 0.01 * (i % 3)); // +20 % from first to last
    QTest::addRow("drift") << drifting << QStringList{kFlagDrift};
    QTest::addRow("few samples") << std::vector<double>{10, 10.1, 9.9}
                                 << QStringList{kFlagFewSamples};
    std::vector<double> spike = steady;
    spike[20] = 50; // one outlier in the middle: a large CV, but the ends agree
    QTest::addRow("one spike, no drift") << spike << QStringList{kFlagNoisy};
}

void TestSampleStatistics::noiseFlags()
{
    QFETCH(std::vector<double>, samples);
    QFETCH(QStringList, expected);
    ProfilePoint p;
    p.length = 128;
    p.samplesMs = samples;
    summarizeSamples(p);
    addNoiseFlags(p);
    QStringList got;
    for (const auto& f : p.flags)
        got << QString::fromStdString(f);
    got.sort();
    expected.sort();
    QCOMPARE(got, expected);
}

void TestSampleStatistics::gridIsLogSpacedWithBoundaries()
{
    const auto g = gridLengths(6, 16, 512, {128, 512, 1000});
    // 16 * 2^i for i = 0..5 is exactly log-spaced; 128 and 512 are already in it, 1000 is
    // above the maximum and left out.
    QCOMPARE(g, (std::vector<int64_t>{16, 32, 64, 128, 256, 512}));
    const auto h = gridLengths(5, 10, 300, {100});
    QCOMPARE(h.front(), int64_t(10));
    QCOMPARE(h.back(), int64_t(300));
    QVERIFY(std::find(h.begin(), h.end(), 100) != h.end());
    QVERIFY(std::is_sorted(h.begin(), h.end()));
    QCOMPARE(h.size(), size_t(6));
    // A range narrower than the count merges duplicates rather than repeating lengths.
    QCOMPARE(gridLengths(10, 1, 3), (std::vector<int64_t>{1, 2, 3}));
}

void TestSampleStatistics::badGrids_data()
{
    QTest::addColumn<int>("count");
    QTest::addColumn<int>("minLength");
    QTest::addColumn<int>("maxLength");
    QTest::addColumn<QString>("mentions");
    QTest::addRow("one point") << 1 << 16 << 512 << "at least 2";
    QTest::addRow("zero minimum") << 5 << 0 << 512 << "not positive";
    QTest::addRow("max below min") << 5 << 64 << 32 << "below its minimum";
}

void TestSampleStatistics::badGrids()
{
    QFETCH(int, count);
    QFETCH(int, minLength);
    QFETCH(int, maxLength);
    QFETCH(QString, mentions);
    try {
        gridLengths(count, minLength, maxLength);
        QFAIL("accepted a bad grid");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).contains(mentions), e.what());
    }
}

QTEST_GUILESS_MAIN(TestSampleStatistics)
#include "tst_sample_statistics.moc"
