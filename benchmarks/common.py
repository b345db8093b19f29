"""Timing and memory helpers shared by the benchmark sections."""

from __future__ import annotations

import gc
import time
import tracemalloc
from collections.abc import Callable
from typing import Any


def best_time(
    fn: Callable[[], Any],
    repeat: int,
    clock: Callable[[], float] = time.perf_counter,
    number: int = 1,
) -> float:
    """Fastest of `repeat` runs of `number` calls each (the time per call), each run
    starting on a collected heap.

    A step of a millisecond or less is timed `number` times in a row, as a training loop
    runs it: alone right after a collection it would run on caches the collection has just
    emptied (with PyTorch imported, a full collection walks ~10^5 objects, and the next
    0.5 ms step takes ~1.5x longer).

    The garbage collector stays on during the run, as a user runs it; collecting
    before each run keeps one library's cyclic garbage from being charged to the next.
    (A full collection walks every live object, imported modules included: with PyTorch
    imported, micrograd's collections cost more than in a process without it.)
    `clock=time.process_time` measures this process's CPU time (a shared machine).
    """
    times = []
    for _ in range(repeat):
        gc.collect()
        t0 = clock()
        for _ in range(number):
            result = fn()
        times.append((clock() - t0) / number)
        del result
    gc.collect()
    return min(times)


def bytes_allocated(fn: Callable[[], Any]) -> int:
    """Bytes still allocated (tracemalloc) while `fn`'s result is alive."""
    gc.collect()
    tracemalloc.start()
    result = fn()
    current, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del result
    gc.collect()
    return current


def table(title: str, header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table, so the output pastes straight into an issue."""
    lines = [f"### {title}", "", "| " + " | ".join(header) + " |"]
    lines.append("|" + "|".join("---" for _ in header) + "|")
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"
