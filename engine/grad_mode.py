"""Switching graph recording off for inference: `with no_grad(): ...`."""

from __future__ import annotations

from types import TracebackType

# Read by every op; a module global rather than a Value attribute so it costs one lookup.
enabled = True


class no_grad:
    """Context manager (and decorator) under which ops record no graph.

    Results are plain leaves: no parents, nothing to back-propagate, and the inputs
    are not kept alive. Nests and restores the previous mode on exit, as torch.no_grad.
    """

    def __enter__(self) -> None:
        global enabled
        self._prev = enabled
        enabled = False

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        global enabled
        enabled = self._prev

    def __call__(self, fn):  # type: ignore[no-untyped-def]
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
            with no_grad():
                return fn(*args, **kwargs)

        return wrapper


def is_grad_enabled() -> bool:
    """True when ops record the graph (the default)."""
    return enabled
