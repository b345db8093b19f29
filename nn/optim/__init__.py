"""Optimizers and learning-rate schedules, as torch.optim: one file each.

- `optimizer.py`: `Optimizer` (parameter groups, state, state dicts)
- `sgd.py`, `adam.py`: the update rules (SGD; Adam and AdamW)
- `lr_scheduler.py`: `StepLR`, `MultiStepLR`, `ExponentialLR`, `CosineAnnealingLR`

The update-to-weight ratio |Δw|/|w| (see `nn.train`) tells whether a learning rate is
sane: around 1e-3 per step is the usual rule of thumb.
"""

from chainrule.nn.optim import lr_scheduler
from chainrule.nn.optim.adam import Adam, AdamW
from chainrule.nn.optim.lr_scheduler import (
    CosineAnnealingLR,
    ExponentialLR,
    LRScheduler,
    MultiStepLR,
    StepLR,
)
from chainrule.nn.optim.optimizer import Optimizer
from chainrule.nn.optim.sgd import SGD

__all__ = [
    "SGD",
    "Adam",
    "AdamW",
    "CosineAnnealingLR",
    "ExponentialLR",
    "LRScheduler",
    "MultiStepLR",
    "Optimizer",
    "StepLR",
    "lr_scheduler",
]
