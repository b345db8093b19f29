"""Optimizers and schedules against torch.optim, step for step."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from chainrule.nn import (
    MLP,
    SGD,
    Adam,
    AdamW,
    CosineAnnealingLR,
    ExponentialLR,
    MultiStepLR,
    StepLR,
    hinge_loss,
    make_moons,
)
from chainrule.nn.module import flatten
from hypothesis import given
from hypothesis import strategies as st

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


@pytest.mark.parametrize(
    "kw",
    [{}, {"weight_decay": 0.3}, {"weight_decay": 0.05, "betas": (0.8, 0.99), "eps": 1e-6}],
    ids=str,
)
def test_adamw_matches_torch(kw: dict) -> None:
    ours, theirs = _train_both(
        lambda p: AdamW(p, lr=0.05, **kw), lambda p: torch.optim.AdamW(p, lr=0.05, **kw), steps=8
    )
    assert ours == pytest.approx(theirs, rel=1e-10, abs=1e-12)
    same, _ = _train_both(
        lambda p: Adam(p, lr=0.05, decoupled_weight_decay=True, **{"weight_decay": 0.01, **kw}),
        lambda p: torch.optim.SGD(p, lr=0.0),
        steps=8,
    )
    assert same == ours  # AdamW is Adam(decoupled_weight_decay=True), torch's default λ=0.01


def test_adamw_differs_from_adam_with_l2() -> None:
    """Under Adam, L2 in the gradient is divided by √v; decoupled decay is not."""
    adam, _ = _train_both(
        lambda p: Adam(p, lr=0.05, weight_decay=0.3), lambda p: torch.optim.SGD(p, lr=0.0)
    )
    adamw, _ = _train_both(
        lambda p: AdamW(p, lr=0.05, weight_decay=0.3), lambda p: torch.optim.SGD(p, lr=0.0)
    )
    assert adam != pytest.approx(adamw, rel=1e-4)


def test_adamw_decays_weights_with_zero_gradients() -> None:
    model = MLP(1, [1], seed=0)
    w = model.parameters()[0]
    before = w.data
    AdamW(model.parameters(), lr=0.1, weight_decay=0.5).step()  # grads are 0: m = 0
    assert w.data == before * (1 - 0.1 * 0.5)
    with pytest.raises(TypeError, match="decoupled_weight_decay"):
        Adam(model.parameters(), decoupled_weight_decay=1)  # type: ignore[arg-type]


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


# --- parameter groups: as torch.optim, each group its own hyper-parameters ---------------
def _groups(model: MLP, seq: torch.nn.Sequential) -> tuple[list[list], list[list]]:
    """The first layer's parameters, and the rest: ours as Values, torch's as tensors."""
    first = [v for n, t in model.named_tensors() if n.startswith("layers.0.") for v in flatten(t)]
    rest = [
        v for n, t in model.named_tensors() if not n.startswith("layers.0.") for v in flatten(t)
    ]
    theirs = list(seq.parameters())
    return [first, rest], [theirs[:2], theirs[2:]]


@pytest.mark.parametrize(
    ("ours", "theirs", "second"),
    [
        (SGD, torch.optim.SGD, {"lr": 0.02, "momentum": 0.5}),
        (SGD, torch.optim.SGD, {"weight_decay": 0.1, "nesterov": True, "momentum": 0.8}),
        (Adam, torch.optim.Adam, {"lr": 0.003, "betas": (0.5, 0.9)}),
    ],
    ids=["sgd-lr-momentum", "sgd-nesterov-decay", "adam-betas"],
)
def test_parameter_groups_match_torch(ours, theirs, second: dict) -> None:  # type: ignore[no-untyped-def]
    model = MLP(2, [6, 6, 1], init="he", seed=7)
    seq = torch_mlp(model)
    (a, b), (ta, tb) = _groups(model, seq)
    base = {"lr": 0.1, "momentum": 0.9} if ours is SGD else {"lr": 0.01}
    opt = ours([{"params": a}, {"params": b, **second}], **base)
    topt = theirs([{"params": ta}, {"params": tb, **second}], **base)
    sched, tsched = StepLR(opt, 2, 0.5), torch.optim.lr_scheduler.StepLR(topt, 2, 0.5)
    tx, ty = torch.tensor(X, dtype=F64), torch.tensor(YS, dtype=F64)
    for _ in range(5):
        opt.zero_grad()
        hinge_loss(model(X), YS).backward()
        opt.step()
        sched.step()
        topt.zero_grad()
        torch.clamp(1 - ty * seq(tx).squeeze(1), min=0).mean().backward()
        topt.step()
        tsched.step()
        assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-15)
    flat = [v for p in seq.parameters() for v in p.detach().flatten().tolist()]
    ours = [v.data for _, t in model.named_tensors() for v in flatten(t)]  # torch's layout
    assert ours == pytest.approx(flat, rel=1e-10, abs=1e-12)
    assert len(opt.state_dict()["param_groups"]) == 2


def test_state_is_keyed_by_parameter_and_a_parameter_may_not_repeat() -> None:
    model = MLP(2, [3, 1], seed=0)
    ps = model.parameters()
    opt = SGD([{"params": ps[:4]}, {"params": ps[4:]}], lr=0.1, momentum=0.9)
    hinge_loss(model(X), YS).backward()
    opt.step()
    assert set(opt.state) == set(ps) and all("momentum_buffer" in s for s in opt.state.values())
    with pytest.raises(ValueError, match="more than once"):
        SGD([{"params": ps}, {"params": ps[:1]}], lr=0.1)
    with pytest.raises(ValueError, match=r"unknown hyper-parameters.*betas"):
        SGD([{"params": ps, "betas": (0.9, 0.99)}], lr=0.1)


# --- argument checks when the object is made ---------------------------------------------
negative = st.floats(max_value=-1e-300, allow_nan=False)
not_finite = st.sampled_from([math.nan, math.inf, -math.inf])


@given(bad=st.one_of(negative, not_finite))
def test_sgd_refuses_a_negative_or_non_finite_lr_momentum_or_weight_decay(bad: float) -> None:
    params = MLP(1, [1], seed=0).parameters()
    for name in ("lr", "momentum", "weight_decay"):
        with pytest.raises(ValueError, match=f"invalid {name}"):
            SGD(params, **{"lr": 0.1, name: bad})
        if not math.isnan(bad) and bad < 0:  # where torch has the rule, torch agrees
            with pytest.raises(ValueError):
                torch.optim.SGD([torch.zeros(1)], **{"lr": 0.1, name: bad})


@given(
    beta=st.one_of(negative, st.floats(min_value=1.0), not_finite),
    which=st.sampled_from([0, 1]),
)
def test_adam_refuses_betas_outside_0_1(beta: float, which: int) -> None:
    params = MLP(1, [1], seed=0).parameters()
    betas = [0.9, 0.999]
    betas[which] = beta
    with pytest.raises(ValueError, match=rf"betas\[{which}\]"):
        Adam(params, betas=tuple(betas))  # type: ignore[arg-type]
    if not math.isnan(beta) and not math.isinf(beta):
        with pytest.raises(ValueError):
            torch.optim.Adam([torch.zeros(1)], betas=tuple(betas))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kw", "name"),
    [({"eps": -1e-8}, "eps"), ({"lr": math.nan}, "lr"), ({"weight_decay": -1.0}, "weight_decay")],
)
def test_adam_refuses_bad_eps_lr_weight_decay(kw: dict, name: str) -> None:
    with pytest.raises(ValueError, match=f"invalid {name}"):
        Adam(MLP(1, [1], seed=0).parameters(), **kw)


def test_a_non_number_hyper_parameter_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="lr must be a number"):
        SGD(MLP(1, [1], seed=0).parameters(), lr="0.1")  # type: ignore[arg-type]
    SGD(MLP(1, [1], seed=0).parameters(), lr=np.float32(0.1), momentum=np.int64(0))  # numpy is fine


@given(gamma=st.one_of(negative, not_finite), eta=st.one_of(negative, not_finite))
def test_schedules_that_would_make_a_negative_or_nan_lr_are_refused(
    gamma: float, eta: float
) -> None:
    opt = SGD(MLP(1, [1], seed=0).parameters(), lr=0.5)
    for make in (
        lambda: StepLR(opt, 3, gamma),
        lambda: MultiStepLR(opt, [2, 4], gamma),
        lambda: ExponentialLR(opt, gamma),
    ):
        with pytest.raises(ValueError, match="gamma"):
            make()
    with pytest.raises(ValueError, match="eta_min"):
        CosineAnnealingLR(opt, 10, eta)
    with pytest.raises(ValueError, match="step_size"):
        StepLR(opt, 0)
    assert opt.lr == 0.5


@given(
    gamma=st.floats(0.0, 10.0),
    eta=st.floats(0.0, 1.0),
    epochs=st.integers(1, 40),
)
def test_every_accepted_schedule_keeps_the_lr_finite_and_non_negative(
    gamma: float, eta: float, epochs: int
) -> None:
    opt = SGD(MLP(1, [1], seed=0).parameters(), lr=0.5)
    for s in (
        StepLR(opt, 3, gamma),
        ExponentialLR(opt, min(gamma, 1.0)),
        CosineAnnealingLR(opt, 7, eta),
    ):
        for _ in range(epochs):
            s.step()
            assert all(math.isfinite(lr) and lr >= 0 for lr in s.get_last_lr())


# --- state dicts: copies out, everything checked before anything is written --------------
MAKERS = pytest.mark.parametrize(
    "make",
    [
        lambda p: SGD(p, lr=0.1, momentum=0.9),
        lambda p: Adam(p, lr=0.01),
        lambda p: AdamW(p, lr=0.01, weight_decay=0.1),
    ],
    ids=["sgd", "adam", "adamw"],
)


def _stepped(make, steps: int = 2):  # type: ignore[no-untyped-def]
    model = MLP(2, [3, 1], seed=0)
    opt = make(model.parameters())
    for _ in range(steps):
        opt.zero_grad()
        hinge_loss(model(X), YS).backward()
        opt.step()
    return model, opt


@MAKERS
def test_state_dict_is_a_copy(make) -> None:  # type: ignore[no-untyped-def]
    _, opt = _stepped(make)
    sd = opt.state_dict()
    before = json.dumps(sd)
    sd["param_groups"][0]["lr"] = 123.0
    for v in sd["param_groups"][0].values():
        if isinstance(v, list):
            v[0] = 0.123  # Adam's betas, the group's parameter indices
    for s in sd["state"].values():
        for k in s:
            s[k] = -1.0
    sd["state"].clear()
    assert json.dumps(opt.state_dict()) == before and opt.lr != 123.0


@MAKERS
def test_loading_a_state_dict_continues_training_exactly(make) -> None:  # type: ignore[no-untyped-def]
    straight, opt = _stepped(make, steps=4)
    model, first = _stepped(make, steps=2)
    resumed = make(model.parameters())
    resumed.load_state_dict(json.loads(json.dumps(first.state_dict())))  # through JSON
    for _ in range(2):
        resumed.zero_grad()
        hinge_loss(model(X), YS).backward()
        resumed.step()
    assert [p.data for p in model.parameters()] == [p.data for p in straight.parameters()]
    assert resumed.state_dict() == opt.state_dict()


def _corrupt(sd: dict, how: str) -> dict:
    sd = json.loads(json.dumps(sd))
    s0 = next(iter(sd["state"].values()))
    key = next(iter(s0))
    if how == "negative lr":
        sd["param_groups"][0]["lr"] = -0.1
    elif how == "nan lr":
        sd["param_groups"][0]["lr"] = math.nan
    elif how == "unknown parameter":
        sd["state"]["999"] = dict(s0)
    elif how == "text in state":
        sd["state"][next(iter(sd["state"]))][key] = "x"
    elif how == "extra group":
        sd["param_groups"].append(dict(sd["param_groups"][0]))
    elif how == "missing key":
        del sd["param_groups"][0]["lr"]
    elif how == "fewer params":
        sd["param_groups"][0]["params"].pop()
    elif how == "no state":
        del sd["state"]
    return sd


@pytest.mark.parametrize(
    "how",
    [
        "negative lr",
        "nan lr",
        "unknown parameter",
        "text in state",
        "extra group",
        "missing key",
        "fewer params",
        "no state",
    ],
)
@MAKERS
def test_a_bad_state_dict_is_refused_and_changes_nothing(make, how: str) -> None:  # type: ignore[no-untyped-def]
    _, opt = _stepped(make)
    _, other = _stepped(lambda p: make(p), steps=3)
    before = json.dumps(opt.state_dict())
    with pytest.raises(ValueError):
        opt.load_state_dict(_corrupt(other.state_dict(), how))
    assert json.dumps(opt.state_dict()) == before


def test_scheduler_state_dict_round_trips_and_refuses_bad_ones() -> None:
    opt = SGD(MLP(1, [1], seed=0).parameters(), lr=0.5)
    s = StepLR(opt, 2, 0.5)
    for _ in range(3):
        s.step()
    other = StepLR(SGD(MLP(1, [1], seed=0).parameters(), lr=0.5), 2, 0.5)
    other.load_state_dict(json.loads(json.dumps(s.state_dict())))
    assert other.state_dict() == s.state_dict()
    for bad in ({"last_epoch": -1}, {"base_lrs": [math.nan]}, {"last_lr": []}):
        with pytest.raises(ValueError):
            other.load_state_dict({**s.state_dict(), **bad})
    assert other.state_dict() == s.state_dict()


def test_params_are_an_iterable_and_setting_lr_is_checked() -> None:
    ps = MLP(1, [1], seed=0).parameters()
    with pytest.raises(TypeError, match="iterable of Values"):
        SGD(ps[0], lr=0.1)  # type: ignore[arg-type]
    opt = SGD([{"params": ps[0]}, {"params": ps[1:], "lr": 0.5}], lr=0.1)  # one Value: a group
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    with pytest.raises(ValueError, match="invalid lr"):
        opt.lr = -1.0
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    opt.lr = 0.2
    assert [g["lr"] for g in opt.param_groups] == [0.2, 0.2]
