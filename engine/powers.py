"""Powers x**n and x**y: value and derivative, with PyTorch's numbers at x = ±0.

d x^n/dx = n·x^(n-1) (0 for n = 0); d x^y/dy = x^y·ln x. At a zero base PyTorch follows
C's pow (±inf for negative powers, the sign of x for odd integer ones), except that it
computes x**0.5 and x**-0.5 as sqrt and rsqrt (so (-0)**0.5 = -0 and (-0)**-0.5 = -inf);
these forms reach higher derivatives too, so each of them is a node with its own rule.
Every function takes a float, or a batch's numpy array (elementwise), or for the rules a
`Value` (a graph, for `create_graph`).
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any

from chainrule.engine.ops import Node, Op, is_array, log_any, num


def power(x: Any, n: float) -> Any:
    """x**n for a float or an array x and a float n, with errors that name pow (for a
    batch: the first sample at fault). x**0.5 is √x, as PyTorch computes it."""
    if type(x) is not float or type(n) is not float:
        return _power_array(x, n)
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


def _power_array(x: Any, n: Any) -> Any:
    """x**n elementwise (either may be an array), with the checks of `power`."""
    import numpy as np

    x, n = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(n, dtype=float))

    def refuse(bad: Any, error: type[Exception], what: str) -> None:
        if bad.any():
            i = int(np.argmax(bad))
            raise error("pow: " + what.format(x=float(x[i]), n=float(n[i])) + f" (sample {i})")

    fractional = np.isfinite(n) & (n != np.floor(n))
    refuse(
        (x < 0.0) & fractional,
        ValueError,
        "negative base {x!r} to the fractional power {n!r} is not real",
    )
    refuse((x == 0.0) & (n < 0.0), ZeroDivisionError, "zero base to the negative power {n!r}")
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.where((n == 0.5) & (x >= 0.0), np.sqrt(np.abs(x)), x**n)
    out = np.where((n == 0.5) & (x == 0.0), x, out)  # √±0 = ±0, as PyTorch's sqrt
    overflow = np.isinf(out) & np.isfinite(x) & np.isfinite(n)
    refuse(overflow, OverflowError, "{x!r} ** {n!r} overflows a float")
    return out


def zero_base_power(x: Any, m: float) -> Any:
    """x**m for x = ±0 (elementwise for an array of zeros) as PyTorch computes it."""
    if m == 0.5:
        return x  # √±0 = ±0
    if m < 0.0:
        odd = m.is_integer() and m % 2.0 == 1.0
        if not (odd or m == -0.5):
            return math.inf if type(x) is float else x * 0.0 + math.inf
        if type(x) is float:
            return math.copysign(math.inf, x)
        import numpy as np

        return np.copysign(math.inf, x)
    return x**m


def zero_power(x: Any, m: float) -> Any:
    """x**m as a node at x = ±0, where `**` refuses negative m: the zero-base powers that
    PyTorch's derivative n·x^(n-1) of x**n reaches (infinities), each with its own
    derivative m·x^(m-1), so every order follows PyTorch. For a batch, elementwise: the
    zero-base power where a sample is ±0, x**m elsewhere."""
    from chainrule.engine.value import new_node

    xd = x.data
    if type(xd) is float:
        return new_node(zero_base_power(xd, m), pow_op(m), x, power_slope(xd, m))
    import numpy as np
    from chainrule.engine import batched

    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        data = np.where(xd == 0.0, zero_base_power(xd, m), np.power(xd, m))
    return batched.unary(x, pow_op(m), data, power_slope(xd, m))


def power_slope(x: Any, n: Any) -> Any:
    """d x^n/dx = n·x^(n-1); 0 for n = 0 (as PyTorch). At x = ±0, x^(n-1) is PyTorch's
    (`zero_base_power`: ±inf for n < 1), also as a graph, for the higher derivatives."""
    if isinstance(x, Node) or isinstance(n, Node):
        xv, nv = num(x), num(n)
        if is_array(xv) or is_array(nv):
            if type(nv) is float and nv == 0.0:
                return 0.0
            if (xv == 0.0).any() if is_array(xv) else xv == 0.0:
                if isinstance(n, Node) or is_array(nv):
                    raise ValueError(
                        "pow: the derivative as a graph at a batched 0 needs a number exponent"
                    )
                if n != 1.0:
                    return n * zero_power(x, n - 1.0)  # elementwise: PyTorch's infinities
        elif nv == 0.0:
            return 0.0
        elif xv == 0.0 and not isinstance(n, Node) and n != 1.0:
            return n * zero_power(x, n - 1.0)
        elif xv == 0.0 and nv < 1.0:
            return power_slope(xv, nv)  # a Value exponent: a constant here
        return n * x ** (n - 1.0)
    if type(x) is not float or type(n) is not float:
        return _power_slope_array(x, n)
    if n == 0.0:
        return 0.0
    if x == 0.0:
        return n * zero_base_power(x, n - 1.0)
    return n * power(x, n - 1.0)


def _power_slope_array(x: Any, n: Any) -> Any:
    import numpy as np

    x, n = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(n, dtype=float))
    out = np.zeros(x.shape)
    for i in np.flatnonzero((n != 0.0) & (x == 0.0)):  # rare: the zero base, one by one
        out[i] = n[i] * zero_base_power(float(x[i]), float(n[i]) - 1.0)
    rest = (n != 0.0) & (x != 0.0)
    with np.errstate(over="ignore", invalid="ignore"):
        out[rest] = n[rest] * np.power(x[rest], n[rest] - 1.0)
    return out


def d_pow(x: Any, y: Any, out: Any) -> tuple[Any, Any]:
    """d x^y/dx = y·x^(y-1); d x^y/dy = x^y·ln x. PyTorch: ln of a negative base gives NaN;
    for x = 0 (y >= 0) it masks the exponent's derivative to 0."""
    xv, yv = num(x), num(y)
    if is_array(xv) or is_array(yv):
        if isinstance(x, Node) or isinstance(y, Node):
            raise ValueError("pow: a batched Value exponent has no derivative as a graph")
        import numpy as np

        logs = np.log(np.where(xv > 0.0, xv, 1.0))
        dys = np.where(xv > 0.0, out * logs, np.where((xv == 0.0) & (yv >= 0.0), 0.0, math.nan))
        return power_slope(xv, yv), dys
    if xv > 0.0:
        dy = out * log_any(x)
    elif xv == 0.0 and yv >= 0.0:
        dy = 0.0
    else:
        dy = math.nan
    return power_slope(x, y), dy


def _pow(x: Any, y: Any) -> tuple[Any, Any]:
    out = power(x, y)
    return out, d_pow(x, y, out)


POW = Op("**", d_pow, 2)
POW.forward = _pow
POW_OPS: dict[float, Op] = {}


def _pow_rule(n: float, x: Any, out: Any) -> Any:
    """The rule of `**n`: d x^n/dx (module-level, so an op carrying it pickles)."""
    return power_slope(x, n)


def pow_op(n: float) -> Op:
    """The op `**n` for a number n, with its rule d x^n/dx = n·x^(n-1) (cached per n: the
    name and rule are made once, not per node)."""
    op = POW_OPS.get(n)
    if op is None:
        op = Op(f"**{n:g}", partial(_pow_rule, n))
        op.n = n
        if len(POW_OPS) < 1024:  # a program sweeping exponents must not grow it forever
            POW_OPS[n] = op
    return op
