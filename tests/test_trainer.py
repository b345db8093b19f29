"""The one training loop: `Trainer` stepped from outside, the same as `fit`; live edits;
the progress shown on a terminal and written to a log."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from chainrule.nn import (
    MLP,
    SGD,
    Adam,
    AdamW,
    StepLR,
    Trainer,
    fit,
    make_moons,
    train_val_split,
)

X, Y = make_moons(40, noise=0.2, seed=1)
(XT, YT), (XV, YV) = train_val_split(X, Y, 0.25, seed=0)


def _model(**kw) -> MLP:  # type: ignore[no-untyped-def]
    return MLP(2, [6, 1], init="he", seed=0, **kw)


def _trainer(model: MLP, **kw) -> Trainer:  # type: ignore[no-untyped-def]
    opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    return Trainer(model, XT, YT, opt, val=(XV, YV), batch_size=8, epochs=6, **kw)


def test_stepping_a_trainer_is_fit_number_for_number() -> None:
    a, b = _model(), _model()
    opt = SGD(a.parameters(), lr=0.1, momentum=0.9)
    hist = fit(a, XT, YT, opt, val=(XV, YV), batch_size=8, epochs=6, progress=False)
    t = _trainer(b)
    steps = []
    while not t.finished:
        steps.append(t.step())
    assert a.state_dict() == b.state_dict()
    assert hist.train_loss == t.history.train_loss and hist.val_loss == t.history.val_loss
    assert hist.update_ratio == t.history.update_ratio
    # 30 samples in batches of 8: 4 steps an epoch, numbered from 1, the 4th ends it
    assert len(steps) == 24 and [s.epoch for s in steps[:5]] == [1, 1, 1, 1, 2]
    assert [s.epoch_end for s in steps[:4]] == [False, False, False, True]
    assert [s.size for s in steps[:4]] == [8, 8, 8, 6] and t.epoch == 6 == t.history.epochs
    with pytest.raises(RuntimeError, match="finished"):
        t.step()


def test_epochs_and_the_best_epoch_count_from_1() -> None:
    t = _trainer(_model())
    t.run_epoch()
    assert t.epoch == 1 and t.history.best_epoch == 1 and len(t.history.val_loss) == 1
    t.run()
    h = t.history
    assert h.val_loss[h.best_epoch - 1] == min(h.val_loss)  # type: ignore[operator]


def test_hooks_see_every_step_and_every_epoch() -> None:
    t = _trainer(_model())
    seen: list[tuple[str, int]] = []
    t.on_step.append(lambda tr, s: seen.append(("step", s.epoch)))
    t.on_epoch.append(lambda tr: seen.append(("epoch", tr.epoch)))
    t.run_epoch()
    assert seen == [("step", 1)] * 3 + [("epoch", 1), ("step", 1)]  # epoch hooks run first


def test_early_stopping_restores_the_best_checkpoint() -> None:
    model = MLP(2, [32, 32, 1], init="he", seed=0)
    opt = SGD(model.parameters(), lr=0.3, momentum=0.9)
    x, y = make_moons(60, noise=0.3, seed=2)
    (xt, yt), (xv, yv) = train_val_split(x, y, 0.3, seed=0)
    t = Trainer(model, xt, yt, opt, val=(xv, yv), patience=3, epochs=200)
    states = []
    t.on_epoch.append(lambda tr: states.append(tr.model.state_dict()))
    h = t.run()
    assert h.stopped_early and t.restored_epoch == h.best_epoch and h.epochs == h.best_epoch + 3
    assert states[-1] == model.state_dict()  # the hook ran after the restore
    assert model.state_dict() == t.best_state


def test_live_edits_take_effect_at_the_next_step_and_are_recorded() -> None:
    model = _model(dropout=0.2, batchnorm=True)
    opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = StepLR(opt, 2, 0.5)
    t = Trainer(model, XT, YT, opt, val=(XV, YV), batch_size=8, epochs=6, scheduler=sched)
    t.step()
    t.set(lr=0.02, momentum=0.5, weight_decay=1e-3, l2=1e-4, dropout=0.4, bn_momentum=0.3)
    assert opt.lr == 0.02 and opt.param_groups[0]["momentum"] == 0.5 and t.l2 == 1e-4
    drops = [m for m in model.modules() if type(m).__name__ == "Dropout"]
    norms = [m for m in model.modules() if type(m).__name__ == "BatchNorm1d"]
    assert {m.p for m in drops} == {0.4} and {m.momentum for m in norms} == {0.3}
    assert t.history.edits == [
        {
            "step": 1,
            "epoch": 0,
            "lr": 0.02,
            "momentum": 0.5,
            "weight_decay": 1e-3,
            "l2": 1e-4,
            "dropout": 0.4,
            "bn_momentum": 0.3,
        }
    ]
    t.run()
    assert t.history.lr == [0.02, 0.02, 0.01, 0.01, 0.005, 0.005]  # the schedule goes on


@pytest.mark.parametrize(
    "bad",
    [
        {"lr": -1.0},
        {"lr": math.nan},
        {"momentum": "0.9"},
        {"l1": math.inf},
        {"dropout": 1.5},
        {"dropout": math.nan},
        {"bn_momentum": 2.0},
        {"betas": [0.9, 0.999]},  # SGD has none
        {"batch_size": 0},
        {"patience": -1},
        {"epochs": 1.5},
        {"colour": 1},
    ],
    ids=str,
)
def test_a_bad_live_edit_raises_and_changes_nothing(bad: dict) -> None:
    model = _model(dropout=0.2)
    t = _trainer(model)
    t.step()
    before = (t.optimizer.state_dict(), t.l1, t.l2, model.state_dict(), t.batch_size, t.epochs)
    with pytest.raises((ValueError, TypeError)):
        t.set(lr=0.05, **bad)  # a good change alongside: not applied either
    assert before == (
        t.optimizer.state_dict(),
        t.l1,
        t.l2,
        model.state_dict(),
        t.batch_size,
        t.epochs,
    )
    assert t.history.edits == [] and [m.p for m in model.modules() if hasattr(m, "inverted")] == [
        0.2
    ]


def test_edits_are_kept_as_json_numbers() -> None:
    import json

    t = _trainer(_model())
    t.set(lr=np.float32(0.25), l2=np.float64(1e-3), batch_size=np.int64(4).item())
    assert type(t.optimizer.lr) is float and t.optimizer.lr == 0.25
    json.dumps(t.history.to_dict(), allow_nan=False)
    json.dumps(t.optimizer.state_dict(), allow_nan=False)


def test_edits_that_the_model_cannot_take_are_refused() -> None:
    t = _trainer(_model())
    with pytest.raises(ValueError, match="no Dropout"):
        t.set(dropout=0.5)
    adam = Trainer(_model(), XT, YT, Adam(_model().parameters()), epochs=1)
    with pytest.raises(ValueError, match="Adam has no hyper-parameter 'momentum'"):
        adam.set(momentum=0.9)
    adam.set(weight_decay=0.1, decoupled_weight_decay=True)
    with pytest.raises(TypeError, match="True or False"):
        _trainer(_model(dropout=0.1)).set(dropout_inverted=1)


def test_the_schedule_and_dropouts_form_can_change_between_steps() -> None:
    model = _model(dropout=0.2)
    t = _trainer(model)
    t.run_epoch()
    sched = StepLR(t.optimizer, 1, 0.5)
    t.set(scheduler=sched, dropout_inverted=False)
    assert (
        t.scheduler is sched
        and not next(m for m in model.modules() if hasattr(m, "inverted")).inverted
    )
    assert t.history.edits[-1] == {
        "step": 4,
        "epoch": 1,
        "scheduler": "StepLR",
        "dropout_inverted": False,
    }
    t.run_epoch()
    t.set(scheduler=None)
    t.run_epoch()
    assert t.history.lr == [0.1, 0.1, 0.05]
    with pytest.raises(TypeError, match="LRScheduler"):
        t.set(scheduler="step")


def test_ratio_window_keeps_the_last_steps_only() -> None:
    t = _trainer(_model(), ratio_window=5)
    t.run()
    assert all(5 <= len(r) < 10 for r in t.history.update_ratio.values())
    full = _trainer(_model())
    full.run()
    for name, r in t.history.update_ratio.items():
        assert r == full.history.update_ratio[name][-len(r) :]


def test_a_diverging_step_finishes_the_run_with_the_weights_before_it() -> None:
    model = _model()
    t = Trainer(model, XT, YT, AdamW(model.parameters(), lr=1e300), epochs=3)
    with pytest.raises(FloatingPointError, match=r"epoch \d.*lower one"):
        t.run()
    assert t.finished and all(math.isfinite(p.data) for p in model.parameters())


@pytest.mark.parametrize(
    ("x", "words"),
    [
        ([["1.5", "2"]] * 30, "text"),
        ([[b"1", b"2"]] * 30, "bytes"),
        ([[True, False]] * 30, "True/False"),
        ([[1, 10**400]] * 30, "non-numbers"),
        ("1.5,2", "not text"),
    ],
    ids=["strings", "bytes", "bools", "huge int", "one string"],
)
def test_fit_refuses_features_that_only_look_like_numbers(x: list, words: str) -> None:
    model = _model()
    before = model.state_dict()
    with pytest.raises(ValueError, match=words):
        fit(model, x, [0, 1] * 15, SGD(model.parameters(), lr=0.1), epochs=1, progress=False)
    with pytest.raises(ValueError, match="mse targets must be numbers"):
        fit(model, XT, ["0.5"] * 30, SGD(model.parameters(), lr=0.1), loss="mse", progress=False)
    assert model.state_dict() == before


@pytest.mark.parametrize(
    ("kw", "words"),
    [
        ({"val": (XV,)}, "pair"),
        ({"val": XV}, "pair"),
        ({"seed": -1}, "seed"),
        ({"seed": True}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"epochs": True}, "epochs"),
        ({"batch_size": 2.5}, "batch_size"),
        ({"ratio_window": 0}, "ratio_window"),
        ({"loss": "hinj"}, "unknown loss"),
        ({"loss": 3}, "loss must be"),
        ({"x": [[[1.0, 2.0]]] * 30}, "samples × features"),
        ({"x": np.zeros((30, 2), dtype=object)}, "non-numbers"),
        ({"y": "01" * 15}, "not text"),
        ({"optimizer": "sgd"}, "Optimizer"),
    ],
    ids=str,
)
def test_the_trainer_refuses_loose_arguments_before_any_step(kw: dict, words: str) -> None:
    model = _model()
    before = model.state_dict()
    args = {"x": XT, "y": YT, "optimizer": SGD(model.parameters(), lr=0.1)}
    args.update({k: kw.pop(k) for k in list(kw) if k in args})
    with pytest.raises((ValueError, TypeError), match=words):
        Trainer(model, args["x"], args["y"], args["optimizer"], **kw)
    assert model.state_dict() == before


@pytest.mark.parametrize("p", [-0.5, math.nan, 1.5, math.inf, "0.5", True])
def test_mlp_refuses_a_dropout_outside_0_1(p: object) -> None:
    with pytest.raises((ValueError, TypeError), match=r"(?i)dropout"):
        MLP(2, [4, 1], dropout=p)  # type: ignore[arg-type]


# --- progress: a bar on a terminal, plain lines in a log ---------------------------------
SCRIPT = """
from chainrule.nn import MLP, SGD, fit, make_moons
x, y = make_moons(20, seed=0)
m = MLP(2, [3, 1], seed=0)
fit(m, x, y, SGD(m.parameters(), lr=0.1), epochs=4, val=(x, y))
"""


def test_a_log_gets_one_line_per_epoch_without_carriage_returns() -> None:
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, timeout=120
    )
    lines = run.stderr.splitlines()
    assert "\r" not in run.stderr and len(lines) == 4, run.stderr
    assert lines[0].startswith("epoch 1/4  loss ") and "val_loss" in lines[0]
    assert lines[-1].startswith("epoch 4/4")


def test_a_terminal_gets_a_bar() -> None:
    import io

    from chainrule.nn.progress import Progress

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Tty()
    model = _model()
    t = _trainer(model)
    with Progress(6, stream=out) as bar:
        t.on_epoch.append(bar.update)
        t.run()
    assert "\r" in out.getvalue() and "6/6" in out.getvalue()


# --- slices: a step cut into chunks whose gradients add up to the batch's ---------------
@pytest.mark.parametrize("loss", ["hinge", "bce", "mse"])
def test_a_sliced_step_is_the_whole_step_to_rounding(loss: str) -> None:
    def run(chunk: int | None) -> tuple[Trainer, list[int]]:
        model = _model(dropout=0.3)
        y = [float(t) for t in YT] if loss == "mse" else YT
        opt = Adam(model.parameters(), lr=0.01)
        t = Trainer(
            model,
            XT,
            y,
            opt,
            loss=loss,
            val=(XV, YV if loss != "mse" else [float(v) for v in YV]),
            batch_size=13,
            epochs=2,
            l1=1e-3,
            l2=1e-3,
        )
        yields = []
        while not t.finished:
            work, n = t.slices(chunk), 0
            for _ in work:
                n += 1
            yields.append(n)
        return t, yields

    whole, none = run(None)
    sliced, some = run(4)
    assert none == [0] * 6
    # 30 samples in batches of 13, 13, 4: chunks of 4 → 3, 3, 0 yields, and for the
    # 10 validation samples at each epoch's end: 2 more
    assert some == [3, 3, 2, 3, 3, 2]
    flat = [p.data for p in whole.model.parameters()]
    assert [p.data for p in sliced.model.parameters()] == pytest.approx(flat, rel=1e-10)
    assert sliced.history.train_loss == pytest.approx(whole.history.train_loss, rel=1e-12)
    assert sliced.history.val_loss == pytest.approx(whole.history.val_loss, rel=1e-12)


def test_batch_norm_and_a_custom_loss_are_never_sliced() -> None:
    bn = _trainer(_model(batchnorm=True))
    assert sum(1 for _ in bn.slices(2)) == 0
    model = _model()
    custom = Trainer(
        model,
        XT,
        YT,
        SGD(model.parameters(), lr=0.1),
        loss=lambda p, y: sum(r[0] * r[0] for r in p),
    )
    assert sum(1 for _ in custom.slices(2)) == 0
    with pytest.raises(ValueError, match="chunk"):
        next(_trainer(_model()).slices(0))


def test_a_step_abandoned_between_slices_changes_no_weight() -> None:
    model = _model()
    t = _trainer(model)
    before = model.state_dict()
    work = t.slices(2)
    next(work)
    work.close()
    assert model.state_dict() == before and t.steps == 0
    assert t.step().size == 8  # the next mini-batch, whole
