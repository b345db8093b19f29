"""PyTorch's idioms, written as its users write them, against torch itself in float64."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import torch
from chainrule.engine import Value
from chainrule.nn.data import make_blobs, make_circles, make_spirals, regression_1d
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainrule import nn
from tests.reference import assert_close
from tests.torch_models import F64

batch = st.lists(st.lists(st.floats(-3, 3), min_size=2, max_size=2), min_size=2, max_size=6)


def _ours() -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(2, 5),
        nn.BatchNorm1d(5),
        nn.ReLU(),
        nn.Linear(5, 4, bias=False),
        nn.Tanh(),
        nn.Linear(4, 1),
        nn.Sigmoid(),
    )


def _theirs() -> torch.nn.Sequential:
    return torch.nn.Sequential(
        torch.nn.Linear(2, 5),
        torch.nn.BatchNorm1d(5),
        torch.nn.ReLU(),
        torch.nn.Linear(5, 4, bias=False),
        torch.nn.Tanh(),
        torch.nn.Linear(4, 1),
        torch.nn.Sigmoid(),
    ).double()


def _out(out: Value) -> list[float]:
    """A 2-D array's output: one batched Value, one number per sample."""
    return out.data.tolist()  # type: ignore[no-any-return]


def _columns(out: Value | list[Value]) -> list[list[float]]:
    """A 2-D array's outputs (a batched Value, or a list of them) as rows of numbers."""
    outs = [out] if isinstance(out, Value) else out
    return np.column_stack([v.data for v in outs]).tolist()  # type: ignore[no-any-return]


@pytest.fixture
def float64() -> Iterator[None]:
    """torch in float64 by default, so `torch.tensor(v)` of a state dict is exact."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(old)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(x=batch, steps=st.integers(0, 3))
def test_state_dicts_load_into_torch_and_back_with_equal_outputs(
    float64: None, x: list, steps: int
) -> None:
    ours, theirs = _ours(), _theirs()
    for k in range(steps):  # move the running statistics off their start
        ours([[a + k, b - k] for a, b in x])
    sd = ours.state_dict()
    assert list(sd) == list(theirs.state_dict())  # same keys, same order
    theirs.load_state_dict({k: torch.tensor(v) for k, v in sd.items()})
    for mode in ("train", "eval"):
        getattr(ours, mode)()
        getattr(theirs, mode)()
        mine, ref = _out(ours(np.array(x))), theirs(torch.tensor(x, dtype=F64))
        for i, v in enumerate(mine):
            assert_close(v, ref[i, 0], f"{mode} output {i}", rtol=1e-11, atol=1e-13)
    # and back: torch's state dict (tensors) loads into ours directly
    fresh = _ours()
    fresh.load_state_dict(theirs.state_dict())
    assert fresh.state_dict() == {
        k: v.tolist() if k != "1.num_batches_tracked" else int(v)
        for k, v in theirs.state_dict().items()
    }


def test_linear_is_torch_linear() -> None:
    lin = nn.Linear(in_features=3, out_features=2, bias=True)
    assert (lin.in_features, lin.out_features, lin.activation) == (3, 2, "identity")
    assert repr(lin) == "Linear(in_features=3, out_features=2, bias=True)"
    assert [len(r) for r in lin.state_dict()["weight"]] == [3, 3]  # [out][in]
    assert nn.Linear(3, 2, False).bias is None and nn.Linear(3, 2, bias=False).bias is None
    # torch's init: every weight and bias in U(±1/√in_features); draws differ per layer
    big = nn.Linear(400, 50, seed=0)
    ws = np.array(big.state_dict()["weight"])
    assert np.abs(ws).max() <= 1 / 20 and np.abs(ws).max() > 0.95 / 20
    assert ws.var() == pytest.approx(1 / (3 * 400), rel=0.05)
    assert np.abs(big.state_dict()["bias"]).max() <= 1 / 20
    big.reset_parameters()  # the layer owns its init: fresh draws from the same rule
    assert np.array(big.state_dict()["weight"]).tolist() != ws.tolist()


def test_a_torch_training_loop_runs_as_written() -> None:
    X, y = nn.make_moons(64, noise=0.1, seed=3)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 1))
    loss_fn = nn.BCEWithLogitsLoss()
    optimizer = nn.SGD(model.parameters(), lr=0.5, momentum=0.9)
    model.train()
    losses = []
    for _epoch in range(30):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.data)
    assert losses[-1] < losses[0] / 2
    model.eval()
    assert model.training is False and all(not m.training for m in model.modules())
    assert isinstance(model(X[0]), Value)  # one sample (a 1-D array) in, one Value out


@given(
    pred=st.lists(st.floats(-5, 5), min_size=1, max_size=5),
    data=st.data(),
)
def test_loss_modules_match_torch(pred: list[float], data: st.DataObject) -> None:
    n = len(pred)
    y01 = data.draw(st.lists(st.sampled_from([0, 1]), min_size=n, max_size=n))
    logits = data.draw(
        st.lists(st.lists(st.floats(-5, 5), min_size=3, max_size=3), min_size=n, max_size=n)
    )
    classes = data.draw(st.lists(st.integers(0, 2), min_size=n, max_size=n))
    tp = torch.tensor(pred, dtype=F64).unsqueeze(1)
    ty = torch.tensor(y01, dtype=F64).unsqueeze(1)
    cases = [
        (nn.MSELoss(), torch.nn.MSELoss(), [[p] for p in pred], np.array(y01), tp, ty),
        (nn.BCEWithLogitsLoss(), torch.nn.BCEWithLogitsLoss(), [[p] for p in pred], y01, tp, ty),
        (
            nn.CrossEntropyLoss(),
            torch.nn.CrossEntropyLoss(),
            logits,
            np.array(classes),
            torch.tensor(logits, dtype=F64),
            torch.tensor(classes),
        ),
    ]
    for ours, theirs, p, t, tp_, tt in cases:
        assert_close(ours(p, t).data, theirs(tp_, tt), repr(ours), rtol=1e-12, atol=1e-15)
    with pytest.raises(ValueError, match=r"a class is an integer, got 1\.7"):
        nn.CrossEntropyLoss()([[1.0, 2.0, 3.0]], [1.7])


def test_data_sets_are_shaped_like_scikit_learns() -> None:
    for make in (nn.make_moons, make_circles, make_spirals, make_blobs):
        X, y = make(90, seed=1)
        assert X.dtype == np.float64 and X.ndim == 2 and X.shape[1] == 2
        assert y.dtype.kind == "i" and y.shape == (X.shape[0],)
        assert np.array_equal(make(90, seed=1)[0], X)  # same seed, same data
    X, y = nn.make_moons(n_samples=10)
    assert X.shape == (10, 2) and set(y.tolist()) == {0, 1}
    X, y = regression_1d(12)
    assert X.shape == (12, 1) and y.shape == (12,) and y.dtype == np.float64
    (xt, yt), (xv, yv) = nn.data.train_val_split(*nn.make_moons(20), 0.25)
    assert isinstance(xt, np.ndarray) and xt.shape == (15, 2) and yt.shape == (15,)
    assert xv.shape == (5, 2) and yv.shape == (5,)


def test_every_module_takes_numpy_input() -> None:
    X = np.random.default_rng(0).normal(size=(4, 3))
    for m in [
        nn.Linear(3, 2),
        nn.Layer(3, 2, fused=False),
        nn.Neuron(3),
        nn.MLP(3, [4, 1]),
        nn.BatchNorm1d(3),
        nn.Dropout(0.5),
        nn.ReLU(),
        nn.Sequential(nn.Linear(3, 2), nn.Tanh()),
    ]:
        rows, listed = _columns(m(X)), m(X.tolist())  # once over the batch; per sample
        assert len(rows) == 4
        if not isinstance(m, nn.Dropout):
            np.testing.assert_allclose(rows, [[v.data for v in r] for r in listed], rtol=1e-14)
    with pytest.raises(ValueError, match="shape"):
        nn.Linear(3, 2)(np.zeros((2, 2, 3)))


def test_a_module_written_as_in_pytorch() -> None:
    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc1 = nn.Linear(2, 8)
            self.act = nn.ReLU()
            self.fc2 = nn.Linear(8, 1)

        def forward(self, x):  # type: ignore[no-untyped-def]
            return self.fc2(self.act(self.fc1(x)))

    net = Net()
    assert list(net.state_dict()) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert net.fc1.weight.shape == (8, 2) and net.fc1.bias.shape == (8,)  # type: ignore[union-attr]
    X = np.array([[0.5, -1.0], [2.0, 0.25]])
    rows = _columns(net(X))
    ref = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    ref.double().load_state_dict(
        {
            k.replace("fc1", "0").replace("fc2", "2"): torch.tensor(v, dtype=F64)
            for k, v in net.state_dict().items()
        }
    )
    expected = ref(torch.tensor(X, dtype=F64))
    for i in range(2):
        assert_close(rows[i][0], expected[i, 0], f"row {i}", rtol=1e-12, atol=1e-15)
    assert net(X[1]).data == pytest.approx(rows[1][0], rel=1e-13)  # one sample: a Value
    assert len(net.parameters()) == 8 * 3 + 9


def test_moved_names_still_import_and_submodules_are_reachable() -> None:
    from chainrule.nn import make_circles as moved
    from chainrule.nn import permute_hidden, train_val_split, weight_vector  # noqa: F401

    assert moved is make_circles and "make_circles" not in nn.__all__
    assert nn.analysis.linear_pieces is not None and nn.symmetry.permute_hidden is permute_hidden
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        nn.nothing  # type: ignore[attr-defined]  # noqa: B018
