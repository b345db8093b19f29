"""An MLP's architecture as a graph: units as nodes, weights as edges whose width shows
|w| and whose colour shows the sign (the palette's positive blue, negative red)."""

from __future__ import annotations

import graphviz
from chainrule.nn.layers import Layer
from chainrule.nn.module import Module
from chainrule.viz.palette import COLOURS


def draw_mlp(model: Module, max_units: int = 64) -> graphviz.Digraph:
    """Draw the Layers of `model` left to right; more than `max_units` in a layer is an error."""
    layers = [m for m in getattr(model, "layers", [model]) if isinstance(m, Layer)]
    if not layers:
        raise ValueError("draw_mlp needs a model made of Layers")
    widest = max([layers[0].nin, *(m.nout for m in layers)])
    if widest > max_units:
        raise ValueError(f"a layer has {widest} units, more than max_units={max_units}")
    big = max(abs(w.data) for m in layers for row in m.weight for w in row) or 1.0
    dot = graphviz.Digraph(
        format="svg", graph_attr={"rankdir": "LR", "splines": "line", "nodesep": "0.15"}
    )
    dot.attr("node", shape="circle", label="", width="0.3", style="filled", fillcolor="#e5e7eb")
    sizes = [layers[0].nin, *(m.nout for m in layers)]
    for k, n in enumerate(sizes):
        with dot.subgraph(name=f"cluster_{k}") as c:
            c.attr(color="white", label="input" if k == 0 else f"{layers[k - 1].activation}")
            for i in range(n):
                c.node(f"l{k}u{i}")
    for k, m in enumerate(layers):
        for j, row in enumerate(m.weight):
            for i, w in enumerate(row):
                colour = COLOURS["positive" if w.data >= 0 else "negative"]
                dot.edge(
                    f"l{k}u{i}",
                    f"l{k + 1}u{j}",
                    color=colour,
                    arrowhead="none",
                    penwidth=f"{0.2 + 3.0 * abs(w.data) / big:.2f}",
                )
    return dot
