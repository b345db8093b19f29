"""A trained network's outputs for many inputs at once, in numpy, without building any
graph: the one numpy forward that the plots (`chainrule.viz.plots.decision_boundary`) and
the playground's pictures (`chainrule.viz.playground.views`) use. A 300 x 300 grid
through 2-16-16-1 is 3 million multiplies: milliseconds in numpy, minutes as `Value`s.

It repeats the inference-mode arithmetic (`model.eval()`) of each module:

- Layer: z = x Wᵀ + b, then its activation (by the engine's name for it);
- Activation: its function, elementwise;
- BatchNorm1d (running statistics): γ (x - mean)/√(var + ε) + β;
- Dropout: the identity (inverted dropout), or × (1 - p) (the lecture's form);
- MLP/Sequential: their modules in order.

The activations are the engine's one table (`chainrule.engine.ACTIVATIONS`), in their
elementwise forms. Any other module is NotImplementedError.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from chainrule.engine import ACTIVATIONS
from chainrule.nn.activation import Activation
from chainrule.nn.batchnorm import BatchNorm1d
from chainrule.nn.dropout import Dropout
from chainrule.nn.layers import Layer
from chainrule.nn.module import Module


def activation(name: str) -> Callable[[np.ndarray], np.ndarray]:
    """The engine's activation `name` (`chainrule.engine.ACTIVATIONS`), elementwise on arrays."""
    if name not in ACTIVATIONS:
        raise NotImplementedError(f"numpy_forward does not know the activation {name!r}")
    form = ACTIVATIONS[name].array
    return lambda z: form(z)[0]


def floats(t: Any) -> np.ndarray:
    """A parameter vector or matrix (lists of `Value`s) as a float array."""
    return np.array([[v.data for v in row] if isinstance(row, list) else row.data for row in t])


def _layer(m: Layer, a: np.ndarray) -> np.ndarray:
    z = a @ floats(m.weight).T
    if m.bias is not None:
        z = z + floats(m.bias)
    return activation(m.activation)(z)


def _batchnorm(m: BatchNorm1d, a: np.ndarray) -> np.ndarray:
    if not m.track_running_stats:
        raise NotImplementedError("batch norm without running statistics")
    out = (a - np.array(m.running_mean)) / np.sqrt(np.array(m.running_var) + m.eps)
    if m.weight is None or m.bias is None:
        return out
    return out * floats(m.weight) + floats(m.bias)


def numpy_forward(
    model: Module, x: Any, hidden: list[tuple[str, np.ndarray]] | None = None
) -> np.ndarray:
    """The model's outputs in inference mode for a batch `x` ([N, nin]) as an [N, nout]
    array (see the module docstring). With `hidden` (a list), each hidden layer's
    activations over the batch are appended to it as ("hidden k", [N, units]), k counting
    the linear layers from 1."""
    a = np.asarray(x, dtype=float)
    modules = getattr(model, "layers", None)
    if not isinstance(modules, list):
        modules = [model]
    linear = 0
    for m in modules:
        if isinstance(m, Layer):
            linear += 1
            a = _layer(m, a)
            shaped = m.activation not in ("identity", "linear") and m is not modules[-1]
            if hidden is not None and shaped:
                hidden.append((f"hidden {linear}", a))
        elif isinstance(m, Activation):
            a = activation(m.name)(a)
            if hidden is not None:
                hidden.append((f"hidden {linear}", a))
        elif isinstance(m, BatchNorm1d):
            a = _batchnorm(m, a)
        elif isinstance(m, Dropout):
            a = a if m.inverted or m.p == 0.0 else a * (1.0 - m.p)
        elif getattr(m, "layers", None) is not None:
            a = numpy_forward(m, a, hidden)
        else:
            raise NotImplementedError(f"numpy_forward does not know {type(m).__name__}")
    return a
