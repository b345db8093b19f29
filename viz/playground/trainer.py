"""One tab's model and its training: the data, the network and `nn`'s one training loop
(`nn.train.Trainer`), stepped by the playground and edited while it runs.

nn's loop does the step (forward, loss + λ₁Σ|w| + λ₂Σw², backward, the optimizer's step,
each tensor's update ratio ‖Δw‖/‖w‖), the epoch (schedule, validation, the best
checkpoint, early stopping) and the live edits (`set`). The playground adds one thing: a
step is done in slices (`nn.train.Trainer.slices`, CHUNK samples each, on the batched
engine), so that the thread that trains can pause, or let a request read the model,
between two (see `slices`).
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
from chainrule.nn import (
    MLP,
    SGD,
    AdamW,
    BatchNorm1d,
    CosineAnnealingLR,
    Dropout,
    ExponentialLR,
    Layer,
    LRScheduler,
    StepLR,
)
from chainrule.nn.data import (
    load_digits,
    make_blobs,
    make_circles,
    make_moons,
    make_spirals,
    regression_1d,
    train_val_split,
)
from chainrule.nn.optim import Optimizer
from chainrule.nn.train import Trainer as Loop
from chainrule.viz.playground import config, views
from chainrule.viz.playground.slices import CHUNK, pause_point

RATIO_WINDOW = 400  # steps of update ratios kept for the plot
HISTORY_POINTS = 1000  # per-epoch curves sent to the page at most this long (downsampled)
_SERIALS = itertools.count(1)

# settings applied to a running model (the rest rebuild it); dropout's rate too, as long
# as it stays above 0 (0 means no Dropout layer at all)
LIVE = {
    "lr", "momentum", "optimizer", "schedule", "step_size", "gamma", "decay", "l1", "l2",
    "weight_decay", "dropout_form", "bn_momentum", "batch_size", "patience", "epochs",
}  # fmt: skip
SCHEDULE = {"lr", "optimizer", "schedule", "step_size", "gamma", "decay", "epochs"}


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
    if name == "digits":  # the first n images (the file's order mixes the digits)
        x, y = load_digits()
        return x[:n] / 16.0, y[:n]
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
    from chainrule.nn.train import LOSSES

    return LOSSES[name].fn


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


def build_optimizer(s: dict[str, Any], params: list) -> Optimizer:
    """SGD (plain, momentum or Nesterov) with decoupled weight decay, or AdamW."""
    lr, opt = s["lr"], s["optimizer"]
    if opt == "adam":
        return AdamW(params, lr=lr, weight_decay=s["weight_decay"])
    return SGD(
        params,
        lr=lr,
        momentum=s["momentum"] if opt in ("momentum", "nesterov") else 0.0,
        nesterov=opt == "nesterov",
        weight_decay=s["weight_decay"],
        decoupled_weight_decay=True,
    )


def build_schedule(s: dict[str, Any], opt: Optimizer) -> LRScheduler | None:
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
    only make frames bigger); None and non-finite ones unchanged."""
    return [v if v is None or not math.isfinite(v) else float(f"{v:.{digits}g}") for v in values]


class Trainer:
    """One configuration of the playground: its data, model and nn loop (no threads)."""

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
        optimizer = build_optimizer(s, self.params)
        self.loop = Loop(
            self.model, xt, yt, optimizer,
            epochs=s["epochs"], loss=self.loss_name, batch_size=s["batch_size"] or None,
            val=(xv, yv), scheduler=build_schedule(s, optimizer), l1=s["l1"], l2=s["l2"],
            patience=s["patience"] or None, seed=s["seed"], ratio_window=RATIO_WINDOW,
        )  # fmt: skip
        self.layers = [m for m in self.model.layers if isinstance(m, Layer)]
        self.weights = [f"layers.{i}.weight" for i, m in enumerate(self.model.layers)
                        if isinstance(m, Layer)]  # fmt: skip
        self.marks: list[dict[str, Any]] = []  # live edits: {epoch, text}
        self.failed = ""  # why the run stopped early, when a number overflowed
        self.message = ""
        self.serial = next(_SERIALS)  # tells the page a new model (and data) came

    @property
    def optimizer(self) -> Optimizer:
        return self.loop.optimizer

    @property
    def epoch(self) -> int:
        return self.loop.epoch

    @property
    def step_count(self) -> int:
        return self.loop.steps

    @property
    def finished(self) -> bool:
        return self.loop.finished

    def step(self) -> None:
        """One mini-batch step of nn's loop. A step whose numbers stop being finite
        (too high a learning rate) ends the run with nn's message, the weights those from
        before that step."""
        if self.loop.finished:
            return
        try:
            for _ in self.loop.slices(CHUNK):
                pause_point()
        except ArithmeticError as e:  # nn's FloatingPointError, or an overflow it let by
            self.loop.finished = True
            self.failed = self.message = (
                str(e)
                if isinstance(e, FloatingPointError)
                else f"training diverged in epoch {self.epoch + 1}: {e}; try a lower learning rate"
            )
            return
        if self.loop.finished:
            self.message = self._ending()

    def _ending(self) -> str:
        h, loop = self.loop.history, self.loop
        restored = loop.restored_epoch
        if restored is None:
            return f"done: {loop.epoch} epochs"
        how = (
            f"early stopping: no better validation loss for {loop.patience} epochs"
            if h.stopped_early
            else f"done: {loop.epoch} epochs"
        )
        best = h.val_loss[restored - 1]
        return f"{how}; restored the best checkpoint, epoch {restored} (val loss {best:.4f})"

    # --- live edits -----------------------------------------------------------------
    @staticmethod
    def is_live(old: dict[str, Any], new: dict[str, Any]) -> bool:
        """Whether `new` differs from `old` only in knobs a running model takes."""
        changed = {k for k in new if new[k] != old[k]}
        if "dropout" in changed and old["dropout"] > 0 and new["dropout"] > 0:
            changed.discard("dropout")
        return changed <= LIVE

    def edit(self, new: dict[str, Any]) -> str:
        """Apply live settings (`is_live` holds) between two steps, through nn's
        `Trainer.set` where it has the knob; returns what changed, as the loss chart's
        mark says it."""
        old, s = self.settings, dict(new)
        changed = [k for k in s if s[k] != old[k]]
        if not changed:
            return ""
        self.settings, loop = s, self.loop
        tune_modules(self.model, s)  # dropout's form (and rate, momentum: set below too)
        if "optimizer" in changed:  # a new optimizer: its state (momentum, moments) from 0
            loop.optimizer = build_optimizer(s, self.params)
        loop.set(**self._nn_changes(old, s, changed))
        if "patience" in changed:
            loop.patience = s["patience"] or None  # 0: no early stopping
        if SCHEDULE & set(changed):
            # the schedule restarts here from the new rate (cosine: over the epochs left)
            loop.optimizer.lr = s["lr"]
            left = {**s, "epochs": max(1, s["epochs"] - loop.epoch)}
            loop.scheduler = build_schedule(left, loop.optimizer)
        if loop.finished and not self.failed and loop.restored_epoch is None:
            loop.finished = loop.epoch >= loop.epochs  # more epochs allowed: it goes on
            self.message = "" if not loop.finished else self.message
        text = ", ".join(f"{k} {old[k]} → {s[k]}" for k in changed)
        self.marks.append({"epoch": loop.epoch, "text": text})
        return text

    def _nn_changes(self, old: dict[str, Any], s: dict[str, Any], changed: list) -> dict:
        """The changes nn's `Trainer.set` makes, by its names."""
        out: dict[str, Any] = {k: s[k] for k in ("lr", "l1", "l2", "epochs") if k in changed}
        if "batch_size" in changed:
            out["batch_size"] = s["batch_size"] or None
        if "dropout" in changed:
            out["dropout"] = s["dropout"]
        if "bn_momentum" in changed and s["batchnorm"]:
            out["bn_momentum"] = s["bn_momentum"]
        if "optimizer" not in changed:
            if "weight_decay" in changed:
                out["weight_decay"] = s["weight_decay"]
            if "momentum" in changed and s["optimizer"] in ("momentum", "nesterov"):
                out["momentum"] = s["momentum"]
        return out

    # --- what the page shows ------------------------------------------------------
    @property
    def is_digits(self) -> bool:
        return self.settings["dataset"] == "digits"

    def points(self) -> dict[str, list]:
        if self.is_digits:  # 64-D: no plane to place them in (the frames carry images)
            return {"train": [], "val": []}

        def rows(x: np.ndarray, y: list) -> list:
            return [[*np.round(xi, 4).tolist(), t] for xi, t in zip(x, y)]

        return {"train": rows(self.x_train, self.y_train), "val": rows(self.x_val, self.y_val)}

    def picture(self) -> dict[str, Any]:
        """The views that depend on the weights: boundary, curve or digits, histograms,
        network."""
        with np.errstate(over="ignore", invalid="ignore"):
            out: dict[str, Any] = {
                "hist": views.histograms(self.model, self.x_train),
                "net": views.network(self.model),
            }
            if self.is_digits:
                out["digits"] = views.digits(
                    self.model, self.x_train, self.y_train, self.x_val, self.y_val
                )
            elif self.loss_name == "mse":
                out["curve"] = views.curve(self.model, self.box)
            else:
                out["grid"] = views.boundary(self.model, self.box, self.loss_name)
        return out

    def ratios(self) -> dict[str, list]:
        """Each linear layer's weight tensor's recent update ratios, by state-dict name."""
        kept = self.loop.history.update_ratio
        return {name: kept[name][-RATIO_WINDOW:] for name in self.weights}

    def ratio_notes(self, ratios: dict[str, list], hist: list[dict[str, Any]]) -> dict:
        """Why a tensor's latest update ratio cannot be drawn on a log scale: ‖w‖ = 0
        (undefined), or Δw = 0 because every gradient reaching it is 0 (with the hidden
        layers whose ReLU units are all dead, the usual reason)."""
        dead = [h["name"] for h in hist if h["dead"] >= 1.0]
        notes = {}
        for name, r in ratios.items():
            if not r or (math.isfinite(r[-1]) and r[-1] > 0):
                continue
            if not math.isfinite(r[-1]):
                notes[name] = "‖w‖ = 0: ratio undefined"
            else:
                why = f" ({', '.join(dead)}: every unit dead)" if dead else ""
                notes[name] = "no update: every gradient is 0" + why
        return notes

    def snapshot(self) -> dict[str, Any]:
        h, loop = self.loop.history, self.loop
        restored = loop.restored_epoch
        train, stride = thin(rounded(h.train_loss, 6))
        picture = self.picture()
        ratios = self.ratios()
        return {
            "epoch": loop.epoch,
            "step": loop.steps,
            "lr": loop.optimizer.lr,
            "finished": loop.finished,
            "message": self.message,
            "task": self.loss_name,
            "box": self.box,
            "history_stride": stride,  # curve point i is epoch i·stride + 1
            "train_loss": train,
            "val_loss": thin(rounded(h.val_loss, 6))[0],
            "val_acc": thin(h.val_acc)[0],
            "marks": self.marks[-50:],
            "best_epoch": h.best_epoch,
            # the model now in use is the restored checkpoint, not the last epoch's
            "restored": None
            if restored is None
            else {
                "epoch": restored,
                "val_loss": h.val_loss[restored - 1],
                "val_acc": h.val_acc[restored - 1],
            },
            "ratios": {n: rounded(r, 3) for n, r in ratios.items()},
            "ratio_notes": self.ratio_notes(ratios, picture["hist"]),
            **picture,
        }
