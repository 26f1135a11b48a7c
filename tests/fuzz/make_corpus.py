#!/usr/bin/env python3
"""Seed corpora for the fuzz targets, made from the archives the tests use.

Usage: make_corpus.py OUTDIR   (writes OUTDIR/<target>/<seed> for each target)

tests/archive_fixtures.py writes real torch.jit.save archives, a synthetic one PyTorch loads,
plain and ZIP64 zips and the hostile cases; from them:
  fuzz_archive          every file up to 256 KiB, whole
  fuzz_pickle           every pickle record in them (data, constants, debug info), and
                        Python's own pickles of assorted values
  fuzz_archive_records  data.pkl + the code + a package's metadata, as that target splits them
and, for the text readers, small files of every format and variant the tests use (a first
byte picks the target's mode, see each target's header):
  fuzz_traffic          CSV/TSV length columns and histograms, JSONL, texts and sentence
                        pairs for the tokenizer, a slice of tests/data's BERT vocabulary
  fuzz_request_traffic  the Azure trace, prompt/output/count CSV and JSONL, synthetic specs
  fuzz_profile          bucketlab.profile/1 JSON and length,latency_ms CSV
  fuzz_project          bucketlab.project/1 files
  fuzz_package_meta     package metadata (shared, per-bucket, states, user kernels)
  fuzz_kernel_source    tests/data's kernels (the guide's, NxD's) and small variants
  fuzz_options          boundaries, lengths, lists, input and state specs, names, latency
                        and synthetic specs, NxD/vLLM configs, decode logs
Nothing is committed: the corpora are made on demand in the build tree.
"""
import hashlib
import json
import os
import pickle
import subprocess
import sys
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = sys.argv[1]
SEPARATOR = b"\n#BUCKETLAB-FUZZ#\n"
MAX_SEED = 256 * 1024


def save(target, data):
    if len(data) > MAX_SEED:
        return
    folder = os.path.join(OUT, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


META = json.dumps({
    "format": "bucketlab.package/1", "kind": "shared", "boundaries": [32, 64, 128],
    "bucket_dim": 1, "batch_dim": 0,
    "inputs": [{"name": "input_ids", "dtype": "int64", "pad_value": 0, "fill_value": 1},
               {"name": "attention_mask", "dtype": "int64", "pad_value": 0, "fill_value": 1}],
    "states": [], "created_by": "BucketLab 0.1.0", "created_at": "2024-01-01T00:00:00Z",
    "base_model": {"file": "model.pt", "sha256": "0" * 64}, "bucket_models": [],
    "kernel": "generated"}).encode()

with tempfile.TemporaryDirectory() as files:
    subprocess.run([sys.executable, os.path.join(HERE, "..", "archive_fixtures.py"), files],
                   check=True, stdout=subprocess.DEVNULL)
    for name in sorted(os.listdir(files)):
        data = open(os.path.join(files, name), "rb").read()
        save("fuzz_archive", data)
        try:
            z = zipfile.ZipFile(os.path.join(files, name))
            infos = z.infolist()
        except Exception:
            continue
        records = {}
        for info in infos:
            if info.file_size > MAX_SEED:
                continue
            try:
                records[info.filename.split("/", 1)[-1]] = z.read(info.filename)
            except Exception:
                pass
        for record, data in records.items():
            if record.endswith(".pkl") or record.endswith(".debug_pkl"):
                save("fuzz_pickle", data)
        if "data.pkl" in records:
            code = records.get("code/__torch__.py", b"")
            save("fuzz_archive_records", records["data.pkl"])
            save("fuzz_archive_records", records["data.pkl"] + SEPARATOR + code)
            save("fuzz_archive_records",
                 records["data.pkl"] + SEPARATOR + code + SEPARATOR + META)

values = [None, True, 1, -2, 300, 70000, -(2 ** 40), 2 ** 62, 1.5, "text", b"bytes",
          [1, [2, [3]]], (1, (2, 3)), {"a": 1, "b": [1, 2]}, [(), [], {}],
          {"nested": {"deeper": ({"x": "y"},)}}]
shared = [1, 2]
values.append((shared, shared))
for v in values:
    for protocol in (2, 3, 4):
        save("fuzz_pickle", pickle.dumps(v, protocol=protocol))


def seed(target, selector, text):
    save(target, bytes([selector]) + (text.encode() if isinstance(text, str) else text))


DATA = os.path.join(HERE, "..", "data")

# fuzz_traffic: mode in bits 0-2, column/field choice in bits 3-4, lower-casing in bit 5.
for mode, text in [
        (0, "length\n12\n40\n40\n128\n"), (0, "id,seq_len,label\n1,17,a\n2,33,\"b,c\"\n"),
        (0, "length,count\n16,3\n64,10\n"), (0, "\ufefftokens\r\n5\r\n7\r\n"),
        (1, "length\tcount\n16\t3\n64\t10\n"), (1, "text\tlen\nhello\t4\n"),
        (2, '{"length": 12}\n{"length": 40}\n'), (2, '{"input_ids": [101, 7592, 102]}\n'),
        (2, '{"tokens": 9, "extra": {"a": [1, 2]}}\n\n{"tokens": 1e3}\n'),
        (3, '{"text": "hello world"}\n{"text": ["The unaffable", "runs!"]}\n'),
        (4, "hello world\nThe unaffable runs!\n"), (4 | 32, "HELLO Wörld\n"),
        (5, "Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n1\t1\t2\thello world\tthe runs\n"),
        (5 | 8, "a\tb\nhello\tworld\n"), (5 | 16, "sentence1\tsentence2\nhello\tworld\n"),
        (6, "length\n3\n4\n"), (6, "seq_len,count\n100,2\n")]:
    seed("fuzz_traffic", mode, text)
    seed("fuzz_traffic", mode | 8, text)
vocab = open(os.path.join(DATA, "bert-base-cased-vocab.txt"), "rb").read().split(b"\n")
seed("fuzz_traffic", 7, b"\n".join(vocab[:120] + vocab[7000:7200]) + b"\n")
seed("fuzz_traffic", 7 | 32, "[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\nworld\n##s\n")

# fuzz_request_traffic: mode = selector % 5, explicit fields in bits 3-4.
for selector, text in [
        (0, "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.6805900,374,44\n"
            "2023-11-16 18:15:50.9951690,396,109\n"),
        (0 + 8, "TIMESTAMP,ContextTokens,GeneratedTokens\n1,100,0\n"),
        (0 + 16, "prompt,output,count\n128,32,5\n512,0,1\n"),
        (1, "prompt_tokens\tcompletion_tokens\n10\t20\n"),
        (2, '{"prompt_tokens": 100, "output_tokens": 20}\n{"prompt_tokens": 7, "output_tokens": 0}\n'),
        (2 + 16, '{"prompt": 100, "output": 20, "count": 3}\n'),
        (3, "input_tokens,output_tokens\n5,6\n"),
        (4, "prompt=lognormal:mu=5,sigma=1,max=4000;output=geometric:mean=100,max=500;n=200;seed=1"),
        (4, "prompt=uniform:min=10,max=100;output=uniform:min=0,max=10;n=50;seed=3")]:
    seed("fuzz_request_traffic", selector, text)

# fuzz_profile: selector % 3 = JSON, CSV, by path.
PROFILE = json.dumps({
    "format": "bucketlab.profile/1", "model": {"file": "model.pt", "sha256": "ab" * 32},
    "device": {"kind": "cpu", "name": "x86", "threads": 2}, "environment": {"os": "linux"},
    "settings": {"budget_s": "10"}, "created_by": "BucketLab 0.1.0",
    "created_at": "2024-01-01T00:00:00Z",
    "points": [{"length": 64, "batch": 1, "samples_ms": [1.0, 1.1, 0.9, 1.05]},
               {"length": 128, "batch": 1, "p50_ms": 2.0, "mean_ms": 2.1, "samples": 5},
               {"length": 256, "batch": 2, "error": "out of memory"}]})
for selector, text in [(0, PROFILE), (2, PROFILE),
                       (1, "length,latency_ms\n64,1.5\n64,1.6\n128,2.5\n"),
                       (1, "length,latency_ms,batch\n64,1.5,1\n64,2.5,4\n"),
                       (2, "length,latency_ms\n1,0.1\n16777216,900\n")]:
    seed("fuzz_profile", selector, text)

# fuzz_project: 0 in memory, 1 by path.
PROJECT = json.dumps({
    "format": "bucketlab.project/1", "model": "model.pt", "inputs": "input_ids:int64:0",
    "distributions": [
        {"name": "train", "source": "data/train.csv", "options": {"column": "len"}},
        {"name": "texts", "source": "mrpc.tsv",
         "options": {"vocab": "vocab.txt", "text_columns": "3,4", "lowercase": "true"}},
        {"name": "synthetic", "source": "lognormal:mu=5,sigma=1,n=100", "options": {}}],
    "latencies": [{"name": "cpu", "source": "profile.json"},
                  {"name": "model", "source": "linear:1,0.01"}],
    "boundary_sets": [{"name": "current", "kind": "current", "boundaries": [128, 512]},
                      {"name": "tuned", "kind": "tuned", "boundaries": [64, 200, 512]}],
    "active_boundary_set": "tuned", "notes": "a note", "created_by": "BucketLab 0.1.0"})
for selector in (0, 1):
    seed("fuzz_project", selector, PROJECT)
    seed("fuzz_project", selector, PROJECT.replace("data/train.csv", "../../../etc/passwd"))

# fuzz_package_meta: the metadata alone.
meta = json.loads(META)
save("fuzz_package_meta", META)
save("fuzz_package_meta", json.dumps(dict(meta, kind="per-bucket", bucket_models=[
    {"file": "bucket_%d.pt" % b, "sha256": "0" * 64, "bucket": b} for b in (32, 64, 128)]))
     .encode())
save("fuzz_package_meta", json.dumps(dict(
    meta, states=[{"name": "kv", "dtype": "float32",
                   "shapes": [[1, 4, 32], [1, 4, 64], [1, 4, 128]]}],
    padding_side="left", kernel="user", constant_args="torch.tensor([32, 64]), 'left', 0",
    inputs=meta["inputs"] + [{"name": "seq_ids", "dtype": "int64", "bucketed": False,
                              "fill_value": 0}])).encode())

# fuzz_kernel_source: selector & 3 = no function, bucket_kernel, get_bucket_kernel, f.
for name in sorted(os.listdir(DATA)):
    if name.endswith(".py"):
        text = open(os.path.join(DATA, name), "rb").read()
        for selector in range(4):
            seed("fuzz_kernel_source", selector, text)
seed("fuzz_kernel_source", 0, "def f(x: List[Tensor]) -> List[Tensor]:\n    return [x[0]]\n"
                              "k = torch.jit.script(f)\n")
seed("fuzz_kernel_source", 3, "  def g(a):\n    return (a, [1, {2: 3}])\n"
                              "  def f(x):\n    s = '('  # )\n    return g(x)\n")

# fuzz_options: parser = selector % 10; for 5 and 8 the tens pick the variant.
for selector, text in [
        (0, "128,256,512"), (0, " 32 , 64"), (0, "16777216"), (1, "4096"), (1, "0x10"),
        (2, "1,2,4,8"), (2, "8, 1"),
        (3, "input_ids:int64:0,attention_mask:int64:0"), (3, "x:float32:-1.5:2,seq_ids:int64:-"),
        (3, "mask:bool:0:1,h:bfloat16:0"), (4, "kv:float32:1x4x16/1x4x64"), (4, "c:f16:2/4/8"),
        (5, "int64"), (15, "left"), (25, "median"), (5, "half"),
        (6, "linear:0.5,0.01"), (6, "poly:1,0.1,0.0001"),
        (7, "lognormal:mu=5,sigma=1,n=1000,seed=2"), (7, "uniform:min=1,max=512,n=100"),
        (7, "normal:mean=100,stdev=20,n=100,max=512"),
        (8, json.dumps({"context_encoding_buckets": [128, 512],
                        "token_generation_buckets": [512, 1024],
                        "max_context_length": 512, "seq_len": 1024, "enable_bucketing": True})),
        (8, json.dumps({"override_neuron_config": {"context_encoding_buckets": [128],
                                                   "token_generation_buckets": [256],
                                                   "seq_len": 256}})),
        (18, json.dumps({"neuron_config": {"num_seqs_buckets": [1, 4],
                                           "num_batched_tokens_buckets": [128, 256]}})),
        (9, "batch,position,count\n1,100,5\n4,300,1\n"), (9, "batch,required\n2,17\n")]:
    seed("fuzz_options", selector, text)

for target in sorted(os.listdir(OUT)):
    print(target, len(os.listdir(os.path.join(OUT, target))), "seeds")
