"""Checkers for the course's exercises: `check("1.1", answer)` says right, wrong (and why), or
not yet (the answer cell still holds `...`); `show_solution("1.1")` prints a worked solution.

Every checker computes the expected result itself (with chainrule, numpy or math) from the
exercise's statement; a verdict never restates it. Each call is also recorded in `RESULTS`,
which the course's tests read. The checkers live beside their lessons' helpers in
`foundations`, `by_hand`, `matrix`, `networks`, `regularization`, `layers` and `digits`.
"""

from chainrule.course import by_hand, digits, foundations, layers, matrix, networks, regularization
from chainrule.course._core import (
    EXERCISES,
    RESULTS,
    SOLUTIONS,
    check,
    show_solution,
    solution_answer,
    solution_source,
    verdict,
)
from chainrule.course.by_hand import Tiny, hand_graph
from chainrule.course.foundations import branching
from chainrule.course.matrix import QUADRATIC, curvy, gate_values, small_network
from chainrule.course.networks import hand_network, hidden_units, outputs_1d
from chainrule.course.regularization import LASSO_A, LASSO_C, mystery_pair, relu_model

__all__ = [
    "EXERCISES",
    "LASSO_A",
    "LASSO_C",
    "QUADRATIC",
    "RESULTS",
    "SOLUTIONS",
    "Tiny",
    "branching",
    "by_hand",
    "check",
    "curvy",
    "digits",
    "foundations",
    "gate_values",
    "hand_graph",
    "hand_network",
    "hidden_units",
    "layers",
    "matrix",
    "mystery_pair",
    "networks",
    "outputs_1d",
    "regularization",
    "relu_model",
    "show_solution",
    "small_network",
    "solution_answer",
    "solution_source",
    "verdict",
]
