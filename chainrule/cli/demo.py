"""`chainrule demo`: train on two moons (batch norm and dropout on) and write every
picture: the checkpoint, the history, plots, a gradient graph and the backprop stepper."""

from __future__ import annotations

import argparse
from typing import Any

from chainrule.cli import train
from chainrule.cli.common import Parser, add_command


def add_parser(sub: Any) -> Parser:
    p = add_command(
        sub,
        "demo",
        "the main job: train on moons and write every picture",
        "Train on two moons (batch norm and dropout on) and write the\n"
        "checkpoint, the history, plots, a gradient graph and the backprop stepper.",
    )
    train.add_options(p, demo=True)
    return p


def run(args: argparse.Namespace, rest: list[str], parser: Parser) -> int:
    result = train.trained(args, rest, parser)
    if result is None:
        return 1
    from chainrule.viz.demo import write_demo_outputs  # viz only for the demo

    write_demo_outputs(result, args.out)
    train.print_summary(result["summary"], args.out)
    return 0
