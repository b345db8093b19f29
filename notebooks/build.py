"""Build the course: each lesson's source `notebooks/NN_name.py` (jupytext's percent format)
becomes `NN_name.ipynb`, executed, with its outputs saved.

    .venv/bin/python notebooks/build.py            # every lesson (or `make notebooks-build`)
    .venv/bin/python notebooks/build.py 06         # the lessons whose name starts with 06

The percent format: a line `# %%` starts a code cell, `# %% [markdown]` a markdown cell whose
lines are comments; `key=<json>` pairs after the marker are the cell's metadata, e.g.
`# %% tags=["exercise"]` for an exercise's answer cell (solutions live in the package and
are printed only on request: `show_solution("9.1")`). Jupytext
and editors with cell support (VS Code, PyCharm, Spyder) read the same files.
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).parent


def lessons() -> list[Path]:
    """The lesson sources, in course order."""
    return sorted(HERE.glob("[0-9][0-9]_*.py"))


def read_percent(path: Path) -> nbformat.NotebookNode:
    """The notebook (without outputs) that the percent-format file `path` describes, read by
    jupytext itself (the pairing `ipynb,py:percent` is in each file's header)."""
    return jupytext.read(path, fmt="py:percent")


def execute(nb: nbformat.NotebookNode, timeout: int = 600) -> nbformat.NotebookNode:
    """Run `nb` in a fresh kernel with notebooks/ as working directory."""
    NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(HERE)}}
    ).execute()
    return nb


def _kernel_cpu() -> float:
    """CPU seconds used by finished child processes (the kernels): unlike wall time, this
    does not grow when other jobs share the machine."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main(prefixes: list[str]) -> None:
    total = cpu_total = 0.0
    for src in lessons():
        if prefixes and not any(src.stem.startswith(p) for p in prefixes):
            continue
        start, cpu = time.perf_counter(), _kernel_cpu()
        nb = execute(read_percent(src))
        seconds, cpu = time.perf_counter() - start, _kernel_cpu() - cpu
        total += seconds
        cpu_total += cpu
        for cell in nb.cells:  # per-cell timestamps would change the file on every build
            cell.metadata.pop("execution", None)
        # a widget's saved state holds all its data (a quiz's every step): a static copy of
        # the notebook keeps none of it; the widget is live only in a running kernel
        nb.metadata.pop("widgets", None)
        jupytext.write(nb, src.with_suffix(".ipynb"))
        print(f"wrote {src.with_suffix('.ipynb').name} ({seconds:.1f} s, kernel CPU {cpu:.1f} s)")
    print(f"total {total:.1f} s, kernel CPU {cpu_total:.1f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
