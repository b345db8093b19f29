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
# # 6. Regularization: L1, L2, weight decay, early stopping
#
# Write all the weights of a network into one huge vector $w$. **Ridge** adds
# $\lambda \lVert w\rVert_2^2 = \lambda\sum_i w_i^2$ to the loss (gradient $2\lambda w$: shrink
# in proportion), **LASSO** adds $\lambda \lVert w\rVert_1 = \lambda\sum_i |w_i|$ (gradient
# $\lambda\,\mathrm{sign}(w)$: the same push towards zero for every weight, however small).
# **Weight decay** multiplies the weights by a constant slightly below 1 in each iteration:
# $w \leftarrow (1-\eta\lambda) w - \eta\nabla L$.

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
import os
import tempfile

import matplotlib.pyplot as plt
import numpy as np
from chainrule.engine import Value
from chainrule.nn import (
    MLP,
    SGD,
    Adam,
    fit,
    hinge_loss,
    l1_penalty,
    l2_penalty,
    load,
    make_moons,
    save,
    train_val_split,
    weight_vector,
)
from chainrule.viz.plots import history, setup_notebook

from chainrule.course.checks import check

setup_notebook(dpi=110)

x, y = make_moons(100, noise=0.2, seed=2)
(xt, yt), (xv, yv) = train_val_split(x, y, 0.3, seed=0)
model = MLP(2, [8, 8, 1], init="he", seed=0)
w = weight_vector(model)  # every weight (no biases), layer by layer, row by row
print(f"{len(w)} weights = 2·8 + 8·8 + 8·1")
print("w =", np.round([v.data for v in w[:6]], 3), "...", np.round([v.data for v in w[-3:]], 3))
l1 = sum(abs(v.data) for v in w)
l2 = np.sqrt(sum(v.data**2 for v in w))
print(f"‖w‖₁ = {l1:.4f}   (l1_penalty: {l1_penalty(model).data:.4f})")
print(f"‖w‖₂ = {l2:.4f}   (l2_penalty = ‖w‖₂²: {l2_penalty(model).data:.4f} = {l2**2:.4f})")

# %% [markdown]
# ## Why L1 gives exact zeros: the geometry
#
# Minimising $L(w) + \lambda\lVert w\rVert$ is the same as minimising $L$ inside a ball
# $\lVert w\rVert \le r$. The L2 ball is round: the loss's contours touch it at a generic
# point, where no coordinate is 0. The L1 ball is a diamond with corners on the axes: the
# contours usually touch it first at a corner, where coordinates are **exactly** 0.
#
# Below: a 2-D quadratic loss, its minimum at $(1, 0.3)$, minimised with each penalty. The
# gradients of $L$ come from chainrule; LASSO is solved by the *proximal* step (a gradient
# step on $L$, then every weight shrunk towards 0 by $\eta\lambda$ and stopped at 0, the
# "soft threshold"), ridge by plain gradient descent on $L + \lambda\lVert w\rVert_2^2$.

# %%
A = np.array([[1.0, 0.4], [0.4, 0.5]])
c = np.array([1.0, 0.3])


def loss2d(w1, w2):
    d1, d2 = w1 - c[0], w2 - c[1]
    return A[0, 0] * d1 * d1 + 2 * A[0, 1] * d1 * d2 + A[1, 1] * d2 * d2


def minimise(penalty, lam=0.5, lr=0.1, steps=500):
    w = np.zeros(2)
    for _ in range(steps):
        w1, w2 = Value(w[0]), Value(w[1])
        total = loss2d(w1, w2) + (lam * (w1 * w1 + w2 * w2) if penalty == "L2" else 0.0)
        total.backward()
        w = w - lr * np.array([w1.grad, w2.grad])
        if penalty == "L1":  # proximal step for λ‖w‖₁: soft threshold
            w = np.sign(w) * np.maximum(np.abs(w) - lr * lam, 0.0)
    return w


w_l1, w_l2 = minimise("L1"), minimise("L2")
print("LASSO solution:", w_l1, " exact zeros:", int(np.sum(w_l1 == 0.0)))
print("ridge solution:", w_l2, " exact zeros:", int(np.sum(w_l2 == 0.0)))
g1, g2 = np.meshgrid(np.linspace(-0.6, 1.4, 200), np.linspace(-0.8, 1.0, 200))
fig, axes = plt.subplots(1, 2, figsize=(10, 4.4))
for ax, sol, name in ((axes[0], w_l1, "L1 (LASSO)"), (axes[1], w_l2, "L2 (ridge)")):
    ax.contour(g1, g2, loss2d(g1, g2), levels=sorted({loss2d(*sol), 0.01, 0.1, 0.3}), colors="gray")
    if name.startswith("L1"):
        r = np.abs(sol).sum()
        ax.fill([r, 0, -r, 0], [0, r, 0, -r], alpha=0.3, label="‖w‖₁ ≤ r")
    else:
        r = np.sqrt((sol**2).sum())
        ax.add_patch(plt.Circle((0, 0), r, alpha=0.3, label="‖w‖₂ ≤ r"))
    ax.plot(*c, "k+", ms=12, label="minimum of L")
    ax.plot(*sol, "o", color="tab:red", label=f"solution ({sol[0]:.3f}, {sol[1]:.3f})")
    ax.axhline(0, color="k", lw=0.5)
    ax.axvline(0, color="k", lw=0.5)
    ax.set_aspect("equal")
    ax.set_title(f"{name}: the contour touches the ball")
    ax.legend(fontsize=8, loc="lower right")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## In a network: zero-weight counts, L1 vs L2
#
# The same network trained four ways. Plain SGD on the L1 subgradient $\lambda\,\mathrm{sign}(w)$
# cannot stop at 0: a weight near 0 is pushed across it by $\eta\lambda$ and back, so it
# hovers *near* zero (we count $|w| < 10^{-3}$). The proximal step (soft threshold after each
# step) lands on 0 exactly. L2 shrinks weights but leaves them nonzero.

# %%
targets = [1 if t else -1 for t in yt]


def train(penalty, lam=0.01, lr=0.05, epochs=100):
    m = MLP(2, [16, 16, 1], init="he", seed=0)
    opt = SGD(m.parameters(), lr=lr)
    weights = weight_vector(m)
    for _ in range(epochs):
        objective = hinge_loss(m(xt), targets)
        if penalty == "L2":
            objective = objective + lam * l2_penalty(m)
        if penalty == "L1, subgradient":
            objective = objective + lam * l1_penalty(m)
        opt.zero_grad()
        objective.backward()
        opt.step()
        if penalty == "L1, proximal":
            for v in weights:
                v.data = float(np.sign(v.data) * max(abs(v.data) - lr * lam, 0.0))
    return m


nets = {p: train(p) for p in ("none", "L2", "L1, subgradient", "L1, proximal")}
fig, axes = plt.subplots(1, 4, figsize=(14, 3), sharey=True)
for ax, (name, m) in zip(axes, nets.items()):
    ws = np.array([v.data for v in weight_vector(m)])
    zeros, small = int(np.sum(ws == 0.0)), int(np.sum(np.abs(ws) < 1e-3))
    ax.hist(ws, bins=np.linspace(-1.5, 1.5, 61), color="tab:purple")
    ax.set_title(f"{name}: {zeros} exact zeros", fontsize=9)
    acc = np.mean((m(xv).data > 0) == (np.asarray(yv) == 1))  # one Value over the batch
    print(
        f"{name:16s} exactly 0: {zeros:3d}/{len(ws)}   |w| < 1e-3: {small:3d}   "
        f"‖w‖₁ {np.abs(ws).sum():6.2f}   ‖w‖₂ {np.sqrt((ws**2).sum()):5.2f}   "
        f"val acc {acc:.0%}"
    )
axes[0].set_ylabel("weights")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Weight decay, two ways
#
# PyTorch's `weight_decay` adds $\lambda w$ to the gradient ("coupled"); the lecture's form
# multiplies the weights by $1 - \eta\lambda$ ("decoupled"). Without momentum they are the
# same update; with momentum they differ.


# %%
def decayed(**kw):
    m = MLP(2, [8, 1], seed=0)
    fit(m, xt, yt, SGD(m.parameters(), lr=0.1, weight_decay=0.01, **kw), epochs=5, progress=False)
    return np.array([p.data for p in m.parameters()])


gap = np.abs(decayed() - decayed(decoupled_weight_decay=True)).max()
print(f"no momentum:   largest difference {gap:.1e}")
gap = np.abs(decayed(momentum=0.9) - decayed(momentum=0.9, decoupled_weight_decay=True)).max()
print(f"momentum 0.9:  largest difference {gap:.1e}")

# %% [markdown]
# ## Early stopping with checkpoints
#
# A setting that overfits: 20 noisy training samples, a wide network (2 hidden layers of 32)
# and long training. The training loss keeps falling; the validation loss falls, reaches its
# minimum, then **rises** as the network memorises the noise. Early stopping keeps the model
# of the best validation epoch (a checkpoint), stops after `patience` epochs without
# improvement, and restores the best weights.

# %%
xs, ys = make_moons(40, noise=0.3, seed=2)
(xs_t, ys_t), (xs_v, ys_v) = train_val_split(xs, ys, 0.5, seed=0)
m = MLP(2, [32, 32, 1], init="he", seed=0)
h = fit(
    m,
    xs_t,
    ys_t,
    Adam(m.parameters(), lr=0.003),
    epochs=400,
    loss="bce",
    val=(xs_v, ys_v),
    patience=60,
    progress=False,
)
best = h.best_epoch  # epochs count from 1, as on the plot
print(f"stopped early: {h.stopped_early}, after {h.epochs} epochs")
print(
    f"best epoch {best}: validation loss {min(h.val_loss):.3f} (last epoch: {h.val_loss[-1]:.3f})"
)
history(h)
plt.show()
path = os.path.join(tempfile.mkdtemp(), "best.json")
save(m, path, {"epoch": best})

# %% [markdown]
# (Accuracy on 20 validation points moves in steps of 5% and can still rise while the loss
# rises: the loss also measures confidence, and the network grows confidently wrong on the
# points it misclassifies. Stopping on the validation loss stops before that.)
#
# The checkpoint holds the restored best model; loading it into a fresh network gives the
# same weights, and its epoch is the best epoch printed above.

# %%
restored = MLP(2, [32, 32, 1], seed=99)
extra = load(restored, path)
print(
    "checkpoint epoch:", extra["epoch"], " same weights:", restored.state_dict() == m.state_dict()
)
os.remove(path)

# %% [markdown]
# ## Exercises
#
# ### Exercise 6.1 (easy)
# For the weight vector $w = (3, -4, 0, 12)$ give the pair $(\lVert w\rVert_1, \lVert w\rVert_2)$.

# %% tags=["answer"]
answer = ...

# %%
check("6.1", answer)

# %% tags=["solution"] jupyter={"source_hidden": true}
wv = np.array([3, -4, 0, 12])
answer = (np.abs(wv).sum(), np.sqrt((wv**2).sum()))
check("6.1", answer)

# %% [markdown]
# ### Exercise 6.2 (medium)
# Decoupled weight decay with $\eta = 0.1$, $\lambda = 0.01$. If the data gradient of a weight
# were 0 for 100 steps, by what factor would the weight have shrunk?

# %% tags=["answer"]
answer = ...

# %%
check("6.2", answer)

# %% tags=["solution"] jupyter={"source_hidden": true}
answer = (1 - 0.1 * 0.01) ** 100
check("6.2", answer)

# %% [markdown]
# ### Exercise 6.3 (stretch)
# On the 2-D loss above (`loss2d`, minimum at $(1, 0.3)$), LASSO's solution was
# $(0.87, 0)$ for $\lambda = 0.5$. From which $\lambda$ on is the solution $(0, 0)$, both
# weights exactly 0? Give the smallest such $\lambda$ (to 2 decimals). You can find it by
# trying values with `minimise`, or exactly: when does the soft threshold keep a weight at
# 0 after the gradient step from $w = 0$?

# %% tags=["answer"]
answer = ...

# %%
check("6.3", answer)


# %% tags=["solution"] jupyter={"source_hidden": true}
# (0, 0) is a fixed point when the gradient step from 0, -η∇L(0), lands inside the dead zone
# [-ηλ, ηλ] of the soft threshold in both coordinates: λ ≥ |∂L/∂w_i(0)| for every i.
# L = dᵀAd with d = w - c, so ∇L(0) = -2Ac.
answer = float(np.max(np.abs(2 * A @ c)))
check("6.3", answer)
