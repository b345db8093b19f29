"""Drawing a computation graph with graphviz: value nodes (label, data, grad), a small
node per op, and optionally the local derivative d out/d in on each edge.

The graph is walked once into a `Trace` (`chainrule.viz.trace`), which the drawing, the
stepper and the playground all read; this module only draws it. Each kind of node has its
colour from the one palette (`chainrule.viz.palette.COLOURS`; `legend=True` adds a key):

- input (a labelled leaf): blue, with its grad
- parameter (a leaf passed in `params=`, e.g. `model.parameters()`): pink, with its grad
- computed (made by an op): grey, with the op in a small circle before it
- constant (an unlabelled leaf, e.g. the `2` of `x*2`, the `1/n` of a mean, a dropout
  mask): a small plain number, no box and no grad: nobody asks for d loss/d 2
- batch statistic (one sample of a batched graph): a number computed from the whole
  batch, drawn as an input of the sample's graph
- the stepper's current node: yellow; nodes it already processed: green (`Marks`)

Label a leaf (`Value(2.0, label="x")`) to draw it as an input rather than a constant.
Graphs more than `AUTO_TB_DEPTH` ops deep are laid out top to bottom. A value used far
down a long chain (`x` in `x*0 + x*1 + ... + x*99`) is drawn once, with a small copy
`x (drawn above)` at each far use (see `far_uses`): long edges made `dot` run for
minutes. Nodes are numbered in the trace's order, so the same graph always gives the
same DOT text, byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import graphviz
from chainrule.engine import Value
from chainrule.viz.dot import (
    DOT_TIMEOUT,
    FONT,
    INSTALL_HINT,
    DotError,
    DotMissingError,
    DotTimeoutError,
    escape_text,
    has_dot,
    html_label,
    number,
    pipe,
    render,
)
from chainrule.viz.palette import COLOURS, WORDS
from chainrule.viz.trace import MAX_NODES as _TRACE_MAX
from chainrule.viz.trace import Trace, trace

__all__ = [
    "COLOURS",
    "DOT_TIMEOUT",
    "INSTALL_HINT",
    "Collapse",
    "DotError",
    "DotMissingError",
    "DotTimeoutError",
    "Marks",
    "Style",
    "draw_dot",
    "draw_trace",
    "has_dot",
    "number",
    "pipe",
    "render",
]

MAX_NODES = 500
"""`draw_dot`'s default node limit: a larger drawing is unreadable anyway."""
assert MAX_NODES <= _TRACE_MAX

AUTO_TB_DEPTH = 5
"""`rankdir="auto"` draws left to right up to this many ops on the longest path."""

REFERENCE_SPAN = 3
"""An edge that would cross more than this many nodes is drawn from a small copy of its
start (see `far_uses`)."""

GROUP_MIN = 3
"""An op with at least this many parameters of its own draws them as one table."""


@dataclass(frozen=True)
class Collapse:
    """Draw a module as one box: `outputs` are its results, `inputs` what was fed in.

    Every node computed from the inputs on the way to the outputs is hidden inside the
    box; the module's parameters (and the inputs) draw as edges into it.
    """

    label: str
    outputs: Sequence[Value]
    inputs: Sequence[Value] = ()


@dataclass(frozen=True)
class Style:
    """How to draw: `rankdir` "LR", "TB" or "auto"; `fmt` formats numbers;
    `show_grad`/`show_local` toggle grads and local derivatives; `group_params` draws an
    op's own parameters as one table; `legend` adds a key of the colours."""

    rankdir: str = "auto"
    fmt: str = "{:.4g}"
    show_grad: bool = True
    show_local: bool = True
    group_params: bool = True
    legend: bool = False
    collapse: Sequence[Collapse] = ()


@dataclass
class Marks:
    """The stepper's state on a drawing (trace indices): the `current` node, the nodes
    already `done`, a note per edge (`+= -1.5`), and the grad cells' text (`grad_text`;
    a node missing from it shows `grad` and nothing else). Nodes are named by the
    trace's names (`mul2`) as in the captions."""

    current: int | None = None
    done: set[int] = field(default_factory=set)
    notes: dict[int, str] = field(default_factory=dict)
    grad_text: dict[int, str] = field(default_factory=dict)


def depth(tr: Trace) -> int:
    """Ops on the longest path to the root."""
    level = [0] * len(tr.nodes)
    for i in range(len(tr.nodes)):
        level[i] = 1 + max((level[tr.edges[j].parent] for j in tr.into[i]), default=-1)
    return max(level, default=0)


def far_uses(tr: Trace) -> set[int]:
    """The edges drawn from a small copy of their parent rather than from the parent
    itself: those more than `REFERENCE_SPAN` nodes shorter than the parent's longest
    edge.

    Why: `dot` puts each node above all its uses, and lays a long edge out as a chain of
    hidden nodes, one per rank it crosses. A value used all along a long chain (`x` in
    `x*0 + x*1 + ... + x*99`) makes about n² of them and `dot` runs for minutes (100
    terms: over a minute; 600: over 10 minutes). With the copies every edge is short
    and the layout is about linear. Small expressions have no such edges.
    """
    height = [0] * len(tr.nodes)  # nodes on the longest path down to the root
    for i in range(len(tr.nodes) - 1, -1, -1):  # the root first, each node after its uses
        for j in tr.into[i]:
            p = tr.edges[j].parent
            height[p] = max(height[p], height[i] + 1)
    return {
        j for j, e in enumerate(tr.edges) if height[e.parent] - 1 - height[e.child] > REFERENCE_SPAN
    }


def param_groups(tr: Trace) -> dict[int, list[int]]:
    """For each op node: its incoming edges from parameters that feed nothing else,
    when there are at least `GROUP_MIN` of them (a neuron's weights and bias): they are
    drawn as one table, which keeps a network's drawing narrow."""
    uses = [0] * len(tr.nodes)
    for e in tr.edges:
        uses[e.parent] += 1
    groups = {}
    for i, edges in enumerate(tr.into):
        own = [
            j
            for j in edges
            if tr.kinds[tr.edges[j].parent] == "parameter" and uses[tr.edges[j].parent] == 1
        ]
        if len(own) >= GROUP_MIN:
            groups[i] = own
    return groups


def param_table(tr: Trace, edges: list[int], style: Style) -> str:
    """The parameters on `edges` as one HTML-like table: a row each with label, data,
    grad and the local derivative d op/d parameter."""
    fmt, show_grad, show_local = style.fmt, style.show_grad, style.show_local
    head = ["parameter", "data"] + ["grad"] * show_grad + ["local"] * show_local
    rows = ["".join(f"<TD><B>{h}</B></TD>" for h in head)]
    for j in edges:
        e = tr.edges[j]
        cells = [tr.names[e.parent], number(tr.data[e.parent], fmt)]
        cells += [number(_grad(tr, e.parent), fmt)] * show_grad
        cells += [number(e.local, fmt)] * show_local
        rows.append(  # names to the left, numbers to the right: columns line up
            "".join(
                f'<TD ALIGN="{"LEFT" if i == 0 else "RIGHT"}">{escape_text(c)}</TD>'
                for i, c in enumerate(cells)
            )
        )
    body = "".join(f"<TR>{r}</TR>" for r in rows)
    return (
        f'<<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2" '
        f'BGCOLOR="{COLOURS["parameter"]}">{body}</TABLE>>'
    )


def value_fields(tr: Trace, i: int, style: Style, marks: Marks | None) -> tuple[list[str], bool]:
    """The text fields of value node `i`'s box, top to bottom, and whether the first is
    a title. The grad, when shown, is always the last field: `grad_field` says so to the
    pages that change it."""
    v = tr.nodes[i]
    named = marks is not None or tr.kinds[i] == "batch statistic"
    title = tr.names[i] if named and tr.kinds[i] in ("computed", "batch statistic") else v.label
    fields = [title] if title else []
    fields.append(f"data {number(tr.data[i], style.fmt)}")
    if style.show_grad:
        if marks is not None:
            fields.append(marks.grad_text.get(i, "grad"))
        else:
            fields.append(f"grad {number(_grad(tr, i), style.fmt)}")
    return fields, bool(title)


def _grad(tr: Trace, i: int) -> float:
    """Node i's gradient: the Value's, or one sample's from the trace's walk."""
    if tr.sample is None:
        return float(tr.nodes[i].grad)
    if not tr.steps and len(tr.nodes) > 1:
        tr.walk()
    return tr.grads()[i]


def _boxes(tr: Trace, collapse: Sequence[Collapse]) -> dict[int, str]:
    """Trace index -> the box (`box{k}`) it is hidden in."""
    box: dict[int, str] = {}
    for k, group in enumerate(collapse):
        stop = {id(v) for v in group.inputs}
        stack = [tr.index[id(v)] for v in group.outputs if id(v) in tr.index]
        while stack:
            i = stack.pop()
            if i in box or id(tr.nodes[i]) in stop or tr.kinds[i] != "computed":
                continue
            box[i] = f"box{k}"
            stack.extend(tr.edges[j].parent for j in tr.into[i])
    return box


class _Drawing:
    """One `dot` drawing of a trace (see `draw_trace`)."""

    def __init__(self, tr: Trace, style: Style, marks: Marks | None) -> None:
        if style.rankdir not in ("LR", "TB", "auto"):
            raise ValueError(f"rankdir must be 'LR', 'TB' or 'auto', got {style.rankdir!r}")
        self.tr, self.style, self.marks = tr, style, marks
        self.rankdir = style.rankdir
        if self.rankdir == "auto":
            self.rankdir = "LR" if depth(tr) <= AUTO_TB_DEPTH else "TB"
        self.box = _boxes(tr, style.collapse)
        groups = param_groups(tr) if style.group_params and marks is None else {}
        self.groups = {i: es for i, es in groups.items() if i not in self.box}
        self.grouped = {tr.edges[j].parent for es in self.groups.values() for j in es}
        self.far = far_uses(tr)
        self.drawn_edges: set[tuple[str, str]] = set()
        self.dot = graphviz.Digraph(
            format="svg",
            graph_attr={"rankdir": self.rankdir, "nodesep": "0.25", "ranksep": "0.35"},
        )
        self.dot.attr("node", fontname=FONT, fontsize="11", margin="0.04,0.02")
        self.dot.attr("edge", fontname=FONT, fontsize="9", fontcolor="#374151", arrowsize="0.6")

    def draw(self) -> graphviz.Digraph:
        tr, style = self.tr, self.style
        unset = tr.sample is None and all(v.grad == 0.0 for v in tr.nodes)
        if self.marks is None and style.show_grad and unset:
            self.title("grads are all 0: call backward() first")
        if tr.sample is not None:
            self.title(f"sample {tr.sample} of {tr.batch}")
        for k, group in enumerate(style.collapse):
            outs = ", ".join(number(o.data, style.fmt) for o in group.outputs)
            self.dot.node(
                f"box{k}",
                html_label(group.label, f"out {outs}", bold_first=True),
                shape="box3d",
                style="filled",
                fillcolor=COLOURS["module"],
            )
        for i in range(len(tr.nodes)):
            if i in self.box:  # hidden in a box: only its edges from outside are drawn
                self.boxed_edges(i)
            elif i not in self.grouped:  # else drawn in its op's parameter table
                self.value(i)
        if style.legend:
            add_legend(self.dot, stats="batch statistic" in tr.kinds)
        return self.dot

    def title(self, text: str) -> None:
        self.dot.attr(label=text, labelloc="t", fontcolor="gray40", fontname=FONT)

    def source(self, p: int) -> str:
        return self.box.get(p, Trace.node_id(p))

    def boxed_edges(self, i: int) -> None:
        for j in self.tr.into[i]:
            edge = (self.source(self.tr.edges[j].parent), self.box[i])
            if edge[0] != edge[1] and edge not in self.drawn_edges:
                self.drawn_edges.add(edge)
                self.dot.edge(*edge)

    def value(self, i: int) -> None:
        tr, n = self.tr, Trace.node_id(i)
        what = tr.kinds[i]
        if what == "constant":  # a plain small number: no box, no grad
            label = html_label(number(tr.data[i], self.style.fmt))
            self.dot.node(
                n,
                label,
                id=n,
                shape="plaintext",
                fontsize="9",
                fontcolor="#4b5563",
                margin="0",
                width="0",
                height="0",
            )
            return
        fields, titled = value_fields(tr, i, self.style, self.marks)
        colour, pen = COLOURS[what], "1"
        if self.marks is not None and i in self.marks.done:
            colour = COLOURS["done"]
        if self.marks is not None and i == self.marks.current:
            colour, pen = COLOURS["current"], "3"
        self.dot.node(
            n,
            html_label(*fields, bold_first=titled, vertical=True),
            id=n,
            shape="box",
            style="filled,rounded" if what == "computed" else "filled",
            fillcolor=colour,
            penwidth=pen,
        )
        if tr.into[i]:
            self.op(i)

    def op(self, i: int) -> None:
        tr, style, n = self.tr, self.style, Trace.node_id(i)
        op = n + "_op"
        self.dot.node(
            op,
            html_label(tr.nodes[i].op),
            shape="circle",
            width="0.3",
            margin="0.01",
            fontsize="10",
        )
        self.dot.edge(op, n)
        in_table = self.groups.get(i, [])
        if in_table:
            self.dot.node(
                n + "_params", param_table(tr, in_table, style), shape="plaintext", fontsize="10"
            )
            self.dot.edge(n + "_params", op)
        notes = self.marks.notes if self.marks is not None else {}
        for j in tr.into[i]:
            if j in in_table:
                continue
            e = tr.edges[j]
            label = ""
            if style.show_local and tr.kinds[e.parent] != "constant":
                label = f"local {number(e.local, style.fmt)}"
            if j in notes:
                label = (label + " " if label else "") + notes[j]
            attrs = {"id": Trace.edge_id(j)}
            if label:
                attrs["label"] = html_label(label)
            tail = self.source(e.parent)
            if j in self.far and e.parent not in self.box:
                tail = f"{n}_ref{e.position}"
                self.reference(e.parent, tail)
            self.dot.edge(tail, op, **attrs)

    def reference(self, p: int, ref: str) -> None:
        """A small copy of node `p` next to a far use of it (see `far_uses`)."""
        tr = self.tr
        if tr.kinds[p] == "constant":
            text, colour = number(tr.data[p], self.style.fmt), "#4b5563"
        else:
            named = tr.nodes[p].label or (tr.names[p] if self.marks is not None else "")
            title = named or f"data {number(tr.data[p], self.style.fmt)}"
            where = "above" if self.rankdir == "TB" else "left"
            text, colour = f"{title} (drawn {where})", "#1f2937"
        self.dot.node(
            ref, html_label(text), shape="plaintext", fontsize="9", margin="0", fontcolor=colour
        )


def draw_trace(tr: Trace, style: Style = Style(), marks: Marks | None = None) -> graphviz.Digraph:
    """A trace as a `graphviz.Digraph`, in `style`; `marks` is the stepper's state (a
    drawing with marks names every node as the captions do and draws parameters one by
    one, since the stepper colours them one by one)."""
    return _Drawing(tr, style, marks).draw()


def draw_dot(
    root: Value,
    rankdir: str = "auto",
    fmt: str = "{:.4g}",
    show_grad: bool = True,
    show_local: bool = True,
    max_nodes: int = MAX_NODES,
    params: Iterable[Value] = (),
    legend: bool = False,
    collapse: Sequence[Collapse] = (),
    group_params: bool = True,
    sample: int | None = None,
) -> graphviz.Digraph:
    """The graph of everything `root` depends on, as a `graphviz.Digraph`.

    rankdir "LR", "TB" or "auto" (LR up to `AUTO_TB_DEPTH` ops deep, else TB); `fmt`
    formats numbers (a number that rounds to zero shows as `0`); `show_grad`/`show_local`
    toggle grads and the local derivatives d out/d in on edges. More than `max_nodes`
    nodes is a ValueError (a full MLP graph is unreadable: draw one neuron, or raise the
    limit). `params` (e.g. `model.parameters()`) are drawn as parameters, other labelled
    leaves as inputs, unlabelled leaves as constants; `legend=True` adds a key of the
    colours. `group_params` draws the parameters an op has to itself (a neuron's weights
    and bias, at least `GROUP_MIN`) as one table with their data, grad and local
    derivative. `collapse` draws modules (a neuron, a layer) as single boxes.

    On a batched graph, `sample=k` draws sample k's own graph, rooted at its own loss
    term, with its numbers and its own gradients (see `chainrule.viz.trace`), titled
    "sample k of n".
    """
    style = Style(rankdir, fmt, show_grad, show_local, group_params, legend, collapse)
    if rankdir not in ("LR", "TB", "auto"):
        raise ValueError(f"rankdir must be 'LR', 'TB' or 'auto', got {rankdir!r}")
    return draw_trace(trace(root, params, max_nodes, sample), style)


def legend_label(stepper: bool = False, stats: bool = False) -> str:
    """The key of the node colours as an HTML-like label: one coloured cell per kind
    (`stats`: batch statistics too)."""
    keys = ["input", "parameter", "computed"] + ["batch statistic"] * stats
    keys += ["current", "done"] if stepper else []
    cells = "".join(f'<TD BORDER="1" BGCOLOR="{COLOURS[k]}">{WORDS.get(k, k)}</TD>' for k in keys)
    cells += '<TD><FONT POINT-SIZE="9" COLOR="#4b5563">0.5</FONT> constant</TD>'
    return f'<<TABLE BORDER="0" CELLSPACING="4" CELLPADDING="3"><TR>{cells}</TR></TABLE>>'


def add_legend(dot: graphviz.Digraph, stepper: bool = False, stats: bool = False) -> None:
    """A key of the node colours, as one small node in the last rank (below a
    top-to-bottom drawing, right of a left-to-right one), so it adds no width."""
    with dot.subgraph(name="legend_rank") as c:
        c.attr(rank="sink")
        c.node("legend", legend_label(stepper, stats), shape="plaintext", fontsize="10")


def _repr_svg_(v: Value) -> Any:
    """A Value's graph in Jupyter; None (plain repr) without `dot` or past 200 nodes."""
    if not has_dot():
        return None
    try:
        return pipe(draw_dot(v, max_nodes=200)).decode()
    except (ValueError, DotError):
        return None


# In Jupyter a Value shows as its graph (viz installs this; engine never imports viz).
Value._repr_svg_ = _repr_svg_  # type: ignore[attr-defined]
