"""Training loop, early stopping, checkpoints, data sets, and the command line."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from chainrule.engine import Value
from chainrule.nn import (
    MLP,
    SGD,
    BCEWithLogitsLoss,
    CheckpointError,
    HingeLoss,
    MSELoss,
    StepLR,
    accuracy,
    bce_with_logits,
    fit,
    load,
    make_blobs,
    make_circles,
    make_moons,
    make_spirals,
    regression_1d,
    save,
    train_val_split,
)
from hypothesis import given
from hypothesis import strategies as st

from chainrule.cli import main


def test_moons_training_reaches_high_accuracy_and_records_everything() -> None:
    x, y = make_moons(100, seed=1)
    (xt, yt), (xv, yv) = train_val_split(x, y, 0.2, seed=0)
    model = MLP(2, [16, 16, 1], init="he", seed=0)
    opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    hist = fit(
        model,
        xt,
        yt,
        opt,
        epochs=100,
        scheduler=StepLR(opt, 40, 0.5),
        l2=1e-4,
        val=(xv, yv),
        progress=False,
    )
    assert hist.train_acc[-1] >= 0.97 and hist.epochs == 100
    assert hist.lr[0] == 0.1 and hist.lr[45] == 0.05 and hist.lr[85] == 0.025
    assert set(hist.update_ratio) == {
        "layers.0.weight",
        "layers.0.bias",
        "layers.1.weight",
        "layers.1.bias",
        "layers.2.weight",
        "layers.2.bias",
    }
    assert all(len(r) == 100 and all(v >= 0 for v in r) for r in hist.update_ratio.values())
    json.dumps(hist.to_dict())


def test_early_stopping_restores_the_best_weights() -> None:
    x, y = make_moons(60, noise=0.3, seed=2)
    (xt, yt), (xv, yv) = train_val_split(x, y, 0.3, seed=0)
    model = MLP(2, [32, 32, 1], init="he", seed=0)
    opt = SGD(model.parameters(), lr=0.3, momentum=0.9)  # too high on purpose: val loss goes up
    snapshots: list[dict] = []
    orig = opt.step

    def step() -> None:
        orig()
        snapshots.append(model.state_dict())

    opt.step = step  # type: ignore[method-assign]
    hist = fit(model, xt, yt, opt, epochs=200, val=(xv, yv), patience=5, progress=False)
    assert hist.stopped_early and hist.best_epoch is not None
    assert hist.epochs == hist.best_epoch + 5  # epochs count from 1
    assert model.state_dict() == snapshots[hist.best_epoch - 1]  # full batch: one step/epoch
    assert min(hist.val_loss) == hist.val_loss[hist.best_epoch - 1]


def test_checkpoint_round_trip_is_exact_and_atomic(tmp_path: Path) -> None:
    model = MLP(2, [5, 1], seed=0, batchnorm=True)
    model([[0.1, 0.2], [0.3, -0.4]])  # update batch-norm running statistics
    path = save(model, tmp_path / "m.json", {"epoch": 3})
    other = MLP(2, [5, 1], seed=1, batchnorm=True)
    assert load(other, path) == {"epoch": 3}
    assert other.state_dict() == model.state_dict()
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]  # no temp files left
    assert json.loads(path.read_text())["version"] == 1


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("{not json", "invalid JSON"),
        ('{"a": 1}', "not a chainrule checkpoint"),
        ('{"format": "chainrule-checkpoint", "version": 99, "state": {}}', "version 99"),
    ],
)
def test_corrupt_checkpoint_raises_and_changes_nothing(
    tmp_path: Path, content: str, words: str
) -> None:
    model = MLP(2, [3, 1], seed=0)
    before = model.state_dict()
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(CheckpointError, match=words):
        load(model, path)
    assert model.state_dict() == before


def test_checkpoint_of_another_shape_raises_and_changes_nothing(tmp_path: Path) -> None:
    small, big = MLP(2, [3, 1], seed=0), MLP(2, [4, 1], seed=0)
    path = save(big, tmp_path / "big.json")
    before = small.state_dict()
    with pytest.raises(CheckpointError, match=r"shape \[4, 2\], the model has \[3, 2\]"):
        load(small, path)
    assert small.state_dict() == before
    doc = json.loads(path.read_text())
    doc["state"]["layers.0.bias"][3] = "x"
    path.write_text(json.dumps(doc))
    with pytest.raises(CheckpointError, match=r"not a (finite )?number"):
        load(big, path)
    doc["state"].pop("layers.0.bias")
    path.write_text(json.dumps(doc))
    with pytest.raises(CheckpointError, match="missing"):
        load(big, path)


def test_saving_does_not_replace_a_good_file_on_failure(tmp_path: Path) -> None:
    model = MLP(1, [1], seed=0)
    path = save(model, tmp_path / "m.json")
    good = path.read_text()
    model.parameters()[0].data = float("nan")
    with pytest.raises(CheckpointError, match="non-finite"):
        save(model, path)
    assert path.read_text() == good and len(list(tmp_path.iterdir())) == 1


@pytest.mark.parametrize(
    "maker", [make_moons, make_circles, make_spirals, make_blobs, regression_1d]
)
def test_data_sets_are_seeded(maker) -> None:  # type: ignore[no-untyped-def]
    (xa, ya), (xb, yb), (xc, _) = maker(seed=3), maker(seed=3), maker(seed=4)
    assert np.array_equal(xa, xb) and np.array_equal(ya, yb) and not np.array_equal(xa, xc)
    assert len(xa) == len(ya)


def test_train_command_writes_checkpoint_and_history(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "run"
    code = main(
        [
            "train",
            "--dataset",
            "blobs",
            "--widths",
            "8",
            "--epochs",
            "20",
            "--optimizer",
            "adam",
            "--lr",
            "0.05",
            "--schedule",
            "cosine",
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    assert code == 0
    hist = json.loads((out / "history.json").read_text())
    assert len(hist["train_loss"]) == 20
    model = MLP(2, [8, 3], seed=0)
    load(model, out / "model.json")
    assert "validation" in capsys.readouterr().out


# --- fit checks what it is given before the first step ---------------------------------
def _small() -> tuple[MLP, SGD, list, list]:
    x, y = make_moons(30, seed=3)
    model = MLP(2, [4, 1], seed=0)
    return model, SGD(model.parameters(), lr=0.1), x, y


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda x, y: (x, y[:-1]), "30 samples but y has 29"),
        (lambda x, y: ([], []), "no samples"),
        (lambda x, y: ([[1.0, 2.0], [3.0]] * 15, y), "rows of numbers"),
        (lambda x, y: ([[math.nan, 0.0], *x[1:]], y), "sample 0 of x holds a non-finite"),
        (lambda x, y: (x, [1.7, *y[1:]]), "whole numbers, got 1.7"),
        (lambda x, y: (x, [2, *y[1:]]), "0/1 or -1/"),
        (lambda x, y: (x, [-1, 0, *y[2:]]), "0/1 or -1/"),
        (lambda x, y: (x, ["1", *y[1:]]), "whole numbers"),
    ],
    ids=["lengths", "empty", "ragged", "nan", "1.7", "label 2", "three classes", "text"],
)
def test_fit_refuses_bad_data_before_any_step(change, words: str) -> None:  # type: ignore[no-untyped-def]
    model, opt, x, y = _small()
    before = model.state_dict()
    bx, by = change(x, y)
    with pytest.raises(ValueError, match=words):
        fit(model, bx, by, opt, epochs=2, progress=False)
    with pytest.raises(ValueError, match=words):
        fit(model, x, y, opt, epochs=2, val=(bx, by), progress=False)
    assert model.state_dict() == before


@given(label=st.floats(-5, 5).filter(lambda t: t not in (0.0, 1.0)))
def test_bce_takes_only_0_and_1(label: float) -> None:
    model, opt, x, y = _small()
    with pytest.raises(ValueError, match="binary cross-entropy labels"):
        fit(model, x, [label, *y[1:]], opt, loss="bce", epochs=1, progress=False)


@given(label=st.one_of(st.integers(-10, -1), st.integers(3, 10), st.floats(0.01, 0.99)))
def test_cross_entropy_takes_class_indices_in_range(label: float) -> None:
    x, y = make_moons(30, seed=3)
    model = MLP(2, [4, 3], seed=0)
    with pytest.raises(ValueError, match="cross-entropy labels"):
        fit(
            model,
            x,
            [label, *y[1:]],
            SGD(model.parameters(), lr=0.1),
            loss="cross_entropy",
            epochs=1,
            progress=False,
        )


def test_labels_fit_the_model_width_and_equal_floats_are_fine() -> None:
    model, opt, x, y = _small()
    with pytest.raises(ValueError, match="one output, this one has 3"):
        wide = MLP(2, [4, 3], seed=0)
        fit(wide, x, y, SGD(wide.parameters(), lr=0.1), epochs=1, progress=False)
    fit(model, x, [float(t) for t in y], opt, epochs=1, progress=False)  # 1.0 is 1
    fit(model, x, [1 if t == 1 else -1 for t in y], opt, epochs=1, progress=False)  # ±1 too


@pytest.mark.parametrize(
    ("kw", "words"),
    [
        ({"patience": -1}, "patience"),
        ({"epochs": 0}, "epochs"),
        ({"batch_size": 0}, "batch_size"),
        ({"l2": -1.0}, "l2"),
        ({"l1": math.nan}, "l1"),
    ],
)
def test_fit_refuses_bad_settings(kw: dict, words: str) -> None:
    model, opt, x, y = _small()
    with pytest.raises(ValueError, match=words):
        fit(model, x, y, opt, val=(x, y), progress=False, **kw)


def test_patience_zero_stops_at_the_first_epoch_without_improvement() -> None:
    x, y = make_moons(60, noise=0.3, seed=2)
    (xt, yt), (xv, yv) = train_val_split(x, y, 0.3, seed=0)
    model = MLP(2, [32, 32, 1], init="he", seed=0)
    opt = SGD(model.parameters(), lr=0.3, momentum=0.9)
    hist = fit(model, xt, yt, opt, epochs=200, val=(xv, yv), patience=0, progress=False)
    losses = hist.val_loss
    first_worse = next(i for i in range(1, len(losses)) if losses[i] >= min(losses[:i]))
    assert hist.stopped_early and hist.epochs == first_worse + 1 > 1


@pytest.mark.parametrize("lr", [1e10, 1e100, 1e300])
@pytest.mark.parametrize("loss", ["hinge", "bce", "cross_entropy", "mse"])
def test_divergence_stops_with_the_epoch_and_finite_weights(lr: float, loss: str) -> None:
    x, y = make_moons(40, seed=1)
    model = MLP(2, [8, 2 if loss == "cross_entropy" else 1], seed=0)
    target = [float(t) for t in y] if loss == "mse" else y
    opt = SGD(model.parameters(), lr=lr, momentum=0.9)
    with pytest.raises(FloatingPointError, match=r"epoch \d+.*lower one"):
        fit(model, x, target, opt, epochs=40, loss=loss, progress=False)
    assert all(math.isfinite(p.data) for p in model.parameters())


def test_fit_refuses_a_model_that_is_already_nan() -> None:
    model, opt, x, y = _small()
    model.parameters()[0].data = math.nan
    with pytest.raises(ValueError, match="non-finite"):
        fit(model, x, y, opt, epochs=1, progress=False)


def test_accuracy_reads_the_predictions_not_a_loss_name() -> None:
    one = [[Value(0.5)], [Value(-2.0)], [Value(3.0)]]
    assert accuracy(one, [1, 0, 0]) == pytest.approx(2 / 3)
    assert accuracy(one, [1, -1, 1]) == 1.0
    many = [[Value(0.1), Value(2.0), Value(-1.0)], [Value(5.0), Value(0.0), Value(1.0)]]
    assert accuracy(many, [1, 2]) == 0.5


@pytest.mark.parametrize(
    ("loss", "labels", "words"),
    [
        (MSELoss(), [[0.0, 1.0]] * 30, "mse targets have 2 values"),
        (BCEWithLogitsLoss(), [0.5] * 30, "whole numbers"),
        (bce_with_logits, [2] * 30, "must be 0 or 1"),
        (HingeLoss(), [3] * 30, "0/1 or -1/"),
    ],
    ids=["MSELoss", "BCEWithLogitsLoss", "bce_with_logits", "HingeLoss"],
)
def test_loss_functions_and_modules_get_the_same_label_checks(loss, labels, words) -> None:  # type: ignore[no-untyped-def]
    model, opt, x, _ = _small()
    with pytest.raises(ValueError, match=words):
        fit(model, x, labels, opt, loss=loss, epochs=1, progress=False)
    hist = fit(model, x, [0.5] * 30, opt, loss=MSELoss(), epochs=1, progress=False)
    assert hist.train_acc == [None]  # a regression has no accuracy
