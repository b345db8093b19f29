"""chainrule's neural-network library, built from `engine.Value`s, with PyTorch's names.

from nn import MLP, SGD, StepLR, fit, make_moons
"""

from nn import init
from nn.analysis import linear_pieces, tent_network
from nn.batchnorm import BatchNorm1d
from nn.checkpoint import CheckpointError, load, save
from nn.data import (
    batches,
    make_blobs,
    make_circles,
    make_moons,
    make_spirals,
    regression_1d,
    train_val_split,
)
from nn.dropout import Dropout
from nn.layers import MLP, Activation, Layer, Neuron
from nn.losses import bce_with_logits, cross_entropy, hinge_loss, mse_loss
from nn.module import Module, Sequential
from nn.optim import SGD, Adam, Optimizer
from nn.optim.lr_scheduler import CosineAnnealingLR, ExponentialLR, LRScheduler, MultiStepLR, StepLR
from nn.regularization import l1_penalty, l2_penalty, weight_vector
from nn.symmetry import permute_hidden
from nn.train import History, accuracy, evaluate, fit

__all__ = [
    "MLP",
    "SGD",
    "Activation",
    "Adam",
    "BatchNorm1d",
    "CheckpointError",
    "CosineAnnealingLR",
    "Dropout",
    "ExponentialLR",
    "History",
    "LRScheduler",
    "Layer",
    "Module",
    "MultiStepLR",
    "Neuron",
    "Optimizer",
    "Sequential",
    "StepLR",
    "accuracy",
    "batches",
    "bce_with_logits",
    "cross_entropy",
    "evaluate",
    "fit",
    "hinge_loss",
    "init",
    "l1_penalty",
    "l2_penalty",
    "linear_pieces",
    "load",
    "make_blobs",
    "make_circles",
    "make_moons",
    "make_spirals",
    "mse_loss",
    "permute_hidden",
    "regression_1d",
    "save",
    "tent_network",
    "train_val_split",
    "weight_vector",
]
