"""One graph for the whole batch (engine.batched): a node's number may be a numpy array
over the samples. Every result must equal the per-sample path (the same graph built once
per sample) and PyTorch's in float64."""

from __future__ import annotations

import copy
import math
import pickle
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from chainrule.engine import Function, Value, add_all, grad, gradcheck, neuron, no_grad
from chainrule.engine.backprop import order
from chainrule.nn import MLP, Layer, make_moons
from chainrule.nn.losses import bce_with_logits, cross_entropy, hinge_loss, mse_loss
from chainrule.nn.regularization import l1_penalty, l2_penalty
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.strategies import returning


def _close(ours: Any, theirs: Any, what: str, rtol: float = 1e-12) -> None:
    """Equal to rtol relative to max(1, |x|), elementwise; NaNs equal NaNs."""
    a, b = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    ok = (np.abs(a - b) <= rtol * np.maximum(1.0, np.abs(b))) | (np.isnan(a) & np.isnan(b))
    ok |= a == b  # infinities
    assert ok.all(), f"{what}: {a} vs {b}"


def _moons_step(model: MLP, X: np.ndarray, Y: np.ndarray) -> tuple[float, list[float]]:
    score = model(X)
    loss = (1 - Y * score).relu().mean() + 1e-4 * sum(p * p for p in model.parameters())
    model.zero_grad()
    loss.backward()
    return loss.data, [p.grad for p in model.parameters()]


def _moons_per_sample(model: MLP, X: np.ndarray, Y: np.ndarray) -> tuple[float, list[float]]:
    scores = [model(list(x)) for x in X.tolist()]
    data = add_all([(1 - y * s).relu() for y, s in zip(Y.tolist(), scores)]) / len(X)
    loss = data + 1e-4 * sum(p * p for p in model.parameters())
    model.zero_grad()
    loss.backward()
    return loss.data, [p.grad for p in model.parameters()]


def _moons_torch(model: MLP, X: np.ndarray, Y: np.ndarray) -> tuple[float, list[float]]:
    sd = model.state_dict()
    params = []
    h = torch.tensor(X, dtype=torch.float64)
    for i in range(3):
        w = torch.tensor(sd[f"layers.{i}.weight"], dtype=torch.float64, requires_grad=True)
        b = torch.tensor(sd[f"layers.{i}.bias"], dtype=torch.float64, requires_grad=True)
        params += [(w, b)]
        h = h @ w.T + b
        h = h.relu() if i < 2 else h[:, 0]
    reg = sum((w * w).sum() + (b * b).sum() for w, b in params)
    loss = (1 - torch.tensor(Y) * h).relu().mean() + 1e-4 * reg
    loss.backward()
    grads = []  # micrograd's order: unit by unit, its weights then its bias
    for w, b in params:
        for j in range(w.shape[0]):
            grads += [*w.grad[j].tolist(), float(b.grad[j])]
    return loss.item(), grads


def test_micrograds_moons_step_batched_equals_per_sample_and_torch() -> None:
    X, y = make_moons(100, noise=0.1, seed=1)
    Y = np.where(y == 1, 1.0, -1.0)
    model = MLP(2, [16, 16, 1], seed=0)
    loss, grads = _moons_step(model, X, Y)
    assert all(type(g) is float for g in grads)  # no parameter's grad is ever an array
    for what, (ref_loss, ref_grads) in (
        ("per-sample", _moons_per_sample(model, X, Y)),
        ("torch", _moons_torch(model, X, Y)),
    ):
        _close(loss, ref_loss, f"loss vs {what}")
        _close(grads, ref_grads, f"gradients vs {what}")


def test_fused_and_elementary_layers_batched_agree() -> None:
    X = np.random.default_rng(0).normal(size=(5, 3))
    for act in ("relu", "tanh", "sigmoid"):
        fused, plain = (MLP(3, [4, 2], act, fused=f, seed=0) for f in (True, False))
        outs = [m(X) for m in (fused, plain)]
        for a, b in zip(*outs):
            _close(a.data, b.data, act)
        for m, out in zip((fused, plain), outs):
            m.zero_grad()
            add_all([o.sum() for o in out]).backward()
        _close([p.grad for p in fused.parameters()], [p.grad for p in plain.parameters()], act)


# A layer's units pass their gradients on together (engine.batched.LayerEdges): held
# while the sweep is on the layer, passed on before any other node. These graphs mix the
# units with other nodes, leave some units out, reuse an input elsewhere, and give the
# layer scalar inputs, so a unit's gradient read early or lost would show.
UNIT_USES: list[Callable[[list[Any], list[Any]], Any]] = [
    lambda h, x: h[0],
    lambda h, x: h[0] * h[2].tanh() + h[2],
    lambda h, x: (h[1] * x[0]).exp() - h[0] * h[1],
    lambda h, x: h[2] * 3.0 + x[1] * x[0],
    lambda h, x: (h[0] + x[2]).sigmoid() * h[0],
]


@settings(max_examples=30, deadline=None)
@given(
    uses=st.lists(st.sampled_from(range(len(UNIT_USES))), min_size=1, max_size=4),
    scalar_input=st.booleans(),
    act=st.sampled_from(["relu", "tanh", "identity"]),
    seed=st.integers(0, 2**16),
)
def test_a_layer_passes_its_gradients_on_whatever_the_graph_around_it(
    uses: list[int], scalar_input: bool, act: str, seed: int
) -> None:
    from chainrule.engine import fused_linear

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(4, 3))
    weight = [[Value(v) for v in row] for row in rng.normal(size=(3, 3))]
    bias = [Value(v) for v in rng.normal(size=3)]
    c = Value(0.7)  # a scalar input: the same number in every sample

    def total(xs: list[Any]) -> Value:
        # inputs made by ops (backward reaches them after the layer), and one leaf
        ins = [c * 2.0 if scalar_input else xs[0] * 1.5, xs[1].tanh(), xs[2]]
        h = fused_linear([ins], weight, bias, act)[0]
        return add_all([UNIT_USES[k](h, xs) for k in uses])

    params = [*[w for row in weight for w in row], *bias, c]
    xb = [Value(col) for col in X.T]
    total(xb).sum().backward()
    batched = [p.grad for p in params], [x.grad for x in xb]
    for p in params:
        p.grad = 0.0
    per_x = [[Value(v) for v in row] for row in X.tolist()]
    add_all([total(xs) for xs in per_x]).backward()
    _close(batched[0], [p.grad for p in params], "parameters")
    for i, x in enumerate(xb):
        _close(np.broadcast_to(x.grad, 4), [xs[i].grad for xs in per_x], f"input {i}")


# --- every op, batched against per sample ----------------------------------------------

UNARY: dict[str, Callable[[Any], Any]] = {
    "exp": lambda v: v.exp(),
    "log": lambda v: (v * v + 0.5).log(),
    "sqrt": lambda v: v.abs().sqrt(),
    "abs": abs,
    "softplus": lambda v: v.softplus(),
    "relu": lambda v: v.relu(),
    "tanh": lambda v: v.tanh(),
    "sigmoid": lambda v: v.sigmoid(),
    "neg": lambda v: -v,
    "round": round,
    "pow 3": lambda v: v**3,
    "pow 0.5": lambda v: v.abs() ** 0.5,
    "pow -1": lambda v: (v * v + 1) ** -1,
    "pow Value": lambda v: (v * v + 1) ** (v.sigmoid()),
}
BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / (b * b + 1),
    "rpow": lambda a, b: (a * a + 1) ** b,
}
samples = st.lists(st.floats(-3.0, 3.0), min_size=1, max_size=6)


def _per_sample(f: Callable[..., Value], xs: list[float], w: float) -> tuple[list, list, float]:
    """f at each sample on its own graph: (values, d/dx per sample, Σ d/dw)."""
    values, dxs, dw = [], [], 0.0
    for x in xs:
        xv, wv = Value(x), Value(w)
        out = f(xv, wv)
        out.backward()
        values.append(out.data)
        dxs.append(xv.grad)
        dw += wv.grad
    return values, dxs, dw


@settings(max_examples=25, deadline=None)
@given(xs=samples, w=st.floats(-2.0, 2.0), name=st.sampled_from([*UNARY, *BINARY]))
def test_each_op_batched_equals_the_per_sample_graph(xs: list[float], w: float, name: str) -> None:
    """A batched x and a scalar parameter w on either side of every op."""
    cases: list[Callable[..., Value]]
    if name in UNARY:
        op = UNARY[name]
        cases = [lambda x, w: op(x * w), lambda x, w: op(w) * x]
    else:
        op2 = BINARY[name]
        cases = [lambda x, w: op2(x, w), lambda x, w: op2(w, x), lambda x, w: op2(x, x * w)]
    for f in cases:
        x, wv = Value(np.array(xs)), Value(w)
        out = f(x, wv)
        out.backward(gradient=np.ones(len(xs)))
        values, dxs, dw = _per_sample(f, xs, w)
        _close(out.data, values, f"{name} value")
        _close(x.grad, dxs, f"{name} d/dx")
        assert type(wv.grad) is float
        _close(wv.grad, dw, f"{name} d/dw", rtol=1e-10)


def test_numpy_arrays_on_either_side_build_batched_nodes() -> None:
    """`1 - Y * score` with Y an array: a batched node, never an array of objects."""
    Y = np.array([1.0, -1.0, 1.0])
    score = Value(np.array([0.5, 0.2, -2.0]))
    for out in (1 - Y * score, Y * score - 1, Y / (score + 3), np.float64(2.0) ** score):
        assert type(out) is Value and out.data.shape == (3,)
    w = Value(2.0)
    out = (Y * w).sum()
    out.backward()
    assert out.data == 2.0 and w.grad == 1.0


# --- clear errors ------------------------------------------------------------------------


def test_a_batched_value_refuses_bool_float_and_comparisons() -> None:
    v = Value(np.array([1.0, -1.0]))
    for use in (bool, float, int, lambda v: v.item(), lambda v: v < 0, lambda v: v > 0):
        with pytest.raises(TypeError, match=r"batched Value.*\.sum\(\)"):
            use(v)
    with pytest.raises(TypeError, match="batched"):
        Value(1.0) > v  # noqa: B015
    assert "batch of 2" in repr(v)


def test_backward_of_a_batched_value_needs_a_gradient_of_its_shape_as_torch() -> None:
    x = Value(np.array([1.0, 2.0, 3.0]))
    w = Value(0.5)
    y = (x * w).tanh()
    for bad in (1.0, np.ones(2), [1.0, 2.0]):
        with pytest.raises(RuntimeError, match="shape"):
            y.backward(gradient=bad)
    with pytest.raises(RuntimeError, match="scalar outputs"):
        y.backward()
    with pytest.raises(RuntimeError, match="shape"):
        grad(y, [w])
    assert w.grad == 0.0 and x.grad == 0.0  # nothing stored changed
    seed = np.array([1.0, -2.0, 0.5])
    y.backward(gradient=seed)
    tx = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, requires_grad=True)
    tw = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    (tx * tw).tanh().backward(gradient=torch.tensor(seed))
    _close(x.grad, tx.grad, "d/dx")
    _close(w.grad, tw.grad.item(), "d/dw")
    assert seed.tolist() == [1.0, -2.0, 0.5]  # the seed was copied, not written into
    with pytest.raises(RuntimeError, match="shape"):
        (x * w).sum().backward(gradient=np.ones(3))


@pytest.mark.parametrize(
    ("f", "error", "message"),
    [
        (lambda x: x.log(), ValueError, r"log: input must be positive, got -1.0 \(sample 1\)"),
        (lambda x: x.sqrt(), ValueError, r"sqrt: .*-1.0 \(sample 1\)"),
        (lambda x: 1 / (x - 2), ZeroDivisionError, r"divisor is zero.*\(sample 0\)"),
        (lambda x: x**0.5, ValueError, r"pow: negative base -1.0.*\(sample 1\)"),
        (lambda x: (x - 2) ** -1, ZeroDivisionError, r"pow: zero base.*\(sample 0\)"),
        (lambda x: (x * 1000).exp(), OverflowError, r"exp: .*\(sample 0\)"),
        (lambda x: (x * 1e200) ** 2, OverflowError, r"pow: .*overflows.*\(sample 0\)"),
    ],
)
def test_errors_name_the_op_and_the_sample(f: Any, error: type, message: str) -> None:
    """What the per-sample graph raises, the batched one raises, naming the sample."""
    with pytest.raises(error, match=message):
        f(Value(np.array([2.0, -1.0, 3.0])))


@pytest.mark.parametrize(
    "bad",
    [np.ones((2, 2)), np.array([]), np.array([True, False]), np.array(["a"]), np.ones(3) * 1j],
)
def test_a_value_holds_a_number_or_a_1d_batch_of_real_numbers(bad: np.ndarray) -> None:
    with pytest.raises((TypeError, ValueError), match="Value data"):
        Value(bad)
    assert type(Value(np.float64(2.0)).data) is float and Value(np.array(3.0)).data == 3.0


def test_batches_of_different_lengths_do_not_mix() -> None:
    with pytest.raises(ValueError):
        Value(np.ones(3)) + Value(np.ones(4))


# --- the rest of the engine on a batched graph ---------------------------------------------


def test_create_graph_and_gradcheck_on_a_batch() -> None:
    X = np.array([0.3, -1.2, 2.0])
    x, w = Value(X), Value(0.7)
    loss = ((x * w).tanh() * x).mean()
    (gw,) = grad(loss, [w], create_graph=True)
    (gww,) = grad(gw, [w])
    tx = torch.tensor(X)
    tw = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    (tgw,) = torch.autograd.grad(((tx * tw).tanh() * tx).mean(), [tw], create_graph=True)
    (tgww,) = torch.autograd.grad(tgw, [tw])
    _close([gw.data, gww], [tgw.item(), tgww.item()], "first and second derivative")
    result = gradcheck(lambda x, w: (x * w).tanh() * x, [X, 0.7])
    assert result.ok and len(result.analytic) == 4


@pytest.mark.parametrize(
    "f",
    [lambda v: v.sqrt(), lambda v: v**0.5, lambda v: v**3, lambda v: v**1.5, lambda v: v**2.5],
    ids=["sqrt", "pow 0.5", "pow 3", "pow 1.5", "pow 2.5"],
)
@pytest.mark.filterwarnings("ignore:invalid value encountered")  # numpy's, summing inf - inf
def test_derivatives_of_derivatives_at_a_zero_inside_a_batch_are_torchs(f: Callable) -> None:
    """At ±0 the derivatives of √x and x**n are PyTorch's infinities; a batch holding a
    zero among other numbers gets them elementwise, at every order."""
    xs = [0.0, -0.0, 1.0, 4.0]
    x = Value(np.array(xs))
    (g,) = grad(f(x).sum(), x, create_graph=True)
    (h,) = grad(g.sum(), x, create_graph=True)
    (k,) = grad(h.sum(), x)
    t = torch.tensor(xs, dtype=torch.float64, requires_grad=True)
    (tg,) = torch.autograd.grad(f(t).sum(), t, create_graph=True)
    (th,) = torch.autograd.grad(tg.sum(), t, create_graph=True)
    (tk,) = torch.autograd.grad(th.sum(), t)
    for ours, theirs, nth in ((g.data, tg, 1), (h.data, th, 2), (k, tk, 3)):
        _close(ours, theirs.detach().numpy(), f"derivative {nth}")
        assert (np.signbit(ours) == np.signbit(theirs.detach().numpy())).all(), nth
    for i, v in enumerate(xs):  # and each sample's own scalar graph
        xv = Value(v)
        (g1,) = grad(f(xv), xv, create_graph=True)
        (h1,) = grad(g1, xv, create_graph=True)
        _close([g1.data, h1.data, grad(h1, xv)[0]], [g.data[i], h.data[i], k[i]], f"sample {i}")


def test_no_grad_and_copies_of_a_batched_graph() -> None:
    x, w = Value(np.array([1.0, 2.0])), Value(3.0)
    with no_grad():
        y = (x * w).relu()
    assert y.is_leaf and y.data.tolist() == [3.0, 6.0]
    loss = (x * w).relu().mean()
    for how in (copy.deepcopy, lambda v: pickle.loads(pickle.dumps(v))):
        loss2 = how(loss)
        loss2.backward()
        leaves = [v for v in order(loss2) if v.is_leaf]
        assert loss2.data == 4.5 and sorted(type(v.grad).__name__ for v in leaves)


def test_fused_neuron_over_a_batch_and_reading_one_sample() -> None:
    """The batched node holds each sample's numbers: `v.sample(i)` reads sample i's number,
    gradient and local derivatives, as the node of sample i's own graph."""
    rng = np.random.default_rng(1)
    X, w = rng.normal(size=(6, 3)), [Value(v) for v in rng.normal(size=3)]
    b = Value(0.1)
    batched = neuron(w, [Value(c) for c in X.T], b, "tanh")
    batched.backward(gradient=np.ones(6))
    for i, row in enumerate(X.tolist()):
        one = neuron(w, row, b, "tanh")
        one.backward()
        data, g, edges = batched.sample(i)
        _close([data, g], [one.data, one.grad], f"sample {i}")
        _close([d for _, d in edges], one.local_grads, f"sample {i}'s local derivatives")
    with pytest.raises(IndexError, match="sample 6 of a batch of 6"):
        batched.sample(6)


def test_a_sample_of_batched_values_and_numpy_columns_in_any_order() -> None:
    """A list holding a batched Value and 1-D arrays is one sample whose features are
    columns of the batch, whichever comes first; a list mixing rows with numbers is an
    error that says so."""
    X = np.random.default_rng(3).normal(size=(4, 2))
    layer = Layer(2, 3)
    h = Value(X[:, 1])
    for got, want in ((layer([X[:, 0], h]), layer(X)), (layer([h, X[:, 0]]), layer(X[:, ::-1]))):
        _close([v.data for v in got], [v.data for v in want], "outputs")
    with pytest.raises(TypeError, match=r"mixing both: items \[0\] are sequences"):
        layer([[1.0, 2.0], 3.0])


def test_an_empty_batch_and_classes_of_the_wrong_shape_are_named() -> None:
    model = MLP(2, [3])
    with pytest.raises(ValueError, match=r"at least one sample, got shape \(0, 2\)"):
        model(np.zeros((0, 2)))
    with pytest.raises(ValueError, match=r"shape \(3,\) for this batch, got shape \(3, 1\)"):
        cross_entropy(model(np.ones((3, 2))), np.zeros((3, 1)))


@pytest.mark.parametrize("loss", [mse_loss, hinge_loss, cross_entropy, bce_with_logits])
def test_losses_and_penalties_accept_batched_outputs(loss: Callable[..., Value]) -> None:
    rng = np.random.default_rng(2)
    X = rng.normal(size=(7, 3))
    nout = 4 if loss is cross_entropy else 1
    target = {
        mse_loss: rng.normal(size=7),
        hinge_loss: np.where(rng.random(7) > 0.5, 1.0, -1.0),
        cross_entropy: rng.integers(0, 4, 7),
        bce_with_logits: rng.random(7),
    }[loss]
    model = MLP(3, [5, nout], seed=0)
    results = []
    for x in (X, X.tolist()):
        total = loss(model(x), target) + 0.1 * l1_penalty(model) + 0.2 * l2_penalty(model)
        model.zero_grad()
        total.backward()
        results.append((total.data, [p.grad for p in model.parameters()]))
    _close(results[0][0], results[1][0], "loss")
    _close(results[0][1], results[1][1], "gradients")


@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_and_dropout_batched_equal_per_sample(training: bool) -> None:
    """Batch statistics as reductions in the graph, a dropout mask per sample: the same
    numbers, gradients and running statistics as the per-sample path (which test_dropout_
    batchnorm checks against PyTorch)."""
    X = np.random.default_rng(3).normal(size=(9, 3))
    t = np.random.default_rng(4).normal(size=9)
    a, b = (MLP(3, [5, 4, 1], batchnorm=True, dropout=0.3, seed=0) for _ in range(2))
    a.train(training)
    b.train(training)
    for _ in range(2):
        results = []
        for model, x, y in ((a, X, t), (b, X.tolist(), t.tolist())):
            loss = mse_loss(model(x), y)
            model.zero_grad()
            loss.backward()
            results.append((loss.data, [p.grad for p in model.parameters()], model.state_dict()))
        _close(results[0][0], results[1][0], "loss")
        _close(results[0][1], results[1][1], "gradients")
        for key, value in results[0][2].items():
            _close(value, results[1][2][key], key)


def test_a_custom_op_runs_elementwise_on_a_batch() -> None:
    class Cube(Function):
        @staticmethod
        def forward(ctx: Any, x: Value) -> Value:
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        def backward(ctx: Any, grad_output: Value) -> Value:
            (x,) = ctx.saved_values
            return grad_output * 3 * x * x

    x, w = Value(np.array([1.0, -2.0])), Value(0.5)
    loss = Cube.apply(x * w).sum()
    loss.backward()
    assert loss.data == 0.125 - 1.0 and type(w.grad) is float
    _close(w.grad, 3 * 0.25 * 1.0 + 3 * 1.0 * -2.0, "d/dw")
    with pytest.raises(TypeError, match=r"Odd\.backward"):
        returning(None, "2").apply(x)
    assert math.isfinite(w.grad)


@pytest.mark.parametrize("batchnorm", [False, True])
def test_backward_steps_of_one_sample_is_that_samples_own_pass(batchnorm: bool) -> None:
    X, y = make_moons(12, noise=0.1, seed=3)
    Y = (y * 2 - 1).astype(float)
    model = MLP(2, [4, 3, 1], seed=1, batchnorm=batchnorm)
    loss = (1 - Y * model(X)).relu().mean() + 1e-4 * sum(p * p for p in model.parameters())
    loss.backward()
    grads = [p.grad for p in model.parameters()]
    k = 5
    steps = list(loss.backward_steps(sample=k))
    assert [p.grad for p in model.parameters()] == grads  # the batch's gradients untouched
    assert steps[0].upstream == 1.0 and [s.index for s in steps] == list(range(len(steps)))
    params = {id(p) for p in model.parameters()}
    # the pass reaches every parameter, and d(term)/dw from the steps is sample k's share:
    # the batch's mean-loss gradient is the average of the samples' (without batch norm,
    # whose statistics tie the samples together)
    from_steps: dict[int, float] = {}
    for s in steps:
        for c in s.contributions:
            if id(c.parent) in params:
                from_steps[id(c.parent)] = from_steps.get(id(c.parent), 0.0) + c.added
    assert set(from_steps) == params
    if not batchnorm:
        model.eval()
        term = (1 - Y[k] * model(X[k].tolist())).relu()
        mine = list(term.backward_steps())
        assert [s.node.op for s in steps] == [s.node.op for s in mine]
        for a, b in zip(steps, mine):
            assert a.upstream == pytest.approx(b.upstream, rel=1e-12, abs=1e-15)
            added = [c.added for c in b.contributions]
            assert [c.added for c in a.contributions] == pytest.approx(added, rel=1e-12, abs=1e-15)
    with pytest.raises(IndexError, match="out of range for a batch of 12"):
        list(loss.backward_steps(sample=12))


def test_a_custom_op_whose_numbers_do_not_match_the_batch_is_refused() -> None:
    # forward's output or backward's derivatives of another length than the batch would
    # give the inputs gradients of the wrong shape (or fail later, in numpy's words)
    class Longer(Function):
        @staticmethod
        def forward(ctx: Any, x: Value) -> Any:
            return np.ones(3)

        @staticmethod
        def backward(ctx: Any, grad_output: Value) -> Any:
            return grad_output

    class Shorter(Function):
        @staticmethod
        def forward(ctx: Any, x: Value) -> Value:
            return x * 2

        @staticmethod
        def backward(ctx: Any, grad_output: Value) -> Any:
            return np.ones(1)

    x = Value(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"Longer\.forward returned 3 numbers for a batch of 2"):
        Longer.apply(x)
    with no_grad(), pytest.raises(ValueError, match=r"Longer\.forward returned 3 numbers"):
        Longer.apply(x)
    with pytest.raises(ValueError, match=r"Shorter\.backward returned 1 numbers for a batch of 2"):
        Shorter.apply(x)
    assert x.grad == 0.0


def test_sample_k_of_a_loss_that_reduces_the_batch_twice_is_refused() -> None:
    # a.mean() + b.mean(): sample k's loss term is a_k + b_k; a view rooted at the first
    # reduction's term alone would silently leave b out
    X, _ = make_moons(6, noise=0.1, seed=3)
    model = MLP(2, [3, 1], seed=1)
    out = model(X)
    loss = out.mean() + (model(2 * X) ** 2).mean()
    with pytest.raises(ValueError, match="reduces the batch in more than one place"):
        list(loss.backward_steps(sample=0))
    mean = out.mean()
    steps = list((mean * mean).backward_steps(sample=0))  # one reduction, used twice
    assert len(steps) == len(list(mean.backward_steps(sample=0))) == 4
    for bad in (True, 1.5, "0"):
        with pytest.raises(TypeError, match="sample is an integer"):
            list(loss.backward_steps(sample=bad))  # type: ignore[arg-type]
