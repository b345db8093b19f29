"""Ops written by the user with `engine.Function`: the round trip a student makes."""

from __future__ import annotations

import math
import textwrap
from typing import Any

import numpy as np
import pytest
import torch
from chainrule.engine import Context, Function, GradcheckError, Value, gradcheck
from hypothesis import given

from chainrule import engine
from tests.reference import assert_close, leaf
from tests.strategies import reals
from tests.strategies import returning as _returning


class Swish(Function):
    """x·σ(x); d/dx = σ(x) + x·σ(x)(1 - σ(x))."""

    @staticmethod
    def forward(ctx: Context, x: Value) -> Value:
        ctx.save_for_backward(x)
        return x * x.sigmoid()

    @staticmethod
    def backward(ctx: Context, grad_output: Value) -> Value:
        (x,) = ctx.saved_values
        s = x.sigmoid()
        return grad_output * (s + x * s * (1 - s))


class WrongSwish(Swish):
    """A planted mistake: forgets the x·σ'(x) term."""

    @staticmethod
    def backward(ctx: Context, grad_output: Value) -> Value:
        (x,) = ctx.saved_values
        return grad_output * x.sigmoid()


class Hypot(Function):
    """√(a² + b²), two inputs; saves its output, as PyTorch allows."""

    op = "hypot"

    @staticmethod
    def forward(ctx: Context, a: Value, b: Value) -> Value:
        out = (a * a + b * b).sqrt()
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx: Context, grad_output: Value) -> tuple[Any, Any]:
        a, b, out = ctx.saved_values
        return grad_output * a / out, grad_output * b / out


def _torch_swish(t: torch.Tensor) -> torch.Tensor:
    return t * torch.sigmoid(t)


@given(reals)
def test_custom_op_value_and_derivatives_match_torch(x: float) -> None:
    v, t = Value(x), leaf(x)
    y = Swish.apply(v)
    assert y.op == "Swish" and y.parents == (v,)
    assert_close(y.data, _torch_swish(t), "swish")
    (d1,) = engine.grad(y, [v], create_graph=True)
    (d1t,) = torch.autograd.grad(_torch_swish(t), [t], create_graph=True)
    assert_close(d1.data, d1t, "swish'", rtol=1e-10)
    (d2,) = engine.grad(d1, [v])
    (d2t,) = torch.autograd.grad(d1t, [t])
    assert_close(d2, d2t, "swish''", rtol=1e-10, atol=1e-13)


def test_custom_op_passes_gradcheck() -> None:
    assert gradcheck(Swish.apply, [0.7]).ok
    assert gradcheck(Hypot.apply, [3.0, -4.0]).ok
    assert gradcheck(lambda a, b: Hypot.apply(a * b, b).tanh(), [0.5, 1.5]).ok


def test_gradcheck_names_the_op_whose_derivative_is_wrong() -> None:
    with pytest.raises(GradcheckError, match="op 'WrongSwish' is wrong"):
        gradcheck(lambda x: (WrongSwish.apply(x) * 2).tanh(), [0.7])
    result = gradcheck(WrongSwish.apply, [0.7], raise_exception=False)
    assert not result.ok and result.analytic[0] == pytest.approx(1 / (1 + math.exp(-0.7)))


def test_saved_output_is_the_node_so_second_derivatives_are_right() -> None:
    a, b = Value(3.0), Value(4.0)
    ta, tb = leaf(3.0), leaf(4.0)
    g = engine.grad(Hypot.apply(a, b), [a, b], create_graph=True)
    gt = torch.autograd.grad(torch.sqrt(ta * ta + tb * tb), [ta, tb], create_graph=True)
    for i in range(2):
        h = engine.grad(g[i], [a, b])
        ht = torch.autograd.grad(gt[i], [ta, tb], retain_graph=True)
        for j in range(2):
            assert_close(h[j], ht[j], f"H[{i}][{j}]", rtol=1e-10)


def test_custom_op_is_stepped_through_and_drawn_with_its_name() -> None:
    from chainrule.viz.graph import draw_dot

    x = Value(0.5, label="x")
    y = Hypot.apply(Swish.apply(x), 2.0)
    steps = list(y.backward_steps())
    assert [s.node.op for s in steps] == ["hypot", "Swish"]
    assert steps[1].contributions[0].parent is x
    source = draw_dot(y).source
    assert "hypot" in source and "Swish" in source


def test_custom_op_under_no_grad_is_a_leaf_and_bad_backward_is_named() -> None:
    with engine.no_grad():
        assert Swish.apply(Value(1.0)).is_leaf

    class TooMany(Function):
        @staticmethod
        def forward(ctx: Context, x: Value) -> float:
            return 2 * x.data

        @staticmethod
        def backward(ctx: Context, grad_output: Value) -> tuple[float, float]:
            return 2.0, 3.0

    with pytest.raises(ValueError, match=r"TooMany\.backward returned 2 gradients for 1 inputs"):
        TooMany.apply(1.0)


def test_the_docstring_example_runs_as_written() -> None:
    doc = Function.__doc__ or ""
    lines = doc.splitlines()
    marker = "from chainrule.engine import Function"
    start = next(i for i, line in enumerate(lines) if marker in line)
    block = []
    for line in lines[start:]:
        if line.strip() and not line.startswith("        "):
            break
        block.append(line)
    namespace: dict[str, Any] = {}
    exec(textwrap.dedent("\n".join(block)), namespace)  # our own docstring, not user text
    x, y = namespace["x"], namespace["y"]
    s = 1 / (1 + math.exp(-0.5))
    assert y.op == "Swish" and math.isclose(x.grad, s + 0.5 * s * (1 - s), rel_tol=1e-15)


@pytest.mark.parametrize(
    "bad", ["2.5", True, np.bool_(True), 1 + 2j, {"x": 1}, [1.0], 10**400, object()]
)
def test_a_backward_returning_a_non_number_is_a_type_error_naming_the_op(bad: Any) -> None:
    """PyTorch refuses a string, a bool or a complex gradient; none is silently used as a
    number, and the message names the op (a huge int cannot be a float either)."""
    with pytest.raises(TypeError, match=r"Odd\.backward"):
        _returning(1.0, bad).apply(Value(2.0))
    with pytest.raises(TypeError, match=r"Odd\.forward"):
        _returning(bad, 1.0).apply(Value(2.0))


@pytest.mark.parametrize("number", [np.float32(1.5), np.int64(3), np.float64(2.0), 7, 2.5])
def test_numpy_and_int_scalars_from_forward_and_backward_are_numbers(number: Any) -> None:
    x = Value(2.0)
    y = _returning(number, number).apply(x)
    assert type(y.data) is float and y.data == float(number)
    y.backward()
    assert type(x.grad) is float and x.grad == float(number)
    # gradients of gradients read the same numbers (as constants)
    (g,) = engine.grad(_returning(number, number).apply(x), [x], create_graph=True)
    assert g.data == float(number)


@pytest.mark.parametrize("bad", [True, "3", b"3", None, [1.0], 1 + 0j, {"a": 1}])
def test_gradient_seeds_of_the_wrong_type_are_refused_as_torch(bad: Any) -> None:
    x = Value(2.0)
    y = x * 3.0
    with pytest.raises(TypeError, match="gradient"):
        y.backward(gradient=bad)
    if not isinstance(bad, list) and bad is not None:
        with pytest.raises(TypeError, match="grad_outputs"):
            engine.grad(y, [x], grad_outputs=bad)
    with pytest.raises(TypeError, match="grad_outputs"):
        engine.grad(y, [x], grad_outputs=[bad])
    with pytest.raises(TypeError, match="grad_outputs"):
        engine.grad(y, [x], grad_outputs=[bad], create_graph=True)
    assert x.grad == 0.0 and y.grad == 0.0  # nothing stored changed


def test_numpy_gradient_seeds_are_numbers() -> None:
    x = Value(2.0)
    y = x * 3.0
    y.backward(gradient=np.float32(2.0))
    assert x.grad == 6.0
    assert engine.grad(y, [x], grad_outputs=np.int64(2)) == (6.0,)
