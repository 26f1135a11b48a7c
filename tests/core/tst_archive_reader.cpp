// Reading zip and TorchScript archives without LibTorch (this test links only the plain
// library): the zip reader on zips Python writes (stored, deflated, ZIP64) and on hostile ones
// (zip bombs, flipped bytes, truncation, unsafe or duplicate names, limits); the pickle
// reader's limits (depth, values, size), cycles and non-UTF-8 text; and hostile TorchScript
// archives through readArchive and `bucketlab-cli inspect`: one-line errors naming the file
// and record, no crash, little memory. The files come from tests/archive_fixtures.py.
#include "core/archive/archive.h"
#include "core/archive/model_info.h"
#include "core/archive/pickle_reader.h"
#include "core/archive/script_code.h"
#include "core/archive/zip_reader.h"
#include "core/util/error.h"
#include "core/util/text.h"
#include "testutil.h"

#include <nlohmann/json.hpp>

#include <QTest>

#include <functional>

#include <sys/resource.h>
#include <sys/stat.h>

using namespace bucketlab;
using namespace bucketlab::test;
using namespace std::string_literals;

namespace {

// Peak resident memory of this process so far, in MiB.
double peakMiB()
{
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return double(u.ru_maxrss) / 1024.0;
}

QString errorOf(const std::function<void()>& f)
{
    try {
        f();
    } catch (const Error& e) {
        return QString::fromStdString(e.what());
    }
    return {};
}

// `n` lists nested in one another, built by appending each to the one below on the stack.
std::string nestedLists(size_t n)
{
    return "\x80\x02" + std::string(n, ']') + std::string(n - 1, 'a') + ".";
}

std::string repeat(const std::string& s, size_t n)
{
    std::string out;
    out.reserve(s.size() * n);
    for (size_t i = 0; i < n; ++i)
        out += s;
    return out;
}

std::string le32(uint32_t v)
{
    return std::string{char(v & 0xff), char((v >> 8) & 0xff), char((v >> 16) & 0xff),
                       char(v >> 24)};
}

} // namespace

class TestArchiveReader : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void text();
    void zipRecords_data();
    void zipRecords();
    void zipFromMemory();
    void zipErrors_data();
    void zipErrors();
    void zipBombsCostLittleMemory();
    void pickleDepth_data();
    void pickleDepth();
    void pickleDeepTreeIsFreedIteratively();
    void pickleCycles_data();
    void pickleCycles();
    void pickleLimits_data();
    void pickleLimits();
    void pickleText();
    void scriptCode_data();
    void scriptCode();
    void archives();
    void hostileArchives_data();
    void hostileArchives();
    void inspectJsonStaysValid();
    void loadersRefuseHostilePickles_data();
    void loadersRefuseHostilePickles();

private:
    std::string path(const QString& name) const { return s(dir_.filePath(name)); }
    QTemporaryDir dir_;
};

void TestArchiveReader::initTestCase()
{
    QVERIFY(dir_.isValid());
    const auto r = runProcess(
        QStringLiteral(BUCKETLAB_PYTHON),
        {QStringLiteral(BUCKETLAB_SOURCE_DIR "/tests/archive_fixtures.py"), dir_.path()});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QVERIFY2(QFile::exists(dir_.filePath("real.pt")), "python3-torch wrote no real.pt");
}

void TestArchiveReader::text()
{
    QVERIFY(isValidUtf8("plain ascii, caf\xc3\xa9, \xe2\x82\xac, \xf0\x9f\x98\x80"));
    QVERIFY(!isValidUtf8("\xff"));
    QVERIFY(!isValidUtf8("\xc0\xaf"));         // overlong '/'
    QVERIFY(!isValidUtf8("\xed\xa0\x80"));     // a surrogate
    QVERIFY(!isValidUtf8("\xf4\x90\x80\x80")); // above U+10FFFF
    QVERIFY(!isValidUtf8("\xe2\x82"));         // cut short
    QCOMPARE(utf8Escaped("a\xff"
                         "b\xc3\xa9"),
             std::string("a\\xffb\xc3\xa9"));
    QCOMPARE(displayText("line\nnext\x1b[31m\xc2\x9b"),
             std::string("line\\nnext\\x1b[31m\\xc2\\x9b"));
    QCOMPARE(displayText(std::string(100, 'x'), 10), std::string(10, 'x') + "...");
    QCOMPARE(displayText("nul\0cut"s), std::string("nul\\x00cut"));
}

void TestArchiveReader::zipRecords_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("record");
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<int>("entries");
    QByteArray table;
    for (int i = 0; i < 40; ++i)
        for (int b = 0; b < 256; ++b)
            table.append(char(b));
    table.append("tail");
    QTest::addRow("stored") << "plain.zip"
                            << "a/stored.bin" << table << 4;
    QTest::addRow("empty") << "plain.zip"
                           << "a/empty" << QByteArray() << 4;
    QTest::addRow("deflated") << "plain.zip"
                              << "a/deflated.txt" << QByteArray("deflate me ").repeated(1000) << 4;
    QTest::addRow("ZIP64 local header")
        << "plain.zip"
        << "a/zip64-local.bin" << QByteArray("forced ZIP64 local header") << 4;
    QTest::addRow("ZIP64 end record, 70,001 records")
        << "zip64_many.zip"
        << "d/last" << QByteArray("the last record") << 70001;
    QTest::addRow("ZIP64 extra fields, saturated sizes")
        << "zip64_saturated.zip"
        << "z/two" << QByteArray("second").repeated(100) << 2;
    QTest::addRow("torch.jit.save (ZIP64 end record, deflated code)")
        << "real.pt"
        << "real/version" << QByteArray() << -1;
}

void TestArchiveReader::zipRecords()
{
    QFETCH(QString, file);
    QFETCH(QString, record);
    QFETCH(QByteArray, content);
    QFETCH(int, entries);
    const ZipReader zip(path(file));
    if (entries >= 0)
        QCOMPARE(int(zip.entries().size()), entries);
    const ZipEntry* entry = zip.find(s(record));
    QVERIFY(entry);
    const std::string bytes = zip.read(*entry);
    if (record.endsWith("version"))
        QVERIFY(!bytes.empty() && std::isdigit(uint8_t(bytes[0])));
    else
        QCOMPARE(QByteArray::fromStdString(bytes), content);
    QCOMPARE(zip.fileBytes(), uint64_t(QFileInfo(dir_.filePath(file)).size()));
    QVERIFY(!zip.find("no/such/record"));
}

void TestArchiveReader::zipFromMemory()
{
    const QByteArray bytes = readAll(dir_.filePath("plain.zip"));
    const ZipReader memory = ZipReader::fromBytes(bytes.toStdString(), "plain.zip");
    const ZipReader file(path("plain.zip"));
    QCOMPARE(memory.entries().size(), file.entries().size());
    for (const auto& e : file.entries())
        QCOMPARE(memory.read(e.name), file.read(e));
}

void TestArchiveReader::zipErrors_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("record"); // "" to open only
    QTest::addColumn<int>("limit");      // 0: defaults; else the limit the row is about
    QTest::addColumn<QString>("mentions");
    QTest::addRow("flipped byte, stored") << "crc_stored.zip"
                                          << "a/stored.bin" << 0 << "CRC-32 mismatch: stored 0x";
    QTest::addRow("flipped byte, deflated") << "crc_deflated.zip"
                                            << "a/deflated.txt" << 0 << "(record a/deflated.txt)";
    QTest::addRow("zip bomb, declared")
        << "bomb_declared.zip"
        << "b/bomb" << 0 << "holds 536870912 bytes, more than the limit of 67108864";
    QTest::addRow("zip bomb, lying")
        << "bomb_lying.zip"
        << "b/bomb" << 0 << "inflates to more than its declared 1000 bytes";
    QTest::addRow("name ..") << "unsafe_parent.zip"
                             << "" << 0 << "leaves the archive (..), refused (record ../evil.txt)";
    QTest::addRow("absolute name") << "unsafe_absolute.zip"
                                   << "" << 0 << "(record /etc/evil)";
    QTest::addRow("inner ..") << "unsafe_inner.zip"
                              << "" << 0 << "(record a/../../evil)";
    QTest::addRow("backslash") << "unsafe_backslash.zip"
                               << "" << 0 << "refused";
    QTest::addRow("duplicate name") << "duplicate.zip"
                                    << "" << 0 << "two records have the same name (record a/same)";
    QTest::addRow("bzip2") << "bzip2.zip"
                           << "a/b" << 0 << "compression method 12 is not supported";
    QTest::addRow("long name") << "long_name.zip"
                               << "" << 0 << "a record name of 5002 bytes, more than the limit";
    QTest::addRow("entry limit") << "zip64_many.zip"
                                 << "" << 1000
                                 << "lists 70001 records, more than the limit of 1000";
    QTest::addRow("record limit") << "plain.zip"
                                  << "a/stored.bin" << 100 << "more than the limit of 100";
    QTest::addRow("not a zip") << "RANDOM"
                               << "" << 0 << "no zip end-of-central-directory record";
    QTest::addRow("empty file") << "EMPTY"
                                << "" << 0 << "too short for a zip file";
    QTest::addRow("missing") << "nope.zip"
                             << "" << 0 << "no such file";
    QTest::addRow("directory") << "DIR"
                               << "" << 0 << "is a directory";
    QTest::addRow("fifo") << "FIFO"
                          << "" << 0 << "not a regular file";
    // Truncations of a well-formed zip: every cut is noticed, none reads past the end.
    for (int cut : {1, 10, 22, 200, 5000, 10000})
        QTest::addRow("plain.zip without its last %d bytes", cut)
            << QString("CUT%1:plain.zip").arg(cut) << "a/deflated.txt" << 0 << "truncated";
    for (int cut : {1, 22, 40, 100, 500})
        QTest::addRow("zip64_saturated.zip without its last %d bytes", cut)
            << QString("CUT%1:zip64_saturated.zip").arg(cut) << "z/two" << 0 << "truncated";
    // Bytes missing in the middle: every offset after the hole points too far.
    for (int hole : {1, 10, 1000})
        QTest::addRow("plain.zip without %d bytes inside", hole)
            << QString("HOLE%1:plain.zip").arg(hole) << "a/deflated.txt" << 0
            << "truncated or corrupt archive";
    for (int hole : {1, 10, 100})
        QTest::addRow("zip64_saturated.zip without %d bytes inside", hole)
            << QString("HOLE%1:zip64_saturated.zip").arg(hole) << "z/two" << 0
            << "truncated or corrupt archive";
}

void TestArchiveReader::zipErrors()
{
    QFETCH(QString, file);
    QFETCH(QString, record);
    QFETCH(int, limit);
    QFETCH(QString, mentions);
    QString name = dir_.filePath("case.zip");
    QFile::remove(name);
    if (file == "RANDOM")
        writeAll(name, QByteArray(3000, 'x'));
    else if (file == "EMPTY")
        writeAll(name, QByteArray());
    else if (file == "DIR")
        name = dir_.path();
    else if (file == "FIFO")
        QCOMPARE(::mkfifo(s(name).c_str(), 0600), 0);
    else if (file.startsWith("CUT") || file.startsWith("HOLE")) {
        const int digits = file.startsWith("CUT") ? 3 : 4;
        const int n = file.mid(digits, file.indexOf(':') - digits).toInt();
        QByteArray bytes = readAll(dir_.filePath(file.mid(file.indexOf(':') + 1)));
        if (digits == 3)
            bytes.chop(n);
        else
            bytes.remove(50, n);
        writeAll(name, bytes);
    } else
        name = dir_.filePath(file);
    ZipLimits limits;
    if (QTest::currentDataTag() == QByteArray("entry limit"))
        limits.maxEntries = uint64_t(limit);
    if (QTest::currentDataTag() == QByteArray("record limit"))
        limits.maxRecordBytes = uint64_t(limit);
    const QString err = errorOf([&] {
        const ZipReader zip(s(name), limits);
        if (!record.isEmpty())
            zip.read(s(record));
    });
    QFile::remove(dir_.filePath("case.zip"));
    QVERIFY2(!err.isEmpty(), "accepted");
    QVERIFY2(err.contains(mentions), qPrintable(err));
    QVERIFY2(err.startsWith(name + ": "), qPrintable(err));
    QVERIFY(!err.contains('\n'));
    if (!record.isEmpty() && !file.contains(':') && limit == 0)
        QVERIFY2(err.endsWith("(record " + record + ")"), qPrintable(err));
}

void TestArchiveReader::zipBombsCostLittleMemory()
{
    // Each bomb inflates to 256 or 512 MiB; refusing one must not cost that memory.
    const double before = peakMiB();
    QVERIFY(!errorOf([&] { ZipReader(path("bomb_declared.zip")).read("b/bomb"); }).isEmpty());
    QVERIFY(!errorOf([&] { ZipReader(path("bomb_lying.zip")).read("b/bomb"); }).isEmpty());
    const QString err = errorOf([&] { readArchive(path("bomb_data_pkl.pt")); });
    QVERIFY2(err.contains("inflates to more than its declared") &&
                 err.endsWith("(record m/data.pkl)"),
             qPrintable(err));
    const double grew = peakMiB() - before;
    qInfo("peak memory grew by %.1f MiB refusing three zip bombs", grew);
    QVERIFY2(grew < 16, qPrintable(QString::number(grew)));
}

void TestArchiveReader::pickleDepth_data()
{
    QTest::addColumn<int>("depth");
    QTest::addColumn<int>("limit");
    QTest::addColumn<bool>("accepted");
    QTest::addRow("at the limit") << 1000 << 1000 << true;
    QTest::addRow("one above") << 1001 << 1000 << false;
    QTest::addRow("200,000 deep") << 200000 << 1000 << false;
    QTest::addRow("lower limit") << 11 << 10 << false;
}

void TestArchiveReader::pickleDepth()
{
    QFETCH(int, depth);
    QFETCH(int, limit);
    QFETCH(bool, accepted);
    PickleLimits limits;
    limits.maxDepth = limit;
    const std::string bytes = nestedLists(size_t(depth));
    const QString err = errorOf([&] {
        const Pickle p = readPickle(bytes, "deep.pkl", limits);
        QCOMPARE(p->depth, depth);
    });
    if (accepted)
        QVERIFY2(err.isEmpty(), qPrintable(err));
    else
        QCOMPARE(err, QString("deep.pkl: values nest more than %1 containers deep (the reader's "
                              "limit; torch.jit.save nests a few)")
                          .arg(limit));

    // The same depth made by appending to lists after they were stored: L0..Ln first, then
    // L[i].append(L[i+1]) through the memo. Depth is measured on the finished tree.
    std::string late = "\x80\x02";
    for (int i = 0; i < depth; ++i)
        late += "]r" + le32(uint32_t(i)) + "0";
    for (int i = 0; i + 1 < depth; ++i)
        late += "j" + le32(uint32_t(i)) + "j" + le32(uint32_t(i + 1)) + "a0";
    late += "j" + le32(0) + ".";
    const QString lateErr = errorOf([&] { readPickle(late, "late.pkl", limits); });
    QCOMPARE(lateErr.isEmpty(), accepted);
}

void TestArchiveReader::pickleDeepTreeIsFreedIteratively()
{
    // With the depth limit lifted, 200,000 nested tuples and lists are read and freed without
    // recursion (a recursive destructor overflows the stack long before).
    PickleLimits unlimited;
    unlimited.maxDepth = 1 << 30;
    {
        const Pickle lists = readPickle(nestedLists(200000), "deep.pkl", unlimited);
        QCOMPARE(lists->depth, 200000);
    }
    {
        const Pickle tuples =
            readPickle("\x80\x02)" + std::string(200000, '\x85') + ".", "deep.pkl", unlimited);
        QCOMPARE(tuples->depth, 200001);
        const PickleValue* v = &*tuples;
        for (int i = 0; i < 5; ++i)
            v = v->items.at(0);
        QCOMPARE(v->depth, 200001 - 5);
    }
}

void TestArchiveReader::pickleCycles_data()
{
    QTest::addColumn<QByteArray>("bytes");
    // l = []; l.append(l), as Python's pickle writes it.
    QTest::addRow("list") << QByteArray::fromStdString("\x80\x02]q\x00h\x00"
                                                       "a."s);
    // d = {}; d['me'] = d
    QTest::addRow("dict") << QByteArray::fromStdString("\x80\x02}q\x00X\x02\x00\x00\x00meh\x00s."s);
    // an object whose BUILD state is itself
    QTest::addRow("object state") << QByteArray::fromStdString("\x80\x02"
                                                               "c__torch__\nM\n)\x81q\x00h\x00"
                                                               "b."s);
    // a persistent id that holds itself through a list
    QTest::addRow("deeper cycle") << QByteArray::fromStdString("\x80\x02]q\x00h\x00Q"
                                                               "a."s);
}

void TestArchiveReader::pickleCycles()
{
    QFETCH(QByteArray, bytes);
    const QString err = errorOf([&] { readPickle(bytes.toStdString(), "cycle.pkl"); });
    QCOMPARE(err, QString("cycle.pkl: the pickle's values contain themselves (a cycle, which "
                          "torch.jit.save never writes)"));
}

void TestArchiveReader::pickleLimits_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<int>("maxValues");
    QTest::addColumn<int>("maxBytes");
    QTest::addColumn<QString>("mentions");
    const std::string ints = "\x80\x02(" + repeat("K\x01", 200) + "l.";
    QTest::addRow("values") << QByteArray::fromStdString(ints) << 100 << 0
                            << "makes more than 100 values";
    QTest::addRow("values, at the limit") << QByteArray::fromStdString(ints) << 202 << 0 << "";
    // One list, then a million references to it: no new values, but as many pointers.
    const std::string refs = "\x80\x02]q\x00("s + repeat("h\x00"s, 1000) + "l.";
    QTest::addRow("references") << QByteArray::fromStdString(refs) << 500 << 0
                                << "makes more than 500 values";
    // Memo entries count as well (each is a map entry).
    const std::string memo = "\x80\x02N" + repeat("\x94", 1000) + ".";
    QTest::addRow("memo entries") << QByteArray::fromStdString(memo) << 500 << 0
                                  << "makes more than 500 values";
    // Found by fuzzing: BUILD gave a string a state, a container's child under a scalar.
    QTest::addRow("BUILD on a string")
        << QByteArray::fromStdString("\x80\x02X\x01\x00\x00\x00sK\x01"
                                     "b."s)
        << 0 << 0 << "BUILD applied to a value that is not an object";
    QTest::addRow("size") << QByteArray::fromStdString(ints) << 0 << 100
                          << "holds 405 bytes, more than the limit of 100";
}

void TestArchiveReader::pickleLimits()
{
    QFETCH(QByteArray, bytes);
    QFETCH(int, maxValues);
    QFETCH(int, maxBytes);
    QFETCH(QString, mentions);
    PickleLimits limits;
    if (maxValues)
        limits.maxValues = size_t(maxValues);
    if (maxBytes)
        limits.maxBytes = size_t(maxBytes);
    const QString err = errorOf([&] { readPickle(bytes.toStdString(), "big.pkl", limits); });
    if (mentions.isEmpty())
        QVERIFY2(err.isEmpty(), qPrintable(err));
    else
        QVERIFY2(err.startsWith("big.pkl: ") && err.contains(mentions), qPrintable(err));
}

void TestArchiveReader::pickleText()
{
    // BINUNICODE with bytes that are not UTF-8 (a hostile pickle): escaped, so the text stays
    // valid UTF-8; BINBYTES: kept byte for byte.
    const std::string bytes = "\x80\x02(X\x04\x00\x00\x00"
                              "a\xff\xc3\xa9"
                              "C\x02\xff\xfe"
                              "c\xfe"
                              "mod\nName\nt."s;
    const Pickle p = readPickle(bytes, "text.pkl");
    QCOMPARE(p->items.size(), size_t(3));
    QCOMPARE(p->items[0]->text, std::string("a\\xff\xc3\xa9"));
    QVERIFY(!p->items[0]->bytes);
    QCOMPARE(p->items[1]->text, std::string("\xff\xfe"));
    QVERIFY(p->items[1]->bytes);
    QCOMPARE(p->items[2]->text, std::string("\\xfemod Name"));
}

void TestArchiveReader::scriptCode_data()
{
    QTest::addColumn<QString>("code");
    QTest::addColumn<QString>("function"); // "class.method" or "function": its schema below
    QTest::addColumn<QString>("schema");
    QTest::addRow("function") << "def f(x: int, y: List[Tensor]=None) -> Tuple[int, int]:\n"
                                 "  return x\n"
                              << "f"
                              << "f(int x, List[Tensor] y) -> Tuple[int, int]";
    QTest::addRow("signature over lines") << "def g(a: Tensor,\n    b: Optional[int]=None)"
                                             " -> Tensor:\n  return a\n"
                                          << "g"
                                          << "g(Tensor a, Optional[int] b) -> Tensor";
    QTest::addRow("method") << "class A(Module):\n"
                               "  __parameters__ = [\"w\", \"b\", ]\n"
                               "  __buffers__ = []\n"
                               "  w : Tensor\n"
                               "  n : int = 3\n"
                               "  def forward(self: __torch__.A, x: Tensor) -> Tensor:\n"
                               "    return self.w\n"
                            << "A.forward"
                            << "forward(Tensor x) -> Tensor";
    // Found by fuzzing: a signature that never closes read past the last line.
    QTest::addRow("signature never closes") << "def f(x:\n  y\n"
                                            << "f"
                                            << "f() -> Tensor";
    QTest::addRow("class base with parentheses") << "class B(NamedTuple(x)):\n"
                                                    "  def m(self, t: Tensor):\n    pass\n"
                                                 << "B.m"
                                                 << "m(Tensor t) -> Tensor";
    // 500,000 parameters on one line: std::regex recursed per character here.
    QTest::addRow("a 1 MB signature")
        << "def h(" + QString("x, ").repeated(500000) + "y: int) -> int:\n  return y\n"
        << "h"
        << "";
}

void TestArchiveReader::scriptCode()
{
    QFETCH(QString, code);
    QFETCH(QString, function);
    QFETCH(QString, schema);
    const ScriptCode parsed = parseScriptCode(s(code), "code/__torch__/pkg.py");
    const ScriptFunction* f = nullptr;
    if (function.contains('.')) {
        QCOMPARE(parsed.classes.size(), size_t(1));
        const ScriptClass& c = parsed.classes[0];
        QCOMPARE(c.qualifiedName, "__torch__.pkg." + s(function.section('.', 0, 0)));
        for (const auto& m : c.methods)
            if (m.name == s(function.section('.', 1)))
                f = &m;
        if (c.name == "A") {
            QCOMPARE(c.base, std::string("Module"));
            QCOMPARE(c.parameters, (std::vector<std::string>{"w", "b"}));
            QCOMPARE(c.attributes.size(), size_t(2));
            QCOMPARE(c.attributes[1].type, std::string("int"));
            QVERIFY(f && f->usesSelf);
        }
        if (c.name == "B")
            QCOMPARE(c.base, std::string("NamedTuple(x)"));
    } else {
        QCOMPARE(parsed.functions.size(), size_t(1));
        f = &parsed.functions[0];
    }
    QVERIFY(f);
    QCOMPARE(f->name, s(function.section('.', -1)));
    if (!schema.isEmpty())
        QCOMPARE(f->schema(), s(schema));
    else
        QCOMPARE(f->params.size(), size_t(500001));
    QVERIFY(f->lastLine >= f->firstLine);
}

void TestArchiveReader::archives()
{
    // A synthetic archive PyTorch itself loads (the fixture script checks), a real one, and the
    // real one with every record deflated read the same.
    const auto synthetic = inspectModel(path("synthetic.pt"));
    QCOMPARE(synthetic.tensors.size(), size_t(1));
    QCOMPARE(synthetic.tensors[0].shape, (std::vector<int64_t>{2, 3}));
    QCOMPARE(synthetic.tensors[0].bytes, int64_t(24));
    QCOMPARE(synthetic.methods.at(0).schema, std::string("forward(Tensor x) -> Tensor"));

    const auto stored = readArchive(path("real.pt"));
    const auto deflated = readArchive(path("real_deflated.pt"));
    QCOMPARE(stored.prefix, std::string("real"));
    QVERIFY(stored.version > 0);
    QCOMPARE(deflated.version, stored.version);
    QCOMPARE(stored.parameterCount, int64_t(8 * 4 + 4));
    auto info = [&](const char* file) {
        auto j = modelInfoJson(inspectModel(path(file)));
        j.erase("path");
        j.erase("file_bytes");
        return j.dump();
    };
    QCOMPARE(info("real_deflated.pt"), info("real.pt"));
    QCOMPARE(deflated.records, stored.records);
    QCOMPARE(deflated.codeFiles, stored.codeFiles);

    // 900 nested lists: within the limit, read.
    QCOMPARE(readArchive(path("deep_ok.pt")).modules.size(), size_t(1));
    QVERIFY(archiveProblem(path("real.pt")).empty());
    // Every pickle torch.jit.save wrote (data, constants, debug info) passes the check made
    // before LibTorch loads an archive.
    QVERIFY(readArchive(path("real.pt")).records.size() > 5);
    QVERIFY(errorOf([&] { checkArchivePickles(path("real.pt")); }).isEmpty());
    QVERIFY(errorOf([&] { checkArchivePickles(path("real_deflated.pt")); }).isEmpty());
    QVERIFY(errorOf([&] { checkArchivePickles(path("deep_tuple.pt")); }).contains("data.pkl"));
}

void TestArchiveReader::hostileArchives_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("mentions");
    QTest::addRow("lists 200,000 deep") << "deep_list.pt"
                                        << "data.pkl: values nest more than 1000 containers deep";
    QTest::addRow("tuples 200,000 deep") << "deep_tuple.pt"
                                         << "data.pkl: values nest more than 1000 containers deep";
    QTest::addRow("list holding itself") << "self_list.pt"
                                         << "data.pkl: the pickle's values contain themselves";
    QTest::addRow("module holding itself") << "self_module.pt"
                                           << "data.pkl: the pickle's values contain themselves";
    QTest::addRow("2**60 module paths") << "shared_modules.pt"
                                        << "data.pkl lists more than 100000 modules";
    QTest::addRow("1.1 million values") << "many_values.pt"
                                        << "data.pkl: the pickle makes more than 1000000 values";
    QTest::addRow("storage of 2**62 floats")
        << "storage_2p62.pt"
        << "data.pkl: storage 1 holds 4611686018427387904 elements, more bytes than 64 bits";
    QTest::addRow("parameter of 2**64 elements")
        << "shape_overflow.pt"
        << "data.pkl: tensor w has more elements than 64 bits can count";
    QTest::addRow("data.pkl zip bomb")
        << "bomb_data_pkl.pt"
        << "inflates to more than its declared 219 bytes (a zip bomb or a corrupt record) "
           "(record m/data.pkl)";
    QTest::addRow("flipped byte in data.pkl") << "crc_data_pkl.pt"
                                              << "corrupt data, CRC-32 mismatch";
    // Found by fuzzing: this error did not name the file (and echoed the escape raw).
    QTest::addRow("unknown dtype in the metadata")
        << "bad_meta.pt"
        << "bucketlab_meta unknown dtype 'int64\\x1b[2J' (use int64";
}

void TestArchiveReader::hostileArchives()
{
    QFETCH(QString, file);
    QFETCH(QString, mentions);
    const QString err = errorOf([&] { readArchive(path(file)); });
    QVERIFY2(err.startsWith(dir_.filePath(file) + ": ") && err.contains(mentions), qPrintable(err));
    QVERIFY(!err.contains('\n'));

    // The same through the CLI: exit 2, one line naming the file, no crash.
    const auto r = runCli({"inspect", dir_.filePath(file), "--json"});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains(mentions.toUtf8()), r.err.constData());
    QVERIFY(r.err.contains(dir_.filePath(file).toUtf8()));
    QCOMPARE(r.err.trimmed().count('\n'), 0);
    QVERIFY(r.out.isEmpty());
}

void TestArchiveReader::inspectJsonStaysValid()
{
    // Bytes 0xfd-0xff in a submodule name, a string attribute and a parameter name in the code:
    // inspect --json still prints valid UTF-8 JSON, the bytes escaped as \xNN.
    const auto r = runCli({"inspect", dir_.filePath("non_utf8.pt"), "--json"});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    nlohmann::json doc;
    try {
        doc = nlohmann::json::parse(r.out.toStdString()); // strict: rejects invalid UTF-8
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
    const std::string submodules = doc["submodules"].dump();
    const std::string schema = doc["methods"][0]["schema"].get<std::string>();
    const std::string tensor = doc["tensors"][1]["name"].get<std::string>();
    QCOMPARE(submodules, std::string(R"(["s\\xffb"])"));
    QCOMPARE(schema, std::string("forward(Tensor x\\xfd) -> Tensor"));
    QCOMPARE(tensor, std::string("s\\xffb.w"));
    const auto archive = readArchive(path("non_utf8.pt"));
    for (const auto& m : archive.modules)
        for (const auto& a : m.attributes)
            if (a.name == "note")
                QCOMPARE(a.value, std::string("caf\\xfe"));
    for (const auto& [record, code] : archive.codeFiles)
        QVERIFY(isValidUtf8(code));
}

void TestArchiveReader::loadersRefuseHostilePickles_data()
{
    QTest::addColumn<QString>("command");
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("mentions");
    // graph and validate hand the archive to LibTorch, whose unpickler recurses: the bounded
    // reader checks the pickles first (before, graph on deep tuples died of SIGSEGV).
    QTest::addRow("graph, deep tuples") << "graph"
                                        << "deep_tuple.pt"
                                        << "data.pkl: values nest more than 1000";
    QTest::addRow("graph, a module holding itself")
        << "graph"
        << "self_module.pt"
        << "data.pkl: the pickle's values contain themselves";
    QTest::addRow("validate, deep lists") << "validate"
                                          << "deep_list.pt"
                                          << "data.pkl: values nest more than 1000";
    QTest::addRow("lint, a list holding itself")
        << "lint"
        << "self_list.pt"
        << "data.pkl: the pickle's values contain themselves";
}

void TestArchiveReader::loadersRefuseHostilePickles()
{
    QFETCH(QString, command);
    QFETCH(QString, file);
    QFETCH(QString, mentions);
    const auto r = runCli({command, dir_.filePath(file)});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains(mentions.toUtf8()) && r.err.contains(dir_.filePath(file).toUtf8()),
             r.err.constData());
    QCOMPARE(r.err.trimmed().count('\n'), 0);
}

QTEST_GUILESS_MAIN(TestArchiveReader)
#include "tst_archive_reader.moc"
