"""Losses, each the mean over the batch as in PyTorch's default reduction.

Predictions are a batch of outputs ([[y], [y], ...] or a flat list of one output per
sample), or one sample's output (a Value; for cross entropy, its list of logits), or
`model(X)` of a 2-D array (batched Values: one graph for the batch); targets are plain
numbers or a numpy array. Each loss is a function (`mse_loss`) and a module
(`MSELoss()`), as in PyTorch.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Real
from typing import Any

import numpy as np
from chainrule.engine import Value, add_all, binary_cross_entropy_with_logits, softmax_cross_entropy


def _column(pred: Sequence[Any]) -> list[Value]:
    out = []
    for p in pred:
        if isinstance(p, (list, tuple)):
            if len(p) != 1:
                raise ValueError(f"expected one output per sample, got {len(p)}")
            p = p[0]
        out.append(p if isinstance(p, Value) else Value(p))
    return out


def _mean(terms: list[Value]) -> Value:
    if not terms:
        raise ValueError("loss of an empty batch")
    return add_all(terms) / len(terms)


def _batch_of(pred: Any, target: Any) -> tuple[Any, Any]:
    """One sample's output (a Value) and its target become a batch of one."""
    if isinstance(pred, Value):
        return [pred], [target] if isinstance(target, Real) else target
    return pred, target


def _batched(pred: Any) -> list[Value] | None:
    """A batched output (`model(X)` of a 2-D array: one Value over the batch, or a list of
    them, one per output) as a list; None for per-sample outputs."""
    outs = [pred] if isinstance(pred, Value) else pred
    values = isinstance(outs, list) and outs and all(isinstance(v, Value) for v in outs)
    return outs if values and any(type(v.data) is not float for v in outs) else None


def _targets(target: Any, n: int, width: int) -> np.ndarray:
    """Targets for a batch of n samples and `width` outputs, as a float array (n, width)."""
    t = np.asarray(target)
    if t.dtype == bool or t.dtype.kind not in "fiu":
        raise TypeError(f"targets must be numbers, got an array of {t.dtype}")
    t = t.astype(float).reshape(len(t), -1) if t.ndim else t
    if t.ndim != 2 or t.shape != (n, width):
        raise ValueError(
            f"a batch of {n} samples × {width} outputs, but targets of shape {t.shape}"
        )
    return t


def _check(pred: Sequence[Any], target: Sequence[Any]) -> None:
    if isinstance(target, Real) or not hasattr(target, "__len__"):
        raise TypeError(f"targets must be a sequence with one per prediction, got {target!r}")
    if len(pred) != len(target):
        raise ValueError(f"{len(pred)} predictions but {len(target)} targets")


def mse_loss(pred: Sequence[Any], target: Sequence[Any]) -> Value:
    """(1/N) Σ (ŷ_i - y_i)²  (torch.nn.functional.mse_loss)."""
    outs = _batched(pred)
    if outs is not None:
        t = _targets(target, len(outs[0].data), len(outs))
        return add_all([((o - t[:, k]) ** 2).sum() for k, o in enumerate(outs)]) / t.size
    pred, target = _batch_of(pred, target)
    _check(pred, target)
    flat_p = [v for p in pred for v in (p if isinstance(p, (list, tuple)) else [p])]
    flat_t = [v for t in target for v in (t if isinstance(t, (list, tuple)) else [t])]
    if len(flat_p) != len(flat_t):
        raise ValueError(f"{len(flat_p)} predicted values but {len(flat_t)} target values")
    return _mean([(p - t) ** 2 for p, t in zip(flat_p, flat_t)])


def bce_with_logits(logits: Sequence[Any], target: Sequence[float]) -> Value:
    """Binary cross-entropy on logits x with targets y in [0, 1]:
    ℓ = -[y ln σ(x) + (1-y) ln(1-σ(x))] = (1-y)·x + softplus(-x), one stable node per
    sample (torch's binary_cross_entropy_with_logits)."""
    outs = _batched(logits)
    if outs is not None:
        (x,) = _one_output(outs)
        return binary_cross_entropy_with_logits(x, _targets(target, len(x.data), 1)[:, 0]).mean()
    logits, target = _batch_of(logits, target)
    _check(logits, target)
    return _mean([binary_cross_entropy_with_logits(x, y) for x, y in zip(_column(logits), target)])


def cross_entropy(logits: Sequence[Any], target: Any) -> Value:
    """Softmax cross-entropy: ℓ = -ln softmax(z)_y = ln Σ_k e^{z_k} - z_y, one fused node
    per sample (log-sum-exp, stable); dℓ/dz_k = softmax(z)_k - [k = y]. A class is an
    integer (1.7 is an error, not class 1); one sample's logits with one class work too.
    Batched logits (a list of K batched Values) take an array of classes."""
    outs = _batched(logits)
    if outs is not None:
        return softmax_cross_entropy(outs, np.asarray(target)).mean()
    if isinstance(target, Real) and logits and not isinstance(logits[0], (list, tuple)):
        logits, target = [logits], [target]
    _check(logits, target)
    return _mean([softmax_cross_entropy(z, _class(y)) for z, y in zip(logits, target)])


def _one_output(outs: list[Value]) -> list[Value]:
    if len(outs) != 1:
        raise ValueError(f"expected one output per sample, got {len(outs)}")
    return outs


def _class(y: Any) -> int:
    if isinstance(y, bool) or not isinstance(y, Real) or float(y) != int(float(y)):
        raise ValueError(f"cross_entropy: a class is an integer, got {y!r}")
    return int(float(y))


def hinge_loss(scores: Sequence[Any], target: Sequence[float], margin: float = 1.0) -> Value:
    """SVM hinge loss with labels y = ±1: (1/N) Σ max(0, margin - y·s) (micrograd's demo)."""
    outs = _batched(scores)
    if outs is not None:
        (s,) = _one_output(outs)
        labels = _targets(target, len(s.data), 1)[:, 0]
        if not np.isin(labels, (-1.0, 1.0)).all():
            raise ValueError("hinge loss labels must be -1 or +1")
        return (margin - labels * s).relu().mean()
    scores, target = _batch_of(scores, target)
    _check(scores, target)
    terms = []
    for s, y in zip(_column(scores), target):
        if y not in (-1, 1):
            raise ValueError(f"hinge loss labels must be -1 or +1, got {y!r}")
        terms.append((margin - float(y) * s).relu())
    return _mean(terms)


class _Loss:
    """A loss as a module-like object: `loss_fn = MSELoss(); loss_fn(pred, target)`."""

    fn: Any

    def __call__(self, pred: Any, target: Any) -> Value:
        return self.fn(pred, target)  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class MSELoss(_Loss):
    """torch.nn.MSELoss: the mean of (ŷ_i - y_i)²."""

    fn = staticmethod(mse_loss)


class BCEWithLogitsLoss(_Loss):
    """torch.nn.BCEWithLogitsLoss: binary cross-entropy on logits, targets in [0, 1]."""

    fn = staticmethod(bce_with_logits)


class CrossEntropyLoss(_Loss):
    """torch.nn.CrossEntropyLoss: softmax cross-entropy on logits, integer classes."""

    fn = staticmethod(cross_entropy)


class HingeLoss(_Loss):
    """The SVM hinge loss of micrograd's demo, labels ±1."""

    fn = staticmethod(hinge_loss)
