"""The lessons are paired by jupytext itself: `jupytext --sync` (what the Jupytext extension
does on save) leaves every lesson's source as it is, and the course's builder reads what it
writes."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import jupytext
import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
LESSONS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))


def test_every_lesson_declares_its_pairing() -> None:
    assert LESSONS
    for src in LESSONS:
        meta = jupytext.read(src).metadata["jupytext"]
        assert meta["formats"] == "ipynb,py:percent", src.name


@pytest.mark.parametrize("src", LESSONS, ids=lambda p: p.stem)
def test_a_sync_round_trip_changes_no_source(tmp_path: Path, src: Path) -> None:
    for suffix in (".py", ".ipynb"):
        shutil.copy(src.with_suffix(suffix), tmp_path)
    copy = tmp_path / src.name
    # the notebook edited last, as when a student saves it in JupyterLab: sync writes the .py
    (tmp_path / src.with_suffix(".ipynb").name).touch()
    subprocess.run(
        [sys.executable, "-m", "jupytext", "--sync", "--quiet", str(copy)],
        check=True,
        capture_output=True,
    )
    assert copy.read_text() == src.read_text()
    cells = jupytext.read(copy, fmt="py:percent").cells
    assert [c.source for c in cells] == [c.source for c in jupytext.read(src).cells]
