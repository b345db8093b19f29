"""Hypothesis strategies shared by the test modules."""

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
