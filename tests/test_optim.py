"""Optimizers and schedules against torch.optim, step for step."""

from __future__ import annotations

import pytest
import torch

from nn import (
    MLP,
    SGD,
    Adam,
    CosineAnnealingLR,
    ExponentialLR,
    MultiStepLR,
    StepLR,
    hinge_loss,
    make_moons,
)
from tests.torch_models import F64, torch_mlp, torch_values

X, Y = make_moons(21, seed=4)  # unbalanced: no gradient cancels to rounding noise
YS = [1 if t == 1 else -1 for t in Y]


def _train_both(make_ours, make_theirs, steps: int = 5) -> tuple[list[float], list[float]]:  # type: ignore[no-untyped-def]
    model = MLP(2, [6, 6, 1], init="he", seed=7)
    seq = torch_mlp(model)
    opt, topt = make_ours(model.parameters()), make_theirs(seq.parameters())
    tx, ty = torch.tensor(X, dtype=F64), torch.tensor(YS, dtype=F64)
    for _ in range(steps):
        opt.zero_grad()
        hinge_loss(model(X), YS).backward()
        opt.step()
        topt.zero_grad()
        torch.clamp(1 - ty * seq(tx).squeeze(1), min=0).mean().backward()
        topt.step()
    return [p.data for p in model.parameters()], torch_values(seq)


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"momentum": 0.9},
        {"momentum": 0.9, "nesterov": True},
        {"momentum": 0.8, "dampening": 0.1},
        {"weight_decay": 0.01},
        {"momentum": 0.9, "weight_decay": 0.05, "nesterov": True},
    ],
    ids=str,
)
def test_sgd_matches_torch(kw: dict) -> None:
    ours, theirs = _train_both(
        lambda p: SGD(p, lr=0.1, **kw), lambda p: torch.optim.SGD(p, lr=0.1, **kw)
    )
    assert ours == pytest.approx(theirs, rel=1e-10, abs=1e-12)


@pytest.mark.parametrize(
    "kw", [{}, {"weight_decay": 0.01}, {"betas": (0.8, 0.99), "eps": 1e-6}], ids=str
)
def test_adam_matches_torch(kw: dict) -> None:
    ours, theirs = _train_both(
        lambda p: Adam(p, lr=0.01, **kw), lambda p: torch.optim.Adam(p, lr=0.01, **kw)
    )
    assert ours == pytest.approx(theirs, rel=1e-10, abs=1e-12)


def test_decoupled_weight_decay_equals_coupled_without_momentum_only() -> None:
    def run(**kw) -> list[float]:  # type: ignore[no-untyped-def]
        return _train_both(
            lambda p: SGD(p, lr=0.1, weight_decay=0.05, **kw), lambda p: torch.optim.SGD(p, lr=0.1)
        )[0]

    assert run(decoupled_weight_decay=True) == pytest.approx(run(), rel=1e-12)
    assert run(momentum=0.9, decoupled_weight_decay=True) != pytest.approx(
        run(momentum=0.9), rel=1e-6
    )


def test_decoupled_decay_multiplies_weights_by_a_constant_below_one() -> None:
    model = MLP(1, [1], seed=0)
    w = model.parameters()[0]
    before = w.data
    SGD(
        model.parameters(), lr=0.1, weight_decay=0.5, decoupled_weight_decay=True
    ).step()  # grads are 0
    assert w.data == before * (1 - 0.1 * 0.5)


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (lambda o: StepLR(o, 7, 0.5), lambda o: torch.optim.lr_scheduler.StepLR(o, 7, 0.5)),
        (
            lambda o: MultiStepLR(o, [5, 12, 12, 20], 0.3),
            lambda o: torch.optim.lr_scheduler.MultiStepLR(o, [5, 12, 12, 20], 0.3),
        ),
        (lambda o: ExponentialLR(o, 0.9), lambda o: torch.optim.lr_scheduler.ExponentialLR(o, 0.9)),
        (
            lambda o: CosineAnnealingLR(o, 10, 0.001),
            lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, 10, 0.001),
        ),
    ],
    ids=["step", "multistep", "exponential", "cosine"],
)
def test_schedules_match_torch_for_30_epochs(ours, theirs) -> None:  # type: ignore[no-untyped-def]
    model = MLP(1, [1], seed=0)
    opt = SGD(model.parameters(), lr=0.5)
    topt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.5)
    s, t = ours(opt), theirs(topt)
    for epoch in range(30):
        assert s.get_last_lr()[0] == pytest.approx(t.get_last_lr()[0], rel=1e-13), epoch
        topt.step()
        s.step()
        t.step()


def test_optimizer_state_dict_round_trips() -> None:
    model = MLP(2, [3, 1], seed=0)
    opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    hinge_loss(model(X), YS).backward()
    opt.step()
    state = opt.state_dict()
    other = SGD(model.parameters(), lr=0.5, momentum=0.9)
    other.load_state_dict(state)
    assert other.state_dict() == state and other.lr == 0.1
    with pytest.raises(ValueError, match="empty parameter list"):
        SGD([], lr=0.1)
