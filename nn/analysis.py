"""Looking inside a trained network: counting the linear pieces of a 1-D ReLU network."""

from __future__ import annotations

import numpy as np
from chainrule.engine import no_grad
from chainrule.nn.layers import MLP
from chainrule.nn.module import Module


def linear_pieces(
    model: Module, xlim: tuple[float, float] = (-3.0, 3.0), n: int = 2001, tol: float = 1e-6
) -> int:
    """How many linear pieces a 1-input, 1-output network has on `xlim`, from the slope
    changes on a grid of `n` points (a ReLU network is piecewise linear; depth lets the
    number of pieces grow much faster than width)."""
    xs = np.linspace(xlim[0], xlim[1], n)
    with no_grad():
        ys = model(xs.reshape(-1, 1)).data  # one batched Value over the grid
    slopes = np.diff(ys) / np.diff(xs)
    scale = max(1.0, float(np.abs(slopes).max()))
    changes = np.abs(np.diff(slopes)) > tol * scale
    # a kink between grid points shows up as one or two consecutive slope changes
    return 1 + int(np.sum(changes[1:] & ~changes[:-1]) + (1 if changes[0] else 0))


def tent_network(depth: int) -> Module:
    """A ReLU network of `depth` hidden layers of 2 units computing the tent map
    t(x) = 2·relu(x) - 4·relu(x - ½) composed `depth` times: on [0, 1] it has 2**depth
    linear pieces, which one hidden layer could only match with about 2**depth units.
    Depth composes pieces; width only adds them."""
    if depth < 1:
        raise ValueError(f"depth must be at least 1, got {depth}")
    model = MLP(1, [2] * depth + [1], seed=0)
    layers = model.linear_layers
    for k, layer in enumerate(layers):
        rows = [[1.0], [1.0]] if k == 0 else [[2.0, -4.0], [2.0, -4.0]]
        if k == len(layers) - 1:
            rows, biases = [[2.0, -4.0]], [0.0]
        else:
            biases = [0.0, -0.5]
        for row, values in zip(layer.weight, rows):
            for w, v in zip(row, values):
                w.data = v
        for b, v in zip(layer.bias or [], biases):
            b.data = v
    return model
