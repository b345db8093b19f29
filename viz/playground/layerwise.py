"""One sample's backprop layer by layer, the matrix form of the chain rule a course
writes after the scalar graph, with the numbers for the page's layer-by-layer stepper.

Forward, for each layer l: zˡ = Wˡ aˡ⁻¹ + bˡ, aˡ = f(zˡ), with a⁰ = x. Backward, from the
output layer back:

    δᴸ = ∂L/∂aᴸ ⊙ f′(zᴸ)              (the loss's derivative, through the output activation)
    δˡ = (Wˡ⁺¹)ᵀ δˡ⁺¹ ⊙ f′(zˡ)          (each hidden layer)
    ∂L/∂Wˡ = δˡ (aˡ⁻¹)ᵀ,  ∂L/∂bˡ = δˡ

Only the derivatives of the loss and of one activation come from the engine (a
`Value` each, differentiated by `backward()`), so the sums and products here are the
matrix form's own; `check` then compares every ∂L/∂W and ∂L/∂b with the gradient the
scalar graph left on that parameter. Batch norm mixes a unit's inputs across the
batch statistics, which this form does not write, so such networks are refused.
"""

from __future__ import annotations

import copy
from typing import Any

from chainrule.engine import Value
from chainrule.nn import Dropout, Layer, Module
from chainrule.nn.activation import apply_activation
from chainrule.viz.playground.trainer import loss_function

AGREE = 1e-9  # relative: the same sums in another order differ by a few ulps


def _derivative(z: float, activation: str) -> float:
    """f′(z), from the engine's own derivative of the activation."""
    v = Value(z)
    out = apply_activation(v, activation)
    if out is v:
        return 1.0  # the identity: no node, derivative 1
    out.backward()
    return float(v.grad)


def _loss_grad(out: list[float], y: Any, loss: str) -> list[float]:
    """∂L/∂aᴸ: the loss of the network's outputs, differentiated by the engine."""
    leaves = [Value(a) for a in out]
    target = y if loss == "mse" else int(y)
    loss_function(loss)([leaves], [target]).backward()
    return [float(v.grad) for v in leaves]


def _forward(layers: list[tuple[str, Layer]], x: list[float]) -> list[dict[str, Any]]:
    """Each layer's input a, pre-activation z and f′(z), in the scalar graph's order of
    sums (w₀a₀ + w₁a₁ + … + b)."""
    records, a = [], [float(v) for v in x]
    for name, m in layers:
        z = []
        for j, row in enumerate(m.weight):
            s = 0.0
            for w, ai in zip(row, a):
                s += w.data * ai
            z.append(s + (m.bias[j].data if m.bias is not None else 0.0))
        act = m.activation
        out = [float(apply_activation(Value(v), act).data) for v in z]
        records.append({"name": name, "activation": act, "a_in": a, "z": z,
                        "fprime": [_derivative(v, act) for v in z], "out": out})  # fmt: skip
        a = out
    return records


def layerwise(model: Module, x: list[float], y: Any, loss: str) -> dict[str, Any]:
    """δ and ∂L/∂W, ∂L/∂b of each layer for one sample, from the output layer back, on an
    eval-mode copy of `model` (dropout is then the identity); or why not."""
    net = copy.deepcopy(model)
    net.eval()
    layers: list[tuple[str, Layer]] = []
    for li, m in enumerate(net.layers):  # type: ignore[attr-defined]
        if isinstance(m, Layer):
            layers.append((f"layers.{li}", m))
        elif not isinstance(m, Dropout):
            return {"available": False,
                    "reason": f"layers.{li} is {type(m).__name__}: the matrix form here is "
                              "for networks of layers (and dropout) only"}  # fmt: skip
    records = _forward(layers, x)
    upstream = _loss_grad(records[-1]["out"], y, loss)
    for k in range(len(records) - 1, -1, -1):
        r = records[k]
        r["upstream"] = upstream  # ∂L/∂aˡ: the loss's, or (Wˡ⁺¹)ᵀ δˡ⁺¹
        r["delta"] = [u * f for u, f in zip(upstream, r["fprime"])]
        r["dW"] = [[d * a for a in r["a_in"]] for d in r["delta"]]
        r["db"] = list(r["delta"]) if layers[k][1].bias is not None else None
        weight = layers[k][1].weight
        upstream = [
            sum(weight[j][i].data * d for j, d in enumerate(r["delta"]))
            for i in range(len(r["a_in"]))
        ]
    return {"available": True, "layers": records[::-1]}  # the output layer first


def check(result: dict[str, Any], grads: dict[str, float]) -> dict[str, Any]:
    """Each layer's ∂L/∂W and ∂L/∂b against the scalar graph's gradients (state_dict
    names): the largest difference, and whether all agree to AGREE (relative)."""
    worst, agree = 0.0, True
    for r in result.get("layers", []):
        name = r["name"]
        mine = {
            f"{name}.weight.{j}.{i}": g for j, row in enumerate(r["dW"]) for i, g in enumerate(row)
        }
        mine.update({f"{r['name']}.bias.{j}": g for j, g in enumerate(r["db"] or [])})
        diff = max(abs(g - grads[n]) for n, g in mine.items())
        scale = max(1.0, *(abs(grads[n]) for n in mine))
        r["max_diff"] = diff
        r["agrees"] = diff <= AGREE * scale
        worst, agree = max(worst, diff), agree and r["agrees"]
    result["max_diff"], result["agrees"] = worst, agree
    return result
