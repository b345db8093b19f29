"""Checkers and solutions of lesson 12 (real data: the handwritten digits)."""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.course._core import exercise, number, solution


@exercise("12.1")
def _parameters(answer: Any) -> tuple[bool, str]:
    from chainrule.nn import MLP

    x = number(answer)
    want = len(MLP(64, [32, 10], seed=0).parameters())
    if x == want:
        return True, "a weight per input of each unit, plus one bias per unit."
    if x == 64 * 32 + 32 * 10:
        return False, "each unit also has a bias."
    if x == 32 + 10:
        return False, "that counts units; count each unit's weights and bias."
    if x == 64 * 32 + 32:
        return False, "the output layer's weights and biases count too."
    return False, "layer by layer: n_in·n_out weights plus n_out biases."


@solution("12.1")
def _() -> Any:
    answer = (64 * 32 + 32) + (32 * 10 + 10)  # weights + biases of each layer
    return answer


@exercise("12.2")
def _recall(answer: Any) -> tuple[bool, str]:
    if not callable(answer):
        return False, "expected a function recall(table)."
    rng = np.random.default_rng(12)
    table = rng.integers(0, 5, (4, 4)) + np.diag(rng.integers(20, 40, 4))
    got = np.asarray(answer(table.copy()), dtype=float)
    if got.shape != (4,):
        return False, "return one recall per class (a vector of length k)."
    rows, cols = table.sum(1), table.sum(0)
    if np.allclose(got, np.diag(table) / rows):
        return True, "of the images that are digit k, the share predicted as k: the row's hits."
    if np.allclose(got, np.diag(table) / cols):
        return False, "that divides by the column sums: precision; recall divides by the row sums."
    if np.allclose(got, np.diag(table) / table.sum()):
        return False, "divide each hit count by its own class's count, not by all samples."
    return False, "the diagonal entry of each row over that row's sum."


@solution("12.2")
def _() -> Any:
    import numpy as np

    def recall(table):
        table = np.asarray(table)
        return np.diag(table) / table.sum(axis=1)  # rows: the true digit

    answer = recall
    return answer


@exercise("12.3")
def _standardize(answer: Any) -> tuple[bool, str]:
    if not callable(answer):
        return False, "expected a function standardize(train, other)."
    rng = np.random.default_rng(3)
    train = rng.uniform(0, 16, (40, 5))
    train[:, 0] = 0.0  # a pixel that is blank in every training image
    other = rng.uniform(0, 16, (10, 5)) + 2.0
    got = np.asarray(answer(train.copy(), other.copy()), dtype=float)
    if got.shape != other.shape:
        return False, "return `other` standardized, in its own shape."
    if not np.isfinite(got).all():
        return False, "a blank pixel has std 0 in training: divide by max(std, a small floor)."
    mu, sd = train.mean(0), train.std(0)
    want = (other - mu) / np.where(sd > 0, sd, 1.0)
    if np.allclose(got[:, 1:], want[:, 1:]):
        return True, "the training set's statistics only: the other sets stay unseen."
    own = (other - other.mean(0)) / other.std(0)
    if np.allclose(got[:, 1:], own[:, 1:]):
        return False, "that uses `other`'s own statistics: a leak; use the training set's."
    rows = (other - other.mean(1, keepdims=True)) / other.std(1, keepdims=True)
    if np.allclose(got, rows):
        return False, "per image instead of per pixel: take mean and std over the samples."
    return False, "subtract the training mean and divide by the training std, per pixel."


@solution("12.3")
def _() -> Any:
    import numpy as np

    def standardize(train, other):
        mu, sd = train.mean(axis=0), train.std(axis=0)
        return (other - mu) / np.where(sd > 0, sd, 1.0)  # a blank pixel has std 0

    answer = standardize
    return answer
