"""Every op against PyTorch in float64: forward value and every input's gradient."""

from __future__ import annotations

import pytest
from chainrule.engine import Value
from hypothesis import given
from hypothesis import strategies as st

from tests.ops import ALL, Op, compare_with_torch
from tests.reference import assert_close, leaf
from tests.strategies import instructions, run_program


@pytest.mark.parametrize("op", ALL, ids=lambda op: op.name)
@given(data=st.data())
def test_op_matches_torch(op: Op, data: st.DataObject) -> None:
    xs = [data.draw(d, label=f"x{i}") for i, d in enumerate(op.domains)]
    compare_with_torch(op, xs)


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
        # a gradient is a sum whose order differs between the libraries: when its terms
        # cancel, what is left is rounding of the terms' size (~1e-16), not an error
        assert_close(v.grad, t.grad, f"node {n} grad", atol=1e-13)
