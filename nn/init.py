"""Weight initialization, with the formulas of `torch.nn.init`.

A weight matrix is laid out [out][in], so fan_in = len(row), fan_out = number of rows.
Why scale matters: with n inputs of variance 1 and weights of variance σ², a unit's
pre-activation has variance n·σ²; σ² = 1/fan_in keeps it at 1 (LeCun), 2/fan_in does so
through a ReLU, which zeroes half (He/Kaiming), 2/(fan_in + fan_out) balances the forward
and backward passes (Xavier/Glorot). All-zero weights make every hidden unit identical
and give hidden weights zero gradient: the symmetry is never broken.

Every function takes `generator` (a `numpy.random.Generator`); pass the same seeded one
to reproduce a run exactly. None makes a fresh, unseeded one: no hidden global state.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from chainrule.engine import Value

Matrix = list[list[Value]]
Vector = list[Value]


Seed = int | np.random.Generator | None


def make_generator(seed: Seed) -> np.random.Generator:
    """A generator from a seed; a generator passes through (to share one stream); None
    gives a fresh unseeded one. Every seeded thing in nn takes its randomness from here."""
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _scalars(t: Matrix | Vector) -> list[Value]:
    return [v for row in t for v in row] if t and isinstance(t[0], list) else list(t)  # type: ignore[misc, arg-type]


def _fill(t: Matrix | Vector, values: np.ndarray) -> None:
    for v, x in zip(_scalars(t), values.tolist()):
        v.data = float(x)


def fans(t: Matrix) -> tuple[int, int]:
    """(fan_in, fan_out) of an [out][in] matrix."""
    if not t or not isinstance(t[0], list):
        raise ValueError("fan in and fan out need a weight matrix ([out][in]), not a vector")
    return len(t[0]), len(t)


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The gain torch.nn.init uses: linear/sigmoid 1, tanh 5/3, relu √2, leaky_relu √(2/(1+a²))."""
    if nonlinearity in ("linear", "identity", "sigmoid", "conv1d", "conv2d"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        a = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + a**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"unknown nonlinearity {nonlinearity!r}")


def uniform_(
    t: Matrix | Vector, a: float = 0.0, b: float = 1.0, generator: np.random.Generator | None = None
) -> None:
    """Each entry ~ U(a, b)."""
    _fill(t, make_generator(generator).uniform(a, b, len(_scalars(t))))


def normal_(
    t: Matrix | Vector,
    mean: float = 0.0,
    std: float = 1.0,
    generator: np.random.Generator | None = None,
) -> None:
    """Each entry ~ N(mean, std²)."""
    _fill(t, make_generator(generator).normal(mean, std, len(_scalars(t))))


def constant_(t: Matrix | Vector, val: float) -> None:
    """Set every entry of `t` to `val`, in place (as `torch.nn.init.constant_`)."""
    _fill(t, np.full(len(_scalars(t)), float(val)))


def zeros_(t: Matrix | Vector) -> None:
    """Set every entry of `t` to 0, in place (as `torch.nn.init.zeros_`)."""
    constant_(t, 0.0)


def xavier_uniform_(
    t: Matrix, gain: float = 1.0, generator: np.random.Generator | None = None
) -> None:
    """U(-a, a) with a = gain·√(6/(fan_in + fan_out)), i.e. variance gain²·2/(fan_in+fan_out)."""
    fan_in, fan_out = fans(t)
    a = gain * math.sqrt(2.0 / (fan_in + fan_out)) * math.sqrt(3.0)
    uniform_(t, -a, a, generator)


def xavier_normal_(
    t: Matrix, gain: float = 1.0, generator: np.random.Generator | None = None
) -> None:
    """N(0, σ²) with σ = gain·√(2/(fan_in + fan_out))."""
    fan_in, fan_out = fans(t)
    normal_(t, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def _kaiming_std(t: Matrix, a: float, mode: str, nonlinearity: str) -> float:
    fan_in, fan_out = fans(t)
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(
    t: Matrix,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: np.random.Generator | None = None,
) -> None:
    """U(-b, b) with b = √3·gain/√fan: variance gain²/fan (2/fan_in for ReLU)."""
    bound = math.sqrt(3.0) * _kaiming_std(t, a, mode, nonlinearity)
    uniform_(t, -bound, bound, generator)


def kaiming_normal_(
    t: Matrix,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: np.random.Generator | None = None,
) -> None:
    """N(0, σ²) with σ = gain/√fan (√(2/fan_in) for ReLU)."""
    normal_(t, 0.0, _kaiming_std(t, a, mode, nonlinearity), generator)


def _relu_if_linear(act: str) -> str:
    return act if act != "linear" else "relu"  # He's gain for a linear layer: ReLU's


@dataclass(frozen=True)
class Scheme:
    """An initialisation: how it draws a weight matrix (given the layer's activation
    and a generator) and its bias (given 1/√fan_in and the generator)."""

    weight: Callable[[Matrix, str, np.random.Generator], None]
    bias: Callable[[Vector, float, np.random.Generator], None]


def _zero_bias(b: Vector, bound: float, rng: np.random.Generator) -> None:
    zeros_(b)


SCHEMES: dict[str, Scheme] = {  # by the names the API and the command line use
    "default": Scheme(  # as torch.nn.Linear
        lambda w, act, rng: kaiming_uniform_(w, a=math.sqrt(5.0), generator=rng),
        lambda b, bound, rng: uniform_(b, -bound, bound, rng),
    ),
    "he": Scheme(
        lambda w, act, rng: kaiming_normal_(w, nonlinearity=_relu_if_linear(act), generator=rng),
        _zero_bias,
    ),
    "he_uniform": Scheme(
        lambda w, act, rng: kaiming_uniform_(w, nonlinearity=_relu_if_linear(act), generator=rng),
        _zero_bias,
    ),
    "xavier": Scheme(lambda w, act, rng: xavier_uniform_(w, calculate_gain(act), rng), _zero_bias),
    "xavier_normal": Scheme(
        lambda w, act, rng: xavier_normal_(w, calculate_gain(act), rng), _zero_bias
    ),
    "micrograd": Scheme(lambda w, act, rng: uniform_(w, -1.0, 1.0, rng), _zero_bias),
    "uniform": Scheme(
        lambda w, act, rng: uniform_(w, -1.0, 1.0, rng),
        lambda b, bound, rng: uniform_(b, -1.0, 1.0, rng),
    ),
    "normal": Scheme(
        lambda w, act, rng: normal_(w, 0.0, 1.0, rng),
        lambda b, bound, rng: normal_(b, 0.0, 1.0, rng),
    ),
    "zeros": Scheme(lambda w, act, rng: zeros_(w), _zero_bias),
}
INITS = tuple(SCHEMES)


def init_layer(
    weight: Matrix,
    bias: Vector | None,
    scheme: str | Scheme,
    activation: str,
    generator: np.random.Generator | None = None,
) -> None:
    """Initialize a layer by a `Scheme` or its name in SCHEMES.

    default: as torch.nn.Linear (weights and bias U(±1/√fan_in)); he / he_uniform:
    Kaiming normal / uniform for the layer's activation; xavier / xavier_normal: Glorot
    uniform / normal; micrograd: weights U(-1, 1), biases 0 (micrograd's Neuron);
    uniform: U(-1, 1); normal: N(0, 1); zeros. Biases start at zero except for default,
    uniform and normal.
    """
    if not isinstance(scheme, Scheme):
        if scheme not in SCHEMES:
            raise ValueError(f"unknown init {scheme!r}; choose from {list(SCHEMES)}")
        scheme = SCHEMES[scheme]
    rng = make_generator(generator)
    act = "linear" if activation in ("identity", "linear") else activation
    scheme.weight(weight, act, rng)
    if bias is not None:
        scheme.bias(bias, 1.0 / math.sqrt(fans(weight)[0]), rng)
