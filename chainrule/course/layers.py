"""Checkers and solutions of lessons 10 (dropout) and 11 (batch normalization)."""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.course._core import close, exercise, number, solution

# --- lesson 10: dropout ------------------------------------------------------------------


@exercise("10.1")
def _inference_scale(answer: Any) -> tuple[bool, str]:
    p_drop = 0.35
    q = 1 - p_drop
    x = number(answer)
    if close(x, q):
        return True, "inference then matches the expected input each unit saw in training."
    if close(x, 1 / q):
        return (
            False,
            "that is inverted dropout's training scale 1/q; the lecture scales at inference.",
        )
    if close(x, p_drop) or close(x, 1 / p_drop):
        return False, "0.35 is the drop probability; the expected kept fraction is q = 1 - p."
    return False, "match the expected training input: E[m·a] for m ~ Bernoulli(q)."


@solution("10.1")
def _() -> Any:
    answer = 1 - 0.35  # keep probability q = 1 - p, and E[m·a] = q·a
    return answer


@exercise("10.2")
def _expected_kept(answer: Any) -> tuple[bool, str]:
    n, p = 50, 0.3
    x = number(answer)
    if close(x, n * (1 - p)):
        return True, "each unit is kept with probability 1 - p; expectations add."
    if close(x, n * p):
        return False, "p is the probability of dropping (PyTorch's convention), not keeping."
    if close(x, 1 - p):
        return False, "that is one unit's keep probability; there are 50 units."
    return False, "add up every unit's probability of being kept."


@solution("10.2")
def _() -> Any:
    answer = 50 * (1 - 0.3)  # p is the drop probability
    return answer


@exercise("10.3")
def _inverted_dropout(answer: Any) -> tuple[bool, str]:
    if not callable(answer):
        return False, "expected a function inverted_dropout(xs, q, rng)."
    rng = np.random.default_rng(0)
    xs = [1.0, -2.0, 0.5, 3.0]
    q = 0.7
    runs = np.array([[number(v) for v in answer(xs, q, rng)] for _ in range(4000)])
    if runs.shape != (4000, len(xs)):
        return False, "return one output per input."
    kept_unscaled = np.isclose(runs, 0.0) | np.isclose(runs, np.array(xs))
    if kept_unscaled.all():
        return False, "kept units must be divided by q, or the expectation shrinks to q·x."
    if (np.isclose(runs, 0.0) | np.isclose(runs, np.array(xs) * q)).all():
        return False, "multiply by 1/q, not by q: inverted dropout scales up the kept units."
    allowed = np.isclose(runs, 0.0) | np.isclose(runs, np.array(xs) / q)
    if not allowed.all():
        return False, "each output must be 0 (dropped) or x/q (kept, scaled)."
    kept = float(np.mean(~np.isclose(runs, 0.0)))
    if abs(kept - (1 - q)) < 0.03:
        return False, "it keeps a unit with probability 1 - q: q is the keep probability."
    if abs(kept - q) > 0.03:
        return False, f"it keeps {kept:.0%} of the units; q = {q} should keep that share."
    if np.unique(runs[:, 0]).size < 2:
        return False, "the mask must be drawn anew on every call."
    if (
        np.mean(np.all(np.isclose(runs, 0.0), axis=1) | np.all(~np.isclose(runs, 0.0), axis=1))
        > 0.5
    ):
        return False, "one coin for the whole layer: draw an independent mask entry per unit."
    return True, "E[m·x/q] = q·x/q = x: the expectation is unchanged, inference is the identity."


@solution("10.3")
def _() -> Any:
    def inverted_dropout(xs, q, rng):
        keep = rng.random(len(xs)) < q
        return [x / q if k else 0.0 for x, k in zip(xs, keep)]

    answer = inverted_dropout
    return answer


# --- lesson 11: batch normalization ------------------------------------------------------


@exercise("11.1")
def _normalised(answer: Any) -> tuple[bool, str]:
    batch, sample = np.array([2.0, 4.0, 4.0, 10.0]), 10.0
    x = number(answer)
    if close(x, (sample - batch.mean()) / batch.std(), rel=1e-4):
        return True, "(x - μ)/σ with the batch's own mean and (biased) variance."
    if close(x, (sample - batch.mean()) / batch.std(ddof=1), rel=1e-4):
        return False, "batch norm divides the squared deviations by m, not m - 1, in training."
    if close(x, (sample - batch.mean()) / batch.var(), rel=1e-4):
        return False, "divide by the standard deviation √σ², not the variance."
    if close(x, sample - batch.mean(), rel=1e-4):
        return False, "centred but not scaled: divide by √σ²."
    return False, "μ = mean of the batch, σ² = mean squared deviation, x̂ = (x - μ)/√σ²."


@solution("11.1")
def _() -> Any:
    import numpy as np

    xb = np.array([2.0, 4.0, 4.0, 10.0])
    answer = (10.0 - xb.mean()) / np.sqrt(np.mean((xb - xb.mean()) ** 2))
    return answer


@exercise("11.2")
def _running_mean(answer: Any) -> tuple[bool, str]:
    momentum, batch_means = 0.1, (4.0, 2.0)
    x = number(answer)

    def run(weight_new: float) -> float:
        running = 0.0
        for mean in batch_means:
            running = (1 - weight_new) * running + weight_new * mean
        return running

    if close(x, run(momentum)):
        return True, "the running mean moves a fraction (momentum) of the way per batch."
    if close(x, float(np.mean(batch_means))) or close(x, batch_means[-1]):
        return False, "the running mean moves only a fraction (momentum) towards the batch mean."
    if close(x, run(1 - momentum)):
        return False, "momentum 0.1 is the weight of the new batch (PyTorch's convention)."
    if close(x, momentum * batch_means[-1]) or close(x, momentum * sum(batch_means)):
        return False, "apply the update once per batch, in order: the first batch's share decays."
    return False, "running ← (1 - momentum)·running + momentum·batch mean, from 0, per batch."


@solution("11.2")
def _() -> Any:
    running = 0.0
    for batch_mean in (4.0, 2.0):
        running = 0.9 * running + 0.1 * batch_mean
    answer = running
    return answer


def _bn(xs: np.ndarray, gamma: float, beta: float, eps: float, how: str = "") -> np.ndarray:
    var = xs.var(ddof=1) if how == "unbiased" else xs.var()
    scale = np.sqrt(var) + eps if how == "eps outside" else np.sqrt(var + eps)
    return gamma * (xs - xs.mean()) / scale + beta


@exercise("11.3")
def _batchnorm_fn(answer: Any) -> tuple[bool, str]:
    if not callable(answer):
        return False, "expected a function batchnorm(xs, gamma, beta, eps)."
    rng = np.random.default_rng(8)
    # the last case has a large ε and a small spread, so ε's place shows in the output
    for gamma, beta, eps, std in [
        (1.0, 0.0, 1e-5, 2.0),
        (2.0, -1.0, 1e-5, 2.0),
        (0.5, 3.0, 0.1, 0.3),
    ]:
        xs = rng.normal(4.0, std, 7)
        got = np.array([number(v) for v in answer(xs.tolist(), gamma, beta, eps)])
        if got.shape != xs.shape:
            return False, "return one output per input."
        if np.allclose(got, _bn(xs, gamma, beta, eps), rtol=1e-6, atol=1e-9):
            continue
        mistakes = {
            "unbiased": "use the biased variance (divide by m) as batch norm does in training.",
            "eps outside": "ε goes under the root, √(σ² + ε), not σ + ε.",
        }
        for how, why in mistakes.items():
            if np.allclose(got, _bn(xs, gamma, beta, eps, how), rtol=1e-6, atol=1e-9):
                return False, why
        if np.allclose(got, _bn(xs, beta, gamma, eps), rtol=1e-6, atol=1e-9):
            return False, "γ and β are swapped: γ scales, β shifts."
        if np.allclose(got, gamma * (xs - xs.mean()) + beta, rtol=1e-6, atol=1e-9):
            return False, "centred but not scaled: divide x - μ by √(σ² + ε)."
        return False, f"for γ={gamma}, β={beta}, ε={eps} the outputs differ from γ·x̂ + β."
    return True, "normalise with the batch's μ and σ², then scale by γ and shift by β."


@solution("11.3")
def _() -> Any:
    def batchnorm(xs, gamma, beta, eps):
        mu = sum(xs) / len(xs)
        var = sum((v - mu) ** 2 for v in xs) / len(xs)
        return [gamma * (v - mu) / (var + eps) ** 0.5 + beta for v in xs]

    answer = batchnorm
    return answer
