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
# # 5. Weight-space symmetries
#
# Permuting the hidden units of a layer, and the next layer's input weights to match, gives a
# different parameter vector that computes **the same function**. A layer of $n$ units has
# $n!$ such copies of every solution, so the loss surface has many equivalent minima.

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
import copy
from math import factorial

import matplotlib.pyplot as plt
import numpy as np
from chainrule.engine import no_grad
from chainrule.nn import MLP, make_moons, permute_hidden
from chainrule.viz.plots import setup_notebook
from matplotlib.patches import Patch

from chainrule.course.checks import check, mystery_pair, tanh_model

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
# ## Exercises
#
# ### Exercise 5.1 (easy)
# How many different orderings of the hidden units does `MLP(2, [4, 3, 1])` have, all
# computing the same function (permutations only)?

# %% tags=["answer"]
answer = ...

# %%
check("5.1", answer)

# %% tags=["solution"] jupyter={"source_hidden": true}
answer = factorial(4) * factorial(3)  # each hidden layer ordered independently
check("5.1", answer)

# %% [markdown]
# ### Exercise 5.2 (medium)
# `mystery_pair()` returns a network and a copy whose first hidden layer was permuted. Find
# the permutation `p` (a list) with `permute_hidden(model, 0, p)` equal to the copy.

# %%
model5, mystery = mystery_pair()

# %% tags=["answer"]
answer = ...

# %%
check("5.2", answer)

# %% tags=["solution"] jupyter={"source_hidden": true}
rows = [tuple(w.data for w in row) for row in model5.linear_layers[0].weight]
answer = [rows.index(tuple(w.data for w in row)) for row in mystery.linear_layers[0].weight]
check("5.2", answer)

# %% [markdown]
# ### Exercise 5.3 (stretch)
# There are more symmetries than permutations. `tanh_model()` is a `2 → 3 → 1` tanh network.
# Give a copy that computes the same function with different weights by **negating** one
# hidden unit's incoming weights and bias and its outgoing weight. Why does this not work
# with ReLU?

# %% tags=["answer"]
answer = ...

# %%
check("5.3", answer)

# %% tags=["solution"] jupyter={"source_hidden": true}
flipped = copy.deepcopy(tanh_model())
hidden, out = flipped.linear_layers
for w in [*hidden.weight[1], hidden.bias[1], out.weight[0][1]]:
    w.data = -w.data
answer = flipped  # relu(-z) ≠ -relu(z), so with ReLU the flip changes the function
check("5.3", answer)
