"""What every subcommand shares: the parser that raises, option types that refuse
bad values with the reason, and messages of one line."""

from __future__ import annotations

import argparse
import difflib
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn


class UsageError(Exception):
    """A bad command line; `parser` is set when its usage should be shown too."""

    def __init__(self, message: str, parser: argparse.ArgumentParser | None = None) -> None:
        super().__init__(message)
        self.parser = parser


class Parser(argparse.ArgumentParser):
    """argparse, with its errors raised (main prints them as one line) instead of printed
    with the usage; only an unknown or missing argument shows the usage."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # no prefixes: `graph "o*2" --o 3` must set the variable o, not --out
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        usage = message.startswith(("unrecognized arguments", "the following arguments"))
        usage |= "invalid choice" in message and message.startswith("argument command")
        raise UsageError(message, self if usage else None)


class Help(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Every option's default in --help (unless its help says it), and descriptions laid
    out as written."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        return text if "default" in text else super()._get_help_string(action) or ""


def add_command(sub: Any, name: str, summary: str, description: str, **kwargs: Any) -> Parser:
    """A subcommand's parser: `summary` in the command list, `description` in its --help."""
    parser: Parser = sub.add_parser(
        name, help=summary, description=description, formatter_class=Help, **kwargs
    )
    return parser


# --- option types: each refuses what would fail later, with the reason ----------------
def whole(low: int, high: int | None = None) -> Callable[[str], int]:
    """A whole number in [low, high]."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"must be at most {high}, got {value}")
        return value

    parse.__name__ = "whole number"
    return parse


def real(
    low: float = 0.0, *, above: bool = False, below: float | None = None
) -> Callable[[str], float]:
    """A finite number >= low (> low with `above`), < below if given."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
        if value < low or (above and value == low) or (below is not None and value >= below):
            lo = f"> {low:g}" if above else f">= {low:g}"
            hi = f" and < {below:g}" if below is not None else ""
            raise argparse.ArgumentTypeError(f"must be {lo}{hi}, got {text}")
        return value

    parse.__name__ = "number"
    return parse


def check_folder(folder: Path, option: str = "--out") -> None:
    """`folder` exists as a writable folder, or can be made inside one."""
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"argument {option}: {folder} is a file, not a folder")
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise UsageError(f"argument {option}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"argument {option}: cannot write in {existing}")


def suggest(unknown: Sequence[str], parser: argparse.ArgumentParser) -> str:
    """`--epoch` → ` (did you mean --epochs?)`."""
    options = [s for a in parser._actions for s in a.option_strings]
    hints = []
    for u in unknown:
        close = difflib.get_close_matches(u.split("=")[0], options, n=1)
        if close:
            hints.append(f"{u}: did you mean {close[0]}?")
    return f" ({'; '.join(hints)})" if hints else ""


def short(text: str, n: int = 60) -> str:
    """User text in a message, cut to `n` characters."""
    return repr(text if len(text) <= n else text[: n - 1] + "…")


def one_line(message: str, n: int = 1000) -> str:
    """One line of at most `n` characters (a message may quote a long expression)."""
    line = " ".join(message.split())
    return line if len(line) <= n else line[: n - 1] + "…"
