"""Gradients of gradients (`engine.grad(create_graph=True)`) against PyTorch's, to 1e-10."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

import pytest
import torch
from chainrule.engine import Value, neuron
from hypothesis import given
from hypothesis import strategies as st

from chainrule import engine
from tests.ops import ALL, UNARY, Op
from tests.reference import assert_close, leaf
from tests.strategies import reals

RTOL = 1e-10
# Near a zero of a higher derivative (sigmoid'' at 0), the two libraries' formulas cancel
# differently (ours differentiates s(1 - s), PyTorch's double backward writes 1 - 2s), so a
# tiny absolute floor, far below any derivative's scale here, is allowed from order 2 on.
ATOL_HIGHER = 1e-13


def _torch_grads(out: torch.Tensor, xs: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    """d out/d x for each x, differentiable; zeros where out does not depend on x."""
    if not out.requires_grad:
        return [torch.zeros((), dtype=torch.float64) for _ in xs]
    gs = torch.autograd.grad(out, xs, create_graph=True, allow_unused=True)
    return [torch.zeros((), dtype=torch.float64) if g is None else g for g in gs]


def _our_grads(out: Any, xs: Sequence[Value]) -> list[Any]:
    if not isinstance(out, Value):
        return [0.0 for _ in xs]
    return list(engine.grad(out, xs, create_graph=True, allow_unused=True))


def _num(v: Any) -> float:
    return v.data if isinstance(v, Value) else float(v)


def _compare_derivatives(
    ours_f: Callable[..., Any], theirs_f: Callable[..., Any], xs: list[float], orders: int
) -> None:
    """Every partial derivative up to `orders` (all of them for up to two inputs; for more,
    each order differentiates the previous one along the first input)."""
    ours = [Value(x) for x in xs]
    theirs = [leaf(x) for x in xs]
    level_ours: list[tuple[str, Any]] = [("f", ours_f(*ours))]
    level_theirs: list[Any] = [theirs_f(*theirs)]
    for order_ in range(1, orders + 1):
        nxt_ours, nxt_theirs = [], []
        for (name, o), t in zip(level_ours, level_theirs):
            go, gt = _our_grads(o, ours), _torch_grads(t, theirs)
            wrt = range(len(xs)) if len(xs) <= 2 or order_ == 1 else range(1)
            for i in wrt:
                what = f"d{name}/dx{i} at {xs}"
                atol = 1e-300 if order_ == 1 else ATOL_HIGHER
                assert_close(_num(go[i]), gt[i], what, rtol=RTOL, atol=atol)
                nxt_ours.append((f"{name}/dx{i}", go[i]))
                nxt_theirs.append(gt[i])
        level_ours, level_theirs = nxt_ours, nxt_theirs


@pytest.mark.parametrize("op", ALL, ids=lambda op: op.name)
@given(data=st.data())
def test_derivatives_up_to_third_order_match_torch(op: Op, data: st.DataObject) -> None:
    xs = [data.draw(d, label=f"x{i}") for i, d in enumerate(op.fd_domains)]
    _compare_derivatives(op.ours, op.theirs, xs, 3)


KINKED = [op for op in UNARY if op.name in ("relu", "abs", "pow0", "pow2", "pow3")]


@pytest.mark.parametrize("op", KINKED, ids=lambda op: op.name)
@given(data=st.data())
def test_third_order_at_kinks_and_zeros(op: Op, data: st.DataObject) -> None:
    """relu and abs at exactly 0 (and ±1e-9), powers at 0: PyTorch's conventions."""
    xs = [data.draw(d, label=f"x{i}") for i, d in enumerate(op.domains)]
    _compare_derivatives(op.ours, op.theirs, xs, 3)


ROOTS: list[tuple[str, Callable[..., Any], Callable[..., Any]]] = [
    ("sqrt", lambda x: x.sqrt(), torch.sqrt),
    *[(f"pow{n}", lambda x, n=n: x**n, lambda x, n=n: x**n) for n in (0.5, 0.25, 1 / 3, 1.5, 2.5)],
]


@pytest.mark.parametrize("x", [0.0, -0.0])
@pytest.mark.parametrize("name,ours,theirs", ROOTS, ids=[r[0] for r in ROOTS])
def test_roots_and_fractional_powers_at_signed_zero_follow_torch(
    name: str, ours: Callable[..., Any], theirs: Callable[..., Any], x: float
) -> None:
    """√x and x**n (fractional n) at ±0 up to the third derivative: PyTorch's infinities
    with their signs (√x'' = -inf at 0, +inf at -0), never the 0 of a constant."""
    _compare_derivatives(ours, theirs, [x], 3)  # infinities must match, sign included


@pytest.mark.parametrize("x", [0.0, -0.0, -1.0, 1.0])
def test_relu_second_derivative_is_zero_and_first_at_zero_is_zero(x: float) -> None:
    v = Value(x)
    (d1,) = engine.grad(v.relu(), [v], create_graph=True)
    (d2,) = engine.grad(d1, [v], allow_unused=True) if isinstance(d1, Value) else (0.0,)
    assert d2 == 0.0
    assert _num(d1) == (1.0 if x > 0 else 0.0)


def _expression(x: Any, y: Any, z: Any) -> Any:
    return (x * y).tanh() * z.exp() + (x / (1 + z * z)).sigmoid() * y**3 + (y * y + 1).log()


@given(st.lists(reals.map(lambda r: r / 4), min_size=6, max_size=6))
def test_hessian_vector_product_matches_torch(values: list[float]) -> None:
    point, vector = values[:3], values[3:]
    ours = [Value(v) for v in point]
    theirs = [leaf(v) for v in point]
    g = engine.grad(_expression(*ours), ours, create_graph=True)
    hv = engine.grad(g, ours, grad_outputs=vector)
    gt = torch.autograd.grad(_expression(*theirs), theirs, create_graph=True)
    hvt = torch.autograd.grad(
        gt, theirs, grad_outputs=[torch.tensor(v, dtype=torch.float64) for v in vector]
    )
    for i, (a, b) in enumerate(zip(hv, hvt)):
        assert_close(a, b, f"(Hv)_{i}", rtol=RTOL, atol=ATOL_HIGHER)


def _mlp_loss(params: Sequence[Any], samples: list[tuple[list[float], float]], ours: bool) -> Any:
    """2 -> 3 tanh -> 1 network, mean squared error, built from chainrule.engine.neuron (ours) or
    torch ops (theirs); params: 3 rows of (w1, w2, b), then (v1, v2, v3, c)."""
    total: Any = 0.0
    for x, y in samples:
        hidden = []
        for j in range(3):
            w, b = params[3 * j : 3 * j + 2], params[3 * j + 2]
            if ours:
                hidden.append(neuron(w, x, b, "tanh"))
            else:
                hidden.append(torch.tanh(w[0] * x[0] + w[1] * x[1] + b))
        v, c = params[9:12], params[12]
        out = (
            neuron(v, hidden, c)
            if ours
            else v[0] * hidden[0] + v[1] * hidden[1] + v[2] * hidden[2] + c
        )
        total = total + (out - y) ** 2
    return total * (1.0 / len(samples))


def test_hessian_of_a_small_mlp_loss_matches_torch() -> None:
    rng = random.Random(5)
    start = [rng.uniform(-1, 1) for _ in range(13)]
    samples = [([rng.uniform(-2, 2), rng.uniform(-2, 2)], rng.uniform(-1, 1)) for _ in range(4)]
    ours = [Value(p) for p in start]
    theirs = [leaf(p) for p in start]
    g = engine.grad(_mlp_loss(ours, samples, True), ours, create_graph=True)
    gt = torch.autograd.grad(_mlp_loss(theirs, samples, False), theirs, create_graph=True)
    for i in range(13):
        assert_close(g[i].data, gt[i], f"dL/dp{i}", rtol=RTOL)
        row = engine.grad(g[i], ours, allow_unused=True)
        row_t = torch.autograd.grad(gt[i], theirs, retain_graph=True, allow_unused=True)
        for j in range(13):
            ref = 0.0 if row_t[j] is None else row_t[j]
            assert_close(row[j], ref, f"H[{i}][{j}]", rtol=RTOL, atol=1e-14)


@pytest.mark.filterwarnings("ignore:Using backward")
def test_backward_create_graph_leaves_differentiable_grads() -> None:
    x, t = Value(0.3), leaf(0.3)
    (x.tanh() * x).backward(create_graph=True)
    (gt,) = torch.autograd.grad(torch.tanh(t) * t, [t], create_graph=True)
    assert type(x.grad) is float and x.grad_value is not None
    assert_close(x.grad, gt, "first")
    (second,) = engine.grad(x.grad_value, [x])
    (second_t,) = torch.autograd.grad(gt, [t])
    assert_close(second, second_t, "second", rtol=RTOL)


def test_grad_touches_no_grad_field_and_checks_its_arguments() -> None:
    x = Value(2.0)
    y = x * x
    assert engine.grad(y, [x]) == (4.0,) and x.grad == 0.0 and y.grad == 0.0
    assert engine.grad([y, y], [x], grad_outputs=[1.0, 0.5]) == (6.0,)
    with pytest.raises(ValueError, match="not used"):
        engine.grad(y, [Value(1.0)])
    with pytest.raises(ValueError, match="grad_outputs"):
        engine.grad(y, [x], grad_outputs=[1.0, 2.0])


@pytest.mark.filterwarnings("ignore:Using backward")
def test_create_graph_backward_accumulates_on_leaves_as_torch() -> None:
    x, t = Value(0.4), leaf(0.4)
    y, yt = (x * x * x).tanh(), torch.tanh(t * t * t)
    y.backward(create_graph=True)
    y.backward(create_graph=True)
    yt.backward(create_graph=True)
    yt.backward(create_graph=True)
    assert x.grad_value is not None and y.grad_value is None  # leaves only, as torch
    assert_close(x.grad, t.grad, "accumulated first derivative")
    (second,) = engine.grad(x.grad_value, [x])
    (second_t,) = torch.autograd.grad(t.grad, [t])
    assert_close(second, second_t, "accumulated second derivative", rtol=RTOL)
    y.zero_grad()
    assert x.grad == 0.0 and x.grad_value is None and x.op == ""
