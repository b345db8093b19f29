"""Drawing a computation graph with graphviz: value nodes (label, data, grad), a small
node per op, and optionally the local derivative d out/d in on each edge.

Each kind of node has its own colour (`COLOURS`, shown by `draw_dot(..., legend=True)`):

- input (a labelled leaf): blue, with its grad
- parameter (a leaf passed in `params=`, e.g. `model.parameters()`): pink, with its grad
- computed (made by an op): grey, with the op in a small circle before it
- constant (an unlabelled leaf, e.g. the `2` of `x*2`, the `1/n` of a mean, a dropout
  mask): a small plain number, no box and no grad: nobody asks for d loss/d 2
- current node of the backprop stepper: yellow; nodes the stepper already processed: green

Label a leaf (`Value(2.0, label="x")`) to draw it as an input rather than a constant.

Every label is written in graphviz's HTML-like labels with `& < > "` escaped, so a label
such as `{x|y}` or `</script>` draws verbatim and never breaks `dot`. Graphs more than
`AUTO_TB_DEPTH` ops deep are laid out top to bottom (a long left-to-right chain does not
fit a screen). A value used far down a long chain (`x` in `x*0 + x*1 + ... + x*99`) is
drawn once, with a small copy `x (drawn above)` at each far use (see `far_uses`): long
edges made `dot` run for minutes. Every `dot` call stops after `DOT_TIMEOUT` seconds
with a `DotTimeoutError` naming the limit. Nodes are numbered in a fixed order (the
engine's backward order), so the same graph always gives the same DOT text, byte for byte.
"""

from __future__ import annotations

import html
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import graphviz
from chainrule.engine import Value
from chainrule.engine.backprop import order

INSTALL_HINT = (
    "graphviz's `dot` program was not found: install it with `apt-get install graphviz` "
    "(Debian/Ubuntu), `brew install graphviz` (macOS) or `conda install graphviz`. "
    "The DOT source is still available as `.source`."
)

COLOURS = {
    "input": "#dbeafe",
    "parameter": "#fbcfe8",
    "computed": "#f3f4f6",
    "constant": "#ffffff",
    "current": "#fde68a",
    "done": "#dcfce7",
    "module": "#ede9fe",
}
"""Fill colour of each kind of node (a constant has no box: white stands for none)."""

MAX_NODES = 500
"""`draw_dot`'s default node limit: a larger drawing is unreadable anyway."""

AUTO_TB_DEPTH = 5
"""`rankdir="auto"` draws left to right up to this many ops on the longest path."""

FONT = "Helvetica"


@dataclass(frozen=True)
class Collapse:
    """Draw a module as one box: `outputs` are its results, `inputs` what was fed in.

    Every node computed from the inputs on the way to the outputs is hidden inside the
    box; the module's parameters (and the inputs) draw as edges into it.
    """

    label: str
    outputs: Sequence[Value]
    inputs: Sequence[Value] = ()


def _members(group: Collapse) -> set[int]:
    stop = {id(v) for v in group.inputs}
    members: set[int] = set()
    stack = list(group.outputs)
    while stack:
        v = stack.pop()
        if id(v) in members or id(v) in stop or v.is_leaf:
            continue
        members.add(id(v))
        stack.extend(v.parents)
    return members


class DotError(RuntimeError):
    """`dot` could not draw the graph (missing, too slow, or it failed)."""


class DotMissingError(DotError):
    """The `dot` program is missing; the message says how to install it."""


class DotTimeoutError(DotError):
    """`dot` ran longer than the time limit (`DOT_TIMEOUT`) and was stopped."""


DOT_TIMEOUT = 120.0
"""Seconds any `dot` call of the library may run before it is stopped with a
`DotTimeoutError` (a graph that takes longer is too large to read anyway)."""


def has_dot() -> bool:
    """Whether graphviz's `dot` program is on the PATH (drawing and rendering need it;
    `draw_dot` alone only builds the graph's description)."""
    return shutil.which("dot") is not None


def number(x: float, fmt: str = "{:.4g}") -> str:
    """`x` formatted with `fmt`, except that anything that rounds to zero is `0`
    (never `-0.0000`)."""
    s = fmt.format(x)
    try:
        return "0" if float(s) == 0.0 else s
    except ValueError:  # a format with words around the number
        return s


def kind(v: Value, params: set[int]) -> str:
    """'computed', 'parameter', 'input' or 'constant' (see the module docstring)."""
    if not v.is_leaf:
        return "computed"
    if id(v) in params:
        return "parameter"
    return "input" if v.label else "constant"


def _visible(c: str) -> str:
    """`c`, or its escape (`\\x1f`) when XML cannot hold it (control characters)."""
    o = ord(c)
    if o >= 0x20 and o != 0x7F and not 0xD800 <= o <= 0xDFFF and o not in (0xFFFE, 0xFFFF):
        return c
    return f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}"


def escape_text(s: str) -> str:
    """Text for an HTML-like label: one line (line breaks and tabs become spaces), other
    characters XML cannot hold written as escapes, and & < > " escaped."""
    if any(c in s for c in "\n\r\t"):
        s = " ".join(s.split())
    if not s.isprintable():
        s = "".join(_visible(c) for c in s)
    return html.escape(s, quote=True) or " "  # an empty cell is a syntax error for dot


def html_label(*cells: str, bold_first: bool = False, vertical: bool = False) -> str:
    """A table of escaped text cells, one row (or one column: `vertical`, which keeps
    top-to-bottom drawings narrow), as a graphviz HTML-like label."""
    tds = []
    for k, c in enumerate(cells):
        t = escape_text(c)
        tds.append(f"<TD>{'<B>' + t + '</B>' if bold_first and k == 0 else t}</TD>")
    rows = "".join(f"<TR>{td}</TR>" for td in tds) if vertical else f"<TR>{''.join(tds)}</TR>"
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2">{rows}</TABLE>>'


def depth(nodes: Sequence[Value]) -> int:
    """Ops on the longest path to the root; `nodes` parents first."""
    level: dict[int, int] = {}
    for v in nodes:
        level[id(v)] = 0 if v.is_leaf else 1 + max(level.get(id(p), 0) for p in v.parents)
    return max(level.values(), default=0)


REFERENCE_SPAN = 3
"""An edge that would cross more than this many nodes is drawn from a small copy of its
start (see `far_uses`)."""


def far_uses(nodes: Sequence[Value]) -> set[tuple[int, int]]:
    """The edges (op node id, parent position) drawn from a small copy of the parent
    rather than from the parent itself: those more than `REFERENCE_SPAN` nodes shorter
    than the parent's longest edge. `nodes` parents first, the root last.

    Why: `dot` puts each node above all its uses, and lays a long edge out as a chain of
    hidden nodes, one per rank it crosses. A value used all along a long chain (`x` in
    `x*0 + x*1 + ... + x*99`) makes about n² of them and `dot` runs for minutes (100
    terms: over a minute; 600: over 10 minutes). With the copies every edge is short
    and the layout is about linear. Small expressions have no such edges.
    """
    # height: nodes on the longest path down to the root, which is where dot ranks it
    height: dict[int, int] = {}
    for v in reversed(nodes):  # the root first, each node after all its uses
        h = height.setdefault(id(v), 0)
        for p in v.parents:
            height[id(p)] = max(height.get(id(p), 0), h + 1)
    return {
        (id(v), k)
        for v in nodes
        for k, p in enumerate(v.parents)
        if height[id(p)] - 1 - height[id(v)] > REFERENCE_SPAN
    }


GROUP_MIN = 3
"""An op with at least this many parameters of its own draws them as one table."""


def param_groups(nodes: Sequence[Value], param_ids: set[int]) -> dict[int, list[int]]:
    """For each op node (by id): the positions of the parameter parents that feed
    nothing else, when there are at least `GROUP_MIN` of them (a neuron's weights and
    bias): they are drawn as one table, which keeps a network's drawing narrow."""
    uses: dict[int, int] = {}
    for v in nodes:
        for p in v.parents:
            uses[id(p)] = uses.get(id(p), 0) + 1
    groups = {}
    for v in nodes:
        ks = [k for k, p in enumerate(v.parents) if id(p) in param_ids and uses[id(p)] == 1]
        if len(ks) >= GROUP_MIN:
            groups[id(v)] = ks
    return groups


def param_table(v: Value, positions: list[int], fmt: str, show_grad: bool, show_local: bool) -> str:
    """The parameters of op node `v` at `positions` as one HTML-like table: a row each
    with label, data, grad and the local derivative d v/d parameter."""
    head = ["parameter", "data"] + ["grad"] * show_grad + ["local"] * show_local
    rows = ["".join(f"<TD><B>{h}</B></TD>" for h in head)]
    for k in positions:
        p, d = v.parents[k], v.local_grads[k]
        cells = [p.label, number(p.data, fmt)]
        cells += [number(p.grad, fmt)] * show_grad + [number(d, fmt)] * show_local
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


def graph_nodes(root: Value, max_nodes: int) -> list[Value]:
    """Every node `root` depends on, parents first; more than `max_nodes` is a ValueError."""
    nodes = order(root)[::-1]  # parents first: reads left to right (or top to bottom)
    if len(nodes) > max_nodes:
        raise ValueError(
            f"the graph has {len(nodes)} nodes, more than max_nodes={max_nodes}; "
            "draw a smaller expression or pass a larger max_nodes"
        )
    return nodes


def draw_dot(
    root: Value,
    rankdir: str = "auto",
    fmt: str = "{:.4g}",
    show_grad: bool = True,
    show_local: bool = True,
    max_nodes: int = MAX_NODES,
    params: Iterable[Value] = (),
    legend: bool = False,
    highlight: Value | None = None,
    done: set[int] | None = None,
    edge_notes: dict[tuple[int, int], str] | None = None,
    collapse: Sequence[Collapse] = (),
    names: dict[int, str] | None = None,
    grad_text: dict[int, str] | None = None,
    group_params: bool | None = None,
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
    derivative (default: on, except in the stepper, which colours nodes one by one).
    `collapse` draws modules (a neuron, a layer) as single boxes (see `Collapse`).
    `highlight`, `done`, `edge_notes`, `names` (a name shown in unlabelled computed nodes)
    and `grad_text` (the grad cell's text) are used by the backprop stepper.
    """
    if rankdir not in ("LR", "TB", "auto"):
        raise ValueError(f"rankdir must be 'LR', 'TB' or 'auto', got {rankdir!r}")
    nodes = graph_nodes(root, max_nodes)
    if rankdir == "auto":
        rankdir = "LR" if depth(nodes) <= AUTO_TB_DEPTH else "TB"
    param_ids = {id(p) for p in params}
    name = {id(v): f"n{i}" for i, v in enumerate(nodes)}
    box: dict[int, str] = {}  # node id -> the box it is hidden in
    for k, group in enumerate(collapse):
        for m in _members(group):
            box[m] = f"box{k}"
    if group_params is None:
        group_params = grad_text is None and highlight is None
    groups = param_groups(nodes, param_ids) if group_params else {}
    groups = {k: ps for k, ps in groups.items() if k not in box}  # a box shows no tables
    grouped = {id(v.parents[k]) for v in nodes for k in groups.get(id(v), ())}
    dot = graphviz.Digraph(
        format="svg",
        graph_attr={"rankdir": rankdir, "nodesep": "0.25", "ranksep": "0.35"},
    )
    dot.attr("node", fontname=FONT, fontsize="11", margin="0.04,0.02")
    dot.attr("edge", fontname=FONT, fontsize="9", fontcolor="#374151", arrowsize="0.6")
    if show_grad and grad_text is None and all(v.grad == 0.0 for v in nodes):
        dot.attr(
            label="grads are all 0: call backward() first",
            labelloc="t",
            fontcolor="gray40",
            fontname=FONT,
        )
    for k, group in enumerate(collapse):
        outs = ", ".join(number(o.data, fmt) for o in group.outputs)
        dot.node(
            f"box{k}",
            html_label(group.label, f"out {outs}", bold_first=True),
            shape="box3d",
            style="filled",
            fillcolor=COLOURS["module"],
        )
    drawn_edges: set[tuple[str, str]] = set()
    far = far_uses(nodes)
    where = "above" if rankdir == "TB" else "left"

    def source(p: Value) -> str:
        return box.get(id(p), name[id(p)])

    def reference(p: Value, ref: str) -> None:
        """A small copy of `p` next to a far use of it (see `far_uses`)."""
        if kind(p, param_ids) == "constant":
            text, attrs = number(p.data, fmt), {"fontcolor": "#4b5563"}
        else:
            title = p.label or (names or {}).get(id(p), "") or f"data {number(p.data, fmt)}"
            text, attrs = f"{title} (drawn {where})", {"fontcolor": "#1f2937"}
        dot.node(ref, html_label(text), shape="plaintext", fontsize="9", margin="0", **attrs)

    for v in nodes:
        if id(v) in box:  # hidden in a box: only its edges from outside the box are drawn
            for p in v.parents:
                edge = (source(p), box[id(v)])
                if edge[0] != edge[1] and edge not in drawn_edges:
                    drawn_edges.add(edge)
                    dot.edge(*edge)
            continue
        if id(v) in grouped:  # drawn in its op's parameter table
            continue
        n = name[id(v)]
        what = kind(v, param_ids)
        if what == "constant":  # a plain small number: no box, no grad
            dot.node(
                n,
                html_label(number(v.data, fmt)),
                id=n,
                shape="plaintext",
                fontsize="9",
                fontcolor="#4b5563",
                margin="0",
                width="0",
                height="0",
            )
            continue
        fields = []
        title = v.label or (names or {}).get(id(v), "")
        if title:
            fields.append(title)
        fields.append(f"data {number(v.data, fmt)}")
        if show_grad:
            fields.append((grad_text or {}).get(id(v), f"grad {number(v.grad, fmt)}"))
        colour, pen = COLOURS[what], "1"
        if done is not None and id(v) in done:
            colour = COLOURS["done"]
        if highlight is not None and v is highlight:
            colour, pen = COLOURS["current"], "3"
        dot.node(
            n,
            html_label(*fields, bold_first=bool(title), vertical=True),
            id=n,
            shape="box",
            style="filled,rounded" if what == "computed" else "filled",
            fillcolor=colour,
            penwidth=pen,
        )
        if v.is_leaf:
            continue
        op = n + "_op"
        dot.node(op, html_label(v.op), shape="circle", width="0.3", margin="0.01", fontsize="10")
        dot.edge(op, n)
        in_table = groups.get(id(v), [])
        if in_table:
            dot.node(
                n + "_params",
                param_table(v, in_table, fmt, show_grad, show_local),
                shape="plaintext",
                fontsize="10",
            )
            dot.edge(n + "_params", op)
        for k, (p, d) in enumerate(zip(v.parents, v.local_grads)):
            if k in in_table:
                continue
            label = ""
            if show_local and kind(p, param_ids) != "constant":
                label = f"local {number(d, fmt)}"
            if edge_notes and (id(v), k) in edge_notes:
                label = (label + " " if label else "") + edge_notes[(id(v), k)]
            attrs = {"id": f"e{n}_{k}"}
            if label:
                attrs["label"] = html_label(label)
            tail = source(p)
            if (id(v), k) in far and id(p) not in box:
                tail = f"{n}_ref{k}"
                reference(p, tail)
            dot.edge(tail, op, **attrs)
    if legend:
        add_legend(dot)
    return dot


def legend_label(stepper: bool = False) -> str:
    """The key of the node colours as an HTML-like label: one coloured cell per kind."""
    keys = ["input", "parameter", "computed"] + (["current", "done"] if stepper else [])
    words = {"current": "current node", "done": "already processed"}
    cells = "".join(f'<TD BORDER="1" BGCOLOR="{COLOURS[k]}">{words.get(k, k)}</TD>' for k in keys)
    cells += '<TD><FONT POINT-SIZE="9" COLOR="#4b5563">0.5</FONT> constant</TD>'
    return f'<<TABLE BORDER="0" CELLSPACING="4" CELLPADDING="3"><TR>{cells}</TR></TABLE>>'


def add_legend(dot: graphviz.Digraph, stepper: bool = False) -> None:
    """A key of the node colours, as one small node in the last rank (below a
    top-to-bottom drawing, right of a left-to-right one), so it adds no width."""
    with dot.subgraph(name="legend_rank") as c:
        c.attr(rank="sink")
        c.node("legend", legend_label(stepper), shape="plaintext", fontsize="10")


def pipe(dot: graphviz.Digraph, fmt: str = "svg", timeout: float | None = None) -> bytes:
    """The drawing made by the real `dot` in format `fmt`, as bytes.

    `dot` is stopped after `timeout` seconds (default `DOT_TIMEOUT`) with a
    `DotTimeoutError` that names the limit; a `dot` failure is a `DotError`."""
    if not has_dot():
        raise DotMissingError(INSTALL_HINT)
    limit = DOT_TIMEOUT if timeout is None else timeout
    try:
        done = subprocess.run(
            ["dot", f"-T{fmt}"],
            input=dot.source.encode(),
            capture_output=True,
            timeout=limit,
            check=False,
        )
    except subprocess.TimeoutExpired:  # run() has already killed dot
        raise DotTimeoutError(
            f"`dot` took more than the time limit of {limit:g} s (viz.graph.DOT_TIMEOUT) "
            "to lay out the graph and was stopped; draw a smaller expression or raise "
            "the limit"
        ) from None
    if done.returncode != 0:
        raise DotError(f"`dot` failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


def render(dot: graphviz.Digraph, path: str, fmt: str = "svg", timeout: float | None = None) -> str:
    """Render with the real `dot` to `path`.{fmt}; returns the file written. Nothing is
    written unless `dot` succeeds within `timeout` seconds (default `DOT_TIMEOUT`)."""
    out = f"{path}.{fmt}"
    image = pipe(dot, fmt, timeout)
    with open(out, "wb") as f:
        f.write(image)
    return out


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
