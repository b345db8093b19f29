"""Dropout and BatchNorm1d against PyTorch and against expectation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from chainrule.engine import Value, add_all
from chainrule.nn import MLP, SGD, BatchNorm1d, Dropout, fit, make_moons, train_val_split
from hypothesis import given
from hypothesis import strategies as st

from tests.reference import assert_close
from tests.torch_models import F64


def _batch(n: int, f: int, seed: int) -> list[list[float]]:
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(n, f, generator=g, dtype=F64) * 2 + 0.5).tolist()


@pytest.mark.parametrize(("n", "f"), [(2, 1), (4, 3), (8, 5), (32, 16)])
def test_batchnorm_training_forward_and_gradients_match_torch(n: int, f: int) -> None:
    x = _batch(n, f, n * f)
    bn = BatchNorm1d(f)
    for j in range(f):
        bn.weight[j].data = 1.0 + 0.1 * j  # type: ignore[index]
        bn.bias[j].data = -0.2 * j  # type: ignore[index]
    xs = [[Value(v) for v in row] for row in x]
    out = bn(xs)
    coef = _batch(n, f, 99)
    loss = add_all([o * c for orow, crow in zip(out, coef) for o, c in zip(orow, crow)])
    loss.backward()
    tbn = torch.nn.BatchNorm1d(f, dtype=F64)
    with torch.no_grad():
        tbn.weight.copy_(torch.tensor([1.0 + 0.1 * j for j in range(f)], dtype=F64))
        tbn.bias.copy_(torch.tensor([-0.2 * j for j in range(f)], dtype=F64))
    tx = torch.tensor(x, dtype=F64, requires_grad=True)
    tout = tbn(tx)
    (tout * torch.tensor(coef, dtype=F64)).sum().backward()
    for i in range(n):
        for j in range(f):
            assert_close(out[i][j].data, tout[i, j], f"out[{i}][{j}]", rtol=1e-12, atol=1e-13)
            assert_close(xs[i][j].grad, tx.grad[i, j], f"dx[{i}][{j}]", rtol=1e-9, atol=1e-11)
    for j in range(f):
        assert_close(bn.weight[j].grad, tbn.weight.grad[j], f"dgamma[{j}]", rtol=1e-10, atol=1e-12)  # type: ignore[index]
        assert_close(bn.bias[j].grad, tbn.bias.grad[j], f"dbeta[{j}]", rtol=1e-12, atol=1e-12)  # type: ignore[index]
        assert_close(bn.running_mean[j], tbn.running_mean[j], "running_mean")
        assert_close(bn.running_var[j], tbn.running_var[j], "running_var")


@pytest.mark.parametrize("momentum", [0.1, 0.5, None])
def test_running_statistics_after_five_steps_and_eval_output(momentum: float | None) -> None:
    bn, tbn = (
        BatchNorm1d(3, momentum=momentum),
        torch.nn.BatchNorm1d(3, momentum=momentum, dtype=F64),
    )
    for step in range(5):
        x = _batch(6, 3, step)
        bn(x)
        tbn(torch.tensor(x, dtype=F64))
    assert bn.num_batches_tracked == int(tbn.num_batches_tracked) == 5
    for j in range(3):
        assert_close(bn.running_mean[j], tbn.running_mean[j], "running_mean")
        assert_close(bn.running_var[j], tbn.running_var[j], "running_var")
    bn.eval()
    tbn.eval()
    x = _batch(4, 3, 42)
    out, ref = bn(x), tbn(torch.tensor(x, dtype=F64))
    for i in range(4):
        for j in range(3):
            assert_close(out[i][j].data, ref[i, j], "eval output", rtol=1e-12, atol=1e-14)
    assert set(bn.state_dict()) == {
        "weight",
        "bias",
        "running_mean",
        "running_var",
        "num_batches_tracked",
    }


def test_batchnorm_errors() -> None:
    with pytest.raises(ValueError, match="more than 1 sample"):
        BatchNorm1d(2)([[1.0, 2.0]])
    with pytest.raises(ValueError, match="expects 2 features per sample, got 3"):
        BatchNorm1d(2)([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    bn = BatchNorm1d(2).eval()
    out = bn([[1.0, 2.0]])  # one sample is fine at inference
    assert len(out) == 1 and len(out[0]) == 2


def test_dropout_with_a_given_mask_is_exact() -> None:
    d = Dropout(0.25)
    xs = [[Value(1.0), Value(2.0), Value(-3.0)]]
    mask = [[True, False, True]]
    out = d.forward(xs, mask)
    assert [v.data for v in out[0]] == [1.0 / 0.75, 0.0, -3.0 / 0.75]
    add_all(out[0]).backward()
    assert [v.grad for v in xs[0]] == [1 / 0.75, 0.0, 1 / 0.75]
    assert d.last_mask == mask


@given(p=st.sampled_from([0.1, 0.3, 0.5, 0.8]))
def test_dropout_keeps_one_minus_p_and_preserves_the_mean(p: float) -> None:
    d = Dropout(p, seed=0)
    n = 20000
    out = d([[1.0] * n])
    kept = sum(d.last_mask[0]) / n  # type: ignore[index]
    # binomial standard error is sqrt(p(1-p)/n) <= 0.0036; 5 standard errors:
    assert abs(kept - (1 - p)) < 5 * (p * (1 - p) / n) ** 0.5
    mean = sum(v.data for v in out[0]) / n
    assert abs(mean - 1.0) < 5 * (p / (1 - p) / n) ** 0.5


def test_dropout_modes_and_the_classic_form() -> None:
    d = Dropout(0.5, seed=1).eval()
    x = [[Value(2.0), Value(4.0)]]
    assert d(x) is x or d(x) == x  # identity at inference
    classic = Dropout(0.5, inverted=False, seed=1)
    n = 20000
    train_mean = sum(v.data for v in classic([[1.0] * n])[0]) / n
    classic.eval()
    infer = classic([[1.0] * 3])[0]
    assert [v.data for v in infer] == [0.5] * 3  # scaled by the keep probability
    assert abs(train_mean - 0.5) < 0.02  # expected training output = inference output
    assert Dropout(0.0)([[1.0, 2.0]]) == [[1.0, 2.0]]
    for bad in (-0.1, 1.0000001, 1.5, True, float("nan"), "0.5", np.float32(-0.5)):
        with pytest.raises(ValueError, match="Dropout probability"):
            Dropout(bad)  # type: ignore[arg-type]
    assert Dropout(np.float32(0.25)).p == 0.25  # numpy scalars are numbers
    everything = Dropout(1.0, seed=0)([[1.0, 2.0], [3.0, 4.0]])  # PyTorch: p = 1 drops all
    assert [[v.data for v in row] for row in everything] == [[0.0, 0.0], [0.0, 0.0]]


def test_mlp_with_batchnorm_and_dropout_reaches_95_percent_on_moons() -> None:
    x, y = make_moons(200, noise=0.1, seed=0)
    (xt, yt), (xv, yv) = train_val_split(x, y, 0.2, seed=0)
    model = MLP(2, [16, 16, 1], init="he", batchnorm=True, dropout=0.1, seed=0)
    names = [type(m).__name__ for m in model.layers]
    assert names[:4] == ["Layer", "BatchNorm1d", "Activation", "Dropout"]
    opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    hist = fit(model, xt, yt, opt, epochs=60, batch_size=32, val=(xv, yv), progress=False)
    assert hist.val_acc[-1] >= 0.95
    assert model.training  # fit switched to eval for validation and back
