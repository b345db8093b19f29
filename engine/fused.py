"""Fused n-ary nodes: sums, dot products, whole neurons and losses as one node each.

A fused node keeps all its parents in one tuple and d(out)/d(parent_i) as an outer factor
times an inner derivative (see `engine.value`), so a layer of n inputs costs one node per
unit instead of 2n. Each op's derivative is one rule, used with floats on the forward pass
and with Values for gradients of gradients, as for the elementary ops.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from functools import partial
from operator import mul
from typing import Any

from chainrule.engine.ops import ACTIVATIONS, Op, exp_any, sigmoid_any
from chainrule.engine.value import Number, Operand, Value, lift, new_node


def _lift_all(values: Iterable[Operand]) -> tuple[Value, ...]:
    return tuple(v if type(v) is Value else lift(v) for v in values)


# --- sums ----------------------------------------------------------------------------


def _d_sum(parents: Sequence[Any], out: Number) -> tuple[Any, ...]:
    """d Σ v_i/d v_i = 1."""
    return (1.0,) * len(parents)


SUM = Op("sum", _d_sum, 0)


def add_all(values: Iterable[Operand]) -> Value:
    """Σ v_i as one node; d/dv_i = 1 (stored as `None`: all ones)."""
    ps = _lift_all(values)
    total = sum(p.data for p in ps)
    if type(total) is not float and ps:  # a batch: engine.batched
        return _batched().node(total, SUM, ps, (1.0,) * len(ps))
    return new_node(total, SUM, ps, None, db=1.0)


def _batched() -> Any:
    from chainrule.engine import batched

    return batched


def _any_batched(values: Sequence[Value]) -> bool:
    return any(type(v.data) is not float for v in values)


# --- neurons -------------------------------------------------------------------------


def dot_inner(xs: Sequence[Any], ws: Sequence[Any], has_bias: bool) -> tuple[Any, ...]:
    """d z/d parent for z = Σ w_i x_i (+ b), parents ordered x..., w..., b:
    d z/d x_i = w_i, d z/d w_i = x_i, d z/d b = 1 (numbers or Values alike)."""
    return (*ws, *xs, 1.0) if has_bias else (*ws, *xs)


def _d_neuron(activation: str, parents: Sequence[Any], out: Number) -> tuple[Any, ...]:
    """d act(z)/d p = act'(z) · d z/d p (the activation's rule reads only `out`)."""
    n = len(parents) // 2
    outer = ACTIVATIONS[activation].rule(None, out)
    inner = dot_inner(parents[:n], parents[n : 2 * n], len(parents) % 2 == 1)
    return tuple(outer * d for d in inner)


_FUSED_OP = {
    a: Op("dot" if a in ("identity", "linear") else f"dot+{a}", partial(_d_neuron, a), 0)
    for a in ACTIVATIONS
}


def _neuron_node(
    z: float, parents: tuple[Value, ...], inner: tuple[float, ...], activation: str
) -> Value:
    """act(z) as one node, for a pre-activation z = Σ w_i x_i + b computed by the caller.
    `parents` are the inputs, weights and bias; `inner` their derivatives dz/dp
    (`dot_inner` of the numbers). An inactive ReLU has act'(z) = 0: backward skips it."""
    out, slope = ACTIVATIONS[activation].scalar(z)
    return new_node(out, _FUSED_OP[activation], parents, inner, db=slope)


def neuron(
    weights: Sequence[Value],
    inputs: Sequence[Operand],
    bias: Value | None = None,
    activation: str = "identity",
) -> Value:
    """act(Σ w_i·x_i + b) as one node.

    With z = Σ w_i x_i + b: d out/dx_i = act'(z)·w_i, d out/dw_i = act'(z)·x_i,
    d out/db = act'(z). Parents are x_1..x_n, w_1..w_n, then b.
    """
    if len(weights) != len(inputs):
        raise ValueError(f"neuron: {len(weights)} weights but {len(inputs)} inputs")
    xs = _lift_all(inputs)
    if _any_batched(xs):
        bs = None if bias is None else [bias]
        return _batched().linear(list(xs), [weights], bs, activation, _FUSED_OP[activation])[0]
    xd = tuple(x.data for x in xs)
    wd = tuple(w.data for w in weights)
    z = sum(map(mul, wd, xd))
    inner = dot_inner(xd, wd, bias is not None)
    if bias is None:
        return _neuron_node(z, xs + tuple(weights), inner, activation)
    return _neuron_node(z + bias.data, (*xs, *weights, bias), inner, activation)


def fused_linear(
    inputs: Sequence[Sequence[Value]],
    weight: Sequence[Sequence[Value]],
    bias: Sequence[Value] | None,
    activation: str = "identity",
    pre: Sequence[Sequence[float]] | None = None,
) -> list[list[Value]]:
    """A layer's outputs for a batch: out[s][j] = act(Σ_i weight[j][i]·inputs[s][i] + bias[j]),
    one fused neuron node per sample and unit.

    `pre` may give the pre-activations z[s][j] already computed (a layer computes a whole
    batch's z in one matrix product); otherwise they are summed here. A sample of
    batched Values (`engine.batched`) is the whole batch: one node per unit.
    """
    if len(inputs) == 1 and _any_batched(inputs[0]):
        op = _FUSED_OP[activation]
        return [_batched().linear(list(inputs[0]), weight, bias, activation, op)]
    wds = [tuple([w.data for w in row]) for row in weight]
    xss = [tuple(xs) for xs in inputs]
    xds = [tuple([v.data for v in xs]) for xs in xss]
    has_bias = bias is not None
    if bias is not None:
        units = [((*row, b), wd) for row, wd, b in zip(weight, wds, bias)]
        bds = [b.data for b in bias]
    else:
        units = [(tuple(row), wd) for row, wd in zip(weight, wds)]
        bds = [0.0] * len(wds)
    if pre is None:
        pre = [[sum(map(mul, wd, xd)) + bd for wd, bd in zip(wds, bds)] for xd in xds]
    return [
        [
            _neuron_node(zj, xs + wb, dot_inner(xd, wd, has_bias), activation)
            for zj, (wb, wd) in zip(zrow, units)
        ]
        for xs, xd, zrow in zip(xss, xds, pre)
    ]


def dot(weights: Sequence[Value], inputs: Sequence[Operand], bias: Value | None = None) -> Value:
    """Σ w_i·x_i (+ b) as one node: the fused neuron with no activation."""
    return neuron(weights, inputs, bias, "identity")


# --- logsumexp and losses ------------------------------------------------------------


def _d_logsumexp(parents: Sequence[Any], out: Number) -> tuple[Any, ...]:
    """d lse/d v_i = softmax(v)_i = e^{v_i - lse}."""
    return tuple(exp_any(p - out) for p in parents)


LOGSUMEXP = Op("logsumexp", _d_logsumexp, 0)


def logsumexp(values: Sequence[Operand]) -> Value:
    """ln Σ e^{v_i} as one node, computed as m + ln Σ e^{v_i - m} (m = max) so it never
    overflows; derivative `_d_logsumexp`."""
    ps = _lift_all(values)
    if not ps:
        raise ValueError("logsumexp: needs at least one value")
    if _any_batched(ps):
        return _batched().logsumexp(ps, LOGSUMEXP)
    ds = [p.data for p in ps]
    m = max(ds)
    if math.isinf(m) or m != m:
        # +inf, or every value -inf: shifting by m would give inf - inf = NaN. PyTorch's
        # result is m itself (NaN if any value is NaN).
        lse = math.nan if any(d != d for d in ds) else m
    else:
        lse = m + math.log(sum(math.exp(d - m) for d in ds))
    return new_node(lse, LOGSUMEXP, ps, _d_logsumexp(ds, lse), db=1.0)


def _d_cross_entropy(target: int, parents: Sequence[Any], out: Number) -> tuple[Any, ...]:
    """dℓ/dz_k = softmax(z)_k - [k = y] = e^{(z_k - z_y) - ℓ} - [k = y] (as ℓ = lse - z_y;
    for k = y exactly e^{-ℓ} - 1, with no rounding from forming lse)."""
    zy = parents[target]
    return tuple(exp_any((p - zy) - out) - (k == target) for k, p in enumerate(parents))


def softmax_cross_entropy(logits: Sequence[Operand], target: Any) -> Value:
    """-ln softmax(z)_y as one node, computed as ln Σ e^{z_k - m} - (z_y - m) (m = max z)
    like PyTorch's log_softmax, so it neither overflows nor cancels; derivative
    `_d_cross_entropy`. Batched logits (`engine.batched`) take an array of classes, one
    per sample."""
    ps = _lift_all(logits)
    if _any_batched(ps) or type(target).__name__ == "ndarray":
        return _batched().cross_entropy(ps, target)
    if not 0 <= target < len(ps):
        raise ValueError(f"cross_entropy: class {target} is out of range for {len(ps)} logits")
    ds = [p.data for p in ps]
    m = max(ds)
    log_total = math.log(sum(math.exp(d - m) for d in ds))
    loss = -(ds[target] - m - log_total)
    op = Op("cross_entropy", partial(_d_cross_entropy, target), 0)
    return new_node(loss, op, ps, _d_cross_entropy(target, ds, loss), db=1.0)


def _d_bce(y: float, x: Number, out: Number) -> Any:
    """dℓ/dx = σ(x) - y, written as -σ(-x) for y = 1 so it does not cancel for large x."""
    return -sigmoid_any(-x) if y == 1.0 else sigmoid_any(x) - y


def binary_cross_entropy_with_logits(logit: Operand, target: Any) -> Value:
    """-[y ln σ(x) + (1-y) ln(1-σ(x))] as one node, for a logit x and target y in [0, 1].

    Value: (1-y)·x + max(-x, 0) + ln(1 + e^-|x|), which never overflows; derivative `_d_bce`.
    A batched logit (`engine.batched`) takes an array of targets, one per sample.
    """
    x = logit if type(logit) is Value else lift(logit)
    if type(x.data) is not float or type(target).__name__ == "ndarray":
        return _batched().bce(x, target)
    y = float(target)
    if not 0.0 <= y <= 1.0:
        raise ValueError(f"binary_cross_entropy: target must be in [0, 1], got {target!r}")
    d = x.data
    loss = ((1.0 - y) * d + max(-d, 0.0)) + math.log1p(math.exp(-abs(d)))
    return new_node(loss, Op("bce", partial(_d_bce, y)), x, _d_bce(y, d, loss))
