"""The course: each lesson's source `notebooks/NN_name.py` (percent format) and its committed
`.ipynb` agree; every lesson runs top to bottom in a fresh kernel and prints what is committed
(seeded, deterministic); every exercise's checker says "not yet" to the empty answer cell and
"right" to its worked solution; no solution can be read in a committed notebook; the checkers
say "wrong" to junk and name each typical mistake.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from chainrule.course import checks

NOTEBOOKS = Path(__file__).parent.parent / "notebooks"
sys.path.insert(0, str(NOTEBOOKS))
import build  # noqa: E402  (notebooks/build.py: the percent reader and the executor)

SOURCES = build.lessons()
# run after a lesson: each of its exercises' worked solutions, through the same checker
REPORT = """from chainrule.course import checks; import json
for name in [n for n, _ in checks.RESULTS]:
    checks.check(name, checks.solution_answer(name))
print(json.dumps(checks.RESULTS))"""


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


def _lesson(src: Path) -> str:
    return src.stem[:2].lstrip("0")


def test_the_course_has_twelve_lessons_each_a_source_paired_with_its_notebook() -> None:
    assert [_lesson(s) for s in SOURCES] == [str(k) for k in range(1, 13)]
    for src in SOURCES:
        ipynb = src.with_suffix(".ipynb")
        assert ipynb.exists(), f"{ipynb.name} is not built: run make notebooks-build"
        committed = nbformat.read(ipynb, as_version=4)
        assert _shape(committed) == _shape(build.read_percent(src)), (
            f"{ipynb.name} is stale: rebuild it from {src.name}"
        )
        assert committed.cells[0].cell_type == "markdown"
        assert committed.cells[0].source.startswith(f"# {_lesson(src)}. ")
        assert ipynb.stat().st_size < 1_500_000, f"{ipynb.name} embeds too much"
    # no stray notebooks without a source
    assert {p.stem for p in NOTEBOOKS.glob("*.ipynb")} == {p.stem for p in SOURCES}


def test_each_lesson_has_three_exercises_tagged_and_empty_each_followed_by_its_check() -> None:
    for src in SOURCES:
        nb = build.read_percent(src)
        cells = nb.cells
        tagged = [k for k, c in enumerate(cells) if "exercise" in c.metadata.get("tags", [])]
        assert len(tagged) >= 3, src.name
        names = []
        for k in tagged:
            assert cells[k].source == "answer = ...", f"{src.name}: an answer cell is not empty"
            follow = cells[k + 1].source
            assert follow.startswith('check("') and follow.endswith('", answer)'), follow
            names.append(follow.split('"')[1])
        assert all(n.split(".")[0] == _lesson(src) for n in names), (src.name, names)
        assert len(set(names)) == len(names)
        assert set(names) <= set(checks.EXERCISES) and set(names) <= set(checks.SOLUTIONS)
        # the first code cell installs chainrule when a lesson is opened alone (Colab)
        code = [c for c in cells if c.cell_type == "code"]
        assert code[0].metadata.get("tags") == ["setup"], src.name
        assert 'find_spec("chainrule") is None' in code[0].source, src.name


def _distinctive(name: str) -> list[str]:
    """The lines of exercise `name`'s worked solution that say something (not imports,
    comments or the final `answer = ...` naming)."""
    lines = []
    for line in checks.solution_source(name).splitlines():
        line = line.strip()
        skip = ("import ", "from ", "return ", "#", "def ", "@")
        if len(line) > 12 and not line.startswith(skip):
            lines.append(line)
    return lines


def test_no_committed_notebook_holds_a_solution_or_its_output() -> None:
    for src in SOURCES:
        text = src.with_suffix(".ipynb").read_text()
        nb = nbformat.reads(text, as_version=4)
        for cell in nb.cells:
            assert "solution" not in cell.metadata.get("tags", []), src.name
            assert "source_hidden" not in json.dumps(cell.metadata), src.name
            if cell.cell_type == "code":
                assert "show_solution(" not in cell.source.replace('show_solution("N.k")', "")
                for line in cell.source.splitlines():  # only the empty answer cells
                    assert not line.startswith("answer =") or line == "answer = ...", line
        assert "widgets" not in nb.metadata, f"{src.name} saves a widget's state (its data)"
        for out in _printed(nb):
            assert "✓ right" not in out and "# a solution of exercise" not in out, src.name
        for name in (n for n in checks.SOLUTIONS if n.split(".")[0] == _lesson(src)):
            lines = _distinctive(name)
            shown = [line for line in lines if line in text]
            assert len(shown) <= len(lines) // 2, f"{src.name} shows solution {name}: {shown}"


def test_every_printed_solution_runs_alone_and_is_right() -> None:
    for name in checks.SOLUTIONS:  # as a student pastes it into an empty cell
        space: dict = {}
        exec(checks.solution_source(name), space)  # our own solutions' text, not user data
        assert checks.verdict(name, space["answer"])[0] == "right", name


def test_show_solution_prints_code_that_solves_the_exercise(capsys) -> None:
    checks.show_solution("6.3")
    shown = capsys.readouterr().out
    assert "def he_std(n, a):" in shown and "answer = he_std" in shown
    assert "return answer" not in shown and "type: ignore" not in shown
    space: dict = {}
    exec(shown, space)  # our own solution's text, as a student would paste it
    assert checks.verdict("6.3", space["answer"])[0] == "right"
    with pytest.raises(KeyError, match="no exercise"):
        checks.show_solution("99.1")


@pytest.mark.parametrize("src", SOURCES, ids=lambda p: p.stem)
def test_lesson_runs_prints_what_is_committed_and_its_solutions_pass(src: Path) -> None:
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
    results = json.loads(printed[-1].splitlines()[-1])
    names = list(dict.fromkeys(name for name, _ in results))
    assert len(names) >= 3
    for name in names:
        # the empty answer cell first ("not yet", no crash), then the solution ("right")
        assert [s for n, s in results if n == name] == ["not yet", "right"], name


def test_every_checker_says_wrong_to_junk_without_crashing() -> None:
    for src in SOURCES:  # the checkers register on import; the lessons import the same module
        assert _lesson(src) in {n.split(".")[0] for n in checks.EXERCISES}
    junk = [0.123456, -7, "42", None, [1.0, 2.0], lambda *a, **k: 0.5, object()]
    for name in checks.EXERCISES:
        for answer in junk:
            status, why = checks.verdict(name, answer)
            assert status == "wrong" and why, (name, answer)
        assert checks.verdict(name, ...)[0] == "not yet"


def _forward(f, x, eps):
    return (f(x + eps) - f(x)) / eps


def _five_point(f, x, eps):
    return (-f(x + 2 * eps) + 8 * f(x + eps) - 8 * f(x - eps) + f(x - 2 * eps)) / (12 * eps)


def _with(name: str, change) -> object:
    """Exercise `name`'s worked solution, changed by `change`."""
    return change(checks.solution_answer(name))


def _recursive_backward(root) -> None:
    root.grad = 1.0

    def push(v) -> None:
        for p, d in zip(v.parents, v.locals):
            p.grad += v.grad * d
            push(p)

    push(root)


def _assigning_backward(root) -> None:
    order = checks.solution_answer("3.2")(root)
    root.grad = 1.0
    for v in reversed(order):
        for p, d in zip(v.parents, v.locals):
            p.grad = v.grad * d


def _forward_order_backward(root) -> None:
    order = checks.solution_answer("3.2")(root)
    root.grad = 1.0
    for v in order:
        for p, d in zip(v.parents, v.locals):
            p.grad += v.grad * d


def _bn_eps_outside(xs, gamma, beta, eps):
    mu = sum(xs) / len(xs)
    sd = (sum((v - mu) ** 2 for v in xs) / len(xs)) ** 0.5
    return [gamma * (v - mu) / (sd + eps) + beta for v in xs]


MISTAKES = [
    ("1.3", _forward, "one-sided"),
    ("1.3", lambda f, x, e: (f(x + e) - f(x - e)) / e, "2ε"),
    ("2.2", 4.0, "+="),
    ("3.1", {"L": 1, "d": -2, "f": 4, "e": -2, "c": -2, "a": -3, "b": 2}, "a: that is the local"),
    ("3.2", lambda root: list(reversed(checks.solution_answer("3.2")(root))), "backward order"),
    ("3.3", _recursive_backward, "recursion"),
    ("3.3", _assigning_backward, "+="),
    ("3.3", _forward_order_backward, "wrong order"),
    ("4.2", lambda w, d, z: d @ w, "relu'(z)"),
    ("4.2", lambda w, d, z: (d @ w.T) * (z > 0), "shapes do not fit"),
    ("4.2", lambda w, d, z: (d @ w) * (1 - np.tanh(z) ** 2), "not tanh"),
    ("4.3", lambda x, g, d, e: g * d / np.sqrt(x.var() + e), "constants"),
    (
        "5.3",
        checks.hand_network([1, 1, 1, 1, 1], [0, -0.2, -0.4, -0.6, -0.8], [0] * 5, 0),
        "largest error",
    ),
    ("6.1", 50 / 2 * 0.3**2, "variance"),
    ("7.1", [[4.0, 0.0], [0.0, 12.0]], "mixed"),
    ("7.3", 1 / np.linalg.eigvalsh(checks.QUADRATIC).max(), "1/λ_max"),
    ("8.2", _with("8.2", lambda p: [p.index(k) for k in range(4)]), "inverse permutation"),
    ("8.3", _with("8.3", lambda c: c**2), "fourth root"),
    ("8.3", _with("8.3", lambda c: 1 / c), "inverse"),
    ("9.3", float(np.max(np.abs(checks.LASSO_A @ checks.LASSO_C))), "factor 2"),
    ("10.1", 1 / 0.65, "1/q"),
    ("11.3", _bn_eps_outside, "under the root"),
    ("11.3", lambda xs, g, b, e: [g * (x - np.mean(xs)) + b for x in xs], "not scaled"),
    ("3.2", lambda root: [root], "missing"),
    ("12.1", 64 * 32 + 32 * 10, "bias"),
    ("7.2", lambda f, w: np.array(w) - 1.0, "w - H⁻¹∇f"),
    ("12.2", lambda t: np.diag(t) / np.asarray(t).sum(0), "precision"),
    ("12.3", lambda tr, o: (o - o.mean(0)) / np.where(o.std(0) > 0, o.std(0), 1), "leak"),
]


@pytest.mark.parametrize(("name", "answer", "phrase"), MISTAKES, ids=[m[0] for m in MISTAKES])
def test_checkers_name_the_typical_mistake_without_giving_the_answer(
    name: str, answer: object, phrase: str
) -> None:
    status, why = checks.verdict(name, answer)
    assert status == "wrong" and phrase in why, why
    right = checks.solution_answer(name)
    if isinstance(right, float):  # a verdict never restates the expected number
        assert f"{right:.3g}" not in why and f"{right:.4g}" not in why


def test_checkers_accept_every_correct_answer() -> None:
    assert checks.verdict("1.3", _five_point)[0] == "right"
    assert checks.verdict("1.3", lambda f, x, e: (f(x + e / 2) - f(x - e / 2)) / e)[0] == "right"
    assert checks.verdict("2.3", ["g", "f", "e", "d"])[0] == "right"
    assert checks.verdict("5.3", _with("5.3", lambda m: m))[0] == "right"
    assert math.isfinite(checks.hidden_units(checks.hand_network([1] * 4, [0] * 4, [1] * 4, 0)))
    assert checks.verdict("7.1", np.array(checks.solution_answer("7.1")))[0] == "right"


def test_a_deeper_network_counts_every_hidden_unit() -> None:
    from chainrule.nn import MLP

    assert checks.hidden_units(MLP(1, [4, 4, 1], seed=0)) == 8
    status, why = checks.verdict("5.3", MLP(1, [4, 4, 1], seed=0))
    assert status == "wrong" and "one hidden layer" in why
