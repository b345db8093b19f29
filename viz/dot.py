"""Running graphviz's `dot`, and the text of its HTML-like labels.

Every label is written in graphviz's HTML-like labels with `& < > "` escaped, so a label
such as `{x|y}` or `</script>` draws verbatim and never breaks `dot`. Every `dot` call
stops after `DOT_TIMEOUT` seconds with a `DotTimeoutError` naming the limit.
"""

from __future__ import annotations

import html
import shutil
import subprocess

import graphviz

INSTALL_HINT = (
    "graphviz's `dot` program was not found: install it with `apt-get install graphviz` "
    "(Debian/Ubuntu), `brew install graphviz` (macOS) or `conda install graphviz`. "
    "The DOT source is still available as `.source`."
)
"""The message of `DotMissingError`: how to install graphviz's `dot`."""
FONT = "Helvetica"


class DotError(RuntimeError):
    """`dot` could not draw the graph (missing, too slow, or it failed)."""


class DotMissingError(DotError):
    """The `dot` program is missing; the message says how to install it."""


class DotTimeoutError(DotError):
    """`dot` ran longer than the time limit (`DOT_TIMEOUT`) and was stopped."""


DOT_TIMEOUT = 120.0
"""Seconds any `dot` call of the library may run before it is stopped with a
`DotTimeoutError` (a graph that takes longer is too large to read anyway)."""


def has_dot() -> bool:
    """Whether graphviz's `dot` program is on the PATH (drawing and rendering need it;
    `draw_dot` alone only builds the graph's description)."""
    return shutil.which("dot") is not None


def number(x: float, fmt: str = "{:.4g}") -> str:
    """`x` formatted with `fmt`, except that anything that rounds to zero is `0`
    (never `-0.0000`)."""
    s = fmt.format(x)
    try:
        return "0" if float(s) == 0.0 else s
    except ValueError:  # a format with words around the number
        return s


def _visible(c: str) -> str:
    """`c`, or its escape (`\\x1f`) when XML cannot hold it (control characters)."""
    o = ord(c)
    if o >= 0x20 and o != 0x7F and not 0xD800 <= o <= 0xDFFF and o not in (0xFFFE, 0xFFFF):
        return c
    return f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}"


def escape_text(s: str) -> str:
    """Text for an HTML-like label: one line (line breaks and tabs become spaces), other
    characters XML cannot hold written as escapes, and & < > " escaped."""
    if any(c in s for c in "\n\r\t"):
        s = " ".join(s.split())
    if not s.isprintable():
        s = "".join(_visible(c) for c in s)
    return html.escape(s, quote=True) or " "  # an empty cell is a syntax error for dot


def html_label(*cells: str, bold_first: bool = False, vertical: bool = False) -> str:
    """A table of escaped text cells, one row (or one column: `vertical`, which keeps
    top-to-bottom drawings narrow), as a graphviz HTML-like label."""
    tds = []
    for k, c in enumerate(cells):
        t = escape_text(c)
        tds.append(f"<TD>{'<B>' + t + '</B>' if bold_first and k == 0 else t}</TD>")
    rows = "".join(f"<TR>{td}</TR>" for td in tds) if vertical else f"<TR>{''.join(tds)}</TR>"
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2">{rows}</TABLE>>'


def pipe(dot: graphviz.Digraph, fmt: str = "svg", timeout: float | None = None) -> bytes:
    """The drawing made by the real `dot` in format `fmt`, as bytes.

    `dot` is stopped after `timeout` seconds (default `DOT_TIMEOUT`) with a
    `DotTimeoutError` that names the limit; a `dot` failure is a `DotError`."""
    if not has_dot():
        raise DotMissingError(INSTALL_HINT)
    limit = DOT_TIMEOUT if timeout is None else timeout
    try:
        done = subprocess.run(
            ["dot", f"-T{fmt}"],
            input=dot.source.encode(),
            capture_output=True,
            timeout=limit,
            check=False,
        )
    except subprocess.TimeoutExpired:  # run() has already killed dot
        raise DotTimeoutError(
            f"`dot` took more than the time limit of {limit:g} s (viz.dot.DOT_TIMEOUT) "
            "to lay out the graph and was stopped; draw a smaller expression or raise "
            "the limit"
        ) from None
    if done.returncode != 0:
        raise DotError(f"`dot` failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


def render(dot: graphviz.Digraph, path: str, fmt: str = "svg", timeout: float | None = None) -> str:
    """Render with the real `dot` to `path`.{fmt}; returns the file written. Nothing is
    written unless `dot` succeeds within `timeout` seconds (default `DOT_TIMEOUT`)."""
    out = f"{path}.{fmt}"
    image = pipe(dot, fmt, timeout)
    with open(out, "wb") as f:
        f.write(image)
    return out
