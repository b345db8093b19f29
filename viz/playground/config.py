"""The playground's settings: every knob with its default and its allowed values, the
checks that refuse bad ones with a message naming the setting, and the lecture's presets.

Settings travel as strings (the page's URL query is the configuration, so a link
reproduces a run); `parse` turns them into typed values or raises `SettingsError`.
Nothing is ever `eval`ed: each value goes through `int`/`float` or a fixed list of names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class SettingsError(ValueError):
    """A setting the playground refuses; the message names the setting and the rule."""


@dataclass(frozen=True)
class Knob:
    """One setting: its group on the page, default, and either choices or a numeric range."""

    group: str
    default: Any
    kind: str  # "choice", "int", "float", "bool" or "widths"
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    low_open: bool = False  # True: the low end itself is refused (lr > 0, not lr >= 0)
    help: str = ""


MAX_LAYERS, MAX_WIDTH = 8, 32

KNOBS: dict[str, Knob] = {
    "dataset": Knob(
        "data",
        "moons",
        "choice",
        ("moons", "circles", "spirals", "xor", "blobs", "regression", "digits"),
        help="regression is y = sin(2x) + noise, fitted with the mean squared error; digits "
        "are the first `samples` UCI 8x8 handwritten digits (64 inputs, 10 classes, no noise)",
    ),
    "samples": Knob("data", 200, "int", low=10, high=2000),
    "noise": Knob("data", 0.2, "float", low=0.0, high=2.0),
    "val_split": Knob("data", 0.2, "float", low=0.0, high=0.9, low_open=True),
    "seed": Knob("data", 0, "int", low=0, high=2**31 - 1),
    "hidden": Knob(
        "network",
        "16,16",
        "widths",
        help=f"widths of the hidden layers, comma separated (up to {MAX_LAYERS} x {MAX_WIDTH})",
    ),
    "activation": Knob("network", "relu", "choice", ("relu", "tanh", "sigmoid")),
    "init": Knob("network", "he", "choice", ("zero", "uniform", "normal", "xavier", "he")),
    "batchnorm": Knob("network", False, "bool"),
    "bn_momentum": Knob(
        "network",
        0.1,
        "float",
        low=0.0,
        high=1.0,
        help="batch norm's running statistics: running = (1 - m)·running + m·batch",
    ),
    "dropout": Knob("network", 0.0, "float", low=0.0, high=0.95, help="probability of dropping"),
    "dropout_form": Knob(
        "network",
        "inverted",
        "choice",
        ("inverted", "lecture"),
        help="inverted: scale by 1/(1-p) in training; lecture: scale by 1-p at inference",
    ),
    "loss": Knob("training", "bce", "choice", ("bce", "hinge"), help="for two classes"),
    "optimizer": Knob("training", "sgd", "choice", ("sgd", "momentum", "nesterov", "adam")),
    "lr": Knob("training", 0.1, "float", low=0.0, high=100.0, low_open=True),
    "momentum": Knob("training", 0.9, "float", low=0.0, high=0.999, low_open=True),
    "schedule": Knob(
        "training", "constant", "choice", ("constant", "step", "exponential", "cosine")
    ),
    "step_size": Knob("training", 100, "int", low=1, high=100000, help="epochs between steps"),
    "gamma": Knob("training", 0.5, "float", low=0.0, high=1.0, low_open=True),
    "decay": Knob("training", 0.99, "float", low=0.0, high=1.0, low_open=True),
    "l1": Knob("training", 0.0, "float", low=0.0, high=10.0),
    "l2": Knob("training", 0.0, "float", low=0.0, high=10.0),
    "weight_decay": Knob("training", 0.0, "float", low=0.0, high=10.0, help="decoupled"),
    "batch_size": Knob("training", 32, "int", low=0, high=100000, help="0: the full batch"),
    "patience": Knob("training", 0, "int", low=0, high=100000, help="0: no early stopping"),
    "epochs": Knob("training", 500, "int", low=1, high=100000, help="stop after (cosine's T)"),
}

DEFAULTS: dict[str, Any] = {name: k.default for name, k in KNOBS.items()}


def _number(name: str, raw: Any, kind: str) -> float:
    if isinstance(raw, bool):
        raise SettingsError(f"{name}: expected a number, got {raw!r}")
    try:
        value = int(str(raw)) if kind == "int" else float(str(raw))
    except ValueError:
        what = "a whole number" if kind == "int" else "a number"
        raise SettingsError(f"{name}: {raw!r} is not {what}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise SettingsError(f"{name}: {raw!r} is not a finite number")
    return value


def _check_range(name: str, value: float, knob: Knob) -> None:
    low, high = knob.low, knob.high
    if low is not None and (value < low or (knob.low_open and value == low)):
        rule = f"greater than {low:g}" if knob.low_open else f"at least {low:g}"
        raise SettingsError(f"{name} must be {rule}, got {value:g}")
    if high is not None and value > high:
        raise SettingsError(f"{name} must be at most {high:g}, got {value:g}")


def _widths(raw: Any) -> list[int]:
    text = ",".join(str(v) for v in raw) if isinstance(raw, (list, tuple)) else str(raw)
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts:
        raise SettingsError("hidden: give at least one hidden layer width, e.g. 16,16")
    if len(parts) > MAX_LAYERS:
        raise SettingsError(f"hidden: at most {MAX_LAYERS} hidden layers, got {len(parts)}")
    widths = []
    for p in parts:
        try:
            w = int(p)
        except ValueError:
            raise SettingsError(f"hidden: {p!r} is not a whole number") from None
        if not 1 <= w <= MAX_WIDTH:
            raise SettingsError(f"hidden: a layer width must be 1 to {MAX_WIDTH}, got {w}")
        widths.append(w)
    return widths


def parse(raw: Mapping[str, Any], base: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Typed, checked settings from strings (missing ones from `base`, else the defaults).

    Raises SettingsError naming the first bad setting; nothing else is changed.
    """
    unknown = sorted(set(raw) - set(KNOBS))
    if unknown:
        raise SettingsError(f"unknown setting {unknown[0]!r}; known: {', '.join(KNOBS)}")
    out = dict(DEFAULTS if base is None else base)
    for name, value in raw.items():
        knob = KNOBS[name]
        if knob.kind == "choice":
            if str(value) not in knob.choices:
                raise SettingsError(
                    f"{name}: unknown value {str(value)!r}; choose from {', '.join(knob.choices)}"
                )
            out[name] = str(value)
        elif knob.kind == "bool":
            text = str(value).lower()
            if text not in ("true", "false", "1", "0", "on", "off"):
                raise SettingsError(f"{name}: expected true or false, got {value!r}")
            out[name] = text in ("true", "1", "on")
        elif knob.kind == "widths":
            out[name] = ",".join(str(w) for w in _widths(value))
        else:
            number = _number(name, value, knob.kind)
            _check_range(name, number, knob)
            out[name] = int(number) if knob.kind == "int" else number
    if out["batch_size"] == 1 and out["batchnorm"]:
        raise SettingsError("batch_size: batch norm needs at least 2 samples per batch")
    return out


def widths(settings: Mapping[str, Any]) -> list[int]:
    return _widths(settings["hidden"])


def schema() -> dict[str, Any]:
    """What the page needs to build its form: every knob with its default and limits."""
    return {
        name: {
            "group": k.group,
            "default": k.default,
            "kind": k.kind,
            "choices": list(k.choices),
            "low": k.low,
            "high": k.high,
            "help": k.help,
        }
        for name, k in KNOBS.items()
    }


# The lecture's topics, each a set of changes from the defaults (checked by the tests).
PRESETS: dict[str, dict[str, Any]] = {
    "zero init fails": {
        "init": "zero",
        "hidden": "8,8",
        "lr": 0.5,
        "help": "every hidden unit computes the same thing and gets zero gradient: "
        "the loss stays at ln 2",
    },
    "too high a learning rate": {
        "optimizer": "sgd",
        "lr": 8.0,
        "help": "the steps overshoot: the loss jumps around or blows up",
    },
    "dropout against overfitting": {
        "samples": 60,
        "noise": 0.35,
        "val_split": 0.5,
        "hidden": "32,32",
        "dropout": 0.5,
        "optimizer": "adam",
        "lr": 0.01,
        "batch_size": 16,
        "help": "few noisy samples and a big network: with dropout 0 the validation loss "
        "climbs after ~50 epochs (overfitting); with 0.5 it stays low",
    },
    "batch norm allows lr = 3": {
        "batchnorm": True,
        "optimizer": "sgd",
        "lr": 3.0,
        "hidden": "16,16,16,16",
        "help": "normalizing each layer's inputs keeps training stable at a large rate; "
        "turn batch norm off and the same rate gets stuck",
    },
    "early stopping": {
        # a small data set and a big network overfit, but slowly enough (lr 0.005) that the
        # best checkpoint is a trained model (epoch 35 of seed 0, val acc 0.9) and the
        # validation loss then visibly climbs while the training loss keeps falling
        "samples": 80,
        "noise": 0.3,
        "val_split": 0.5,
        "hidden": "16,16,16",
        "optimizer": "adam",
        "lr": 0.005,
        "patience": 30,
        "help": "training stops once the validation loss has not improved for 30 epochs, "
        "and the best checkpoint is restored",
    },
    "digits: real handwriting": {
        # every image; a mini-batch of 64 is one batched graph: 20 epochs take ~6 s (val acc ~0.98)
        "dataset": "digits",
        "samples": 1797,
        "hidden": "32",
        "optimizer": "adam",
        "lr": 0.01,
        "batch_size": 64,
        "epochs": 20,
        "help": "1,797 handwritten 8x8 digits, 64 pixels in, 10 classes out (softmax "
        "cross-entropy): there is no 2-D boundary, so the page shows digits with the "
        "model's guesses and every validation digit it still gets wrong",
    },
}


def preset_changes(name: str) -> dict[str, str]:
    """A preset's changes from the defaults, as the strings a URL carries."""
    if name not in PRESETS:
        raise SettingsError(f"unknown preset {name!r}; choose from {', '.join(PRESETS)}")
    return {
        k: str(v).lower() if isinstance(v, bool) else str(v)
        for k, v in PRESETS[name].items()
        if k != "help"
    }


def preset(name: str) -> dict[str, Any]:
    """The full settings of a preset (defaults plus its changes), checked."""
    return parse(preset_changes(name))
