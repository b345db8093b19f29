"""Checkers and solutions of lessons 4 (backprop in matrix form) and 7 (beyond first
derivatives), and the helpers those lessons import."""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.course._core import close, exercise, number, solution


def _array(answer: Any, shape: tuple[int, ...]) -> np.ndarray:
    a = np.asarray(answer, dtype=float)
    if a.shape != shape:
        raise ValueError(f"expected shape {shape}, got {a.shape}")
    return a


# --- lesson 04: backprop in matrix form --------------------------------------------------


def gate_values() -> tuple[float, float, float]:
    """Exercise 4.1's inputs x, y, z of f = max(x, y)·(y + z)."""
    return 3.0, -1.0, 2.0


@exercise("4.1")
def _gates(answer: Any) -> tuple[bool, str]:
    from chainrule.engine import Value

    x, y, z = (Value(v) for v in gate_values())
    f = (x - y).relu() + y  # max(x, y) without a max op: the larger input gets the gradient
    f = f * (y + z)
    f.backward()
    if not isinstance(answer, (tuple, list)) or len(answer) != 3:
        return False, "expected a triple (df/dx, df/dy, df/dz)."
    got = [number(v) for v in answer]
    want = [x.grad, y.grad, z.grad]
    if all(close(g, w) for g, w in zip(got, want)):
        return True, "max routes to the larger input, + copies, × swaps in the other factor."
    m, s = max(x.data, y.data), y.data + z.data
    if close(got[1], m):
        return False, "y is used twice: the max routes nothing to it here, but y + z does."
    if close(got[0], s / 2) or close(got[1], s / 2):
        return False, "max does not split the gradient: it routes all of it to the larger input."
    if close(got[2], s):
        return False, "z's gradient through × is the other factor, max(x, y), not (y + z)."
    return False, "mul swaps (each factor gets the other), add distributes, max routes."


@solution("4.1")
def _() -> Any:
    x, y, z = 3.0, -1.0, 2.0
    m, s = max(x, y), y + z  # f = m·s: × swaps, so df/dm = s and df/ds = m
    answer = (s * (x > y), s * (y > x) + m, m)  # max routes to x; + copies to y and z
    return answer


def small_network(seed: int = 0) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """A 3 → 4 → 2 tanh network's weights and biases (lesson 4 and exercise 4.2)."""
    rng = np.random.default_rng(seed)
    ws = [rng.normal(0, 0.8, (4, 3)), rng.normal(0, 0.8, (2, 4))]
    bs = [rng.normal(0, 0.3, 4), rng.normal(0, 0.3, 2)]
    return ws, bs


@exercise("4.2")
def _delta_hidden(answer: Any) -> tuple[bool, str]:
    if not callable(answer):
        return False, "expected a function delta_hidden(W_next, delta_next, z)."
    rng = np.random.default_rng(4)
    w_next, delta_next, z = (
        rng.normal(size=(2, 4)),
        rng.normal(size=(5, 2)),
        rng.normal(size=(5, 4)),
    )
    try:
        got = _array(answer(w_next, delta_next, z), (5, 4))
    except ValueError as e:
        if "shape" in str(e) or "aligned" in str(e) or "mismatch" in str(e):
            return False, (
                "the shapes do not fit: with one sample per row, δˡ⁺¹ (B × 2) times "
                "Wˡ⁺¹ (2 × 4) is the batch form of (Wˡ⁺¹)ᵀδˡ⁺¹."
            )
        raise
    back = delta_next @ w_next
    if np.allclose(got, back * (z > 0)):
        return True, "the error signal goes back through W and is gated by relu'(z), row by row."
    if np.allclose(got, back):
        return False, "the factor relu'(z) (1 where z > 0, else 0) is missing: ⊙, entry by entry."
    if np.allclose(got, back * np.maximum(z, 0)):
        return False, "use the derivative relu'(z), 0 or 1, not relu(z) itself."
    if np.allclose(got, back * (1 - np.tanh(z) ** 2)):
        return False, "these units are ReLUs, not tanh: relu'(z) is 1 where z > 0, else 0."
    return False, "row b of the result is (Wˡ⁺¹)ᵀ δˡ⁺¹_b ⊙ relu'(zˡ_b)."


@solution("4.2")
def _() -> Any:
    def delta_hidden(w_next, delta_next, z):
        # rows are samples: (Wᵀδ)ᵀ = δᵀW for each row, then gate by relu'(z)
        return (delta_next @ w_next) * (z > 0)

    answer = delta_hidden
    return answer


def _bn_engine(x: np.ndarray, gamma: float, dout: np.ndarray, eps: float) -> np.ndarray:
    """dL/dx of L = Σ dout·BN(x) by chainrule's scalar graph."""
    from chainrule.engine import Value

    xs = [Value(float(v)) for v in x]
    m = len(xs)
    mu = sum(xs, Value(0.0)) / m
    var = sum(((v - mu) ** 2 for v in xs), Value(0.0)) / m
    ys = [gamma * (v - mu) / (var + eps) ** 0.5 for v in xs]
    sum((y * float(d) for y, d in zip(ys, dout)), Value(0.0)).backward()
    return np.array([v.grad for v in xs])


@exercise("4.3")
def _bn_backward(answer: Any) -> tuple[bool, str]:
    if not callable(answer):
        return False, "expected a function bn_backward(x, gamma, dout, eps)."
    rng = np.random.default_rng(11)
    x, dout, gamma, eps = rng.normal(1.0, 2.0, 6), rng.normal(size=6), 1.7, 1e-5
    got = _array(answer(x.copy(), gamma, dout.copy(), eps), (6,))
    want = _bn_engine(x, gamma, dout, eps)
    if np.allclose(got, want, rtol=1e-6, atol=1e-9):
        return True, "it agrees with chainrule's graph: every x_i also moves μ and σ²."
    sigma = np.sqrt(x.var() + eps)
    xhat = (x - x.mean()) / sigma
    if np.allclose(got, gamma * dout / sigma):
        return False, "μ and σ² were treated as constants; they depend on every x_i."
    if np.allclose(got, gamma / sigma * (dout - dout.mean())):
        return False, "the path through σ² is missing (the term with x̂·mean(dout·x̂))."
    if np.allclose(got, gamma / sigma * (dout - xhat * np.mean(dout * xhat))):
        return False, "the path through μ is missing (the term -mean(dout))."
    if np.allclose(got, want / gamma):
        return False, "γ is missing: y = γx̂ + β, so every path starts with γ."
    return False, "differentiate x̂_i = (x_i - μ)/√(σ² + ε) through x_i, μ and σ²."


@solution("4.3")
def _() -> Any:
    import numpy as np

    def bn_backward(x, gamma, dout, eps):
        sigma = np.sqrt(x.var() + eps)
        xhat = (x - x.mean()) / sigma
        # direct path, minus the path through μ, minus the path through σ²
        return gamma / sigma * (dout - dout.mean() - xhat * np.mean(dout * xhat))

    answer = bn_backward
    return answer


# --- lesson 07: beyond first derivatives -------------------------------------------------


def curvy(x: Any, y: Any) -> Any:
    """Exercise 7.1's function f(x, y) = x²y + y³ (Values or floats)."""
    return x * x * y + y * y * y


def _hessian(f: Any, point: list[float]) -> np.ndarray:
    from chainrule.engine import Value, grad

    xs = [Value(v) for v in point]
    gs = grad(f(*xs), xs, create_graph=True)
    return np.array([grad(g, xs, allow_unused=True) for g in gs], dtype=float)


@exercise("7.1")
def _hessian_entries(answer: Any) -> tuple[bool, str]:
    got = _array(answer, (2, 2))
    want = _hessian(curvy, [1.0, 2.0])
    if np.allclose(got, want):
        return True, "the mixed entries agree: second derivatives commute (Schwarz)."
    if not np.allclose(got, got.T):
        return False, "a Hessian of a smooth f is symmetric: ∂²f/∂x∂y = ∂²f/∂y∂x."
    if np.allclose(np.diag(got), np.diag(want)):
        return False, "the diagonal is right; the mixed entry is ∂/∂y of ∂f/∂x = 2xy."
    if np.allclose(got, np.diag(np.diag(want))):
        return False, "the mixed entries are missing."
    return False, "differentiate each entry of ∇f = (2xy, x² + 3y²) once more."


@solution("7.1")
def _() -> Any:
    x, y = 1.0, 2.0  # ∇f = (2xy, x² + 3y²)
    answer = [[2 * y, 2 * x], [2 * x, 6 * y]]
    return answer


def quartic(w: list[Any]) -> Any:
    """Exercise 7.2's loss f(w) = (w₀w₁ - 1)² + w₀⁴/4 + w₁² (Values or floats)."""
    return (w[0] * w[1] - 1.0) ** 2 + w[0] ** 4 / 4 + w[1] * w[1]


@exercise("7.2")
def _newton(answer: Any) -> tuple[bool, str]:
    from chainrule.engine import Value, grad

    if not callable(answer):
        return False, "expected a function newton_step(f, w)."
    w = [0.7, -1.3]
    h = _hessian(lambda a, b: quartic([a, b]), w)
    ws = [Value(a) for a in w]
    g = np.array(grad(quartic(ws), ws), dtype=float)
    got = _array(answer(quartic, list(w)), (2,))
    if np.allclose(got, w - np.linalg.solve(h, g)):
        return True, "w - H⁻¹∇f: the minimum of the local quadratic model, in one step."
    if np.allclose(got, w - h @ g):
        return False, "multiply by H⁻¹, not H: solve H·d = ∇f for the step d."
    if np.allclose(got, w + np.linalg.solve(h, g)):
        return False, "the sign: Newton steps to w - H⁻¹∇f."
    if np.allclose(got, w - g):
        return False, "that is a gradient step; Newton's divides by the curvature, H⁻¹∇f."
    if np.allclose(got, np.linalg.solve(h, g)) or np.allclose(got, -np.linalg.solve(h, g)):
        return False, "that is the step itself; return the new point w - H⁻¹∇f."
    return False, "build H row by row from grad(create_graph=True), then w - H⁻¹∇f."


@solution("7.2")
def _() -> Any:
    import numpy as np

    from chainrule.engine import Value, grad

    def newton_step(f, w):
        ws = [Value(x) for x in w]
        g = grad(f(ws), ws, create_graph=True)  # ∇f as Values, differentiable again
        hessian = np.array([grad(gi, ws, allow_unused=True) for gi in g])  # row i: ∇(∂f/∂w_i)
        return np.array(w) - np.linalg.solve(hessian, [gi.data for gi in g])

    answer = newton_step
    return answer


QUADRATIC = np.array([[3.0, 1.0, 0.0], [1.0, 2.0, 0.5], [0.0, 0.5, 0.6]])
"""Exercise 7.3's loss L(w) = ½ wᵀAw."""


@exercise("7.3")
def _lr_bound(answer: Any) -> tuple[bool, str]:
    lam = np.linalg.eigvalsh(QUADRATIC)
    x = number(answer)
    if close(x, 2 / lam.max(), rel=1e-4):
        return True, "above it, the step overshoots along the steepest eigenvector and grows."
    if close(x, 1 / lam.max(), rel=1e-4):
        return (
            False,
            "at 1/λ_max the stiffest direction is solved in one step; it diverges at 2/λ_max.",
        )
    if close(x, 2 / lam.min(), rel=1e-4):
        return False, "the bound comes from the largest eigenvalue, the stiffest direction."
    if close(x, 2 / np.trace(QUADRATIC), rel=1e-4) or close(x, 2 / QUADRATIC.max(), rel=1e-4):
        return False, "use the eigenvalues of A, not its trace or its entries."
    return False, "each eigen-direction is multiplied by (1 - ηλ) per step: |1 - ηλ| < 1."


@solution("7.3")
def _() -> Any:
    import numpy as np

    from chainrule.course.checks import QUADRATIC

    # w ← w - ηAw = (I - ηA)w: along eigenvector k the factor is 1 - ηλ_k, |1 - ηλ_k| < 1
    answer = 2 / np.linalg.eigvalsh(QUADRATIC).max()
    return answer
