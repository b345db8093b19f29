"""One tab's model and its training, run by chainrule's engine and nn, in slices.

A training step is one mini-batch: forward through `Value`s, the loss (+ λ₁Σ|w| + λ₂Σw²),
`backward()`, the optimizer's step, and the update-to-weight ratio ‖Δw‖/‖w‖ of each
layer's weights. At the end of an epoch the schedule steps, the validation loss is
computed, and with early stopping the best weights so far are kept; after `patience`
epochs without improvement training stops and that best checkpoint is restored.

A step is done in slices of about 30 ms (SLICE_WORK) (`Trainer.slices()` yields between
them), so the thread that trains can pause, or let a request read the model, after any
slice rather than after a whole step (8 x 32 on 1,800 samples is ~20 s a step). Without
batch norm the mini-batch is cut into chunks of samples whose gradients add up:
mean loss = Σ_chunks (chunk's mean)·k/n, so Σ ∂(chunk's mean·k/n)/∂w = ∂(mean loss)/∂w.
Batch norm couples the samples of a batch, so its step builds the whole batch's graph
module by module (each layer's neurons in chunks of samples) and then runs one backward
pass, the part that cannot be sliced.

Settings that do not change the data or the network (the learning rate, momentum, the
optimizer, the schedule, the penalties, dropout's rate and form, batch norm's momentum,
the batch size, patience, epochs) are applied to the running model by `edit`, between
two steps; the loss chart marks where (`marks`).
"""

from __future__ import annotations

import copy
import itertools
import math
from collections import deque
from collections.abc import Generator, Iterator
from typing import Any

import numpy as np
from chainrule.nn import (
    MLP,
    SGD,
    Adam,
    BatchNorm1d,
    CosineAnnealingLR,
    Dropout,
    ExponentialLR,
    Layer,
    LRScheduler,
    StepLR,
    evaluate,
    l1_penalty,
    l2_penalty,
)
from chainrule.nn.data import (
    make_blobs,
    make_circles,
    make_moons,
    make_spirals,
    regression_1d,
    train_val_split,
)
from chainrule.nn.train import LOSSES
from chainrule.viz.playground import config, views

RATIO_WINDOW = 400  # steps of update ratios kept for the plot
# work between two chances to pause or answer a request, in samples x parameters: about
# 30 ms of forward and backward on a 2-core machine (8 x 32: 3 samples; 2-16-16-1: 60).
# Fixed, not timed, so that a run's arithmetic (and a link's result) never depends on speed
SLICE_WORK = 20_000
_SERIALS = itertools.count(1)
HISTORY_POINTS = 1000  # per-epoch curves sent to the page at most this long (downsampled)

# settings applied to a running model (the rest rebuild it); dropout's rate too, as long
# as it stays above 0 (0 means no Dropout layer at all)
LIVE = {
    "lr", "momentum", "optimizer", "schedule", "step_size", "gamma", "decay", "l1", "l2",
    "weight_decay", "dropout_form", "bn_momentum", "batch_size", "patience", "epochs",
}  # fmt: skip


def make_xor(n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Points in [-1, 1]² labelled 1 where x·y > 0 (the quadrants), then jittered by noise."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, (n, 2))
    y = (x[:, 0] * x[:, 1] > 0).astype(int)
    return x + rng.normal(0.0, 0.5 * noise, x.shape), y


def make_data(s: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """(inputs, targets) of the chosen data set as numpy arrays."""
    n, noise, seed = s["samples"], s["noise"], s["seed"]
    name = s["dataset"]
    if name == "xor":
        return make_xor(n, noise, seed)
    makers: dict[str, Any] = {
        "moons": lambda: make_moons(n, noise=noise, seed=seed),
        "circles": lambda: make_circles(n, noise=noise * 0.5, seed=seed),
        "spirals": lambda: make_spirals(n, noise=noise, seed=seed),
        "blobs": lambda: make_blobs(n, std=0.2 + 1.5 * noise, seed=seed),
        "regression": lambda: regression_1d(n, noise=noise, seed=seed),
    }
    x, y = makers[name]()
    return np.asarray(x, dtype=float), np.asarray(y)


def task(s: dict[str, Any], y: np.ndarray) -> tuple[str, int]:
    """(loss name, number of outputs): mse for regression, the chosen binary loss for two
    classes, softmax cross-entropy for more."""
    if s["dataset"] == "regression":
        return "mse", 1
    classes = int(y.max()) + 1
    return (s["loss"], 1) if classes == 2 else ("cross_entropy", classes)


def loss_function(name: str) -> Any:
    """nn's loss by name, as fn(predictions, labels) -> Value (labels 0/1 for hinge too)."""
    loss = LOSSES[name]
    return getattr(loss, "fn", loss)  # nn.train.Loss holds the function and its checks


def build_model(s: dict[str, Any], nin: int, nout: int) -> MLP:
    init = "zeros" if s["init"] == "zero" else s["init"]
    model = MLP(
        nin,
        [*config.widths(s), nout],
        s["activation"],
        init=init,
        batchnorm=s["batchnorm"],
        dropout=s["dropout"],
        seed=s["seed"],
    )
    tune_modules(model, s)
    return model


def tune_modules(model: MLP, s: dict[str, Any]) -> None:
    """The knobs a built model's modules take as they run: dropout's rate and form, batch
    norm's momentum."""
    for m in model.modules():
        if isinstance(m, Dropout):
            m.p = s["dropout"]
            m.inverted = s["dropout_form"] == "inverted"
        elif isinstance(m, BatchNorm1d):
            m.momentum = s["bn_momentum"]


def build_optimizer(s: dict[str, Any], params: list) -> SGD | Adam:
    lr, opt = s["lr"], s["optimizer"]
    if opt == "adam":
        return Adam(params, lr=lr)
    return SGD(
        params,
        lr=lr,
        momentum=s["momentum"] if opt in ("momentum", "nesterov") else 0.0,
        nesterov=opt == "nesterov",
        weight_decay=s["weight_decay"],
        decoupled_weight_decay=True,
    )


def decay_weights(params: list, lr: float, weight_decay: float) -> None:
    """Decoupled weight decay, as torch.optim.AdamW does before its Adam step:
    w ← (1 - lr·λ)·w, apart from the gradient (so Adam's scaling does not touch it)."""
    shrink = 1.0 - lr * weight_decay
    for p in params:
        p.data *= shrink


def build_schedule(s: dict[str, Any], opt: SGD | Adam) -> LRScheduler | None:
    name = s["schedule"]
    if name == "step":
        return StepLR(opt, s["step_size"], s["gamma"])
    if name == "exponential":
        return ExponentialLR(opt, s["decay"])
    if name == "cosine":
        return CosineAnnealingLR(opt, s["epochs"])
    return None


def thin(values: list, limit: int = HISTORY_POINTS) -> tuple[list, int]:
    """(every stride-th value, stride): a power of two, so the kept points stay the same
    ones as the list grows (the chart does not flicker), with the last value kept too."""
    stride = 1
    while len(values) > limit * stride:
        stride *= 2
    if stride == 1:
        return list(values), 1
    kept = values[::stride]
    if (len(values) - 1) % stride:
        kept.append(values[-1])
    return kept, stride


def rounded(values: Any, digits: int = 4) -> list:
    """Numbers to `digits` significant digits (the page draws them; full precision would
    only make frames bigger), non-finite ones unchanged."""
    return [float(f"{v:.{digits}g}") if math.isfinite(v) else v for v in values]


class Trainer:
    """The model, data, optimizer and history of one configuration (no threads here)."""

    def __init__(self, settings: dict[str, Any]) -> None:
        s = self.settings = settings
        x, y = make_data(s)
        (xt, yt), (xv, yv) = train_val_split(x.tolist(), y.tolist(), s["val_split"], s["seed"])
        self.x_train, self.y_train = np.asarray(xt, dtype=float), list(yt)
        self.x_val, self.y_val = np.asarray(xv, dtype=float), list(yv)
        if s["batchnorm"] and len(yt) < 2:
            raise config.SettingsError(
                f"samples: batch norm needs at least 2 training samples, and {s['samples']} "
                f"samples with val_split {s['val_split']} leave {len(yt)}"
            )
        self.loss_name, nout = task(s, y)
        self.loss_fn = loss_function(self.loss_name)
        self.box = views.extent(x)
        self.model = build_model(s, x.shape[1], nout)
        self.params = self.model.parameters()
        self.optimizer = build_optimizer(s, self.params)
        self.schedule = build_schedule(s, self.optimizer)
        self.layers = [m for m in self.model.modules() if isinstance(m, Layer)]
        self.rng = np.random.default_rng(s["seed"])
        self.queue: list[list[int]] = []  # this epoch's remaining mini-batches (indices)
        self.epoch = self.step_count = 0
        self.train_loss: list[float] = []
        self.val_loss: list[float] = []
        self.val_acc: list[float | None] = []
        self.ratios: list[deque[float]] = [deque(maxlen=RATIO_WINDOW) for _ in self.layers]
        self.marks: list[dict[str, Any]] = []  # live edits: {epoch, text}
        self.epoch_sum = self.epoch_n = 0.0
        self.best: tuple[int, float, dict[str, Any]] | None = None  # (epoch, val loss, state)
        self.best_acc: float | None = None  # the best checkpoint's validation accuracy
        self.restored: int | None = None  # the epoch whose checkpoint early stopping restored
        self.bad_epochs = 0
        self.finished = False
        self.message = ""
        self.serial = next(_SERIALS)  # tells the page a new model (and data) came

    # --- live edits -----------------------------------------------------------------
    @staticmethod
    def is_live(old: dict[str, Any], new: dict[str, Any]) -> bool:
        """Whether `new` differs from `old` only in knobs a running model takes."""
        changed = {k for k in new if new[k] != old[k]}
        if "dropout" in changed and old["dropout"] > 0 and new["dropout"] > 0:
            changed.discard("dropout")
        return changed <= LIVE

    def edit(self, new: dict[str, Any]) -> str:
        """Apply live settings (`is_live` holds) between two steps; returns what changed,
        as the loss chart's mark says it."""
        old, s = self.settings, dict(new)
        changed = [k for k in s if s[k] != old[k]]
        if not changed:
            return ""
        self.settings = s
        tune_modules(self.model, s)  # type: ignore[arg-type]
        if "optimizer" in changed:  # a new optimizer: its state (momentum, moments) from 0
            self.optimizer = build_optimizer(s, self.params)
        elif isinstance(self.optimizer, SGD):  # the same one, its buffers kept
            group = self.optimizer.param_groups[0]
            group["momentum"] = s["momentum"] if s["optimizer"] != "sgd" else 0.0
            group["weight_decay"] = s["weight_decay"]
        if {"lr", "optimizer", "schedule", "step_size", "gamma", "decay", "epochs"} & set(changed):
            # the schedule restarts here from the new rate (cosine: over the epochs left)
            self.optimizer.lr = s["lr"]
            left = {**s, "epochs": max(1, s["epochs"] - self.epoch)}
            self.schedule = build_schedule(left, self.optimizer)
        if self.finished and self.epoch < s["epochs"] and self.restored is None:
            self.finished, self.message = False, ""  # more epochs allowed: it can go on
        text = ", ".join(f"{k} {old[k]} → {s[k]}" for k in changed)
        self.marks.append({"epoch": self.epoch, "text": text})
        return text

    # --- training ----------------------------------------------------------------
    def _new_epoch(self) -> None:
        n = len(self.y_train)
        size = self.settings["batch_size"] or n
        order = self.rng.permutation(n).tolist()
        self.queue = [order[i : i + size] for i in range(0, n, size)]
        if self.settings["batchnorm"] and len(self.queue) > 1 and len(self.queue[-1]) == 1:
            # batch norm cannot normalise over one sample: it joins the previous batch
            self.queue[-2] += self.queue.pop()

    def step(self) -> None:
        """One whole mini-batch step (all its slices)."""
        for _ in self.slices():
            pass

    def slices(self) -> Iterator[None]:
        """One mini-batch step, yielding between slices of about SLICE seconds; the
        epoch's bookkeeping when the epoch's batches run out. A step whose numbers
        overflow (too high a learning rate) ends the run with a message instead of an
        exception."""
        if self.finished:
            return
        try:
            with np.errstate(over="ignore", invalid="ignore"):
                yield from self._step()
        except (ArithmeticError, ValueError) as e:
            self.finished = True
            where = f"training stopped at epoch {self.epoch}, step {self.step_count}"
            self.message = (
                f"{where}: the numbers overflowed ({e}); try a smaller learning rate"
                if isinstance(e, ArithmeticError)
                else f"{where}: {e}"
            )

    def _chunk(self, left: int, cheaper: int = 1) -> int:
        """How many samples fit in one slice (`cheaper` times more without a backward)."""
        return max(1, min(left, cheaper * SLICE_WORK // len(self.params)))

    def _gradients(self, idx: list[int]) -> Generator[None, None, float]:
        """Accumulate d(mean loss)/dw over the batch `idx` in chunks (one slice each);
        returns the batch's mean loss."""
        n, done, total = len(idx), 0, 0.0
        while done < n:
            k = self._chunk(n - done)
            part = idx[done : done + k]
            loss = self.loss_fn(self.model(self.x_train[part].tolist()), self._y(part))
            (loss * (k / n)).backward()  # leaves add up the chunks' gradients
            total += loss.data * k
            done += k
            yield
        return total / n

    def _y(self, idx: list[int]) -> list:
        return [self.y_train[i] for i in idx]

    def _batchnorm_gradients(self, idx: list[int]) -> Generator[None, None, float]:
        """The whole batch's graph, module by module (layers in chunks of samples), then
        one backward pass. Yields between slices; returns the mean loss."""
        batch: list = self.x_train[idx].tolist()
        for m in self.model.layers:  # type: ignore[attr-defined]
            if isinstance(m, BatchNorm1d):  # all samples at once: it normalises over them
                batch = m(batch)
                yield
                continue
            out: list = []
            while len(out) < len(batch):
                k = self._chunk(len(batch) - len(out), cheaper=2)
                out += m(batch[len(out) : len(out) + k])
                yield
            batch = out
        loss = self.loss_fn(batch, self._y(idx))
        loss.backward()
        return loss.data

    def _step(self) -> Iterator[None]:
        if not self.queue:
            self._new_epoch()
        idx = self.queue[0]
        self.model.train()
        self.optimizer.zero_grad()
        s = self.settings
        parts = self._batchnorm_gradients if s["batchnorm"] else self._gradients
        data_loss = yield from parts(idx)
        if not math.isfinite(data_loss):
            raise FloatingPointError(f"the loss is {data_loss}")
        penalty = s["l1"] * l1_penalty(self.model) if s["l1"] else None
        if s["l2"]:
            l2 = s["l2"] * l2_penalty(self.model)
            penalty = l2 if penalty is None else penalty + l2
        if penalty is not None:
            penalty.backward()  # adds into the leaves' gradients
        self._update()
        self.queue.pop(0)
        self.step_count += 1
        self.epoch_sum += data_loss * len(idx)
        self.epoch_n += len(idx)
        if not self.queue:
            yield from self._end_epoch()

    def _update(self) -> None:
        """The optimizer's step, and each layer's update ratio ‖Δw‖/‖w‖."""
        s = self.settings
        before = [np.array([[w.data for w in row] for row in m.weight]) for m in self.layers]
        if s["weight_decay"] and isinstance(self.optimizer, Adam):
            decay_weights(self.params, self.optimizer.lr, s["weight_decay"])
        self.optimizer.step()
        for m, w0, hist in zip(self.layers, before, self.ratios):
            new = np.array([[w.data for w in row] for row in m.weight])
            norm = float(np.sqrt((w0 * w0).sum()))
            # ‖w‖ = 0 (zero init): undefined, kept as inf; the frame sends null, the chart says so
            hist.append(float(np.sqrt(((new - w0) ** 2).sum())) / norm if norm else math.inf)

    def _validate(self) -> Generator[None, None, tuple[float, float | None]]:
        """(loss, accuracy) on the validation set, in chunks of samples (one slice each):
        each chunk's means weighted by its size."""
        n, done, loss, hits, classifies = len(self.y_val), 0, 0.0, 0.0, False
        while done < n:
            k = self._chunk(n - done, cheaper=2)
            part = slice(done, done + k)
            xs, ys = self.x_val[part].tolist(), self.y_val[part]
            lk, ak = evaluate(self.model, xs, ys, self.loss_name)
            loss, hits, done = loss + lk * k, hits + (ak or 0.0) * k, done + k
            classifies = ak is not None
            yield
        return loss / n, hits / n if classifies else None

    def _end_epoch(self) -> Iterator[None]:
        s = self.settings
        self.train_loss.append(self.epoch_sum / self.epoch_n)
        self.epoch_sum = self.epoch_n = 0.0
        self.epoch += 1
        if self.schedule is not None:
            self.schedule.step()
        vl, va = yield from self._validate()
        self.val_loss.append(vl)
        self.val_acc.append(va)
        if not math.isfinite(self.train_loss[-1]) or not math.isfinite(vl):
            self.finished = True
            self.message = f"the loss is no longer finite at epoch {self.epoch}: training stopped"
            return
        if self.best is None or vl < self.best[1]:
            self.best = (self.epoch, vl, copy.deepcopy(self.model.state_dict()))
            self.best_acc = va
            self.bad_epochs = 0
        else:
            self.bad_epochs += 1
        if s["patience"] and self.bad_epochs >= s["patience"]:
            best_epoch, best_loss, state = self.best
            self.model.load_state_dict(state)
            self.restored = best_epoch
            self.finished = True
            self.message = (
                f"early stopping: no better validation loss for {s['patience']} epochs; "
                f"restored the best checkpoint, epoch {best_epoch} (val loss {best_loss:.4f})"
            )
        elif self.epoch >= s["epochs"]:
            self.finished = True
            self.message = f"done: {self.epoch} epochs"

    # --- what the page shows ------------------------------------------------------
    def points(self) -> dict[str, list]:
        def rows(x: np.ndarray, y: list) -> list:
            return [[*np.round(xi, 4).tolist(), t] for xi, t in zip(x, y)]

        return {"train": rows(self.x_train, self.y_train), "val": rows(self.x_val, self.y_val)}

    def picture(self) -> dict[str, Any]:
        """The views that depend on the weights: boundary or curve, histograms, network."""
        with np.errstate(over="ignore", invalid="ignore"):
            return self._picture()

    def _picture(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "hist": views.histograms(self.model, self.x_train),
            "net": views.network(self.model),
        }
        if self.loss_name == "mse":
            out["curve"] = views.curve(self.model, self.box)
        else:
            out["grid"] = views.boundary(self.model, self.box, self.loss_name)
        return out

    def ratio_notes(self, hist: list[dict[str, Any]]) -> dict[str, str]:
        """Why a layer's latest update ratio cannot be drawn on a log scale: ‖w‖ = 0
        (undefined), or Δw = 0 because every gradient reaching it is 0 (with the hidden
        layers whose ReLU units are all dead, the usual reason)."""
        dead = [h["name"] for h in hist if h["dead"] >= 1.0]
        notes = {}
        for i, r in enumerate(self.ratios):
            if not r or (math.isfinite(r[-1]) and r[-1] > 0):
                continue
            if not math.isfinite(r[-1]):
                notes[f"layer {i + 1}"] = "‖w‖ = 0: ratio undefined"
            else:
                why = f" ({', '.join(dead)}: every unit dead)" if dead else ""
                notes[f"layer {i + 1}"] = "no update: every gradient is 0" + why
        return notes

    def snapshot(self) -> dict[str, Any]:
        names = [f"layer {i + 1}" for i in range(len(self.layers))]
        best = self.best[0] if self.best else None
        train, stride = thin(rounded(self.train_loss, 6))
        picture = self.picture()
        return {
            "epoch": self.epoch,
            "step": self.step_count,
            "lr": self.optimizer.lr,
            "finished": self.finished,
            "message": self.message,
            "task": self.loss_name,
            "box": self.box,
            "history_stride": stride,  # curve point i is epoch i·stride + 1
            "train_loss": train,
            "val_loss": thin(rounded(self.val_loss, 6))[0],
            "val_acc": thin(self.val_acc)[0],
            "marks": self.marks[-50:],
            "best_epoch": best,
            # the model now in use is the restored checkpoint, not the last epoch's
            "restored": None
            if self.restored is None or self.best is None
            else {"epoch": self.restored, "val_loss": self.best[1], "val_acc": self.best_acc},
            "ratios": dict(zip(names, [rounded(h, 3) for h in self.ratios])),
            "ratio_notes": self.ratio_notes(picture["hist"]),
            **picture,
        }
