"""Code written the way micrograd's lecture writes it, as a user would paste it: its
`trace` and `draw_dot`, reading only `_prev`, `_op`, `data`, `grad` and `label`."""

# ruff: noqa: UP031

from __future__ import annotations

from typing import Any


def trace(root: Any) -> tuple[set[Any], set[tuple[Any, Any]]]:
    # the lecture's trace, verbatim apart from the type comments
    nodes: set[Any] = set()
    edges: set[tuple[Any, Any]] = set()

    def build(v):  # type: ignore[no-untyped-def]
        if v not in nodes:
            nodes.add(v)
            for child in v._prev:
                edges.add((child, v))
                build(child)

    build(root)
    return nodes, edges


def draw_dot(root: Any) -> Any:
    from graphviz import Digraph

    dot = Digraph(format="svg", graph_attr={"rankdir": "LR"})
    nodes, edges = trace(root)
    for n in nodes:
        uid = str(id(n))
        dot.node(
            name=uid,
            label="{ %s | data %.4f | grad %.4f }" % (n.label, n.data, n.grad),
            shape="record",
        )
        if n._op:
            dot.node(name=uid + n._op, label=n._op)
            dot.edge(uid + n._op, uid)
    for n1, n2 in edges:
        dot.edge(str(id(n1)), str(id(n2)) + n2._op)
    return dot
