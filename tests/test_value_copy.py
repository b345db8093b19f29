"""Copying and pickling a graph (`copy.copy`, `copy.deepcopy`, `pickle` round trips), and
the number conversions `int(v)` and `round(v)` against PyTorch's."""

from __future__ import annotations

import collections
import copy
import errno
import io
import math
import pickle
import threading
from collections.abc import Callable
from typing import Any

import pytest
import torch
from chainrule.engine import Context, Function, Value, add_all, copying, neuron
from chainrule.engine.copying import ancestors_of as _ancestors
from chainrule.engine.copying import marked
from hypothesis import given

from chainrule import engine
from tests.reference import assert_close
from tests.strategies import reals


class Softsign(Function):
    """x / (1 + |x|), d/dx = 1 / (1 + |x|)² (module-level, so pickle finds it)."""

    @staticmethod
    def forward(ctx: Context, x: Value) -> Value:
        ctx.save_for_backward(x)
        return x / (1 + x.abs())

    @staticmethod
    def backward(ctx: Context, grad_output: Value) -> Value:
        (x,) = ctx.saved_values
        return grad_output / (1 + x.abs()) ** 2


def _graph() -> tuple[Value, list[Value]]:
    """One of every kind of node: binary, unary, cached and uncached powers, n-ary fused
    nodes, a user's Function, micrograd's hand-made node, a leaf used twice."""
    x, w, b = Value(0.5, label="x"), Value(-1.5, label="w"), Value(0.25, label="b")
    h = (x * w + x).tanh() ** 2 + x**2.75 + x**0.123456789 + (w * w).sqrt()
    n = neuron([w, b], [x, x], b, "tanh") + add_all([x, w, b, h]) + Softsign.apply(h)
    hand = Value(n.data * x.data, (n, x), "*", label="hand")
    return (hand + x / b).sigmoid() + Value(2.0).log() * (-b).exp(), [x, w, b]


def _shape(root: Value) -> list[tuple[Any, ...]]:
    """The graph as numbers: each node's op, data, label, local derivatives and parents
    (by position), so two graphs compare equal exactly when they have one structure."""
    nodes = [*_ancestors(root), root]
    where = {v: i for i, v in enumerate(nodes)}
    return [
        (str(v.op), v.data, v.label, v.local_grads, tuple(where[p] for p in v.parents))
        for v in nodes
    ]


def _round_trip(protocol: int) -> Callable[[Any], Any]:
    return lambda obj: pickle.loads(pickle.dumps(obj, protocol=protocol))


COPIES = {"deepcopy": copy.deepcopy} | {
    f"pickle{p}": _round_trip(p) for p in range(pickle.HIGHEST_PROTOCOL + 1)
}


@pytest.mark.parametrize("how", COPIES.values(), ids=COPIES.keys())
def test_a_copied_graph_has_the_same_structure_and_gradients(how: Callable[[Any], Any]) -> None:
    y, xs = _graph()
    y2, xs2 = how((y, xs))  # copied together: the leaves are the copy's own leaves
    assert _shape(y2) == _shape(y)
    assert all(a is not b for a, b in zip([*_ancestors(y), y], [*_ancestors(y2), y2]))
    assert set(xs2) <= set(_ancestors(y2))
    y.backward()
    assert [x.grad for x in xs2] == [0.0, 0.0, 0.0]  # the original's pass touched no copy
    y2.backward()
    assert [x.grad for x in xs2] == [x.grad for x in xs]
    # gradients of gradients too (the ops' rules, a Function's ctx, came along)
    first = engine.grad(y, xs, create_graph=True)
    first2 = engine.grad(y2, xs2, create_graph=True)
    for g, g2 in zip(first, first2):
        assert engine.grad(g, xs, allow_unused=True) == engine.grad(g2, xs2, allow_unused=True)


@pytest.mark.parametrize("how", COPIES.values(), ids=COPIES.keys())
def test_copies_of_deep_graphs_keep_sharing_and_gradient_values(how: Callable[[Any], Any]) -> None:
    x = Value(1.0, label="x")
    y = x
    for _ in range(3000):  # deeper than Python's recursion limit allows a naive copy
        y = y * 1.0001 + x
    sq = x + x
    sq.backward(create_graph=True)  # x.grad_value: a graph referring back to x
    x2, y2, sq2 = how([x, y, sq])
    assert sq2.parents == (x2, x2) and x2.grad == 2.0
    assert x2.grad_value is not None and x2.grad_value.data == 2.0
    assert x2.grad_value is not x.grad_value
    x.zero_grad()
    x2.zero_grad()
    y.backward()
    y2.backward()
    assert x2.grad == x.grad and y2.data == y.data


def test_a_shallow_copy_is_a_new_node_with_the_same_parents() -> None:
    a, b = Value(2.0), Value(3.0)
    y = a * b
    y2 = copy.copy(y)
    assert y2 is not y and y2.parents == (a, b) and y2.op == "*" and y2.data == 6.0
    y2.backward()
    assert (a.grad, b.grad) == (3.0, 2.0)


def test_a_copied_hand_made_node_without_derivative_still_refuses_backward() -> None:
    a = Value(2.0)
    y = Value(1.0, (a,), "mystery")
    for how in COPIES.values():
        y2 = how(y)
        assert y2.op == "mystery" and y2.parents[0].data == 2.0
        with pytest.raises(RuntimeError, match="'mystery'"):
            y2.backward()


@pytest.mark.parametrize("x", [1.6, -1.6, 2.5, -0.5, 0.0, 1e300, math.nan, math.inf, -math.inf])
def test_int_truncates_as_torch(x: float) -> None:
    t = torch.tensor(x, dtype=torch.float64)
    try:
        expected: Any = int(t)
    except (ValueError, OverflowError) as e:
        with pytest.raises(type(e)):
            int(Value(x))
        return
    got = int(Value(x))
    assert type(got) is int and got == expected


@given(reals)
def test_round_is_torch_round_as_a_value_with_zero_derivative(x: float) -> None:
    """`round(tensor)` is a TypeError in torch 2.13; `round(v)` follows `torch.round`:
    halves to even, a Value, derivative 0."""
    v = Value(x)
    r = round(v)
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    tr = torch.round(t)
    tr.backward()
    assert type(r) is Value
    assert_close(r.data, tr, f"round({x})")
    r.backward()
    assert v.grad == t.grad == 0.0
    assert round(Value(x), 2).data == round(x, 2)


def test_copying_leaves_no_node_marked() -> None:
    """A node saved inside another's list is marked to be saved plainly; the marks of
    nodes already saved earlier in the same pickle are cleared too, so pickling such a
    node again later is flat (no recursion) as well."""
    x = Value(1.0)
    mid = x
    for _ in range(3000):
        mid = mid * 1.0001 + x
    top = mid * 2.0
    for how in COPIES.values():
        how([mid, top])  # mid saved first: then top's list holds it already saved
        assert not marked()
        assert how(mid).data == mid.data  # would exceed the recursion limit if marked


def _chain(n: int = 3000) -> Value:
    x = Value(1.0, label="x")
    y = x
    for _ in range(n):  # deeper than Python's recursion limit allows a naive copy
        y = y * 1.0001 + x
    return y


class _FullDisk(io.BytesIO):
    """A file that fails (no space left) after `room` bytes."""

    def __init__(self, room: int) -> None:
        super().__init__()
        self.room = room

    def write(self, data: Any) -> int:
        if self.tell() + len(data) > self.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        return super().write(data)


@pytest.mark.parametrize("room", [0, 100, 70_000])
def test_a_failed_pickle_leaves_no_marks(room: int) -> None:
    """A pickle that fails part way (a full disk) leaves nothing behind: the same graph
    copies and pickles flat afterwards (a leftover mark would make it recurse)."""
    y = _chain()
    for protocol in (2, 4, pickle.HIGHEST_PROTOCOL):
        with pytest.raises(OSError, match="space"):
            pickle.dump(y, _FullDisk(room), protocol=protocol)
        assert marked() == 0
        assert pickle.loads(pickle.dumps(y, protocol=protocol)).data == y.data
        assert copy.deepcopy(y).data == y.data


def test_a_failed_deepcopy_leaves_no_marks() -> None:
    class Unpicklable(Value):
        def __deepcopy__(self, memo: Any) -> Any:
            raise RuntimeError("not today")

    x = Value(2.0)
    y = Unpicklable(1.0) * x
    for _ in range(2000):
        y = y * 1.0001 + x
    with pytest.raises(RuntimeError, match="not today"):
        copy.deepcopy(y)
    assert marked() == 0
    assert copy.deepcopy(x * 3.0).data == 6.0


def test_two_threads_copying_one_graph_each_walk_it_once(monkeypatch: Any) -> None:
    """Marks are per copy: while one thread is part way through pickling a graph, another
    deep-copies the same graph, walking its ancestors once (shared marks made each
    thread re-walk the graph from every node: about 1000x slower)."""
    y = _chain(2000)
    walks: collections.Counter[int] = collections.Counter()
    real = copying.ancestors_of

    def counting(root: Value) -> list[Value]:
        walks[threading.get_ident()] += 1
        return real(root)

    monkeypatch.setattr(copying, "ancestors_of", counting)
    paused, resume = threading.Event(), threading.Event()

    class Slow(io.BytesIO):
        def write(self, data: Any) -> int:
            paused.set()
            resume.wait(10)
            return super().write(data)

    out = Slow()
    other = threading.Thread(target=lambda: pickle.dump(y, out, protocol=4))
    other.start()
    assert paused.wait(10)
    try:
        y2 = copy.deepcopy(y)  # while the other thread holds its marks
    finally:
        resume.set()
        other.join()
    assert y2.data == y.data and pickle.loads(out.getvalue()).data == y.data
    assert sorted(walks.values()) == [1, 1]
