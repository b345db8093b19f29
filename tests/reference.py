"""PyTorch as the reference: float64 0-dim tensors and a strict comparison."""

from __future__ import annotations

import math

import torch

RTOL = 1e-12
ATOL = 1e-300


def leaf(x: float) -> torch.Tensor:
    return torch.tensor(x, dtype=torch.float64, requires_grad=True)


def close(
    ours: float, theirs: float | torch.Tensor, rtol: float = RTOL, atol: float = ATOL
) -> bool:
    """Equal to `rtol` relative; NaNs equal each other, infinities must match exactly."""
    t = float(theirs.detach()) if isinstance(theirs, torch.Tensor) else float(theirs)
    if math.isnan(ours) or math.isnan(t):
        return math.isnan(ours) and math.isnan(t)
    return math.isclose(ours, t, rel_tol=rtol, abs_tol=atol)


def assert_close(
    ours: float, theirs: float | torch.Tensor, what: str, rtol: float = RTOL, atol: float = ATOL
) -> None:
    """Relative `rtol`; `atol` only where a sum of many terms cancels to ~0 (models)."""
    assert close(ours, theirs, rtol, atol), f"{what}: chainrule {ours!r} != pytorch {theirs!r}"
