#!/usr/bin/env python3
"""Runs every command of README.md, in order, as a reader would after the README's set-up.

The README's shell blocks (```sh, ```bash, ```shell, ```console) are read with their `\\`
line continuations. The first two commands are the set-up (scripts/demo.sh, scripts/test.sh):
they must still be there, exactly, and are not run (they install and build). Every other
command runs with bash in a scratch copy of the repository root: symlinks to the source
tree's folders, a real build/ whose bin/ is the build tree under test, and ../shared/data
pointing at the team's shared data. Outputs land in the scratch copy, never in the sources
(checked: the source tree's files are compared before and after). The scratch copy is removed
after a pass and kept after a failure.

A command must exit 0, unless its last line ends in a comment `# exits N: why` (exactly N) or
`# exits N or M: why` (either). The desktop (build/bin/bucketlab) needs a display and is not
run; those commands are listed as skipped. Commands that read ../shared/data are skipped,
and listed, when the shared data is not on this machine (BUCKETLAB_SHARED_DATA names it).

A ```python block whose last line is a comment `# SomeError: text` is run with --python (when
that interpreter has torch) and must fail with that text on stderr; other python blocks must
exit 0.

Standard library only. Exit 0 when every command behaved, 1 otherwise (each failure names
the README line and the command), 2 for bad usage.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import time

SETUP_COMMANDS = ["scripts/demo.sh", "scripts/test.sh"]
GUI_PROGRAMS = ["build/bin/bucketlab"]  # the desktop: needs a display and stays open
SHELL_LANGUAGES = {"sh", "bash", "shell", "console"}
EXITS = re.compile(r"\s#\s*exits\s+(\d+)(?:\s+or\s+(\d+))?\s*:")
COMMENT = re.compile(r"\s+#.*$")
PYTHON_ERROR = re.compile(r"^#\s*(\w+(?:Error|Exception)\b.*)$")
COMMAND_TIMEOUT_S = 300


class Command:
    def __init__(self, line, text, language):
        self.line = line  # 1-based line in README.md where the command starts
        self.text = text  # as bash gets it (continuations joined, comments kept)
        self.language = language

    def words(self):
        return COMMENT.sub("", self.text).split()

    def expected_exits(self):
        m = EXITS.search(self.text)
        if not m:
            return {0}
        return {int(m.group(1))} | ({int(m.group(2))} if m.group(2) else set())

    def shown(self):
        return re.sub(r"\s+", " ", self.text.strip())


def parse_readme(text):
    """The commands of the README's shell and python blocks, in order of appearance."""
    commands = []
    lines = text.split("\n")
    language = None  # inside a fence when not None
    block = []  # (line number, text) of a python block
    pending = None  # (start line, parts) of a shell command continued with '\'
    for number, raw in enumerate(lines, start=1):
        fence = re.match(r"^\s*```\s*([\w+-]*)\s*$", raw)
        if fence and language is None:
            language = fence.group(1).lower() or "text"
            block = []
            continue
        if fence and not fence.group(1):
            if pending is not None:
                raise ValueError("README.md:%d: a command ends its block with a '\\'" % pending[0])
            if language == "python" and block:
                commands.append(Command(block[0][0], "\n".join(t for _, t in block), "python"))
            language = None
            continue
        if language is None:
            continue
        if language == "python":
            block.append((number, raw))
            continue
        if language not in SHELL_LANGUAGES:
            continue
        line = raw.rstrip()
        if language == "console":
            if pending is None:
                if not line.lstrip().startswith("$ "):
                    continue  # output shown in the block
                line = line.lstrip()[2:]
        if pending is None:
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            pending = (number, [])
        if line.endswith("\\"):
            pending[1].append(line[:-1].rstrip())
            continue
        pending[1].append(line.strip())
        commands.append(Command(pending[0], " ".join(p.strip() for p in pending[1]), language))
        pending = None
    if language is not None:
        raise ValueError("README.md: a ``` block is never closed")
    return commands


def self_check():
    """The parser on a known text, so that a parser bug cannot pass every README."""
    sample = "\n".join([
        "```sh",
        "scripts/demo.sh    # a comment",
        "# only a comment",
        "",
        "build/bin/tool a \\",
        "    b \\",
        "    c   # exits 1: why",
        "build/bin/tool d   # exits 0 or 1: measured",
        "```",
        "```console",
        "$ echo x \\",
        "  y",
        "x y",
        "```",
        "```",
        "not a command",
        "```",
        "```python",
        "raise ValueError('v')",
        "# ValueError: v",
        "```",
    ])
    got = parse_readme(sample)
    assert [(c.line, c.shown()) for c in got] == [
        (2, "scripts/demo.sh # a comment"),
        (5, "build/bin/tool a b c # exits 1: why"),
        (8, "build/bin/tool d # exits 0 or 1: measured"),
        (11, "echo x y"),
        (19, "raise ValueError('v') # ValueError: v"),
    ], [(c.line, c.shown()) for c in got]
    assert got[0].words() == ["scripts/demo.sh"]
    assert got[1].expected_exits() == {1} and got[2].expected_exits() == {0, 1}
    assert got[3].expected_exits() == {0}
    assert got[4].language == "python"


def shared_data_dir(source_dir):
    env = os.environ.get("BUCKETLAB_SHARED_DATA")
    if env:
        return env if os.path.isdir(env) else None
    for candidate in ["/work/shared/data", os.path.join(source_dir, "..", "shared", "data")]:
        if os.path.isdir(candidate):
            return os.path.realpath(candidate)
    return None


def make_scratch(work_dir, source_dir, bin_dir, shared):
    """work_dir/repo mirrors the source root; work_dir/shared/data is the shared data."""
    if os.path.lexists(work_dir):
        shutil.rmtree(work_dir)  # does not follow the symlinks inside
    repo = os.path.join(work_dir, "repo")
    os.makedirs(os.path.join(repo, "build"))
    for name in sorted(os.listdir(source_dir)):
        if name == ".git" or name == "build" or name.startswith("build-"):
            continue
        os.symlink(os.path.join(source_dir, name), os.path.join(repo, name))
    os.symlink(bin_dir, os.path.join(repo, "build", "bin"))
    if shared:
        os.makedirs(os.path.join(work_dir, "shared"))
        os.symlink(shared, os.path.join(work_dir, "shared", "data"))
    return repo


def source_snapshot(source_dir):
    """(size, mtime) of every file of the source tree outside build folders and .git
    (and __pycache__, which python-labelled tests running beside this one may write)."""
    files = {}
    for root, dirs, names in os.walk(source_dir):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        if root == source_dir:
            dirs[:] = [d for d in dirs
                       if d != ".git" and d != "build" and not d.startswith("build-")]
        for name in names:
            path = os.path.join(root, name)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            files[os.path.relpath(path, source_dir)] = (st.st_size, st.st_mtime_ns)
    return files


def python_has_torch(python):
    if not python:
        return False
    probe = subprocess.run([python, "-c", "import torch"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    return probe.returncode == 0


def tail(data, lines=15):
    text = data.decode("utf-8", "replace").rstrip("\n").split("\n")
    return "\n".join("      | " + t for t in text[-lines:])


def run(command, repo, python):
    """(exit code, stdout, stderr, seconds)."""
    if command.language == "python":
        argv = [python, "-c", command.text]
    else:
        argv = ["bash", "-c", command.text]
    start = time.monotonic()
    try:
        p = subprocess.run(argv, cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, timeout=COMMAND_TIMEOUT_S)
    except subprocess.TimeoutExpired as e:
        return None, e.stdout or b"", e.stderr or b"", time.monotonic() - start
    return p.returncode, p.stdout, p.stderr, time.monotonic() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source-dir", required=True, help="repository root (holds README.md)")
    parser.add_argument("--bin-dir", required=True, help="build tree's bin/ under test")
    parser.add_argument("--work-dir", required=True, help="scratch directory (replaced)")
    parser.add_argument("--python", help="interpreter for ```python blocks (needs torch)")
    args = parser.parse_args()
    source_dir = os.path.realpath(args.source_dir)
    bin_dir = os.path.realpath(args.bin_dir)
    readme = os.path.join(source_dir, "README.md")
    if not os.path.isfile(readme) or not os.path.isfile(os.path.join(bin_dir, "bucketlab-cli")):
        print("tst_cli_readme: no README.md in %s or no bucketlab-cli in %s"
              % (source_dir, bin_dir), file=sys.stderr)
        return 2

    self_check()
    with open(readme, encoding="utf-8") as f:
        try:
            commands = parse_readme(f.read())
        except ValueError as e:
            print("FAIL " + str(e))
            return 1

    failures = []
    # The set-up: the README's first two commands, exactly these, and nowhere else.
    opening = [" ".join(c.words()) for c in commands[:2]]
    if opening != SETUP_COMMANDS:
        print("FAIL README.md: its first two commands are %s, not the set-up commands %s"
              % (opening, SETUP_COMMANDS))
        return 1
    for c in commands[2:]:
        if c.words() and c.words()[0] in SETUP_COMMANDS:
            failures.append("README.md:%d: the set-up command again: %s" % (c.line, c.shown()))

    shared = shared_data_dir(source_dir)
    repo = make_scratch(os.path.realpath(args.work_dir), source_dir, bin_dir, shared)
    torch_python = args.python if python_has_torch(args.python) else None
    before = source_snapshot(source_dir)

    print("README.md: %d commands; set-up skipped (not run here: they install and build):"
          % len(commands))
    for c in commands[:2]:
        print("  README.md:%d: %s" % (c.line, c.shown()))
    print("scratch root: %s (build/bin -> %s; ../shared/data -> %s)"
          % (repo, bin_dir, shared or "absent"))
    skipped, ran = [], 0
    for c in commands[2:]:
        words = c.words()
        where = "README.md:%d" % c.line
        if c.language != "python" and words and words[0] in ("bucketlab", "bucketlab-cli"):
            failures.append("%s: '%s' is not on the PATH; write build/bin/%s: %s"
                            % (where, words[0], words[0], c.shown()))
            continue
        if c.language != "python" and words and words[0] in GUI_PROGRAMS:
            skipped.append("%s: the desktop needs a display: %s" % (where, c.shown()))
            continue
        if "../shared/" in c.text and not shared:
            skipped.append("%s: no shared data here (set BUCKETLAB_SHARED_DATA): %s"
                           % (where, c.shown()))
            continue
        expected = c.expected_exits()
        expected_error = None
        if c.language == "python":
            if not torch_python:
                skipped.append("%s: no python with torch (--python %s): python block"
                               % (where, args.python))
                continue
            last = c.text.strip().split("\n")[-1].strip()
            m = PYTHON_ERROR.match(last)
            if m:
                expected, expected_error = {1}, m.group(1)
        code, out, err, seconds = run(c, repo, torch_python)
        ran += 1
        shown = c.shown() if c.language != "python" else "```python block"
        if code is None:
            failures.append("%s: no exit within %d s: %s" % (where, COMMAND_TIMEOUT_S, shown))
            print("FAIL %s (timed out after %.1f s)\n%s" % (where, seconds, tail(err)))
            continue
        ok = code in expected
        if ok and expected_error and expected_error not in err.decode("utf-8", "replace"):
            ok = False
        print("%s %s exit %d (%.1f s): %s" % ("ok  " if ok else "FAIL", where, code, seconds, shown))
        if not ok:
            wanted = " or ".join(str(e) for e in sorted(expected))
            if expected_error:
                wanted += " with '%s' on stderr" % expected_error
            failures.append("%s: exit %d, expected %s: %s" % (where, code, wanted, shown))
            print("    stderr:\n%s\n    stdout:\n%s" % (tail(err), tail(out)))

    after = source_snapshot(source_dir)
    changed = sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))
    for p in changed:
        failures.append("a README command wrote into the source tree: %s" % p)

    for s in skipped:
        print("skipped " + s)
    print("%d commands run, %d skipped, %d set-up commands recognised" % (ran, len(skipped), 2))
    if ran == 0:
        failures.append("README.md: no command was run")
    for f in failures:
        print("FAIL " + f)
    if failures:
        print("the scratch copy is kept for a look: " + repo)
        return 1
    shutil.rmtree(os.path.realpath(args.work_dir))  # ~150 MB of packages
    return 0


if __name__ == "__main__":
    sys.exit(main())
