"""Checkers and solutions of lessons 5 (ReLU networks are piecewise linear) and 6
(training an MLP), and the helpers those lessons import."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chainrule.course._core import close, exercise, number, solution


def outputs_1d(model: Any, xs: Any) -> np.ndarray:
    """A 1-input, 1-output model's outputs at the points `xs`, called on one batch."""
    from chainrule.engine import no_grad

    with no_grad():
        rows = model([[float(x)] for x in xs])
    return np.array([(r[0] if isinstance(r, (list, tuple)) else r).data for r in rows])


def hand_network(w: Any, b: Any, u: Any, c: float) -> Any:
    """A 1 → n → 1 ReLU network with weights set by hand: f(x) = Σ u_j relu(w_j x + b_j) + c."""
    from chainrule.nn import MLP

    m = MLP(1, [len(w), 1], seed=0)
    hidden: Any = m.linear_layers[0]
    out: Any = m.linear_layers[1]
    for j, (wj, bj, uj) in enumerate(zip(w, b, u)):
        hidden.weight[j][0].data, hidden.bias[j].data = float(wj), float(bj)
        out.weight[0][j].data = float(uj)
    out.bias[0].data = float(c)
    return m


def hidden_units(model: Any) -> int:
    """The number of hidden units of an MLP-like model: every layer's outputs but the last."""
    layers = getattr(model, "linear_layers", None)
    if not layers:
        raise TypeError("expected a network built with MLP or hand_network")
    return sum(len(layer.weight) for layer in layers[:-1])


# --- lesson 05: ReLU networks are piecewise linear ---------------------------------------


@exercise("5.1")
def _breakpoint(answer: Any) -> tuple[bool, str]:
    w, b = 2.0, -3.0
    x = number(answer)
    if close(x, -b / w):
        return True, "that is where the pre-activation z crosses 0."
    if close(x, b / w):
        return False, "check the sign: solve wx + b = 0 for x."
    if close(x, -w / b) or close(x, w / b):
        return False, "the breakpoint is -b/w: bias over weight, not weight over bias."
    return False, "the linear part starts where z = wx + b = 0."


@solution("5.1")
def _() -> Any:
    w, b = 2.0, -3.0
    answer = -b / w  # z = wx + b = 0
    return answer


@exercise("5.2")
def _absolute(answer: Any) -> tuple[bool, str]:
    xs = np.array([-3.0, -1.25, -0.5, 0.0, 0.5, 2.0])
    got = outputs_1d(answer, xs)
    if np.allclose(got, np.abs(xs), atol=1e-12):
        return True, "two units pointing opposite ways, each adding its side's slope."
    if np.allclose(got, np.maximum(xs, 0), atol=1e-12):
        return False, "that is relu(x): the left side needs a unit of its own, pointing left."
    if np.allclose(got, -np.abs(xs), atol=1e-12):
        return False, "upside down: the outgoing weights set whether a piece points up or down."
    if np.allclose(got, xs, atol=1e-12):
        return False, "that is the identity: on the left, the slope must be -1, not +1."
    return False, "it is not |x| at every point tried: check the kink and both slopes."


@solution("5.2")
def _() -> Any:
    from chainrule.course.checks import hand_network

    answer = hand_network(w=[1, -1], b=[0, 0], u=[1, 1], c=0)  # relu(x) + relu(-x)
    return answer


@exercise("5.3")
def _square(answer: Any) -> tuple[bool, str]:
    units = hidden_units(answer)
    if len(answer.linear_layers) != 2:
        return False, f"one hidden layer, please (this one has {len(answer.linear_layers) - 1})."
    if units > 8:
        return False, f"that network has {units} hidden units; use at most 8."
    xs = np.linspace(0.0, 1.0, 2001)
    err = float(np.max(np.abs(outputs_1d(answer, xs) - xs**2)))
    if err < 0.01:
        return True, f"the uniform error is below 0.01 with {units} units."
    return False, (
        f"the largest error on [0, 1] is {err:.4f}; interpolate x² at evenly spaced knots "
        "(the error is h²/4 for spacing h)."
    )


@solution("5.3")
def _() -> Any:
    import numpy as np

    from chainrule.course.checks import hand_network

    def interpolate_square(n):
        knots = np.linspace(0, 1, n + 1)
        slopes = np.diff(knots**2) / np.diff(knots)
        return hand_network(np.ones(n), -knots[:-1], np.diff(np.concatenate([[0], slopes])), 0)

    answer = interpolate_square(6)  # error h²/4 = 1/144 < 0.01 (5 units give exactly 0.01)
    return answer


# --- lesson 06: training, initialization, learning rate ----------------------------------


@exercise("6.1")
def _relu_std_factor(answer: Any) -> tuple[bool, str]:
    n, std = 50, 0.3
    x = number(answer)
    var_factor = n / 2 * std**2  # Var(z) = n·Var(w)·E[v²], E[v²] = Var(z')/2
    if close(x, math.sqrt(var_factor)):
        return True, "√(n/2·Var(w)) > 1: the signal grows by that factor per layer."
    if close(x, var_factor):
        return False, "that is the factor of the variance; the question asks for the std."
    if close(x, math.sqrt(n * std**2)) or close(x, n * std**2):
        return False, "a ReLU zeroes half of its inputs: E[v²] = Var(z)/2, not Var(z)."
    if close(x, math.sqrt(n / 2) * std**2) or close(x, n / 2 * std):
        return False, "Var(w) is the std squared: 0.3², and the root is taken of the product."
    return False, "Var(z) is multiplied by (n/2)·Var(w) per ReLU layer; take the root for std."


@solution("6.1")
def _() -> Any:
    import numpy as np

    answer = np.sqrt(50 / 2 * 0.3**2)  # the variance factor is (n/2)·Var(w); std: its root
    return answer


@exercise("6.2")
def _xavier_factors(answer: Any) -> tuple[bool, str]:
    n_in, n_out = 100, 300
    var_w = 2 / (n_in + n_out)
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        return False, "expected a pair (forward factor, backward factor)."
    fwd, bwd = (number(v) for v in answer)
    if close(fwd, n_in * var_w) and close(bwd, n_out * var_w):
        return True, "neither factor is 1 unless n_in = n_out: a compromise."
    if close(fwd, n_out * var_w) and close(bwd, n_in * var_w):
        return False, "swapped: forward sums over the n_in inputs, backward over the n_out units."
    if close(fwd, var_w) or close(bwd, var_w):
        return False, "that is Var(w) itself; multiply it by n_in and by n_out."
    if close(fwd, 1.0) or close(bwd, 1.0):
        return False, "1 holds only for He's or LeCun's scale in one direction, not Xavier's."
    return False, "Var(w) = 2/(n_in + n_out); forward factor n_in·Var(w), backward n_out·Var(w)."


@solution("6.2")
def _() -> Any:
    var_w = 2 / (100 + 300)  # Xavier
    answer = (100 * var_w, 300 * var_w)
    return answer


@exercise("6.3")
def _he_std_leaky(answer: Any) -> tuple[bool, str]:
    if not callable(answer):
        return False, "expected a function he_std(n, a)."
    for n, a in [(50, 0.0), (32, 0.2), (8, 0.5), (200, 1.0)]:
        got = number(answer(n, a))
        if close(got, math.sqrt(2 / ((1 + a**2) * n)), rel=1e-9):
            continue
        if close(got, math.sqrt(2 / ((1 + a) * n)), rel=1e-9):
            return False, "the negative side passes a·z, so it contributes a²·Var(z)/2, not a."
        if close(got, 2 / ((1 + a**2) * n), rel=1e-9):
            return False, "that is the variance; return the standard deviation (its root)."
        return False, (
            f"for n={n}, a={a} it is off; E[v²] = (1 + a²)/2 · Var(z) for a leaky ReLU of a "
            "symmetric z, and n·Var(w)·E[v²] must equal Var(z)."
        )
    return True, "it gives He's √(2/n) at a = 0 and LeCun's 1/√n at a = 1 (a linear unit)."


@solution("6.3")
def _() -> Any:
    import numpy as np

    def he_std(n, a):
        # E[v²] = ½E[z'²] + ½a²E[z'²] = (1 + a²)/2 · Var(z'), so n·Var(w)·(1 + a²)/2 = 1
        return np.sqrt(2 / ((1 + a**2) * n))

    answer = he_std
    return answer
