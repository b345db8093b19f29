"""The `Value` node: one scalar in a computation graph, and the elementary ops.

Every node is one record: its value (`data`), its gradient (`grad`), its parents in the
order the op received them, the op that made it and the local derivative d(out)/d(parent)
of each parent, computed in the same place as the value. `backward()`, the step-through,
`_backward()`, `engine.grad` and the drawings in `viz` all read this record through one
reader, `Value.chain_rule`; nothing else is kept.

One rule per op, two uses. Each op's local derivative is written once, as a small function
of the op's inputs and output (`_d_tanh(x, out) = (1 - out)(1 + out)`), using only
arithmetic, comparisons and the helpers `exp_any`/`log_any`/`sigmoid_any`, which accept a float or a
`Value`. The forward pass calls it with floats and stores the number (the fast float path).
For gradients of gradients (`create_graph=True`) the same function is called with the
parent `Value`s and the output node itself, so it returns the local derivative as a graph
that can be differentiated again:

    x = Value(0.5); y = x.tanh()
    y.local_grads              # (0.786...,): _d_tanh(0.5, tanh 0.5), floats
    y.chain_rule(Value(1.0), create_graph=True)  # _d_tanh(x, y): a Value built from y

A derivative that is piecewise constant (relu, abs) comes out as a plain float either way,
so its own derivative is 0, as PyTorch's (relu'' = 0).

Storage (why it looks like this): a unary or binary node keeps its parents in the slots
`_a`/`_b` and their local derivatives in `_da`/`_db`, so that a node is one allocation.
An n-ary node (`engine.fused`) keeps a tuple of parents in `_a`, a tuple of inner
derivatives in `_da` (`None` meaning all ones) and a shared outer factor in `_db`:
d(out)/dp_i = _db · _da[i]. Only `Value._decode` reads this (and, for speed, the traversal
and the fast loop in `engine.backprop`, which a test checks against `chain_rule`). A node
refers only to its parents, never to its children or itself, so graphs hold no reference
cycles and are freed as soon as the last reference goes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from numbers import Real
from typing import Any, Union

from engine import backprop
from engine.grad_mode import mode as _grad_mode
from engine.grad_mode import quiet as _quiet

Operand = Union["Value", int, float]
Number = Union["Value", float]  # what a derivative rule receives and returns

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


class Op(str):
    """An op's name (a `str`, so `node.op == "tanh"` and micrograd's `_op` read as before)
    carrying the op's derivative rule, for derivatives as graphs.

    `rule` is called with the parent `Value`s and the output node: `rule(x, out)` for a
    unary op (returns one derivative), `rule(a, b, out)` for a binary op (returns two),
    `rule(parents, out)` for an n-ary op (`arity` 0; returns one per parent). `rule` is
    None for a node made by `Value(data, _children, _op)`, whose derivative is unknown.
    """

    rule: Callable[..., Any] | None
    arity: int
    function: Any  # the engine.Function subclass that made the node, if any
    grad_value: Any  # on a leaf's (empty) name: its gradient as a Value (create_graph)

    def __new__(
        cls, name: str, rule: Callable[..., Any] | None, arity: int = 1, function: Any = None
    ) -> Op:
        op = super().__new__(cls, name)
        op.rule, op.arity, op.function = rule, arity, function
        return op


def _num(x: Number) -> float:
    """The number in x (for the branches of a rule; comparisons alone would do too)."""
    return x.data if type(x) is Value else x  # type: ignore[union-attr, return-value]


def exp_any(x: Number, op: str = "exp") -> Any:
    """e**x for a float or a Value (then a graph node)."""
    if type(x) is Value:
        return x.exp()
    try:
        return math.exp(x)  # type: ignore[arg-type]
    except OverflowError:
        raise OverflowError(
            f"{op}: e**{x!r} overflows a float (largest is about e**709.78)"
        ) from None


def log_any(x: Number) -> Any:
    """ln x for a float or a Value."""
    return x.log() if type(x) is Value else math.log(x)  # type: ignore[union-attr, arg-type]


def sigmoid_any(x: Number) -> Any:
    """σ(x) for a float or a Value. exp is only ever taken of -|x|, so it never overflows."""
    if type(x) is Value:
        return x.sigmoid()
    if x >= 0.0:  # type: ignore[operator]
        return 1.0 / (1.0 + math.exp(-x))  # type: ignore[operator]
    e = math.exp(x)  # type: ignore[arg-type]
    return e / (1.0 + e)


# --- Derivative rules: d(out)/d(input) from the inputs and the output -----------------
# Each is the one definition of its op's derivative (see the module docstring).


def _d_add(a: Number, b: Number, out: Number) -> tuple[Any, Any]:
    """d(a+b)/da = 1, d(a+b)/db = 1."""
    return 1.0, 1.0


def _d_sub(a: Number, b: Number, out: Number) -> tuple[Any, Any]:
    """d(a-b)/da = 1, d(a-b)/db = -1."""
    return 1.0, -1.0


def _d_mul(a: Number, b: Number, out: Number) -> tuple[Any, Any]:
    """d(ab)/da = b, d(ab)/db = a."""
    return b, a


def _d_div(a: Number, b: Number, out: Number) -> tuple[Any, Any]:
    """d(a/b)/da = 1/b, d(a/b)/db = -a/b², as -(a/b)/b, which cannot overflow b²."""
    return 1.0 / b, -out / b


def _d_neg(x: Number, out: Number) -> Any:
    """d(-x)/dx = -1."""
    return -1.0


def _d_exp(x: Number, out: Number) -> Any:
    """d e^x/dx = e^x."""
    return out


def _d_log(x: Number, out: Number) -> Any:
    """d ln x/dx = 1/x."""
    return 1.0 / x


def _d_sqrt(x: Number, out: Number) -> Any:
    """d √x/dx = 1/(2√x); ±inf at ±0, as PyTorch."""
    r = _num(out)
    return 0.5 / out if r != 0.0 else math.copysign(math.inf, r)


def _d_abs(x: Number, out: Number) -> Any:
    """d|x|/dx = sign(x), 0 at x = 0 and at NaN (as PyTorch); a constant."""
    return (x > 0.0) - (x < 0.0) + 0.0


def _d_softplus(x: Number, out: Number) -> Any:
    """d ln(1 + e^x)/dx = σ(x)."""
    return sigmoid_any(x)


def _d_relu(x: Number, out: Number) -> Any:
    """d relu/dx = 1 where out > 0 (and NaN passes, as PyTorch), else 0; a constant, so
    relu'' = 0. Read from the output, as PyTorch does, so a fused node needs no x."""
    return 0.0 if out <= 0.0 else 1.0


def _d_tanh(x: Number, out: Number) -> Any:
    """d tanh(x)/dx = 1 - tanh²x, as (1 - t)(1 + t): 1 - t·t cancels near |t| = 1."""
    return (1.0 - out) * (1.0 + out)


def _d_sigmoid(x: Number, out: Number) -> Any:
    """dσ/dx = σ(1 - σ)."""
    return out * (1.0 - out)


def _d_identity(x: Number, out: Number) -> Any:
    """d x/dx = 1."""
    return 1.0


# --- Activations: value and derivative side by side ---------------------------------


def relu(x: float) -> tuple[float, float]:
    """relu(x) = max(0, x) (NaN stays NaN, as PyTorch); derivative `_d_relu`."""
    # _d_relu(x, out) inlined: relu is in most networks' every unit (a test checks it)
    return (0.0, 0.0) if x <= 0.0 else (x, 1.0)


def tanh(x: float) -> tuple[float, float]:
    """tanh(x); math.tanh saturates at ±1 and never overflows. Derivative `_d_tanh`."""
    t = math.tanh(x)
    return t, _d_tanh(x, t)


def sigmoid(x: float) -> tuple[float, float]:
    """σ(x) = 1/(1+e^-x); derivative `_d_sigmoid`."""
    s = sigmoid_any(x)
    return s, _d_sigmoid(x, s)


def identity(x: float) -> tuple[float, float]:
    """identity(x) = x; derivative 1."""
    return x, 1.0


# name -> x ↦ (f(x), f'(x)); the fused neuron and the unary methods share them.
ACTIVATIONS: dict[str, Callable[[float], tuple[float, float]]] = {
    "relu": relu,
    "tanh": tanh,
    "sigmoid": sigmoid,
    "identity": identity,
    "linear": identity,
}
# name -> derivative rule (x, out) ↦ f'(x); every one reads only `out`.
ACTIVATION_RULES: dict[str, Callable[[Any, Any], Any]] = {
    "relu": _d_relu,
    "tanh": _d_tanh,
    "sigmoid": _d_sigmoid,
    "identity": _d_identity,
    "linear": _d_identity,
}

ADD, SUB, MUL, DIV = Op("+", _d_add, 2), Op("-", _d_sub, 2), Op("*", _d_mul, 2), Op("/", _d_div, 2)
NEG, EXP, LOG, SQRT = Op("neg", _d_neg), Op("exp", _d_exp), Op("log", _d_log), Op("sqrt", _d_sqrt)
ABS, SOFTPLUS, RELU = Op("abs", _d_abs), Op("softplus", _d_softplus), Op("relu", _d_relu)
TANH, SIGMOID = Op("tanh", _d_tanh), Op("sigmoid", _d_sigmoid)


class Value:
    """A scalar that remembers how it was computed.

    `Value(data, label="")`: `data` is any real number (int, float, Fraction, numpy real
    scalar); bool and non-numbers raise `TypeError`. `.data` and `.grad` are floats.

    micrograd's signature `Value(data, _children=(), _op="", label="")` is accepted: the
    node is recorded with those parents and that op name, but its local derivatives are
    unknown (NaN), so backprop through it gives NaN rather than a plausible wrong number;
    define an op with its derivative with `engine.Function` instead.

    `<`, `<=`, `>`, `>=` compare `.data` and return a plain bool (no graph: PyTorch's
    comparisons carry no gradient). `==` and `hash` stay identity-based, as for PyTorch
    tensors' hash: nodes live in sets and dicts during backprop, and two different nodes
    holding equal numbers are still two nodes.
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

    # numpy scalars and arrays defer to our reflected operators: np.int64(2) * Value(3) is
    # a Value, never numpy broadcasting over the Value as an object.
    __array_ufunc__ = None

    def __init__(
        self, data: object, _children: Iterable[Value] | str = (), _op: str = "", label: str = ""
    ) -> None:
        self.data = data if type(data) is float else _as_float(data)
        self.grad = 0.0
        self.label = label
        self._op = _op
        self._a = self._b = None
        self._da = self._db = 0.0
        if _children:
            self._hand_made(_children, _op)

    def _hand_made(self, children: Iterable[Value] | str, op: str) -> None:
        """micrograd's `Value(data, children, op)`: parents recorded, derivatives unknown."""
        if isinstance(children, str):  # Value(x, "name"): a label, as before micrograd's form
            self.label = children
            return
        parents = tuple(children)
        for p in parents:
            if not isinstance(p, Value):
                raise TypeError(f"Value: _children must be Values, got {type(p).__name__}")
        self._op = Op(op, None, 0)
        self._a, self._da, self._db = parents, None, math.nan

    # --- the record ------------------------------------------------------------------
    @property
    def op(self) -> str:
        """Name of the op that made this node ("" for a leaf)."""
        return self._op

    def _decode(self) -> tuple[tuple[Value, ...], tuple[Any, ...], float | None]:
        """The one reader of the compact storage (see the module docstring): the parents,
        their local derivatives, and an n-ary node's shared outer factor (None for a
        unary or binary node, whose derivatives are complete)."""
        a = self._a
        if a is None:
            return (), (), None
        if type(a) is tuple:
            inner = self._da
            return a, ((1.0,) * len(a) if inner is None else inner), self._db
        if self._b is None:
            return (a,), (self._da,), None
        return (a, self._b), (self._da, self._db), None

    @property
    def parents(self) -> tuple[Value, ...]:
        """The inputs of the op that made this node, in the order it received them."""
        return self._decode()[0]

    @property
    def local_grads(self) -> tuple[float, ...]:
        """d(self)/d(parent) for each parent, in the order of `parents`."""
        return tuple(local for _, local, _ in self.chain_rule(1.0))

    # micrograd's name, read by its graph-drawing snippet (a tuple keeps `a + a`'s two edges).
    _prev = parents

    @property
    def is_leaf(self) -> bool:
        """True for a node no op made: an input, a parameter or a constant."""
        return self._a is None

    @property
    def grad_value(self) -> Value | None:
        """A leaf's gradient as a `Value` after `backward(create_graph=True)` (None before;
        None on interior nodes, as PyTorch keeps `.grad` on leaves): its graph can be
        differentiated again. `.grad` holds its number."""
        return getattr(self._op, "grad_value", None) if self._a is None else None

    def _set_grad_value(self, g: Value) -> None:
        # Kept on the leaf's op name (a leaf has no op, so its name is free to carry it),
        # not in a slot of its own: a slot would cost 8 bytes (16 with alignment) on
        # every node of every graph for a feature only leaves of a few graphs use.
        op = Op(self._op, None, 0)
        op.grad_value = g
        self._op = op

    def chain_rule(
        self, upstream: Number, create_graph: bool = False
    ) -> list[tuple[Value, Any, Any]]:
        """This node's chain-rule step: (parent, local derivative, amount added) for each
        parent, in order, where amount = upstream · local and local = d self/d parent.

        The one reader of the record: backward, the step-through, `_backward`, `grad` and
        the drawings all use it. With `create_graph`, the local derivatives come from the
        op's rule applied to the parent Values (graphs; see the module docstring) and
        `upstream` may be a Value. An n-ary node whose shared factor times the upstream is
        0 (an inactive ReLU unit) adds exactly 0 to every parent.
        """
        parents, inner, outer = self._decode()
        if create_graph:
            return [(p, d, upstream * d) for p, d in zip(parents, self._rule_locals())]
        if outer is None:
            return [(p, d, upstream * d) for p, d in zip(parents, inner)]
        scaled = upstream * outer
        if scaled == 0.0:
            return [(p, outer * d, 0.0) for p, d in zip(parents, inner)]
        return [(p, outer * d, scaled * d) for p, d in zip(parents, inner)]

    def _rule_locals(self) -> tuple[Any, ...]:
        """The local derivatives from the op's rule at the parent Values (graphs)."""
        op = self._op
        rule = getattr(op, "rule", None)
        ps = self.parents
        if rule is None:
            return (math.nan,) * len(ps)
        arity = op.arity  # type: ignore[attr-defined]
        if arity == 1:
            return (rule(ps[0], self),)
        if arity == 2:
            return tuple(rule(ps[0], ps[1], self))
        return tuple(rule(ps, self))

    def _backward(self) -> None:
        """Apply this node's chain-rule step only: add self.grad · local to each parent's
        grad (micrograd's lecture calls it node by node; the arithmetic of one step of
        `backward_steps()`)."""
        for p, _, added in self.chain_rule(self.grad):
            p.grad += added

    def __repr__(self) -> str:
        name = f"label={self.label!r}, " if self.label else ""
        return f"Value({name}data={self.data:.6g}, grad={self.grad:.6g})"

    def __float__(self) -> float:
        return self.data

    def item(self) -> float:
        """The number, as `tensor.item()`."""
        return self.data

    def __bool__(self) -> bool:
        """False only for 0.0, as `bool(torch.tensor(0.))` (NaN is True)."""
        return self.data != 0.0

    # --- comparisons: plain bools on .data ------------------------------------------
    def __lt__(self, other: Operand) -> bool:
        return self.data < (other.data if type(other) is Value else other)  # type: ignore[union-attr, operator]

    def __le__(self, other: Operand) -> bool:
        return self.data <= (other.data if type(other) is Value else other)  # type: ignore[union-attr, operator]

    def __gt__(self, other: Operand) -> bool:
        return self.data > (other.data if type(other) is Value else other)  # type: ignore[union-attr, operator]

    def __ge__(self, other: Operand) -> bool:
        return self.data >= (other.data if type(other) is Value else other)  # type: ignore[union-attr, operator]

    # --- binary operators: value and local derivatives side by side -----------------
    def __add__(self, other: Operand) -> Value:
        if type(other) is not Value:
            other = lift(other)
        a, b = self.data, other.data
        # _d_add(a, b, out) inlined: this op is most of every graph (a test checks it)
        return new_node(a + b, ADD, self, 1.0, other, 1.0)

    def __mul__(self, other: Operand) -> Value:
        if type(other) is not Value:
            other = lift(other)
        a, b = self.data, other.data
        # _d_mul(a, b, out) inlined: this op is most of every graph (a test checks it)
        return new_node(a * b, MUL, self, b, other, a)

    def __sub__(self, other: Operand) -> Value:
        if type(other) is not Value:
            other = lift(other)
        a, b = self.data, other.data
        # _d_sub(a, b, out) inlined: this op is most of every graph (a test checks it)
        return new_node(a - b, SUB, self, 1.0, other, -1.0)

    def __truediv__(self, other: Operand) -> Value:
        if type(other) is not Value:
            other = lift(other)
        a, b = self.data, other.data
        if b == 0.0:
            raise ZeroDivisionError(f"division: divisor is zero ({a!r} / {b!r})")
        out = a / b
        da, db = _d_div(a, b, out)
        return new_node(out, DIV, self, da, other, db)

    def __pow__(self, other: Operand) -> Value:
        """x**n (number n): rule `_power_slope`. x**y (Value y): also d/dy = x^y·ln x."""
        x = self.data
        if type(other) is Value:
            out = _power(x, other.data)
            dx, dy = _d_pow(x, other.data, out)
            return new_node(out, POW, self, dx, other, dy)
        if isinstance(other, (int, float)) and not isinstance(other, bool):
            op = _POW_OPS.get(other) or _pow_op(float(other))
            out = _power(x, op.n)  # type: ignore[attr-defined]
            return new_node(out, op, self, op.rule(x, out))  # type: ignore[misc]
        return NotImplemented

    def __radd__(self, other: Operand) -> Value:
        return lift(other) + self

    def __rsub__(self, other: Operand) -> Value:
        return lift(other) - self

    def __rmul__(self, other: Operand) -> Value:
        return lift(other) * self

    def __rtruediv__(self, other: Operand) -> Value:
        return lift(other) / self

    def __rpow__(self, other: Operand) -> Value:
        return lift(other) ** self

    def __neg__(self) -> Value:
        return new_node(-self.data, NEG, self, -1.0)  # _d_neg inlined (a test checks it)

    def __pos__(self) -> Value:
        return self

    def __abs__(self) -> Value:
        return self.abs()

    # --- unary functions -------------------------------------------------------------
    def exp(self) -> Value:
        """e^x; rule `_d_exp`. Overflow (x > ~709.78) raises OverflowError."""
        x = self.data
        out = exp_any(x)
        return new_node(out, EXP, self, _d_exp(x, out))

    def log(self) -> Value:
        """Natural log; rule `_d_log`. x <= 0 raises ValueError; NaN gives NaN."""
        x = self.data
        if x <= 0.0:
            raise ValueError(f"log: input must be positive, got {x!r}")
        out = math.log(x)
        return new_node(out, LOG, self, _d_log(x, out))

    def sqrt(self) -> Value:
        """√x; rule `_d_sqrt`. x < 0 raises ValueError."""
        x = self.data
        if x < 0.0:
            raise ValueError(f"sqrt: input must be non-negative, got {x!r}")
        out = math.sqrt(x)
        return new_node(out, SQRT, self, _d_sqrt(x, out))

    def abs(self) -> Value:
        """|x|; rule `_d_abs`."""
        x = self.data
        out = abs(x)
        return new_node(out, ABS, self, _d_abs(x, out))

    def softplus(self) -> Value:
        """softplus(x) = ln(1 + e^x), computed as max(x,0) + ln(1 + e^-|x|) so it never
        overflows; rule `_d_softplus`."""
        x = self.data
        out = max(x, 0.0) + math.log1p(math.exp(-abs(x)))
        return new_node(out, SOFTPLUS, self, _d_softplus(x, out))

    def relu(self) -> Value:
        """max(0, x); rule `_d_relu`."""
        out, slope = relu(self.data)
        return new_node(out, RELU, self, slope)

    def tanh(self) -> Value:
        """tanh x; rule `_d_tanh`."""
        out, slope = tanh(self.data)
        return new_node(out, TANH, self, slope)

    def sigmoid(self) -> Value:
        """σ(x) = 1/(1+e^-x); rule `_d_sigmoid`."""
        out, slope = sigmoid(self.data)
        return new_node(out, SIGMOID, self, slope)

    # --- backpropagation -------------------------------------------------------------
    def backward(self, gradient: float = 1.0, create_graph: bool = False) -> None:
        """Set d(self)/d(node) · gradient on every node this one depends on.

        Seeds self.grad = gradient (1 by default), recomputes interior gradients from
        zero, and adds into leaves (a second call adds the same amounts again, as
        PyTorch accumulates). Concurrent calls from several threads run one after
        another (a lock), so none over-counts.

        With `create_graph=True` the gradients are also built as Values whose graph can
        be differentiated again: each leaf's `grad_value` (accumulating, like `.grad`),
        while `.grad` keeps its number (interior nodes too). As in PyTorch, a leaf then
        refers to its gradient's graph, which refers to the leaf: `zero_grad()` or
        `engine.grad` (which stores nothing) avoid keeping that cycle alive.
        """
        backprop.backward(self, gradient, create_graph)

    def backward_steps(self) -> Iterator[backprop.Step]:
        """The backward pass one chain-rule step at a time (see `backprop.Step`).

        Starts from zeroed gradients on every node of this graph, leaves included, so the
        steps show exactly this pass's arithmetic even after an earlier `backward()`."""
        return backprop.steps(self)

    def zero_grad(self) -> None:
        """Set grad to 0 on this node and everything it depends on (and drop leaves'
        `grad_value`, which, as in PyTorch, refers back to the leaf: a cycle)."""
        for v in backprop.order(self):
            v.grad = 0.0
            if v._a is None and type(v._op) is Op:
                v._op = str(v._op)


def new_node(
    data: float, op: str, a: Any, da: Any, b: Value | None = None, db: float = 0.0
) -> Value:
    """A new node: value `data` made by `op` from parent a (and b) with local derivative
    da (and db); for an n-ary node, a tuple of parents, a tuple of inner derivatives
    (None: all ones) and the outer factor db. Under `no_grad()` it is a leaf."""
    out = _new(Value)
    out.data = data
    out.grad = 0.0
    out.label = ""
    out._op = op
    if not _quiet or _grad_mode.enabled:
        out._a = a
        out._da = da
        out._b = b
        out._db = db
    else:
        out._a = out._b = None
        out._da = out._db = 0.0
    return out


def lift(x: Operand) -> Value:
    """A number as a constant leaf; anything else is TypeError naming its type."""
    return x if isinstance(x, Value) else Value(x)


# --- powers --------------------------------------------------------------------------


def _power(x: float, n: float) -> float:
    """x**n for floats, with errors that name pow."""
    if x < 0.0 and math.isfinite(n) and not n.is_integer():
        raise ValueError(f"pow: negative base {x!r} to the fractional power {n!r} is not real")
    if x == 0.0 and n < 0.0:
        raise ZeroDivisionError(f"pow: zero base to the negative power {n!r}")
    try:
        return x**n
    except OverflowError:
        raise OverflowError(f"pow: {x!r} ** {n!r} overflows a float") from None


def _power_slope(x: Number, n: Number) -> Any:
    """d x^n/dx = n·x^(n-1); 0 for n = 0 (as PyTorch), inf for 0^(n<1)."""
    if type(x) is Value or type(n) is Value:
        xv, nv = _num(x), _num(n)
        if nv == 0.0 or (xv == 0.0 and nv < 1.0):
            return _power_slope(xv, nv)  # a constant here
        return n * x ** (n - 1.0)
    if n == 0.0:
        return 0.0
    if x == 0.0 and n < 1.0:  # type: ignore[operator]
        return math.inf
    return n * _power(x, n - 1.0)  # type: ignore[operator, arg-type]


def _d_pow(x: Number, y: Number, out: Number) -> tuple[Any, Any]:
    """d x^y/dx = y·x^(y-1); d x^y/dy = x^y·ln x. PyTorch: ln of a negative base gives NaN;
    for x = 0 (y >= 0) it masks the exponent's derivative to 0."""
    xv = _num(x)
    if xv > 0.0:
        dy = out * log_any(x)
    elif xv == 0.0 and _num(y) >= 0.0:
        dy = 0.0
    else:
        dy = math.nan
    return _power_slope(x, y), dy


POW = Op("**", _d_pow, 2)
_POW_OPS: dict[float, Op] = {}


def _pow_op(n: float) -> Op:
    """The op `**n` for a number n, with its rule d x^n/dx = n·x^(n-1) (cached per n: the
    name and rule are made once, not per node)."""
    op = _POW_OPS.get(n)
    if op is None:

        def rule(x: Number, out: Number) -> Any:
            return _power_slope(x, n)

        op = Op(f"**{n:g}", rule)
        op.n = n  # type: ignore[attr-defined]
        if len(_POW_OPS) < 1024:  # a program sweeping exponents must not grow it forever
            _POW_OPS[n] = op
    return op
