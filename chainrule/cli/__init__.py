"""The `chainrule` command: train a network, run the demo, draw an expression's graph.

    chainrule train --dataset moons --widths 16 16 --activation relu --init he \\
        --optimizer sgd --lr 0.1 --momentum 0.9 --schedule step --l2 1e-4 --epochs 150
    chainrule demo --out out
    chainrule graph "tanh(x*w + b)" --x 2 --w -3 --b 6.88 --out out/neuron --format png
    chainrule playground --port 8000

One module per subcommand (`train`, `demo`, `graph`, `playground`), each with
`add_parser(subparsers)` and `run(args, rest, parser)`; `common` holds what they share.
It sits above `nn` and `viz` (`nn` never imports `viz`) and holds the command line's
names: `train.OPTIMIZERS` and `train.SCHEDULES` map a name to the object it builds.

Every option is checked before anything is trained or written: a bad one ends the program
with exit status 2 and one line `chainrule: error: ...` on stderr (an unknown option also
shows its subcommand's usage); a failure while running (training diverged, `dot` missing)
with status 1 and one such line.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from chainrule._version import __version__
from chainrule.cli import demo, graph, playground, train
from chainrule.cli.common import Help, Parser, UsageError, one_line

COMMANDS = {"train": train, "demo": demo, "graph": graph, "playground": playground}
"""The subcommands by name, each the module that adds its options and runs it."""

__all__ = ["COMMANDS", "UsageError", "build_parser", "main", "run"]


def build_parser() -> tuple[Parser, dict[str, Parser]]:
    """The parser and each subcommand's parser by name."""
    parser = Parser(prog="chainrule", description=__doc__.split("\n\n")[0], formatter_class=Help)
    parser.add_argument("--version", action="version", version=f"chainrule {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")
    return parser, {name: command.add_parser(sub) for name, command in COMMANDS.items()}


def run(argv: Sequence[str] | None = None) -> int:
    """Parse and run; UsageError for a bad command line."""
    parser, subs = build_parser()
    words, variables = graph.split_words(list(sys.argv[1:] if argv is None else argv))
    args, rest = parser.parse_known_args(words)
    return COMMANDS[args.command].run(args, [*rest, *variables], subs[args.command])


def main(argv: Sequence[str] | None = None) -> int:
    """The `chainrule` console script: exit status 0, 1 (failed) or 2 (bad command line)."""
    try:
        return run(argv)
    except UsageError as e:
        if e.parser is not None:
            e.parser.print_usage(sys.stderr)
        print(f"chainrule: error: {one_line(str(e))}", file=sys.stderr)
        return 2
    except ValueError as e:  # the library refused an argument combination
        print(f"chainrule: error: {one_line(str(e))}", file=sys.stderr)
        return 2
    except OSError as e:  # e.g. the disk is full: the files saved so far are whole
        where = f" {e.filename}" if e.filename else ""
        print(f"chainrule: error: cannot write{where}: {e.strerror or e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("chainrule: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
