"""The playground's speed for 2-16-16-1 on 200 training points: training steps per
second (the `Value` engine: forward, backward, optimizer step, update ratios) and
picture frames per second (the boundary grid, histograms and network in numpy, plus the
JSON the page receives). Goals: 20 steps/s and 5 frames/s on one core."""

from __future__ import annotations

import json
import os
from collections.abc import Callable

from chainrule.viz.playground import config
from chainrule.viz.playground.session import finite
from chainrule.viz.playground.trainer import Trainer

from benchmarks.common import best_time, table

SETTINGS = {"samples": "250", "val_split": "0.2", "hidden": "16,16", "dataset": "moons"}


def trainer(batch_size: int) -> Trainer:
    t = Trainer(config.parse({**SETTINGS, "batch_size": str(batch_size)}))
    assert len(t.y_train) == 200
    return t


def per_second(fn: Callable[[], object], n: int, repeat: int = 3) -> float:
    return n / best_time(lambda: [fn() for _ in range(n)], repeat)


def run() -> str:
    """The table, measured on one core (the process is pinned to one CPU while it runs,
    numpy's threads included, where the system allows it)."""
    pin = hasattr(os, "sched_setaffinity")
    before = os.sched_getaffinity(0) if pin else set()
    if pin:
        os.sched_setaffinity(0, {min(before)})
    try:
        return _measure(one_core=pin)
    finally:
        if pin:
            os.sched_setaffinity(0, before)


def _measure(one_core: bool) -> str:
    full, small = trainer(0), trainer(32)
    for t in (full, small):  # warm up: first epoch, caches
        for _ in range(3):
            t.step()
    full_steps = per_second(full.step, 20)
    small_steps = per_second(small.step, 40)
    picture = per_second(full.picture, 20)
    frame = per_second(lambda: json.dumps(finite(full.snapshot())), 20)
    rows = [
        ["training step, full batch (200 samples, + epoch's validation)", full_steps, 20],
        ["training step, batch 32", small_steps, 20],
        ["boundary 60x60 + histograms + network (numpy)", picture, 5],
        ["whole frame as sent (+ losses, ratios, points, JSON)", frame, 5],
    ]
    return table(
        "Playground: 2-16-16-1 on 200 moons points, "
        + ("one core" if one_core else "one process (cores not pinned)"),
        ["what", "per second", "ms each", "goal per second"],
        [[w, f"{r:.1f}", f"{1000 / r:.2f}", f">= {g}"] for w, r, g in rows],
    )


if __name__ == "__main__":
    print(run())
