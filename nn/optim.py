"""Optimizers: they read `p.grad` and update `p.data`, step for step as torch.optim.

The update-to-weight ratio |Δw|/|w| (see `nn.train`) tells whether a learning rate is
sane: around 1e-3 per step is the usual rule of thumb.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from engine import Value


class Optimizer:
    """Holds parameters and hyper-parameters in `param_groups` (one group), as PyTorch."""

    def __init__(self, params: Iterable[Value], defaults: dict[str, Any]) -> None:
        plist = list(params)
        if not plist:
            raise ValueError("optimizer got an empty parameter list")
        for p in plist:
            if not isinstance(p, Value):
                raise TypeError(f"optimizer parameters must be Values, got {type(p).__name__}")
        if defaults.get("lr", 0.0) < 0.0:
            raise ValueError(f"invalid learning rate {defaults['lr']!r}")
        self.param_groups: list[dict[str, Any]] = [{"params": plist, **defaults}]
        self.state: dict[int, dict[str, Any]] = {}

    @property
    def params(self) -> list[Value]:
        return self.param_groups[0]["params"]

    @property
    def lr(self) -> float:
        return self.param_groups[0]["lr"]

    @lr.setter
    def lr(self, value: float) -> None:
        self.param_groups[0]["lr"] = value

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """JSON-ready: per-parameter state by index, and hyper-parameters."""
        groups = [{k: v for k, v in g.items() if k != "params"} for g in self.param_groups]
        return {"state": {str(i): dict(s) for i, s in self.state.items()}, "param_groups": groups}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        groups = state["param_groups"]
        if len(groups) != 1:
            raise ValueError("state dict has a different number of parameter groups")
        entries = {int(i): dict(s) for i, s in state["state"].items()}
        if any(not 0 <= i < len(self.params) for i in entries):
            raise ValueError("optimizer state refers to parameters this optimizer does not have")
        self.state = entries
        self.param_groups[0].update(groups[0])


class SGD(Optimizer):
    """Stochastic gradient descent, as torch.optim.SGD:

        g ← ∇ + λ·w                          (weight_decay λ: L2, "coupled")
        b ← μ·b + (1 - dampening)·g          (momentum μ; b = g on the first step)
        g ← g + μ·b if nesterov else b
        w ← w - lr·g

    decoupled_weight_decay=True instead shrinks the weights directly, as the lecture
    states weight decay: w ← (1 - lr·λ)·w, then the step without λ in g. Without
    momentum the two are the same update; with momentum they differ.
    """

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        decoupled_weight_decay: bool = False,
    ) -> None:
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("nesterov momentum requires a momentum and zero dampening")
        super().__init__(
            params,
            {
                "lr": lr,
                "momentum": momentum,
                "dampening": dampening,
                "weight_decay": weight_decay,
                "nesterov": nesterov,
                "decoupled_weight_decay": decoupled_weight_decay,
            },
        )

    def step(self) -> None:
        g = self.param_groups[0]
        lr, mu, damp, wd = g["lr"], g["momentum"], g["dampening"], g["weight_decay"]
        decoupled = g["decoupled_weight_decay"]
        for i, p in enumerate(self.params):
            d = p.grad
            if wd != 0.0:
                if decoupled:
                    p.data *= 1.0 - lr * wd
                else:
                    d = d + wd * p.data
            if mu != 0.0:
                s = self.state.setdefault(i, {})
                buf = s.get("momentum_buffer")
                buf = d if buf is None else buf * mu + (1.0 - damp) * d
                s["momentum_buffer"] = buf
                d = d + mu * buf if g["nesterov"] else buf
            p.data += -lr * d


class Adam(Optimizer):
    """Adam, as torch.optim.Adam:

    g ← ∇ + λ·w;   m ← β₁m + (1-β₁)g;   v ← β₂v + (1-β₂)g²
    w ← w - lr/(1-β₁ᵗ) · m / (√v/√(1-β₂ᵗ) + ε)
    """

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(
            params, {"lr": lr, "betas": list(betas), "eps": eps, "weight_decay": weight_decay}
        )

    def step(self) -> None:
        g = self.param_groups[0]
        lr, (b1, b2), eps, wd = g["lr"], g["betas"], g["eps"], g["weight_decay"]
        for i, p in enumerate(self.params):
            d = p.grad
            if wd != 0.0:
                d = d + wd * p.data
            s = self.state.setdefault(i, {"step": 0, "exp_avg": 0.0, "exp_avg_sq": 0.0})
            s["step"] += 1
            t = s["step"]
            m = s["exp_avg"] + (d - s["exp_avg"]) * (1 - b1)  # torch's lerp
            v = s["exp_avg_sq"] * b2 + (1 - b2) * d * d
            s["exp_avg"], s["exp_avg_sq"] = m, v
            step_size = lr / (1 - b1**t)
            denom = math.sqrt(v) / (1 - b2**t) ** 0.5 + eps
            p.data += -step_size * m / denom  # torch's addcdiv: (value·m)/denom
