// The NxD Inference, vLLM override and vLLM Neuron plugin configs: what they hold, that they
// read back, and every rule of serving_config.h violated once (and only that rule fires);
// compile-cost files and their errors.
#include "core/llm/compile_cost.h"
#include "core/llm/serving_config.h"
#include "core/util/error.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using namespace bucketlab;

namespace {

NxdBucketConfig good()
{
    NxdBucketConfig c;
    c.contextEncodingBuckets = {512, 2048, 8192};
    c.tokenGenerationBuckets = {1024, 4096, 10240};
    c.maxContextLength = 8192;
    c.seqLen = 10240;
    return c;
}

QStringList rules(const std::vector<ConfigViolation>& v)
{
    QStringList out;
    for (const auto& x : v)
        out << QString::fromStdString(x.rule);
    return out;
}

QJsonObject object(const std::string& json)
{
    return QJsonDocument::fromJson(QByteArray::fromStdString(json)).object();
}

} // namespace

class TestLlmConfig : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void validConfigsPass();
    void nxdRules_data();
    void nxdRules();
    void vllmRules();
    void pluginRules_data();
    void pluginRules();
    void jsonForms();
    void readBackAndErrors();
    void compileCostFiles();
};

void TestLlmConfig::validConfigsPass()
{
    QVERIFY(checkNxdConfig(good()).empty());
    QVERIFY(checkVllmOverride(good(), {10240, 1, 8192}).empty());
    auto twoD = good();
    twoD.tokenGenerationBatches = {1, 4, 8};
    twoD.batchSize = 8;
    QVERIFY(checkNxdConfig(twoD).empty());
    QVERIFY(checkVllmOverride(twoD, {10240, 8, 8192}).empty());
    QVERIFY(checkVllmNeuronPlugin({{512, 8192}, {1, 8}}, {10240, 8, 8192}).empty());
    requireNoViolations({}, "fine"); // no throw
}

void TestLlmConfig::nxdRules_data()
{
    QTest::addColumn<int>("which");
    QTest::addColumn<QString>("rule");
    QTest::addColumn<QString>("message");
    QTest::addRow("context > seq_len") << 0 << "nxd.max_context_length_le_max_length"
                                       << "max_context_length 12000 is above max_length";
    QTest::addRow("context unsorted") << 1 << "nxd.context_buckets_sorted"
                                      << "2048 follows 4096";
    QTest::addRow("context repeat") << 2 << "nxd.context_buckets_sorted"
                                    << "2048 follows 2048";
    QTest::addRow("context too long") << 3 << "nxd.context_buckets_le_max_context"
                                      << "9000 is above max_context_length 8192";
    QTest::addRow("context short") << 4 << "nxd.context_buckets_cover_max_context"
                                   << "NxD raises for prompts longer than 4096";
    QTest::addRow("tkg empty") << 5 << "nxd.tkg_buckets_sorted"
                               << "is empty";
    QTest::addRow("tkg zero") << 6 << "nxd.tkg_buckets_sorted"
                              << "buckets must be positive";
    QTest::addRow("tkg too long") << 7 << "nxd.tkg_buckets_le_max_length"
                                  << "12000 is above max_length (seq_len) 10240";
    QTest::addRow("tkg short") << 8 << "nxd.tkg_buckets_cover_seq_len"
                               << "decodes past position 8192";
    QTest::addRow("batches unsorted") << 9 << "nxd.batches_sorted"
                                      << "1 follows 4";
    QTest::addRow("batch too big") << 10 << "nxd.batches_le_tkg_batch_size"
                                   << "16 is above the batch size (tkg_batch_size) 8";
    QTest::addRow("batch size missing") << 11 << "nxd.batches_le_tkg_batch_size"
                                        << "needs the batch size";
    QTest::addRow("batches with speculation") << 12 << "nxd.batches_without_speculation"
                                              << "speculation_length 4";
}

void TestLlmConfig::nxdRules()
{
    QFETCH(int, which);
    QFETCH(QString, rule);
    QFETCH(QString, message);
    NxdBucketConfig c = good();
    switch (which) {
    case 0:
        c.maxContextLength = 12000;
        c.contextEncodingBuckets = {512, 12000};
        break;
    case 1: c.contextEncodingBuckets = {4096, 2048, 8192}; break;
    case 2: c.contextEncodingBuckets = {2048, 2048, 8192}; break;
    case 3: c.contextEncodingBuckets = {512, 9000}; break;
    case 4: c.contextEncodingBuckets = {512, 4096}; break;
    case 5: c.tokenGenerationBuckets = {}; break;
    case 6: c.tokenGenerationBuckets = {0, 10240}; break;
    case 7: c.tokenGenerationBuckets = {1024, 12000}; break;
    case 8: c.tokenGenerationBuckets = {1024, 8192}; break;
    case 9:
        c.tokenGenerationBatches = {4, 1, 8};
        c.batchSize = 8;
        break;
    case 10:
        c.tokenGenerationBatches = {4, 16};
        c.batchSize = 8;
        break;
    case 11: c.tokenGenerationBatches = {4, 8}; break;
    case 12:
        c.tokenGenerationBatches = {4, 8};
        c.batchSize = 8;
        c.speculationLength = 4;
        break;
    }
    const auto v = checkNxdConfig(c);
    QCOMPARE(rules(v), QStringList{rule});
    QVERIFY2(QString::fromStdString(v[0].message).contains(message), v[0].message.c_str());
    try {
        requireNoViolations(v, "out.json");
        QFAIL("no error");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).startsWith("out.json: rule " + rule + ": "), e.what());
    }
}

void TestLlmConfig::vllmRules()
{
    // The NxD rules apply under vLLM too, plus agreement with vLLM's own settings.
    auto v = checkVllmOverride(good(), {8192, 1, 8192});
    QCOMPARE(rules(v), QStringList{"vllm.seq_len_is_max_model_len"});
    auto twoD = good();
    twoD.tokenGenerationBatches = {2, 8};
    twoD.batchSize = 8;
    v = checkVllmOverride(twoD, {10240, 4, 8192});
    QCOMPARE(rules(v), QStringList{"vllm.batches_le_max_num_seqs"});
    auto broken = good();
    broken.contextEncodingBuckets = {512, 4096};
    v = checkVllmOverride(broken, {10240, 1, 8192});
    QCOMPARE(rules(v), QStringList{"nxd.context_buckets_cover_max_context"});
}

void TestLlmConfig::pluginRules_data()
{
    QTest::addColumn<QList<qint64>>("tokens");
    QTest::addColumn<QList<qint64>>("seqs");
    QTest::addColumn<QString>("rule");
    QTest::addRow("tokens unsorted") << QList<qint64>{1024, 512, 8192} << QList<qint64>{1, 8}
                                     << "vllm_neuron.batched_tokens_sorted";
    QTest::addRow("tokens largest")
        << QList<qint64>{512, 4096} << QList<qint64>{1, 8} << "vllm_neuron.batched_tokens_max";
    QTest::addRow("seqs empty") << QList<qint64>{512, 8192} << QList<qint64>{}
                                << "vllm_neuron.num_seqs_sorted";
    QTest::addRow("seqs largest") << QList<qint64>{512, 8192} << QList<qint64>{1, 4}
                                  << "vllm_neuron.num_seqs_max";
}

void TestLlmConfig::pluginRules()
{
    QFETCH(QList<qint64>, tokens);
    QFETCH(QList<qint64>, seqs);
    QFETCH(QString, rule);
    VllmNeuronBuckets b;
    b.numBatchedTokensBuckets.assign(tokens.begin(), tokens.end());
    b.numSeqsBuckets.assign(seqs.begin(), seqs.end());
    QCOMPARE(rules(checkVllmNeuronPlugin(b, {10240, 8, 8192})), QStringList{rule});
}

void TestLlmConfig::jsonForms()
{
    auto c = good();
    auto j = object(nxdNeuronConfigJson(c));
    QCOMPARE(j["enable_bucketing"].toBool(), true);
    QCOMPARE(j["context_encoding_buckets"].toArray().size(), 3);
    QCOMPARE(j["token_generation_buckets"].toArray().last().toInteger(), 10240);
    QCOMPARE(j["max_context_length"].toInteger(), 8192);
    QCOMPARE(j["seq_len"].toInteger(), 10240);
    QVERIFY(!j.contains("token_generation_batches"));
    QVERIFY(!j.contains("batch_size"));
    c.tokenGenerationBatches = {2, 8};
    c.batchSize = 8;
    j = object(nxdNeuronConfigJson(c));
    QCOMPARE(j["token_generation_batches"].toArray().size(), 2);
    QCOMPARE(j["batch_size"].toInteger(), 8);
    const auto o = object(vllmOverrideJson(c));
    QVERIFY(o["override_neuron_config"].isObject());
    QCOMPARE(o["override_neuron_config"].toObject()["seq_len"].toInteger(), 10240);
    // Under vLLM the plugin sets batch_size from --max-num-seqs: not overridden.
    QVERIFY(!o["override_neuron_config"].toObject().contains("batch_size"));
    const auto p = object(vllmNeuronPluginJson({{512, 8192}, {1, 8}}));
    QCOMPARE(p["neuron_config"].toObject()["num_seqs_buckets"].toArray().size(), 2);
}

void TestLlmConfig::readBackAndErrors()
{
    auto c = good();
    c.tokenGenerationBatches = {2, 8};
    c.batchSize = 8;
    for (const std::string& text : {nxdNeuronConfigJson(c), vllmOverrideJson(c)}) {
        const auto back = nxdConfigFromJson(text, "x.json");
        QVERIFY(back.contextEncodingBuckets == c.contextEncodingBuckets);
        QVERIFY(back.tokenGenerationBuckets == c.tokenGenerationBuckets);
        QCOMPARE(back.seqLen, c.seqLen);
        QCOMPARE(back.maxContextLength, c.maxContextLength);
        QVERIFY(back.tokenGenerationBatches == c.tokenGenerationBatches);
    }
    QCOMPARE(nxdConfigFromJson(vllmOverrideJson(c), "x").batchSize, 0);
    const auto p = vllmNeuronPluginFromJson(vllmNeuronPluginJson({{512, 8192}, {1, 8}}), "p");
    QVERIFY(p.numSeqsBuckets == (std::vector<int64_t>{1, 8}));
    // NeuronConfig's default: max_context_length falls back to seq_len.
    QCOMPARE(nxdConfigFromJson("{\"seq_len\": 4096}", "x").maxContextLength, 4096);
    const std::pair<const char*, const char*> bad[] = {
        {"[1]", "x.json: expected a JSON object"},
        {"{", "x.json: not valid JSON"},
        {"{\"context_encoding_buckets\": [1, \"a\"]}", "must be a list of integers"},
        {"{\"context_encoding_buckets\": 5}", "must be a list of integers"},
        {"{\"seq_len\": 1.5}", "seq_len must be an integer"},
        {"{\"override_neuron_config\": 3}", "override_neuron_config must be an object"},
    };
    for (const auto& [text, expected] : bad) {
        try {
            nxdConfigFromJson(text, "x.json");
            QFAIL(text);
        } catch (const Error& e) {
            QVERIFY2(QString(e.what()).contains(expected), e.what());
        }
    }
}

void TestLlmConfig::compileCostFiles()
{
    const auto c = CompileCost::fromCsv("length,compile_s,memory_mib\n128,60,100\n1024,240,400\n",
                                        "compile.csv");
    QVERIFY(c.known());
    QVERIFY(c.hasMemory());
    QVERIFY(!c.constantPerBucket());
    QCOMPARE(c.seconds(128), 60.0);
    QCOMPARE(c.seconds(576), 150.0); // linear between the points
    QCOMPARE(c.seconds(64), 60.0);   // flat below
    QCOMPARE(c.totalSeconds({128, 1024}), 300.0);
    QCOMPARE(c.totalMemoryMiB({128, 1024}), 500.0);
    const auto flat = CompileCost::load("linear:90,0");
    QVERIFY(flat.constantPerBucket());
    QVERIFY(!flat.hasMemory());
    QCOMPARE(flat.seconds(5000), 90.0);
    QVERIFY(CompileCost().constantPerBucket());
    QCOMPARE(CompileCost().totalSeconds({1, 2}), 0.0);
    const std::pair<const char*, const char*> bad[] = {
        {"", "c.csv: empty file"},
        {"size,seconds\n1,2\n", "c.csv:1: expected a header with length and compile_s"},
        {"length,compile_s\n128,-1\n", "c.csv:2: compile_s -1 must be positive"},
        {"length,compile_s\n128,x\n", "c.csv:2: compile_s 'x' is not a finite number"},
        {"length,compile_s\n12.5,3\n", "c.csv:2: length 12.5 is not a whole number"},
        {"length,compile_s\n128,3\n128,4\n", "c.csv:3: length 128 appears twice"},
        {"length,compile_s,memory_mib\n128,3\n", "c.csv:2: expected 3 columns"},
        {"length,compile_s\n", "c.csv: no rows after the header"},
    };
    for (const auto& [text, expected] : bad) {
        try {
            CompileCost::fromCsv(text, "c.csv");
            QFAIL(text);
        } catch (const Error& e) {
            QVERIFY2(QString(e.what()).startsWith(expected), e.what());
        }
    }
    try {
        CompileCost::load("linear:1");
        QFAIL("no error");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).startsWith("compile cost: "), e.what());
    }
}

QTEST_GUILESS_MAIN(TestLlmConfig)
#include "tst_llm_config.moc"
