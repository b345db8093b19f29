"""The demo's pictures: gradient graph of one sample's loss, the backprop stepper,
decision boundary, history and update-to-weight ratios."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engine import Value
from nn.layers import MLP
from nn.losses import hinge_loss
from viz import plots
from viz.graph import draw_dot, has_dot, render
from viz.stepper import stepper_html


def write_demo_outputs(result: dict[str, Any], out: Path) -> None:
    model, hist = result["model"], result["history"]
    xt, yt, xv, yv = result["data"]
    plots.decision_boundary(model, xt + xv, yt + yv, out / "decision_boundary.png")
    plots.history(hist, out / "history.png")
    plots.update_ratios(hist, out / "update_ratios.png", model=model)
    # One sample's loss through a small network, each neuron one (fused) node, so the
    # drawing is about 900 x 1100 pt: readable at 100% on a laptop, top to bottom.
    small = MLP(2, [2, 1], "tanh", seed=0)
    x = [Value(xt[0][0], label="x0"), Value(xt[0][1], label="x1")]
    loss = hinge_loss(small.forward([x]), [1 if yt[0] == 1 else -1])
    loss.label = "loss"
    loss.backward()
    dot = draw_dot(loss, params=small.parameters(), legend=True)
    if has_dot():
        render(dot, str(out / "graph"), "svg")
    (out / "graph.gv").write_text(dot.source)  # after render, whose cleanup removes its .gv
    # The backprop stepper for one neuron, as a page that opens without a network.
    xw = [Value(2.0, label="x1"), Value(0.0, label="x2")]
    ws = [Value(-3.0, label="w1"), Value(1.0, label="w2")]
    n = (xw[0] * ws[0] + xw[1] * ws[1] + Value(6.8813735870195432, label="b")).tanh()
    n.label = "o"
    stepper_html(n, out / "stepper.html", title="Backprop through one tanh neuron")
    (out / "summary.json").write_text(json.dumps(result["summary"], indent=1))
