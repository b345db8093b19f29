"""`python -m chainrule.viz.playground [--port N] [--no-browser]`."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from chainrule.viz.playground import serve


def port(text: str) -> int:
    """A TCP port number, 0 to 65535 (0: a free one)."""
    if not text.strip().isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port (0 to 65535)")
    return int(text)


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """A bad argument: one line (the usage is one --help away), exit status 2."""
        self.exit(2, f"playground: error: {message} (see --help)\n")


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="python -m chainrule.viz.playground", description=__doc__)
    parser.add_argument("--port", type=port, default=0, help="port (default: a free one)")
    parser.add_argument("--no-browser", action="store_true", help="only print the URL")
    args = parser.parse_args(argv)
    try:
        serve(port=args.port, open_browser=not args.no_browser)
    except ValueError as e:  # a busy port or one that is not ours: one line, no traceback
        print(f"playground: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
