"""chainrule's pictures: gradient graphs (graphviz, real `dot`) and plots (matplotlib).

Depends on `engine` (and draws `nn` modules); `engine` never imports it.
"""

from chainrule.viz.expression import ExpressionError, parse
from chainrule.viz.graph import (
    DotError,
    DotMissingError,
    DotTimeoutError,
    draw_dot,
    has_dot,
    render,
)

__all__ = [
    "DotError",
    "DotMissingError",
    "DotTimeoutError",
    "ExpressionError",
    "draw_dot",
    "has_dot",
    "parse",
    "render",
]
