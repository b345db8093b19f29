"""Backpropagation: order, accumulation, deep graphs, no_grad, the step-through, memory."""

from __future__ import annotations

import gc
import math
import random
import sys

import numpy as np
import pytest
from chainrule.engine import Value, add_all, logsumexp, neuron, no_grad
from chainrule.engine.backprop import interior_order, order
from chainrule.engine.ops import ACTIVATIONS
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.ops import ALL, Op
from tests.strategies import instructions, run_program


def test_second_backward_adds_to_leaves_but_recomputes_interior_nodes() -> None:
    x = Value(3.0)
    y = x * x * x
    y.backward()
    assert x.grad == 27.0
    y.backward()
    assert x.grad == 54.0  # micrograd double-counts the interior x*x and gives 72
    inner = y.parents[0]
    assert inner.grad == 3.0  # d y/d(x*x) = x, recomputed, not doubled


def test_zero_grad_resets_the_whole_graph() -> None:
    x = Value(3.0)
    y = (x * 2).tanh()
    y.backward()
    y.zero_grad()
    assert all(v.grad == 0.0 for v in order(y))


def test_diamond_gets_the_sum_of_all_paths() -> None:
    x = Value(1.5)
    a, b = x * 2, x * 3
    y = a * b  # 6x², dy/dx = 12x
    y.backward()
    assert x.grad == 12 * 1.5


def test_a_million_node_chain_needs_no_recursion() -> None:
    x = Value(1.0)
    v = x
    for _ in range(1_000_000):
        v = v + 1e-6
    limit = sys.getrecursionlimit()
    v.backward()
    assert x.grad == 1.0 and sys.getrecursionlimit() == limit
    del v  # freeing a million-deep chain must not overflow the C stack either


def test_order_puts_every_node_before_its_parents() -> None:
    x = Value(0.5)
    y = (x * x + x).tanh() * x
    nodes = order(y)
    position = {id(v): i for i, v in enumerate(nodes)}
    assert nodes[0] is y and len(nodes) == len(position)
    for v in nodes:
        for p in v.parents:
            assert position[id(v)] < position[id(p)]
    assert [v.op for v in order(y)] == [v.op for v in nodes]  # the same on every run


def test_backward_of_a_leaf_accumulates_one() -> None:
    x = Value(2.0)
    x.backward()
    x.backward()
    assert x.grad == 2.0


def test_no_grad_records_nothing_and_restores() -> None:
    x = Value(2.0)
    with no_grad():
        y = x * x + 1
        with no_grad():
            z = y.tanh()
        w = z * x
    assert y.is_leaf and z.is_leaf and w.is_leaf and y.data == 5.0
    v = x * x
    assert v.parents == (x, x)

    @no_grad()
    def predict(a: Value) -> Value:
        return a * 3

    assert predict(x).is_leaf and not (x * 3).is_leaf


def test_no_grad_restores_after_an_error() -> None:
    with pytest.raises(ValueError), no_grad():
        Value(-1.0).log()
    assert not (Value(1.0) * 2).is_leaf


def _plain_order(root: Value) -> list[Value]:
    """The traversal without its shortcuts: depth-first, each node's parents pushed in
    their stored order above the node and a marker, emitted when the marker comes off."""
    topo: list[Value] = []
    seen: set[int] = set()
    stack: list[Value | None] = [root]
    while stack:
        v = stack.pop()
        if v is None:
            topo.append(stack.pop())  # type: ignore[arg-type]
        elif id(v) not in seen and not v.is_leaf:
            seen.add(id(v))
            stack += [v, None, *(p for p in v.parents if id(p) not in seen)]
    return topo[::-1]


@settings(max_examples=200)
@given(st.lists(st.floats(-2.0, 2.0), min_size=1, max_size=4), instructions, st.booleans())
def test_the_traversal_is_the_plain_depth_first_order(
    xs: list[float], program, squares: bool
) -> None:  # type: ignore[no-untyped-def]
    """Its shortcuts (a parent made of leaves emitted at once, a chain walked without the
    stack) give exactly the plain order, a topological one: shared nodes, x * x, chains."""
    leaves = [Value(x) for x in xs]
    _, root = run_program(leaves, program)
    if squares:  # micrograd's L2 term: a chain of adds of nodes made from leaves only
        root = root + sum(p * p for p in leaves)
    nodes = interior_order(root)
    assert nodes == _plain_order(root)
    position = {id(v): i for i, v in enumerate(nodes)}
    assert len(position) == len(nodes)
    for v in nodes:
        assert all(position[id(v)] < position[id(p)] for p in v.parents if not p.is_leaf)


@given(st.lists(st.floats(-2.0, 2.0), min_size=1, max_size=4), instructions)
def test_step_through_leaves_exactly_the_grads_of_backward(xs: list[float], program) -> None:  # type: ignore[no-untyped-def]
    a_leaves = [Value(x) for x in xs]
    b_leaves = [Value(x) for x in xs]
    a_pool, a_root = run_program(a_leaves, program)
    b_pool, b_root = run_program(b_leaves, program)
    a_root.backward()
    steps = list(b_root.backward_steps())
    assert [v.grad for v in a_pool] == [v.grad for v in b_pool]
    assert len(steps) == sum(not v.is_leaf for v in order(b_root))
    assert steps[0].node is b_root and steps[0].upstream == 1.0
    for s in steps:
        assert s.upstream == s.node.grad
        assert [c.parent for c in s.contributions] == list(s.node.parents)
        assert [c.local for c in s.contributions] == list(s.node.local_grads)


def test_step_records_the_chain_rule_product() -> None:
    x = Value(2.0, label="x")
    y = x * x
    z = y.tanh()
    first, second = list(z.backward_steps())
    assert first.node is z and first.contributions[0].parent is y
    assert first.contributions[0].local == pytest.approx(1 - z.data**2)
    assert second.node is y and second.upstream == first.contributions[0].added
    assert [c.added for c in second.contributions] == [second.upstream * 2.0] * 2


def test_inactive_relu_neuron_passes_nothing() -> None:
    w, x = [Value(1.0)], [Value(-1.0)]
    out = neuron(w, x, None, "relu")
    (step,) = list(out.backward_steps())
    assert all(c.added == 0.0 for c in step.contributions)
    assert w[0].grad == 0.0 and x[0].grad == 0.0


def _garbage_after_dropping(make) -> int:  # type: ignore[no-untyped-def]
    gc.collect()
    gc.disable()
    try:
        root = make()
        root.backward()
        del root
        return gc.collect()  # objects that only the cyclic collector could free
    finally:
        gc.enable()


def _graph(V):  # type: ignore[no-untyped-def]
    xs = [V(0.1 * i) for i in range(20)]
    out = xs[0]
    for x in xs[1:]:
        out = (out * x + x).relu() + out
    return out


def test_graphs_hold_no_reference_cycles() -> None:
    assert _garbage_after_dropping(lambda: _graph(Value)) == 0


def test_the_cycle_check_can_fail() -> None:
    # micrograd's closures capture their own output node: the same check finds garbage.
    from micrograd.engine import Value as MicrogradValue

    assert _garbage_after_dropping(lambda: _graph(MicrogradValue)) > 0


def _nary_program(xs: list[Value], seed: int) -> tuple[list[Value], Value]:
    """A random graph mixing elementary ops with fused nodes (neurons with inactive ReLUs,
    sums, logsumexp), for the fast backward against the per-node rule."""
    rng = random.Random(seed)
    pool = list(xs)
    for _ in range(30):
        pick = lambda: pool[rng.randrange(len(pool))]  # noqa: E731
        kind = rng.randrange(5)
        if kind == 0:
            k = rng.randint(1, 3)
            act = rng.choice(["relu", "tanh", "sigmoid", "identity"])
            v = neuron([pick() for _ in range(k)], [pick() for _ in range(k)], pick(), act)
        elif kind == 1:
            v = add_all([pick(), 2.0, pick()])
        elif kind == 2:
            v = logsumexp([pick(), pick()])
        elif kind == 3:
            v = pick() * pick().tanh()
        else:
            v = (pick() - pick()).relu()
        pool.append(v)
    return pool, add_all(pool[len(xs) :])


@given(st.lists(st.floats(-2.0, 2.0), min_size=1, max_size=5), st.integers(0, 10**6))
def test_fast_backward_equals_the_per_node_rule(xs: list[float], seed: int) -> None:
    a_pool, a_root = _nary_program([Value(x) for x in xs], seed)
    b_pool, b_root = _nary_program([Value(x) for x in xs], seed)
    a_root.backward()
    for _ in b_root.backward_steps():
        pass
    assert [v.grad for v in a_pool] == [v.grad for v in b_pool]


@pytest.mark.parametrize("op", ALL, ids=lambda op: op.name)
@given(data=st.data())
def test_stored_local_derivatives_are_the_rule_at_the_numbers(op: Op, data: st.DataObject) -> None:
    """The forward pass stores rule(inputs, output) as numbers (some ops inline it for
    speed); the graph path evaluates the same rule on Values: both must agree."""
    xs = [data.draw(d, label=f"x{i}") for i, d in enumerate(op.fd_domains)]
    out = op.ours(*[Value(x) for x in xs])
    stored = out.local_grads
    from_rule = [
        d.data if isinstance(d, Value) else d for _, d, _ in out.chain_rule(Value(1.0), True)
    ]
    for s_, r in zip(stored, from_rule):
        assert s_ == r or (math.isnan(s_) and math.isnan(r)) or math.isclose(s_, r, rel_tol=1e-13)


@given(st.floats(-50.0, 50.0))
def test_activation_tables_agree_with_the_rules(x: float) -> None:
    for name, act in ACTIVATIONS.items():
        out, slope = act.scalar(x)
        assert slope == act.rule(x, out)
        # the elementwise form gives the same numbers (numpy's tanh may differ by an ulp)
        outs, slopes = act.array(np.array([x]))
        assert abs(outs[0] - out) <= 1e-15 * max(1.0, abs(out)), name
        assert abs(slopes[0] - slope) <= 1e-15, name
