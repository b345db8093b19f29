"""Batch normalization over a mini-batch, as torch.nn.BatchNorm1d.

Training, for each feature over the N samples of the batch:
    μ = (1/N) Σ x_i,   σ² = (1/N) Σ (x_i - μ)²          (biased variance)
    x̂_i = (x_i - μ) / √(σ² + ε),   y_i = γ x̂_i + β      (γ = weight, β = bias)
μ and σ² are built from `Value` ops, so the gradient flows through them exactly as in
PyTorch. The running averages are updated with the unbiased variance σ²·N/(N-1):
    running = (1 - momentum)·running + momentum·batch_stat
(momentum=None: the cumulative average, factor 1/num_batches_tracked).
Inference uses the running averages instead of the batch's statistics.
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Any

from chainrule.engine import Value, add_all
from chainrule.nn.module import Batch, Module, Parameter, StateDictError


class BatchNorm1d(Module):
    """Normalize each of `num_features` features over the batch.

    Arguments are checked as PyTorch does, when the module is made: eps > 0, momentum
    in [0, 1] or None. A batch of one sample in training mode is an error (its variance
    is 0: there is nothing to normalize by), as in PyTorch.
    """

    weight: Parameter | None  # γ
    bias: Parameter | None  # β

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
    ) -> None:
        if isinstance(num_features, bool) or not isinstance(num_features, int) or num_features < 1:
            raise ValueError(f"BatchNorm1d needs at least one feature, got {num_features!r}")
        if not _real(eps) or not eps > 0:
            raise ValueError(f"BatchNorm1d eps must be a number > 0, got {eps!r}")
        if momentum is not None and (not _real(momentum) or not 0.0 <= momentum <= 1.0):
            raise ValueError(f"BatchNorm1d momentum must be in [0, 1] or None, got {momentum!r}")
        self.num_features, self.eps = num_features, float(eps)
        self.momentum = None if momentum is None else float(momentum)
        self.affine, self.track_running_stats = affine, track_running_stats
        # γ (weight) and β (bias), named as torch.nn.BatchNorm1d's
        self.register_parameter("weight", Parameter([1.0] * num_features) if affine else None)
        self.register_parameter("bias", Parameter([0.0] * num_features) if affine else None)
        self.reset_running_stats()
        if track_running_stats:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, getattr(self, name))

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches seen (as PyTorch)."""
        self.running_mean = [0.0] * self.num_features
        self.running_var = [1.0] * self.num_features
        self.num_batches_tracked = 0

    def reset_parameters(self) -> None:
        """γ = 1, β = 0 and fresh running statistics: the module as made."""
        self.reset_running_stats()
        for g in self.weight or []:
            g.data = 1.0
        for b in self.bias or []:
            b.data = 0.0

    def forward(self, batch: Batch) -> Batch:
        f = self.num_features
        for x in batch:
            if len(x) != f:
                raise ValueError(f"BatchNorm1d expects {f} features per sample, got {len(x)}")
        columns = [
            [x[j] if isinstance(x[j], Value) else Value(x[j]) for x in batch] for j in range(f)
        ]
        # one sample of batched Values (engine.batched) is the whole batch: each column is
        # one Value over the samples, and the statistics are reductions in the graph
        batched = len(batch) == 1 and any(type(c[0].data) is not float for c in columns)
        n = len(columns[0][0].data) if batched else len(batch)
        use_batch_stats = self.training or not self.track_running_stats
        if use_batch_stats and self.training and n < 2:
            raise ValueError(f"BatchNorm1d needs more than 1 sample per batch in training, got {n}")
        if use_batch_stats and self.training and self.track_running_stats:
            self.num_batches_tracked += 1
        outputs = [
            self._normalize(j, col, n, use_batch_stats, batched) for j, col in enumerate(columns)
        ]
        return [[outputs[j][i] for j in range(f)] for i in range(len(batch))]

    def _normalize(
        self, j: int, col: list[Value], n: int, use_batch_stats: bool, batched: bool
    ) -> list[Value]:
        """Feature j of every sample (or, batched, its one Value over the samples)."""
        total = (lambda vs: vs[0].sum()) if batched else add_all
        if use_batch_stats:
            mean = total(col) / n
            centered = [x - mean for x in col]
            var = total([c * c for c in centered]) / n
            std = (var + self.eps).sqrt()
            normed = [c / std for c in centered]
            if self.training and self.track_running_stats:
                self._update_running(j, mean.data, var.data * n / (n - 1))
        else:
            inv = 1.0 / (self.running_var[j] + self.eps) ** 0.5
            normed = [(x - self.running_mean[j]) * inv for x in col]
        if self.weight is not None and self.bias is not None:
            normed = [self.weight[j] * v + self.bias[j] for v in normed]
        return normed

    def _update_running(self, j: int, mean: float, unbiased_var: float) -> None:
        m = 1.0 / self.num_batches_tracked if self.momentum is None else self.momentum
        self.running_mean[j] = (1 - m) * self.running_mean[j] + m * mean
        self.running_var[j] = (1 - m) * self.running_var[j] + m * unbiased_var

    def _check_buffer(self, name: str, value: Any, key: str) -> None:
        if name == "running_var" and min(value) < 0.0:
            raise StateDictError(f"state dict entry {key!r} holds a negative variance")

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}"
        )


def _real(x: object) -> bool:
    return isinstance(x, Real) and not isinstance(x, bool) and not math.isnan(float(x))  # type: ignore[arg-type]
