"""The Value record: construction, types, the error for every bad input, micrograd's API."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from chainrule.engine import Value, add_all, neuron
from hypothesis import given

from tests.micrograd_style import trace
from tests.strategies import reals


@pytest.mark.parametrize(
    "data", [3, 2.5, Fraction(1, 4), np.float64(1.5), np.float32(0.25), np.int64(7)]
)
def test_real_numbers_become_floats(data: object) -> None:
    v = Value(data)
    assert type(v.data) is float and v.data == float(data)  # type: ignore[arg-type]
    assert type(v.grad) is float and v.grad == 0.0


@pytest.mark.parametrize(
    ("data", "name"),
    [
        ("1.0", "str"),
        (None, "NoneType"),
        (1 + 2j, "complex"),
        ([1.0], "list"),
        (True, "bool"),
        (np.bool_(True), "bool"),
    ],
)
def test_non_numbers_are_refused_by_name(data: object, name: str) -> None:
    with pytest.raises(TypeError, match=name):
        Value(data)


def test_operator_with_a_non_number_names_the_type() -> None:
    with pytest.raises(TypeError, match="str"):
        Value(1.0) + "2"  # type: ignore[operator]
    with pytest.raises(TypeError, match="str"):
        "2" * Value(1.0)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("make", "error", "words"),
    [
        (lambda: Value(0.0).log(), ValueError, r"log: .*positive.*0\.0"),
        (lambda: Value(-2.0).log(), ValueError, r"log: .*-2\.0"),
        (lambda: Value(-1.0).sqrt(), ValueError, r"sqrt: .*-1\.0"),
        (lambda: Value(1.0) / Value(0.0), ZeroDivisionError, "division"),
        (lambda: Value(1.0) / 0, ZeroDivisionError, "division"),
        (lambda: 3 / Value(0.0), ZeroDivisionError, "division"),
        (lambda: Value(-2.0) ** 0.5, ValueError, r"pow: negative base -2\.0.*0\.5"),
        (lambda: Value(-2.0) ** Value(0.5), ValueError, r"pow: negative base"),
        (lambda: Value(0.0) ** -1, ZeroDivisionError, "pow: zero base"),
        (lambda: Value(1000.0).exp(), OverflowError, r"exp: .*1000\.0"),
        (lambda: Value(1e200) ** 2, OverflowError, "pow"),
    ],
)
def test_bad_input_raises_a_clear_error(make, error, words) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error, match=words):
        make()


@given(reals)
def test_sigmoid_and_tanh_never_overflow(x: float) -> None:
    for big in (x * 1e6, -x * 1e6, 1e308, -1e308):
        s, t = Value(big).sigmoid(), Value(big).tanh()
        assert 0.0 <= s.data <= 1.0 and -1.0 <= t.data <= 1.0
        s.backward()
        t.backward()


def test_record_keeps_parents_in_order_and_local_derivatives() -> None:
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = a * b
    assert c.parents == (a, b) and c.local_grads == (-3.0, 2.0) and c.op == "*"
    d = b * a
    assert d.parents == (b, a)
    assert a.is_leaf and not c.is_leaf and a.parents == ()


def test_a_plus_a_keeps_both_edges() -> None:
    a = Value(2.0)
    b = a + a
    assert b.parents == (a, a)
    b.backward()
    assert a.grad == 2.0


def test_nary_nodes_record_every_input() -> None:
    ws = [Value(1.0), Value(-2.0)]
    xs = [Value(3.0), Value(0.5)]
    b = Value(0.25)
    out = neuron(ws, xs, b, "relu")
    assert out.data == 3.0 - 1.0 + 0.25
    assert out.parents == (*xs, *ws, b)  # inputs, weights, bias
    assert out.local_grads == (1.0, -2.0, 3.0, 0.5, 1.0)  # d/dx_i = w_i, d/dw_i = x_i, d/db = 1
    dead = neuron(ws, xs, Value(-5.0), "relu")
    assert dead.data == 0.0 and set(dead.local_grads) == {0.0}
    s = add_all([ws[0], 2.0, xs[1]])
    assert s.data == 3.5 and s.local_grads == (1.0, 1.0, 1.0)


def test_neuron_with_wrong_widths_is_an_error() -> None:
    with pytest.raises(ValueError, match="2 weights but 3 inputs"):
        neuron([Value(1.0)] * 2, [1.0, 2.0, 3.0])


def test_micrograd_style_code_runs_unchanged() -> None:
    # The operators, relu(), .data/.grad, and the _prev/_op that micrograd's draw_dot reads.
    a = Value(-4.0)
    b = Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    # the values micrograd's README states for this expression
    assert math.isclose(g.data, 24.7041, abs_tol=1e-4)
    assert math.isclose(a.grad, 138.8338, abs_tol=1e-4)
    assert math.isclose(b.grad, 645.5773, abs_tol=1e-4)
    nodes, edges = trace(g)
    assert g._op == "+" and all(isinstance(n._op, str) for n in nodes)
    assert len(edges) >= len(nodes) - 1


def test_repr_shows_label_data_and_grad() -> None:
    assert repr(Value(1.5, label="w")) == "Value(label='w', data=1.5, grad=0)"
    assert float(Value(2.0)) == 2.0


@pytest.mark.parametrize("scalar", [np.float64(2.0), np.float32(2.0), np.int64(2)])
def test_numpy_scalars_work_on_either_side(scalar: object) -> None:
    for out in (scalar * Value(3.0), Value(3.0) * scalar, scalar + Value(4.0)):  # type: ignore[operator]
        assert isinstance(out, Value) and out.data == 6.0
