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
# # 3. Backprop by hand
#
# Lesson 2 watched `backward()` work. Now you do its job: first with pencil and paper on a
# small graph, then in code, for `Tiny`, a value class that has everything but `backward`.
# Every step is the same rule: a node's gradient $\partial L/\partial v$, once complete,
# is multiplied by each local derivative $\partial v/\partial p$ and **added** into the
# parent's gradient,
#
# $$\frac{\partial L}{\partial p} \mathrel{+}= \frac{\partial L}{\partial v}\cdot
#   \frac{\partial v}{\partial p}.$$

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

from chainrule.engine import Value, gradcheck
from chainrule.viz import draw_dot

from chainrule.course import show_solution  # noqa: F401  (stuck? see the exercises)
from chainrule.course.checks import Tiny, check, hand_graph

nodes = hand_graph()
for name, v in nodes.items():
    v.label = name
draw_dot(nodes["L"], show_grad=False)

# %% [markdown]
# The graph $L = (a b + c)\,f$ with $a = 2$, $b = -3$, $c = 10$, $f = -2$, in named steps:
# $e = a b$, $d = e + c$, $L = d f$. The forward pass gave every node its value (drawn
# above); the gradients are still empty. The local derivatives are the gate patterns:
#
# | node | local derivatives |
# |---|---|
# | $L = d\,f$ | $\partial L/\partial d = f$, $\partial L/\partial f = d$ (× swaps) |
# | $d = e + c$ | $\partial d/\partial e = \partial d/\partial c = 1$ (+ passes on) |
# | $e = a\,b$ | $\partial e/\partial a = b$, $\partial e/\partial b = a$ |
#
# ### Exercise 3.1 (easy)
# Fill in every node's gradient $\partial L/\partial v$, from $L$ down, as a dict
# `{"L": ..., "d": ..., "f": ..., "e": ..., "c": ..., "a": ..., "b": ...}`. Work it out
# on paper: upstream × local at each node. The checker compares with chainrule's
# `backward()` and names the first node where you slipped.

# %% tags=["exercise"]
answer = ...

# %%
check("3.1", answer)

# %% [markdown]
# ## A value class without `backward`
#
# `Tiny` keeps, for every node, its parents and the local derivatives
# $\partial v/\partial p$ (computed in the forward pass, when the inputs' values are at hand).
# What is missing is the walk over the graph that applies the rule above. It has two parts:
#
# 1. **The order.** A node may pass its gradient on only when it is complete, that is, when
#    every node that uses it has already added its share. Listing every node after all of
#    its parents (a *topological order*) and walking that list backwards guarantees it.
# 2. **The accumulation.** A node used twice receives two contributions: `+=`, never `=`.

# %%
a, b = Tiny(0.5, label="a"), Tiny(-1.2, label="b")
h = (a * b + a).tanh()
root = (h * a + h * h) * b
print("root:", round(root.data, 6))
print("its parents:", root.parents)
print("d root / d parent:", [round(d, 6) for d in root.locals])

# %% [markdown]
# In this graph `a` is used three times and `h` three times, and the paths to `a` have
# different lengths: exactly where the classic bugs show. The reference is chainrule's own
# `backward()` on the same expression, whose gradients `gradcheck` confirms by central
# differences:

# %%
from chainrule.course.by_hand import expression, simulate_bug

va, vb = Value(0.5), Value(-1.2)
expression(va, vb).backward()  # the same expression, built from Values
print(f"chainrule: dL/da = {va.grad:.6f}, dL/db = {vb.grad:.6f}")
print("gradcheck agrees:", gradcheck(expression, [0.5, -1.2]).ok)

# %% [markdown]
# ### Exercise 3.2 (medium)
# Write `topo_order(root)`: a list of the nodes of `root`'s graph, each **once**, every node
# **after all of its parents** (so `root` comes last). A node's parents are `node.parents`.
# Recursion is the textbook answer, but Python stops at about 1000 nested calls: the
# checker also tries a chain of 3000 nodes (hint: an explicit stack of `(node, expanded)`
# pairs).

# %% tags=["exercise"]
answer = ...

# %%
check("3.2", answer)

# %% [markdown]
# ### Exercise 3.3 (medium)
# Write `backward(root)` for `Tiny`: set every gradient to 0 and `root.grad` to 1, then
# apply $\partial L/\partial p \mathrel{+}= \partial L/\partial v \cdot \partial v/\partial p$
# node by node in the right order (use your `topo_order`). The checker runs it on the graph
# above and on a 3000-node chain, compares with chainrule, and recognises the classic bugs:
# `=` instead of `+=`, the forward order instead of the backward one, and pushing gradients
# on recursively before a node is complete.

# %% tags=["exercise"]
answer = ...

# %%
check("3.3", answer)

# %% [markdown]
# ## What the three bugs compute
#
# Each bug gives a wrong number, not an error, which is what makes them dangerous. Here are
# the gradients of `a` the three classic bugs produce on the graph above, against the right one:

# %%
for bug in ("no +=", "wrong order", "recursion"):
    ta, tb = Tiny(0.5), Tiny(-1.2)
    simulate_bug(expression(ta, tb), bug)
    print(f"{bug:12s} dL/da = {ta.grad:9.5f}   (right: {va.grad:.5f})")

# %% [markdown]
# `=` keeps only the last path's contribution; the forward order passes on gradients that are
# still incomplete (here: zero); recursion passes a node's partial gradient on once per
# path, so shared nodes are counted again and again (and the work grows with the number of
# paths, exponentially in the depth of a graph of reused nodes).
