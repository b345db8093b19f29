"""Adam and AdamW, as torch.optim.Adam and torch.optim.AdamW."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from chainrule.engine import Value
from chainrule.nn.optim.optimizer import Optimizer, ParamsArg, check_number


class Adam(Optimizer):
    """Adam, as torch.optim.Adam, for each parameter w at step t:

    g ← ∇ + λ·w;   m ← β₁m + (1-β₁)g;   v ← β₂v + (1-β₂)g²
    w ← w - lr/(1-β₁ᵗ) · m / (√v/√(1-β₂ᵗ) + ε)

    decoupled_weight_decay=True is AdamW (Loshchilov & Hutter): λ leaves the gradient,
    so it is not divided by √v (weights with large gradients are decayed as much as any
    other), and the weights shrink directly first: w ← (1 - lr·λ)·w, then the step above
    with g = ∇.

    Refused when made (ValueError naming the argument): lr, eps or weight_decay negative
    or not finite, a beta outside [0, 1).
    """

    def __init__(
        self,
        params: ParamsArg,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        *,
        decoupled_weight_decay: bool = False,
    ) -> None:
        # betas kept as a list: the state dict is JSON, which has no tuples
        defaults = {
            "lr": lr,
            "betas": list(betas),
            "eps": eps,
            "weight_decay": weight_decay,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def check_group(self, group: Mapping[str, Any]) -> None:
        for name in ("lr", "eps", "weight_decay"):
            check_number(name, group[name])
        if not isinstance(group["decoupled_weight_decay"], bool):
            raise TypeError("decoupled_weight_decay must be True or False")
        betas = group["betas"]
        if not isinstance(betas, (list, tuple)) or len(betas) != 2:
            raise ValueError(f"betas must be a pair of numbers, got {betas!r}")
        for i, b in enumerate(betas):
            check_number(f"betas[{i}]", b, below=1.0)

    def check_state(self, state: Mapping[str, Any]) -> None:
        super().check_state(state)
        if set(state) != {"step", "exp_avg", "exp_avg_sq"}:
            raise ValueError(f"Adam state needs step, exp_avg, exp_avg_sq; got {sorted(state)}")
        if not float(state["step"]).is_integer() or state["step"] < 0:
            raise ValueError(f"Adam state step must be a whole number >= 0, got {state['step']}")
        if state["exp_avg_sq"] < 0:
            raise ValueError(f"Adam state exp_avg_sq must be >= 0, got {state['exp_avg_sq']}")

    def update(self, p: Value, group: dict[str, Any], state: dict[str, Any]) -> None:
        lr, (b1, b2), eps = group["lr"], group["betas"], group["eps"]
        d = self.decayed_grad(p, group)
        if not state:
            state.update(step=0, exp_avg=0.0, exp_avg_sq=0.0)
        state["step"] = t = int(state["step"]) + 1
        m = state["exp_avg"] + (d - state["exp_avg"]) * (1 - b1)  # torch's lerp
        v = state["exp_avg_sq"] * b2 + (1 - b2) * d * d
        state["exp_avg"], state["exp_avg_sq"] = m, v
        step_size = lr / (1 - b1**t)
        denom = math.sqrt(v) / (1 - b2**t) ** 0.5 + eps
        p.data += -step_size * m / denom  # torch's addcdiv: (value·m)/denom


class AdamW(Adam):
    """AdamW, as torch.optim.AdamW: `Adam(..., decoupled_weight_decay=True)` with torch's
    default weight_decay of 0.01 (given by keyword). Each step: w ← (1 - lr·λ)·w, then
    Adam's step with the plain gradient (see `Adam`)."""

    def __init__(
        self, params: ParamsArg, *args: Any, weight_decay: float = 1e-2, **kwargs: Any
    ) -> None:
        options = {**kwargs, "weight_decay": weight_decay, "decoupled_weight_decay": True}
        super().__init__(params, *args, **options)
