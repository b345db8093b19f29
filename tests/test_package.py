"""chainrule as a stranger gets it: a wheel and an sdist built from this tree, the wheel
installed alone into a fresh venv, and used from folders outside the source tree, one of them
holding a student's own `nn.py`, `engine.py` and `viz.py`, beside another distribution that
installs top-level `nn` and `viz`. Each lesson notebook runs there copied alone into an empty
folder (as Colab or any Jupyter opens one notebook)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import urllib.request
import venv
import zipfile
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
# what a lesson needs beyond chainrule itself: a kernel, and nbclient to run it headless
NOTEBOOK_TOOLS = ["ipykernel", "nbclient", "nbformat", "ipywidgets"]


def _run(*cmd: str | Path, cwd: Path | None = None, **kw: object) -> str:
    r = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=900, **kw
    )
    assert r.returncode == 0, f"{cmd} failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel and an sdist of this tree (copied first, so no build files land in it)."""
    out = tmp_path_factory.mktemp("dist")
    src = tmp_path_factory.mktemp("src") / "chainrule"
    ignore = shutil.ignore_patterns(".venv", ".git", "build", "out", "*.egg-info", "__pycache__")
    shutil.copytree(ROOT, src, ignore=ignore)
    _run(sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir", out, src)
    return out


@pytest.fixture(scope="module")
def wheel(dist: Path) -> Path:
    (found,) = dist.glob("chainrule-*.whl")
    return found


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> Path:
    """A fresh venv with only the wheel (and its dependencies) and the notebook tools."""
    home = tmp_path_factory.mktemp("venv")
    venv.create(home, with_pip=True)
    _run(home / "bin" / "python", "-m", "pip", "install", "-q", wheel, *NOTEBOOK_TOOLS)
    return home


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """An empty folder outside the source tree."""
    assert ROOT not in tmp_path.parents
    return tmp_path


def _python(env: Path, code: str, cwd: Path, *args: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    python = env / "bin" / "python"
    return _run(python, "-c", code, *args, cwd=cwd, env={**clean, "MPLBACKEND": "Agg"})


def test_the_wheel_installs_one_top_level_name_and_ships_what_it_needs(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"chainrule"}
    for needed in (
        "chainrule/py.typed",
        "chainrule/engine/value.py",
        "chainrule/nn/optim/sgd.py",
        "chainrule/nn/datasets/digits.csv.gz",
        "chainrule/viz/playground/static/index.html",
        "chainrule/viz/static/stepper.html",
        "chainrule/viz/static/stepper.js",
        "chainrule/viz/static/widget.js",
        "chainrule/course/checks.py",
    ):
        assert needed in names, needed
    meta = (
        zipfile.ZipFile(wheel)
        .read(next(n for n in names if n.endswith(".dist-info/METADATA")))
        .decode()
    )
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert f"License-Expression: {project['license']}" in meta
    assert "License ::" not in meta  # no classifier beside the SPDX expression
    licenses = {n.rsplit("/", 1)[-1] for n in names if "/licenses/" in n}
    assert {"LICENSE", "LICENSE-digits.txt"} <= licenses


def test_the_sdist_leaves_the_tests_out_on_purpose(dist: Path) -> None:
    (sdist,) = dist.glob("chainrule-*.tar.gz")
    with tarfile.open(sdist) as tar:
        members = [m.split("/", 1)[-1] for m in tar.getnames()]
    assert "engine/value.py" in members and "LICENSE" in members
    assert not [m for m in members if m.startswith(("tests/", "notebooks/", "benchmarks/"))]


def test_imports_from_outside_with_a_students_own_nn_engine_and_viz(
    env: Path, outside: Path
) -> None:
    for name in ("nn", "engine", "viz"):  # a student's files, as a course names them
        (outside / f"{name}.py").write_text(f"raise ImportError('the student own {name}.py')\n")
    code = """
import sys
import chainrule
assert "matplotlib" not in sys.modules and "chainrule.viz" not in sys.modules, "heavy import"
from chainrule.engine import Value
from chainrule.nn import MLP, SGD
from chainrule.viz import draw_dot
from chainrule import Value as V2, MLP as M2, draw_dot as d2
import chainrule.nn.layers, chainrule.engine.value
assert chainrule.nn.layers.MLP is MLP is M2 and V2 is Value and d2 is draw_dot
assert chainrule.engine.value.Value is Value
from chainrule.course import check
x = Value(2.0); (x * x).backward(); assert x.grad == 4.0
print(chainrule.__version__, chainrule.__file__)
"""
    version, where = _python(env, code, outside).split()
    assert str(env) in where
    assert _run(env / "bin" / "chainrule", "--version").strip() == f"chainrule {version}"


def _fake_wheel(folder: Path) -> Path:
    """A distribution `nn-viz-squatter` that installs top-level `nn` and `viz`, as some of
    PyPI's do (built by hand: a wheel is a zip with a RECORD)."""
    files = {
        "nn/__init__.py": "raise ImportError('the other nn')\n",
        "viz/__init__.py": "raise ImportError('the other viz')\n",
        "squatter-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: squatter\nVersion: 1.0\n",
        "squatter-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: hand\n"
        "Root-Is-Purelib: true\nTag: py3-none-any\n",
        "squatter-1.0.dist-info/top_level.txt": "nn\nviz\n",
    }
    record = []
    for name, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{name},sha256={digest.decode()},{len(text.encode())}")
    record.append("squatter-1.0.dist-info/RECORD,,")
    path = folder / "squatter-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
        z.writestr("squatter-1.0.dist-info/RECORD", "\n".join(record) + "\n")
    return path


def test_another_distribution_installing_nn_and_viz_changes_nothing(
    env: Path, outside: Path
) -> None:
    pip = (env / "bin" / "python", "-m", "pip")
    code = "from chainrule.nn import MLP; from chainrule.viz import draw_dot; print(MLP(2, [1]))"
    _run(*pip, "install", "-q", _fake_wheel(outside))
    try:
        assert "MLP" in _python(env, code, outside)
    finally:
        _run(*pip, "uninstall", "-y", "-q", "squatter")
    assert "MLP" in _python(env, code, outside)  # uninstalling it deleted none of ours


def test_the_demo_graph_and_playground_run_from_the_wheel(env: Path, outside: Path) -> None:
    cli = env / "bin" / "chainrule"
    _run(cli, "graph", "tanh(x*w + b)", "--x", "2", "--w", "-3", "--b", "6.88",
         "--out", "new/folder/neuron", "--format", "svg", cwd=outside)  # fmt: skip
    assert (outside / "new" / "folder" / "neuron.svg").stat().st_size > 1000
    _run(cli, "demo", "--out", "demo", cwd=outside)
    for name in ("model.json", "decision_boundary.png", "graph.svg", "stepper.html"):
        assert (outside / "demo" / name).stat().st_size > 0, name
    proc = subprocess.Popen(
        [cli, "playground", "--no-browser", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=outside,
    )
    try:
        assert proc.stdout is not None
        url = re.search(r"http://127\.0\.0\.1:\d+/", proc.stdout.readline())
        assert url
        with urllib.request.urlopen(url.group(0), timeout=30) as r:
            assert b"chainrule playground" in r.read()
        with urllib.request.urlopen(url.group(0) + "api/meta", timeout=30) as r:
            assert "presets" in json.loads(r.read())
    finally:
        proc.terminate()
        proc.wait(timeout=30)


RUNNER = """
import sys, nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(nb, timeout=900, kernel_name="python3").execute()
nbformat.write(nb, sys.argv[1])
"""


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_each_lesson_runs_alone_from_the_wheel(env: Path, outside: Path, lesson: Path) -> None:
    import nbformat

    shutil.copy(lesson, outside)  # the notebook alone, as Colab or any Jupyter opens it
    _python(env, RUNNER, outside, lesson.name)
    ran = nbformat.read(outside / lesson.name, as_version=4)
    errors = [o for c in ran.cells for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert not errors, [f"{e['ename']}: {e['evalue']}" for e in errors]
    # the install cell found chainrule installed: it printed nothing and installed nothing
    setup = next(c for c in ran.cells if "setup" in c.metadata.get("tags", []))
    assert setup.outputs == []
