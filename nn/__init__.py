"""chainrule's neural-network library, built from `engine.Value`s, with PyTorch's names.

    from chainrule import nn
    from chainrule.nn import MLP, SGD, StepLR, fit, make_moons
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 1))

Data sets live in `nn.data`, lesson helpers in `nn.analysis`, `nn.symmetry` and
`nn.regularization`; `make_moons` is here too, as micrograd's demo imports it.
"""

from importlib import import_module
from typing import Any

from chainrule.nn import init
from chainrule.nn.activation import Activation, Identity, ReLU, Sigmoid, Tanh
from chainrule.nn.batchnorm import BatchNorm1d
from chainrule.nn.checkpoint import CheckpointError, load, save
from chainrule.nn.data import make_moons
from chainrule.nn.dropout import Dropout
from chainrule.nn.layers import MLP, Layer, Linear, Neuron
from chainrule.nn.losses import (
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HingeLoss,
    MSELoss,
    bce_with_logits,
    cross_entropy,
    hinge_loss,
    mse_loss,
)
from chainrule.nn.module import Module, Parameter, Sequential, StateDictError
from chainrule.nn.optim import (  # optimizers and their schedules, as torch.optim has them
    SGD,
    Adam,
    AdamW,
    CosineAnnealingLR,
    ExponentialLR,
    LRScheduler,
    MultiStepLR,
    Optimizer,
    StepLR,
)
from chainrule.nn.regularization import l1_penalty, l2_penalty
from chainrule.nn.train import History, Step, Trainer, accuracy, evaluate, fit

__all__ = [
    "MLP",
    "SGD",
    "Activation",
    "Adam",
    "AdamW",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "CheckpointError",
    "CosineAnnealingLR",
    "CrossEntropyLoss",
    "Dropout",
    "ExponentialLR",
    "HingeLoss",
    "History",
    "Identity",
    "LRScheduler",
    "Layer",
    "Linear",
    "MSELoss",
    "Module",
    "MultiStepLR",
    "Neuron",
    "Optimizer",
    "Parameter",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "StateDictError",
    "Step",
    "StepLR",
    "Tanh",
    "Trainer",
    "accuracy",
    "bce_with_logits",
    "cross_entropy",
    "evaluate",
    "fit",
    "hinge_loss",
    "init",
    "l1_penalty",
    "l2_penalty",
    "load",
    "make_moons",
    "mse_loss",
    "save",
]

# Names that moved to their own modules; `from chainrule.nn import make_circles` keeps working
# for code written before the move (new code imports from the module named here).
_MOVED = {
    "batches": "chainrule.nn.data",
    "make_blobs": "chainrule.nn.data",
    "make_circles": "chainrule.nn.data",
    "make_spirals": "chainrule.nn.data",
    "regression_1d": "chainrule.nn.data",
    "train_val_split": "chainrule.nn.data",
    "linear_pieces": "chainrule.nn.analysis",
    "tent_network": "chainrule.nn.analysis",
    "permute_hidden": "chainrule.nn.symmetry",
    "weight_vector": "chainrule.nn.regularization",
}


_SUBMODULES = ("analysis", "data", "symmetry", "regularization")


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        return getattr(import_module(_MOVED[name]), name)
    if name in _SUBMODULES:  # `nn.analysis.linear_pieces` after a plain `import nn`
        return import_module(f"chainrule.nn.{name}")
    raise AttributeError(f"module 'nn' has no attribute {name!r}")
