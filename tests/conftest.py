"""Shared test settings: hypothesis without deadlines (CI machines are slow), seeded."""

from hypothesis import settings

settings.register_profile("chainrule", deadline=None, max_examples=60, derandomize=True)
settings.load_profile("chainrule")
