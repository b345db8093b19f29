"""The moons training step of micrograd's demo (MLP 2-16-16-1, 100 samples, full batch,
SVM loss + L2), with chainrule and micrograd side by side, and the same step hand-written
on plain floats: the pure-Python limit."""

from __future__ import annotations

import random
from collections.abc import Callable
from operator import mul
from typing import Any

from chainrule.nn import MLP, make_moons
from micrograd.nn import MLP as MicroMLP

from benchmarks.common import best_time, table

X, Y = (a.tolist() for a in make_moons(100, noise=0.1, seed=1))  # plain lists for every side
YS = [1.0 if t == 1 else -1.0 for t in Y]


def step_values(model: Any, params: list, call: Callable[[Any], list]) -> float:
    """micrograd's demo step, written with Value ops (the same code for both libraries)."""
    scores = call(model)
    losses = [(1 + -yi * si).relu() for yi, si in zip(YS, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg = 1e-4 * sum(p * p for p in params)
    total = data_loss + reg
    for p in params:
        p.grad = 0.0
    total.backward()
    for p in params:
        p.data -= 0.05 * p.grad
    return total.data


def step_floats(w: list[list[list[float]]], b: list[list[float]]) -> float:
    """The same step written by hand on floats (forward, backward by the chain rule, SGD),
    as fast as plain Python gets: sums of products with map, columns with zip."""
    n = len(X)
    acts: list[list[list[float]]] = [X]
    for li, (wl, bl) in enumerate(zip(w, b)):
        z = [[sum(map(mul, row, a)) + bj for row, bj in zip(wl, bl)] for a in acts[-1]]
        acts.append(z if li == len(w) - 1 else [[v if v > 0.0 else 0.0 for v in r] for r in z])
    margins = [1.0 - y * a[0] for y, a in zip(YS, acts[-1])]
    loss = sum(m for m in margins if m > 0.0) / n
    loss += 1e-4 * (
        sum(v * v for wl in w for r in wl for v in r) + sum(v * v for bl in b for v in bl)
    )
    delta = [[-y / n if m > 0.0 else 0.0] for y, m in zip(YS, margins)]
    for li in range(len(w) - 1, -1, -1):
        wl, bl = w[li], b[li]
        d_cols, a_cols = list(zip(*delta)), list(zip(*acts[li]))
        gw = [[sum(map(mul, dj, ai)) for ai in a_cols] for dj in d_cols]
        gb = [sum(dj) for dj in d_cols]
        if li:
            w_cols = list(zip(*wl))
            delta = [
                [sum(map(mul, d, wi)) if ai > 0.0 else 0.0 for wi, ai in zip(w_cols, a)]
                for d, a in zip(delta, acts[li])
            ]
        for row, grow in zip(wl, gw):
            for i, (v, g) in enumerate(zip(row, grow)):
                row[i] = v - 0.05 * (g + 2e-4 * v)
        for j, (v, g) in enumerate(zip(bl, gb)):
            bl[j] = v - 0.05 * (g + 2e-4 * v)
    return loss


def run(repeat: int = 15) -> str:
    random.seed(0)
    micro = MicroMLP(2, [16, 16, 1])
    ours = MLP(2, [16, 16, 1], seed=0)
    ours_params, micro_params = ours.parameters(), micro.parameters()
    sd = ours.state_dict()
    w = [sd[f"layers.{i}.weight"] for i in range(3)]
    b = [sd[f"layers.{i}.bias"] for i in range(3)]
    times = {
        "micrograd": best_time(
            lambda: step_values(micro, micro_params, lambda m: [m(x) for x in X]), repeat
        ),
        "chainrule": best_time(
            lambda: step_values(ours, ours_params, lambda m: [s[0] for s in m(X)]), repeat
        ),
        "plain floats (by hand)": best_time(lambda: step_floats(w, b), repeat),
    }
    base = times["micrograd"]
    rows = [[k, f"{t * 1e3:.1f} ms", f"{base / t:.1f}x"] for k, t in times.items()]
    rows.append(
        [
            "chainrule / plain floats",
            f"{times['chainrule'] / times['plain floats (by hand)']:.1f}x slower",
            "",
        ]
    )
    return table(
        "Moons training step: MLP 2-16-16-1, 100 samples, SVM loss + L2 (GC on)",
        ["implementation", "time per step", "speed vs micrograd"],
        rows,
    )


if __name__ == "__main__":
    print(run())
