"""Plots with matplotlib (Agg backend: works without a screen)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from engine import no_grad
from nn.module import Module
from nn.train import History


def decision_boundary(
    model: Module,
    x: list[list[float]],
    y: list[int],
    path: str | Path | None = None,
    steps: int = 60,
    title: str = "decision boundary",
) -> Any:
    """Colour the plane by the model's class (sign of one output, or argmax), data on top."""
    xs = np.asarray(x)
    lo, hi = xs.min(0) - 0.5, xs.max(0) + 0.5
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], steps), np.linspace(lo[1], hi[1], steps))
    grid = np.column_stack([gx.ravel(), gy.ravel()]).tolist()
    was = model.training
    model.eval()
    with no_grad():
        out = model(grid)
    model.train(was)
    if len(out[0]) == 1:
        z = np.array([o[0].data > 0 for o in out], float)
    else:
        z = np.array([int(np.argmax([v.data for v in o])) for o in out], float)
    fig, ax = plt.subplots(figsize=(5, 4.5))
    ax.contourf(gx, gy, z.reshape(gx.shape), alpha=0.35, cmap="coolwarm")
    ax.scatter(xs[:, 0], xs[:, 1], c=y, cmap="coolwarm", edgecolors="k", s=22)
    ax.set_title(title)
    return _finish(fig, path)


def history(hist: History, path: str | Path | None = None) -> Any:
    """Loss and accuracy per epoch (train vs validation) and the learning rate."""
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
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
    axes[2].plot(epochs, hist.lr)
    axes[2].set_title("learning rate")
    if hist.best_epoch is not None:
        for ax in axes[:2]:
            ax.axvline(hist.best_epoch + 1, color="gray", ls="--", lw=1, label="best")
    for ax in axes:
        ax.set_xlabel("epoch")
    axes[0].legend()
    axes[1].legend()
    return _finish(fig, path)


def update_ratios(hist: History, path: str | Path | None = None) -> Any:
    """|Δw|/|w| per parameter tensor per step, log scale, with the 1e-3 rule of thumb."""
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, r in hist.update_ratio.items():
        if name.endswith("weight"):
            ax.plot(r, label=name, lw=1)
    ax.axhline(1e-3, color="gray", ls="--", lw=1, label="1e-3")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("update / weight")
    ax.legend(fontsize=7)
    return _finish(fig, path)


def _finish(fig: Any, path: str | Path | None) -> Any:
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=90)
        plt.close(fig)
    return fig
