"""The course notebooks run top to bottom in a fresh kernel, and what they print is what
is committed (seeded, deterministic)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))


def _printed(nb: nbformat.NotebookNode) -> list[str]:
    """What each code cell printed (streams may arrive in chunks: join them)."""
    return [
        "".join(
            o["text"]
            for o in c.get("outputs", [])
            if o.get("output_type") == "stream" and o.get("name") == "stdout"
        )
        for c in nb.cells
        if c.cell_type == "code"
    ]


def test_the_course_has_all_eight_lessons() -> None:
    assert len(NOTEBOOKS) == 8
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
        assert any("solution" in c.metadata.get("tags", []) for c in nb.cells), path.name
        assert path.stat().st_size < 400_000, f"{path.name} embeds too much"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_and_prints_what_is_committed(path: Path, tmp_path: Path) -> None:
    committed = nbformat.read(path, as_version=4)
    fresh = nbformat.read(path, as_version=4)
    # the timeout only stops a hung kernel; speed is measured elsewhere, not here
    NotebookClient(
        fresh, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    errors = [
        o for c in fresh.cells for o in c.get("outputs", []) if o.get("output_type") == "error"
    ]
    assert not errors
    assert _printed(fresh) == _printed(committed)
