"""Regenerate the images the README shows: `.venv/bin/python docs/make_images.py`.

docs/neuron.svg and docs/decision_boundary.png, and docs/after/: the demo's gradient graph,
one frame of the backprop stepper (a screenshot in headless Chromium, when Playwright and
a Chromium are installed) and the decision boundary. docs/before/ holds the same pictures
as they were drawn before issue 11 (kept for comparison, not regenerated).
"""

import shutil
import tempfile
from pathlib import Path

from chainrule.engine import Value
from chainrule.nn import MLP, SGD, StepLR, fit, make_moons
from chainrule.viz import draw_dot, render
from chainrule.viz.demo import lecture_neuron, small_network_graph
from chainrule.viz.plots import decision_boundary
from chainrule.viz.stepper import stepper_html

here = Path(__file__).parent
after = here / "after"
after.mkdir(exist_ok=True)

# A neuron's gradient graph
x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
b = Value(6.8814, label="b")
o = (x1 * w1 + x2 * w2 + b).tanh()
o.label = "o"
o.backward()
render(draw_dot(o, params=[w1, w2, b], legend=True), str(here / "neuron"), "svg")

# A decision boundary on two moons
x, y = make_moons(100, noise=0.1, seed=1)
model = MLP(2, [16, 16, 1], init="he", seed=0)
opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
fit(model, x, y, opt, epochs=100, scheduler=StepLR(opt, 40, 0.5), l2=1e-4, progress=False)
decision_boundary(model, x, y, here / "decision_boundary.png")
shutil.copy(here / "decision_boundary.png", after / "decision_boundary.png")

# The demo's gradient graph (one sample of two moons)
render(small_network_graph(x[0], y[0]), str(after / "graph"), "png")

# One stepper frame, as a browser shows it at 100% zoom
try:
    from playwright.sync_api import sync_playwright
except ImportError:
    print("Playwright is not installed: docs/after/stepper.png not updated")
else:
    with tempfile.TemporaryDirectory() as tmp:
        page_path = stepper_html(
            lecture_neuron(), Path(tmp) / "stepper.html", title="Backprop through one tanh neuron"
        )
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=shutil.which("chromium") or None,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            page = browser.new_page(viewport={"width": 1200, "height": 640})
            page.goto(page_path.as_uri())
            for _ in range(4):
                page.keyboard.press("ArrowRight")
            page.screenshot(path=str(after / "stepper.png"))
            browser.close()
