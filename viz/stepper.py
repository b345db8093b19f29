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

`stepper_html` draws the graph once with `dot` and the page changes colours and numbers
per frame, so a page is built in time linear in the graph's size.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import graphviz
from chainrule.engine import Step, Value
from chainrule.viz.graph import (
    COLOURS,
    FONT,
    INSTALL_HINT,
    DotMissingError,
    draw_dot,
    escape_text,
    graph_nodes,
    has_dot,
    number,
    pipe,
    render,
)

OP_WORDS = {"+": "add", "*": "mul", "-": "sub", "/": "div", "**": "pow"}
MAX_NODES = 2000
"""Default node limit of the stepper (its page stays usable up to about this size)."""


def node_names(nodes: list[Value], root: Value) -> dict[int, str]:
    """A name per node: its label; an unlabelled root is `L`; other unlabelled computed
    nodes are their op and a count, numbered from the inputs towards the output (`mul1`,
    `mul2`, `tanh1`); unlabelled leaves (constants) are their value."""
    names: dict[int, str] = {}
    counts: dict[str, int] = {}
    for v in nodes:  # parents first, so numbers grow from inputs to output
        if v.label:
            names[id(v)] = v.label
        elif v is root and not v.is_leaf:
            names[id(v)] = "L"
        elif v.is_leaf:
            names[id(v)] = _num(v.data)
        else:
            word = OP_WORDS.get(v.op, v.op)
            counts[word] = counts.get(word, 0) + 1
            names[id(v)] = f"{word}{counts[word]}"
    return names


def _num(x: float) -> str:
    """A short number for captions: 4 significant digits, `-3.0` rather than `-3`."""
    s = f"{x:.4g}"
    if s.lstrip("-").isdigit():
        s += ".0"
    return s


def _factor(x: float) -> str:
    """A factor of a product: negative numbers in parentheses."""
    s = _num(x)
    return f"({s})" if s.startswith("-") else s


def start_caption(root_name: str) -> str:
    """The caption of frame 0: dL/dL = 1 for the root `L`, every other gradient 0."""
    return (
        f"start: d{root_name}/d{root_name} = 1; every other gradient is 0 "
        "until the chain rule reaches it"
    )


def step_lines(step: Step, total: int, names: dict[int, str], root_name: str) -> list[str]:
    """The caption of one step: a header, then one line per edge the gradient flows along,
    e.g. `dL/dx1 += dL/dz · dz/dx1 = 0.5 × (-3.0) = -1.5`. Constants are left out."""
    v, r = names[id(step.node)], root_name
    lines = [f"step {step.index + 1}/{total}: {v} passes on d{r}/d{v} = {_num(step.upstream)}"]
    for c in step.contributions:
        if c.parent.is_leaf and not c.parent.label:
            continue  # a constant: nobody needs its gradient
        p = names[id(c.parent)]
        lines.append(
            f"d{r}/d{p} += d{r}/d{v} · d{v}/d{p} = "
            f"{_factor(step.upstream)} × {_factor(c.local)} = {_num(c.added)}"
        )
    return lines


def caption(
    step: Step, total: int, names: dict[int, str] | None = None, root_name: str = "L"
) -> str:
    """What a step did, in the lecture's words (see `step_lines`), on one line.
    Without `names`, nodes are named by label, else op (or value, for a constant)."""
    if names is None:
        near = (step.node, *(c.parent for c in step.contributions))
        names = {
            id(v): v.label or (_num(v.data) if v.is_leaf else OP_WORDS.get(v.op, v.op))
            for v in near
        }
    return "; ".join(step_lines(step, total, names, root_name))


@contextmanager
def _restoring(nodes: list[Value]) -> Iterator[None]:
    """Put every gradient back as it was if the block fails."""
    before = [v.grad for v in nodes]
    try:
        yield
    except BaseException:
        for v, g in zip(nodes, before):
            v.grad = g
        raise


def _walk(root: Value, nodes: list[Value], visit: Callable[[Step | None], None]) -> None:
    """Zero the graph's grads, set the root's to 1, call `visit(None)` for the start,
    then run the backward pass calling `visit(step)` after each step."""
    for v in nodes:
        v.grad = 0.0
    root.grad = 1.0
    visit(None)
    if root.is_leaf:  # nothing to step through (and d root/d root stays 1)
        return
    for step in root.backward_steps():
        visit(step)


def frames(
    root: Value, max_nodes: int = MAX_NODES, **draw_kwargs: Any
) -> list[tuple[Step | None, graphviz.Digraph]]:
    """The backward pass on `root` as drawings: (None, start) and then (step, drawing)
    for each chain-rule step. Starts from zeroed gradients (see the module docstring);
    on success leaves exactly the grads one `backward()` from zero leaves.

    Each frame is a full drawing (for notebooks and `save_frames`); the HTML page
    (`stepper_html`) draws the graph only once.
    """
    nodes = graph_nodes(root, max_nodes)
    names = node_names(nodes, root)
    root_name = names[id(root)]
    out: list[tuple[Step | None, graphviz.Digraph]] = []
    done: set[int] = set()
    previous: list[Value] = []

    def visit(step: Step | None) -> None:
        done.update(id(v) for v in previous)
        previous[:] = [step.node] if step else []
        notes = {}
        if step is not None:
            notes = {
                (id(step.node), k): f"+= {_num(c.added)}" for k, c in enumerate(step.contributions)
            }
        dot = draw_dot(
            root,
            max_nodes=max_nodes,
            highlight=step.node if step else None,
            done=done,
            edge_notes=notes,
            names=names,
            grad_text={},
            **draw_kwargs,
        )
        out.append((step, dot))

    with _restoring(nodes):
        _walk(root, nodes, visit)
    total = len(out) - 1
    for step, dot in out:
        lines = (
            [start_caption(root_name)]
            if step is None
            else step_lines(step, total, names, root_name)
        )
        text = '<BR ALIGN="LEFT"/>'.join(escape_text(line) for line in lines)
        dot.attr(label=f'<{text}<BR ALIGN="LEFT"/>>', labelloc="b", fontname=FONT, fontsize="12")
    return out


def save_frames(root: Value, folder: str | Path, fmt: str = "svg", **draw_kwargs: Any) -> list[str]:
    """Render every frame with `dot` to folder/step-000.{fmt} (the start), step-001, ...;
    returns the paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return [
        render(dot, str(folder / f"step-{i:03d}"), fmt)
        for i, (_, dot) in enumerate(frames(root, **draw_kwargs))
    ]


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: Helvetica, Arial, sans-serif; margin: 1em; font-size: 16px; }}
#controls {{ display: flex; gap: .6em; align-items: center; margin-bottom: .6em; }}
#controls button {{ font-size: 15px; }}
#caption {{ margin: .4em 0; min-height: 3.6em; line-height: 1.45; }}
#caption div:first-child {{ font-weight: bold; }}
#legend {{ display: flex; gap: .8em; align-items: center; font-size: 14px; margin: .3em 0; }}
#legend span.key {{ display: inline-block; padding: .1em .5em; border: 1px solid #333; }}
#top {{ position: sticky; top: 0; background: white; z-index: 1; padding-bottom: .3em;
        border-bottom: 1px solid #ddd; }}
#frame {{ overflow-x: auto; padding-top: .5em; }}
#frame svg {{ display: block; }}
</style></head>
<body>
<div id="top">
<h2>{title}</h2>
<div id="controls">
  <button id="prev">&larr; previous</button>
  <input id="slider" type="range" min="0" max="{last}" value="0">
  <button id="next">next &rarr;</button>
  <span id="counter"></span>
  <span style="color:#666">(or the arrow keys)</span>
</div>
<div id="caption"></div>
<div id="legend">{legend}</div>
</div>
<div id="frame">{svg}</div>
<script>
const DATA = {data};
const nodes = {{}};
for (const g of document.querySelectorAll("#frame g.node")) nodes[g.id] = g;
function shape(id) {{ return nodes[id].querySelector("polygon, path"); }}
function gradText(id) {{ const t = nodes[id].querySelectorAll("text"); return t[t.length - 1]; }}
const base = {{}};
for (const id of DATA.nodes) if (nodes[id] && shape(id)) base[id] = shape(id).getAttribute("fill");
function paint(id, colour, width) {{
  const s = shape(id);
  s.setAttribute("fill", colour);
  s.setAttribute("stroke-width", width);
}}
function edges(k, on) {{
  for (const e of DATA.steps[k].edges) {{
    const g = document.getElementById(e);
    if (!g) continue;
    for (const p of g.querySelectorAll("path, polygon")) {{
      p.setAttribute("stroke", on ? "{current_edge}" : "black");
      if (p.tagName === "polygon") p.setAttribute("fill", on ? "{current_edge}" : "black");
      p.setAttribute("stroke-width", on ? "2.5" : "1");
    }}
  }}
}}
function setGrads(k, which) {{
  const changes = DATA.steps[k].grads;
  for (const c of changes) gradText(DATA.nodes[c[0]]).textContent = c[which];
}}
let shown = 0;
function forward() {{  // frame shown -> shown + 1: apply step `shown`
  const k = shown;
  if (k > 0) {{ paint(DATA.nodes[DATA.steps[k - 1].node], "{done}", 1); edges(k - 1, false); }}
  setGrads(k, 2);
  paint(DATA.nodes[DATA.steps[k].node], "{current}", 3);
  edges(k, true);
  shown = k + 1;
}}
function backward() {{  // frame shown -> shown - 1: undo step shown - 1
  const k = shown - 1;
  const id = DATA.nodes[DATA.steps[k].node];
  paint(id, base[id], 1);
  edges(k, false);
  setGrads(k, 1);
  if (k > 0) {{ paint(DATA.nodes[DATA.steps[k - 1].node], "{current}", 3); edges(k - 1, true); }}
  shown = k;
}}
function reveal(g) {{  // scroll the current node into view, below the sticky header
  const r = g.getBoundingClientRect(), frame = document.getElementById("frame");
  const top = document.getElementById("top").getBoundingClientRect().bottom;
  if (r.top < top || r.bottom > window.innerHeight)
    window.scrollBy(0, (r.top + r.bottom) / 2 - (top + window.innerHeight) / 2);
  const f = frame.getBoundingClientRect();
  if (r.left < f.left || r.right > f.right)
    frame.scrollLeft += (r.left + r.right) / 2 - (f.left + f.right) / 2;
}}
function show(target) {{
  target = Math.max(0, Math.min(DATA.steps.length, target));
  while (shown < target) forward();
  while (shown > target) backward();
  if (shown > 0) reveal(nodes[DATA.nodes[DATA.steps[shown - 1].node]]);
  const lines = shown === 0 ? [DATA.start] : DATA.steps[shown - 1].caption;
  const cap = document.getElementById("caption");
  cap.replaceChildren(...lines.map((t) => {{
    const d = document.createElement("div"); d.textContent = t; return d; }}));
  const counter = document.getElementById("counter");  // numbered as the captions
  counter.textContent = "step " + shown + "/" + DATA.steps.length;
  document.getElementById("slider").value = shown;
}}
for (const [k, text] of DATA.grads) {{  // centred: the number's width changes per frame
  const t = gradText(DATA.nodes[k]), box = shape(DATA.nodes[k]).getBBox();
  t.textContent = text;
  t.setAttribute("text-anchor", "middle");
  t.setAttribute("x", box.x + box.width / 2);
}}
document.getElementById("prev").onclick = () => show(shown - 1);
document.getElementById("next").onclick = () => show(shown + 1);
document.getElementById("slider").oninput = (e) => show(Number(e.target.value));
document.addEventListener("keydown", (e) => {{
  if (e.key === "ArrowRight") show(shown + 1);
  if (e.key === "ArrowLeft") show(shown - 1);
  if (e.key === "Home") show(0);
  if (e.key === "End") show(DATA.steps.length);
}});
show(0);
</script>
</body></html>
"""


def _script_json(obj: object) -> str:
    """JSON that cannot end the <script> element it sits in (`</script>`, `<!--`)."""
    return (
        json.dumps(obj, ensure_ascii=False)
        .replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
    )


def _legend_html() -> str:
    keys = [
        ("current", "current node"),
        ("done", "already processed"),
        ("computed", "not yet processed"),
        ("input", "input"),
        ("parameter", "parameter"),
    ]
    spans = [
        f'<span class="key" style="background:{COLOURS[k]}">{html.escape(text)}</span>'
        for k, text in keys
    ]
    spans.append('<span style="color:#4b5563;font-size:12px">0.5</span> constant')
    spans.append(f'<span style="color:{CURRENT_EDGE}">&#10230;</span> edges of this step')
    return "Colours: " + " ".join(spans)


CURRENT_EDGE = "#d97706"


def stepper_data(
    root: Value, max_nodes: int = MAX_NODES, fmt: str = "{:.4g}"
) -> tuple[list[Value], dict[str, Any], dict[int, str]]:
    """Run the backward pass once from zeroed gradients and record, per step, the node,
    the edges it sends along, each changed grad cell (before, after) and the caption.

    Returns the nodes (parents first), the page's data and the widest text each grad
    cell will show (so `dot` sizes the cell once for all frames)."""
    nodes = graph_nodes(root, max_nodes)
    index = {id(v): k for k, v in enumerate(nodes)}
    names = node_names(nodes, root)
    root_name = names[id(root)]
    shown: dict[int, str] = {}
    widest: dict[int, str] = {}
    steps: list[dict[str, Any]] = []
    raw: list[Step] = []

    def cell(v: Value) -> str:
        text = f"grad {number(v.grad, fmt)}"
        if len(text) > len(widest.get(id(v), "")):
            widest[id(v)] = text
        return text

    def visit(step: Step | None) -> None:
        if step is None:
            for v in nodes:
                if not (v.is_leaf and not v.label):  # constants show no grad
                    shown[id(v)] = cell(v)
            return
        raw.append(step)
        changes = []
        for p in dict.fromkeys(c.parent for c in step.contributions):  # a + a: once
            if id(p) in shown:
                new = cell(p)
                changes.append([index[id(p)], shown[id(p)], new])
                shown[id(p)] = new
        steps.append(
            {
                "node": index[id(step.node)],
                "edges": [f"en{index[id(step.node)]}_{k}" for k in range(len(step.contributions))],
                "grads": changes,
            }
        )

    with _restoring(nodes):
        _walk(root, nodes, visit)
    start: list[tuple[int, str]] = [
        (k, f"grad {number(1.0 if v is root else 0.0, fmt)}") for k, v in enumerate(nodes)
    ]
    for s, step in zip(steps, raw):
        s["caption"] = step_lines(step, len(raw), names, root_name)
    data = {
        "nodes": [f"n{k}" for k in range(len(nodes))],
        "grads": [[k, text] for k, text in start if id(nodes[k]) in shown],
        "start": start_caption(root_name),
        "steps": steps,
    }
    return nodes, data, widest


def stepper_html(
    root: Value,
    path: str | Path,
    title: str = "Backpropagation, step by step",
    max_nodes: int = MAX_NODES,
    **draw_kwargs: Any,
) -> Path:
    """One self-contained HTML page (no network needed): the graph drawn once, with
    previous/next buttons, a slider and the arrow keys stepping through frame 0 (the
    start) and one frame per chain-rule step; captions in the page's font, a colour key.

    Starts from zeroed gradients and leaves those of one `backward()`; on any failure
    every gradient is as before the call. Every label and caption is escaped.
    `draw_kwargs` go to `draw_dot` (e.g. `params=`, `rankdir=`, `fmt=`; not `collapse`
    or `show_grad`: the page colours and numbers every node itself).
    """
    fixed = {"collapse", "show_grad", "highlight", "done", "names", "grad_text", "group_params"}
    if fixed & draw_kwargs.keys():  # the page colours and numbers every node itself
        raise TypeError(
            f"stepper_html does not take {', '.join(sorted(fixed & draw_kwargs.keys()))}"
        )
    if not has_dot():
        raise DotMissingError(INSTALL_HINT)
    nodes = graph_nodes(root, max_nodes)  # refuse a too-large graph before touching it
    with _restoring(nodes):
        _, data, widest = stepper_data(root, max_nodes, draw_kwargs.get("fmt", "{:.4g}"))
        names = node_names(nodes, root)
        dot = draw_dot(root, max_nodes=max_nodes, names=names, grad_text=widest, **draw_kwargs)
        svg = pipe(dot).decode()
    svg = svg[svg.index("<svg") :]  # drop the XML prologue for inline use
    page = _PAGE.format(
        title=html.escape(title),
        last=len(data["steps"]),
        legend=_legend_html(),
        svg=svg,
        data=_script_json(data),
        current=COLOURS["current"],
        done=COLOURS["done"],
        current_edge=CURRENT_EDGE,
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path


def interactive(root: Value, **draw_kwargs: Any) -> Any:
    """In a notebook: a slider (ipywidgets) over the frames, each shown as SVG."""
    import ipywidgets as widgets
    from IPython.display import SVG, display

    fs = frames(root, **draw_kwargs)
    svgs = [pipe(dot).decode() for _, dot in fs]
    out = widgets.Output()

    def show(change: dict[str, Any] | None = None) -> None:
        k = slider.value
        out.clear_output(wait=True)
        with out:
            display(SVG(svgs[k]))

    slider = widgets.IntSlider(min=0, max=max(0, len(fs) - 1), value=0, description="frame")
    slider.observe(show, names="value")
    show()
    return widgets.VBox([slider, out])
