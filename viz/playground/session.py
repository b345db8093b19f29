"""One tab's run: a `Trainer` driven by a worker thread, which the page plays, pauses,
steps and edits, and whose pictures it reads as JSON frames.

Two locks, so that no request ever waits for a whole training step:
- `lock` guards the flags, pending edits and the latest frame; it is only ever held for
  a moment (never while training or drawing).
- `work` is held by the worker for one slice of a step (about `trainer.SLICE` seconds)
  at a time. A request that needs the model itself (a sample's backprop) takes it with
  `holding()`, and the worker lets waiting requests in before its next slice, so they
  wait at most one slice.
The worker alone trains, applies live edits (between steps) and draws the frames.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from typing import Any

from chainrule.nn.finite import finite_or_none
from chainrule.viz.playground import config
from chainrule.viz.playground.slices import pausing
from chainrule.viz.playground.trainer import Trainer

FRAME_INTERVAL = 0.1  # seconds between pictures while training (at most 10 a second)
UNWATCHED = 5.0  # seconds a run trains with no tab showing it before it pauses
IDLE_CHECK = 0.5  # seconds an idle worker sleeps before it looks at `closed` again
RATE_WINDOW = 2.0  # seconds of steps that steps/s counts


class Session:
    """A Trainer driven by a worker thread; `frame` (JSON) and `version` for the page."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.work = threading.Lock()
        self.trainer = Trainer(settings)
        self.settings: dict[str, Any] = settings  # accepted; the trainer takes edits later
        self.edits: dict[str, Any] | None = None  # live settings waiting for a step's end
        self.running = False
        self.pending = 0  # single steps asked for
        self.waiters = 0  # requests waiting for `work`
        self.dirty = False  # a new frame is wanted (after a control or an edit)
        self.closed = False
        self.version = 0
        self.frame = ""
        self.note = ""  # what the last settings change did (rebuilt, or applied live)
        self.last_frame = 0.0
        self.last_seen = time.monotonic()
        self.streams = 0  # event streams open on this session (tabs showing it)
        self.unwatched_since = time.monotonic()
        self.perf = {"steps_per_s": None, "frame_ms": 0.0}
        self._steps: deque[float] = deque()  # when recent steps ended, while playing
        self._played = time.monotonic()
        self._current = self.trainer  # the one the worker steps
        self._publish(self.trainer)
        self.worker = threading.Thread(target=self._run, daemon=True, name="playground-train")
        self.worker.start()

    # --- what requests do (each holds `lock` for a moment only) -------------------------
    def configure(self, settings: dict[str, Any]) -> str:
        """New (already checked) settings: applied to the running model between two steps
        when they only change live knobs, else a new model (paused). Returns "live" or
        "rebuilt"."""
        with self.lock:
            live = Trainer.is_live(self.settings, settings)
        if live:
            with self.lock:
                self.settings, self.edits = settings, settings
                self.note = "applied to the running model at its next step"
                self._wake()
            return "live"
        trainer = Trainer(settings)  # built before the lock: a failure changes nothing
        with self.lock:
            self.trainer, self.settings, self.edits = trainer, settings, None
            self.running, self.pending = False, 0
            self.note = "new data or network: the model was rebuilt (press play)"
            self._wake()
        return "rebuilt"

    def control(self, action: str) -> None:
        if action == "reset":
            self.configure_fresh()
            return
        with self.lock:
            if action == "play":
                self.running = not self.trainer.finished or self.edits is not None
                self._steps.clear()  # steps/s of this run, not across the pause
                self._played = time.monotonic()
                if self.trainer.message.startswith("paused:"):
                    self.trainer.message = ""  # the note about an unwatched pause is old news
            elif action == "pause":
                self.running = False
            elif action == "step":
                self.pending += 1
            else:
                raise ValueError(f"unknown action {action!r}; use play, pause, step or reset")
            self._wake()

    def configure_fresh(self) -> None:
        """A fresh model with the accepted settings (reset)."""
        trainer = Trainer(self.settings)
        with self.lock:
            self.trainer, self.edits, self.running, self.pending = trainer, None, False, 0
            self.note = ""
            self._wake()

    def watch(self, opened: bool) -> None:
        """An event stream opened or closed (a tab shown, hidden or closed)."""
        with self.lock:
            self.streams += 1 if opened else -1
            if self.streams == 0:
                self.unwatched_since = time.monotonic()

    @contextlib.contextmanager
    def holding(self) -> Iterator[Trainer]:
        """The trainer between two slices of work, for reading the model: the worker
        waits while a request holds it, and lets waiting requests in first."""
        with self.lock:
            self.waiters += 1
        try:
            with self.work:
                yield self.trainer
        finally:
            with self.lock:
                self.waiters -= 1
                self.changed.notify_all()

    def close(self) -> None:
        """Stop the worker without waiting for it: closing (a server's Ctrl-C, an evicted
        session) must not wait for a slice of work. The worker sees the flag after its
        current slice; an idle one is woken now, or by its wait's timeout."""
        self.closed = True
        if self.lock.acquire(blocking=False):
            try:
                self.changed.notify_all()
            finally:
                self.lock.release()

    def _wake(self) -> None:
        """(with `lock` held) ask the worker for a new frame, and wake it."""
        self.dirty = True
        self.changed.notify_all()

    # --- the worker ----------------------------------------------------------------------
    def _run(self) -> None:
        with pausing(self._checkpoint):
            while True:
                with self.lock:
                    self.changed.wait_for(self._has_work, timeout=IDLE_CHECK)
                    if self.closed:
                        return
                    trainer = self._current = self.trainer
                    edits, self.edits = self.edits, None
                    stepping = self.running or self.pending > 0
                    self.dirty = False
                with self.work:
                    if edits is not None:
                        trainer.message = f"changed: {trainer.edit(edits)}"
                    if stepping:
                        try:
                            trainer.step()
                        except Abandoned:
                            continue  # closed, or a new model: this one's step is dropped
                        except Exception as e:  # a bug: say so in the page, do not die
                            trainer.loop.finished = True
                            trainer.message = f"training failed: {type(e).__name__}: {e}"
                # drawn without `work`: requests only read the model, and only this
                # thread changes it
                self._after(trainer, stepping)

    def _has_work(self) -> bool:
        wanted = self.running or self.pending > 0 or self.dirty or self.edits is not None
        return self.closed or (self.waiters == 0 and wanted)

    def _checkpoint(self) -> None:
        """Between two slices of a step (the worker holds `work`): let waiting requests
        in, and wait here while paused, drawing a frame when one is asked for (the
        weights do not change in the middle of a step). Raises Abandoned when the session
        is closed or the model replaced: the rest of this step is not wanted."""
        current = self._current
        while True:
            with self.lock:
                self._auto_pause(current)
                if self.closed or self.trainer is not current:
                    raise Abandoned
                if self._go_on():
                    return
                show, self.dirty = self.dirty, False
            self.work.release()
            if show:
                self._publish(current)
            try:
                with self.lock:
                    self.changed.wait_for(lambda: self.dirty or self._go_on(), IDLE_CHECK)
            finally:
                self.work.acquire()

    def _go_on(self) -> bool:
        gone = self.closed or self.trainer is not self._current
        return gone or (self.waiters == 0 and (self.running or self.pending > 0))

    def _auto_pause(self, trainer: Trainer) -> None:
        """(with `lock` held) pause a run no tab has shown for UNWATCHED seconds."""
        if self.running and self._unwatched():
            self.running = False  # the tab was closed, or hidden for a while
            trainer.message = f"paused: no tab showed this run for {UNWATCHED:g} s"

    def _after(self, trainer: Trainer, stepped: bool) -> None:
        """Bookkeeping after a step: it counts, the run pauses when done or unwatched, and
        a frame is drawn when one is due."""
        now = time.monotonic()
        with self.lock:
            if stepped:
                self.pending = max(0, self.pending - 1) if not self.running else self.pending
                self._steps.append(now)
            if trainer.finished:
                self.running = False
            self._auto_pause(trainer)
            due = not self.running or now - self.last_frame > FRAME_INTERVAL
            if trainer is not self.trainer or not (due and (stepped or not self.running)):
                return
        self._publish(trainer)

    def _unwatched(self) -> bool:
        return self.streams == 0 and time.monotonic() - self.unwatched_since > UNWATCHED

    def _rate(self) -> float | None:
        """Steps per second over the last RATE_WINDOW seconds of play (None when paused):
        the steps that ended in the window over the time the window covers."""
        if not self.running:
            return None
        now = time.monotonic()
        while self._steps and self._steps[0] < now - RATE_WINDOW:
            self._steps.popleft()
        span = min(RATE_WINDOW, now - self._played)
        return len(self._steps) / span if span > 0.2 else None

    def _publish(self, trainer: Trainer) -> None:
        """Draw a frame (in the worker, or before it runs: only that thread changes the
        model, so reading it needs no `work`); `lock` is only taken to swap it in."""
        t0 = time.perf_counter()
        state = trainer.snapshot()
        with self.lock:
            state.update(running=self.running, settings=self.settings, note=self.note)
            self.perf = {"steps_per_s": self._rate(), "frame_ms": self.perf["frame_ms"]}
            state["perf"] = self.perf
            state["data_version"] = trainer.serial  # a new model: the page fetches its points
        frame = json.dumps(finite_or_none(state), allow_nan=False)
        self.perf["frame_ms"] = (time.perf_counter() - t0) * 1000.0
        with self.lock:
            self.frame = frame
            self.version += 1
            self.last_frame = time.monotonic()
            self.changed.notify_all()

    def points(self) -> dict[str, Any]:
        """The data's points (they only change with a new model), with its data_version."""
        with self.lock:
            trainer = self.trainer
        return {"data_version": trainer.serial, **trainer.points()}


class Abandoned(Exception):
    """Raised at a pause point when the step under way is no longer wanted."""


__all__ = ["Abandoned", "Session", "config"]
