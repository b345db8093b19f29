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
# # 6. Training an MLP: loss, SGD, initialization, learning rate
#
# Training repeats: forward a batch, compute the loss $L$, `backward()` for $\nabla L$ (the
# chain rule from the back to the front), and step every weight against its gradient,
# $w \leftarrow w + \Delta w$ with $\Delta w = -\eta\,\nabla_w L$. We use micrograd's setup: two
# moons, an SVM (hinge) loss $\frac1N \sum_i \max(0, 1 - y_i s_i)$ and an L2 penalty.

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
from chainrule.engine import Value, add_all
from chainrule.nn import (
    MLP,
    SGD,
    Layer,
    MultiStepLR,
    fit,
    hinge_loss,
    init,
    make_moons,
    train_val_split,
)
from chainrule.viz.plots import curves, decision_boundary, history, setup_notebook, update_ratios

from chainrule.course import show_solution  # noqa: F401  (stuck? see the exercises)
from chainrule.course.checks import check

setup_notebook(dpi=110)

x, y = make_moons(100, noise=0.1, seed=1)
(xt, yt), (xv, yv) = train_val_split(x, y, 0.2, seed=0)
model = MLP(2, [16, 16, 1], init="he", seed=0)
opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
h = fit(model, xt, yt, opt, epochs=80, l2=1e-4, val=(xv, yv), progress=False)
print(f"train accuracy {h.train_acc[-1]:.0%}, validation accuracy {h.val_acc[-1]:.0%}")
decision_boundary(model, x, y)
plt.show()

# %% [markdown]
# ## Initialization: why all zeros fails
#
# With all weights and biases 0, every pre-activation $z$ is 0, every ReLU output is 0, and
# $\mathrm{relu}'(0) = 0$: the gradient of **every** weight is exactly 0 (only the output
# bias can move), so training never starts. With any activation, the units of a layer would
# also compute the same thing and receive the same gradient: the symmetry is never broken.

# %%
zero = MLP(2, [4, 4, 1], init="zeros", seed=0)
hinge_loss(zero(xt), [1 if t else -1 for t in yt]).backward()
for k, layer in enumerate(zero.linear_layers):
    grads = sorted({w.grad for row in layer.weight for w in row})
    print(f"layer {k + 1} weight gradients take the values {grads}")

# %% [markdown]
# ## The variance argument
#
# A unit's pre-activation sums $n$ inputs: $z = \sum_{i=1}^{n} w_i x_i$, with the weights
# independent of the inputs and of each other, and $\mathbb{E}[w_i] = 0$. Then each term has
# mean $\mathbb{E}[w_i]\mathbb{E}[x_i] = 0$ and
#
# $$\mathrm{Var}(w_i x_i) = \mathbb{E}[w_i^2 x_i^2] - 0 = \mathbb{E}[w_i^2]\,\mathbb{E}[x_i^2]
#   = \mathrm{Var}(w)\,\mathbb{E}[x^2],$$
#
# and variances of independent terms add:
# $\mathrm{Var}(z) = n\,\mathrm{Var}(w)\,\mathbb{E}[x^2]$.
#
# **Forward, ReLU.** The inputs are the previous layer's post-activations $v = \mathrm{relu}(z')$.
# If $z'$ is symmetric around 0, half of its mass is cut off and the other half kept:
# $\mathbb{E}[v^2] = \tfrac12\mathbb{E}[z'^2] = \tfrac12\mathrm{Var}(z')$. So
# $\mathrm{Var}(z) = \tfrac{n}{2}\,\mathrm{Var}(w)\,\mathrm{Var}(z')$: the variance is multiplied
# by $\tfrac n2\mathrm{Var}(w)$ in every layer. It stays constant exactly when
# $\mathrm{Var}(w) = 2/n_{in}$ (**He**); smaller and it vanishes geometrically with depth, larger
# and it explodes.
#
# **Backward (the lecture's "scale the error signal").** The gradient at a unit's
# pre-activation is $\delta_i = \mathrm{act}'(z_i) \sum_j w_{ji}\,\delta_j$, a sum over the
# $n_{out}$ units it feeds; the same argument gives
# $\mathrm{Var}(\delta) \propto n_{out}\,\mathrm{Var}(w)\,\mathrm{Var}(\delta_{next})$. Keeping
# the forward signal needs $n_{in}\mathrm{Var}(w) = 1$, keeping the backward one
# $n_{out}\mathrm{Var}(w) = 1$; **Xavier** (Glorot) takes the compromise
# $\mathrm{Var}(w) = \frac{2}{n_{in} + n_{out}}$, derived for activations with slope 1 at 0
# (tanh, identity). In a ReLU network, where half the units are off, it halves the variance
# in every layer; He's factor 2 makes up for exactly that.
#
# **Measured.** Ten layers of 32 ReLU units, a batch of 64 random inputs, and the loss
# $L = \sum r \cdot v_{10}$ for a fixed random $r$, so that the error signal enters the top
# layer with standard deviation 1. We record the standard deviation of every layer's $z$
# (forward) and of $\partial L/\partial z$ (backward, by chainrule's `backward()`).

# %%
rng = np.random.default_rng(0)
inputs = rng.normal(size=(64, 32)).tolist()
readout = rng.normal(size=(64, 32)).tolist()


def measure(scheme, activation="relu", depth=10, width=32):
    """Per layer: std of the pre-activations z and of the gradients dL/dz."""
    gen = np.random.default_rng(1)
    layers = [Layer(width, width, "identity", bias=False, seed=gen) for _ in range(depth)]
    for layer in layers:
        scheme(layer.weight, gen)
    batch, zs = [[Value(v) for v in row] for row in inputs], []
    for layer in layers:
        z = layer(batch)
        zs.append(z)
        batch = [[getattr(zi, activation)() for zi in row] for row in z]
    loss = add_all([vi * ri for row, rrow in zip(batch, readout) for vi, ri in zip(row, rrow)])
    loss.backward()
    fwd = [float(np.std([zi.data for row in z for zi in row])) for z in zs]
    bwd = [float(np.std([zi.grad for row in z for zi in row])) for z in zs]
    return fwd, bwd


schemes = {
    "zeros": lambda w, g: init.zeros_(w),
    "too small: N(0, 0.01²)": lambda w, g: init.normal_(w, 0.0, 0.01, generator=g),
    "too large: N(0, 1)": lambda w, g: init.normal_(w, 0.0, 1.0, generator=g),
    "Xavier: 2/(n_in+n_out)": lambda w, g: init.xavier_normal_(w, generator=g),
    "He: 2/n_in": lambda w, g: init.kaiming_normal_(w, nonlinearity="relu", generator=g),
}
stats = {name: measure(s) for name, s in schemes.items()}
layers = range(1, 11)
fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
for name, (fwd, bwd) in stats.items():
    if name == "zeros":
        continue  # exactly 0 below the top: not drawable on a log axis (printed below)
    axes[0].plot(layers, fwd, "o-", label=name)
    axes[1].plot(layers, bwd, "o-", label=name)
axes[0].set_title("forward: std of z in each layer")
axes[1].set_title("backward: std of ∂L/∂z in each layer")
for ax in axes:
    ax.set_yscale("log")
    ax.set_xlabel("layer (1 = next to the input)")
axes[0].set_ylabel("standard deviation (log scale)")
axes[0].legend(fontsize=7)
plt.tight_layout()
plt.show()
print("layer:                    " + " ".join(f"{k:>8d}" for k in layers))
for name, (fwd, bwd) in stats.items():
    print(f"{name:24s}z " + " ".join(f"{s:8.1e}" for s in fwd))
    print(f"{'':24s}δ " + " ".join(f"{s:8.1e}" for s in bwd))

# %% [markdown]
# As derived: He keeps both the forward and the backward spread near constant through ten
# layers; Xavier loses a factor $\sqrt2$ in standard deviation per ReLU layer (here the
# fan-in equals the fan-out, so Xavier's variance is $1/n$, half of He's); $N(0, 0.01^2)$
# multiplies the variance by $\tfrac{32}{2}\cdot 10^{-4}$ per layer and vanishes, $N(0, 1)$
# by 16 per layer and explodes, forward and backward alike. Zeros (printed, not drawable on a
# log axis): every $z$ is 0 and, as $\mathrm{relu}'(0) = 0$, every $\partial L/\partial z$
# too: the gradient is 0 everywhere.
#
# ## Sigmoid units make the gradient vanish; ReLU can help avoid it
#
# Lesson 1 derived $\sigma' = \sigma(1-\sigma) \le \tfrac14$. With Xavier's scale
# ($n\,\mathrm{Var}(w) = 1$ here), every sigmoid layer multiplies the backward signal's
# standard deviation by about $\sigma'(z)\sqrt{n\,\mathrm{Var}(w)} \le \tfrac14$: no weight
# scale fixes that without saturating the units forward. The same measurement, ten sigmoid
# layers against ten ReLU layers (He):

# %%
xavier, he = schemes["Xavier: 2/(n_in+n_out)"], schemes["He: 2/n_in"]
deep = {"sigmoid, Xavier": measure(xavier, "sigmoid"), "ReLU, He": measure(he, "relu")}
fig, ax = plt.subplots(figsize=(6, 3.8))
for name, (_, bwd) in deep.items():
    ax.plot(layers, bwd, "o-", label=name)
ax.set_yscale("log")
ax.set_xlabel("layer (10 = next to the loss)")
ax.set_ylabel("std of ∂L/∂z (log scale)")
ax.set_title("std of ∂L/∂z: the error signal on its way down")
ax.legend()
plt.show()
for name, (_, bwd) in deep.items():
    print(
        f"{name:16s} layer 10: {bwd[-1]:.1e}   layer 1: {bwd[0]:.1e}   ratio {bwd[0] / bwd[-1]:.1e}"
    )

# %% [markdown]
# The sigmoid stack's first layer receives a gradient about $10^{-6}$ times the top layer's:
# its weights barely move. ReLU passes a factor of exactly 1 where it is active, and with He's
# scale the signal arrives at the bottom as strong as it left the top.
#
# ## Learning rate: too low, too high, and a schedule
#
# Too small a learning rate crawls; too large a one jumps across the valley: the loss spikes
# and oscillates instead of falling steadily.

# %%
runs = {}
for lr in (0.001, 0.1, 3.0):
    m = MLP(2, [16, 16, 1], init="he", seed=0)
    runs[f"lr={lr}"] = fit(m, xt, yt, SGD(m.parameters(), lr=lr), epochs=40, progress=False)
curves(
    {k: (range(1, 41), v.train_loss) for k, v in runs.items()},
    "loss per epoch",
    "epoch",
    "loss",
    logy=True,
)
plt.show()

# %% [markdown]
# To monitor a run, watch the ratio of the weight change to the weight magnitude,
# $\lVert\Delta w\rVert / \lVert w\rVert$ per weight matrix and step, where $\Delta w$ is the
# step actually taken ($-\eta\nabla_w L$ for plain SGD). A common rule of thumb puts a
# healthy value around $10^{-3}$: much smaller and the weights barely move, much larger and
# each step rewrites a sizeable part of them. Here is the ratio of the first weight matrix
# for the three learning rates above, against that line (the median over each epoch's steps):

# %%
fig, ax = plt.subplots(figsize=(6.4, 3.6))
for name, h_lr in runs.items():
    r = np.array(h_lr.update_ratio["layers.0.weight"])
    per_epoch = np.median(r.reshape(40, -1), axis=1)
    ax.plot(range(1, 41), per_epoch, label=name)
    print(f"{name:8s} ratio: epoch 1 {per_epoch[0]:.1e}, epoch 40 {per_epoch[-1]:.1e}")
ax.axhline(1e-3, color="gray", ls=":", label="1e-3 (rule of thumb)")
ax.set_yscale("log")
ax.set_xlabel("epoch")
ax.set_ylabel("‖Δw‖ / ‖w‖, first layer (log scale)")
ax.set_title("update ratio at three learning rates")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# The ratio is roughly proportional to the learning rate (for the same gradients), so the
# three runs start a factor 100 apart (printed): $\eta = 0.001$ about 20 times below the
# line (its loss above barely moved), $\eta = 3$ between 35 and 140 times above it (its loss
# jumped around). $\eta = 0.1$ starts a few times above the line and ends just below it, as
# the gradients shrink. The rule of thumb is a rough guide for the steady middle of training, not
# a target for every step: a run far below it for long is wasting steps, a run far above it
# for long is unstable. Early in training, and with a large first rate of a schedule, being
# well above it is normal.
#
# A piecewise-constant schedule (`MultiStepLR`) starts large and divides the rate at fixed
# epochs: here by 5 at epochs 20 and 40, from $\eta = 0.2$ with momentum 0.9. Each drop shows
# as a step down of the update ratio.

# %%
m = MLP(2, [16, 16, 1], init="he", seed=0)
opt = SGD(m.parameters(), lr=0.2, momentum=0.9)
h = fit(
    m,
    xt,
    yt,
    opt,
    epochs=60,
    scheduler=MultiStepLR(opt, [20, 40], 0.2),
    val=(xv, yv),
    progress=False,
)
history(h)
plt.show()
update_ratios(h)
plt.show()
weights = [np.array(r) for k, r in h.update_ratio.items() if k.endswith("weight")]
for start, end in ((0, 20), (20, 40), (40, 60)):
    ratios = np.concatenate([r[start:end] for r in weights])  # one step per epoch here
    print(f"epochs {start + 1}-{end}: median update ratio {np.median(ratios):.1e}")

# %% [markdown]
# With momentum the step is larger than $\eta\nabla L$ (the velocity accumulates), so at
# $\eta = 0.2$ the ratio starts far above $10^{-3}$; each drop of the rate by 5 moves it down
# by about that factor (printed), the last phase ending near the line, where the model is
# fine-tuned rather than moved.

# %% [markdown]
# ## Exercises
#
# Write each answer in the cell tagged `exercise`, then run the check below it. Stuck?
# `show_solution("N.k")` (in a new cell) prints a worked solution of exercise N.k.
#
# ### Exercise 6.1 (easy)
# A deep ReLU network has layers of $n_{in} = 50$ inputs each, with weights drawn from
# $N(0, 0.3^2)$ instead of He's scale. By what factor is the **standard deviation** of $z$
# multiplied from one layer to the next (forward)? Does it grow or shrink?

# %% tags=["exercise"]
answer = ...

# %%
check("6.1", answer)

# %% [markdown]
# ### Exercise 6.2 (medium)
# Xavier is a compromise. For a tanh layer with $n_{in} = 100$ and $n_{out} = 300$,
# initialized with Xavier's variance, by what factor does it multiply the variance of the
# forward signal ($n_{in}\mathrm{Var}(w)$), and by what factor that of the backward signal
# ($n_{out}\mathrm{Var}(w)$)? Give the pair (forward, backward).

# %% tags=["exercise"]
answer = ...

# %%
check("6.2", answer)

# %% [markdown]
# ### Exercise 6.3 (stretch)
# A leaky ReLU, $\mathrm{lrelu}(z) = z$ for $z > 0$ and $a z$ otherwise, lets a fraction $a$
# through below 0. Write `he_std(n, a)`: the weight standard deviation that keeps
# $\mathrm{Var}(z)$ constant from layer to layer for leaky-ReLU layers of fan-in $n$ (redo the
# $\mathbb{E}[v^2]$ step of the derivation). For $a = 0$ it must give He's $\sqrt{2/n}$.

# %% tags=["exercise"]
answer = ...

# %%
check("6.3", answer)
