"""micrograd's tutorials, written the way its demo and trace notebooks write them."""

from __future__ import annotations

import numpy as np
import pytest
from chainrule.engine import Value
from chainrule.nn import MLP, Layer, Neuron, make_moons
from hypothesis import given
from hypothesis import strategies as st


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_demo_notebook_loop_reaches_100_percent_on_moons(seed: int) -> None:
    # micrograd's demo.ipynb, cell by cell; sklearn's make_moons is ours with a seed.
    # The one change: micrograd's init (weights U(-1, 1), biases 0) is named, as
    # MLP's default is torch.nn.Linear's (4x smaller weights: 100 steps are too few).
    X, y = make_moons(n_samples=100, noise=0.1)
    y = y * 2 - 1  # make y be -1 or 1
    assert X.shape == (100, 2) and y.shape == (100,) and y.dtype.kind == "i"
    model = MLP(2, [16, 16, 1], init="micrograd", seed=seed)  # 2-layer neural network

    def loss(batch_size=None):  # type: ignore[no-untyped-def]
        Xb, yb = X, y
        inputs = [list(map(Value, xrow)) for xrow in Xb]
        # forward the model to get scores
        scores = list(map(model, inputs))
        # svm "max-margin" loss
        losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(yb, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        # L2 regularization
        alpha = 1e-4
        reg_loss = alpha * sum(p * p for p in model.parameters())
        total_loss = data_loss + reg_loss
        # also get accuracy
        accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(yb, scores)]
        return total_loss, sum(accuracy) / len(accuracy)

    total_loss, acc = loss()
    assert isinstance(total_loss, Value)
    first = total_loss.data
    for k in range(100):
        # forward
        total_loss, acc = loss()
        # backward
        model.zero_grad()
        total_loss.backward()
        # update (sgd)
        learning_rate = 1.0 - 0.9 * k / 100
        for p in model.parameters():
            p.data -= learning_rate * p.grad
    total_loss, acc = loss()
    assert total_loss.data < first / 10
    assert acc == 1.0

    # the decision boundary, as the notebook draws it: one Value list per grid point
    xx, yy = np.meshgrid(np.arange(-2, 3, 0.5), np.arange(-1.5, 2, 0.5))
    Xmesh = np.c_[xx.ravel(), yy.ravel()]
    inputs = [list(map(Value, xrow)) for xrow in Xmesh]
    scores = list(map(model, inputs))
    Z = np.array([s.data > 0 for s in scores])
    batch = model(Xmesh)  # the same points as one batch: one batched Value
    assert Z.tolist() == (batch.data > 0).tolist()


def test_the_trace_graph_notebook_neuron() -> None:
    n = Neuron(2)
    x = [Value(1.0), Value(-2.0)]
    y = n(x)
    y.backward()
    assert isinstance(y, Value)
    z = n.w[0].data * 1.0 + n.w[1].data * -2.0 + n.b.data  # type: ignore[union-attr]
    assert y.data == pytest.approx(max(0.0, z))  # ReLU unless told otherwise
    active = 1.0 if z > 0 else 0.0
    assert [w.grad for w in n.w] == [active * 1.0, active * -2.0]
    assert x[0].grad == pytest.approx(active * n.w[0].data)
    assert n.b.grad == active  # type: ignore[union-attr]
    # a micrograd-style tracer reads _prev, _op, data, grad
    nodes, stack = set(), [y]
    while stack:
        v = stack.pop()
        if v not in nodes:
            nodes.add(v)
            stack.extend(v._prev)
    assert {v for v in nodes if not v._prev} >= {*x, *n.w, n.b}


@given(seed=st.integers(0, 10_000), nin=st.integers(1, 4), nout=st.integers(1, 4))
def test_parameters_in_micrograd_order_and_the_nonlin_flag(seed: int, nin: int, nout: int) -> None:
    layer = Layer(nin, nout, seed=seed)
    # per neuron: its weights, then its bias
    expected = [v for row, b in zip(layer.weight, layer.bias or []) for v in (*row, b)]
    assert layer.parameters() == expected
    assert layer.activation == "relu"
    assert Layer(nin, nout, nonlin=False).activation == "identity"
    assert Neuron(nin, nonlin=False).activation == "identity"
    assert Neuron(nin, False).activation == "identity"
    assert Neuron(nin).activation == "relu"
    model = MLP(nin, [nout, 1], seed=seed)
    assert model.layers[-1].activation == "identity"  # type: ignore[attr-defined]
    assert model.layers[0].activation == "relu"  # type: ignore[attr-defined]
    assert model.parameters() == [p for m in model.layers for p in m.parameters()]
    # state dicts keep PyTorch's layout: the [out][in] matrix and the bias vector
    sd = layer.state_dict()
    assert sd["weight"] == [[w.data for w in row] for row in layer.weight]
    assert list(sd) == ["weight", "bias"]


def test_one_sample_in_one_value_out_and_a_list_for_several() -> None:
    x = [Value(1.0), Value(-2.0)]
    assert isinstance(MLP(2, [4, 1], seed=0)(x), Value)
    out = MLP(2, [4, 3], seed=0)(x)
    assert isinstance(out, list) and len(out) == 3
    assert isinstance(Layer(2, 1, seed=0)(x), Value)
    with pytest.raises(TypeError, match="either activation or micrograd's nonlin"):
        Layer(2, 2, "relu", nonlin=True)


def test_every_parameter_of_a_network_has_its_own_label() -> None:
    model = MLP(3, [4, 4, 2], batchnorm=True, seed=0)
    labels = [p.label for p in model.parameters()]
    assert len(set(labels)) == len(labels) and all(labels)
    # the label is the state dict's name with the index
    expected = set()
    for tensor, t in model.named_tensors():
        assert tensor in model.state_dict()
        for i, row in enumerate(t):
            expected |= (
                {f"{tensor}[{i}][{j}]" for j in range(len(row))}
                if isinstance(row, list)
                else {f"{tensor}[{i}]"}
            )
    assert set(labels) == expected
    assert model.layers[0].weight[0][1].label == "layers.0.weight[0][1]"  # type: ignore[attr-defined]


def test_the_lecture_loop_and_its_neurons() -> None:
    # the video lecture's tiny data set and loop, as written there
    x = [2.0, 3.0, -1.0]
    n = MLP(3, [4, 4, 1], seed=1)
    assert isinstance(n(x), Value)
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]
    ypred = [n(x) for x in xs]
    loss = sum((yout - ygt) ** 2 for ygt, yout in zip(ys, ypred))
    loss.backward()  # type: ignore[union-attr]
    w = n.layers[0].neurons[0].w[0]  # type: ignore[attr-defined]
    assert w is n.layers[0].weight[0][0]  # type: ignore[attr-defined]
    assert any(p.grad != 0.0 for p in n.parameters())
    assert w.label == "layers.0.weight[0][0]"  # a neuron view keeps the network's labels
    assert len(n.parameters()) == 4 * 4 + 4 * 5 + 5
    assert n.layers[0].neurons[2].parameters() == n.layers[0].parameters()[8:12]  # type: ignore[attr-defined]
    first = loss.data  # type: ignore[union-attr]
    for _k in range(20):
        ypred = [n(x) for x in xs]
        loss = sum((yout - ygt) ** 2 for ygt, yout in zip(ys, ypred))
        for p in n.parameters():
            p.grad = 0.0
        loss.backward()  # type: ignore[union-attr]
        for p in n.parameters():
            p.data += -0.05 * p.grad
    assert loss.data < first / 4  # type: ignore[union-attr]
