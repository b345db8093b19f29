"""chainrule's pictures: gradient graphs (graphviz, real `dot`) and plots (matplotlib).

Depends on `engine` (and draws `nn` modules); `engine` never imports it.
"""

from viz.expression import ExpressionError, parse
from viz.graph import DotError, DotMissingError, DotTimeoutError, draw_dot, has_dot, render

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
