"""The backprop stepper's HTML page for 50, 200 and 1,000-node graphs: time to write the
page, its size, and frames per second (frames written / time).

The page draws the graph once with `dot` and changes colours and numbers per frame in the
browser, so time and size grow linearly with the graph (before: every frame was its own
SVG, 200 nodes took 5.06 s and 100 nodes wrote 15.6 MB). Goal: a 200-node page in under
1 s and under 2 MB.

Second table: a value used all along a long chain, `x*0 + x*1 + ... + x*(n-1)`. `dot`
ranks `x` above every use, so each of its n edges crossed up to 2n ranks: about n² hidden
nodes. Before (edges drawn from `x` itself): 100 terms took over 60 s to draw and over
200 s for the stepper page; 600 terms ran `dot` for over 10 minutes. Now far uses are
drawn from small copies of `x` (`viz.graph.far_uses`) and every `dot` call has a time
limit (`viz.dot.DOT_TIMEOUT`).

    python -m benchmarks.bench_stepper
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from chainrule.engine import Value
from chainrule.engine.backprop import order
from chainrule.viz.graph import draw_dot, render
from chainrule.viz.stepper import stepper_html

from benchmarks.common import table

SIZES = (50, 200, 1000)
FAN_TERMS = (100, 600)


def graph(nodes: int) -> Value:
    """A chain of neuron-like blocks y = tanh(y·w + b) with labelled leaves, grown until
    it has at least `nodes` nodes (each block adds 5: w, b, the product, the sum, tanh)."""
    y = Value(0.5, label="x")
    k = 0
    while len(order(y)) < nodes:
        y = (y * Value(0.9, label=f"w{k}") + Value(0.1, label=f"b{k}")).tanh()
        k += 1
    return y


def run_chain() -> str:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in SIZES:
            root = graph(n)
            size = len(order(root))
            t0 = time.perf_counter()
            path = stepper_html(root, Path(tmp) / f"stepper-{n}.html", max_nodes=size)
            seconds = time.perf_counter() - t0
            text = path.read_text()
            frame_count = text.count('"caption"') + 1  # one per step, plus the start
            t0 = time.perf_counter()  # the layout alone, to see where the time goes
            draw_dot(root, max_nodes=size, group_params=False).pipe(format="svg")
            layout = time.perf_counter() - t0
            rows.append(
                [
                    str(size),
                    str(frame_count),
                    f"{seconds:.2f}",
                    f"{layout:.2f}",
                    f"{frame_count / seconds:,.0f}",
                    f"{path.stat().st_size / 1e6:.2f}",
                ]
            )
    return table(
        "Backprop stepper page (graph drawn once; goal for 200 nodes: < 1 s, < 2 MB)",
        [
            "nodes",
            "frames",
            "page written (s)",
            "dot layout alone (s)",
            "frames/s",
            "page (MB)",
        ],
        rows,
    )


def fan_out(terms: int) -> Value:
    """x*0 + x*1 + ... + x*(terms-1), with x one labelled leaf (3·terms + 2 nodes)."""
    x = Value(2.0, label="x")
    return sum((x * i for i in range(terms)), Value(0.0))


def run_fan_out() -> str:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for terms in FAN_TERMS:
            root = fan_out(terms)
            root.backward()
            size = len(order(root))
            t0 = time.perf_counter()
            render(draw_dot(root, max_nodes=size), str(Path(tmp) / f"fan-{terms}"), "svg")
            drawn = time.perf_counter() - t0
            t0 = time.perf_counter()
            stepper_html(root, Path(tmp) / f"fan-{terms}.html", max_nodes=size)
            stepped = time.perf_counter() - t0
            rows.append([str(terms), str(size), f"{drawn:.2f}", f"{stepped:.2f}"])
    return table(
        "One value used by every term of a long sum (before: 100 terms > 60 s to draw, "
        "> 200 s for the stepper; 600 terms > 10 min)",
        ["terms", "nodes", "draw_dot + render (s)", "stepper page (s)"],
        rows,
    )


def run() -> str:
    return run_chain() + "\n\n" + run_fan_out()


if __name__ == "__main__":
    print(run())
