"""Drawing a computation graph with graphviz: value nodes (label, data, grad), a small
node per op, and optionally the local derivative d out/d in on each edge.

Leaves are drawn in another colour than computed nodes, so inputs and parameters stand
out. Nodes are numbered in a fixed order (the engine's backward order), so the same
graph always gives the same DOT text, byte for byte.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import graphviz

from engine import Value
from engine.backprop import order

INSTALL_HINT = (
    "graphviz's `dot` program was not found: install it with `apt-get install graphviz` "
    "(Debian/Ubuntu), `brew install graphviz` (macOS) or `conda install graphviz`. "
    "The DOT source is still available as `.source`."
)


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


class DotMissingError(RuntimeError):
    """The `dot` program is missing; the message says how to install it."""


def has_dot() -> bool:
    return shutil.which("dot") is not None


def draw_dot(
    root: Value,
    rankdir: str = "LR",
    fmt: str = "{:.4f}",
    show_grad: bool = True,
    show_local: bool = True,
    max_nodes: int = 500,
    highlight: Value | None = None,
    done: set[int] | None = None,
    edge_notes: dict[tuple[int, int], str] | None = None,
    collapse: Sequence[Collapse] = (),
) -> graphviz.Digraph:
    """The graph of everything `root` depends on, as a `graphviz.Digraph`.

    rankdir "LR" or "TB"; `fmt` formats numbers; `show_grad`/`show_local` toggle grads
    and the local derivatives on edges. More than `max_nodes` nodes is a ValueError
    (a full MLP graph is unreadable: draw one neuron, or raise the limit).
    `collapse` draws modules (a neuron, a layer) as single boxes (see `Collapse`).
    `highlight`, `done` and `edge_notes` are used by the backprop stepper.
    """
    if rankdir not in ("LR", "TB"):
        raise ValueError(f"rankdir must be 'LR' or 'TB', got {rankdir!r}")
    nodes = order(root)[::-1]  # parents first: reads left to right
    if len(nodes) > max_nodes:
        raise ValueError(
            f"the graph has {len(nodes)} nodes, more than max_nodes={max_nodes}; "
            "draw a smaller expression or pass a larger max_nodes"
        )
    name = {id(v): f"n{i}" for i, v in enumerate(nodes)}
    box: dict[int, str] = {}  # node id -> the box it is hidden in
    for k, group in enumerate(collapse):
        for m in _members(group):
            box[m] = f"box{k}"
    dot = graphviz.Digraph(format="svg", graph_attr={"rankdir": rankdir})
    dot.attr("node", fontname="Helvetica", fontsize="11")
    dot.attr("edge", fontname="Helvetica", fontsize="9")
    if show_grad and all(v.grad == 0.0 for v in nodes):
        dot.attr(label="grads are all 0: call backward() first", labelloc="t", fontcolor="gray40")
    for k, group in enumerate(collapse):
        outs = ", ".join(fmt.format(o.data) for o in group.outputs)
        dot.node(
            f"box{k}",
            f"{group.label}\\nout {outs}",
            shape="box3d",
            style="filled",
            fillcolor="#ede9fe",
        )
    drawn_edges: set[tuple[str, str]] = set()

    def source(p: Value) -> str:
        return box.get(id(p), name[id(p)])

    for v in nodes:
        if id(v) in box:  # hidden in a box: only its edges from outside the box are drawn
            for p in v.parents:
                edge = (source(p), box[id(v)])
                if edge[0] != edge[1] and edge not in drawn_edges:
                    drawn_edges.add(edge)
                    dot.edge(*edge)
            continue
        n = name[id(v)]
        fields = [v.label] if v.label else []
        fields.append(f"data {fmt.format(v.data)}")
        if show_grad:
            fields.append(f"grad {fmt.format(v.grad)}")
        colour = "#dbeafe" if v.is_leaf else "#f3f4f6"
        pen = "1"
        if done is not None and id(v) in done:
            colour = "#dcfce7"
        if highlight is not None and v is highlight:
            colour, pen = "#fde68a", "3"
        dot.node(
            n,
            "{ " + " | ".join(fields) + " }",
            shape="record",
            style="filled",
            fillcolor=colour,
            penwidth=pen,
        )
        if v.is_leaf:
            continue
        op = n + "_op"
        dot.node(op, v.op, shape="circle", width="0.3", fixedsize="false", margin="0.02")
        dot.edge(op, n)
        for k, (p, d) in enumerate(zip(v.parents, v.local_grads)):
            label = ""
            if show_local:
                label = f"local {fmt.format(d)}"
            if edge_notes and (id(v), k) in edge_notes:
                label = (label + "\n" if label else "") + edge_notes[(id(v), k)]
            dot.edge(source(p), op, label=label)
    return dot


def render(dot: graphviz.Digraph, path: str, fmt: str = "svg") -> str:
    """Render with the real `dot` to `path`.{fmt}; returns the file written."""
    if not has_dot():
        raise DotMissingError(INSTALL_HINT)
    return dot.render(outfile=f"{path}.{fmt}", format=fmt, cleanup=True)


def _repr_svg_(v: Value) -> Any:
    """A Value's graph in Jupyter; None (plain repr) without `dot` or past 200 nodes."""
    if not has_dot():
        return None
    try:
        return draw_dot(v, max_nodes=200)._repr_image_svg_xml()
    except ValueError:
        return None


# In Jupyter a Value shows as its graph (viz installs this; engine never imports viz).
Value._repr_svg_ = _repr_svg_  # type: ignore[attr-defined]
