"""The one training loop: `Trainer` steps it, `fit` runs it to the end.

    trainer = Trainer(model, x, y, SGD(model.parameters(), lr=0.1), val=(xv, yv), epochs=50)
    trainer.step()          # one mini-batch (the epoch ends when its batches run out)
    for _ in trainer.slices(chunk=64): ...   # the same step, pausable between chunks
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
import numbers
import time
from collections.abc import Callable, Generator
from typing import Any

import numpy as np
from chainrule.engine import Value
from chainrule.nn.batchnorm import BatchNorm1d
from chainrule.nn.dropout import Dropout, check_probability
from chainrule.nn.history import History, Step
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
        # the chunks of a sliced step add up to the batch's gradient only for a mean loss
        # of samples that do not see each other (batch norm couples them)
        self._chunkable = not self._batchnorm and self.task in LOSSES.values()

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
        return _drain(self.slices())

    def slices(self, chunk: int | None = None) -> Generator[None, None, Step]:
        """`step()` in slices: yields after each `chunk` samples of the mini-batch's
        forward and backward pass, and of the validation at the epoch's end, so that a
        caller (the playground's worker) can pause or answer between them; returns the
        Step. The gradients of the chunks add up to the batch's: for a mean loss,
        L = Σ_chunks L_chunk·k/n. Batch norm couples a batch's samples, and a custom
        loss may not be a mean: then the batch is one slice. A step abandoned before its
        last slice changes no weight (its mini-batch is skipped)."""
        if self.finished:
            raise RuntimeError("this training run has finished")
        if chunk is not None:
            _whole("chunk", chunk, 1)
        work = self._step(chunk if self._chunkable else None)
        while True:
            start = time.perf_counter()
            try:
                next(work)
            except StopIteration as done:
                self.history.seconds = self._seconds = self._seconds + time.perf_counter() - start
                result: Step = done.value
                for hook in self.on_step:
                    hook(self, result)
                return result
            self._seconds += time.perf_counter() - start
            yield

    def _step(self, chunk: int | None) -> Generator[None, None, Step]:
        if not self._queue:
            self._new_epoch()
        idx = self._queue.pop(0)
        xb, yb = [self.x[i] for i in idx], [self.y[i] for i in idx]
        before = [[v.data for v in t] for _, t in self.tensors]
        try:
            self.model.train()
            self.optimizer.zero_grad()
            size = chunk or len(yb)
            data_loss = hits = 0.0
            for at in range(0, len(yb), size):
                if at:
                    yield
                last = at + size >= len(yb)
                part, right = self._backward(xb[at : at + size], yb[at : at + size], len(yb), last)
                data_loss, hits = data_loss + part, hits + right
            self._update()
        except ArithmeticError as e:  # a non-finite number, or an op's overflow
            for (_, t), old in zip(self.tensors, before):
                for v, o in zip(t, old):
                    v.data = o
            raise self._diverged(self.epoch + 1, str(e), "from before the failing step") from e
        self.steps += 1
        if self.track_updates:
            self._record_ratios(before)
        self._sums = [
            self._sums[0] + data_loss * len(yb),
            self._sums[1] + hits,
            self._sums[2] + len(yb),
        ]
        done = Step(self.epoch + 1, len(yb), data_loss, not self._queue)
        if done.epoch_end:
            yield from self._end_epoch(chunk)
        return done

    # numpy's overflow warnings are noise in a step: the non-finite numbers are caught here
    @np.errstate(over="ignore", invalid="ignore")
    def _backward(self, xs: list, ys: list, n: int, last: bool) -> tuple[float, float]:
        """Forward and backward of `len(ys)` of a batch's `n` samples, gradients added to
        the parameters': (data loss·k/n, samples classified right). The penalties go
        with the batch's last chunk. ArithmeticError as soon as a number is not finite."""
        if self.task in LOSSES.values():  # the library's losses: one graph for the batch
            out = self.model(np.asarray(xs, dtype=float))  # engine.batched
            outs = out if isinstance(out, list) else [out]
            pred: Any = np.column_stack([v.data for v in outs]).tolist()  # rows of numbers
        else:  # a loss of the user's: the per-sample outputs it was written for
            pred = out = self.model(xs)
        if not all(math.isfinite(float(v)) for p in pred for v in row(p)):
            # checked apart from the loss, which can hide a NaN (hinge's max)
            raise _NonFinite("the model's outputs are not finite")
        data_loss = self.task.fn(out, ys)
        objective = data_loss if len(ys) == n else data_loss * (len(ys) / n)
        if last:
            if self.l1:
                objective = objective + self.l1 * l1_penalty(self.model)
            if self.l2:
                objective = objective + self.l2 * l2_penalty(self.model)
        if not math.isfinite(objective.data):
            raise _NonFinite(f"the loss is {objective.data}")
        objective.backward()
        right = accuracy(pred, ys) * len(ys) if self.task.classifies else 0.0
        return data_loss.data if len(ys) == n else data_loss.data * len(ys) / n, right

    @np.errstate(over="ignore", invalid="ignore")
    def _update(self) -> None:
        self.optimizer.step()
        bad = _non_finite(self.tensors)
        if bad is not None:
            raise _NonFinite(f"parameter {bad} became non-finite")

    def _record_ratios(self, before: list[list[float]]) -> None:
        for (n, t), old in zip(self.tensors, before):
            norm = math.hypot(*old)  # hypot: no overflow, no loss of digits
            delta = math.hypot(*(v.data - o for v, o in zip(t, old)))
            kept = self.history.update_ratio[n]
            kept.append(delta / norm if norm else math.inf)
            if self.ratio_window is not None and len(kept) >= 2 * self.ratio_window:
                del kept[: -self.ratio_window]  # amortised: trimmed once per window

    def _end_epoch(self, chunk: int | None) -> Generator[None, None, None]:
        h, (loss_sum, hits, n) = self.history, self._sums
        self._sums = [0.0, 0.0, 0]
        self.epoch += 1
        h.train_loss.append(loss_sum / n)
        h.train_acc.append(hits / n if self.task.classifies else None)
        h.lr.append(self.optimizer.lr)
        if self.scheduler is not None:
            self.scheduler.step()
        if self.val is not None:
            yield from self._validate(chunk)
        if self.epoch >= self.epochs:
            self.finished = True
        if self.finished and self.patience is not None:
            self.restore_best()
        for hook in self.on_epoch:
            hook(self)

    def _validate(self, chunk: int | None) -> Generator[None, None, None]:
        """The validation loss and accuracy, in eval mode, `chunk` samples at a time
        (for a mean loss, the chunks' means weighted by their sizes)."""
        h, (x, y) = self.history, self.val  # type: ignore[misc]
        size = chunk or len(y)
        vl, va = 0.0, 0.0
        for at in range(0, len(y), size):
            if at:
                yield
            part, acc = evaluate_checked(
                self.model, x[at : at + size], y[at : at + size], self.task
            )
            k = len(y[at : at + size])
            vl += part if k == len(y) else part * k / len(y)
            va += (acc or 0.0) if k == len(y) else (acc or 0.0) * k / len(y)
        if not math.isfinite(vl):
            raise self._diverged(
                self.epoch, f"the validation loss is {vl}", f"after epoch {self.epoch}"
            )
        h.val_loss.append(vl)
        h.val_acc.append(va if self.task.classifies else None)
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
        every group), `l1`, `l2`, `scheduler` (an LRScheduler or None), and the modules'
        (`dropout`: every Dropout's p, `dropout_inverted`: its form, `bn_momentum`: every
        BatchNorm1d's); `batch_size` (from the next epoch), `patience`, `epochs`.
        Everything is checked first: a bad value raises and changes nothing. The edit is
        recorded in `history.edits` (a schedule by its class name)."""
        apply = [self._edit(name, value) for name, value in changes.items()]
        for do in apply:
            do()
        shown = {k: _shown(k, v) for k, v in changes.items()}
        self.history.edits.append({"step": self.steps, "epoch": self.epoch, **shown})

    def _edit(self, name: str, value: Any) -> Callable[[], None]:
        """A checked change, to apply once every change is checked."""
        if name in _MODULE_EDITS:
            kind, attr, check = _MODULE_EDITS[name]
            new = check(value)  # the module's own check: nothing changes if it is bad
            targets = [m for m in self.model.modules() if isinstance(m, kind)]
            if not targets:
                raise ValueError(f"{name}: the model has no {kind.__name__} layer")
            return lambda: _set_all(targets, attr, new)
        if name in _COUNTS:
            if name != "batch_size" or value is not None:
                _whole(name, value, _COUNTS[name])
            if name == "patience" and self.val is None:
                raise ValueError("early stopping (patience) needs validation data")
        elif name in ("l1", "l2"):
            check_number(name, value)
            value = float(value)
        elif name == "scheduler":
            if value is not None and not isinstance(value, LRScheduler):
                raise TypeError(f"scheduler must be an LRScheduler or None, got {type(value)}")
        else:
            return self._optimizer_edit(name, value)
        return lambda: setattr(self, name, value)

    def _optimizer_edit(self, name: str, value: Any) -> Callable[[], None]:
        opt = self.optimizer
        if name not in opt.defaults:
            raise ValueError(
                f"{type(opt).__name__} has no hyper-parameter {name!r}; "
                f"it has {sorted(opt.defaults)}"
            )
        for g in opt.param_groups:
            opt.check_group({**g, name: value})
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            value = float(value)  # numpy's scalars as plain floats: state dicts are JSON

        def apply() -> None:
            for g in opt.param_groups:
                g[name] = value
            if name == "lr" and self.scheduler is not None:
                # the schedule goes on from the new rate (its base becomes the new rate)
                self.scheduler.base_lrs = [value] * len(opt.param_groups)

        return apply


def _shown(name: str, value: Any) -> Any:
    """An edit as the history keeps it (JSON-ready): a schedule by its class name,
    numpy's numbers as Python's."""
    if name == "scheduler":
        return type(value).__name__
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value) if not isinstance(value, int) else value
    return value


def _drain(work: Generator[None, None, Step]) -> Step:
    """Run a generator of slices to its end; its return value."""
    while True:
        try:
            next(work)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]


def _set_all(modules: list[Module], attr: str, value: Any) -> None:
    for m in modules:
        setattr(m, attr, value)


def _check_flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected True or False, got {value!r}")
    return value


# live edits of the model's modules: (module class, attribute, check giving the value)
_MODULE_EDITS: dict[str, tuple[type, str, Callable[[Any], Any]]] = {
    "dropout": (Dropout, "p", check_probability),
    "dropout_inverted": (Dropout, "inverted", _check_flag),
    "bn_momentum": (BatchNorm1d, "momentum", lambda v: BatchNorm1d(1, momentum=v).momentum),
}
_COUNTS = {"batch_size": 1, "epochs": 1, "patience": 0}  # live edits of counts: lowest value


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
