"""Switching graph recording off for inference: `with no_grad(): ...`.

The mode is per thread, as in PyTorch: one thread inside `no_grad()` never stops another
thread from recording its graph.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable, Generator
from types import TracebackType
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _Mode(threading.local):
    """The per-thread switch every op reads (`mode.enabled`); a new thread starts enabled."""

    enabled = True


mode = _Mode()


class no_grad:
    """Context manager (and decorator) under which ops record no graph.

    Results are plain leaves: no parents, nothing to back-propagate, and the inputs
    are not kept alive. Nests and restores the previous mode on exit, as torch.no_grad.
    As a decorator of a generator function it holds inside the generator each time the
    generator runs (not in the caller between `next` calls), as PyTorch does.
    """

    def __init__(self) -> None:
        self._saved: list[bool] = []

    def __enter__(self) -> None:
        self._saved.append(mode.enabled)
        mode.enabled = False

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        mode.enabled = self._saved.pop()

    def __call__(self, fn: F) -> F:
        if inspect.isgeneratorfunction(fn):

            @functools.wraps(fn)
            def generator(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
                # Drive the generator ourselves so every resumption runs without grad.
                gen = fn(*args, **kwargs)
                send: Callable[[Any], Any] = gen.send
                value: Any = None
                while True:
                    try:
                        with no_grad():
                            out = send(value)
                    except StopIteration as stop:
                        return stop.value
                    send = gen.send
                    try:
                        value = yield out
                    except GeneratorExit:
                        with no_grad():
                            gen.close()
                        raise
                    except BaseException as error:  # thrown in: pass it on, under no_grad
                        value = error
                        send = gen.throw

            return generator  # type: ignore[return-value]

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with no_grad():
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


def is_grad_enabled() -> bool:
    """True when ops record the graph in this thread (the default)."""
    return mode.enabled
