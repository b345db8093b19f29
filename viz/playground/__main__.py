"""`python -m viz.playground [--port N] [--no-browser]`."""

from __future__ import annotations

import argparse

from chainrule.viz.playground import serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m viz.playground", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    parser.add_argument("--no-browser", action="store_true", help="only print the URL")
    args = parser.parse_args(argv)
    serve(port=args.port, open_browser=not args.no_browser)


if __name__ == "__main__":
    main()
