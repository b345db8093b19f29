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
# # 10. Dropout
#
# A network that overfits has units that only activate for very specific training examples:
# they memorise those examples, often together with other units that correct their mistakes.
# Dropout breaks that: in training, each unit is kept with probability $q$ and dropped
# otherwise, with a new mask drawn for every sample (each row of a mini-batch gets its own),
# so no unit can rely on one specific other unit.
# At inference all units are used, and their outputs are multiplied by $q$ (equivalently the
# weights going out of them), so the next layer sees the input it saw on average in training.
#
# **Notation.** The lecture's $p$ is the keep probability, here $q$. chainrule follows
# PyTorch: `Dropout(p)` with `p` the probability of **dropping** ($q = 1-p$), and by default
# *inverted* dropout, which scales by $1/q$ in training instead, so inference is the identity.
# `Dropout(p, inverted=False)` is the lecture's form.

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
from chainrule.engine import Value, add_all, no_grad
from chainrule.nn import MLP, SGD, Dropout, Layer, evaluate, fit, make_moons, train_val_split
from chainrule.viz import draw_dot
from chainrule.viz.plots import decision_boundary, setup_notebook

from chainrule.course import show_solution  # noqa: F401  (stuck? see the exercises)
from chainrule.course.checks import check

setup_notebook(dpi=110)

d = Dropout(0.5, seed=0)
out = d([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]])
print("mask:", d.last_mask[0])
print("training output:", [v.data for v in out[0]])
d.eval()
inference = d([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]])[0]
print("inference output:", [v.data if isinstance(v, Value) else v for v in inference])

# %% [markdown]
# Dropped units stay in the graph multiplied by 0: no gradient flows through them.

# %%
d = Dropout(0.5, seed=3)
xs = [Value(float(i), label=f"a{i}") for i in range(1, 4)]
s = add_all(d([xs])[0])
s.label = "sum"
s.backward()
print("mask", d.last_mask[0], "grads", [v.grad for v in xs])
draw_dot(s)

# %% [markdown]
# ## Why it's allowed: the expectation is unchanged
#
# For one unit with output $a$ and mask $m \sim \mathrm{Bernoulli}(q)$:
#
# - the lecture's form: training passes $m\,a$, with $\mathbb{E}[m\,a] = q\,a$; inference
#   passes $q\,a$: the same value as the training average;
# - inverted dropout: training passes $m\,a/q$, with $\mathbb{E}[m\,a/q] = q\,a/q = a$;
#   inference passes $a$.
#
# And since expectations are linear, the next layer's pre-activation
# $z = \sum_i w_i m_i a_i / q$ has $\mathbb{E}[z] = \sum_i w_i a_i$: exactly the inference
# pre-activation. Checked numerically, over 5,000 masks:

# %%
a = [1.0, -2.0, 0.5, 3.0]
n = 5000
inverted, classic = Dropout(0.25, seed=0), Dropout(0.25, inverted=False, seed=0)
mean_inv = np.mean([[v.data for v in row] for row in inverted([a] * n)], axis=0)
mean_cls = np.mean([[v.data for v in row] for row in classic([a] * n)], axis=0)
classic.eval()
print("a:                                ", a)
print("inverted, mean training output:   ", np.round(mean_inv, 3), "(inference: a itself)")
print("classic, mean training output:    ", np.round(mean_cls, 3))
print("classic, inference output q·a:    ", [v.data for v in classic([a])[0]])
nxt = Layer(4, 3, "identity", seed=0)
with no_grad():
    z_mean = np.mean([[v.data for v in row] for row in nxt(inverted([a] * n))], axis=0)
    z_inf = [v.data for v in nxt([a])[0]]
print("next layer: mean z over masks     ", np.round(z_mean, 3))
print("next layer: z at inference        ", np.round(z_inf, 3))

# %% [markdown]
# ## The ensemble view
#
# Each mask picks a *thinned* sub-network; with $n$ droppable units there are $2^n$ of them,
# all sharing the same weights. Every training step trains one of them, so dropout trains a
# huge ensemble at the cost of one network. The ideal prediction would average all
# sub-networks; inference with scaled outputs is a cheap approximation of that average
# (exact for a linear network, by the expectation argument; approximate through the ReLUs).
#
# First, the overfitting setting: a small, noisy data set and a wide network, trained with
# and without dropout.

# %%
x, y = make_moons(60, noise=0.35, seed=4)
(xt, yt), (xv, yv) = train_val_split(x, y, 0.4, seed=0)
runs = {}
for p in (0.0, 0.3):
    m = MLP(2, [32, 32, 1], init="he", dropout=p, seed=0)
    h = fit(
        m,
        xt,
        yt,
        SGD(m.parameters(), lr=0.05, momentum=0.9),
        epochs=120,
        batch_size=12,
        val=(xv, yv),
        progress=False,
        track_updates=False,
    )
    runs[p] = (m, h)
    clean, _ = evaluate(m, xt, yt)  # the training loss again, with dropout off
    print(
        f"dropout {p}: train loss recorded {h.train_loss[-1]:.3f}, with dropout off "
        f"{clean:.3f}; val loss {h.val_loss[-1]:.3f} (best {min(h.val_loss):.3f}), "
        f"val acc {h.val_acc[-1]:.0%}"
    )
fig, ax = plt.subplots(figsize=(6.5, 3.8))
for p, (_, h) in runs.items():
    epochs = range(1, len(h.train_loss) + 1)  # epoch 1 is the first one trained, as elsewhere
    line = ax.plot(epochs, h.train_loss, ls="--", label=f"dropout {p}: train")[0]
    ax.plot(epochs, h.val_loss, color=line.get_color(), label=f"dropout {p}: validation")
ax.set_xlabel("epoch")
ax.set_ylabel("hinge loss")
ax.set_title("dropout: higher training loss, lower validation loss")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# Without dropout the training loss keeps falling (to about 0.1) while the validation loss
# grows in the second half: the network memorises the noisy points. With dropout the recorded
# training loss stays higher, for two reasons, and only one is regularization. `fit` records
# the training loss of each step **with dropout on**, i.e. the loss of a random thinned
# network, which is worse than the full network's. Evaluated with dropout off (printed
# above), the dropout model's training loss is much lower than the recorded curve; what
# remains of the gap to the model without dropout is the regularization: it fits the
# training points less closely, and its validation loss stays lower.
#
# Where does the memorising show? In the decision boundaries: without dropout the network
# carves out a small region around a few noisy red points, units that serve only those
# training examples; with dropout the boundary stays smooth.

# %%
for p, (m, _) in runs.items():
    decision_boundary(m, xt, yt, title=f"dropout {p}: training points")
    plt.show()

# %% [markdown]
# And the ensemble: average the predictions of 100 random sub-networks of the dropout model
# (training mode, no gradients) and compare with the single scaled network (inference mode).

# %%
m = runs[0.3][0]
with no_grad():
    m.train()
    ensemble = np.mean([m(x).data for _ in range(100)], axis=0)  # m(x): one Value over x
    m.eval()
    single = m(x).data
print(
    f"mean |ensemble - scaled network| {np.mean(np.abs(ensemble - single)):.3f}"
    f"  (outputs spread {np.std(single):.3f})"
)
print(f"same class for {np.mean((ensemble > 0) == (single > 0)):.0%} of the 60 points")

# %% [markdown]
# ## Exercises
#
# Write each answer in the cell tagged `exercise`, then run the check below it. Stuck?
# `show_solution("N.k")` (in a new cell) prints a worked solution of exercise N.k.
#
# ### Exercise 10.1 (easy)
# In the lecture's form, a unit is dropped with probability $0.35$ during training. By what
# factor are the weights going out of it multiplied at inference?

# %% tags=["exercise"]
answer = ...

# %%
check("10.1", answer)

# %% [markdown]
# ### Exercise 10.2 (medium)
# A layer of 50 units followed by chainrule's `Dropout(0.3)`: how many units are kept on
# average in training?

# %% tags=["exercise"]
answer = ...

# %%
check("10.2", answer)

# %% [markdown]
# ### Exercise 10.3 (stretch)
# Write `inverted_dropout(xs, q, rng)` on a list of floats with numpy's generator `rng`:
# keep each with probability `q`, scale the kept ones so that the expected output equals the
# input. The checker runs it 4000 times.

# %% tags=["exercise"]
answer = ...

# %%
check("10.3", answer)
