"""Activations as modules, as `torch.nn.ReLU()`: y_i = act(x_i) for each element.

Layers take an activation as one of these objects (`Layer(2, 3, ReLU())`), as a name
("relu", "tanh", "sigmoid", "identity"), or as micrograd's `nonlin` flag (True = ReLU).
"""

from __future__ import annotations

from typing import Any

from chainrule.engine import ACTIVATIONS, Value
from chainrule.nn.module import Batch, Module

IDENTITY = ("identity", "linear")


def check_activation(name: str) -> str:
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose from {sorted(ACTIVATIONS)}")
    return name


def activation_name(act: Any) -> str:
    """The engine's name for an activation given as a module, a module class, a name or
    micrograd's nonlin flag (True: relu, False: identity)."""
    if isinstance(act, bool):
        return "relu" if act else "identity"
    if isinstance(act, type) and issubclass(act, Activation):
        act = act()
    if isinstance(act, Activation):
        return act.name
    if isinstance(act, str):
        return check_activation(act)
    raise TypeError(f"an activation is a module like nn.ReLU() or a name, got {act!r}")


def apply_activation(v: Value, name: str) -> Value:
    """act(v) as one elementary node (none for the identity)."""
    return v if name in IDENTITY else getattr(v, name)()


class Activation(Module):
    """An activation on its own, by name: relu, tanh, sigmoid, identity. The subclasses
    below are PyTorch's names for each (`ReLU()`)."""

    name: str

    def __init__(self, name: str | None = None) -> None:
        self.name = check_activation(name if name is not None else type(self).name)

    def forward(self, batch: Batch) -> Batch:
        return [
            [apply_activation(v if isinstance(v, Value) else Value(v), self.name) for v in x]
            for x in batch
        ]

    def extra_repr(self) -> str:
        return repr(self.name) if type(self) is Activation else ""


class ReLU(Activation):
    """relu(x) = max(0, x)."""

    name = "relu"


class Tanh(Activation):
    """tanh(x) = (e^x - e^-x)/(e^x + e^-x)."""

    name = "tanh"


class Sigmoid(Activation):
    """σ(x) = 1/(1 + e^-x)."""

    name = "sigmoid"


class Identity(Activation):
    """x, unchanged."""

    name = "identity"
