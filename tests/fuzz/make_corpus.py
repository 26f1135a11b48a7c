#!/usr/bin/env python3
"""Seed corpora for the fuzz targets, made from the archives the tests use.

Usage: make_corpus.py OUTDIR   (writes OUTDIR/<target>/<seed> for each target)

tests/archive_fixtures.py writes real torch.jit.save archives, a synthetic one PyTorch loads,
plain and ZIP64 zips and the hostile cases; from them:
  fuzz_archive          every file up to 256 KiB, whole
  fuzz_pickle           every pickle record in them (data, constants, debug info), and
                        Python's own pickles of assorted values
  fuzz_archive_records  data.pkl + the code + a package's metadata, as that target splits them
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
for target in ("fuzz_archive", "fuzz_pickle", "fuzz_archive_records"):
    print(target, len(os.listdir(os.path.join(OUT, target))), "seeds")
