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
# # 12. Real data: handwritten digits
#
# Everything so far ran on two-dimensional toy data. The digits are real: 1,797 scans of
# handwritten digits, 8×8 pixels of 17 grey levels each (E. Alpaydin and C. Kaynak, UCI,
# shipped with chainrule). We train a first classifier on them and look at it the way one
# looks at any real model: its learning curves with early stopping, its update ratios, the
# confusion matrix of its test predictions, and the images it gets wrong.

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
from chainrule.nn import MLP, Adam, fit
from chainrule.nn.data import load_digits
from chainrule.viz.plots import setup_notebook, update_ratios

from chainrule.course import show_solution  # noqa: F401  (stuck? see the exercises)
from chainrule.course.checks import check

setup_notebook(dpi=110)

X, y = load_digits()
X = X / 16.0  # pixels 0..16 → 0..1
order = np.random.default_rng(0).permutation(len(X))
train, val, test = order[:300], order[300:600], order[600:]
print(
    f"{len(X)} images of {X.shape[1]} pixels;",
    f"train {len(train)}, validation {len(val)}, test {len(test)}",
)
print("images per digit:", np.bincount(y))

fig, axes = plt.subplots(2, 10, figsize=(7.5, 1.9))
for ax, k in zip(axes.flat, order[:20]):
    ax.imshow(X[k].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
    ax.set_title(str(y[k]), fontsize=9)
    ax.axis("off")
fig.suptitle("the first 20 training images (8 × 8 pixels) and their labels", fontsize=10)
plt.tight_layout()
plt.show()

# %% [markdown]
# Only 300 images train the network, on purpose: with few samples the gap between training
# and validation shows within seconds of CPU. The validation set picks the epoch to keep;
# the test set is looked at once, at the end.
#
# ## A first classifier, with early stopping
#
# A $64 \to 32 \to 10$ ReLU network, ten outputs (one score per digit), the cross-entropy
# loss, Adam, mini-batches of 50. `fit(..., patience=6)` stops after six epochs without a
# better validation loss and restores the weights of the best epoch. `fit` builds one graph
# per mini-batch: the same per-unit graph as always, each node's number an array over the
# batch's 50 samples (`chainrule.engine.batched`), so an epoch is a handful of backward
# passes, not 300.

# %%
model = MLP(64, [32, 10], seed=0)
opt = Adam(model.parameters(), lr=0.01)
h = fit(model, X[train], y[train], opt, epochs=40, loss="cross_entropy", batch_size=50,
        val=(X[val], y[val]), patience=6, progress=False)  # fmt: skip
best = h.best_epoch  # epochs count from 1
print(f"stopped after {len(h.train_loss)} epochs; best validation loss at epoch {best}")
print(
    f"at the best epoch: train accuracy {h.train_acc[best - 1]:.1%},",
    f"validation {h.val_acc[best - 1]:.1%}",
)

epochs = range(1, len(h.train_loss) + 1)
fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
axes[0].plot(epochs, h.train_loss, label="train")
axes[0].plot(epochs, h.val_loss, label="validation")
axes[0].set_ylabel("cross-entropy loss (nats)")
axes[0].set_yscale("log")
axes[1].plot(epochs, np.array(h.train_acc) * 100, label="train")
axes[1].plot(epochs, np.array(h.val_acc) * 100, label="validation")
axes[1].set_ylabel("accuracy (%)")
for ax in axes:
    ax.axvline(best, color="gray", ls=":", lw=1)
    ax.set_xlabel("epoch")
axes[0].legend()
axes[1].text(best, 55, " restored\n epoch", color="gray", fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# The two curves part early: the training loss keeps falling towards 0 (the network can
# fit 300 images perfectly), while the validation loss levels out and wobbles, with the
# best epoch marked (dotted). On real data the validation curve rarely shows a clean
# U-shape: it flattens, and early stopping's job is to notice that it no longer improves.
#
# ## Update ratios
#
# The ratio $\lVert\Delta w\rVert / \lVert w\rVert$ per weight matrix and step (lesson 6),
# with Adam at $\eta = 0.01$:

# %%
update_ratios(h)
plt.show()
for name, r in h.update_ratio.items():
    if name.endswith("weight"):
        print(
            f"{name}: median over the first 10 steps {np.median(r[:10]):.1e},",
            f"over the last 10 steps {np.median(r[-10:]):.1e}",
        )

# %% [markdown]
# The ratios start near $10^{-1}$, a hundred times the $10^{-3}$ rule of thumb, while the
# weights move fast away from their random start, and fall steadily as the gradients shrink,
# ending within a factor of two of $10^{-3}$. The rule of thumb describes a steady phase of
# training; the first epochs are far above it by design (Adam's steps have a size of about
# $\eta$ whatever the gradient), and a schedule would lower the rate when fine-tuning.
#
# ## The test set: confusion matrix
#
# Row $i$, column $j$ counts the test images of digit $i$ that the model calls $j$: the
# diagonal holds the hits.

# %%
with no_grad():
    scores = model([list(row) for row in X[test]])
pred = np.array([int(np.argmax([s.data for s in row])) for row in scores])
table = np.zeros((10, 10), dtype=int)
np.add.at(table, (y[test], pred), 1)
print(f"test accuracy {np.mean(pred == y[test]):.1%} on {len(test)} images")

fig, ax = plt.subplots(figsize=(5.2, 4.4))
im = ax.imshow(table, cmap="Blues")
for i in range(10):
    for j in range(10):
        if table[i, j]:
            ax.text(j, i, table[i, j], ha="center", va="center", fontsize=7,
                    color="white" if table[i, j] > table.max() / 2 else "black")  # fmt: skip
ax.set_xticks(range(10))
ax.set_yticks(range(10))
ax.set_xlabel("predicted digit")
ax.set_ylabel("true digit")
ax.set_title("test set: counts of (true, predicted)")
fig.colorbar(im, ax=ax, label="images")
plt.show()
off = table - np.diag(np.diag(table))
i, j = np.unravel_index(np.argmax(off), off.shape)
print(f"most frequent confusion: true {i} predicted as {j}, {off[i, j]} times")

# %% [markdown]
# ## What it gets wrong
#
# Twelve misclassified test images, with the true label and the prediction:

# %%
wrong = np.flatnonzero(pred != y[test])[:12]
fig, axes = plt.subplots(2, 6, figsize=(6.5, 2.6))
for ax, k in zip(axes.flat, wrong):
    ax.imshow(X[test][k].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
    ax.set_title(f"{y[test][k]} → {pred[k]}", fontsize=9)
    ax.axis("off")
fig.suptitle("misclassified: true → predicted", fontsize=10)
plt.tight_layout()
plt.show()

# %% [markdown]
# At 8×8 pixels many of these are ambiguous to a person too; others are plain mistakes of a
# network that has seen 300 images. More training data, or an architecture that knows that
# nearby pixels belong together (convolutions), is the way up from here.
#
# ## Exercises
#
# Write each answer in the cell tagged `exercise`, then run the check below it. Stuck?
# `show_solution("N.k")` (in a new cell) prints a worked solution of exercise N.k.
#
# ### Exercise 12.1 (easy)
# How many parameters (weights and biases) does `MLP(64, [32, 10])` have? Count them by
# hand, layer by layer.

# %% tags=["exercise"]
answer = ...

# %%
check("12.1", answer)

# %% [markdown]
# ### Exercise 12.2 (medium)
# The **recall** of digit $k$ is the share of the images of digit $k$ that the model
# classifies as $k$. Write `recall(table)` that returns every class's recall from a
# confusion matrix laid out as above (rows: true digit), as an array.

# %% tags=["exercise"]
answer = ...

# %%
check("12.2", answer)

# %% [markdown]
# ### Exercise 12.3 (medium)
# Scaling by 1/16 is one choice; another is to **standardize** each pixel to mean 0 and
# standard deviation 1. Write `standardize(train, other)` that returns the array `other`
# (samples in rows) standardized with statistics computed on `train` only. Careful: some
# pixels are 0 in every training image.

# %% tags=["exercise"]
answer = ...

# %%
check("12.3", answer)
