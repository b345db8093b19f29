"""chainrule's pictures: gradient graphs (graphviz, real `dot`) and plots (matplotlib).

A graph is walked once into a trace (`viz.trace`: nodes, kinds, names, edges, the backward
pass as steps) that the drawing (`viz.graph`), the stepper (`viz.stepper`'s page,
`viz.widgets.Stepper` in a notebook) and the playground's backprop view all read, coloured
by one palette (`viz.palette`). Depends on `engine` (and draws `nn` modules); `engine` never
imports it.
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
