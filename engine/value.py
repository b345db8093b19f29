"""The `Value` node: one scalar in a computation graph.

Every node is one record: its value (`data`), its gradient (`grad`), its parents in the
order the op received them, the op's name and the local derivative d(out)/d(parent) of
each parent, computed in the same place as the value. `backward()`, the step-through and
the drawings in `viz` all read this record; nothing else is kept.

Storage (why it looks like this): a unary or binary node keeps its parents in the slots
`_a`/`_b` and their local derivatives in `_da`/`_db`, so that a node is one allocation.
An n-ary node (`add_all`, `neuron`, `logsumexp`, the losses) keeps a tuple of parents in
`_a`, a tuple of inner derivatives dz/dp in `_da` (`None` meaning all ones) and the outer
activation derivative dact(z)/dz in `_db`: d(out)/dp_i = _db * _da[i]. A node refers only to its
parents, never to its children or itself, so graphs hold no reference cycles and are
freed as soon as the last reference goes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from numbers import Real
from operator import mul
from typing import Any, Union

from engine import backprop
from engine.grad_mode import mode as _grad_mode

Operand = Union["Value", int, float]


_new = object.__new__


def _as_float(data: object) -> float:
    """Convert a real number to float; refuse bool, complex, strings and the rest."""
    if isinstance(data, bool) or type(data).__name__ == "bool_":
        raise TypeError(
            "Value data must be a real number, got bool; write 1.0/0.0 if you mean a number"
        )
    if isinstance(data, Real):
        return float(data)
    raise TypeError(f"Value data must be a real number, got {type(data).__name__}")


# --- Activations: value and derivative side by side ---------------------------------
# Each returns (f(x), f'(x)). Shared by the unary methods and the fused `neuron` node,
# so each derivative is written exactly once.


def relu(x: float) -> tuple[float, float]:
    """relu(x) = max(0, x); d/dx = 1 if x > 0 else 0 (0 at x = 0, as PyTorch).

    NaN stays NaN with slope 1, as PyTorch's (it masks only x <= 0)."""
    return (0.0, 0.0) if x <= 0.0 else (x, 1.0)


def tanh(x: float) -> tuple[float, float]:
    """d tanh(x)/dx = 1 - tanh²x. math.tanh saturates at ±1 and never overflows.

    Computed as (1-t)(1+t): near |t| = 1, 1 - t·t loses digits to cancellation.
    """
    t = math.tanh(x)
    return t, (1.0 - t) * (1.0 + t)


def sigmoid(x: float) -> tuple[float, float]:
    """σ(x) = 1/(1+e^-x); dσ/dx = σ(x)(1-σ(x)).

    exp is only ever taken of -|x|, so it never overflows for large |x|.
    """
    if x >= 0.0:
        s = 1.0 / (1.0 + math.exp(-x))
    else:
        e = math.exp(x)
        s = e / (1.0 + e)
    return s, s * (1.0 - s)


def identity(x: float) -> tuple[float, float]:
    """identity(x) = x; d/dx = 1."""
    return x, 1.0


ACTIVATIONS: dict[str, Callable[[float], tuple[float, float]]] = {
    "relu": relu,
    "tanh": tanh,
    "sigmoid": sigmoid,
    "identity": identity,
    "linear": identity,
}


def _exp(x: float, op: str = "exp") -> float:
    try:
        return math.exp(x)
    except OverflowError:
        raise OverflowError(
            f"{op}: e**{x!r} overflows a float (largest is about e**709.78)"
        ) from None


class Value:
    """A scalar that remembers how it was computed.

    `Value(data, label="")`: `data` is any real number (int, float, Fraction, numpy real
    scalar); bool and non-numbers raise `TypeError`. `.data` and `.grad` are floats.
    """

    __slots__ = ("_a", "_b", "_da", "_db", "_op", "data", "grad", "label")

    data: float
    grad: float
    label: str
    _op: str
    # Typed Any: what they hold depends on the node's arity (see the module docstring).
    _a: Any  # Value | tuple[Value, ...] | None: the parent, or all parents of an n-ary node
    _b: Value | None
    _da: Any  # float | tuple[float, ...] | None: local derivative(s)
    _db: float

    def __init__(self, data: object, label: str = "") -> None:
        self.data = data if type(data) is float else _as_float(data)
        self.grad = 0.0
        self.label = label
        self._op = ""
        self._a = self._b = None
        self._da = self._db = 0.0

    # --- the record ------------------------------------------------------------------
    @property
    def op(self) -> str:
        """Name of the op that made this node ("" for a leaf)."""
        return self._op

    @property
    def parents(self) -> tuple[Value, ...]:
        """The inputs of the op that made this node, in the order it received them."""
        a = self._a
        if a is None:
            return ()
        if type(a) is tuple:
            return a
        return (a,) if self._b is None else (a, self._b)

    @property
    def local_grads(self) -> tuple[float, ...]:
        """d(self)/d(parent) for each parent, in the order of `parents`."""
        a = self._a
        if a is None:
            return ()
        if type(a) is tuple:
            outer, inner = self._db, self._da
            return tuple(outer for _ in a) if inner is None else tuple(outer * d for d in inner)
        return (self._da,) if self._b is None else (self._da, self._db)

    # micrograd's names, read by its graph-drawing snippet (a tuple keeps `a + a`'s two edges).
    _prev = parents

    @property
    def is_leaf(self) -> bool:
        """True for a node no op made: an input, a parameter or a constant."""
        return self._a is None

    def __repr__(self) -> str:
        name = f"label={self.label!r}, " if self.label else ""
        return f"Value({name}data={self.data:.6g}, grad={self.grad:.6g})"

    def __float__(self) -> float:
        return self.data

    def __bool__(self) -> bool:
        """False only for 0.0, as `bool(torch.tensor(0.))` (NaN is True)."""
        return self.data != 0.0

    # --- binary operators: value and local derivatives side by side -----------------
    def __add__(self, other: Operand) -> Value:
        """d(a+b)/da = 1, d(a+b)/db = 1."""
        if type(other) is not Value:
            other = _lift(other)
        return _node(self.data + other.data, "+", self, 1.0, other, 1.0)

    def __mul__(self, other: Operand) -> Value:
        """d(ab)/da = b, d(ab)/db = a."""
        if type(other) is not Value:
            other = _lift(other)
        a, b = self.data, other.data
        return _node(a * b, "*", self, b, other, a)

    def __sub__(self, other: Operand) -> Value:
        """d(a-b)/da = 1, d(a-b)/db = -1."""
        if type(other) is not Value:
            other = _lift(other)
        return _node(self.data - other.data, "-", self, 1.0, other, -1.0)

    def __truediv__(self, other: Operand) -> Value:
        """d(a/b)/da = 1/b, d(a/b)/db = -a/b² (as -(a/b)/b, which cannot overflow b²)."""
        if type(other) is not Value:
            other = _lift(other)
        a, b = self.data, other.data
        if b == 0.0:
            raise ZeroDivisionError(f"division: divisor is zero ({a!r} / {b!r})")
        q = a / b
        return _node(q, "/", self, 1.0 / b, other, -q / b)

    def __pow__(self, other: Operand) -> Value:
        """x**n: d/dx = n·x^(n-1). x**y (Value y): also d/dy = x^y·ln x."""
        x = self.data
        if type(other) is Value:
            y = other.data
            out = _power(x, y)
            # PyTorch: ln of a negative base gives NaN; for x = 0 (y >= 0) it masks to 0.
            if x > 0.0:
                dy = out * math.log(x)
            elif x == 0.0 and y >= 0.0:
                dy = 0.0
            else:
                dy = math.nan
            return _node(out, "**", self, _power_slope(x, y), other, dy)
        if isinstance(other, (int, float)) and not isinstance(other, bool):
            n = float(other)
            return _node(_power(x, n), f"**{other:g}", self, _power_slope(x, n))
        return NotImplemented

    def __radd__(self, other: Operand) -> Value:
        return _lift(other) + self

    def __rsub__(self, other: Operand) -> Value:
        return _lift(other) - self

    def __rmul__(self, other: Operand) -> Value:
        return _lift(other) * self

    def __rtruediv__(self, other: Operand) -> Value:
        return _lift(other) / self

    def __rpow__(self, other: Operand) -> Value:
        return _lift(other) ** self

    def __neg__(self) -> Value:
        """d(-a)/da = -1."""
        return _node(-self.data, "neg", self, -1.0)

    def __pos__(self) -> Value:
        return self

    # --- unary functions -------------------------------------------------------------
    def exp(self) -> Value:
        """d e^x/dx = e^x. Overflow (x > ~709.78) raises OverflowError."""
        e = _exp(self.data)
        return _node(e, "exp", self, e)

    def log(self) -> Value:
        """Natural log; d ln x/dx = 1/x. x <= 0 raises ValueError; NaN gives NaN."""
        x = self.data
        if x <= 0.0:
            raise ValueError(f"log: input must be positive, got {x!r}")
        return _node(math.log(x), "log", self, 1.0 / x)

    def sqrt(self) -> Value:
        """d √x/dx = 1/(2√x) (±inf at ±0, as PyTorch). x < 0 raises ValueError."""
        x = self.data
        if x < 0.0:
            raise ValueError(f"sqrt: input must be non-negative, got {x!r}")
        r = math.sqrt(x)
        return _node(r, "sqrt", self, 0.5 / r if r else math.copysign(math.inf, r))

    def abs(self) -> Value:
        """d|x|/dx = sign(x), 0 at x = 0 (as PyTorch)."""
        x = self.data
        return _node(abs(x), "abs", self, (x > 0.0) - (x < 0.0) + 0.0)

    def softplus(self) -> Value:
        """softplus(x) = ln(1 + e^x), computed as max(x,0) + ln(1 + e^-|x|) so it never
        overflows; d/dx = σ(x)."""
        x = self.data
        return _node(max(x, 0.0) + math.log1p(math.exp(-abs(x))), "softplus", self, sigmoid(x)[0])

    def relu(self) -> Value:
        """max(0, x); d/dx = 1 for x > 0, else 0."""
        out, slope = relu(self.data)
        return _node(out, "relu", self, slope)

    def tanh(self) -> Value:
        """d tanh(x)/dx = 1 - tanh²x."""
        out, slope = tanh(self.data)
        return _node(out, "tanh", self, slope)

    def sigmoid(self) -> Value:
        """σ(x) = 1/(1+e^-x); dσ/dx = σ(1-σ)."""
        out, slope = sigmoid(self.data)
        return _node(out, "sigmoid", self, slope)

    # --- backpropagation -------------------------------------------------------------
    def backward(self) -> None:
        """Set d(self)/d(node) on every node this one depends on.

        Seeds self.grad = 1, recomputes interior gradients from zero, and adds into
        leaves (a second call adds the same amounts again, as PyTorch accumulates).
        Concurrent calls from several threads run one after another (a lock), so none
        over-counts.
        """
        backprop.backward(self)

    def backward_steps(self) -> Iterator[backprop.Step]:
        """The backward pass one chain-rule step at a time (see `backprop.Step`)."""
        return backprop.steps(self)

    def zero_grad(self) -> None:
        """Set grad to 0 on this node and everything it depends on."""
        for v in backprop.order(self):
            v.grad = 0.0


def _node(data: float, op: str, a: Any, da: Any, b: Value | None = None, db: float = 0.0) -> Value:
    """A new node: value `data` made by `op` from parent a (and b) with local derivative
    da (and db); for an n-ary node, a tuple of parents, a tuple of inner derivatives
    (None: all ones) and the outer factor db. Under `no_grad()` it is a leaf."""
    out = _new(Value)
    out.data = data
    out.grad = 0.0
    out.label = ""
    out._op = op
    if _grad_mode.enabled:
        out._a = a
        out._da = da
        out._b = b
        out._db = db
    else:
        out._a = out._b = None
        out._da = out._db = 0.0
    return out


def _lift(x: Operand) -> Value:
    """A number as a constant leaf; anything else is TypeError naming its type."""
    return x if isinstance(x, Value) else Value(x)


def _power(x: float, n: float) -> float:
    if x < 0.0 and math.isfinite(n) and not n.is_integer():
        raise ValueError(f"pow: negative base {x!r} to the fractional power {n!r} is not real")
    if x == 0.0 and n < 0.0:
        raise ZeroDivisionError(f"pow: zero base to the negative power {n!r}")
    try:
        return x**n
    except OverflowError:
        raise OverflowError(f"pow: {x!r} ** {n!r} overflows a float") from None


def _power_slope(x: float, n: float) -> float:
    """d x^n/dx = n·x^(n-1); 0 for n = 0 (as PyTorch), inf for 0^(n<1)."""
    if n == 0.0:
        return 0.0
    if x == 0.0 and n < 1.0:
        return math.inf
    return n * _power(x, n - 1.0)


# --- n-ary nodes ---------------------------------------------------------------------


def add_all(values: Iterable[Operand]) -> Value:
    """Σ v_i as one node; d/dv_i = 1."""
    ps = tuple(v if type(v) is Value else _lift(v) for v in values)
    return _node(sum(p.data for p in ps), "sum", ps, None, db=1.0)


def neuron(
    weights: Sequence[Value],
    inputs: Sequence[Operand],
    bias: Value | None = None,
    activation: str = "identity",
) -> Value:
    """act(Σ w_i·x_i + b) as one node.

    With z = Σ w_i x_i + b: d out/dx_i = act'(z)·w_i, d out/dw_i = act'(z)·x_i,
    d out/db = act'(z). Parents are x_1..x_n, w_1..w_n, then b. An inactive ReLU has
    act'(z) = 0, so backward skips the whole node.
    """
    if len(weights) != len(inputs):
        raise ValueError(f"neuron: {len(weights)} weights but {len(inputs)} inputs")
    xs = tuple(x if type(x) is Value else _lift(x) for x in inputs)
    xd = tuple(x.data for x in xs)
    wd = tuple(w.data for w in weights)
    z = sum(map(mul, wd, xd))
    if bias is None:
        return neuron_node(z, xs + tuple(weights), wd + xd, activation)
    return neuron_node(z + bias.data, (*xs, *weights, bias), (*wd, *xd, 1.0), activation)


_FUSED_OP = {a: "dot" if a in ("identity", "linear") else f"dot+{a}" for a in ACTIVATIONS}


def neuron_node(
    z: float, parents: tuple[Value, ...], inner: tuple[float, ...], activation: str
) -> Value:
    """act(z) as one node, for a pre-activation z = Σ w_i x_i + b computed by the caller
    (a Layer computes a whole batch's z at once). `parents` are the inputs, weights and
    bias; `inner` their derivatives dz/dp: the weights, the inputs, and 1."""
    out, slope = ACTIVATIONS[activation](z)
    return _node(out, _FUSED_OP[activation], parents, inner, db=slope)


def fused_linear(
    inputs: Sequence[Sequence[Value]],
    weight: Sequence[Sequence[Value]],
    bias: Sequence[Value] | None,
    activation: str = "identity",
    pre: Sequence[Sequence[float]] | None = None,
) -> list[list[Value]]:
    """A layer's outputs for a batch: out[s][j] = act(Σ_i weight[j][i]·inputs[s][i] + bias[j]),
    one fused neuron node per sample and unit.

    `pre` may give the pre-activations z[s][j] already computed (a layer computes a whole
    batch's z in one matrix product); otherwise they are summed here.
    """
    wds = [tuple([w.data for w in row]) for row in weight]
    xss = [tuple(xs) for xs in inputs]
    xds = [tuple([v.data for v in xs]) for xs in xss]
    if bias is not None:
        units = [((*row, b), wd) for row, wd, b in zip(weight, wds, bias)]
        bds = [b.data for b in bias]
        one: tuple[float, ...] = (1.0,)
    else:
        units = [(tuple(row), wd) for row, wd in zip(weight, wds)]
        bds = [0.0] * len(wds)
        one = ()
    if pre is None:
        pre = [[sum(map(mul, wd, xd)) + bd for wd, bd in zip(wds, bds)] for xd in xds]
    out = []
    for xs, xd, zrow in zip(xss, xds, pre):
        xd1 = xd + one  # d z/d w_i = x_i, d z/d b = 1
        out.append(
            [neuron_node(zj, xs + wb, wd + xd1, activation) for zj, (wb, wd) in zip(zrow, units)]
        )
    return out


def dot(weights: Sequence[Value], inputs: Sequence[Operand], bias: Value | None = None) -> Value:
    """Σ w_i·x_i (+ b) as one node: the fused neuron with no activation."""
    return neuron(weights, inputs, bias, "identity")


def logsumexp(values: Sequence[Operand]) -> Value:
    """ln Σ e^{v_i} as one node, computed as m + ln Σ e^{v_i - m} (m = max) so it never
    overflows; d/dv_i = softmax(v)_i = e^{v_i - lse}."""
    ps = tuple(v if type(v) is Value else _lift(v) for v in values)
    if not ps:
        raise ValueError("logsumexp: needs at least one value")
    ds = [p.data for p in ps]
    m = max(ds)
    if math.isinf(m) or m != m:
        # +inf, or every value -inf: shifting by m would give inf - inf = NaN. PyTorch's
        # result is m itself (NaN if any value is NaN).
        lse = math.nan if any(d != d for d in ds) else m
    else:
        lse = m + math.log(sum(math.exp(d - m) for d in ds))
    inner = tuple(math.exp(d - lse) for d in ds)
    return _node(lse, "logsumexp", ps, inner, db=1.0)


def softmax_cross_entropy(logits: Sequence[Operand], target: int) -> Value:
    """-ln softmax(z)_y as one node, computed as ln Σ e^{z_k - m} - (z_y - m) (m = max z)
    like PyTorch's log_softmax, so it neither overflows nor cancels; dℓ/dz_k =
    softmax(z)_k - [k = y]."""
    ps = tuple(v if type(v) is Value else _lift(v) for v in logits)
    if not 0 <= target < len(ps):
        raise ValueError(f"cross_entropy: class {target} is out of range for {len(ps)} logits")
    m = max(p.data for p in ps)
    log_total = math.log(sum(math.exp(p.data - m) for p in ps))
    log_probs = [p.data - m - log_total for p in ps]
    inner = tuple(math.exp(lp) - (k == target) for k, lp in enumerate(log_probs))
    return _node(-log_probs[target], "cross_entropy", ps, inner, db=1.0)


def binary_cross_entropy_with_logits(logit: Operand, target: float) -> Value:
    """-[y ln σ(x) + (1-y) ln(1-σ(x))] as one node, for a logit x and target y in [0, 1].

    Value: (1-y)·x + max(-x, 0) + ln(1 + e^-|x|), which never overflows; dℓ/dx = σ(x) - y,
    written as σ(x) for y = 0 and -σ(-x) for y = 1 so it does not cancel for large |x|.
    """
    x = logit if type(logit) is Value else _lift(logit)
    y = float(target)
    if not 0.0 <= y <= 1.0:
        raise ValueError(f"binary_cross_entropy: target must be in [0, 1], got {target!r}")
    d = x.data
    loss = ((1.0 - y) * d + max(-d, 0.0)) + math.log1p(math.exp(-abs(d)))
    slope = -sigmoid(-d)[0] if y == 1.0 else sigmoid(d)[0] - y
    return _node(loss, "bce", x, slope)
