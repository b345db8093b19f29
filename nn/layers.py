"""Neurons, layers and multi-layer perceptrons.

A unit computes act(Σ_i w_i x_i + b). Two ways to build that graph, same values and
gradients: `fused_forward` makes it one node with the inputs, weights and bias as parents
(fast: what you train with); `elementary_forward` makes every product, sum and the
activation its own node (what you draw and step through in a lesson).

Names: `Linear(in_features, out_features, bias=True)` is torch.nn.Linear (no activation);
`Layer(nin, nout, nonlin=True)` and `Neuron(nin, nonlin=True)` are micrograd's (ReLU
unless told otherwise); `MLP(2, [16, 16, 1])` is micrograd's too (last layer linear).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from numbers import Integral
from typing import Any

import numpy as np
from chainrule.engine import Value, fused_linear
from chainrule.nn.activation import IDENTITY, Activation, activation_name, apply_activation
from chainrule.nn.batchnorm import BatchNorm1d
from chainrule.nn.dropout import Dropout, check_probability
from chainrule.nn.init import Seed, init_layer, make_generator
from chainrule.nn.module import Batch, Module, Parameter, Sequential

Init = str | Callable[..., None]


def elementary_neuron(w: list[Value], x: list, b: Value | None, activation: str) -> Value:
    """act(w_0 x_0 + w_1 x_1 + ... + b), one node per product, addition and activation."""
    z = w[0] * x[0]
    for wi, xi in zip(w[1:], x[1:]):
        z = z + wi * xi
    if b is not None:
        z = z + b
    return apply_activation(z, activation)


def elementary_forward(layer: Layer, batch: Batch) -> Batch:
    """The layer's outputs with one node per product, sum and activation."""
    bias = layer.bias if layer.bias is not None else [None] * layer.nout
    samples = [layer.inputs(x) for x in batch]  # inputs once per sample, shared by units
    return [
        [elementary_neuron(w, xs, b, layer.activation) for w, b in zip(layer.weight, bias)]
        for xs in samples
    ]


def fused_forward(layer: Layer, batch: Batch) -> Batch:
    """The layer's outputs with one fused node per sample and unit (engine.fused_linear).

    Each sample's inputs are gathered once; the pre-activations of the whole batch are
    one matrix product (numpy), handed to the engine."""
    xss = [layer.inputs(x) for x in batch]
    if len(xss) == 1 and any(type(v.data) is not float for v in xss[0]):
        # one sample of batched Values: the whole batch at once (engine.batched)
        return fused_linear(xss, layer.weight, layer.bias, layer.activation)
    xds = np.asarray([[v.data for v in xs] for xs in xss], dtype=float).reshape(-1, layer.nin)
    z = xds @ np.asarray([[w.data for w in row] for row in layer.weight], dtype=float).T
    if layer.bias is not None:
        z += np.array([b.data for b in layer.bias])
    return fused_linear(xss, layer.weight, layer.bias, layer.activation, pre=z.tolist())


class Layer(Module):
    """`nout` units on `nin` inputs: out_j = act(Σ_i weight[j][i]·x_i + bias[j]).

    `weight` is [out][in] and `bias` has `nout` entries, as torch.nn.Linear, so state
    dicts convert directly. The activation is a module (`nn.Tanh()`), a name, or
    micrograd's `nonlin` (True: ReLU, the default; False: linear). `init` is a scheme
    name of `nn.init.init_layer` or a function filling the weight matrix, called as
    `init(weight, generator=...)` (then the bias starts at 0), e.g.
    `functools.partial(nn.init.kaiming_normal_, nonlinearity="relu")`. `init_for`
    names the activation the init's gain is for when it is not this layer's own (a
    linear layer followed by batch norm and then a ReLU).
    """

    weight: Parameter
    bias: Parameter | None

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: str | bool | Activation | None = None,
        *,
        nonlin: bool | None = None,
        bias: bool = True,
        init: Init = "default",
        init_for: str | None = None,
        fused: bool = True,
        seed: Seed = None,
    ) -> None:
        if not all(
            isinstance(n, Integral) and not isinstance(n, bool) and n >= 1 for n in (nin, nout)
        ):
            raise ValueError(
                f"Layer needs at least one input and one output, got {nin!r}, {nout!r}"
            )
        nin, nout = int(nin), int(nout)
        if activation is not None and nonlin is not None:
            raise TypeError("give either activation or micrograd's nonlin, not both")
        chosen = activation if activation is not None else nonlin
        self.nin, self.nout = nin, nout
        self.activation = activation_name(True if chosen is None else chosen)
        self.fused = fused
        self.init, self.init_for = init, init_for
        self.generator = make_generator(seed)
        self.weight = Parameter([[0.0] * nin for _ in range(nout)])
        self.register_parameter("bias", Parameter([0.0] * nout) if bias else None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw fresh weights (and bias) from the layer's init and generator."""
        if callable(self.init):
            self.init(self.weight, generator=self.generator)
            for b in self.bias or []:
                b.data = 0.0
            return
        gain_for = self.init_for if self.init_for is not None else self.activation
        init_layer(self.weight, self.bias, self.init, gain_for, self.generator)

    def _own_parameters(self, prefix: str) -> Iterator[tuple[str, Value]]:
        # micrograd's order, unit by unit: its weights, then its bias
        for j, row in enumerate(self.weight):
            for i, w in enumerate(row):
                yield f"{prefix}weight.{j}.{i}", w
            if self.bias is not None:
                yield f"{prefix}bias.{j}", self.bias[j]

    @property
    def neurons(self) -> list[Neuron]:
        """The units as micrograd's `Neuron`s (`layer.neurons[0].w[1]`), sharing this
        layer's Values: a change through either shows in both."""
        return [Neuron.unit_of(self, j) for j in range(self.nout)]

    @property
    def in_features(self) -> int:
        return self.nin

    @property
    def out_features(self) -> int:
        return self.nout

    def forward(self, batch: Batch) -> Batch:
        return (fused_forward if self.fused else elementary_forward)(self, batch)

    def inputs(self, x: list) -> list[Value]:
        """One sample's inputs as Values (numbers become leaves, one per input, shared by
        the units); a wrong width is a ValueError."""
        if len(x) != self.nin:
            raise ValueError(
                f"{type(self).__name__} expects {self.nin} inputs per sample, got {len(x)}"
            )
        return [v if type(v) is Value else Value(v) for v in x]

    def extra_repr(self) -> str:
        return (
            f"{self.nin}, {self.nout}, activation={self.activation!r}, bias={self.bias is not None}"
        )


class Linear(Layer):
    """torch.nn.Linear: y = x Wᵀ + b, W [out_features][in_features], no activation,
    W and b drawn from U(±1/√in_features) (torch's default init)."""

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True, **kwargs: Any
    ) -> None:
        kwargs.setdefault("activation", "identity")
        super().__init__(in_features, out_features, bias=bias, **kwargs)

    def extra_repr(self) -> str:
        act = "" if self.activation in IDENTITY else f", activation={self.activation!r}"
        return (
            f"in_features={self.nin}, out_features={self.nout}, bias={self.bias is not None}{act}"
        )


class Neuron(Layer):
    """One unit, as micrograd's `Neuron(nin, nonlin=True)`: act(w·x + b), ReLU unless
    told otherwise. Called on one sample it gives a Value."""

    def __init__(
        self, nin: int, activation: str | bool | Activation | None = None, **kwargs: Any
    ) -> None:
        super().__init__(nin, 1, activation, **kwargs)

    @classmethod
    def unit_of(cls, layer: Layer, j: int) -> Neuron:
        """Unit j of `layer` as a Neuron made of the same Values (nothing is drawn or
        relabelled: the Values keep their network labels)."""
        unit = cls.__new__(cls)
        state = {k: v for k, v in vars(layer).items() if k not in ("weight", "bias")}
        state["_parameters"] = ["weight", "bias"]  # its own list: the views stay apart
        unit.__dict__.update(state, nout=1, weight=Parameter([layer.weight[j]]))
        unit.__dict__["bias"] = None if layer.bias is None else Parameter([layer.bias[j]])
        return unit

    @property
    def w(self) -> list[Value]:
        return self.weight[0]

    @property
    def b(self) -> Value | None:
        return self.bias[0] if self.bias is not None else None

    def extra_repr(self) -> str:
        return f"{self.nin}, activation={self.activation!r}"


class MLP(Sequential):
    """A multi-layer perceptron: `MLP(2, [16, 16, 1])` is 2 → 16 → 16 → 1 with ReLU
    hidden layers and a linear output layer (as micrograd).

    Each hidden block is Layer → [BatchNorm1d] → activation → [Dropout]; with batch
    norm the layer itself is linear and the activation follows the normalization (its
    init still scaled for that activation). Parameters are named `layers.0.weight`, ...
    """

    _child_prefix = "layers."

    def __init__(
        self,
        nin: int,
        sizes: list[int],
        activation: str | Activation = "relu",
        *,
        output_activation: str | Activation = "identity",
        init: Init = "default",
        bias: bool = True,
        fused: bool = True,
        batchnorm: bool = False,
        dropout: float = 0.0,
        seed: Seed = None,
    ) -> None:
        if not sizes:
            raise ValueError("MLP needs at least one layer size")
        check_probability(dropout, "MLP dropout")  # -0.5 and NaN too, not just when > 0
        rng = make_generator(seed)
        act, out_act = activation_name(activation), activation_name(output_activation)
        widths = [nin, *sizes]
        modules: list[Module] = []
        for i, (w_in, w_out) in enumerate(zip(widths, sizes)):
            last = i == len(sizes) - 1
            normed = batchnorm and not last
            layer_act = out_act if last else ("identity" if normed else act)
            modules.append(
                Layer(
                    w_in,
                    w_out,
                    layer_act,
                    bias=bias,
                    init=init,
                    init_for=act if normed else None,
                    fused=fused,
                    seed=rng,
                )
            )
            if normed:
                modules += [BatchNorm1d(w_out), Activation(act)]
            if not last and dropout > 0.0:
                modules.append(Dropout(dropout, seed=rng))
        super().__init__(*modules)

    @property
    def linear_layers(self) -> list[Layer]:
        return [m for m in self.layers if isinstance(m, Layer)]
