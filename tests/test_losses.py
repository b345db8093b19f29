"""Each loss against torch.nn.functional: value and gradient, stable at extreme logits."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from chainrule.engine import Value
from chainrule.nn import (
    MLP,
    bce_with_logits,
    cross_entropy,
    hinge_loss,
    l1_penalty,
    l2_penalty,
    mse_loss,
)
from hypothesis import given
from hypothesis import strategies as st

from tests.reference import assert_close, leaf

logit = st.one_of(st.floats(-30, 30), st.sampled_from([-800.0, -50.0, 50.0, 800.0]))


def _compare(
    ours_loss: Value,
    ours_in: list[Value],
    ref: torch.Tensor,
    ref_in: list[torch.Tensor],
    grad_rtol: float = 1e-11,
    rtol: float = 1e-12,
    atol: float = 1e-20,
) -> None:
    # atol: at x = -50 PyTorch's BCE value rounds to 0; the exact one is 1.9e-22 (ours)
    assert_close(ours_loss.data, ref, "loss", rtol=rtol, atol=atol)
    ours_loss.backward()
    ref.backward()
    for i, (v, t) in enumerate(zip(ours_in, ref_in)):
        assert_close(v.grad, t.grad, f"d loss/d input {i}", rtol=grad_rtol, atol=max(atol, 1e-20))


def _leaves(pairs: list) -> tuple[list[Value], list[torch.Tensor], torch.Tensor]:
    """Each pair's first number as a chainrule leaf and a torch leaf; the seconds as targets."""
    y = torch.tensor([b for _, b in pairs], dtype=torch.float64)
    return [Value(a) for a, _ in pairs], [leaf(a) for a, _ in pairs], y


@given(st.lists(st.tuples(st.floats(-10, 10), st.floats(-10, 10)), min_size=1, max_size=6))
def test_mse(pairs: list[tuple[float, float]]) -> None:
    p, t, y = _leaves(pairs)
    _compare(
        mse_loss([[v] for v in p], [b for _, b in pairs]),
        p,
        F.mse_loss(torch.stack(t), y),
        t,
    )


@given(st.lists(st.tuples(logit, st.sampled_from([0.0, 1.0, 0.3])), min_size=1, max_size=6))
def test_bce_with_logits(pairs: list[tuple[float, float]]) -> None:
    p, t, y = _leaves(pairs)
    # PyTorch loses relative accuracy far out on either side (its loss at x = -17, y = 0
    # and its gradient σ(x) - y at x = 13, y = 1 cancel), so it is matched to 1e-12
    # absolute there; ours is checked against the exact value below.
    _compare(
        bce_with_logits(p, [b for _, b in pairs]),
        p,
        F.binary_cross_entropy_with_logits(torch.stack(t), y),
        t,
        grad_rtol=1e-8,
        atol=1e-12,
    )
    # where the two differ, ours is the exact one (to 50 digits)
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 50
    exact = sum(
        (1 - mpmath.mpf(b)) * mpmath.mpf(a) + mpmath.log(1 + mpmath.exp(-mpmath.mpf(a)))
        for a, b in pairs
    ) / len(pairs)
    assert float(
        bce_with_logits([Value(a) for a, _ in pairs], [b for _, b in pairs]).data
    ) == pytest.approx(float(exact), rel=1e-13, abs=1e-300)


@pytest.mark.parametrize("x", [13.0, 20.0, 30.0])
def test_bce_gradient_is_exact_where_torch_cancels(x: float) -> None:
    mpmath = pytest.importorskip("mpmath")  # ships with torch (sympy)
    mpmath.mp.dps = 50
    exact = float(1 / (1 + mpmath.exp(-mpmath.mpf(x))) - 1)  # d/dx BCE(x, y=1)
    v = Value(x)
    bce_with_logits([v], [1.0]).backward()
    t = leaf(x)
    F.binary_cross_entropy_with_logits(t, torch.tensor(1.0, dtype=torch.float64)).backward()
    assert abs(v.grad - exact) <= abs(float(t.grad) - exact)
    assert v.grad == pytest.approx(exact, rel=1e-14)


@given(
    st.lists(
        st.tuples(st.lists(logit, min_size=3, max_size=3), st.integers(0, 2)),
        min_size=1,
        max_size=4,
    )
)
def test_cross_entropy(rows: list[tuple[list[float], int]]) -> None:
    p = [[Value(z) for z in zs] for zs, _ in rows]
    t = [[leaf(z) for z in zs] for zs, _ in rows]
    ref = F.cross_entropy(
        torch.stack([torch.stack(r) for r in t]), torch.tensor([c for _, c in rows])
    )
    _compare(
        cross_entropy(p, [c for _, c in rows]),
        [v for r in p for v in r],
        ref,
        [x for r in t for x in r],
    )


@given(st.lists(st.tuples(st.floats(-5, 5), st.sampled_from([-1, 1])), min_size=1, max_size=6))
def test_hinge(pairs: list[tuple[float, int]]) -> None:
    p, t, y = _leaves(pairs)
    _compare(
        hinge_loss(p, [b for _, b in pairs]),
        p,
        torch.relu(1 - y * torch.stack(t)).mean(),  # relu: gradient 0 at the kink, as ours
        t,
    )


def test_loss_errors_name_the_problem() -> None:
    with pytest.raises(ValueError, match="2 predictions but 1 targets"):
        mse_loss([Value(1.0), Value(2.0)], [1.0])
    with pytest.raises(ValueError, match="-1 or \\+1"):
        hinge_loss([Value(1.0)], [0])
    with pytest.raises(ValueError, match="class 3 is out of range"):
        cross_entropy([[Value(1.0), Value(2.0)]], [3])


def test_penalties_over_all_weights_with_and_without_biases() -> None:
    model = MLP(2, [3, 1], seed=0)
    sd = model.state_dict()
    weights = [w for k, v in sd.items() if k.endswith("weight") for row in v for w in row]
    biases = [b for k, v in sd.items() if k.endswith("bias") for b in v]
    assert l1_penalty(model).data == pytest.approx(sum(abs(w) for w in weights))
    assert l2_penalty(model).data == pytest.approx(sum(w * w for w in weights))
    assert l2_penalty(model, include_bias=True).data == pytest.approx(
        sum(w * w for w in weights + biases)
    )
    l1_penalty(model).backward()
    first = model.layers[0].weight[0][0]  # type: ignore[attr-defined]
    assert first.grad == (1.0 if first.data > 0 else -1.0)
    assert model.layers[0].bias[0].grad == 0.0  # type: ignore[attr-defined]
