"""`chainrule playground`: serve the interactive playground on this machine."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from chainrule.cli.common import Parser, add_command, whole
from chainrule.cli.train import no_rest


def add_parser(sub: Any) -> Parser:
    p = add_command(
        sub,
        "playground",
        "serve the interactive playground in a browser",
        "Serve the playground page on this machine.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument(
        "--port", type=whole(0, 65535), default=8000, help="port to listen on (0: any free one)"
    )
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    return p


def run(args: argparse.Namespace, rest: list[str], parser: Parser) -> int:
    """Serve `viz.playground` (imported only here: it may be absent)."""
    no_rest(rest, parser)
    try:
        from chainrule.viz.playground import serve  # type: ignore[import-not-found, unused-ignore]
    except ModuleNotFoundError as e:
        if e.name not in ("chainrule.viz.playground", "chainrule.viz"):
            raise
        print("chainrule: error: the playground is not part of this install", file=sys.stderr)
        return 1
    serve(args.host, args.port, not args.no_browser)
    return 0
