"""NaN, infinities and signed zeros behave as in PyTorch: never a plausible finite number."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import torch
from chainrule.engine import GradcheckError, Value, gradcheck, logsumexp
from hypothesis import given
from hypothesis import strategies as st

from tests.ops import ALL, Op, compare_with_torch
from tests.reference import assert_close, leaf
from tests.strategies import returning

NAN, INF = math.nan, math.inf


@pytest.mark.parametrize("op", ALL, ids=lambda op: op.name)
@given(data=st.data())
def test_a_nan_input_propagates_as_in_torch(op: Op, data: st.DataObject) -> None:
    xs = [data.draw(d, label=f"x{i}") for i, d in enumerate(op.domains)]
    where = data.draw(st.integers(0, len(xs) - 1), label="nan position")
    xs[where] = NAN
    compare_with_torch(op, xs)


def test_relu_of_nan_is_nan() -> None:
    y = Value(NAN).relu()
    assert math.isnan(y.data)


@pytest.mark.parametrize(
    "values", [[INF, 1.0], [-INF, -INF], [1.0, -INF], [INF, INF], [NAN, INF], [-INF, 2.0, NAN]]
)
def test_logsumexp_of_infinities_as_torch(values: list[float]) -> None:
    ours = [Value(v) for v in values]
    theirs = [leaf(v) for v in values]
    out = logsumexp(ours)
    ref = torch.logsumexp(torch.stack(theirs), 0)
    assert_close(out.data, ref, f"logsumexp{values}")
    out.backward()
    for v, g in zip(ours, torch.autograd.grad(ref, theirs)):
        assert_close(v.grad, g, f"d logsumexp{values}")


def test_logsumexp_named_cases() -> None:
    assert logsumexp([INF, 1.0]).data == INF
    assert logsumexp([-INF, -INF]).data == -INF


@pytest.mark.parametrize("base", [-2.0, -0.5, 0.0, 2.0])
@pytest.mark.parametrize("exponent", [INF, -INF, NAN])
def test_power_with_an_infinite_or_nan_exponent_is_torchs(base: float, exponent: float) -> None:
    if base == 0.0 and exponent == -INF:
        with pytest.raises(ZeroDivisionError, match="pow"):
            Value(base) ** exponent
        return
    x, t = Value(base), leaf(base)
    y, ref = x**exponent, t**exponent
    assert_close(y.data, ref, f"{base} ** {exponent}")
    y.backward()
    (g,) = torch.autograd.grad(ref, [t])
    assert_close(x.grad, g, f"d ({base} ** {exponent})")


def test_log_of_nan_is_nan() -> None:
    x = Value(NAN)
    y = x.log()
    y.backward()
    assert math.isnan(y.data) and math.isnan(x.grad)


@pytest.mark.parametrize("zero", [0.0, -0.0])
def test_sqrt_gradient_at_signed_zero(zero: float) -> None:
    x, t = Value(zero), leaf(zero)
    x.sqrt().backward()
    (g,) = torch.autograd.grad(torch.sqrt(t), [t])
    assert x.grad == g.item() and math.copysign(1.0, x.grad) == math.copysign(1.0, zero)


@given(st.one_of(st.floats(allow_nan=True), st.sampled_from([0.0, -0.0, NAN])))
def test_truth_value_is_torchs(x: float) -> None:
    assert bool(Value(x)) == bool(torch.tensor(x, dtype=torch.float64))


def test_gradcheck_fails_on_a_nan_analytic_gradient() -> None:
    def f(x: Value, y: Value) -> Value:
        # d/dx = 1 is right; the value does not depend on y (numeric slope 0), but d/d
        # exponent of a negative base is NaN (as PyTorch), times d exponent/dy = 0 stays NaN
        return x + Value(-2.0) ** (y * 0 + 2)

    with pytest.raises(GradcheckError, match="d f/d x1"):
        gradcheck(f, [0.5, 0.5])
    result = gradcheck(f, [0.5, 0.5], raise_exception=False)
    assert math.isnan(result.analytic[1]) and result.numeric[1] == 0.0 and not result.ok


def test_gradcheck_reports_a_nan_numeric_gradient() -> None:
    result = gradcheck(lambda x, y: x + y * 0 + Value(NAN), [1.0, 1.0], raise_exception=False)
    assert result.analytic == (1.0, 0.0) and math.isnan(result.numeric[1]) and not result.ok


InfiniteSlope = returning(None, math.inf, "InfiniteSlope")  # x, claiming d/dx = inf


def test_gradcheck_fails_on_an_infinite_analytic_gradient() -> None:
    with pytest.raises(GradcheckError, match=r"d f/d x1.*InfiniteSlope"):
        gradcheck(lambda x, y: x + InfiniteSlope.apply(y), [0.5, 0.5])


@pytest.mark.parametrize("n", [np.int64(2), np.int8(3), np.float32(0.5), np.float64(2.0), 2, 2.0])
def test_numpy_exponents_are_numbers(n: Any) -> None:
    x = Value(1.5)
    y = x**n
    t = leaf(1.5)
    ty = t ** float(n)
    ty.backward()
    y.backward()
    assert_close(y.data, ty, f"1.5 ** {n!r}")
    assert_close(x.grad, t.grad, f"d 1.5**{n!r}")


@pytest.mark.parametrize("n", [10**400, -(10**400)])
def test_an_exponent_too_large_for_a_float_names_pow(n: int) -> None:
    with pytest.raises(OverflowError, match="pow"):
        Value(1.5) ** n


@pytest.mark.parametrize("n", [True, "2", None, [2], 1j])
def test_a_non_number_exponent_is_a_type_error(n: Any) -> None:
    with pytest.raises(TypeError):
        Value(1.5) ** n


@pytest.mark.parametrize("x", [NAN, INF, -INF, -0.0, -0.4, 2.5, -2.5, 1e300])
def test_round_of_special_values_is_torch_round(x: float) -> None:
    t = leaf(x)
    tr = torch.round(t)
    tr.backward()
    v = Value(x)
    r = round(v)
    r.backward()
    assert_close(r.data, tr, f"round({x})")
    assert math.copysign(1.0, r.data) == math.copysign(1.0, tr.item()) or math.isnan(x)
    assert v.grad == 0.0 == float(t.grad)
    assert_close(round(v, 2).data, torch.round(t, decimals=2), f"round({x}, 2)")
