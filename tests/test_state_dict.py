"""Declared state and `load_state_dict`: nothing changes unless everything is valid."""

from __future__ import annotations

import copy
import math
import re
from typing import Any

import numpy as np
import pytest
from chainrule.engine import Value
from chainrule.nn import MLP, BatchNorm1d, Layer, Module, Parameter, StateDictError
from hypothesis import given, settings
from hypothesis import strategies as st


def _model() -> MLP:
    model = MLP(2, [3, 2, 1], batchnorm=True, seed=0)
    model([[0.1, 0.2], [0.5, -1.0], [2.0, 0.3]])  # running statistics move off their start
    return model


def _corrupt(value: Any, kind: str, key: str) -> Any:
    if kind == "ragged":  # one row longer, one shorter: only the first row is right
        if isinstance(value, list) and value and isinstance(value[0], list):
            if len(value) == 1:
                return [[*value[0], 1.0]]
            rest = [[*r, 1.0] if i % 2 == 0 else r[:-1] for i, r in enumerate(value[1:])]
            return [value[0], *rest]
        return [*value, 1.0] if isinstance(value, list) else [value]
    if kind == "deep":  # 100,000 nested lists, as a hostile file could hold
        deep: list = []
        for _ in range(100_000):
            deep = [deep]
        return deep
    if kind == "shape":
        return value[:-1] if isinstance(value, list) and len(value) > 1 else [[value]]
    bad = {
        "nan": math.nan,
        "inf": -math.inf,
        "huge": 10**400,
        "text": "0.5",
        "none": None,
        "bool": True,
        "nested": [[1.0]],
    }[kind]
    if not isinstance(value, list):
        return bad
    out = copy.deepcopy(value)
    row = out[-1] if isinstance(out[-1], list) else out
    row[-1] = bad
    return out


KINDS = ["ragged", "deep", "shape", "nan", "inf", "huge", "text", "none", "bool", "nested"]


@settings(max_examples=200)  # 16 keys x 10 corruptions
@given(
    key_index=st.integers(0, 15),
    kind=st.sampled_from(KINDS),
    seed=st.integers(0, 50),
)
def test_a_corrupt_entry_is_refused_by_name_and_changes_nothing(
    key_index: int, kind: str, seed: int
) -> None:
    model = _model()
    before = model.state_dict()
    params = model.parameters()
    # a valid state dict of another model with other numbers, so a partial write shows
    other = MLP(2, [3, 2, 1], batchnorm=True, seed=seed + 1)
    other([[1.0, 2.0], [-1.0, 0.5]])
    state = other.state_dict()
    key = list(state)[key_index % len(state)]
    state[key] = _corrupt(state[key], kind, key)
    with pytest.raises(StateDictError, match=re.escape(repr(key))):
        model.load_state_dict(state)
    assert model.state_dict() == before
    assert model.parameters() == params and all(a is b for a, b in zip(model.parameters(), params))


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("layers.1.running_var", [1.0, -0.5, 2.0], "negative variance"),
        ("layers.1.num_batches_tracked", 2.5, "count"),
        ("layers.1.num_batches_tracked", -1, "count"),
        ("layers.1.num_batches_tracked", "3", "not a finite number"),
        ("layers.0.weight", [[1, 2], [3, 4, 5], [6, 7]], "ragged rows of lengths"),
    ],
)
def test_buffers_and_rows_are_checked(key: str, value: Any, words: str) -> None:
    model = _model()
    before = model.state_dict()
    state = copy.deepcopy(before)
    state[key] = value
    with pytest.raises(StateDictError, match=words):
        model.load_state_dict(state)
    assert model.state_dict() == before


def test_missing_and_extra_keys_are_named_and_nothing_is_written() -> None:
    model = _model()
    before = model.state_dict()
    changed = {k: v for k, v in MLP(2, [3, 2, 1], batchnorm=True, seed=9).state_dict().items()}
    missing = dict(changed)
    del missing["layers.4.bias"]
    with pytest.raises(StateDictError, match=r"missing \['layers.4.bias'\]"):
        model.load_state_dict(missing)
    with pytest.raises(StateDictError, match=r"unexpected \['extra'\]"):
        model.load_state_dict({**changed, "extra": 1.0})
    with pytest.raises(StateDictError, match="mapping"):
        model.load_state_dict([("layers.0.weight", [])])  # type: ignore[arg-type]
    assert model.state_dict() == before
    model.load_state_dict(changed)  # a valid one loads
    assert model.state_dict() == changed
    counts = np.array(5.0)  # a whole float, or a numpy array, is fine
    model.load_state_dict({**changed, "layers.1.num_batches_tracked": counts})
    assert model.state_dict()["layers.1.num_batches_tracked"] == 5


def test_state_is_declared_not_guessed() -> None:
    class Cached(Module):
        def __init__(self) -> None:
            self.scale = Parameter([1.0, 2.0])
            self.register_parameter("shift", Value(0.5))
            self.register_buffer("seen", 0)
            self.inputs = [Value(3.0), Value(4.0)]  # a cache of Values: not a parameter

        def forward(self, batch: list[list[Any]]) -> list[list[Any]]:
            self.inputs = [v for row in batch for v in row]
            return [[x * s + self.shift for x, s in zip(row, self.scale)] for row in batch]

    m = Cached()
    assert [n for n, _ in m.named_parameters()] == ["scale.0", "scale.1", "shift"]
    assert m.state_dict() == {"scale": [1.0, 2.0], "shift": 0.5, "seen": 0}
    m([1.0, 2.0])
    assert len(m.parameters()) == 3
    with pytest.raises(TypeError, match=r"wrap it in nn\.Parameter"):
        m.scale = [Value(1.0)]  # type: ignore[assignment]
    assert BatchNorm1d(2, track_running_stats=False).state_dict().keys() == {"weight", "bias"}


def test_batchnorm_arguments_are_checked_when_made() -> None:
    for bad in (0.0, -1e-5, math.nan, "1e-5"):
        with pytest.raises(ValueError, match="eps"):
            BatchNorm1d(2, eps=bad)  # type: ignore[arg-type]
    for bad_m in (-0.1, 1.5, math.nan):
        with pytest.raises(ValueError, match="momentum"):
            BatchNorm1d(2, momentum=bad_m)
    assert BatchNorm1d(2, eps=np.float32(1e-3)).eps == pytest.approx(1e-3)
    with pytest.raises(ValueError, match="more than 1 sample"):
        BatchNorm1d(2)([[1.0, 2.0]])  # PyTorch raises for a batch of one in training


def test_layers_own_their_init_and_mlp_initialises_once() -> None:
    calls: list[tuple[int, int]] = []

    def counting(weight: list, generator: np.random.Generator) -> None:
        calls.append((len(weight), len(weight[0])))
        for row in weight:
            for w in row:
                w.data = 0.25

    model = MLP(2, [3, 4, 1], init=counting, batchnorm=True, seed=0)
    assert calls == [(3, 2), (4, 3), (1, 4)]  # each layer once, batch norm or not
    assert {
        w
        for k, v in model.state_dict().items()
        if k.endswith("weight") and k[:8] != "layers.1"
        for row in v
        if isinstance(row, list)
        for w in row
    } == {0.25}
    assert model.layers[0].bias.__class__ is Parameter  # type: ignore[attr-defined]
    assert all(b.data == 0.0 for b in model.layers[0].bias)  # type: ignore[attr-defined]
    layer = Layer(2, 2, seed=3)
    first = layer.state_dict()
    layer.reset_parameters()
    assert layer.state_dict() != first


def test_batchnorm_resets_as_made() -> None:
    bn = BatchNorm1d(3)
    made = bn.state_dict()
    bn([[1.0, 2.0, 3.0], [4.0, -5.0, 6.0]])
    bn.weight[0].data = 3.0  # type: ignore[index]
    assert bn.state_dict() != made
    bn.reset_parameters()
    assert bn.state_dict() == made


# --- a module used twice: its parameters once, as torch's remove_duplicate=True ---------
def test_a_shared_module_lists_its_parameters_once_as_torch() -> None:
    import torch
    from chainrule.nn import SGD, Linear, Sequential

    lin = Linear(2, 2)
    net = Sequential(lin, lin)
    assert len(net.parameters()) == 6 and len({id(v) for v in net.parameters()}) == 6
    assert [n for n, _ in net.named_tensors()] == ["0.weight", "0.bias"]
    assert [p for p, _ in net.named_modules()] == ["", "0."]
    SGD(net.parameters(), lr=0.1)  # no "appears more than once"
    t = torch.nn.Linear(2, 2)
    tnet = torch.nn.Sequential(t, t)
    assert [n for n, _ in tnet.named_parameters()] == [n for n, _ in net.named_tensors()]
    assert (
        list(tnet.state_dict())
        == list(net.state_dict())
        == [
            "0.weight",
            "0.bias",
            "1.weight",
            "1.bias",
        ]
    )  # torch's state dict keeps every path
    net.load_state_dict(net.state_dict())
    assert len(list(net.named_parameters(remove_duplicate=False))) == 12


def test_a_tensor_shared_by_two_modules_is_listed_once() -> None:
    from chainrule.nn import Linear, Sequential

    a, b = Linear(2, 2), Linear(2, 2)
    b.weight = a.weight  # weight tying
    net = Sequential(a, b)
    assert [n for n, _ in net.named_tensors()] == ["0.weight", "0.bias", "1.bias"]
    assert len(net.parameters()) == 8


def test_an_assignment_labels_what_it_assigns_and_nothing_else(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chainrule.nn import module as module_file

    calls: list[str] = []
    real = module_file._label

    def counting(name: str, tensor: Any) -> None:
        calls.append(name)
        real(name, tensor)

    monkeypatch.setattr(module_file, "_label", counting)
    m = Module()
    for i in range(20):
        setattr(m, f"w{i}", Parameter([1.0, 2.0]))
    assert calls == [f"w{i}" for i in range(20)]  # not 1 + 2 + ... + 20 labellings
    net = MLP(2, [3, 3, 1], seed=0)
    calls.clear()
    net.layers[1].bias = Parameter([0.0] * 3)
    assert calls == ["layers.1.bias"]  # its full path, without walking the network
    assert net.layers[1].bias[2].label == "layers.1.bias[2]"
    assert net.layers[2].weight[0][1].label == "layers.2.weight[0][1]"
