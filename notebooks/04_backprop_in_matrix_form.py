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
# # 4. Backprop in matrix form
#
# The scalar graph of lessons 1 to 3 has one node per multiplication. A layer does the same
# arithmetic for a whole matrix at once, and the chain rule can be written for whole layers:
# that is how every framework computes it, and how the lecture states it. We derive it, then
# check it **number for number** against chainrule's scalar graph of the same network.

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
import numpy as np
from chainrule.engine import Value
from chainrule.nn import MLP
from chainrule.viz.plots import setup_notebook

from chainrule.course import show_solution  # noqa: F401  (stuck? see the exercises)
from chainrule.course.checks import check, small_network

setup_notebook(dpi=110)

# %% [markdown]
# ## The layer equations
#
# Layer $l$ computes $z^l = W^l a^{l-1} + b^l$ and $a^l = f(z^l)$, with $a^0 = x$. Define
# the **error signal** of a layer as $\delta^l = \partial L/\partial z^l$ (a vector, one
# entry per unit). Three facts give the whole backward pass:
#
# 1. **Into the previous layer.** $z^{l+1}_j = \sum_i W^{l+1}_{ji} a^l_i + b_j$ depends on
#    $a^l_i$ with slope $W^{l+1}_{ji}$, and $a^l_i$ feeds *every* unit $j$ of the next
#    layer, so the contributions add:
#    $\partial L/\partial a^l_i = \sum_j W^{l+1}_{ji}\,\delta^{l+1}_j$
#    $= ((W^{l+1})^\top \delta^{l+1})_i$.
# 2. **Through the activation.** $a^l_i = f(z^l_i)$ acts entry by entry, so
#    $\delta^l_i = \partial L/\partial a^l_i \cdot f'(z^l_i)$:
#
#    $$\delta^l = (W^{l+1})^\top \delta^{l+1} \odot f'(z^l).$$
# 3. **The weights.** $W^l_{ij}$ enters only $z^l_i$, with slope $a^{l-1}_j$:
#    $\partial L/\partial W^l_{ij} = \delta^l_i\, a^{l-1}_j$, an outer product, and
#    $\partial L/\partial b^l = \delta^l$:
#
#    $$\frac{\partial L}{\partial W^l} = \delta^l\,(a^{l-1})^\top.$$
#
# The recursion starts at the loss: for $L = \tfrac12\lVert a^L - y\rVert^2$ with a linear
# output layer, $\delta^L = a^L - y$.
#
# ## Checked against the scalar graph
#
# A $3 \to 4 \to 2$ network with tanh hidden units ($f' = 1 - \tanh^2$), one sample:

# %%
(W1, W2), (b1, b2) = small_network()
x, y = np.array([0.5, -1.0, 2.0]), np.array([0.3, -0.7])

z1 = W1 @ x + b1
a1 = np.tanh(z1)
a2 = W2 @ a1 + b2  # linear output
delta2 = a2 - y  # from L = ½‖a² - y‖²
delta1 = (W2.T @ delta2) * (1 - np.tanh(z1) ** 2)
grads_matrix = {"W1": np.outer(delta1, x), "b1": delta1, "W2": np.outer(delta2, a1), "b2": delta2}

# the same network as chainrule's scalar graph: one Value per weight
model = MLP(3, [4, 2], "tanh", seed=0)
for layer, W, b in zip(model.linear_layers, (W1, W2), (b1, b2)):
    for i, row in enumerate(layer.weight):
        for j, w in enumerate(row):
            w.data = float(W[i, j])
        layer.bias[i].data = float(b[i])
out = model([Value(v) for v in x])
loss = sum(((o - t) ** 2 for o, t in zip(out, y)), Value(0.0)) * 0.5
loss.backward()
grads_scalar = {}
for k, layer in enumerate(model.linear_layers, 1):
    grads_scalar[f"W{k}"] = np.array([[w.grad for w in row] for row in layer.weight])
    grads_scalar[f"b{k}"] = np.array([b.grad for b in layer.bias])
print(f"loss: matrix form {0.5 * np.sum((a2 - y) ** 2):.15f}, scalar graph {loss.data:.15f}")
for name in grads_matrix:
    diff = np.max(np.abs(grads_matrix[name] - grads_scalar[name]))
    print(f"dL/d{name}: shape {grads_matrix[name].shape}, largest difference {diff:.1e}")

# %% [markdown]
# Every entry agrees to the last bit or two (differences of order $10^{-16}$: the same
# arithmetic, summed in a different order). The matrix form does in four matrix products what
# the scalar graph does node by node.
#
# ## Gate patterns
#
# Looking at a single node, three patterns cover most of a network's graph:
#
# - **add distributes**: $z = x + y$ passes its gradient unchanged to both inputs;
# - **mul swaps**: $z = x\,y$ gives $x$ the gradient times $y$, and $y$ the gradient times $x$;
# - **max routes**: $z = \max(x, y)$ passes the whole gradient to the larger input and 0 to
#   the other (ReLU is $\max(z, 0)$: it routes or blocks).

# %%
p, q = Value(2.0), Value(-5.0)
for name, out in {"add": p + q, "mul": p * q, "max": (p - q).relu() + q}.items():
    p.grad = q.grad = 0.0
    (out * 3.0).backward()  # an upstream gradient of 3
    print(f"{name}: upstream 3 → dp = {p.grad:5.1f}, dq = {q.grad:5.1f}")

# %% [markdown]
# With $p = 2$, $q = -5$ and an upstream gradient 3: the sum gives both 3; the product gives
# $p$ the gradient $3 q = -15$ and $q$ the gradient $3p = 6$; the max gives all 3 to $p$, the
# larger input. The matrix rules above are these patterns, many at a time: $W a$ is
# multiplications (swap: $\partial/\partial W$ gets $a$, $\partial/\partial a$ gets $W$)
# followed by sums (distribute).
#
# ## Exercises
#
# Write each answer in the cell tagged `exercise`, then run the check below it. Stuck?
# `show_solution("N.k")` (in a new cell) prints a worked solution of exercise N.k.
#
# ### Exercise 4.1 (easy)
# For $f = \max(x, y)\cdot(y + z)$ at $x = 3$, $y = -1$, $z = 2$, give
# $(\partial f/\partial x, \partial f/\partial y, \partial f/\partial z)$ using only the
# three gate patterns. Careful: $y$ is used twice.

# %% tags=["exercise"]
answer = ...

# %%
check("4.1", answer)

# %% [markdown]
# ### Exercise 4.2 (medium)
# Frameworks put a batch of $B$ samples in the **rows** of a matrix: $Z^l$ is $B \times n_l$,
# and $\Delta^l$ holds one $\delta^l$ per row. Write `delta_hidden(W_next, delta_next, z)`
# for a **ReLU** hidden layer: given $W^{l+1}$ ($n_{l+1} \times n_l$), $\Delta^{l+1}$
# ($B \times n_{l+1}$) and $Z^l$ ($B \times n_l$), return $\Delta^l$ ($B \times n_l$),
# row $b$ being $(W^{l+1})^\top \delta^{l+1}_b \odot \mathrm{relu}'(z^l_b)$. One line of
# numpy, no loop.

# %% tags=["exercise"]
answer = ...

# %%
check("4.2", answer)

# %% [markdown]
# ### Exercise 4.3 (stretch): batch norm's backward pass in closed form
# Batch norm (lesson 11) normalises one unit's values $x_1, \dots, x_m$ over a batch:
# $\mu = \frac1m\sum_i x_i$, $\sigma^2 = \frac1m\sum_i (x_i - \mu)^2$,
# $\hat x_i = (x_i - \mu)/\sqrt{\sigma^2 + \varepsilon}$ and $y_i = \gamma \hat x_i + \beta$.
# Given the upstream gradients `dout` $= \partial L/\partial y_i$, write
# `bn_backward(x, gamma, dout, eps)` returning $\partial L/\partial x_i$ for all $i$ (numpy
# arrays in and out). Each $x_i$ reaches $L$ along three paths: directly through
# $\hat x_i$, through $\mu$ and through $\sigma^2$ (which every $\hat x_j$ uses). Derive the
# three terms and simplify to one line. The checker compares with chainrule's scalar graph.

# %% tags=["exercise"]
answer = ...

# %%
check("4.3", answer)
