"""Toy data sets made with numpy, seeded, and mini-batching.

Each maker returns (X, y) shaped as scikit-learn's: X a float array of shape
(n_samples, n_features), y an int array of shape (n_samples,) (floats for
`regression_1d`). Same seed, same data, on every machine. Every layer takes these arrays
as they are (`model(X)`, `list(map(model, X))`); `.tolist()` gives plain lists.
"""

from __future__ import annotations

import functools
import gzip
import inspect
import math
from collections.abc import Callable, Iterator
from importlib import resources
from typing import Any, TypeVar

import numpy as np

Data = tuple[np.ndarray, np.ndarray]
Maker = TypeVar("Maker", bound=Callable[..., Data])


def _count(value: Any, name: str, least: int = 1) -> int:
    """`value` as a whole number >= `least`; a bool, a fraction or a string is refused."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a whole number, got {value!r}")
    if value < least:
        raise ValueError(f"{name} must be at least {least}, got {value}")
    return int(value)


def _spread(value: Any, name: str) -> float:
    """`value` as a finite number >= 0 (a noise level or a standard deviation)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value}")
    return float(value)


def data_maker(fn: Maker) -> Maker:
    """Check a maker's arguments before it runs, and accept scikit-learn's name
    `random_state=` for `seed=`: `make_moons(100, noise=0.1, random_state=0)`."""

    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def make(*args: Any, random_state: Any = None, **kwargs: Any) -> Data:
        if random_state is not None:
            if "seed" in kwargs:
                raise TypeError("give seed= or random_state= (the same thing), not both")
            kwargs["seed"] = random_state
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        for name, value in bound.arguments.items():
            if name == "n_samples":
                _count(value, name, least=bound.arguments.get("classes", 1))
            elif name in ("classes", "centers"):
                _count(value, name)
            elif name in ("noise", "std", "factor"):
                _spread(value, name)
        return fn(*bound.args, **bound.kwargs)

    return make  # type: ignore[return-value]


def _shuffled(rng: np.random.Generator, x: np.ndarray, y: np.ndarray, noise: float = 0.0) -> Data:
    """(X + N(0, noise²), y) in a random order (a maker generates its classes in blocks)."""
    if noise:
        x = x + rng.normal(0.0, noise, x.shape)
    order = rng.permutation(len(y))
    return x[order].astype(float), y[order].astype(int)


@data_maker
def make_moons(n_samples: int = 100, noise: float = 0.1, seed: int | None = 0) -> Data:
    """Two interleaving half circles (labels 0 and 1), as sklearn's make_moons."""
    rng = np.random.default_rng(seed)
    n = n_samples
    n_out = n // 2
    n_in = n - n_out
    t_out = np.linspace(0, math.pi, n_out)
    t_in = np.linspace(0, math.pi, n_in)
    x = np.vstack(
        [
            np.column_stack([np.cos(t_out), np.sin(t_out)]),
            np.column_stack([1 - np.cos(t_in), 1 - np.sin(t_in) - 0.5]),
        ]
    )
    y = np.concatenate([np.zeros(n_out, int), np.ones(n_in, int)])
    return _shuffled(rng, x, y, noise)


@data_maker
def make_circles(
    n_samples: int = 100, noise: float = 0.05, factor: float = 0.5, seed: int | None = 0
) -> Data:
    """A small circle (label 1) inside a large one (label 0)."""
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, 2 * math.pi, n_samples)
    y = (np.arange(n_samples) >= n_samples // 2).astype(int)  # first half: the large circle
    r = np.where(y == 0, 1.0, factor)
    return _shuffled(rng, np.column_stack([r * np.cos(t), r * np.sin(t)]), y, noise)


@data_maker
def make_spirals(
    n_samples: int = 150, classes: int = 3, noise: float = 0.2, seed: int | None = 0
) -> Data:
    """`classes` interleaved spiral arms (labels 0..classes-1), as in CS231n."""
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for k in range(classes):  # the first n_samples % classes arms get one point more
        per = n_samples // classes + (k < n_samples % classes)
        r = np.linspace(0.0, 1.0, per)
        t = np.linspace(k * 4.0, (k + 1) * 4.0, per) + rng.normal(0.0, noise, per)
        xs.append(np.column_stack([r * np.sin(t), r * np.cos(t)]))
        ys.append(np.full(per, k))
    x, y = np.vstack(xs), np.concatenate(ys)
    return _shuffled(rng, x, y)


@data_maker
def make_blobs(
    n_samples: int = 150, centers: int = 3, std: float = 0.5, seed: int | None = 0
) -> Data:
    """Gaussian blobs around `centers` random centres in [-3, 3]² (multi-class)."""
    rng = np.random.default_rng(seed)
    c = rng.uniform(-3.0, 3.0, (centers, 2))
    y = np.arange(n_samples) % centers
    x = c[y] + rng.normal(0.0, std, (n_samples, 2))
    return _shuffled(rng, x, y)


@data_maker
def regression_1d(n_samples: int = 64, noise: float = 0.05, seed: int | None = 0) -> Data:
    """y = sin(2x) + noise on x in [-2, 2]: a 1-D target for piecewise-linear fits;
    X has shape (n_samples, 1), y float of shape (n_samples,)."""
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(-2.0, 2.0, n_samples))
    y = np.sin(2.0 * x) + rng.normal(0.0, noise, n_samples)
    return x.reshape(-1, 1), y


def load_digits() -> Data:
    """The UCI handwritten digits, shipped with chainrule (no download, no scikit-learn):
    X of shape (1797, 64), each row an 8x8 image read row by row, pixels 0..16 (float);
    y of shape (1797,), the digit 0..9. By E. Alpaydin and C. Kaynak (UCI, 1998), under
    CC BY 4.0 (chainrule/nn/datasets/LICENSE-digits.txt). Divide X by 16 to train."""
    raw = resources.files("chainrule.nn.datasets").joinpath("digits.csv.gz").read_bytes()
    table = np.loadtxt(gzip.decompress(raw).decode().splitlines(), delimiter=",")
    return table[:, :-1].astype(float), table[:, -1].astype(int)


DATASETS = {
    "moons": make_moons,
    "circles": make_circles,
    "spirals": make_spirals,
    "blobs": make_blobs,
}


def _take(a: Any, idx: list[int]) -> Any:
    """The items at `idx`, as the same kind of container (numpy array or list)."""
    return a[idx] if isinstance(a, np.ndarray) else [a[i] for i in idx]


def train_val_split(
    x: Any, y: Any, val_fraction: float = 0.2, seed: int | None = 0
) -> tuple[tuple[Any, Any], tuple[Any, Any]]:
    """Shuffle, then hold out `val_fraction` of the samples for validation. Arrays give
    arrays, lists give lists."""
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
    if len(x) != len(y):
        raise ValueError(f"{len(x)} samples but {len(y)} labels")
    order = np.random.default_rng(seed).permutation(len(x)).tolist()
    k = max(1, round(len(x) * val_fraction))
    if len(x) - k < 1:
        raise ValueError(
            f"{len(x)} samples with val_fraction {val_fraction} leave no training sample"
        )
    val, train = order[:k], order[k:]
    return (_take(x, train), _take(y, train)), (_take(x, val), _take(y, val))


def batches(
    x: Any,
    y: Any,
    batch_size: int | None,
    rng: np.random.Generator | None = None,
    shuffle: bool = True,
) -> Iterator[tuple[Any, Any]]:
    """Mini-batches of (x, y); full batch when batch_size is None; shuffled with `rng`.
    Arrays give arrays, lists give lists."""
    n = len(x)
    order = (
        (rng if rng is not None else np.random.default_rng()).permutation(n).tolist()
        if shuffle
        else list(range(n))
    )
    size = n if batch_size is None else batch_size
    if size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    for start in range(0, n, size):
        idx = order[start : start + size]
        yield _take(x, idx), _take(y, idx)
