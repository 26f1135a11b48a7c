// Loading kernels every way users hold them (.py as in the guide, TorchScript source, a
// scripted function archive, a package method, a Neuron-like archive that cannot be loaded)
// and the graph model built from them.
#include "core/demo/demo.h"
#include "core/graph/graph_capture.h"
#include "core/graph/lint.h"
#include "core/kernel/kernel.h"
#include "core/package/package.h"
#include "core/util/error.h"
#include "fixtures.h"
#include "kernel_fixtures.h"
#include "neuron_fixture.h"

#include <nlohmann/json.hpp>

#include <QTemporaryDir>
#include <QTest>

#include <set>

using namespace bucketlab;
using namespace bucketlab::test;

class TestKernel : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void seedPyFile();
    void torchScriptSource();
    void laterDefinitionWins();
    void scriptedFunctionArchive();
    void packageMethod();
    void neuronArchiveKernelIsExtracted();
    void loadErrors_data();
    void loadErrors();
    void graphModelOfSeed();
    void graphOfWholeModel();
    void graphExports();
    void lintOfSerializedCode();

private:
    std::string path(const char* name) const { return s(dir_.filePath(name)); }
    QTemporaryDir dir_;
};

void TestKernel::initTestCase()
{
    QVERIFY(dir_.isValid());
    const auto r = runPython(
        "import sys, torch\nsys.path.insert(0, sys.argv[2])\nimport seed_bucket_kernel as s\n"
        "torch.jit.save(s.get_bucket_kernel(), sys.argv[1])\n",
        {dir_.filePath("seedfn.pt"), QStringLiteral(BUCKETLAB_TEST_DATA)});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    const QByteArray out = writeNeuronFixture(dir_.filePath("neuron.pt"));
    QVERIFY2(out.contains("LOAD FAILED"), out.constData());
}

void TestKernel::seedPyFile()
{
    const Kernel k = loadKernel(s(dataPath("seed_bucket_kernel.py")));
    QCOMPARE(k.name(), std::string("sequence_length_bucket_kernel"));
    QCOMPARE(k.origin(), KernelOrigin::SourceFile);
    QCOMPARE(k.role(), std::optional<KernelRole>(KernelRole::BucketKernel));
    QCOMPARE(k.parameters().at(0).type, std::string("List[Tensor]"));
    QCOMPARE(k.returnType(), std::string("Tuple[List[Tensor], Tensor]"));
    // Line numbers of the file are kept: line 12 is `num_inputs = 3`.
    std::vector<std::string> lines;
    std::stringstream ss(k.source());
    for (std::string l; std::getline(ss, l);)
        lines.push_back(l);
    QCOMPARE(lines.at(11), std::string("  num_inputs = 3"));
}

void TestKernel::torchScriptSource()
{
    const auto file =
        writeText(dir_, "gen.ts", generateKernelSource(layout({4, 8}), KernelForm::Function));
    const Kernel k = loadKernel(file);
    QCOMPARE(k.name(), std::string("bucket_kernel"));
    QCOMPARE(k.parameters().size(), size_t(1));
}

void TestKernel::laterDefinitionWins()
{
    // Guides and notebook exports often repeat a kernel; as in Python, the last one counts.
    const auto file = writeText(dir_, "twice.py",
                                "def kernel(inputs: List[Tensor]) -> int:\n    return 1\n\n"
                                "def kernel(inputs: List[Tensor]) -> int:\n    return 2\n");
    const Kernel k = loadKernel(file);
    QCOMPARE(k.name(), std::string("kernel"));
    QVERIFY(QString::fromStdString(k.source()).contains("return 2"));
    QVERIFY(!QString::fromStdString(k.source()).contains("return 1"));
}

void TestKernel::scriptedFunctionArchive()
{
    const Kernel k = loadKernel(path("seedfn.pt"));
    QCOMPARE(k.origin(), KernelOrigin::ArchiveMethod); // a scripted function is saved as forward
    QCOMPARE(k.role(), std::optional<KernelRole>(KernelRole::BucketKernel));
    QCOMPARE(k.parameters().at(0).name, std::string("tensor_list"));
}

void TestKernel::packageMethod()
{
    writeDemoModel(path("m.pt"), smallDemoConfig(64));
    PackageBuildRequest r;
    r.model = path("m.pt");
    r.boundaries = {16, 64};
    r.inputs = demoInputs();
    r.out = path("pkg.pt");
    buildPackage(r);
    const Kernel k = loadKernel(path("pkg.pt"));
    QCOMPARE(k.name(), std::string("bucket_kernel"));
    QCOMPARE(k.origin(), KernelOrigin::ArchiveMethod);
    QVERIFY(k.source().find("def bucket_kernel") != std::string::npos);
}

void TestKernel::neuronArchiveKernelIsExtracted()
{
    const Kernel k = loadKernel(path("neuron.pt"));
    QCOMPARE(k.origin(), KernelOrigin::ArchiveExtracted);
    QCOMPARE(k.name(), std::string("sequence_length_bucket_kernel"));
    const auto g = kernelGraph(k);
    bool cat = false;
    for (const auto& n : g.nodes)
        cat |= n.kind == "aten::cat";
    QVERIFY(cat);
    // The method that calls it is extracted with the function it calls.
    const Kernel method = loadKernel(path("neuron.pt"), {"bucket_kernel"});
    QCOMPARE(method.name(), std::string("bucket_kernel"));
}

void TestKernel::loadErrors_data()
{
    QTest::addColumn<QString>("text"); // file content; "" = no file
    QTest::addColumn<QString>("function");
    QTest::addColumn<QString>("mentions");
    QTest::addRow("syntax error")
        << "import torch\n\ndef bucket_kernel(xs: List[torch.Tensor]):\n    return xs +* 1\n"
        << ""
        << "k.py:4:";
    QTest::addRow("unknown name")
        << "def bucket_kernel(xs: List[torch.Tensor]):\n    return undefined_thing(xs)\n"
        << ""
        << "k.py:2:";
    QTest::addRow("function not there")
        << "def bucket_kernel(xs: List[torch.Tensor]):\n    return xs\n"
        << "nope"
        << "no function 'nope'";
    QTest::addRow("no functions") << "x = 1\n"
                                  << ""
                                  << "no function definitions";
    QTest::addRow("missing file") << ""
                                  << ""
                                  << "no such file";
}

void TestKernel::loadErrors()
{
    QFETCH(QString, text);
    QFETCH(QString, function);
    QFETCH(QString, mentions);
    std::string file = path("k.py");
    std::remove(file.c_str());
    if (!text.isEmpty())
        writeText(dir_, "k.py", s(text));
    try {
        loadKernel(file, {s(function)});
        QFAIL("loaded a bad kernel");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).contains(mentions), e.what());
        QVERIFY(!QString(e.what()).contains('\n'));
    }
}

void TestKernel::graphModelOfSeed()
{
    const auto g = kernelGraph(loadKernel(s(dataPath("seed_bucket_kernel.py"))));
    QVERIFY(g.printed.find("aten::cat") != std::string::npos);
    QCOMPARE(g.blocks.at(0).owner, -1);
    int loops = 0, ifs = 0;
    for (const auto& n : g.nodes) {
        QCOMPARE(g.nodes[size_t(n.id)].id, n.id);
        loops += n.kind == "prim::Loop";
        ifs += n.kind == "prim::If";
        for (int b : n.blocks)
            QCOMPARE(g.blocks[size_t(b)].owner, n.id);
        for (int v : n.outputs)
            QCOMPARE(g.values[size_t(v)].producer, n.id);
        for (size_t i = 0; i < n.inputs.size(); ++i) {
            const auto& uses = g.values[size_t(n.inputs[i])].uses;
            QVERIFY(std::any_of(uses.begin(), uses.end(), [&](const GraphUse& u) {
                return u.node == n.id && u.input == int(i);
            }));
        }
    }
    QCOMPARE(loops, 2); // enumerate(buckets) and the loop over the inputs, nested
    QVERIFY(ifs >= 2);
    // `torch.cat([tensor, zeros], dim=bucket_dim)` is on line 25, column 38.
    const auto cat = std::find_if(g.nodes.begin(), g.nodes.end(),
                                  [](const GraphNode& n) { return n.kind == "aten::cat"; });
    QCOMPARE(cat->source.line, 25);
    QVERIFY(cat->source.lineText.find("torch.cat") != std::string::npos);
    QVERIFY(g.isInside(cat->id, g.nodes[size_t(g.blocks[size_t(cat->block)].owner)].block));
    // The constant 1 is named after bucket_dim.
    bool named = false;
    for (const auto& v : g.values)
        named |= v.variableName() == "bucket_dim";
    QVERIFY(named);
}

void TestKernel::graphOfWholeModel()
{
    const auto files = prepareDemo(path("demo"));
    const auto g = fileGraph(files.package, "forward");
    QVERIFY2(g.nodes.size() > 300, qPrintable(QString::number(g.nodes.size())));
    bool matmul = false;
    for (const auto& n : g.nodes)
        matmul |= n.kind == "aten::matmul" || n.kind == "aten::linear";
    QVERIFY(matmul); // the bucket model's own layers are inlined
}

void TestKernel::graphExports()
{
    const auto g = kernelGraph(loadKernel(s(dataPath("seed_bucket_kernel.py"))));
    const auto json = graphJson(g);
    QCOMPARE(json["nodes"].size(), g.nodes.size());
    QCOMPARE(json["blocks"].size(), g.blocks.size());
    const std::string dot = graphToDot(g);
    QVERIFY(dot.rfind("digraph", 0) == 0);
    QVERIFY(dot.find("subgraph cluster_b1") != std::string::npos);
    QCOMPARE(std::count(dot.begin(), dot.end(), '{'), std::count(dot.begin(), dot.end(), '}'));
    QCOMPARE(graphToText(g), g.printed);
    QVERIFY_EXCEPTION_THROWN(parseGraphFormat("svg"), Error);
}

void TestKernel::lintOfSerializedCode()
{
    // An archive's code spells for loops as while loops with explicit counters: the lints
    // see the same pitfalls there and do not mistake the counters for user indexing.
    for (const char* file : {"seedfn.pt", "neuron.pt"}) {
        const Kernel k = loadKernel(path(file));
        std::set<std::string> rules;
        for (const auto& f : lintGraph(kernelGraph(k), k.source()))
            rules.insert(f.rule);
        QVERIFY2(rules.count("hardcoded-input-count"), file);
        QVERIFY2(rules.count("shared-padding-dtype"), file);
        QVERIFY2(!rules.count("variable-index"), file);
    }
}

QTEST_GUILESS_MAIN(TestKernel)
#include "tst_kernel.moc"
