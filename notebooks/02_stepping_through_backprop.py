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
# # 2. Stepping through backprop
#
# `backward()` visits nodes in **reverse topological order**: every node after all the nodes
# that use it. Then, when a node's turn comes, its gradient $\partial L/\partial v$ is complete,
# and it can pass $\partial L/\partial v \cdot \partial v/\partial p$ on to each parent $p$: the
# chain rule, from the back to the front, each stage using the ones after it.
# `backward_steps()` is the same pass, one chain-rule step at a time.

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
from chainrule.engine import Value
from chainrule.viz import draw_dot
from chainrule.viz.plots import setup_notebook
from chainrule.viz.stepper import frames, interactive
from chainrule.viz.widgets import Stepper

from chainrule.course import show_solution  # noqa: F401  (stuck? see the exercises)
from chainrule.course.checks import branching, check

setup_notebook(dpi=110)

x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
b = Value(6.8813735870195432, label="b")
o = (x1 * w1 + x2 * w2 + b).tanh()
o.label = "o"
for step in o.backward_steps():
    added = [
        (c.parent.label or c.parent.op, round(c.local, 4), round(c.added, 4))
        for c in step.contributions
    ]
    print(step.index, step.node.op, "upstream", round(step.upstream, 4), added)

# %% [markdown]
# Each frame: the node being processed highlighted, finished nodes marked, this step's
# contributions on the edges, and the step's arithmetic (upstream × local = added) below.

# %%
o.zero_grad()
fs = frames(o)
print(len(fs), "frames: the start, then one per chain-rule step")
fs[2][1]

# %%
fs[-1][1]

# %% [markdown]
# In a live notebook, a slider steps through the same frames:

# %%
o.zero_grad()
interactive(o)

# %% [markdown]
# ## Quiz mode: you do the next step
#
# Watching is not doing. In quiz mode the stepper shows the graph with the gradients found
# so far and asks, for each edge the next node sends its gradient along, what it adds to
# the parent's gradient: **upstream × local**, read off the drawing (the node's own grad and
# the edge's local derivative). Only a right answer reveals the step; a wrong one is told
# what went wrong (added instead of multiplied, the local derivative alone, the sign, ...),
# never the number. (A widget: it runs in JupyterLab, Notebook, VS Code and Colab; in a
# static view of this notebook there is nothing to click.)

# %%
o.zero_grad()
Stepper(o, quiz=True)

# %% [markdown]
# ## Why the order matters, and shared subexpressions add
#
# If a value is used twice, its gradient is the **sum** over both paths: for $y = a \cdot a$,
# $\partial y/\partial a = a + a$. A node may only pass its gradient on once *all* its uses
# have contributed, which is exactly what the reverse topological order guarantees.

# %%
a = Value(3.0, label="a")
y = a * a
y.label = "y"
y.backward()
print("dy/da =", a.grad, "(= 2a)")
draw_dot(y)

# %% [markdown]
# ## Exercises
#
# Write each answer in the cell tagged `exercise`, then run the check below it. Stuck?
# `show_solution("N.k")` (in a new cell) prints a worked solution of exercise N.k.
#
# ### Exercise 2.1 (easy)
# For $y = \tanh(a \cdot b + a) \cdot b$, how many chain-rule steps does `backward_steps()`
# take? Predict it from the expression alone, before running anything (then check).

# %% tags=["exercise"]
answer = ...

# %%
check("2.1", answer)

# %% [markdown]
# ### Exercise 2.2 (medium)
# For $y = (a + a)\cdot a$ at $a = 2$: what is $\partial y/\partial a$? Count the paths.

# %% tags=["exercise"]
answer = ...

# %%
check("2.2", answer)

# %% [markdown]
# ### Exercise 2.3 (stretch)
# `branching()` builds $g = \tanh(d \cdot e)$ with $d = a b$ and $e = a + b$ (nodes labelled
# `a b d e f g`, $f = d e$). Give a valid order in which backward may process the computed
# nodes, as a list of labels (leaves left out). There is more than one.

# %%
draw_dot(branching())

# %% tags=["exercise"]
answer = ...

# %%
check("2.3", answer)
