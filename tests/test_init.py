"""Initializers: the torch.nn.init formulas, seeds, and why zero init fails."""

from __future__ import annotations

import math

import numpy as np
import pytest
from chainrule.engine import Value
from chainrule.nn import MLP, SGD, hinge_loss, init, make_moons


def _matrix(rows: int, cols: int) -> list[list[Value]]:
    return [[Value(0.0) for _ in range(cols)] for _ in range(rows)]


def _stats(t: list[list[Value]]) -> tuple[float, float]:
    xs = np.array([v.data for row in t for v in row])
    return float(xs.mean()), float(xs.var())


FAN_IN, FAN_OUT = 300, 200


@pytest.mark.parametrize(
    ("fill", "variance"),
    [
        (lambda t, g: init.uniform_(t, -2, 2, g), 16 / 12),
        (lambda t, g: init.normal_(t, 0, 0.5, g), 0.25),
        (lambda t, g: init.xavier_uniform_(t, generator=g), 2 / (FAN_IN + FAN_OUT)),
        (lambda t, g: init.xavier_normal_(t, generator=g), 2 / (FAN_IN + FAN_OUT)),
        (lambda t, g: init.kaiming_uniform_(t, nonlinearity="relu", generator=g), 2 / FAN_IN),
        (lambda t, g: init.kaiming_normal_(t, nonlinearity="relu", generator=g), 2 / FAN_IN),
        (
            lambda t, g: init.kaiming_normal_(t, mode="fan_out", nonlinearity="tanh", generator=g),
            (5 / 3) ** 2 / FAN_OUT,
        ),
        (lambda t, g: init.kaiming_uniform_(t, a=math.sqrt(5), generator=g), 1 / (3 * FAN_IN)),
    ],
    ids=[
        "uniform",
        "normal",
        "xavier_u",
        "xavier_n",
        "he_u",
        "he_n",
        "he_fan_out_tanh",
        "torch_linear",
    ],
)
def test_init_statistics_follow_the_formula(fill, variance: float) -> None:  # type: ignore[no-untyped-def]
    t = _matrix(FAN_OUT, FAN_IN)
    fill(t, np.random.default_rng(0))
    mean, var = _stats(t)
    n = FAN_IN * FAN_OUT
    assert abs(mean) < 5 * math.sqrt(variance / n)  # five standard errors
    assert var == pytest.approx(variance, rel=0.03)


def test_torch_gains_and_fans() -> None:
    import torch

    for nl in ["linear", "sigmoid", "tanh", "relu", "selu"]:
        assert init.calculate_gain(nl) == pytest.approx(torch.nn.init.calculate_gain(nl))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(
        torch.nn.init.calculate_gain("leaky_relu", 0.2)
    )
    assert init.fans(_matrix(3, 5)) == (5, 3)
    with pytest.raises(ValueError, match="weight matrix"):
        init.fans([Value(1.0)])  # type: ignore[list-item]
    t = _matrix(2, 2)
    init.constant_(t, 0.5)
    assert {v.data for row in t for v in row} == {0.5}


def test_same_seed_same_model_different_seed_different_model() -> None:
    assert (
        MLP(2, [8, 1], init="he", seed=5).state_dict()
        == MLP(2, [8, 1], init="he", seed=5).state_dict()
    )
    assert (
        MLP(2, [8, 1], init="he", seed=5).state_dict()
        != MLP(2, [8, 1], init="he", seed=6).state_dict()
    )
    with pytest.raises(ValueError, match="unknown init"):
        MLP(2, [1], init="magic")


def test_zero_init_never_breaks_the_symmetry() -> None:
    x, y = make_moons(40, seed=0)
    ys = [1 if t else -1 for t in y]
    model = MLP(2, [4, 4, 1], init="zeros", seed=0)
    hinge_loss(model(x), ys).backward()
    hidden = model.layers[0].weight + model.layers[1].weight  # type: ignore[attr-defined]
    assert all(w.grad == 0.0 for row in hidden for w in row)  # hidden weights: zero gradient
    opt = SGD(model.parameters(), lr=0.5)
    for _ in range(10):
        opt.zero_grad()
        hinge_loss(model(x), ys).backward()
        opt.step()
    rows = [[w.data for w in row] for row in model.layers[1].weight]  # type: ignore[attr-defined]
    assert all(r == rows[0] for r in rows)  # every unit is still the same unit
    he = MLP(2, [4, 4, 1], init="he", seed=0)
    hinge_loss(he(x), ys).backward()
    assert any(w.grad != 0.0 for row in he.layers[0].weight for w in row)  # type: ignore[attr-defined]
