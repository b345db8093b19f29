"""The elementary ops: each op's name, its value and its local derivative, side by side.

Every op is an `Op`: its name (a `str`, so `node.op == "tanh"` reads as before) and its
derivative rule, a small function of the op's inputs and output written with arithmetic
and the helpers `exp_any`/`log_any`/`sigmoid_any`/`num`, so that one rule serves three
kinds of number:

- floats, on the forward pass of a scalar graph (the stored local derivative);
- numpy arrays over a batch, on the forward pass of a batched graph (elementwise: a rule
  that branches on its input, like relu's, has an elementwise form here);
- `Value`s, for gradients of gradients (`create_graph=True`): the rule then returns the
  local derivative as a graph that can be differentiated again.

A derivative that is piecewise constant (relu, abs, round) comes out as plain numbers in
every case, so its own derivative is 0, as PyTorch's (relu'' = 0).

This module knows `Value` only as `Node`, its base class (value.py imports this one).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from numbers import Real
from typing import TYPE_CHECKING, Any


class Node:
    """The base class of `Value` (so the rules here can tell a node from a number)."""

    __slots__ = ()
    data: Any

    if TYPE_CHECKING:  # Value's ops that the rules call

        def exp(self) -> Any: ...
        def log(self) -> Any: ...
        def sigmoid(self) -> Any: ...


class Op(str):
    """An op's name carrying the op's derivative rule, for derivatives as graphs.

    `rule` is called with the parents and the output: `rule(x, out)` for a unary op
    (returns one derivative), `rule(a, b, out)` for a binary op (returns two),
    `rule(parents, out)` for an n-ary op (`arity` 0; returns one per parent). `rule` is
    None for a node made by `Value(data, _children, _op)` whose derivative is unknown.
    `function` is the `engine.Function` subclass that made the node, if any; `n` the
    exponent of a power `**n`.
    """

    rule: Callable[..., Any] | None
    arity: int
    hand_made = False  # True: one of micrograd's op names on a `Value(data, _children, _op)`
    function: Any = None
    n: float = math.nan
    # x ↦ (value, slope) for a unary op, (a, b) ↦ (value, (slopes)) for a binary one
    forward: Callable[..., tuple[Any, Any]] | None = None

    def __new__(
        cls, name: str, rule: Callable[..., Any] | None, arity: int = 1, function: Any = None
    ) -> Op:
        op = super().__new__(cls, name)
        op.rule, op.arity = rule, arity
        if function is not None:
            op.function = function
        return op

    def __reduce__(self) -> tuple[Any, ...]:
        """How `pickle`/`copy` rebuild an op: a shared op (`ADD`, `**2`...) by its name,
        so a copied graph shares them as the original does; any other (a `Function`'s)
        with its attributes."""
        from chainrule.engine import handmade, powers

        for table in (SHARED_OPS, handmade.MICROGRAD_OPS):
            if table.get(str(self)) is self:
                return shared_op, (str(self), table is handmade.MICROGRAD_OPS)
        if powers.POW_OPS.get(self.n) is self:
            return powers.pow_op, (self.n,)
        return _rebuild_op, (str(self),), dict(self.__dict__)


def shared_op(name: str, micrograd: bool = False) -> Op:
    from chainrule.engine import handmade

    return (handmade.MICROGRAD_OPS if micrograd else SHARED_OPS)[name]


def _rebuild_op(name: str) -> Op:
    return Op(name, None, 0)


def as_number(data: object) -> Any:
    """Convert a real number to float (a numpy array to a batch's array: `batched.as_batch`);
    refuse bool, complex, strings and the rest."""
    if isinstance(data, bool) or type(data).__name__ == "bool_":
        raise TypeError(
            "Value data must be a real number, got bool; write 1.0/0.0 if you mean a number"
        )
    if isinstance(data, Real):
        return float(data)
    if type(data).__name__ == "ndarray":
        from chainrule.engine.batched import as_batch

        array: Any = data
        return as_batch(array) if array.ndim else as_number(array.item())
    raise TypeError(f"Value data must be a real number, got {type(data).__name__}")


def exponent(n: Real | float) -> float:
    """A power's exponent as a float; one too large for a float (10**400) is an
    OverflowError naming pow."""
    try:
        return float(n)
    except OverflowError:
        raise OverflowError(f"pow: the exponent {n!r:.40} does not fit in a float") from None


# --- numbers of three kinds: float, numpy array over a batch, Value -------------------


def num(x: Any) -> Any:
    """The number in x: a Value's data; a float or an array as it is."""
    return x.data if isinstance(x, Node) else x


def is_array(x: Any) -> bool:
    """True for a batch's numbers (a numpy array), False for a float or a node."""
    return type(x) is not float and not isinstance(x, Node)


def exp_any(x: Any, op: str = "exp") -> Any:
    """e**x for a float, an array (elementwise) or a Value (then a graph node); overflow
    raises OverflowError naming `op` (a batch's, the first sample that overflows)."""
    if type(x) is float:
        try:
            return math.exp(x)
        except OverflowError:
            raise OverflowError(
                f"{op}: e**{x!r} overflows a float (largest is about e**709.78)"
            ) from None
    if isinstance(x, Node):
        return x.exp()
    import numpy as np

    with np.errstate(over="ignore"):
        out = np.exp(x)
    bad = np.isinf(out) & np.isfinite(x)
    if bad.any():
        i = int(np.argmax(bad))
        raise OverflowError(f"{op}: e**{float(x[i])!r} overflows a float (sample {i})")
    return out


def log_any(x: Any) -> Any:
    """ln x for a float, an array or a Value."""
    if isinstance(x, Node):
        return x.log()
    if type(x) is float:
        return math.log(x)
    import numpy as np

    return np.log(x)


def sigmoid_any(x: Any) -> Any:
    """σ(x) for a float, an array or a Value. exp is only ever taken of -|x|, so it never
    overflows."""
    if type(x) is float:
        if x >= 0.0:
            return 1.0 / (1.0 + math.exp(-x))
        e = math.exp(x)
        return e / (1.0 + e)
    if isinstance(x, Node):
        return x.sigmoid()
    import numpy as np

    e = np.exp(-np.abs(x))
    return np.where(x >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))


def _step(x: Any, where: Callable[[Any], Any], high: float, low: float) -> Any:
    """`high` where `where(x)` holds, else `low`: a piecewise-constant derivative, for a
    float or elementwise for an array (a Value's number is used: the result is constant)."""
    x = num(x)
    if type(x) is float:
        return high if where(x) else low
    import numpy as np

    return np.where(where(x), high, low)


# --- the ops: value and derivative, side by side -------------------------------------


def _d_add(a: Any, b: Any, out: Any) -> tuple[Any, Any]:
    """d(a+b)/da = 1, d(a+b)/db = 1."""
    return 1.0, 1.0


def _d_sub(a: Any, b: Any, out: Any) -> tuple[Any, Any]:
    """d(a-b)/da = 1, d(a-b)/db = -1."""
    return 1.0, -1.0


def _d_mul(a: Any, b: Any, out: Any) -> tuple[Any, Any]:
    """d(ab)/da = b, d(ab)/db = a."""
    return b, a


def _d_div(a: Any, b: Any, out: Any) -> tuple[Any, Any]:
    """d(a/b)/da = 1/b, d(a/b)/db = -a/b², as -(a/b)/b, which cannot overflow b²."""
    return 1.0 / b, -out / b


def _d_neg(x: Any, out: Any) -> Any:
    """d(-x)/dx = -1."""
    return -1.0


def _d_exp(x: Any, out: Any) -> Any:
    """d e^x/dx = e^x."""
    return out


def _d_log(x: Any, out: Any) -> Any:
    """d ln x/dx = 1/x."""
    return 1.0 / x


def _d_sqrt(x: Any, out: Any) -> Any:
    """d √x/dx = 1/(2√x); ±inf at ±0, as PyTorch. As a graph at ±0, 0.5·out**-1 with
    the zero-base power (`powers.zero_power`), so the higher derivatives are PyTorch's
    infinities (√x'' = -inf at 0, +inf at -0), not the 0 of a constant."""
    r = num(out)
    if isinstance(out, Node) and (r == 0.0 if type(r) is float else not r.all()):
        from chainrule.engine.powers import zero_power  # at ±0 (for a batch: some sample)

        return 0.5 * zero_power(out, -1.0)
    if type(r) is float:
        return 0.5 / out if r != 0.0 else math.copysign(math.inf, r)
    import numpy as np  # a batch: 0.5/out is ±inf at ±0 elementwise

    with np.errstate(divide="ignore"):
        return 0.5 / out


def _d_abs(x: Any, out: Any) -> Any:
    """d|x|/dx = sign(x), 0 at x = 0 and at NaN (as PyTorch); a constant."""
    return _step(x, lambda v: v > 0.0, 1.0, 0.0) - _step(x, lambda v: v < 0.0, 1.0, 0.0)


def _d_softplus(x: Any, out: Any) -> Any:
    """d ln(1 + e^x)/dx = σ(x)."""
    return sigmoid_any(x)


def _d_relu(x: Any, out: Any) -> Any:
    """d relu/dx = 1 where out > 0 (and NaN passes, as PyTorch), else 0; a constant, so
    relu'' = 0. Read from the output, as PyTorch does, so a fused node needs no x."""
    return _step(out, lambda v: v <= 0.0, 0.0, 1.0)


def _d_tanh(x: Any, out: Any) -> Any:
    """d tanh(x)/dx = 1 - tanh²x, as (1 - t)(1 + t): 1 - t·t cancels near |t| = 1."""
    return (1.0 - out) * (1.0 + out)


def _d_sigmoid(x: Any, out: Any) -> Any:
    """dσ/dx = σ(1 - σ)."""
    return out * (1.0 - out)


def _d_identity(x: Any, out: Any) -> Any:
    """d x/dx = 1."""
    return 1.0


def _d_round(x: Any, out: Any) -> Any:
    """d round(x)/dx = 0 (a step function; PyTorch's `round` backward is 0)."""
    return 0.0


# --- unary forwards: x ↦ (value, local derivative), for a float or elementwise --------


def refuse(x: Any, bad: Callable[[Any], Any], error: type[Exception], message: str) -> None:
    """Raise `error(message)` (formatted with x) if `bad(x)`; for a batch, naming the
    first sample at fault. The checks a per-sample graph makes, made on the batch."""
    if type(x) is float:
        if bad(x):
            raise error(message.format(x))
        return
    mask = bad(x)
    if mask.any():
        import numpy as np

        i = int(np.argmax(mask))
        raise error(message.format(float(x[i])) + f" (sample {i})")


def _add(a: Any, b: Any) -> tuple[Any, Any]:
    out = a + b
    return out, _d_add(a, b, out)


def _sub(a: Any, b: Any) -> tuple[Any, Any]:
    out = a - b
    return out, _d_sub(a, b, out)


def _mul(a: Any, b: Any) -> tuple[Any, Any]:
    out = a * b
    return out, _d_mul(a, b, out)


def _div(a: Any, b: Any) -> tuple[Any, Any]:
    refuse(b, lambda v: v == 0.0, ZeroDivisionError, "division: divisor is zero ({!r})")
    out = a / b
    return out, _d_div(a, b, out)


def _neg(x: Any) -> tuple[Any, Any]:
    return -x, _d_neg(x, -x)


def _exp(x: Any) -> tuple[Any, Any]:
    out = exp_any(x)  # overflow (x > ~709.78) raises OverflowError
    return out, _d_exp(x, out)


def _log(x: Any) -> tuple[Any, Any]:
    refuse(x, lambda v: v <= 0.0, ValueError, "log: input must be positive, got {!r}")
    out = log_any(x)  # NaN gives NaN
    return out, _d_log(x, out)


def _sqrt(x: Any) -> tuple[Any, Any]:
    refuse(x, lambda v: v < 0.0, ValueError, "sqrt: input must be non-negative, got {!r}")
    if type(x) is float:
        out = math.sqrt(x)
    else:
        import numpy as np

        out = np.sqrt(x)
    return out, _d_sqrt(x, out)


def _abs(x: Any) -> tuple[Any, Any]:
    out = abs(x)
    return out, _d_abs(x, out)


def _softplus(x: Any) -> tuple[Any, Any]:
    """ln(1 + e^x) as max(x, 0) + ln(1 + e^-|x|), which never overflows."""
    if type(x) is float:
        out = max(x, 0.0) + math.log1p(math.exp(-abs(x)))
    else:
        import numpy as np

        out = np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))
    return out, _d_softplus(x, out)


def _round(x: Any) -> tuple[Any, Any]:
    """The nearest integer, halves to even (Python's and `torch.round`'s rule); NaN and
    ±inf stay as they are, as in torch.round."""
    if type(x) is float:
        # round(-0.4) is the int 0: its sign comes back from x, as C's rint keeps it
        out = math.copysign(float(round(x)), x) if math.isfinite(x) else x
    else:
        import numpy as np

        out = np.round(x)
    return out, _d_round(x, out)


ADD, SUB, MUL, DIV = Op("+", _d_add, 2), Op("-", _d_sub, 2), Op("*", _d_mul, 2), Op("/", _d_div, 2)
NEG, EXP, LOG, SQRT = Op("neg", _d_neg), Op("exp", _d_exp), Op("log", _d_log), Op("sqrt", _d_sqrt)
ABS, SOFTPLUS, RELU = Op("abs", _d_abs), Op("softplus", _d_softplus), Op("relu", _d_relu)
TANH, SIGMOID, ROUND = Op("tanh", _d_tanh), Op("sigmoid", _d_sigmoid), Op("round", _d_round)
for _op, _forward in (
    (ADD, _add), (SUB, _sub), (MUL, _mul), (DIV, _div), (NEG, _neg), (EXP, _exp),
    (LOG, _log), (SQRT, _sqrt), (ABS, _abs), (SOFTPLUS, _softplus), (ROUND, _round),
):  # fmt: skip
    _op.forward = _forward
SHARED_OPS: dict[str, Op] = {
    op: op for op in (ADD, SUB, MUL, DIV, NEG, EXP, LOG, SQRT, ABS, SOFTPLUS, RELU, TANH)
}
SHARED_OPS.update({op: op for op in (SIGMOID, ROUND)})


# --- activations: the one table (the fused neuron, nn, viz and the playground read it) --


def _relu(x: float) -> tuple[float, float]:
    # _d_relu(x, out) inlined: relu is in most networks' every unit (a test checks it)
    return (0.0, 0.0) if x <= 0.0 else (x, 1.0)


def _tanh(x: float) -> tuple[float, float]:
    t = math.tanh(x)  # saturates at ±1, never overflows
    return t, _d_tanh(x, t)


def _sigmoid(x: Any) -> tuple[Any, Any]:
    """(σ, σ') for a float, or elementwise for an array (sigmoid_any takes both)."""
    s = sigmoid_any(x)
    return s, _d_sigmoid(x, s)


def _identity(x: float) -> tuple[float, float]:
    return x, 1.0


def _relu_array(z: Any) -> tuple[Any, Any]:
    import numpy as np

    off = z <= 0.0  # NaN is not: it passes with slope 1, as in `_d_relu`
    return np.where(off, 0.0, z), np.where(off, 0.0, 1.0)


def _tanh_array(z: Any) -> tuple[Any, Any]:
    import numpy as np

    t = np.tanh(z)
    return t, _d_tanh(z, t)


def _identity_array(z: Any) -> tuple[Any, Any]:
    import numpy as np

    return z, np.ones_like(z)


@dataclass(frozen=True)
class Nonlinearity:
    """An activation f: `scalar(x)` and `array(z)` give (f, f') for a float and, elementwise,
    for a numpy array; `rule(x, out)` is f' from the output (for graphs); `op` the op."""

    name: str
    scalar: Callable[[float], tuple[float, float]]
    array: Callable[[Any], tuple[Any, Any]]
    rule: Callable[[Any, Any], Any]
    op: Op | None  # None for the identity (no node)

    def __call__(self, x: float) -> tuple[float, float]:
        return self.scalar(x)


_IDENTITY = Nonlinearity("identity", _identity, _identity_array, _d_identity, None)
ACTIVATIONS: dict[str, Nonlinearity] = {
    "relu": Nonlinearity("relu", _relu, _relu_array, _d_relu, RELU),
    "tanh": Nonlinearity("tanh", _tanh, _tanh_array, _d_tanh, TANH),
    "sigmoid": Nonlinearity("sigmoid", _sigmoid, _sigmoid, _d_sigmoid, SIGMOID),
    "identity": _IDENTITY,
    "linear": _IDENTITY,
}
"""The activations by name, each x ↦ (f(x), f'(x)) on floats (and elementwise on arrays):
relu, tanh, sigmoid and identity (also called linear). The fused neuron, the unary methods
and nn's numpy forward share them."""
