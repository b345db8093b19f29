"""Dropout: in training, each unit is kept with probability 1-p and dropped (zeroed)
otherwise, so no unit can rely on a specific other one.

Notation: `p` is the probability of *dropping* a unit, as in torch.nn.Dropout. The
lecture writes p for the probability of *keeping* one; its keep probability is our 1-p.

Two forms with the same expected output:
- inverted (default, PyTorch): training output x·m/(1-p) with m ~ Bernoulli(1-p);
  inference is the identity.
- classic (the lecture's, `inverted=False`): training output x·m; at inference every
  unit is used and scaled by the keep probability 1-p.
Dropped units stay in the graph multiplied by 0, so drawings show the zeroed paths and
no gradient flows through them.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
from chainrule.engine import Value
from chainrule.nn.init import make_generator
from chainrule.nn.module import Batch, Module


def check_probability(p: object, name: str = "Dropout probability p") -> float:
    """`p` as a float in [0, 1] (PyTorch's rule: p = 1 drops everything), or ValueError
    naming it: NaN, ±inf, bools and strings are refused; numpy scalars are numbers."""
    if isinstance(p, (bool, np.bool_)) or not isinstance(p, Real) or not 0.0 <= float(p) <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {p!r}")
    return float(p)


class Dropout(Module):
    """Drop each element with probability p (training mode only)."""

    p: float
    inverted: bool
    generator: np.random.Generator

    def __init__(
        self,
        p: float = 0.5,
        *,
        inverted: bool = True,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        self.p = check_probability(p)
        self.inverted = inverted
        self.generator = make_generator(seed)
        self.last_mask: list[list[bool]] | None = None  # which elements the last pass kept

    def forward(self, batch: Batch, mask: list[list[bool]] | None = None) -> Batch:
        """Apply dropout; `mask` (True = keep) overrides the random draw."""
        keep = 1.0 - self.p
        if not self.training:
            self.last_mask = None
            if self.inverted or self.p == 0.0:
                return batch
            return [[(v if isinstance(v, Value) else Value(v)) * keep for v in x] for x in batch]
        if len(batch) == 1 and any(
            isinstance(v, Value) and type(v.data) is not float for v in batch[0]
        ):
            return self._batched(batch[0], keep, mask)
        if self.p == 0.0 and mask is None:
            self.last_mask = [[True] * len(x) for x in batch]
            return batch
        if mask is None:
            mask = [(self.generator.random(len(x)) < keep).tolist() for x in batch]
        elif [len(m) for m in mask] != [len(x) for x in batch]:
            raise ValueError("Dropout mask must have the shape of the batch")
        self.last_mask = mask
        scale = 1.0 / keep if self.inverted and keep > 0.0 else 1.0  # p = 1: all dropped
        return [
            [
                (v if isinstance(v, Value) else Value(v)) * (scale if k else 0.0)
                for v, k in zip(x, m)
            ]
            for x, m in zip(batch, mask)
        ]

    def _batched(self, x: list[Value], keep: float, mask: list[list[bool]] | None) -> Batch:
        """One sample of batched Values (engine.batched): a mask per sample, drawn in the
        per-sample order (sample by sample, feature by feature), so both give one mask."""
        n = max(len(v.data) if type(v.data) is not float else 1 for v in x)
        if self.p == 0.0 and mask is None:
            self.last_mask = [[True] * len(x)] * n
            return [x]
        if mask is None:
            keeps = self.generator.random((n, len(x))) < keep
        else:
            keeps = np.asarray(mask, dtype=bool)
            if keeps.shape != (n, len(x)):
                raise ValueError("Dropout mask must have the shape of the batch")
        self.last_mask = keeps.tolist()
        scale = 1.0 / keep if self.inverted and keep > 0.0 else 1.0  # p = 1: all dropped
        return [[v * np.where(keeps[:, i], scale, 0.0) for i, v in enumerate(x)]]

    def extra_repr(self) -> str:
        return f"p={self.p}" + ("" if self.inverted else ", inverted=False")
