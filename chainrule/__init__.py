"""chainrule: a scalar reverse-mode autograd engine, for learning how neural networks learn.

    from chainrule import Value, MLP, draw_dot      # the short forms
    from chainrule.engine import Value              # micrograd's `micrograd.engine`
    from chainrule.nn import MLP, SGD               # micrograd's `micrograd.nn`, torch's names
    from chainrule.viz import draw_dot              # drawings and plots

The distribution installs one top-level name, `chainrule`; its subpackages live in the
repository's top-level folders `engine/`, `nn/` and `viz/`. `engine` depends on nothing,
`nn` on `engine`, `viz` on both, and the command line (`chainrule.cli`) sits above them all.
`import chainrule` imports `engine` and `nn` only: `viz` (graphviz, matplotlib) loads on first
use of `chainrule.viz` or `chainrule.draw_dot`.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from chainrule import engine, nn
from chainrule._version import __version__
from chainrule.engine import Value, gradcheck, no_grad
from chainrule.nn import MLP

# loaded on first use: drawing needs graphviz and matplotlib, which plain training does not
_LAZY = {"viz": "chainrule.viz", "draw_dot": "chainrule.viz"}

__all__ = ["MLP", "Value", "__version__", "draw_dot", "engine", "gradcheck", "nn", "no_grad", "viz"]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'chainrule' has no attribute {name!r}")
    module = import_module(_LAZY[name])
    return module if name == "viz" else getattr(module, name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
