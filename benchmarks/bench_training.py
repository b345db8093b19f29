"""The one training loop's cost: a `Trainer` step (what `fit`, the CLI, the demo and the
playground run) against the bare step of micrograd's demo on the same network and data
(MLP 2-16-16-1, 100 samples, full batch, SVM loss + L2, SGD)."""

from __future__ import annotations

import numpy as np
from chainrule.nn import MLP, SGD, Trainer
from chainrule.nn.losses import hinge_loss
from chainrule.nn.regularization import l2_penalty

from benchmarks.bench_mlp import YS, X, Y
from benchmarks.common import best_time, table


def _trainer(track_updates: bool) -> Trainer:
    model = MLP(2, [16, 16, 1], seed=0)
    opt = SGD(model.parameters(), lr=0.05)
    return Trainer(model, X, Y, opt, epochs=10**6, l2=1e-4, track_updates=track_updates)


def _bare() -> tuple[MLP, SGD]:
    model = MLP(2, [16, 16, 1], seed=0)
    return model, SGD(model.parameters(), lr=0.05)


def run(repeat: int = 15) -> str:
    model, opt = _bare()

    xs = np.asarray(X, dtype=float)  # one batched graph, as the Trainer builds

    def bare_step() -> float:
        loss = hinge_loss(model(xs), YS) + 1e-4 * l2_penalty(model)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.data

    with_ratios, without = _trainer(True), _trainer(False)
    steps = {
        "bare batched step (forward, loss + L2, backward, SGD)": bare_step,
        "Trainer.step(), update ratios on": with_ratios.step,
        "Trainer.step(), update ratios off": without.step,
    }
    times = {k: best_time(step, repeat, number=10) for k, step in steps.items()}
    base = times["bare batched step (forward, loss + L2, backward, SGD)"]
    rows = [[k, f"{t * 1e3:.1f} ms", f"{t / base:.2f}x"] for k, t in times.items()]
    return table(
        "The training loop: a Trainer step vs the bare step (MLP 2-16-16-1, 100 samples)",
        ["step", "time per step", "cost vs the bare step"],
        rows,
    )


if __name__ == "__main__":
    print(run())
