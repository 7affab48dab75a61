"""The analysis documentation runs as written (CTest: python_docs_analysis_tests).

Every ```sh and ```python block of docs/analysis.md and of README.md's analysis section is run, in
order, in one scratch folder (the sh blocks with `islet` on PATH, from the repository's examples); the
```toml block of docs/analysis.md must list exactly the defaults the code uses.
"""
import os
import pathlib
import re
import subprocess
import sys
import tomllib

import pytest

import isletsim as isl

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _blocks(text, lang):
    return re.findall(r"```" + lang + r"\n(.*?)```", text, re.S)


def _readme_section():
    text = (ROOT / "README.md").read_text()
    m = re.search(r"^## Analysing calcium.*?(?=^## )", text, re.S | re.M)
    assert m, "README.md has no '## Analysing calcium' section"
    return m.group(0)


def _env():
    cli = os.environ.get("ISLET_CLI") or str(pathlib.Path(isl.__file__).resolve().parents[2] / "islet")
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(os.path.abspath(cli)) + os.pathsep + env.get("PATH", "")
    env["MPLBACKEND"] = "Agg"
    # The package under test, wherever it was imported from (the scratch folder is the cwd).
    pkg = str(pathlib.Path(isl.__file__).resolve().parents[1])
    env["PYTHONPATH"] = pkg + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _run_blocks(text, tmp_path):
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    env = _env()
    sh, py = _blocks(text, "sh"), _blocks(text, "python")
    assert sh and py
    for block in sh:
        r = subprocess.run(["bash", "-euo", "pipefail", "-c", block], cwd=tmp_path, env=env, capture_output=True,
                           text=True, timeout=600)
        assert r.returncode == 0, f"block:\n{block}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    for block in py:
        r = subprocess.run([sys.executable, "-c", block], cwd=tmp_path, env=env, capture_output=True, text=True,
                           timeout=600)
        assert r.returncode == 0, f"block:\n{block}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    return env


def test_docs_analysis_blocks_run(tmp_path):
    _run_blocks((ROOT / "docs" / "analysis.md").read_text(), tmp_path)
    # What they promise is there.
    for f in ("run.analysis.h5", "run.cells.csv", "run.summary.csv", "run_prom.analysis.h5",
              "run_figures/network.png", "figs/waves.svg"):
        assert (tmp_path / f).exists(), f


def test_readme_analysis_blocks_run(tmp_path):
    _run_blocks(_readme_section(), tmp_path)


def test_documented_defaults_are_the_code_defaults():
    text = (ROOT / "docs" / "analysis.md").read_text()
    (block,) = [b for b in _blocks(text, "toml") if "[analysis]" in b]
    documented = tomllib.loads(block)["analysis"]
    toml_text, _ = isl._isletsim._analysis_options("", "<defaults>", [])
    code = tomllib.loads(toml_text)["analysis"]
    assert documented == code
    # The keys left unset by default are named in comments.
    for key in ("from_s", "to_s", "stimulus_s", "threshold"):
        assert re.search(r"^# " + key, block, re.M), key
