"""One graph for the whole batch (engine.batched), side by side with micrograd, the
per-sample graph and plain floats: micrograd's moons step (goal: 1,000x micrograd), the
bytes a batched graph needs per node and sample, the playground's 8x32 network on 1,000
points (goal: 20 full-batch steps/s) and the digits MLP 64-32-10 (goal: 95% test accuracy
in under 30 s)."""

from __future__ import annotations

import random
import subprocess
import sys
import time
from typing import Any

import numpy as np
from chainrule.engine.backprop import order
from chainrule.nn import MLP, Adam, cross_entropy, make_moons
from chainrule.nn.data import load_digits, train_val_split
from micrograd.nn import MLP as MicroMLP

from benchmarks.bench_mlp import YS, X, step_floats, step_values
from benchmarks.common import best_time, bytes_allocated, table

XA, YA = np.array(X), np.array(YS)


def batched_step(
    model: MLP, params: list, x: np.ndarray, y: np.ndarray, lr: float = 0.05, l2: bool = True
) -> float:
    """micrograd's demo step with one graph for the batch: the issue's three lines (`l2`:
    with micrograd's L2 term, 674 scalar nodes for this network)."""
    score = model(x)
    loss = (1 - y * score).relu().mean()
    if l2:
        loss = loss + 1e-4 * sum(p * p for p in params)
    for p in params:
        p.grad = 0.0
    loss.backward()
    for p in params:
        p.data -= lr * p.grad
    return loss.data  # type: ignore[no-any-return]


def micrograd_alone() -> float:
    """micrograd's step timed in a new process without PyTorch (chainrule.nn is loaded
    only for the data): micrograd's garbage is collected by walking every object in the
    process, so it runs faster where the heap is small (0.40-0.50 s here against
    0.67-0.87 s beside PyTorch)."""
    code = (
        "import random; random.seed(0)\n"
        "from micrograd.nn import MLP\n"
        "from benchmarks.bench_mlp import X, step_values\n"
        "from benchmarks.common import best_time\n"
        "m = MLP(2, [16, 16, 1]); ps = m.parameters()\n"
        "print(best_time(lambda: step_values(m, ps, lambda m: [m(x) for x in X]), 3))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.split()[-1])


def _moons(repeat: int) -> str:
    random.seed(0)
    micro, ours = MicroMLP(2, [16, 16, 1]), MLP(2, [16, 16, 1], seed=0)
    mp, op = micro.parameters(), ours.parameters()
    sd = ours.state_dict()
    w = [sd[f"layers.{i}.weight"] for i in range(3)]
    b = [sd[f"layers.{i}.bias"] for i in range(3)]
    times = {
        "micrograd": best_time(lambda: step_values(micro, mp, lambda m: [m(x) for x in X]), 3),
        "micrograd, in a process without PyTorch": micrograd_alone(),
        "chainrule, per sample": best_time(
            lambda: step_values(ours, op, lambda m: [s[0] for s in m(X)]), repeat
        ),
        "plain floats (by hand)": best_time(lambda: step_floats(w, b), repeat),
        "chainrule, one graph for the batch": best_time(
            lambda: batched_step(ours, op, XA, YA), repeat * 4, number=25
        ),
        "the same without the L2 term": best_time(
            lambda: batched_step(ours, op, XA, YA, l2=False), repeat * 4, number=25
        ),
    }
    base, batched = times["micrograd"], times["chainrule, one graph for the batch"]
    rows = [
        [k, f"{t * 1e3:.2f} ms", f"{base / t:,.0f}x", f"{t / batched:.1f}x"]
        for k, t in times.items()
    ]
    return table(
        "Moons step batched: MLP 2-16-16-1, 100 samples, SVM loss + L2 (goal >= 1,000x micrograd)",
        ["implementation", "time per step", "speed vs micrograd", "time vs batched"],
        rows,
    )


def _graph_bytes() -> str:
    model = MLP(2, [16, 16, 1], seed=0)
    rows = []
    for n in (100, 1000):
        xs, y = make_moons(n, noise=0.1, seed=1)
        ys = np.where(y == 1, 1.0, -1.0)

        def batched(xs: np.ndarray = xs, ys: np.ndarray = ys) -> Any:
            return (1 - ys * model(xs)).relu().mean()

        def per_sample(xs: np.ndarray = xs, ys: np.ndarray = ys) -> Any:
            return [(1 - yi * s[0]).relu() for yi, s in zip(ys.tolist(), model(xs.tolist()))]

        nodes = len(order(batched()))
        per_nodes = len(set().union(*(order(t) for t in per_sample())))
        b, p = bytes_allocated(batched), bytes_allocated(per_sample)
        rows.append(
            [
                f"{n:,} samples",
                f"{nodes:,} / {per_nodes:,}",
                f"{b / nodes / n:.1f}",
                f"{p / per_nodes:.0f}",
                f"{p / b:.1f}x",
            ]
        )
    return table(
        "Memory: the moons forward graph, batched vs per sample (tracemalloc)",
        ["batch", "nodes batched / per sample", "bytes/node/sample batched",
         "bytes/node per sample", "per sample / batched"],
        rows,
    )  # fmt: skip


def _wide(repeat: int) -> str:
    """The playground's largest network, 8 hidden layers of 32, on 1,000 points."""
    xs, y = make_moons(1000, noise=0.1, seed=1)
    ys = np.where(y == 1, 1.0, -1.0)
    model = MLP(2, [32] * 8 + [1], seed=0)
    params = model.parameters()
    t = best_time(lambda: batched_step(model, params, xs, ys, lr=0.01), repeat, time.process_time)
    return table(
        "The 8x32 network (8 hidden layers of 32, 8,833 parameters), 1,000 samples, full batch",
        ["implementation", "time per step", "steps/s", "goal"],
        [["chainrule, one graph for the batch", f"{t * 1e3:.1f} ms", f"{1 / t:.1f}", ">= 20"]],
    )


def digits(epochs: int = 20, seed: int = 0) -> tuple[float, float]:
    """The digits recipe: MLP 64-32-10, softmax cross-entropy, Adam lr 0.01, minibatch 64,
    inputs / 16, seed 0, 20% held out. (seconds per epoch, test accuracy)."""
    x, y = load_digits()
    (xtr, ytr), (xte, yte) = train_val_split(x / 16.0, y, 0.2, seed=seed)
    model = MLP(64, [32, 10], seed=seed)
    opt = Adam(model.parameters(), lr=0.01)
    rng = np.random.default_rng(seed)
    t0 = time.process_time()
    for _ in range(epochs):
        perm = rng.permutation(len(xtr))
        for i in range(0, len(perm), 64):
            idx = perm[i : i + 64]
            loss = cross_entropy(model(xtr[idx]), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    per_epoch = (time.process_time() - t0) / epochs
    model.eval()
    logits = np.column_stack([v.data for v in model(xte)])
    return per_epoch, float((logits.argmax(axis=1) == yte).mean())


def _digits() -> str:
    per_epoch, acc = digits()
    return table(
        "Digits: MLP 64-32-10, softmax CE, Adam lr 0.01, minibatch 64, 20 epochs (CPU time)",
        ["time per epoch", "20 epochs", "test accuracy (20% held out)", "goal"],
        [[f"{per_epoch:.2f} s", f"{20 * per_epoch:.1f} s", f"{acc:.1%}", ">= 95% in < 30 s"]],
    )


def run(repeat: int = 5) -> str:
    return "\n".join([_moons(repeat), _graph_bytes(), _wide(repeat), _digits()])


if __name__ == "__main__":  # OPENBLAS_NUM_THREADS=1 as benchmarks.run sets it (see there)
    print(run())
