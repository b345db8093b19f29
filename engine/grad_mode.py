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
# Threads whose mode is off. Every op checks `not quiet or mode.enabled`: a set's
# emptiness is a cheap global test, where a thread-local attribute costs ~60 ns a node.
quiet: set[int] = set()


class no_grad:
    """Context manager (and decorator) under which ops record no graph.

    Results are plain leaves: no parents, nothing to back-propagate, and the inputs
    are not kept alive. Nests and restores the previous mode on exit, as torch.no_grad.
    As a decorator of a generator function it holds inside the generator each time the
    generator runs (not in the caller between `next` calls), as PyTorch does.
    """

    def __new__(cls, fn: Callable[..., Any] | None = None) -> Any:
        # `@no_grad` without parentheses decorates too, as in PyTorch 2
        self = super().__new__(cls)
        self._saved = []
        return self if fn is None else self(fn)

    _saved: list[bool]

    def __enter__(self) -> None:
        self._saved.append(mode.enabled)
        mode.enabled = False
        quiet.add(threading.get_ident())

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        mode.enabled = self._saved.pop()
        if mode.enabled:
            quiet.discard(threading.get_ident())

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
    return not quiet or mode.enabled
