"""The one training loop: `Trainer` steps it, `fit` runs it to the end.

    trainer = Trainer(model, x, y, SGD(model.parameters(), lr=0.1), val=(xv, yv), epochs=50)
    trainer.step()          # one mini-batch (the epoch ends when its batches run out)
    trainer.run_epoch()     # the rest of this epoch
    trainer.set(lr=0.01)    # live edits between steps: lr, momentum, l2, dropout, ...
    trainer.run()           # to the end (epochs, or early stopping)
    trainer.history         # what happened

Conventions, the same for `fit`, the CLI, the demo and the playground:
- epochs count from 1: `trainer.epoch` is the number of epochs finished, and
  `history.best_epoch` is the epoch whose validation loss was lowest, so its loss is
  `history.val_loss[best_epoch - 1]` (plots draw epoch k at x = k);
- the update ratio is ‖Δw‖/‖w‖ of each parameter tensor (state-dict name) at each step,
  inf for a tensor whose weights were all zero;
- with `patience`, the best model by validation loss is restored at the end (early
  stopping or not).

Everything is checked before the first step (ValueError naming the problem). As soon as
the loss or a parameter stops being a finite number, FloatingPointError names the epoch
and the weights are those from before the failing step: no finite loss is ever reported
for weights that are NaN.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from chainrule.engine import Value
from chainrule.nn.batchnorm import BatchNorm1d
from chainrule.nn.dropout import Dropout
from chainrule.nn.finite import finite_or_none
from chainrule.nn.module import Module, flatten
from chainrule.nn.optim import LRScheduler, Optimizer
from chainrule.nn.optim.optimizer import check_number
from chainrule.nn.progress import Progress
from chainrule.nn.regularization import l1_penalty, l2_penalty
from chainrule.nn.task import (
    LOSSES,
    Loss,
    LossFn,
    accuracy,
    as_loss,
    check_data,
    evaluate,
    evaluate_checked,
    row,
)

__all__ = ["LOSSES", "History", "Loss", "Step", "Trainer", "accuracy", "evaluate", "fit"]


@dataclass
class History:
    """Per epoch: losses, accuracies and the learning rate; per step: update ratios
    (‖Δw‖/‖w‖ per tensor, inf for a tensor whose weights were all zero); the live edits
    made between steps. `best_epoch` counts from 1 (see the module's conventions)."""

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float | None] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float | None] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    update_ratio: dict[str, list[float]] = field(default_factory=dict)  # ‖Δw‖/‖w‖ per tensor
    best_epoch: int | None = None
    stopped_early: bool = False
    seconds: float = 0.0
    edits: list[dict[str, Any]] = field(default_factory=list)  # {"step", "epoch", changes}

    @property
    def epochs(self) -> int:
        return len(self.train_loss)

    def to_dict(self) -> dict[str, Any]:
        """Strict-JSON-ready: every field, with non-finite numbers (an update ratio of a
        tensor that was all zeros) as None, which JSON writes as `null`."""
        return finite_or_none(
            {k: copy.deepcopy(getattr(self, k)) for k in self.__dataclass_fields__}
        )


@dataclass(frozen=True)
class Step:
    """What one step did: its epoch (from 1), the mini-batch's size and data loss, and
    whether it ended the epoch."""

    epoch: int
    size: int
    loss: float
    epoch_end: bool


def _non_finite(tensors: list[tuple[str, list[Value]]]) -> str | None:
    """The name of the first tensor holding a NaN or an infinity."""
    for name, t in tensors:
        if not all(math.isfinite(v.data) for v in t):
            return name
    return None


def _whole(name: str, x: Any, low: int) -> None:
    if isinstance(x, bool) or not isinstance(x, int) or x < low:
        raise ValueError(f"{name} must be a whole number >= {low}, got {x!r}")


class _NonFinite(ArithmeticError):
    """A NaN or an infinity where training needs finite numbers (message: where)."""


StepHook = Callable[["Trainer", Step], None]
EpochHook = Callable[["Trainer"], None]


class Trainer:
    """One training run, stepped from outside: `step()` (one mini-batch), `run_epoch()`,
    `run()`; `set(...)` changes hyper-parameters between steps. `on_step` hooks get
    (trainer, Step) after each step, `on_epoch` hooks get the trainer after each epoch.

    `ratio_window` keeps only the last N update ratios per tensor (a long live run);
    None keeps all. Raises as `fit` does (see the module)."""

    def __init__(
        self,
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
        seed: int | None = 0,
        track_updates: bool = True,
        ratio_window: int | None = None,
    ) -> None:
        self.task = as_loss(loss)
        _whole("epochs", epochs, 1)
        if batch_size is not None:
            _whole("batch_size", batch_size, 1)
        if patience is not None:
            _whole("patience", patience, 0)
            if val is None:
                raise ValueError("early stopping (patience) needs validation data")
        if ratio_window is not None:
            _whole("ratio_window", ratio_window, 1)
        if seed is not None:
            _whole("seed", seed, 0)
        if val is not None and (not isinstance(val, (tuple, list)) or len(val) != 2):
            raise ValueError("val must be a pair (x, y) of validation data")
        check_number("l1", l1)
        check_number("l2", l2)
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"optimizer must be an nn.optim Optimizer, got {type(optimizer)}")
        self.tensors = [(n, flatten(t)) for n, t in model.named_tensors()]  # scalars, once
        bad = _non_finite(self.tensors)
        if bad is not None:
            raise ValueError(f"the model's parameter {bad} holds a non-finite number")
        self.x, self.y = check_data(model, x, y, self.task, "training data")
        self.val = None if val is None else check_data(model, *val, self.task, "validation data")
        self.model, self.optimizer, self.scheduler = model, optimizer, scheduler
        self.epochs, self.batch_size, self.patience = epochs, batch_size, patience
        self.l1, self.l2 = float(l1), float(l2)
        self.track_updates, self.ratio_window = track_updates, ratio_window
        self.rng = np.random.default_rng(seed)
        self.history = History(update_ratio={n: [] for n, _ in self.tensors})
        self.on_step: list[StepHook] = []
        self.on_epoch: list[EpochHook] = []
        self.epoch = 0  # epochs finished
        self.steps = 0  # steps taken
        self.finished = False
        self.restored_epoch: int | None = None  # the best epoch, once its weights are back
        self.best_state: dict[str, Any] | None = None
        self.best_loss = math.inf
        self._bad_epochs = 0
        self._queue: list[list[int]] = []  # this epoch's mini-batches still to run
        self._sums = [0.0, 0.0, 0]  # this epoch's Σ loss·n, Σ hits, n
        self._seconds = 0.0
        self._batchnorm = any(isinstance(m, BatchNorm1d) for m in model.modules())

    # --- stepping ------------------------------------------------------------------------
    def _new_epoch(self) -> None:
        n = len(self.y)
        order = self.rng.permutation(n).tolist()
        size = self.batch_size or n
        self._queue = [order[i : i + size] for i in range(0, n, size)]
        if self._batchnorm and len(self._queue) > 1 and len(self._queue[-1]) == 1:
            # batch norm cannot normalise over one sample: it joins the batch before
            self._queue[-2] += self._queue.pop()

    def step(self) -> Step:
        """One optimisation step on the next mini-batch; ends the epoch after its last
        batch. RuntimeError once finished; FloatingPointError (weights as before this
        step, the run finished) when a number stops being finite."""
        if self.finished:
            raise RuntimeError("this training run has finished")
        start = time.perf_counter()
        if not self._queue:
            self._new_epoch()
        idx = self._queue.pop(0)
        xb, yb = [self.x[i] for i in idx], [self.y[i] for i in idx]
        before = [[v.data for v in t] for _, t in self.tensors]
        try:
            pred, data_loss = self._update(xb, yb)
        except ArithmeticError as e:  # a non-finite number, or an op's overflow
            for (_, t), old in zip(self.tensors, before):
                for v, o in zip(t, old):
                    v.data = o
            raise self._diverged(self.epoch + 1, str(e), "from before the failing step") from e
        finally:
            self._seconds += time.perf_counter() - start
        self.steps += 1
        if self.track_updates:
            self._record_ratios(before)
        self._sums[0] += data_loss * len(yb)
        if self.task.classifies:
            self._sums[1] += accuracy(pred, yb) * len(yb)
        self._sums[2] += len(yb)
        done = Step(self.epoch + 1, len(yb), data_loss, not self._queue)
        if done.epoch_end:
            self._end_epoch()
        for hook in self.on_step:
            hook(self, done)
        return done

    # numpy's overflow warnings are noise in a step: the non-finite numbers are caught here
    @np.errstate(over="ignore", invalid="ignore")
    def _update(self, xb: list, yb: list) -> tuple[Any, float]:
        """Forward, loss (+ l1·Σ|w| + l2·Σw²), backward, optimizer step: (predictions,
        data loss). Raises an ArithmeticError as soon as a number is not finite."""
        self.model.train()
        pred = self.model(xb)
        if not all(math.isfinite(v.data) for p in pred for v in row(p)):
            # checked apart from the loss, which can hide a NaN (hinge's max)
            raise _NonFinite("the model's outputs are not finite")
        data_loss = self.task.fn(pred, yb)
        objective = data_loss
        if self.l1:
            objective = objective + self.l1 * l1_penalty(self.model)
        if self.l2:
            objective = objective + self.l2 * l2_penalty(self.model)
        if not math.isfinite(objective.data):
            raise _NonFinite(f"the loss is {objective.data}")
        self.optimizer.zero_grad()
        objective.backward()
        self.optimizer.step()
        bad = _non_finite(self.tensors)
        if bad is not None:
            raise _NonFinite(f"parameter {bad} became non-finite")
        return pred, data_loss.data

    def _record_ratios(self, before: list[list[float]]) -> None:
        for (n, t), old in zip(self.tensors, before):
            norm = math.hypot(*old)  # hypot: no overflow, no loss of digits
            delta = math.hypot(*(v.data - o for v, o in zip(t, old)))
            kept = self.history.update_ratio[n]
            kept.append(delta / norm if norm else math.inf)
            if self.ratio_window is not None and len(kept) >= 2 * self.ratio_window:
                del kept[: -self.ratio_window]  # amortised: trimmed once per window

    def _end_epoch(self) -> None:
        h, (loss_sum, hits, n) = self.history, self._sums
        self._sums = [0.0, 0.0, 0]
        self.epoch += 1
        h.train_loss.append(loss_sum / n)
        h.train_acc.append(hits / n if self.task.classifies else None)
        h.lr.append(self.optimizer.lr)
        if self.scheduler is not None:
            self.scheduler.step()
        if self.val is not None:
            self._validate()
        if self.epoch >= self.epochs:
            self.finished = True
        if self.finished and self.patience is not None:
            self.restore_best()
        h.seconds = self._seconds
        for hook in self.on_epoch:
            hook(self)

    def _validate(self) -> None:
        h = self.history
        assert self.val is not None
        vl, va = evaluate_checked(self.model, self.val[0], self.val[1], self.task)
        if not math.isfinite(vl):
            raise self._diverged(
                self.epoch, f"the validation loss is {vl}", f"after epoch {self.epoch}"
            )
        h.val_loss.append(vl)
        h.val_acc.append(va)
        if vl < self.best_loss:
            self.best_loss, self._bad_epochs, h.best_epoch = vl, 0, self.epoch
            self.best_state = copy.deepcopy(self.model.state_dict())
        else:
            self._bad_epochs += 1
            if self.patience is not None and self._bad_epochs >= self.patience:
                h.stopped_early = self.finished = True

    def _diverged(self, epoch: int, what: str, weights: str) -> FloatingPointError:
        self.finished = True
        return FloatingPointError(
            f"training diverged in epoch {epoch}: {what}. The learning rate "
            f"(lr={self.optimizer.lr:g}) is probably too high: try a lower one. "
            f"The weights are those {weights}."
        )

    def restore_best(self) -> None:
        """Load the weights of the best epoch by validation loss (if there was one)."""
        if self.best_state is not None:
            self.model.load_state_dict(self.best_state)
            self.restored_epoch = self.history.best_epoch

    def run_epoch(self) -> None:
        """Step to the end of the current epoch (a whole one if none is under way)."""
        while not self.step().epoch_end:
            pass

    def run(self) -> History:
        """Step until finished (the last epoch, or early stopping); the history."""
        while not self.finished:
            self.step()
        return self.history

    # --- live edits --------------------------------------------------------------------
    def set(self, **changes: Any) -> None:
        """Change hyper-parameters between steps, taking effect at the next one:
        the optimizer's (`lr`, `momentum`, `weight_decay`, ... as its groups name them;
        every group), `l1`, `l2`, `dropout` (every Dropout's p), `bn_momentum` (every
        BatchNorm1d's), `batch_size` (from the next epoch), `patience`, `epochs`.
        Everything is checked first: a bad value raises and changes nothing. The edit is
        recorded in `history.edits`."""
        apply = [self._edit(name, value) for name, value in changes.items()]
        for do in apply:
            do()
        self.history.edits.append({"step": self.steps, "epoch": self.epoch, **changes})

    def _edit(self, name: str, value: Any) -> Callable[[], None]:
        """A checked change, to apply once every change is checked."""
        if name in ("l1", "l2"):
            check_number(name, value)
            return lambda: setattr(self, name, float(value))
        if name in ("dropout", "bn_momentum"):
            # the modules' own checks, on a probe: nothing changes if the value is bad
            kind, attr = (Dropout, "p") if name == "dropout" else (BatchNorm1d, "momentum")
            probe = Dropout(value) if kind is Dropout else BatchNorm1d(1, momentum=value)
            targets = [m for m in self.model.modules() if isinstance(m, kind)]
            if not targets:
                raise ValueError(f"{name}: the model has no {kind.__name__} layer")
            new = getattr(probe, attr)

            def apply() -> None:
                for m in targets:
                    setattr(m, attr, new)

            return apply
        if name in ("batch_size", "epochs", "patience"):
            if name != "batch_size" or value is not None:
                _whole(name, value, 0 if name == "patience" else 1)
            if name == "patience" and self.val is None:
                raise ValueError("early stopping (patience) needs validation data")
            return lambda: setattr(self, name, value)
        return self._optimizer_edit(name, value)

    def _optimizer_edit(self, name: str, value: Any) -> Callable[[], None]:
        opt = self.optimizer
        if name not in opt.defaults:
            raise ValueError(
                f"{type(opt).__name__} has no hyper-parameter {name!r}; "
                f"it has {sorted(opt.defaults)}"
            )
        for g in opt.param_groups:
            opt.check_group({**g, name: value})

        def apply() -> None:
            for g in opt.param_groups:
                g[name] = value
            if name == "lr" and self.scheduler is not None:
                # the schedule goes on from the new rate (its base becomes the new rate)
                self.scheduler.base_lrs = [value] * len(opt.param_groups)

        return apply


def fit(
    model: Module, x: Any, y: Any, optimizer: Optimizer, *, progress: bool = True, **options: Any
) -> History:
    """Train `model` on (x, y) with a `Trainer` run to the end; return the History.

    `options` are the Trainer's: epochs=100, loss="hinge", batch_size=None (full batch),
    val=None (x, y), scheduler=None, l1=0.0, l2=0.0, patience=None, seed=0,
    track_updates=True.

    Each step: forward a mini-batch, loss (+ l1·Σ|w| + l2·Σw²), backward, optimizer step,
    and the update-to-weight ratio ‖Δw‖/‖w‖ of each parameter tensor. Each epoch: the
    schedule steps, validation runs in eval mode, and with `patience` the best model by
    validation loss is kept; training stops after `patience` epochs in a row without a
    better validation loss (0 or 1: at the first one) and the best weights are restored.

    Labels: "hinge" takes 0/1 or -1/+1, "bce" 0/1, "cross_entropy" class indices below
    the number of outputs, "mse" finite numbers. Everything is checked before the first
    step (ValueError naming the problem). If the loss or a parameter becomes NaN or
    infinite, FloatingPointError names the epoch and the weights are left as before
    that step. `progress`: a bar on a terminal or in a notebook, one line per epoch
    elsewhere (a log).
    """
    trainer = Trainer(model, x, y, optimizer, **options)
    if not progress:
        return trainer.run()
    with Progress(trainer.epochs) as bar:
        trainer.on_epoch.append(bar.update)
        return trainer.run()
