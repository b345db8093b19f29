"""Every ```python block of README.md runs as written: each in a fresh interpreter, in the
order they appear, in one empty working directory (a reader pasting them one by one)."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def python_blocks(text: str) -> list[str]:
    """The bodies of the ```python fenced blocks, in order."""
    return re.findall(r"^```python\n(.*?)^```", text, re.M | re.S)


def test_the_readme_has_python_blocks() -> None:
    blocks = python_blocks((ROOT / "README.md").read_text())
    assert len(blocks) >= 3 and all(b.strip() for b in blocks)
    assert python_blocks("```python\nx = 1\n```\n```sh\nls\n```\n") == ["x = 1\n"]


def test_every_readme_python_block_runs_in_a_fresh_interpreter(tmp_path: Path) -> None:
    env = dict(os.environ, MPLBACKEND="Agg")
    printed: list[list[str]] = []
    for k, block in enumerate(python_blocks((ROOT / "README.md").read_text()), 1):
        result = subprocess.run(
            [sys.executable, "-c", block],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if result.returncode != 0:
            pytest.fail(f"README python block {k} failed:\n{block}\n{result.stderr[-2000:]}")
        printed.append(result.stdout.split("\n"))
        if k == 1:  # backward(), a drawing, then the step-through: the drawing shows
            # backward()'s gradient, and the step-through ends with the same (not twice it)
            x_grad = float(printed[0][0].split()[1])
            assert float(printed[0][-2]) == x_grad
            svg = html.unescape((tmp_path / "neuron.svg").read_text())  # dot writes - as &#45;
            assert f"grad {x_grad:.4g}" in svg
