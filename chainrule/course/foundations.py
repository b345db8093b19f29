"""Checkers and solutions of lessons 1 (values and the chain rule) and 2 (stepping through
backprop)."""

from __future__ import annotations

import math
from typing import Any

from chainrule.course._core import close, exercise, number, solution

# --- lesson 01: values and the chain rule ------------------------------------------------


@exercise("1.1")
def _partial_a(answer: Any) -> tuple[bool, str]:
    from chainrule.engine import Value

    a, b = Value(1.5), Value(-0.5)
    f = a**2 * b + b.exp()
    f.backward()
    x = number(answer)
    if close(x, a.grad):
        return True, "with b held fixed, e^b is a constant and drops out."
    if close(x, b.grad):
        return False, "that is ∂f/∂b; for ∂f/∂a hold b fixed."
    if close(x, a.grad + math.exp(-0.5)):
        return False, "e^b does not depend on a: its derivative in a is 0, not e^b."
    if close(x, 2 * 1.5):
        return False, "∂(a²b)/∂a = 2a·b: the factor b stays."
    return False, "differentiate a²b in a with b fixed (e^b is a constant then)."


@solution("1.1")
def _() -> Any:
    answer = 2 * 1.5 * -0.5  # ∂(a²b)/∂a = 2ab; e^b does not depend on a
    return answer


@exercise("1.2")
def _sigmoid_slope(answer: Any) -> tuple[bool, str]:
    s = 0.8
    x = number(answer)
    if close(x, s * (1 - s)):
        return True, "σ' = σ(1-σ) needs only the value σ(x₀), not x₀."
    if close(x, s):
        return False, "that is σ(x₀) itself, not its slope; use σ' = σ(1 - σ)."
    sig = 1 / (1 + math.exp(-s))
    if close(x, sig * (1 - sig)):
        return False, "0.8 is already σ(x₀): don't apply σ to it again."
    if x > 0.25:
        return False, "σ' is at most 1/4 (at x = 0); use σ' = σ(1 - σ)."
    return False, "use σ' = σ(1 - σ) with the given σ(x₀)."


@solution("1.2")
def _() -> Any:
    answer = 0.8 * (1 - 0.8)  # σ' = σ(1 - σ)
    return answer


def _error_ratio(answer: Any, f: Any, x: float, exact: float) -> tuple[float, float]:
    """Errors of `answer` at ε = 1e-2 and 5e-3."""
    e1 = abs(number(answer(f, x, 1e-2)) - exact)
    e2 = abs(number(answer(f, x, 5e-3)) - exact)
    return e1, e2


@exercise("1.3")
def _central_difference(answer: Any) -> tuple[bool, str]:
    if not callable(answer):
        return False, "expected a function numeric_grad(f, x, eps)."
    cases = [(math.sin, 0.7, math.cos(0.7)), (math.exp, -1.2, math.exp(-1.2))]
    for f, x, exact in cases:
        got = number(answer(f, x, 1e-5))
        if close(got, 2 * exact, rel=1e-4):
            return False, "it is twice the slope: x + ε and x - ε are 2ε apart, divide by 2ε."
        if close(got, exact / 2, rel=1e-4):
            return False, "it is half the slope: divide by 2ε, not by 4ε."
        if not close(got, exact, rel=1e-7):
            if close(got, exact, rel=1e-3):
                return False, (
                    f"at x = {x} it is off in the 4th digit with ε = 1e-5: a one-sided "
                    "difference (f(x+ε) - f(x))/ε has error O(ε); take points on both sides."
                )
            return False, f"at x = {x} it is not the slope of {f.__name__}."
    # central differences are second order (halving ε divides the error by about 4);
    # the five-point stencil is fourth order (about 16): both are right
    e1, e2 = _error_ratio(answer, math.exp, 1.0, math.e)
    if e2 == 0 or e1 / e2 > 3.0:
        return True, "slopes match, and the error falls at least like ε² (not one-sided)."
    if 1.5 < e1 / e2 < 2.5:
        return False, (
            "halving ε only halves the error: that is a one-sided difference, error O(ε); "
            "(f(x+ε) - f(x-ε)) / 2ε cancels the ε·f''/2 term and has error O(ε²)."
        )
    return False, "halving ε must divide the error by about 4 (O(ε²)); use f(x ± ε)."


@solution("1.3")
def _() -> Any:
    def numeric_grad(f, x, eps):
        return (f(x + eps) - f(x - eps)) / (2 * eps)

    answer = numeric_grad
    return answer


@exercise("1.4")
def _softsign(answer: Any) -> tuple[bool, str]:
    from chainrule.engine import Function, Value, gradcheck

    if not (isinstance(answer, type) and issubclass(answer, Function)):
        return False, "expected your class, a subclass of engine.Function (not an instance)."
    for x0 in (-2.5, -0.4, 0.3, 1.7):
        x = Value(x0)
        y = answer.apply(x)
        if not close(y.data, x0 / (1 + abs(x0))):
            return False, f"forward at x = {x0} is not softsign's value x/(1 + |x|)."
        y.backward()
        if close(x.grad, 1 / (1 + abs(x0)), rel=1e-9):
            return False, "backward forgot the square: d/dx x/(1+|x|) has (1+|x|)² below."
        if close(x.grad, -1 / (1 + abs(x0)) ** 2, rel=1e-9) and x0 < 0:
            return False, f"backward has the wrong sign at x = {x0}: the slope is positive."
        if not close(x.grad, 1 / (1 + abs(x0)) ** 2, rel=1e-9):
            return False, f"backward at x = {x0} is not the derivative of x/(1 + |x|)."
        if not gradcheck(answer.apply, [x0], raise_exception=False).ok:
            return False, f"gradcheck disagrees at x = {x0}."
    return True, "value and derivative agree, and gradcheck passes at every point tried."


@solution("1.4")
def _() -> Any:
    from chainrule.engine import Function

    class Softsign(Function):
        @staticmethod
        def forward(ctx, x):  # type: ignore[override]
            ctx.save_for_backward(x)
            return x / (1 + x.abs())

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_values
            return grad_output / (1 + x.abs()) ** 2  # ((1+|x|) - x·sign(x)) / (1+|x|)²

    answer = Softsign
    return answer


# --- lesson 02: stepping through backprop ------------------------------------------------


def _shared(a: float = 2.0) -> tuple[Any, Any]:
    from chainrule.engine import Value

    x = Value(a)
    return x, (x + x) * x


@exercise("2.1")
def _step_count(answer: Any) -> tuple[bool, str]:
    from chainrule.engine import Value

    a, b = Value(0.5), Value(-1.5)
    y = (a * b + a).tanh() * b
    steps = len(list(y.backward_steps()))
    n = number(answer)
    if n == steps:
        return True, "one step per computed node; leaves pass nothing on."
    if n in (steps + 1, steps + 2):
        return False, "the leaves a and b are not steps: they have no parents to pass to."
    if n == steps - 1:
        return False, "tanh is a node of its own, and so is each × and +."
    return False, "count the computed nodes: each is one chain-rule step."


@solution("2.1")
def _() -> Any:
    from chainrule.engine import Value

    a, b = Value(0.5), Value(-1.5)
    y = (a * b + a).tanh() * b
    answer = len(list(y.backward_steps()))  # one per computed node
    return answer


@exercise("2.2")
def _shared_grad(answer: Any) -> tuple[bool, str]:
    a, y = _shared()
    y.backward()
    x = number(answer)
    if close(x, a.grad):
        return True, "a is used three times; the three paths' contributions add up."
    if close(x, a.grad / 2) or close(x, a.grad * 3 / 4):
        return False, "a path is missing: with = instead of += the last use overwrites."
    return False, "y = (a + a)·a: every use of a adds its path's contribution."


@solution("2.2")
def _() -> Any:
    from chainrule.engine import Value

    a = Value(2.0)
    y = (a + a) * a
    y.backward()
    answer = a.grad  # y = 2a², dy/da = 4a
    return answer


def branching() -> Any:
    """The graph of exercise 2.3: g = tanh((a·b)·(a + b)) with labelled nodes."""
    from chainrule.engine import Value

    a, b = Value(1.0, label="a"), Value(-0.5, label="b")
    d = a * b
    d.label = "d"
    e = a + b
    e.label = "e"
    f = d * e
    f.label = "f"
    g = f.tanh()
    g.label = "g"
    return g


@exercise("2.3")
def _topological(answer: Any) -> tuple[bool, str]:
    g = branching()
    computed = {s.node.label: s.node for s in g.backward_steps()}
    if not isinstance(answer, (list, tuple)) or not all(isinstance(s, str) for s in answer):
        return False, "expected a list of labels, like ['g', ...]."
    if {"a", "b"} & set(answer):
        return False, "the leaves a and b are not steps: they pass nothing on."
    if sorted(answer) != sorted(computed):
        return False, "list each computed node exactly once."
    seen: set[str] = set()
    for label in answer:
        for p in computed[label].parents:
            if p.label in seen:
                return False, (
                    f"{p.label} comes before {label}, which uses it: its gradient is not "
                    "complete yet (this is the forward order, reversed wrongly?)."
                )
        seen.add(label)
    return True, "every node comes before the nodes it uses; ties may go in either order."


@solution("2.3")
def _() -> Any:
    from chainrule.course.checks import branching

    answer = [s.node.label for s in branching().backward_steps()]
    return answer
