"""micrograd's hand-made nodes: `Value(data, _children, _op)` and `out._backward = fn`.

micrograd's lecture builds nodes by hand and gives each a `_backward` closure. Here such a
node is recorded with its parents; under one of micrograd's own op names (`+`, `*`,
`tanh`, `exp`, `**n`, `ReLU`) its local derivatives are micrograd's; under another name
they are unknown until `_backward` is assigned, and `backward()` before that raises,
naming the op, rather than give a plausible wrong number.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from chainrule.engine import ops
from chainrule.engine.ops import Node, Op
from chainrule.engine.powers import _pow_rule


def _micrograd(name: str, rule: Callable[..., Any], arity: int = 1) -> Op:
    op = Op(name, rule, arity)
    op.hand_made = True
    return op


# The op names micrograd's own ops (and its lecture's) give their nodes, with their
# derivative rules. Separate objects from ops.ADD...: an engine-made node's `_backward`
# cannot be reassigned, a hand-made one's can.
MICROGRAD_OPS: dict[str, Op] = {
    "+": _micrograd("+", ops._d_add, 2),
    "*": _micrograd("*", ops._d_mul, 2),
    "tanh": _micrograd("tanh", ops._d_tanh),
    "exp": _micrograd("exp", ops._d_exp),
    "ReLU": _micrograd("ReLU", ops._d_relu),
}


def micrograd_op(name: str, parents: tuple[Any, ...]) -> Op | None:
    """The op micrograd means by `name` for these parents (`**n` included), or None."""
    op = MICROGRAD_OPS.get(name)
    if op is not None:
        return op if len(parents) == op.arity else None
    if name.startswith("**") and len(parents) == 1:
        try:
            n = float(name[2:])
        except ValueError:
            return None
        return _micrograd(name, partial(_pow_rule, n))
    return None


class UnknownParents(tuple):  # type: ignore[type-arg]
    """The parents of a hand-made node whose op's derivative is unknown. The traversal
    that starts every backward pass reads `node._a._a` of a non-tuple parent record; on
    this record that raises the error, before any gradient is touched, at no cost to
    other nodes. (A tuple subclass with a `__dict__`, for the op's name: only such nodes
    pay for it.)"""

    op_name = "?"

    @property
    def _a(self) -> None:
        raise no_derivative(self.op_name, "has no derivative")


def no_derivative(op: str, what: str) -> RuntimeError:
    return RuntimeError(
        f"backward: the op {str(op)!r} of a node made by Value(data, _children, _op) {what}: "
        f"chainrule knows micrograd's {', '.join(MICROGRAD_OPS)} and '**n'; for another op, "
        "assign the node's _backward as micrograd's lecture does (for backward only), or "
        "define the op with its derivative as an engine.Function (see help(engine.Function))"
    )


def record(node: Any, children: Iterable[Any], op: str) -> None:
    """Fill in `node` (made by `Value(data, children, op)`): parents recorded; the local
    derivatives of micrograd's own op names from the parents' and this node's data, as
    its lecture's `_backward`s compute them; any other op's are unknown."""
    parents = tuple(children)
    for p in parents:
        if not isinstance(p, Node):
            raise TypeError(f"Value: _children must be Values, got {type(p).__name__}")
    known = micrograd_op(op, parents)
    if known is not None and known.rule is not None:
        node._op = known
        local = known.rule(*[p.data for p in parents], node.data)
        if len(parents) == 1:
            node._a, node._da = parents[0], local
        else:
            node._a, node._da, node._b, node._db = parents[0], local[0], parents[1], local[1]
        return
    node._op = Op(op, None, 0)
    unknown = UnknownParents(parents)
    unknown.op_name = op
    node._a, node._da, node._db = unknown, None, math.nan


def set_backward(node: Any, fn: Callable[[], None]) -> None:
    """micrograd's `out._backward = _backward` on a node made by `Value(data, _children,
    _op)`: the closure is called once, with out.grad = 1 and the parents' grads at 0, to
    read d out/d parent (what it adds to each parent), and those numbers become the
    node's local derivatives (no closure is kept: that would cost every node a slot).
    Every grad is restored afterwards. A `_backward` is linear in out.grad, so this is
    exactly what calling it during backprop would add. The node has no derivative as a
    graph then (`create_graph` says so)."""
    if not callable(fn):
        raise TypeError(f"_backward must be a function, got {type(fn).__name__}")
    op = node._op
    if node._a is not None and getattr(op, "rule", 0) is not None and not op.hand_made:
        raise AttributeError(
            f"_backward: node {str(op)!r} was made by an engine op, whose derivative is "
            "built in; assign _backward only to nodes made by Value(data, _children, _op)"
        )
    parents = node.parents
    if not parents:
        return  # a leaf: micrograd's leaves' _backward does nothing either
    unique = list(dict.fromkeys(parents))
    saved = [p.grad for p in unique], node.grad
    try:
        for p in unique:
            p.grad = 0.0
        node.grad = 1.0
        fn()
        totals = {p: p.grad for p in unique}
    finally:
        for p, g in zip(unique, saved[0]):
            p.grad = g
        node.grad = saved[1]
    # a parent met twice (a + a) got both its contributions at once: keep the total on
    # its first edge
    local = tuple(totals.pop(p, 0.0) for p in parents)
    node._op = Op(str(op), None, 0)
    node._a, node._da, node._b, node._db = tuple(parents), local, None, 1.0


def backward_step(node: Any) -> None:
    """Apply this node's chain-rule step only: add node.grad · local to each parent's grad
    (micrograd's lecture calls it node by node; the arithmetic of one step of
    `backward_steps()`)."""
    if type(node._a) is UnknownParents:
        raise no_derivative(node._op, "has no derivative")
    for p, _, added in node.chain_rule(node.grad):
        p.grad += added


def get_backward(node: Any) -> Callable[[], None]:
    """micrograd's `node._backward`: this node's chain-rule step, as a function."""
    return partial(backward_step, node)
