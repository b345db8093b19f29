"""Your own op, with its derivative: `engine.Function`, shaped like `torch.autograd.Function`.

A subclass defines `forward(ctx, *xs)` (the value) and `backward(ctx, grad_output)` (the
gradient for each input); `MyOp.apply(*xs)` makes one node named after the class, which
backward, the step-through, the drawings, `gradcheck` and `engine.grad(create_graph=True)`
treat like any built-in op.
"""

from __future__ import annotations

from functools import partial
from numbers import Real
from typing import Any

from chainrule.engine.grad_mode import is_grad_enabled, no_grad
from chainrule.engine.value import Op, Operand, Value, lift, new_node


class Context:
    """What `forward` leaves for `backward`: `save_for_backward(*values)` and
    `saved_values`, as PyTorch's ctx (any other attribute may be set too)."""

    saved_values: tuple[Any, ...] = ()

    def save_for_backward(self, *values: Any) -> None:
        self.saved_values = values


class Function:
    """Base class for a scalar op written by hand: a forward and a backward.

    Both run on `Value`s. `forward(ctx, *xs)` gets the inputs as Values (run under
    `no_grad`: whatever it computes is not recorded, the op is one node) and returns the
    output as a Value or a number. `backward(ctx, grad_output)` returns d L/d x_i =
    grad_output · d out/d x_i for each input (a tuple, or one value for one input; None
    for an input with no gradient), written with engine ops on Values.

    The engine calls `backward` once at `apply` time with grad_output = 1 and stores the
    numbers (the local derivatives), as for its own ops. For gradients of gradients
    (`create_graph=True`) it calls it again with recording on, so the derivative is a
    graph too: compute it from the inputs and from outputs you saved (saving the result
    of `forward` saves the node itself, as PyTorch), not from intermediate values of
    `forward`, which are constants here.

    Swish, x·σ(x), with d/dx = σ(x) + x·σ(x)(1 - σ(x)):

        from chainrule.engine import Function, Value, gradcheck

        class Swish(Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x.sigmoid()

            @staticmethod
            def backward(ctx, grad_output):
                (x,) = ctx.saved_values
                s = x.sigmoid()
                return grad_output * (s + x * s * (1 - s))

        x = Value(0.5, label="x")
        y = Swish.apply(x)           # one node, op "Swish"
        y.backward()                 # x.grad == σ(0.5) + 0.5·σ(0.5)(1 - σ(0.5))
        gradcheck(Swish.apply, [0.5])  # raises, naming Swish, if backward is wrong

    `op` (a class attribute) names the node in drawings; the class name by default.
    """

    op: str = ""

    @staticmethod
    def forward(ctx: Context, *xs: Value) -> Any:
        raise NotImplementedError("Function subclasses define forward(ctx, *xs)")

    @staticmethod
    def backward(ctx: Context, grad_output: Value) -> Any:
        raise NotImplementedError("Function subclasses define backward(ctx, grad_output)")

    @classmethod
    def apply(cls, *inputs: Operand) -> Value:
        """The op applied to `inputs` (Values or numbers): one node in the graph."""
        name = cls.op or cls.__name__
        xs = tuple(x if type(x) is Value else lift(x) for x in inputs)
        ctx = Context()
        with no_grad():
            result = cls.forward(ctx, *xs)
        data = _real(name, "forward", result)
        recording = is_grad_enabled()
        # the op's rule for create_graph: backward(ctx, 1) again (a partial of module-level
        # functions, not a closure, so a graph holding the node pickles and deep-copies)
        rule = partial(_rule, cls, name, ctx)
        local: Any = None
        if recording:
            # the numbers now, while a saved output is still forward's result (same number)
            with no_grad():
                local = tuple(_real(name, "backward", d) for d in _locals(cls, name, ctx, len(xs)))
        op = Op(name, rule, 0, cls)
        if type(data) is not float or any(type(x.data) is not float for x in xs):
            _check_batch(name, xs, data, local)
        if type(data) is not float:  # a batch: elementwise (engine.batched)
            from chainrule.engine.batched import node as batched_node

            node = batched_node(data, op, xs, local) if recording else new_node(data, op, None, 0.0)
        else:
            node = new_node(data, op, xs, local, db=1.0)
        if isinstance(result, Value):
            # a saved output is the node itself, so its derivative is part of the graph
            ctx.saved_values = tuple(node if s is result else s for s in ctx.saved_values)
        return node


def _check_batch(name: str, xs: tuple[Value, ...], data: Any, local: Any) -> None:
    """On a batch, forward's output and each derivative from backward are a number or one
    number per sample of the inputs' batch (as PyTorch checks a custom op's gradients'
    shapes): another length would give the inputs gradients of the wrong shape."""
    sizes = [len(x.data) for x in xs if type(x.data) is not float]
    n = sizes[0] if sizes else len(data)
    for what, a in (("forward", data), *(("backward", d) for d in local or ())):
        if getattr(a, "ndim", 0) and len(a) != n:
            raise ValueError(f"{name}.{what} returned {len(a)} numbers for a batch of {n}")


def _rule(
    cls: type[Function], name: str, ctx: Context, parents: tuple[Value, ...], out: Value
) -> tuple[Any, ...]:
    return _locals(cls, name, ctx, len(parents))


def _locals(cls: type[Function], name: str, ctx: Context, n: int) -> tuple[Any, ...]:
    """backward(ctx, 1) as one local derivative per input (None becomes 0); each a Value
    or a real number, as PyTorch refuses anything else (a string, a bool, a complex)."""
    grads = cls.backward(ctx, Value(1.0))
    if not isinstance(grads, tuple):
        grads = (grads,)
    if len(grads) != n:
        raise ValueError(f"{name}.backward returned {len(grads)} gradients for {n} inputs")
    for g in grads:
        if g is not None and not isinstance(g, Value):
            _real(name, "backward", g)
    return tuple(0.0 if g is None else g for g in grads)


def _real(name: str, what: str, x: Any) -> Any:
    """The number in what `name.what` returned: a Value's data, a real number (numpy's
    scalars too) as a float, or a batch's array; anything else, bool included, is a
    TypeError naming the op."""
    if isinstance(x, Value):
        return x.data
    if type(x).__name__ == "ndarray":  # a batch's numbers, one per sample
        from chainrule.engine.batched import as_batch

        return as_batch(x) if x.ndim else _real(name, what, x.item())
    if isinstance(x, bool) or not isinstance(x, Real):
        raise TypeError(
            f"{name}.{what} must return a Value or a real number, got {type(x).__name__} {x!r:.60}"
        )
    try:
        return float(x)
    except OverflowError:
        raise TypeError(f"{name}.{what} returned {x!r:.60}, too large for a float") from None
