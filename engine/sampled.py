"""One sample of a batched graph: its own graph and its own backward pass.

A batched graph (`model(X)` over a batch, then a reduction such as `.mean()`) is the
per-sample scalar graph with arrays for numbers. Sample k's own graph is rooted at its own
loss term: the first batched node below the scalar top of the graph (`(...).mean() + reg`).
Below it, a scalar node computed from the batch (batch norm's mean and standard deviation)
is a *batch statistic*: a leaf of the sample's graph, since the sample cannot see how the
others made it. Sample k's backward pass is the chain rule on that graph with the numbers
sample k had in the batched pass, d(its loss term)/d(node): the Values' own gradients (the
batch's) are not touched.

    for step in loss.backward_steps(sample=0):   # loss = (1 - y * model(X)).relu().mean()
        print(step.node.op, step.upstream, [c.added for c in step.contributions])
"""

from __future__ import annotations

from collections.abc import Iterator
from numbers import Integral
from typing import Any, cast

from chainrule.engine.backprop import Contribution, Step
from chainrule.engine.value import Value


def holds_batch(x: Any) -> bool:
    """Whether a node's number `x` is an array over a batch."""
    return getattr(x, "ndim", 0) >= 1


def at(x: Any, sample: int | None) -> float:
    """Sample `sample`'s entry of `x` (a number is every sample's)."""
    return float(x[sample] if sample is not None and holds_batch(x) else x)


def is_batched(root: Value) -> bool:
    """Whether any node of the graph holds a batch (an array) rather than a number."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        v = stack.pop()
        if holds_batch(v.data):
            return True
        seen.add(id(v))
        stack.extend(p for p in v.parents if id(p) not in seen)
    return False


class _BatchDependence:
    """Whether a node's value depends on the batch (a batched node at or above it)."""

    def __init__(self) -> None:
        self.known: dict[int, bool] = {}

    def __call__(self, root: Value) -> bool:
        stack: list[tuple[Value, bool]] = [(root, False)]
        while stack:  # post-order, so a chain of a million nodes needs no recursion
            v, ready = stack.pop()
            if id(v) in self.known:
                continue
            if holds_batch(v.data) or v.is_leaf:
                self.known[id(v)] = holds_batch(v.data)
            elif ready:
                self.known[id(v)] = any(self.known[id(p)] for p in v.parents)
            else:
                stack.append((v, True))
                stack.extend((p, False) for p in v.parents if id(p) not in self.known)
        return self.known[id(root)]


def sample_graph(root: Value, sample: int | None) -> tuple[Value, set[int], int]:
    """(the sample's root, the batch statistics' ids, the batch size) of a batched graph
    (see the module docstring); scalars computed from parameters alone stay as they are."""
    if sample is None:
        raise ValueError("this graph is batched: pass sample=k to show sample k's graph")
    if isinstance(sample, bool) or not isinstance(sample, Integral):
        raise TypeError(f"sample is an integer (an index into the batch), got {sample!r:.40}")
    depends = _BatchDependence()
    v = root
    while not holds_batch(v.data):
        batched = list({id(p): p for p in v.parents if depends(p)}.values())
        if not batched:
            raise ValueError("sample= needs a graph computed over a batch")
        if len(batched) > 1:
            # a.mean() + b.mean(): sample k's term is a_k + b_k, a node no graph holds;
            # rooting it at a_k alone would silently leave b out
            raise ValueError(
                "sample=: this loss reduces the batch in more than one place, so no one node "
                "is sample k's loss term: add the terms before reducing ((a + b).mean()), "
                "or show one term (draw_dot(a.mean(), sample=k))"
            )
        v = batched[0]
    n = len(cast(Any, v.data))  # a batched node: one entry per sample
    if not -n <= sample < n:
        raise IndexError(f"sample {sample} is out of range for a batch of {n}")
    stats: set[int] = set()
    seen: set[int] = set()
    stack = [v]
    while stack:
        u = stack.pop()
        if id(u) in seen:
            continue
        seen.add(id(u))
        if not holds_batch(u.data) and depends(u):
            stats.add(id(u))
            continue
        stack.extend(u.parents)
    return v, stats, n


def sample_order(root: Value, stats: set[int]) -> list[Value]:
    """The sample's nodes in the order `engine.backprop.order` gives a per-sample graph,
    reversed (parents first, the root last), with each batch statistic as a leaf: the
    same numbering, so the same drawing."""

    def interior(v: Value) -> bool:
        return not v.is_leaf and id(v) not in stats

    topo: list[Value] = []
    visited: set[int] = set()
    stack: list[Value | None] = [root] if interior(root) else []
    while stack:  # engine.backprop.interior_order's depth-first post-order
        v = stack.pop()
        if v is None:
            topo.append(cast(Value, stack.pop()))
            continue
        if id(v) in visited:
            continue
        visited.add(id(v))
        stack += [v, None]
        stack += [p for p in v.parents if interior(p) and id(p) not in visited]
    topo.reverse()
    seen: set[int] = set()
    leaves = []
    for v in topo:
        for p in v.parents:
            if not interior(p) and id(p) not in seen:
                seen.add(id(p))
                leaves.append(p)
    return (topo + leaves)[::-1] if topo else [root]


def sample_steps(root: Value, sample: int) -> Iterator[Step]:
    """Sample `sample`'s backward pass through its own graph, one chain-rule step per
    interior node, children before parents: d(loss term)/d(node) with that sample's
    numbers. Nothing is written into the Values' gradients."""
    top, stats, n = sample_graph(root, sample)
    k = sample % n  # sample -1: the last one
    nodes = sample_order(top, stats)
    grad = {id(top): 1.0}
    index = 0
    for v in reversed(nodes):
        if v.is_leaf or id(v) in stats:
            continue
        upstream = grad.get(id(v), 0.0)
        adds = []
        for p, d in zip(v.parents, v.local_grads):
            local = at(d, k)
            grad[id(p)] = grad.get(id(p), 0.0) + upstream * local
            adds.append(Contribution(p, local, upstream * local))
        yield Step(index, v, upstream, tuple(adds))
        index += 1
