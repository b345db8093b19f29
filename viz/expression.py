"""Parse an expression like "tanh(x*w + b)" into engine ops, safely.

The text is parsed with `ast` and only a whitelist of node types is walked: numbers,
names bound to given values, + - * / ** and unary -, and calls of known functions.
A number too large to be finite (`1e309`), a function named without a call (`tanh`) and a
variable named like one of the command line's options are refused with a message saying so.
Nothing is ever `eval`ed: attribute access, subscripts, imports, lambdas and unknown
names are errors that name the problem. `x^2` is refused with a hint to write `x**2`.

Limits (each an `ExpressionError`, a `ValueError`, raised before any graph is built):
at most `MAX_CHARS` characters; nesting Python's own parser accepts (about a thousand
levels of parentheses or unary minus signs: deeper is "nested too deeply"); at most
`max_nodes` nodes in the graph (default: the drawing's limit, `viz.graph.MAX_NODES`),
so `x + x + ... + x` with 2,000 terms is refused. The graph is built without recursion,
so no `RecursionError` ever escapes.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Collection

from chainrule.engine import Value
from chainrule.viz.graph import MAX_NODES

MAX_CHARS = 100_000

FUNCTIONS: dict[str, Callable[[Value], Value]] = {
    "tanh": Value.tanh,
    "sigmoid": Value.sigmoid,
    "relu": Value.relu,
    "exp": Value.exp,
    "log": Value.log,
    "sqrt": Value.sqrt,
    "abs": Value.abs,
    "softplus": Value.softplus,
}
BINARY = {
    ast.Add: "__add__",
    ast.Sub: "__sub__",
    ast.Mult: "__mul__",
    ast.Div: "__truediv__",
    ast.Pow: "__pow__",
}


class ExpressionError(ValueError):
    """The expression is malformed, uses something not allowed, or is too large."""


def _snippet(text: str, node: ast.AST) -> str:
    """The source of `node`, shortened (ast.unparse recurses: not safe on deep trees)."""
    s = ast.get_source_segment(text, node) or type(node).__name__
    return s if len(s) <= 60 else s[:57] + "..."


def _children(
    text: str, node: ast.AST, leaves: dict[str, Value], options: Collection[str] = ()
) -> list[ast.AST]:
    """The operands of an allowed node; anything not allowed is an ExpressionError.
    `options`: names a variable cannot have (the command line's options)."""
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise ExpressionError(f"not a number: {node.value!r}")
        if not math.isfinite(node.value):  # 1e309 is read as inf: nothing to draw
            raise ExpressionError(
                f"the number {_snippet(text, node)} is too large: it is read as "
                f"{node.value}, which is not a finite number"
            )
        return []
    if isinstance(node, ast.Name):
        if node.id in leaves:
            return []
        if node.id in FUNCTIONS:
            raise ExpressionError(
                f"{node.id!r} is a function: call it on something, e.g. {node.id}(x)"
            )
        if node.id in options:  # `--out 3` went to the option, not the variable
            raise ExpressionError(
                f"the variable {node.id!r} has the name of the option --{node.id}: "
                f"rename the variable (e.g. {node.id}1)"
            )
        raise ExpressionError(f"unknown name {node.id!r}: give it a value (e.g. --{node.id} 1.0)")
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.BitXor):
            raise ExpressionError(
                f"'^' in {_snippet(text, node)!r} is not a power: write ** (e.g. x**2)"
            )
        if type(node.op) in BINARY:
            return [node.left, node.right]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return [node.operand]
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            what = node.func.id if isinstance(node.func, ast.Name) else _snippet(text, node.func)
            raise ExpressionError(
                f"unknown function {what!r}; allowed: {', '.join(sorted(FUNCTIONS))}"
            )
        if len(node.args) != 1 or node.keywords:
            raise ExpressionError(f"{node.func.id}() takes exactly one argument")
        return [node.args[0]]
    raise ExpressionError(
        f"not allowed in an expression: {_snippet(text, node)!r} ({type(node).__name__})"
    )


def _tree(text: str) -> ast.Expression:
    """The syntax tree of `text`, or ExpressionError (too long, malformed, too deep)."""
    if len(text) > MAX_CHARS:
        raise ExpressionError(
            f"the expression has {len(text):,} characters, more than {MAX_CHARS:,}"
        )
    try:
        return ast.parse(text, mode="eval")
    except SyntaxError as e:
        raise ExpressionError(f"malformed expression {text[:60]!r}: {e.msg}") from None
    except (MemoryError, RecursionError):  # how CPython's parser reports deep nesting
        raise ExpressionError(
            "the expression is nested too deeply for Python's parser "
            "(about a thousand levels of parentheses or signs)"
        ) from None


def names(text: str) -> set[str]:
    """The names `text` uses as variables (a called function's name is not one), to tell
    a command line's variables from its mistyped options; ExpressionError as `parse`."""
    nodes = list(ast.walk(_tree(text)))  # ast.walk keeps a queue: no recursion
    called = {n.func.id for n in nodes if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    return {n.id for n in nodes if isinstance(n, ast.Name)} - called


def parse(
    text: str,
    variables: dict[str, float],
    max_nodes: int = MAX_NODES,
    options: Collection[str] = (),
) -> Value:
    """Build the graph of `text` with each name a labelled leaf `Value` (see the module
    docstring for what is allowed and the limits). `options` are names a variable cannot
    have (the command line's own options, e.g. `out`): using one says to rename it."""
    tree = _tree(text)
    leaves = {k: Value(v, label=k) for k, v in variables.items()}
    # Check every node and count the graph's nodes before building anything
    # (an explicit stack: no recursion).
    count, used = 0, set()
    todo: list[ast.AST] = [tree.body]
    while todo:
        node = todo.pop()
        todo.extend(_children(text, node, leaves, options))
        if isinstance(node, ast.Name):
            used.add(node.id)
        elif not (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd)):
            count += 1
    if count + len(used) > max_nodes:
        raise ExpressionError(
            f"the expression makes {count + len(used):,} nodes, more than max_nodes="
            f"{max_nodes} (the drawing's limit): draw a smaller expression"
        )
    # Post-order with an explicit stack: a node is built once its operands are.
    built: dict[int, Value | float] = {}
    stack: list[tuple[ast.AST, bool]] = [(tree.body, False)]
    while stack:
        node, ready = stack.pop()
        kids = _children(text, node, leaves)
        if not ready:
            stack.append((node, True))
            stack.extend((k, False) for k in reversed(kids))
            continue
        args = [built.pop(id(k)) for k in kids]
        built[id(node)] = _apply(node, args, leaves)
    out = built[id(tree.body)]
    return out if isinstance(out, Value) else Value(out)


def _apply(node: ast.AST, args: list[Value | float], leaves: dict[str, Value]) -> Value | float:
    """One allowed node, given its operands' values."""
    if isinstance(node, ast.Constant):
        assert isinstance(node.value, (int, float))  # checked by _children
        return float(node.value)
    if isinstance(node, ast.Name):
        return leaves[node.id]
    if isinstance(node, ast.BinOp):
        a, b = args
        a_val = a if isinstance(a, Value) else Value(a)
        return getattr(a_val, BINARY[type(node.op)])(b)  # type: ignore[no-any-return]
    if isinstance(node, ast.UnaryOp):
        return -args[0] if isinstance(node.op, ast.USub) else args[0]
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    arg = args[0]
    return FUNCTIONS[node.func.id](arg if isinstance(arg, Value) else Value(arg))
