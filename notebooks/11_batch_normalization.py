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
# # 11. Batch normalization
#
# Normalize the inputs of a layer with the statistics of the mini-batch, so that, for every
# unit, the outputs over the mini-batch have mean 0 and variance 1 (then scaled and shifted
# by learnable parameters). During training, for one unit with activation values
# $x_1, \dots, x_m$ across a mini-batch of $m$ samples and learnable parameters
# $\gamma, \beta$:
#
# $$\mu = \tfrac1m\sum_i x_i,\qquad \sigma^2 = \tfrac1m \sum_i (x_i-\mu)^2,\qquad
# \hat x_i = \frac{x_i - \mu}{\sqrt{\sigma^2+\varepsilon}},\qquad y_i = \gamma \hat x_i + \beta,$$
#
# with $\varepsilon$ a very small value against division by zero; the outputs are
# $y_1, \dots, y_m$. The mean and variance are part of the graph, so the gradient flows
# through them. During inference there is no batch: $\mu$ and $\sigma^2$ are replaced by
# running averages collected during training,
# $r \leftarrow (1-\text{momentum})\, r + \text{momentum}\cdot s$ for each batch statistic $s$,
# starting from mean 0 and variance 1 (PyTorch's momentum 0.1; the running variance uses the
# unbiased $\frac{1}{m-1}$ estimate, as in PyTorch).

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
from chainrule.nn import MLP, SGD, Activation, BatchNorm1d, fit, make_moons, train_val_split
from chainrule.viz.plots import setup_notebook

from chainrule.course import show_solution  # noqa: F401  (stuck? see the exercises)
from chainrule.course.checks import check

setup_notebook(dpi=110)

bn = BatchNorm1d(2)
batch = [[1.0, 10.0], [2.0, 20.0], [3.0, 30.0], [6.0, 0.0]]
train_out = [[round(v.data, 3) for v in row] for row in bn(batch)]
print("training output (this batch's statistics):", train_out)
print("running mean", np.round(bn.running_mean, 3), " running var", np.round(bn.running_var, 3))
bn.eval()
print(
    "inference output (running averages):      ", [[round(v.data, 3) for v in r] for r in bn(batch)]
)

# %% [markdown]
# The two outputs differ, and they should: in training each column is normalised with its own
# batch mean (3 and 15) and variance; the running averages have moved only 10% of the way
# from their start (mean 0, variance 1) after this one batch, so at inference the values are
# barely normalised. After many training batches the running averages settle on the batch
# statistics:

# %%
bn.train()
for _ in range(100):
    bn(batch)
bn.eval()
print("running mean", np.round(bn.running_mean, 3), " running var", np.round(bn.running_var, 3))
print("inference output after 100 batches:", [[round(v.data, 3) for v in r] for r in bn(batch)])
ratio = np.array(train_out[0]) / [v.data for v in bn(batch)[0]]
print("ratio to the training output:", np.round(ratio, 3), f"= √(m/(m-1)) = {np.sqrt(4 / 3):.3f}")

# %% [markdown]
# Now they agree up to the factor $\sqrt{m/(m-1)}$, because the running variance is the
# unbiased estimate while training divides by $m$ (negligible for realistic batch sizes).
#
# ## The backward pass
#
# In training, $y_i = \gamma \hat x_i + \beta$ with $\hat x_i = (x_i - \mu)/\sqrt{\sigma^2 +
# \varepsilon}$, and $\mu$, $\sigma^2$ are computed from the whole batch. So each $x_i$
# reaches the loss along three paths: directly through $\hat x_i$, through $\mu$ and through
# $\sigma^2$, both of which every $\hat x_j$ uses. The derivatives of $\gamma$ and $\beta$ are
# the familiar ones, $\partial L/\partial\beta = \sum_i g_i$ and
# $\partial L/\partial\gamma = \sum_i g_i \hat x_i$ with $g_i = \partial L/\partial y_i$.
# For the inputs, the paths through $\mu$ and $\sigma^2$ subtract from the direct one the
# parts of $g$ along the two directions that normalisation removes: a shift of the whole
# batch (all ones) and a scaling of it (along $\hat x$). Hence two identities, whatever the
# loss:
#
# $$\sum_i \frac{\partial L}{\partial x_i} = 0, \qquad
#   \sum_i \hat x_i\,\frac{\partial L}{\partial x_i} = 0 .$$
#
# (the second exactly for $\varepsilon = 0$; with $\varepsilon > 0$ it is off by a term of
# order $\varepsilon/\sigma^2$). Exercise 4.3 in lesson 4 derives the closed form. chainrule
# builds the backward pass from the scalar operations; here it is checked by `gradcheck`,
# and the identities are measured:

# %%
from chainrule.engine import Value, gradcheck

gs = np.random.default_rng(0).normal(size=5)  # an arbitrary upstream gradient g_i


def bn_loss(*xs):
    """L = Σ g_i·y_i for one unit's batch of 5 values (γ = 1.5, β = 0.2)."""
    col = BatchNorm1d(1)
    col.weight[0].data, col.bias[0].data = 1.5, 0.2
    ys = col([[v] for v in xs])
    return sum((y[0] * float(g) for y, g in zip(ys, gs)), Value(0.0))


inputs = [Value(v) for v in (0.3, -1.2, 2.5, 0.9, -0.4)]
bn_loss(*inputs).backward()
dx = np.array([v.grad for v in inputs])
xv_ = np.array([v.data for v in inputs])
xhat = (xv_ - xv_.mean()) / np.sqrt(xv_.var() + 1e-5)
print("gradcheck:", gradcheck(bn_loss, [v.data for v in inputs]).ok)
print(f"Σ dL/dx_i = {dx.sum():.1e},  Σ x̂_i·dL/dx_i = {(xhat * dx).sum():.1e}")
#
# ## Larger step sizes: tolerated, but no better here
#
# The claim usually made: with batch norm, larger learning rates can be used. The same ReLU
# network (2 hidden layers of 16, He init, plain SGD, mini-batches of 20) with and without
# batch norm, at three learning rates, each from three seeds (the band: lowest to highest
# seed; the line: the median).

# %%
x, y = make_moons(100, noise=0.15, seed=5)
(xt, yt), (xv, yv) = train_val_split(x, y, 0.2, seed=0)
results = {}
for use_bn in (False, True):
    for lr in (0.1, 1.0, 3.0):
        runs = []
        for seed in (0, 1, 2):
            m = MLP(2, [16, 16, 1], init="he", batchnorm=use_bn, seed=seed)
            h = fit(m, xt, yt, SGD(m.parameters(), lr=lr), epochs=20, batch_size=20,
                    val=(xv, yv), progress=False, track_updates=False, seed=seed)  # fmt: skip
            runs.append(h)
        results[use_bn, lr] = runs
        losses = [r.train_loss[-1] for r in runs]
        accs = [r.val_acc[-1] for r in runs]
        print(f"{'BN' if use_bn else 'no BN':5s} lr={lr:3}: final train loss {min(losses):.2f}-"
              f"{max(losses):.2f}, val accuracy {min(accs):.0%}-{max(accs):.0%}")  # fmt: skip
fig, axes = plt.subplots(1, 2, figsize=(8.8, 3.4), sharey=True)
for ax, use_bn in zip(axes, (False, True)):
    for lr, colour in zip((0.1, 1.0, 3.0), ("C0", "C1", "C3")):
        curves_ = np.array([r.train_loss for r in results[use_bn, lr]])
        ax.fill_between(range(1, 21), curves_.min(0), curves_.max(0), color=colour, alpha=0.2)
        ax.plot(range(1, 21), np.median(curves_, 0), color=colour, label=f"lr = {lr}")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_title("with batch norm" if use_bn else "without batch norm", fontsize=10)
axes[0].set_ylabel("training hinge loss (log scale)")
axes[1].legend(fontsize=8, loc="upper right")
plt.tight_layout()
plt.show()

# %% [markdown]
# What the data show: without batch norm, lr = 3 throws the weights out of range and the
# loss stays near 1 (validation accuracy 45-65%); with it, lr = 3 still trains. So batch
# norm **tolerates** the large step. But it does not **profit** from it: with batch norm,
# lr = 3 ends clearly worse than lr = 0.1 or 1 (higher training loss, validation accuracy
# 65-80% against 85-100%, printed). Batch norm helps here at lr = 0.1 and 1, yet its best
# learning rate is no larger than without it: on this small two-layer problem the data show
# no benefit of larger step sizes. The speed-ups reported for batch norm come from deep
# networks, where unnormalised layers would force a small rate on all of them.
#
# %% [markdown]
# ## Benefit: initialization less relevant
#
# Why: batch norm divides out the scale of its input. Multiply a layer's weights and bias by
# any $c > 0$: its pre-activations become $c z$, and $(cz - c\mu)/(c\sigma) = (z - \mu)/\sigma$.
# So a network with batch norm computes the same function whatever the scale of its
# initialization (in training mode, up to $\varepsilon$), while without it a ReLU network's
# output scales with $c$ once per layer (at ×0.01 the variance of $z$ is about $10^{-4}$,
# no longer large against $\varepsilon = 10^{-5}$, which then damps it: hence the difference):

# %%
probe = x[:20]
for use_bn in (False, True):
    outs = []
    for c in (0.01, 1.0, 100.0):
        m = MLP(2, [16, 16, 1], init="he", batchnorm=use_bn, seed=0)
        for layer in m.linear_layers[:-1]:
            for p in [w for row in layer.weight for w in row] + list(layer.bias):
                p.data *= c
        with no_grad():
            outs.append(m(probe).data)  # one Value over the probe batch
    print(
        f"{'with' if use_bn else 'without'} BN: output for weights ×0.01, ×1, ×100:",
        " ".join(f"{o[0]: .3e}" for o in outs),
    )

# %% [markdown]
# Training from three initializations, **averaged over three seeds** (one seed can mislead:
# with 20 validation points one misclassified point is 5%):

# %%
table = {}
for init in ("normal", "xavier", "he"):
    for use_bn in (False, True):
        losses, accs = [], []
        for seed in (0, 1, 2):
            m = MLP(2, [16, 16, 1], init=init, batchnorm=use_bn, seed=seed)
            h = fit(
                m,
                xt,
                yt,
                SGD(m.parameters(), lr=0.1),
                epochs=15,
                batch_size=20,
                val=(xv, yv),
                progress=False,
                track_updates=False,
                seed=seed,
            )
            losses.append(h.train_loss[-1])
            accs.append(h.val_acc[-1])
        table[init, use_bn] = (np.mean(losses), np.std(losses), np.mean(accs))
for init in ("normal", "xavier", "he"):
    cells = []
    for use_bn in (False, True):
        loss, spread, acc = table[init, use_bn]
        cells.append(f"loss {loss:.3f} ± {spread:.3f}, val acc {acc:.0%}")
    print(f"{init:7s} without BN: {cells[0]}   with BN: {cells[1]}")
for use_bn in (False, True):
    means = [table[init, use_bn][0] for init in ("normal", "xavier", "he")]
    label = "with" if use_bn else "without"
    print(f"{label} BN, mean losses range {min(means):.3f} to {max(means):.3f}")

# %% [markdown]
# With batch norm the three initializations end at about the same loss; without it the range
# is several times wider (last two lines): the spread between initializations shrinks.
#
# Without batch norm, `normal` ($N(0, 1)$) ends *best* here, even averaged over seeds. That
# does not contradict lesson 6, which measured the spread of activations through **ten**
# layers: $N(0, 1)$ multiplies the variance by $n/2$ per ReLU layer of fan-in $n$, 8 for a
# fan-in of 16, fatal after ten such layers ($8^{10}$). Here only two layers have fan-in 16
# (the second hidden layer and the output), a factor 64; the first layer has fan-in 2 and
# only about doubles the variance of its input. Larger weights make larger outputs and larger
# gradients, which acts like a larger learning rate; He's smaller scale at lr = 0.1 is simply
# not done after 15 epochs (the learning-rate experiment above did better with lr = 1). Its
# price shows in the seeds: `normal` varies several times more from seed to seed than He.
#
# The activations of a deeper tanh network initialized with $N(0, 1)$, measured in training
# mode (each layer normalised with the batch's own statistics): without batch norm a sixth of
# the first layer's values are at ±1 (its fan-in is only 2) and more than half of the second
# and third layers'; with batch norm they stay in tanh's responsive range.

# %%
grid = [[a / 3, b / 3] for a in range(-6, 7) for b in range(-6, 7)]
fig, axes = plt.subplots(2, 3, figsize=(9, 5), sharex=True, sharey=True)
for row, use_bn in enumerate((False, True)):
    m = MLP(2, [32, 32, 32, 1], "tanh", init="normal", batchnorm=use_bn, seed=0)
    hidden, k = grid, 0
    with no_grad():  # training mode: batch statistics
        for module in m.layers[:-1]:
            hidden = module(hidden)
            if isinstance(module, Activation) or getattr(module, "activation", "") == "tanh":
                vals = [v.data for r in hidden for v in r]
                saturated = np.mean(np.abs(vals) > 0.99)
                axes[row][k].hist(vals, bins=40, color="tab:blue")
                axes[row][k].set_title(
                    f"{'BN' if use_bn else 'no BN'}, layer {k + 1}: {saturated:.0%} at ±1",
                    fontsize=9,
                )
                k += 1
for ax in axes[1]:
    ax.set_xlabel("tanh output")
for ax in axes[:, 0]:
    ax.set_ylabel("number of values")
fig.suptitle("tanh activations, N(0,1) init, training mode (batch statistics)")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Benefit: avoiding overfitting
#
# In training, each sample is normalised with statistics of the random mini-batch it lands in,
# so its activations jitter from epoch to epoch: noise, like dropout's, which makes memorising
# single points harder. It matters with small batches. Lesson 10's noisy data (36 training
# samples, 24 for validation), with a smaller network than lesson 10's (hidden layers of 16
# and 16, not 32 and 32), mini-batches of 6 (not 12) and 80 epochs (not 120), so that the
# batches are small and batch norm's noise is strong:

# %%
x7, y7 = make_moons(60, noise=0.35, seed=4)
(x7t, y7t), (x7v, y7v) = train_val_split(x7, y7, 0.4, seed=0)
for use_bn in (False, True):
    m = MLP(2, [16, 16, 1], init="he", batchnorm=use_bn, seed=0)
    h = fit(
        m,
        x7t,
        y7t,
        SGD(m.parameters(), lr=0.05, momentum=0.9),
        epochs=80,
        batch_size=6,
        val=(x7v, y7v),
        progress=False,
        track_updates=False,
    )
    print(
        f"{'with' if use_bn else 'without'} BN: train loss {h.train_loss[-1]:.3f}  "
        f"val loss {h.val_loss[-1]:.3f}  val acc {h.val_acc[-1]:.0%}"
    )

# %% [markdown]
# Honestly: the effect is there in the losses (a much higher training loss, a lower
# validation loss), but it is small, and the validation accuracy even drops, from 88% to 83%:
# 21 then 20 of the 24 validation points, a single point. Batch norm's noise is weaker than
# dropout's, and it shrinks as batches grow; its main benefit here is the one above:
# initialization matters much less.

# %% [markdown]
# ## Exercises
#
# Write each answer in the cell tagged `exercise`, then run the check below it. Stuck?
# `show_solution("N.k")` (in a new cell) prints a worked solution of exercise N.k.
#
# ### Exercise 11.1 (easy)
# For one unit with the batch $2, 4, 4, 10$ (with $\gamma = 1$, $\beta = 0$, $\varepsilon$
# negligible): what is the normalised value $\hat x$ of the sample 10? Compute it by hand
# first, then check it with `BatchNorm1d(1)`.

# %% tags=["exercise"]
answer = ...

# %%
check("11.1", answer)

# %% [markdown]
# ### Exercise 11.2 (medium)
# A fresh `BatchNorm1d(1)` (momentum 0.1) sees two training batches, the first with mean 4,
# then one with mean 2. What is its running mean afterwards?

# %% tags=["exercise"]
answer = ...

# %%
check("11.2", answer)

# %% [markdown]
# ### Exercise 11.3 (stretch)
# Write `batchnorm(xs, gamma, beta, eps)`: batch norm in training mode for one unit, `xs` a
# list of floats (the unit's values across the mini-batch). Compare with `BatchNorm1d`.

# %% tags=["exercise"]
answer = ...

# %%
check("11.3", answer)
