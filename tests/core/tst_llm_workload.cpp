// NxD's bucket rule and the decode workload derived from it, held to a request-by-request
// simulation that follows NxD's code path literally (the HF generation loop calling the
// model wrapper's first fit once per token); the evaluator's figures held to the same
// simulation; the continuous-batching model on hand-checked cases and conservation laws.
#include "core/latency/latency_curve.h"
#include "core/llm/decode_batches.h"
#include "core/llm/decode_workload.h"
#include "core/llm/llm_evaluator.h"
#include "core/llm/nxd_bucket_rule.h"
#include "core/util/error.h"

#include <QTest>

#include <cmath>
#include <map>
#include <random>

using namespace bucketlab;

namespace {

// ModelWrapper._get_seq_bucket, strategy "first_fit", written out as its Python reads:
// required_len = input_len + speculation_length; the first bucket with required_len <
// bucket; else the largest when required_len == largest; else it raises (-1 here).
int64_t getSeqBucket(const std::vector<int64_t>& buckets, int64_t inputLen, int64_t speculation)
{
    const int64_t required = inputLen + speculation;
    for (int64_t b : buckets)
        if (required < b)
            return b;
    if (required == buckets.back())
        return buckets.back();
    return -1;
}

struct Simulated {
    std::map<int64_t, int64_t> cte, tkg; // required length -> calls
    int64_t rejected = 0, truncated = 0, failed = 0, served = 0;
    double latencySum = 0; // over served requests that did not fail
};

// One request at a time: the prefill (CTE) call sees the whole prompt; then, as HF generate
// does, one TKG call per further token with an attention mask of width p + generated - 1
// (NxD's adapter widens it only after a TKG call), until g tokens or seq_len.
Simulated simulate(const RequestTraffic& traffic, const ServingLimits& limits,
                   const std::vector<int64_t>& cteBuckets = {},
                   const std::vector<int64_t>& tkgBuckets = {}, const LatencyCurve* cte = nullptr,
                   const LatencyCurve* tkg = nullptr)
{
    Simulated s;
    for (const auto& pair : traffic.pairs())
        for (int64_t copy = 0; copy < pair.count; ++copy) {
            const int64_t p = pair.prompt;
            if (p > limits.maxContextLength) {
                ++s.rejected;
                continue;
            }
            double latency = 0;
            bool failed = false;
            ++s.cte[p];
            if (!cteBuckets.empty()) {
                const int64_t b = getSeqBucket(cteBuckets, p, 0);
                failed |= b < 0;
                latency += b > 0 ? cte->at(b) : 0;
            }
            int64_t generated = pair.output > 0 ? 1 : 0;
            bool cut = false;
            while (generated < pair.output) {
                if (p + generated >= limits.seqLen) {
                    cut = true;
                    break;
                }
                const int64_t mask = p + generated - 1;
                if (mask + limits.speculationLength > limits.seqLen) {
                    cut = true;
                    break;
                }
                ++s.tkg[mask + limits.speculationLength];
                if (!tkgBuckets.empty()) {
                    const int64_t b = getSeqBucket(tkgBuckets, mask, limits.speculationLength);
                    failed |= b < 0;
                    latency += b > 0 ? tkg->at(b) : 0;
                }
                ++generated;
            }
            s.truncated += cut ? 1 : 0;
            if (failed)
                ++s.failed;
            else {
                ++s.served;
                s.latencySum += latency;
            }
        }
    return s;
}

std::map<int64_t, int64_t> asMap(const LengthHistogram& h)
{
    std::map<int64_t, int64_t> m;
    for (size_t i = 0; i < h.distinct(); ++i)
        m[h.lengths()[i]] = h.counts()[i];
    return m;
}

RequestTraffic randomTraffic(std::mt19937_64& rng, int64_t maxPrompt, int64_t maxOutput, int n)
{
    std::vector<RequestPair> pairs;
    for (int i = 0; i < n; ++i)
        pairs.push_back({1 + int64_t(rng() % uint64_t(maxPrompt)),
                         int64_t(rng() % uint64_t(maxOutput + 1)), 1 + int64_t(rng() % 3)});
    return RequestTraffic::fromPairs(pairs);
}

// A random ascending list whose largest is `largest`.
std::vector<int64_t> randomBuckets(std::mt19937_64& rng, int64_t largest)
{
    std::vector<int64_t> b;
    for (int64_t v = 1; v < largest; ++v)
        if (rng() % 4 == 0)
            b.push_back(v);
    b.push_back(largest);
    return b;
}

bool close(double a, double b)
{
    return std::abs(a - b) <= 1e-9 * std::max({1.0, std::abs(a), std::abs(b)});
}

} // namespace

class TestLlmWorkload : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void generateBuckets_data();
    void generateBuckets();
    void sequenceRule();
    void gridRule();
    void workloadEqualsSimulation_data();
    void workloadEqualsSimulation();
    void evaluatorEqualsSimulation();
    void handExample();
    void limitsAreChecked();
    void continuousBatchingByHand();
    void continuousBatchingConserves();
    void decodeLog();
    void batchLatency();
};

void TestLlmWorkload::generateBuckets_data()
{
    QTest::addColumn<qint64>("min");
    QTest::addColumn<qint64>("max");
    QTest::addColumn<QList<qint64>>("expected");
    // NxD's own unit tests (test/unit/modules/test_autobucketing.py).
    QTest::addRow("128,128") << qint64(128) << qint64(128) << QList<qint64>{128};
    QTest::addRow("128,512") << qint64(128) << qint64(512) << QList<qint64>{128, 256, 512};
    QTest::addRow("64,256") << qint64(64) << qint64(256) << QList<qint64>{64, 128, 256};
    QTest::addRow("128,513") << qint64(128) << qint64(513) << QList<qint64>{128, 256, 513};
    // The rounded upper exponent: log2(640) = 9.32 rounds to 9, so 512 is left out.
    QTest::addRow("128,640") << qint64(128) << qint64(640) << QList<qint64>{128, 256, 640};
    // log2(724) = 9.4998 rounds down, log2(725) = 9.5018 up.
    QTest::addRow("128,724") << qint64(128) << qint64(724) << QList<qint64>{128, 256, 724};
    QTest::addRow("128,725") << qint64(128) << qint64(725) << QList<qint64>{128, 256, 512, 725};
    // A maximum below the minimum: the range is empty, only the maximum remains.
    QTest::addRow("128,100") << qint64(128) << qint64(100) << QList<qint64>{100};
    QTest::addRow("128,8192") << qint64(128) << qint64(8192)
                              << QList<qint64>{128, 256, 512, 1024, 2048, 4096, 8192};
    // int(log2(100)) = 6: the first bucket is 64, below the minimum; round(log2(300)) = 8.
    QTest::addRow("100,300") << qint64(100) << qint64(300) << QList<qint64>{64, 128, 300};
}

void TestLlmWorkload::generateBuckets()
{
    QFETCH(qint64, min);
    QFETCH(qint64, max);
    QFETCH(QList<qint64>, expected);
    const auto got = nxdGenerateBuckets(min, max);
    QCOMPARE(QList<qint64>(got.begin(), got.end()), expected);
}

void TestLlmWorkload::sequenceRule()
{
    const std::vector<int64_t> b{128, 256, 512};
    QCOMPARE(nxdSequenceBucket(b, 1), 0);
    QCOMPARE(nxdSequenceBucket(b, 127), 0);
    QCOMPARE(nxdSequenceBucket(b, 128), 1); // strict: 128 does not fit the 128 bucket
    QCOMPARE(nxdSequenceBucket(b, 511), 2);
    QCOMPARE(nxdSequenceBucket(b, 512), 2); // but the largest takes its own length
    QCOMPARE(nxdSequenceBucket(b, 513), -1);
    const auto r = nxdSequenceRanges(b);
    QCOMPARE(r.size(), size_t(3));
    QCOMPARE(r[0].first, 0);
    QCOMPARE(r[0].last, 127);
    QCOMPARE(r[1].first, 128);
    QCOMPARE(r[1].last, 255);
    QCOMPARE(r[2].first, 256);
    QCOMPARE(r[2].last, 512);
    // Every required length: the ranges and the first fit agree.
    for (int64_t x = 0; x <= 600; ++x) {
        const int k = nxdSequenceBucket(b, x);
        const int64_t sim = getSeqBucket(b, x, 0);
        QCOMPARE(k < 0 ? int64_t(-1) : b[size_t(k)], sim);
        if (k >= 0)
            QVERIFY(r[size_t(k)].first <= x && x <= r[size_t(k)].last);
    }
}

void TestLlmWorkload::gridRule()
{
    const std::vector<int64_t> batches{1, 4, 8}, seq{128, 256};
    QCOMPARE(nxdGridBatchBucket(batches, 1), 0);
    QCOMPARE(nxdGridBatchBucket(batches, 2), 1);
    QCOMPARE(nxdGridBatchBucket(batches, 8), 2);
    QCOMPARE(nxdGridBatchBucket(batches, 9), -1);
    QCOMPARE(nxdGridSequenceBucket(seq, 128), 0); // `<=` in the 2-D rule
    QCOMPARE(nxdGridSequenceBucket(seq, 129), 1);
    QCOMPARE(nxdGridSequenceBucket(seq, 257), -1);
}

void TestLlmWorkload::workloadEqualsSimulation_data()
{
    QTest::addColumn<int>("seed");
    QTest::addColumn<qint64>("maxContext");
    QTest::addColumn<qint64>("seqLen");
    QTest::addColumn<qint64>("speculation");
    QTest::addRow("roomy limits") << 1 << qint64(200) << qint64(400) << qint64(0);
    QTest::addRow("prompts rejected") << 2 << qint64(40) << qint64(400) << qint64(0);
    QTest::addRow("outputs truncated") << 3 << qint64(60) << qint64(70) << qint64(0);
    QTest::addRow("context = seq_len") << 4 << qint64(50) << qint64(50) << qint64(0);
    QTest::addRow("speculation 4") << 5 << qint64(60) << qint64(90) << qint64(4);
    QTest::addRow("speculation 1") << 6 << qint64(60) << qint64(75) << qint64(1);
}

void TestLlmWorkload::workloadEqualsSimulation()
{
    QFETCH(int, seed);
    QFETCH(qint64, maxContext);
    QFETCH(qint64, seqLen);
    QFETCH(qint64, speculation);
    std::mt19937_64 rng{uint64_t(seed)};
    for (int round = 0; round < 20; ++round) {
        const auto traffic = randomTraffic(rng, 80, 40, 60);
        const ServingLimits limits{maxContext, seqLen, speculation};
        const auto w = deriveDecodeWorkload(traffic, limits);
        const auto s = simulate(traffic, limits);
        QCOMPARE(w.requests, traffic.requests());
        QCOMPARE(w.rejected, s.rejected);
        QCOMPARE(w.served, traffic.requests() - s.rejected);
        QCOMPARE(w.truncated, s.truncated);
        QVERIFY(asMap(w.cte) == s.cte);
        QVERIFY(asMap(w.tkg) == s.tkg);
        int64_t steps = 0;
        for (const auto& [r, n] : s.tkg)
            steps += n;
        QCOMPARE(w.tkgSteps, steps);
    }
}

void TestLlmWorkload::evaluatorEqualsSimulation()
{
    std::mt19937_64 rng(11);
    const LatencyCurve cte = LatencyCurve::fromSpec("poly:3,0.05,0.0004");
    const LatencyCurve tkg = LatencyCurve::fromSpec("linear:1.5,0.01");
    LlmCosts costs{cte, tkg, {}, {}, {}};
    for (int round = 0; round < 200; ++round) {
        const auto traffic = randomTraffic(rng, 70, 30, 40);
        const ServingLimits limits{64, 64 + int64_t(rng() % 40), int64_t(rng() % 3)};
        LlmBucketLists lists;
        // Mostly covering lists; every fifth one stops short, so requests fail.
        lists.cte = Boundaries::from(
            randomBuckets(rng, round % 5 == 0 ? 50 : limits.maxContextLength), "random CTE list");
        lists.tkg = Boundaries::from(randomBuckets(rng, round % 5 == 1 ? 70 : limits.seqLen),
                                     "random list");
        const auto e = evaluateLlmBuckets(traffic, limits, costs, lists);
        const auto s = simulate(traffic, limits, lists.cte, lists.tkg, &cte, &tkg);
        QCOMPARE(e.rejected, s.rejected);
        QCOMPARE(e.failed, s.failed);
        QCOMPARE(e.served, s.served);
        if (s.served > 0)
            QVERIFY2(close(e.meanRequestMs * double(e.served), s.latencySum),
                     (std::to_string(e.meanRequestMs * double(e.served)) + " vs " +
                      std::to_string(s.latencySum))
                         .c_str());
        int64_t cteCalls = 0;
        for (const auto& b : e.cte)
            cteCalls += b.calls;
        QCOMPARE(cteCalls, e.served);
    }
}

void TestLlmWorkload::handExample()
{
    // Prompt 5, 4 output tokens: CTE at 5, TKG at positions 5, 6, 7.
    const auto t = RequestTraffic::fromPairs({{5, 4, 1}});
    const auto w = deriveDecodeWorkload(t, {8, 16, 0});
    QCOMPARE(w.tkgSteps, 3);
    QVERIFY(asMap(w.tkg) == (std::map<int64_t, int64_t>{{5, 1}, {6, 1}, {7, 1}}));
    // With buckets [6, 16]: positions 5 fits 6 (5 < 6), 6 and 7 need 16.
    const LatencyCurve one = LatencyCurve::fromSpec("linear:0,1"); // latency = bucket length
    LlmCosts costs{one, one, {}, {}, {}};
    const auto e = evaluateLlmBuckets(t, {8, 16, 0}, costs, {{8}, {6, 16}, {}});
    QCOMPARE(e.meanTtftMs, 8.0);
    QCOMPARE(e.meanDecodeMs, 6.0 + 16.0 + 16.0);
    QCOMPARE(e.tkg[0].calls, 1);
    QCOMPARE(e.tkg[1].calls, 2);
    // A prompt of exactly a non-largest bucket goes to the next one.
    const auto e2 = evaluateLlmBuckets(t, {8, 16, 0}, costs, {{5, 8}, {16}, {}});
    QCOMPARE(e2.meanTtftMs, 8.0);
    // seq_len 7: 2 tokens kept, one TKG step.
    const auto cut = deriveDecodeWorkload(t, {5, 7, 0});
    QCOMPARE(cut.tkgSteps, 1);
    QCOMPARE(cut.truncated, 1);
}

void TestLlmWorkload::limitsAreChecked()
{
    const auto t = RequestTraffic::fromPairs({{5, 4, 1}});
    try {
        deriveDecodeWorkload(t, {32, 16, 0});
        QFAIL("no error");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).contains("max_context_length <= max_length"), e.what());
    }
    QVERIFY_THROWS_EXCEPTION(Error, deriveDecodeWorkload(t, {0, 16, 0}));
    QVERIFY_THROWS_EXCEPTION(Error, deriveDecodeWorkload(t, {8, 16, 16}));
    QVERIFY_THROWS_EXCEPTION(Error, deriveDecodeWorkload(t, {8, kMaxLength + 1, 0}));
    try {
        deriveDecodeWorkload(t, {4, 16, 0});
        QFAIL("no error");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).contains("the longest prompt is 5"), e.what());
    }
}

void TestLlmWorkload::continuousBatchingByHand()
{
    const auto t = RequestTraffic::fromPairs({{4, 3, 1}, {2, 2, 1}});
    // Both start together: round 1 decodes positions 4 and 2 (widest 4), round 2 position 5.
    const auto two = simulateContinuousBatching(t, {8, 16, 0}, 2, 7);
    QCOMPARE(two.calls().size(), size_t(2));
    QCOMPARE(two.calls()[0].batch, 1);
    QCOMPARE(two.calls()[0].required, 5);
    QCOMPARE(two.calls()[1].batch, 2);
    QCOMPARE(two.calls()[1].required, 4);
    QCOMPARE(two.sequenceSteps(), 3);
    // One slot: every step alone at its own position.
    const auto one = simulateContinuousBatching(t, {8, 16, 0}, 1, 7);
    QCOMPARE(one.totalCalls(), 3);
    QCOMPARE(one.maxBatch(), 1);
    QVERIFY_THROWS_EXCEPTION(Error, simulateContinuousBatching(t, {8, 16, 2}, 2));
    QVERIFY_THROWS_EXCEPTION(Error, simulateContinuousBatching(t, {8, 16, 0}, 0));
}

void TestLlmWorkload::continuousBatchingConserves()
{
    std::mt19937_64 rng(5);
    for (int round = 0; round < 20; ++round) {
        const auto traffic = randomTraffic(rng, 60, 40, 50);
        const ServingLimits limits{64, 96, 0};
        const auto w = deriveDecodeWorkload(traffic, limits);
        // Batch 1 is the per-request workload itself.
        const auto one = simulateContinuousBatching(traffic, limits, 1, uint64_t(round));
        std::map<int64_t, int64_t> m;
        for (const auto& c : one.calls())
            m[c.required] += c.count;
        QVERIFY(m == asMap(w.tkg));
        for (int64_t b : {2, 5, 16}) {
            const auto calls = simulateContinuousBatching(traffic, limits, b, uint64_t(round));
            QCOMPARE(calls.sequenceSteps(), w.tkgSteps); // every step decoded once
            QVERIFY(calls.maxBatch() <= b);
            QVERIFY(calls.totalCalls() * b >= w.tkgSteps);
            QVERIFY(calls.maxRequired() <= w.tkg.maxLength());
        }
    }
}

void TestLlmWorkload::decodeLog()
{
    const auto d = parseDecodeLog("batch,position,count\n4,100,3\n1,50,1\n4,100,2\n", "log.csv");
    QCOMPARE(d.calls().size(), size_t(2));
    QCOMPARE(d.totalCalls(), 6);
    QCOMPARE(d.sequenceSteps(), 4 * 5 + 1);
    QCOMPARE(d.maxBatch(), 4);
    QCOMPARE(d.meanBatch(), 21.0 / 6.0);
    const auto noCount = parseDecodeLog("position,batch\n7,2\n", "log.csv");
    QCOMPARE(noCount.totalCalls(), 1);
    QCOMPARE(noCount.calls()[0].batch, 2);
    const std::pair<const char*, const char*> bad[] = {
        {"batch,count\n1,2\n", "log.csv:1: expected a header with batch and position"},
        {"batch,position\n0,5\n", "log.csv:2: batch 0 is outside 1..9e15"},
        {"batch,position\n2,x\n", "log.csv:2: position 'x' is not a whole number"},
        {"batch,position,count\n2,5\n", "log.csv:2: expected 3 columns, the line has 2"},
        {"batch,position\n", "log.csv: no decode calls after the header"},
    };
    for (const auto& [text, expected] : bad) {
        try {
            parseDecodeLog(text, "log.csv");
            QFAIL(text);
        } catch (const Error& e) {
            QVERIFY2(QString(e.what()).startsWith(expected), e.what());
        }
    }
}

void TestLlmWorkload::batchLatency()
{
    const LatencyCurve tkg = LatencyCurve::fromSpec("linear:10,0.01");
    const auto scaled = BatchLatency::load("scale:0.25", tkg);
    QCOMPARE(scaled.at(1, 100), 11.0);
    QCOMPARE(scaled.at(5, 100), 22.0);
    QVERIFY_THROWS_EXCEPTION(Error, BatchLatency::load("scale:-1", tkg));
    QVERIFY_THROWS_EXCEPTION(Error, BatchLatency::load("scale:x", tkg));
    // Measured at batch 1 and 4: linear between, flat below, proportional above.
    const auto m =
        BatchLatency::fromCurves({{4, LatencyCurve::fromPoints({{100, 20.0}, {200, 30.0}}, "b4")},
                                  {1, LatencyCurve::fromPoints({{100, 10.0}, {200, 12.0}}, "b1")}},
                                 "grid");
    QCOMPARE(m.at(1, 100), 10.0);
    QCOMPARE(m.at(2, 100), 10.0 + (20.0 - 10.0) / 3.0);
    QCOMPARE(m.at(4, 200), 30.0);
    QCOMPARE(m.at(8, 200), 60.0);
    // A faster bigger batch lowers the smaller one (the envelope), never the other way.
    const auto dip = BatchLatency::fromCurves({{2, LatencyCurve::fromPoints({{100, 30.0}}, "b2")},
                                               {4, LatencyCurve::fromPoints({{100, 25.0}}, "b4")}},
                                              "dip");
    QCOMPARE(dip.at(2, 100), 25.0);
    QCOMPARE(dip.at(3, 100), 25.0);
    for (int64_t b = 1; b < 12; ++b)
        for (int64_t l = 50; l < 400; l += 7) {
            QVERIFY(m.at(b + 1, l) >= m.at(b, l));
            QVERIFY(m.at(b, l + 7) >= m.at(b, l));
        }
}

QTEST_GUILESS_MAIN(TestLlmWorkload)
#include "tst_llm_workload.moc"
