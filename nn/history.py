"""What a training run records: `History` (per epoch and per step) and `Step` (one
step's result). Epochs count from 1 (see `nn.train`)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from chainrule.nn.finite import finite_or_none


@dataclass
class History:
    """Per epoch: losses, accuracies and the learning rate; per step: update ratios
    (‖Δw‖/‖w‖ per tensor, inf for a tensor whose weights were all zero); the live edits
    made between steps. `best_epoch` counts from 1 (see the module's conventions)."""

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float | None] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float | None] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    update_ratio: dict[str, list[float]] = field(default_factory=dict)  # ‖Δw‖/‖w‖ per tensor
    best_epoch: int | None = None
    stopped_early: bool = False
    seconds: float = 0.0
    edits: list[dict[str, Any]] = field(default_factory=list)  # {"step", "epoch", changes}

    @property
    def epochs(self) -> int:
        return len(self.train_loss)

    def to_dict(self) -> dict[str, Any]:
        """Strict-JSON-ready: every field, with non-finite numbers (an update ratio of a
        tensor that was all zeros) as None, which JSON writes as `null`."""
        return finite_or_none(
            {k: copy.deepcopy(getattr(self, k)) for k in self.__dataclass_fields__}
        )


@dataclass(frozen=True)
class Step:
    """What one step did: its epoch (from 1), the mini-batch's size and data loss, and
    whether it ended the epoch."""

    epoch: int
    size: int
    loss: float
    epoch_end: bool
