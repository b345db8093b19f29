"""What the page draws, computed in numpy from the current weights (never through `Value`
graphs, which would cost a node per multiply: a 60 x 60 grid through 2-16-16-1 is 1.1
million multiplies, ~1 ms in numpy).

`forward` is `chainrule.nn.inference.numpy_forward`, the library's one numpy forward
(Layer, BatchNorm1d with running statistics, Dropout, activations); the tests check it
against the model's own `Value` forward.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from chainrule.nn import Layer, Module
from chainrule.nn.inference import floats, numpy_forward

GRID = 60  # cells per side of the decision-boundary picture


def forward(model: Module, x: np.ndarray) -> tuple[np.ndarray, list[tuple[str, np.ndarray]]]:
    """(outputs, hidden activations by layer) of `model` (an nn.MLP) in inference mode:
    `chainrule.nn.inference.numpy_forward`, the one numpy forward."""
    hidden: list[tuple[str, np.ndarray]] = []
    try:
        out = numpy_forward(model, x, hidden)
    except NotImplementedError as e:
        raise TypeError(f"the playground cannot draw this model: {e}") from None
    return out, hidden


def probabilities(out: np.ndarray, loss: str) -> np.ndarray:
    """Class probabilities from the outputs: σ(z) for one output (bce), P(class 1) = 1 if
    z > 0 for hinge (it has no probabilities, only a side), softmax for several."""
    if out.shape[1] == 1:
        z = out[:, 0]
        p1 = (z > 0).astype(float) if loss == "hinge" else 0.5 * (1.0 + np.tanh(0.5 * z))
        return np.column_stack([1.0 - p1, p1])
    e = np.exp(out - out.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def extent(x: np.ndarray, margin: float = 0.15) -> list[list[float]]:
    """[[xmin, xmax], [ymin, ymax]] around the data with a margin (1-D: x only)."""
    lo, hi = x.min(axis=0), x.max(axis=0)
    pad = (hi - lo) * margin + 1e-9
    return [[float(a), float(b)] for a, b in zip(lo - pad, hi + pad)]


def boundary(model: Module, box: list[list[float]], loss: str, n: int = GRID) -> dict[str, Any]:
    """The class picture on an n x n grid: each cell's most likely class and its
    probability (row by row from the top, as a canvas draws)."""
    xs = np.linspace(box[0][0], box[0][1], n)
    ys = np.linspace(box[1][1], box[1][0], n)
    gx, gy = np.meshgrid(xs, ys)
    out, _ = forward(model, np.column_stack([gx.ravel(), gy.ravel()]))
    p = probabilities(out, loss)
    return {
        "n": n,
        "cls": p.argmax(axis=1).tolist(),
        "conf": np.round(p.max(axis=1), 3).tolist(),
    }


def curve(model: Module, box: list[list[float]], n: int = 200) -> dict[str, Any]:
    """The fitted function y = f(x) on n points across the data's x range."""
    xs = np.linspace(box[0][0], box[0][1], n)
    out, _ = forward(model, xs[:, None])
    return {"x": np.round(xs, 4).tolist(), "y": np.round(out[:, 0], 4).tolist()}


def histograms(model: Module, x: np.ndarray, bins: int = 24) -> list[dict[str, Any]]:
    """Each hidden layer's activations over the training inputs, as bin counts."""
    _, hidden = forward(model, x)
    out = []
    for name, a in hidden:
        values = a[np.isfinite(a)]  # a diverged run has inf/nan activations
        if not values.size:
            values = np.zeros(1)
        lo, hi = float(values.min()), float(values.max())
        # dead ReLU units: zero on every training input (only meaningful when a >= 0)
        dead = float(np.mean(np.all(a <= 0.0, axis=0))) if lo >= 0.0 else 0.0
        if hi - lo < 1e-9:
            lo, hi = lo - 0.5, hi + 0.5
        counts, _ = np.histogram(values, bins=bins, range=(lo, hi))
        out.append(
            {"name": name, "lo": lo, "hi": hi, "counts": counts.tolist(), "dead": round(dead, 3)}
        )
    return out


def network(model: Module) -> dict[str, Any]:
    """The weight matrices of the linear layers (for the drawing: colour = sign,
    width = size), and the last step's dL/dw of each weight, to 3 significant digits (a
    colour needs no more; a frame stays small), None where not finite."""
    layers = [m for m in model.layers if isinstance(m, Layer)]  # type: ignore[attr-defined]
    return {
        "sizes": [layers[0].nin] + [m.nout for m in layers],
        "weights": [np.round(floats(m.weight), 4).tolist() for m in layers],
        "grads": [[[_digits(w.grad) for w in row] for row in m.weight] for m in layers],
    }


def _digits(x: float) -> float | None:
    return float(f"{x:.3g}") if math.isfinite(x) else None


def unit_map(model: Module, box: list[list[float]], layer: int, unit: int, n: int = 24) -> dict:
    """What unit `unit` of linear layer `layer` outputs (after its activation, batch norm
    and dropout as in inference) over an n x n grid of the input plane (1-D data: the
    same value down each column), row by row from the top."""
    xs = np.linspace(box[0][0], box[0][1], n)
    if len(box) > 1:
        gx, gy = np.meshgrid(xs, np.linspace(box[1][1], box[1][0], n))
        grid = np.column_stack([gx.ravel(), gy.ravel()])
    else:
        grid = np.tile(xs, n)[:, None]
    out, hidden = forward(model, grid)
    values = hidden[layer][1] if layer < len(hidden) else out
    column = values[:, unit]
    finite = column[np.isfinite(column)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    return {"n": n, "values": np.round(column, 4).tolist(), "lo": lo, "hi": hi}


SHOWN, GALLERY = 10, 60  # digits drawn with their guess; misclassified ones sent at most


def _pixels(x: np.ndarray) -> list[list[int]]:
    """Inputs scaled to 0..1 back to the data's 0..16 levels, as small integers (a frame
    of 60 digits stays a few KB)."""
    return np.clip(np.rint(x * 16.0), 0, 16).astype(int).tolist()


def digits(
    model: Module, x_train: np.ndarray, y_train: list, x_val: np.ndarray, y_val: list
) -> dict[str, Any]:
    """The digits view: the first validation image of each class (SHOWN at most) with its
    label and the model's guess (argmax of the outputs, i.e. of softmax), the misclassified
    validation images (up to GALLERY, with their index), and the accuracies of both splits."""

    def guesses(x: np.ndarray) -> np.ndarray:
        out, _ = forward(model, x)
        # a diverged run's nan outputs guess nothing (-1): counted wrong
        return np.where(np.isfinite(out).all(axis=1), np.nan_to_num(out).argmax(axis=1), -1)

    pv, yv = guesses(x_val), np.asarray(y_val, dtype=int)
    pt = guesses(x_train)
    wrong = np.flatnonzero(pv != yv)
    # the first validation image of each class (a row of different digits), in class order
    shown = np.unique(yv, return_index=True)[1][:SHOWN]
    return {
        "shown": [
            {"pixels": px, "label": int(yv[i]), "pred": int(pv[i]), "index": int(i)}
            for px, i in zip(_pixels(x_val[shown]), shown)
        ],
        "wrong": [
            {"pixels": px, "label": int(yv[i]), "pred": int(pv[i]), "index": int(i)}
            for px, i in zip(_pixels(x_val[wrong[:GALLERY]]), wrong[:GALLERY])
        ],
        "wrong_count": int(wrong.size),
        "val_count": int(yv.size),
        "val_acc": round(float(np.mean(pv == yv)), 4) if yv.size else None,
        "train_acc": round(float(np.mean(pt == np.asarray(y_train))), 4),
    }


def digit_unit_map(model: Module, x: np.ndarray, layer: int, unit: int) -> dict[str, Any]:
    """What a unit responds to when the input is an 8x8 image (there is no input plane):
    the inputs averaged with weights a_i - mean(a), a_i the unit's output on image i,
    i.e. each pixel's covariance with the unit, as an 8 x 8 map."""
    out, hidden = forward(model, x)
    values = hidden[layer][1] if layer < len(hidden) else out
    a = np.nan_to_num(values[:, unit])
    cov = (a - a.mean()) @ (x - x.mean(axis=0)) / max(1, len(x))
    side = math.isqrt(x.shape[1])
    lo, hi = float(cov.min()), float(cov.max())
    return {"n": side, "values": np.round(cov, 5).tolist(), "lo": lo, "hi": hi}
