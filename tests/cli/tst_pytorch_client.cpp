// Plain PyTorch (Debian's python3-torch) as a real client: it traces models per bucket and
// scripts a shape-generic one, bucketlab-cli packages them, and PyTorch loads the packages
// and checks every length against the model on the padded input.
#include "testutil.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

using namespace bucketlab::test;

namespace {

const char* kMakeModels = R"PY(
import sys, torch
out = sys.argv[1]
torch.manual_seed(0)

class Encoder(torch.nn.Module):
    def __init__(self, max_len):
        super().__init__()
        self.emb = torch.nn.Embedding(50, 8)
        self.pos = torch.nn.Parameter(torch.randn(max_len, 8))
        self.head = torch.nn.Linear(8, 3)
    def forward(self, input_ids, attention_mask):
        n = input_ids.shape[1]
        x = self.emb(input_ids) + self.pos[:n]
        x = x * attention_mask.unsqueeze(-1).float()
        return self.head(x.mean(1)), x

enc = Encoder(48).eval()
for n in (16, 48):
    ids = torch.randint(1, 50, (1, n)); mask = torch.ones(1, n, dtype=torch.long)
    # Tracing bakes the length in, as with HuggingFace models traced with torchscript=True.
    torch.jit.save(torch.jit.trace(enc, (ids, mask)), f"{out}/traced{n}.pt")
torch.jit.save(torch.jit.script(enc), f"{out}/generic.pt")

class WithSeqIds(torch.nn.Module):
    """As NxD models take it: seq_ids [batch] picks one slot per sequence."""
    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(50, 8)
        self.slots = torch.nn.Parameter(torch.randn(4, 8))
    def forward(self, input_ids, attention_mask, seq_ids):
        x = self.emb(input_ids) * attention_mask.unsqueeze(-1).float()
        return x.sum(1) + torch.index_select(self.slots, 0, seq_ids)

torch.jit.save(torch.jit.script(WithSeqIds().eval()), f"{out}/seq_ids.pt")
print("ok")
)PY";

const char* kCheck = R"PY(
import json, sys, torch
pkg_path, ref_paths, boundaries = sys.argv[1], sys.argv[2].split(","), [int(b) for b in sys.argv[3].split(",")]
pkg = torch.jit.load(pkg_path)
refs = [torch.jit.load(p) for p in ref_paths]
meta = json.loads(pkg.bucketlab_meta)
worst, checked = 0.0, 0
torch.manual_seed(1)
for batch in (1, 3):
    ids = torch.randint(1, 50, (batch, boundaries[-1])); mask = torch.ones(batch, boundaries[-1], dtype=torch.long)
    for L in range(1, boundaries[-1] + 1):
        k = next(i for i, b in enumerate(boundaries) if L <= b)
        pad = boundaries[k] - L
        x, m = ids[:, :L], mask[:, :L]
        px = torch.cat([x, torch.zeros(batch, pad, dtype=x.dtype)], 1)
        pm = torch.cat([m, torch.zeros(batch, pad, dtype=m.dtype)], 1)
        got = pkg(x, m)
        want = refs[k if len(refs) > 1 else 0](px, pm)
        for g, w in zip(got, want):
            worst = max(worst, (g - w).abs().max().item())
        checked += 1
over = boundaries[-1] + 5
try:
    pkg(torch.ones(1, over, dtype=torch.long), torch.ones(1, over, dtype=torch.long))
    message = None
except Exception as e:
    message = str(e)
print(json.dumps({"worst": worst, "checked": checked, "over_message": message,
                  "meta_boundaries": meta["boundaries"]}))
)PY";

const char* kCheckSeqIds = R"PY(
import json, sys, torch
pkg, ref = torch.jit.load(sys.argv[1]), torch.jit.load(sys.argv[2])
boundaries = [int(b) for b in sys.argv[3].split(",")]
worst, checked = 0.0, 0
torch.manual_seed(2)
for batch in (1, 2, 4):
    seq = torch.arange(batch) % 4
    for L in range(1, boundaries[-1] + 1):
        b = next(b for b in boundaries if L <= b)
        ids = torch.randint(1, 50, (batch, L)); mask = torch.ones(batch, L, dtype=torch.long)
        pad = torch.zeros(batch, b - L, dtype=torch.long)
        got = pkg(ids, mask, seq)
        want = ref(torch.cat([ids, pad], 1), torch.cat([mask, pad], 1), seq)
        worst = max(worst, (got - want).abs().max().item())
        checked += 1
print(json.dumps({"worst": worst, "checked": checked}))
)PY";

const char* kCheckLeft = R"PY(
import json, sys, torch
pkg, ref = torch.jit.load(sys.argv[1]), torch.jit.load(sys.argv[2])
boundaries = [int(b) for b in sys.argv[3].split(",")]
meta = json.loads(pkg.bucketlab_meta)
worst, checked = 0.0, 0
torch.manual_seed(3)
for batch in (1, 3):
    for L in range(1, boundaries[-1] + 1):
        b = next(b for b in boundaries if L <= b)
        ids = torch.randint(1, 50, (batch, L)); mask = torch.ones(batch, L, dtype=torch.long)
        pad = torch.zeros(batch, b - L, dtype=torch.long)
        # Left padding, as a tokenizer with padding_side="left" gives decoder prompts.
        want = ref(torch.cat([pad, ids], 1), torch.cat([pad, mask], 1))
        got = pkg(ids, mask)
        for g, w in zip(got, want):
            worst = max(worst, (g - w).abs().max().item())
        checked += 1
print(json.dumps({"worst": worst, "checked": checked, "side": meta["padding_side"]}))
)PY";

} // namespace

class TestPyTorchClient : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void perBucketTracedModels();
    void sharedScriptedModel();
    void anInputWithoutALength();
    void leftPadding();

private:
    void checkWithPyTorch(const QString& package, const QStringList& refs,
                          const QString& boundaries);
    QString path(const QString& name) const { return dir_.filePath(name); }
    QTemporaryDir dir_;
};

void TestPyTorchClient::initTestCase()
{
    QVERIFY(dir_.isValid());
    const auto r = runPython(kMakeModels, {dir_.path()});
    QVERIFY2(r.exitCode == 0, r.err.constData());
}

void TestPyTorchClient::checkWithPyTorch(const QString& package, const QStringList& refs,
                                         const QString& boundaries)
{
    const auto r = runPython(kCheck, {package, refs.join(','), boundaries});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    const auto j = QJsonDocument::fromJson(r.out).object();
    const int maxLen = boundaries.split(',').last().toInt();
    QCOMPARE(j["checked"].toInt(), 2 * maxLen);
    QVERIFY2(j["worst"].toDouble() <= 1e-5, r.out.constData());
    const QString over = j["over_message"].toString();
    QVERIFY2(over.contains(QString("input length %1").arg(maxLen + 5)), qPrintable(over));
    QVERIFY2(over.contains(QString("largest bucket %1").arg(maxLen)), qPrintable(over));
}

void TestPyTorchClient::perBucketTracedModels()
{
    const auto r = runCli(
        {"build", "--per-bucket", "16=" + path("traced16.pt") + ",48=" + path("traced48.pt"),
         "--inputs", "input_ids:int64:0,attention_mask:int64:0", "--out", path("perbucket.pt")});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    checkWithPyTorch(path("perbucket.pt"), {path("traced16.pt"), path("traced48.pt")}, "16,48");
}

void TestPyTorchClient::sharedScriptedModel()
{
    const auto r =
        runCli({"build", path("generic.pt"), "--inputs", "input_ids:int64:0,attention_mask:int64:0",
                "--boundaries", "8,20,48", "--out", path("shared.pt")});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    checkWithPyTorch(path("shared.pt"), {path("generic.pt")}, "8,20,48");
}

void TestPyTorchClient::anInputWithoutALength()
{
    // Declared bucketed, seq_ids would be made [batch, length]: the package would fail every
    // call, so it is not written, and the one-line error names the input.
    const auto refused = runCli({"build", path("seq_ids.pt"), "--inputs",
                                 "input_ids:int64:0,attention_mask:int64:0,seq_ids:int64:0",
                                 "--boundaries", "8,24", "--out", path("seq_refused.pt")});
    QCOMPARE(refused.exitCode, 1);
    QVERIFY(!QFile::exists(path("seq_refused.pt")));
    QCOMPARE(refused.err.count('\n'), 1);
    QVERIFY2(refused.err.contains("package not written: at length 1 (batch 1, bucket 8)") &&
                 refused.err.contains("'seq_ids'"),
             refused.err.constData());

    // Declared not bucketed (pad '-'): it passes through as [batch], and PyTorch calls the
    // package as NxD calls its models.
    const auto built = runCli({"build", path("seq_ids.pt"), "--inputs",
                               "input_ids:int64:0,attention_mask:int64:0,seq_ids:int64:-",
                               "--boundaries", "8,24", "--out", path("seq_pkg.pt"), "--json"});
    QVERIFY2(built.exitCode == 0, built.err.constData());
    const auto j = QJsonDocument::fromJson(built.out).object();
    QVERIFY(j["written"].toBool());
    QCOMPARE(j["proven_calls"].toInt(), 4);
    QCOMPARE(j["meta"].toObject()["inputs"].toArray().at(2).toObject()["bucketed"].toBool(true),
             false);
    const auto r = runPython(kCheckSeqIds, {path("seq_pkg.pt"), path("seq_ids.pt"), "8,24"});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    const auto check = QJsonDocument::fromJson(r.out).object();
    QCOMPARE(check["checked"].toInt(), 3 * 24);
    QVERIFY2(check["worst"].toDouble() <= 1e-5, r.out.constData());

    // validate checks the whole package: kernel, and forward() at every bucket.
    const auto v = runCli({"validate", path("seq_pkg.pt"), "--batch-sizes", "1,3"});
    QVERIFY2(v.exitCode == 0, v.out.constData());
    QVERIFY2(v.out.contains("forward()   10 calls") && v.out.contains("ok: no defects"),
             v.out.constData());
}

void TestPyTorchClient::leftPadding()
{
    const auto built =
        runCli({"build", path("generic.pt"), "--inputs", "input_ids:int64:0,attention_mask:int64:0",
                "--boundaries", "8,20", "--padding-side", "left", "--out", path("left.pt")});
    QVERIFY2(built.exitCode == 0, built.err.constData());
    const auto r = runPython(kCheckLeft, {path("left.pt"), path("generic.pt"), "8,20"});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    const auto j = QJsonDocument::fromJson(r.out).object();
    QCOMPARE(j["side"].toString(), QString("left"));
    QCOMPARE(j["checked"].toInt(), 2 * 20);
    QVERIFY2(j["worst"].toDouble() <= 1e-5, r.out.constData());

    const auto inspect = runCli({"inspect", path("left.pt")});
    QVERIFY2(inspect.out.contains("padded on the left"), inspect.out.constData());
    // The package's kernel is validated on its own side; the same kernel checked as a
    // right-padding kernel has defects.
    const auto v = runCli({"validate", path("left.pt"), "--batch-sizes", "1,2"});
    QVERIFY2(v.exitCode == 0, v.out.constData());
    const auto asRight =
        runCli({"validate", path("left.pt"), "--inputs", "input_ids:int64:0,attention_mask:int64:0",
                "--padding-side", "right", "--function", "bucket_kernel"});
    QCOMPARE(asRight.exitCode, 1);
    QVERIFY2(asRight.out.contains("DEFECT values_changed"), asRight.out.constData());
}

QTEST_GUILESS_MAIN(TestPyTorchClient)
#include "tst_pytorch_client.moc"
