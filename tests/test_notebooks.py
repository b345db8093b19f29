"""The course: each lesson's source `notebooks/NN_name.py` (percent format) and its committed
`.ipynb` agree; every lesson runs top to bottom in a fresh kernel and prints what is committed
(seeded, deterministic); every exercise's checker says "not yet" to the empty answer cell and
"right" to the collapsed solution; the checkers can say "wrong".
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest

from chainrule.course import checks

NOTEBOOKS = Path(__file__).parent.parent / "notebooks"
sys.path.insert(0, str(NOTEBOOKS))
import build  # noqa: E402  (notebooks/build.py: the percent reader and the executor)

SOURCES = build.lessons()
REPORT = "from chainrule.course import checks; import json; print(json.dumps(checks.RESULTS))"


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


def _shape(nb: nbformat.NotebookNode) -> list[tuple[str, str, dict]]:
    """Each cell's type, source and metadata (nbclient's timestamps aside)."""
    return [
        (c.cell_type, c.source, {k: v for k, v in sorted(c.metadata.items()) if k != "execution"})
        for c in nb.cells
    ]


def test_the_course_has_eight_lessons_each_a_source_paired_with_its_notebook() -> None:
    assert len(SOURCES) == 8
    for src in SOURCES:
        ipynb = src.with_suffix(".ipynb")
        assert ipynb.exists(), f"{ipynb.name} is not built: run make notebooks-build"
        committed = nbformat.read(ipynb, as_version=4)
        assert _shape(committed) == _shape(build.read_percent(src)), (
            f"{ipynb.name} is stale: rebuild it from {src.name}"
        )
        assert committed.cells[0].cell_type == "markdown"
        assert committed.cells[0].source.startswith("# ")
        assert ipynb.stat().st_size < 1_500_000, f"{ipynb.name} embeds too much"
    # no stray notebooks without a source
    assert {p.stem for p in NOTEBOOKS.glob("*.ipynb")} == {p.stem for p in SOURCES}


def test_solutions_are_collapsed_and_print_no_answer() -> None:
    for src in SOURCES:
        nb = build.read_percent(src)
        solutions = [c for c in nb.cells if "solution" in c.metadata.get("tags", [])]
        answers = [c for c in nb.cells if "answer" in c.metadata.get("tags", [])]
        assert len(solutions) >= 3 and len(answers) == len(solutions), src.name
        for cell in solutions:
            assert cell.metadata["jupyter"]["source_hidden"] is True
            # a solution's only output is the checker's verdict, never the value itself
            assert "print(" not in cell.source, f"{src.name}: a solution prints"
        for cell in answers:
            assert cell.source == "answer = ...", f"{src.name}: an answer cell is not empty"


@pytest.mark.parametrize("src", SOURCES, ids=lambda p: p.stem)
def test_lesson_runs_prints_what_is_committed_and_its_checkers_pass(src: Path) -> None:
    committed = nbformat.read(src.with_suffix(".ipynb"), as_version=4)
    fresh = nbformat.read(src.with_suffix(".ipynb"), as_version=4)
    fresh.cells.append(nbformat.v4.new_code_cell(REPORT))
    # the timeout only stops a hung kernel; speed is measured elsewhere, not here
    build.execute(fresh)
    errors = [
        o for c in fresh.cells for o in c.get("outputs", []) if o.get("output_type") == "error"
    ]
    assert not errors, [f"{e['ename']}: {e['evalue']}" for e in errors]
    printed = _printed(fresh)
    assert printed[:-1] == _printed(committed)
    results = json.loads(printed[-1])
    names = list(dict.fromkeys(name for name, _ in results))
    assert len(names) >= 3
    for name in names:
        # the empty answer cell first ("not yet", no crash), then the solution ("right")
        assert [s for n, s in results if n == name] == ["not yet", "right"], name


def test_every_checker_says_wrong_to_wrong_answers_without_crashing() -> None:
    for src in SOURCES:  # the checkers register on import; the lessons import the same module
        assert src.stem[:2].lstrip("0") in {n.split(".")[0] for n in checks.EXERCISES}
    junk = [0.123456, -7, "42", None, [1.0, 2.0], lambda *a, **k: 0.5, object()]
    for name in checks.EXERCISES:
        for answer in junk:
            status, why = checks.verdict(name, answer, **CONTEXT.get(name, {}))
            assert status == "wrong" and why, (name, answer)
        assert checks.verdict(name, ...)[0] == "not yet"


CONTEXT: dict[str, dict] = {}
