"""chainrule's engine: scalar reverse-mode automatic differentiation.

    from engine import Value
    x = Value(2.0, label="x")
    y = (x * x + 1).tanh()
    y.backward()          # x.grad == d y/d x

Depends on nothing but the standard library.
"""

from engine.backprop import Contribution, Step
from engine.grad_mode import is_grad_enabled, no_grad
from engine.gradcheck import GradcheckError, GradcheckResult, gradcheck
from engine.value import (
    ACTIVATIONS,
    Value,
    add_all,
    binary_cross_entropy_with_logits,
    dot,
    fused_linear,
    logsumexp,
    neuron,
    softmax_cross_entropy,
)

__all__ = [
    "ACTIVATIONS",
    "Contribution",
    "GradcheckError",
    "GradcheckResult",
    "Step",
    "Value",
    "add_all",
    "binary_cross_entropy_with_logits",
    "dot",
    "fused_linear",
    "gradcheck",
    "is_grad_enabled",
    "logsumexp",
    "neuron",
    "no_grad",
    "softmax_cross_entropy",
]
