"""The backprop stepper as a notebook widget (anywidget: it runs in JupyterLab, Notebook,
VS Code and Colab, with no server of its own), with a quiz mode.

    from chainrule.viz.widgets import Stepper
    Stepper(loss)              # previous/next, a slider: one chain-rule step at a time
    Stepper(loss, quiz=True)   # the student types each upstream × local first

The widget shows the same drawing and the same data as the stepper's page
(`chainrule.viz.stepper`): the graph is drawn once with `dot` and the browser recolours it
per step. In quiz mode the next step is revealed only after the student has typed, for
each edge the step sends its gradient along, the amount it adds to the parent's gradient:
upstream × local, read off the drawing (the current node's grad and the edge's local
derivative). The answer is checked in Python (`Quiz`), never in the page, so the page
never holds an answer the student has not earned; a wrong answer gets a message naming
the mistake (added instead of multiplied, the local derivative or the upstream alone, the
sign, the parent's total instead of this edge's share) and never the expected number.

Like the page, the widget starts from zeroed gradients and leaves those of one
`backward()`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anywidget
import traitlets
from chainrule.engine import Value
from chainrule.viz.dot import pipe
from chainrule.viz.graph import Marks, draw_trace
from chainrule.viz.palette import css_variables
from chainrule.viz.stepper import _legend_html, _style, static_text, stepper_data
from chainrule.viz.trace import MAX_NODES, Add, Trace, restoring, trace

REL_TOL = 2e-3
"""An answer within this relative error counts as right: the drawing shows 4 significant
digits, so a product of the numbers as shown differs from the exact one in the 4th."""
ABS_TOL = 1e-4


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=ABS_TOL)


@dataclass
class Verdict:
    """The result of one answer: `right`, and what to tell the student."""

    right: bool
    message: str


class Quiz:
    """The quiz over a walked trace: for each step, in order, each edge whose parent has a
    gradient (constants are skipped), the student's answer for what it adds."""

    def __init__(self, tr: Trace) -> None:
        if not tr.steps:
            tr.walk()
        self.tr = tr
        self.frame = 0  # steps revealed so far
        self.edge = 0  # which asked edge of step `frame` comes next
        self.right = 0
        self.wrong = 0
        self._skip_silent()

    def asked(self, k: int) -> list[Add]:
        """The edges of step k the student answers for (not those into constants)."""
        return [a for a in self.tr.steps[k].adds if self.tr.shows_grad(a.parent)]

    @property
    def done(self) -> bool:
        return self.frame >= len(self.tr.steps)

    def _skip_silent(self) -> None:
        """Reveal steps that ask nothing (every parent a constant)."""
        while not self.done and not self.asked(self.frame):
            self.frame += 1

    def question(self) -> str:
        """The next question, in the lecture's words; empty when the quiz is over."""
        if self.done:
            return ""
        tr, step = self.tr, self.tr.steps[self.frame]
        a = self.asked(self.frame)[self.edge]
        v, p, r = tr.names[step.node], tr.names[a.parent], tr.root_name
        return (
            f"Step {self.frame + 1}/{len(tr.steps)}: {v} passes on d{r}/d{v}. "
            f"What does it add to d{r}/d{p}? Type d{r}/d{v} · d{v}/d{p} (upstream × local)."
        )

    def asking(self) -> str:
        """The drawing's id of the edge the question is about (empty when over)."""
        return "" if self.done else Trace.edge_id(self.asked(self.frame)[self.edge].edge)

    def answer(self, text: str) -> Verdict:
        """Check an answer to `question()`; a right one moves on (revealing the step once
        all its edges are answered)."""
        if self.done:
            return Verdict(False, "The backward pass is complete: every gradient is known.")
        try:
            x = float(text.strip().replace("×", "*").replace("−", "-"))
        except ValueError:
            return Verdict(False, f"{text.strip()!r} is not a number: type one, e.g. -1.5")
        if not math.isfinite(x):
            return Verdict(False, "Type a finite number.")
        step = self.tr.steps[self.frame]
        a = self.asked(self.frame)[self.edge]
        if _close(x, a.added):
            self.right += 1
            self.edge += 1
            if self.edge == len(self.asked(self.frame)):
                self.frame, self.edge = self.frame + 1, 0
                self._skip_silent()
            return Verdict(True, "Right: upstream × local.")
        self.wrong += 1
        return Verdict(False, self._mistake(x, step.upstream, a))

    def _mistake(self, x: float, upstream: float, a: Add) -> str:
        """Name the classic mistake behind a wrong answer, never the right number."""
        tr = self.tr
        v, p = tr.names[tr.steps[self.frame].node], tr.names[a.parent]
        if _close(x, upstream + a.local) and not _close(upstream * a.local, upstream + a.local):
            return "You added upstream and local: the chain rule multiplies them."
        if _close(x, a.local):
            return f"That is the local derivative d{v}/d{p} alone: multiply it by the upstream."
        if _close(x, upstream):
            return f"That is the upstream gradient alone: multiply it by d{v}/d{p}, on the edge."
        if _close(x, -a.added):
            return "Check the sign: a negative factor makes the product negative."
        if a.before != 0.0 and _close(x, a.after):
            r = tr.root_name
            return f"That is d{r}/d{p} after the step: the question asks what this edge adds."
        return (
            f"Not yet. Upstream is the grad of {v}; local is d{v}/d{p}, written on the "
            "edge: multiply the two."
        )


def _revealed(data: dict[str, Any], frame: int | None) -> dict[str, Any]:
    """The page's data with every step from `frame` on blanked (None: all shown). In quiz
    mode the browser never holds an answer before the student has given it: a step's new
    gradients and its caption are sent only once the step is revealed."""
    if frame is None:
        return data
    steps = [
        s if k < frame else {**s, "grads": [[g[0], g[1], g[1]] for g in s["grads"]], "caption": []}
        for k, s in enumerate(data["steps"])
    ]
    return {**data, "steps": steps}


class Stepper(anywidget.AnyWidget):  # type: ignore[misc]
    """The stepper widget (see the module docstring). `params=` draws parameters as such;
    `sample=k` steps through sample k of a batched graph; `rankdir`, `fmt`, `show_local`
    style the drawing."""

    _esm = static_text("stepper.js") + static_text("widget.js")
    _css = css_variables() + static_text("stepper.css")

    svg = traitlets.Unicode("").tag(sync=True)
    data = traitlets.Dict().tag(sync=True)
    legend = traitlets.Unicode("").tag(sync=True)
    frame = traitlets.Int(0).tag(sync=True)
    quiz = traitlets.Bool(False).tag(sync=True)
    question = traitlets.Unicode("").tag(sync=True)
    asking = traitlets.Unicode("").tag(sync=True)  # the SVG id of the edge asked about
    answer = traitlets.Unicode("").tag(sync=True)
    verdict = traitlets.Dict().tag(sync=True)

    def __init__(
        self,
        root: Value,
        quiz: bool = False,
        params: Any = (),
        sample: int | None = None,
        max_nodes: int = MAX_NODES,
        **draw_kwargs: Any,
    ) -> None:
        style = _style(draw_kwargs)
        tr = trace(root, params, max_nodes, sample)
        with restoring(tr.nodes):
            tr.walk()
            data, widest = stepper_data(tr, style)
            svg = pipe(draw_trace(tr, style, Marks(grad_text=widest))).decode()
        self._quiz, self._data = Quiz(tr), data
        super().__init__(
            svg=svg[svg.index("<svg") :],
            data=_revealed(data, self._quiz.frame if quiz else None),
            legend=_legend_html(data["stats"]),
            quiz=quiz,
            frame=self._quiz.frame if quiz else 0,
            question=self._quiz.question() if quiz else "",
            asking=self._quiz.asking() if quiz else "",
        )

    @traitlets.observe("answer")
    def _on_answer(self, change: dict[str, Any]) -> None:
        if not change["new"] or not self.quiz:
            return
        verdict = self.submit(change["new"])
        self.answer = ""  # ready for the same text again
        self.verdict = {"right": verdict.right, "message": verdict.message}

    @traitlets.observe("quiz")
    def _on_quiz(self, change: dict[str, Any]) -> None:
        self.data = _revealed(self._data, self._quiz.frame if change["new"] else None)

    def submit(self, text: str) -> Verdict:
        """Answer the current question (what the page's answer box does)."""
        verdict = self._quiz.answer(text)
        # the revealed step's numbers reach the page before the frame that shows them
        self.data = _revealed(self._data, self._quiz.frame if self.quiz else None)
        self.frame = self._quiz.frame
        self.question = self._quiz.question()
        self.asking = self._quiz.asking()
        return verdict

    @property
    def score(self) -> tuple[int, int]:
        """(right, wrong) answers so far."""
        return self._quiz.right, self._quiz.wrong

    def save_html(self, path: str | Path) -> Path:
        """The same stepper as a self-contained page (see `stepper.stepper_html`)."""
        from chainrule.viz.stepper import page

        path = Path(path)
        path.write_text(page("Backpropagation, step by step", self.svg, self.data), "utf-8")
        return path
