"""One tab's model and its training, run by chainrule's engine and nn in a worker thread.

A training step is one mini-batch: forward through `Value`s, the loss (+ λ₁Σ|w| + λ₂Σw²),
`backward()`, the optimizer's step, and the update-to-weight ratio ‖Δw‖/‖w‖ of each
layer's weights. At the end of an epoch the schedule steps, the validation loss is
computed, and with early stopping the best weights so far are kept; after `patience`
epochs without improvement training stops and that best checkpoint is restored.

What nn does not have is done here, minimally: the xor data set, and decoupled weight
decay for Adam (AdamW's w ← (1 - lr·λ)·w before the step; nn's SGD has it built in).
"""

from __future__ import annotations

import copy
import json
import math
import threading
import time
from collections import deque
from typing import Any

import numpy as np
from chainrule.nn import (
    MLP,
    SGD,
    Adam,
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
from chainrule.nn.finite import finite_or_none as _finite  # JSON has no NaN: null
from chainrule.nn.train import LOSSES
from chainrule.viz.playground import config, views

RATIO_WINDOW = 400  # steps of update ratios kept for the plot
FRAME_INTERVAL = 0.1  # seconds between pictures while training (at most 10 a second)
UNWATCHED = 60.0  # seconds a run trains with no tab showing it before it pauses
IDLE_CHECK = 0.5  # seconds an idle worker sleeps before it looks at `closed` again


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
    for m in model.modules():
        if isinstance(m, Dropout):
            m.inverted = s["dropout_form"] == "inverted"
    return model


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
        self.epoch_sum = self.epoch_n = 0.0
        self.best: tuple[int, float, dict[str, Any]] | None = None  # (epoch, val loss, state)
        self.best_acc: float | None = None  # the best checkpoint's validation accuracy
        self.restored: int | None = None  # the epoch whose checkpoint early stopping restored
        self.bad_epochs = 0
        self.finished = False
        self.message = ""

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
        """One mini-batch step; the epoch's bookkeeping when the epoch's batches run out.
        A step whose numbers overflow (too high a learning rate) ends the run with a
        message instead of an exception."""
        if self.finished:
            return
        try:
            with np.errstate(over="ignore", invalid="ignore"):
                self._step()
        except (ArithmeticError, ValueError) as e:
            self.finished = True
            where = f"training stopped at epoch {self.epoch}, step {self.step_count}"
            self.message = (
                f"{where}: the numbers overflowed ({e}); try a smaller learning rate"
                if isinstance(e, ArithmeticError)
                else f"{where}: {e}"
            )

    def _step(self) -> None:
        if not self.queue:
            self._new_epoch()
        idx = self.queue.pop(0)
        xb = self.x_train[idx].tolist()
        yb = [self.y_train[i] for i in idx]
        self.model.train()
        data_loss = self.loss_fn(self.model(xb), yb)
        objective = data_loss
        s = self.settings
        if s["l1"]:
            objective = objective + s["l1"] * l1_penalty(self.model)
        if s["l2"]:
            objective = objective + s["l2"] * l2_penalty(self.model)
        self.optimizer.zero_grad()
        objective.backward()
        before = [[[w.data for w in row] for row in m.weight] for m in self.layers]
        if s["weight_decay"] and isinstance(self.optimizer, Adam):
            decay_weights(self.params, self.optimizer.lr, s["weight_decay"])
        self.optimizer.step()
        for m, old, hist in zip(self.layers, before, self.ratios):
            new = np.array([[w.data for w in row] for row in m.weight])
            w0 = np.array(old)
            norm = float(np.sqrt((w0 * w0).sum()))
            # ‖w‖ = 0 (zero init): undefined, kept as inf; the frame sends null, the chart says so
            hist.append(float(np.sqrt(((new - w0) ** 2).sum())) / norm if norm else math.inf)
        self.step_count += 1
        self.epoch_sum += data_loss.data * len(idx)
        self.epoch_n += len(idx)
        if not self.queue:
            self._end_epoch()

    def _end_epoch(self) -> None:
        s = self.settings
        self.train_loss.append(self.epoch_sum / self.epoch_n)
        self.epoch_sum = self.epoch_n = 0.0
        self.epoch += 1
        if self.schedule is not None:
            self.schedule.step()
        vl, va = evaluate(self.model, self.x_val.tolist(), self.y_val, self.loss_name)
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

    def snapshot(self) -> dict[str, Any]:
        names = [f"layer {i + 1}" for i in range(len(self.layers))]
        best = self.best[0] if self.best else None
        return {
            "epoch": self.epoch,
            "step": self.step_count,
            "lr": self.optimizer.lr,
            "finished": self.finished,
            "message": self.message,
            "task": self.loss_name,
            "box": self.box,
            "train_loss": self.train_loss,
            "val_loss": self.val_loss,
            "val_acc": self.val_acc,
            "best_epoch": best,
            # the model now in use is the restored checkpoint, not the last epoch's
            "restored": None
            if self.restored is None or self.best is None
            else {"epoch": self.restored, "val_loss": self.best[1], "val_acc": self.best_acc},
            "ratios": dict(zip(names, [list(h) for h in self.ratios])),
            "points": self.points(),
            **self.picture(),
        }


class Session:
    """A Trainer driven by a worker thread; the page plays, pauses and steps it, and
    reads its pictures as JSON frames (`frame`, `version`)."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.trainer = Trainer(settings)
        self.running = False
        self.pending = 0  # single steps asked for
        self.closed = False
        self.version = 0
        self.frame = ""
        self.last_frame = 0.0
        self.last_seen = time.monotonic()
        self.streams = 0  # event streams open on this session (tabs showing it)
        self.unwatched_since = time.monotonic()
        self.perf = {"steps_per_s": 0.0, "frame_ms": 0.0}
        self._rate: deque[float] = deque(maxlen=50)  # times of recent steps
        with self.lock:
            self.publish()
        self.worker = threading.Thread(target=self._run, daemon=True, name="playground-train")
        self.worker.start()

    @property
    def settings(self) -> dict[str, Any]:
        return self.trainer.settings

    def configure(self, settings: dict[str, Any]) -> None:
        """A new model from new (already checked) settings; training paused."""
        trainer = Trainer(settings)  # built before the lock: a failure changes nothing
        with self.lock:
            self.trainer, self.running, self.pending = trainer, False, 0
            self._rate.clear()
            self.publish()

    def control(self, action: str) -> None:
        with self.lock:
            if action == "play":
                self.running = not self.trainer.finished
                self._rate.clear()  # steps/s of this run, not across the pause
                if self.trainer.message.startswith("paused:"):
                    self.trainer.message = ""  # the note about an unwatched pause is old news
            elif action == "pause":
                self.running = False
            elif action == "step":
                self.pending += 1
            elif action == "reset":
                self.configure(self.trainer.settings)
                return
            else:
                raise ValueError(f"unknown action {action!r}; use play, pause, step or reset")
            self.changed.notify_all()
            self.publish()

    def watch(self, opened: bool) -> None:
        """An event stream opened or closed (a tab shown, hidden or closed)."""
        with self.lock:
            self.streams += 1 if opened else -1
            if self.streams == 0:
                self.unwatched_since = time.monotonic()

    def close(self) -> None:
        """Stop the worker without waiting for it: closing (a server's Ctrl-C, an evicted
        session) must not queue behind a training step for the lock. The worker sees the
        flag after its current step; an idle one is woken now, or by its wait's timeout."""
        self.closed = True
        if self.lock.acquire(blocking=False):
            try:
                self.changed.notify_all()
            finally:
                self.lock.release()

    def publish(self) -> None:
        """Make a new frame for the page (call with the lock held)."""
        t0 = time.perf_counter()
        state = self.trainer.snapshot()
        state["running"] = self.running
        state["settings"] = self.trainer.settings
        self.perf["frame_ms"] = (time.perf_counter() - t0) * 1000.0
        if len(self._rate) > 1:
            span = self._rate[-1] - self._rate[0]
            self.perf["steps_per_s"] = (len(self._rate) - 1) / span if span > 0 else 0.0
        state["perf"] = self.perf
        self.frame = json.dumps(_finite(state), allow_nan=False)
        self.version += 1
        self.last_frame = time.monotonic()
        self.changed.notify_all()

    def _run(self) -> None:
        while True:
            with self.lock:
                while not (self.running or self.pending) and not self.closed:
                    self.changed.wait(IDLE_CHECK)
                if self.closed:
                    return
                single = not self.running
                self.pending = max(0, self.pending - 1)
                try:
                    self.trainer.step()
                except Exception as e:  # a bug: say so in the page rather than die silently
                    self.trainer.finished = True
                    self.trainer.message = f"training failed: {type(e).__name__}: {e}"
                self._rate.append(time.perf_counter())
                if self.trainer.finished:
                    self.running = False
                elif self.running and self._unwatched():
                    self.running = False  # the tab was closed, or hidden for a while
                    self.trainer.message = f"paused: no tab showed this run for {UNWATCHED:g} s"
                if (
                    single
                    or not self.running
                    or time.monotonic() - self.last_frame > FRAME_INTERVAL
                ):
                    self.publish()
            time.sleep(0)  # let the page's requests in between steps

    def _unwatched(self) -> bool:
        return self.streams == 0 and time.monotonic() - self.unwatched_since > UNWATCHED
