"""The one walker for non-finite numbers in plain data (lists, tuples, dicts of numbers).

JSON has no NaN or Infinity, so data bound for JSON goes through here: histories and
frames write a non-finite number as `null` (`finite_or_none`), checkpoints refuse one
(`map_non_finite` with a function that raises).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any


def map_non_finite(x: Any, replace: Callable[[float], Any]) -> Any:
    """A copy of `x` with each non-finite float f replaced by `replace(f)`, which may
    raise instead; lists and tuples become lists, dicts keep their keys."""
    if isinstance(x, float) and not math.isfinite(x):  # numpy's float64 is a float too
        return replace(x)
    if isinstance(x, (list, tuple)):
        return [map_non_finite(v, replace) for v in x]
    if isinstance(x, dict):
        return {k: map_non_finite(v, replace) for k, v in x.items()}
    return x


def finite_or_none(x: Any) -> Any:
    """A copy of `x` with every NaN and infinity as None (JSON's `null`)."""
    return map_non_finite(x, lambda _: None)
