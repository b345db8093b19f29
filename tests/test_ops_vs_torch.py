"""Every op against PyTorch in float64: forward value and every input's gradient."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from engine import Value
from tests.ops import ALL, Op
from tests.reference import assert_close, leaf


@pytest.mark.parametrize("op", ALL, ids=lambda op: op.name)
@given(data=st.data())
def test_op_matches_torch(op: Op, data: st.DataObject) -> None:
    xs = [data.draw(d, label=f"x{i}") for i, d in enumerate(op.domains)]
    ours = [Value(x) for x in xs]
    theirs = [leaf(x) for x in xs]
    out = op.ours(*ours)
    ref = op.theirs(*theirs)
    assert_close(out.data, ref, f"{op.name}{tuple(xs)} value")
    out.backward()
    grads = torch.autograd.grad(ref, theirs, allow_unused=True)
    for i, (v, g) in enumerate(zip(ours, grads)):
        assert_close(v.grad, 0.0 if g is None else g, f"d {op.name}/d x{i} at {tuple(xs)}")


# A random program over a pool of values: each instruction applies an op to earlier
# results, so results are reused (shared subexpressions, diamonds, `a + a`).
PROGRAM_OPS = [
    lambda a, b: a + b,
    lambda a, b: a - b,
    lambda a, b: a * b.tanh(),
    lambda a, b: a.tanh(),
    lambda a, b: a.sigmoid(),
    lambda a, b: a.relu(),
    lambda a, b: a / (1 + b * b),
    lambda a, b: (a.tanh()).exp(),
]

instructions = st.lists(
    st.tuples(st.integers(0, len(PROGRAM_OPS) - 1), st.integers(0, 10**6), st.integers(0, 10**6)),
    min_size=1,
    max_size=25,
)


def run_program(leaves: list, program: list[tuple[int, int, int]]) -> tuple[list, object]:
    pool = list(leaves)
    for k, i, j in program:
        pool.append(PROGRAM_OPS[k](pool[i % len(pool)], pool[j % len(pool)]))
    root = pool[0]
    for v in pool[1:]:
        root = root + v
    return pool, root


@given(st.lists(st.floats(-2.0, 2.0), min_size=1, max_size=4), instructions)
def test_random_graph_node_by_node(xs: list[float], program: list[tuple[int, int, int]]) -> None:
    ours, our_root = run_program([Value(x) for x in xs], program)
    theirs, their_root = run_program([leaf(x) for x in xs], program)
    for t in theirs[len(xs) :]:
        t.retain_grad()
    our_root.backward()
    their_root.backward()
    for n, (v, t) in enumerate(zip(ours, theirs)):
        assert_close(v.data, t, f"node {n} value")
        assert_close(v.grad, t.grad, f"node {n} grad")
