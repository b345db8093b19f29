"""Plots with matplotlib. Each function returns the figure, or saves it to `path` and
closes it. Without a screen matplotlib draws with Agg, so scripts and CI work as is."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from chainrule.engine import no_grad
from chainrule.nn.inference import numpy_forward
from chainrule.nn.module import Module
from chainrule.nn.train import History

DPI = 120
"""Resolution of saved figures (and, by `setup_notebook`, of inline ones)."""


def setup_notebook(dpi: int = 110) -> None:
    """Inline figures at `dpi` (110+ keeps text and lines sharp on today's screens)."""
    matplotlib.rcParams["figure.dpi"] = dpi
    matplotlib.rcParams["savefig.dpi"] = dpi


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
    # at notebook width (dpi 110) a figure stays under about 1,000 pixels
    fig, axes = plt.subplots(1, 3 if scheduled else 2, figsize=(9 if scheduled else 8, 3.2))
    epochs = range(1, hist.epochs + 1)
    axes[0].plot(epochs, hist.train_loss, label="train")
    if hist.val_loss:
        axes[0].plot(epochs, hist.val_loss, label="validation")
    axes[0].set_title("loss")
    axes[0].set_ylabel("loss (mean per sample)")
    if hist.train_acc and hist.train_acc[0] is not None:
        axes[1].plot(epochs, hist.train_acc, label="train")
        if hist.val_acc:
            axes[1].plot(epochs, hist.val_acc, label="validation")
    axes[1].set_title("accuracy")
    axes[1].set_ylabel("accuracy (fraction correct)")
    if scheduled:  # constant within an epoch: drawn as steps, not slopes
        axes[2].plot(epochs, hist.lr, drawstyle="steps-post")
        axes[2].set_title("learning rate")
        axes[2].set_ylabel("learning rate η")
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
