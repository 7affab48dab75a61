"""The documentation runs as written (CTest: python_docs_tests).

Every ```sh and ```python block of README.md, docs/*.md and docs/models/*.md is run, block after block
as a reader following the document would, each document in a fresh scratch folder of its own (a document
makes the files its blocks read, e.g. `islet run ... -o run.h5` before reading run.h5). The scratch
folder holds `examples` (the repository's) and `build` (the build tree under test); `islet` is on PATH,
the package under test on PYTHONPATH, HOME is a scratch folder (so `cmake --install build --prefix "$HOME/.local"` stays inside it), mpirun may run as
root and oversubscribe, and OMP_NUM_THREADS=1 (the docs' small islets on a shared test machine: lock-step
threads that share cores with other jobs make a 64-cell run 30x slower).

Substitutions (what a block runs differs from what it shows), kept few and mechanical:
  - `islet run` without a config file (the built-in default islet: 1000 cells, 10 simulated minutes)
    gets `--set sim.duration_s=1 --set network.n_cells=20` appended (before any `# comment`);
  - `mpirun -n N` with N > 4 runs 4 ranks.
Markers, on the line before a block's opening fence:
  - `<!-- not run: reason -->` skips the block (installing packages, a second full build); at most
    MAX_SKIPS in all;
  - `<!-- file: PATH -->`: the block must equal the repository file PATH (an example shown in full).
KNOWN_FAILING lists blocks of other documents that fail today, by (file, first line): their failures
are printed, not fatal, until their documents are fixed; an entry that matches no block any more fails
the test (remove it).
"""
import json
import os
import pathlib
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass

import pytest

import isletsim as isl

ROOT = pathlib.Path(__file__).resolve().parents[2]
MAX_SKIPS = 5  # README: set-up and install; docs/testing.md: fuzzing and sanitizer builds
QUICK = "--set sim.duration_s=1 --set network.n_cells=20"

# (document, first line of the block): why it fails today (reported to the documents' owners).
KNOWN_FAILING = {}


def documents():
    docs = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md")) + sorted((ROOT / "docs" / "models").glob("*.md"))
    return [str(d.relative_to(ROOT)) for d in docs]


@dataclass
class Block:
    doc: str
    line: int  # of the opening fence, 1-based
    lang: str
    code: str
    skip: str | None = None  # the reason of a `not run` marker
    file: str | None = None  # a `file:` marker's path

    @property
    def first_line(self):
        return self.code.strip().splitlines()[0] if self.code.strip() else ""


def parse(doc):
    lines = (ROOT / doc).read_text().splitlines()
    blocks, i = [], 0
    while i < len(lines):
        m = re.match(r"^```(\w*)\s*$", lines[i])
        if not m:
            i += 1
            continue
        start, lang = i, m.group(1)
        j = i + 1
        while j < len(lines) and not lines[j].startswith("```"):
            j += 1
        assert j < len(lines), f"{doc}:{start + 1}: code block never closed"
        b = Block(doc, start + 1, lang, "\n".join(lines[i + 1:j]) + "\n")
        k = start - 1
        while k >= 0 and not lines[k].strip():
            k -= 1
        if k >= 0:
            marker = re.match(r"^<!--\s*(not run|file):\s*(.*?)\s*-->$", lines[k].strip())
            if marker and marker.group(1) == "not run":
                b.skip = marker.group(2)
                assert b.skip, f"{doc}:{start + 1}: a `not run` marker needs a reason"
            elif marker:
                b.file = marker.group(2)
        blocks.append(b)
        i = j + 1
    return blocks


def substitute(code):
    """The documented substitutions, line by line."""
    out = []
    for line in code.splitlines():
        m = re.match(r"^(\s*islet run)(\s.*)?$", line)
        if m:
            cmd, comment = re.match(r"^(.*?)(\s+#.*)?$", line).groups()
            args = cmd.split()[2:]
            # No config file: the built-in default islet (not a --continue, which takes its file's config).
            if (not args or args[0].startswith("-")) and "--continue" not in args:
                line = f"{cmd} {QUICK}{comment or ''}"
        line = re.sub(r"\bmpirun -n ([0-9]+)\b", lambda m: "mpirun -n " + (m.group(1) if int(m.group(1)) <= 4 else "4"),
                      line)
        out.append(line)
    return "\n".join(out) + "\n"


def _cli():
    return os.environ.get("ISLET_CLI") or str(pathlib.Path(isl.__file__).resolve().parents[2] / "islet")


@pytest.fixture
def scratch(tmp_path):
    d = tmp_path
    (d / "examples").symlink_to(ROOT / "examples")
    (d / "build").symlink_to(pathlib.Path(_cli()).resolve().parent)
    (d / "home").mkdir()
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(os.path.abspath(_cli())) + os.pathsep + env.get("PATH", "")
    env["PYTHONPATH"] = str(pathlib.Path(isl.__file__).resolve().parents[1]) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(HOME=str(d / "home"), MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1", OMPI_ALLOW_RUN_AS_ROOT="1",
               OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_rmaps_base_oversubscribe="1", OMP_NUM_THREADS="1")
    return d, env


# A document's python blocks run in one interpreter, one after the other, as in one session (a later
# block may use an earlier one's imports and variables): this driver execs each block it is sent (a JSON
# line on stdin) in one namespace and answers on the pipe named by argv[1] with the block's exit status.
DRIVER = r"""
import json, os, sys, traceback
answers = os.fdopen(int(sys.argv[1]), "w")
ns = {"__name__": "__main__"}
for line in sys.stdin:
    code = json.loads(line)
    rc = 0
    try:
        exec(compile(code, "<block>", "exec"), ns)
    except SystemExit as e:
        rc = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:
        traceback.print_exc()
        rc = 1
    sys.stdout.flush(); sys.stderr.flush()
    answers.write(json.dumps(rc) + "\n"); answers.flush()
"""


class PythonSession:
    def __init__(self, cwd, env):
        self.out = open(cwd / ".python_session.log", "w+")
        r, w = os.pipe()
        self.proc = subprocess.Popen([sys.executable, "-u", "-c", DRIVER, str(w)], cwd=cwd, env=env,
                                     stdin=subprocess.PIPE, stdout=self.out, stderr=subprocess.STDOUT, text=True,
                                     pass_fds=(w,))
        os.close(w)
        self.answers = os.fdopen(r)

    def run(self, code):
        start = self.out.seek(0, os.SEEK_END)
        self.proc.stdin.write(json.dumps(code) + "\n")
        self.proc.stdin.flush()
        answer = self.answers.readline()  # the ctest TIMEOUT bounds a block that never ends
        self.out.seek(start)
        text = self.out.read()
        rc = json.loads(answer) if answer else -1
        return subprocess.CompletedProcess([], rc, text, "" if answer else "the Python session ended")

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=60)
        self.out.close()


def run_block(b, cwd, env, session):
    if b.lang == "sh":
        return subprocess.run(["bash", "-euo", "pipefail", "-c", substitute(b.code)], cwd=cwd, env=env,
                              capture_output=True, text=True, timeout=600)
    return session.run(b.code)


def test_parser_and_substitutions():
    blocks = parse("README.md")
    assert sum(b.lang in ("sh", "python") and not b.skip for b in blocks) >= 8
    assert substitute("islet run   # default\n") == f"islet run {QUICK}   # default\n"
    assert substitute("islet run --print-config\n") == f"islet run --print-config {QUICK}\n"
    assert substitute("islet run a.toml -o b.h5   # x\n") == "islet run a.toml -o b.h5   # x\n"
    assert substitute("islet runs\n") == "islet runs\n"
    assert substitute("islet run --continue a.h5 -q\n") == "islet run --continue a.h5 -q\n"
    assert substitute("mpirun -n 64 islet sweep s.toml\n") == "mpirun -n 4 islet sweep s.toml\n"
    assert substitute("mpirun -n 2 islet sweep s.toml\n") == "mpirun -n 2 islet sweep s.toml\n"


def test_skips_are_few_and_known_failures_exist():
    all_blocks = [b for d in documents() for b in parse(d)]
    skips = [f"{b.doc}:{b.line}: {b.skip}" for b in all_blocks if b.skip]
    assert len(skips) <= MAX_SKIPS, "too many `not run` blocks:\n" + "\n".join(skips)
    present = {(b.doc, b.first_line) for b in all_blocks}
    stale = [k for k in KNOWN_FAILING if k not in present]
    assert not stale, f"KNOWN_FAILING entries that match no block any more (remove them): {stale}"


@pytest.mark.parametrize("doc", documents())
def test_doc_blocks_run(doc, scratch):
    cwd, env = scratch
    ran, failures, known = 0, [], []
    session = PythonSession(cwd, env)
    for b in parse(doc):
        if b.file:
            assert b.code == (ROOT / b.file).read_text(), f"{doc}:{b.line}: the block differs from {b.file}"
        if b.lang not in ("sh", "python") or b.skip:
            continue
        r = run_block(b, cwd, env, session)
        ran += 1
        if r.returncode != 0:
            report = f"{doc}:{b.line} (exit {r.returncode}):\n{b.code}\nstdout:\n{r.stdout[-3000:]}\nstderr:\n{r.stderr[-3000:]}"
            (known if (doc, b.first_line) in KNOWN_FAILING else failures).append(report)
    session.close()
    for k in known:
        print("KNOWN FAILING (not fatal):", k)
    assert not failures, "\n\n".join(failures)
    if doc == "docs/analysis.md":  # what its blocks promise is there
        for f in ("run.analysis.h5", "run.cells.csv", "run.summary.csv", "run_prom.analysis.h5",
                  "run_figures/network.png", "figs/waves.svg"):
            assert (cwd / f).exists(), f


def test_analysis_defaults_are_the_code_defaults():
    text = (ROOT / "docs" / "analysis.md").read_text()
    (block,) = [b.code for b in parse("docs/analysis.md") if b.lang == "toml" and "[analysis]" in b.code]
    documented = tomllib.loads(block)["analysis"]
    toml_text, _ = isl._isletsim._analysis_options("", "<defaults>", [])
    assert documented == tomllib.loads(toml_text)["analysis"]
    # The keys left unset by default are named in comments.
    for key in ("from_s", "to_s", "stimulus_s", "threshold"):
        assert re.search(r"^# " + key, block, re.M), key
    assert "[analysis]" in text
