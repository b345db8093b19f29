"""Weight-space symmetry: permuting a hidden layer's units (and, to match, the next
layer's inputs) gives a different parameter vector that computes the same function.
With n hidden units there are n! such copies of every solution.
"""

from __future__ import annotations

import copy

from chainrule.nn.layers import Layer
from chainrule.nn.module import Module, Parameter


def permute_hidden(model: Module, layer: int, perm: list[int]) -> Module:
    """A copy of `model` whose `layer`-th Layer has its units reordered by `perm`
    (new unit k is old unit perm[k]); per-unit state in between (batch norm) and the
    next Layer's weight columns are reordered to match."""
    new = copy.deepcopy(model)
    mods: list[Module] = list(getattr(new, "layers", []))
    idx = [i for i, m in enumerate(mods) if isinstance(m, Layer)]
    if not 0 <= layer < len(idx) - 1:
        raise ValueError(f"layer {layer} is not a hidden layer (the model has {len(idx)} layers)")
    first: Layer = mods[idx[layer]]  # type: ignore[assignment]
    if sorted(perm) != list(range(first.nout)):
        raise ValueError(f"perm must be a permutation of range({first.nout}), got {perm}")

    def reorder(v: list) -> list:
        return [v[k] for k in perm]

    first.weight = Parameter(reorder(first.weight))
    if first.bias is not None:
        first.bias = Parameter(reorder(first.bias))
    for m in mods[idx[layer] + 1 : idx[layer + 1]]:  # batch norm's per-unit state
        for name, _ in m.named_tensors(recurse=False):
            setattr(m, name, Parameter(reorder(getattr(m, name))))
        for name, value in m.named_buffers(recurse=False):
            if isinstance(value, list):
                setattr(m, name, reorder(value))
    nxt: Layer = mods[idx[layer + 1]]  # type: ignore[assignment]
    nxt.weight = Parameter([reorder(row) for row in nxt.weight])
    new.relabel()
    return new
