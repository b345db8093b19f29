"""micrograd's video lecture (manual `_backward`, its trace and draw_dot, its constructor)
and PyTorch's small idioms on a `Value`."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from chainrule.engine import Value
from chainrule.engine.backprop import order

from chainrule import engine
from tests.micrograd_style import draw_dot, trace
from tests.reference import assert_close, leaf


def _lecture_neuron(V):  # type: ignore[no-untyped-def]
    """The lecture's neuron, node by node, with its labels."""
    x1, x2 = V(2.0, label="x1"), V(0.0, label="x2")
    w1, w2 = V(-3.0, label="w1"), V(1.0, label="w2")
    b = V(6.8813735870195432, label="b")
    x1w1 = x1 * w1
    x1w1.label = "x1*w1"
    x2w2 = x2 * w2
    x2w2.label = "x2*w2"
    x1w1x2w2 = x1w1 + x2w2
    x1w1x2w2.label = "x1*w1 + x2*w2"
    n = x1w1x2w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o, n, b, x1w1x2w2, x2w2, x1w1, x1, x2, w1, w2


def test_lecture_manual_backprop_gives_the_lectures_numbers() -> None:
    o, n, b, x1w1x2w2, x2w2, x1w1, x1, x2, w1, w2 = _lecture_neuron(Value)
    o.grad = 1.0
    o._backward()
    n._backward()
    b._backward()  # a leaf: nothing to do
    x1w1x2w2._backward()
    x2w2._backward()
    x1w1._backward()
    # the numbers the lecture shows
    assert math.isclose(o.data, 0.7071, abs_tol=1e-4)
    assert math.isclose(n.grad, 0.5, abs_tol=1e-12)
    assert math.isclose(x1.grad, -1.5, abs_tol=1e-12) and math.isclose(w1.grad, 1.0)
    assert math.isclose(x2.grad, 0.5, abs_tol=1e-12) and w2.grad == 0.0
    # and the same as backward() and as PyTorch
    t = _lecture_neuron(lambda x, label: leaf(x))
    t[0].backward()
    for ours, theirs in zip((x1, x2, w1, w2, b), (*t[6:], t[2])):
        assert_close(ours.grad, theirs.grad, ours.label)


def test_backward_of_one_node_is_one_step_of_the_step_through() -> None:
    o, *_ = _lecture_neuron(Value)
    steps = list(o.backward_steps())
    after_steps = [(c.parent, c.parent.grad) for c in steps[1].contributions]
    o2, n2, *_ = _lecture_neuron(Value)
    o2.grad = 1.0
    o2._backward()
    n2._backward()
    assert [g for _, g in after_steps] == [p.grad for p in n2.parents]


def test_a_micrograd_users_trace_and_draw_dot_see_the_graph() -> None:
    o, *_ = _lecture_neuron(Value)
    o.backward()
    nodes, edges = trace(o)
    assert nodes == set(order(o))
    assert edges == {(p, v) for v in order(o) for p in v.parents}
    source = draw_dot(o).source
    for v in nodes:
        assert f"{v.label} | data {v.data:.4f} | grad {v.grad:.4f}" in source
    assert {v._op for v in nodes} == {"", "*", "+", "tanh"}


def test_micrograds_constructor_records_parents_and_op() -> None:
    a, b = Value(2.0), Value(3.0)
    c = Value(a.data + b.data, (a, b), "+", label="c")
    assert c.parents == (a, b) and list(c._prev) == [a, b] and c._op == "+" and c.label == "c"
    assert not c.is_leaf
    leaf_ = Value(1.0, (), "", label="d")
    assert leaf_.is_leaf and leaf_.label == "d"
    # '+' is one of micrograd's op names: its derivative is known, as micrograd's _backward
    c.backward()
    assert a.grad == 1.0 and b.grad == 1.0
    with pytest.raises(TypeError, match="_children must be Values"):
        Value(1.0, (1.0,), "+")


@pytest.mark.parametrize("scalar", [np.int64(-1), np.float64(-1.0), np.int32(1), np.float32(0.5)])
def test_numpy_scalar_times_value_is_a_value(scalar: object) -> None:
    v = Value(3.0)
    for out in (scalar * v, -scalar * v, v * scalar, scalar + v, scalar - v, scalar / v):  # type: ignore[operator]
        assert type(out) is Value
    out = 1 + -scalar * v  # type: ignore[operator]
    assert type(out) is Value and out.data == 1 - float(scalar) * 3.0  # type: ignore[arg-type]


def test_numpy_array_times_value_is_a_batched_value_never_an_object_array() -> None:
    y = np.array([1.0, 2.0]) * Value(3.0)
    assert isinstance(y, Value) and y.data.tolist() == [3.0, 6.0]
    with pytest.raises(ValueError, match="1-D array"):
        np.array([[1.0, 2.0]]) * Value(3.0)


@pytest.mark.parametrize("a", [-1.5, 0.0, 2.0, math.nan])
@pytest.mark.parametrize("b", [-1.5, 0.0, 2.0])
def test_comparisons_are_plain_bools_on_data(a: float, b: float) -> None:
    x, y = Value(a), Value(b)
    ta, tb = torch.tensor(a), torch.tensor(b)
    for ours, theirs in (
        (x < y, ta < tb),
        (x <= y, ta <= tb),
        (x > y, ta > tb),
        (x >= y, ta >= tb),
        (x < b, ta < b),
        (a > y, a > tb),
    ):
        assert type(ours) is bool and ours == bool(theirs)


def test_equality_and_hash_stay_identity() -> None:
    a, b = Value(1.0), Value(1.0)
    assert a != b and a == a and len({a, b}) == 2


def test_item_abs_float_as_torch() -> None:
    x = Value(-2.5)
    y = abs(x)
    y.backward()
    t = leaf(-2.5)
    abs(t).backward()
    assert y.item() == abs(t).item() and type(y.item()) is float
    assert float(x) == -2.5 and y.op == "abs" and x.grad == t.grad.item()


def test_backward_with_a_seed_as_torch() -> None:
    x, t = Value(0.7), leaf(0.7)
    (x * x).tanh().backward(2.5)
    (t * t).tanh().backward(torch.tensor(2.5, dtype=torch.float64))
    assert_close(x.grad, t.grad, "seeded backward")


def test_step_through_after_backward_shows_this_pass_only() -> None:
    x, w = Value(2.0, label="x"), Value(-0.75, label="w")
    y = (x * w).tanh()
    y.backward()
    once = (x.grad, w.grad)
    y.backward()  # leaves accumulate, as PyTorch
    assert x.grad == 2 * once[0]
    steps = list(y.backward_steps())
    assert (x.grad, w.grad) == once
    last = steps[-1]
    assert [c.parent.grad for c in last.contributions] == [c.added for c in last.contributions]


class LectureValue(Value):
    """The lecture's ops written its way: `Value(data, (self, other), op)`, then
    `out._backward = _backward` (a closure adding into the parents' grads)."""

    def __add__(self, other):  # type: ignore[no-untyped-def, override]
        other = other if isinstance(other, Value) else LectureValue(other)
        out = LectureValue(self.data + other.data, (self, other), "+")

        def _backward():  # type: ignore[no-untyped-def]
            self.grad += 1.0 * out.grad
            other.grad += 1.0 * out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):  # type: ignore[no-untyped-def, override]
        other = other if isinstance(other, Value) else LectureValue(other)
        out = LectureValue(self.data * other.data, (self, other), "*")

        def _backward():  # type: ignore[no-untyped-def]
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __pow__(self, other):  # type: ignore[no-untyped-def, override]
        assert isinstance(other, (int, float)), "only supporting int/float powers for now"
        out = LectureValue(self.data**other, (self,), f"**{other}")

        def _backward():  # type: ignore[no-untyped-def]
            self.grad += other * (self.data ** (other - 1)) * out.grad

        out._backward = _backward
        return out

    def __rmul__(self, other):  # type: ignore[no-untyped-def, override]
        return self * other

    def __radd__(self, other):  # type: ignore[no-untyped-def, override]
        return self + other

    def __truediv__(self, other):  # type: ignore[no-untyped-def, override]
        return self * other**-1

    def __neg__(self):  # type: ignore[no-untyped-def, override]
        return self * -1

    def __sub__(self, other):  # type: ignore[no-untyped-def, override]
        return self + (-other)

    def tanh(self):  # type: ignore[no-untyped-def, override]
        x = self.data
        t = (math.exp(2 * x) - 1) / (math.exp(2 * x) + 1)
        out = LectureValue(t, (self,), "tanh")

        def _backward():  # type: ignore[no-untyped-def]
            self.grad += (1 - t**2) * out.grad

        out._backward = _backward
        return out

    def exp(self):  # type: ignore[no-untyped-def, override]
        x = self.data
        out = LectureValue(math.exp(x), (self,), "exp")

        def _backward():  # type: ignore[no-untyped-def]
            self.grad += out.data * out.grad

        out._backward = _backward
        return out


@pytest.mark.parametrize("spelled", ["tanh", "exp"])
def test_lecture_ops_written_its_way_backpropagate_as_torch(spelled: str) -> None:
    def neuron(V):  # type: ignore[no-untyped-def]
        x1, x2, w1, w2, b = (V(v) for v in (2.0, 0.0, -3.0, 1.0, 6.8813735870195432))
        n = x1 * w1 + x2 * w2 + b
        if spelled == "tanh":
            return n.tanh(), (x1, x2, w1, w2, b)
        # the lecture's second form: tanh spelled with exp, -, / (as * **-1)
        e = (2 * n).exp()
        return (e - 1) / (e + 1), (x1, x2, w1, w2, b)

    o, xs = neuron(LectureValue)
    o.backward()
    to, txs = neuron(leaf)
    to.backward()
    assert_close(o.data, to, "o")
    for i, (ours, theirs) in enumerate(zip(xs, txs)):
        assert_close(ours.grad, theirs.grad, f"input {i}", rtol=1e-9)
    # the manual sequence, node by node, gives the same numbers
    o2, xs2 = neuron(LectureValue)
    o2.grad = 1.0
    for v in order(o2):
        v._backward()
    assert [x.grad for x in xs2] == [x.grad for x in xs]


@pytest.mark.parametrize(
    "op,parents,data,expected",
    [
        ("+", (2.0, -3.0), 5.0, (1.0, 1.0)),
        ("*", (2.0, -3.0), -6.0, (-3.0, 2.0)),
        ("tanh", (0.5,), math.tanh(0.5), (1 - math.tanh(0.5) ** 2,)),
        ("exp", (0.5,), math.exp(0.5), (math.exp(0.5),)),
        ("**2", (1.5,), 2.25, (3.0,)),
        ("**-1", (2.0,), 0.5, (-0.25,)),
        ("ReLU", (-1.0,), 0.0, (0.0,)),
        ("ReLU", (2.0,), 2.0, (1.0,)),
    ],
)
def test_micrograds_op_names_without_backward_give_micrograds_derivatives(
    op: str, parents: tuple[float, ...], data: float, expected: tuple[float, ...]
) -> None:
    ps = [Value(p) for p in parents]
    out = Value(data, tuple(ps), op)
    out.backward()
    assert out.op == op
    for p, e in zip(ps, expected):
        assert math.isclose(p.grad, e, rel_tol=1e-15)


def test_an_unknown_op_without_backward_is_a_clear_error_and_changes_nothing() -> None:
    a, b = Value(2.0), Value(3.0)
    a.grad = 0.25
    out = Value(1.0, (a, b), "hypot") * 2.0
    for run in (out.backward, lambda: list(out.backward_steps()), out.parents[0]._backward):
        with pytest.raises(RuntimeError, match=r"'hypot'.*engine\.Function"):
            run()
    assert a.grad == 0.25 and b.grad == 0.0  # nothing touched


def test_an_assigned_backward_on_an_unknown_op_is_used() -> None:
    a, b = Value(3.0), Value(4.0)
    h = math.hypot(a.data, b.data)
    out = Value(h, (a, b), "hypot")

    def _backward() -> None:
        a.grad += a.data / h * out.grad
        b.grad += b.data / h * out.grad

    out._backward = _backward  # type: ignore[method-assign]
    a.grad, out.grad = 7.0, 9.0
    (out * 2.0).backward()
    ta, tb = leaf(3.0), leaf(4.0)
    (torch.hypot(ta, tb) * 2.0).backward()
    assert_close(a.grad - 7.0, ta.grad, "a")
    assert_close(b.grad, tb.grad, "b")
    # a + a: both contributions reach a once each
    c = Value(2 * a.data, (a, a), "twice")

    def _backward2() -> None:
        a.grad += c.grad
        a.grad += c.grad

    c._backward = _backward2  # type: ignore[method-assign]
    a.grad = 0.0
    c.backward()
    assert a.grad == 2.0
    with pytest.raises(RuntimeError, match=r"'hypot'.*graph"):
        engine.grad(out, [a], create_graph=True)


def test_backward_cannot_be_reassigned_on_an_engine_made_node() -> None:
    y = Value(2.0).tanh()
    with pytest.raises(AttributeError, match="made by Value\\(data, _children, _op\\)"):
        y._backward = lambda: None  # type: ignore[method-assign]
    with pytest.raises(TypeError, match="function"):
        Value(1.0, (Value(2.0),), "tanh")._backward = 3.0  # type: ignore[assignment]
