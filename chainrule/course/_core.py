"""The course's exercise machinery: checkers, solutions shown only on request, results.

`check("6.1", answer)` prints right, wrong (and why), or not yet (the answer cell still
holds `...`). A verdict never restates the expected answer: a wrong one names the mistake it
recognises, a right one says why it is right. Every checker computes its expected result
itself (with chainrule, numpy or math) from the exercise's statement.

`show_solution("6.1")` prints a worked solution; nothing in a lesson calls it, so no
solution is in a notebook (in any Jupyter or Colab) until a student asks for it.
`solution_answer("6.1")` runs that solution and returns its answer (the course's tests
check every solution with its checker).
"""

from __future__ import annotations

import inspect
import math
import re
import textwrap
from collections.abc import Callable
from typing import Any

import numpy as np

Checker = Callable[..., tuple[bool, str]]
Solution = Callable[[], Any]
EXERCISES: dict[str, Checker] = {}
"""The checkers by exercise name (`"6.1"`), registered by `exercise`."""
SOLUTIONS: dict[str, Solution] = {}
"""The worked solutions by exercise name, registered by `solution`."""
RESULTS: list[tuple[str, str]] = []
"""Every `check` call's exercise and verdict ("right", "wrong" or "not yet"), in call order."""


def exercise(name: str) -> Callable[[Checker], Checker]:
    """Register `fn(answer, **context) -> (right?, why)` as the checker of exercise `name`."""

    def register(fn: Checker) -> Checker:
        EXERCISES[name] = fn
        return fn

    return register


def solution(name: str) -> Callable[[Solution], Solution]:
    """Register `fn() -> answer` as exercise `name`'s worked solution. Its body, without
    the final `return answer`, is what `show_solution` prints: write it as a student's
    answer cell would read."""

    def register(fn: Solution) -> Solution:
        SOLUTIONS[name] = fn
        return fn

    return register


def _known(name: str) -> None:
    if name not in EXERCISES:
        raise KeyError(f"no exercise {name!r}; there are {sorted(EXERCISES, key=_order)}")


def _order(name: str) -> tuple[int, ...]:
    return tuple(int(p) for p in name.split("."))


def verdict(name: str, answer: Any, **context: Any) -> tuple[str, str]:
    """("right" | "wrong" | "not yet", why) for `answer` to exercise `name`; never raises
    for a bad answer (a checker that trips over the answer calls it wrong, saying how)."""
    _known(name)
    if answer is ...:
        return "not yet", "replace the ... in the answer cell with your answer and run it"
    try:
        ok, why = EXERCISES[name](answer, **context)
    except Exception as e:  # the student's code or value broke the check: say how
        return "wrong", f"checking it raised {type(e).__name__}: {e}"
    return ("right" if ok else "wrong"), why


def check(name: str, answer: Any = ..., **context: Any) -> None:
    """Print whether `answer` solves exercise `name`, and why."""
    status, why = verdict(name, answer, **context)
    RESULTS.append((name, status))
    mark = {"right": "✓ right", "wrong": "✗ wrong", "not yet": "… not yet"}[status]
    hint = f' (stuck? show_solution("{name}") prints one)' if status == "wrong" else ""
    print(f"Exercise {name}: {mark}: {why}{hint}")


def solution_source(name: str) -> str:
    """The worked solution of exercise `name` as code for an answer cell."""
    _known(name)
    lines = inspect.getsource(SOLUTIONS[name]).splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("def ")) + 1
    body = textwrap.dedent("\n".join(lines[start:])).rstrip().splitlines()
    if body and body[-1].strip() == "return answer":
        body = body[:-1]
    text = "\n".join(body).strip("\n")
    return re.sub(r"  # type: ignore\[[a-z-]+\]", "", text)  # for mypy, not for students


def show_solution(name: str) -> None:
    """Print a worked solution of exercise `name` (copy it into the answer cell to run it)."""
    print(f"# a solution of exercise {name}\n{solution_source(name)}")


def solution_answer(name: str) -> Any:
    """The answer the worked solution of exercise `name` computes."""
    _known(name)
    return SOLUTIONS[name]()


def number(answer: Any) -> float:
    """`answer` as a float; a clear TypeError for anything that is not a real number."""
    if isinstance(answer, bool) or not isinstance(answer, (int, float, np.number)):
        raise TypeError(f"expected a number, got {type(answer).__name__}")
    return float(answer)


def close(a: float, b: float, rel: float = 1e-6, abs_: float = 1e-9) -> bool:
    """`math.isclose` with the course's default tolerances."""
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)
