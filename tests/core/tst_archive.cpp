// Reading archives without executing them: the safe pickle reader on Python's own pickles,
// the module tree, tensors and methods of real TorchScript archives (compared with what
// LibTorch reports after loading), a Neuron-like archive that cannot be loaded here, and
// corrupt input.
#include "core/archive/archive.h"
#include "core/archive/model_info.h"
#include "core/archive/pickle_reader.h"
#include "core/runtime/torch_io_p.h"
#include "core/util/error.h"
#include "fixtures.h"
#include "neuron_fixture.h"
#include "testutil.h"

#include <torch/script.h>

#include <QTemporaryDir>
#include <QTest>

#include <set>

using namespace bucketlab;
using namespace bucketlab::test;

class TestArchive : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void pickleFromPython();
    void pickleRejectsBadInput_data();
    void pickleRejectsBadInput();
    void moduleTreeMatchesLoadedModule();
    void neuronArchiveIsReadNotLoaded();
    void kernelSourcesAreFound();
    void tensorConstants();
    void badArchives_data();
    void badArchives();

private:
    std::string path(const char* name) const { return s(dir_.filePath(name)); }
    QTemporaryDir dir_;
};

void TestArchive::initTestCase()
{
    QVERIFY(dir_.isValid());
    writeDemoModel(path("demo.pt"), smallDemoConfig(64));
    const QByteArray out = writeNeuronFixture(dir_.filePath("neuron.pt"));
    QVERIFY2(out.contains("LOAD FAILED"), out.constData());
}

void TestArchive::pickleFromPython()
{
    const auto r = runPython(R"(
import pickle, sys, collections
value = {'a': [1, -2, 300, 70000, -(2**40), 2**62], 'b': (1.5, True, None, 'text'),
         'c': collections.OrderedDict(), 'd': b'bytes'}
shared = [1, 2]
value['e'] = (shared, shared)
sys.stdout.buffer.write(pickle.dumps(value, protocol=2))
)");
    QCOMPARE(r.exitCode, 0);
    const auto root = readPickle(r.out.toStdString(), "python.pkl");
    QCOMPARE(int(root->kind), int(PickleValue::Kind::Dict));
    const auto a = root->get("a");
    QVERIFY(a);
    std::vector<int64_t> ints;
    for (const auto& i : a->items)
        ints.push_back(i->intValue);
    QCOMPARE(ints,
             (std::vector<int64_t>{1, -2, 300, 70000, -(int64_t(1) << 40), int64_t(1) << 62}));
    const auto b = root->get("b");
    QCOMPARE(b->items.at(0)->floatValue, 1.5);
    QVERIFY(b->items.at(1)->boolValue);
    QCOMPARE(int(b->items.at(2)->kind), int(PickleValue::Kind::None));
    QCOMPARE(b->items.at(3)->text, std::string("text"));
    // OrderedDict() is a REDUCE of a GLOBAL: kept as data, never constructed.
    QCOMPARE(pickleClassName(*root->get("c")), std::string("collections OrderedDict"));
    // The memo keeps shared objects shared.
    const auto e = root->get("e");
    QCOMPARE(e->items.at(0), e->items.at(1));
}

void TestArchive::pickleRejectsBadInput_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("mentions");
    QTest::addRow("empty") << QByteArray() << "truncated";
    QTest::addRow("truncated string")
        << QByteArray("\x80\x02X\x10\x00\x00\x00ab", 10) << "truncated";
    QTest::addRow("unknown opcode") << QByteArray("\x80\x02\xff", 3) << "unsupported pickle opcode";
    QTest::addRow("memo never stored") << QByteArray("\x80\x02h\x05.", 5) << "memo entry 5";
    QTest::addRow("pops too much") << QByteArray("\x80\x02"
                                                 "a.",
                                                 4)
                                   << "pops more";
    QTest::addRow("no mark") << QByteArray("\x80\x02K\x01t.", 6) << "no MARK";
}

void TestArchive::pickleRejectsBadInput()
{
    QFETCH(QByteArray, bytes);
    QFETCH(QString, mentions);
    try {
        readPickle(bytes.toStdString(), "bad.pkl");
        QFAIL("accepted a bad pickle");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).contains(mentions), e.what());
        QVERIFY(QString(e.what()).startsWith("bad.pkl: "));
    }
}

void TestArchive::moduleTreeMatchesLoadedModule()
{
    const auto archive = readArchive(path("demo.pt"));
    auto module = torch::jit::load(path("demo.pt"));
    int64_t params = 0;
    std::set<std::string> names;
    for (const auto& p : module.named_parameters(true)) {
        params += p.value.numel();
        names.insert(p.name);
    }
    for (const auto& b : module.named_buffers(true))
        names.insert(b.name);
    QCOMPARE(archive.parameterCount, params);
    std::set<std::string> read;
    for (const auto& t : archive.tensors)
        read.insert(t.name);
    QCOMPARE(read, names);
    for (const auto& t : archive.tensors) {
        const auto real = module.attr(t.name).toTensor();
        QCOMPARE(t.shape, real.sizes().vec());
        QCOMPARE(t.bytes, int64_t(real.numel() * real.element_size()));
    }
    std::set<std::string> methods;
    for (const auto& m : archive.rootMethods())
        methods.insert(m.name);
    QVERIFY(methods.count("forward"));
    const auto info = inspectModel(path("demo.pt"));
    QCOMPARE(info.methods.at(0).schema,
             std::string("forward(Tensor input_ids, Tensor attention_mask) -> Tensor"));
}

void TestArchive::neuronArchiveIsReadNotLoaded()
{
    const std::string file = path("neuron.pt");
    QVERIFY_EXCEPTION_THROWN(torch::jit::load(file), std::exception);
    const auto archive = readArchive(file);
    QCOMPARE(archive.customClasses, std::vector<std::string>{"torch.classes.neuron.Model"});
    QCOMPARE(archive.modules.size(), size_t(3));
    QCOMPARE(archive.modules[1].path, std::string("bucket_0"));
    QVERIFY(archive.modules[1].customClass);
    QCOMPARE(archive.parameterCount, int64_t(16));
    const auto info = inspectModel(file);
    QCOMPARE(info.submodules, (std::vector<std::string>{"bucket_0", "bucket_1"}));
    std::set<std::string> methods;
    for (const auto& m : info.methods)
        methods.insert(m.name);
    QCOMPARE(methods, (std::set<std::string>{"forward", "bucket_kernel"}));
    QVERIFY(!info.kernels.empty());
    bool seedSource = false;
    for (const auto& k : info.kernels)
        seedSource |= k.source.find("num_inputs = 3") != std::string::npos;
    QVERIFY(seedSource);
}

void TestArchive::kernelSourcesAreFound()
{
    const auto archive = readArchive(path("neuron.pt"));
    QVERIFY(archive.kernels.size() >= 2);
    // The root's method first, then the free function it calls.
    QCOMPARE(archive.kernels[0].function.name, std::string("bucket_kernel"));
    QCOMPARE(archive.kernels[0].function.owner, std::string("__torch__.BucketModel"));
    QCOMPARE(archive.kernels[1].function.qualifiedName,
             std::string("__torch__.seed_bucket_kernel.sequence_length_bucket_kernel"));
    QCOMPARE(archive.kernels[1].function.schema(),
             std::string("sequence_length_bucket_kernel(List[Tensor] tensor_list) -> "
                         "Tuple[List[Tensor], Tensor]"));
    QCOMPARE(kernelRoleOfName("shared_state_buffer_preprocessor"),
             std::optional<KernelRole>(KernelRole::StatePreprocessor));
}

void TestArchive::tensorConstants()
{
    // Tracing turns a captured tensor into CONSTANTS.c0, stored in constants.pkl.
    const auto r = runPython("import sys, torch\n"
                             "table = torch.arange(6, dtype=torch.float32).reshape(2, 3)\n"
                             "def f(x):\n    return x + table\n"
                             "torch.jit.trace(f, torch.zeros(2, 3)).save(sys.argv[1])\n",
                             {dir_.filePath("const.pt")});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    const auto archive = readArchive(path("const.pt"));
    QCOMPARE(archive.constants.size(), size_t(1));
    QCOMPARE(archive.constants[0].name, std::string("c0"));
    QCOMPARE(archive.constants[0].shape, (std::vector<int64_t>{2, 3}));
    QCOMPARE(archive.constants[0].dtype, std::string("Float"));
    QCOMPARE(archive.constants[0].bytes, int64_t(24));
}

void TestArchive::badArchives_data()
{
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QString>("mentions");
    QTest::addRow("missing") << "missing"
                             << "no such file";
    QTest::addRow("truncated") << "truncated"
                               << "truncated or corrupt";
    QTest::addRow("random bytes") << "random"
                                  << "not a TorchScript archive";
    QTest::addRow("corrupt data.pkl") << "badpickle"
                                      << "data.pkl";
}

void TestArchive::badArchives()
{
    QFETCH(QString, kind);
    QFETCH(QString, mentions);
    const std::string bad = path("bad.pt");
    std::remove(bad.c_str());
    const QByteArray demo = readAll(dir_.filePath("demo.pt"));
    if (kind == "truncated")
        writeAll(QString::fromStdString(bad), demo.left(demo.size() / 2));
    else if (kind == "random")
        writeAll(QString::fromStdString(bad), QByteArray(1000, 'x'));
    else if (kind == "badpickle") {
        caffe2::serialize::PyTorchStreamWriter w(bad);
        w.writeRecord("data.pkl", "\x80\x02\xfe", 3);
        w.writeRecord("code/__torch__.py", "", 0);
        w.writeEndOfFile();
    }
    try {
        readArchive(bad);
        QFAIL("read a bad archive");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).contains(mentions), e.what());
        QVERIFY(QString(e.what()).startsWith(QString::fromStdString(bad)));
        QVERIFY(!QString(e.what()).contains('\n'));
    }
}

QTEST_GUILESS_MAIN(TestArchive)
#include "tst_archive.moc"
