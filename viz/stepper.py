"""Backprop one chain-rule step at a time, as pictures.

The stepper always starts from a clean state: every gradient in the graph it walks is set
to 0 and the root's to 1 (d L/d L = 1), whatever earlier `backward()` calls left, so
what it shows is one backward pass. (`backward()` itself accumulates into leaves, as
PyTorch does.) Frame 0 is that start; frame k is the graph after the k-th chain-rule step:
the node being processed is yellow, nodes already processed are green, and the caption
says the arithmetic in the lecture's words,

    dL/dx1 += dL/dz · dz/dx1 = 0.5 × (-3.0) = -1.5

naming each node by its label, or by its op and a number (`mul2`) when it has none.
When the stepper finishes, the gradients are exactly those one `backward()` from zero
leaves; when it fails (too many nodes, no `dot`), every gradient is as it was before.

The graph is walked once into a `Trace` (`chainrule.viz.trace`); the drawing and the
page's data both come from it. `stepper_html` draws the graph once with `dot` and the
page (its HTML, CSS and JS are files of their own in `chainrule/viz/static/`, inlined
into one self-contained file) changes colours and numbers per frame, so a page is built
in time linear in the graph's size. On a batched graph, `sample=k` steps through sample
k's own graph (see `chainrule.viz.trace`).
"""

from __future__ import annotations

import html
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import graphviz
from chainrule.engine import Value
from chainrule.viz.dot import (
    FONT,
    INSTALL_HINT,
    DotMissingError,
    escape_text,
    has_dot,
    number,
    pipe,
    render,
)
from chainrule.viz.graph import Marks, Style, draw_trace, value_fields
from chainrule.viz.palette import COLOURS, WORDS, css_variables
from chainrule.viz.trace import MAX_NODES, Trace, TraceStep, restoring, trace

__all__ = ["frames", "save_frames", "stepper_data", "stepper_html", "trace"]


STEPPER_STYLE = Style(group_params=False)
"""The stepper draws every parameter on its own (it colours nodes one by one)."""


def _style(draw_kwargs: dict[str, Any]) -> Style:
    fixed = {"collapse", "show_grad", "group_params", "legend"}
    if fixed & draw_kwargs.keys():  # the page colours and numbers every node itself
        raise TypeError(
            f"the stepper does not take {', '.join(sorted(fixed & draw_kwargs.keys()))}"
        )
    known = {"rankdir", "fmt", "show_local"}
    if draw_kwargs.keys() - known:
        raise TypeError(f"unknown option {sorted(draw_kwargs.keys() - known)[0]!r}")
    return Style(group_params=False, **draw_kwargs)


def _walked(root: Value, params: Any, max_nodes: int, sample: int | None) -> Trace:
    tr = trace(root, params, max_nodes, sample)
    tr.walk()
    return tr


def frames(
    root: Value,
    max_nodes: int = MAX_NODES,
    params: Any = (),
    sample: int | None = None,
    **draw_kwargs: Any,
) -> list[tuple[TraceStep | None, graphviz.Digraph]]:
    """The backward pass on `root` as drawings: (None, start) and then (step, drawing)
    for each chain-rule step (a `chainrule.viz.trace.TraceStep`). Starts from zeroed
    gradients (see the module docstring); on success leaves exactly the grads one
    `backward()` from zero leaves. `draw_kwargs`: `rankdir`, `fmt`, `show_local`.

    Each frame is a full drawing (for notebooks and `save_frames`); the HTML page
    (`stepper_html`) draws the graph only once.
    """
    style = _style(draw_kwargs)
    tr = _walked(root, params, max_nodes, sample)
    grads = {i: 1.0 if i == tr.root_index else 0.0 for i in range(len(tr.nodes))}
    marks = Marks()
    out: list[tuple[TraceStep | None, graphviz.Digraph]] = []
    for k in range(len(tr.steps) + 1):
        step = tr.steps[k - 1] if k else None
        if step is not None:
            marks.done.update([marks.current] if marks.current is not None else [])
            marks.current = step.node
            marks.notes = {a.edge: f"+= {_short(a.added)}" for a in step.adds}
            grads.update({a.parent: a.after for a in step.adds})
        marks.grad_text = {i: f"grad {number(g, style.fmt)}" for i, g in grads.items()}
        dot = draw_trace(tr, style, marks)
        lines = step.caption if step is not None else (tr.start_caption(),)
        text = '<BR ALIGN="LEFT"/>'.join(escape_text(line) for line in lines)
        dot.attr(label=f'<{text}<BR ALIGN="LEFT"/>>', labelloc="b", fontname=FONT, fontsize="12")
        out.append((step, dot))
    return out


def _short(x: float) -> str:
    s = f"{x:.4g}"
    return s + ".0" if s.lstrip("-").isdigit() else s


def save_frames(root: Value, folder: str | Path, fmt: str = "svg", **kwargs: Any) -> list[str]:
    """Render every frame with `dot` to folder/step-000.{fmt} (the start), step-001, ...;
    returns the paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return [
        render(dot, str(folder / f"step-{i:03d}"), fmt)
        for i, (_, dot) in enumerate(frames(root, **kwargs))
    ]


def stepper_data(tr: Trace, style: Style | None = None) -> tuple[dict[str, Any], dict[int, str]]:
    """The page's data for a walked trace: per node its SVG id and the index of its grad
    text; per step the node, the SVG ids of its edges, each changed grad cell (before,
    after) and the caption; and the palette. Also the widest text each grad cell will
    show (so `dot` sizes the cell once for all frames)."""
    style = style or STEPPER_STYLE
    fmt = style.fmt
    widest: dict[int, str] = {}

    def cell(i: int, g: float) -> str:
        text = f"grad {number(g, fmt)}"
        if len(text) > len(widest.get(i, "")):
            widest[i] = text
        return text

    start = [(i, cell(i, 1.0 if i == tr.root_index else 0.0)) for i in range(len(tr.nodes))]
    start = [(i, t) for i, t in start if tr.shows_grad(i)]
    steps = []
    for s in tr.steps:
        seen: dict[int, list[Any]] = {}  # a + a: one change per cell
        for a in s.adds:
            if tr.shows_grad(a.parent):
                before = seen[a.parent][1] if a.parent in seen else cell(a.parent, a.before)
                seen[a.parent] = [a.parent, before, cell(a.parent, a.after)]
        steps.append(
            {
                "node": s.node,
                "edges": [Trace.edge_id(a.edge) for a in s.adds],
                "grads": list(seen.values()),
                "caption": list(s.caption),
            }
        )
    marks = Marks(grad_text=widest)
    nodes = [
        {"id": Trace.node_id(i), "grad": len(value_fields(tr, i, style, marks)[0]) - 1}
        for i in range(len(tr.nodes))
    ]
    data = {
        "nodes": nodes,
        "grads": [[i, t] for i, t in start],
        "start": tr.start_caption(),
        "steps": steps,
        "palette": COLOURS,
        "stats": "batch statistic" in tr.kinds,
    }
    return data, widest


def _script_json(obj: object) -> str:
    """JSON that cannot end the <script> element it sits in (`</script>`, `<!--`)."""
    return (
        json.dumps(obj, ensure_ascii=False)
        .replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
    )


def _legend_html(stats: bool = False) -> str:
    """The page's key of the colours (`stats`: batch statistics too)."""
    keys = [("current", ""), ("done", ""), ("computed", "not yet processed")]
    keys += [("input", ""), ("parameter", "")] + [("batch statistic", "")] * stats
    spans = [
        f'<span class="key" style="background:var(--cr-{k.replace(" ", "-")})">'
        f"{html.escape(text or WORDS.get(k, k))}</span>"
        for k, text in keys
    ]
    spans.append('<span class="constant">0.5</span> constant')
    spans.append(f'<span class="edge">&#10230;</span> {WORDS["edge"]}')
    return "Colours: " + " ".join(spans)


def static_text(name: str) -> str:
    """A file of the pages' own (`chainrule/viz/static/<name>`), shipped as package data."""
    return (resources.files("chainrule.viz") / "static" / name).read_text(encoding="utf-8")


def page(title: str, svg: str, data: dict[str, Any]) -> str:
    """The stepper's page as one self-contained HTML text (no network needed)."""
    fills = {
        "palette": css_variables(),
        "css": static_text("stepper.css") + static_text("page.css"),
        "legend": _legend_html(data["stats"]),
        "title": html.escape(title),
        "data": _script_json(data),
        "js": static_text("stepper.js") + static_text("page.js"),
        "svg": svg,
    }
    # one pass over the template: a title or label holding `{{svg}}` stays text
    return re.sub(r"\{\{(\w+)\}\}", lambda m: fills[m.group(1)], static_text("stepper.html"))


def stepper_html(
    root: Value,
    path: str | Path,
    title: str = "Backpropagation, step by step",
    max_nodes: int = MAX_NODES,
    params: Any = (),
    sample: int | None = None,
    **draw_kwargs: Any,
) -> Path:
    """One self-contained HTML page (no network needed): the graph drawn once, with
    previous/next buttons, a slider and the arrow keys stepping through frame 0 (the
    start) and one frame per chain-rule step; captions in the page's font, a colour key.

    Starts from zeroed gradients and leaves those of one `backward()`; on any failure
    every gradient is as before the call. Every label and caption is escaped.
    `params=` draws parameters as such; `draw_kwargs`: `rankdir`, `fmt`, `show_local`.
    """
    style = _style(draw_kwargs)
    if not has_dot():
        raise DotMissingError(INSTALL_HINT)
    tr = trace(root, params, max_nodes, sample)  # refuse a too-large graph before touching it
    with restoring(tr.nodes):
        tr.walk()
        data, widest = stepper_data(tr, style)
        svg = pipe(draw_trace(tr, style, Marks(grad_text=widest))).decode()
    svg = svg[svg.index("<svg") :]  # drop the XML prologue for inline use
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page(title, svg, data), encoding="utf-8")
    return path


def interactive(root: Value, **kwargs: Any) -> Any:
    """In a notebook: the stepper as a widget (see `chainrule.viz.widgets.Stepper`)."""
    from chainrule.viz.widgets import Stepper

    return Stepper(root, **kwargs)
