#!/usr/bin/env python3
"""Writes the zip and TorchScript archives the archive-reader tests and the fuzz corpora use.

Usage: archive_fixtures.py OUTDIR

Well-formed files first (real torch.jit.save output, a synthetic archive PyTorch itself loads,
plain zips with stored, deflated and ZIP64 records), then hostile ones, each made the way an
attacker would: deep or self-referencing pickles, non-UTF-8 text, storages of 2**62 elements,
zip bombs, flipped bytes, unsafe record names. Nothing here is large on disk: the biggest file
is a ZIP64 zip of 70,000 empty records (about 7 MB); the bombs are a few hundred kilobytes.
Prints one line per file.
"""
import io
import json
import os
import struct
import sys
import time
import zipfile
import zlib

# Fixed timestamps (zipfile stamps each record with time.time()), so the same source always
# writes the same bytes: the CI fuzz pass seeds from these files and must be reproducible.
time.time = lambda: 347155200.0  # 1981-01-01, after zip's 1980 epoch in every time zone

OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)
PREFIX = "m/"


def path(name):
    return os.path.join(OUT, name)


def done(name, note=""):
    print(name, os.path.getsize(path(name)), note)


# --- a tiny pickle assembler (protocol 2, the opcodes torch.jit.save writes) -------------------

def text(s):
    b = s.encode("utf-8", "surrogateescape") if isinstance(s, str) else s
    return b"X" + struct.pack("<I", len(b)) + b


def integer(n):
    return b"\x8a\x08" + struct.pack("<q", n)


def glob(module, name):
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def tup(*items):
    return b"(" + b"".join(items) + b"t"


def tensor(key, shape, numel=None, storage="FloatStorage"):
    """_rebuild_tensor_v2(pid('storage', FloatStorage, key, 'cpu', numel), 0, shape, stride,
    False, OrderedDict()) as torch.jit.save pickles a parameter."""
    if numel is None:
        numel = 1
        for d in shape:
            numel *= d
    stride, acc = [], 1
    for d in reversed(shape):
        stride.insert(0, acc)
        acc *= max(d, 1)
    pid = tup(text("storage"), glob("torch", storage), text(key), text("cpu"), integer(numel))
    return (glob("torch._utils", "_rebuild_tensor_v2") +
            tup(pid + b"Q", integer(0), tup(*map(integer, shape)),
                tup(*map(integer, stride)), b"\x89", glob("collections", "OrderedDict") + b")R") +
            b"R")


def module(cls, entries):
    """NEWOBJ of __torch__.<cls> with BUILD state {name: value, ...} (entries: [(bytes, bytes)])."""
    state = b"}(" + b"".join(k + v for k, v in entries) + b"u"
    return glob("__torch__", cls) + b")\x81" + state + b"b"


def pickle(body):
    return b"\x80\x02" + body + b"."


CODE = """class M(Module):
  __parameters__ = ["w", ]
  __buffers__ = []
  training : bool
  w : Tensor
  def forward(self: __torch__.M,
    x: Tensor) -> Tensor:
    return torch.add(x, self.w)
"""


def write_zip(name, records, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path(name), "w", compression) as z:
        for record, data in records:
            z.writestr(record, data)


def synthetic(name, data_pkl, code=CODE, extra=(), compression=zipfile.ZIP_STORED, note=""):
    records = [(PREFIX + "data.pkl", data_pkl),
               (PREFIX + "code/__torch__.py", code),
               (PREFIX + "constants.pkl", pickle(b")")),
               (PREFIX + "version", "3\n")] + list(extra)
    write_zip(name, records, compression)
    done(name, note)


W = [(text("training"), b"\x88"), (text("w"), tensor("0", [2, 3]))]
W_DATA = (PREFIX + "data/0", struct.pack("<6f", *range(6)))

# --- well-formed ---------------------------------------------------------------------------

synthetic("synthetic.pt", pickle(module("M", W)), extra=[W_DATA], note="PyTorch loads it")
try:
    import torch
    loaded = torch.jit.load(path("synthetic.pt"))
    assert list(loaded.w.shape) == [2, 3] and float(loaded.w.sum()) == 15.0
    assert torch.equal(loaded(torch.zeros(2, 3)), loaded.w)

    class Small(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(8, 4)
            self.register_buffer("scale", torch.ones(4))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.lin(x) * self.scale

    torch.jit.script(Small()).save(path("real.pt"))
    done("real.pt", "torch.jit.save")
    with zipfile.ZipFile(path("real.pt")) as src, \
            zipfile.ZipFile(path("real_deflated.pt"), "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info.filename))
    done("real_deflated.pt", "every record deflated")
except ImportError:
    print("no torch: real.pt and real_deflated.pt skipped")

payload = bytes(range(256)) * 40 + b"tail"
write_zip("plain.zip", [("a/stored.bin", payload), ("a/empty", b"")])
with zipfile.ZipFile(path("plain.zip"), "a", zipfile.ZIP_DEFLATED) as z:
    z.writestr("a/deflated.txt", ("deflate me " * 1000).encode())
    with z.open("a/zip64-local.bin", "w", force_zip64=True) as f:
        f.write(b"forced ZIP64 local header")
done("plain.zip", "stored, deflated and an empty record, one with a ZIP64 local header")

# More than 65,535 records: Python writes a ZIP64 end record and locator.
with zipfile.ZipFile(path("zip64_many.zip"), "w", zipfile.ZIP_STORED) as z:
    for i in range(70000):
        z.writestr("d/%05d" % i, b"")
    z.writestr("d/last", b"the last record")
done("zip64_many.zip", "70,001 records, ZIP64 end record")


def zip64_by_hand(name, records):
    """Every size and offset saturated (0xffffffff) with its value in a ZIP64 extra field, in
    local and central headers, and a ZIP64 end record: what a writer of huge archives does."""
    out, central = io.BytesIO(), []
    for record, data in records:
        n = record.encode()
        crc = zlib.crc32(data)
        offset = out.tell()
        extra = struct.pack("<HHQQ", 1, 16, len(data), len(data))
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034b50, 45, 0, 0, 0, 0, crc, 0xffffffff,
                              0xffffffff, len(n), len(extra)) + n + extra + data)
        cextra = struct.pack("<HHQQQ", 1, 24, len(data), len(data), offset)
        central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014b50, 45, 45, 0, 0, 0, 0, crc,
                                   0xffffffff, 0xffffffff, len(n), len(cextra), 0, 0, 0, 0,
                                   0xffffffff) + n + cextra)
    cd_offset = out.tell()
    for c in central:
        out.write(c)
    cd_size = out.tell() - cd_offset
    z64 = out.tell()
    out.write(struct.pack("<IQHHIIQQQQ", 0x06064b50, 44, 45, 45, 0, 0, len(records),
                          len(records), cd_size, cd_offset))
    out.write(struct.pack("<IIQI", 0x07064b50, 0, z64, 1))
    out.write(struct.pack("<IHHHHIIH", 0x06054b50, 0, 0, 0xffff, 0xffff, 0xffffffff,
                          0xffffffff, 0))
    with open(path(name), "wb") as f:
        f.write(out.getvalue())


zip64_by_hand("zip64_saturated.zip", [("z/one", b"first record"), ("z/two", b"second" * 100)])
with zipfile.ZipFile(path("zip64_saturated.zip")) as z:  # Python's reader agrees
    assert z.read("z/two") == b"second" * 100 and z.testzip() is None
done("zip64_saturated.zip", "every size and offset in ZIP64 extra fields")

# --- hostile: zips -------------------------------------------------------------------------


def flip_in_record(name, src, record):
    """A copy of `src` with one byte of `record`'s data flipped (CRC no longer matches)."""
    with zipfile.ZipFile(path(src)) as z:
        info = z.getinfo(record)
    data = bytearray(open(path(src), "rb").read())
    name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26:info.header_offset + 30])
    at = info.header_offset + 30 + name_len + extra_len + info.compress_size // 2
    data[at] ^= 0x01
    open(path(name), "wb").write(bytes(data))
    done(name, "one byte flipped in " + record)


flip_in_record("crc_stored.zip", "plain.zip", "a/stored.bin")
flip_in_record("crc_deflated.zip", "plain.zip", "a/deflated.txt")


def deflated_zeros(megabytes, head=b""):
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = bytes(1 << 20)
    parts = [c.compress(head)] + [c.compress(chunk) for _ in range(megabytes)]
    return b"".join(parts) + c.flush()


def bomb(name, declared, megabytes=512, record="b/bomb"):
    """One deflated record inflating to `megabytes` MiB of zeros, declaring `declared` bytes
    (its true size, or a lie). The CRC is left 0: the reader must refuse before checking it."""
    body = deflated_zeros(megabytes)
    n = record.encode()
    local = struct.pack("<IHHHHHIIIHH", 0x04034b50, 20, 0, 8, 0, 0, 0, len(body),
                        declared & 0xffffffff, len(n), 0) + n
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014b50, 20, 20, 0, 8, 0, 0, 0, len(body),
                          declared & 0xffffffff, len(n), 0, 0, 0, 0, 0, 0) + n
    end = struct.pack("<IHHHHIIH", 0x06054b50, 0, 0, 1, 1, len(central), len(local) + len(body),
                      0)
    with open(path(name), "wb") as f:
        f.write(local + body + central + end)
    done(name, "deflate of %d MiB of zeros declaring %d bytes" % (megabytes, declared))


bomb("bomb_declared.zip", 512 << 20)
bomb("bomb_lying.zip", 1000)

for name, record in [("unsafe_parent.zip", "../evil.txt"), ("unsafe_absolute.zip", "/etc/evil"),
                     ("unsafe_inner.zip", "a/../../evil"), ("unsafe_backslash.zip", "a\\..\\evil")]:
    write_zip(name, [("a/fine", b"x"), (record, b"evil")])
    done(name, "a record named " + record)

import warnings
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    write_zip("duplicate.zip", [("a/same", b"one"), ("a/same", b"two")])
done("duplicate.zip", "two records with one name")
write_zip("bzip2.zip", [("a/b", b"compressed with bzip2" * 10)], zipfile.ZIP_BZIP2)
done("bzip2.zip", "a bzip2 record")
write_zip("long_name.zip", [("a/" + "n" * 5000, b"x")])
done("long_name.zip", "a record name of 5002 bytes")

# --- hostile: TorchScript archives ---------------------------------------------------------

DEEP = 200000
synthetic("deep_list.pt", pickle(module("M", W + [(text("x"), b"]" * DEEP + b"a" * (DEEP - 1))])),
          extra=[W_DATA], note="an attribute of lists nested 200,000 deep")
synthetic("deep_tuple.pt", pickle(module("M", W + [(text("x"), b")" + b"\x85" * DEEP)])),
          extra=[W_DATA], note="an attribute of tuples nested 200,000 deep")
synthetic("deep_ok.pt", pickle(module("M", W + [(text("x"), b"]" * 900 + b"a" * 899)])),
          extra=[W_DATA], note="lists nested 900 deep: within the limit")
# l = []; l.append(l) as Python pickles it, as an attribute.
synthetic("self_list.pt", pickle(module("M", W + [(text("x"), b"]q\x00h\x00a")])),
          extra=[W_DATA], note="a list that contains itself")
# The module's state refers to the module (memo 0 holds the object before BUILD).
obj = glob("__torch__", "M") + b")\x81q\x00" + b"}(" + text("training") + b"\x88" + \
    text("w") + tensor("0", [2, 3]) + text("me") + b"h\x00" + b"ub"
synthetic("self_module.pt", pickle(obj), extra=[W_DATA], note="a module whose state holds it")
# 60 levels of modules, each holding the level below twice (the memo shares it): 2**60 paths.
parts = [module("M", W) + b"r" + struct.pack("<I", 0) + b"0"]
for depth in range(1, 60):
    below = b"j" + struct.pack("<I", depth - 1)
    parts.append(module("M", [(text("training"), b"\x88"), (text("a"), below), (text("b"), below)]) +
                 b"r" + struct.pack("<I", depth) + (b"0" if depth < 59 else b""))
synthetic("shared_modules.pt", pickle(b"".join(parts)), extra=[W_DATA],
          note="modules shared two ways on each of 60 levels (2**60 paths)")

synthetic("many_values.pt",
          pickle(module("M", W + [(text("x"), b"(" + b"K\x01" * 1100000 + b"l")])),
          extra=[W_DATA], note="a list of 1,100,000 values")
synthetic("storage_2p62.pt",
          pickle(module("M", W + [(text("big"), tensor("1", [4], numel=2 ** 62))])),
          extra=[W_DATA], note="a storage of 2**62 floats")
synthetic("shape_overflow.pt",
          pickle(module("M", [(text("training"), b"\x88"), (text("w"), tensor("0", [2 ** 32, 2 ** 32], numel=6))])),
          extra=[W_DATA], note="a parameter of 2**64 elements")

bad = "s\udcffb"  # "s", the byte 0xff, "b"
synthetic("non_utf8.pt",
          pickle(module("M", W + [(text(bad), module("M", W)), (text("note"), text("caf\udcfe"))])),
          code=CODE.replace("x: Tensor)", "x\udcfd: Tensor)").replace("Tensor:\n    return",
                                                                     "Tensor:\n    # \udcff\n    return")
          .encode("utf-8", "surrogateescape"),
          extra=[W_DATA], note="bytes 0xfd, 0xfe, 0xff in names, strings and code")

# data.pkl deflated, declaring its pickle's size but inflating to 256 MiB more: the reader
# must stop at the declared size.
good = pickle(module("M", W))
records = [(PREFIX + "data.pkl", good), (PREFIX + "code/__torch__.py", CODE.encode()),
           (PREFIX + "constants.pkl", pickle(b")")), (PREFIX + "version", b"3\n"), W_DATA]
out, central = io.BytesIO(), []
for record, data in records:
    n = record.encode()
    offset = out.tell()
    stored, method = data, 0
    if record == PREFIX + "data.pkl":
        stored, method = deflated_zeros(256, head=good), 8
    out.write(struct.pack("<IHHHHHIIIHH", 0x04034b50, 20, 0, method, 0, 0, zlib.crc32(data),
                          len(stored), len(data), len(n), 0) + n + stored)
    central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014b50, 20, 20, 0, method, 0, 0,
                               zlib.crc32(data), len(stored), len(data), len(n), 0, 0, 0, 0, 0,
                               offset) + n)
cd = out.tell()
for c in central:
    out.write(c)
out.write(struct.pack("<IHHHHIIH", 0x06054b50, 0, 0, len(central), len(central), out.tell() - cd,
                      cd, 0))
open(path("bomb_data_pkl.pt"), "wb").write(out.getvalue())
done("bomb_data_pkl.pt", "data.pkl declares %d bytes but inflates to 256 MiB more" % len(good))

synthetic("crc_source.pt", pickle(module("M", W)), extra=[W_DATA])
flip_in_record("crc_data_pkl.pt", "crc_source.pt", PREFIX + "data.pkl")
os.remove(path("crc_source.pt"))

# Package metadata with a dtype no reader knows (fuzzing found this error lacked the file name).
META = {"format": "bucketlab.package/1", "kind": "shared", "boundaries": [32, 64],
        "bucket_dim": 1, "batch_dim": 0,
        "inputs": [{"name": "input_ids", "dtype": "int64\x1b[2J", "pad_value": 0}],
        "states": [], "kernel": "generated"}
synthetic("bad_meta.pt", pickle(module("M", W)),
          extra=[W_DATA, (PREFIX + "extra/bucketlab_meta.json", json.dumps(META))],
          note="package metadata naming an unknown dtype (with a terminal escape)")
