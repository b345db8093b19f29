"""Every derivative against central finite differences: an oracle independent of PyTorch."""

from __future__ import annotations

import pytest
from chainrule.engine import Context, Function, GradcheckError, Value, gradcheck
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.ops import ALL, Op


@pytest.mark.parametrize("op", ALL, ids=lambda op: op.name)
@given(data=st.data())
def test_derivative_matches_central_differences(op: Op, data: st.DataObject) -> None:
    xs = [data.draw(d, label=f"x{i}") for i, d in enumerate(op.fd_domains)]
    assume(op.smooth(*xs))
    result = gradcheck(op.ours, xs, eps=1e-6, atol=1e-5, rtol=1e-4)
    assert result.ok
    assert len(result.analytic) == len(xs)


class WrongSquare(Function):
    """A toy op: x², with the planted claim d(x²)/dx = 2 instead of 2x."""

    @staticmethod
    def forward(ctx: Context, x: Value) -> Value:
        return x * x

    @staticmethod
    def backward(ctx: Context, grad_output: Value) -> Value:
        return grad_output * 2.0


def test_gradcheck_catches_a_wrong_derivative() -> None:
    wrong_square = WrongSquare.apply

    with pytest.raises(GradcheckError, match="d f/d x0"):
        gradcheck(wrong_square, [3.0])
    result = gradcheck(wrong_square, [3.0], raise_exception=False)
    assert not result.ok
    assert result.analytic == (2.0,)
    assert result.numeric[0] == pytest.approx(6.0)


def test_gradcheck_needs_a_value() -> None:
    with pytest.raises(TypeError, match="must return a Value"):
        gradcheck(lambda x: 1.0, [1.0])  # type: ignore[arg-type, return-value]
