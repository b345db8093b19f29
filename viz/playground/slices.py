"""Training in slices of about 30 ms: `pause_point()` between two, where the thread that
trains may pause, or let a request read the model, rather than after a whole step
(8 x 32 on 1,800 samples is ~20 s a step).

- Without batch norm the mini-batch is cut into chunks of samples whose gradients add up:
  mean loss = Σ_chunks (chunk's mean)·k/n, so Σ ∂(chunk's mean·k/n)/∂w = ∂(mean loss)/∂w.
- Batch norm couples the samples of a batch: its step builds the whole batch's graph
  module by module (each layer's neurons in chunks of samples), then runs one backward
  pass, the part that cannot be sliced.
- Inference over many samples (the validation set) runs in chunks too (`SlicedMLP`).

The chunks' sizes are fixed by the model's size (SLICE_WORK), not timed, so a run's
arithmetic (and a link's result) never depends on the machine's speed.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from chainrule.nn import MLP, BatchNorm1d, l1_penalty, l2_penalty
from chainrule.nn.task import accuracy, row
from chainrule.nn.train import Trainer as Loop

# work in one slice, in samples x parameters: about 30 ms of forward and backward on a
# 2-core machine (8 x 32: 1 sample; 2-16-16-1: 35)
SLICE_WORK = 12_000

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


def chunk_size(model: MLP) -> int:
    """Samples in one slice of forward and backward."""
    return max(1, SLICE_WORK // len(model.parameters()))


class SlicedMLP(MLP):
    """An MLP whose inference over many samples runs in chunks of `chunk` samples, with a
    pause point between two (validating 1,800 samples through 8 x 32 takes ~4 s)."""

    chunk = 1 << 30

    def forward(self, batch: Any) -> Any:
        if self.training or len(batch) <= self.chunk:
            return super().forward(batch)
        out: list = []
        for i in range(0, len(batch), self.chunk):
            out += super().forward(batch[i : i + self.chunk])
            pause_point()
        return out


class SlicedLoop(Loop):
    """nn's training loop with its update done in slices (see the module's docstring);
    everything else (ratios, epochs, validation, early stopping, edits) is nn's."""

    @np.errstate(over="ignore", invalid="ignore")
    def _backward(self, xs: list, ys: list, n: int, last: bool) -> tuple[float, float]:
        """The gradients of the whole mini-batch (nn's loop calls this once per step,
        having zeroed the gradients; it then steps the optimizer and checks the
        weights): (data loss, samples classified right)."""
        if self._batchnorm:
            pred, data_loss = self._whole_batch(xs, ys)
        else:
            pred, data_loss = self._chunks(xs, ys)
        penalty = self.l1 * l1_penalty(self.model) if self.l1 and last else None
        if self.l2 and last:
            l2 = self.l2 * l2_penalty(self.model)
            penalty = l2 if penalty is None else penalty + l2
        if penalty is not None:
            if not math.isfinite(penalty.data):
                raise FloatingPointError(f"the penalty is {penalty.data}")
            penalty.backward()  # adds into the leaves' gradients
        right = accuracy(pred, ys) * len(ys) if self.task.classifies else 0.0
        return data_loss * len(ys) / n, right

    def _checked(self, out: list, yb: list) -> Any:
        if not all(math.isfinite(v.data) for p in out for v in row(p)):
            raise FloatingPointError("the model's outputs are not finite")
        loss = self.task.fn(out, yb)
        if not math.isfinite(loss.data):
            raise FloatingPointError(f"the loss is {loss.data}")
        return loss

    def _chunks(self, xb: list, yb: list) -> tuple[list, float]:
        """d(mean loss)/dw accumulated over chunks of the batch, a pause point after each."""
        n, k = len(yb), chunk_size(self.model)  # type: ignore[arg-type]
        pred: list = []
        total = 0.0
        for i in range(0, n, k):
            out = self.model(xb[i : i + k])
            loss = self._checked(out, yb[i : i + k])
            (loss * (len(out) / n)).backward()  # leaves add up the chunks' gradients
            total += loss.data * len(out)
            pred += out
            pause_point()
        return pred, total / n

    def _whole_batch(self, xb: list, yb: list) -> tuple[list, float]:
        """The whole batch's graph, module by module (layers in chunks of samples, batch
        norm over all of them), then one backward pass."""
        k = 2 * chunk_size(self.model)  # type: ignore[arg-type]
        batch = xb
        for m in self.model.layers:  # type: ignore[attr-defined]
            if isinstance(m, BatchNorm1d):
                batch = m(batch)
            else:
                batch = [
                    r for i in range(0, len(batch), k) for r in self._part(m, batch[i : i + k])
                ]
            pause_point()
        loss = self._checked(batch, yb)
        loss.backward()
        return batch, loss.data

    @staticmethod
    def _part(m: Any, rows: list) -> list:
        out = m(rows)
        pause_point()
        return out
