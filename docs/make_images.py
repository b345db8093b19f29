"""Regenerate the images the README shows: `.venv/bin/python docs/make_images.py`."""

from pathlib import Path

from engine import Value
from nn import MLP, SGD, StepLR, fit, make_moons
from viz import draw_dot, render
from viz.plots import decision_boundary

here = Path(__file__).parent

# A neuron's gradient graph
x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
b = Value(6.8814, label="b")
o = (x1 * w1 + x2 * w2 + b).tanh()
o.label = "o"
o.backward()
render(draw_dot(o), str(here / "neuron"), "svg")

# A decision boundary on two moons
x, y = make_moons(100, noise=0.1, seed=1)
model = MLP(2, [16, 16, 1], init="he", seed=0)
opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
fit(model, x, y, opt, epochs=100, scheduler=StepLR(opt, 40, 0.5), l2=1e-4, progress=False)
decision_boundary(model, x, y, here / "decision_boundary.png")
