"""Counting linear pieces, and depth composing them."""

from __future__ import annotations

import pytest
from chainrule.nn import MLP
from chainrule.nn.analysis import linear_pieces, tent_network


def test_pieces_of_a_hand_made_network() -> None:
    m = MLP(1, [2, 1], seed=0)
    (m.layers[0].weight[0][0].data, m.layers[0].weight[1][0].data) = (1.0, 1.0)  # type: ignore[attr-defined]
    (m.layers[0].bias[0].data, m.layers[0].bias[1].data) = (0.0, -1.0)  # type: ignore[attr-defined]
    (m.layers[1].weight[0][0].data, m.layers[1].weight[0][1].data) = (1.0, 1.0)  # type: ignore[attr-defined]
    assert linear_pieces(m, (-3, 3)) == 3  # kinks at 0 and 1
    m.layers[1].weight[0][1].data = 0.0  # type: ignore[attr-defined]
    assert linear_pieces(m, (-3, 3)) == 2


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_tent_network_doubles_its_pieces_with_each_layer(depth: int) -> None:
    m = tent_network(depth)
    assert linear_pieces(m, (0.0, 1.0), n=4001) == 2**depth
    assert m([0.5 / 2 ** (depth - 1)]).data == pytest.approx(1.0)
    assert len(m.parameters()) == 4 + 6 * (depth - 1) + 3
