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
# # 9. Regularization: L1, L2, weight decay, early stopping
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
    AdamW,
    evaluate,
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

from chainrule.course import show_solution  # noqa: F401  (stuck? see the exercises)
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
fig, axes = plt.subplots(1, 2, figsize=(9, 4))
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
    ax.set_title(f"{name}: the contour touches the ball", fontsize=10)
    ax.set_xlabel("weight w₁")
    ax.set_ylabel("weight w₂")
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
# log10|w| for the nonzero weights; the exact zeros get a bar of their own (log 0 is -∞)
edges = np.linspace(-7, 1, 33)
fig, axes = plt.subplots(2, 2, figsize=(8, 5), sharex=True, sharey=True)
for ax, (name, m) in zip(axes.flat, nets.items()):
    ws = np.array([v.data for v in weight_vector(m)])
    zeros, small = int(np.sum(ws == 0.0)), int(np.sum(np.abs(ws) < 1e-3))
    ax.hist(np.log10(np.abs(ws[ws != 0.0])), bins=edges, color="tab:purple", label="|w| > 0")
    ax.bar(-8, zeros, width=0.9, color="black", label="exactly 0")
    ax.set_title(f"{name}: {zeros} exact zeros", fontsize=9)
    acc = np.mean((m(xv).data > 0) == (np.asarray(yv) == 1))  # one Value over the batch
    print(
        f"{name:16s} exactly 0: {zeros:3d}/{len(ws)}   |w| < 1e-3: {small:3d}   "
        f"‖w‖₁ {np.abs(ws).sum():6.2f}   ‖w‖₂ {np.sqrt((ws**2).sum()):5.2f}   "
        f"val acc {acc:.0%}"
    )
for ax in axes[1]:
    ax.set_xticks([-8, -6, -4, -2, 0], ["0", "1e-6", "1e-4", "1e-2", "1"])
    ax.set_xlabel("|w| (log scale; the bar at the left: exactly 0)")
for ax in axes[:, 0]:
    ax.set_ylabel("number of weights")
axes[0, 0].legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# Without a penalty and with L2 the magnitudes sit between $10^{-3}$ and 1, none at 0. The L1
# subgradient piles weights up between $10^{-5}$ and $10^{-2}$: pushed back and forth across 0
# by $\eta\lambda$, they hover near it but never land. Only the proximal step puts weights at
# exactly 0 (the black bar).
#
# ## A network that memorises, and early stopping
#
# Early stopping needs a validation set to choose the epoch, and a **test** set, never used
# for any choice, to tell how good the chosen model is. A setting that overfits: 30 noisy
# training samples, a wide network (two hidden layers of 32), Adam, and long training;
# 100 validation and 200 test samples from the same distribution.

# %%
xs, ys = make_moons(330, noise=0.3, seed=2)
split = {"train": (xs[:30], ys[:30]), "val": (xs[30:130], ys[30:130]), "test": (xs[130:], ys[130:])}


def train_memoriser(**kw):
    m = MLP(2, [32, 32, 1], init="he", seed=0)
    h = fit(m, *split["train"], Adam(m.parameters(), lr=0.01), loss="bce", val=split["val"],
            progress=False, track_updates=False, **kw)  # fmt: skip
    return m, h


m, h = train_memoriser(epochs=300, patience=100)  # stops 100 epochs after the best one
best = h.best_epoch  # epochs count from 1, as on the plot
last, _ = train_memoriser(epochs=h.epochs)  # the same run (same seeds), kept to the end
print(f"stopped early: {h.stopped_early}, after {h.epochs} epochs; best epoch {best}")
for what, series, fmt in (("train accuracy", h.train_acc, ".0%"), ("val loss", h.val_loss, ".3f")):
    print(f"{what}: {series[best - 1]:{fmt}} at the best epoch, {series[-1]:{fmt}} at the end")
for name, model_ in (("restored (best epoch)", m), (f"last (epoch {h.epochs})", last)):
    loss_, acc_ = evaluate(model_, *split["test"], loss="bce")
    print(f"test set, {name:21s}: loss {loss_:.3f}, accuracy {acc_:.1%}")
history(h)
plt.show()
path = os.path.join(tempfile.mkdtemp(), "best.json")
_ = save(m, path, {"epoch": best})

# %% [markdown]
# The network memorises: training accuracy reaches 100% and the training loss keeps
# falling, while the validation loss, after its minimum at the best epoch, **rises** to more
# than twice that value: the network grows confidently wrong on the points it misclassifies.
# The test set, untouched until now, confirms the choice: the restored checkpoint has a much
# lower test loss than the network at the last epoch, and a test accuracy at least as high.
# (Accuracy moves little while the loss rises: the loss also measures confidence.)
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
# ## How strong? A λ sweep, train vs test
#
# The same memorising setting, trained for 100 epochs with an L2 penalty
# $\lambda\lVert w\rVert_2^2$ for a range of $\lambda$ (`fit(..., l2=λ)`), each model
# evaluated on the training set and on the test set:

# %%
lams = [0.0, 1e-3, 1e-2, 1e-1]
sweep = []
for lam in lams:
    m_lam, _ = train_memoriser(epochs=100, l2=lam)
    sweep.append(
        [
            *evaluate(m_lam, *split["train"], loss="bce"),
            *evaluate(m_lam, *split["test"], loss="bce"),
        ]
    )
sweep = np.array(sweep)
xpos = np.arange(len(lams))
fig, axes = plt.subplots(1, 2, figsize=(8.6, 3.3))
axes[0].plot(xpos, sweep[:, 0], "o-", label="train")
axes[0].plot(xpos, sweep[:, 2], "o-", label="test")
axes[0].set_ylabel("cross-entropy loss (nats)")
axes[1].plot(xpos, 100 * sweep[:, 1], "o-", label="train")
axes[1].plot(xpos, 100 * sweep[:, 3], "o-", label="test")
axes[1].set_ylabel("accuracy (%)")
for ax in axes:
    ax.set_xticks(xpos, ["0", "1e-3", "1e-2", "1e-1"])
    ax.set_xlabel("L2 strength λ")
axes[0].legend()
plt.tight_layout()
plt.show()
for lam, (trl, tra, tel, tea) in zip(lams, sweep):
    print(f"λ = {lam:6}: train loss {trl:.3f} acc {tra:.0%}   test loss {tel:.3f} acc {tea:.1%}")

# %% [markdown]
# At $\lambda = 0$ and $10^{-3}$ the network still memorises (train accuracy 100%, a test
# loss far above the training loss). As $\lambda$ grows, the training loss rises and the
# gap between train and test closes. Here the test loss is lowest at $\lambda = 10^{-2}$ or
# $10^{-1}$ (printed), where the training accuracy is below 100%: the network no longer
# fits every noisy point. $\lambda$ is chosen on validation data, like the
# stopping epoch, and the test set judges the choice.
#
# ## L2 is not weight decay under Adam
#
# With plain SGD, adding $\lambda\lVert w\rVert^2/2$ to the loss and multiplying the weights
# by $(1 - \eta\lambda)$ each step are the same update (the gradient of the penalty is
# $\lambda w$). Adam divides each gradient by a running estimate of its own size
# $\sqrt{\hat v}$. An L2 term added to the gradient ("coupled", `Adam(weight_decay=λ)`) is
# divided too: a weight with large data gradients is hardly decayed, one with tiny gradients
# is decayed a lot, and a weight with no data gradient at all moves at Adam's usual pace
# (steps of about $\eta$ at first) **whatever $\lambda$ is**. Decoupled weight decay
# (`AdamW`) applies $(1 - \eta\lambda)$ to the weights directly, outside Adam's
# normalisation. The cleanest case: one weight, no data
# at all, only the penalty.

# %%
fig, ax = plt.subplots(figsize=(6.4, 3.6))
for lam, style in ((1e-3, "-"), (1e-1, "--")):
    for name, make in (("Adam, L2", Adam), ("AdamW", AdamW)):
        w_ = Value(1.0)
        opt = make([w_], lr=0.01, weight_decay=lam)
        path_ = []
        for _ in range(200):
            opt.zero_grad()
            w_.grad = 0.0  # no data: the optimizer only sees the weight decay
            opt.step()
            path_.append(w_.data)
        ax.plot(path_, style, color="C0" if name == "AdamW" else "C3", label=f"{name}, λ = {lam}")
        print(f"{name:8s} λ = {lam:5}: w after 200 steps {path_[-1]:.4f}")
ax.set_xlabel("step")
ax.set_ylabel("the weight w (started at 1)")
ax.set_title("decay of a weight without data gradient, η = 0.01")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# Under Adam with L2 the two very different $\lambda$ give the **same** path (the two red
# lines lie on top of each other): the normalisation divides $\lambda$ out, and the weight
# falls at Adam's pace, about $\eta = 0.01$ per step at first, to near 0 in 200 steps. AdamW
# shrinks by the factor $(1 - \eta\lambda)$ per step, so $\lambda$ means what it says:
# $(1 - 10^{-5})^{200} \approx 0.998$ and $(1 - 10^{-3})^{200} \approx 0.82$.
#
# In the memorising network, with the same $\lambda = 0.1$ for both, 100 epochs:

# %%
for lam in (1e-1,):
    for name, make in (("Adam, L2", Adam), ("AdamW", AdamW)):
        net = MLP(2, [32, 32, 1], init="he", seed=0)
        fit(net, *split["train"], make(net.parameters(), lr=0.01, weight_decay=lam), epochs=100,
            loss="bce", progress=False, track_updates=False)  # fmt: skip
        norm = np.sqrt(sum(v.data**2 for v in weight_vector(net)))
        tr, te = (
            evaluate(net, *split["train"], loss="bce"),
            evaluate(net, *split["test"], loss="bce"),
        )
        print(f"λ = {lam:5} {name:8s}: ‖w‖₂ {norm:5.2f}, train loss {tr[0]:.3f} acc {tr[1]:.0%},"
              f" test loss {te[0]:.3f} acc {te[1]:.1%}")  # fmt: skip

# %% [markdown]
# At equal $\lambda$ the two are different regularizers (printed): they end with very
# different weight norms and test losses, so a $\lambda$ tuned for one does not carry over
# to the other. Here AdamW barely regularizes: 100 full-batch steps shrink the weights by
# $(1 - \eta\lambda)^{100} = 0.999^{100} \approx 0.90$ in all, which the data gradients easily
# undo, while Adam's L2 term, normalised to steps of size about $\eta$, pulls hard on every
# weight whose data gradient has become small, i.e. on most of them once the training points
# are fitted. AdamW's decay acts on every weight in proportion to its size, as the lecture's
# "multiply the weights by a constant slightly below 1" says; Adam's L2 acts weakly on
# exactly the weights whose gradients are large.

# %% [markdown]
# ## Exercises
#
# Write each answer in the cell tagged `exercise`, then run the check below it. Stuck?
# `show_solution("N.k")` (in a new cell) prints a worked solution of exercise N.k.
#
# ### Exercise 9.1 (easy)
# For the weight vector $w = (3, -4, 0, 12)$ give the pair $(\lVert w\rVert_1, \lVert w\rVert_2)$.

# %% tags=["exercise"]
answer = ...

# %%
check("9.1", answer)

# %% [markdown]
# ### Exercise 9.2 (medium)
# Decoupled weight decay with $\eta = 0.1$, $\lambda = 0.01$. If the data gradient of a weight
# were 0 for 100 steps, by what factor would the weight have shrunk?

# %% tags=["exercise"]
answer = ...

# %%
check("9.2", answer)

# %% [markdown]
# ### Exercise 9.3 (stretch)
# On the 2-D loss above (`loss2d`, minimum at $(1, 0.3)$), LASSO's solution was
# $(0.87, 0)$ for $\lambda = 0.5$. From which $\lambda$ on is the solution $(0, 0)$, both
# weights exactly 0? Give the smallest such $\lambda$ (to 2 decimals). You can find it by
# trying values with `minimise`, or exactly: when does the soft threshold keep a weight at
# 0 after the gradient step from $w = 0$?

# %% tags=["exercise"]
answer = ...

# %%
check("9.3", answer)
