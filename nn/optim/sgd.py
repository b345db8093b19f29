"""Stochastic gradient descent, as torch.optim.SGD."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chainrule.engine import Value
from chainrule.nn.optim.optimizer import Optimizer, ParamsArg, check_number


class SGD(Optimizer):
    """Stochastic gradient descent, as torch.optim.SGD, for each parameter w:

        g ← ∇ + λ·w                          (weight_decay λ: L2, "coupled")
        b ← μ·b + (1 - dampening)·g          (momentum μ; b = g on the first step)
        g ← g + μ·b if nesterov else b
        w ← w - lr·g

    decoupled_weight_decay=True instead shrinks the weights directly, as the lecture
    states weight decay: w ← (1 - lr·λ)·w, then the step without λ in g. Without
    momentum the two are the same update; with momentum they differ.

    Refused when made (ValueError naming the argument): lr, momentum, weight_decay or
    dampening negative or not finite; nesterov without momentum or with dampening.
    """

    def __init__(
        self,
        params: ParamsArg,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        decoupled_weight_decay: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def check_group(self, group: Mapping[str, Any]) -> None:
        for name in ("lr", "momentum", "dampening", "weight_decay"):
            check_number(name, group[name])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("nesterov momentum requires a momentum and zero dampening")

    def check_state(self, state: Mapping[str, Any]) -> None:
        super().check_state(state)
        if set(state) - {"momentum_buffer"}:
            raise ValueError(f"SGD state holds only momentum_buffer, got {sorted(state)}")

    def update(self, p: Value, group: dict[str, Any], state: dict[str, Any]) -> None:
        lr, mu = group["lr"], group["momentum"]
        d = self.decayed_grad(p, group)
        if mu != 0.0:
            buf = state.get("momentum_buffer")
            buf = d if buf is None else buf * mu + (1.0 - group["dampening"]) * d
            state["momentum_buffer"] = buf
            d = d + mu * buf if group["nesterov"] else buf
        p.data += -lr * d
