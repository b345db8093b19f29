"""One colour palette for every picture of a graph: the drawing (`draw_dot`), the stepper
page and widget, and the playground's backprop view all colour a node by its kind from
here, so a colour means the same thing everywhere.

Kinds of node (see `chainrule.viz.trace.Trace.kinds`):

- input: a labelled leaf the caller feeds in (x1, a sample's features)
- parameter: a leaf the caller names as a parameter (`params=model.parameters()`)
- computed: made by an op
- constant: an unlabelled leaf (the `2` of `x*2`): drawn with no box, white stands for none
- batch statistic: a number computed from the whole batch (batch norm's mean and variance
  in training), drawn as an input of one sample's graph

and the states of the backprop stepper: the node being processed (current), the nodes
already processed (done), and the edges of the current step (edge).
"""

from __future__ import annotations

COLOURS: dict[str, str] = {
    "input": "#dbeafe",
    "parameter": "#fbcfe8",
    "computed": "#f3f4f6",
    "constant": "#ffffff",
    "batch statistic": "#fef3c7",
    "module": "#ede9fe",
    "current": "#fde68a",
    "done": "#dcfce7",
    "edge": "#d97706",
    "positive": "#2563eb",
    "negative": "#dc2626",
}
"""Fill colour of each kind of node and stepper state (the edge colour of a step), and
the colours of a weight's sign in a network's drawing (positive, negative)."""

WORDS: dict[str, str] = {
    "current": "current node",
    "done": "already processed",
    "edge": "edges of this step",
}
"""How a legend names a key when its name alone is not enough."""


def css_variables() -> str:
    """The palette as CSS custom properties (`--cr-input: #dbeafe;` ...), for pages."""
    body = " ".join(f"--cr-{k.replace(' ', '-')}: {c};" for k, c in COLOURS.items())
    return f":root {{ {body} }}"
