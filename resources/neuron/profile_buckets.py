#!/usr/bin/env python3
"""Profile a bucket model's shapes on this host and write a bucketlab.profile/1 JSON.

Made for an AWS Inf2/Trn1 host with torch-neuronx, where BucketLab itself cannot run the
model: copy this file there, run it, and import the JSON into BucketLab (tune --latency,
or the GUI's profile import). It measures the way BucketLab's own profiler does:

  * warm every shape: two runs that are never timed (the TorchScript executor profiles
    the first run of a new shape and optimises on the second), then more until the shape
    stops getting faster (median of the last 3 runs >= 95 % of the 3 before), at most 20
    runs or a quarter of the budget shared between shapes;
  * interleave the shapes round by round (rotating the order, all of them to the end), so
    drift hits all alike;
  * sample until the 95 % bootstrap CI of every shape's median is within +-2 % (and at
    least 10 samples) or the time budget ends; keep every raw sample;
  * report p50/p90/p99/mean/stdev/MAD, the bootstrap CI of the median, Tukey outliers
    (reported, not dropped) and noise flags (noisy: CV > 10 %; drift: first and last
    quarters differ by > 5 % with separate CIs; few-samples: < 10; unconverged).

LLM decoders are profiled one phase at a time (--phase), each as NxD Inference compiles it
per bucket, so that `bucketlab-cli llm --cte-latency PREFILL.json --tkg-latency DECODE.json`
prices real buckets. The model is a TorchScript decoder with the methods BucketLab's demo
decoder has (`bucketlab-cli demo decoder --out decoder.pt`):
  prefill(input_ids[batch, p])                   timed at length p (CTE bucket p);
  decode(input_ids[batch, 1], cache, position)   timed at length s with
                                                 cache = empty_cache(batch, s) and
                                                 position = s - 1 (TKG bucket s);
  empty_cache(batch, length)                     the KV cache of `length` slots.
The profile records the phase (settings.phase), and bucketlab-cli llm refuses a profile of
the other phase. A decoder traced with torch_neuronx needs --neuron, as any Neuron model.
Models saved by NxD Inference itself (a compiled checkpoint directory, not one TorchScript
file) are not read by this script.

Only the standard library and torch are needed. torch_neuronx is imported only with
--neuron (it registers the torch.classes.neuron types a compiled model holds), so the
script also runs, and is tested, on a CPU TorchScript model with plain PyTorch.

Examples:
  python3 profile_buckets.py model.bucketed.pt --neuron --out neuron_profile.json
  python3 profile_buckets.py bert_neuron.pt --neuron --inputs input_ids:int64:0,attention_mask:int64:0 \\
      --lengths 128,256,512 --budget 60 --out neuron_profile.json
  python3 profile_buckets.py decoder.pt --neuron --phase prefill --lengths 128,512,2048 --out cte.json
  python3 profile_buckets.py decoder.pt --neuron --phase decode --lengths 512,2048,8192 --out tkg.json
Exit status: 0 every shape measured, 1 some shapes failed (kept with the reason),
2 bad usage or unusable input.
"""

import argparse
import datetime
import hashlib
import json
import math
import os
import platform
import random
import socket
import sys
import tempfile
import time

FORMAT = "bucketlab.profile/1"
MANDATORY_WARMUP_RUNS = 2
STABLE_WINDOW = 3
STILL_FASTER = 0.95
WARMUP_BUDGET_SHARE = 0.25
CHECK_RESAMPLES = 1000
REPORT_RESAMPLES = 4000
DTYPES = {
    "int64": "int64", "long": "int64", "int32": "int32", "int": "int32",
    "float32": "float32", "float": "float32", "float16": "float16", "half": "float16",
    "bfloat16": "bfloat16", "bool": "bool",
}


class UsageError(Exception):
    """Unusable input: exit status 2 with one line on stderr."""


def parse_inputs(text):
    specs = []
    for item in text.split(","):
        parts = item.strip().split(":")
        if len(parts) < 2 or len(parts) > 4 or not parts[0].isidentifier():
            raise UsageError("--inputs: '%s' is not name:dtype[:pad[:fill]]" % item)
        if parts[1] not in DTYPES:
            raise UsageError("--inputs: dtype '%s' of %s is not one of %s"
                             % (parts[1], parts[0], ", ".join(sorted(set(DTYPES.values())))))
        try:
            pad = float(parts[2]) if len(parts) > 2 else 0.0
            fill = float(parts[3]) if len(parts) > 3 else 1.0
        except ValueError:
            raise UsageError("--inputs: pad and fill of %s must be numbers" % parts[0])
        specs.append({"name": parts[0], "dtype": DTYPES[parts[1]], "pad_value": pad, "fill": fill})
    return specs


def parse_positive_list(text, what):
    values = set()
    for item in text.split(","):
        item = item.strip()
        try:
            v = int(item)
        except ValueError:
            raise UsageError("%s: '%s' is not an integer" % (what, item))
        if v <= 0:
            raise UsageError("%s: %d is not positive (values start at 1)" % (what, v))
        values.add(v)
    return sorted(values)


def percentile(sorted_values, q):
    if not sorted_values:
        return 0.0
    pos = q * (len(sorted_values) - 1)
    lo = int(math.floor(pos))
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def median(values):
    s = sorted(values)
    n = len(s)
    if n == 0:
        return 0.0
    return s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])


def bootstrap_median_ci(sorted_values, resamples, seed, confidence=0.95):
    """Percentile bootstrap CI of the median, drawing each resample's median directly: the
    k-th smallest of n uniform indices is floor(n * U) with U ~ Beta(k, n - k + 1)."""
    n = len(sorted_values)
    if n == 0:
        return 0.0, 0.0
    if n == 1:
        return sorted_values[0], sorted_values[0]
    rng = random.Random(seed)
    k = (n + 1) // 2
    medians = []
    for _ in range(resamples):
        uk = rng.betavariate(k, n - k + 1)
        m = sorted_values[min(int(uk * n), n - 1)]
        if n % 2 == 0:
            v = 1.0 - rng.random() ** (1.0 / (n - k))
            m = 0.5 * (m + sorted_values[min(int((uk + (1.0 - uk) * v) * n), n - 1)])
        medians.append(m)
    medians.sort()
    tail = (1.0 - confidence) / 2.0
    return (medians[min(len(medians) - 1, int(tail * len(medians)))],
            medians[min(len(medians) - 1, int((1.0 - tail) * len(medians)))])


def half_width_pct(med, ci):
    if med <= 0:
        return float("inf")
    return max(med - ci[0], ci[1] - med) / med * 100.0


def summarize(point, min_samples, target_ci, seed):
    samples = point["samples_ms"]
    s = sorted(samples)
    n = len(s)
    point["samples"] = n
    if n == 0:
        return
    mean = sum(s) / n
    point["p50_ms"] = percentile(s, 0.5)
    point["p90_ms"] = percentile(s, 0.9)
    point["p99_ms"] = percentile(s, 0.99)
    point["mean_ms"] = mean
    point["stdev_ms"] = math.sqrt(sum((v - mean) ** 2 for v in s) / (n - 1)) if n > 1 else 0.0
    point["mad_ms"] = percentile(sorted(abs(v - point["p50_ms"]) for v in s), 0.5)
    q1, q3 = percentile(s, 0.25), percentile(s, 0.75)
    point["outliers"] = sum(1 for v in s if v < q1 - 1.5 * (q3 - q1) or v > q3 + 1.5 * (q3 - q1))
    ci = bootstrap_median_ci(s, REPORT_RESAMPLES, seed)
    point["ci95_ms"] = [ci[0], ci[1]]
    flags = point["flags"]
    if n < min_samples:
        flags.append("few-samples")
    if n >= 2 and mean > 0 and point["stdev_ms"] / mean > 0.10:
        flags.append("noisy")
    quarter = n // 4
    if quarter >= 3:
        first, last = sorted(samples[:quarter]), sorted(samples[-quarter:])
        a = bootstrap_median_ci(first, 1000, 11)
        b = bootstrap_median_ci(last, 1000, 13)
        separate = a[1] < b[0] or b[1] < a[0]
        if separate and abs(median(last) - median(first)) > 0.05 * point["p50_ms"]:
            flags.append("drift")
    if target_ci > 0 and half_width_pct(point["p50_ms"], ci) > target_ci:
        flags.append("unconverged")


def shape_seed(length, batch):
    return (length * 0x9E3779B97F4A7C15 ^ batch * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_atomically(path, text):
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".profile_buckets_")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class Shape:
    def __init__(self, length, batch, inputs):
        self.point = {"length": length, "batch": batch, "samples_ms": [], "flags": [],
                      "error": None, "warmup_runs": 0}
        self.inputs = inputs
        self.converged = False  # CI within the target; still sampled until all are
        self.typical_ms = 0.0
        self.next_check = 0
        self.warmup_unstable = False


def time_once(run, inputs):
    # `run` is the model's forward (or a decoder's prefill or decode) method rather than
    # model(...): the latter adds nn.Module's Python call machinery (0.1 ms or more per
    # call), which a C++ or Neuron server does not pay, and which BucketLab's own profiler
    # does not time either.
    t0 = time.perf_counter_ns()
    run(*inputs)
    return (time.perf_counter_ns() - t0) / 1e6


def warm_up(shape, run, cap_ms, max_runs):
    times = []
    while True:
        times.append(time_once(run, shape.inputs))
        runs = len(times)
        judgeable = runs >= MANDATORY_WARMUP_RUNS + 2 * STABLE_WINDOW
        still_faster = judgeable and (median(times[-STABLE_WINDOW:])
                                      < STILL_FASTER * median(times[-2 * STABLE_WINDOW:-STABLE_WINDOW]))
        if judgeable and not still_faster:
            break
        if runs >= MANDATORY_WARMUP_RUNS and (runs >= max_runs or sum(times) >= cap_ms):
            shape.warmup_unstable = still_faster
            break
    shape.point["warmup_runs"] = len(times)
    shape.typical_ms = median(times[-STABLE_WINDOW:])


def profile(args, run, shapes, start):
    deadline = start + args.budget
    cap_ms = args.budget * 1000.0 * WARMUP_BUDGET_SHARE / len(shapes)
    for shape in shapes:
        try:
            warm_up(shape, run, cap_ms, args.max_warmup_runs)
        except Exception as e:  # the model's own error: this shape fails, the others go on
            fail(shape, e)
    stopped_by = "converged"
    rounds = 0
    # Every shape is sampled in every round until all have converged: a shape that went on
    # alone would run back to back with itself, with warmer caches than before.
    measuring = [s for s in shapes if s.point["error"] is None]
    while any(not s.converged for s in measuring):
        rounds += 1
        offset = (rounds - 1) % len(shapes)
        for k in range(len(shapes)):
            s = shapes[(offset + k) % len(shapes)]
            if s.point["error"] is not None:
                continue
            if rounds > 1 and time.monotonic() + s.typical_ms / 1000.0 > deadline:
                return rounds, "budget", time.monotonic() - start
            try:
                s.point["samples_ms"].append(time_once(run, s.inputs))
            except Exception as e:
                fail(s, e)
                measuring.remove(s)
                continue
            samples = s.point["samples_ms"]
            if not s.converged and len(samples) >= s.next_check:
                s.next_check = len(samples) + max(1, len(samples) // 4)
                ordered = sorted(samples)
                med = median(ordered)
                s.typical_ms = med
                ci = bootstrap_median_ci(ordered, CHECK_RESAMPLES,
                                         shape_seed(s.point["length"], s.point["batch"]) + len(ordered))
                s.converged = args.target_ci > 0 and half_width_pct(med, ci) <= args.target_ci
            if len(samples) >= args.max_samples:
                return rounds, "sample cap", time.monotonic() - start
    return rounds, stopped_by, time.monotonic() - start


def fail(shape, e):
    shape.point["samples_ms"] = []
    shape.point["flags"] = ["failed"]
    lines = [line for line in str(e).strip().splitlines() if line.strip()]
    # TorchScript wraps a model's own exception in two tracebacks; it is the last line.
    reason = lines[-1] if lines and "TorchScript interpreter" in lines[0] else (lines[0] if lines else "")
    for prefix in ("RuntimeError: ", "Exception: "):
        if reason.startswith(prefix):
            reason = reason[len(prefix):]
    shape.point["error"] = "forward failed at length %d, batch %d: %s" % (
        shape.point["length"], shape.point["batch"], reason or type(e).__name__)


def main(argv):
    start = time.monotonic()  # the budget is the whole run's wall-clock, loading included
    parser = argparse.ArgumentParser(
        description="Profile a bucket model's shapes and write bucketlab.profile/1 JSON.",
        epilog="Exit status: 0 every shape measured, 1 some shapes failed, 2 bad usage.")
    parser.add_argument("model", help="TorchScript model, BucketLab package or Neuron bucket model")
    parser.add_argument("--inputs", help="name:dtype[:pad[:fill]],... (default: a package's own)")
    parser.add_argument("--lengths", help="lengths to time (default: a package's boundaries)")
    parser.add_argument("--batch", default="1", help="batch sizes, e.g. 1 or 1,4")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--budget", type=float, default=30.0,
                        help="time budget in seconds for the whole run, loading included")
    parser.add_argument("--target-ci", type=float, default=2.0,
                        help="stop a shape at a 95%% CI of the median within +-this %%")
    parser.add_argument("--min-samples", type=int, default=10)
    parser.add_argument("--max-samples", type=int, default=100000)
    parser.add_argument("--max-warmup-runs", type=int, default=20)
    parser.add_argument("--bucket-dim", type=int, default=1)
    parser.add_argument("--batch-dim", type=int, default=0)
    parser.add_argument("--phase", choices=["prefill", "decode"],
                        help="profile a decoder's prefill (CTE) or decode step (TKG) per length")
    parser.add_argument("--neuron", action="store_true",
                        help="import torch_neuronx so Neuron-compiled models load and run")
    parser.add_argument("--out", help="profile JSON to write (default: print it)")
    args = parser.parse_args(argv)

    if not args.budget > 0 or math.isinf(args.budget):
        raise UsageError("--budget %s: must be a positive number of seconds" % args.budget)
    if args.threads < 1:
        raise UsageError("--threads %d: must be at least 1" % args.threads)
    if args.target_ci < 0:
        raise UsageError("--target-ci must be >= 0")
    if args.min_samples < 1 or args.max_samples < args.min_samples:
        raise UsageError("need 1 <= --min-samples <= --max-samples")
    if args.max_warmup_runs < MANDATORY_WARMUP_RUNS:
        raise UsageError("--max-warmup-runs must be at least %d" % MANDATORY_WARMUP_RUNS)
    if not os.path.isfile(args.model):
        raise UsageError("%s: no such file" % args.model)

    import torch
    neuron_version = None
    if args.neuron:
        try:
            import torch_neuronx  # noqa: F401 -- registers torch.classes.neuron
        except ImportError as e:
            raise UsageError("--neuron needs torch_neuronx, which does not import here (%s); "
                             "run this on an Inf2/Trn1 host with torch-neuronx installed" % e)
        neuron_version = getattr(torch_neuronx, "__version__", "unknown")
    torch.set_num_threads(args.threads)
    try:
        model = torch.jit.load(args.model)
    except Exception as e:
        text = str(e)
        if "neuron" in text.lower() and not args.neuron:
            raise UsageError("%s: the model uses Neuron classes; run with --neuron on a Neuron "
                             "host" % args.model)
        raise UsageError("%s: cannot load TorchScript model (%s)"
                         % (args.model, text.strip().splitlines()[0] if text.strip() else type(e).__name__))
    model.eval()

    meta = None
    if hasattr(model, "bucketlab_meta"):
        meta = json.loads(model.bucketlab_meta)
    if args.phase:
        return main_decoder(args, model, meta, start, neuron_version)
    if args.inputs:
        specs = parse_inputs(args.inputs)
    elif meta:
        specs = [{"name": i["name"], "dtype": DTYPES[i["dtype"]], "pad_value": i.get("pad_value", 0),
                  "fill": i.get("fill_value", 1)} for i in meta["inputs"]]
    else:
        raise UsageError("%s: not a BucketLab package, so --inputs is needed" % args.model)
    bucket_dim = meta["bucket_dim"] if meta else args.bucket_dim
    batch_dim = meta["batch_dim"] if meta else args.batch_dim
    if bucket_dim < 0 or batch_dim < 0 or bucket_dim == batch_dim:
        raise UsageError("--bucket-dim and --batch-dim must be different and non-negative")
    if args.lengths:
        lengths = parse_positive_list(args.lengths, "--lengths")
    elif meta:
        lengths = list(meta["boundaries"])
    else:
        raise UsageError("give --lengths (the model is not a BucketLab package)")
    if meta and lengths[-1] > meta["boundaries"][-1]:
        raise UsageError("length %d exceeds the largest bucket %d of the package"
                         % (lengths[-1], meta["boundaries"][-1]))
    batches = parse_positive_list(args.batch, "--batch")

    shapes = []
    for batch in batches:
        for length in lengths:
            shape = [1] * (max(bucket_dim, batch_dim) + 1)
            shape[batch_dim] = batch
            shape[bucket_dim] = length
            inputs = [torch.full(shape, s["fill"], dtype=getattr(torch, s["dtype"])) for s in specs]
            shapes.append(Shape(length, batch, inputs))
            shapes[-1].next_check = args.min_samples

    with torch.no_grad():
        rounds, stopped_by, elapsed = profile(args, model.forward, shapes, start)
    settings = {
        "target": "package forward" if meta else "model forward",
        "inputs": ",".join("%s:%s:%g:%g" % (s["name"], s["dtype"], s["pad_value"], s["fill"])
                           for s in specs),
        "bucket_dim": str(bucket_dim), "batch_dim": str(batch_dim),
    }
    return finish(args, shapes, lengths, batches, settings, rounds, stopped_by, elapsed,
                  neuron_version)


def main_decoder(args, model, meta, start, neuron_version):
    """--phase: time a decoder's prefill or decode step at each length (see the top)."""
    import torch
    if meta:
        raise UsageError("%s: a BucketLab package; --phase times a TorchScript decoder with "
                         "prefill, decode and empty_cache methods" % args.model)
    if args.inputs:
        raise UsageError("--inputs: --phase %s makes a decoder's inputs itself (token ids, and "
                         "the KV cache for decode); leave --inputs out" % args.phase)
    needed = ["prefill"] if args.phase == "prefill" else ["decode", "empty_cache"]
    for name in needed:
        if not hasattr(model, name):
            raise UsageError("%s: not a decoder, it has no %s() method; --phase %s needs "
                             "prefill(input_ids), decode(input_ids, cache, position) and "
                             "empty_cache(batch, length)" % (args.model, name, args.phase))
    if not args.lengths:
        raise UsageError("--phase needs --lengths (the buckets to time)")
    lengths = parse_positive_list(args.lengths, "--lengths")
    batches = parse_positive_list(args.batch, "--batch")
    shapes = []
    for batch in batches:
        for length in lengths:
            if args.phase == "prefill":
                inputs = [torch.ones(batch, length, dtype=torch.int64)]
            else:
                # The step that fills a bucket of `length` slots: it attends to all of them.
                try:
                    cache = model.empty_cache(batch, length)
                except Exception as e:
                    raise UsageError("%s: empty_cache(%d, %d) failed: %s"
                                     % (args.model, batch, length, str(e).strip().splitlines()[-1]))
                inputs = [torch.ones(batch, 1, dtype=torch.int64), cache, length - 1]
            shapes.append(Shape(length, batch, inputs))
            shapes[-1].next_check = args.min_samples
    run = model.prefill if args.phase == "prefill" else model.decode
    with torch.no_grad():
        rounds, stopped_by, elapsed = profile(args, run, shapes, start)
    if args.phase == "prefill":
        settings = {"target": "decoder prefill",
                    "inputs": "input_ids:int64[batch,length] of token 1"}
    else:
        settings = {"target": "decoder decode step",
                    "inputs": "input_ids:int64[batch,1] of token 1, "
                              "cache=empty_cache(batch,length), position=length-1"}
    settings["phase"] = args.phase
    return finish(args, shapes, lengths, batches, settings, rounds, stopped_by, elapsed,
                  neuron_version)


def finish(args, shapes, lengths, batches, settings, rounds, stopped_by, elapsed, neuron_version):
    import torch
    for s in shapes:
        if s.point["error"] is None:
            summarize(s.point, args.min_samples, args.target_ci,
                      shape_seed(s.point["length"], s.point["batch"]))
            if s.warmup_unstable:
                s.point["flags"].append("warmup-unstable")
    if all(s.point["error"] for s in shapes):
        raise UsageError("%s: no shape could be measured; %s" % (args.model, shapes[0].point["error"]))

    environment = {
        "cpu_model": cpu_model(),
        "cpu_count": str(os.cpu_count()),
        "torch": torch.__version__,
        "host": socket.gethostname(),
        "os": " ".join([platform.system(), platform.release(), platform.machine()]),
        "python": platform.python_version(),
    }
    if neuron_version:
        environment["torch_neuronx"] = str(neuron_version)
    try:
        environment["load_average"] = "%.2f" % os.getloadavg()[0]
    except OSError:
        pass
    profile_json = {
        "format": FORMAT,
        "model": {"file": os.path.basename(args.model), "sha256": sha256_of(args.model)},
        "device": {"kind": "neuron" if args.neuron else "cpu",
                   "name": "neuron" if args.neuron else environment["cpu_model"],
                   "threads": torch.get_num_threads()},
        "environment": environment,
        "settings": dict(settings, **{
            "budget_s": "%g" % args.budget, "target_ci_pct": "%g" % args.target_ci,
            "lengths": ",".join(map(str, lengths)), "batches": ",".join(map(str, batches)),
            "rounds": str(rounds), "stopped_by": stopped_by, "elapsed_s": "%.6g" % elapsed,
        }),
        "created_by": "BucketLab resources/neuron/profile_buckets.py",
        "created_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "points": [s.point for s in shapes],
    }
    text = json.dumps(profile_json, indent=2) + "\n"
    if args.out:
        write_atomically(args.out, text)
    else:
        sys.stdout.write(text)
    for s in shapes:
        p = s.point
        if p["error"]:
            sys.stderr.write("%6d x %d: %s\n" % (p["length"], p["batch"], p["error"]))
        else:
            sys.stderr.write("%6d x %d: p50 %.3f ms [%.3f, %.3f], %d samples %s\n"
                             % (p["length"], p["batch"], p["p50_ms"], p["ci95_ms"][0],
                                p["ci95_ms"][1], p["samples"], ",".join(p["flags"])))
    return 1 if any(s.point["error"] for s in shapes) else 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except UsageError as e:
        sys.stderr.write("profile_buckets.py: error: %s\n" % e)
        sys.exit(2)
