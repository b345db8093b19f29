"""BatchNorm1d (batch 32, 16 features) and an MLP with it: forward+backward, chainrule vs
the same graph built from PyTorch 0-dim float64 scalars."""

from __future__ import annotations

import math
from typing import Any

import torch
from chainrule.nn import MLP, BatchNorm1d
from chainrule.nn.data import make_moons

from benchmarks.common import best_time, table

N, F = 32, 16


def _scalar_bn(
    batch: list[list[Any]], gamma: list[Any], beta: list[Any], eps: float = 1e-5
) -> list[list[Any]]:
    n = len(batch)
    cols = []
    for j in range(len(batch[0])):
        col = [row[j] for row in batch]
        mean = sum(col) / n
        cen = [x - mean for x in col]
        std = (sum(c * c for c in cen) / n + eps).sqrt()
        cols.append([gamma[j] * (c / std) + beta[j] for c in cen])
    return [[cols[j][i] for j in range(len(cols))] for i in range(n)]


def _t(x: float) -> torch.Tensor:
    return torch.tensor(x, dtype=torch.float64, requires_grad=True)


def _torch_mlp_bn(x: list[list[float]], sizes: list[int]) -> torch.Tensor:
    act = [[_t(v) for v in row] for row in x]
    widths = [len(x[0]), *sizes]
    for li in range(len(sizes)):
        w = [
            [_t(0.1 * ((i + j) % 5 - 2)) for i in range(widths[li])] for j in range(widths[li + 1])
        ]
        b = [_t(0.0) for _ in range(widths[li + 1])]
        z = [[sum(wi * ai for wi, ai in zip(row, a)) + bj for row, bj in zip(w, b)] for a in act]
        if li < len(sizes) - 1:
            z = _scalar_bn(
                z,
                [_t(1.0) for _ in range(widths[li + 1])],
                [_t(0.0) for _ in range(widths[li + 1])],
            )
            z = [[v.relu() for v in r] for r in z]
        act = z
    return sum(r[0] for r in act)


def run(repeat: int = 3) -> str:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(N, F, generator=g, dtype=torch.float64).tolist()
    moons, _ = make_moons(N, seed=0)

    def ours_bn() -> Any:
        out = BatchNorm1d(F)(x)
        s = sum(v for r in out for v in r)
        s.backward()
        return s

    def torch_bn() -> Any:
        xs = [[_t(v) for v in r] for r in x]
        out = _scalar_bn(xs, [_t(1.0) for _ in range(F)], [_t(0.0) for _ in range(F)])
        s = sum(v for r in out for v in r)
        s.backward()
        return s

    def ours_mlp() -> Any:
        # per sample (a list of rows), as the torch scalars it is compared with
        s = sum(r[0] for r in MLP(2, [16, 16, 1], batchnorm=True, seed=0)(moons.tolist()))
        s.backward()
        return s

    def torch_mlp() -> Any:
        s = _torch_mlp_bn(moons, [16, 16, 1])
        s.backward()
        return s

    rows = []
    for name, ours, theirs in [
        ("BatchNorm1d(16), batch 32", ours_bn, torch_bn),
        ("MLP 2-16-16-1 with batch norm, batch 32", ours_mlp, torch_mlp),
    ]:
        a, b = best_time(ours, repeat), best_time(theirs, repeat)
        rows.append([name, f"{a * 1e3:.1f} ms", f"{b * 1e3:.1f} ms", f"{b / a:.1f}x"])
    assert math.isfinite(a)
    return table(
        "Batch norm: forward+backward, chainrule vs PyTorch 0-dim scalars",
        ["graph", "chainrule", "pytorch scalars", "chainrule speed-up"],
        rows,
    )


if __name__ == "__main__":
    print(run())
