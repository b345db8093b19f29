"""Checkers and solutions of lessons 8 (weight-space symmetries), 9 (regularization),
10 (dropout) and 11 (batch normalization), and the helpers those lessons import."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chainrule.course._core import close, exercise, number, solution


def _outputs(model: Any, xs: Any) -> np.ndarray:
    from chainrule.engine import no_grad

    with no_grad():
        rows = model([list(map(float, x)) for x in xs])
    return np.array([[v.data for v in (r if isinstance(r, (list, tuple)) else [r])] for r in rows])


def _flat(model: Any) -> np.ndarray:
    return np.array([p.data for p in model.parameters()])


def mystery_pair() -> tuple[Any, Any]:
    """Exercise 8.2: a network and a copy with its first hidden layer's units permuted."""
    from chainrule.nn import MLP, permute_hidden

    model = MLP(2, [4, 3, 1], seed=5)
    perm = np.random.default_rng(55).permutation(4).tolist()
    return model, permute_hidden(model, 0, perm)


# --- lesson 08: weight-space symmetries --------------------------------------------------


@exercise("8.1")
def _count_permutations(answer: Any) -> tuple[bool, str]:
    x = number(answer)
    want = math.factorial(4) * math.factorial(3)
    if x == want:
        return True, "each hidden layer can be reordered independently of the other."
    if x in (math.factorial(4), math.factorial(3)):
        return False, "both hidden layers can be permuted independently: multiply."
    if x == math.factorial(4) + math.factorial(3):
        return False, "the two layers' orders combine freely: multiply, don't add."
    if x == math.factorial(7) or x == math.factorial(8):
        return False, "units can only be permuted within their own layer (not the output)."
    return False, "count the orders of each hidden layer's units and combine them."


@solution("8.1")
def _() -> Any:
    from math import factorial

    answer = factorial(4) * factorial(3)  # each hidden layer ordered independently
    return answer


@exercise("8.2")
def _find_permutation(answer: Any) -> tuple[bool, str]:
    from chainrule.nn import permute_hidden

    model, mystery = mystery_pair()
    if not isinstance(answer, (list, tuple)) or sorted(answer) != [0, 1, 2, 3]:
        return False, "expected a permutation of [0, 1, 2, 3] as a list."
    if np.array_equal(_flat(permute_hidden(model, 0, list(answer))), _flat(mystery)):
        return True, "each row of the first layer's weights is one unit: matching rows finds it."
    inverse = [list(answer).index(k) for k in range(4)]
    if np.array_equal(_flat(permute_hidden(model, 0, inverse)), _flat(mystery)):
        return False, (
            "that is the inverse permutation: permute_hidden's new unit k is old unit p[k], "
            "so p[k] is where the copy's row k sits in the original."
        )
    return False, "permute_hidden(model, 0, answer) is not the copy: match weight rows."


@solution("8.2")
def _() -> Any:
    from chainrule.course.checks import mystery_pair

    model8, mystery = mystery_pair()
    rows = [tuple(w.data for w in row) for row in model8.linear_layers[0].weight]
    answer = [rows.index(tuple(w.data for w in row)) for row in mystery.linear_layers[0].weight]
    return answer


def relu_model() -> Any:
    """Exercise 8.3: a small ReLU network."""
    from chainrule.nn import MLP

    return MLP(2, [3, 1], seed=3)


def _unit_norms(model: Any, j: int) -> tuple[float, float]:
    """(‖incoming weights and bias‖², outgoing weight²) of hidden unit j."""
    hidden, out = model.linear_layers
    w_in = sum(w.data**2 for w in hidden.weight[j]) + hidden.bias[j].data ** 2
    return w_in, out.weight[0][j].data ** 2


@exercise("8.3")
def _balanced_scale(answer: Any) -> tuple[bool, str]:
    a, b = _unit_norms(relu_model(), 0)
    c = number(answer)
    want = (b / a) ** 0.25  # minimises c²·a + b/c²
    if close(c, want, rel=1e-4):
        return True, "c²·‖w_in‖² = ‖w_out‖²/c²: at the minimum both halves carry equal norm."
    if close(c, want**2, rel=1e-4):
        return False, "that is c²: the condition c⁴ = ‖w_out‖²/‖w_in‖² needs a fourth root."
    if close(c, 1 / want, rel=1e-4):
        return False, "the inverse: c multiplies the incoming side, so a large w_out needs c > 1."
    if close(c, (b / (a - relu_model().linear_layers[0].bias[0].data ** 2)) ** 0.25, rel=1e-4):
        return False, "the bias is scaled by c too: count it with the incoming weights."
    if c <= 0:
        return False, "c must be positive: relu(cz) = c·relu(z) only holds for c > 0."
    return False, "minimise c²·(‖w_in‖² + b²) + w_out²/c² over c > 0 (set the derivative to 0)."


@solution("8.3")
def _() -> Any:
    from chainrule.course.checks import relu_model

    hidden, out = relu_model().linear_layers
    incoming = sum(w.data**2 for w in hidden.weight[0]) + hidden.bias[0].data ** 2
    outgoing = out.weight[0][0].data ** 2
    # d/dc [c²·incoming + outgoing/c²] = 2c·incoming - 2·outgoing/c³ = 0
    answer = (outgoing / incoming) ** 0.25
    return answer


# --- lesson 09: regularization and early stopping ----------------------------------------


@exercise("9.1")
def _norms(answer: Any) -> tuple[bool, str]:
    w = np.array([3.0, -4.0, 0.0, 12.0])
    if not isinstance(answer, (list, tuple)) or len(answer) != 2:
        return False, "expected a pair (L1 norm, L2 norm)."
    l1, l2 = (number(a) for a in answer)
    want1, want2 = float(np.abs(w).sum()), float(np.sqrt((w**2).sum()))
    if close(l1, want1) and close(l2, want2):
        return True, "‖w‖₁ = Σ|w_i|, ‖w‖₂ = √(Σ w_i²); the L2 penalty is ‖w‖₂²."
    if close(l1, want1) and close(l2, want2**2):
        return False, "the L2 norm is the square root of Σ w_i² (the penalty is its square)."
    if close(l1, float(w.sum())):
        return False, "the L1 norm adds absolute values: |-4| counts as 4."
    if close(l1, want2) and close(l2, want1):
        return False, "swapped: the pair is (L1, L2)."
    return False, "‖w‖₁ = Σ|w_i| and ‖w‖₂ = √(Σ w_i²)."


@solution("9.1")
def _() -> Any:
    import numpy as np

    wv = np.array([3, -4, 0, 12])
    answer = (np.abs(wv).sum(), np.sqrt((wv**2).sum()))
    return answer


@exercise("9.2")
def _decay_factor(answer: Any) -> tuple[bool, str]:
    lr, lam, steps = 0.1, 0.01, 100
    x = number(answer)
    if close(x, (1 - lr * lam) ** steps):
        return True, "the per-step factors compound over the 100 steps."
    if close(x, 1 - steps * lr * lam):
        return False, "the factors multiply: (1 - ηλ)^100, not 1 - 100ηλ (close, but not it)."
    if close(x, (1 - lam) ** steps):
        return False, "the factor per step is 1 - ηλ: the learning rate scales the decay."
    if close(x, 1 - lr * lam):
        return False, "that is one step's factor; there are 100 steps."
    return False, "each step is w ← (1 - ηλ)·w when the data gradient is 0."


@solution("9.2")
def _() -> Any:
    answer = (1 - 0.1 * 0.01) ** 100
    return answer


LASSO_A = np.array([[1.0, 0.4], [0.4, 0.5]])
"""Exercise 9.3's matrix A (symmetric, positive definite) of the loss L(w) = (w - c)ᵀA(w - c)."""
LASSO_C = np.array([1.0, 0.3])
"""Exercise 9.3's loss L(w) = (w - c)ᵀA(w - c)."""


@exercise("9.3")
def _lasso_all_zero(answer: Any) -> tuple[bool, str]:
    # (0, 0) solves LASSO iff λ ≥ |∂L/∂w_i(0)| for every i
    grad0 = np.abs(2 * LASSO_A @ LASSO_C)
    x = number(answer)
    if abs(x - grad0.max()) <= 0.01:
        return True, "at λ = max |∂L/∂w_i(0)| the soft threshold keeps both weights at 0."
    if abs(x - grad0.min()) <= 0.01:
        return False, "that is w₂'s gradient at 0; w₁'s is larger, and both must stay at 0."
    if abs(x - grad0.max() / 2) <= 0.01:
        return False, "L = dᵀAd has gradient 2Ad: the factor 2 is missing."
    if x > grad0.max():
        return False, "(0, 0) is already the solution at a smaller λ: look for the smallest."
    return False, "below that λ the gradient step from (0, 0) leaves the dead zone [-ηλ, ηλ]."


@solution("9.3")
def _() -> Any:
    import numpy as np

    from chainrule.course.checks import LASSO_A as A
    from chainrule.course.checks import LASSO_C as c

    # (0, 0) is a fixed point when the gradient step from 0, -η∇L(0), lands inside the dead
    # zone [-ηλ, ηλ] of the soft threshold in both coordinates: λ ≥ |∂L/∂w_i(0)| for every i.
    # L = dᵀAd with d = w - c, so ∇L(0) = -2Ac.
    answer = float(np.max(np.abs(2 * A @ c)))
    return answer
