"""L1 (LASSO) and L2 (ridge) penalties over all weights written as one long vector w:
    L1(w) = Σ_i |w_i|,   L2(w) = Σ_i w_i²
Add λ·penalty to the loss. Biases are usually left out (`include_bias=False`): they
shift a unit's kink and do not make the function steeper.
"""

from __future__ import annotations

from chainrule.engine import Value, add_all
from chainrule.nn.module import Module, flatten


def weight_vector(model: Module, include_bias: bool = False) -> list[Value]:
    """All weights of the model as one vector (biases too with include_bias)."""
    return [
        v
        for name, t in model.named_tensors()
        if include_bias or name.split(".")[-1] != "bias"
        for v in flatten(t)
    ]


def l1_penalty(model: Module, include_bias: bool = False) -> Value:
    """Σ |w_i|: pushes weights to exactly zero (sparse)."""
    return add_all([w.abs() for w in weight_vector(model, include_bias)])


def l2_penalty(model: Module, include_bias: bool = False) -> Value:
    """Σ w_i²: shrinks every weight in proportion to its size (weight decay)."""
    return add_all([w * w for w in weight_vector(model, include_bias)])
