// The export seen from plain PyTorch (Debian's python3-torch): the recipe's bucket_kernel.py
// scripted by torch.jit.script routes and pads every length as BucketLab's own package
// kernel does, its state preprocessor hands out the package's views, neuron_build.py
// compiles, and exported packages match their base models on padded inputs (models scripted
// and traced by PyTorch, and the demo).
#include "testutil.h"

#include <QDir>
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

class Encoder(torch.nn.Module):
    # Padding-invariant: padded positions are masked out of every output.
    def __init__(self, max_len, seed):
        super().__init__()
        torch.manual_seed(seed)
        self.emb = torch.nn.Embedding(60, 8)
        self.types = torch.nn.Embedding(3, 8)
        self.pos = torch.nn.Parameter(torch.randn(max_len, 8))
        self.head = torch.nn.Linear(8, 3)
    def forward(self, input_ids, attention_mask, token_type_ids):
        n = input_ids.shape[1]
        m = attention_mask.unsqueeze(-1).float()
        x = (self.emb(input_ids) + self.types(token_type_ids.long()) + self.pos[:n]) * m
        pooled = x.sum(1) / m.sum(1)
        return self.head(pooled), x

class Stateful(torch.nn.Module):
    # Reads its states, then writes them in place: kv [1, bucket] and steps [1].
    def forward(self, x, kv, steps):
        out = x.sum(1) * 0.75 + kv.sum() + steps.to(torch.float32)
        kv.mul_(0.5)
        kv.add_(x.mean(0, True))
        steps.add_(1)
        return out

enc = Encoder(48, 0).eval()
torch.jit.save(torch.jit.script(enc), f"{out}/generic.pt")
for n in (16, 32, 48):
    ids = torch.randint(1, 60, (1, n)); mask = torch.ones(1, n, dtype=torch.long)
    types = torch.zeros(1, n, dtype=torch.int32)
    # Tracing bakes the length in, as with HuggingFace models traced with torchscript=True.
    torch.jit.save(torch.jit.trace(enc, (ids, mask, types)), f"{out}/traced{n}.pt")
other = Encoder(48, 1).eval()  # different weights: a "re-trained" model at 48
ids = torch.randint(1, 60, (1, 48))
torch.jit.save(torch.jit.trace(other, (ids, torch.ones(1, 48, dtype=torch.long),
               torch.zeros(1, 48, dtype=torch.int32))), f"{out}/other48.pt")
torch.jit.save(torch.jit.script(Stateful()), f"{out}/stateful.pt")
print("ok")
)PY";

// Scripts the recipe kernel with plain PyTorch and compares it, for every length 1..max and
// batch 1 and 2, with the package's own bucket_kernel: bucket index, padded tensors, and
// padding with bucket_config.json's pad values. Both must reject max + 1.
const char* kCheckKernel = R"PY(
import importlib.util, json, sys, torch
recipe, package = sys.argv[1], sys.argv[2]
spec = importlib.util.spec_from_file_location("bucket_kernel", recipe + "/bucket_kernel.py")
module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)
kernel = module.get_bucket_kernel()
assert isinstance(kernel, torch.jit.ScriptFunction)
config = json.load(open(recipe + "/bucket_config.json"))
pkg = torch.jit.load(package)
bounds = config["boundaries"]
dtypes = {"int64": torch.int64, "int32": torch.int32, "float32": torch.float32}
checked, problems = 0, []
torch.manual_seed(5)
for batch in (1, 2):
    for L in range(1, bounds[-1] + 2):
        inputs = [(torch.randint(1, 50, (batch, L)) if spec["dtype"] != "float32" else torch.rand(batch, L) + 1)
                  .to(dtypes[spec["dtype"]]) for spec in config["inputs"]]
        if L > bounds[-1]:
            for name, k in (("recipe", kernel), ("package", pkg.bucket_kernel)):
                try:
                    k(inputs); problems.append(f"{name} accepted {L}")
                except Exception as e:
                    if f"input length {L} exceeds the largest bucket {bounds[-1]}" not in str(e):
                        problems.append(f"{name}: {e}")
            continue
        want = next(i for i, b in enumerate(bounds) if L <= b)
        padded, idx = kernel(inputs)
        ppadded, pidx = pkg.bucket_kernel(inputs)
        if int(idx) != want or int(pidx) != want:
            problems.append(f"L={L}: recipe bucket {int(idx)}, package {int(pidx)}, expected {want}")
        for t, p, x, spec in zip(padded, ppadded, inputs, config["inputs"]):
            if t.shape != (batch, bounds[want]) or t.dtype != x.dtype or not torch.equal(t, p):
                problems.append(f"L={L}: padded {spec['name']} differs from the package kernel")
            elif not torch.equal(t[:, :L], x) or not bool((t[:, L:] == spec["pad_value"]).all()):
                problems.append(f"L={L}: {spec['name']} not padded with {spec['pad_value']}")
        checked += 1
print(json.dumps({"checked": checked, "problems": problems[:5], "graph": str(kernel.graph)}))
)PY";

// The stateful export seen from PyTorch: the scripted recipe preprocessor equals the
// package's, and a replay of calls across buckets matches a plain-tensor reference.
const char* kCheckStates = R"PY(
import importlib.util, json, sys, torch
recipe, package = sys.argv[1], sys.argv[2]
spec = importlib.util.spec_from_file_location("bucket_kernel", recipe + "/bucket_kernel.py")
module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)
sp = module.get_state_preprocessor()
config = json.load(open(recipe + "/bucket_config.json"))
pkg = torch.jit.load(package)
problems = []
bounds, big = config["boundaries"], config["boundaries"][-1]
if config["shapes_collection"] != [list(map(list, b)) for b in pkg.shapes_collection]:
    problems.append("shapes_collection differs")
kv = torch.arange(float(big)).view(1, big); steps = torch.tensor([7])
for k, b in enumerate(bounds):
    mine = sp(config["shapes_collection"], [kv, steps], torch.tensor([k]))
    theirs = pkg.state_preprocessor(pkg.shapes_collection, [kv, steps], torch.tensor([k]))
    if not all(torch.equal(a, c) for a, c in zip(mine, theirs)) or mine[0].shape != (1, b):
        problems.append(f"bucket {k}: views differ")
    if mine[0].data_ptr() != kv.data_ptr() + (big - b) * kv.element_size():
        problems.append(f"bucket {k}: not a view of the buffer tail")
graph = str(sp.graph)
# Replay calls of different buckets on the package and on plain tensors.
ref_kv, ref_steps = torch.zeros(1, big), 0
torch.manual_seed(2)
worst = 0.0
for i, L in enumerate([3, 16, 20, 5, 32, 1, 17, 9, 31, 2]):
    x = torch.randn(1 + i % 2, L)
    b = next(b for b in bounds if L <= b)
    padded = torch.cat([x, torch.zeros(x.shape[0], b - L)], 1)
    view = ref_kv[:, big - b:]
    want = padded.sum(1) * 0.75 + view.sum() + ref_steps
    view.mul_(0.5); view.add_(padded.mean(0, True)); ref_steps += 1
    worst = max(worst, (pkg(x) - want).abs().max().item())
worst = max(worst, (pkg.state_kv - ref_kv).abs().max().item())
print(json.dumps({"problems": problems, "worst": worst, "steps": int(pkg.state_steps),
                  "ref_steps": ref_steps, "graph": graph}))
)PY";

// An exported package against its base models on padded inputs at the given lengths.
const char* kRoundTrip = R"PY(
import json, sys, torch
package, refs, lengths = sys.argv[1], sys.argv[2].split(","), [int(l) for l in sys.argv[3].split(",")]
pkg = torch.jit.load(package)
meta = json.loads(pkg.bucketlab_meta)
bounds, inputs = meta["boundaries"], meta["inputs"]
models = [torch.jit.load(r) for r in refs]
worst, checked = 0.0, 0
torch.manual_seed(4)
for batch in (1, 2):
    for L in lengths:
        if L > bounds[-1]:
            continue
        k = next(i for i, b in enumerate(bounds) if L <= b)
        xs = [torch.randint(1, 50, (batch, L)).to(getattr(torch, s["dtype"])) if s["name"] == "input_ids"
              else torch.full((batch, L), s["fill_value"]).to(getattr(torch, s["dtype"])) for s in inputs]
        padded = [torch.cat([x, torch.full((batch, bounds[k] - L), s["pad_value"]).to(x.dtype)], 1)
                  for x, s in zip(xs, inputs)]
        got, want = pkg(*xs), models[k if len(models) > 1 else 0](*padded)
        got = got if isinstance(got, tuple) else (got,)
        want = want if isinstance(want, tuple) else (want,)
        for g, w in zip(got, want):
            worst = max(worst, (g - w).abs().max().item())
        checked += 1
print(json.dumps({"worst": worst, "checked": checked}))
)PY";

QStringList lengthsOf(const QByteArray& exportJson)
{
    QStringList out;
    const auto doc = QJsonDocument::fromJson(exportJson).object();
    for (const auto& l : doc["verification"].toObject()["lengths"].toArray())
        out << QString::number(l.toInt());
    return out;
}

} // namespace

class TestNeuronRecipe : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void recipeKernelRoutesAndPadsEveryLength();
    void recipeKernelBuildsAPackage();
    void neuronBuildCompilesAndChecksForNeuron();
    void statefulRecipeAndReplay();
    void roundTripTracedPerBucket();
    void perBucketRefusalWritesRecipe();
    void differingModelsFailVerification();
    void roundTripDemo();

private:
    QString path(const QString& name) const { return dir_.filePath(name); }
    QTemporaryDir dir_;
    const QString inputs_ = "input_ids:int64:0:50,attention_mask:int64:0,token_type_ids:int32:2:1";
};

void TestNeuronRecipe::initTestCase()
{
    QVERIFY(dir_.isValid());
    const auto r = runPython(kMakeModels, {dir_.path()});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    const auto b = runCli({"build", path("generic.pt"), "--inputs", inputs_, "--boundaries",
                           "8,20,48", "--out", path("generic_pkg.pt")});
    QVERIFY2(b.exitCode == 0, b.err.constData());
    const auto e = runCli({"export", path("generic_pkg.pt"), "--boundaries", "5,16,33,48", "--out",
                           path("generic_tuned.pt"), "--neuron-recipe", path("recipe"), "--json"});
    QVERIFY2(e.exitCode == 0, e.err.constData());
}

void TestNeuronRecipe::recipeKernelRoutesAndPadsEveryLength()
{
    const auto r = runPython(kCheckKernel, {path("recipe"), path("generic_tuned.pt")});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    const auto j = QJsonDocument::fromJson(r.out).object();
    QCOMPARE(j["checked"].toInt(), 2 * 48); // every length 1..48 at batch 1 and 2
    QVERIFY2(j["problems"].toArray().isEmpty(),
             QJsonDocument(j["problems"].toArray()).toJson().constData());
    // The scripted kernel pads with full-of-pad tensors and raises beyond the largest bucket.
    const QString graph = j["graph"].toString();
    QVERIFY(graph.contains("aten::full"));
    QVERIFY(graph.contains("prim::RaiseException"));
}

void TestNeuronRecipe::recipeKernelBuildsAPackage()
{
    // BucketLab's own kernel loader accepts the recipe file as a user kernel.
    const auto r = runCli({"build", path("generic.pt"), "--inputs", inputs_, "--boundaries",
                           "5,16,33,48", "--kernel", path("recipe/bucket_kernel.py"), "--out",
                           path("recipe_kernel_pkg.pt"), "--json"});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QCOMPARE(QJsonDocument::fromJson(r.out)["meta"].toObject()["kernel"].toString(),
             QString("user"));
}

void TestNeuronRecipe::neuronBuildCompilesAndChecksForNeuron()
{
    const auto compiled =
        runProcess(BUCKETLAB_PYTHON, {"-m", "py_compile", path("recipe/neuron_build.py")});
    QVERIFY2(compiled.exitCode == 0, compiled.err.constData());
    const auto help = runProcess(BUCKETLAB_PYTHON, {path("recipe/neuron_build.py"), "--help"});
    QVERIFY2(help.exitCode == 0, help.err.constData());
    QVERIFY(help.out.contains("--model"));
    const auto config =
        QJsonDocument::fromJson(readAll(path("recipe/bucket_config.json"))).object();
    QCOMPARE(config["format"].toString(), QString("bucketlab.neuron_recipe/1"));
    QCOMPARE(config["boundaries"].toArray().size(), 4);
    QCOMPARE(config["inputs"].toArray().at(2).toObject()["pad_value"].toDouble(), 2.0);
    QCOMPARE(config["inputs"].toArray().at(2).toObject()["dtype"].toString(), QString("int32"));
    const QByteArray build = readAll(path("recipe/neuron_build.py"));
    QVERIFY(build.contains("torch_neuronx.BucketModelConfig(get_bucket_kernel"));
    QVERIFY(build.contains("torch_neuronx.bucket_model_trace(get_model, examples, bucket_config)"));
    QVERIFY(build.contains("PLUG IN YOUR MODEL"));

    const auto probe = runProcess(BUCKETLAB_PYTHON, {"-c", "import torch_neuronx"});
    if (probe.exitCode == 0)
        QSKIP("torch_neuronx is installed here; the missing-Neuron message is not reachable");
    const auto run = runProcess(BUCKETLAB_PYTHON, {path("recipe/neuron_build.py"), "--model",
                                                   path("generic.pt"), "--out", path("n.pt")});
    QVERIFY(run.exitCode != 0);
    QVERIFY2(run.err.contains("torch_neuronx is not installed; run this on a Neuron instance"),
             run.err.constData());
    QVERIFY(!QFile::exists(path("n.pt")));
}

void TestNeuronRecipe::statefulRecipeAndReplay()
{
    const auto b = runCli({"build", path("stateful.pt"), "--inputs", "x:float32:0", "--boundaries",
                           "8,32", "--state", "kv:float32:1x8/1x32", "--state", "steps:int64:1/1",
                           "--out", path("stateful_pkg.pt")});
    QVERIFY2(b.exitCode == 0, b.err.constData());
    const auto e = runCli({"export", path("stateful_pkg.pt"), "--boundaries", "16,32", "--state",
                           "kv:float32:1x16/1x32", "--state", "steps:int64:1/1", "--out",
                           path("stateful_tuned.pt"), "--neuron-recipe", path("state_recipe")});
    QVERIFY2(e.exitCode == 0, e.err.constData());
    const auto r = runPython(kCheckStates, {path("state_recipe"), path("stateful_tuned.pt")});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    const auto j = QJsonDocument::fromJson(r.out).object();
    QVERIFY2(j["problems"].toArray().isEmpty(),
             QJsonDocument(j["problems"].toArray()).toJson().constData());
    QVERIFY2(j["worst"].toDouble() <= 1e-5, r.out.constData());
    QCOMPARE(j["steps"].toInt(), 10);
    QCOMPARE(j["ref_steps"].toInt(), 10);
    const QString graph = j["graph"].toString();
    QVERIFY(graph.contains("aten::Int"));
    QVERIFY(graph.contains("aten::slice"));

    const auto config =
        QJsonDocument::fromJson(readAll(path("state_recipe/bucket_config.json"))).object();
    const auto kv = config["states"].toArray().at(0).toObject();
    QCOMPARE(kv["buffer_shape"].toArray().at(1).toInt(), 32);
    const QByteArray build = readAll(path("state_recipe/neuron_build.py"));
    QVERIFY(build.contains("shared_state_buffer_preprocessor\"] = get_state_preprocessor"));
    const auto compiled =
        runProcess(BUCKETLAB_PYTHON, {"-m", "py_compile", path("state_recipe/neuron_build.py")});
    QVERIFY2(compiled.exitCode == 0, compiled.err.constData());
}

void TestNeuronRecipe::roundTripTracedPerBucket()
{
    const auto b = runCli(
        {"build", "--per-bucket",
         "16=" + path("traced16.pt") + ",32=" + path("traced32.pt") + ",48=" + path("traced48.pt"),
         "--inputs", inputs_, "--out", path("traced_pkg.pt")});
    QVERIFY2(b.exitCode == 0, b.err.constData());
    const auto e = runCli({"export", path("traced_pkg.pt"), "--boundaries", "16,48", "--out",
                           path("traced_tuned.pt"), "--json"});
    QVERIFY2(e.exitCode == 0, e.err.constData());
    const auto r = runPython(kRoundTrip, {path("traced_tuned.pt"),
                                          path("traced16.pt") + "," + path("traced48.pt"),
                                          lengthsOf(e.out).join(',')});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    const auto j = QJsonDocument::fromJson(r.out).object();
    QVERIFY(j["checked"].toInt() >= 2 * 8);
    QVERIFY2(j["worst"].toDouble() <= 1e-5, r.out.constData());
}

void TestNeuronRecipe::perBucketRefusalWritesRecipe()
{
    const auto before = QDir(dir_.path()).entryList(QDir::Files);
    const auto e = runCli({"export", path("traced_pkg.pt"), "--boundaries", "16,24,48", "--out",
                           path("never.pt"), "--neuron-recipe", path("retrace")});
    QCOMPARE(e.exitCode, 2);
    const QString err = QString::fromUtf8(e.err).trimmed();
    QVERIFY2(err.contains("boundary 24 has no model: this package holds models traced at 16, 32, "
                          "48; re-trace with the recipe written to " +
                          path("retrace")),
             qPrintable(err));
    QVERIFY(!err.contains('\n'));
    QCOMPARE(QDir(dir_.path()).entryList(QDir::Files), before); // no package
    const auto config =
        QJsonDocument::fromJson(readAll(path("retrace/bucket_config.json"))).object();
    QCOMPARE(config["missing_models"].toArray().at(0).toInt(), 24);
    QVERIFY(config["models"].toArray().at(1).toObject()["file"].isNull());
    QCOMPARE(config["models"].toArray().at(2).toObject()["file"].toString(),
             QString("traced48.pt"));
    const auto compiled =
        runProcess(BUCKETLAB_PYTHON, {"-m", "py_compile", path("retrace/neuron_build.py")});
    QVERIFY2(compiled.exitCode == 0, compiled.err.constData());
}

void TestNeuronRecipe::differingModelsFailVerification()
{
    const auto b =
        runCli({"build", "--per-bucket", "16=" + path("traced16.pt") + ",48=" + path("other48.pt"),
                "--inputs", inputs_, "--out", path("differing_pkg.pt")});
    QVERIFY2(b.exitCode == 0, b.err.constData());
    const auto before = QDir(dir_.path()).entryList(QDir::AllEntries | QDir::Hidden);
    const auto e = runCli({"export", path("differing_pkg.pt"), "--boundaries", "48", "--out",
                           path("differing_48.pt"), "--json"});
    QCOMPARE(e.exitCode, 1);
    const QString err = QString::fromUtf8(e.err).trimmed();
    QVERIFY2(err.contains("differs from") && err.endsWith("nothing written"), qPrintable(err));
    QVERIFY(!err.contains('\n'));
    const auto j = QJsonDocument::fromJson(e.out).object();
    QVERIFY(!j["ok"].toBool());
    QVERIFY(j["verification"].toObject()["max_abs_diff"].toDouble() > 1e-3);
    QCOMPARE(QDir(dir_.path()).entryList(QDir::AllEntries | QDir::Hidden), before);
}

void TestNeuronRecipe::roundTripDemo()
{
    const auto d = runCli({"demo", "--out", path("demo"), "--verify-budget", "0", "--json"});
    QVERIFY2(d.exitCode == 0, d.err.constData());
    const auto e =
        runCli({"export", path("demo/demo_package.pt"), "--boundaries", "64,128,256,512", "--out",
                path("demo_tuned.pt"), "--batch-sizes", "1", "--random-lengths", "2", "--json"});
    QVERIFY2(e.exitCode == 0, e.err.constData());
    const auto r = runPython(kRoundTrip, {path("demo_tuned.pt"), path("demo/demo_model.pt"),
                                          lengthsOf(e.out).join(',')});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    const auto j = QJsonDocument::fromJson(r.out).object();
    QVERIFY(j["checked"].toInt() >= 2 * 9);
    QVERIFY2(j["worst"].toDouble() <= 1e-5, r.out.constData());
}

QTEST_GUILESS_MAIN(TestNeuronRecipe)
#include "tst_neuron_recipe.moc"
