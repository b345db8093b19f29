"""A training loop over mini-batches: progress bar, history, schedule, update-to-weight
ratios, and early stopping with the best checkpoint restored.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from engine import Value, no_grad
from nn.data import batches
from nn.losses import bce_with_logits, cross_entropy, hinge_loss, mse_loss
from nn.module import Module, flatten
from nn.optim import Optimizer
from nn.regularization import l1_penalty, l2_penalty
from nn.schedulers import LRScheduler

LossFn = Callable[[Any, Sequence[Any]], Value]


def _hinge(pred: Any, y: Sequence[int]) -> Value:
    return hinge_loss(pred, [1 if t == 1 else -1 for t in y])


LOSSES: dict[str, LossFn] = {
    "hinge": _hinge,  # labels 0/1 are mapped to -1/+1
    "bce": bce_with_logits,
    "cross_entropy": cross_entropy,
    "mse": mse_loss,
}


def accuracy(pred: list[list[Value]], y: Sequence[Any], loss: str) -> float | None:
    """Fraction classified right: one output → its sign; several → the argmax."""
    if loss == "mse":
        return None
    if len(pred[0]) == 1:
        hits = sum((p[0].data > 0) == (t == 1) for p, t in zip(pred, y))
    else:
        hits = sum(_argmax([v.data for v in p]) == t for p, t in zip(pred, y))
    return hits / len(y)


def _argmax(xs: list[float]) -> int:
    return xs.index(max(xs))


@dataclass
class History:
    """Per epoch: losses, accuracies and the learning rate; per step: update ratios."""

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
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def evaluate(
    model: Module, x: list, y: list, loss: str | LossFn = "hinge"
) -> tuple[float, float | None]:
    """(loss, accuracy) in eval mode without recording a graph; the mode is restored."""
    was = model.training
    model.eval()
    try:
        with no_grad():
            pred = model(x)
            fn = LOSSES[loss] if isinstance(loss, str) else loss
            return fn(pred, y).data, accuracy(pred, y, loss if isinstance(loss, str) else "")
    finally:
        model.train(was)


def fit(
    model: Module,
    x: list,
    y: list,
    optimizer: Optimizer,
    *,
    epochs: int = 100,
    loss: str | LossFn = "hinge",
    batch_size: int | None = None,
    val: tuple[list, list] | None = None,
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
    validation loss is kept; training stops after `patience` epochs without improvement
    and the best weights are restored.
    """
    if patience is not None and val is None:
        raise ValueError("early stopping (patience) needs validation data")
    loss_fn = LOSSES[loss] if isinstance(loss, str) else loss
    name = loss if isinstance(loss, str) else ""
    rng = np.random.default_rng(seed)
    tensors = [(n, flatten(t)) for n, t in model.named_tensors()]  # each tensor's scalars, once
    hist = History(update_ratio={n: [] for n, _ in tensors})
    best, best_loss, bad_epochs = None, math.inf, 0
    start = time.perf_counter()
    bar = tqdm(range(epochs), disable=not progress, desc="training", unit="epoch", leave=True)
    for _epoch in bar:
        model.train()
        total, n_seen, hits = 0.0, 0, 0.0
        for xb, yb in batches(x, y, batch_size, rng):
            pred = model(xb)
            data_loss = loss_fn(pred, yb)
            objective = data_loss
            if l1:
                objective = objective + l1 * l1_penalty(model)
            if l2:
                objective = objective + l2 * l2_penalty(model)
            optimizer.zero_grad()
            objective.backward()
            before = [[v.data for v in t] for _, t in tensors] if track_updates else []
            optimizer.step()
            if track_updates:
                for (n, t), old in zip(tensors, before):
                    delta = math.fsum((v.data - o) ** 2 for v, o in zip(t, old))
                    norm = math.fsum(o * o for o in old)
                    hist.update_ratio[n].append(math.sqrt(delta / norm) if norm else math.inf)
            total += data_loss.data * len(yb)
            acc = accuracy(pred, yb, name)
            hits += (acc or 0.0) * len(yb)
            n_seen += len(yb)
        hist.train_loss.append(total / n_seen)
        hist.train_acc.append(hits / n_seen if name != "mse" else None)
        hist.lr.append(optimizer.lr)
        if scheduler is not None:
            scheduler.step()
        postfix = {"loss": f"{hist.train_loss[-1]:.4f}"}
        if hist.train_acc[-1] is not None:
            postfix["acc"] = f"{hist.train_acc[-1]:.3f}"
        if val is not None:
            vl, va = evaluate(model, val[0], val[1], loss)
            hist.val_loss.append(vl)
            hist.val_acc.append(va)
            postfix["val_loss"] = f"{vl:.4f}"
            if vl < best_loss:
                best_loss, best, bad_epochs = vl, copy.deepcopy(model.state_dict()), 0
                hist.best_epoch = len(hist.val_loss) - 1
            else:
                bad_epochs += 1
        bar.set_postfix(postfix)
        if patience is not None and bad_epochs >= patience:
            hist.stopped_early = True
            break
    bar.close()
    if patience is not None and best is not None:
        model.load_state_dict(best)
    hist.seconds = time.perf_counter() - start
    return hist
