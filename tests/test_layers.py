"""Neurons, layers and MLPs: against torch.nn with the same weights; fused = elementary."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from chainrule.engine import Value
from chainrule.nn import MLP, Layer, Neuron, Sequential, hinge_loss, permute_hidden
from hypothesis import given
from hypothesis import strategies as st

from tests.reference import assert_close
from tests.torch_models import F64, grads_of, torch_grads, torch_linear, torch_mlp

batch_2d = st.lists(st.lists(st.floats(-3, 3), min_size=2, max_size=2), min_size=1, max_size=5)


@pytest.mark.parametrize("act", ["identity", "relu", "tanh", "sigmoid"])
@given(x=batch_2d, seed=st.integers(0, 1000))
def test_layer_matches_torch_linear(act: str, x: list[list[float]], seed: int) -> None:
    layer = Layer(2, 3, act, seed=seed)
    out = layer(x)
    lin = torch_linear(layer)
    tx = torch.tensor(x, dtype=F64)
    ref = {
        "identity": lambda z: z,
        "relu": torch.relu,
        "tanh": torch.tanh,
        "sigmoid": torch.sigmoid,
    }[act](lin(tx))
    for i, row in enumerate(out):
        for j, v in enumerate(row):
            assert_close(v.data, ref[i, j], f"out[{i}][{j}]")
    total = sum((v for row in out for v in row), Value(0.0))
    total.backward()
    ref.sum().backward()
    for j in range(3):
        assert_close(layer.bias[j].grad, lin.bias.grad[j], f"bias[{j}]")  # type: ignore[index]
        for i in range(2):
            assert_close(layer.weight[j][i].grad, lin.weight.grad[j, i], f"weight[{j}][{i}]")


@given(x=batch_2d, seed=st.integers(0, 1000))
def test_mlp_forward_and_gradients_match_torch(x: list[list[float]], seed: int) -> None:
    model = MLP(2, [8, 8, 1], init="he", seed=seed)
    seq = torch_mlp(model)
    y = [1 if i % 2 else -1 for i in range(len(x))]
    loss = hinge_loss(model(x), y)
    loss.backward()
    scores = seq(torch.tensor(x, dtype=F64)).squeeze(1)
    ref = torch.relu(1 - torch.tensor(y, dtype=F64) * scores).mean()  # relu'(0) = 0
    ref.backward()
    assert_close(loss.data, ref, "loss")
    for k, (a, b) in enumerate(zip(grads_of(model), torch_grads(seq))):
        assert_close(a, b, f"grad {k}", rtol=1e-10, atol=1e-14)


@given(x=batch_2d, seed=st.integers(0, 1000), act=st.sampled_from(["relu", "tanh", "sigmoid"]))
def test_fused_and_elementary_graphs_agree(x: list[list[float]], seed: int, act: str) -> None:
    fused = MLP(2, [4, 1], act, seed=seed)
    elem = MLP(2, [4, 1], act, seed=seed, fused=False)
    assert fused.state_dict() == elem.state_dict()
    a = sum((r[0] for r in fused(x)), Value(0.0))
    b = sum((r[0] for r in elem(x)), Value(0.0))
    a.backward()
    b.backward()
    assert a.data == pytest.approx(b.data, rel=1e-12, abs=1e-12)
    assert grads_of(fused) == pytest.approx(grads_of(elem), rel=1e-10, abs=1e-12)
    # and the elementary graph really has one node per product, sum and activation
    one = elem.layers[0]([0.5, -0.5])[0]  # type: ignore[index]
    assert one.op == act and fused.layers[0]([0.5, -0.5])[0].op == f"dot+{act}"  # type: ignore[index]


def test_one_sample_gives_a_value_or_a_list_and_batches_give_rows() -> None:
    model = MLP(2, [3, 1], seed=0)
    single = model([1.0, 2.0])
    assert isinstance(single, Value)  # one output: a Value, as micrograd
    assert isinstance(model(np.array([1.0, 2.0])), Value)  # a 1-D array is one sample
    batch = model([[1.0, 2.0], [0.0, 1.0]])
    assert len(batch) == 2 and all(len(r) == 1 and isinstance(r[0], Value) for r in batch)
    assert batch[0][0].data == single.data
    # a 2-D array runs once over the batch: one batched Value, one number per sample
    batched = model(np.array([[1.0, 2.0], [0.0, 1.0]]))
    assert isinstance(batched, Value) and batched.data.shape == (2,)
    assert batched.data.tolist() == pytest.approx([r[0].data for r in batch], rel=1e-15)
    assert len(Layer(2, 3, seed=0)(np.ones((4, 2)))) == 3  # several outputs: a list of them
    wide = Layer(2, 3, seed=0)([1.0, 2.0])  # several outputs: a list of Values
    assert isinstance(wide, list) and len(wide) == 3 and all(isinstance(v, Value) for v in wide)
    n = Neuron(2, "tanh", seed=0)
    assert isinstance(n([1.0, 2.0]), Value) and len(n.w) == 2 and n.b is not None


def test_wrong_width_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="expects 2 inputs per sample, got 3"):
        MLP(2, [3, 1])([1.0, 2.0, 3.0])
    for bad in [(0, 1), (2.5, 1), (True, 2), (2, -1)]:
        with pytest.raises(ValueError, match="at least one input and one output"):
            Layer(*bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        Layer(2, 2, "swish")
    with pytest.raises(TypeError, match="batch"):
        MLP(2, [1])(3.0)  # type: ignore[arg-type]


def test_parameters_are_found_from_attributes_in_torch_order() -> None:
    model = MLP(2, [3, 1], seed=0)
    names = [n for n, _ in model.named_tensors()]
    assert names == ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"]
    assert len(model.parameters()) == 2 * 3 + 3 + 3 + 1
    assert [n for n, _ in model.named_parameters()][:2] == [
        "layers.0.weight.0.0",
        "layers.0.weight.0.1",
    ]
    seq = Sequential(Layer(2, 3, "relu", seed=1), Layer(3, 1, seed=2))
    assert len(seq.parameters()) == 13 and len(seq) == 2
    assert "Layer(2, 3, activation='relu'" in repr(seq)


def test_state_dict_converts_to_torch_directly() -> None:
    model = MLP(2, [4, 1], seed=3)
    seq = torch.nn.Sequential(
        torch.nn.Linear(2, 4, dtype=F64), torch.nn.ReLU(), torch.nn.Linear(4, 1, dtype=F64)
    )
    seq.load_state_dict(
        {
            k.replace("layers.0", "0").replace("layers.1", "2"): torch.tensor(v, dtype=F64)
            for k, v in model.state_dict().items()
        }
    )
    assert seq(torch.tensor([[0.3, -0.7]], dtype=F64)).item() == pytest.approx(
        model([0.3, -0.7]).data, rel=1e-12
    )
    back = {k: v.tolist() for k, v in seq.state_dict().items()}
    other = MLP(2, [4, 1], seed=99)
    other.load_state_dict(
        {
            "layers.0.weight": back["0.weight"],
            "layers.0.bias": back["0.bias"],
            "layers.1.weight": back["2.weight"],
            "layers.1.bias": back["2.bias"],
        }
    )
    assert other.state_dict() == model.state_dict()


@given(x=batch_2d, seed=st.integers(0, 1000), perm_seed=st.integers(0, 1000))
def test_permuting_hidden_units_keeps_the_function(
    x: list[list[float]], seed: int, perm_seed: int
) -> None:
    import random

    model = MLP(2, [5, 4, 1], seed=seed)
    perm = list(range(5))
    random.Random(perm_seed).shuffle(perm)
    twin = permute_hidden(model, 0, perm)
    for a, b in zip(model(x), twin(x)):
        assert a[0].data == pytest.approx(b[0].data, rel=1e-12, abs=1e-12)
    if perm != sorted(perm):
        assert twin.state_dict() != model.state_dict()
    assert sorted(map(str, twin.state_dict()["layers.0.bias"])) == sorted(
        map(str, model.state_dict()["layers.0.bias"])
    )
    with pytest.raises(ValueError, match="not a hidden layer"):
        permute_hidden(model, 2, [0])
