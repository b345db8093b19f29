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
# # 5. ReLU networks are piecewise linear
#
# Hidden unit $j$ of a one-input network computes the pre-activation $z_j = w_j x + b_j$ and
# the post-activation $v_j = \mathrm{relu}(z_j)$; the output adds them up with outgoing weights
# $u_j$: $f(x) = \sum_j u_j v_j + c$.
#
# - the weight going in, $w_j$, decides how the input is weighted (and which side is active);
# - the bias $b_j$ decides **where** the linear part starts: at $x = -b_j/w_j$;
# - the weight going out, $u_j$, decides whether the piece points up or down and how steep.
#
# Adding such pieces gives a piecewise-linear function.

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
from chainrule.nn import MLP, Adam, fit, linear_pieces, regression_1d, tent_network
from chainrule.viz.plots import numpy_forward, setup_notebook

from chainrule.course import show_solution  # noqa: F401  (stuck? see the exercises)
from chainrule.course.checks import check, outputs_1d

setup_notebook(dpi=110)


def hand_network(w, b, u, c):
    """A 1 → n → 1 ReLU network with weights set by hand: f(x) = Σ u_j relu(w_j x + b_j) + c."""
    m = MLP(1, [len(w), 1], seed=0)
    hidden, out = m.layers[0], m.layers[1]
    for j, (wj, bj, uj) in enumerate(zip(w, b, u)):
        hidden.weight[j][0].data, hidden.bias[j].data = float(wj), float(bj)
        out.weight[0][j].data = float(uj)
    out.bias[0].data = float(c)
    return m


def plot_1d(models, xlim, title):
    """The functions computed by 1-input, 1-output models (each called on one batch)."""
    grid = np.linspace(*xlim, 400)
    _, ax = plt.subplots(figsize=(6.5, 3.8))
    for name, m in models.items():
        ax.plot(grid, outputs_1d(m, grid), label=name)
    ax.set_title(title)
    ax.set_xlabel("input x")
    ax.set_ylabel("output f(x)")
    ax.legend(fontsize=8)
    plt.show()


variants = {
    "w=1, b=0, u=1": hand_network([1], [0], [1], 0),
    "b=1: starts at x=-1": hand_network([1], [1], [1], 0),
    "u=-2: down, steeper": hand_network([1], [0], [-2], 0),
    "w=-1: the other side": hand_network([-1], [0], [1], 0),
}
plot_1d(variants, (-2, 2), "one unit u·relu(wx + b)")

# %% [markdown]
# A trained network with 12 units: each unit's piece $u_j v_j$ (thin) adds up to $f$ (black).
# The dotted lines are the breakpoints $-b_j/w_j$.

# %%
x, y = regression_1d(64, seed=0)
model = MLP(1, [12, 1], seed=0)
fit(model, x, y, Adam(model.parameters(), lr=0.02), epochs=300, loss="mse", progress=False)
hidden, out = model.linear_layers
w = np.array([row[0].data for row in hidden.weight])
b = np.array([v.data for v in hidden.bias])
u = np.array([v.data for v in out.weight[0]])
grid = np.linspace(-2.2, 2.2, 400)
pieces = u[:, None] * np.maximum(0.0, w[:, None] * grid + b[:, None])  # u_j·relu(w_j x + b_j)
f_net = outputs_1d(model, grid)
assert np.allclose(pieces.sum(0) + out.bias[0].data, f_net)  # the pieces add up to f
fig, ax = plt.subplots(figsize=(7, 4.2))
ax.plot(grid, pieces.T, lw=0.8, alpha=0.7)
for k in -b / w:
    ax.axvline(k, color="gray", lw=0.5, ls=":")
ax.plot(grid, f_net, color="k", lw=2, label="f(x)")
ax.scatter(np.asarray(x)[:, 0], y, s=10, color="tab:red", label="data", zorder=3)
ax.set_xlim(-2.2, 2.2)
ax.set_xlabel("input x")
ax.set_ylabel("output f(x)")
ax.set_title("12 units: each piece u_j·relu(w_j x + b_j) (thin), their sum f (black)")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## Universal approximation: the difference gets arbitrarily small
#
# Take any continuous $f$ on an interval $[a, b]$, knots $a = t_0 < t_1 < \dots < t_n = b$
# evenly spaced, and the piecewise-linear interpolant $g$ through $(t_k, f(t_k))$. It is a
# ReLU network with $n$ units: unit $k$ starts at $t_k$ ($w = 1$, $b = -t_k$) and its outgoing
# weight is the change of slope there, $u_k = s_k - s_{k-1}$ (with $s_{-1} = 0$), plus
# $c = f(t_0)$. For a twice-differentiable $f$ the uniform error
# $\max_x |f(x) - g(x)| \le \frac{h^2}{8}\max|f''|$ with $h = (b-a)/n$: it falls like $1/n^2$
# and gets as small as we like with enough units. (The same works for any continuous $f$, and
# in a hypercube with more inputs, only with many more units: the 2-D case is drawn below.)


# %%
def f(t):
    return np.sin(2 * t) + 0.3 * t**2


def interpolant(n, lo=-2.0, hi=2.0):
    """The n-unit ReLU network through f at n + 1 evenly spaced knots."""
    knots = np.linspace(lo, hi, n + 1)
    slopes = np.diff(f(knots)) / np.diff(knots)
    u = np.diff(np.concatenate([[0.0], slopes]))  # change of slope at each knot
    return hand_network(np.ones(n), -knots[:-1], u, f(knots[0]))


grid = np.linspace(-2, 2, 1001)
units = [2, 4, 8, 16, 32, 64, 128]
errors = [float(np.max(np.abs(outputs_1d(interpolant(n), grid) - f(grid)))) for n in units]
fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
axes[0].plot(grid, f(grid), color="k", lw=2, label="f")
for n in (3, 6, 12):
    axes[0].plot(grid, outputs_1d(interpolant(n), grid), label=f"{n} ReLU units")
axes[0].set_title("a sum of ReLU units approximating f")
axes[0].set_xlabel("input x")
axes[0].set_ylabel("output")
axes[1].set_ylabel("max |f - g| on [-2, 2]")
axes[0].legend(fontsize=8)
axes[1].loglog(units, errors, "o-", label="max |f - g| (measured)")
bound = [(4 / n) ** 2 / 8 * 4.6 for n in units]  # h²/8 · max|f''|, |f''| ≤ 4 + 0.6
axes[1].loglog(units, bound, "--", color="gray", label="h²/8 · max|f''|")
axes[1].set_xlabel("hidden units n")
axes[1].set_title("the uniform error falls like 1/n²")
axes[1].legend(fontsize=8)
plt.tight_layout()
plt.show()
for n, e in zip(units, errors):
    print(f"{n:4d} units: max error {e:.2e}")

# %% [markdown]
# ## Two inputs: the square
#
# With two inputs, unit $j$ is $\mathrm{relu}(w_{j1}x_1 + w_{j2}x_2 + b_j)$: it is 0 on one
# side of the **line** $w_j \cdot x + b_j = 0$ and a tilted plane on the other. The lines of
# all units cut the square into polygons, and on each polygon the network is one plane:
# $f$ is piecewise linear again, with polygons instead of intervals. To approximate a
# function on the square $[0, 1]^2$ we take $n$ units with random lines through the square
# and choose the outgoing weights $u$ by least squares (the hidden layer fixed, only the
# last layer fitted: enough to show what one hidden layer can represent). The network is an
# ordinary `MLP(2, [n, 1])` with these weights.


# %%
def target(p):
    return np.sin(3 * p[:, 0]) * np.cos(2 * p[:, 1]) + 0.5 * p[:, 0] * p[:, 1]


side = np.linspace(0, 1, 61)
square = np.array([(a, b) for b in side for a in side])  # a 61 × 61 grid


def fit_square(n, seed=0):
    """An MLP(2, [n, 1]) with random unit lines through the square, u fitted to `target`."""
    rng = np.random.default_rng(seed)
    angle, through = rng.uniform(0, 2 * np.pi, n), rng.uniform(0, 1, (n, 2))
    w = np.stack([np.cos(angle), np.sin(angle)], 1) * rng.uniform(1, 4, (n, 1))
    b = -np.sum(w * through, 1)  # each unit's line passes through a point of the square
    features = np.maximum(square @ w.T + b, 0.0)
    design = np.hstack([features, np.ones((len(square), 1))])
    coef = np.linalg.lstsq(design, target(square), rcond=None)[0]
    m = MLP(2, [n, 1], seed=0)
    hidden, out = m.linear_layers
    for j in range(n):
        hidden.weight[j][0].data, hidden.weight[j][1].data = w[j]
        hidden.bias[j].data = b[j]
        out.weight[0][j].data = coef[j]
    out.bias[0].data = coef[-1]
    return m, w, b


sizes = [4, 16, 64, 256]
errors_2d = []
for n in sizes:
    m, _, _ = fit_square(n)
    errors_2d.append(np.max(np.abs(numpy_forward(m, square)[:, 0] - target(square))))
m16, w16, b16 = fit_square(16)
fig, axes = plt.subplots(1, 3, figsize=(9.0, 3.0), layout="constrained")
extent = (0, 1, 0, 1)
for ax, values, title in (
    (axes[0], target(square), "target f(x₁, x₂)"),
    (axes[1], numpy_forward(m16, square)[:, 0], "16 ReLU units and their lines"),
):
    im = ax.imshow(values.reshape(61, 61), origin="lower", extent=extent, cmap="viridis",
                   vmin=-1.2, vmax=1.2)  # fmt: skip
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("input x₁")
axes[0].set_ylabel("input x₂")
axes[1].set_yticklabels([])
for wj, bj in zip(w16, b16):  # the line w·x + b = 0 of each unit
    t = np.linspace(-2, 3, 2)
    d = np.array([-wj[1], wj[0]]) / np.linalg.norm(wj)
    p0 = -bj * wj / (wj @ wj)
    axes[1].plot(p0[0] + t * d[0], p0[1] + t * d[1], color="white", lw=0.6)
axes[1].set_xlim(0, 1)
axes[1].set_ylim(0, 1)
fig.colorbar(im, ax=axes[:2], shrink=0.85, label="output", pad=0.02)
axes[2].loglog(sizes, errors_2d, "o-")
axes[2].set_xlabel("hidden units n")
axes[2].set_ylabel("max error on the square")
axes[2].set_title("the error falls with n", fontsize=9)
plt.show()
for n, e in zip(sizes, errors_2d):
    print(f"{n:4d} units: max error on the 61 × 61 grid {e:.3f}")

# %% [markdown]
# Sixteen lines (white) cut the square into polygons; on each the network is a plane, and
# together the planes already follow the target's hills. With more units the polygons get
# smaller and the uniform error falls (printed): the 2-D case of the lecture's statement.
# It falls more slowly than in 1-D, because the pieces must now tile an area; in $d$
# dimensions the number of units needed for a given error grows exponentially with $d$.

# %% [markdown]
# ## Wider fits better, when trained
#
# Training does not build the interpolant; gradient descent finds *some* weights, and a
# single run of one width can land worse than a narrower one (unlucky initial breakpoints,
# units that die when their $z_j < 0$ for every sample). So each width is trained from three
# seeds to near convergence (Adam, 300 full-batch epochs) and we plot the mean of the best
# training MSE, with the range over seeds.

# %%
widths, seeds = [1, 2, 4, 8, 16, 32], (0, 1, 2)
best = np.zeros((len(widths), len(seeds)))
for i, n in enumerate(widths):
    for k, seed in enumerate(seeds):
        m = MLP(1, [n, 1], seed=seed)
        h = fit(
            m,
            x,
            y,
            Adam(m.parameters(), lr=0.02),
            epochs=300,
            loss="mse",
            progress=False,
            track_updates=False,
        )
        best[i, k] = min(h.train_loss)
mean = best.mean(1)
fig, ax = plt.subplots(figsize=(6, 3.6))
ax.fill_between(widths, best.min(1), best.max(1), alpha=0.25, label="range over 3 seeds")
ax.plot(widths, mean, "o-", label="mean over 3 seeds")
ax.set_xscale("log", base=2)
ax.set_yscale("log")
ax.set_xlabel("hidden units")
ax.set_ylabel("training MSE")
ax.set_title("wider fits the training data better")
ax.legend(fontsize=8)
plt.show()
for n, e in zip(widths, mean):
    print(f"{n:3d} units: mean training MSE {e:.4f}")

# %% [markdown]
# The mean falls steeply up to 8 units, then plateaus at the noise level, $0.05^2 = 0.0025$
# (8 and 16 units give the same mean; 32 units end only a little lower): the data are a
# smooth curve plus noise of standard deviation 0.05, and a few units already fit the curve;
# the rest of the error is noise, which only memorising individual points would lower.

# %% [markdown]
# ## Depth composes pieces
#
# Each layer takes the previous layer's piecewise-linear function as its input and calls it
# as a subroutine. The tent map $t(x) = 2\,\mathrm{relu}(x) - 4\,\mathrm{relu}(x - \tfrac12)$
# needs two units; composed $k$ times ($k$ hidden layers of 2 units) it has $2^k$ pieces on
# $[0, 1]$. One hidden layer would need about $2^k$ units for as many: the number of pieces
# grows multiplicatively with depth, only additively with width.

# %%
for k in (1, 2, 3, 4, 5):
    m = tent_network(k)
    n_pieces = linear_pieces(m, (0, 1), n=4001)
    print(f"depth {k}: {len(m.parameters()):3d} parameters, {n_pieces:3d} pieces")
tents = {f"depth {k}": tent_network(k) for k in (1, 2, 3)}
plot_1d(tents, (0, 1), "the tent map composed k times: 2^k pieces")

# %% [markdown]
# ## Exercises
#
# Write each answer in the cell tagged `exercise`, then run the check below it. Stuck?
# `show_solution("N.k")` (in a new cell) prints a worked solution of exercise N.k.
#
# ### Exercise 5.1 (easy)
# Where does the unit $\mathrm{relu}(2x - 3)$ start being active? (A number: the $x$ of its
# breakpoint.)

# %% tags=["exercise"]
answer = ...

# %%
check("5.1", answer)

# %% [markdown]
# ### Exercise 5.2 (medium)
# Give a network with two hidden ReLU units that computes $|x|$ exactly (use `hand_network`;
# hint: where must the kink be, and what slope does each unit contribute on each side of it?).

# %% tags=["exercise"]
answer = ...

# %%
check("5.2", answer)

# %% [markdown]
# ### Exercise 5.3 (stretch)
# Give a one-hidden-layer ReLU network with **at most 8** hidden units whose uniform error to
# $x^2$ on $[0, 1]$ is below 0.01. How few units can you manage?

# %% tags=["exercise"]
answer = ...

# %%
check("5.3", answer)
