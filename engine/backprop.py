"""Reverse-mode backpropagation over `Value` nodes.

The chain rule: if L depends on a node v only through its children c, then
    dL/dv = Σ_c dL/dc · dc/dv.
Processing nodes children-before-parents (reverse topological order), each node's
dL/dv is complete when its turn comes, and it passes dL/dv · dv/dp to each parent p.

Order without recursion: a depth-first search with an explicit stack (see `order`),
so a chain of a million nodes is fine. (Sorting by a per-node creation number would
also work, but the number costs ~36 bytes a node; the search costs ~70 ns.)
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.value import Value


def interior_order(root: Value) -> list[Value]:
    """The nodes `root` depends on that an op made (leaves left out), each before all
    nodes it was computed from: the order backward processes them in.

    An iterative depth-first search: a node is pushed, then a marker (None) above it,
    then its unvisited parents above that. When the marker comes off the stack, every
    parent has been emitted, so the node is emitted next (post-order); reversed, every
    node comes before its parents. Parents are visited in their stored order, so the
    order is the same on every run.
    """
    if root._a is None:
        return []
    topo: list[Value] = []
    visited: set[Value] = set()
    stack: list[Value | None] = [root]
    push, pop, emit, mark = stack.append, stack.pop, topo.append, visited.add
    while stack:
        v = pop()
        if v is None:  # all parents of the node below the marker are done
            emit(pop())  # type: ignore[arg-type]
            continue
        if v in visited:
            continue
        mark(v)
        push(v)
        push(None)
        a = v._a
        if type(a) is tuple:
            for p in a:
                if p._a is not None and p not in visited:
                    push(p)
        else:
            if a._a is not None and a not in visited:
                push(a)
            b = v._b
            if b is not None and b._a is not None and b not in visited:
                push(b)
    topo.reverse()
    return topo


def order(root: Value) -> list[Value]:
    """Every node `root` depends on, itself included, each before its parents: the
    interior nodes in backward order, then the leaves in the order first met."""
    if root._a is None:
        return [root]
    nodes = interior_order(root)
    seen: set[Value] = set()
    leaves = []
    for v in nodes:
        for p in v.parents:
            if p._a is None and p not in seen:
                seen.add(p)
                leaves.append(p)
    return nodes + leaves


def _seed(root: Value) -> list[Value]:
    """The interior nodes in backward order, their grads from zero (so a second pass
    never double-counts them); leaves keep theirs and accumulate, as in PyTorch.
    d root/d root = 1."""
    nodes = interior_order(root)
    for v in nodes:
        v.grad = 0.0
    root.grad = 1.0 if root._a is not None else root.grad + 1.0
    return nodes


# One backward pass at a time, in every thread: two passes over a shared graph would
# zero and add into the same interior grads, and leaves would receive more than their due.
# A global lock is simplest and passes never run in parallel anyway (the GIL).
_lock = threading.RLock()


def backward(root: Value) -> None:
    """Fill in d root/d v for every node v that root depends on.

    Thread-safe: concurrent calls (on one graph or several) run one after another."""
    with _lock:
        _backward(root)


def _backward(root: Value) -> None:
    nodes = _seed(root)
    for v in nodes:
        a = v._a
        g = v.grad
        if type(a) is tuple:
            g *= v._db
            if g == 0.0:  # e.g. an inactive ReLU unit: nothing flows to its inputs
                continue
            inner = v._da
            if inner is None:
                for p in a:
                    p.grad += g
            else:
                for p, d in zip(a, inner):
                    p.grad += g * d
        else:
            a.grad += g * v._da
            b = v._b
            if b is not None:
                b.grad += g * v._db


@dataclass(frozen=True)
class Contribution:
    """One edge of one chain-rule step: `added` = upstream · `local` goes into parent.grad."""

    parent: Value
    local: float
    added: float


@dataclass(frozen=True)
class Step:
    """One chain-rule step: `node` passes its gradient `upstream` (= d root/d node) on."""

    index: int
    node: Value
    upstream: float
    contributions: tuple[Contribution, ...]


def steps(root: Value) -> Iterator[Step]:
    """The backward pass as a sequence of steps, one per interior node, in backward order.

    Each step is applied before it is yielded; consuming every step leaves exactly
    the gradients `backward()` leaves (same order, same arithmetic).
    """
    nodes = _seed(root)
    for index, v in enumerate(nodes):
        g = v.grad
        if type(v._a) is tuple:
            scaled = g * v._db
            inner = v._da if v._da is not None else (1.0,) * len(v._a)
            adds = [(p, v._db * d, scaled * d) for p, d in zip(v._a, inner)]
            flows = scaled != 0.0  # an inactive ReLU unit passes nothing on (as backward)
        else:
            adds = [(p, d, g * d) for p, d in zip(v.parents, v.local_grads)]
            flows = True
        if flows:
            for p, _, added in adds:
                p.grad += added
        yield Step(index, v, g, tuple(Contribution(p, local, added) for p, local, added in adds))
