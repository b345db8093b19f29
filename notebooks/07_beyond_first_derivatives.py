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
# # 7. Beyond first derivatives: curvature, Newton, and the learning-rate bound
#
# The gradient says which way is downhill; the second derivatives say how fast the slope
# changes, i.e. how far a step may go. chainrule's `grad(..., create_graph=True)` returns the
# gradient as `Value`s with a graph of their own, which can be differentiated again: that
# gives Hessians, Hessian-vector products and Newton steps. With them we show why gradient
# descent's learning rate is bounded by $2/\lambda_{\max}$, the largest eigenvalue of the
# Hessian, and what happens just above the bound.

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
from chainrule.engine import Value, add_all, grad
from chainrule.nn import MLP, SGD, fit, make_moons
from chainrule.viz.plots import setup_notebook

from chainrule.course import show_solution  # noqa: F401  (stuck? see the exercises)
from chainrule.course.checks import check

setup_notebook(dpi=110)

# %% [markdown]
# ## Second derivatives with `create_graph=True`
#
# For $g(x, y) = e^x y + y^2$: $\nabla g = (e^x y,\ e^x + 2y)$ and the Hessian is
# $H = \begin{pmatrix} e^x y & e^x \\ e^x & 2 \end{pmatrix}$. chainrule computes each row of
# $H$ as the gradient of one entry of $\nabla g$:

# %%
x, y = Value(0.5), Value(-1.5)
gx, gy = grad(x.exp() * y + y * y, [x, y], create_graph=True)  # Values, not floats
H = np.array([grad(gx, [x, y]), grad(gy, [x, y])])
e = np.exp(0.5)
print("chainrule:\n", H)
print("by hand:\n", np.array([[e * -1.5, e], [e, 2.0]]))

# %% [markdown]
# ## Hessian-vector products
#
# A network with $n$ weights has an $n \times n$ Hessian: too big to form. But $H v$, for
# any vector $v$, is the gradient of the scalar $\nabla L \cdot v$, so it costs one more
# backward pass through the gradient's own graph:
# $H v = \nabla_w\,(\nabla_w L \cdot v)$. Repeating $v \leftarrow Hv/\lVert Hv\rVert$ (power
# iteration) finds the direction of largest curvature, and $v^\top H v$ its eigenvalue
# $\lambda_{\max}$.
#
# A small tanh network ($2 \to 8 \to 1$, 33 weights) trained briefly on 40 moons with the
# mean squared error:

# %%
xs, ys = make_moons(40, noise=0.1, seed=1)
model = MLP(2, [8, 1], "tanh", seed=0)
fit(model, xs, ys, SGD(model.parameters(), lr=0.1, momentum=0.9), epochs=30, loss="mse",
    progress=False)  # fmt: skip
params = model.parameters()


def loss_fn():
    """Mean squared error of the model on the 40 points (a fresh scalar graph each call,
    one sample at a time, so that it can be differentiated twice)."""
    out = [model([Value(float(a)) for a in row]) for row in xs]
    return add_all([(o - float(t)) ** 2 for o, t in zip(out, ys)]) / len(xs)


def hvp(v):
    """H·v at the current weights: one backward pass through the gradient's graph."""
    g = grad(loss_fn(), params, create_graph=True)
    return np.array(grad(add_all([gi * vi for gi, vi in zip(g, v)]), params), dtype=float)


# check H·v against central differences of the gradient: (∇L(w + εv) - ∇L(w - εv)) / 2ε
v = np.random.default_rng(0).normal(size=len(params))
w0 = np.array([p.data for p in params])


def grad_at(w):
    for p, wi in zip(params, w):
        p.data = float(wi)
    return np.array(grad(loss_fn(), params), dtype=float)


fd = (grad_at(w0 + 1e-5 * v) - grad_at(w0 - 1e-5 * v)) / 2e-5
grad_at(w0)  # back to the trained weights
print(f"|Hv - finite differences| / |Hv| = {np.linalg.norm(hvp(v) - fd) / np.linalg.norm(fd):.1e}")

v /= np.linalg.norm(v)
for _ in range(20):
    hv = hvp(v)
    lam_max, v = v @ hv, hv / np.linalg.norm(hv)
print(f"λ_max = {lam_max:.4f}, so the bound 2/λ_max = {2 / lam_max:.4f}")

# %% [markdown]
# ## Why the learning rate is bounded by $2/\lambda_{\max}$
#
# Near a minimum $w^*$ the loss is close to its quadratic model
# $L(w) \approx L(w^*) + \tfrac12 (w - w^*)^\top H (w - w^*)$, whose gradient is
# $H(w - w^*)$. A gradient step maps $w - w^* \mapsto (I - \eta H)(w - w^*)$: along an
# eigenvector of $H$ with eigenvalue $\lambda$, the distance is multiplied by $1 - \eta\lambda$
# per step. It shrinks if $|1 - \eta\lambda| < 1$, i.e. $\eta < 2/\lambda$, and the
# stiffest direction decides: $\eta < 2/\lambda_{\max}$. Just above, that one direction flips
# sign and grows by $|1 - \eta\lambda_{\max}| > 1$ every step, however gentle all the others are.
#
# Full-batch gradient descent on the network from the trained weights, at 0.9 and 1.1 times
# the bound, beside the quadratic
# $L = \tfrac12 w^\top \mathrm{diag}(\lambda_{\max}, 0.1\,\lambda_{\max})\, w$
# with the same rates:


# %%
def descend(eta, steps=40):
    """Loss per step of plain gradient descent from the trained weights."""
    grad_at(w0)
    losses = []
    for _ in range(steps):
        loss = loss_fn()
        g = grad(loss, params)
        losses.append(loss.data)
        for p, gi in zip(params, g):
            p.data = float(p.data - eta * gi)  # a plain float: a numpy scalar would read as a batch
    grad_at(w0)
    return losses


def descend_quadratic(eta, lam, steps=40):
    w = np.array([1.0, 1.0])
    out = []
    for _ in range(steps):
        out.append(0.5 * (lam[0] * w[0] ** 2 + lam[1] * w[1] ** 2))
        w = w - eta * lam * w
    return out


lams = np.array([lam_max, 0.1 * lam_max])
fig, axes = plt.subplots(1, 2, figsize=(8.8, 3.5))
for factor, colour in ((0.9, "C0"), (1.1, "C1"), (1.5, "C3")):
    eta = factor * 2 / lam_max
    label = f"η = {factor} × 2/λ_max"
    axes[0].plot(descend_quadratic(eta, lams), colour, label=label)
    net = descend(eta)
    axes[1].plot(net, colour, label=label)
    print(f"{label}: loss after 0, 5, 10, 39 steps:", [f"{net[k]:.3g}" for k in (0, 5, 10, 39)])
axes[0].set_title("quadratic with the network's λ_max")
axes[1].set_title("the tanh network (40 moons)")
for ax in axes:
    ax.set_yscale("log")
    ax.set_xlabel("gradient step")
axes[0].set_ylabel("loss ½wᵀHw (log scale)")
axes[1].set_ylabel("loss: mean squared error (log scale)")
axes[1].set_ylim(0.05, 10)
axes[0].legend(fontsize=8)
plt.tight_layout()
plt.show()

# where the 1.1 × run ends: sharpness measured again by power iteration
eta = 1.1 * 2 / lam_max
grad_at(w0)
for _ in range(40):
    g = grad(loss_fn(), params)
    for p, gi in zip(params, g):
        p.data = float(p.data - eta * gi)  # a plain float: a numpy scalar would read as a batch
u = np.random.default_rng(1).normal(size=len(params))
for _ in range(20):
    hu = hvp(u)
    lam_end, u = u @ hu / (u @ u), hu / np.linalg.norm(hu)
print(f"after 40 steps at η = {eta:.3f}: λ_max = {lam_end:.3f} (it was {lam_max:.3f})")
print(f"the bound 2/λ_max rose from {2 / lam_max:.3f} to {2 / lam_end:.3f}")
_ = grad_at(w0)

# %% [markdown]
# Below the bound, both descend (the flat directions slowly: their rate is set by the small
# eigenvalues, one reason for momentum, Adam and schedules). Ten percent above it, the
# quadratic's stiff direction grows by $|1 - 1.1 \cdot 2| = 1.2$ per step, for ever. The
# network's loss also rises for about ten steps: the same instability, along its sharpest
# direction. Then it turns and descends, because the network is not a quadratic: the
# oscillation carried it to a flatter region: after 40 steps $\lambda_{\max}$ has dropped
# by about 8%, and the bound $2/\lambda_{\max}$ has risen to within 2% of the step size
# (measured above). Training settles where the step is just about stable, "at the edge of
# stability". Half again above the bound, no flat enough region is reached in time and the
# loss explodes. The bound is local: it holds where $H$ is
# measured, and training at large rates drifts towards regions flat enough to allow them.
#
# ## Newton's step
#
# If the curvature is known, the step can be scaled per direction: minimising the quadratic
# model gives **Newton's step** $w \leftarrow w - H^{-1}\nabla L$, which lands on the minimum
# of a quadratic in one step, whatever its eigenvalues. In one dimension it is
# $w \leftarrow w - L'(w)/L''(w)$; on $L(w) = w^4/4 + w^2/2 - w$ (minimum where
# $w^3 + w = 1$):

# %%
w, path = Value(2.0), []
for _ in range(6):
    (d1,) = grad(w**4 / 4 + w**2 / 2 - w, [w], create_graph=True)
    (d2,) = grad(d1, [w])
    path.append(w.data)
    w = Value(w.data - d1.data / d2)
print("Newton:", [f"{p:.10f}" for p in path])
print("w³ + w - 1 at the end:", path[-1] ** 3 + path[-1] - 1)

# %% [markdown]
# The number of correct digits roughly doubles per step (quadratic convergence) once close.
# For a network Newton's step is rarely used as it is: $H$ is too large to form and invert,
# and far from a minimum it need not be positive definite (the step can go uphill). But
# Hessian-vector products, as above, are cheap, and they are how $\lambda_{\max}$, the
# sharpness of a minimum, is measured in practice.
#
# ## Exercises
#
# Write each answer in the cell tagged `exercise`, then run the check below it. Stuck?
# `show_solution("N.k")` (in a new cell) prints a worked solution of exercise N.k.
#
# ### Exercise 7.1 (easy)
# By hand: the Hessian of $f(x, y) = x^2 y + y^3$ at $(1, 2)$, as a 2×2 nested list.

# %% tags=["exercise"]
answer = ...

# %%
check("7.1", answer)

# %% [markdown]
# ### Exercise 7.2 (medium)
# Write `newton_step(f, w)` for a function `f` of a list of `Value`s and a point `w` (a
# list of floats): build the Hessian with `grad(..., create_graph=True)` (one row per entry
# of the gradient), then return the new point $w - H^{-1}\nabla f(w)$ as an array
# (`np.linalg.solve`, not an explicit inverse). The checker tries it on
# `checks.matrix.quartic`.

# %% tags=["exercise"]
answer = ...

# %%
check("7.2", answer)

# %% [markdown]
# ### Exercise 7.3 (medium)
# Gradient descent on $L(w) = \tfrac12 w^\top A w$ with `A = checks.QUADRATIC` (import it:
# `from chainrule.course.checks import QUADRATIC`). What is the largest learning rate for
# which it converges from every starting point?

# %% tags=["exercise"]
answer = ...

# %%
check("7.3", answer)
