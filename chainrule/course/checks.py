"""Checkers for the course's exercises: `check("1.1", answer)` says right, wrong (and why), or
not yet (the answer cell still holds `...`). Every checker computes the expected result itself
(with chainrule, numpy or math) from the exercise's statement, so no answer is stored here.

Each call is also recorded in `RESULTS`, which the course's test reads.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

Checker = Callable[..., tuple[bool, str]]
EXERCISES: dict[str, Checker] = {}
"""The checkers by exercise name (`"6.1"`), registered by `exercise`."""
RESULTS: list[tuple[str, str]] = []  # (exercise, "right" | "wrong" | "not yet"), in call order
"""Every `check` call's exercise and verdict ("right", "wrong" or "not yet"), in call order."""


def exercise(name: str) -> Callable[[Checker], Checker]:
    """Register `fn(answer, **context) -> (right?, why)` as the checker of exercise `name`."""

    def register(fn: Checker) -> Checker:
        EXERCISES[name] = fn
        return fn

    return register


def verdict(name: str, answer: Any, **context: Any) -> tuple[str, str]:
    """("right" | "wrong" | "not yet", why) for `answer` to exercise `name`; never raises
    for a bad answer (a checker that trips over the answer calls it wrong, saying how)."""
    if name not in EXERCISES:
        raise KeyError(f"no exercise {name!r}; there are {sorted(EXERCISES)}")
    if answer is ...:
        return "not yet", "replace the ... in the answer cell with your answer and run it"
    try:
        ok, why = EXERCISES[name](answer, **context)
    except Exception as e:  # the student's code or value broke the check: say how
        return "wrong", f"checking it raised {type(e).__name__}: {e}"
    return ("right" if ok else "wrong"), why


def check(name: str, answer: Any = ..., **context: Any) -> None:
    """Print whether `answer` solves exercise `name`, and why."""
    status, why = verdict(name, answer, **context)
    RESULTS.append((name, status))
    mark = {"right": "✓ right", "wrong": "✗ wrong", "not yet": "… not yet"}[status]
    print(f"Exercise {name}: {mark}: {why}")


def _number(answer: Any) -> float:
    if isinstance(answer, bool) or not isinstance(answer, (int, float, np.number)):
        raise TypeError(f"expected a number, got {type(answer).__name__}")
    return float(answer)


def _close(a: float, b: float, rel: float = 1e-6, abs_: float = 1e-9) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


# --- lesson 01: values and the chain rule ------------------------------------------------


@exercise("1.1")
def _partial_a(answer: Any) -> tuple[bool, str]:
    from chainrule.engine import Value

    a, b = Value(1.5), Value(-0.5)
    f = a**2 * b + b.exp()
    f.backward()
    x = _number(answer)
    if _close(x, a.grad):
        return True, "with b held fixed, e^b is a constant and drops out."
    if _close(x, b.grad):
        return False, "that is ∂f/∂b; for ∂f/∂a hold b fixed."
    return False, "differentiate a²b in a with b fixed (e^b is a constant then)."


@exercise("1.2")
def _sigmoid_slope(answer: Any) -> tuple[bool, str]:
    s = 0.8
    x = _number(answer)
    if _close(x, s * (1 - s)):
        return True, "σ' = σ(1-σ) needs only the value σ(x₀), not x₀."
    if _close(x, s):
        return False, "that is σ(x₀) itself; use σ' = σ(1 - σ)."
    if x > 0.25:
        return False, "σ' is at most 1/4 (at x = 0); use σ' = σ(1 - σ)."
    return False, "use σ' = σ(1 - σ) with σ = 0.8."


@exercise("1.3")
def _central_difference(answer: Any) -> tuple[bool, str]:
    if not callable(answer):
        return False, "expected a function numeric_grad(f, x, eps)."
    cases = [(math.sin, 0.7, math.cos(0.7)), (math.exp, -1.2, math.exp(-1.2))]
    for f, x, exact in cases:
        got = _number(answer(f, x, 1e-5))
        if not _close(got, exact, rel=1e-7):
            return False, f"for {f.__name__} at {x} it gives {got}, the slope is {exact}."
    # central differences are second order: halving eps divides the error by about 4
    f = math.exp
    e1 = abs(_number(answer(f, 1.0, 1e-2)) - math.e)
    e2 = abs(_number(answer(f, 1.0, 5e-3)) - math.e)
    if not 3.0 < e1 / e2 < 5.0:
        return False, (
            f"halving eps divided the error by {e1 / e2:.2f}; a central difference "
            "(f(x+ε) - f(x-ε)) / 2ε divides it by about 4 (error O(ε²))."
        )
    return True, "slopes match, and the error falls like ε² (central, not one-sided)."


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
    n = _number(answer)
    if n == steps:
        return True, "one step per computed node (×, +, tanh, ×); leaves pass nothing on."
    if n in (steps + 1, steps + 2):
        return False, "the leaves a and b are not steps: they have no parents to pass to."
    if n == steps - 1:
        return False, "tanh is a node of its own, and so is each × and +."
    return False, "count the computed nodes: each is one chain-rule step."


@exercise("2.2")
def _shared_grad(answer: Any) -> tuple[bool, str]:
    a, y = _shared()
    y.backward()
    x = _number(answer)
    if _close(x, a.grad):
        return True, "a is used three times; the three paths' contributions add up."
    return False, "y = (a + a)·a = 2a²: every use of a adds its path's contribution."


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
    if sorted(answer) != sorted(computed):
        return (
            False,
            f"list each computed node once: there are {len(computed)} "
            "(the leaves a, b pass nothing on).",
        )
    seen: set[str] = set()
    for label in answer:
        for p in computed[label].parents:
            if p.label in seen:
                return (
                    False,
                    f"{p.label} comes before {label}, which uses it: "
                    "its gradient is not complete yet.",
                )
        seen.add(label)
    return True, "every node comes before the nodes it uses; d and e may go in either order."


# --- lesson 03: ReLU networks are piecewise linear ---------------------------------------


def outputs_1d(model: Any, xs: Any) -> np.ndarray:
    """A 1-input, 1-output model's outputs at the points `xs`, called on one batch."""
    from chainrule.engine import no_grad

    with no_grad():
        rows = model([[float(x)] for x in xs])
    return np.array([(r[0] if isinstance(r, (list, tuple)) else r).data for r in rows])


@exercise("3.1")
def _breakpoint(answer: Any) -> tuple[bool, str]:
    w, b = 2.0, -3.0
    x = _number(answer)
    if _close(x, -b / w):
        return True, "that is where the pre-activation z crosses 0."
    if _close(x, b / w):
        return False, "check the sign: solve wx + b = 0 for x."
    return False, "the linear part starts where z = wx + b = 0."


@exercise("3.2")
def _absolute(answer: Any) -> tuple[bool, str]:
    xs = np.array([-3.0, -1.25, -0.5, 0.0, 0.5, 2.0])
    got = outputs_1d(answer, xs)
    if np.allclose(got, np.abs(xs), atol=1e-12):
        return True, "relu(x) + relu(-x) = |x|: two units pointing opposite ways."
    worst = int(np.argmax(np.abs(got - np.abs(xs))))
    return False, f"at x = {xs[worst]} it gives {got[worst]:.4g} instead of |x|."


@exercise("3.3")
def _square(answer: Any) -> tuple[bool, str]:
    n_params = len(answer.parameters())
    units = (n_params - 1) // 3  # a 1 → n → 1 network has 3n + 1 parameters
    if units > 8:
        return False, f"that network has {units} hidden units; use at most 8."
    xs = np.linspace(0.0, 1.0, 2001)
    err = float(np.max(np.abs(outputs_1d(answer, xs) - xs**2)))
    if err < 0.01:
        return True, f"uniform error {err:.4f} < 0.01 with {units} units."
    return False, (
        f"the largest error on [0, 1] is {err:.4f}; interpolate x² at evenly spaced knots "
        "(error h²/4 for spacing h)."
    )


# --- lesson 04: training, initialization, learning rate ----------------------------------


@exercise("4.1")
def _relu_std_factor(answer: Any) -> tuple[bool, str]:
    n, std = 50, 0.3
    x = _number(answer)
    var_factor = n / 2 * std**2  # Var(z) = n·Var(w)·E[v²], E[v²] = Var(z')/2
    if _close(x, math.sqrt(var_factor)):
        return True, "√(n/2·Var(w)) = 1.5 > 1: the signal grows 1.5-fold per layer, it explodes."
    if _close(x, var_factor):
        return False, "that is the factor of the variance; the question asks for the std."
    if _close(x, math.sqrt(n * std**2)) or _close(x, n * std**2):
        return False, "a ReLU zeroes half of its inputs: E[v²] = Var(z)/2, not Var(z)."
    return False, "Var(z) is multiplied by (n/2)·Var(w) per ReLU layer; take the root for std."


@exercise("4.2")
def _xavier_factors(answer: Any) -> tuple[bool, str]:
    n_in, n_out = 100, 300
    var_w = 2 / (n_in + n_out)
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        return False, "expected a pair (forward factor, backward factor)."
    fwd, bwd = (_number(v) for v in answer)
    if _close(fwd, n_in * var_w) and _close(bwd, n_out * var_w):
        return True, "½ forward, 1.5 backward: neither is 1 unless n_in = n_out."
    if _close(fwd, n_out * var_w) and _close(bwd, n_in * var_w):
        return False, "swapped: forward sums over the n_in inputs, backward over the n_out units."
    if _close(fwd, var_w) or _close(bwd, var_w):
        return False, "Xavier's Var(w) = 2/(n_in + n_out); multiply it by n_in and by n_out."
    return False, "Var(w) = 2/(n_in + n_out); forward factor n_in·Var(w), backward n_out·Var(w)."


@exercise("4.3")
def _he_std_leaky(answer: Any) -> tuple[bool, str]:
    if not callable(answer):
        return False, "expected a function he_std(n, a)."
    for n, a in [(50, 0.0), (32, 0.2), (8, 0.5), (200, 1.0)]:
        got = _number(answer(n, a))
        want = math.sqrt(2 / ((1 + a**2) * n))
        if not _close(got, want, rel=1e-9):
            if _close(got, math.sqrt(2 / ((1 + a) * n)), rel=1e-9):
                return False, "the negative side passes a·z, so it contributes a²·Var(z)/2."
            return False, (
                f"for n={n}, a={a} it gives {got:.4g}; E[v²] = (1 + a²)/2 · Var(z) "
                "for a leaky ReLU of a symmetric z, and n·Var(w)·E[v²] must equal Var(z)."
            )
    return True, "√(2/((1 + a²)n)): He's √(2/n) at a = 0, Xavier-like 1/√n at a = 1."


# --- lesson 05: weight-space symmetries --------------------------------------------------


def _outputs(model: Any, xs: Any) -> np.ndarray:
    from chainrule.engine import no_grad

    with no_grad():
        rows = model([list(map(float, x)) for x in xs])
    return np.array([[v.data for v in (r if isinstance(r, (list, tuple)) else [r])] for r in rows])


def _flat(model: Any) -> np.ndarray:
    return np.array([p.data for p in model.parameters()])


def mystery_pair() -> tuple[Any, Any]:
    """Exercise 5.2: a network and a copy with its first hidden layer's units permuted."""
    from chainrule.nn import MLP, permute_hidden

    model = MLP(2, [4, 3, 1], seed=5)
    perm = np.random.default_rng(55).permutation(4).tolist()
    return model, permute_hidden(model, 0, perm)


def tanh_model() -> Any:
    """Exercise 5.3: a small tanh network."""
    from chainrule.nn import MLP

    return MLP(2, [3, 1], "tanh", seed=0)


@exercise("5.1")
def _count_permutations(answer: Any) -> tuple[bool, str]:
    x = _number(answer)
    want = math.factorial(4) * math.factorial(3)
    if x == want:
        return True, "each hidden layer can be reordered independently of the other."
    if x in (math.factorial(4), math.factorial(3)):
        return False, "both hidden layers can be permuted independently: multiply."
    if x == math.factorial(7):
        return False, "units can only be permuted within their own layer."
    return False, "count the orders of each hidden layer's units and multiply."


@exercise("5.2")
def _find_permutation(answer: Any) -> tuple[bool, str]:
    from chainrule.nn import permute_hidden

    model, mystery = mystery_pair()
    if not isinstance(answer, (list, tuple)) or sorted(answer) != [0, 1, 2, 3]:
        return False, "expected a permutation of [0, 1, 2, 3] as a list."
    if np.array_equal(_flat(permute_hidden(model, 0, list(answer))), _flat(mystery)):
        return True, "each row of the first layer's weights is one unit: match rows."
    return False, "permute_hidden(model, 0, answer) is not the mystery: compare weight rows."


@exercise("5.3")
def _sign_flip(answer: Any) -> tuple[bool, str]:
    base = tanh_model()
    xs = np.random.default_rng(3).normal(size=(20, 2))
    same = np.allclose(_outputs(answer, xs), _outputs(base, xs), rtol=0, atol=1e-12)
    a, b = _flat(answer), _flat(base)
    if a.shape != b.shape:
        return False, "give a copy of tanh_model() with the same shape."
    if not np.allclose(np.abs(a), np.abs(b), rtol=0, atol=1e-15) or np.array_equal(a, b):
        return False, "negate unit 1's incoming weights, its bias and its outgoing weight."
    if not same:
        return False, "the outputs changed: flip all three of unit 1's parts, nothing else."
    return True, "tanh is odd: tanh(-z)·(-u) = tanh(z)·u, another symmetry of weight space."


# --- lesson 06: regularization and early stopping ----------------------------------------


@exercise("6.1")
def _norms(answer: Any) -> tuple[bool, str]:
    w = np.array([3.0, -4.0, 0.0, 12.0])
    if not isinstance(answer, (list, tuple)) or len(answer) != 2:
        return False, "expected a pair (L1 norm, L2 norm)."
    l1, l2 = (_number(a) for a in answer)
    want1, want2 = float(np.abs(w).sum()), float(np.sqrt((w**2).sum()))
    if _close(l1, want1) and _close(l2, want2):
        return True, "‖w‖₁ = Σ|w_i|, ‖w‖₂ = √(Σ w_i²); the L2 penalty is ‖w‖₂²."
    if _close(l1, want1) and _close(l2, want2**2):
        return False, "the L2 norm is the square root of Σ w_i² (the penalty is its square)."
    if _close(l1, float(w.sum())):
        return False, "the L1 norm adds absolute values: |-4| = 4."
    return False, "‖w‖₁ = Σ|w_i| and ‖w‖₂ = √(Σ w_i²)."


@exercise("6.2")
def _decay_factor(answer: Any) -> tuple[bool, str]:
    lr, lam, steps = 0.1, 0.01, 100
    x = _number(answer)
    want = (1 - lr * lam) ** steps
    if _close(x, want):
        return True, "the per-step factors compound over the 100 steps."
    if _close(x, 1 - steps * lr * lam):
        return False, "the factors multiply: (1 - ηλ)^100, not 1 - 100ηλ (close, but not it)."
    if _close(x, (1 - lam) ** steps):
        return False, "the factor per step is 1 - ηλ: the learning rate scales the decay."
    return False, "each step is w ← (1 - ηλ)·w when the data gradient is 0."


@exercise("6.3")
def _lasso_all_zero(answer: Any) -> tuple[bool, str]:
    # the lesson's 2-D loss L(w) = (w - c)ᵀA(w - c); (0, 0) solves LASSO iff λ ≥ |∂L/∂w_i(0)|
    a, c = np.array([[1.0, 0.4], [0.4, 0.5]]), np.array([1.0, 0.3])
    grad0 = np.abs(2 * a @ c)
    x = _number(answer)
    if abs(x - grad0.max()) <= 0.01:
        return True, "λ ≥ max |∂L/∂w_i(0)| = 2.24: the soft threshold then keeps both at 0."
    if abs(x - grad0.min()) <= 0.01:
        return False, "that is w₂'s gradient at 0; w₁'s is larger, and both must stay at 0."
    if abs(x - grad0.max() / 2) <= 0.01:
        return False, "L = dᵀAd has gradient 2Ad: don't forget the factor 2."
    if x > grad0.max():
        return False, "(0, 0) is already the solution at a smaller λ: look for the smallest."
    return False, "below that λ the gradient step from (0, 0) leaves the dead zone [-ηλ, ηλ]."


# --- lesson 07: dropout ------------------------------------------------------------------


@exercise("7.1")
def _inference_scale(answer: Any) -> tuple[bool, str]:
    p_drop = 0.35
    q = 1 - p_drop
    x = _number(answer)
    if _close(x, q):
        return True, "q = 1 - p: inference then matches the expected input seen in training."
    if _close(x, 1 / q):
        return False, "1/q is inverted dropout's training scale; the lecture scales at inference."
    if _close(x, p_drop) or _close(x, 1 / p_drop):
        return False, "0.35 is the drop probability; the expected kept fraction is q = 1 - p."
    return False, "match the expected training input: E[m·a] for m ~ Bernoulli(q)."


@exercise("7.2")
def _expected_kept(answer: Any) -> tuple[bool, str]:
    n, p = 50, 0.3
    x = _number(answer)
    if _close(x, n * (1 - p)):
        return True, "each unit is kept with probability 1 - p; expectations add."
    if _close(x, n * p):
        return False, "p is the probability of dropping (PyTorch's convention)."
    return False, "expected kept = n·(1 - p)."


@exercise("7.3")
def _inverted_dropout(answer: Any) -> tuple[bool, str]:
    if not callable(answer):
        return False, "expected a function inverted_dropout(xs, q, rng)."
    rng = np.random.default_rng(0)
    xs = [1.0, -2.0, 0.5, 3.0]
    q = 0.7
    runs = np.array([[_number(v) for v in answer(xs, q, rng)] for _ in range(4000)])
    if runs.shape != (4000, len(xs)):
        return False, "return one output per input."
    allowed = np.isclose(runs, 0.0) | np.isclose(runs, np.array(xs) / q)
    if not allowed.all():
        return False, "each output must be 0 (dropped) or x/q (kept, scaled)."
    kept = float(np.mean(~np.isclose(runs, 0.0)))
    if abs(kept - q) > 0.03:
        return False, f"it keeps {kept:.0%} of the units; q = {q} should keep {q:.0%}."
    if np.unique(runs[:, 0]).size < 2:
        return False, "the mask must be drawn anew on every call."
    mean = runs.mean(0)
    if not np.allclose(mean, xs, atol=0.1):
        return False, f"the mean output {np.round(mean, 2)} should be about the input {xs}."
    return True, "E[m·x/q] = q·x/q = x: the expectation is unchanged, inference is the identity."


# --- lesson 08: batch normalization ------------------------------------------------------


@exercise("8.1")
def _normalised(answer: Any) -> tuple[bool, str]:
    batch, sample = np.array([2.0, 4.0, 4.0, 10.0]), 10.0
    x = _number(answer)
    want = (sample - batch.mean()) / batch.std()
    if _close(x, want, rel=1e-4):
        return True, "(x - μ)/σ with the batch's own mean and (biased) variance."
    if _close(x, (sample - batch.mean()) / batch.std(ddof=1), rel=1e-4):
        return False, "batch norm divides the squared deviations by m, not m - 1, in training."
    if _close(x, (sample - batch.mean()) / batch.var(), rel=1e-4):
        return False, "divide by the standard deviation √σ², not the variance."
    return False, "μ = mean of the batch, σ² = mean squared deviation, x̂ = (x - μ)/√σ²."


@exercise("8.2")
def _running_mean(answer: Any) -> tuple[bool, str]:
    momentum, batch_means = 0.1, (4.0, 2.0)
    x = _number(answer)

    def run(weight_new: float) -> float:
        running = 0.0
        for mean in batch_means:
            running = (1 - weight_new) * running + weight_new * mean
        return running

    if _close(x, run(momentum)):
        return True, "the running mean moves a fraction (momentum) of the way per batch."
    if _close(x, float(np.mean(batch_means))) or _close(x, batch_means[-1]):
        return False, "the running mean moves only a fraction (momentum) towards the batch mean."
    if _close(x, run(1 - momentum)):
        return False, "momentum 0.1 is the weight of the new batch (PyTorch's convention)."
    if _close(x, momentum * batch_means[-1]) or _close(x, momentum * sum(batch_means)):
        return False, "apply the update once per batch, in order: the first batch's share decays."
    return False, "running ← (1 - momentum)·running + momentum·batch mean, from 0, per batch."


@exercise("8.3")
def _batchnorm_fn(answer: Any) -> tuple[bool, str]:
    if not callable(answer):
        return False, "expected a function batchnorm(xs, gamma, beta, eps)."
    rng = np.random.default_rng(8)
    for gamma, beta in [(1.0, 0.0), (2.0, -1.0), (0.5, 3.0)]:
        xs = rng.normal(4.0, 2.0, 7)
        got = np.array([_number(v) for v in answer(xs.tolist(), gamma, beta, 1e-5)])
        want = gamma * (xs - xs.mean()) / np.sqrt(xs.var() + 1e-5) + beta
        if got.shape != want.shape:
            return False, "return one output per input."
        if not np.allclose(got, want, rtol=1e-6, atol=1e-9):
            if np.allclose(got, gamma * (xs - xs.mean()) / np.sqrt(xs.var(ddof=1) + 1e-5) + beta):
                return (
                    False,
                    "use the biased variance (divide by m) as batch norm does in training.",
                )
            return False, f"for γ={gamma}, β={beta} the outputs differ from γ·x̂ + β."
    return True, "normalise with the batch's μ and σ², then scale by γ and shift by β."


@exercise("1.4")
def _softsign(answer: Any) -> tuple[bool, str]:
    from chainrule.engine import Function, Value, gradcheck

    if not (isinstance(answer, type) and issubclass(answer, Function)):
        return False, "expected your class, a subclass of engine.Function (not an instance)."
    for x0 in (-2.5, -0.4, 0.3, 1.7):
        x = Value(x0)
        y = answer.apply(x)
        if not _close(y.data, x0 / (1 + abs(x0))):
            return False, f"forward at x = {x0} gives {y.data:.6g}, not softsign's value."
        y.backward()
        if not _close(x.grad, 1 / (1 + abs(x0)) ** 2, rel=1e-9):
            return False, f"backward at x = {x0} gives {x.grad:.6g}: differentiate x/(1 + |x|)."
        if not gradcheck(answer.apply, [x0], raise_exception=False).ok:
            return False, f"gradcheck disagrees at x = {x0}."
    return True, "value and derivative agree, and gradcheck passes at every point tried."
