// Fidelity: `bucketlab-cli profile` medians against an independent timing of the same
// TorchScript model through plain PyTorch (Debian's python3-torch), under the same
// conditions: a fresh process that loads the model once, one thread (BLAS included), the
// same inputs (all ones), the same warm-up rule, the same clock, the same allocator
// settings. The two take turns, six times each, so that the machine's drift (its speed
// changes by more than the tolerance from one minute to the next) hits both alike, and
// are compared turn by turn (see the verdict below).
//
// Why each of those matters, as seen on this machine:
//  - allocator: glibc's malloc hands large freed blocks back to the kernel, and takes page
//    faults to get them again, until a large free raises its mmap threshold. python3 alone
//    varied by 3x on the same model (0 or ~120 page faults per forward), and a process
//    that had loaded the demo model twice ran length 512 twice as fast, CPU time included,
//    as one that loaded it once. Both get the same fixed thresholds (GLIBC_TUNABLES).
//  - fresh processes: a long-lived timer that slept while the profiler ran was scheduled
//    4x worse (wall clock) than the fresh profiler process on a saturated machine.
//  - BLAS threads: torch.set_num_threads does not reach OpenBLAS's pool (BucketLab sets
//    both), so the environment pins it to one thread for both.
//  - the call: Python times model.forward(...), the TorchScript method BucketLab calls.
//    model(...) adds nn.Module's call machinery in Python, 0.14 ms of CPU per call here
//    (10 % of the traced encoder at length 64), which a C++ or Neuron server never pays.
//
// Not a gating test (label "bench"): it prints its figures and verdict and passes whatever
// the machine's noise. The comparison is judged only when the machine was not saturated while it
// ran (CPU pressure, /proc/pressure/cpu, at most 50 % over the minute before each turn's end). When
// tasks wait for a CPU most of the time, wall-clock latency measures the scheduler more than the
// model, and even thread CPU time moves by 10-20 % between runs (the other tasks evict this one's
// caches and share its core); the figures are printed either way. At about 45 % pressure all eight
// comparisons were within 5.4 %.
#include "testutil.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTemporaryFile>
#include <QTest>

#include <algorithm>
#include <fstream>
#include <map>
#include <random>
#include <string>

using namespace bucketlab::test;

namespace {

// Loads the model, warms like BucketLab (two runs, then until no longer faster), times
// forward() at the lengths round by round for the given seconds and prints their medians
// as JSON.
const char* kPythonTimer = R"(
import json, statistics, sys, time, torch
torch.set_num_threads(1)
model = torch.jit.load(sys.argv[1]).eval()
lengths = [int(x) for x in sys.argv[2].split(",")]
specs = [item.split(":") for item in sys.argv[3].split(",")]
inputs = {L: [torch.full((1, L), float(fill), dtype=getattr(torch, dtype)) for dtype, fill in specs]
          for L in lengths}
clock = time.thread_time if sys.argv[4] == "cpu" else time.perf_counter

def once(L):
    t0 = clock()
    model.forward(*inputs[L])
    return (clock() - t0) * 1e3

with torch.no_grad():
    for L in lengths:
        times = [once(L) for _ in range(8)]
        while len(times) < 20 and statistics.median(times[-3:]) < 0.95 * statistics.median(times[-6:-3]):
            times.append(once(L))
    end = time.perf_counter() + float(sys.argv[5])
    samples = {L: [] for L in lengths}
    r = 0
    while time.perf_counter() < end:
        for k in range(len(lengths)):
            L = lengths[(r + k) % len(lengths)]
            samples[L].append(once(L))
        r += 1
    print(json.dumps({str(L): statistics.median(v) for L, v in samples.items()}))
)";

// Share of the last minute in which some runnable task waited for a CPU, or -1 when the
// kernel does not report pressure.
double cpuPressurePct()
{
    std::ifstream in("/proc/pressure/cpu");
    std::string some, avg10, avg60; // "some avg10=1.23 avg60=4.56 avg300=... total=..."
    if (!(in >> some >> avg10 >> avg60))
        return -1;
    const auto eq = avg60.find('=');
    return eq == std::string::npos ? -1 : std::stod(avg60.substr(eq + 1));
}

// Six turns for a full run (the README's figures); CTest runs two rows with two turns each
// (BUCKETLAB_FIDELITY_TURNS=2) so that the comparison cannot rot.
int turnCount()
{
    const int turns = qEnvironmentVariableIntValue("BUCKETLAB_FIDELITY_TURNS");
    return turns > 0 ? turns : 6;
}

double medianOf(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

} // namespace

class TestProfileFidelity : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void mediansAgreeWithPyTorch_data();
    void mediansAgreeWithPyTorch();

private:
    QTemporaryDir dir_;
    QString demo_;
    QString traced_;
};

void TestProfileFidelity::initTestCase()
{
    QVERIFY(dir_.isValid());
    // Inherited by every process started from here: bucketlab-cli and python3.
    qputenv("GLIBC_TUNABLES",
            "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=268435456");
    qputenv("OMP_NUM_THREADS", "1");
    qputenv("OPENBLAS_NUM_THREADS", "1");
    const auto d =
        runCli({"demo", "--out", dir_.filePath("demo"), "--verify-budget", "0", "--json"});
    QVERIFY2(d.exitCode == 0, d.err.constData());
    demo_ = dir_.filePath("demo/demo_model.pt");
    // A model as a PyTorch user makes one: nn.Modules traced with torch.jit.trace at one
    // length. Nothing in it bakes the length in, so it runs at any length.
    traced_ = dir_.filePath("traced.pt");
    const auto r = runPython(R"(
import sys, torch
class Block(torch.nn.Module):
    def __init__(self, h):
        super().__init__()
        self.norm = torch.nn.LayerNorm(h)
        self.up = torch.nn.Linear(h, 4 * h)
        self.down = torch.nn.Linear(4 * h, h)
    def forward(self, x):
        attention = torch.softmax(x @ x.transpose(1, 2) / 8.0, dim=-1) @ x
        x = self.norm(x + attention)
        return x + self.down(torch.nn.functional.gelu(self.up(x)))
class Encoder(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = torch.nn.Embedding(1000, 128)
        self.blocks = torch.nn.Sequential(Block(128), Block(128))
        self.head = torch.nn.Linear(128, 2)
    def forward(self, ids):
        return self.head(self.blocks(self.embedding(ids)).mean(1))
torch.manual_seed(0)
traced = torch.jit.trace(Encoder().eval(), torch.ones(1, 64, dtype=torch.long))
assert traced(torch.ones(1, 256, dtype=torch.long)).shape == (1, 2)
traced.save(sys.argv[1])
)",
                             {traced_});
    QVERIFY2(r.exitCode == 0, r.err.constData());
}

void TestProfileFidelity::mediansAgreeWithPyTorch_data()
{
    QTest::addColumn<QString>("model");
    QTest::addColumn<QString>("inputs");
    QTest::addColumn<QList<int>>("lengths");
    QTest::addColumn<double>("seconds");
    QTest::addColumn<QString>("clock");
    for (const char* clock : {"wall", "cpu"}) {
        QTest::addRow("demo encoder, %s clock", clock)
            << demo_ << "input_ids:int64:0:1,attention_mask:int64:0:1" << QList<int>{128, 512}
            << 3.0 << clock;
        QTest::addRow("PyTorch-traced encoder, %s clock", clock)
            << traced_ << "ids:int64:0:1" << QList<int>{64, 256} << 2.0 << clock;
    }
}

void TestProfileFidelity::mediansAgreeWithPyTorch()
{
    QFETCH(QString, model);
    QFETCH(QString, inputs);
    QFETCH(QList<int>, lengths);
    QFETCH(double, seconds);
    QFETCH(QString, clock);

    QStringList l;
    for (int x : lengths)
        l << QString::number(x);
    const QStringList cliArgs = {"profile",   model,       "--inputs",  inputs,
                                 "--lengths", l.join(','), "--threads", "1",
                                 "--clock",   clock,       "--budget",  QString::number(seconds),
                                 "--json"};
    QStringList pySpecs; // dtype:fill
    for (const auto& spec : inputs.split(',')) {
        const auto parts = spec.split(':');
        pySpecs << parts[1] + ":" + parts[3];
    }

    std::map<int64_t, std::vector<double>> ours, theirs;
    double pressure = cpuPressurePct(); // the worst seen during the comparison
    const int turns = turnCount();
    for (int turn = 0; turn < turns; ++turn) {
        // Alternate which side goes first, so neither always runs in the other's wake.
        ProcessResult cli, py;
        const auto runOurs = [&] {
            cli = runCli(cliArgs);
        };
        const auto runTheirs = [&] {
            py = runPython(kPythonTimer, {model, l.join(','), pySpecs.join(','), clock,
                                          QString::number(seconds)});
        };
        if (turn % 2 == 0) {
            runOurs();
            runTheirs();
        } else {
            runTheirs();
            runOurs();
        }
        pressure = std::max(pressure, cpuPressurePct());
        QVERIFY2(cli.exitCode == 0, qPrintable(QString("bucketlab-cli exit %1 (finished: %2): %3")
                                                   .arg(cli.exitCode)
                                                   .arg(cli.finished)
                                                   .arg(QString::fromUtf8(cli.err))));
        QVERIFY2(py.exitCode == 0, py.err.constData());
        const auto medians = QJsonDocument::fromJson(py.out).object();
        const auto doc = QJsonDocument::fromJson(cli.out).object();
        QCOMPARE(doc["settings"].toObject()["clock"].toString(),
                 clock == "cpu" ? "thread-cpu" : "wall");
        for (const auto& v : doc["points"].toArray()) {
            const auto pt = v.toObject();
            const int length = pt["length"].toInt();
            const double ms = pt["p50_ms"].toDouble();
            const double theirMs = medians[QString::number(length)].toDouble();
            QVERIFY(theirMs > 0);
            ours[length].push_back(ms);
            theirs[length].push_back(theirMs);
        }
    }
    // Paired by turn: both sides of a turn ran back to back in the same machine state.
    // Each process also has its own luck (where the allocator puts the big buffers, which
    // cache sets they share): medians of one model in fresh processes vary by +-15 % here
    // on an idle machine, for PyTorch and BucketLab alike. So the verdict takes that
    // variation into account: the median of the per-turn ratios with its 95 % bootstrap
    // interval, and a disagreement is a ratio whose whole interval lies outside +-10 %.
    QString verdicts;
    for (int l : lengths) {
        std::vector<double> ratios;
        for (size_t t = 0; t < ours[l].size(); ++t)
            ratios.push_back(ours[l][t] / theirs[l][t]);
        const double ratio = medianOf(ratios);
        std::mt19937 rng(12345);
        std::uniform_int_distribution<size_t> pick(0, ratios.size() - 1);
        std::vector<double> boot;
        for (int b = 0; b < 2000; ++b) {
            std::vector<double> resample;
            for (size_t i = 0; i < ratios.size(); ++i)
                resample.push_back(ratios[pick(rng)]);
            boot.push_back(medianOf(resample));
        }
        std::sort(boot.begin(), boot.end());
        const double lo = boot[50], hi = boot[1949];
        if (lo > 1.1 || hi < 0.9)
            verdicts += QString(" length %1: BucketLab/PyTorch %2 [%3, %4];")
                            .arg(l)
                            .arg(ratio)
                            .arg(lo)
                            .arg(hi);
        qInfo("length %d: BucketLab %.3f ms, PyTorch %.3f ms (medians of %d runs each); paired "
              "ratio %.3f, 95 %% CI [%.3f, %.3f]",
              l, medianOf(ours[l]), medianOf(theirs[l]), turns, ratio, lo, hi);
    }
    qInfo("CPU pressure (share of a minute some task waited for a CPU), worst during the "
          "comparison: %.1f %%",
          pressure);
    // A measurement of this machine, not a gate: the verdict is printed (a saturated machine
    // is named as such) and the run passes either way.
    if (pressure > 50)
        qInfo("not judged: the machine is saturated (CPU pressure %.1f %%);%s", pressure,
              qPrintable(verdicts.isEmpty() ? " consistent with 10 % anyway" : verdicts));
    else
        qInfo("verdict: %s",
              qPrintable(verdicts.isEmpty() ? "BucketLab and PyTorch agree within 10 %"
                                            : "DISAGREE:" + verdicts));
}

QTEST_GUILESS_MAIN(TestProfileFidelity)
#include "tst_profile_fidelity.moc"
