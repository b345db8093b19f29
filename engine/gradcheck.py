"""Checking backprop against central finite differences.

For each input x_i the numerical slope is
    (f(x + ε e_i) - f(x - ε e_i)) / 2ε,
whose error is O(ε²): an oracle that shares no code with `backward()`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from chainrule.engine.backprop import order
from chainrule.engine.grad_mode import no_grad
from chainrule.engine.value import Value


class GradcheckError(AssertionError):
    """Backprop and finite differences disagree; the message names the worst input."""


@dataclass(frozen=True)
class GradcheckResult:
    """Analytic (backprop) and numeric (central difference) gradients, per input."""

    analytic: tuple[float, ...]
    numeric: tuple[float, ...]
    worst_index: int
    worst_error: float  # |analytic - numeric| - (atol + rtol·|numeric|); <= 0 passes

    @property
    def ok(self) -> bool:
        return self.worst_error <= 0.0


def _excess(analytic: float, numeric: float, atol: float, rtol: float) -> float:
    """|analytic - numeric| beyond the tolerance; <= 0 passes. A NaN or infinite gradient
    passes only where the numeric one is the same NaN or infinity (a NaN must never be
    skipped as `max` would skip it)."""
    if math.isfinite(analytic) and math.isfinite(numeric):
        return abs(analytic - numeric) - (atol + rtol * abs(numeric))
    same = analytic == numeric or (analytic != analytic and numeric != numeric)
    return 0.0 if same else math.inf


def gradcheck(
    f: Callable[..., Value],
    inputs: Sequence[Any],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> GradcheckResult:
    """Compare d f/d x_i from `backward()` with central differences at `inputs`.

    `f` takes one `Value` per input and returns a `Value`. An input may be a 1-D numpy
    array (a batch: every sample's number is checked; a batched output is summed over
    the batch first). Raises `GradcheckError` naming the worst mismatch (or returns the
    result with ok=False when raise_exception=False).
    """
    xs = [Value(x, label=f"x{i}") for i, x in enumerate(inputs)]
    out = f(*xs)
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck: f must return a Value, got {type(out).__name__}")
    out.sum().backward()
    # one entry per number: x{i}, or x{i}[k] for sample k of a batched input
    slots = [(i, None) if type(x.data) is float else (i, k) for i, x in enumerate(xs) for k in
             (range(len(x.data)) if type(x.data) is not float else [None])]  # fmt: skip
    names = [f"x{i}" if k is None else f"x{i}[{k}]" for i, k in slots]
    analytic = tuple(_entry(xs[i].grad, k) for i, k in slots)

    def at(i: int, k: int | None, step: float) -> float:
        values: list[Any] = [x.data if type(x.data) is float else x.data.copy() for x in xs]
        if k is None:
            values[i] += step
        else:
            values[i][k] += step
        with no_grad():
            result = f(*(Value(v) for v in values)).sum()
        return float(result.data)

    numeric = tuple((at(i, k, eps) - at(i, k, -eps)) / (2 * eps) for i, k in slots)
    errors = [_excess(a, n, atol, rtol) for a, n in zip(analytic, numeric)]
    worst = max(range(len(errors)), key=errors.__getitem__) if errors else 0
    result = GradcheckResult(analytic, numeric, worst, errors[worst] if errors else 0.0)
    if raise_exception and not result.ok:
        raise GradcheckError(
            f"gradcheck: d f/d {names[worst]} at x={list(inputs)}: backprop gives "
            f"{analytic[worst]!r}, central differences give {numeric[worst]!r} "
            f"(atol={atol}, rtol={rtol})" + _blame(out, eps, atol, rtol)
        )
    return result


def _entry(grad: Any, k: int | None) -> float:
    """A gradient's number: the float, or sample k's (an unused input's grad is 0.0)."""
    return float(grad if k is None or type(grad) is float else grad[k])


def _blame(out: Value, eps: float, atol: float, rtol: float) -> str:
    """The first `engine.Function` op in the graph whose own backward disagrees with
    central differences of its own forward, as a sentence naming it ("" if none)."""
    for node in order(out):
        function = getattr(node.op, "function", None)
        if function is None or type(node.data) is not float:  # (a batch: not blamed here)
            continue
        xs = [p.data for p in node.parents]

        def at(values: list[float], function: Any = function) -> float:
            return function.apply(*values).data  # type: ignore[no-any-return]

        for i, local in enumerate(node.local_grads):
            plus, minus = list(xs), list(xs)
            plus[i] += eps
            minus[i] -= eps
            with no_grad():
                numeric = (at(plus) - at(minus)) / (2 * eps)
            if _excess(local, numeric, atol, rtol) > 0.0:
                return (
                    f"; the op {node.op!r} is wrong: its backward gives d/d input {i} = "
                    f"{local!r} at inputs {xs}, central differences of its forward give "
                    f"{numeric!r}"
                )
    return ""
