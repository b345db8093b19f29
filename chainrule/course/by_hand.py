"""Lesson 3 (backprop by hand): `Tiny`, a stripped-down value class without backward, the
graphs its checkers build, and the lesson's checkers and solutions."""

from __future__ import annotations

import math
from typing import Any

from chainrule.course._core import close, exercise, number, solution, solution_answer


class Tiny:
    """A value with `data`, `grad`, its `parents` and the local derivatives
    `locals[i]` = d self / d parents[i]. It knows +, *, tanh; `backward` is yours to write."""

    def __init__(self, data: float, parents: tuple = (), locals: tuple = (), label: str = ""):
        self.data, self.grad = float(data), 0.0
        self.parents, self.locals, self.label = parents, locals, label

    def __add__(self, other: Any) -> Tiny:
        other = other if isinstance(other, Tiny) else Tiny(other)
        return Tiny(self.data + other.data, (self, other), (1.0, 1.0))

    def __mul__(self, other: Any) -> Tiny:
        other = other if isinstance(other, Tiny) else Tiny(other)
        return Tiny(self.data * other.data, (self, other), (other.data, self.data))

    __radd__ = __add__
    __rmul__ = __mul__

    def tanh(self) -> Tiny:
        t = math.tanh(self.data)
        return Tiny(t, (self,), (1 - t * t,))

    def __repr__(self) -> str:
        name = f"{self.label}=" if self.label else ""
        return f"Tiny({name}{self.data:.4g}, grad={self.grad:.4g})"


def hand_graph(kind: Any = None) -> dict[str, Any]:
    """Exercise 3.1's graph L = (a·b + c)·f with a=2, b=-3, c=10, f=-2, built from
    `kind` (chainrule's Value by default), every node by name."""
    from chainrule.engine import Value

    kind = kind or Value
    a, b, c, f = kind(2.0), kind(-3.0), kind(10.0), kind(-2.0)
    e = a * b
    d = e + c
    return {"a": a, "b": b, "c": c, "f": f, "e": e, "d": d, "L": d * f}


def expression(a: Any, b: Any) -> Any:
    """A graph with a node used three times and paths of different lengths."""
    h = (a * b + a).tanh()
    return (h * a + h * h) * b


def _chain(x: Any, n: int = 3000) -> Any:
    for _ in range(n):
        x = x * 1.0001 + 0.0
    return x


def _order_ok(order: list, root: Any) -> str:
    """'' if `order` lists each interior node of root's graph once, parents first."""
    seen: set[int] = set()
    ids = [id(v) for v in order]
    if len(ids) != len(set(ids)):
        return "a node appears twice: mark nodes as visited when you first reach them."
    if order and order[0] is root:
        return "the root comes first: that is the backward order; return parents first."
    for v in order:
        for p in v.parents:
            if p.parents and id(p) not in seen and id(p) in set(ids):
                return "a node comes before one of its parents: build children after parents."
        seen.add(id(v))
    if not order or order[-1] is not root:
        return "the root must come last, after everything it depends on."
    return ""


def _all_nodes(root: Any) -> list:
    out, stack, seen = [], [root], set()
    while stack:
        v = stack.pop()
        if id(v) not in seen:
            seen.add(id(v))
            out.append(v)
            stack.extend(v.parents)
    return out


@exercise("3.1")
def _grads_by_hand(answer: Any) -> tuple[bool, str]:
    nodes = hand_graph()
    nodes["L"].backward()
    if not isinstance(answer, dict) or set(answer) != set(nodes):
        return False, f"expected a dict with the keys {sorted(nodes)}."
    local = {"d": nodes["f"].data, "f": nodes["d"].data, "e": 1.0, "c": 1.0}
    local.update(a=nodes["b"].data, b=nodes["a"].data)
    for name in ("L", "d", "f", "e", "c", "a", "b"):  # backward order: name the first slip
        got, want = number(answer[name]), nodes[name].grad
        if close(got, want):
            continue
        if name == "L":
            return False, "dL/dL = 1: the backward pass starts there."
        if close(got, local[name]) and not close(local[name], want):
            return (
                False,
                f"{name}: that is the local derivative only; multiply by the upstream grad.",
            )
        if close(got, -want):
            return False, f"{name}: the sign is off."
        return False, f"{name}: not yet; upstream gradient × local derivative."
    return True, "each gradient is the upstream gradient times the local derivative."


@solution("3.1")
def _() -> Any:
    # L = d·f, d = e + c, e = a·b; a=2, b=-3, c=10, f=-2, so e=-6, d=4
    answer = {"L": 1.0}
    answer["d"] = answer["L"] * -2.0  # dL/dd = f
    answer["f"] = answer["L"] * 4.0  # dL/df = d
    answer["e"] = answer["d"] * 1.0  # + passes the gradient on unchanged
    answer["c"] = answer["d"] * 1.0
    answer["a"] = answer["e"] * -3.0  # dL/da = dL/de · b
    answer["b"] = answer["e"] * 2.0  # dL/db = dL/de · a
    return answer


@exercise("3.2")
def _topo(answer: Any) -> tuple[bool, str]:
    if not callable(answer):
        return False, "expected a function topo_order(root)."
    a, b = Tiny(0.5), Tiny(-1.2)
    root = expression(a, b)
    order = list(answer(root))
    interior = [v for v in _all_nodes(root) if v.parents]
    if len({id(v) for v in order}) == len(order) and len(order) < len(interior):
        return False, "some computed nodes are missing: visit every parent, not just the first."
    problem = _order_ok([v for v in order if v.parents], root)
    if problem:
        return False, problem
    try:
        deep = list(answer(_chain(Tiny(1.0))))
    except RecursionError:
        return False, (
            "recursion: a 3000-node chain exceeds Python's recursion limit; "
            "walk the graph with an explicit stack."
        )
    if _order_ok([v for v in deep if v.parents], deep[-1]):
        return False, "on a long chain the order is wrong."
    return True, "each node after all of its parents, each once, also on a 3000-node chain."


@solution("3.2")
def _() -> Any:
    def topo_order(root):
        order, done, stack = [], set(), [(root, False)]
        while stack:  # an explicit stack: no recursion limit on deep graphs
            node, expanded = stack.pop()
            if expanded:
                order.append(node)  # all its parents are in order already
            elif id(node) not in done:
                done.add(id(node))
                stack.append((node, True))
                stack.extend((p, False) for p in node.parents if id(p) not in done)
        return order

    answer = topo_order
    return answer


def simulate_bug(root: Any, bug: str) -> None:
    """Run a classic wrong backward pass on a Tiny graph: "no +=", "wrong order" or
    "recursion" (the checker compares a student's result with each)."""
    for v in _all_nodes(root):
        v.grad = 0.0
    root.grad = 1.0
    if bug == "recursion":

        def push(v: Any) -> None:
            for p, d in zip(v.parents, v.locals):
                p.grad += v.grad * d
                push(p)

        push(root)
        return
    order = solution_answer("3.2")(root)  # the worked topological order
    for v in order if bug == "wrong order" else reversed(order):
        for p, d in zip(v.parents, v.locals):
            if bug == "no +=":
                p.grad = v.grad * d
            else:
                p.grad += v.grad * d


@exercise("3.3")
def _backward(answer: Any) -> tuple[bool, str]:
    from chainrule.engine import Value, gradcheck

    if not callable(answer):
        return False, "expected a function backward(root)."
    assert gradcheck(expression, [0.5, -1.2]).ok  # the reference itself agrees with FD
    va, vb = Value(0.5), Value(-1.2)
    expression(va, vb).backward()
    ta, tb = Tiny(0.5), Tiny(-1.2)
    answer(expression(ta, tb))
    if close(ta.grad, va.grad) and close(tb.grad, vb.grad):
        try:
            x = Tiny(1.0)
            answer(_chain(x))
        except RecursionError:
            return False, "recursion: a 3000-node chain exceeds Python's recursion limit."
        if close(x.grad, 1.0001**3000, rel=1e-9):
            return True, "it agrees with chainrule's backward (checked by gradcheck)."
        return False, "on a 3000-node chain the gradient is wrong."
    for bug, why in {
        "no +=": "a reused node keeps only its last contribution: add with +=, don't assign.",
        "wrong order": "wrong order: a node passes its gradient on before it is complete; "
        "go through the topological order reversed (root first).",
        "recursion": "recursion: each path pushes a node's partial gradient on at once, so "
        "shared nodes pass gradients on more than once; use the reversed topological order.",
    }.items():
        sa, sb = Tiny(0.5), Tiny(-1.2)
        simulate_bug(expression(sa, sb), bug)
        if close(ta.grad, sa.grad) and close(tb.grad, sb.grad):
            return False, why
    if ta.grad == 0 and tb.grad == 0:
        return False, "the leaves' grads are 0: seed root.grad = 1 and pass gradients down."
    return False, "the leaves' gradients differ from chainrule's backward."


@solution("3.3")
def _() -> Any:
    from chainrule.course.checks import solution_answer

    topo_order = solution_answer("3.2")  # the topological order of exercise 3.2 (or yours)

    def backward(root):
        order = topo_order(root)
        for v in order:
            v.grad = 0.0
        root.grad = 1.0
        for v in reversed(order):  # each node is complete before it passes its gradient on
            for p, local in zip(v.parents, v.locals):
                p.grad += v.grad * local  # += : a reused node sums every path

    answer = backward
    return answer
