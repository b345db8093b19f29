"""A training loop over mini-batches: progress bar, history, schedule, update-to-weight
ratios, and early stopping with the best checkpoint restored.

`fit` checks everything it is given before the first step (data shapes, labels the loss
can take, hyper-parameters), and stops with `FloatingPointError` naming the epoch as soon
as the loss or a parameter stops being a finite number: it never reports a finite loss
for weights that are NaN.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from chainrule.engine import Value, no_grad
from chainrule.nn.data import batches
from chainrule.nn.losses import bce_with_logits, cross_entropy, hinge_loss, mse_loss
from chainrule.nn.module import Module, flatten
from chainrule.nn.optim import LRScheduler, Optimizer
from chainrule.nn.optim.optimizer import check_number
from chainrule.nn.regularization import l1_penalty, l2_penalty
from tqdm.auto import tqdm

LossFn = Callable[[Any, Sequence[Any]], Value]
LabelCheck = Callable[[list[Any], int], list[Any]]


@dataclass(frozen=True)
class Loss:
    """A loss as `fit` uses it: the function, the check (and normalisation) of the labels
    for a model with `outputs` outputs per sample, and whether accuracy means anything."""

    fn: LossFn
    labels: LabelCheck
    classifies: bool


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


def _targets(y: list[Any], outputs: int) -> list[Any]:
    """Finite numbers, one per output (a number for one output, else a row)."""
    try:
        arr = np.asarray(y, dtype=float)
    except (TypeError, ValueError):
        raise ValueError("mse targets must be numbers (or rows of numbers)") from None
    width = 1 if arr.ndim == 1 else arr.shape[1] if arr.ndim == 2 else -1
    if width != outputs:
        raise ValueError(f"mse targets have {width} values per sample, the model {outputs}")
    if not np.isfinite(arr).all():
        raise ValueError("mse targets must be finite numbers")
    return arr.tolist()


def _hinge(pred: Any, y: Sequence[int]) -> Value:
    return hinge_loss(pred, [1 if t == 1 else -1 for t in y])


LOSSES: dict[str, Loss] = {
    "hinge": Loss(_hinge, _hinge_labels, True),
    "bce": Loss(bce_with_logits, _bce_labels, True),
    "cross_entropy": Loss(cross_entropy, _class_labels, True),
    "mse": Loss(mse_loss, _targets, False),
}


# The library's loss functions, as functions or as modules (`MSELoss().fn`), get their checks
_BY_FUNCTION: dict[Any, Loss] = {
    hinge_loss: LOSSES["hinge"],
    bce_with_logits: LOSSES["bce"],
    cross_entropy: LOSSES["cross_entropy"],
    mse_loss: LOSSES["mse"],
}


def _as_loss(loss: str | LossFn | Loss) -> Loss:
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


def _row(p: Any) -> list[Any]:
    return list(p) if isinstance(p, (list, tuple)) else [p]


def accuracy(pred: Sequence[Any], y: Sequence[Any]) -> float:
    """Fraction classified right: one output → its sign (positive is the class labelled
    1); several → the argmax (the class index)."""
    hits = 0
    for p, t in zip(pred, y):
        row = [v.data if isinstance(v, Value) else float(v) for v in _row(p)]
        hits += ((row[0] > 0) == (t == 1)) if len(row) == 1 else (row.index(max(row)) == t)
    return hits / len(y)


def _finite_or_none(x: Any) -> Any:
    """JSON has no NaN or Infinity: a non-finite number becomes None (null)."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, list):
        return [_finite_or_none(v) for v in x]
    if isinstance(x, dict):
        return {k: _finite_or_none(v) for k, v in x.items()}
    return x


@dataclass
class History:
    """Per epoch: losses, accuracies and the learning rate; per step: update ratios
    (|Δw|/|w|, inf for a tensor whose weights were all zero)."""

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float | None] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float | None] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    update_ratio: dict[str, list[float]] = field(default_factory=dict)  # |Δw|/|w| per tensor
    best_epoch: int | None = None
    stopped_early: bool = False
    seconds: float = 0.0

    @property
    def epochs(self) -> int:
        return len(self.train_loss)

    def to_dict(self) -> dict[str, Any]:
        """Strict-JSON-ready: every field, with non-finite numbers (an update ratio of a
        tensor that was all zeros) as None, which JSON writes as `null`."""
        return {
            k: _finite_or_none(copy.deepcopy(getattr(self, k))) for k in self.__dataclass_fields__
        }


def _check_data(
    model: Module, x: Any, y: Any, task: Loss, what: str
) -> tuple[list[list[float]], list[Any]]:
    """(x as rows of floats, y checked by the loss), or ValueError naming the problem."""
    if len(x) != len(y):
        raise ValueError(f"{what}: x has {len(x)} samples but y has {len(y)} labels")
    if len(x) == 0:
        raise ValueError(f"{what}: no samples")
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{what}: x must be rows of numbers, all the same length") from None
    if arr.ndim != 2:
        raise ValueError(f"{what}: x must be rows of numbers (samples × features)")
    bad = np.flatnonzero(~np.isfinite(arr).all(axis=1))
    if bad.size:
        raise ValueError(f"{what}: sample {bad[0]} of x holds a non-finite number")
    rows = arr.tolist()
    return rows, task.labels(list(y), _outputs(model, rows[:1]))


def _outputs(model: Module, probe: list[list[float]]) -> int:
    """The model's outputs per sample, from one sample in eval mode without a graph
    (which changes nothing: no running statistics, no dropout draws)."""
    was = model.training
    model.eval()
    try:
        with no_grad():
            return len(_row(model(probe)[0]))
    finally:
        model.train(was)


def _non_finite(tensors: list[tuple[str, list[Value]]]) -> str | None:
    """The name of the first tensor holding a NaN or an infinity."""
    for name, t in tensors:
        if not all(math.isfinite(v.data) for v in t):
            return name
    return None


def _restore(tensors: list[tuple[str, list[Value]]], values: list[list[float]]) -> None:
    for (_, t), old in zip(tensors, values):
        for v, o in zip(t, old):
            v.data = o


class _NonFinite(ArithmeticError):
    """A NaN or an infinity where training needs finite numbers (message: where)."""


# numpy's overflow warnings are noise in a step: the non-finite numbers are caught here
@np.errstate(over="ignore", invalid="ignore")
def _step(
    model: Module,
    xb: list,
    yb: list,
    task: Loss,
    optimizer: Optimizer,
    tensors: list[tuple[str, list[Value]]],
    l1: float,
    l2: float,
) -> tuple[Any, Value]:
    """One optimisation step on a mini-batch: (predictions, data loss). Raises an
    ArithmeticError as soon as an output, the loss or a parameter is not finite."""
    pred = model(xb)
    if not all(math.isfinite(v.data) for p in pred for v in _row(p)):
        # checked apart from the loss, which can hide a NaN (hinge's max)
        raise _NonFinite("the model's outputs are not finite")
    data_loss = task.fn(pred, yb)
    objective = data_loss
    if l1:
        objective = objective + l1 * l1_penalty(model)
    if l2:
        objective = objective + l2 * l2_penalty(model)
    if not math.isfinite(objective.data):
        raise _NonFinite(f"the loss is {objective.data}")
    optimizer.zero_grad()
    objective.backward()
    optimizer.step()
    bad = _non_finite(tensors)
    if bad is not None:
        raise _NonFinite(f"parameter {bad} became non-finite")
    return pred, data_loss


def _diverged(
    epoch: int, what: str, optimizer: Optimizer, weights: str = "from before the failing step"
) -> FloatingPointError:
    return FloatingPointError(
        f"training diverged in epoch {epoch}: {what}. The learning rate "
        f"(lr={optimizer.lr:g}) is probably too high: try a lower one. "
        f"The weights are those {weights}."
    )


def evaluate(
    model: Module, x: Any, y: Any, loss: str | LossFn | Loss = "hinge"
) -> tuple[float, float | None]:
    """(loss, accuracy) in eval mode without recording a graph; the mode is restored."""
    task = _as_loss(loss)
    return _evaluate(model, *_check_data(model, x, y, task, "evaluate"), task)


@np.errstate(over="ignore", invalid="ignore")  # a non-finite loss is reported by the caller
def _evaluate(model: Module, x: list, y: list, task: Loss) -> tuple[float, float | None]:
    was = model.training
    model.eval()
    try:
        with no_grad():
            pred = model(x)
            return task.fn(pred, y).data, accuracy(pred, y) if task.classifies else None
    finally:
        model.train(was)


def fit(
    model: Module,
    x: Any,
    y: Any,
    optimizer: Optimizer,
    *,
    epochs: int = 100,
    loss: str | LossFn | Loss = "hinge",
    batch_size: int | None = None,
    val: tuple[Any, Any] | None = None,
    scheduler: LRScheduler | None = None,
    l1: float = 0.0,
    l2: float = 0.0,
    patience: int | None = None,
    progress: bool = True,
    seed: int | None = 0,
    track_updates: bool = True,
) -> History:
    """Train `model` on (x, y); return the History.

    Each step: forward a mini-batch, loss (+ l1·Σ|w| + l2·Σw²), backward, optimizer step,
    and the update-to-weight ratio |Δw|/|w| of each parameter tensor. Each epoch: the
    schedule steps, validation runs in eval mode, and with `patience` the best model by
    validation loss is kept; training stops after `patience` epochs in a row without a
    better validation loss (0 or 1: at the first one) and the best weights are restored.

    Labels: "hinge" takes 0/1 or -1/+1, "bce" 0/1, "cross_entropy" class indices below
    the number of outputs, "mse" finite numbers. Everything is checked before the first
    step (ValueError naming the problem). If the loss or a parameter becomes NaN or
    infinite, FloatingPointError names the epoch and the weights are left as before
    that step.
    """
    task = _as_loss(loss)
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a whole number >= 1, got {epochs!r}")
    if batch_size is not None and (
        isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1
    ):
        raise ValueError(f"batch_size must be a whole number >= 1 or None, got {batch_size!r}")
    if patience is not None:
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise ValueError(f"patience must be a whole number >= 0, got {patience!r}")
        if val is None:
            raise ValueError("early stopping (patience) needs validation data")
    check_number("l1", l1)
    check_number("l2", l2)
    tensors = [(n, flatten(t)) for n, t in model.named_tensors()]  # each tensor's scalars, once
    bad = _non_finite(tensors)
    if bad is not None:
        raise ValueError(f"the model's parameter {bad} holds a non-finite number")
    x, y = _check_data(model, x, y, task, "training data")
    if val is not None:
        val = _check_data(model, val[0], val[1], task, "validation data")
    rng = np.random.default_rng(seed)
    hist = History(update_ratio={n: [] for n, _ in tensors})
    best, best_loss, bad_epochs = None, math.inf, 0
    start = time.perf_counter()
    bar = tqdm(range(1, epochs + 1), disable=not progress, desc="training", unit="epoch")
    for epoch in bar:
        model.train()
        total, n_seen, hits = 0.0, 0, 0.0
        for xb, yb in batches(x, y, batch_size, rng):
            before = [[v.data for v in t] for _, t in tensors]
            try:
                pred, data_loss = _step(model, xb, yb, task, optimizer, tensors, l1, l2)
            except ArithmeticError as e:  # a non-finite number, or an op's overflow
                _restore(tensors, before)
                bar.close()
                raise _diverged(epoch, str(e), optimizer) from e
            if track_updates:
                for (n, t), old in zip(tensors, before):
                    norm = math.hypot(*old)  # hypot: no overflow, no loss of digits
                    delta = math.hypot(*(v.data - o for v, o in zip(t, old)))
                    hist.update_ratio[n].append(delta / norm if norm else math.inf)
            total += data_loss.data * len(yb)
            if task.classifies:
                hits += accuracy(pred, yb) * len(yb)
            n_seen += len(yb)
        hist.train_loss.append(total / n_seen)
        hist.train_acc.append(hits / n_seen if task.classifies else None)
        hist.lr.append(optimizer.lr)
        if scheduler is not None:
            scheduler.step()
        postfix = {"loss": f"{hist.train_loss[-1]:.4f}"}
        if task.classifies:
            postfix["acc"] = f"{hist.train_acc[-1]:.3f}"
        if val is not None:
            vl, va = _evaluate(model, val[0], val[1], task)
            if not math.isfinite(vl):
                bar.close()
                raise _diverged(
                    epoch, f"the validation loss is {vl}", optimizer, f"after epoch {epoch}"
                )
            hist.val_loss.append(vl)
            hist.val_acc.append(va)
            postfix["val_loss"] = f"{vl:.4f}"
            if vl < best_loss:
                best_loss, best, bad_epochs = vl, copy.deepcopy(model.state_dict()), 0
                hist.best_epoch = len(hist.val_loss) - 1
            else:
                bad_epochs += 1
                if patience is not None and bad_epochs >= patience:
                    hist.stopped_early = True
        bar.set_postfix(postfix)
        if hist.stopped_early:
            break
    bar.close()
    if patience is not None and best is not None:
        model.load_state_dict(best)
    hist.seconds = time.perf_counter() - start
    return hist
