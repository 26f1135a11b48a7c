// The export seen from plain PyTorch (Debian's python3-torch): the recipe's bucket_kernel.py
// scripted by torch.jit.script routes and pads every length as BucketLab's own package
// kernel does, its state preprocessor hands out the package's views, neuron_build.py
// compiles, and exported packages match their base models on padded inputs (models scripted
// and traced by PyTorch, and the demo). neuron_build.py runs end to end, unedited, against
// tests/data/neuron_stub/torch_neuronx (a stand-in written from the documented torch_neuronx
// autobucketing API that traces on the CPU; no Neuron device here): its compiled model is
// called at several lengths and batch sizes and compared with the CPU package.
#include "testutil.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcessEnvironment>
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

class SeqIds(torch.nn.Module):
    # NxD's context-encoding inputs: seq_ids [batch] has no length and picks a slot.
    def __init__(self):
        super().__init__()
        torch.manual_seed(7)
        self.emb = torch.nn.Embedding(60, 4)
        self.pos = torch.nn.Parameter(torch.randn(48, 4))
        self.slots = torch.nn.Parameter(torch.randn(4, 4))
    def forward(self, input_ids, attention_mask, seq_ids):
        x = self.emb(input_ids) * attention_mask.unsqueeze(2).float()
        x = x + self.pos[: input_ids.shape[1]].unsqueeze(0)
        return x + self.slots[seq_ids].unsqueeze(1)

torch.jit.save(torch.jit.script(SeqIds().eval()), f"{out}/seq_ids.pt")
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

// A compiled model (neuron_build.py's output under the stub) against the CPU package, call by
// call: LENGTHxBATCH items, in order. Stateful packages return the model's outputs followed by
// every whole state, compared with the package's state buffers after the same call.
const char* kCompareCompiled = R"PY(
import json, sys, torch
compiled_file, package_file = sys.argv[1], sys.argv[2]
calls = [tuple(int(v) for v in c.split("x")) for c in sys.argv[3].split(",")]  # LENGTHxBATCH
compiled, pkg = torch.jit.load(compiled_file), torch.jit.load(package_file)
meta = json.loads(pkg.bucketlab_meta)
dtypes = {"int64": torch.int64, "int32": torch.int32, "float32": torch.float32}
states = ["state_" + s["name"] for s in meta["states"]]
torch.manual_seed(3)
worst, checked, problems = 0.0, 0, []
for L, batch in calls:
    xs = []
    for spec in meta["inputs"]:
        shape = [batch, L] if spec["bucketed"] else [batch]
        if spec["dtype"].startswith("float"):
            xs.append(torch.randn(shape).to(dtypes[spec["dtype"]]))
        elif spec["name"] == "input_ids":
            xs.append(torch.randint(1, 50, shape).to(dtypes[spec["dtype"]]))
        else:
            xs.append(torch.full(shape, spec["fill_value"]).to(dtypes[spec["dtype"]]))
    try:
        got = compiled(*xs)
    except Exception as e:
        problems.append(f"L={L} batch={batch}: {str(e).splitlines()[-1]}")
        continue
    want = pkg(*xs)
    got = got if isinstance(got, tuple) else (got,)
    want = want if isinstance(want, tuple) else (want,)
    if len(got) != len(want) + len(states):
        problems.append(f"L={L} batch={batch}: {len(got)} outputs, expected {len(want)} + {len(states)} states")
        continue
    for g, w in zip(got, list(want) + [getattr(pkg, s) for s in states]):
        if g.shape != w.shape:
            problems.append(f"L={L} batch={batch}: shape {list(g.shape)} != {list(w.shape)}")
        else:
            worst = max(worst, (g.double() - w.double()).abs().max().item())
    checked += 1
print(json.dumps({"checked": checked, "worst": worst, "problems": problems}))
)PY";

// The guide's path for the same recipe: the whole buffers as shared_state_buffer and the
// recipe's state preprocessor handing each bucket its view (buffers at the bucket's shape).
// Prints "accepted" or "refused: <the stub's reason>".
const char* kGuidePath = R"PY(
# The guide's path for the same states: shared_state_buffer + the recipe's preprocessor.
import functools, sys, torch, torch_neuronx
sys.path.insert(0, sys.argv[1]); sys.argv = sys.argv[:1] + sys.argv[2:]
import neuron_build as nb, bucket_kernel as bk
model_file = sys.argv[1]
def get_model(bucket_rank=0, batch_size=1, model_file=None):
    # Buffers at the bucket's shape, as the guide's preprocessor hands them out.
    model = nb.load_model(bucket_rank, model_file)
    class Guide(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model
            for s in nb.STATES:
                self.register_buffer("state_" + s["name"], torch.zeros(s["shapes"][bucket_rank], dtype=nb.DTYPES[s["dtype"]]))
        def forward(self, *inputs):
            states = [getattr(self, "state_" + s["name"]) for s in nb.STATES]
            out = self.model(*inputs, *states)
            return (out,) + tuple(states)
    g = Guide()
    return g, {getattr(g, "state_" + s["name"]): 1 + i for i, s in enumerate(nb.STATES)}
config = torch_neuronx.BucketModelConfig(
    functools.partial(nb.get_bucket_kernel, (1,)),
    shared_state_buffer=[torch.zeros(s["buffer_shape"], dtype=nb.DTYPES[s["dtype"]]) for s in nb.STATES],
    shared_state_buffer_preprocessor=bk.get_state_preprocessor,
    func_kwargs=[{"bucket_rank": k, "model_file": model_file} for k in range(len(nb.BOUNDARIES))])
try:
    torch_neuronx.bucket_model_trace(get_model, [nb.example_inputs(b, 1) for b in nb.BOUNDARIES], config)
    print("accepted")
except ValueError as e:
    print("refused:", e)
)PY";

// The stub against the documented flows it was written from, without BucketLab's recipe:
// the guide's BERT example (its own kernel, get_bert_model returning (model, {})) and NxD's
// context-encoding config (bucket_kernel_constant_args with left padding, seq_ids of shape
// [B], inputs padded to the largest bucket and sliced by the kernel), compared with the model
// on the inputs each contract implies. argv: tests/data, a directory for the saved model.
const char* kDocumentedFlows = R"PY(
import importlib.util, json, sys, torch
from typing import List
import torch_neuronx

DATA = sys.argv[1] if len(sys.argv) > 1 else ""


def load(name):
    spec = importlib.util.spec_from_file_location(name, f"{DATA}/{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Encoder(torch.nn.Module):
    # Masked mean of token and position embeddings: padded positions do not count.
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.emb = torch.nn.Embedding(60, 8)
        self.pos = torch.nn.Parameter(torch.randn(512, 8))
        self.head = torch.nn.Linear(8, 3)

    def forward(self, input_ids, attention_mask, seq_ids=None):
        m = attention_mask.unsqueeze(-1).float()
        x = (self.emb(input_ids) + self.pos[: input_ids.shape[1]]) * m
        out = self.head(x.sum(1) / m.sum(1))
        return out if seq_ids is None else out + seq_ids.unsqueeze(-1).float()


class NxdEncoder(Encoder):
    def forward(self, input_ids, attention_mask, seq_ids):
        return super().forward(input_ids, attention_mask, seq_ids)


def get_bert_model(*args):
    # The guide's factory: (model, {}) for a stateless model.
    return Encoder().eval(), {}


def get_nxd_model(bucket_rank=0):
    return NxdEncoder().eval(), {}


def main():
    worst, checked, problems = 0.0, 0, []
    # 1. The guide's BERT flow with the guide's own kernel (right padding with zeros).
    guide = load("seed_bucket_kernel")
    examples = [(torch.randint(1, 60, (1, n)), torch.ones(1, n, dtype=torch.long)) for n in (128, 512)]
    config = torch_neuronx.BucketModelConfig(guide.get_bucket_kernel)
    compiled = torch_neuronx.bucket_model_trace(get_bert_model, examples, config)
    torch.jit.save(compiled, f"{sys.argv[2]}/guide.neuron.pt")
    compiled = torch.jit.load(f"{sys.argv[2]}/guide.neuron.pt")
    model = get_bert_model()[0]
    for n in (122, 128, 444, 512):
        ids, mask = torch.randint(1, 60, (1, n)), torch.ones(1, n, dtype=torch.long)
        b = 128 if n <= 128 else 512
        want = model(torch.cat([ids, torch.zeros(1, b - n, dtype=torch.long)], 1),
                     torch.cat([mask, torch.zeros(1, b - n, dtype=torch.long)], 1))
        worst = max(worst, (compiled(ids, mask) - want).abs().max().item())
        checked += 1
    # 2. NxD's context-encoding config: constant arguments, left padding, seq_ids of shape [B];
    # inputs arrive padded to the largest bucket and the kernel slices them.
    nxd = load("nxd_context_encoding_kernel")
    buckets = [128, 512]
    config = torch_neuronx.BucketModelConfig(
        bucket_kernel=nxd.get_context_encoder_bk,
        bucket_kernel_constant_args=(torch.tensor(buckets), "left", 0),
        shared_state_buffer=None,
        func_kwargs=[{"bucket_rank": i} for i in range(len(buckets))])
    for batch in (1, 2):
        examples = [(torch.randint(1, 60, (batch, b)), torch.ones(batch, b, dtype=torch.long),
                     torch.arange(batch)) for b in buckets]
        compiled = torch_neuronx.bucket_model_trace(get_nxd_model, examples, config)
        model = get_nxd_model()[0]
        for n in (5, 128, 129, 300, 512):
            ids = torch.cat([torch.zeros(batch, 512 - n, dtype=torch.long), torch.randint(1, 60, (batch, n))], 1)
            mask = (ids != 0).long()
            seq_ids = torch.arange(batch)
            b = next(b for b in buckets if n <= b)
            want = model(ids[:, 512 - b:], mask[:, 512 - b:], seq_ids)
            worst = max(worst, (compiled(ids, mask, seq_ids) - want).abs().max().item())
            checked += 1
        try:
            compiled(ids[:1], mask[:1], seq_ids[:1]) if batch == 2 else compiled(
                torch.cat([ids, ids]), torch.cat([mask, mask]), torch.arange(2))
            problems.append(f"batch {batch}: a call at another batch size ran")
        except Exception as e:
            if "was compiled for input 0 of shape" not in str(e):
                problems.append(f"batch {batch}: {e}")
    print(json.dumps({"worst": worst, "checked": checked, "problems": problems}))


if __name__ == "__main__":
    main()
)PY";

// Runs a recipe script with the torch_neuronx stub importable; the stub logs to `log`. With
// `workers`, the stub first calls every get_model in a spawned worker process, as a host does
// (a few seconds per run, so only some rows ask for it).
ProcessResult runWithStub(const QStringList& args, const QString& log, bool workers = false)
{
    QProcess p;
    auto env = QProcessEnvironment::systemEnvironment();
    env.insert("PYTHONPATH", dataPath("neuron_stub"));
    env.insert("TORCH_NEURONX_STUB_LOG", log);
    env.insert("TORCH_NEURONX_STUB_WORKERS", workers ? "spawn" : "0");
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(BUCKETLAB_PYTHON), args);
    ProcessResult r;
    if (!p.waitForStarted(10000))
        return r;
    r.finished = p.waitForFinished(300000);
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
}

QList<QJsonObject> logRecords(const QString& log, const QString& event)
{
    QList<QJsonObject> out;
    for (const auto& line : readAll(log).split('\n'))
        if (!line.trimmed().isEmpty()) {
            const auto o = QJsonDocument::fromJson(line).object();
            if (o["event"].toString() == event)
                out << o;
        }
    return out;
}

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
    void stubCompilesStatelessRecipe_data();
    void stubCompilesStatelessRecipe();
    void stubDefaultBatchOnly();
    void stubCompilesStatefulRecipe_data();
    void stubCompilesStatefulRecipe();
    void stubCompilesUserKernelWithConstantArgs();
    void stubRefusesBadModels();
    void stubRunsDocumentedFlows();

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
    QVERIFY(build.contains("torch_neuronx.BucketModelConfig(\n        "
                           "functools.partial(get_bucket_kernel, batch_sizes), **config_kwargs)"));
    QVERIFY(build.contains("torch_neuronx.bucket_model_trace(get_model, examples, bucket_config)"));
    QVERIFY(build.contains("PLUG IN YOUR MODEL"));
    QCOMPARE(config["batch_sizes"].toArray(), QJsonArray{1});

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
    // NxD's path: whole buffers, no preprocessor (its views are not contiguous in general).
    QVERIFY(build.contains("config_kwargs[\"shared_state_buffer\"]"));
    QVERIFY(!build.contains("config_kwargs[\"shared_state_buffer_preprocessor\"]"));
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

void TestNeuronRecipe::stubCompilesStatelessRecipe_data()
{
    QTest::addColumn<QString>("side");
    QTest::addColumn<QString>("boundaries");
    QTest::addColumn<QString>("calls");
    // The right-padded row re-exports with new boundaries; the left-padded one keeps the
    // package's (the test encoder is not invariant to left padding across buckets).
    QTest::addRow("right") << "right"
                           << "5,16,33,48"
                           << "1x1,5x1,6x2,16x2,17x1,33x1,40x2,48x1,48x2";
    QTest::addRow("left") << "left"
                          << "8,20,48"
                          << "1x1,5x2,8x1,9x2,20x1,33x2,48x1,48x2";
}

void TestNeuronRecipe::stubCompilesStatelessRecipe()
{
    QFETCH(QString, side);
    QFETCH(QString, boundaries);
    QFETCH(QString, calls);
    const QString pkg = path("stub_" + side + "_pkg.pt"),
                  tuned = path("stub_" + side + "_tuned.pt");
    const QString recipe = path("stub_" + side + "_recipe"), log = path("stub_" + side + ".log");
    const auto b = runCli({"build", path("generic.pt"), "--inputs", inputs_, "--boundaries",
                           "8,20,48", "--padding-side", side, "--out", pkg});
    QVERIFY2(b.exitCode == 0, b.err.constData());
    const auto e = runCli(
        {"export", pkg, "--boundaries", boundaries, "--out", tuned, "--neuron-recipe", recipe});
    QVERIFY2(e.exitCode == 0, e.err.constData());
    // The recipe as written, run against the stub: buckets x batch sizes 1 and 2.
    const auto run =
        runWithStub({recipe + "/neuron_build.py", "--model", path("generic.pt"), "--out",
                     path("stub_" + side + ".neuron.pt"), "--batch-sizes", "1,2"},
                    log, side == "right");
    QVERIFY2(run.exitCode == 0, run.err.constData());
    const QStringList bounds = boundaries.split(',');
    const auto got = logRecords(log, "get_model");
    QCOMPARE(got.size(), 2 * bounds.size()); // one get_model call per compiled bucket
    for (int k = 0; k < got.size(); ++k) {
        const auto kw = got[k]["kwargs"].toObject();
        QCOMPARE(got[k]["bucket"].toInt(), k);
        QCOMPARE(kw["bucket_rank"].toInt(), k % bounds.size());
        QCOMPARE(kw["batch_size"].toInt(), 1 + k / bounds.size());
    }
    const auto trace = logRecords(log, "trace");
    QCOMPARE(trace.size(), 1);
    QVERIFY(!trace[0]["shared_state_buffer"].toBool());
    // Every call matches the CPU package; past the largest bucket and at an uncompiled batch
    // size the compiled model raises.
    const int last = bounds.last().toInt();
    const auto r = runPython(kCompareCompiled, {path("stub_" + side + ".neuron.pt"), tuned,
                                                calls + QString(",%1x1,3x3").arg(last + 1)});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    const auto j = QJsonDocument::fromJson(r.out).object();
    QCOMPARE(j["checked"].toInt(), calls.split(',').size());
    QVERIFY2(j["worst"].toDouble() <= 1e-5, r.out.constData());
    const auto problems = j["problems"].toArray();
    QCOMPARE(problems.size(), 2);
    QVERIFY2(problems[0].toString().contains(
                 QString("input length %1 exceeds the largest bucket %2").arg(last + 1).arg(last)),
             r.out.constData());
    QVERIFY2(problems[1].toString().contains("batch 3 was not compiled (batch sizes 1, 2)"),
             r.out.constData());
}

void TestNeuronRecipe::stubDefaultBatchOnly()
{
    // Without --batch-sizes the recipe compiles the package's batch size (1): the stub's fixed
    // shapes make a batch-2 call raise rather than run a bucket at a shape it was not built for.
    const auto run = runWithStub({path("recipe/neuron_build.py"), "--model", path("generic.pt"),
                                  "--out", path("default_batch.neuron.pt")},
                                 path("default_batch.log"));
    QVERIFY2(run.exitCode == 0, run.err.constData());
    QCOMPARE(logRecords(path("default_batch.log"), "get_model").size(), 4);
    const auto r = runPython(kCompareCompiled, {path("default_batch.neuron.pt"),
                                                path("generic_tuned.pt"), "7x1,48x1,7x2"});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    const auto j = QJsonDocument::fromJson(r.out).object();
    QCOMPARE(j["checked"].toInt(), 2);
    QVERIFY2(j["worst"].toDouble() <= 1e-5, r.out.constData());
    QCOMPARE(j["problems"].toArray().size(), 1);
    QVERIFY(
        j["problems"].toArray()[0].toString().contains("batch 2 was not compiled (batch sizes 1)"));
}

void TestNeuronRecipe::stubCompilesStatefulRecipe_data()
{
    QTest::addColumn<QString>("kv");
    QTest::addColumn<QString>("guidePath");
    // kv [1, L]: the guide's views are contiguous (a row tail), its path works too. kv [2, L]:
    // a view of the last L' columns of two rows is not contiguous, so the guide's path is
    // refused, and the recipe's (whole buffers, sliced inside the model) is the one that runs.
    QTest::addRow("kv 1xL") << "1"
                            << "accepted";
    QTest::addRow("kv 2xL") << "2"
                            << "refused: bucket 0: state 0 is not contiguous";
}

void TestNeuronRecipe::stubCompilesStatefulRecipe()
{
    QFETCH(QString, kv);
    QFETCH(QString, guidePath);
    const QString tag = "kv" + kv;
    const QString recipe = path(tag + "_recipe"), tuned = path(tag + "_tuned.pt");
    // Built with the length marked (L), exported with one shape per bucket: the same states.
    const auto b = runCli({"build", path("stateful.pt"), "--inputs", "x:float32:0", "--boundaries",
                           "8,32", "--state", "kv:float32:" + kv + "xL", "--state",
                           "steps:int64:1/1", "--out", path(tag + "_pkg.pt")});
    QVERIFY2(b.exitCode == 0, b.err.constData());
    const auto e = runCli({"export", path(tag + "_pkg.pt"), "--boundaries", "16,32", "--state",
                           "kv:float32:" + kv + "x16/" + kv + "x32", "--state", "steps:int64:1/1",
                           "--out", tuned, "--neuron-recipe", recipe});
    QVERIFY2(e.exitCode == 0, e.err.constData());
    const QString log = path(tag + ".log"), compiled = path(tag + ".neuron.pt");
    const auto run = runWithStub({recipe + "/neuron_build.py", "--model", path("stateful.pt"),
                                  "--out", compiled, "--batch-sizes", "1,2"},
                                 log, kv == "1");
    QVERIFY2(run.exitCode == 0, run.err.constData());
    const auto trace = logRecords(log, "trace");
    QCOMPARE(trace.size(), 1);
    QVERIFY(trace[0]["shared_state_buffer"].toBool());
    QVERIFY(!trace[0]["preprocessor"].toBool());
    // Each bucket aliases kv and steps to the outputs after the model's one output.
    for (const auto& a : trace[0]["aliases"].toArray())
        QCOMPARE(a.toArray(), (QJsonArray{1, 2}));
    // A replay across buckets and batch sizes: outputs and both states equal the package's
    // after every call (one state shared by every bucket, as in the package).
    const auto r = runPython(kCompareCompiled,
                             {compiled, tuned, "3x1,16x2,20x1,5x2,32x1,1x1,17x2,9x1,31x2,2x1"});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    const auto j = QJsonDocument::fromJson(r.out).object();
    QCOMPARE(j["checked"].toInt(), 10);
    QVERIFY2(j["problems"].toArray().isEmpty(), r.out.constData());
    QVERIFY2(j["worst"].toDouble() <= 1e-5, r.out.constData());

    QTemporaryFile script(QDir::tempPath() + "/bucketlab_guide_XXXXXX.py");
    QVERIFY(script.open());
    script.write(kGuidePath);
    script.flush();
    const auto guide =
        runWithStub({script.fileName(), recipe, path("stateful.pt")}, path(tag + "_guide.log"));
    QVERIFY2(guide.exitCode == 0, guide.err.constData());
    QVERIFY2(guide.out.trimmed().startsWith(guidePath.toUtf8()), guide.out.constData());
}

void TestNeuronRecipe::stubCompilesUserKernelWithConstantArgs()
{
    // An NxD-style kernel with constant arguments and left padding: build writes the recipe
    // with the kernel as given, and neuron_build.py passes the constants to BucketModelConfig
    // (the stub routes every example through kernel(inputs, *constants), so a recipe without
    // them cannot compile).
    const QString pkg = path("nxd_pkg.pt"), recipe = path("nxd_recipe");
    const QString constants = "torch.tensor([16, 48]), 'left', 0";
    const auto b =
        runCli({"build", path("seq_ids.pt"), "--inputs",
                "input_ids:int64:0,attention_mask:int64:0,seq_ids:int64:-", "--boundaries", "16,48",
                "--padding-side", "left", "--kernel", dataPath("nxd_context_encoding_kernel.py"),
                "--function", "pad_to_bucket_bk", "--constant-args", constants, "--out", pkg,
                "--neuron-recipe", recipe, "--json"});
    QVERIFY2(b.exitCode == 0, b.err.constData());
    QCOMPARE(QJsonDocument::fromJson(b.out).object()["recipe_files"].toArray().size(), 4);
    const auto config = QJsonDocument::fromJson(readAll(recipe + "/bucket_config.json")).object();
    const auto kernel = config["kernel"].toObject();
    QCOMPARE(kernel["generated"].toBool(), false);
    QCOMPARE(kernel["function"].toString(), QString("pad_to_bucket_bk"));
    QCOMPARE(kernel["constant_args"].toString(), constants);
    QCOMPARE(config["padding_side"].toString(), QString("left"));
    QVERIFY(readAll(recipe + "/README.md")
                .contains("bucket_kernel_constant_args=(" + constants.toUtf8() + ",)"));

    const QString log = path("nxd.log"), compiled = path("nxd.neuron.pt");
    const auto run = runWithStub({recipe + "/neuron_build.py", "--model", path("seq_ids.pt"),
                                  "--out", compiled, "--batch-sizes", "1,2"},
                                 log, true);
    QVERIFY2(run.exitCode == 0, (run.out + run.err).constData());
    const auto trace = logRecords(log, "trace");
    QCOMPARE(trace.size(), 1);
    QCOMPARE(trace[0]["constant_args"].toArray(), (QJsonArray{"tensor([16, 48])", "'left'", "0"}));
    QCOMPARE(logRecords(log, "get_model").size(), 4);
    // Every call matches the CPU package (which passes the same constants); past the largest
    // bucket the user's kernel raises, and an uncompiled batch size is refused.
    const auto r =
        runPython(kCompareCompiled, {compiled, pkg, "1x1,5x2,16x1,17x2,30x1,48x2,49x1,3x3"});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    const auto j = QJsonDocument::fromJson(r.out).object();
    QCOMPARE(j["checked"].toInt(), 6);
    QVERIFY2(j["worst"].toDouble() <= 1e-5, r.out.constData());
    const auto problems = j["problems"].toArray();
    QCOMPARE(problems.size(), 2);
    QVERIFY2(problems[0].toString().contains("input length 49 exceeds the largest bucket 48"),
             r.out.constData());
    QVERIFY2(problems[1].toString().contains("batch 3 was not compiled (batch sizes 1, 2)"),
             r.out.constData());

    // A recipe needs the kernel's Python source: a TorchScript archive is refused up front,
    // and nothing is written.
    const auto archived = runCli({"build", path("seq_ids.pt"), "--inputs",
                                  "input_ids:int64:0,attention_mask:int64:0,seq_ids:int64:-",
                                  "--boundaries", "16,48", "--kernel", pkg, "--out",
                                  path("never.pt"), "--neuron-recipe", path("never_recipe")});
    QCOMPARE(archived.exitCode, 2);
    QVERIFY2(archived.err.contains("give --kernel as a .py file"), archived.err.constData());
    QVERIFY(!QFile::exists(path("never.pt")));
    QVERIFY(!QFile::exists(path("never_recipe")));
}

void TestNeuronRecipe::stubRefusesBadModels()
{
    // The stub is strict where a Neuron host is: the recipe of stubCompilesStatefulRecipe's
    // "kv 1xL" row, with get_model() broken four ways, fails to compile each time.
    const QString recipe = path("kv1_recipe");
    QVERIFY2(QFile::exists(recipe + "/neuron_build.py"), "runs after stubCompilesStatefulRecipe");
    const QByteArray build = readAll(recipe + "/neuron_build.py");
    struct Case {
        QList<QPair<QByteArray, QByteArray>> edits;
        const char* error;
        bool workers;
    };
    const QList<Case> cases = {
        {{{"return bucket, aliases", "return bucket, {}"}},
         "0 input_output_aliases for 2 shared state buffers",
         false},
        {{{"aliases = {getattr(bucket, name): first + i",
           "aliases = {getattr(bucket, name).clone(): first + i"}},
         "an input_output_aliases key is not a parameter or buffer of the model",
         false},
        {{{"aliases = {getattr(bucket, name): first + i",
           "aliases = {getattr(bucket, name): first + i + 3"}},
         "input_output_aliases names output 4; the model returns 3",
         false},
        // The model file kept in a global that main() fills (as this recipe once did): fine
        // in one process, missing in the host's workers.
        {{{"STATES = CONFIG[\"states\"]\n",
           "STATES = CONFIG[\"states\"]\nMODEL_FILES: Dict[int, str] = {}\n"},
          {"    files = parse_model_args(args.model)\n",
           "    files = parse_model_args(args.model)\n    MODEL_FILES.update(files)\n"},
          {"\"model_file\": files.get(length, files.get(0))", "\"model_file\": None"},
          {"def load_model(bucket_rank: int, model_file: Optional[str]):\n",
           "def load_model(bucket_rank: int, model_file: Optional[str]):\n"
           "    model_file = MODEL_FILES.get(0, model_file)\n"}},
         "bucket 0: func(**func_kwargs[0]) failed in a worker process: SystemExit: "
         "neuron_build.py: no model for bucket 16",
         true},
    };
    for (const auto& c : cases) {
        QByteArray broken = build;
        for (const auto& [from, to] : c.edits) {
            QVERIFY2(broken.contains(from), from.constData());
            broken.replace(from, to);
        }
        QVERIFY(writeAll(recipe + "/broken_build.py", broken));
        const auto run = runWithStub({recipe + "/broken_build.py", "--model", path("stateful.pt"),
                                      "--out", path("broken.neuron.pt")},
                                     path("broken.log"), c.workers);
        QVERIFY(run.exitCode != 0);
        QVERIFY2(run.err.contains(c.error), run.err.constData());
        QVERIFY(!QFile::exists(path("broken.neuron.pt")));
    }
}

void TestNeuronRecipe::stubRunsDocumentedFlows()
{
    QTemporaryFile script(QDir::tempPath() + "/bucketlab_flows_XXXXXX.py");
    QVERIFY(script.open());
    script.write(kDocumentedFlows);
    script.flush();
    const auto r =
        runWithStub({script.fileName(), QStringLiteral(BUCKETLAB_TEST_DATA), dir_.path()},
                    path("flows.log"), true);
    QVERIFY2(r.exitCode == 0, r.err.constData());
    const auto j = QJsonDocument::fromJson(r.out).object();
    QCOMPARE(j["checked"].toInt(), 4 + 2 * 5);
    QVERIFY2(j["worst"].toDouble() <= 1e-5, r.out.constData());
    QVERIFY2(j["problems"].toArray().isEmpty(), r.out.constData());
    // The guide's flow passes no func_kwargs: get_bert_model() is called with none.
    const auto calls = logRecords(path("flows.log"), "get_model");
    QCOMPARE(calls.size(), 2 + 2 * 2);
    QVERIFY(calls[0]["kwargs"].toObject().isEmpty());
    QCOMPARE(calls[3]["kwargs"].toObject()["bucket_rank"].toInt(), 1);
}

QTEST_GUILESS_MAIN(TestNeuronRecipe)
#include "tst_neuron_recipe.moc"
