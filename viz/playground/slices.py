"""Pause points: between two slices of nn's training step (`nn.train.Trainer.slices`,
CHUNK samples of the batch's forward and backward, or of the validation, at a time), the
thread that trains may pause, or let a request read the model, rather than after a whole
step. The chunk is a fixed number of samples, not timed, so that a run's arithmetic (and
a link's result) never depends on the machine's speed.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator

# samples in one slice: with the batched engine, 128 samples through 8 x 32 forward and
# backward take ~10 ms, so a request waits ~20 ms at most at the largest settings (256
# samples made that 70-130 ms, over the 100 ms goal; 64 costs a third of the steps/s)
CHUNK = 128

_local = threading.local()


def pause_point() -> None:
    """Between two slices of work: the thread that trains may pause here (see
    `session.Session`), and may raise to drop the step. A no-op in any other thread."""
    hook: Callable[[], None] | None = getattr(_local, "hook", None)
    if hook is not None:
        hook()


@contextlib.contextmanager
def pausing(hook: Callable[[], None]) -> Iterator[None]:
    """`pause_point()` calls `hook` in this thread while inside."""
    _local.hook = hook
    try:
        yield
    finally:
        _local.hook = None
