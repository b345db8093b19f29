"""Learning-rate schedules, as torch.optim.lr_scheduler: call `step()` once per epoch.

Each computes the new rate from the current one ("chainable"), exactly as PyTorch, so
rates match it digit for digit. `get_last_lr()` returns the rate in use.
"""

from __future__ import annotations

import math

from nn.optim import Optimizer


class LRScheduler:
    def __init__(self, optimizer: Optimizer) -> None:
        self.optimizer = optimizer
        self.base_lr: float = optimizer.lr
        self.last_epoch = 0
        self._last_lr = optimizer.lr

    def _next(self) -> float:
        raise NotImplementedError

    def step(self) -> None:
        self.last_epoch += 1
        self.optimizer.lr = self._next()
        self._last_lr = self.optimizer.lr

    def get_last_lr(self) -> list[float]:
        return [self._last_lr]

    def state_dict(self) -> dict[str, float]:
        return {"last_epoch": self.last_epoch, "base_lr": self.base_lr, "last_lr": self._last_lr}

    def load_state_dict(self, state: dict[str, float]) -> None:
        self.last_epoch = int(state["last_epoch"])
        self.base_lr = float(state["base_lr"])
        self._last_lr = float(state["last_lr"])


class StepLR(LRScheduler):
    """lr = base·γ^⌊epoch/step_size⌋: multiply by γ every `step_size` epochs."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        if step_size < 1:
            raise ValueError(f"step_size must be at least 1, got {step_size}")
        super().__init__(optimizer)
        self.step_size, self.gamma = step_size, gamma

    def _next(self) -> float:
        lr = self.optimizer.lr
        return lr * self.gamma if self.last_epoch % self.step_size == 0 else lr


class MultiStepLR(LRScheduler):
    """Piecewise constant: multiply by γ at each milestone epoch."""

    def __init__(self, optimizer: Optimizer, milestones: list[int], gamma: float = 0.1) -> None:
        super().__init__(optimizer)
        self.milestones = sorted(milestones)
        self.gamma = gamma

    def _next(self) -> float:
        hits = self.milestones.count(self.last_epoch)
        return self.optimizer.lr * self.gamma**hits if hits else self.optimizer.lr


class ExponentialLR(LRScheduler):
    """lr = base·γ^epoch."""

    def __init__(self, optimizer: Optimizer, gamma: float) -> None:
        super().__init__(optimizer)
        self.gamma = gamma

    def _next(self) -> float:
        return self.optimizer.lr * self.gamma


class CosineAnnealingLR(LRScheduler):
    """lr = η_min + (base - η_min)(1 + cos(π·epoch/T_max))/2, in PyTorch's recursive form."""

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0) -> None:
        if T_max < 1:
            raise ValueError(f"T_max must be at least 1, got {T_max}")
        super().__init__(optimizer)
        self.T_max, self.eta_min = T_max, eta_min

    def _next(self) -> float:
        e, t, lr, lo = self.last_epoch, self.T_max, self.optimizer.lr, self.eta_min
        if (e - 1 - t) % (2 * t) == 0:
            return lr + (self.base_lr - lo) * (1 - math.cos(math.pi / t)) / 2
        return (1 + math.cos(math.pi * e / t)) / (1 + math.cos(math.pi * (e - 1) / t)) * (
            lr - lo
        ) + lo


SCHEDULES = ("none", "step", "multistep", "exponential", "cosine")
