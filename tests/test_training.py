"""Training loop, early stopping, checkpoints, data sets, and the command line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nn import (
    MLP,
    SGD,
    CheckpointError,
    StepLR,
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
from nn.cli import main


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
    assert hist.epochs == hist.best_epoch + 1 + 5
    assert model.state_dict() == snapshots[hist.best_epoch]  # full batch: one step per epoch
    assert min(hist.val_loss) == hist.val_loss[hist.best_epoch]


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
    with pytest.raises(CheckpointError, match="not a finite number"):
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
    a, b, c = maker(seed=3), maker(seed=3), maker(seed=4)
    same = all(np.array_equal(u, v) for u, v in zip(a, b))
    assert same and not np.array_equal(a[0], c[0]) and len(a[0]) == len(a[1])


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
