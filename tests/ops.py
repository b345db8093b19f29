"""Every engine op once, as the torch reference tests and the finite-difference tests see it.

Each entry: the op on chainrule `Value`s, the same op on float64 tensors, the inputs to
draw for the PyTorch comparison (edges included), and inputs away from kinks and poles
for central differences.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from chainrule.engine import Value, add_all, dot, logsumexp, neuron
from hypothesis import strategies as st

from tests.reference import assert_close, leaf
from tests.strategies import around_zero, nonzero, positive, reals, wide

F64 = torch.float64
away_from_zero = st.one_of(st.floats(-10.0, -1e-2), st.floats(1e-2, 10.0))


@dataclass(frozen=True)
class Op:
    name: str
    ours: Callable[..., Any]
    theirs: Callable[..., Any]
    domains: tuple[st.SearchStrategy[float], ...]  # one per argument, for PyTorch
    fd_domains: tuple[st.SearchStrategy[float], ...]  # smooth region, for finite differences
    smooth: Callable[..., bool] = lambda *xs: True  # inputs away from a kink (for FD)


def unary(name: str, ours: Callable, theirs: Callable, dom: Any, fd: Any = None) -> Op:
    return Op(name, ours, theirs, (dom,), (fd if fd is not None else dom,))


def binary(name: str, ours: Callable, theirs: Callable, a: Any, b: Any, fd: Any = None) -> Op:
    return Op(name, ours, theirs, (a, b), fd if fd is not None else (a, b))


def _zero(t: torch.Tensor) -> torch.Tensor:
    return torch.zeros((), dtype=F64)


UNARY = [
    unary("neg", lambda x: -x, lambda x: -x, reals),
    unary("exp", lambda x: x.exp(), torch.exp, st.floats(-60.0, 60.0)),
    unary("log", lambda x: x.log(), torch.log, positive),
    unary("sqrt", lambda x: x.sqrt(), torch.sqrt, st.floats(0.0, 100.0), positive),
    unary("tanh", lambda x: x.tanh(), torch.tanh, wide, reals),
    unary("sigmoid", lambda x: x.sigmoid(), torch.sigmoid, wide, reals),
    unary("relu", lambda x: x.relu(), torch.relu, around_zero, away_from_zero),
    unary("abs", lambda x: x.abs(), torch.abs, around_zero, away_from_zero),
    unary("softplus", lambda x: x.softplus(), lambda x: torch.logaddexp(x, _zero(x)), wide, reals),
    unary("pow2", lambda x: x**2, lambda x: x**2, reals),
    unary("pow3", lambda x: x**3, lambda x: x**3, reals),
    unary("pow-1", lambda x: x**-1, lambda x: x**-1, nonzero),
    unary("pow0.5", lambda x: x**0.5, lambda x: x**0.5, positive),
    unary("pow0", lambda x: x**0, lambda x: x**0, reals),
    unary("radd", lambda x: 2.5 + x, lambda x: 2.5 + x, reals),
    unary("rsub", lambda x: 2.5 - x, lambda x: 2.5 - x, reals),
    unary("rmul", lambda x: 2.5 * x, lambda x: 2.5 * x, reals),
    unary("rdiv", lambda x: 2.5 / x, lambda x: 2.5 / x, nonzero),
    unary("rpow", lambda x: 2.5**x, lambda x: 2.5**x, reals),
    unary("add_const", lambda x: x + 2.5, lambda x: x + 2.5, reals),
    unary("sub_const", lambda x: x - 2.5, lambda x: x - 2.5, reals),
    unary("mul_const", lambda x: x * 2.5, lambda x: x * 2.5, reals),
    unary("div_const", lambda x: x / 2.5, lambda x: x / 2.5, reals),
]

BINARY = [
    binary("add", lambda a, b: a + b, lambda a, b: a + b, reals, reals),
    binary("sub", lambda a, b: a - b, lambda a, b: a - b, reals, reals),
    binary("mul", lambda a, b: a * b, lambda a, b: a * b, reals, reals),
    binary("div", lambda a, b: a / b, lambda a, b: a / b, reals, nonzero),
    binary("pow", lambda a, b: a**b, lambda a, b: a**b, positive, st.floats(-3.0, 3.0)),
    # negative base, integer exponent: the exponent's gradient is NaN in both (ln of a negative)
    binary(
        "pow_neg_base",
        lambda a, b: a**b,
        lambda a, b: a**b,
        st.floats(-5.0, -0.1),
        st.integers(-3, 3).map(float),
        (positive, st.floats(-3.0, 3.0)),
    ),
]


def _stack_sum(*ts: torch.Tensor) -> torch.Tensor:
    return torch.stack(ts).sum()


def _torch_neuron(act: str) -> Callable[..., torch.Tensor]:
    fn = {"identity": lambda z: z, "relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}

    def f(*ts: torch.Tensor) -> torch.Tensor:
        w, x, b = ts[0:3], ts[3:6], ts[6]
        return fn[act](torch.stack(w) @ torch.stack(x) + b)

    return f


def _our_neuron(act: str) -> Callable[..., Value]:
    def f(*vs: Value) -> Value:
        return neuron(vs[0:3], vs[3:6], vs[6], act)

    return f


NARY = [
    Op("add_all", lambda *v: add_all(v), _stack_sum, (reals,) * 4, (reals,) * 4),
    Op(
        "dot",
        lambda *v: dot(v[:3], v[3:]),
        lambda *t: torch.stack(t[:3]) @ torch.stack(t[3:]),
        (reals,) * 6,
        (reals,) * 6,
    ),
    Op(
        "logsumexp",
        lambda *v: logsumexp(v),
        lambda *t: torch.logsumexp(torch.stack(t), 0),
        (wide,) * 3,
        (reals,) * 3,
    ),
    *[
        Op(
            f"neuron_{act}",
            _our_neuron(act),
            _torch_neuron(act),
            (reals,) * 7,
            (reals,) * 7,
            lambda *x: abs(sum(w * i for w, i in zip(x[:3], x[3:6])) + x[6]) > 1e-3,
        )
        for act in ("identity", "relu", "tanh", "sigmoid")
    ],
]

ALL = UNARY + BINARY + NARY


def compare_with_torch(op: Op, xs: list[float]) -> None:
    """The op's value and every input's gradient at `xs`, against PyTorch's."""
    ours = [Value(x) for x in xs]
    theirs = [leaf(x) for x in xs]
    out = op.ours(*ours)
    ref = op.theirs(*theirs)
    assert_close(out.data, ref, f"{op.name}{tuple(xs)} value")
    out.backward()
    grads = torch.autograd.grad(ref, theirs, allow_unused=True)
    for i, (v, g) in enumerate(zip(ours, grads)):
        assert_close(v.grad, 0.0 if g is None else g, f"d {op.name}/d x{i} at {tuple(xs)}")
