"""`chainrule graph EXPR --x 2 ...`: draw an expression's gradient graph.

The expression is read by the one expression parser, `viz.expression` (never eval);
this module only sorts the command line's words into graph's options, the expression
and the `--name value` variables.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from chainrule.cli.common import (
    Parser,
    UsageError,
    add_command,
    check_folder,
    real,
    short,
    suggest,
)

OPTIONS = ("--out", "--format")
VARIABLE = re.compile(r"--([A-Za-z_]\w*)(?:=(.*))?")


def add_parser(sub: Any) -> Parser:
    p = add_command(
        sub,
        "graph",
        "draw an expression's gradient graph",
        "Build an expression from engine ops, back-propagate, and draw its\n"
        "gradient graph with graphviz's `dot`.",
        usage="%(prog)s [-h] [--out OUT] [--format {svg,png,pdf}] expression [--NAME NUMBER ...]",
        epilog="Variables are given as options after the expression, one per name:\n"
        '  chainrule graph "tanh(x*w + b)" --x 2 --w -3 --b 6.88\n'
        "Allowed: numbers, the given names, + - * / ** (powers are **, not ^), unary -,\n"
        "and tanh sigmoid relu exp log sqrt abs softplus. Nothing is evaluated as Python.\n"
        "The expression comes first; no variable may be called out or format.",
    )
    p.add_argument("expression", help='e.g. "tanh(x*w + b)"')
    p.add_argument(
        "--out", type=Path, default=Path("out/graph"), help="output file name, without suffix"
    )
    p.add_argument("--format", choices=["svg", "png", "pdf"], default="svg", help="image format")
    return p


def split_words(argv: list[str]) -> tuple[list[str], list[str]]:
    """(what argparse parses, the variables) of `graph EXPR [--out O] [--x 2 ...]`.

    argparse cannot tell that an unknown `--x` takes a value, nor that "-x*2" or "-3" is
    not an option, so the variables and the expression are picked out here: graph's own
    options keep their values, every other `--name` takes the next word as its value, and
    the first remaining word is the expression (it goes behind "--": never an option)."""
    if not argv or argv[0] != "graph":
        return argv, []
    kept, variables, expressions = ["graph"], [], []  # type: tuple[list[str], list[str], list[str]]
    i, words = 1, argv
    while i < len(words):
        word, name = words[i], words[i].split("=", 1)[0]
        i += 1
        if word in ("-h", "--help"):
            kept.append(word)
        elif name in OPTIONS or VARIABLE.fullmatch(word):
            into = kept if name in OPTIONS else variables
            into.append(word)
            # the value: the next word, unless it is itself an option (`--x --out o`)
            if "=" not in word and i < len(words) and not VARIABLE.fullmatch(words[i]):
                into.append(words[i])
                i += 1
        else:
            expressions.append(word)
    if len(expressions) > 1:
        extra = ", ".join(short(e, 30) for e in expressions[1:])
        raise UsageError(
            f"graph takes one expression, then variables as --name value: {extra} is neither "
            '(quote an expression that has spaces: "x * w")'
        )
    return [*kept, "--", *expressions], variables


def _variable_texts(rest: Sequence[str]) -> dict[str, str]:
    """`--x 2 --w=-3` → {"x": "2", "w": "-3"}."""
    texts: dict[str, str] = {}
    i = 0
    while i < len(rest):
        m = VARIABLE.fullmatch(rest[i])
        if m is None:
            raise UsageError(f"expected a variable as --name value, got {short(rest[i])}")
        name, text = m.group(1), m.group(2)
        if text is None:
            if i + 1 == len(rest):
                raise UsageError(f"variable --{name} needs a number, e.g. --{name} 2")
            text, i = rest[i + 1], i + 1
        i += 1
        if name in texts:
            raise UsageError(f"variable --{name} is given twice")
        texts[name] = text
    return texts


def _variables(expression: str, rest: Sequence[str], parser: Parser) -> dict[str, float]:
    """The variables' values; a `--name` the expression does not use is most likely a
    mistyped option, and is refused as one."""
    from chainrule.viz.expression import ExpressionError, names

    texts = _variable_texts(rest)
    try:
        used: set[str] | None = names(expression)
    except ExpressionError:
        used = None  # the parser says why, below
    unused = sorted(set(texts) - used) if used is not None else []
    if unused:
        hint = suggest([f"--{u}" for u in unused], parser)
        raise UsageError(
            f"unrecognized arguments: {' '.join('--' + u for u in unused)} "
            f"(not an option, nor a variable of the expression){hint}",
            parser,
        )
    values = {}
    for name, text in texts.items():
        try:
            values[name] = real(-math.inf)(text)
        except argparse.ArgumentTypeError as e:
            raise UsageError(f"variable --{name}: {e}") from None
    return values


def run(args: argparse.Namespace, rest: list[str], parser: Parser) -> int:
    """Check the `--name value` pairs and --out, then build, back-propagate and render the
    expression. Nothing is written unless everything before the drawing succeeded."""
    from chainrule.viz.expression import parse
    from chainrule.viz.graph import DotError, draw_dot, render

    variables = _variables(args.expression, rest, parser)
    image = args.out.with_name(f"{args.out.name}.{args.format}")
    if args.out.is_dir() or image.is_dir():
        raise UsageError(f"argument --out: {args.out} is a folder; give a file name")
    check_folder(args.out.parent)
    try:
        root = parse(args.expression, variables, options=("out", "format", "help"))
        root.backward()
        dot = draw_dot(root)
    except (ValueError, ArithmeticError, RecursionError, MemoryError) as e:
        message = str(e) or "the expression is nested too deeply"
        if "^" in args.expression and "**" not in message:
            message += " (powers are written **, as in x**2, not ^)"
        raise UsageError(f"graph: {message}") from None
    try:
        args.out.parent.mkdir(parents=True, exist_ok=True)  # as `train` makes its --out
        path = render(dot, str(args.out), args.format)
    except DotError as e:  # dot missing, over its time limit, or failed
        print(f"chainrule: error: {e}", file=sys.stderr)
        return 1
    print(f"{args.expression} = {root.data:.6g}; wrote {path}")
    return 0
