"""The playground's speed.

1. Its parts, for 2-16-16-1 on 200 training points: training steps per second (the
   `Value` engine: forward, backward, optimizer step, update ratios) and picture frames per
   second (the boundary grid, histograms and network in numpy, plus the JSON the page
   receives). Goals: 20 steps/s and 5 frames/s on one core.
2. A live session, as a tab sees it: steps/s, frames delivered per second to a reader
   waiting as the server's event stream does, the frames' size (at most 256 KB), and how
   long a request waits for the model (`holding()`, as a sample's backprop does) or for a
   pause while training runs. Goal: at most 100 ms, at the largest settings too
   (8 x 32 on 1,800 samples, full batch: a whole step is ~20 s, cut into slices)."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable

from chainrule.nn.finite import finite_or_none as finite
from chainrule.viz.playground import config
from chainrule.viz.playground.session import Session
from chainrule.viz.playground.trainer import Trainer

from benchmarks.common import best_time, table

SETTINGS = {"samples": "250", "val_split": "0.2", "hidden": "16,16", "dataset": "moons"}
LIVE = {
    "2-16-16-1, 200 points, batch 32": {**SETTINGS, "batch_size": "32"},
    "8 x 32, 1,000 points, batch 32": {
        "samples": "1250", "val_split": "0.2", "hidden": ",".join(["32"] * 8), "batch_size": "32"
    },
    "8 x 32, 1,800 points, full batch (largest)": {
        "samples": "2000", "val_split": "0.1", "hidden": ",".join(["32"] * 8), "batch_size": "0"
    },
}  # fmt: skip
SECONDS = 3.0  # of play per live case
HEADER = ["case", "steps/s", "frames/s delivered", "frame KB mean / max",
          "request wait ms mean / max", "pause ms"]  # fmt: skip


def trainer(batch_size: int) -> Trainer:
    t = Trainer(config.parse({**SETTINGS, "batch_size": str(batch_size)}))
    assert len(t.y_train) == 200
    return t


def per_second(fn: Callable[[], object], n: int, repeat: int = 3) -> float:
    return 1.0 / best_time(fn, repeat, number=n)


def run() -> str:
    """The tables, measured on one core (the process is pinned to one CPU while it runs,
    numpy's threads included, where the system allows it)."""
    pin = hasattr(os, "sched_setaffinity")
    before = os.sched_getaffinity(0) if pin else set()
    if pin:
        os.sched_setaffinity(0, {min(before)})
    try:
        return _parts(one_core=pin) + "\n" + _live()
    finally:
        if pin:
            os.sched_setaffinity(0, before)


def _parts(one_core: bool) -> str:
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
        ["whole frame as sent (+ losses, ratios, JSON)", frame, 5],
    ]
    return table(
        "Playground: 2-16-16-1 on 200 moons points, "
        + ("one core" if one_core else "one process (cores not pinned)"),
        ["what", "per second", "ms each", "goal per second"],
        [[w, f"{r:.1f}", f"{1000 / r:.2f}", f">= {g}"] for w, r, g in rows],
    )


def _reader(session: Session, got: list[int], stop: threading.Event) -> None:
    """Read frames as the server's event stream does: each new version once."""
    seen = [session.version]
    while not stop.is_set():
        with session.changed:
            session.changed.wait_for(lambda: session.version != seen[0], timeout=0.5)
            if session.version != seen[0]:
                seen[0] = session.version
                got.append(len(session.frame))


def _waits(session: Session, stop: threading.Event, waits: list[float]) -> None:
    """Every 100 ms, a request that needs the model (as a sample's backprop does)."""
    while not stop.wait(0.1):
        t0 = time.perf_counter()
        with session.holding():
            pass
        waits.append(time.perf_counter() - t0)


def _live_case(settings: dict[str, str]) -> list[str]:
    s = Session(config.parse(settings))
    s.watch(True)
    got: list[int] = []
    waits: list[float] = []
    stop = threading.Event()
    threads = [
        threading.Thread(target=_reader, args=(s, got, stop)),
        threading.Thread(target=_waits, args=(s, stop, waits)),
    ]
    try:
        s.control("play")
        steps0, t0 = s.trainer.step_count, time.perf_counter()
        for t in threads:
            t.start()
        time.sleep(SECONDS)
        pause0 = time.perf_counter()
        s.control("pause")
        with s.holding():  # the worker has stopped at a pause point
            pause = time.perf_counter() - pause0
        elapsed = time.perf_counter() - t0
        steps = s.trainer.step_count - steps0
    finally:
        stop.set()
        for t in threads:
            t.join()
        s.close()
    frames = max(len(got), 1)
    return [
        f"{steps / elapsed:.1f}",
        f"{len(got) / elapsed:.1f}",
        f"{sum(got) / frames / 1024:.0f} / {max(got or [0]) / 1024:.0f}",
        f"{1000 * sum(waits) / max(len(waits), 1):.1f} / {1000 * max(waits or [0]):.1f}",
        f"{1000 * pause:.1f}",
    ]


def _live() -> str:
    rows = [[name, *_live_case(s)] for name, s in LIVE.items()]
    return table(f"Playground live session ({SECONDS:g} s of play each, one core)", HEADER, rows)


if __name__ == "__main__":
    print(run())
