"""Neurons, layers and multi-layer perceptrons.

A neuron computes act(Σ_i w_i x_i + b). Two ways to build that graph, same values and
gradients: fused (default) makes it one node with the inputs, weights and bias as
parents (fast: what you train with); elementary makes every product, sum and the
activation its own node (what you draw and step through in a lesson).
"""

from __future__ import annotations

import numpy as np

from engine import ACTIVATIONS, Value, fused_linear
from nn.init import init_layer, make_generator
from nn.module import Batch, Module


def _check_activation(name: str) -> str:
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose from {sorted(ACTIVATIONS)}")
    return name


def elementary_neuron(w: list[Value], x: list, b: Value | None, activation: str) -> Value:
    """act(w_0 x_0 + w_1 x_1 + ... + b), one node per product, addition and activation."""
    z = w[0] * x[0]
    for wi, xi in zip(w[1:], x[1:]):
        z = z + wi * xi
    if b is not None:
        z = z + b
    if activation in ("identity", "linear"):
        return z
    return getattr(z, activation)()


def apply_activation(v: Value, activation: str) -> Value:
    return v if activation in ("identity", "linear") else getattr(v, activation)()


class Layer(Module):
    """`nout` neurons on `nin` inputs: out_j = act(Σ_i weight[j][i]·x_i + bias[j]).

    `weight` is [out][in] and `bias` has `nout` entries, as torch.nn.Linear, so state
    dicts convert directly. `init` names a scheme of `nn.init.init_layer`.
    """

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: str = "identity",
        *,
        bias: bool = True,
        init: str = "default",
        fused: bool = True,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        if nin < 1 or nout < 1:
            raise ValueError(f"Layer needs at least one input and one output, got {nin}, {nout}")
        self.nin, self.nout = nin, nout
        self.activation = _check_activation(activation)
        self.fused = fused
        self.weight = [[Value(0.0, label=f"w{j}{i}") for i in range(nin)] for j in range(nout)]
        self.bias = [Value(0.0, label=f"b{j}") for j in range(nout)] if bias else None
        init_layer(self.weight, self.bias, init, activation, make_generator(seed))

    def forward(self, batch: Batch) -> Batch:
        act = self.activation
        if not self.fused:
            bias = self.bias if self.bias is not None else [None] * self.nout
            samples = [self._inputs(x) for x in batch]  # inputs once per sample, shared by units
            return [
                [elementary_neuron(w, xs, b, act) for w, b in zip(self.weight, bias)]
                for xs in samples
            ]
        # Each sample's inputs are gathered once; the pre-activations of the whole batch
        # are one matrix product (numpy), handed to the engine's fused nodes.
        xss = [self._inputs(x) for x in batch]
        xds = np.asarray([[v.data for v in xs] for xs in xss], dtype=float)
        z = xds @ np.asarray([[w.data for w in row] for row in self.weight], dtype=float).T
        if self.bias is not None:
            z += np.array([b.data for b in self.bias])
        return fused_linear(xss, self.weight, self.bias, act, pre=z.tolist())

    def _inputs(self, x: list) -> list[Value]:
        if len(x) != self.nin:
            raise ValueError(
                f"{type(self).__name__} expects {self.nin} inputs per sample, got {len(x)}"
            )
        return [v if type(v) is Value else Value(v) for v in x]  # one leaf per input, shared

    def extra_repr(self) -> str:
        return (
            f"{self.nin}, {self.nout}, activation={self.activation!r}, bias={self.bias is not None}"
        )


class Neuron(Layer):
    """One unit: a `Layer` with one output. Called on one sample it gives [out]."""

    def __init__(self, nin: int, activation: str = "identity", **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(nin, 1, activation, **kwargs)

    @property
    def w(self) -> list[Value]:
        return self.weight[0]

    @property
    def b(self) -> Value | None:
        return self.bias[0] if self.bias is not None else None

    def extra_repr(self) -> str:
        return f"{self.nin}, activation={self.activation!r}"


class Activation(Module):
    """An activation on its own (used after batch norm): relu, tanh, sigmoid, identity."""

    def __init__(self, name: str) -> None:
        self.name = _check_activation(name)

    def forward(self, batch: Batch) -> Batch:
        return [
            [apply_activation(v if isinstance(v, Value) else Value(v), self.name) for v in x]
            for x in batch
        ]

    def extra_repr(self) -> str:
        return repr(self.name)


class MLP(Module):
    """A multi-layer perceptron: `MLP(2, [16, 16, 1])` is 2 → 16 → 16 → 1 with ReLU
    hidden layers and a linear output layer (as micrograd).

    Each hidden block is Layer → [BatchNorm1d] → activation → [Dropout]; with batch
    norm the layer itself is linear and the activation follows the normalization.
    """

    def __init__(
        self,
        nin: int,
        sizes: list[int],
        activation: str = "relu",
        *,
        output_activation: str = "identity",
        init: str = "default",
        bias: bool = True,
        fused: bool = True,
        batchnorm: bool = False,
        dropout: float = 0.0,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        from nn.batchnorm import BatchNorm1d
        from nn.dropout import Dropout

        if not sizes:
            raise ValueError("MLP needs at least one layer size")
        rng = make_generator(seed)
        _check_activation(activation)
        self.layers: list[Module] = []
        widths = [nin, *sizes]
        for i in range(len(sizes)):
            last = i == len(sizes) - 1
            act = output_activation if last else activation
            if last or not batchnorm:
                self.layers.append(
                    Layer(
                        widths[i], widths[i + 1], act, bias=bias, init=init, fused=fused, seed=rng
                    )
                )
            else:
                self.layers.append(
                    Layer(
                        widths[i],
                        widths[i + 1],
                        "identity",
                        bias=bias,
                        init=init,
                        fused=fused,
                        seed=rng,
                    )
                )
                # He/Xavier scale for the activation that follows, not for identity
                init_layer(self.layers[-1].weight, self.layers[-1].bias, init, act, rng)  # type: ignore[attr-defined]
                self.layers.append(BatchNorm1d(widths[i + 1]))
                self.layers.append(Activation(act))
            if not last and dropout > 0.0:
                self.layers.append(Dropout(dropout, seed=rng))

    def forward(self, batch: Batch) -> Batch:
        for m in self.layers:
            batch = m.forward(batch)
        return batch

    @property
    def linear_layers(self) -> list[Layer]:
        return [m for m in self.layers if isinstance(m, Layer)]
