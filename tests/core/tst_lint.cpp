// Each lint rule against a kernel that triggers it and one that does not, the guide's seed
// kernel, and BucketLab's generated kernels (which must lint clean).
#include "core/graph/graph_capture.h"
#include "core/graph/lint.h"
#include "core/kernel/kernel.h"
#include "kernel_fixtures.h"

#include <QTemporaryDir>

#include <QTest>
#include <nlohmann/json.hpp>

using namespace bucketlab;
using namespace bucketlab::test;

namespace {

const char* kHeader = "import torch\nfrom typing import List, Tuple\n\n";

// A small correct kernel (one bucket of 16) with a marked statement to vary.
std::string kernelWith(const std::string& body)
{
    return std::string(kHeader) + body;
}

const char* kCleanList = R"(def bucket_kernel(tensor_list: List[torch.Tensor]):
    out: List[torch.Tensor] = []
    for t in tensor_list:
        pad_shape: List[int] = t.size()
        pad_shape[1] = 16 - t.size(1)
        out.append(torch.cat([t, torch.zeros(pad_shape, dtype=t.dtype)], 1))
    return out, torch.tensor([0], dtype=torch.int64)
)";

} // namespace

class TestLint : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { QVERIFY(dir_.isValid()); }
    void rules_data();
    void rules();
    void seedKernel();
    void generatedKernelsLintClean();
    void everyRuleIsDocumented();

private:
    std::vector<LintFinding> lint(const std::string& text)
    {
        const auto file = writeText(dir_, QString("k%1.py").arg(++n_), text);
        const Kernel k = loadKernel(file);
        return lintGraph(kernelGraph(k), k.source());
    }
    QTemporaryDir dir_;
    int n_ = 0;
};

void TestLint::rules_data()
{
    QTest::addColumn<QString>("rule");
    QTest::addColumn<QString>("triggers");
    QTest::addColumn<QString>("clean");
    QTest::addRow("literal-reuse") << "literal-reuse"
                                   << R"(def bucket_kernel(tensor_list: List[torch.Tensor]):
    dim = 1
    count = 0
    out: List[torch.Tensor] = []
    for t in tensor_list:
        out.append(torch.cat([t, torch.zeros([t.size(0), 16 - t.size(dim)], dtype=t.dtype)], dim))
        count += 1
    return out, torch.tensor([0], dtype=torch.int64)
)" << kCleanList;
    QTest::addRow("tensor-typed-list") << "tensor-typed-list"
                                       << R"(def bucket_kernel(tensor_list):
    out: List[torch.Tensor] = []
    for t in tensor_list:
        out.append(t)
    return out, torch.tensor([0], dtype=torch.int64)
)" << kCleanList;
    // NxD's constant arguments: a bucket tensor annotated as one is indexed on purpose.
    QTest::addRow("tensor-typed-list, constant argument")
        << "tensor-typed-list"
        << R"(def bucket_kernel(tensor_list: List[torch.Tensor], buckets):
    largest = int(buckets[0])
    return tensor_list, torch.tensor([largest - largest], dtype=torch.int64)
)"
        << R"(def bucket_kernel(tensor_list: List[torch.Tensor], buckets: torch.Tensor):
    largest = int(buckets[0])
    return tensor_list, torch.tensor([largest - largest], dtype=torch.int64)
)";
    QTest::addRow("variable-index") << "variable-index"
                                    << R"(def bucket_kernel(tensor_list: List[torch.Tensor]):
    last = len(tensor_list) - 1
    x = tensor_list[last]
    return [x], torch.tensor([0], dtype=torch.int64)
)"
                                    << R"(def bucket_kernel(tensor_list: List[torch.Tensor]):
    x = tensor_list[0]
    return [x], torch.tensor([0], dtype=torch.int64)
)";
    QTest::addRow("slice-lowering") << "slice-lowering"
                                    << R"(def bucket_kernel(tensor_list: List[torch.Tensor]):
    x = tensor_list[0]
    return [x[:, :16]], torch.tensor([0], dtype=torch.int64)
)"
                                    << R"(def bucket_kernel(tensor_list: List[torch.Tensor]):
    x = tensor_list[0]
    return [torch.ops.aten.slice(x, dim=1, start=0, end=16)], torch.tensor([0], dtype=torch.int64)
)";
    QTest::addRow("hardcoded-input-count, counter")
        << "hardcoded-input-count"
        << R"(def bucket_kernel(tensor_list: List[torch.Tensor]):
    remaining = 2
    out: List[torch.Tensor] = []
    for t in tensor_list:
        if remaining == 0:
            break
        out.append(t)
        remaining -= 1
    return out, torch.tensor([0], dtype=torch.int64)
)" << kCleanList;
    QTest::addRow("hardcoded-input-count, range")
        << "hardcoded-input-count"
        << R"(def bucket_kernel(tensor_list: List[torch.Tensor]):
    out: List[torch.Tensor] = []
    for i in range(2):
        out.append(tensor_list[i])
    return out, torch.tensor([0], dtype=torch.int64)
)"
        << R"(def bucket_kernel(tensor_list: List[torch.Tensor]):
    if len(tensor_list) != 2:
        raise Exception("expected 2 inputs")
    out: List[torch.Tensor] = []
    for i in range(2):
        out.append(tensor_list[i])
    return out, torch.tensor([0], dtype=torch.int64)
)";
    QTest::addRow("shared-padding-dtype") << "shared-padding-dtype"
                                          << R"(def bucket_kernel(tensor_list: List[torch.Tensor]):
    x = tensor_list[0]
    out: List[torch.Tensor] = []
    for t in tensor_list:
        out.append(torch.cat([t, torch.zeros([t.size(0), 16 - t.size(1)], dtype=x.dtype)], 1))
    return out, torch.tensor([0], dtype=torch.int64)
)" << kCleanList;
    QTest::addRow("shared-padding-dtype, default float")
        << "shared-padding-dtype"
        << R"(def bucket_kernel(tensor_list: List[torch.Tensor]):
    out: List[torch.Tensor] = []
    for t in tensor_list:
        out.append(torch.cat([t, torch.zeros([t.size(0), 16 - t.size(1)])], 1))
    return out, torch.tensor([0], dtype=torch.int64)
)" << kCleanList;
    // int32 is clean: NxD's kernels return it and the validator accepts it.
    QTest::addRow("bucket-index-dtype, int16")
        << "bucket-index-dtype"
        << R"(def bucket_kernel(tensor_list: List[torch.Tensor]):
    return tensor_list, torch.tensor([0], dtype=torch.int16)
)"
        << R"(def bucket_kernel(tensor_list: List[torch.Tensor]):
    return tensor_list, torch.tensor([0], dtype=torch.int32)
)";
    QTest::addRow("negative-padding") << "negative-padding"
                                      << R"(def bucket_kernel(tensor_list: List[torch.Tensor]):
    out: List[torch.Tensor] = []
    for t in tensor_list:
        out.append(torch.constant_pad_nd(t, [0, 16 - t.size(1)], 0))
    return out, torch.tensor([0], dtype=torch.int64)
)"
                                      << R"(def bucket_kernel(tensor_list: List[torch.Tensor]):
    out: List[torch.Tensor] = []
    for t in tensor_list:
        if t.size(1) > 16:
            raise ValueError("length " + str(t.size(1)) + " exceeds the largest bucket 16")
        out.append(torch.constant_pad_nd(t, [0, 16 - t.size(1)], 0))
    return out, torch.tensor([0], dtype=torch.int64)
)";
    QTest::addRow("bucket-index-dtype, int")
        << "bucket-index-dtype"
        << R"(def bucket_kernel(tensor_list: List[torch.Tensor]):
    idx = len(tensor_list) - len(tensor_list)
    return tensor_list, idx
)"
        << R"(def bucket_kernel(tensor_list: List[torch.Tensor]):
    return tensor_list, torch.tensor([len(tensor_list) - len(tensor_list)])
)";
}

void TestLint::rules()
{
    QFETCH(QString, rule);
    QFETCH(QString, triggers);
    QFETCH(QString, clean);
    auto has = [&](const std::vector<LintFinding>& fs) {
        for (const auto& f : fs)
            if (f.rule == s(rule))
                return &f - fs.data() + 1;
        return long(0);
    };
    const auto bad = lint(kernelWith(s(triggers)));
    const long at = has(bad);
    QVERIFY2(at > 0, qPrintable("not flagged: " + rule));
    const auto& f = bad[size_t(at - 1)];
    QVERIFY(f.line > 3); // a line of the kernel, after the imports
    QVERIFY(!f.message.empty());
    QVERIFY(!f.nodes.empty());
    QCOMPARE(f.severity, lintRule(f.rule).severity);
    const auto good = lint(kernelWith(s(clean)));
    std::string all;
    for (const auto& g : good)
        all += g.rule + ": " + g.message + "; ";
    QVERIFY2(!has(good), all.c_str());
}

void TestLint::seedKernel()
{
    const Kernel k = loadKernel(s(dataPath("seed_bucket_kernel.py")));
    const auto findings = lintGraph(kernelGraph(k), k.source());
    auto find = [&](const std::string& rule) -> const LintFinding* {
        for (const auto& f : findings)
            if (f.rule == rule)
                return &f;
        return nullptr;
    };
    // `num_inputs -= 1` is lowered onto the constant named bucket_dim.
    const LintFinding* reuse = nullptr;
    for (const auto& f : findings)
        if (f.rule == "literal-reuse" && f.message.find("`bucket_dim`") != std::string::npos)
            reuse = &f;
    QVERIFY(reuse);
    QVERIFY2(reuse->message.find("num_inputs -= 1") != std::string::npos, reuse->message.c_str());
    QCOMPARE(reuse->line, 26);
    const auto* count = find("hardcoded-input-count");
    QVERIFY(count);
    QCOMPARE(count->line, 12); // num_inputs = 3
    QVERIFY(find("shared-padding-dtype"));
    QVERIFY(!find("bucket-index-dtype")); // torch.tensor([int]) is int64
    const auto json = lintFindingsJson(findings).dump(2);
    QVERIFY(json.find("\"rule\": \"literal-reuse\"") != std::string::npos);
}

void TestLint::generatedKernelsLintClean()
{
    for (const auto& b :
         std::vector<std::vector<int64_t>>{{128, 512}, {1}, {0 + 1, 2, 3, 4}, {32, 64, 128, 512}})
        for (int inputs : {1, 2, 3}) {
            KernelLayout l = layout(b, inputs);
            const auto findings = lint(generatedKernelPy(l));
            std::string all;
            for (const auto& f : findings)
                all += f.rule + " line " + std::to_string(f.line) + ": " + f.message + "; ";
            QVERIFY2(findings.empty(), all.c_str());
        }
}

void TestLint::everyRuleIsDocumented()
{
    QCOMPARE(lintRules().size(), size_t(8));
    for (const auto& r : lintRules()) {
        QVERIFY(!r.explanation.empty());
        QVERIFY(!r.fix.empty());
        QCOMPARE(&lintRule(r.id), &r);
    }
}

QTEST_GUILESS_MAIN(TestLint)
#include "tst_lint.moc"
