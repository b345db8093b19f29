"""The one place the version is written: pyproject reads it, as do `chainrule.__version__`
and `chainrule --version`."""

__version__ = "0.2.0"
"""chainrule's version, MAJOR.MINOR.PATCH."""
