"""Reverse-mode backpropagation over `Value` nodes.

The chain rule: if L depends on a node v only through its children c, then
    dL/dv = Σ_c dL/dc · dc/dv.
Processing nodes children-before-parents (reverse topological order), each node's
dL/dv is complete when its turn comes, and it passes dL/dv · dv/dp to each parent p.
That per-node step is `Value.chain_rule` (parent, local derivative, amount added); every
sweep here is a loop over it: `steps` (one step at a time), `grad` (into a dict, as
`torch.autograd.grad`, with Values for `create_graph`) and `backward` (into `.grad`).
`backward` alone inlines the step for speed (`_sweep_fast`; the benchmark shows the
per-node call costing about a third of the backward pass), and a test checks it against
`steps` on random graphs.

Order without recursion: a depth-first search with an explicit stack (see `order`),
so a chain of a million nodes is fine. (Sorting by a per-node creation number would
also work, but the number costs ~36 bytes a node; the search costs ~70 ns.)
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from numbers import Real
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chainrule.engine.value import Value

# One backward pass at a time, in every thread: two passes over a shared graph would
# zero and add into the same interior grads, and leaves would receive more than their due.
# A global lock is simplest, and passes never run in parallel anyway (the GIL).
_lock = threading.RLock()


def interior_order(*roots: Value) -> list[Value]:
    """The nodes the roots depend on that an op made (leaves left out), each before all
    nodes it was computed from: the order backward processes them in.

    An iterative depth-first search: a node is pushed, then a marker (None) above it,
    then its unvisited parents above that. When the marker comes off the stack, every
    parent has been emitted, so the node is emitted next (post-order); reversed, every
    node comes before its parents. Parents are visited in their stored order, so the
    order is the same on every run.
    """
    topo: list[Value] = []
    visited: set[Value] = set()
    stack: list[Value | None] = [r for r in reversed(roots) if not r.is_leaf]
    push, pop, emit, mark = stack.append, stack.pop, topo.append, visited.add
    while stack:
        v = pop()
        if v is None:  # all parents of the node below the marker are done
            emit(pop())  # type: ignore[arg-type]
            continue
        if v in visited:
            continue
        while True:  # down a chain of nodes with one parent left to visit, without the stack
            mark(v)
            # the record read directly (as in `_sweep_fast`): the traversal is a third of
            # backward's time, and the `parents` property would double it
            a = v._a
            if type(a) is tuple:
                push(v)
                push(None)
                for p in a:
                    if p._a is not None and p not in visited:
                        push(p)
                break
            # A unary or binary node, most of a scalar graph, with shortcuts that keep the
            # order: a second parent made from leaves only (p * p) is emitted at once, as it
            # would be when popped next; with one parent left, the walk goes straight on to
            # it (its marker waits on the stack); a node with nothing left is emitted.
            b = v._b
            if b is None or b._a is None or b in visited:
                b = None
            elif type(b._a) is not tuple and b._a._a is None and (b._b is None or b._b._a is None):
                mark(b)
                emit(b)
                b = None
            if a._a is not None and a not in visited:
                push(v)
                push(None)
                if b is None:
                    v = a
                    continue
                push(a)
                push(b)
            elif b is not None:
                push(v)
                push(None)
                push(b)
            else:
                emit(v)
            break
    topo.reverse()
    return topo


def order(root: Value) -> list[Value]:
    """Every node `root` depends on, itself included, each before its parents: the
    interior nodes in backward order, then the leaves in the order first met."""
    if root.is_leaf:
        return [root]
    nodes = interior_order(root)
    seen: set[Value] = set()
    leaves = []
    for v in nodes:
        for p in v.parents:
            if p.is_leaf and p not in seen:
                seen.add(p)
                leaves.append(p)
    return nodes + leaves


def _seed(root: Value, gradient: float) -> list[Value]:
    """The interior nodes in backward order, their grads from zero (so a second pass
    never double-counts them); leaves keep theirs and accumulate, as in PyTorch.
    d root/d root = gradient."""
    nodes = interior_order(root)
    for v in nodes:
        v.grad = 0.0
    root.grad = gradient if nodes else root.grad + gradient
    return nodes


def backward(root: Value, gradient: float = 1.0, create_graph: bool = False) -> None:
    """Fill in gradient · d root/d v for every node v that root depends on.

    Thread-safe: concurrent calls (on one graph or several) run one after another.
    With `create_graph`, also leave each node's gradient as a Value (`grad_value`)."""
    gradient = seed_for(root, gradient, "backward: gradient", keep_value=create_graph)
    with _lock:
        if create_graph:
            _backward_graph(root, gradient)
        else:
            _sweep_fast(_seed(root, gradient))


def seed_for(root: Value, seed: Any, what: str, keep_value: bool = False) -> Any:
    """A gradient seed for `root` as a float: a real number (numpy's scalars too) or a
    Value's number (the Value itself with `keep_value`); a bool, a string or anything
    else is a TypeError, as in PyTorch. A batched root needs an array of its shape (a
    batched Value, or numbers), as PyTorch's non-scalar outputs do."""
    from chainrule.engine.value import Value

    shape = None if type(root.data) is float else root.data.shape
    if isinstance(seed, Value):
        number = seed.data
    elif type(seed).__name__ == "ndarray" or (
        shape is not None and isinstance(seed, (list, tuple))
    ):
        from chainrule.engine.batched import as_batch

        number = seed = as_batch(seed)
    elif isinstance(seed, bool) or not isinstance(seed, Real):
        raise TypeError(f"{what} must be a real number or a Value, got {type(seed).__name__}")
    else:
        number = seed = float(seed)
    if getattr(number, "shape", None) != shape:
        raise RuntimeError(
            f"{what}: the output is {'a scalar' if shape is None else f'batched, shape {shape}'}"
            f" and the gradient {'a number' if type(number) is float else number.shape}: give "
            "a gradient of the output's shape, or reduce a batched output first (.sum(), "
            ".mean()), as PyTorch's grad can be implicitly created only for scalar outputs"
        )
    return seed if keep_value else number


def _sweep_fast(nodes: list[Value]) -> None:
    """`Value.chain_rule` applied to every node, hand-inlined (same arithmetic, same
    order; tests/test_backprop.py checks it equal to `steps`). A batched node's edges
    (engine.batched) take its step; a layer's edges are `held` while the sweep passes
    over its units and `flush` before any other node, so no parent is read early."""
    held = None  # a layer whose units' gradients are recorded, not yet passed on
    for v in nodes:
        if held is not None and v._b is not held:  # the sweep leaves the layer
            held.flush()
            held = None
        a = v._a
        if type(a) is tuple:
            edges = v._b
            if edges is not None:
                if edges is not held:
                    held = edges.open()
                edges.step(v, v.grad)
                continue
            g = v.grad * v._db
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
            g = v.grad
            a.grad += g * v._da
            b = v._b
            if b is not None:
                b.grad += g * v._db
    if held is not None:
        held.flush()


def _backward_graph(root: Value, gradient: float) -> None:
    """backward(create_graph=True): the sweep with Values, then the numbers into .grad."""
    from chainrule.engine.value import Value

    nodes = interior_order(root)
    seed = gradient if isinstance(gradient, Value) else Value(gradient)
    grads = _sweep(nodes, {root: seed}, create_graph=True)
    for v in order(root):
        g = grads.get(v)
        if g is None:
            g = Value(0.0)
        if v.is_leaf:
            old = v.grad_value
            v.grad += g.data
            v._set_grad_value(g if old is None else old + g)
        else:
            v.grad = g.data


def _sweep(nodes: list[Value], grads: dict[Value, Any], create_graph: bool) -> dict[Value, Any]:
    """Propagate the gradients in `grads` (seeded at the roots) through `nodes` in
    backward order, adding into the dict; Values (a differentiable graph) with
    `create_graph`, floats otherwise."""
    for v in nodes:
        g = grads.get(v)
        if g is None:
            continue
        for p, _, added in v.chain_rule(g, create_graph):
            old = grads.get(p)
            grads[p] = added if old is None else old + added
    return grads


def grad(
    outputs: Value | Sequence[Value],
    inputs: Value | Sequence[Value],
    grad_outputs: float | Value | Sequence[float | Value] | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Any, ...]:
    """d outputs/d inputs, as `torch.autograd.grad`: Σ_k grad_outputs[k] · d outputs[k]/d x
    for each input x, without touching any `.grad`.

    `grad_outputs` defaults to 1 for every output. With `create_graph=True` the results
    are `Value`s whose graph can be differentiated again (Hessians, Hessian-vector
    products); otherwise floats. An input the outputs do not depend on is an error,
    or 0.0 with `allow_unused=True` (PyTorch gives None).
    """
    from chainrule.engine.value import Value

    outs = [outputs] if isinstance(outputs, Value) else list(outputs)
    xs = [inputs] if isinstance(inputs, Value) else list(inputs)
    if grad_outputs is None:
        seeds: list[Any] = [1.0] * len(outs)
    elif isinstance(grad_outputs, (Real, Value)) or type(grad_outputs).__name__ == "ndarray":
        seeds = [grad_outputs]
    elif isinstance(grad_outputs, (list, tuple)):
        seeds = list(grad_outputs)
    else:
        raise TypeError(
            f"grad: grad_outputs must be a number, a Value or a list of them, "
            f"got {type(grad_outputs).__name__}"
        )
    if len(seeds) != len(outs):
        raise ValueError(f"grad: {len(seeds)} grad_outputs for {len(outs)} outputs")
    for name, group in (("outputs", outs), ("inputs", xs)):
        for v in group:
            if not isinstance(v, Value):
                raise TypeError(f"grad: {name} must be Values, got {type(v).__name__}")
    grads: dict[Value, Any] = {}
    for out, seed in zip(outs, seeds):
        seed = seed_for(out, seed, "grad: each of grad_outputs", keep_value=create_graph)
        if create_graph and not isinstance(seed, Value):
            seed = Value(seed)
        old = grads.get(out)
        grads[out] = seed if old is None else old + seed
    with _lock:
        _sweep(interior_order(*outs), grads, create_graph)
    result = []
    for i, x in enumerate(xs):
        g = grads.get(x)
        if g is None:
            if not allow_unused:
                raise ValueError(
                    f"grad: input {i} ({x!r}) is not used in the graph of the outputs; "
                    "pass allow_unused=True to get 0"
                )
            g = Value(0.0) if create_graph else 0.0
        result.append(g)
    return tuple(result)


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

    Starts from zero: every node of the graph, leaves included, has its grad set to 0
    before the root is seeded with 1, so the steps show this one pass's arithmetic even
    after an earlier `backward()` (which accumulates into leaves, as PyTorch). Each step
    is applied before it is yielded; consuming every step leaves exactly the gradients
    one `backward()` from zeroed gradients leaves (same order, same arithmetic).
    """
    seed_for(root, 1.0, "backward_steps")  # a scalar root (a batched one needs reducing)
    with _lock:
        for v in order(root):
            v.grad = 0.0
        nodes = _seed(root, 1.0)
    for index, v in enumerate(nodes):
        g = v.grad
        with _lock:
            rule = v.chain_rule(g)
            for p, _, added in rule:
                p.grad += added
        yield Step(index, v, g, tuple(Contribution(p, local, added) for p, local, added in rule))
