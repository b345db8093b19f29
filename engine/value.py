"""The `Value` node: one number in a computation graph, its record, and its ops.

Every node is one record: its value (`data`), its gradient (`grad`), its parents in the
order the op received them, the op that made it and the local derivative d(out)/d(parent)
of each parent, computed in the same place as the value. `backward()`, the step-through,
`_backward()`, `engine.grad` and the drawings in `viz` all read it through one reader,
`Value.chain_rule`. Each op's value and derivative rule are in `engine.ops` (powers in
`engine.powers`); for gradients of gradients (`create_graph=True`) `chain_rule` calls the
same rule with the parent `Value`s, so it returns the derivative as a graph:

    x = Value(0.5); y = x.tanh()
    y.local_grads              # (0.786...,): _d_tanh(0.5, tanh 0.5), floats
    y.chain_rule(Value(1.0), create_graph=True)  # _d_tanh(x, y): a Value built from y

Storage (why it looks like this): a unary or binary node keeps its parents in the slots
`_a`/`_b` and their local derivatives in `_da`/`_db`, so that a node is one allocation.
An n-ary node (`engine.fused`) keeps a tuple of parents in `_a`, a tuple of inner
derivatives in `_da` (`None` meaning all ones) and a shared outer factor in `_db`:
d(out)/dp_i = _db · _da[i]; a batched one (`engine.batched`) also its `Edges` in `_b` (a
layer's unit: its index in `_da`). A leaf's `_b` holds its gradient as a graph after
`backward(create_graph=True)`. Only `_decode` and `chain_rule` read this (and, for speed,
the traversal and the fast loop in `engine.backprop`, which a test checks against
`chain_rule`). A node refers only to its parents: graphs hold no reference cycles.

A node's number may be a numpy array over a batch (`engine.batched`; numpy is imported only
then). Elsewhere: hand-made nodes in `engine.handmade`, copying in `engine.copying`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from numbers import Real
from typing import Any, Union

from chainrule.engine import backprop, copying, handmade, ops, powers
from chainrule.engine.grad_mode import mode as _grad_mode
from chainrule.engine.grad_mode import quiet as _quiet
from chainrule.engine.ops import (
    ABS,
    ACTIVATIONS,
    ADD,
    DIV,
    EXP,
    LOG,
    MUL,
    NEG,
    RELU,
    ROUND,
    SIGMOID,
    SOFTPLUS,
    SQRT,
    SUB,
    TANH,
    Node,
    Op,
    as_number,
    exponent,
)

Operand = Union["Value", int, float]
Number = Union["Value", float]  # what a derivative rule receives and returns

_new = object.__new__
_RELU, _TANH, _SIGMOID = (ACTIVATIONS[a].scalar for a in ("relu", "tanh", "sigmoid"))


def _batched() -> Any:
    """`engine.batched`, imported when the first array appears (it needs numpy)."""
    from chainrule.engine import batched

    return batched


def _compared(other: object) -> Any:
    """The number a comparison reads: a Value's (scalar) data, or the other operand."""
    return other._scalar("a comparison") if isinstance(other, Value) else other


class Value(Node):
    """A number that remembers how it was computed.

    `Value(data, label="")`: `data` is any real number (int, float, Fraction, numpy real
    scalar), as a float; or a 1-D numpy array, one number per sample of a batch (a
    batched Value: `engine.batched`). Bool and non-numbers raise `TypeError`.

    micrograd's `Value(data, _children=(), _op="", label="")` is accepted: see
    `engine.handmade` (micrograd's op names backpropagate as micrograd's; another name
    raises on backward() until `_backward` is assigned). `engine.Function` defines an op
    with its derivative for every use, `create_graph` included.

    `int(v)` truncates as `int(tensor)`; `round(v)` is `torch.round` as a Value.
    `copy.deepcopy(v)` and `pickle` copy the graph v depends on. `<`, `<=`, `>`, `>=`
    compare `.data` and return a plain bool (no graph, as PyTorch's). `==` and `hash`
    stay identity-based, as for tensors: two nodes holding equal numbers are two nodes.
    A batched Value refuses bool, float and comparisons (reduce it with `.sum()` or
    `.mean()`, or read `v.data[i]`).
    """

    __slots__ = ("_a", "_b", "_da", "_db", "_op", "data", "grad", "label")

    data: Any  # a float, or a numpy array over a batch (`engine.batched`)
    grad: Any  # the same, for an interior node; a scalar leaf's is a float
    label: str
    _op: str
    # Typed Any: what they hold depends on the node's arity (see the module docstring).
    _a: Any  # Value | tuple[Value, ...] | None: the parent, or all parents of an n-ary node
    _b: Any  # Value | None: the second parent; on a leaf, its gradient as a graph
    _da: Any  # float | tuple[float, ...] | None: local derivative(s)
    _db: Any

    # numpy scalars and arrays defer to our reflected operators: np.int64(2) * Value(3) is
    # a Value, never numpy broadcasting over the Value as an object.
    __array_ufunc__ = None

    def __init__(
        self, data: object, _children: Iterable[Value] | str = (), _op: str = "", label: str = ""
    ) -> None:
        self.data = data if type(data) is float else as_number(data)
        self.grad = 0.0
        self.label = label
        self._op = _op
        self._a = self._b = None
        self._da = self._db = 0.0
        if isinstance(_children, str):  # Value(x, "name"): a label, as before micrograd's form
            self.label = _children
        elif _children:
            handmade.record(self, _children, _op)

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
        if type(a) is tuple or type(a) is handmade.UnknownParents:
            inner = self._da if type(self._da) is not int else self._b.inner(self._da)
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
        return self._b if self._a is None else None

    def _set_grad_value(self, g: Value) -> None:
        # Kept in the leaf's (free) second-parent slot: a slot of its own would cost every
        # node of every graph 8-16 bytes for a feature only leaves of a few graphs use.
        self._b = g

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
        if type(self._a) is tuple and self._b is not None:  # batched: sum for scalar parents
            local = self._rule_locals() if create_graph else [outer * d for d in inner]
            added = self._b.added
            return [(p, d, added(i, upstream * d)) for i, (p, d) in enumerate(zip(parents, local))]
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
        if rule is None or not isinstance(op, Op):
            raise handmade.no_derivative(op, "has no derivative rule to build a graph from")
        arity = op.arity
        if arity == 1:
            return (rule(ps[0], self),)
        if arity == 2:
            return tuple(rule(ps[0], ps[1], self))
        return tuple(rule(ps, self))

    _backward = property(
        handmade.get_backward,
        handmade.set_backward,
        doc="This node's chain-rule step as a function (micrograd's `_backward`): "
        "`o._backward()` adds o.grad · local to each parent's grad. Assignable on nodes "
        "made by `Value(data, _children, _op)` (see `engine.handmade.set_backward`).",
    )

    # --- copying and pickling: a graph copies with its structure (`engine.copying`) ----
    __reduce_ex__ = copying.reduce_node
    __getstate__ = copying.get_state
    __setstate__ = copying.set_state
    __copy__ = copying.shallow_copy

    # --- numbers out: a scalar's, as a 0-dim tensor's; a batch's refuse ----------------
    def _scalar(self, what: str) -> float:
        x = self.data
        if type(x) is not float:
            raise TypeError(
                f"{what} of a batched Value (one number per sample, {len(x)} samples) is "
                "ambiguous: reduce it first (.sum(), .mean()) or read one sample (v.data[i])"
            )
        return x

    def __repr__(self) -> str:
        name = f"label={self.label!r}, " if self.label else ""
        if type(self.data) is not float:
            return f"Value({name}batch of {len(self.data)}, data={self.data!r:.60})"
        return f"Value({name}data={self.data:.6g}, grad={self.grad:.6g})"

    def __float__(self) -> float:
        return self._scalar("float()")

    def __int__(self) -> int:
        """The number truncated toward zero, as `int(torch.tensor(1.6))` == 1 (NaN and
        ±inf raise ValueError/OverflowError, as there)."""
        return int(self._scalar("int()"))

    def __round__(self, ndigits: int | None = None) -> Value:
        """round(v): `torch.round` as a Value (halves to even; NaN and ±inf stay), with
        derivative 0 everywhere, as torch's. `round(v, n)`: n decimals. `int(v)` truncates."""
        if ndigits is None:
            return self._unary(ROUND)
        x = self.data
        if type(x) is float:
            return new_node(round(x, ndigits), ROUND, self, 0.0)
        return _batched().unary(self, ROUND, x.round(ndigits), 0.0)

    def item(self) -> float:
        """The number, as `tensor.item()`."""
        return self._scalar("item()")

    def __bool__(self) -> bool:
        """False only for 0.0, as `bool(torch.tensor(0.))` (NaN is True)."""
        return self._scalar("bool()") != 0.0

    # --- comparisons: plain bools on .data ------------------------------------------
    def __lt__(self, other: Operand) -> bool:
        return self._scalar("a comparison") < _compared(other)

    def __le__(self, other: Operand) -> bool:
        return self._scalar("a comparison") <= _compared(other)

    def __gt__(self, other: Operand) -> bool:
        return self._scalar("a comparison") > _compared(other)

    def __ge__(self, other: Operand) -> bool:
        return self._scalar("a comparison") >= _compared(other)

    def sample(self, i: int) -> tuple[float, float, tuple[tuple[Value, float], ...]]:
        """Sample i of a batched graph at this node: (its number, its gradient, (parent,
        local derivative) per parent): what the node of sample i's own graph holds. A
        scalar node (a parameter) gives its own numbers. See `engine.batched.sample`."""
        return _batched().sample(self, i)  # type: ignore[no-any-return]

    # --- reductions over a batch --------------------------------------------------------
    def sum(self) -> Value:
        """Σ over the batch's samples, a scalar Value (a scalar Value is its own sum)."""
        return self if type(self.data) is float else _batched().reduce(self, "sum")

    def mean(self) -> Value:
        """The mean over the batch's samples, a scalar Value (a scalar is its own mean)."""
        return self if type(self.data) is float else _batched().reduce(self, "mean")

    # --- binary operators: value and local derivatives side by side -----------------
    def __add__(self, other: Operand) -> Value:
        if type(other) is not Value:
            other = lift(other)
        out = self.data + other.data
        if type(out) is not float:
            return _batched().node(out, ADD, (self, other), (1.0, 1.0))
        # _d_add(a, b, out) inlined: this op is most of every graph (a test checks it)
        return new_node(out, ADD, self, 1.0, other, 1.0)

    def __mul__(self, other: Operand) -> Value:
        if type(other) is not Value:
            other = lift(other)
        a, b = self.data, other.data
        out = a * b
        if type(out) is not float:
            return _batched().node(out, MUL, (self, other), (b, a))
        # _d_mul(a, b, out) inlined: this op is most of every graph (a test checks it)
        return new_node(out, MUL, self, b, other, a)

    def __sub__(self, other: Operand) -> Value:
        if type(other) is not Value:
            other = lift(other)
        out = self.data - other.data
        if type(out) is not float:
            return _batched().node(out, SUB, (self, other), (1.0, -1.0))
        # _d_sub(a, b, out) inlined: this op is most of every graph (a test checks it)
        return new_node(out, SUB, self, 1.0, other, -1.0)

    def __truediv__(self, other: Operand) -> Value:
        if type(other) is not Value:
            other = lift(other)
        a, b = self.data, other.data
        if type(a) is not float or type(b) is not float:
            return _batched().binary(DIV, self, other)
        out, (da, db) = ops._div(a, b)
        return new_node(out, DIV, self, da, other, db)

    def __pow__(self, other: Operand) -> Value:
        """x**n (number n): rule `powers.power_slope`. x**y (Value y): also d/dy = x^y·ln x
        (`powers.d_pow`)."""
        x = self.data
        if type(other) is Value or type(other).__name__ == "ndarray":
            return self._pow_value(lift(other))
        if type(other) is float or type(other) is int:
            op = powers.POW_OPS.get(other) or powers.pow_op(exponent(other))
        elif isinstance(other, Real) and not isinstance(other, bool):
            op = powers.pow_op(exponent(other))  # numpy's scalars, Fraction...
        else:
            return NotImplemented
        out = powers.power(x, op.n)
        if type(out) is not float:
            return _batched().unary(self, op, out, powers.power_slope(x, op.n))
        return new_node(out, op, self, powers.power_slope(x, op.n))

    def _pow_value(self, other: Value) -> Value:
        """x**y for a Value y."""
        out, (dx, dy) = powers.POW.forward(self.data, other.data)  # type: ignore[misc]
        if type(out) is not float:
            return _batched().node(out, powers.POW, (self, other), (dx, dy))
        return new_node(out, powers.POW, self, dx, other, dy)

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
        out = -self.data
        if type(out) is not float:
            return _batched().unary(self, NEG, out, -1.0)
        return new_node(out, NEG, self, -1.0)  # _d_neg inlined (a test checks it)

    def __pos__(self) -> Value:
        return self

    def __abs__(self) -> Value:
        return self.abs()

    # --- unary functions: value and derivative from `engine.ops` ----------------------
    def _unary(self, op: Op) -> Value:
        out, slope = op.forward(self.data)  # type: ignore[misc]  # the unary ops have one
        if type(out) is not float:
            return _batched().unary(self, op, out, slope)
        return new_node(out, op, self, slope)

    def exp(self) -> Value:
        """e^x; rule `ops._d_exp`. Overflow (x > ~709.78) raises OverflowError."""
        return self._unary(EXP)

    def log(self) -> Value:
        """Natural log; rule `ops._d_log`. x <= 0 raises ValueError; NaN gives NaN."""
        return self._unary(LOG)

    def sqrt(self) -> Value:
        """√x; rule `ops._d_sqrt`. x < 0 raises ValueError."""
        return self._unary(SQRT)

    def abs(self) -> Value:
        """|x|; rule `ops._d_abs`."""
        return self._unary(ABS)

    def softplus(self) -> Value:
        """softplus(x) = ln(1 + e^x), which never overflows; rule `ops._d_softplus`."""
        return self._unary(SOFTPLUS)

    def _activation(self, op: Op, scalar: Callable[[float], tuple[float, float]]) -> Value:
        x = self.data
        if type(x) is not float:
            return _batched().unary(self, op, *ACTIVATIONS[op].array(x))
        out, slope = scalar(x)
        return new_node(out, op, self, slope)

    def relu(self) -> Value:
        """max(0, x); rule `ops._d_relu`."""
        return self._activation(RELU, _RELU)

    def tanh(self) -> Value:
        """tanh x; rule `ops._d_tanh`."""
        return self._activation(TANH, _TANH)

    def sigmoid(self) -> Value:
        """σ(x) = 1/(1+e^-x); rule `ops._d_sigmoid`."""
        return self._activation(SIGMOID, _SIGMOID)

    # --- backpropagation -------------------------------------------------------------
    def backward(self, gradient: float = 1.0, create_graph: bool = False) -> None:
        """Set d(self)/d(node) · gradient on every node this one depends on.

        Seeds self.grad = gradient (1 by default; a batched Value needs an array of its
        shape, as PyTorch), recomputes interior gradients from zero, and adds into leaves
        (a second call adds the same amounts again, as PyTorch accumulates). Concurrent
        calls from several threads run one after another (a lock).

        With `create_graph=True` the gradients are also built as Values whose graph can
        be differentiated again: each leaf's `grad_value` (accumulating, like `.grad`),
        while `.grad` keeps its number (interior nodes too). As in PyTorch, a leaf then
        refers to its gradient's graph, which refers to the leaf: `zero_grad()` or
        `engine.grad` (which stores nothing) avoid keeping that cycle alive.
        """
        backprop.backward(self, gradient, create_graph)

    def backward_steps(self, sample: int | None = None) -> Iterator[backprop.Step]:
        """The backward pass one chain-rule step at a time (see `backprop.Step`).

        Starts from zeroed gradients on every node of this graph, leaves included, so the
        steps show exactly this pass's arithmetic even after an earlier `backward()`. On a
        batched graph, `sample=k` gives sample k's own pass, rooted at its own loss term,
        with its numbers, and writes no gradient (see `engine.sampled`)."""
        if sample is None:
            return backprop.steps(self)
        from chainrule.engine.sampled import sample_steps

        return sample_steps(self, sample)

    def zero_grad(self) -> None:
        """Set grad to 0 on this node and everything it depends on (and drop leaves'
        `grad_value`, which, as in PyTorch, refers back to the leaf: a cycle)."""
        for v in backprop.order(self):
            v.grad = 0.0
            if v._a is None:
                v._b = None


def new_node(data: Any, op: str, a: Any, da: Any, b: Any = None, db: Any = 0.0) -> Value:
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
