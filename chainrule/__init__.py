"""chainrule, by its distribution's name: a thin re-export of the three packages.

    from chainrule import Value, no_grad
    model = chainrule.nn.MLP(2, [16, 16, 1])
    chainrule.viz.draw_dot(loss)

`engine`, `nn` and `viz` stay the packages the code lives in; `chainrule.nn` *is* `nn`
(`import chainrule.nn` works too). The command-line program is `chainrule.cli`, which sits
above `nn` and `viz` so that `nn` never imports `viz`.
"""

import sys

import engine
import nn
import viz
from engine import Value, gradcheck, no_grad

# `import chainrule.nn` / `from chainrule.engine import Value`: the same module objects
for _name, _module in (("engine", engine), ("nn", nn), ("viz", viz)):
    sys.modules.setdefault(f"{__name__}.{_name}", _module)

__all__ = ["Value", "engine", "gradcheck", "nn", "no_grad", "viz"]
