"""`chainrule graph "tanh(x*w + b)" --x 2 --w -3 --b 6.88 --out out/neuron --format png`."""

from __future__ import annotations

import argparse
import re
import sys

from viz.expression import ExpressionError, parse
from viz.graph import DotMissingError, draw_dot, render


def graph_command(args: argparse.Namespace, rest: list[str]) -> int:
    """Parse the `--name value` pairs, build, back-propagate and render the expression."""
    variables: dict[str, float] = {}
    it = iter(rest)
    for flag in it:
        if not re.fullmatch(r"--[A-Za-z_]\w*", flag):
            print(f"chainrule graph: expected --name value, got {flag!r}", file=sys.stderr)
            return 2
        try:
            variables[flag[2:]] = float(next(it))
        except (StopIteration, ValueError):
            print(f"chainrule graph: {flag} needs a number", file=sys.stderr)
            return 2
    try:
        root = parse(args.expression, variables)
        root.backward()
    except (ExpressionError, ArithmeticError, ValueError) as e:
        print(f"chainrule graph: {e}", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    try:
        path = render(draw_dot(root), str(args.out), args.format)
    except DotMissingError as e:
        print(f"chainrule graph: {e}", file=sys.stderr)
        return 1
    print(f"{args.expression} = {root.data:.6g}; wrote {path}")
    return 0
