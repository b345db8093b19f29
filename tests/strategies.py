"""Hypothesis strategies shared by the test modules."""

from typing import Any

from chainrule.engine import Context, Function, Value
from hypothesis import strategies as st

# Moderate reals: every op's value and gradient stays finite.
reals = st.floats(-10.0, 10.0, allow_nan=False, allow_infinity=False)
# Including the saturating ends of sigmoid/tanh, which must not overflow.
wide = st.one_of(reals, st.floats(-800.0, 800.0), st.sampled_from([-1e6, -40.0, 0.0, 40.0, 1e6]))
positive = st.floats(1e-3, 50.0)
nonzero = st.one_of(st.floats(-10.0, -1e-3), st.floats(1e-3, 10.0))
# relu's kink: exact zeros and values on either side of it.
around_zero = st.one_of(st.just(0.0), st.just(-0.0), st.floats(-1e-9, 1e-9), reals)
small_ints = st.integers(-4, 4)


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


def run_program(leaves: list[Any], program: list[tuple[int, int, int]]) -> tuple[list[Any], Any]:
    pool = list(leaves)
    for k, i, j in program:
        pool.append(PROGRAM_OPS[k](pool[i % len(pool)], pool[j % len(pool)]))
    root = pool[0]
    for v in pool[1:]:
        root = root + v
    return pool, root


def returning(forward_value: Any, local: Any, name: str = "Odd") -> type[Function]:
    """A Function named `name` whose forward returns `forward_value` (None: its input)
    and whose backward returns `local`, whatever they are (for hostile cases)."""

    def forward(ctx: Context, x: Value) -> Any:
        return x if forward_value is None else forward_value

    def backward(ctx: Context, grad_output: Value) -> Any:
        return local

    methods = {"forward": staticmethod(forward), "backward": staticmethod(backward)}
    return type(name, (Function,), methods)
