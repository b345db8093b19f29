"""Copying chainrule models into PyTorch ones with the same weights."""

from __future__ import annotations

from collections.abc import Callable

import torch
from chainrule.nn import MLP, BatchNorm1d, Layer

F64 = torch.float64
ACT = {
    "relu": torch.nn.ReLU,
    "tanh": torch.nn.Tanh,
    "sigmoid": torch.nn.Sigmoid,
    "identity": torch.nn.Identity,
}


def torch_linear(layer: Layer) -> torch.nn.Linear:
    lin = torch.nn.Linear(layer.nin, layer.nout, bias=layer.bias is not None, dtype=F64)
    sd = layer.state_dict()
    lin.load_state_dict({k: torch.tensor(v, dtype=F64) for k, v in sd.items()})
    return lin


def torch_mlp(model: MLP) -> torch.nn.Sequential:
    mods: list[torch.nn.Module] = []
    for m in model.layers:
        if isinstance(m, Layer):
            mods += [torch_linear(m), ACT[m.activation]()]
        elif isinstance(m, BatchNorm1d):
            bn = torch.nn.BatchNorm1d(m.num_features, m.eps, m.momentum, dtype=F64)
            bn.load_state_dict(
                {
                    k: torch.tensor(v, dtype=F64) if k != "num_batches_tracked" else torch.tensor(v)
                    for k, v in m.state_dict().items()
                }
            )
            mods.append(bn)
        else:
            mods.append(ACT[m.name]())  # type: ignore[attr-defined]
    return torch.nn.Sequential(*mods)


def grads_of(model: MLP) -> list[float]:
    return [p.grad for p in model.parameters()]


def in_our_order(seq: torch.nn.Module, get: Callable[[torch.Tensor], torch.Tensor]) -> list[float]:
    """`get(parameter)` of every torch parameter, listed in chainrule's `parameters()`
    order: a Linear unit by unit (its weight row, then its bias), as micrograd; other
    modules tensor by tensor (torch's order)."""
    out: list[float] = []
    for m in seq.modules():
        if isinstance(m, torch.nn.Linear):
            w = get(m.weight).tolist()
            b = get(m.bias).tolist() if m.bias is not None else None
            for j, row in enumerate(w):
                out += row + ([b[j]] if b is not None else [])
        elif not list(m.children()):
            out += [x for p in m.parameters(recurse=False) for x in get(p).flatten().tolist()]
    return out


def torch_grads(seq: torch.nn.Module) -> list[float]:
    return in_our_order(seq, lambda p: p.grad)


def torch_values(seq: torch.nn.Module) -> list[float]:
    return in_our_order(seq, lambda p: p.detach())
