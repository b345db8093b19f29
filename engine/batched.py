"""One graph for the whole batch: a node's number may be a numpy array over the samples.

The graph stays the per-sample scalar graph (one node per unit and per op, the nodes a
student draws), but a node's `data` may be a 1-D numpy array with one entry per sample:
a *batched* node. Forward and backward are the same algorithm, with each op's value and
local derivative (the rules of `engine.ops`) computed elementwise. Parameters stay scalar
`Value`s; an edge from a batched node to a scalar parent sums its contributions over the
batch, so a parameter's `.grad` is the batch's sum, a float.

Record: a batched node keeps its parents in a tuple (`_a`), their local derivatives in a
tuple (`_da`, each a float or an array), an outer factor (`_db`) and, in `_b`, its `Edges`:
which parents are scalar (summed) and how to pass a gradient on (`Edges.step`, which the
backward sweep calls; a layer's units share one `LayerEdges`, which passes the whole layer on
in matrix products).

Reading one sample: `v.data[i]` is sample i's number, `v.grad[i]` its gradient; see
`sample` for a batched node's record at one sample.

Only this module imports numpy; the scalar path never loads it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from chainrule.engine.fused import dot_inner
from chainrule.engine.grad_mode import is_grad_enabled
from chainrule.engine.ops import ACTIVATIONS, Op, num
from chainrule.engine.value import new_node  # value imports this module only when used


def as_batch(data: Any) -> np.ndarray:
    """A batch's numbers as a new 1-D float64 array; anything else is a clear error."""
    arr = np.asarray(data)
    if arr.dtype == bool or arr.dtype.kind not in "fiu":
        raise TypeError(f"Value data must be real numbers, got an array of {arr.dtype}")
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(
            "Value data is a number or a 1-D array over a batch (one number per sample), "
            f"got an array of shape {arr.shape}"
        )
    return np.array(arr, dtype=float)


def is_batched(v: Any) -> bool:
    """True for a node whose number is an array over a batch."""
    return type(v.data) is not float


def size(v: Any) -> int:
    """The batch length of a batched node (1 for a scalar node)."""
    return 1 if type(v.data) is float else len(v.data)


class Edges:
    """A batched node's edges: `scalar[i]` says parent i is a scalar (its contributions
    are summed over the batch). `step(v, g)`: add g·d v/d parent into each parent."""

    __slots__ = ("scalar",)

    def __init__(self, scalar: tuple[bool, ...]) -> None:
        self.scalar = scalar

    def step(self, v: Any, g: Any) -> None:
        upstream = g * v._db
        for p, d, s in zip(v._a, v._da, self.scalar):
            c = upstream * d
            if s:
                p.grad += float(np.sum(c))
            else:
                p.grad += c

    def open(self) -> Edges | None:
        """Called when the sweep reaches this node's edges: a layer's edges hold their units'
        gradients until `flush` (`LayerEdges`); a single node's pass them on at once."""
        return None

    def added(self, i: int, amount: Any) -> Any:
        """What parent i receives of `amount` (a Value with create_graph): summed over the
        batch for a scalar parent."""
        if not self.scalar[i]:
            return amount
        return amount.sum() if hasattr(amount, "_op") else float(np.sum(amount))


class LayerEdges(Edges):
    """The edges of a layer's fused units over a batch, one object shared by its units.
    Unit j (`_da` = j) is act(z_j), z_j = Σ_i W[j, i] x_i + b_j, with parents x..., its
    weights..., its bias. `Xt` holds the inputs' numbers (inputs × samples), `W` the
    weights' and `D` act'(z) (units × samples).

    Backward passes a layer on in matrix products, not unit by unit: the sweep `open`s the
    layer, each unit's `step` records its gradient, and `flush` (before the sweep moves to
    any other node, so no parent is read early) passes them all on at once:
        dZ = G ⊙ D,   dL/dW = dZ Xᵀ,   dL/db = Σ_s dZ,   dL/dx = Wᵀ dZ.
    """

    __slots__ = ("D", "G", "W", "Xt", "bias", "inputs", "params")

    def __init__(
        self, scalar: tuple[bool, ...], inputs: tuple[Any, ...], Xt: np.ndarray,
        params: list[Any], W: np.ndarray, bias: bool, D: np.ndarray,
    ) -> None:  # fmt: skip
        super().__init__(scalar)
        self.inputs, self.Xt, self.params, self.W = inputs, Xt, params, W
        self.bias, self.D = bias, D
        self.G: list[Any] | None = None

    def inner(self, j: int) -> tuple[Any, ...]:
        """Unit j's inner derivatives dz_j/d parent: w_j..., x..., 1 (see engine.fused)."""
        return dot_inner([x.data for x in self.inputs], self.W[j].tolist(), self.bias)

    def open(self) -> LayerEdges:
        zero = np.zeros(self.D.shape[1])
        self.G = [zero] * len(self.D)  # a unit the sweep never reaches passes nothing on
        return self

    def step(self, v: Any, g: Any) -> None:
        # each unit's gradient kept as it is (an array over the batch, or a number for
        # every sample), stacked into a matrix once, in `flush`
        self.G[v._da] = g  # type: ignore[index]  # opened by the sweep

    def flush(self) -> None:
        G = self.G
        self.G = None
        if float in map(type, G):  # type: ignore[arg-type]
            G = [np.broadcast_to(g, len(self.D[0])) for g in G]  # type: ignore[union-attr]
        dZ = np.array(G) * self.D
        # the parameters flat (weights row by row, then biases): one loop, not one per unit
        grads = (dZ @ self.Xt.T).ravel()
        if self.bias:
            grads = np.concatenate((grads, dZ.sum(axis=1)))
        for p, gp in zip(self.params, grads.tolist()):
            p.grad += gp
        for x, gx, s in zip(self.inputs, self.W.T @ dZ, self.scalar):
            if s:
                x.grad += float(gx.sum())
            elif type(x.grad) is float and x.grad == 0.0:
                x.grad = gx  # its own row of a new matrix: no copy needed
            else:
                x.grad += gx


def node(
    data: Any, op: Op, parents: tuple[Any, ...], local: tuple[Any, ...], outer: Any = 1.0
) -> Any:
    """A batched node (a leaf under `no_grad`)."""
    if not is_grad_enabled():
        return new_node(data, op, None, 0.0)
    edges = Edges(tuple([type(p.data) is float for p in parents]))
    return new_node(data, op, parents, local, edges, outer)


def unary(x: Any, op: Op, out: Any, slope: Any) -> Any:
    return node(out, op, (x,), (slope,))


def binary(op: Op, x: Any, y: Any) -> Any:
    """x op y with at least one batched side (the op's forward, elementwise)."""
    out, local = op.forward(x.data, y.data)  # type: ignore[misc]  # binary ops have one
    return node(out, op, (x, y), local)


# --- reductions over the batch ---------------------------------------------------------


def _d_sum(x: Any, out: Any) -> Any:
    """d Σ_s x_s/d x_s = 1."""
    return np.ones(len(num(x)))


def _d_mean(x: Any, out: Any) -> Any:
    """d (1/n) Σ_s x_s/d x_s = 1/n."""
    n = len(num(x))
    return np.full(n, 1.0 / n)


BATCH_SUM, BATCH_MEAN = Op("sum", _d_sum), Op("mean", _d_mean)


def reduce(x: Any, how: str) -> Any:
    """Σ ("sum") or mean ("mean") over the batch: a scalar node whose one local
    derivative is an array (so its parent's gradient is one)."""
    data = x.data
    total = float(data.sum())  # numpy's pairwise sum; np.mean is this sum / n too
    if how == "sum":
        return new_node(total, BATCH_SUM, x, _d_sum(data, None))
    return new_node(total / len(data), BATCH_MEAN, x, _d_mean(data, None))


# --- fused units over a batch ---------------------------------------------------------


def linear(
    inputs: list[Any],
    weight: list[list[Any]],
    bias: list[Any] | None,
    activation: str,
    fused_op: Op,
) -> list[Any]:
    """One fused node per unit j over the batch: act(Σ_i weight[j][i]·inputs[i] + bias[j]),
    the pre-activations of every unit and sample in one matrix product (units × samples)."""
    nin = len(inputs)
    datas = [x.data for x in inputs]
    scalar = tuple([type(d) is float for d in datas])  # a scalar input: one for every sample
    if True in scalar:
        Xt = np.empty((nin, max(map(np.size, datas))))
        for i, d in enumerate(datas):
            Xt[i] = d
    else:
        Xt = np.array(datas)
    # the parameters read in one flat pass (np.fromiter of a flat list is ~2x faster than
    # np.array of nested lists), kept flat for backward (`LayerEdges.flush`)
    params = [w for row in weight for w in row]
    nw = len(params)
    if bias is not None:
        params += bias
    numbers = np.fromiter([p.data for p in params], float, len(params))
    W = numbers[:nw].reshape(-1, nin)
    Z = W @ Xt
    if bias is not None:
        Z += numbers[nw:, None]
    A, D = ACTIVATIONS[activation].array(Z)
    if not is_grad_enabled():
        return [new_node(a, fused_op, None, 0.0) for a in A]
    xs = tuple(inputs)
    scalar += (True,) * (nin + (bias is not None))  # weights and bias: summed over the batch
    edges = LayerEdges(scalar, xs, Xt, params, W, bias is not None, D)
    if bias is None:
        units = [(*xs, *row) for row in weight]
    else:
        units = [(*xs, *row, b) for row, b in zip(weight, bias)]
    return [new_node(a, fused_op, ps, j, edges, d) for j, (ps, a, d) in enumerate(zip(units, A, D))]


# --- logsumexp and losses over a batch (the scalar forms: engine.fused) ----------------


def _matrix(parents: tuple[Any, ...]) -> np.ndarray:
    """The parents' numbers as a (samples × parents) matrix (a scalar fills its column)."""
    n = max(size(p) for p in parents)
    Z = np.empty((n, len(parents)))
    for k, p in enumerate(parents):
        Z[:, k] = p.data
    return Z


def logsumexp(ps: tuple[Any, ...], op: Op) -> Any:
    """ln Σ_k e^{v_k} per sample, shifted by the row's max (inf and NaN as the scalar form)."""
    Z = _matrix(ps)
    m = Z.max(axis=1)
    safe = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(invalid="ignore"):
        lse = np.where(np.isfinite(m), safe + np.log(np.exp(Z - safe[:, None]).sum(1)), m)
    lse = np.where(np.isnan(Z).any(axis=1), np.nan, lse)
    return node(lse, op, ps, op.rule(list(Z.T), lse))  # type: ignore[misc]


def _d_cross_entropy(target: np.ndarray, parents: Any, out: Any) -> tuple[Any, ...]:
    """dℓ/dz_k = e^{(z_k - z_y) - ℓ} - [k = y] per sample (engine.fused's rule, with each
    sample's own class y): numbers or Values alike."""
    from chainrule.engine.ops import exp_any

    onehot = [(target == k).astype(float) for k in range(len(parents))]
    zy = sum(p * h for p, h in zip(parents, onehot))
    return tuple(exp_any((p - zy) - out) - h for p, h in zip(parents, onehot))


def _classes(target: Any, k: int) -> np.ndarray:
    t = np.asarray(target)
    if t.dtype == bool or t.dtype.kind not in "fiu" or (t != np.round(t)).any():
        raise ValueError("cross_entropy: a class is an integer")
    if (t < 0).any() or (t >= k).any():
        raise ValueError(f"cross_entropy: a class is out of range for {k} logits")
    return t.astype(int)


def cross_entropy(ps: tuple[Any, ...], target: Any) -> Any:
    """-ln softmax(z)_y per sample, as engine.fused.softmax_cross_entropy."""
    from functools import partial

    Z = _matrix(ps)
    t = _classes(target, len(ps))
    if t.shape != (len(Z),):
        raise ValueError(
            f"cross_entropy: the classes must be one integer per sample, shape ({len(Z)},) "
            f"for this batch, got shape {t.shape}"
        )
    m = Z.max(axis=1)
    log_total = np.log(np.exp(Z - m[:, None]).sum(axis=1))
    loss = -(Z[np.arange(len(Z)), t] - m - log_total)
    op = Op("cross_entropy", partial(_d_cross_entropy, t), 0)
    return node(loss, op, ps, _d_cross_entropy(t, list(Z.T), loss))


def _d_bce(y: np.ndarray, x: Any, out: Any) -> Any:
    """dℓ/dx = σ(x) - y per sample, as -σ(-x) where y = 1 (no cancellation)."""
    from chainrule.engine.ops import Node, sigmoid_any

    if isinstance(x, Node):
        return sigmoid_any(x) - y
    return np.where(y == 1.0, -sigmoid_any(-x), sigmoid_any(x) - y)


def bce(x: Any, target: Any) -> Any:
    """Binary cross-entropy on logits per sample, as engine.fused's."""
    from functools import partial

    y = as_batch(target) if np.ndim(target) else np.full(size(x), float(target))
    if not ((y >= 0.0) & (y <= 1.0)).all():
        raise ValueError("binary_cross_entropy: targets must be in [0, 1]")
    d = x.data
    loss = ((1.0 - y) * d + np.maximum(-d, 0.0)) + np.log1p(np.exp(-np.abs(d)))
    return node(loss, Op("bce", partial(_d_bce, y)), (x,), (_d_bce(y, d, loss),))


def sample(v: Any, i: int) -> tuple[float, float, tuple[tuple[Any, float], ...]]:
    """Sample i of a node: (its number, its gradient, (parent, local derivative) for each
    parent), the numbers the per-sample graph's node would hold for that sample. (A
    scalar node's gradient is the batch's sum: its own number, not sample i's share.)"""
    n = size(v)
    if not -n <= i < n and type(v.data) is not float:
        raise IndexError(f"sample {i} of a batch of {n}")

    def pick(a: Any) -> float:
        return float(a if np.ndim(a) == 0 else a[i])

    return pick(v.data), pick(v.grad), tuple((p, pick(d)) for p, d, _ in v.chain_rule(1.0))
