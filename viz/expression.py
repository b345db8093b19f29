"""Parse an expression like "tanh(x*w + b)" into engine ops, safely.

The text is parsed with `ast` and only a whitelist of node types is walked: numbers,
names bound to given values, + - * / ** and unary -, and calls of known functions.
Nothing is ever `eval`ed: attribute access, subscripts, imports, lambdas and unknown
names are errors that name the problem.
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from engine import Value

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
    """The expression is malformed or uses something not allowed."""


def parse(text: str, variables: dict[str, float]) -> Value:
    """Build the graph of `text` with each name a labelled leaf `Value`."""
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as e:
        raise ExpressionError(f"malformed expression {text!r}: {e.msg}") from None
    leaves = {k: Value(v, label=k) for k, v in variables.items()}

    def walk(node: ast.AST) -> Value | float:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            if isinstance(node.value, bool):
                raise ExpressionError(f"not a number: {node.value!r}")
            return float(node.value)
        if isinstance(node, ast.Name):
            if node.id not in leaves:
                raise ExpressionError(
                    f"unknown name {node.id!r}: give it a value (e.g. --{node.id} 1.0)"
                )
            return leaves[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in BINARY:
            a, b = walk(node.left), walk(node.right)
            a_val = a if isinstance(a, Value) else Value(a)
            return getattr(a_val, BINARY[type(node.op)])(b)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = walk(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
                what = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
                raise ExpressionError(
                    f"unknown function {what!r}; allowed: {', '.join(sorted(FUNCTIONS))}"
                )
            if len(node.args) != 1 or node.keywords:
                raise ExpressionError(f"{node.func.id}() takes exactly one argument")
            arg = walk(node.args[0])
            return FUNCTIONS[node.func.id](arg if isinstance(arg, Value) else Value(arg))
        raise ExpressionError(
            f"not allowed in an expression: {ast.unparse(node)!r} ({type(node).__name__})"
        )

    out = walk(tree.body)
    return out if isinstance(out, Value) else Value(out)
