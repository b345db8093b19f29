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
from functools import partial
from numbers import Real
from typing import Any, Union

from chainrule.engine import backprop
from chainrule.engine.grad_mode import mode as _grad_mode
from chainrule.engine.grad_mode import quiet as _quiet

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
    hand_made = False  # True: one of micrograd's op names on a `Value(data, _children, _op)`
    function: Any  # the engine.Function subclass that made the node, if any
    grad_value: Any  # on a leaf's (empty) name: its gradient as a Value (create_graph)

    def __new__(
        cls, name: str, rule: Callable[..., Any] | None, arity: int = 1, function: Any = None
    ) -> Op:
        op = super().__new__(cls, name)
        op.rule, op.arity, op.function = rule, arity, function
        return op

    def __reduce__(self) -> tuple[Any, ...]:
        """How `pickle`/`copy` rebuild an op: a shared op (`ADD`, `**2`...) by its name,
        so a copied graph shares them as the original does; any other (a `Function`'s,
        a leaf's name carrying `grad_value`) with its attributes."""
        for table in (_SHARED_OPS, _MICROGRAD_OPS):
            if table.get(str(self)) is self:
                return _shared_op, (str(self), table is _MICROGRAD_OPS)
        n = self.__dict__.get("n")
        if n is not None and _POW_OPS.get(n) is self:
            return _pow_op, (n,)
        return _rebuild_op, (str(self),), dict(self.__dict__)


def _shared_op(name: str, micrograd: bool = False) -> Op:
    return (_MICROGRAD_OPS if micrograd else _SHARED_OPS)[name]


def _rebuild_op(name: str) -> Op:
    return Op(name, None, 0)


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
    """d √x/dx = 1/(2√x); ±inf at ±0, as PyTorch. As a graph at ±0, 0.5·out**-1 with
    the zero-base power (`_zero_power`), so the higher derivatives are PyTorch's
    infinities (√x'' = -inf at 0, +inf at -0), not the 0 of a constant."""
    r = _num(out)
    if r != 0.0:
        return 0.5 / out
    if type(out) is Value:
        return 0.5 * _zero_power(out, -1.0)
    return math.copysign(math.inf, r)


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


ACTIVATIONS: dict[str, Callable[[float], tuple[float, float]]] = {
    "relu": relu,
    "tanh": tanh,
    "sigmoid": sigmoid,
    "identity": identity,
    "linear": identity,
}
"""The activations by name, each x ↦ (f(x), f'(x)) on floats: relu, tanh, sigmoid and
identity (also called linear). The fused neuron and the unary methods share them."""
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


def _d_round(x: Number, out: Number) -> Any:
    """d round(x)/dx = 0 (a step function; PyTorch's `round` backward is 0)."""
    return 0.0


ROUND = Op("round", _d_round)
POW = Op("**", None, 2)  # its rule, `_d_pow`, is set below the powers
_SHARED_OPS: dict[str, Op] = {
    op: op for op in (ADD, SUB, MUL, DIV, NEG, EXP, LOG, SQRT, ABS, SOFTPLUS, RELU, TANH)
}
_SHARED_OPS.update({op: op for op in (SIGMOID, ROUND, POW)})


# --- micrograd's `Value(data, _children, _op)` ----------------------------------------
def _micrograd(name: str, rule: Callable[..., Any], arity: int = 1) -> Op:
    op = Op(name, rule, arity)
    op.hand_made = True
    return op


# The op names micrograd's own ops (and its lecture's) give their nodes, with their
# derivative rules: a node built by hand under one of these names backpropagates as
# micrograd's would. Separate objects from ADD...: an engine-made node's `_backward`
# cannot be reassigned, a hand-made one's can.
_MICROGRAD_OPS: dict[str, Op] = {
    "+": _micrograd("+", _d_add, 2),
    "*": _micrograd("*", _d_mul, 2),
    "tanh": _micrograd("tanh", _d_tanh),
    "exp": _micrograd("exp", _d_exp),
    "ReLU": _micrograd("ReLU", _d_relu),
}


def _micrograd_op(name: str, parents: tuple[Value, ...]) -> Op | None:
    """The op micrograd means by `name` for these parents (`**n` included), or None."""
    op = _MICROGRAD_OPS.get(name)
    if op is not None:
        return op if len(parents) == op.arity else None
    if name.startswith("**") and len(parents) == 1:
        try:
            n = float(name[2:])
        except ValueError:
            return None
        return _micrograd(name, partial(_pow_rule, n))
    return None


class _UnknownParents(tuple):  # type: ignore[type-arg]
    """The parents of a hand-made node whose op's derivative is unknown. The traversal
    that starts every backward pass reads `node._a._a` of a non-tuple parent record; on
    this record that raises the error, before any gradient is touched, at no cost to
    other nodes. (A tuple subclass with a `__dict__`, for the op's name: only such nodes
    pay for it.)"""

    op_name = "?"

    @property
    def _a(self) -> None:
        raise _no_derivative(self.op_name, "has no derivative")


def _no_derivative(op: str, what: str) -> RuntimeError:
    return RuntimeError(
        f"backward: the op {str(op)!r} of a node made by Value(data, _children, _op) {what}: "
        f"chainrule knows micrograd's {', '.join(_MICROGRAD_OPS)} and '**n'; for another op, "
        "assign the node's _backward as micrograd's lecture does (for backward only), or "
        "define the op with its derivative as an engine.Function (see help(engine.Function))"
    )


class Value:
    """A scalar that remembers how it was computed.

    `Value(data, label="")`: `data` is any real number (int, float, Fraction, numpy real
    scalar); bool and non-numbers raise `TypeError`. `.data` and `.grad` are floats.

    micrograd's signature `Value(data, _children=(), _op="", label="")` is accepted: the
    node is recorded with those parents and that op name. Under micrograd's op names
    (`+`, `*`, `tanh`, `exp`, `**n`, `ReLU`) its local derivatives are micrograd's; under
    another name they are unknown until the lecture's `out._backward = _backward` is
    assigned (see `_set_backward`), and `backward()` before that raises, naming the op,
    rather than give a plausible wrong number. `engine.Function` defines an op with its
    derivative for every use, `create_graph` included.

    `int(v)` truncates as `int(tensor)`; `round(v)` is `torch.round` as a Value.
    `copy.deepcopy(v)` and `pickle` copy the graph v depends on (see `__reduce_ex__`).

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
        """micrograd's `Value(data, children, op)`: parents recorded; the local derivatives
        of micrograd's own op names (`_MICROGRAD_OPS`) from the parents' and this node's
        data, as its lecture's `_backward`s compute them; any other op's are unknown
        until a `_backward` is assigned (backward() before that is a clear error)."""
        if isinstance(children, str):  # Value(x, "name"): a label, as before micrograd's form
            self.label = children
            return
        parents = tuple(children)
        for p in parents:
            if not isinstance(p, Value):
                raise TypeError(f"Value: _children must be Values, got {type(p).__name__}")
        known = _micrograd_op(op, parents)
        if known is not None:
            self._op = known
            xs = [p.data for p in parents]
            local = known.rule(*xs, self.data)  # type: ignore[misc]  # known ops have rules
            if len(parents) == 1:
                self._a, self._da = parents[0], local
            else:
                self._a, self._da, self._b, self._db = parents[0], local[0], parents[1], local[1]
            return
        self._op = Op(op, None, 0)
        record = _UnknownParents(parents)
        record.op_name = op
        self._a, self._da, self._db = record, None, math.nan

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
        if type(a) is tuple or type(a) is _UnknownParents:
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
            raise _no_derivative(op, "has no derivative rule to build a graph from")
        arity = op.arity  # type: ignore[attr-defined]
        if arity == 1:
            return (rule(ps[0], self),)
        if arity == 2:
            return tuple(rule(ps[0], ps[1], self))
        return tuple(rule(ps, self))

    def _backward_step(self) -> None:
        """Apply this node's chain-rule step only: add self.grad · local to each parent's
        grad (micrograd's lecture calls it node by node; the arithmetic of one step of
        `backward_steps()`)."""
        if type(self._a) is _UnknownParents:
            raise _no_derivative(self._op, "has no derivative")
        for p, _, added in self.chain_rule(self.grad):
            p.grad += added

    def _get_backward(self) -> Callable[[], None]:
        return self._backward_step

    def _set_backward(self, fn: Callable[[], None]) -> None:
        """micrograd's `out._backward = _backward` on a node made by `Value(data,
        _children, _op)`: the closure is called once, with out.grad = 1 and the parents'
        grads at 0, to read d out/d parent (what it adds to each parent), and those
        numbers become the node's local derivatives (no closure is kept: that would cost
        every node a slot). Every grad is restored afterwards. A `_backward` is linear
        in out.grad, so this is exactly what calling it during backprop would add. The
        node has no derivative as a graph then (`create_graph` says so)."""
        if not callable(fn):
            raise TypeError(f"_backward must be a function, got {type(fn).__name__}")
        op = self._op
        if self._a is not None and getattr(op, "rule", 0) is not None and not op.hand_made:  # type: ignore[attr-defined]
            raise AttributeError(
                f"_backward: node {str(op)!r} was made by an engine op, whose derivative is "
                "built in; assign _backward only to nodes made by Value(data, _children, _op)"
            )
        parents = self.parents
        if not parents:
            return  # a leaf: micrograd's leaves' _backward does nothing either
        unique = list(dict.fromkeys(parents))
        saved = [p.grad for p in unique], self.grad
        try:
            for p in unique:
                p.grad = 0.0
            self.grad = 1.0
            fn()
            totals = {p: p.grad for p in unique}
        finally:
            for p, g in zip(unique, saved[0]):
                p.grad = g
            self.grad = saved[1]
        # a parent met twice (a + a) got both its contributions at once: keep the total on
        # its first edge
        local = tuple(totals.pop(p, 0.0) for p in parents)
        self._op = Op(str(op), None, 0)
        self._a, self._da, self._b, self._db = tuple(parents), local, None, 1.0

    _backward = property(
        _get_backward,
        _set_backward,
        doc="This node's chain-rule step as a function (micrograd's `_backward`): "
        "`o._backward()` adds o.grad · local to each parent's grad. Assignable on nodes "
        "made by `Value(data, _children, _op)` (see `_set_backward`).",
    )

    # --- copying and pickling: a graph copies with its structure -----------------------
    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:
        """For `pickle` and `copy.deepcopy`: the node's fields, its parents by reference
        (so shared nodes stay shared and `a + a` keeps one `a`). Saving a node saves its
        parents first, which the default would do by recursion, one level per node (a
        graph 100 ops deep would exceed Python's recursion limit); instead the first node
        saved lists every node it depends on, parents before children, so each is saved
        when its own parents already are. `_FLAT` marks those, which are saved plainly."""
        me = id(self)
        if me in _FLAT:
            _FLAT.discard(me)
            return _new_value, (type(self),), self.__getstate__()
        ancestors = _ancestors(self)
        ids = [id(v) for v in ancestors]
        _FLAT.update(ids)
        # _Unmark, saved after them all, clears the marks of those already saved before
        # (shared with an earlier object in the same pickle), which were never reduced
        return _new_value, (type(self), [*ancestors, _Unmark(ids)]), self.__getstate__()

    def __getstate__(self) -> tuple[Any, ...]:
        return (
            self.data,
            self.grad,
            self.label,
            self._op,
            self._a,
            self._da,
            self._b,
            self._db,
            getattr(self, "__dict__", None),  # a subclass's own attributes
        )

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        *fields, extra = state
        self.data, self.grad, self.label, self._op, self._a, self._da, self._b, self._db = fields
        if extra:
            self.__dict__.update(extra)

    def __copy__(self) -> Value:
        """A shallow copy: a new node with the same parents (and the same op)."""
        out = _new_value(type(self))
        out.__setstate__(self.__getstate__())
        return out

    def __repr__(self) -> str:
        name = f"label={self.label!r}, " if self.label else ""
        return f"Value({name}data={self.data:.6g}, grad={self.grad:.6g})"

    def __float__(self) -> float:
        return self.data

    def __int__(self) -> int:
        """The number truncated toward zero, as `int(torch.tensor(1.6))` == 1 (NaN and
        ±inf raise ValueError/OverflowError, as there)."""
        return int(self.data)

    def __round__(self, ndigits: int | None = None) -> Value:
        """round(v): the nearest integer, halves to even (Python's and `torch.round`'s
        rule), as a `Value` (PyTorch returns a tensor too; torch 2.13 float64 0-dim
        tensors have no `round()` builtin, so we follow `torch.round`). Its derivative is
        0 everywhere, as `torch.round`'s. `round(v, n)` rounds to n decimals (Python's
        correctly rounded `round(float, n)`). `int(v)` truncates; `round(v).item()` is
        the float."""
        out = round(self.data) if ndigits is None else round(self.data, ndigits)
        return new_node(float(out), ROUND, self, 0.0)

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


_FLAT: set[int] = set()  # ids of nodes being saved as part of another node's list


class _Unmark:
    """Saved last in a node's list of ancestors: its reduction removes their marks."""

    def __init__(self, ids: list[int]) -> None:
        self.ids = ids

    def __reduce__(self) -> tuple[Any, ...]:
        _FLAT.difference_update(self.ids)
        return type(None), ()


def _new_value(cls: type[Value], ancestors: object = None) -> Value:
    """An empty node for `pickle`/`copy` to fill in (`ancestors` were restored first)."""
    return _new(cls)


def _ancestors(root: Value) -> list[Value]:
    """Every node `root` depends on (not root), each after its parents: an iterative
    depth-first post-order over `parents` (which also reads hand-made nodes whose
    derivative is unknown, unlike backprop's traversal)."""
    post: list[Value] = []
    seen = {root}
    stack = [(root, iter(root.parents))]
    while stack:
        v, todo = stack[-1]
        for p in todo:
            if p not in seen:
                seen.add(p)
                stack.append((p, iter(p.parents)))
                break
        else:
            stack.pop()
            post.append(v)
    post.pop()  # root itself
    return post


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
    """x**n for floats, with errors that name pow. x**0.5 is √x, as PyTorch computes it
    (so (-0.0)**0.5 is -0.0 there and here)."""
    if n == 0.5 and x >= 0.0:
        return math.sqrt(x)
    if x < 0.0 and math.isfinite(n) and not n.is_integer():
        raise ValueError(f"pow: negative base {x!r} to the fractional power {n!r} is not real")
    if x == 0.0 and n < 0.0:
        raise ZeroDivisionError(f"pow: zero base to the negative power {n!r}")
    try:
        return x**n
    except OverflowError:
        raise OverflowError(f"pow: {x!r} ** {n!r} overflows a float") from None


def _zero_base_power(x: float, m: float) -> float:
    """x**m for x = ±0 as PyTorch computes it: C's pow (±inf for m < 0, the sign of x
    for odd integer m), except m = ±0.5, which PyTorch computes as sqrt/rsqrt (so
    (-0)**0.5 = -0 and (-0)**-0.5 = -inf)."""
    if m == 0.5:
        return x  # √±0 = ±0
    if m < 0.0:
        odd = m.is_integer() and m % 2.0 == 1.0
        return math.copysign(math.inf, x) if odd or m == -0.5 else math.inf
    return x**m


def _zero_power(x: Value, m: float) -> Value:
    """x**m as a node at x = ±0, where `**` refuses negative m: the zero-base powers that
    PyTorch's derivative n·x^(n-1) of x**n reaches (infinities), each with its own
    derivative m·x^(m-1), so every order follows PyTorch."""
    return new_node(_zero_base_power(x.data, m), _pow_op(m), x, _power_slope(x.data, m))


def _power_slope(x: Number, n: Number) -> Any:
    """d x^n/dx = n·x^(n-1); 0 for n = 0 (as PyTorch). At x = ±0, x^(n-1) is PyTorch's
    (`_zero_base_power`: ±inf for n < 1), also as a graph, for the higher derivatives."""
    if type(x) is Value or type(n) is Value:
        xv, nv = _num(x), _num(n)
        if nv == 0.0:
            return 0.0
        if xv == 0.0 and type(n) is not Value and n != 1.0:
            return n * _zero_power(x, n - 1.0)  # type: ignore[operator, arg-type]
        if xv == 0.0 and nv < 1.0:
            return _power_slope(xv, nv)  # a Value exponent: a constant here
        return n * x ** (n - 1.0)
    if n == 0.0:
        return 0.0
    if x == 0.0:
        return n * _zero_base_power(x, n - 1.0)  # type: ignore[operator, arg-type]
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


POW.rule = _d_pow
_POW_OPS: dict[float, Op] = {}


def _pow_rule(n: float, x: Number, out: Number) -> Any:
    """The rule of `**n`: d x^n/dx (module-level, so an op carrying it pickles)."""
    return _power_slope(x, n)


def _pow_op(n: float) -> Op:
    """The op `**n` for a number n, with its rule d x^n/dx = n·x^(n-1) (cached per n: the
    name and rule are made once, not per node)."""
    op = _POW_OPS.get(n)
    if op is None:
        op = Op(f"**{n:g}", partial(_pow_rule, n))
        op.n = n  # type: ignore[attr-defined]
        if len(_POW_OPS) < 1024:  # a program sweeping exponents must not grow it forever
            _POW_OPS[n] = op
    return op
