"""Backprop one chain-rule step at a time, as pictures.

Each frame is the graph after one step of `Value.backward_steps()`: the node being
processed is highlighted (yellow), nodes already processed (green) show their final
grads, and the edges into the current node's op carry this step's contribution
`+ upstream × local`. Nodes not yet processed show the sum received so far.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import graphviz

from engine import Value
from engine.backprop import Step, interior_order
from viz.graph import draw_dot, render


def caption(step: Step, total: int) -> str:
    """One line saying what the step did, e.g. 'step 2/5: tanh node, upstream 1 ...'."""
    parts = [
        f"{c.parent.label or c.parent.op or 'leaf'} += {c.added:.4g} "
        f"(= {step.upstream:.4g} × {c.local:.4g})"
        for c in step.contributions
    ]
    name = step.node.label or step.node.op
    return (
        f"step {step.index + 1}/{total}: {name} (grad {step.upstream:.4g}) passes on: "
        + "; ".join(parts)
    )


def frames(root: Value, **draw_kwargs: Any) -> list[tuple[Step, graphviz.Digraph]]:
    """Run the backward pass on `root` step by step; one (step, drawing) per step.

    Consuming the steps leaves exactly the grads `backward()` leaves.
    """
    total = len(interior_order(root))
    out = []
    done: set[int] = set()
    for step in root.backward_steps():
        notes = {(id(step.node), k): f"+{c.added:.4g}" for k, c in enumerate(step.contributions)}
        dot = draw_dot(root, highlight=step.node, done=done, edge_notes=notes, **draw_kwargs)
        dot.attr(label=caption(step, total), labelloc="b", fontcolor="black", fontsize="12")
        out.append((step, dot))
        done.add(id(step.node))
    return out


def save_frames(root: Value, folder: str | Path, fmt: str = "svg", **draw_kwargs: Any) -> list[str]:
    """Render every frame with `dot` to folder/step-001.{fmt}, ...; returns the paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return [
        render(dot, str(folder / f"step-{i + 1:03d}"), fmt)
        for i, (_, dot) in enumerate(frames(root, **draw_kwargs))
    ]


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: sans-serif; margin: 1em; }}
#controls {{ display: flex; gap: .6em; align-items: center; margin-bottom: .6em; }}
#frame svg {{ max-width: 100%; height: auto; }}
#caption {{ font-family: monospace; margin: .4em 0; min-height: 2.4em; }}
</style></head>
<body>
<h2>{title}</h2>
<div id="controls">
  <button id="prev">&larr; previous</button>
  <input id="slider" type="range" min="0" max="{last}" value="0">
  <button id="next">next &rarr;</button>
  <span id="counter"></span>
</div>
<div id="caption"></div>
<div id="frame"></div>
<script>
const frames = {frames};
const captions = {captions};
let i = 0;
function show(k) {{
  i = Math.max(0, Math.min(frames.length - 1, k));
  document.getElementById("frame").innerHTML = frames[i];
  document.getElementById("caption").textContent = captions[i];
  document.getElementById("counter").textContent = (i + 1) + " / " + frames.length;
  document.getElementById("slider").value = i;
}}
document.getElementById("prev").onclick = () => show(i - 1);
document.getElementById("next").onclick = () => show(i + 1);
document.getElementById("slider").oninput = (e) => show(Number(e.target.value));
document.addEventListener("keydown", (e) => {{
  if (e.key === "ArrowRight") show(i + 1);
  if (e.key === "ArrowLeft") show(i - 1);
}});
show(0);
</script>
</body></html>
"""


def stepper_html(
    root: Value, path: str | Path, title: str = "Backpropagation, step by step", **draw_kwargs: Any
) -> Path:
    """One self-contained HTML page (every frame's SVG inline, no network needed) with
    previous/next buttons, a slider and the arrow keys."""
    fs = frames(root, **draw_kwargs)
    svgs = [dot.pipe(format="svg").decode() for _, dot in fs]
    svgs = [s[s.index("<svg") :] for s in svgs]  # drop the XML prologue for inline use
    total = len(fs)
    page = _PAGE.format(
        title=html.escape(title),
        last=max(0, total - 1),
        frames=json.dumps(svgs),
        captions=json.dumps([caption(step, total) for step, _ in fs]),
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page)
    return path


def interactive(root: Value, **draw_kwargs: Any) -> Any:
    """In a notebook: a slider (ipywidgets) over the frames, each shown as SVG."""
    import ipywidgets as widgets
    from IPython.display import SVG, display

    fs = frames(root, **draw_kwargs)
    svgs = [dot.pipe(format="svg").decode() for _, dot in fs]
    out = widgets.Output()
    label = widgets.Label()

    def show(change: dict[str, Any] | None = None) -> None:
        k = slider.value
        out.clear_output(wait=True)
        label.value = caption(fs[k][0], len(fs))
        with out:
            display(SVG(svgs[k]))

    slider = widgets.IntSlider(min=0, max=max(0, len(fs) - 1), value=0, description="step")
    slider.observe(show, names="value")
    show()
    return widgets.VBox([slider, label, out])
