"""Build the course notebooks from the cells below and run them, so they are committed
with their outputs: `.venv/bin/python notebooks/build.py` (or `make notebooks-build`).

Each lesson: short markdown with the math, then code that shows it running, then one or
two exercises whose solution cell is collapsed (tag "solution") and checked by asserts.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).parent
SETUP = "from viz.plots import setup_notebook\nsetup_notebook()"


def md(text: str) -> tuple[str, str]:
    return ("md", text.strip())


def code(text: str) -> tuple[str, str]:
    return ("code", text.strip())


def solution(text: str) -> tuple[str, str]:
    return ("solution", text.strip())


LESSONS: dict[str, list[tuple[str, str]]] = {}

LESSONS["01_values_and_the_chain_rule"] = [
    md(r"""
# 1. Values and the chain rule

A `Value` is a number that remembers how it was made. Building an expression builds a graph;
`backward()` walks it from the output back to the inputs and applies the **chain rule** at every
node: if $L$ depends on $x$ through $y$, then

$$\frac{\partial L}{\partial x} = \frac{\partial L}{\partial y}\,\frac{\partial y}{\partial x}.$$

Each node knows only its *local* derivative $\partial y/\partial x$; backprop multiplies them.
"""),
    code(
        SETUP
        + """
from engine import Value, gradcheck
from viz import draw_dot

x = Value(2.0, label="x")
w = Value(-3.0, label="w")
b = Value(6.88, label="b")
z = x * w + b;  z.label = "z"
o = z.tanh();   o.label = "o"
draw_dot(o)   # before backward(): every grad is 0"""
    ),
    md(r"""
## By hand

$o = \tanh(z)$, $z = xw + b$. Then $\frac{\partial o}{\partial z} = 1 - \tanh^2 z$,
$\frac{\partial z}{\partial x} = w$, $\frac{\partial z}{\partial w} = x$, $\frac{\partial z}{\partial b} = 1$.
"""),
    code("""
import math
do_dz = 1 - math.tanh(z.data) ** 2
print("by hand:  do/dx =", do_dz * w.data, " do/dw =", do_dz * x.data, " do/db =", do_dz)
o.backward()
print("backward: do/dx =", x.grad, " do/dw =", w.grad, " do/db =", b.grad)
draw_dot(o)"""),
    md(r"""
## Checking with finite differences

$\frac{\partial f}{\partial x} \approx \frac{f(x+\varepsilon) - f(x-\varepsilon)}{2\varepsilon}$,
with an error of order $\varepsilon^2$. `gradcheck` compares this with backprop for every input.
"""),
    code("""
result = gradcheck(lambda x, w, b: (x * w + b).tanh(), [2.0, -3.0, 6.88])
print(result.ok, result.analytic, result.numeric)"""),
    md(r"""
## The sigmoid derivative

$\sigma(x) = \frac{1}{1+e^{-x}}$ has the derivative $\sigma'(x) = \sigma(x)\,(1-\sigma(x))$:
the node stores it as its local derivative.
"""),
    code("""
s = Value(0.5, label="x").sigmoid(); s.label = "σ(x)"
print("σ =", s.data, " local derivative =", s.local_grads[0], " σ(1-σ) =", s.data * (1 - s.data))
s.backward()
draw_dot(s)"""),
    md("""
### Exercise 1
Build $f(a, b) = a^2 b + e^{b}$ at $a = 1.5, b = -0.5$, compute $\\partial f/\\partial a$ and
$\\partial f/\\partial b$ by hand, then with `backward()`, and check with `gradcheck`.
"""),
    solution("""
a, b = Value(1.5, label="a"), Value(-0.5, label="b")
f = a ** 2 * b + b.exp()
f.backward()
assert abs(a.grad - 2 * 1.5 * -0.5) < 1e-12           # ∂f/∂a = 2ab
assert abs(b.grad - (1.5 ** 2 + math.exp(-0.5))) < 1e-12   # ∂f/∂b = a² + e^b
assert gradcheck(lambda a, b: a ** 2 * b + b.exp(), [1.5, -0.5]).ok
print("ok:", a.grad, b.grad)"""),
]

LESSONS["02_stepping_through_backprop"] = [
    md(r"""
# 2. Stepping through backprop

`backward()` visits nodes in **reverse topological order**: every node after all the nodes
that use it. Then, when a node's turn comes, its gradient $\partial L/\partial v$ is complete,
and it can pass $\partial L/\partial v \cdot \partial v/\partial p$ on to each parent $p$.
`backward_steps()` is the same pass, one chain-rule step at a time.
"""),
    code(
        SETUP
        + """
from engine import Value
from viz import draw_dot
from viz.stepper import frames, interactive

x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
b = Value(6.8813735870195432, label="b")
o = (x1 * w1 + x2 * w2 + b).tanh(); o.label = "o"
for step in o.backward_steps():
    print(step.index, step.node.op, "upstream", round(step.upstream, 4),
          [(c.parent.label or c.parent.op, round(c.local, 4), round(c.added, 4)) for c in step.contributions])"""
    ),
    md(
        "Each frame: the node being processed in yellow, finished nodes in green, this step's contributions on the edges."
    ),
    code("""
o.zero_grad()
fs = frames(o)
print(len(fs), "steps")
fs[2][1]"""),
    code("""
fs[-1][1]"""),
    md("In a live notebook, a slider steps through the same frames:"),
    code("""
o.zero_grad()
interactive(o)"""),
    md(r"""
## Why the order matters, and shared subexpressions add

If a value is used twice, its gradient is the **sum** over both paths: for $y = a \cdot a$,
$\partial y/\partial a = a + a$. A node may only pass its gradient on once *all* its uses
have contributed, which is exactly what the reverse topological order guarantees.
"""),
    code("""
a = Value(3.0, label="a")
y = a * a; y.label = "y"
y.backward()
print("dy/da =", a.grad, "(= 2a)")
draw_dot(y)"""),
    md("""
### Exercise 2
For $y = (a + a) \\cdot a$ at $a = 2$, predict how many chain-rule steps there are and the
final $\\partial y/\\partial a$, then check with `backward_steps()`.
"""),
    solution("""
a = Value(2.0, label="a")
y = (a + a) * a
steps = list(y.backward_steps())
assert len(steps) == 2            # the * node, then the + node
assert a.grad == 4 * 2.0          # y = 2a², dy/da = 4a
print(len(steps), a.grad)"""),
]

LESSONS["03_relu_networks_are_piecewise_linear"] = [
    md(r"""
# 3. ReLU networks are piecewise linear

A hidden unit computes $v\,\mathrm{relu}(w x + b)$: the weight in $w$ decides the direction,
the bias decides **where** the linear part starts (at $x = -b/w$), and the weight out $v$
decides whether the piece points up or down and how steep it is. A network with one hidden
layer adds such pieces: a piecewise-linear function, which with enough units approximates any
continuous function on an interval as closely as we like.
"""),
    code(
        SETUP
        + """
from nn import MLP, SGD, fit, regression_1d
from nn.analysis import linear_pieces
from viz.plots import relu_pieces, curves, functions_1d

x, y = regression_1d(64, seed=0)
model = MLP(1, [12, 1], seed=0)
fit(model, x, y, SGD(model.parameters(), lr=0.05, momentum=0.9), epochs=300, loss="mse", progress=False)
relu_pieces(model, (-2.2, 2.2), (x, y));"""
    ),
    md("## One unit: what the bias, the weight in and the weight out do"),
    code("""
unit = MLP(1, [1, 1], seed=0)
w, b = unit.layers[0].weight[0][0], unit.layers[0].bias[0]
v, c = unit.layers[1].weight[0][0], unit.layers[1].bias[0]
variants = {}
for name, (wv, bv, vv) in {"w=1, b=0, v=1": (1, 0, 1), "b=1 (starts at x=-1)": (1, 1, 1),
                           "v=-2 (down, steeper)": (1, 0, -2), "w=-1 (other side)": (-1, 0, 1)}.items():
    m = MLP(1, [1, 1], seed=0)
    m.layers[0].weight[0][0].data, m.layers[0].bias[0].data = wv, bv
    m.layers[1].weight[0][0].data, m.layers[1].bias[0].data = vv, 0.0
    variants[name] = m
functions_1d(variants, (-2, 2));"""),
    md(r"## More units, smaller error"),
    code("""
widths, errors = [1, 2, 4, 8, 16, 32], []
for n in widths:
    m = MLP(1, [n, 1], seed=1)
    h = fit(m, x, y, SGD(m.parameters(), lr=0.05, momentum=0.9), epochs=300, loss="mse", progress=False)
    errors.append(h.train_loss[-1])
curves({"training MSE": (widths, errors)}, "wider is better", "hidden units", "MSE", logy=True);"""),
    md(r"""
## Depth composes pieces

Each layer takes the previous layer's piecewise-linear function as its input and folds it
again. The tent map $t(x) = 2\,\mathrm{relu}(x) - 4\,\mathrm{relu}(x - \tfrac12)$ needs two
units; composed $k$ times (k hidden layers of 2 units) it has $2^k$ pieces on $[0, 1]$. One
hidden layer would need about $2^k$ units for as many: the number of pieces grows
multiplicatively with depth, only additively with width.
"""),
    code("""
from nn.analysis import tent_network
for k in (1, 2, 3, 4, 5):
    m = tent_network(k)
    print(f"depth {k}: {len(m.parameters()):3d} parameters, {linear_pieces(m, (0, 1), n=4001):3d} pieces")
functions_1d({f"depth {k}": tent_network(k) for k in (1, 2, 3)}, (0, 1));"""),
    md("""
### Exercise 3
Set the weights of a `MLP(1, [2, 1])` by hand so that it computes $|x|$ exactly
(hint: $|x| = \\mathrm{relu}(x) + \\mathrm{relu}(-x)$).
"""),
    solution("""
m = MLP(1, [2, 1], seed=0)
(m.layers[0].weight[0][0].data, m.layers[0].weight[1][0].data) = (1.0, -1.0)
m.layers[0].bias[0].data = m.layers[0].bias[1].data = 0.0
m.layers[1].weight[0][0].data = m.layers[1].weight[0][1].data = 1.0
m.layers[1].bias[0].data = 0.0
for t in (-2.0, -0.5, 0.0, 1.5):
    assert m([t])[0].data == abs(t)
print("ok, pieces:", linear_pieces(m))"""),
]

LESSONS["04_training_an_mlp"] = [
    md(r"""
# 4. Training an MLP: loss, SGD, initialization, learning rate

Training repeats: forward a batch, compute the loss $L$, `backward()` for $\nabla L$, and step
$w \leftarrow w - \eta \nabla L$. We use micrograd's setup: two moons, an SVM (hinge) loss
$\frac1N \sum_i \max(0, 1 - y_i s_i)$ and an L2 penalty.
"""),
    code(
        SETUP
        + """
from nn import MLP, SGD, MultiStepLR, fit, make_moons, train_val_split, hinge_loss
from viz.plots import decision_boundary, history, update_ratios, activation_histograms, curves

x, y = make_moons(100, noise=0.1, seed=1)
(xt, yt), (xv, yv) = train_val_split(x, y, 0.2, seed=0)
model = MLP(2, [16, 16, 1], init="he", seed=0)
opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
h = fit(model, xt, yt, opt, epochs=80, l2=1e-4, val=(xv, yv), progress=False)
print(f"train accuracy {h.train_acc[-1]:.0%}, validation accuracy {h.val_acc[-1]:.0%}")
decision_boundary(model, x, y);"""
    ),
    md(r"""
## Initialization: why all zeros fails

With all weights 0, every hidden unit computes the same thing and receives the same gradient,
and the hidden weights' gradient is exactly 0: the symmetry is never broken.
"""),
    code("""
zero = MLP(2, [4, 4, 1], init="zeros", seed=0)
hinge_loss(zero(xt), [1 if t else -1 for t in yt]).backward()
print("hidden weight grads:", {w.grad for row in zero.layers[0].weight for w in row},
      {w.grad for row in zero.layers[1].weight for w in row})"""),
    md(r"""
## Variance-preserving scales

A unit sums $n$ inputs: $\mathrm{Var}(z) = n\,\mathrm{Var}(w)\,\mathrm{Var}(x)$. Keeping it
constant needs $\mathrm{Var}(w) = 1/n$; a ReLU zeroes half of its inputs, so He init uses
$2/n_{in}$; Xavier uses $2/(n_{in}+n_{out})$. Too small and activations vanish with depth, too
large and they explode:
"""),
    code("""
probe = [[a / 3, b / 3] for a in range(-6, 7) for b in range(-6, 7)]
for init in ("normal", "he", "xavier"):
    activation_histograms(MLP(2, [32, 32, 32, 32, 1], init=init, seed=0), probe, title=f"init={init}")"""),
    md(r"""
## Learning rate: too low, too high, and a schedule

The update-to-weight ratio $|\eta \Delta w| / |w|$ per step should be around $10^{-3}$.
A piecewise-constant schedule (`MultiStepLR`) starts large and decays.
"""),
    code("""
runs = {}
for lr in (0.001, 0.1, 3.0):
    m = MLP(2, [16, 16, 1], init="he", seed=0)
    runs[f"lr={lr}"] = fit(m, xt, yt, SGD(m.parameters(), lr=lr), epochs=40, progress=False)
curves({k: (range(1, 41), v.train_loss) for k, v in runs.items()}, "loss per epoch", "epoch", "loss", logy=True);"""),
    code("""
m = MLP(2, [16, 16, 1], init="he", seed=0)
opt = SGD(m.parameters(), lr=0.2, momentum=0.9)
h = fit(m, xt, yt, opt, epochs=60, scheduler=MultiStepLR(opt, [20, 40], 0.2), val=(xv, yv), progress=False)
history(h)
update_ratios(h);"""),
    md("""
### Exercise 4
Find the smallest learning rate among 0.003, 0.03, 0.3 for which plain SGD (no momentum)
reaches 90% training accuracy in 40 epochs.
"""),
    solution("""
found = None
for lr in (0.003, 0.03, 0.3):
    m = MLP(2, [16, 16, 1], init="he", seed=0)
    if fit(m, xt, yt, SGD(m.parameters(), lr=lr), epochs=40, progress=False).train_acc[-1] >= 0.9:
        found = lr
        break
assert found is not None
print("smallest:", found)"""),
]

LESSONS["05_weight_space_symmetries"] = [
    md(r"""
# 5. Weight-space symmetries

Permuting the hidden units of a layer, and the next layer's input weights to match, gives a
different parameter vector that computes **the same function**. A layer of $n$ units has $n!$
such copies of every solution, so the loss surface has many equivalent minima.
"""),
    code(
        SETUP
        + """
import numpy as np
from nn import MLP, permute_hidden, make_moons
from viz.architecture import draw_mlp

model = MLP(2, [4, 3, 1], seed=0)
twin = permute_hidden(model, 0, [2, 0, 3, 1])
x, _ = make_moons(20, seed=0)
same = max(abs(a[0].data - b[0].data) for a, b in zip(model(x), twin(x)))
diff = np.linalg.norm(np.array([p.data for p in model.parameters()]) - [p.data for p in twin.parameters()])
print(f"largest output difference {same:.2e}; distance between parameter vectors {diff:.2f}")"""
    ),
    code("draw_mlp(model)"),
    code("draw_mlp(twin)"),
    md("""
### Exercise 5
Swap units 0 and 2 of the *second* hidden layer and check the outputs are unchanged.
"""),
    solution("""
other = permute_hidden(model, 1, [2, 1, 0])
assert max(abs(a[0].data - b[0].data) for a, b in zip(model(x), other(x))) < 1e-12
assert other.state_dict() != model.state_dict()
print("same function, different weights")"""),
]

LESSONS["06_regularization_and_early_stopping"] = [
    md(r"""
# 6. Regularization: L1, L2, weight decay, early stopping

Write all weights as one long vector $w$. **Ridge** adds $\lambda \lVert w\rVert_2^2$ to the loss
(gradient $2\lambda w$: shrink in proportion), **LASSO** adds $\lambda \lVert w\rVert_1$
(gradient $\lambda\,\mathrm{sign}(w)$: push to exactly zero). **Weight decay** multiplies the
weights by a constant slightly below 1 each step: $w \leftarrow (1-\eta\lambda) w - \eta\nabla L$.
"""),
    code(
        SETUP
        + """
from nn import MLP, SGD, fit, make_moons, train_val_split, save, load, l1_penalty, l2_penalty
from viz.plots import weight_histograms, history

x, y = make_moons(100, noise=0.2, seed=2)
(xt, yt), (xv, yv) = train_val_split(x, y, 0.3, seed=0)
models = {}
for name, kw in {"none": {}, "L2 (ridge)": {"l2": 1e-2}, "L1 (LASSO)": {"l1": 1e-2}}.items():
    m = MLP(2, [16, 16, 1], init="he", seed=0)
    fit(m, xt, yt, SGD(m.parameters(), lr=0.05, momentum=0.9), epochs=80, progress=False, **kw)
    models[name] = m
weight_histograms(models);"""
    ),
    md(r"""
## Weight decay, two ways

PyTorch's `weight_decay` adds $\lambda w$ to the gradient ("coupled"); the lecture's form
multiplies the weights by $1 - \eta\lambda$ ("decoupled"). Without momentum they are the same
update; with momentum they differ.
"""),
    code("""
def train(**kw):
    m = MLP(2, [8, 1], seed=0)
    fit(m, xt, yt, SGD(m.parameters(), lr=0.1, weight_decay=0.01, **kw), epochs=5, progress=False)
    return [p.data for p in m.parameters()]

gap = lambda a, b: max(abs(u - v) for u, v in zip(a, b))
print("no momentum:", gap(train(), train(decoupled_weight_decay=True)))
print("momentum:   ", gap(train(momentum=0.9), train(momentum=0.9, decoupled_weight_decay=True)))"""),
    md(r"""
## Early stopping with checkpoints

Keep the model with the lowest validation loss, stop after `patience` epochs without
improvement, and restore the best weights.
"""),
    code("""
m = MLP(2, [64, 64, 1], init="he", seed=0)
h = fit(m, xt, yt, SGD(m.parameters(), lr=0.1, momentum=0.9), epochs=300, val=(xv, yv),
        patience=15, progress=False)
print(f"stopped early: {h.stopped_early} after {h.epochs} epochs; best epoch {h.best_epoch + 1}")
save(m, "best.json", {"epoch": h.best_epoch})
history(h);"""),
    code("""
restored = MLP(2, [64, 64, 1], seed=99)
print(load(restored, "best.json"), restored.state_dict() == m.state_dict())
import os; os.remove("best.json")"""),
    md("""
### Exercise 6
Show that a larger L1 strength drives more weights to (almost) zero: compare the fraction of
weights with |w| < 1e-3 for `l1=1e-3` and `l1=3e-2`.
"""),
    solution("""
from nn import weight_vector
def sparsity(l1):
    m = MLP(2, [16, 16, 1], init="he", seed=0)
    fit(m, xt, yt, SGD(m.parameters(), lr=0.05), epochs=80, l1=l1, progress=False)
    ws = weight_vector(m)
    return sum(abs(w.data) < 1e-3 for w in ws) / len(ws)
small, large = sparsity(1e-3), sparsity(3e-2)
assert large > small
print(f"{small:.0%} -> {large:.0%}")"""),
]

LESSONS["07_dropout"] = [
    md(r"""
# 7. Dropout

In training, each unit is kept with probability $q$ and dropped otherwise, a new mask for every
mini-batch, so no unit can rely on one specific other unit. At inference all units are used,
and their outputs are multiplied by $q$ so the next layer sees the same expected input:
$\mathbb{E}[m\,a] = q\,a$ for $m \sim \mathrm{Bernoulli}(q)$.

**Notation.** The lecture's $p$ is the keep probability $q$. chainrule follows PyTorch:
`Dropout(p)` with `p` the probability of **dropping** ($q = 1-p$), and by default *inverted*
dropout, which scales by $1/q$ in training instead, so inference is the identity.
"""),
    code(
        SETUP
        + """
from engine import Value, add_all
from nn import Dropout, MLP, SGD, fit, make_moons, train_val_split
from viz import draw_dot

d = Dropout(0.5, seed=0)
out = d([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]])
print("mask:", d.last_mask[0])
print("training output:", [v.data for v in out[0]])
d.eval()
print("inference output:", [v.data if isinstance(v, Value) else v for v in d([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]])[0]])"""
    ),
    md("Dropped units stay in the graph multiplied by 0: no gradient flows through them."),
    code("""
d = Dropout(0.5, seed=3)
xs = [Value(float(i), label=f"a{i}") for i in range(1, 4)]
s = add_all(d.forward([xs])[0]); s.label = "sum"
s.backward()
print("mask", d.last_mask[0], "grads", [v.grad for v in xs])
draw_dot(s)"""),
    md("## The lecture's form: no scaling in training, multiply by $q$ at inference"),
    code("""
classic = Dropout(0.25, inverted=False, seed=0)
n = 20000
train_mean = sum(v.data for v in classic([[1.0] * n])[0]) / n
classic.eval()
print(f"mean training output {train_mean:.3f}, inference output {classic([[1.0]])[0][0].data}")"""),
    md("## Against overfitting: a small, noisy data set"),
    code("""
x, y = make_moons(60, noise=0.35, seed=4)
(xt, yt), (xv, yv) = train_val_split(x, y, 0.4, seed=0)
for p in (0.0, 0.3):
    m = MLP(2, [64, 64, 1], init="he", dropout=p, seed=0)
    h = fit(m, xt, yt, SGD(m.parameters(), lr=0.05, momentum=0.9), epochs=120, batch_size=12,
            val=(xv, yv), progress=False)
    print(f"dropout {p}: train loss {h.train_loss[-1]:.3f}  val loss {h.val_loss[-1]:.3f}  "
          f"val acc {h.val_acc[-1]:.0%}")"""),
    md("""
### Exercise 7
Check on 10,000 units that `Dropout(0.2)` keeps about 80% of them and that the mean of the
training output is about 1 for an input of all ones.
"""),
    solution("""
d = Dropout(0.2, seed=1)
out = d([[1.0] * 10000])[0]
kept = sum(d.last_mask[0]) / 10000
mean = sum(v.data for v in out) / 10000
assert abs(kept - 0.8) < 0.02 and abs(mean - 1.0) < 0.03
print(kept, mean)"""),
]

LESSONS["08_batch_normalization"] = [
    md(r"""
# 8. Batch normalization

For one unit, over a mini-batch $x_1..x_m$:

$$\mu = \tfrac1m\sum_i x_i,\quad \sigma^2 = \tfrac1m \sum_i (x_i-\mu)^2,\quad
\hat x_i = \frac{x_i - \mu}{\sqrt{\sigma^2+\varepsilon}},\quad y_i = \gamma \hat x_i + \beta$$

with learnable $\gamma, \beta$ and a small $\varepsilon$ against division by zero. The mean and
variance are part of the graph, so the gradient flows through them. During inference the
batch statistics are replaced by running averages collected in training.
"""),
    code(
        SETUP
        + """
from nn import BatchNorm1d, MLP, SGD, fit, make_moons, train_val_split
from viz.plots import curves, activation_histograms

bn = BatchNorm1d(2)
batch = [[1.0, 10.0], [2.0, 20.0], [3.0, 30.0], [6.0, 0.0]]
out = bn(batch)
print("training output (batch statistics):", [[round(v.data, 3) for v in r] for r in out])
print("running mean", bn.running_mean, "running var", bn.running_var)
bn.eval()
print("inference output (running averages):", [[round(v.data, 3) for v in r] for r in bn(batch)])"""
    ),
    md(r"""
## Side by side: larger learning rates

The same ReLU network (3 hidden layers of 16, He init, plain SGD, mini-batches of 40) with
and without batch norm, at three learning rates. Without it, lr = 3 blows the first steps
up and training never recovers; with it, the normalization keeps each layer's inputs in range.
"""),
    code("""
x, y = make_moons(200, noise=0.15, seed=5)
(xt, yt), (xv, yv) = train_val_split(x, y, 0.2, seed=0)
series = {}
for use_bn in (False, True):
    for lr in (0.1, 1.0, 3.0):
        m = MLP(2, [16, 16, 16, 1], init="he", batchnorm=use_bn, seed=0)
        h = fit(m, xt, yt, SGD(m.parameters(), lr=lr), epochs=30, batch_size=40, val=(xv, yv), progress=False)
        name = f"{'BN' if use_bn else 'no BN'}, lr={lr}"
        series[name] = (range(1, 31), h.train_loss)
        print(f"{name:14s} final train loss {h.train_loss[-1]:.3f}  validation accuracy {h.val_acc[-1]:.0%}")
curves(series, "training loss", "epoch", "loss", logy=True);"""),
    md("## Side by side: less sensitivity to initialization"),
    code("""
for init in ("normal", "uniform", "xavier", "he"):
    accs = []
    for use_bn in (False, True):
        m = MLP(2, [16, 16, 16, 1], init=init, batchnorm=use_bn, seed=0)
        h = fit(m, xt, yt, SGD(m.parameters(), lr=0.1), epochs=30, batch_size=40, val=(xv, yv), progress=False)
        accs.append(h.val_acc[-1])
    print(f"init {init:8s} validation accuracy: without BN {accs[0]:.0%}, with BN {accs[1]:.0%}")"""),
    code("""
probe = [[a / 3, b / 3] for a in range(-6, 7) for b in range(-6, 7)]
for use_bn in (False, True):
    m = MLP(2, [32, 32, 32, 1], "tanh", init="normal", batchnorm=use_bn, seed=0)
    m([[a, b] for a, b in probe[:64]])  # one training batch sets the running statistics
    activation_histograms(m, probe, title=f"N(0,1) init, {'with' if use_bn else 'without'} batch norm");"""),
    md("""
### Exercise 8
Train a `BatchNorm1d(3, momentum=0.5)` on five batches drawn around 4 and check that its
running mean approaches 4 (momentum 0.5: half of the way each step, from 0).
"""),
    solution("""
import numpy as np
rng = np.random.default_rng(0)
bn = BatchNorm1d(3, momentum=0.5)
for _ in range(5):
    bn((rng.normal(4.0, 1.0, (64, 3))).tolist())
assert all(abs(m - 4.0) < 0.4 for m in bn.running_mean)
print(bn.running_mean)"""),
]


def build(name: str, cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    for kind, text in cells:
        if kind == "md":
            nb.cells.append(nbformat.v4.new_markdown_cell(text))
        else:
            cell = nbformat.v4.new_code_cell(text)
            if kind == "solution":
                cell.metadata["tags"] = ["solution"]
                cell.metadata["jupyter"] = {"source_hidden": True}
            nb.cells.append(cell)
    return nb


def main(names: list[str]) -> None:
    for name, cells in LESSONS.items():
        if names and name not in names:
            continue
        nb = build(name, cells)
        NotebookClient(
            nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(HERE)}}
        ).execute()
        nbformat.write(nb, HERE / f"{name}.ipynb")
        print("wrote", name)


if __name__ == "__main__":
    main(sys.argv[1:])
