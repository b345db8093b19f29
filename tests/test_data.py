"""The data makers and the shipped digits: exact sizes, scikit-learn's argument names, and loose
arguments refused with a named error before any data is made."""

from __future__ import annotations

import math

import numpy as np
import pytest
from chainrule.nn.data import (
    DATASETS,
    load_digits,
    make_blobs,
    make_circles,
    make_moons,
    make_spirals,
    regression_1d,
    train_val_split,
)
from hypothesis import given
from hypothesis import strategies as st

MAKERS = [make_moons, make_circles, make_spirals, make_blobs, regression_1d]


@pytest.mark.parametrize("maker", MAKERS, ids=lambda m: m.__name__)
@given(n=st.integers(3, 300))
def test_every_maker_returns_exactly_n_samples(maker, n: int) -> None:
    x, y = maker(n)
    assert x.shape[0] == len(y) == n and np.isfinite(x).all()


def test_spirals_give_every_requested_sample_spread_over_the_arms() -> None:
    _x, y = make_spirals(100, classes=3)
    assert len(y) == 100 and sorted(np.bincount(y).tolist()) == [33, 33, 34]


@pytest.mark.parametrize("maker", MAKERS, ids=lambda m: m.__name__)
def test_random_state_is_seed_as_scikit_learn_names_it(maker) -> None:
    a, b = maker(30, random_state=7), maker(30, seed=7)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(maker(30, random_state=8)[0], a[0])
    with pytest.raises(TypeError, match="not both"):
        maker(30, seed=1, random_state=1)


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"n_samples": True}, TypeError, "n_samples must be a whole number"),
        ({"n_samples": 10.5}, TypeError, "n_samples must be a whole number"),
        ({"n_samples": "100"}, TypeError, "n_samples must be a whole number"),
        ({"n_samples": 0}, ValueError, "n_samples must be at least 1"),
        ({"n_samples": -5}, ValueError, "n_samples must be at least 1"),
        ({"noise": math.nan}, ValueError, "noise must be a finite number >= 0"),
        ({"noise": math.inf}, ValueError, "noise must be a finite number >= 0"),
        ({"noise": -0.1}, ValueError, "noise must be a finite number >= 0"),
        ({"noise": "0.1"}, TypeError, "noise must be a number"),
    ],
)
def test_loose_arguments_are_refused_by_name(kwargs: dict, error: type, words: str) -> None:
    with pytest.raises(error, match=words):
        make_moons(**{"n_samples": 20, **kwargs})


def test_class_counts_are_checked_too() -> None:
    with pytest.raises(ValueError, match="n_samples must be at least 3"):
        make_spirals(2, classes=3)
    with pytest.raises(TypeError, match="centers must be a whole number"):
        make_blobs(30, centers=2.5)
    with pytest.raises(ValueError, match="std must be a finite number"):
        make_blobs(30, std=math.nan)


def test_a_split_that_would_leave_no_training_sample_is_refused() -> None:
    with pytest.raises(ValueError, match="leave no training sample"):
        train_val_split([[0.0]], [1], 0.5)
    (_xt, yt), (_xv, yv) = train_val_split([[0.0], [1.0]], [0, 1], 0.5)
    assert len(yt) == len(yv) == 1


def test_the_digits_ship_with_the_package_as_scikit_learn_describes_them() -> None:
    x, y = load_digits()
    assert x.shape == (1797, 64) and y.shape == (1797,)
    assert x.dtype == float and x.min() == 0 and x.max() == 16 and (x == x.round()).all()
    assert sorted(set(y.tolist())) == list(range(10))
    assert np.bincount(y).min() >= 170 and np.bincount(y).max() <= 190
    # the first image is a zero: a ring of ink with an empty middle
    zero = x[0].reshape(8, 8)
    assert y[0] == 0 and zero[3:5, 3:5].sum() < zero[1:7, 1:7].sum() / 4


def test_the_cli_data_sets_are_the_checked_makers() -> None:
    for maker in DATASETS.values():
        with pytest.raises(TypeError):
            maker(n_samples=1.5)
