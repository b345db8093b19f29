"""Engine: build and back-propagate the same graph of binary and unary ops with
chainrule, micrograd 0.1.0 and PyTorch 0-dim float64 tensors."""

from __future__ import annotations

import gc
import random
import time
from collections.abc import Callable
from typing import Any

import torch
from chainrule.engine import Value
from chainrule.engine.backprop import order
from micrograd.engine import Value as MicroValue

from benchmarks.common import bytes_allocated, table

# Each op maps values in [-1, 1] into [-1, 1], so a deep graph neither overflows nor
# vanishes; all of them exist in all three libraries.
OPS: list[Callable[[Any, Any], Any]] = [
    lambda a, b: a * b,
    lambda a, b: (a + b) * 0.5,
    lambda a, b: (a - b) * 0.5,
    lambda a, b: a.relu(),
    lambda a, b: a**2,
    lambda a, b: -a,
]


def layered_graph(leaves: list[Any], depth: int) -> Any:
    """`depth` layers, each combining pairs of the layer before, then a pairwise sum."""
    width = len(leaves)
    layer = leaves
    for d in range(depth):
        layer = [
            OPS[(j + d) % len(OPS)](layer[j], layer[(7 * j + d + 1) % width]) for j in range(width)
        ]
    while len(layer) > 1:
        layer = [layer[i] + layer[i + 1] for i in range(0, len(layer) - 1, 2)] + (
            [layer[-1]] if len(layer) % 2 else []
        )
    return layer[0]


LIBRARIES: dict[str, Callable[[float], Any]] = {
    "micrograd": MicroValue,
    "chainrule": Value,
    "pytorch": lambda x: torch.tensor(x, dtype=torch.float64, requires_grad=True),
}


def run_one(width: int, depth: int, repeat: int = 3) -> str:
    rng = random.Random(0)
    xs = [rng.uniform(-1, 1) for _ in range(width)]
    nodes = len(order(layered_graph([Value(x) for x in xs], depth)))
    # the three libraries build the same graph: same root value and leaf gradients
    roots = []
    for make in LIBRARIES.values():
        leaves = [make(x) for x in xs[:50]]
        root = layered_graph(leaves, 6)
        root.backward()
        roots.append((float(root.data), [float(v.grad) for v in leaves]))
    for value, grads in roots[1:]:
        assert abs(value - roots[0][0]) <= 1e-9 * max(1.0, abs(value))
        assert all(abs(a - b) <= 1e-9 * max(1.0, abs(b)) for a, b in zip(grads, roots[0][1]))
    results: dict[str, dict[str, float]] = {}
    for name, make in LIBRARIES.items():

        def forward(make: Callable[[float], Any] = make) -> Any:
            return layered_graph([make(x) for x in xs], depth)

        def trial(make: Callable[[float], Any] = make) -> tuple[float, float]:
            gc.collect()  # start on a collected heap: no one's garbage is charged here
            # CPU time of this process: the machine running it is often shared
            t0 = time.process_time()
            root = forward(make)
            t1 = time.process_time()
            root.backward()
            return t1 - t0, time.process_time() - t1

        runs = [trial() for _ in range(repeat)]
        gc.collect()
        results[name] = {
            "fwd": min(f for f, _ in runs),
            "bwd": min(b for _, b in runs),
            "both": min(f + b for f, b in runs),
            "bytes": bytes_allocated(forward) / nodes,
        }
    base = results["micrograd"]
    rows = []
    for name, r in results.items():
        # tracemalloc sees only Python's allocator; PyTorch keeps tensors on its C++ heap
        seen = name != "pytorch"
        rows.append(
            [
                name,
                f"{nodes / r['fwd'] / 1e3:,.0f}k ({base['fwd'] / r['fwd']:.1f}x)",
                f"{nodes / r['bwd'] / 1e3:,.0f}k ({base['bwd'] / r['bwd']:.1f}x)",
                f"{base['both'] / r['both']:.2f}x",
                f"{r['bytes']:.0f}" if seen else "n/a (C++ heap)",
                f"{r['bytes'] / base['bytes']:.3f}x" if seen else "n/a",
            ]
        )
    return table(
        f"Engine: layered graph of binary/unary ops ({nodes:,} nodes, GC on, CPU time)",
        [
            "library",
            "forward nodes/s (vs micrograd)",
            "backward nodes/s (vs micrograd)",
            "fwd+bwd speed vs micrograd",
            "bytes/node",
            "memory vs micrograd",
        ],
        rows,
    )


def run() -> str:
    """A small and a large graph: micrograd's garbage collection grows with the graph,
    so the ratio does too."""
    return run_one(500, 20) + "\n" + run_one(2000, 40)


if __name__ == "__main__":
    print(run())
