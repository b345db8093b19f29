"""Plots with matplotlib. Each function returns the figure, or saves it to `path` and
closes it. Without a screen matplotlib draws with Agg, so scripts and CI work as is."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from chainrule.engine import no_grad
from chainrule.nn.module import Module
from chainrule.nn.train import History

DPI = 120
"""Resolution of saved figures (and, by `setup_notebook`, of inline ones)."""


def setup_notebook(dpi: int = 110) -> None:
    """Inline figures at `dpi` (110+ keeps text and lines sharp on today's screens)."""
    matplotlib.rcParams["figure.dpi"] = dpi
    matplotlib.rcParams["savefig.dpi"] = dpi


_NUMPY_ACT: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "relu": lambda z: np.maximum(z, 0.0),
    "tanh": np.tanh,
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "identity": lambda z: z,
    "linear": lambda z: z,
}


def _activation(name: str) -> Callable[[np.ndarray], np.ndarray]:
    if name not in _NUMPY_ACT:
        raise NotImplementedError(f"numpy_forward does not know the activation {name!r}")
    return _NUMPY_ACT[name]


def _vector(module: Module, name: str) -> np.ndarray | None:
    """A parameter vector's values (`bias`, batch norm's `weight`), None when absent.
    (Modules declare parameters at run time, hence getattr.)"""
    values = getattr(module, name, None)
    return None if values is None else np.array([v.data for v in values])


def numpy_forward(model: Module, x: Any) -> np.ndarray:
    """The model's output in inference mode for a batch `x` ([N, nin]), computed with
    numpy from the weights, without building any graph: Layer (x Wᵀ + b, then the
    activation), Activation, BatchNorm1d with its running statistics
    (γ (x - mean)/sqrt(var + eps) + β), Dropout (identity, or × (1-p) for the
    non-inverted form), and MLP/Sequential as their layers in order.
    Another module is NotImplementedError."""
    from chainrule.nn.activation import Activation
    from chainrule.nn.batchnorm import BatchNorm1d
    from chainrule.nn.dropout import Dropout
    from chainrule.nn.layers import Layer

    a = np.asarray(x, dtype=float)
    if isinstance(model, Layer):
        w = np.array([[v.data for v in row] for row in model.weight])
        z = a @ w.T
        bias = _vector(model, "bias")
        return _activation(model.activation)(z if bias is None else z + bias)
    if isinstance(model, Activation):
        return _activation(model.name)(a)
    if isinstance(model, BatchNorm1d):
        if not model.track_running_stats:
            raise NotImplementedError("batch norm without running statistics")
        mean, var = np.array(model.running_mean), np.array(model.running_var)
        out = (a - mean) / np.sqrt(var + model.eps)
        gamma, beta = _vector(model, "weight"), _vector(model, "bias")
        return out if gamma is None or beta is None else out * gamma + beta
    if isinstance(model, Dropout):
        p = float(getattr(model, "p", 0.0))
        return a if getattr(model, "inverted", True) or p == 0.0 else a * (1.0 - p)
    layers = getattr(model, "layers", None)
    if isinstance(layers, list):
        for m in layers:
            a = numpy_forward(m, a)
        return a
    raise NotImplementedError(f"numpy_forward does not know {type(model).__name__}")


def value_forward(model: Module, x: Any) -> np.ndarray:
    """The same outputs through the `Value` graph (inference mode, no graph recorded)."""
    was = model.training
    model.eval()
    try:
        with no_grad():
            out = model.forward([list(map(float, row)) for row in x])
    finally:
        model.train(was)
    return np.array([[v.data if hasattr(v, "data") else float(v) for v in row] for row in out])


CLASS_COLOURS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2"]


def decision_boundary(
    model: Module,
    x: list[list[float]],
    y: list[int],
    path: str | Path | None = None,
    steps: int = 300,
    title: str = "decision boundary",
) -> Any:
    """Colour the plane by the model's class (sign of one output, or argmax), data on top.

    The class is evaluated on a `steps` x `steps` grid with `numpy_forward` (checked
    against the `Value` forward on a few grid points); for one output the boundary is the
    zero level of the score, interpolated, so a ReLU net's piecewise-linear edges stay
    straight."""
    from matplotlib.colors import ListedColormap

    xs = np.asarray(x, dtype=float)
    lo, hi = xs.min(0) - 0.5, xs.max(0) + 0.5
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], steps), np.linspace(lo[1], hi[1], steps))
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    sample = grid[:: max(1, len(grid) // 7)]
    try:
        out = numpy_forward(model, grid)
        if not np.allclose(out[:: max(1, len(grid) // 7)], value_forward(model, sample)):
            raise NotImplementedError("numpy forward disagrees with the Value forward")
    except NotImplementedError:
        out = value_forward(model, grid)  # slow, but right for any module
    classes = sorted({int(c) for c in y} | ({0, 1} if out.shape[1] == 1 else set()))
    colours = [CLASS_COLOURS[k % len(CLASS_COLOURS)] for k in range(max(classes) + 1)]
    fig, ax = plt.subplots(figsize=(5.2, 4.6))
    if out.shape[1] == 1:
        score = out[:, 0].reshape(gx.shape)
        ax.contourf(gx, gy, score, levels=[-np.inf, 0.0, np.inf], colors=colours[:2], alpha=0.25)
        ax.contour(gx, gy, score, levels=[0.0], colors="k", linewidths=1.0)
    else:
        z = out.argmax(1).reshape(gx.shape)
        ax.imshow(
            z,
            origin="lower",
            extent=(lo[0], hi[0], lo[1], hi[1]),
            cmap=ListedColormap(colours[: out.shape[1]]),
            vmin=-0.5,
            vmax=out.shape[1] - 0.5,
            alpha=0.25,
            aspect="auto",
            interpolation="nearest",
        )
    labels = np.asarray(y)
    for c in sorted({int(c) for c in y}):
        pts = xs[labels == c]
        ax.scatter(pts[:, 0], pts[:, 1], color=colours[c], edgecolors="k", s=22, label=f"class {c}")
    ax.set_xlabel("x₁ (first input)")
    ax.set_ylabel("x₂ (second input)")
    ax.legend(loc="upper right", fontsize=8, framealpha=0.9)
    ax.set_title(title)
    return _finish(fig, path)


def history(hist: History, path: str | Path | None = None) -> Any:
    """Loss and accuracy per epoch (train vs validation), and the learning rate when it
    changes (a schedule)."""
    scheduled = len(set(hist.lr)) > 1  # a flat learning rate says nothing: no panel
    fig, axes = plt.subplots(1, 3 if scheduled else 2, figsize=(13 if scheduled else 9, 3.6))
    epochs = range(1, hist.epochs + 1)
    axes[0].plot(epochs, hist.train_loss, label="train")
    if hist.val_loss:
        axes[0].plot(epochs, hist.val_loss, label="validation")
    axes[0].set_title("loss")
    if hist.train_acc and hist.train_acc[0] is not None:
        axes[1].plot(epochs, hist.train_acc, label="train")
        if hist.val_acc:
            axes[1].plot(epochs, hist.val_acc, label="validation")
    axes[1].set_title("accuracy")
    if scheduled:
        axes[2].plot(epochs, hist.lr)
        axes[2].set_title("learning rate")
    if hist.best_epoch is not None:
        for ax in axes[:2]:
            ax.axvline(hist.best_epoch, color="gray", ls="--", lw=1, label="best")
    for ax in axes:
        ax.set_xlabel("epoch")
    axes[0].legend()
    axes[1].legend()
    return _finish(fig, path)


def _modules_by_prefix(model: Module, prefix: str = "") -> dict[str, Module]:
    found = {prefix.rstrip("."): model}
    for name, child in model.children():
        found.update(_modules_by_prefix(child, f"{prefix}{name}."))
    return found


def update_ratios(
    hist: History, path: str | Path | None = None, model: Module | None = None
) -> Any:
    """|Δw|/|w| per parameter tensor per step, log scale, with the 1e-3 rule of thumb.

    Weight matrices are drawn (biases left out); with `model`, batch norm's scale and
    shift are drawn too and named as such (`layers.1 γ (batch norm gamma)`)."""
    from chainrule.nn.batchnorm import BatchNorm1d

    modules = _modules_by_prefix(model) if model is not None else {}
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, r in hist.update_ratio.items():
        owner, _, attr = name.rpartition(".")
        if isinstance(modules.get(owner), BatchNorm1d):
            greek = {"weight": "γ (batch norm gamma)", "bias": "β (batch norm beta)"}[attr]
            ax.plot(r, label=f"{owner} {greek}", lw=1, ls="--")
        elif attr == "weight":
            ax.plot(r, label=name, lw=1)
    ax.axhline(1e-3, color="gray", ls=":", lw=1, label="1e-3")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("update / weight")
    ax.legend(fontsize=7)
    return _finish(fig, path)


def _finish(fig: Any, path: str | Path | None) -> Any:
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=DPI)
        plt.close(fig)
    return fig


def relu_pieces(
    model: Module,
    xlim: tuple[float, float] = (-3.0, 3.0),
    data: tuple[list, list] | None = None,
    path: str | Path | None = None,
) -> Any:
    """A 1-D network with one ReLU hidden layer: its output f(x) and each hidden unit's
    piece v_j·relu(w_j x + b_j), with the breakpoints x = -b_j/w_j marked.

    The bias b_j decides where unit j's linear part starts, w_j its direction, and the
    outgoing weight v_j whether the piece points up or down and how steep; the pieces
    add up (plus the output bias) to a piecewise-linear f.
    """
    from chainrule.nn.layers import Layer

    layers = [m for m in getattr(model, "layers", []) if isinstance(m, Layer)]
    if (
        len(layers) != 2
        or layers[0].nin != 1
        or layers[1].nout != 1
        or layers[0].activation != "relu"
    ):
        raise ValueError("relu_pieces draws a 1 → n (ReLU) → 1 network")
    hidden, out = layers
    w = [row[0].data for row in hidden.weight]
    hidden_bias, out_bias = _vector(hidden, "bias"), _vector(out, "bias")
    b = list(hidden_bias) if hidden_bias is not None else [0.0] * len(w)
    v = [u.data for u in out.weight[0]]
    c = float(out_bias[0]) if out_bias is not None else 0.0
    xs = np.linspace(xlim[0], xlim[1], 400)
    fig, ax = plt.subplots(figsize=(7, 4.2))
    total = np.full_like(xs, c)
    for j, (wj, bj, vj) in enumerate(zip(w, b, v)):
        piece = vj * np.maximum(0.0, wj * xs + bj)
        total += piece
        ax.plot(xs, piece, lw=0.8, alpha=0.6, label=None if j else "unit pieces")
        if wj != 0.0 and xlim[0] < -bj / wj < xlim[1]:
            ax.axvline(-bj / wj, color="gray", lw=0.5, ls=":")
    f = value_forward(model, xs[:, None])[:, 0]  # through the graph: an independent check
    ax.plot(xs, f, color="k", lw=2, label="f(x)")
    assert np.allclose(f, total)  # the pieces really add up to the network
    if data is not None:
        ax.scatter([p[0] for p in data[0]], data[1], s=10, color="tab:red", label="data", zorder=3)
    ax.set_xlim(*xlim)
    ax.set_title("a ReLU network is piecewise linear (dotted: breakpoints -b/w)")
    ax.legend(fontsize=8)
    return _finish(fig, path)


def activation_histograms(
    model: Module,
    x: list[list[float]],
    path: str | Path | None = None,
    title: str = "activations per layer",
) -> Any:
    """Histogram of every unit's output over a batch, one panel per layer (after each
    activation), all on the same axes, to see whether an initialization keeps their
    spread."""
    from chainrule.nn.activation import Activation
    from chainrule.nn.layers import Layer

    batch: list = x
    panels = []
    was = model.training
    model.eval()
    with no_grad():
        for m in getattr(model, "layers", [model]):
            batch = m.forward(batch)
            if (
                isinstance(m, (Activation, Layer))
                and getattr(m, "activation", getattr(m, "name", "")) != "identity"
            ):
                panels.append((type(m).__name__, [v.data for row in batch for v in row]))
    model.train(was)
    fig, axes = plt.subplots(  # one scale for all panels: spreads are compared by eye
        1,
        max(1, len(panels)),
        figsize=(3.2 * max(1, len(panels)), 3),
        squeeze=False,
        sharex=True,
        sharey=True,
    )
    for k, (_kind, vals) in enumerate(panels):
        ax = axes[0][k]
        ax.hist(vals, bins=40, color="tab:blue")
        ax.set_title(f"layer {k + 1}: mean {np.mean(vals):.2f}, std {np.std(vals):.2f}", fontsize=9)
        ax.set_xlabel("activation")
    axes[0][0].set_ylabel("count")
    fig.suptitle(title)
    return _finish(fig, path)


def curves(
    series: dict[str, tuple[Sequence[float], Sequence[float]]],
    title: str = "",
    xlabel: str = "",
    ylabel: str = "",
    logy: bool = False,
    path: str | Path | None = None,
) -> Any:
    """Several named (x, y) curves on one axis, e.g. loss per epoch for several learning rates."""
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for name, (xs, ys) in series.items():
        ax.plot(list(xs), list(ys), label=name, marker="o" if len(xs) < 12 else None)
    if logy:
        ax.set_yscale("log")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    return _finish(fig, path)


def functions_1d(
    models: dict[str, Module],
    xlim: tuple[float, float] = (-2.0, 2.0),
    data: tuple[list, list] | None = None,
    path: str | Path | None = None,
) -> Any:
    """The functions computed by 1-input, 1-output models, side by side with the data."""
    xs = np.linspace(xlim[0], xlim[1], 300)
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    if data is not None:
        ax.scatter([p[0] for p in data[0]], data[1], s=10, color="k", label="data", zorder=3)
    for name, model in models.items():
        ax.plot(xs, value_forward(model, xs[:, None])[:, 0], label=name)
    ax.legend(fontsize=8)
    return _finish(fig, path)


def weight_histograms(models: dict[str, Module], path: str | Path | None = None) -> Any:
    """Distribution of each model's weights (biases left out), e.g. L1 vs L2."""
    from chainrule.nn.regularization import weight_vector

    fig, axes = plt.subplots(  # the same axes: L1's spike at 0 vs L2's spread
        1, len(models), figsize=(3.6 * len(models), 3), squeeze=False, sharex=True, sharey=True
    )
    for ax, (name, model) in zip(axes[0], models.items()):
        ws = [w.data for w in weight_vector(model)]
        ax.hist(ws, bins=40, color="tab:purple")
        near_zero = sum(abs(w) < 1e-3 for w in ws) / len(ws)
        ax.set_title(f"{name}: {near_zero:.0%} of |w| < 1e-3", fontsize=9)
    return _finish(fig, path)
