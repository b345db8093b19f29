"""Progress of a training run: a bar where one can be redrawn, plain lines elsewhere.

A bar redraws itself with carriage returns, which a log file keeps as one long garbled
line. So the bar (tqdm's) is shown only on a terminal or in a notebook; written to
anything else (a pipe, a file, CI's log), a run prints one line per epoch, with no
carriage return.
"""

from __future__ import annotations

import sys
from typing import Any, Protocol, TextIO

from tqdm.auto import tqdm


class _Run(Protocol):  # what the progress reads of a Trainer (no import cycle)
    epoch: int
    history: Any


def _in_notebook() -> bool:
    """A Jupyter kernel draws tqdm's widget bar (its stderr is not a terminal)."""
    shell = sys.modules.get("IPython")
    get = getattr(shell, "get_ipython", None)
    return get is not None and type(get()).__name__ == "ZMQInteractiveShell"


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


class Progress:
    """An epoch hook (`trainer.on_epoch.append(progress.update)`) that shows losses and
    accuracies each epoch; use it as a context manager so the bar is closed."""

    def __init__(self, epochs: int, stream: TextIO | None = None, bar: bool | None = None) -> None:
        self.stream = sys.stderr if stream is None else stream
        self.epochs = epochs
        self.bar = (_is_terminal(self.stream) or _in_notebook()) if bar is None else bar
        self._tqdm = (
            tqdm(total=epochs, desc="training", unit="epoch", file=self.stream)
            if self.bar
            else None
        )

    def update(self, run: _Run) -> None:
        h = run.history
        fields = {"loss": f"{h.train_loss[-1]:.4f}"}
        if h.train_acc and h.train_acc[-1] is not None:
            fields["acc"] = f"{h.train_acc[-1]:.3f}"
        if h.val_loss:
            fields["val_loss"] = f"{h.val_loss[-1]:.4f}"
        if h.val_acc and h.val_acc[-1] is not None:
            fields["val_acc"] = f"{h.val_acc[-1]:.3f}"
        if self._tqdm is not None:
            self._tqdm.set_postfix(fields, refresh=False)
            self._tqdm.update(run.epoch - self._tqdm.n)
            return
        text = "  ".join(f"{k} {v}" for k, v in fields.items())
        print(f"epoch {run.epoch}/{self.epochs}  {text}", file=self.stream, flush=True)

    def close(self) -> None:
        if self._tqdm is not None:
            self._tqdm.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
