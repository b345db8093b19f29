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
# # 1. Values and the chain rule
#
# A `Value` is a number that remembers how it was made. Building an expression builds a graph;
# `backward()` walks it from the output back to the inputs and applies the **chain rule** at
# every node: if $L$ depends on $x$ through $y$, then
#
# $$\frac{\partial L}{\partial x} = \frac{\partial L}{\partial y}\,\frac{\partial y}{\partial x}.$$
#
# Each node knows only its *local* derivative $\partial y/\partial x$; backprop multiplies them
# from the back to the front, so each stage needs the stages after it first.
#
# Notation as in the lecture: $z$ is a unit's pre-activation, $v$ its post-activation.

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
import math

import matplotlib.pyplot as plt
import numpy as np
from chainrule.engine import Function, GradcheckError, Value, gradcheck
from chainrule.viz import draw_dot
from chainrule.viz.plots import setup_notebook

from chainrule.course import show_solution  # noqa: F401  (stuck? see the exercises)
from chainrule.course.checks import check

setup_notebook(dpi=110)

x = Value(2.0, label="x")
w = Value(-3.0, label="w")
b = Value(6.88, label="b")
z = x * w + b
z.label = "z"
v = z.tanh()
v.label = "v"
draw_dot(v)  # before backward(): every grad is 0

# %% [markdown]
# ## By hand
#
# $v = \tanh(z)$, $z = xw + b$. Then $\frac{\partial v}{\partial z} = 1 - \tanh^2 z$,
# $\frac{\partial z}{\partial x} = w$, $\frac{\partial z}{\partial w} = x$,
# $\frac{\partial z}{\partial b} = 1$, and the chain rule multiplies:
# $\frac{\partial v}{\partial x} = (1-\tanh^2 z)\,w$.

# %%
dv_dz = 1 - math.tanh(z.data) ** 2
print(f"by hand:  dv/dx = {dv_dz * w.data:.6f}  dv/dw = {dv_dz * x.data:.6f}  dv/db = {dv_dz:.6f}")
v.backward()
print(f"backward: dv/dx = {x.grad:.6f}  dv/dw = {w.grad:.6f}  dv/db = {b.grad:.6f}")
draw_dot(v)

# %% [markdown]
# ## Checking with finite differences
#
# $\frac{\partial f}{\partial x} \approx \frac{f(x+\varepsilon) - f(x-\varepsilon)}{2\varepsilon}$,
# with an error of order $\varepsilon^2$. `gradcheck` compares this with backprop for every
# input.

# %%
result = gradcheck(lambda x, w, b: (x * w + b).tanh(), [2.0, -3.0, 6.88])
print("agree:", result.ok)
print("backprop:           ", [f"{g:.8f}" for g in result.analytic])
print("central differences:", [f"{g:.8f}" for g in result.numeric])

# %% [markdown]
# ## The sigmoid derivative, step by step
#
# $\sigma(x) = \dfrac{1}{1+e^{-x}} = u^{-1}$ with $u = 1 + e^{-x}$. The chain rule:
#
# $$\sigma'(x) = \frac{d\,u^{-1}}{du}\cdot\frac{du}{dx} = -u^{-2}\cdot(-e^{-x})
#   = \frac{e^{-x}}{(1+e^{-x})^2}
#   = \underbrace{\frac{1}{1+e^{-x}}}_{\sigma(x)}\cdot\frac{e^{-x}}{1+e^{-x}}.$$
#
# The last factor is $\frac{(1+e^{-x}) - 1}{1+e^{-x}} = 1 - \sigma(x)$, so
#
# $$\sigma'(x) = \sigma(x)\,\bigl(1-\sigma(x)\bigr).$$
#
# Since $s(1-s)$ is largest at $s = \tfrac12$ (that is $x = 0$), $\sigma'(x) \le \tfrac14$
# everywhere, and it goes to 0 on both sides: a saturated sigmoid passes almost no gradient.
#
# Below, chainrule differentiates $1/(1+e^{-x})$ built from elementary nodes (it knows nothing
# about sigmoids), and the result is compared with $\sigma(1-\sigma)$ and with the local
# derivative that the `sigmoid` node stores.

# %%
x0 = Value(0.5, label="x")
built = 1 / (1 + (-x0).exp())
built.backward()
node = Value(0.5).sigmoid()
s = node.data
print(f"σ(0.5) = {s:.6f}")
print(f"backprop through 1/(1+e^-x): {x0.grad:.10f}")
print(f"σ(1-σ):                      {s * (1 - s):.10f}")
print(f"sigmoid node's local grad:   {node.local_grads[0]:.10f}")
draw_dot(built)

# %% [markdown]
# σ and σ' on a grid, σ' computed by `backward()` at every point:

# %%
grid = np.linspace(-8, 8, 161)
sig, dsig = [], []
for t in grid:
    xt = Value(float(t))
    out = xt.sigmoid()
    out.backward()
    sig.append(out.data)
    dsig.append(xt.grad)
fig, ax = plt.subplots(figsize=(6.5, 3.6))
ax.plot(grid, sig, label="σ(x)")
ax.plot(grid, dsig, label="σ'(x) by backward()")
ax.axhline(0.25, color="gray", ls="--", lw=1, label="1/4, the largest σ' can be")
ax.set_xlabel("x")
ax.set_ylabel("σ(x) and σ'(x) (no unit)")
ax.legend()
ax.set_title("the sigmoid and its derivative")
plt.show()
print(f"largest σ' on the grid: {max(dsig):.4f} at x = {grid[int(np.argmax(dsig))]:.1f}")

# %% [markdown]
# **The consequence.** Backprop through $k$ sigmoid units multiplies the gradient by $k$ factors
# $\sigma'(z) \le \tfrac14$ (times the weights). Through a bare chain of ten sigmoids, with no
# weights between them, the gradient shrinks at least $4^{10} \approx 10^6$-fold; in a
# network each factor is $\sigma'(z)$ times a weight, so large weights can offset it (and make
# it explode instead). A ReLU passes a factor of exactly 1 wherever it is active. Lesson 6
# measures this in a deep network.

# %%
for act in ("sigmoid", "relu"):
    x_in = Value(0.5)
    h = x_in
    for _ in range(10):
        h = getattr(h, act)()
    h.backward()
    print(f"10 {act:7s} units in a chain: d out / d in = {x_in.grad:.3e}")

# %% [markdown]
# ## Your own op
#
# Every op of the engine is a value and its local derivative. `engine.Function` lets you add
# one, shaped like PyTorch's `torch.autograd.Function`: `forward(ctx, x)` computes the value
# (and may save what the derivative needs with `ctx.save_for_backward`), and
# `backward(ctx, grad_output)` returns the gradient for the input, `grad_output` times the
# local derivative. `MyOp.apply(x)` puts one node named after the class into the graph, which
# `backward()`, the drawings and `gradcheck` treat like any built-in op.
#
# Swish, $x\,\sigma(x)$, with the product rule and the sigmoid derivative from above:
# $\frac{d}{dx}\,x\sigma(x) = \sigma(x) + x\,\sigma(x)(1 - \sigma(x))$.


# %%
class Swish(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x.sigmoid()

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_values
        s = x.sigmoid()
        return grad_output * (s + x * s * (1 - s))


xs = Value(0.5, label="x")
out = (2 * Swish.apply(xs)).tanh()
out.backward()
print(f"d out/dx by backward: {xs.grad:.10f}")
print("gradcheck agrees:", gradcheck(lambda x: (2 * Swish.apply(x)).tanh(), [0.5]).ok)
draw_dot(out)

# %% [markdown]
# A wrong derivative does not go unnoticed: `gradcheck` names the op and the input.


# %%
class BadSwish(Swish):
    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_values
        return grad_output * x.sigmoid()  # forgot the product rule's second term


try:
    gradcheck(BadSwish.apply, [0.5])
except GradcheckError as e:
    print("GradcheckError:", e)

# %% [markdown]
# ## Exercises
#
# Write each answer in the cell tagged `exercise`, then run the check below it. Stuck?
# `show_solution("N.k")` (in a new cell) prints a worked solution of exercise N.k.
# The check tells you right, wrong (and which mistake it recognises), or not yet; it never
# tells you the answer. Try first: a solution read is a skill not practised.
#
# ### Exercise 1.1 (easy)
# For $f(a, b) = a^2 b + e^{b}$ at $a = 1.5$, $b = -0.5$, what is $\partial f/\partial a$?
# Work it out by hand (a number).

# %% tags=["exercise"]
answer = ...

# %%
check("1.1", answer)

# %% [markdown]
# ### Exercise 1.2 (medium)
# You only know that $\sigma(x_0) = 0.8$, not $x_0$. What is $\sigma'(x_0)$?

# %% tags=["exercise"]
answer = ...

# %%
check("1.2", answer)

# %% [markdown]
# ### Exercise 1.3 (stretch)
# Write `numeric_grad(f, x, eps)`, the central difference of a float function `f` at `x`.
# The checker compares it with exact slopes and checks that halving `eps` divides the error
# by about 4 (the error is $O(\varepsilon^2)$; a one-sided difference only halves it).

# %% tags=["exercise"]
answer = ...

# %%
check("1.3", answer)


# %% [markdown]
# ### Exercise 1.4 (stretch)
# Write softsign, $f(x) = \dfrac{x}{1 + |x|}$, as an `engine.Function` (derive $f'$ by hand
# first: the quotient rule, with $\frac{d}{dx}|x| = \mathrm{sign}(x)$), check it with
# `gradcheck`, and give the class as your answer.

# %% tags=["exercise"]
answer = ...

# %%
check("1.4", answer)
