"""Learning-rate schedules, as torch.optim.lr_scheduler: call `step()` once per epoch.

Each computes a group's new rate from its current one ("chainable"), exactly as PyTorch,
so rates match it digit for digit; every parameter group has its own rate and base rate.
`get_last_lr()` returns the rates in use. A schedule that could make a rate negative or
NaN (a negative or non-finite γ, a negative η_min) is refused when made.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from chainrule.nn.optim.optimizer import Optimizer, check_number


def _check_count(name: str, x: object) -> None:
    if isinstance(x, bool) or not isinstance(x, int) or x < 1:
        raise ValueError(f"{name} must be a whole number >= 1, got {x!r}")


class LRScheduler:
    """Base class: `step()` sets each group's lr to `next_lr(lr, base_lr)`."""

    def __init__(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"a schedule needs an Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        self.base_lrs: list[float] = [g["lr"] for g in optimizer.param_groups]
        self.last_epoch = 0
        self._last_lr = list(self.base_lrs)

    @property
    def base_lr(self) -> float:
        """The first group's starting rate."""
        return self.base_lrs[0]

    def next_lr(self, lr: float, base_lr: float) -> float:
        """The rate for epoch `last_epoch`, from the previous one `lr`."""
        raise NotImplementedError

    def step(self) -> None:
        self.last_epoch += 1
        for g, base in zip(self.optimizer.param_groups, self.base_lrs):
            g["lr"] = self.next_lr(g["lr"], base)
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        return {
            "last_epoch": self.last_epoch,
            "base_lrs": list(self.base_lrs),
            "last_lr": list(self._last_lr),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Load a `state_dict()`; checked first, so a bad one raises ValueError and
        changes nothing."""
        n = len(self.optimizer.param_groups)
        if not isinstance(state, Mapping) or set(state) != {"last_epoch", "base_lrs", "last_lr"}:
            raise ValueError("schedule state dict must have last_epoch, base_lrs and last_lr")
        epoch = state["last_epoch"]
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
            raise ValueError(f"last_epoch must be a whole number >= 0, got {epoch!r}")
        for key in ("base_lrs", "last_lr"):
            if not isinstance(state[key], list) or len(state[key]) != n:
                raise ValueError(f"{key} must list one rate per parameter group ({n})")
            for x in state[key]:
                check_number(key, x)
        self.last_epoch = epoch
        self.base_lrs = [float(x) for x in state["base_lrs"]]
        self._last_lr = [float(x) for x in state["last_lr"]]


class StepLR(LRScheduler):
    """lr = base·γ^⌊epoch/step_size⌋: multiply by γ every `step_size` epochs."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        _check_count("step_size", step_size)
        check_number("gamma", gamma)
        super().__init__(optimizer)
        self.step_size, self.gamma = step_size, gamma

    def next_lr(self, lr: float, base_lr: float) -> float:
        return lr * self.gamma if self.last_epoch % self.step_size == 0 else lr


class MultiStepLR(LRScheduler):
    """Piecewise constant: multiply by γ at each milestone epoch (γ^k if it is listed k
    times)."""

    def __init__(self, optimizer: Optimizer, milestones: list[int], gamma: float = 0.1) -> None:
        for m in milestones:
            _check_count("each milestone", m)
        check_number("gamma", gamma)
        super().__init__(optimizer)
        self.milestones = sorted(milestones)
        self.gamma = gamma

    def next_lr(self, lr: float, base_lr: float) -> float:
        hits = self.milestones.count(self.last_epoch)
        return lr * self.gamma**hits if hits else lr


class ExponentialLR(LRScheduler):
    """lr = base·γ^epoch."""

    def __init__(self, optimizer: Optimizer, gamma: float) -> None:
        check_number("gamma", gamma)
        super().__init__(optimizer)
        self.gamma = gamma

    def next_lr(self, lr: float, base_lr: float) -> float:
        return lr * self.gamma


class CosineAnnealingLR(LRScheduler):
    """lr = η_min + (base - η_min)(1 + cos(π·epoch/T_max))/2, in PyTorch's recursive form."""

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0) -> None:
        _check_count("T_max", T_max)
        check_number("eta_min", eta_min)  # η_min >= 0 keeps every rate >= 0
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer)

    def next_lr(self, lr: float, base_lr: float) -> float:
        e, t, lo = self.last_epoch, self.T_max, self.eta_min
        if (e - 1 - t) % (2 * t) == 0:
            return lr + (base_lr - lo) * (1 - math.cos(math.pi / t)) / 2
        return (1 + math.cos(math.pi * e / t)) / (1 + math.cos(math.pi * (e - 1) / t)) * (
            lr - lo
        ) + lo
