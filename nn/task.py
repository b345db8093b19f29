"""What a training run learns: a loss, the labels it takes, and the data checks.

A `Loss` couples a loss function with the check (and normalisation) of its labels and
whether accuracy means anything for it. Names ("hinge", "mse", ...) are resolved to
`Loss` objects once, at the edge (`as_loss`); the library dispatches on the objects.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from chainrule.engine import Value, no_grad
from chainrule.nn.losses import bce_with_logits, cross_entropy, hinge_loss, mse_loss
from chainrule.nn.module import Module

LossFn = Callable[[Any, Sequence[Any]], Value]
LabelCheck = Callable[[list[Any], int], list[Any]]


@dataclass(frozen=True)
class Loss:
    """A loss as training uses it: the function, the check (and normalisation) of the
    labels for a model with `outputs` outputs per sample, and whether accuracy means
    anything (a classifier's loss)."""

    fn: LossFn
    labels: LabelCheck
    classifies: bool
    name: str = "custom"


def _whole(t: Any, loss: str) -> int:
    """A label that must be a whole number: 1 and 1.0 are 1; 1.7, True, "1" are errors."""
    if isinstance(t, (bool, np.bool_)) or not isinstance(t, (int, float, np.integer, np.floating)):
        raise ValueError(f"{loss} labels must be whole numbers, got {t!r}")
    if not float(t).is_integer():
        raise ValueError(f"{loss} labels must be whole numbers, got {t!r}")
    return int(t)


def _one_output(loss: str, outputs: int) -> None:
    if outputs != 1:
        raise ValueError(f"{loss} needs a model with one output, this one has {outputs}")


def _hinge_labels(y: list[Any], outputs: int) -> list[Any]:
    """Labels 0/1 or -1/+1 (either pair; 0 and -1 are the negative class) → -1/+1."""
    _one_output("hinge loss", outputs)
    ints = [_whole(t, "hinge loss") for t in y]
    seen = set(ints)
    if not (seen <= {0, 1} or seen <= {-1, 1}):
        raise ValueError(f"hinge loss labels must be 0/1 or -1/+1 (one pair), got {sorted(seen)}")
    return [1 if t == 1 else -1 for t in ints]


def _bce_labels(y: list[Any], outputs: int) -> list[Any]:
    """Labels 0 or 1."""
    _one_output("binary cross-entropy", outputs)
    ints = [_whole(t, "binary cross-entropy") for t in y]
    if not set(ints) <= {0, 1}:
        raise ValueError(f"binary cross-entropy labels must be 0 or 1, got {sorted(set(ints))}")
    return ints


def _class_labels(y: list[Any], outputs: int) -> list[Any]:
    """Class indices 0 .. outputs-1."""
    ints = [_whole(t, "cross-entropy") for t in y]
    bad = sorted({t for t in ints if not 0 <= t < outputs})
    if bad:
        raise ValueError(
            f"cross-entropy labels must be class indices 0..{outputs - 1} "
            f"(the model has {outputs} outputs), got {bad[:5]}"
        )
    return ints


def numbers(x: Any, what: str, where: str = "") -> np.ndarray:
    """`x` as a float array, refusing what only looks numeric: strings ("1.5"), bools,
    objects, ragged rows and non-finite numbers (ValueError naming `where` and `what`)."""
    try:
        raw = np.asarray(x)
    except (TypeError, ValueError):
        raise ValueError(f"{where}{what} must be rows of numbers, all the same length") from None
    if raw.dtype.kind not in "iuf":  # "U"/"S" strings, "b" bools, "O" anything else
        kind = {"U": "text", "S": "bytes", "b": "True/False"}.get(raw.dtype.kind, "non-numbers")
        raise ValueError(f"{where}{what} must be numbers, got {kind} (dtype {raw.dtype})")
    arr = raw.astype(float)
    if not np.isfinite(arr).all():
        bad = np.flatnonzero(~np.isfinite(arr).reshape(len(arr), -1).all(axis=1))
        raise ValueError(f"{where}sample {bad[0]} of {what} holds a non-finite number")
    return arr


def _targets(y: list[Any], outputs: int) -> list[Any]:
    """Finite numbers, one per output (a number for one output, else a row)."""
    arr = numbers(y, "mse targets")
    width = 1 if arr.ndim == 1 else arr.shape[1] if arr.ndim == 2 else -1
    if width != outputs:
        raise ValueError(f"mse targets have {width} values per sample, the model {outputs}")
    return arr.tolist()


def _hinge(pred: Any, y: Sequence[int]) -> Value:
    return hinge_loss(pred, [1 if t == 1 else -1 for t in y])


HINGE = Loss(_hinge, _hinge_labels, True, "hinge")
BCE = Loss(bce_with_logits, _bce_labels, True, "bce")
CROSS_ENTROPY = Loss(cross_entropy, _class_labels, True, "cross_entropy")
MSE = Loss(mse_loss, _targets, False, "mse")

LOSSES: dict[str, Loss] = {t.name: t for t in (HINGE, BCE, CROSS_ENTROPY, MSE)}
"""The library's losses by name, for the edges (CLI, URL, JSON) and `fit(loss="hinge")`."""
"""The losses `fit(loss=...)` accepts by name: "hinge", "bce", "cross_entropy" and "mse",
each with the check of its labels."""

# The library's loss functions, as functions or as modules (`MSELoss().fn`), get their checks
_BY_FUNCTION: dict[Any, Loss] = {
    hinge_loss: HINGE,
    bce_with_logits: BCE,
    cross_entropy: CROSS_ENTROPY,
    mse_loss: MSE,
}


def as_loss(loss: str | LossFn | Loss) -> Loss:
    """A name from LOSSES, a Loss, one of the library's loss functions or modules (with
    their label checks), or any callable(pred, y) → Value (labels unchecked; accuracy as
    for a classifier)."""
    if isinstance(loss, Loss):
        return loss
    known = _BY_FUNCTION.get(getattr(loss, "fn", loss))
    if known is not None:
        return known
    if isinstance(loss, str):
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}; choose one of {sorted(LOSSES)}")
        return LOSSES[loss]
    if not callable(loss):
        raise TypeError(f"loss must be a name or a function, got {type(loss).__name__}")
    return Loss(loss, lambda y, outputs: y, True)


def row(p: Any) -> list[Any]:
    """One sample's outputs as a list (a lone Value for a one-output model)."""
    return list(p) if isinstance(p, (list, tuple)) else [p]


def accuracy(pred: Sequence[Any], y: Sequence[Any]) -> float:
    """Fraction classified right: one output → its sign (positive is the class labelled
    1); several → the argmax (the class index)."""
    hits = 0
    for p, t in zip(pred, y):
        out = [v.data if isinstance(v, Value) else float(v) for v in row(p)]
        hits += ((out[0] > 0) == (t == 1)) if len(out) == 1 else (out.index(max(out)) == t)
    return hits / len(y)


def check_data(
    model: Module, x: Any, y: Any, task: Loss, what: str
) -> tuple[list[list[float]], list[Any]]:
    """(x as rows of floats, y checked by the loss), or ValueError naming the problem."""
    if isinstance(x, (str, bytes)) or isinstance(y, (str, bytes)):
        raise ValueError(f"{what}: x and y must be sequences of samples, not text")
    if len(x) != len(y):
        raise ValueError(f"{what}: x has {len(x)} samples but y has {len(y)} labels")
    if len(x) == 0:
        raise ValueError(f"{what}: no samples")
    arr = numbers(x, "x", f"{what}: ")
    if arr.ndim != 2:
        raise ValueError(f"{what}: x must be rows of numbers (samples × features)")
    rows = arr.tolist()
    return rows, task.labels(list(y), outputs(model, rows[:1]))


def outputs(model: Module, probe: list[list[float]]) -> int:
    """The model's outputs per sample, from one sample in eval mode without a graph
    (which changes nothing: no running statistics, no dropout draws)."""
    was = model.training
    model.eval()
    try:
        with no_grad():
            return len(row(model(probe)[0]))
    finally:
        model.train(was)


def evaluate(
    model: Module, x: Any, y: Any, loss: str | LossFn | Loss = "hinge"
) -> tuple[float, float | None]:
    """(loss, accuracy) in eval mode without recording a graph; the mode is restored.
    Accuracy is None for a loss that does not classify (mse)."""
    task = as_loss(loss)
    return evaluate_checked(model, *check_data(model, x, y, task, "evaluate"), task)


@np.errstate(over="ignore", invalid="ignore")  # a non-finite loss is reported by the caller
def evaluate_checked(model: Module, x: list, y: list, task: Loss) -> tuple[float, float | None]:
    """`evaluate` on data already checked by `check_data`."""
    was = model.training
    model.eval()
    try:
        with no_grad():
            pred = model(x)
            return task.fn(pred, y).data, accuracy(pred, y) if task.classifies else None
    finally:
        model.train(was)
