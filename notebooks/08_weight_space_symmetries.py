# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 8. Weight-space symmetries
#
# Permuting the hidden units of a layer, and the next layer's input weights to match, gives a
# different parameter vector that computes **the same function**. A layer of $n$ units has
# $n!$ such copies of every solution, so the loss surface has many equivalent minima. There
# are more symmetries than permutations: tanh units can flip sign, ReLU units can be
# rescaled. At the end we look at what they mean for the loss landscape.

# %% tags=["setup"]
# Opened alone (Colab, VS Code, any Jupyter)? This installs chainrule only if it is missing;
# with chainrule installed it does nothing and never touches the network. By hand:
# `pip install chainrule`, or from a clone: `pip install .` (see the README).
import importlib.util
import subprocess
import sys

if importlib.util.find_spec("chainrule") is None:
    print("chainrule is not installed: installing it with pip ...")
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "chainrule"])

# %%

import matplotlib.pyplot as plt
import numpy as np
from chainrule.engine import no_grad
from chainrule.nn import MLP, SGD, fit, make_moons, permute_hidden
from chainrule.viz.plots import numpy_forward, setup_notebook
from matplotlib.patches import Patch

from chainrule.course import show_solution  # noqa: F401  (stuck? see the exercises)
from chainrule.course.checks import check, mystery_pair, relu_model

setup_notebook(dpi=110)

model = MLP(2, [4, 3, 1], seed=0)
perm = [2, 0, 3, 1]  # new unit k of the first hidden layer is old unit perm[k]
twin = permute_hidden(model, 0, perm)
x, _ = make_moons(20, seed=0)
with no_grad():
    out_model, out_twin = model(x), twin(x)
same = float(np.abs(out_model.data - out_twin.data).max())  # a batch: one Value each
flat = [np.array([p.data for p in m.parameters()]) for m in (model, twin)]
print(f"largest output difference {same:.2e}")
print(f"distance between the parameter vectors {np.linalg.norm(flat[0] - flat[1]):.2f}")

# %% [markdown]
# Both networks drawn: each unit of the first hidden layer has its own colour and carries it
# when it moves: in the twin, `1←0` means position 1 now holds the original unit 0.
# Edge colour is the weight's sign (blue positive, red negative), its width $|w|$. Follow the
# green unit: same incoming edges, same outgoing edges, another position.

# %%
COLOURS = plt.cm.Set2.colors


def draw(ax, m, origin, title):
    """Units as circles, weights as lines; `origin[k]`: the original index of hidden unit k."""
    layers = m.linear_layers
    sizes = [layers[0].nin] + [layer.nout for layer in layers]
    pos = {(c, i): (c, (n - 1) / 2 - i) for c, n in enumerate(sizes) for i in range(n)}
    big = max(abs(w.data) for layer in layers for row in layer.weight for w in row)
    for c, layer in enumerate(layers):
        for j, row in enumerate(layer.weight):
            for i, w in enumerate(row):
                (x0, y0), (x1, y1) = pos[(c, i)], pos[(c + 1, j)]
                colour = "#2563eb" if w.data >= 0 else "#dc2626"
                ax.plot([x0, x1], [y0, y1], color=colour, lw=0.3 + 3 * abs(w.data) / big)
    for (c, i), (px, py) in pos.items():
        face = COLOURS[origin[i]] if c == 1 else "#e5e7eb"
        ax.add_patch(plt.Circle((px, py), 0.18, color=face, ec="k", zorder=3))
        label = f"{i}" if c != 1 else (f"{i}" if origin[i] == i else f"{i}←{origin[i]}")
        ax.text(px, py, label, ha="center", va="center", fontsize=8, zorder=4)
    ax.set_title(title)
    ax.set_aspect("equal")
    ax.axis("off")


fig, axes = plt.subplots(1, 2, figsize=(11, 4))
draw(axes[0], model, list(range(4)), "model")
draw(axes[1], twin, perm, f"twin: first hidden layer permuted by {perm}")
handles = [Patch(color=COLOURS[k], label=f"original unit {k}") for k in range(4)]
fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=8)
plt.show()

# %% [markdown]
# Each hidden unit is a row of the first weight matrix (with its bias) and a column of the
# next: permuting rows and columns together moves the whole unit.

# %%
print("model, first layer's rows:")
print(np.round([[w.data for w in row] for row in model.linear_layers[0].weight], 3))
print("twin, first layer's rows:")
print(np.round([[w.data for w in row] for row in twin.linear_layers[0].weight], 3))

# %% [markdown]
# ## Sign flips: tanh is odd
#
# $\tanh(-z) = -\tanh(z)$. Negate a tanh unit's incoming weights and bias: its
# pre-activation becomes $-z$ and its output $-\tanh(z)$; negate its outgoing weight too and
# the next layer receives $(-u)(-\tanh z) = u \tanh z$, exactly as before. Each of $n$ units
# can be flipped or not: $2^n$ copies, on top of the $n!$ orders. Both negations are exact in
# floating point, so the outputs agree **to the last bit**:


# %%
def params_of(m):
    return np.array([p.data for p in m.parameters()])


def flip_unit(m, j):
    """A copy of the 1-hidden-layer model `m` with hidden unit j's sign flipped."""
    m = permute_hidden(m, 0, list(range(len(m.linear_layers[0].weight))))  # a deep copy
    hidden, out = m.linear_layers
    for w in [*hidden.weight[j], hidden.bias[j], out.weight[0][j]]:
        w.data = -w.data
    return m


def rescale_unit(m, j, c):
    """A copy with ReLU unit j's incoming weights and bias times c, outgoing weight over c."""
    m = permute_hidden(m, 0, list(range(len(m.linear_layers[0].weight))))
    hidden, out = m.linear_layers
    for w in [*hidden.weight[j], hidden.bias[j]]:
        w.data *= c
    out.weight[0][j].data /= c
    return m


xs = np.array(make_moons(200, seed=1)[0])
tanh_net = MLP(2, [5, 1], "tanh", seed=2)
flipped = flip_unit(tanh_net, 1)
diff = np.abs(numpy_forward(tanh_net, xs) - numpy_forward(flipped, xs)).max()
moved = np.linalg.norm(params_of(tanh_net) - params_of(flipped))
print(
    f"tanh, unit 1 flipped: parameters moved by {moved:.2f}, largest output difference {diff:.1e}"
)
relu_flipped = flip_unit(MLP(2, [5, 1], seed=2), 1)
gap = np.abs(numpy_forward(MLP(2, [5, 1], seed=2), xs) - numpy_forward(relu_flipped, xs)).max()
print(f"ReLU, unit 1 flipped: largest output difference {gap:.2f}  (relu(-z) ≠ -relu(z))")

# %% [markdown]
# ## ReLU rescaling: a continuous symmetry
#
# ReLU is not odd, but it is **positively homogeneous**: $\mathrm{relu}(c z) = c\,
# \mathrm{relu}(z)$ for every $c > 0$. Multiply a unit's incoming weights and bias by $c$ and
# divide its outgoing weight by $c$: the next layer receives
# $(u/c) \cdot c\,\mathrm{relu}(z) = u\,\mathrm{relu}(z)$. Every $c > 0$ works, so each
# unit gives a whole curve of equivalent weights, not a finite set. For $c$ a power of two
# the arithmetic is exact and the outputs agree to the last bit; for other $c$ the
# multiplication and the division each round, and the outputs differ in the last bit or so:

# %%
relu_net = MLP(2, [5, 1], seed=2)
base = numpy_forward(relu_net, xs)
for c in (4.0, 0.25, 3.0, 0.1):
    twin_c = rescale_unit(relu_net, 1, c)
    d = np.abs(numpy_forward(twin_c, xs) - base).max()
    moved = np.linalg.norm(params_of(twin_c) - params_of(relu_net))
    print(f"c = {c:5}: parameters moved by {moved:5.2f}, largest output difference {d:.1e}")
print(f"(one unit in the last place of an output near 1 is {np.spacing(1.0):.1e})")

# %% [markdown]
# ## What the symmetries mean for the loss landscape
#
# Every minimum of the loss comes with all its copies: $n!$ permuted ones (times $2^n$ sign
# flips for tanh), isolated points at equal loss, and for ReLU whole curves of equal loss
# through each (the rescalings), along which the loss is exactly flat. So the loss cannot be
# convex: a convex function's minima form one convex set, yet the straight line between
# two permuted copies of a minimum leaves the set of equal loss. We train a network, permute
# its hidden units, and evaluate the loss along the straight line
# $\theta(t) = (1-t)\,\theta + t\,\theta_{\text{perm}}$ between the two:

# %%
data_x, data_y = make_moons(100, noise=0.1, seed=1)
trained = MLP(2, [16, 1], seed=0)
fit(trained, data_x, data_y, SGD(trained.parameters(), lr=0.1, momentum=0.9), epochs=60,
    progress=False, track_updates=False)  # fmt: skip
signs = np.where(np.asarray(data_y) > 0, 1.0, -1.0)


def hinge(m):
    """The mean hinge loss of model m on the moons (as `fit` trains it)."""
    return float(np.mean(np.maximum(0.0, 1 - signs * numpy_forward(m, data_x)[:, 0])))


def between(a, b, t):
    """The model with parameters (1 - t)·a + t·b."""
    m = permute_hidden(a, 0, list(range(16)))
    for p, pa, pb in zip(m.parameters(), a.parameters(), b.parameters()):
        p.data = (1 - t) * pa.data + t * pb.data
    return m


ts = np.linspace(0, 1, 41)
fig, ax = plt.subplots(figsize=(6.4, 3.6))
for seed, colour in zip((1, 2, 3), ("C0", "C1", "C2")):
    permuted = permute_hidden(trained, 0, np.random.default_rng(seed).permutation(16).tolist())
    path = [hinge(between(trained, permuted, t)) for t in ts]
    ax.plot(ts, path, colour, label=f"random permutation {seed}")
    print(f"permutation {seed}: loss at t = 0 {path[0]:.3f}, t = 1 {path[-1]:.3f},"
          f" highest {max(path):.3f} at t = {ts[int(np.argmax(path))]:.2f}")  # fmt: skip
rescaled = rescale_unit(trained, 3, 5.0)
flat = [hinge(between(trained, rescaled, t)) for t in ts]
ax.plot(ts, flat, "k--", label="unit 3 rescaled by 5 (ReLU)")
ax.set_xlabel("t: from the trained network (0) to its twin (1)")
ax.set_ylabel("mean hinge loss on the training set")
ax.set_title("the straight line between two equal minima")
ax.legend(fontsize=8)
plt.show()
print(f"rescaled twin: loss along the line between {min(flat):.4f} and {max(flat):.4f}")

# %% [markdown]
# Both ends have exactly the same loss; in between, the loss rises to a **barrier** (for each
# of the three permutations): averaging the weights of two equal networks mixes units that do
# different jobs, and the mixture is a worse network. The minima are separate valleys, and
# gradient descent started from different random weights ends in different ones. (This is why
# averaging the weights of two independently trained networks fails unless their units are
# matched first.) The dashed line, to a copy with one unit rescaled by $c = 5$, is nearly
# flat (printed): its ends lie on one rescaling curve, but the straight line between them
# leaves that curve (at the midpoint the unit's contribution is multiplied by
# $\frac{1+c}{2}\cdot\frac{1 + 1/c}{2} = 1.8$), and the loss changes a little. Along the curve
# itself, $c$ varying, it is exactly constant: a flat valley floor, in every ReLU network.
#
# %% [markdown]
# ## Exercises
#
# Write each answer in the cell tagged `exercise`, then run the check below it. Stuck?
# `show_solution("N.k")` (in a new cell) prints a worked solution of exercise N.k.
#
# ### Exercise 8.1 (easy)
# How many different orderings of the hidden units does `MLP(2, [4, 3, 1])` have, all
# computing the same function (permutations only)?

# %% tags=["exercise"]
answer = ...

# %%
check("8.1", answer)

# %% [markdown]
# ### Exercise 8.2 (medium)
# `mystery_pair()` returns a network and a copy whose first hidden layer was permuted. Find
# the permutation `p` (a list) with `permute_hidden(model, 0, p)` equal to the copy.

# %%
model8, mystery = mystery_pair()

# %% tags=["exercise"]
answer = ...

# %%
check("8.2", answer)

# %% [markdown]
# ### Exercise 8.3 (stretch)
# The rescaling symmetry leaves the function unchanged, but not the L2 penalty of lesson 9:
# unit 0 of `relu_model()` (a `2 → 3 → 1` ReLU network) contributes
# $c^2(\lVert w_{in}\rVert^2 + b^2) + u^2/c^2$ after rescaling by $c$. Which $c > 0$
# minimises it? (Weight decay thus picks one point on each rescaling curve: the one where
# the unit's incoming and outgoing weights are balanced.)

# %%
print(relu_model())

# %% tags=["exercise"]
answer = ...

# %%
check("8.3", answer)
