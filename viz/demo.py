"""The demo's pictures: gradient graph of one sample's loss, decision boundary, history."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engine import Value
from nn.layers import MLP
from nn.losses import hinge_loss
from viz import plots
from viz.graph import draw_dot, has_dot, render


def write_demo_outputs(result: dict[str, Any], out: Path) -> None:
    model, hist = result["model"], result["history"]
    xt, yt, xv, yv = result["data"]
    plots.decision_boundary(model, xt + xv, yt + yv, out / "decision_boundary.png")
    plots.history(hist, out / "history.png")
    plots.update_ratios(hist, out / "update_ratios.png")
    # One sample's loss through a small network, drawn node by node (elementary graph).
    small = MLP(2, [2, 1], "tanh", fused=False, seed=0)
    x = [Value(xt[0][0], label="x0"), Value(xt[0][1], label="x1")]
    loss = hinge_loss(small(x), [1 if yt[0] == 1 else -1])
    loss.label = "loss"
    loss.backward()
    dot = draw_dot(loss)
    if has_dot():
        render(dot, str(out / "graph"), "svg")
    (out / "graph.gv").write_text(dot.source)  # after render, whose cleanup removes its .gv
    (out / "summary.json").write_text(json.dumps(result["summary"], indent=1))
