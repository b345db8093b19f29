"""chainrule's engine: scalar reverse-mode automatic differentiation.

    from chainrule.engine import Value
    x = Value(2.0, label="x")
    y = (x * x + 1).tanh()
    y.backward()          # x.grad == d y/d x

Where things are: `engine/value.py` the node, its record and its ops; `engine/ops.py`
each op's value and derivative rule side by side, and the activations (`ACTIVATIONS`);
`engine/powers.py` powers (PyTorch's numbers at ±0); `engine/handmade.py` micrograd's
hand-made nodes; `engine/copying.py` copying and pickling graphs; `engine/fused.py`
n-ary nodes (sums, neurons, losses); `engine/function.py` ops written by the user;
`engine/backprop.py` the order and the sweeps (`backward`, the step-through, `grad`);
`engine/gradcheck.py` finite differences; `engine/grad_mode.py` `no_grad`.

Depends on nothing but the standard library.
"""

from chainrule.engine.backprop import Contribution, Step, grad
from chainrule.engine.function import Context, Function
from chainrule.engine.fused import (
    add_all,
    binary_cross_entropy_with_logits,
    dot,
    fused_linear,
    logsumexp,
    neuron,
    softmax_cross_entropy,
)
from chainrule.engine.grad_mode import is_grad_enabled, no_grad
from chainrule.engine.gradcheck import GradcheckError, GradcheckResult, gradcheck
from chainrule.engine.ops import ACTIVATIONS, Nonlinearity
from chainrule.engine.value import Value

__all__ = [
    "ACTIVATIONS",
    "Context",
    "Contribution",
    "Function",
    "GradcheckError",
    "GradcheckResult",
    "Nonlinearity",
    "Step",
    "Value",
    "add_all",
    "binary_cross_entropy_with_logits",
    "dot",
    "fused_linear",
    "grad",
    "gradcheck",
    "is_grad_enabled",
    "logsumexp",
    "neuron",
    "no_grad",
    "softmax_cross_entropy",
]
