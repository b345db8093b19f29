"""The demo's pictures: gradient graph of one sample's loss, the backprop stepper,
decision boundary, history and update-to-weight ratios."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from chainrule.engine import Value
from chainrule.nn.layers import MLP
from chainrule.nn.losses import hinge_loss
from chainrule.viz import plots
from chainrule.viz.graph import draw_dot, has_dot, render
from chainrule.viz.stepper import stepper_html


def small_network_graph(sample: list[float], target: int) -> Any:
    """One sample's hinge loss through a small MLP 2 → 2 (tanh) → 1, each neuron one
    (fused) node: a drawing about 900 x 1100 pt, readable at 100% on a laptop."""
    small = MLP(2, [2, 1], "tanh", seed=0)
    x = [Value(sample[0], label="x0"), Value(sample[1], label="x1")]
    loss = hinge_loss(small.forward([x]), [1 if target == 1 else -1])
    loss.label = "loss"
    loss.backward()
    return draw_dot(loss, params=small.parameters(), legend=True)


def lecture_neuron() -> Value:
    """The lecture's neuron o = tanh(x1·w1 + x2·w2 + b), named as in the lecture, with
    o = 0.7071 and do/dn = 0.5."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1 = x1 * w1
    x2w2 = x2 * w2
    x1w1x2w2 = x1w1 + x2w2
    n = x1w1x2w2 + b
    o = n.tanh()
    for v, name in [(x1w1, "x1w1"), (x2w2, "x2w2"), (x1w1x2w2, "x1w1x2w2"), (n, "n"), (o, "o")]:
        v.label = name
    return o


def write_demo_outputs(result: dict[str, Any], out: Path) -> None:
    model, hist = result["model"], result["history"]
    xt, yt, xv, yv = result["data"]
    x, y = [*xt, *xv], [*yt, *yv]  # lists or numpy arrays of samples
    plots.decision_boundary(model, x, y, out / "decision_boundary.png")
    plots.history(hist, out / "history.png")
    plots.update_ratios(hist, out / "update_ratios.png", model=model)
    dot = small_network_graph(xt[0], yt[0])
    if has_dot():
        render(dot, str(out / "graph"), "svg")
    (out / "graph.gv").write_text(dot.source)  # after render, whose cleanup removes its .gv
    # The backprop stepper for one neuron, as a page that opens without a network.
    stepper_html(lecture_neuron(), out / "stepper.html", title="Backprop through one tanh neuron")
    (out / "summary.json").write_text(json.dumps(result["summary"], indent=1))
